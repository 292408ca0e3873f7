(ns vireo.cluster.failover-test
  "Several hosts with a target server type, against a real primary and hot
  standby (bin/cluster-servers' failover pair): reads and writes go where
  the target says (asserted with the port of the server that answered); the
  primary dies and its standby is promoted (bin/cluster-servers failover):
  the pool follows, and the time to the first successful write is reported."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(defn- port [k] (parse-long (System/getenv k)))

(defn- db [target]
  (v/postgresql-database {:hosts [(str "127.0.0.1:" (port "VIREO_CLUSTER_FO_PRIMARY_PORT"))
                                  (str "127.0.0.1:" (port "VIREO_CLUSTER_FO_STANDBY_PORT"))]
                          :target-server-type target :database "postgres" :max-size 2}))

(defn- served-by [d]
  (long (:p (first (:rows (await! (v/aio-execute-sql d "SELECT inet_server_port() AS p")))))))

(defn- failover! []
  (let [p (-> (ProcessBuilder. ^"[Ljava.lang.String;" (into-array String ["bash" "bin/cluster-servers" "failover"
                                                                      (System/getenv "VIREO_CLUSTER_DIR")]))
              (.inheritIO)
              (.start))]
    (is (zero? (.waitFor p)) "bin/cluster-servers failover")))

(deftest failover-test
  (if-not (System/getenv "VIREO_CLUSTER_FO_PRIMARY_PORT")
    (ts/skip! "the cluster servers are not running (bin/test's cluster sub-run starts them)")
    (let [primary-port (port "VIREO_CLUSTER_FO_PRIMARY_PORT")
          standby-port (port "VIREO_CLUSTER_FO_STANDBY_PORT")
          writer (db :primary)
          reader (db :standby)
          preferring (db :prefer-standby)
          any (db :any)]
      (try
        (await! (v/aio-execute-sql writer "CREATE TABLE IF NOT EXISTS fo_t (id SERIAL PRIMARY KEY, note TEXT)"))
        (testing "each target reaches the server it names"
          (is (= primary-port (served-by writer)))
          (is (= standby-port (served-by reader)))
          (is (= standby-port (served-by preferring)))
          (is (= primary-port (served-by any)) ":any takes the first host that answers"))
        (testing "a write through the standby target is a typed read-only error"
          (is (v/error-type? (error-of #(v/aio-execute-sql reader "INSERT INTO fo_t (note) VALUES ('x')"))
                             :vireo/read-only)))
        (testing "the primary dies, its standby is promoted: the writer's pool follows"
          (let [t0 (System/nanoTime)
                _ (failover!)
                wrote (ts/wait-until #(try (await! (v/aio-execute-sql writer "INSERT INTO fo_t (note) VALUES ('after')"))
                                           true
                                           (catch Exception _ false))
                                     60000)
                ms (/ (- (System/nanoTime) t0) 1e6)]
            (is wrote "a write succeeded after the failover")
            (println (format "  failover: first successful write %.0f ms after the primary was stopped" ms))
            (is (= standby-port (served-by writer)) "the new primary is the old standby")))
        (testing "with no standby left, :standby fails typed, naming what each host answered"
          (let [e (error-of #(v/aio-execute-sql (db :standby) "SELECT 1"))]
            (is (v/error-type? e :vireo/connection-error) (pr-str e))
            (is (str/includes? (str (ex-message e)) "could not connect to a standby server"))
            (is (str/includes? (str (ex-message e)) (str "127.0.0.1:" standby-port " is a primary")))))
        (testing ":prefer-standby falls back to the primary"
          (let [d (db :prefer-standby)]
            (try (is (= standby-port (served-by d)))
                 (finally (await! (v/aio-close d))))))
        (finally
          (doseq [d [writer reader preferring any]] (await! (v/aio-close d))))))))
