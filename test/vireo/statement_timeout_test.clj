(ns ^:vireo/per-backend vireo.statement-timeout-test
  "`:statement-timeout`: a per-database limit the server enforces
  (PostgreSQL's statement_timeout, MariaDB's max_statement_time, set on
  every connection): a statement running longer is cancelled by the server,
  fails with :vireo/timeout, is gone from the server's activity, and the
  connection is usable afterwards."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(defn- running
  "How many sessions are still running `needle`'s statement, seen from `probe`."
  [probe needle]
  (long (:n (first (:rows (await! (v/aio-execute-sql
                                   probe
                                   (if (= :postgres ts/*backend*)
                                     (str "SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%"
                                          needle "%' AND query NOT LIKE '%pg_stat_activity%'")
                                     (str "SELECT count(*) AS n FROM information_schema.processlist WHERE info LIKE '%"
                                          needle "%' AND info NOT LIKE '%processlist%'")))))))))

(deftest the-server-cancels-a-statement-running-too-long-test
  (if (= :sqlite ts/*backend*)
    (let [e (error-of #(ts/new-db :sqlite {:statement-timeout 100}))]
      (is (v/error-type? e :vireo/interface-error))
      (is (str/includes? (ex-message e) "SQLite has no server to enforce a statement timeout")))
    (let [d (ts/new-db ts/*backend* {:max-size 1 :statement-timeout 300})
          probe (ts/new-db ts/*backend* {:max-size 1})
          sleep (if (= :postgres ts/*backend*) "SELECT pg_sleep(20) AS s /* vireo-timeout-a */"
                    "SELECT SLEEP(20) AS s /* vireo-timeout-a */")]
      (try
        (testing "a statement on the pool"
          (let [e (error-of #(v/aio-execute-sql d sleep))]
            (is (v/error-type? e :vireo/timeout) (pr-str e))
            (is (= sleep (:sql (ex-data e)))))
          (is (ts/wait-until #(zero? (running probe "vireo-timeout-a")) 10000) "the server no longer runs it"))
        (testing "the connection is usable afterwards (a pool of one)"
          (is (= 1 (long (:one (first (:rows (await! (v/aio-execute-sql d "SELECT 1 AS one"))))))))
          (is (zero? (v/checked-out d))))
        (testing "in a transaction: the timeout fails it, it rolls back"
          (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_timeout_t"))
          (await! (v/aio-execute-sql d "CREATE TABLE vireo_timeout_t (id INTEGER PRIMARY KEY)"))
          (let [e (error-of #(v/aio-atomic d (fn [_]
                                               (v/aio-execute-sql d "INSERT INTO vireo_timeout_t (id) VALUES (1)")
                                               (v/aio-execute-sql d sleep))))]
            (is (v/error-type? e :vireo/timeout) (pr-str e)))
          (is (= 0 (long (:n (first (:rows (await! (v/aio-execute-sql d "SELECT count(*) AS n FROM vireo_timeout_t")))))))))
        (testing "bad values are refused by name"
          (doseq [bad [0 -5 1.5 "300"]]
            (is (str/includes? (str (ex-message (error-of #(ts/new-db ts/*backend* {:statement-timeout bad}))))
                               ":statement-timeout must be a positive number of milliseconds"))))
        (finally
          (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_timeout_t"))
          (await! (v/aio-close d))
          (await! (v/aio-close probe)))))))
