(ns ^:vireo/per-backend vireo.hostile-test
  "Identifiers are always quoted per dialect and values always bound as
  parameters: a model whose table and column names are full of quotes,
  statement separators, comments, placeholders and unicode stores SQL
  injection attempts and reads them back verbatim through every operation,
  and nothing is ever executed (a canary table survives)."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.sql :as sql]
            [vireo.test-support :as ts :refer [await!]]))

(def ^:private canary-table "types_canary")

(def ^:private hostile-values
  ["'; DROP TABLE types_canary; --"
   "\\'; DROP TABLE types_canary; --"
   "\\' OR 1=1 --"
   "' OR '1'='1"
   "\" OR \"\"=\""
   "` OR 1=1 #"
   "Robert'); DROP TABLE types_canary;--"
   "back\\slash \\\\ \\n \\0 \\x00 \\Z \\%"
   "/* comment */ -- line comment\n# hash comment"
   "? ?? $1 $2 :name @v ${x} %s %(x)s"
   "1; SELECT pg_sleep(10); SELECT 1"
   "ünï 中文 😀 𝔘 \u2028 \u00a0"
   "   leading and trailing   "
   "END; COMMIT; ROLLBACK; --"])

(defn- names
  "Table and column names for the backend. MariaDB refuses identifiers with
  characters outside the Basic Multilingual Plane and names that end with a
  space (both documented server limits, not quoting issues), so its names
  leave those two out; PostgreSQL keeps 63 bytes of a name and MariaDB 64
  characters, so every name stays shorter."
  [backend]
  (let [mysql? (= backend :mysql)]
    {:table (str "types_hostile \"t\" 'q' `b`; -- /* c */" (if mysql? " ü" " 😀"))
     :id "id \"'`; --"
     :name "name \"dq\" 'sq' `bt` ?"
     :note "note; DROP TABLE types_canary; --"
     :memo "memo /* c */ -- $1 ."
     :uni (if mysql? "ünï 中文 ✓" "ünï 中文 😀 𝔘")
     :trail (if mysql? "trail end" "trail end ")}))

(defn- hostile-model [n]
  (ts/model 'TypesHostile
            {:table (:table n)
             :fields [:id {:type :auto :column (:id n)}
                      :name {:type :char :max-length 100 :column (:name n) :unique true}
                      :note {:type :text :column (:note n) :null true}
                      :memo {:type :text :column (:memo n) :null true :index true}
                      :uni {:type :text :column (:uni n) :null true}
                      :trail {:type :text :column (:trail n) :null true}]}))

(defn- canary-model []
  (ts/model 'TypesCanary {:table canary-table :fields {:word {:type :text}}}))

(defn- canary-alive? []
  (= ["tweet"] (mapv :word (await! (v/aio-execute (ts/db) {:select [:word] :from (keyword canary-table)})))))

(defn- raw-select
  "aio-execute query data over the hostile names: the values of column `col`
  in rows whose column `where-col` equals `value` (bound as a parameter)."
  [n col where-col value]
  (mapv :v (await! (v/aio-execute (ts/db) {:select [[(sql/ident (col n)) :v]]
                                           :from (sql/ident (:table n))
                                           :where [:= (sql/ident (where-col n)) value]}))))

(deftest hostile-names-and-values-test
  (let [n (names ts/*backend*)
        M (hostile-model n)
        Canary (canary-model)]
    (ts/with-tables [Canary M]
      (await! (v/aio-create Canary {:word "tweet"}))
      (testing "the table, its columns and its indexes exist under their verbatim names"
        (is (= [] (await! (v/aio-execute (ts/db) {:select [(sql/ident (:name n))] :from (sql/ident (:table n))})))))
      (doseq [[i value] (map-indexed vector hostile-values)]
        (testing (pr-str value)
          (let [other (nth hostile-values (mod (inc i) (count hostile-values)))
                row {:name value :note value :memo value :uni value :trail value}
                created (await! (v/aio-create M row))
                id (:id created)]
            (testing "aio-create and aio-get by primary key return the values verbatim"
              (is (pos-int? id))
              (is (= (assoc row :id id) (await! (v/aio-get M id)))))
            (testing "filters on every hostile column find it (a map filter and a where vector)"
              (doseq [k [:name :note :memo :uni :trail]]
                (is (= id (:id (await! (v/aio-get M {k value :id id})))) (str "map filter on " k))
                (is (= id (:id (await! (v/aio-get M [:and [:= k value] [:= :id id]])))) (str "where on " k))))
            (testing "aio-execute query data with hostile identifiers and a hostile bound value"
              (is (= [value] (raw-select n :note :name value)))
              (is (= [value] (raw-select n :memo :note value)))
              (is (= [value] (raw-select n :trail :uni value))))
            (testing "aio-save updates every hostile column"
              (let [changed {:id id :name (str other " #" i) :note other :memo other :uni other :trail other}]
                (await! (v/aio-save M changed))
                (is (= changed (await! (v/aio-get M id))))
                (is (= [other] (raw-select n :note :name (str other " #" i))))))
            (testing "aio-delete-instance deletes exactly that row"
              (is (= 1 (await! (v/aio-delete-instance M {:id id}))))
              (is (nil? (await! (v/aio-get-or-none M id))))))))
      (testing "all values at once, then every row read back"
        (let [ids (mapv (fn [value] (:id (await! (v/aio-create M {:name value :note value :memo value :uni value :trail value}))))
                        hostile-values)]
          (is (= hostile-values
                 (mapv :note (await! (v/aio-execute (ts/db) {:select [[(sql/ident (:note n)) :note]]
                                                             :from (sql/ident (:table n))
                                                             :where [:in (sql/ident (:id n)) ids]
                                                             :order-by [(sql/ident (:id n))]})))))))
      (testing "nothing was executed: the canary table and its row are intact"
        (is (canary-alive?))))
    (testing "dropping the hostile table left the canary alone"
      (ts/with-tables [Canary]
        (await! (v/aio-create Canary {:word "tweet"}))
        (is (canary-alive?))))))

(deftest hostile-raw-sql-parameters-test
  (testing "aio-execute-sql binds values as parameters too"
    (let [Canary (canary-model)
          ph (fn [i] (if (= ts/*backend* :postgres) (str "$" i) "?"))]
      (ts/with-tables [Canary]
        (doseq [value hostile-values]
          (await! (v/aio-execute-sql (ts/db) (str "INSERT INTO types_canary (word) VALUES (" (ph 1) ")") [value])))
        (is (= hostile-values
               (mapv :word (:rows (await! (v/aio-execute-sql (ts/db) "SELECT word FROM types_canary ORDER BY id"))))))
        (is (= [(first hostile-values)]
               (mapv :word (:rows (await! (v/aio-execute-sql (ts/db) (str "SELECT word FROM types_canary WHERE word = " (ph 1))
                                                             [(first hostile-values)]))))))))))
