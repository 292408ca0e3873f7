(ns ^:vireo/per-backend vireo.pool-test
  "Pool lifecycle: deferred databases, proxies, settings that reach Vert.x,
  the acquire timeout, leak counting cross-checked with the server, and
  optional leak detection."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [clojure.tools.logging :as log]
            [vireo.core :as v]
            [vireo.impl.backend :as backend]
            [vireo.promise :as p]
            [vireo.sync]
            [vireo.test-support :as ts :refer [await! error-of]]))

(defn- deferred-db []
  (case ts/*backend*
    :postgres (v/postgresql-database {:max-size 2})
    :mysql (v/mysql-database {:max-size 2})
    :sqlite (v/sqlite-database nil {:max-size 2})))

(deftest deferred-database-test
  (let [d (deferred-db)]
    (try
      (testing "a database without a name fails clearly until init!"
        (let [e (error-of #(v/aio-execute-sql d "SELECT 1"))]
          (is (= :vireo/not-initialized (v/error-type e)) "its own type")
          (is (v/error-type? e :vireo/interface-error) "still an interface error")
          (is (str/includes? (ex-message e) "must be initialized"))
          (is (str/includes? (ex-message e) "init!")))
        (is (= :vireo/not-initialized (v/error-type (error-of #(v/aio-connect d)))))
        (v/with-allow-sync d
          (is (= :vireo/not-initialized (v/error-type (error-of #(vireo.sync/execute-sql d "SELECT 1"))))
              "a sync call gets the same error"))
        (is (not (v/connected? d))))
      (testing "init! completes it"
        (v/init! d (second (backend/parse-url (ts/url ts/*backend*))))
        (is (= [{:one 1}] (:rows (await! (v/aio-execute-sql d "SELECT 1 AS one")))))
        (is (= 2 (:max-size (v/pool-options d))) "earlier options are kept"))
      (testing "init! on a connected database is refused"
        (is (v/error-type? (error-of #(v/init! d {:max-size 3})) :vireo/interface-error)))
      (finally (await! (v/aio-close d))))))

(deftest proxy-test
  (let [px (v/database-proxy)
        Item (v/model 'Item {:database px :fields {:name {:type :char :max-length 40}}})]
    (testing "a model bound to an uninitialized proxy fails clearly"
      (let [e (error-of #(v/aio-get-or-none Item {:name "x"}))]
        (is (v/error-type? e :vireo/interface-error))
        (is (str/includes? (ex-message e) "proxy is not initialized"))
        (is (= :vireo/not-initialized (v/error-type e)))))
    (testing "after initialize-proxy! the model works on the real database"
      (v/initialize-proxy! px (ts/db))
      (v/with-allow-sync px (v/drop-table! Item {:safe true}) (v/create-table! Item))
      (try
        (is (= "x" (:name (await! (v/aio-create Item {:name "x"})))))
        (is (= 1 (count (await! (v/aio-execute px {:select [:*] :from :item})))))
        (is (= :ok (await! (v/aio-atomic px (fn [_] :ok)))))
        (finally (v/with-allow-sync px (v/drop-table! Item {:safe true})))))))

(deftest max-size-and-acquire-timeout-test
  (let [d (ts/new-db ts/*backend* {:max-size 2 :connection-timeout 300})]
    (try
      (is (= {:max-size 2 :connection-timeout 300} (select-keys (v/pool-options d) [:max-size :connection-timeout])))
      (let [release (p/promise) holding (atom 0) both (p/promise)
            hold #(v/aio-connection d (fn [_] (when (= 2 (swap! holding inc)) (p/resolve! both nil)) release))
            held [(hold) (hold)]]
        (await! both)
        (is (= 2 (v/checked-out d)))
        (testing "a third acquire waits at most :connection-timeout and fails clearly"
          (let [e (error-of #(v/aio-execute-sql d "SELECT 1"))]
            (is (v/error-type? e :vireo/timeout) (pr-str e))
            (is (v/error-type? e :vireo/operational-error))))
        (p/resolve! release nil)
        (await! (p/all held))
        (is (zero? (v/checked-out d)))
        (is (= [{:one 1}] (:rows (await! (v/aio-execute-sql d "SELECT 1 AS one"))))))
      (finally (await! (v/aio-close d))))))

(deftest leak-count-matches-server-test
  (let [d (ts/new-db ts/*backend*)
        server-count (fn []
                       (case ts/*backend*
                         :postgres (-> (await! (v/aio-execute-sql (ts/db) "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'")) :rows first :n)
                         ;; innodb_trx is a cache refreshed at most every 100 ms
                         ;; innodb_trx is a cache refreshed at most every 100 ms: polled below
                         :mysql (-> (await! (v/aio-execute-sql (ts/db) "SELECT count(*) AS n FROM information_schema.innodb_trx")) :rows first :n)
                         :sqlite nil))]
    (try
      (let [release (p/promise) n (atom 0) all-in (p/promise)
            ;; on SQLite writing transactions serialize (BEGIN IMMEDIATE): hold readers
            opts (if (= ts/*backend* :sqlite) {:read-only true} {})
            txs (doall (repeatedly 3 #(v/aio-atomic d opts (fn [_]
                                                         ;; a read of an InnoDB table registers the transaction in innodb_trx
                                                         (p/let [_ (v/aio-execute-sql d (if (= ts/*backend* :mysql)
                                                                                          "SELECT count(*) FROM mysql.innodb_table_stats"
                                                                                          "SELECT 1"))]
                                                           (when (= 3 (swap! n inc)) (p/resolve! all-in nil))
                                                           release)))))]
        (await! all-in)
        (is (= 3 (v/checked-out d)))
        (when-not (= ts/*backend* :sqlite)
          (is (ts/wait-until #(= 3 (server-count)) 3000) "the server sees the same three sessions in a transaction"))
        (p/resolve! release nil)
        (await! (p/all txs))
        (is (zero? (v/checked-out d)))
        (when-not (= ts/*backend* :sqlite)
          (is (ts/wait-until #(zero? (server-count)) 3000))))
      (finally (await! (v/aio-close d))))))

(deftest leak-detection-test
  (let [logged (atom [])
        factory (ts/capturing-logger-factory logged "vireo.pool" :warn)
        d (ts/new-db ts/*backend* {:leak-detection-threshold 100})
        old log/*logger-factory*]
    (alter-var-root #'log/*logger-factory* (constantly factory))
    (try
      (await! (v/aio-connection d (fn [_] (p/delay 400))))
      (await! (v/aio-connection d (fn [_] (p/delay 10))))
      ;; the second one is back: its timer will find it released, so no warning can follow
      (is (ts/wait-until #(seq @logged) 30000))
      (is (= 1 (count @logged)) "only the connection held too long is reported")
      (let [[_ _ ^Throwable e msg] (first @logged)]
        (is (str/includes? (str msg) "held for more than 100 ms"))
        (is (some #(str/includes? (.getClassName ^StackTraceElement %) "vireo.pool_test") (.getStackTrace e))
            "the warning carries the stack of whoever acquired it"))
      (finally
        (alter-var-root #'log/*logger-factory* (constantly old))
        (await! (v/aio-close d))))))

(deftest ^{:backends #{:sqlite}} fresh-sqlite-file-concurrent-first-use-test
  ;; a new file's first connections all switch it to WAL; opened at the same
  ;; moment, SQLite answered one of them SQLITE_BUSY without waiting (the
  ;; pool now opens the file once, alone, first)
  (dotimes [i 5]
    (let [f (java.io.File/createTempFile "vireo-fresh" ".db")
          path (.getPath f)]
      (.delete f)
      (let [d (v/sqlite-database path {:max-size 4})]
        (try
          (let [rows (await! (p/all (vec (repeatedly 8 #(v/aio-execute-sql d "SELECT 1 AS x")))))]
            (is (= 8 (count rows)) (str "round " i))
            (is (every? #(= [{:x 1}] (:rows %)) rows)))
          (is (= "wal" (-> (await! (v/aio-execute-sql d "PRAGMA journal_mode")) :rows first vals first str)))
          (finally
            (await! (v/aio-close d))
            (doseq [suffix ["" "-wal" "-shm"]] (.delete (java.io.File. (str path suffix))))))))))
