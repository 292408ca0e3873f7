(ns vireo.testing
  "Test helpers for code that uses Vireo.

  - `with-rollback` / `aio-rollback-case` / `start-rollback-case`: run a test
    body inside a transaction that is always rolled back
  - `with-temp`: insert rows for a test, delete them afterwards
  - `inject-faults!`, `clear-faults!`, `fault-hits`, `with-faults`: fail or
    delay chosen statements (BEGIN, COMMIT, ROLLBACK, any SQL) before they
    are sent, to test what happens to a transaction and its connection

  Unlike peewee-async's TransactionTestCase, code under test that uses
  transactions keeps working inside the test case: `aio-atomic` and
  `aio-transaction` become savepoints of the test transaction, so even
  get-or-create style code runs, and is still rolled back at the end."
  (:require [vireo.core :as vireo]
            [vireo.impl.context :as ctx]
            [vireo.impl.db :as db]
            [vireo.impl.errors :as err]
            [vireo.impl.faults :as faults]
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

(defn start-rollback-case
  "Starts a rollback test case on `database` (see `aio-rollback-case`) and
  returns, once it is in force, a function of no arguments that ends it:
  waits for what the case's operations started, rolls everything back,
  releases the connection and returns nil (throwing when the case itself
  failed). For test frameworks whose set-up and tear-down are separate
  calls (JUnit's beforeEach/afterEach: io.vireo.junit.VireoRollback).

      (let [end (start-rollback-case db)]
        (try @(aio-create PageBlock {:key \"k\"})   ; rolled back by (end)
             (finally (end))))"
  [database]
  (let [started (p/promise)
        finished (p/promise)
        outcome (aio-rollback-case database
                                   (fn [_]
                                     (p/resolve! started true)
                                     finished))]
    ;; a case that fails to start (one already runs, no connection, BEGIN
    ;; failed) fails `started` too, instead of leaving it pending forever
    (p/handle outcome (fn [_ e] (when e (p/reject! started e))))
    (p/await started)
    (fn end []
      (p/resolve! finished nil)
      (p/await outcome)
      nil)))

(defn rollback-case*
  "Synchronous `aio-rollback-case`: sets the test transaction up, calls (f)
  on the calling thread (awaiting a future it returns), then rolls back and
  releases the connection, also when f throws. Returns f's value."
  [database f]
  (let [end (start-rollback-case database)
        [v e] (try [(let [r (f)] (if (p/future? r) (p/await r) r)) nil]
                   (catch Throwable t [nil t]))]
    (end)
    (if e (throw e) v)))

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

;; ---------------------------------------------------------------- fault injection
(defn inject-faults!
  "From now on, fails or delays the statements of `database` that `rules`
  match, before they are sent (replacing the rules given before). A rule:

  - :sql       the statement(s): a SQL string (equal, case and surrounding
               space aside: \"COMMIT\", \"ROLLBACK\", \"BEGIN\"), a regex,
               or a predicate of the SQL
  - :fail      true (the default without :delay-ms): the statement fails with
               a :vireo/operational-error \"injected fault\" ({:injected true})
               without being sent; or the Throwable to fail it with
  - :delay-ms  sends it (or fails it, with :fail) that much later
  - :times     applies to that many statements, then no more (default: all)

  The first rule that matches applies. Transaction control (BEGIN, COMMIT,
  ROLLBACK, SAVEPOINT …) and the statements Vireo sends itself are matched
  like any other. Returns the database.

      (inject-faults! db [{:sql \"COMMIT\" :times 1}])
      @(aio-atomic db (fn [_] (aio-create Account {:id 1})))   ; fails: COMMIT never sent
      ;; the transaction was rolled back, the connection is clean"
  [database rules]
  (faults/inject! (ops/database-of database) rules)
  database)

(defn clear-faults!
  "Removes the fault rules of `database`. Returns the database."
  [database]
  (faults/clear! (ops/database-of database))
  database)

(defn fault-hits
  "How many statements the current rules of `database` failed or delayed."
  [database]
  (faults/hits (ops/database-of database)))

(defmacro with-faults
  "Runs body (awaiting a future it returns) with `rules` injected on `db`
  (see `inject-faults!`), clearing them afterwards, also when body throws.
  Returns body's value."
  [db rules & body]
  `(let [db# ~db]
     (inject-faults! db# ~rules)
     (try (let [r# (do ~@body)] (if (p/future? r#) (p/await r#) r#))
          (finally (clear-faults! db#)))))
