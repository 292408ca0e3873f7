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
    (is (= ["SELECT COUNT(*), MAX(\"id\"), LOWER(\"name\"), COALESCE(\"a\", $1), CURRENT_DATE(), COUNT(DISTINCT \"x\") FROM \"t\"" 0]
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

;; ---------------------------------------------------------------- CASE / DISTINCT

(deftest case-and-distinct
  (let [q {:select [[[:case [:< :n 0] "neg" [:= :n 0] "zero" :else "pos"] :sign]] :from :t}]
    (is (= ["SELECT CASE WHEN \"n\" < $1 THEN $2 WHEN \"n\" = $3 THEN $4 ELSE $5 END AS \"sign\" FROM \"t\"" 0 "neg" 0 "zero" "pos"]
           (pg q)))
    (is (= ["SELECT CASE WHEN `n` < ? THEN ? WHEN `n` = ? THEN ? ELSE ? END AS `sign` FROM `t`" 0 "neg" 0 "zero" "pos"]
           (my q)))
    (is (= ["SELECT CASE WHEN \"n\" < ? THEN ? WHEN \"n\" = ? THEN ? ELSE ? END AS \"sign\" FROM \"t\"" 0 "neg" 0 "zero" "pos"]
           (lite q))))
  (testing "no ELSE; conditions are not wrapped, CASE is not wrapped as an operand"
    (is (= ["SELECT * FROM \"t\" WHERE CASE WHEN (\"a\" = $1) AND (\"b\" IS NULL) THEN \"x\" END > $2" 1 2]
           (where-pg [:> [:case [:and [:= :a 1] [:= :b nil]] :x] 2]))))
  (testing "malformed CASE"
    (doseq [form [[:case] [:case :else 1] [:case [:= :a 1]] [:case [:= :a 1] 1 :else] [:case :else 1 [:= :a 1] 2]]]
      (is (= (str "Expected [:case cond value … :else value] (at least one pair, :else last): " (pr-str form))
             (:message (fails (pg {:select [[form]]})))))))
  (testing "[:distinct x] inside an aggregate"
    (is (= ["SELECT COUNT(DISTINCT \"x\") AS \"n\" FROM \"t\""] (pg {:select [[[:count [:distinct :x]] :n]] :from :t})))
    (is (= ["SELECT COUNT(DISTINCT `x`) FROM `t`"] (my {:select [[[:count [:distinct :x]]]] :from :t})))
    (is (= ["SELECT SUM(DISTINCT (\"a\" + \"b\")) FROM \"t\""] (lite {:select [[[:sum [:distinct [:+ :a :b]]]]] :from :t})))
    (is (= "Wrong number of arguments for :distinct (expected 1): [:distinct :a :b]"
           (:message (fails (pg {:select [[[:count [:distinct :a :b]]]] :from :t})))))))

;; ---------------------------------------------------------------- window functions

(deftest window-functions
  (let [q {:select [:a [[:over [:row-number] {:partition-by [:a] :order-by [[:b :desc]]}] :rn]
                    [[:over [:sum :n] {}] :total] [[:over [:count :*] {:order-by [:id]}]]]
           :from :t}]
    (is (= ["SELECT \"a\", ROW_NUMBER() OVER (PARTITION BY \"a\" ORDER BY \"b\" DESC) AS \"rn\", SUM(\"n\") OVER () AS \"total\", COUNT(*) OVER (ORDER BY \"id\") FROM \"t\""]
           (pg q)))
    (is (= ["SELECT `a`, ROW_NUMBER() OVER (PARTITION BY `a` ORDER BY `b` DESC) AS `rn`, SUM(`n`) OVER () AS `total`, COUNT(*) OVER (ORDER BY `id`) FROM `t`"]
           (my q)))
    (is (= ["SELECT \"a\", ROW_NUMBER() OVER (PARTITION BY \"a\" ORDER BY \"b\" DESC) AS \"rn\", SUM(\"n\") OVER () AS \"total\", COUNT(*) OVER (ORDER BY \"id\") FROM \"t\""]
           (lite q))))
  (testing "named windows: :window clause (after HAVING, before ORDER BY), OVER w, OVER (w …)"
    (let [q {:select [:k [[:over [:rank] :w] :r] [[:over [:sum :n] {:window :w :order-by [:id]}] :running]]
             :from :t :where [:> :n 0] :group-by [:k :n :id] :having [:> [:count :*] 0]
             :window [[:w {:partition-by [:k]}] [:w2 {:order-by [[:n :desc]]}]]
             :order-by [:k] :limit 5}]
      (is (= ["SELECT \"k\", RANK() OVER \"w\" AS \"r\", SUM(\"n\") OVER (\"w\" ORDER BY \"id\") AS \"running\" FROM \"t\" WHERE \"n\" > $1 GROUP BY \"k\", \"n\", \"id\" HAVING COUNT(*) > $2 WINDOW \"w\" AS (PARTITION BY \"k\"), \"w2\" AS (ORDER BY \"n\" DESC) ORDER BY \"k\" LIMIT $3" 0 0 5]
             (pg q)))
      (is (= ["SELECT `k`, RANK() OVER `w` AS `r`, SUM(`n`) OVER (`w` ORDER BY `id`) AS `running` FROM `t` WHERE `n` > ? GROUP BY `k`, `n`, `id` HAVING COUNT(*) > ? WINDOW `w` AS (PARTITION BY `k`), `w2` AS (ORDER BY `n` DESC) ORDER BY `k` LIMIT ?" 0 0 5]
             (my q)))))
  (testing "frames"
    (let [q {:select [[[:over [:sum :n] {:order-by [:id] :frame [:rows :unbounded-preceding :current-row]}]]
                      [[:over [:avg :n] {:order-by [:id] :frame [:range [:preceding 2] [:following 3]]}]]
                      [[:over [:max :n] {:order-by [:id] :frame [:rows :unbounded-preceding]}]]
                      [[:over [:min :n] {:order-by [:id] :frame [:rows :current-row :unbounded-following]}]]]
             :from :t}]
      (is (= ["SELECT SUM(\"n\") OVER (ORDER BY \"id\" ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), AVG(\"n\") OVER (ORDER BY \"id\" RANGE BETWEEN 2 PRECEDING AND 3 FOLLOWING), MAX(\"n\") OVER (ORDER BY \"id\" ROWS UNBOUNDED PRECEDING), MIN(\"n\") OVER (ORDER BY \"id\" ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) FROM \"t\""]
             (pg q)))
      (is (= ["SELECT SUM(`n`) OVER (ORDER BY `id` ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), AVG(`n`) OVER (ORDER BY `id` RANGE BETWEEN 2 PRECEDING AND 3 FOLLOWING), MAX(`n`) OVER (ORDER BY `id` ROWS UNBOUNDED PRECEDING), MIN(`n`) OVER (ORDER BY `id` ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) FROM `t`"]
             (my q))))
    (let [q {:select [[[:over [:sum :n] {:order-by [:id] :frame [:groups [:preceding 1] :current-row]}]]] :from :t}]
      (is (= ["SELECT SUM(\"n\") OVER (ORDER BY \"id\" GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM \"t\""] (pg q)))
      (is (= ["SELECT SUM(\"n\") OVER (ORDER BY \"id\" GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM \"t\""] (lite q)))
      (let [r (fails (my q))]
        (is (not-supported? r))
        (is (= "GROUPS frame is not supported by mysql (MariaDB)" (:message r))))))
  (testing "NULLS FIRST/LAST inside a window follows the dialect"
    (is (= ["SELECT ROW_NUMBER() OVER (ORDER BY (`b` IS NULL) ASC, `b` ASC) FROM `t`"]
           (my {:select [[[:over [:row-number] {:order-by [[:b :asc :nulls-last]]}]]] :from :t}))))
  (testing "window functions work in expressions and ORDER BY"
    (is (= ["SELECT \"n\" - AVG(\"n\") OVER () AS \"delta\" FROM \"t\" ORDER BY RANK() OVER (ORDER BY \"n\") DESC"]
           (pg {:select [[[:- :n [:over [:avg :n] {}]] :delta]] :from :t
                :order-by [[[:over [:rank] {:order-by [:n]}] :desc]]}))))
  (testing "errors"
    (doseq [[q msg] [[{:select [[[:over :n {}]]]} "[:over call window] needs a function call such as [:row-number]: [:over :n {}]"]
                     [{:select [[[:over [:rank]]]]} "Wrong number of arguments for :over (expected 2): [:over [:rank]]"]
                     [{:select [[[:over [:rank] "w"]]]} "An OVER window is a spec map or a window name: [:over [:rank] \"w\"]"]
                     [{:select [[[:over [:rank] {:partition [:a]}]]]} "Unknown window key(s) :partition: {:partition [:a]}"]
                     [{:select [[[:over [:rank] {:frame [:rows]}]]]} "A window frame is [:rows|:range|:groups start] or [unit start end]: [:rows]"]
                     [{:select [[[:over [:rank] {:frame [:row :current-row]}]]]} "A window frame is [:rows|:range|:groups start] or [unit start end]: [:row :current-row]"]
                     [{:select [[[:over [:rank] {:frame [:rows [:preceding -1]]}]]]} "A frame bound is :unbounded-preceding, :current-row, :unbounded-following, [:preceding n] or [:following n] (n a non-negative integer): [:preceding -1]"]
                     [{:select [[[:over [:rank] {:frame [:rows :unbounded-following]}]]]} "A window frame cannot start at :unbounded-following: [:rows :unbounded-following]"]
                     [{:select [[[:over [:rank] {:frame [:rows :current-row :unbounded-preceding]}]]]} "A window frame cannot end at :unbounded-preceding: [:rows :current-row :unbounded-preceding]"]
                     [{:select [:a] :from :t :window [:w {}]} ":window takes a non-empty vector of [name definition] pairs: [:w {}]"]
                     [{:select [:a] :from :t :window [[:w :v]]} "A :window definition is a spec map: [:w :v]"]]]
      (let [r (fails (pg q))]
        (is (programming-error? r) msg)
        (is (= msg (:message r)))))))

;; ---------------------------------------------------------------- row locking

(deftest row-locking
  (let [q {:select [:*] :from :t :where [:= :id 1] :limit 1 :for :update}]
    (is (= ["SELECT * FROM \"t\" WHERE \"id\" = $1 LIMIT $2 FOR UPDATE" 1 1] (pg q)))
    (is (= ["SELECT * FROM `t` WHERE `id` = ? LIMIT ? FOR UPDATE" 1 1] (my q)))
    (let [r (fails (lite q))]
      (is (not-supported? r))
      (is (= :sqlite (:dialect r)))
      (is (= "FOR UPDATE is not supported by sqlite" (:message r)))))
  (testing "share locks: FOR SHARE on postgres, LOCK IN SHARE MODE on MariaDB"
    (is (= ["SELECT * FROM \"t\" FOR SHARE"] (pg {:select [:*] :from :t :for :share})))
    (is (= ["SELECT * FROM `t` LOCK IN SHARE MODE"] (my {:select [:*] :from :t :for :share})))
    (is (= "FOR SHARE is not supported by sqlite" (:message (fails (lite {:select [:*] :from :t :for :share}))))))
  (testing "NOWAIT / SKIP LOCKED"
    (is (= ["SELECT * FROM \"t\" FOR UPDATE NOWAIT"] (pg {:select [:*] :from :t :for [:update :nowait]})))
    (is (= ["SELECT * FROM `t` FOR UPDATE NOWAIT"] (my {:select [:*] :from :t :for [:update :nowait]})))
    (is (= ["SELECT * FROM \"t\" FOR UPDATE SKIP LOCKED"] (pg {:select [:*] :from :t :for [:update :skip-locked]})))
    (is (= ["SELECT * FROM `t` FOR UPDATE SKIP LOCKED"] (my {:select [:*] :from :t :for [:update :skip-locked]})))
    (is (= ["SELECT * FROM \"t\" FOR SHARE SKIP LOCKED"] (pg {:select [:*] :from :t :for [:share :skip-locked]})))
    (is (= ["SELECT * FROM `t` LOCK IN SHARE MODE NOWAIT"] (my {:select [:*] :from :t :for [:share :nowait]})))
    (is (= ["SELECT * FROM \"t\" FOR UPDATE"] (pg {:select [:*] :from :t :for [:update]}))))
  (testing "PostgreSQL's weaker locks are refused on MariaDB"
    (is (= ["SELECT * FROM \"t\" FOR NO KEY UPDATE NOWAIT"] (pg {:select [:*] :from :t :for [:no-key-update :nowait]})))
    (is (= ["SELECT * FROM \"t\" FOR KEY SHARE"] (pg {:select [:*] :from :t :for :key-share})))
    (is (= "FOR NO KEY UPDATE is not supported by mysql (MariaDB)"
           (:message (fails (my {:select [:*] :from :t :for :no-key-update}))))))
  (testing "FOR comes last, after joins/ORDER BY/LIMIT/OFFSET; :for nil is absent"
    (is (= ["SELECT \"a\".\"id\" FROM \"a\" INNER JOIN \"b\" ON \"b\".\"a_id\" = \"a\".\"id\" ORDER BY \"a\".\"id\" LIMIT $1 OFFSET $2 FOR UPDATE" 10 20]
           (pg {:for :update :offset 20 :limit 10 :order-by [:a.id] :join [:b [:= :b.a-id :a.id]] :from :a :select [:a.id]})))
    (is (= ["SELECT * FROM \"t\""] (lite {:select [:*] :from :t :for nil}))))
  (testing "errors"
    (doseq [v [:delete [:update :wait] [:update :nowait :skip-locked] [] "update"]]
      (is (= (str ":for takes :update, :share, :no-key-update or :key-share, optionally in a vector with :nowait or :skip-locked: " (pr-str v))
             (:message (fails (pg {:select [:*] :from :t :for v}))))))
    (is (= "Unknown key(s) :for in set-operation query: {:union [{:select [:a]} {:select [:b]}], :for :update}"
           (:message (fails (pg {:union [{:select [:a]} {:select [:b]}] :for :update})))))))

;; ---------------------------------------------------------------- WITH (CTEs)

(deftest common-table-expressions
  (let [q {:with [[:recent {:select [:id :owner-id] :from :pageblock :where [:> :id 100]}]
                  [[:counts :owner :n] {:select [:owner-id [[:count :*]]] :from :recent :group-by [:owner-id]}]]
           :select [:*] :from :counts :where [:> :n 1]}]
    (is (= ["WITH \"recent\" AS (SELECT \"id\", \"owner_id\" FROM \"pageblock\" WHERE \"id\" > $1), \"counts\" (\"owner\", \"n\") AS (SELECT \"owner_id\", COUNT(*) FROM \"recent\" GROUP BY \"owner_id\") SELECT * FROM \"counts\" WHERE \"n\" > $2" 100 1]
           (pg q)))
    (is (= ["WITH `recent` AS (SELECT `id`, `owner_id` FROM `pageblock` WHERE `id` > ?), `counts` (`owner`, `n`) AS (SELECT `owner_id`, COUNT(*) FROM `recent` GROUP BY `owner_id`) SELECT * FROM `counts` WHERE `n` > ?" 100 1]
           (my q)))
    (is (= ["WITH \"recent\" AS (SELECT \"id\", \"owner_id\" FROM \"pageblock\" WHERE \"id\" > ?), \"counts\" (\"owner\", \"n\") AS (SELECT \"owner_id\", COUNT(*) FROM \"recent\" GROUP BY \"owner_id\") SELECT * FROM \"counts\" WHERE \"n\" > ?" 100 1]
           (lite q))))
  (testing "WITH RECURSIVE with a set-operation body"
    (let [q {:with-recursive [[[:r :n] {:union-all [{:select [[[:inline 1]]]}
                                                    {:select [[[:+ :n 1]]] :from :r :where [:< :n 5]}]}]]
             :select [:n] :from :r :order-by [:n]}]
      (is (= ["WITH RECURSIVE \"r\" (\"n\") AS (SELECT 1 UNION ALL SELECT \"n\" + $1 FROM \"r\" WHERE \"n\" < $2) SELECT \"n\" FROM \"r\" ORDER BY \"n\"" 1 5]
             (pg q)))
      (is (= ["WITH RECURSIVE `r` (`n`) AS (SELECT 1 UNION ALL SELECT `n` + ? FROM `r` WHERE `n` < ?) SELECT `n` FROM `r` ORDER BY `n`" 1 5]
             (my q)))
      (is (= ["WITH RECURSIVE \"r\" (\"n\") AS (SELECT 1 UNION ALL SELECT \"n\" + ? FROM \"r\" WHERE \"n\" < ?) SELECT \"n\" FROM \"r\" ORDER BY \"n\"" 1 5]
             (lite q)))))
  (testing "WITH on a set operation"
    (let [q {:with [[:c {:select [:a] :from :t}]] :union [{:select [:a] :from :c} {:select [:a] :from :u}] :limit 3}]
      (is (= ["WITH \"c\" AS (SELECT \"a\" FROM \"t\") SELECT \"a\" FROM \"c\" UNION SELECT \"a\" FROM \"u\" LIMIT $1" 3] (pg q)))
      (is (= ["WITH `c` AS (SELECT `a` FROM `t`) SELECT `a` FROM `c` UNION SELECT `a` FROM `u` LIMIT ?" 3] (my q)))))
  (testing "a set-operation member with its own WITH is wrapped; MariaDB refuses it"
    (let [q {:union [{:select [:a] :from :t} {:with [[:c {:select [:a] :from :u}]] :select [:a] :from :c}]}]
      (is (= ["SELECT \"a\" FROM \"t\" UNION (WITH \"c\" AS (SELECT \"a\" FROM \"u\") SELECT \"a\" FROM \"c\")"] (pg q)))
      (is (= ["SELECT \"a\" FROM \"t\" UNION SELECT * FROM (WITH \"c\" AS (SELECT \"a\" FROM \"u\") SELECT \"a\" FROM \"c\")"] (lite q)))
      (let [r (fails (my q))]
        (is (not-supported? r))
        (is (= "WITH in a set-operation member is not supported by mysql (MariaDB)" (:message r))))))
  (testing "WITH in subqueries"
    (is (= ["SELECT * FROM `t` WHERE `id` IN (WITH `c` AS (SELECT `id` FROM `u`) SELECT `id` FROM `c`)"]
           (my {:select [:*] :from :t :where [:in :id {:with [[:c {:select [:id] :from :u}]] :select [:id] :from :c}]}))))
  (testing "WITH on INSERT / UPDATE / DELETE: postgres and sqlite; MariaDB only inside INSERT's :select"
    (let [ins {:with [[:c {:select [:a] :from :u}]] :insert-into :t :columns [:a] :select {:select [:a] :from :c}}
          upd {:with [[:c {:select [:id] :from :u}]] :update :t :set {:a 1} :where [:in :id {:select [:id] :from :c}]}
          del {:with [[:c {:select [:id] :from :u}]] :delete-from :t :where [:in :id {:select [:id] :from :c}] :returning [:id]}]
      (is (= ["WITH \"c\" AS (SELECT \"a\" FROM \"u\") INSERT INTO \"t\" (\"a\") SELECT \"a\" FROM \"c\""] (pg ins)))
      (is (= ["WITH \"c\" AS (SELECT \"a\" FROM \"u\") INSERT INTO \"t\" (\"a\") SELECT \"a\" FROM \"c\""] (lite ins)))
      (is (= ["WITH \"c\" AS (SELECT \"id\" FROM \"u\") UPDATE \"t\" SET \"a\" = $1 WHERE \"id\" IN (SELECT \"id\" FROM \"c\")" 1] (pg upd)))
      (is (= ["WITH \"c\" AS (SELECT \"id\" FROM \"u\") UPDATE \"t\" SET \"a\" = ? WHERE \"id\" IN (SELECT \"id\" FROM \"c\")" 1] (lite upd)))
      (is (= ["WITH \"c\" AS (SELECT \"id\" FROM \"u\") DELETE FROM \"t\" WHERE \"id\" IN (SELECT \"id\" FROM \"c\") RETURNING \"id\""] (pg del)))
      (is (= ["WITH \"c\" AS (SELECT \"id\" FROM \"u\") DELETE FROM \"t\" WHERE \"id\" IN (SELECT \"id\" FROM \"c\") RETURNING \"id\""] (lite del)))
      (doseq [[q msg] [[ins "WITH on INSERT is not supported by mysql (MariaDB)"]
                       [upd "WITH on UPDATE is not supported by mysql (MariaDB)"]
                       [del "WITH on DELETE is not supported by mysql (MariaDB)"]]]
        (let [r (fails (my q))]
          (is (not-supported? r))
          (is (= msg (:message r)))))
      (is (= ["INSERT INTO `t` (`a`) WITH `c` AS (SELECT `a` FROM `u`) SELECT `a` FROM `c`"]
             (my {:insert-into :t :columns [:a] :select {:with [[:c {:select [:a] :from :u}]] :select [:a] :from :c}})))))
  (testing "data-modifying CTE bodies only on postgres"
    (let [q {:with [[:gone {:delete-from :t :where [:< :at 5] :returning [:id]}]]
             :insert-into :archive :columns [:id] :select {:select [:id] :from :gone}}]
      (is (= ["WITH \"gone\" AS (DELETE FROM \"t\" WHERE \"at\" < $1 RETURNING \"id\") INSERT INTO \"archive\" (\"id\") SELECT \"id\" FROM \"gone\"" 5]
             (pg q)))
      (is (= "DELETE in WITH is not supported by sqlite" (:message (fails (lite q)))))
      (is (= "INSERT in WITH is not supported by mysql (MariaDB)"
             (:message (fails (my {:with [[:c {:insert-into :t :values [[1]]}]] :select [:*] :from :c})))))))
  (testing "parameters are numbered in output order"
    (is (= ["WITH \"c\" AS (SELECT $1 AS \"x\") SELECT \"x\", $2 FROM \"c\" WHERE \"x\" = $3" 1 2 3]
           (pg (array-map :where [:= :x 3] :select [:x 2] :from :c :with [[:c {:select [[1 :x]]}]])))))
  (testing "errors"
    (doseq [[q msg] [[{:with [[:c {:select [1]}]] :with-recursive [[:d {:select [1]}]] :select [:*] :from :c}
                      "Use :with or :with-recursive, not both: {:with [[:c {:select [1]}]], :with-recursive [[:d {:select [1]}]]}"]
                     [{:with [] :select [:*] :from :c} ":with takes a non-empty vector of [name definition] pairs: []"]
                     [{:with [:c {:select [1]}] :select [:*] :from :c} ":with takes a non-empty vector of [name definition] pairs: [:c {:select [1]}]"]
                     [{:with-recursive {:c {:select [1]}} :select [:*] :from :c} ":with-recursive takes a non-empty vector of [name definition] pairs: {:c {:select [1]}}"]
                     [{:with [["c" {:select [1]}]] :select [:*] :from :c} "A CTE name is a keyword, (ident …) or [name & columns]: \"c\""]
                     [{:with [[[:c] {:select [1]}]] :select [:*] :from :c} "A CTE name is a keyword, (ident …) or [name & columns]: [:c]"]
                     [{:with [[:c [:select 1]]] :select [:*] :from :c} "A CTE body must be a select, set-operation, insert, update or delete map: [:select 1]"]
                     [{:with [[:c {:drop-table :x}]] :select [:*] :from :c} "A CTE body must be a select, set-operation, insert, update or delete map: {:drop-table :x}"]]]
      (let [r (fails (pg q))]
        (is (programming-error? r) msg)
        (is (= msg (:message r)))))
    (is (= "Query map has no statement key (one of :alter-table :create-index :create-table :delete-from :drop-index :drop-table :except :insert-into :intersect :select :select-distinct :truncate :union :union-all :update): {:with [[:c {:select [1]}]]}"
           (:message (fails (pg {:with [[:c {:select [1]}]]})))))
    (is (= "Unknown key(s) :with in create-table query: {:create-table :t, :with-columns [[:a :text]], :with [[:c {:select [1]}]]}"
           (:message (fails (pg (array-map :create-table :t :with-columns [[:a :text]] :with [[:c {:select [1]}]]))))))))

;; ---------------------------------------------------------------- upsert

(deftest upsert
  (testing "DO UPDATE SET from the proposed row (a vector of columns) + RETURNING"
    (let [q {:insert-into :pageblock :columns [:key :text] :values [["k" "v"]]
             :on-conflict [:key] :do-update-set [:text] :returning [:id]}]
      (is (= ["INSERT INTO \"pageblock\" (\"key\", \"text\") VALUES ($1, $2) ON CONFLICT (\"key\") DO UPDATE SET \"text\" = EXCLUDED.\"text\" RETURNING \"id\"" "k" "v"]
             (pg q)))
      (is (= ["INSERT INTO `pageblock` (`key`, `text`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `text` = VALUES(`text`) RETURNING `id`" "k" "v"]
             (my q)))
      (is (= ["INSERT INTO \"pageblock\" (\"key\", \"text\") VALUES (?, ?) ON CONFLICT (\"key\") DO UPDATE SET \"text\" = EXCLUDED.\"text\" RETURNING \"id\"" "k" "v"]
             (lite q)))))
  (testing "DO UPDATE SET a map of expressions, [:excluded col], DO UPDATE … WHERE"
    (let [q {:insert-into :counter :columns [:k :n] :values [["a" 1] ["b" 2]]
             :on-conflict [:k]
             :do-update-set (array-map :n [:+ :counter.n [:excluded :n]] :at [:now])
             :do-update-where [:< :counter.n 100]}]
      (is (= ["INSERT INTO \"counter\" (\"k\", \"n\") VALUES ($1, $2), ($3, $4) ON CONFLICT (\"k\") DO UPDATE SET \"n\" = \"counter\".\"n\" + EXCLUDED.\"n\", \"at\" = NOW() WHERE \"counter\".\"n\" < $5" "a" 1 "b" 2 100]
             (pg q)))
      (is (= ["INSERT INTO \"counter\" (\"k\", \"n\") VALUES (?, ?), (?, ?) ON CONFLICT (\"k\") DO UPDATE SET \"n\" = \"counter\".\"n\" + EXCLUDED.\"n\", \"at\" = NOW() WHERE \"counter\".\"n\" < ?" "a" 1 "b" 2 100]
             (lite q)))
      (let [r (fails (my q))]
        (is (not-supported? r))
        (is (= "ON CONFLICT … DO UPDATE … WHERE is not supported by mysql (MariaDB)" (:message r))))
      (is (= ["INSERT INTO `counter` (`k`, `n`) VALUES (?, ?), (?, ?) ON DUPLICATE KEY UPDATE `n` = `counter`.`n` + VALUES(`n`), `at` = NOW()" "a" 1 "b" 2]
             (my (dissoc q :do-update-where))))))
  (testing "DO NOTHING; MariaDB: a no-op assignment of the statement's first column"
    (let [q {:insert-into :pageblock :columns [:key :text] :values [["k" "v"]] :on-conflict [:key] :do-nothing true}]
      (is (= ["INSERT INTO \"pageblock\" (\"key\", \"text\") VALUES ($1, $2) ON CONFLICT (\"key\") DO NOTHING" "k" "v"] (pg q)))
      (is (= ["INSERT INTO `pageblock` (`key`, `text`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `key` = `key`" "k" "v"] (my q)))
      (is (= ["INSERT INTO \"pageblock\" (\"key\", \"text\") VALUES (?, ?) ON CONFLICT (\"key\") DO NOTHING" "k" "v"] (lite q))))
    (testing "no conflict target: nil, true or []"
      (doseq [t [nil true []]]
        (let [q (cond-> {:insert-into :t :values [(array-map :b 1 :a 2)] :do-nothing true} (some? t) (assoc :on-conflict t))]
          (is (= ["INSERT INTO \"t\" (\"b\", \"a\") VALUES ($1, $2) ON CONFLICT DO NOTHING" 1 2] (pg q)))
          (is (= ["INSERT INTO `t` (`b`, `a`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `b` = `b`" 1 2] (my q)))
          (is (= ["INSERT INTO \"t\" (\"b\", \"a\") VALUES (?, ?) ON CONFLICT DO NOTHING" 1 2] (lite q))))))
    (testing "MariaDB without :columns uses the conflict target's column, else fails"
      (is (= ["INSERT INTO `t` VALUES (?, ?) ON DUPLICATE KEY UPDATE `k` = `k`" 1 2]
             (my {:insert-into :t :values [[1 2]] :on-conflict [:k] :do-nothing true})))
      (let [r (fails (my {:insert-into :t :values [[1 2]] :do-nothing true}))]
        (is (programming-error? r))
        (is (= ":do-nothing on mysql (MariaDB) needs a column to assign (give :columns or an :on-conflict column)" (:message r))))))
  (testing "a multi-column or expression conflict target"
    (is (= ["INSERT INTO \"t\" (\"a\", \"b\") VALUES ($1, $2) ON CONFLICT (\"a\", (LOWER(\"b\"))) DO NOTHING" 1 "x"]
           (pg {:insert-into :t :columns [:a :b] :values [[1 "x"]] :on-conflict [:a [:lower :b]] :do-nothing true})))
    (is (= ["INSERT INTO `t` (`a`, `b`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `b` = VALUES(`b`)" 1 "x"]
           (my {:insert-into :t :columns [:a :b] :values [[1 "x"]] :on-conflict [:a [:lower :b]] :do-update-set [:b]}))
        "MariaDB ignores the target"))
  (testing "DO UPDATE without a target: SQLite and MariaDB yes, PostgreSQL no"
    (let [q {:insert-into :t :columns [:k :v] :values [[1 2]] :do-update-set [:v]}]
      (is (= ["INSERT INTO \"t\" (\"k\", \"v\") VALUES (?, ?) ON CONFLICT DO UPDATE SET \"v\" = EXCLUDED.\"v\"" 1 2] (lite q)))
      (is (= ["INSERT INTO `t` (`k`, `v`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `v` = VALUES(`v`)" 1 2] (my q)))
      (let [r (fails (pg q))]
        (is (not-supported? r))
        (is (= "ON CONFLICT DO UPDATE without a conflict target is not supported by postgres" (:message r))))))
  (testing "INSERT … SELECT with an upsert: SQLite gets WHERE TRUE (its parser reads `FROM t ON` as a join)"
    (let [q {:insert-into :t :columns [:k] :select {:select [:k] :from :u} :on-conflict [:k] :do-nothing true}]
      (is (= ["INSERT INTO \"t\" (\"k\") SELECT \"k\" FROM \"u\" ON CONFLICT (\"k\") DO NOTHING"] (pg q)))
      (is (= ["INSERT INTO `t` (`k`) SELECT `k` FROM `u` ON DUPLICATE KEY UPDATE `k` = `k`"] (my q)))
      (is (= ["INSERT INTO \"t\" (\"k\") SELECT \"k\" FROM \"u\" WHERE TRUE ON CONFLICT (\"k\") DO NOTHING"] (lite q)))
      (is (= ["INSERT INTO \"t\" (\"k\") SELECT \"k\" FROM \"u\" WHERE \"k\" > ? ON CONFLICT (\"k\") DO NOTHING" 0]
             (lite (assoc-in q [:select :where] [:> :k 0]))))
      (is (= ["INSERT INTO \"t\" (\"k\") SELECT * FROM (SELECT \"k\" FROM \"u\" UNION SELECT \"k\" FROM \"v\") AS \"upsert_source\" WHERE TRUE ON CONFLICT (\"k\") DO NOTHING"]
             (lite (assoc q :select {:union [{:select [:k] :from :u} {:select [:k] :from :v}]}))))
      (is (= ["INSERT INTO \"t\" (\"k\") SELECT \"k\" FROM \"u\""] (lite (dissoc q :on-conflict :do-nothing)))
          "no upsert, no guard")))
  (testing "clause order is fixed whatever the map order"
    (is (= ["WITH \"s\" AS (SELECT $1 AS \"k\") INSERT INTO \"t\" (\"k\") SELECT \"k\" FROM \"s\" ON CONFLICT (\"k\") DO UPDATE SET \"n\" = \"t\".\"n\" + $2 WHERE \"t\".\"n\" < $3 RETURNING \"id\"" "a" 1 9]
           (pg (array-map :returning [:id] :do-update-where [:< :t.n 9] :do-update-set {:n [:+ :t.n 1]}
                          :on-conflict [:k] :select {:select [:k] :from :s} :columns [:k] :insert-into :t
                          :with [[:s {:select [["a" :k]]}]])))))
  (testing "errors"
    (doseq [[q msg] [[{:insert-into :t :values [[1]] :on-conflict [:k]}
                      "An upsert needs :do-nothing true or :do-update-set: {:on-conflict [:k]}"]
                     [{:insert-into :t :values [[1]] :on-conflict [:k] :do-nothing true :do-update-set [:k]}
                      "An upsert takes :do-nothing or :do-update-set, not both: {:on-conflict [:k], :do-nothing true, :do-update-set [:k]}"]
                     [{:insert-into :t :values [[1]] :on-conflict [:k] :do-nothing true :do-update-where [:= :a 1]}
                      ":do-update-where needs :do-update-set: {:on-conflict [:k], :do-nothing true, :do-update-where [:= :a 1]}"]
                     [{:insert-into :t :values [[1]] :on-conflict [:k] :do-update-set []}
                      ":do-update-set takes a non-empty vector of columns or map of column -> expression: []"]
                     [{:insert-into :t :values [[1]] :on-conflict [:k] :do-update-set {}}
                      ":do-update-set takes a non-empty vector of columns or map of column -> expression: {}"]
                     [{:insert-into :t :values [[1]] :on-conflict ["k"] :do-nothing true}
                      ":on-conflict takes true or a vector of columns (keywords, idents or expression vectors): [\"k\"]"]
                     [{:insert-into :t :values [[1]] :on-conflict [:k] :do-update-set {:a [:excluded "a"]}}
                      "[:excluded col] takes a column keyword or (ident …): [:excluded \"a\"]"]
                     [{:update :t :set {:a [:excluded :a]}}
                      "[:excluded col] is only allowed in :do-update-set and :do-update-where: [:excluded :a]"]]]
      (let [r (fails (pg q))]
        (is (programming-error? r) msg)
        (is (= msg (:message r)))))
    (is (= "Unknown key(s) :on-conflict :do-nothing in update query: {:update :t, :set {:a 1}, :on-conflict [:a], :do-nothing true}"
           (:message (fails (pg (array-map :update :t :set {:a 1} :on-conflict [:a] :do-nothing true))))))
    (let [no-upsert (assoc (sql/dialect :postgres) :upsert nil)]
      (is (= "ON CONFLICT is not supported by postgres"
             (:message (fails (sql/format {:insert-into :t :values [[1]] :do-nothing true} {:dialect no-upsert}))))))))

(deftest new-dialect-capabilities
  (is (= {:cte #{:select :set-operation :insert :update :delete :set-member} :cte-dml true
          :frame-units #{:rows :range :groups} :upsert :on-conflict
          :upsert-untargeted-update false :upsert-select-guard false}
         (select-keys (sql/dialect :postgres) [:cte :cte-dml :frame-units :upsert :upsert-untargeted-update :upsert-select-guard])))
  (is (= {:cte #{:select :set-operation} :cte-dml false
          :frame-units #{:rows :range} :upsert :on-duplicate-key
          :upsert-untargeted-update true :upsert-select-guard false
          :row-locks {:update "FOR UPDATE" :share "LOCK IN SHARE MODE" :nowait "NOWAIT" :skip-locked "SKIP LOCKED"}}
         (select-keys (sql/dialect :mysql) [:cte :cte-dml :frame-units :upsert :upsert-untargeted-update :upsert-select-guard :row-locks])))
  (is (= {:cte #{:select :set-operation :insert :update :delete :set-member} :cte-dml false
          :frame-units #{:rows :range :groups} :upsert :on-conflict
          :upsert-untargeted-update true :upsert-select-guard true :row-locks nil}
         (select-keys (sql/dialect :sqlite) [:cte :cte-dml :frame-units :upsert :upsert-untargeted-update :upsert-select-guard :row-locks])))
  (testing "capabilities are data: a derived dialect gains or loses them"
    (let [d (assoc (sql/dialect :sqlite) :row-locks {:update "FOR UPDATE"})]
      (is (= ["SELECT * FROM \"t\" FOR UPDATE"] (sql/format {:select [:*] :from :t :for :update} {:dialect d})))
      (is (= "NOWAIT is not supported by sqlite"
             (:message (fails (sql/format {:select [:*] :from :t :for [:update :nowait]} {:dialect d}))))))))

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

(deftest alter-table
  (is (= ["ALTER TABLE \"t\" ADD COLUMN \"a\" VARCHAR(20) NULL DEFAULT 'x'"]
         (pg {:alter-table :t :add-column [:a [:char 20] :null [:default "x"]]})))
  (is (= ["ALTER TABLE `t` ADD COLUMN `a` LONGTEXT NOT NULL"] (my {:alter-table :t :add-column [:a :text :not-null]})))
  (is (= ["ALTER TABLE \"t\" ADD COLUMN \"a\" TEXT NULL"] (lite {:alter-table :t :add-column [:a :text :null]})))
  (doseq [f [pg lite]]
    (is (= ["ALTER TABLE \"t\" RENAME COLUMN \"a\" TO \"b\""] (f {:alter-table :t :rename-column [:a :b]})))
    (is (= ["ALTER TABLE \"t\" RENAME TO \"u\""] (f {:alter-table :t :rename-to :u}))))
  (is (= ["ALTER TABLE `t` RENAME COLUMN `a` TO `b`"] (my {:alter-table :t :rename-column [:a :b]})))
  (is (= ["ALTER TABLE \"t\" DROP COLUMN \"a\""] (pg {:alter-table :t :drop-column :a})))
  (testing "a column's type, nullability and default: separate actions, or MODIFY COLUMN"
    (let [q {:alter-table :t :alter-column [:a [:char 20] :not-null [:default "x"]]}]
      (is (= [(str "ALTER TABLE \"t\" ALTER COLUMN \"a\" TYPE VARCHAR(20) USING \"a\"::VARCHAR(20),"
                   " ALTER COLUMN \"a\" SET NOT NULL, ALTER COLUMN \"a\" SET DEFAULT 'x'")]
             (pg q)))
      (is (= ["ALTER TABLE `t` MODIFY COLUMN `a` VARCHAR(20) NOT NULL DEFAULT 'x'"] (my q))))
    (is (= [(str "ALTER TABLE \"t\" ALTER COLUMN \"a\" TYPE TEXT USING \"a\"::TEXT,"
                 " ALTER COLUMN \"a\" DROP NOT NULL, ALTER COLUMN \"a\" DROP DEFAULT")]
           (pg {:alter-table :t :alter-column [:a :text :null]})))
    (is (programming-error? (fails (pg {:alter-table :t :alter-column [:a :text :unique]})))))
  (testing "foreign keys"
    (let [q {:alter-table :t :add-constraint [:constraint :t_a_fkey [:foreign-key [:a] [:references :u :id] [:on-delete :cascade]]]}]
      (is (= ["ALTER TABLE \"t\" ADD CONSTRAINT \"t_a_fkey\" FOREIGN KEY (\"a\") REFERENCES \"u\" (\"id\") ON DELETE CASCADE"] (pg q)))
      (is (= ["ALTER TABLE `t` ADD CONSTRAINT `t_a_fkey` FOREIGN KEY (`a`) REFERENCES `u` (`id`) ON DELETE CASCADE"] (my q))))
    (is (= ["ALTER TABLE \"t\" DROP CONSTRAINT \"k\""] (pg {:alter-table :t :drop-foreign-key :k})))
    (is (= ["ALTER TABLE `t` DROP FOREIGN KEY `k`"] (my {:alter-table :t :drop-foreign-key :k}))))
  (testing "what SQLite's ALTER TABLE cannot do is refused by name (vireo.migrate rebuilds the table)"
    (doseq [q [{:alter-table :t :drop-column :a} {:alter-table :t :alter-column [:a :text]}
               {:alter-table :t :drop-foreign-key :k}]]
      (is (= :vireo/not-supported (:type (fails (lite q)))))))
  (is (= "ALTER TABLE DROP COLUMN is not supported by sqlite" (:message (fails (lite {:alter-table :t :drop-column :a})))))
  (is (programming-error? (fails (pg {:alter-table :t}))) "one action")
  (is (programming-error? (fails (pg {:alter-table :t :drop-column :a :rename-to :u}))) "only one action"))

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
  (is (= "Query map has no statement key (one of :alter-table :create-index :create-table :delete-from :drop-index :drop-table :except :insert-into :intersect :select :select-distinct :truncate :union :union-all :update): {:from :t}"
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
