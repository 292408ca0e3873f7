(ns ^:no-doc vireo.impl.stream
  "Streaming selects: an asynchronous reduce over a server-side cursor, one
  batch of rows at a time, with back-pressure, so a select of any size never
  materialises in memory.

  The rows come from the backend's RowSource (vireo.impl.protocols,
  Backend/-stream-source): a Vert.x `Cursor` on PostgreSQL and MariaDB/MySQL
  (vireo.impl.backend/cursor-source), the pooled JDBC connection's own
  ResultSet on SQLite (vireo.impl.backend.sqlite). Where a cursor needs a
  transaction (PostgreSQL's portal: the :cursor-needs-transaction trait),
  a stream outside one opens BEGIN … COMMIT (ROLLBACK on failure or cancel)
  around itself.

  The stream is one operation of the task's scope (see
  vireo.impl.context/run-as-operation): inside aio-atomic / aio-connection it
  runs on that connection after the operations started before it; outside
  it takes a connection of its own and gives it back when it ends. The
  reducing function runs with a level of its own bound, so operations it
  starts run on the stream's connection between batches."
  (:require [vireo.impl.context :as ctx]
            [vireo.impl.db :as db]
            [vireo.impl.errors :as err]
            [vireo.impl.executor :as ex]
            [vireo.impl.protocols :as proto]
            [vireo.impl.results :as results]
            [vireo.impl.routing :as routing]
            [vireo.promise :as p])
  (:import (io.vertx.core Future)
           (vireo.impl.protocols Batch)
           (java.util Iterator List)
           (java.util.concurrent CancellationException CompletableFuture CompletionException CompletionStage)
           (java.util.concurrent.atomic AtomicReference)))

(set! *warn-on-reflection* true)

(def default-fetch-size
  "Rows read per round trip when opts give no :fetch-size."
  1000)

;; ---------------------------------------------------------------- the reduce loop
(deftype ^:private Failure [^Throwable e])

(defn- outcome
  "The value of a completed future, or a Failure."
  [^CompletableFuture f]
  (try (.getNow f nil)
       (catch CompletionException e (Failure. (p/unwrap e)))
       (catch CancellationException e (Failure. e))))

(defn- async? [x] (or (instance? CompletionStage x) (instance? Future x)))

(defn- stopped-error []
  (CancellationException. "the stream's future was completed (cancelled) before the stream ended"))

(defn- reduce-source
  "Reads `src` batch by batch and folds each row, through row-fn, into the
  accumulator with rf. rf may return a future (of an accumulator or a
  `reduced`): no row is folded and no batch is read until it completes. Stops
  as soon as `result` is completed from outside (cancel). Future of the
  final accumulator; read failures are mapped by `db-error`."
  [src fetch row-fn rf init ^CompletableFuture result db-error]
  (let [out (p/promise)
        ;; the wait on rf's pending future, if any: one listener on `result`
        ;; (not one per wait, which would pile up on it) wakes it on cancel
        waiting (AtomicReference.)]
    (p/finally result (fn [_ _] (some-> ^CompletableFuture (.get waiting) (p/reject! (stopped-error)))))
    (letfn [(wait-rf [f it more?]
              (let [r (p/promise)]
                (.set waiting r)
                (when (.isDone result) (p/reject! r (stopped-error)))
                (p/handle f (fn [v e] (if e (p/reject! r e) (p/resolve! r v))))
                (p/handle r (fn [v e]
                              (.compareAndSet waiting r nil)
                              (cond
                                e (p/reject! out e)
                                (reduced? v) (p/resolve! out @v)
                                :else (drive it more? v))))))
            (drive [^Iterator it more? acc]
              (loop [^Iterator it it more? more? acc acc]
                (cond
                  (.isDone result) (p/reject! out (stopped-error))

                  (and it (.hasNext it))
                  (let [r (try (rf acc (row-fn (.next it)))
                               (catch Throwable t (Failure. t)))]
                    (cond
                      (instance? Failure r) (p/reject! out (.-e ^Failure r))
                      (reduced? r) (p/resolve! out @r)
                      (async? r) (let [f (p/->future r)]
                                   (if (.isDone f)
                                     (let [v (outcome f)]
                                       (cond (instance? Failure v) (p/reject! out (.-e ^Failure v))
                                             (reduced? v) (p/resolve! out @v)
                                             :else (recur it more? v)))
                                     (wait-rf f it more?)))
                      :else (recur it more? r)))

                  more?
                  (let [f (p/catch (p/do (proto/read! src fetch)) (fn [e] (p/rejected (db-error e))))]
                    (if (.isDone f)
                      (let [b (outcome f)]
                        (if (instance? Failure b)
                          (p/reject! out (.-e ^Failure b))
                          (recur (.iterator ^Iterable (.-rows ^Batch b)) (.-more? ^Batch b) acc)))
                      (p/handle f (fn [^Batch b e]
                                    (if e
                                      (p/reject! out e)
                                      (drive (.iterator ^Iterable (.-rows b)) (.-more? b) acc))))))

                  :else (p/resolve! out acc))))]
      (drive nil true init))
    out))

;; ---------------------------------------------------------------- entry points
(defn- fetch-size [opts]
  (let [n (get opts :fetch-size default-fetch-size)]
    (when-not (and (integer? n) (pos? n) (<= n Integer/MAX_VALUE))
      (throw (err/error :vireo/interface-error
                        (str ":fetch-size must be a positive integer, got " (pr-str n)) {:fetch-size n})))
    (long n)))

(defn reduce-rows
  "Streams the select `sql` with `params` and reduces its rows:
  (rf acc (row-fn row)) for every io.vertx.sqlclient.Row, in order, starting
  from `init`. Future of the final accumulator.

  - row-fn: Row -> value; nil means maps with kebab-case keyword keys, like
    aio-execute's rows (see vireo.impl.results/label-row-fn).
  - rf returns the next accumulator, a `reduced` (stop early), or a future
    (CompletionStage or Vert.x Future) of either: nothing more is read or
    folded until it completes — back-pressure.
  - opts: :fetch-size (rows per round trip, default 1000) and :connection (a
    handle), like other operations.

  It is one operation of the task's scope: inside aio-atomic / aio-connection
  it runs on that connection (after the operations started before it; those
  started after wait for it); outside it takes a connection of its own. On
  PostgreSQL a stream outside a transaction runs in one of its own: BEGIN …
  COMMIT, ROLLBACK if it fails or is cancelled. rf runs with the stream's
  connection as the task's: operations it starts run on it between batches
  (inside that transaction on PostgreSQL).

  Ends — cursor closed, own transaction ended, own connection returned — when
  the rows run out, rf returns a `reduced`, rf (or row-fn) throws or its
  future fails (the result then fails with that exception), a read fails
  (a Vireo error), or the returned future is cancelled (or completed from
  outside): that cleanup then happens asynchronously, after the cancel."
  [d ^String sql params opts row-fn rf init]
  (let [result (p/promise)]
    (try
      (let [fetch (fetch-size opts)
            row-fn (or row-fn (results/label-row-fn))
            ^List params (cond (nil? params) [] (instance? List params) params :else (vec params))
            b (:backend d)
            db-error (fn [e] (err/map-error e sql params {:database (db/describe d)}))
            ;; the stream is one statement of the database's executor chain
            ;; (logged and counted once); this is what runs it
            st-ref (volatile! nil)
            run (fn []
                  (-> (ctx/run-as-operation
                       d opts {:kind :stream :tx-if-none? (:cursor-needs-transaction (proto/-traits b)) :result result}
                       (fn [inner]
                         (let [src (proto/-stream-source b (:conn inner) sql params)]
                           (-> (p/catch (p/do (proto/open! src)) (fn [e] (p/rejected (db-error e))))
                               (p/then (fn [_] (reduce-source src fetch row-fn rf init result db-error)))
                               (p/handle (fn [v e]
                                           (p/handle (p/catch (p/do (proto/close! src)) (fn [ce] (p/rejected (db-error ce))))
                                                     (fn [_ ce]
                                                       (cond
                                                         (and e ce) (do (when-not (identical? e ce)
                                                                          (.addSuppressed ^Throwable e ^Throwable ce))
                                                                        (p/rejected e))
                                                         e (p/rejected e)
                                                         ce (p/rejected ce)
                                                         :else v)))))))))
                      ;; through the statement: its observers learn the outcome too
                      (p/handle (fn [v e] (ex/deliver! @st-ref v e)))))
            _ (when (= :replica (routing/op-handle opts))
                (throw (err/error :vireo/interface-error
                                  (str "aio-stream reads from the primary (its cursor holds one connection for"
                                       " the whole stream); {:route :replica} is for aio-execute reads")
                                  {:option :route})))
            st (ex/statement d sql params nil nil (:connection opts) :stream
                             (reify proto/Executor (-execute! [_ _] (run)))
                             result)]
        (vreset! st-ref st)
        (proto/-execute! (ctx/chain d) st))
      (catch Throwable t (p/reject! result t)))
    result))
