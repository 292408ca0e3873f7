(ns ^:vireo/per-backend vireo.read-only-test
  "A write the server refuses because the transaction (or the server) is
  read-only is a :vireo/read-only error on every backend: PostgreSQL 25006,
  MariaDB/MySQL 1792 (1290/1836 for a read-only server: see the cluster
  sub-run), SQLite's query_only."
  (:require [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(deftest write-in-read-only-transaction-test
  (let [d (ts/db)]
    (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_ro_t"))
    (await! (v/aio-execute-sql d "CREATE TABLE vireo_ro_t (id INTEGER PRIMARY KEY, v INTEGER)"))
    (try
      (testing "a read in a read-only transaction works"
        (is (= 0 (-> (await! (v/aio-atomic d {:read-only true}
                                           (fn [_] (v/aio-execute-sql d "SELECT COUNT(*) AS n FROM vireo_ro_t"))))
                     :rows first :n long))))
      (testing "a write in one is a typed :vireo/read-only error, an operational error (peewee's OperationalError)"
        (let [e (error-of #(v/aio-atomic d {:read-only true}
                                         (fn [_] (v/aio-execute-sql d "INSERT INTO vireo_ro_t (id, v) VALUES (1, 1)"))))]
          (is (v/error-type? e :vireo/read-only) (pr-str e))
          (is (v/error-type? e :vireo/operational-error))
          (is (= "INSERT INTO vireo_ro_t (id, v) VALUES (1, 1)" (:sql (ex-data e))))))
      (testing "nothing was written, and the next transaction writes"
        (await! (v/aio-atomic d (fn [_] (v/aio-execute-sql d "INSERT INTO vireo_ro_t (id, v) VALUES (2, 2)"))))
        (is (= [2] (mapv (comp long :id) (:rows (await! (v/aio-execute-sql d "SELECT id FROM vireo_ro_t")))))))
      (finally (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_ro_t"))))))
