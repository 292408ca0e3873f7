(ns vireo.testing
  "Test helpers for code that uses Vireo.

  - `with-rollback` / `aio-rollback-case`: run a test body inside a transaction
    that is always rolled back
  - `with-temp`: insert rows for a test, delete them afterwards

  Unlike peewee-async's TransactionTestCase, code under test that uses
  transactions keeps working inside the test case: `aio-atomic` and
  `aio-transaction` become savepoints of the test transaction, so even
  get-or-create style code runs, and is still rolled back at the end."
  (:require [vireo.core :as vireo]
            [vireo.impl.context :as ctx]
            [vireo.impl.db :as db]
            [vireo.impl.errors :as err]
            [vireo.impl.ops :as ops]
            [vireo.promise :as p]))

(set! *warn-on-reflection* true)

(defn aio-rollback-case
  "Given a database and a function of a connection handle, runs (f handle)
  on one connection inside BEGIN … ROLLBACK. While it runs, every async
  operation on the database without an explicit handle — from any thread or
  task the body starts — runs on that connection, in the order started;
  aio-atomic / aio-transaction inside become savepoints; aio-begin is refused.
  Synchronous calls (allow-sync) use their own connection and are not rolled
  back. Future of f's result; the tables are as before afterwards."
  [database f]
  (p/do
    (let [d (ops/database-of database)]
      (when @(:override d)
        (throw (err/error :vireo/interface-error "a rollback test case is already running on this database" {})))
      (p/then (db/acquire d)
              (fn [conn]
                (let [root (ctx/new-root d conn)]
                  (-> (ctx/control root (first (ctx/begin-statements d {:read-only false})))
                      (p/then (fn [_]
                                (vreset! (:tx root) {:manual false :test-case true})
                                (reset! (:override d) root)
                                (p/do (binding [ctx/*contexts* (assoc ctx/*contexts* d root)] (f root)))))
                      (p/handle (fn [v e]
                                  (reset! (:override d) nil)
                                  ;; wait for what the body started, then undo everything
                                  (p/handle (ctx/release-root! root)
                                            (fn [_ re] (cond e (p/rejected e) re (p/rejected re) :else v))))))))))))

(defn rollback-case*
  "Synchronous `aio-rollback-case`: sets the test transaction up, calls (f)
  on the calling thread (awaiting a future it returns), then rolls back and
  releases the connection, also when f throws. Returns f's value."
  [database f]
  (let [started (p/promise)
        finished (p/promise)
        outcome (aio-rollback-case database
                                   (fn [_]
                                     (p/resolve! started true)
                                     finished))]
    (p/await (p/any [started (p/then outcome (fn [_] false))]))
    (let [[v e] (try [(let [r (f)] (if (p/future? r) (p/await r) r)) nil]
                     (catch Throwable t [nil t]))]
      (p/resolve! finished nil)
      (p/await outcome)
      (if e (throw e) v))))

(defmacro with-rollback
  "Runs body on the calling thread inside a rollback test case on `db` (see
  `aio-rollback-case`), awaiting a future it returns; rolls everything back
  afterwards and returns body's value (or throws its error).

      (with-rollback db
        @(my-service/register! db {:email \"a@b.c\"})
        (is (= 1 (count-users db))))"
  [db & body]
  `(rollback-case* ~db (fn [] ~@body)))

(defn with-temp*
  "Inserts each [model attrs] (committed), calls (f instances), then deletes
  the rows it inserted, even when f throws. Returns f's value."
  [specs f]
  (let [created (atom [])]
    (try
      (doseq [[m attrs] specs]
        (swap! created conj [m (p/await (vireo/aio-create m attrs))]))
      (let [r (f (mapv second @created))]
        (if (p/future? r) (p/await r) r))
      (finally
        (doseq [[m inst] (reverse @created)]
          (p/await (vireo/aio-delete-instance m inst)))))))

(defmacro with-temp
  "(with-temp [a [PageBlock {:key \"a\"}] b [PageBlock {:key \"b\"}]] body…)
  inserts the rows, binds the created instances, runs body and deletes the
  rows afterwards (in reverse order), also when body throws."
  [bindings & body]
  (let [pairs (partition 2 bindings)
        syms (mapv first pairs)]
    `(with-temp* ~(mapv second pairs)
       (fn [[~@syms]] ~@body))))
