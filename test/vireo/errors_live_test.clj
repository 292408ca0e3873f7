(ns ^:vireo/per-backend vireo.errors-live-test
  "The driver-error mappings of docs/errors.md, raised for real on every
  backend: CHECK violations from field and model :constraints, data errors
  (a value of the wrong type or out of range), and the SQL and parameters
  every such error and the model-level does-not-exist carry."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.test-support :as ts :refer [await! error-of]]))

(deftest check-violation-test
  (let [Person (ts/model 'EPerson {:table "eperson"
                                   :fields [:born {:type :integer :constraints [[:check [:> :born 0]]]}
                                            :died {:type :integer :null true}]
                                   :constraints [[:check [:or [:= :died nil] [:>= :died :born]]]]})]
    (ts/with-tables [Person]
      (is (pos-int? (:id (await! (v/aio-create Person {:born 1900 :died 1980})))))
      (testing "a field's [[:check …]] constraint (the docs' example) is enforced and mapped"
        (let [e (error-of #(v/aio-create Person {:born -5}))
              data (ex-data e)]
          (is (v/error-type? e :vireo/check-violation))
          (is (v/error-type? e :vireo/integrity-error))
          (is (str/starts-with? (:sql data) "INSERT INTO"))
          (is (= [-5] (:params data)))
          (is (= "EPerson" (:model data)))
          (is (= (case ts/*backend* :postgres ["23514" nil] :mysql [nil 4025] :sqlite [nil "SQLITE_CONSTRAINT_CHECK"])
                 [(when (= ts/*backend* :postgres) (:sql-state data))
                  (case ts/*backend* :postgres nil :mysql (:error-code data) :sqlite (:sqlite-code data))])
              "the code docs/errors.md lists")))
      (testing "a model-level (table) CHECK constraint too"
        (let [e (error-of #(v/aio-create Person {:born 1900 :died 1800}))]
          (is (v/error-type? e :vireo/check-violation))
          (is (= [1900 1800] (:params (ex-data e))))))
      (testing "on update as well; nothing was written"
        (let [e (error-of #(v/aio-execute (v/update Person {:born 0})))]
          (is (v/error-type? e :vireo/check-violation)))
        (is (= [[1900 1980]] (await! (v/aio-execute (v/as-vectors (v/select Person :born :died))))))))))

(defn- data-error? [e sql-part params]
  (let [data (ex-data e)]
    (is (v/error-type? e :vireo/data-error) (pr-str (select-keys data [:type :sql-state :error-code :sqlite-code :driver-message])))
    (is (str/includes? (str (:sql data)) sql-part))
    (is (= params (:params data)))))

(deftest data-error-test
  (let [Num (ts/model 'ENum {:table "enum_values" :fields [:n {:type :integer} :label {:type :char :max-length 5 :null true}]})]
    (ts/with-tables [Num]
      (testing "a value the field cannot hold is refused before it is sent (Vireo's own check)"
        (let [e (error-of #(v/aio-create Num {:n 2147483648}))]
          (is (v/error-type? e :vireo/data-error))
          (is (= ["ENum" :n] ((juxt :model :field) (ex-data e))))))
      ;; the driver-raised ones, through SQL Vireo does not check
      (case ts/*backend*
        :postgres
        (do (testing "SQLSTATE 22012: division by zero"
              (data-error? (error-of #(v/aio-execute-sql (ts/db) "SELECT 1 / $1::int AS x" [0])) "SELECT 1 /" [0]))
            (testing "SQLSTATE 22003: numeric value out of range"
              (let [e (error-of #(v/aio-execute-sql (ts/db) "INSERT INTO enum_values (n) VALUES ($1::bigint * 4)" [2147483647]))]
                (data-error? e "INSERT INTO" [2147483647])
                (is (= "22003" (:sql-state (ex-data e))))))
            (testing "SQLSTATE 22001: a string too long for VARCHAR(5)"
              (let [e (error-of #(v/aio-execute-sql (ts/db) "INSERT INTO enum_values (n, label) VALUES ($1, $2)" [1 "too long"]))]
                (data-error? e "INSERT INTO" [1 "too long"])
                (is (= "22001" (:sql-state (ex-data e))))))
            (testing "SQLSTATE 22P02: text that is not an integer"
              (let [e (error-of #(v/aio-execute-sql (ts/db) "SELECT CAST($1::text AS integer) AS x" ["abc"]))]
                (data-error? e "CAST" ["abc"])
                (is (= "22P02" (:sql-state (ex-data e)))))))
        :mysql
        (do (testing "1264 (strict mode): a value out of the column's range"
              (let [e (error-of #(v/aio-execute-sql (ts/db) "INSERT INTO enum_values (n) VALUES (?)" [2147483648]))]
                (data-error? e "INSERT INTO" [2147483648])
                (is (= 1264 (:error-code (ex-data e))))))
            (testing "1366 (strict mode): text that is not an integer"
              (let [e (error-of #(v/aio-execute-sql (ts/db) "INSERT INTO enum_values (n) VALUES (?)" ["abc"]))]
                (data-error? e "INSERT INTO" ["abc"])
                (is (= 1366 (:error-code (ex-data e))))))
            (testing "1406: a string too long for VARCHAR(5)"
              (let [e (error-of #(v/aio-execute-sql (ts/db) "INSERT INTO enum_values (n, label) VALUES (?, ?)" [1 "too long"]))]
                (data-error? e "INSERT INTO" [1 "too long"])
                (is (= 1406 (:error-code (ex-data e)))))))
        :sqlite
        (do (testing "SQLITE_MISMATCH: a rowid that is not an integer"
              (let [e (error-of #(v/aio-execute-sql (ts/db) "INSERT INTO enum_values (id, n) VALUES (?, 1)" ["abc"]))]
                (data-error? e "INSERT INTO" ["abc"])
                (is (= "SQLITE_MISMATCH" (:sqlite-code (ex-data e))))))
            (testing "SQLITE_TOOBIG: a blob beyond SQLite's length limit"
              (let [e (error-of #(v/aio-execute-sql (ts/db) "SELECT zeroblob(?) AS b" [2000000000]))]
                (data-error? e "zeroblob" [2000000000])
                (is (= "SQLITE_TOOBIG" (:sqlite-code (ex-data e))))))))
      (is (= 0 (await! (v/aio-count (v/select Num)))) "no row was written"))))

(deftest model-get-does-not-exist-test
  (let [Num (ts/model 'ENum {:table "enum_values" :fields [:n {:type :integer}]})]
    (ts/with-tables [Num]
      (testing "aio-get by key, map or where vector: the model, the filter, the SQL and its parameters"
        (doseq [[filter params] [[42 [42 1]] [{:n 7} [7 1]] [[:> :n 9] [9 1]]]]
          (let [e (error-of #(v/aio-get Num filter))
                data (ex-data e)]
            (is (v/error-type? e :vireo/does-not-exist))
            (is (= "ENum" (:model data)))
            (is (= filter (:filter data)))
            (is (str/starts-with? (:sql data) "SELECT"))
            (is (str/includes? (:sql data) "enum_values"))
            (is (= params (:params data)))
            (is (str/includes? (ex-message e) "ENum instance matching query does not exist"))
            (is (str/includes? (ex-message e) "SQL: SELECT"))))))))
