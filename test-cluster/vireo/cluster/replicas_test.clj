(ns vireo.cluster.replicas-test
  "Read replicas on a real PostgreSQL hot standby (bin/cluster-servers: the
  TLS primary and its streaming standby): reads are served by the standby,
  writes by the primary, as each server reports itself; replica lag is
  real (replay paused) and read-your-writes hides it; a read the standby
  refuses runs on the primary."
  (:require [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.test-support :as ts :refer [await!]]))

(set! *warn-on-reflection* true)

(defn- port [k] (parse-long (System/getenv k)))

(defn- pg [port-var opts]
  (v/postgresql-database (merge {:host "localhost" :port (port port-var) :database "vireo_tls" :user "postgres"
                                 :ssl-mode :require :max-size 2}
                                opts)))

(defn- row [d sql & [opts]] (first (:rows (await! (v/aio-execute-sql d sql [] (or opts {}))))))

(def ^:private Note
  {:table "replica_note" :fields {:id {:type :integer :primary-key true} :body {:type :text}}})

(deftest reads-on-the-standby-writes-on-the-primary-test
  (if-not (System/getenv "VIREO_CLUSTER_STANDBY_PORT")
    (ts/skip! "the cluster servers are not running (bin/test's cluster sub-run starts them)")
    (let [standby-port (port "VIREO_CLUSTER_STANDBY_PORT")
          primary-port (port "VIREO_CLUSTER_PG_PORT")
          ;; the standby itself, to pause and resume its replay
          standby (pg "VIREO_CLUSTER_STANDBY_PORT" {})
          replicas {:replicas [{:port standby-port}]}
          ryw (pg "VIREO_CLUSTER_PG_PORT" (assoc replicas :read-your-writes-ms 600000))
          plain (pg "VIREO_CLUSTER_PG_PORT" replicas)
          note (v/model "ReplicaNote" (assoc Note :database plain))
          note-ryw (v/model "ReplicaNote" (assoc Note :database ryw))
          where "SELECT pg_is_in_recovery() AS standby, inet_server_port() AS port"]
      (try
        (await! (v/aio-execute-sql plain "DROP TABLE IF EXISTS replica_note"))
        (await! (v/aio-execute-sql plain "DROP SEQUENCE IF EXISTS replica_seq"))
        (await! (v/aio-execute-sql plain "CREATE TABLE replica_note (id INTEGER PRIMARY KEY, body TEXT)"))
        (await! (v/aio-execute-sql plain "CREATE SEQUENCE replica_seq"))
        (is (ts/wait-until #(try (some? (row standby "SELECT to_regclass('replica_seq') AS t"))
                                 (catch Exception _ false))
                           30000)
            "the table and sequence reached the standby")
        (testing "a read is served by the standby, a transaction by the primary"
          (is (= {:standby true :port standby-port} (row plain where)))
          (is (= {:standby false :port primary-port}
                 (first (:rows (await! (v/aio-atomic plain (fn [_] (v/aio-execute-sql plain where)))))))))
        (testing "a write goes to the primary"
          (await! (v/aio-create note {:id 1 :body "one"}))
          (is (= "one" (:body (await! (v/aio-get note 1 {:route :primary}))))))
        (testing "a read the standby refuses (nextval writes) runs on the primary"
          (is (= 1 (long (:n (row plain "SELECT nextval('replica_seq') AS n"))))))
        (testing "with the standby's replay paused, it lags: read-your-writes reads the primary"
          (row standby "SELECT pg_wal_replay_pause()::text AS p")
          (is (ts/wait-until #(= "paused" (:s (row standby "SELECT pg_get_wal_replay_pause_state() AS s"))) 30000))
          (await! (v/aio-create note-ryw {:id 2 :body "two"}))
          (is (= "two" (:body (await! (v/aio-get note-ryw 2)))) "the writer's database reads its write")
          (is (= {:standby false :port primary-port} (row ryw where)))
          (is (nil? (await! (v/aio-get-or-none note 2))) "a database without the window reads the lagging standby")
          (is (= "two" (:body (await! (v/aio-get note 2 {:route :primary}))))))
        (testing "replay resumed, the standby catches up"
          (row standby "SELECT pg_wal_replay_resume()::text AS p")
          (is (ts/wait-until #(some? (await! (v/aio-get-or-none note 2))) 30000)))
        (testing "the replica's state"
          (is (= [{:up true :in-flight 0}] (mapv #(select-keys % [:up :in-flight]) (v/replicas plain)))))
        (finally
          (try (row standby "SELECT pg_wal_replay_resume()::text AS p") (catch Exception _ nil))
          (await! (v/aio-execute-sql plain "DROP TABLE IF EXISTS replica_note"))
          (await! (v/aio-execute-sql plain "DROP SEQUENCE IF EXISTS replica_seq"))
          (doseq [d [standby ryw plain]] (await! (v/aio-close d))))))))
