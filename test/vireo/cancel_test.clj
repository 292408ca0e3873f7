(ns ^:vireo/per-backend vireo.cancel-test
  "Cancelling on the server: a per-operation {:timeout ms} and a cancelled
  future stop the running statement on the server (PostgreSQL's cancel
  request, MariaDB's KILL QUERY, SQLite's interrupt) — it vanishes from
  pg_stat_activity / the processlist — the connection is reusable
  afterwards, and a transaction that times out is rolled back, while one
  whose COMMIT was already sent gets the COMMIT's outcome instead."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.testing :as vt]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(defn- long-sql
  "A statement that runs until cancelled (about a minute at most), tagged
  with `tag` so the server's activity views can find it."
  [tag]
  (case ts/*backend*
    :postgres (str "SELECT pg_sleep(60) AS s /* " tag " */")
    ;; SLEEP() interrupted by KILL QUERY returns 1 without an error when it is
    ;; the whole query: add a row source so the interruption is an error
    :mysql (str "SELECT SLEEP(60) AS s FROM (SELECT 1 AS x) t /* " tag " */")
    ;; an endless recursive count: only an interrupt ends it
    :sqlite (str "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS s FROM c /* " tag " */")))

(defn- running
  "How many sessions of the server still run the statement tagged `tag`, seen
  from `probe` (nil on SQLite, which has no such view)."
  [probe tag]
  (case ts/*backend*
    :postgres (long (:n (first (:rows (await! (v/aio-execute-sql
                                               probe
                                               (str "SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active'"
                                                    " AND query LIKE '%" tag "%' AND query NOT LIKE '%pg_stat_activity%'")))))))
    :mysql (long (:n (first (:rows (await! (v/aio-execute-sql
                                            probe
                                            (str "SELECT count(*) AS n FROM information_schema.processlist WHERE info LIKE '%"
                                                 tag "%' AND info NOT LIKE '%processlist%'")))))))
    :sqlite nil))

(defn- started?
  "True once the tagged statement runs on the server (SQLite has no view of
  it: true at once — a cancel that comes before the statement runs is sent
  again until it ends)."
  [probe tag]
  (or (= :sqlite ts/*backend*) (pos? (long (running probe tag)))))

(defn- one [d]
  (long (:one (first (:rows (await! (v/aio-execute-sql d "SELECT 1 AS one")))))))

(defn- count-rows [d table]
  (long (:n (first (:rows (await! (v/aio-execute-sql d (str "SELECT count(*) AS n FROM " table))))))))

(defn- gone!
  "Asserts the tagged statement is no longer running on the server and the
  database `d` (a pool of one connection) can run a statement again."
  [probe d tag]
  (when-not (= :sqlite ts/*backend*)
    (is (ts/wait-until #(zero? (long (running probe tag))) 20000) "the statement is gone from the server"))
  ;; the pool's only connection: it would still be running the endless
  ;; statement had the server not stopped it
  (is (= 1 (one d)) "the connection is reusable")
  (is (ts/wait-until #(zero? (v/checked-out d)) 20000)))

(defn- with-dbs [f]
  (let [d (ts/new-db ts/*backend* {:max-size 1})
        probe (when-not (= :sqlite ts/*backend*) (ts/new-db ts/*backend* {:max-size 1}))]
    (try (f d probe)
         (finally
           (await! (v/aio-close d))
           (when probe (await! (v/aio-close probe)))))))

(deftest a-timeout-cancels-the-statement-on-the-server-test
  (with-dbs
    (fn [d probe]
      (testing "a statement on the pool"
        (let [sql (long-sql "vireo-cancel-a")
              e (error-of #(v/aio-execute-sql d sql [] {:timeout 300}))]
          (is (v/error-type? e :vireo/timeout) (pr-str e))
          (is (= 300 (:timeout-ms (ex-data e))))
          (is (= "aio-execute-sql" (:operation (ex-data e))))
          (is (= sql (:sql (ex-data e))) "the error names the statement that was running")
          (gone! probe d "vireo-cancel-a")))
      (testing "an operation that completes in time is not affected"
        (is (= [{:one 1}] (:rows (await! (v/aio-execute-sql d "SELECT 1 AS one" [] {:timeout 20000}))))))
      (testing "bad values are refused by name"
        (doseq [bad [0 -5 1.5 "300"]]
          (let [e (error-of #(v/aio-execute-sql d "SELECT 1" [] {:timeout bad}))]
            (is (v/error-type? e :vireo/interface-error))
            (is (str/includes? (str (ex-message e)) ":timeout must be a positive number of milliseconds"))))))))

(deftest cancelling-the-future-cancels-the-statement-on-the-server-test
  (with-dbs
    (fn [d probe]
      (testing "outside any scope"
        (let [f (v/aio-execute-sql d (long-sql "vireo-cancel-b"))]
          (is (ts/wait-until #(started? probe "vireo-cancel-b") 20000))
          (is (true? (.cancel ^java.util.concurrent.CompletableFuture f true)))
          (gone! probe d "vireo-cancel-b")))
      (testing "inside an aio-connection scope: its connection is usable afterwards"
        (let [started (p/promise)
              inner (atom nil)
              scope (v/aio-connection d (fn [_]
                                          (let [f (v/aio-execute-sql d (long-sql "vireo-cancel-c"))]
                                            (reset! inner f)
                                            (p/resolve! started true)
                                            (p/handle f (fn [_ _] (v/aio-execute-sql d "SELECT 2 AS two"))))))]
          (await! started)
          (is (ts/wait-until #(started? probe "vireo-cancel-c") 20000))
          (.cancel ^java.util.concurrent.CompletableFuture @inner true)
          (is (= [{:two 2}] (:rows (await! scope))) "the scope's next statement runs on the same connection")
          (gone! probe d "vireo-cancel-c"))))))

(deftest a-transaction-timeout-rolls-back-test
  (with-dbs
    (fn [d probe]
      (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_cancel_t"))
      (await! (v/aio-execute-sql d "CREATE TABLE vireo_cancel_t (id INTEGER PRIMARY KEY)"))
      (try
        (testing "the statement running when the whole transaction's time is up"
          (let [e (error-of #(v/aio-atomic d {:timeout 500}
                                           (fn [_]
                                             (p/then (v/aio-execute-sql d "INSERT INTO vireo_cancel_t (id) VALUES (1)")
                                                     (fn [_] (v/aio-execute-sql d (long-sql "vireo-cancel-d")))))))]
            (is (v/error-type? e :vireo/timeout) (pr-str e))
            (is (= "aio-atomic" (:operation (ex-data e))))
            (gone! probe d "vireo-cancel-d")
            (is (zero? (count-rows d "vireo_cancel_t")) "nothing was committed")))
        (testing "a body waiting on something else: its later statements never run"
          ;; what it waits on completes only after the timeout failed it
          (let [gate (p/promise)
                e (error-of #(v/aio-transaction d {:timeout 300}
                                                (fn [_]
                                                  (p/then gate
                                                          (fn [_] (v/aio-execute-sql d "INSERT INTO vireo_cancel_t (id) VALUES (2)"))))))]
            (p/resolve! gate true)
            (is (v/error-type? e :vireo/timeout) (pr-str e))
            (is (ts/wait-until #(zero? (v/checked-out d)) 20000) "the transaction ended and gave its connection back")
            (is (zero? (count-rows d "vireo_cancel_t")))))
        (testing "the database's :transaction-timeout: the default of every outermost transaction"
          (let [td (ts/new-db ts/*backend* {:max-size 1 :transaction-timeout 300})]
            (try
              (let [e (error-of #(v/aio-atomic td (fn [_]
                                                    (p/then (v/aio-execute-sql td "INSERT INTO vireo_cancel_t (id) VALUES (4)")
                                                            (fn [_] (v/aio-execute-sql td (long-sql "vireo-cancel-f")))))))]
                (is (v/error-type? e :vireo/timeout) (pr-str e))
                (is (= 300 (:timeout-ms (ex-data e))))
                (gone! probe td "vireo-cancel-f")
                (is (zero? (count-rows td "vireo_cancel_t"))))
              (testing "an operation's own :timeout wins"
                (is (= [{:one 1}] (:rows (await! (v/aio-atomic td {:timeout 20000}
                                                               (fn [_] (v/aio-execute-sql td "SELECT 1 AS one"))))))))
              (finally (await! (v/aio-close td)))))
          (doseq [bad [0 -1 2.5 "300"]]
            (is (str/includes? (str (ex-message (error-of #(ts/new-db ts/*backend* {:transaction-timeout bad}))))
                               ":transaction-timeout must be a positive number of milliseconds"))))
        (testing "a nested operation's own timeout fails only that operation"
          (let [r (await! (v/aio-atomic d (fn [_]
                                            (p/let [_ (v/aio-execute-sql d "INSERT INTO vireo_cancel_t (id) VALUES (3)")
                                                    e (p/catch (v/aio-execute-sql d (long-sql "vireo-cancel-e") [] {:timeout 300})
                                                               identity)]
                                              (v/error-type? e :vireo/timeout)))))]
            ;; PostgreSQL's transaction is aborted by the cancelled statement,
            ;; so its COMMIT reports the rollback; MariaDB and SQLite go on
            (is (true? r))
            (gone! probe d "vireo-cancel-e")))
        (finally
          (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_cancel_t")))))))

(deftest a-commit-already-sent-is-not-cancelled-test
  (with-dbs
    (fn [d _]
      (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_cancel_c"))
      (await! (v/aio-execute-sql d "CREATE TABLE vireo_cancel_c (id INTEGER PRIMARY KEY)"))
      (try
        ;; the COMMIT is held back 1.5 s: the 300 ms timeout fires while it is
        ;; on its way, and the transaction's outcome is the COMMIT's
        (vt/with-faults d [{:sql "COMMIT" :delay-ms 1500 :times 1}]
          (let [f (v/aio-atomic d {:timeout 300}
                                (fn [_] (v/aio-execute-sql d "INSERT INTO vireo_cancel_c (id) VALUES (1)")))]
            (is (= 1 (long (:row-count (await! f)))) "the transaction committed and says so")))
        (is (= 1 (count-rows d "vireo_cancel_c")))
        (testing "and cancelling it then is refused"
          (vt/with-faults d [{:sql "COMMIT" :delay-ms 1000 :times 1}]
            (let [f (v/aio-atomic d (fn [_] (v/aio-execute-sql d "INSERT INTO vireo_cancel_c (id) VALUES (2)")))]
              (is (ts/wait-until #(pos? (long (vt/fault-hits d))) 20000) "the COMMIT is on its way")
              (is (false? (.cancel ^java.util.concurrent.CompletableFuture f true)))
              (await! f)))
          (is (= 2 (count-rows d "vireo_cancel_c"))))
        (finally
          (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_cancel_c")))))))

(deftest an-operation-cancelled-before-it-was-sent-never-runs-test
  (with-dbs
    (fn [d _]
      (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_cancel_q"))
      (await! (v/aio-execute-sql d "CREATE TABLE vireo_cancel_q (id INTEGER PRIMARY KEY)"))
      (try
        ;; the first statement of the scope is held back 1 s: the insert queued
        ;; behind it is cancelled meanwhile
        (vt/with-faults d [{:sql "SELECT 1 AS one /* held */" :delay-ms 1000 :times 1}]
          (let [queued (atom nil)
                scope (v/aio-connection d (fn [_]
                                            (let [first-op (v/aio-execute-sql d "SELECT 1 AS one /* held */")]
                                              (reset! queued (v/aio-execute-sql d "INSERT INTO vireo_cancel_q (id) VALUES (1)"))
                                              first-op)))]
            (is (ts/wait-until #(pos? (long (vt/fault-hits d))) 20000) "the first statement is held")
            (is (true? (.cancel ^java.util.concurrent.CompletableFuture @queued true)))
            (is (= [{:one 1}] (:rows (await! scope))))))
        (is (zero? (count-rows d "vireo_cancel_q")) "the cancelled insert was never sent")
        (finally
          (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_cancel_q")))))))

(deftest a-long-block-holds-only-its-running-operations-test
  ;; a block's scope does not keep the operations that ended (it drops them
  ;; as it grows), and cancelling it still reaches the one running
  (with-dbs
    (fn [d probe]
      (let [sizes (atom [])
            tag "vireo-cancel-many"
            started (promise)
            block (v/aio-connection
                   d (fn [_]
                       (let [scope vireo.impl.cancel/*scope*]
                         (letfn [(step [i]
                                   (swap! sizes conj (alength ^objects (.snapshot ^vireo.impl.cancel.IScope scope)))
                                   (if (< i 300)
                                     (p/then (v/aio-execute-sql d "SELECT 1 AS one") (fn [_] (step (inc i))))
                                     (do (deliver started true)
                                         (v/aio-execute-sql d (long-sql tag)))))]
                           (step 0)))))]
        (is (deref started 60000 false) "300 operations ran in the block")
        (is (<= (apply max @sizes) 16) (str "members held at most: " (apply max @sizes)))
        (is (ts/wait-until #(or (nil? probe) (= 1 (running probe tag))) 20000) "the long statement runs")
        (is (true? (.cancel ^java.util.concurrent.CompletableFuture block true)))
        (is (ts/wait-until #(or (nil? probe) (zero? (running probe tag))) 20000)
            "cancelling the block cancelled its running statement on the server")
        (is (= [{:one 1}] (:rows (await! (v/aio-execute-sql d "SELECT 1 AS one")))) "the connection is reusable")))))
