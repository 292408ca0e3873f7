(ns vireo.sql-test
  "Exact-string tests for vireo.sql, the pure data -> SQL formatter. No database."
  (:require [clojure.test :refer [deftest is testing]]
            [vireo.doc-examples :as doc-examples]
            [vireo.sql :as sql])
  (:import (java.time LocalDate)
           (java.util UUID)))

(defn- pg [q] (sql/format q))
(defn- my [q] (sql/format q {:dialect :mysql}))
(defn- lite [q] (sql/format q {:dialect :sqlite}))

(defn- failure
  "Runs f; returns the ex-data of the ExceptionInfo it throws plus :message,
  or :no-exception."
  [f]
  (try (f) :no-exception
       (catch clojure.lang.ExceptionInfo e (assoc (ex-data e) :message (ex-message e)))))

(defmacro ^:private fails [form] `(failure (fn [] ~form)))

(defn- programming-error? [r] (= :vireo/programming-error (:type r)))
(defn- not-supported? [r] (= :vireo/not-supported (:type r)))

;; ---------------------------------------------------------------- dialects

(deftest dialect-maps
  (is (= #{:postgres :mysql :sqlite} (set (keys sql/dialects))))
  (is (= {:name :postgres :quote \" :placeholder :numbered
          :returning #{:insert :update :delete} :ilike true}
         (select-keys (sql/dialect :postgres) [:name :quote :placeholder :returning :ilike])))
  (is (= {:name :mysql :quote \` :placeholder :positional
          :returning #{:insert :delete} :ilike false}
         (select-keys (sql/dialect :mysql) [:name :quote :placeholder :returning :ilike])))
  (is (= {:name :sqlite :quote \" :placeholder :positional
          :returning #{:insert :update :delete} :ilike false}
         (select-keys (sql/dialect :sqlite) [:name :quote :placeholder :returning :ilike])))
  (testing "unknown dialect is a clear error naming it"
    (let [r (fails (sql/dialect :oracle))]
      (is (programming-error? r))
      (is (= "Unknown SQL dialect :oracle (known: :mysql, :postgres, :sqlite)" (:message r))))
    (is (= "Unknown SQL dialect :oracle (known: :mysql, :postgres, :sqlite)"
           (:message (fails (sql/format {:select [:a]} {:dialect :oracle}))))))
  (testing "register-dialect! adds a dialect derived from another"
    (let [m (sql/register-dialect! :test-pg-no-update-returning
                                   (assoc (sql/dialect :postgres) :returning #{:insert}))]
      (is (= :test-pg-no-update-returning (:name m)))
      (is (= "test-pg-no-update-returning" (:label m)))
      (is (= ["DELETE FROM \"t\""] (sql/format {:delete-from :t} {:dialect :test-pg-no-update-returning})))
      (is (= "RETURNING on DELETE is not supported by test-pg-no-update-returning"
             (:message (fails (sql/format {:delete-from :t :returning [:id]}
                                          {:dialect :test-pg-no-update-returning})))))))
  (testing "register-dialect! validates the map"
    (is (= "Dialect :broken is missing keys :placeholder :returning :types :string-literal :bytes-literal :default-values :truncate :compound-member :nulls-order"
           (:message (fails (sql/register-dialect! :broken {:quote \"}))))))
  (testing "a dialect map may be passed directly"
    (is (= ["SELECT `a`"] (sql/format {:select [:a]} {:dialect (sql/dialect :mysql)})))))

;; ---------------------------------------------------------------- identifiers

(deftest identifiers
  (is (= ["SELECT \"foo_bar\", \"page_block\" FROM \"t\""] (pg {:select [:foo-bar :page_block] :from :t})))
  (is (= ["SELECT \"pageblock\".\"id\", \"pageblock\".\"owner_id\" FROM \"pageblock\""]
         (pg {:select [:pageblock.id :pageblock/owner-id] :from :pageblock})))
  (is (= ["SELECT *, \"t\".* FROM \"t\""] (pg {:select [:* :t.*] :from :t})))
  (is (= ["SELECT `pageblock`.`id`, `t`.* FROM `pageblock`"] (my {:select [:pageblock/id :t.*] :from :pageblock})))
  (testing "ident is verbatim: no kebab conversion, no dot splitting"
    (is (= ["SELECT \"Exact Name\", \"t\".\"c\", \"a-b.c\" FROM \"My-Table\""]
           (pg {:select [(sql/ident "Exact Name") (sql/ident "t" "c") (sql/ident "a-b.c")]
                :from (sql/ident "My-Table")})))
    (is (= ["SELECT `Exact Name`, `t`.`c` FROM `My-Table`"]
           (my {:select [(sql/ident "Exact Name") (sql/ident "t" "c")] :from (sql/ident "My-Table")})))
    (is (sql/ident? (sql/ident "x")))
    (is (not (sql/ident? :x)))
    (is (= (sql/ident "t" "c") (sql/ident "t" "c")))
    (is (= "(vireo.sql/ident \"t\" \"c\")" (pr-str (sql/ident "t" "c"))))
    (is (programming-error? (fails (sql/ident ""))))
    (is (programming-error? (fails (sql/ident :x)))))
  (testing "hostile identifiers: the quote character is doubled"
    (is (= ["SELECT \"a\"\"b`c\" FROM \"x\"\"y\""]
           (pg {:select [(keyword "a\"b`c")] :from (sql/ident "x\"y")})))
    (is (= ["SELECT `a\"b``c` FROM `x``y`"]
           (my {:select [(keyword "a\"b`c")] :from (sql/ident "x`y")})))
    (is (= ["SELECT \"a\"\"b`c\" FROM \"t\""] (lite {:select [(keyword "a\"b`c")] :from :t}))))
  (testing "unicode identifiers and values"
    (is (= ["SELECT \"größe\", \"名前\" FROM \"tabelle\" WHERE \"größe\" = $1" "größer ☃"]
           (pg {:select [:größe :名前] :from :tabelle :where [:= :größe "größer ☃"]})))
    (is (= ["SELECT `größe` FROM `tabelle` WHERE `größe` = ?" "größer ☃"]
           (my {:select [:größe] :from :tabelle :where [:= :größe "größer ☃"]}))))
  (testing "strings are values, never identifiers"
    (is (= ["SELECT $1 FROM \"t\"" "name"] (pg {:select ["name"] :from :t}))))
  (testing "empty identifier parts are rejected"
    (is (= "Empty identifier part in keyword: :a..b"
           (:message (fails (pg {:select [:a..b] :from :t})))))))

;; ---------------------------------------------------------------- values & placeholders

(deftest values-are-parameters
  (let [u (UUID/fromString "00000000-0000-0000-0000-000000000001")
        d (LocalDate/of 2024 1 31)
        b (byte-array [1 2])
        [s & ps] (pg {:select [:*] :from :t
                      :where [:and [:= :a "x"] [:= :b 1] [:= :c true] [:= :d u]
                              [:= :e d] [:= :f 1.5M] [:= :g b]]})]
    (is (= "SELECT * FROM \"t\" WHERE (\"a\" = $1) AND (\"b\" = $2) AND (\"c\" = $3) AND (\"d\" = $4) AND (\"e\" = $5) AND (\"f\" = $6) AND (\"g\" = $7)" s))
    (is (= ["x" 1 true u d 1.5M] (butlast ps)))
    (is (identical? b (last ps))))
  (testing "numbered on postgres, ? on mysql and sqlite"
    (let [q {:select [:*] :from :t :where [:and [:= :a 1] [:= :b 2]]}]
      (is (= ["SELECT * FROM \"t\" WHERE (\"a\" = $1) AND (\"b\" = $2)" 1 2] (pg q)))
      (is (= ["SELECT * FROM `t` WHERE (`a` = ?) AND (`b` = ?)" 1 2] (my q)))
      (is (= ["SELECT * FROM \"t\" WHERE (\"a\" = ?) AND (\"b\" = ?)" 1 2] (lite q)))))
  (testing "numbering follows order of appearance through subqueries"
    (is (= ["SELECT $1 AS \"x\", (SELECT MAX(\"n\") FROM \"u\" WHERE \"k\" = $2) AS \"m\" FROM \"t\" WHERE \"a\" = $3" 10 20 30]
           (pg {:select [[10 :x] [{:select [[[:max :n]]] :from :u :where [:= :k 20]} :m]]
                :from :t :where [:= :a 30]}))))
  (testing "nil is NULL, not a parameter"
    (is (= ["SELECT NULL AS \"n\""] (pg {:select [[nil :n]]})))))

;; ---------------------------------------------------------------- expressions

(defn- where-pg [expr] (pg {:select [:*] :from :t :where expr}))

(deftest comparisons
  (is (= ["SELECT * FROM \"t\" WHERE \"a\" = $1" 1] (where-pg [:= :a 1])))
  (is (= ["SELECT * FROM \"t\" WHERE \"a\" <> $1" 1] (where-pg [:<> :a 1])))
  (is (= ["SELECT * FROM \"t\" WHERE \"a\" <> $1" 1] (where-pg [:!= :a 1])))
  (is (= ["SELECT * FROM \"t\" WHERE \"a\" < $1" 1] (where-pg [:< :a 1])))
  (is (= ["SELECT * FROM \"t\" WHERE \"a\" > $1" 1] (where-pg [:> :a 1])))
  (is (= ["SELECT * FROM \"t\" WHERE \"a\" <= $1" 1] (where-pg [:<= :a 1])))
  (is (= ["SELECT * FROM \"t\" WHERE \"a\" >= \"b\""] (where-pg [:>= :a :b])))
  (testing "comparison with nil becomes IS [NOT] NULL"
    (is (= ["SELECT * FROM \"t\" WHERE \"x\" IS NULL"] (where-pg [:= :x nil])))
    (is (= ["SELECT * FROM \"t\" WHERE \"x\" IS NULL"] (where-pg [:= nil :x])))
    (is (= ["SELECT * FROM \"t\" WHERE \"x\" IS NOT NULL"] (where-pg [:<> :x nil])))
    (is (= ["SELECT * FROM \"t\" WHERE \"x\" IS NOT NULL"] (where-pg [:!= :x nil]))))
  (testing ":is / :is-not"
    (is (= ["SELECT * FROM \"t\" WHERE \"x\" IS NULL"] (where-pg [:is :x nil])))
    (is (= ["SELECT * FROM \"t\" WHERE \"x\" IS NOT NULL"] (where-pg [:is-not :x nil])))
    (is (= ["SELECT * FROM \"t\" WHERE \"x\" IS TRUE"] (where-pg [:is :x true])))
    (is (= ["SELECT * FROM \"t\" WHERE \"x\" IS NOT FALSE"] (where-pg [:is-not :x false])))))

(deftest and-or-not
  (is (= ["SELECT * FROM \"t\" WHERE (\"a\" = $1) AND ((\"b\" = $2) OR (\"c\" = $3))" 1 2 3]
         (where-pg [:and [:= :a 1] [:or [:= :b 2] [:= :c 3]]])))
  (is (= ["SELECT * FROM `t` WHERE (`a` = ?) AND ((`b` = ?) OR (`c` = ?))" 1 2 3]
         (my {:select [:*] :from :t :where [:and [:= :a 1] [:or [:= :b 2] [:= :c 3]]]})))
  (testing "nil args are dropped; one remaining arg renders as itself"
    (is (= ["SELECT * FROM \"t\" WHERE \"a\" = $1" 1] (where-pg [:and nil [:= :a 1] nil])))
    (is (= ["SELECT * FROM \"t\" WHERE \"a\" = $1" 1] (where-pg [:or [:and [:= :a 1]]]))))
  (testing "zero args: the clause disappears"
    (is (= ["SELECT * FROM \"t\""] (where-pg [:and])))
    (is (= ["SELECT * FROM \"t\""] (where-pg [:or nil nil])))
    (is (= ["SELECT * FROM \"t\""] (where-pg nil)))
    (is (= ["SELECT * FROM \"t\" WHERE (\"a\" = $1) AND (\"b\" = $2)" 1 2]
           (where-pg [:and [:= :a 1] [:or] [:= :b 2]]))))
  (testing "atomic members are not parenthesised"
    (is (= ["SELECT * FROM \"t\" WHERE \"active\" AND (\"n\" > $1)" 0] (where-pg [:and :active [:> :n 0]]))))
  (testing ":not"
    (is (= ["SELECT * FROM \"t\" WHERE NOT (\"a\" = $1)" 1] (where-pg [:not [:= :a 1]])))
    (is (= ["SELECT * FROM \"t\" WHERE (NOT (\"a\")) OR (\"b\" IS NULL)"] (where-pg [:or [:not :a] [:= :b nil]])))
    (is (= "An AND/OR with no conditions is not allowed here: [:and]"
           (:message (fails (where-pg [:not [:and]])))))))

(deftest in-and-not-in
  (is (= ["SELECT * FROM \"t\" WHERE \"x\" IN ($1, $2, $3)" 1 2 3] (where-pg [:in :x [1 2 3]])))
  (is (= ["SELECT * FROM `t` WHERE `x` IN (?, ?, ?)" 1 2 3]
         (my {:select [:*] :from :t :where [:in :x [1 2 3]]})))
  (is (= ["SELECT * FROM \"t\" WHERE \"x\" NOT IN ($1, $2)" "a" "b"] (where-pg [:not-in :x ["a" "b"]])))
  (is (= ["SELECT * FROM \"t\" WHERE \"x\" IN (SELECT \"id\" FROM \"u\" WHERE \"k\" = $1)" 5]
         (where-pg [:in :x {:select [:id] :from :u :where [:= :k 5]}])))
  (is (= ["SELECT * FROM \"t\" WHERE \"x\" NOT IN (SELECT \"id\" FROM \"u\")"]
         (where-pg [:not-in :x {:select [:id] :from :u}])))
  (testing "empty collections give constant predicates, never IN ()"
    (is (= ["SELECT * FROM \"t\" WHERE (1 = 0)"] (where-pg [:in :x []])))
    (is (= ["SELECT * FROM \"t\" WHERE (1 = 1)"] (where-pg [:not-in :x []])))
    (is (= ["SELECT * FROM `t` WHERE (1 = 0)"] (my {:select [:*] :from :t :where [:in :x []]})))
    (is (= ["SELECT * FROM \"t\" WHERE (1 = 0) AND (\"y\" = ?)" 1]
           (lite {:select [:*] :from :t :where [:and [:in :x '()] [:= :y 1]]}))))
  (is (= ":in needs a collection of values or a subquery map: [:in :x 5]"
         (:message (fails (where-pg [:in :x 5]))))))

(deftest like-ilike-between
  (is (= ["SELECT * FROM \"t\" WHERE \"name\" LIKE $1" "a%"] (where-pg [:like :name "a%"])))
  (is (= ["SELECT * FROM \"t\" WHERE \"name\" NOT LIKE $1" "a%"] (where-pg [:not-like :name "a%"])))
  (is (= ["SELECT * FROM \"t\" WHERE \"name\" ILIKE $1" "a%"] (where-pg [:ilike :name "a%"])))
  (is (= ["SELECT * FROM \"t\" WHERE \"name\" NOT ILIKE $1" "a%"] (where-pg [:not-ilike :name "a%"])))
  (is (= ["SELECT * FROM `t` WHERE `name` LIKE ?" "a%"] (my {:select [:*] :from :t :where [:like :name "a%"]})))
  (testing "ILIKE is refused where the dialect lacks it"
    (let [r (fails (my {:select [:*] :from :t :where [:ilike :name "a%"]}))]
      (is (not-supported? r))
      (is (= "ILIKE is not supported by mysql (MariaDB)" (:message r)))
      (is (= :mysql (:dialect r))))
    (is (= "ILIKE is not supported by sqlite"
           (:message (fails (lite {:select [:*] :from :t :where [:ilike :name "a%"]}))))))
  (is (= ["SELECT * FROM \"t\" WHERE \"n\" BETWEEN $1 AND $2" 1 10] (where-pg [:between :n 1 10])))
  (is (= ["SELECT * FROM \"t\" WHERE \"n\" NOT BETWEEN $1 AND $2" 1 10] (where-pg [:not-between :n 1 10]))))

(deftest arithmetic
  (is (= ["SELECT \"a\" + $1 AS \"x\" FROM \"t\"" 1] (pg {:select [[[:+ :a 1] :x]] :from :t})))
  (is (= ["SELECT (((\"a\" + \"b\") * \"c\") / $1) - (\"d\" % $2) FROM \"t\"" 2 3]
         (pg {:select [[[:- [:/ [:* [:+ :a :b] :c] 2] [:% :d 3]]]] :from :t})))
  (is (= ["SELECT \"a\" + \"b\" + \"c\" FROM \"t\""] (pg {:select [[[:+ :a :b :c]]] :from :t})))
  (is (= ["SELECT * FROM \"t\" WHERE (\"a\" + $1) > \"b\"" 1] (where-pg [:> [:+ :a 1] :b])))
  (testing "unary minus never produces a -- comment"
    (is (= ["SELECT -\"x\", -(-\"x\"), \"x\" - -5 FROM \"t\""]
           (pg {:select [[[:- :x]] [[:- [:- :x]]] [[:- :x [:inline -5]]]] :from :t}))))
  (is (= "Operator :+ needs at least 2 arguments: [:+ :a]"
         (:message (fails (pg {:select [[[:+ :a]]] :from :t}))))))

(deftest inline-raw-param
  (testing ":inline renders SQL literals"
    (is (= ["SELECT 'it''s', 42, 1.5, TRUE, FALSE, NULL, 'active', 12.50"]
           (pg {:select [[[:inline "it's"]] [[:inline 42]] [[:inline 1.5]] [[:inline true]]
                         [[:inline false]] [[:inline nil]] [[:inline :active]] [[:inline 12.50M]]]})))
    (testing "MySQL string literals also escape backslashes"
      (is (= ["SELECT 'a\\b''c'"] (pg {:select [[[:inline "a\\b'c"]]]})))
      (is (= ["SELECT 'a\\\\b''c'"] (my {:select [[[:inline "a\\b'c"]]]})))
      (is (= ["SELECT 'a\\b''c'"] (lite {:select [[[:inline "a\\b'c"]]]}))))
    (is (= "Cannot inline a non-finite number: ##NaN"
           (:message (fails (pg {:select [[[:inline Double/NaN]]]}))))))
  (testing ":raw is verbatim"
    (is (= ["SELECT * FROM \"t\" WHERE \"at\" < now() - interval '1 day'"]
           (where-pg [:< :at [:raw "now() - interval '1 day'"]])))
    (is (programming-error? (fails (where-pg [:raw 1])))))
  (testing ":param / :lift bind one parameter even for vectors and maps"
    (is (= ["UPDATE \"t\" SET \"data\" = $1, \"tags\" = $2" {:a 1} [1 2]]
           (pg {:update :t :set (array-map :data [:lift {:a 1}] :tags [:param [1 2]])})))))

(deftest exists-cast-functions
  (is (= ["SELECT * FROM \"t\" WHERE EXISTS (SELECT $1 FROM \"u\" WHERE \"u\".\"t_id\" = \"t\".\"id\")" 1]
         (where-pg [:exists {:select [1] :from :u :where [:= :u.t-id :t.id]}])))
  (testing "cast type names come from the dialect"
    (is (= ["SELECT CAST(\"x\" AS TEXT), CAST(\"y\" AS BIGINT), CAST(\"z\" AS NUMERIC(10,2)) FROM \"t\""]
           (pg {:select [[[:cast :x :text]] [[:cast :y :bigint]] [[:cast :z [:decimal 10 2]]]] :from :t})))
    (is (= ["SELECT CAST(`x` AS CHAR), CAST(`y` AS SIGNED), CAST(`z` AS DECIMAL(10,2)) FROM `t`"]
           (my {:select [[[:cast :x :text]] [[:cast :y :bigint]] [[:cast :z [:decimal 10 2]]]] :from :t})))
    (is (= ["SELECT CAST(\"x\" AS TEXT), CAST(\"y\" AS BIGINT), CAST(\"z\" AS TEXT) FROM \"t\""]
           (lite {:select [[[:cast :x :text]] [[:cast :y :bigint]] [[:cast :z [:decimal 10 2]]]] :from :t})))
    (is (= "Unknown column type :nope for postgres"
           (:message (fails (pg {:select [[[:cast :x :nope]]]}))))))
  (testing "any other keyword is a function call"
    (is (= ["SELECT COUNT(*), MAX(\"id\"), LOWER(\"name\"), COALESCE(\"a\", $1), CURRENT_DATE(), COUNT(DISTINCT(\"x\")) FROM \"t\"" 0]
           (pg {:select [[[:count :*]] [[:max :id]] [[:lower :name]] [[:coalesce :a 0]]
                         [[:current-date]] [[:count [:distinct :x]]]]
                :from :t})))
    (is (= "Not a valid SQL function name: :drop\"x"
           (:message (fails (pg {:select [[[(keyword "drop\"x") 1]]]})))))))

(deftest bad-expressions
  (doseq [[form msg] [[[] "Empty expression: []"]
                      [["x" 1] "Expression operator must be a keyword: [\"x\" 1]"]
                      [[1 2] "Expression operator must be a keyword: [1 2]"]
                      [[:= :a] "Wrong number of arguments for := (expected 2): [:= :a]"]
                      [[:= :a 1 2] "Wrong number of arguments for := (expected 2): [:= :a 1 2]"]
                      [[:between :a 1] "Wrong number of arguments for :between (expected 3): [:between :a 1]"]
                      [[:not :a :b] "Wrong number of arguments for :not (expected 1): [:not :a :b]"]]]
    (let [r (fails (where-pg form))]
      (is (programming-error? r) (pr-str form))
      (is (= msg (:message r)))
      (is (= form (:form r))))))

;; ---------------------------------------------------------------- SELECT

(deftest select-items-and-from
  (is (= ["SELECT \"id\", \"key\" AS \"k\", COUNT(*) AS \"n\", MAX(\"id\") FROM \"pageblock\""]
         (pg {:select [:id [:key :k] [[:count :*] :n] [[:max :id]]] :from :pageblock})))
  (is (= ["SELECT DISTINCT \"owner_id\" FROM \"pageblock\""]
         (pg {:select-distinct [:owner-id] :from [:pageblock]})))
  (is (= ["SELECT \"p\".\"id\" FROM \"pageblock\" AS \"p\""]
         (pg {:select [:p.id] :from [[:pageblock :p]]})))
  (is (= ["SELECT * FROM \"a\", \"b\""] (pg {:select [:*] :from [:a :b]})))
  (is (= ["SELECT \"sub\".\"n\" FROM (SELECT COUNT(*) AS \"n\" FROM \"t\" WHERE \"x\" = $1) AS \"sub\"" 1]
         (pg {:select [:sub.n] :from [[{:select [[[:count :*] :n]] :from :t :where [:= :x 1]} :sub]]})))
  (is (= ["SELECT `p`.`id` AS `page_id` FROM `pageblock` AS `p`"]
         (my {:select [[:p.id :page-id]] :from [[:pageblock :p]]})))
  (is (= ["SELECT $1"  1] (pg {:select [1]})))
  (is (= "SELECT needs at least one item: []" (:message (fails (pg {:select [] :from :t}))))))

(deftest joins
  (is (= ["SELECT * FROM \"pageblock\" AS \"p\" INNER JOIN \"person\" AS \"u\" ON \"u\".\"id\" = \"p\".\"owner_id\" INNER JOIN \"tag\" ON \"tag\".\"pid\" = \"p\".\"id\""]
         (pg {:select [:*] :from [[:pageblock :p]]
              :join [[:person :u] [:= :u.id :p.owner-id] :tag [:= :tag.pid :p.id]]})))
  (is (= ["SELECT * FROM \"a\" INNER JOIN \"b\" ON \"a\".\"id\" = \"b\".\"a_id\" INNER JOIN \"c\" ON \"c\".\"x\" = \"a\".\"x\" LEFT JOIN \"d\" ON (\"d\".\"a_id\" = \"a\".\"id\") AND (\"d\".\"k\" = $1) RIGHT JOIN \"e\" USING (\"id\") FULL JOIN \"f\" ON \"f\".\"id\" = \"a\".\"id\" CROSS JOIN \"g\" CROSS JOIN \"h\" AS \"hh\"" 7]
         (pg {:select [:*] :from :a
              :cross-join [:g [:h :hh]]
              :full-join [:f [:= :f.id :a.id]]
              :right-join [:e [:using :id]]
              :left-join [:d [:and [:= :d.a-id :a.id] [:= :d.k 7]]]
              :inner-join [:c [:= :c.x :a.x]]
              :join [:b [:= :a.id :b.a-id]]})))
  (is (= ["SELECT * FROM `a` LEFT JOIN `b` ON `a`.`id` = `b`.`a_id`"]
         (my {:select [:*] :from :a :left-join [:b [:= :a.id :b.a-id]]})))
  (is (= ["SELECT * FROM \"a\" FULL JOIN \"b\" ON \"a\".\"id\" = \"b\".\"id\""]
         (lite {:select [:*] :from :a :full-join [:b [:= :a.id :b.id]]})))
  (is (= "FULL JOIN is not supported by mysql (MariaDB)"
         (:message (fails (my {:select [:*] :from :a :full-join [:b [:= :a.id :b.id]]})))))
  (is (= "INNER JOIN takes [table condition …] pairs: [:b]"
         (:message (fails (pg {:select [:*] :from :a :join [:b]}))))))

(deftest group-having-order
  (is (= ["SELECT \"owner_id\", COUNT(*) AS \"n\" FROM \"pageblock\" GROUP BY \"owner_id\", LOWER(\"key\") HAVING COUNT(*) > $1 ORDER BY \"n\" DESC" 1]
         (pg {:select [:owner-id [[:count :*] :n]] :from :pageblock
              :group-by [:owner-id [:lower :key]] :having [:> [:count :*] 1]
              :order-by [[:n :desc]]})))
  (is (= ["SELECT * FROM \"t\" ORDER BY \"id\", \"key\" DESC, LOWER(\"key\") ASC"]
         (pg {:select [:*] :from :t :order-by [:id [:key :desc] [[:lower :key] :asc]]})))
  (testing "NULLS FIRST/LAST: native on postgres and sqlite, emulated on mysql"
    (let [q {:select [:*] :from :t :order-by [[:a :asc :nulls-last] [:b :desc :nulls-first]]}]
      (is (= ["SELECT * FROM \"t\" ORDER BY \"a\" ASC NULLS LAST, \"b\" DESC NULLS FIRST"] (pg q)))
      (is (= ["SELECT * FROM \"t\" ORDER BY \"a\" ASC NULLS LAST, \"b\" DESC NULLS FIRST"] (lite q)))
      (is (= ["SELECT * FROM `t` ORDER BY (`a` IS NULL) ASC, `a` ASC, (`b` IS NULL) DESC, `b` DESC"] (my q)))))
  (is (= "ORDER BY direction must be :asc or :desc (wrap calls: [[:lower :x] :asc]): [:lower :key]"
         (:message (fails (pg {:select [:*] :from :t :order-by [[:lower :key]]}))))))

(deftest limit-offset
  (let [q {:select [:*] :from :t :limit 10 :offset 20}]
    (is (= ["SELECT * FROM \"t\" LIMIT $1 OFFSET $2" 10 20] (pg q)))
    (is (= ["SELECT * FROM `t` LIMIT ? OFFSET ?" 10 20] (my q)))
    (is (= ["SELECT * FROM \"t\" LIMIT ? OFFSET ?" 10 20] (lite q))))
  (is (= ["SELECT * FROM \"t\" LIMIT $1" 5] (pg {:select [:*] :from :t :limit 5})))
  (testing "offset without limit"
    (let [q {:select [:*] :from :t :offset 20}]
      (is (= ["SELECT * FROM \"t\" OFFSET $1" 20] (pg q)))
      (is (= ["SELECT * FROM `t` LIMIT 18446744073709551615 OFFSET ?" 20] (my q)))
      (is (= ["SELECT * FROM \"t\" LIMIT -1 OFFSET ?" 20] (lite q))))))

(deftest clause-order-is-fixed
  (let [q (array-map :limit 1 :order-by [:a] :having [:> :n 0] :group-by [:a]
                     :where [:= :b 2] :from :t :select [:a [[:count :*] :n]] :offset 3)]
    (is (= ["SELECT \"a\", COUNT(*) AS \"n\" FROM \"t\" WHERE \"b\" = $1 GROUP BY \"a\" HAVING \"n\" > $2 ORDER BY \"a\" LIMIT $3 OFFSET $4" 2 0 1 3]
           (pg q)))))

(deftest set-operations
  (let [q1 {:select [:a] :from :t1}
        q2 {:select [:a] :from :t2 :where [:= :x 1]}
        q3 {:select [:a] :from :t3}]
    (is (= ["SELECT \"a\" FROM \"t1\" UNION ALL SELECT \"a\" FROM \"t2\" WHERE \"x\" = $1 UNION ALL SELECT \"a\" FROM \"t3\"" 1]
           (pg {:union-all [q1 q2 q3]})))
    (is (= ["SELECT `a` FROM `t1` UNION SELECT `a` FROM `t3`"] (my {:union [q1 q3]})))
    (is (= ["SELECT \"a\" FROM \"t1\" INTERSECT SELECT \"a\" FROM \"t3\""] (lite {:intersect [q1 q3]})))
    (is (= ["SELECT \"a\" FROM \"t1\" EXCEPT SELECT \"a\" FROM \"t3\" ORDER BY \"a\" LIMIT $1" 5]
           (pg {:except [q1 q3] :order-by [:a] :limit 5}))))
  (testing "members with ORDER BY/LIMIT/OFFSET or nested set operations are wrapped"
    (let [q {:union [{:select [:a] :from :t1}
                     {:select [:a] :from :t2 :order-by [:a] :limit 1}
                     {:intersect [{:select [:a] :from :t3} {:select [:a] :from :t4}]}]}]
      (is (= ["SELECT \"a\" FROM \"t1\" UNION (SELECT \"a\" FROM \"t2\" ORDER BY \"a\" LIMIT $1) UNION (SELECT \"a\" FROM \"t3\" INTERSECT SELECT \"a\" FROM \"t4\")" 1]
             (pg q)))
      (is (= ["SELECT `a` FROM `t1` UNION (SELECT `a` FROM `t2` ORDER BY `a` LIMIT ?) UNION (SELECT `a` FROM `t3` INTERSECT SELECT `a` FROM `t4`)" 1]
             (my q)))
      (is (= ["SELECT \"a\" FROM \"t1\" UNION SELECT * FROM (SELECT \"a\" FROM \"t2\" ORDER BY \"a\" LIMIT ?) UNION SELECT * FROM (SELECT \"a\" FROM \"t3\" INTERSECT SELECT \"a\" FROM \"t4\")" 1]
             (lite q)))))
  (is (= "Unknown key(s) :where in set-operation query: {:union [{:select [:a]}], :where [:= :a 1]}"
         (:message (fails (pg {:union [{:select [:a]}] :where [:= :a 1]}))))))

;; ---------------------------------------------------------------- INSERT

(deftest insert
  (let [q {:insert-into :t :columns [:a :b] :values [[1 2] [3 4]] :returning [:id]}]
    (is (= ["INSERT INTO \"t\" (\"a\", \"b\") VALUES ($1, $2), ($3, $4) RETURNING \"id\"" 1 2 3 4] (pg q)))
    (is (= ["INSERT INTO `t` (`a`, `b`) VALUES (?, ?), (?, ?) RETURNING `id`" 1 2 3 4] (my q)))
    (is (= ["INSERT INTO \"t\" (\"a\", \"b\") VALUES (?, ?), (?, ?) RETURNING \"id\"" 1 2 3 4] (lite q))))
  (testing "rows as maps: columns in first-seen order, missing keys are NULL"
    (is (= ["INSERT INTO \"t\" (\"a\", \"b_c\", \"d\") VALUES ($1, $2, NULL), ($3, NULL, $4)" 1 2 3 4]
           (pg {:insert-into :t :values [(array-map :a 1 :b-c 2) (array-map :d 4 :a 3)]}))))
  (testing "values are expressions; nil is NULL; JSON needs :lift"
    (is (= ["INSERT INTO \"t\" (\"a\", \"b\", \"c\") VALUES (NULL, NOW(), $1)" {:k [1]}]
           (pg {:insert-into :t :columns [:a :b :c] :values [[nil [:now] [:lift {:k [1]}]]]}))))
  (is (= ["INSERT INTO \"t\" VALUES ($1, $2)" 1 2] (pg {:insert-into :t :values [[1 2]]})))
  (testing "DEFAULT VALUES"
    (is (= ["INSERT INTO \"t\" DEFAULT VALUES"] (pg {:insert-into :t :values :default})))
    (is (= ["INSERT INTO `t` () VALUES ()"] (my {:insert-into :t :values :default})))
    (is (= ["INSERT INTO \"t\" DEFAULT VALUES RETURNING \"id\""]
           (lite {:insert-into :t :values :default :returning [:id]}))))
  (testing "INSERT … SELECT"
    (is (= ["INSERT INTO \"archive\" (\"id\", \"key\") SELECT \"id\", \"key\" FROM \"pageblock\" WHERE \"owner_id\" = $1" 9]
           (pg {:insert-into :archive :columns [:id :key]
                :select {:select [:id :key] :from :pageblock :where [:= :owner-id 9]}}))))
  (testing "errors"
    (is (= "Every :values row must have 2 values: [3]"
           (:message (fails (pg {:insert-into :t :columns [:a :b] :values [[1 2] [3]]})))))
    (is (= "INSERT needs :values or :select: {:columns [:a]}"
           (:message (fails (pg {:insert-into :t :columns [:a]})))))
    (is (programming-error? (fails (pg {:insert-into :t :values []}))))
    (is (programming-error? (fails (pg {:insert-into :t :values [[1]] :select {:select [1]}}))))))

;; ---------------------------------------------------------------- UPDATE / DELETE / RETURNING

(deftest update-statement
  (let [q {:update :pageblock :set (array-map :text "x" :n [:+ :n 1]) :where [:= :id 3]}]
    (is (= ["UPDATE \"pageblock\" SET \"text\" = $1, \"n\" = \"n\" + $2 WHERE \"id\" = $3" "x" 1 3] (pg q)))
    (is (= ["UPDATE `pageblock` SET `text` = ?, `n` = `n` + ? WHERE `id` = ?" "x" 1 3] (my q)))
    (is (= ["UPDATE \"pageblock\" SET \"text\" = ?, \"n\" = \"n\" + ? WHERE \"id\" = ?" "x" 1 3] (lite q))))
  (is (= ["UPDATE \"t\" SET \"deleted_at\" = NULL RETURNING \"id\", \"n\" AS \"count\""]
         (pg {:update :t :set {:deleted-at nil} :returning [:id [:n :count]]})))
  (is (= ["UPDATE \"t\" SET \"a\" = ? RETURNING *" 1] (lite {:update :t :set {:a 1} :returning [:*]})))
  (is (= "UPDATE :set must be a non-empty map: {}" (:message (fails (pg {:update :t :set {}}))))))

(deftest delete-statement
  (let [q {:delete-from :t :where [:= :id 1] :returning [:id]}]
    (is (= ["DELETE FROM \"t\" WHERE \"id\" = $1 RETURNING \"id\"" 1] (pg q)))
    (is (= ["DELETE FROM `t` WHERE `id` = ? RETURNING `id`" 1] (my q)))
    (is (= ["DELETE FROM \"t\" WHERE \"id\" = ? RETURNING \"id\"" 1] (lite q))))
  (is (= ["DELETE FROM \"t\""] (pg {:delete-from :t :where [:and]}))))

(deftest returning-capabilities
  (let [r (fails (my {:update :t :set {:a 1} :returning [:id]}))]
    (is (not-supported? r))
    (is (= "RETURNING on UPDATE is not supported by mysql (MariaDB)" (:message r))))
  (testing "an empty :returning is omitted"
    (is (= ["UPDATE `t` SET `a` = ?" 1] (my {:update :t :set {:a 1} :returning []})))))

;; ---------------------------------------------------------------- DDL

(def ^:private pageblock-table
  {:create-table :pageblock :if-not-exists true
   :with-columns [[:id :auto-pk]
                  [:key [:char 40] :not-null :unique]
                  [:text :text :not-null [:default ""]]
                  [:owner-id :integer [:references :person :id] [:on-delete :cascade]]]})

(deftest create-table
  (is (= ["CREATE TABLE IF NOT EXISTS \"pageblock\" (\"id\" SERIAL PRIMARY KEY, \"key\" VARCHAR(40) NOT NULL UNIQUE, \"text\" TEXT NOT NULL DEFAULT '', \"owner_id\" INTEGER REFERENCES \"person\" (\"id\") ON DELETE CASCADE)"]
         (pg pageblock-table)))
  (testing "mysql hoists REFERENCES to a table-level FOREIGN KEY (MySQL ignores inline ones)"
    (is (= ["CREATE TABLE IF NOT EXISTS `pageblock` (`id` INTEGER AUTO_INCREMENT PRIMARY KEY, `key` VARCHAR(40) NOT NULL UNIQUE, `text` LONGTEXT NOT NULL DEFAULT '', `owner_id` INTEGER, FOREIGN KEY (`owner_id`) REFERENCES `person` (`id`) ON DELETE CASCADE)"]
           (my pageblock-table))))
  (is (= ["CREATE TABLE IF NOT EXISTS \"pageblock\" (\"id\" INTEGER PRIMARY KEY, \"key\" VARCHAR(40) NOT NULL UNIQUE, \"text\" TEXT NOT NULL DEFAULT '', \"owner_id\" INTEGER REFERENCES \"person\" (\"id\") ON DELETE CASCADE)"]
         (lite pageblock-table)))
  (testing "table constraints"
    (let [q {:create-table :tag
             :with-columns [[:a :integer :null] [:b :bigint :not-null [:check [:> :b 0]]]
                            [:c :text [:references :other] [:on-delete :set-null] [:on-update :restrict]]]
             :constraints [[:primary-key :a :b]
                           [:unique :b :c]
                           [:foreign-key [:a :b] [:references :parent :x :y] [:on-delete :no-action]]
                           [:constraint :tag_b_pos [:check [:in :b [1 2]]]]]}]
      (is (= ["CREATE TABLE \"tag\" (\"a\" INTEGER NULL, \"b\" BIGINT NOT NULL CHECK (\"b\" > 0), \"c\" TEXT REFERENCES \"other\" ON DELETE SET NULL ON UPDATE RESTRICT, PRIMARY KEY (\"a\", \"b\"), UNIQUE (\"b\", \"c\"), FOREIGN KEY (\"a\", \"b\") REFERENCES \"parent\" (\"x\", \"y\") ON DELETE NO ACTION, CONSTRAINT \"tag_b_pos\" CHECK (\"b\" IN (1, 2)))"]
             (pg q)))
      (is (= ["CREATE TABLE `tag` (`a` INTEGER NULL, `b` BIGINT NOT NULL CHECK (`b` > 0), `c` LONGTEXT, FOREIGN KEY (`c`) REFERENCES `other` ON DELETE SET NULL ON UPDATE RESTRICT, PRIMARY KEY (`a`, `b`), UNIQUE (`b`, `c`), FOREIGN KEY (`a`, `b`) REFERENCES `parent` (`x`, `y`) ON DELETE NO ACTION, CONSTRAINT `tag_b_pos` CHECK (`b` IN (1, 2)))"]
             (my q)))))
  (testing "DDL inlines values as literals: defaults and checks"
    (let [q {:create-table :d
             :with-columns [[:s :text [:default "it's"]] [:k :text [:default :draft]]
                            [:n :integer [:default -1]] [:f :double [:default 2.5]]
                            [:m [:decimal 10 2] [:default 1.50M]] [:b :boolean [:default false]]
                            [:z :text [:default nil]] [:bin :bytes [:default (byte-array [0 255])]]
                            [:at :timestamptz :not-null [:default [:raw "CURRENT_TIMESTAMP"]]]
                            [:u :uuid [:default [:gen-random-uuid]]]
                            [:w :text [:default [:inline "a\\b"]] [:check [:<> :w "x"]]]]}]
      (is (= ["CREATE TABLE \"d\" (\"s\" TEXT DEFAULT 'it''s', \"k\" TEXT DEFAULT 'draft', \"n\" INTEGER DEFAULT -1, \"f\" DOUBLE PRECISION DEFAULT 2.5, \"m\" NUMERIC(10,2) DEFAULT 1.50, \"b\" BOOLEAN DEFAULT FALSE, \"z\" TEXT DEFAULT NULL, \"bin\" BYTEA DEFAULT '\\x00ff'::bytea, \"at\" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP, \"u\" UUID DEFAULT (GEN_RANDOM_UUID()), \"w\" TEXT DEFAULT 'a\\b' CHECK (\"w\" <> 'x'))"]
             (pg q)))
      (is (= ["CREATE TABLE `d` (`s` LONGTEXT DEFAULT 'it''s', `k` LONGTEXT DEFAULT 'draft', `n` INTEGER DEFAULT -1, `f` DOUBLE DEFAULT 2.5, `m` DECIMAL(10,2) DEFAULT 1.50, `b` BOOLEAN DEFAULT FALSE, `z` LONGTEXT DEFAULT NULL, `bin` LONGBLOB DEFAULT X'00ff', `at` DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP, `u` CHAR(36) DEFAULT (GEN_RANDOM_UUID()), `w` LONGTEXT DEFAULT 'a\\\\b' CHECK (`w` <> 'x'))"]
             (my q)))
      (is (= ["CREATE TABLE \"d\" (\"s\" TEXT DEFAULT 'it''s', \"k\" TEXT DEFAULT 'draft', \"n\" INTEGER DEFAULT -1, \"f\" DOUBLE DEFAULT 2.5, \"m\" TEXT DEFAULT 1.50, \"b\" INTEGER DEFAULT FALSE, \"z\" TEXT DEFAULT NULL, \"bin\" BLOB DEFAULT X'00ff', \"at\" TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, \"u\" TEXT DEFAULT (GEN_RANDOM_UUID()), \"w\" TEXT DEFAULT 'a\\b' CHECK (\"w\" <> 'x'))"]
             (lite q)))))
  (testing "errors"
    (is (= "Unknown column type :money for mysql (MariaDB)"
           (:message (fails (my {:create-table :t :with-columns [[:a :money]]})))))
    (is (= "Type :text takes no arguments: [:text 5]"
           (:message (fails (pg {:create-table :t :with-columns [[:a [:text 5]]]})))))
    (is (= "Wrong number of arguments for type :char: :char"
           (:message (fails (pg {:create-table :t :with-columns [[:a :char]]})))))
    (is (= "Unknown constraint: :nullable"
           (:message (fails (pg {:create-table :t :with-columns [[:a :text :nullable]]})))))
    (is (= ":on-delete/:on-update must follow [:references …]: [:a :integer [:on-delete :cascade]]"
           (:message (fails (pg {:create-table :t :with-columns [[:a :integer [:on-delete :cascade]]]})))))
    (is (programming-error? (fails (pg {:create-table :t :with-columns []}))))))

(def ^:private all-types
  [:auto-pk :big-auto-pk [:char 40] :text :integer :bigint :smallint :boolean :double :float
   [:decimal 12 3] :decimal :uuid :datetime :timestamptz :date :time :json :bytes])

(defn- type-sql [fmt]
  (let [[s] (fmt {:create-table :t :with-columns (mapv (fn [i t] [(keyword (str "c" i)) t])
                                                        (range) all-types)})]
    (mapv #(second (re-find #"^\"?`?c\d+[\"`] (.*)$" %))
          (clojure.string/split (subs s (count "CREATE TABLE \"t\" (") (dec (count s))) #", (?=[\"`]c)"))))

(deftest logical-types
  (is (= ["SERIAL PRIMARY KEY" "BIGSERIAL PRIMARY KEY" "VARCHAR(40)" "TEXT" "INTEGER" "BIGINT" "SMALLINT"
          "BOOLEAN" "DOUBLE PRECISION" "REAL" "NUMERIC(12,3)" "NUMERIC" "UUID" "TIMESTAMP" "TIMESTAMPTZ"
          "DATE" "TIME" "JSONB" "BYTEA"]
         (type-sql pg)))
  (is (= ["INTEGER AUTO_INCREMENT PRIMARY KEY" "BIGINT AUTO_INCREMENT PRIMARY KEY" "VARCHAR(40)" "LONGTEXT"
          "INTEGER" "BIGINT" "SMALLINT" "BOOLEAN" "DOUBLE" "FLOAT" "DECIMAL(12,3)" "DECIMAL(19,4)" "CHAR(36)"
          "DATETIME(6)" "DATETIME(6)" "DATE" "TIME(6)" "JSON" "LONGBLOB"]
         (type-sql my)))
  (is (= ["INTEGER PRIMARY KEY" "INTEGER PRIMARY KEY" "VARCHAR(40)" "TEXT" "INTEGER" "BIGINT" "SMALLINT"
          "INTEGER" "DOUBLE" "REAL" "TEXT" "TEXT" "TEXT" "TEXT" "TEXT" "TEXT" "TEXT" "TEXT" "BLOB"]
         (type-sql lite)))
  (testing "trailing nil type arguments are dropped; [:raw …] is verbatim"
    (is (= ["CREATE TABLE \"t\" (\"a\" NUMERIC, \"b\" NUMERIC(8), \"c\" CITEXT)"]
           (pg {:create-table :t :with-columns [[:a [:decimal nil nil]] [:b [:decimal 8 nil]] [:c [:raw "CITEXT"]]]})))))

(deftest drop-table
  (is (= ["DROP TABLE IF EXISTS \"pageblock\""] (pg {:drop-table :pageblock :if-exists true})))
  (is (= ["DROP TABLE `pageblock`"] (my {:drop-table :pageblock})))
  (is (= ["DROP TABLE IF EXISTS \"pageblock\" CASCADE"] (pg {:drop-table :pageblock :if-exists true :cascade true})))
  (is (= "DROP TABLE … CASCADE is not supported by sqlite"
         (:message (fails (lite {:drop-table :pageblock :cascade true}))))))

(deftest indexes
  (let [q {:create-index :pageblock_key :on :pageblock :columns [:key] :unique true :if-not-exists true}]
    (is (= ["CREATE UNIQUE INDEX IF NOT EXISTS \"pageblock_key\" ON \"pageblock\" (\"key\")"] (pg q)))
    (is (= ["CREATE UNIQUE INDEX IF NOT EXISTS `pageblock_key` ON `pageblock` (`key`)"] (my q)))
    (is (= ["CREATE UNIQUE INDEX IF NOT EXISTS \"pageblock_key\" ON \"pageblock\" (\"key\")"] (lite q))))
  (is (= ["CREATE INDEX \"t_a_lower_b\" ON \"t\" (\"a\", (LOWER(\"b\")))"]
         (pg {:create-index (sql/ident "t_a_lower_b") :on :t :columns [:a [:lower :b]]})))
  (let [q {:drop-index :pageblock_key :on :pageblock :if-exists true}]
    (is (= ["DROP INDEX IF EXISTS \"pageblock_key\""] (pg q)))
    (is (= ["DROP INDEX IF EXISTS `pageblock_key` ON `pageblock`"] (my q)))
    (is (= ["DROP INDEX IF EXISTS \"pageblock_key\""] (lite q))))
  (is (= ["DROP INDEX \"k\""] (pg {:drop-index :k})))
  (is (= "DROP INDEX on mysql (MariaDB) needs :on table" (:message (fails (my {:drop-index :k})))))
  (is (programming-error? (fails (pg {:create-index :k :on :t :columns []})))))

(deftest truncate-statement
  (is (= ["TRUNCATE TABLE \"t\""] (pg {:truncate :t})))
  (is (= ["TRUNCATE TABLE `t`"] (my {:truncate :t})))
  (is (= ["DELETE FROM \"t\""] (lite {:truncate :t}))))

;; ---------------------------------------------------------------- malformed queries

(deftest malformed-queries
  (let [r (fails (pg {:select [:a] :from :t :wehre [:= :a 1]}))]
    (is (programming-error? r))
    (is (= [:wehre] (:unknown r)))
    (is (= "Unknown key(s) :wehre in select query: {:select [:a], :from :t, :wehre [:= :a 1]}" (:message r))))
  (is (= "Unknown key(s) :from in update query: {:update :t, :set {:a 1}, :from :u}"
         (:message (fails (pg {:update :t :set {:a 1} :from :u})))))
  (is (= "Unknown key(s) :select in delete query: {:delete-from :t, :select [:a]}"
         (:message (fails (pg {:delete-from :t :select [:a]})))))
  (is (= "Query map has no statement key (one of :create-index :create-table :delete-from :drop-index :drop-table :except :insert-into :intersect :select :select-distinct :truncate :union :union-all :update): {:from :t}"
         (:message (fails (pg {:from :t})))))
  (is (= "Conflicting statement keys :select :select-distinct: {:select [:a], :select-distinct [:b]}"
         (:message (fails (pg {:select [:a] :select-distinct [:b]})))))
  (is (= "A query must be a map: [:select :a]" (:message (fails (pg [:select :a])))))
  (is (= "Expected a keyword or (ident …) naming a table or column: \"t\""
         (:message (fails (pg {:delete-from "t"}))))))

;; ---------------------------------------------------------------- docstring / docs examples

(deftest documented-examples
  (is (= ["SELECT \"id\" FROM \"pageblock\" WHERE \"key\" = $1" "a"]
         (sql/format {:select [:id] :from :pageblock :where [:= :key "a"]})))
  (is (= ["SELECT `id` FROM `pageblock` WHERE `key` = ?" "a"]
         (sql/format {:select [:id] :from :pageblock :where [:= :key "a"]} {:dialect :mysql})))
  (is (= ["SELECT \"Exact Name\" FROM \"t\""]
         (sql/format {:select [(sql/ident "Exact Name")] :from (sql/ident "t")})))
  (is (= "LONGTEXT" (get-in sql/dialects [:mysql :types :text])))
  (is (= \` (:quote (sql/dialect :mysql))))
  (sql/register-dialect! :cockroach (assoc (sql/dialect :postgres) :returning #{:insert}))
  (is (= ["DELETE FROM \"t\""] (sql/format {:delete-from :t} {:dialect :cockroach})))
  (is (= "cockroach" (:label (sql/dialect :cockroach))))
  (is (= "RETURNING on UPDATE is not supported by cockroach"
         (:message (fails (sql/format {:update :t :set {:a 1} :returning [:id]} {:dialect :cockroach}))))))

(deftest docs-sql-md-examples
  (is (< 75 (doc-examples/run-file! "docs/sql.md" 'vireo.sql-doc-examples))
      "docs/sql.md examples were found and asserted"))
