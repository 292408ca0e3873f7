(ns vireo.cluster.standby-test
  "A PostgreSQL hot standby (bin/cluster-servers: pg_basebackup -R of the TLS
  primary): reads work there, a write is a typed :vireo/read-only error
  (SQLSTATE 25006), like a write in a read-only transaction."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(defn- port [k] (parse-long (System/getenv k)))

(defn- pg [port-var]
  (v/postgresql-database {:host "localhost" :port (port port-var) :database "vireo_tls" :user "postgres"
                          :ssl-mode :require :max-size 2}))

(defn- rows [d sql] (:rows (await! (v/aio-execute-sql d sql))))

(deftest standby-is-read-only-test
  (if-not (System/getenv "VIREO_CLUSTER_STANDBY_PORT")
    (ts/skip! "the cluster servers are not running (bin/test's cluster sub-run starts them)")
    (let [primary (pg "VIREO_CLUSTER_PG_PORT")
          standby (pg "VIREO_CLUSTER_STANDBY_PORT")]
      (try
        (await! (v/aio-execute-sql primary "DROP TABLE IF EXISTS standby_t"))
        (await! (v/aio-execute-sql primary "CREATE TABLE standby_t (id INTEGER PRIMARY KEY)"))
        (await! (v/aio-execute-sql primary "INSERT INTO standby_t (id) VALUES (1)"))
        (testing "the standby is in recovery and replays the primary's writes"
          (is (true? (:r (first (rows standby "SELECT pg_is_in_recovery() AS r"))))))
        (is (ts/wait-until #(try (= [{:id 1}] (rows standby "SELECT id FROM standby_t"))
                                 (catch Exception _ false))
                           30000)
            "the row reached the standby")
        (testing "a write there is a typed read-only error, with the server's SQLSTATE"
          (let [e (error-of #(v/aio-execute-sql standby "INSERT INTO standby_t (id) VALUES (2)"))]
            (is (v/error-type? e :vireo/read-only) (pr-str e))
            (is (= "25006" (:sql-state (ex-data e))))
            (is (str/includes? (ex-message e) "read-only transaction"))))
        (testing "inside aio-atomic too"
          (let [e (error-of #(v/aio-atomic standby (fn [_] (v/aio-execute-sql standby "DELETE FROM standby_t"))))]
            (is (v/error-type? e :vireo/read-only) (pr-str e))))
        (finally
          (await! (v/aio-execute-sql primary "DROP TABLE IF EXISTS standby_t"))
          (await! (v/aio-close primary))
          (await! (v/aio-close standby)))))))
