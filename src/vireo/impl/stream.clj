(ns ^:no-doc vireo.impl.stream
  "Streaming selects: an asynchronous reduce over a server-side cursor, one
  batch of rows at a time, with back-pressure, so a select of any size never
  materialises in memory.

  - PostgreSQL and MariaDB/MySQL: a Vert.x `Cursor` over a prepared statement
    (PostgreSQL: a named portal read with Execute(max rows); MySQL: a
    read-only cursor, COM_STMT_EXECUTE then COM_STMT_FETCH). A PostgreSQL
    portal only lives inside a transaction: without one, the stream opens
    BEGIN … COMMIT (ROLLBACK on failure or cancel) around itself.
  - SQLite: the Vert.x JDBC client has no cursor (its prepared query reads the
    whole ResultSet into one RowSet), so the stream runs its own actions on
    the pooled connection's JDBC connection, through the same ordered worker
    queue as Vert.x's own statements: one action executes the statement and
    keeps the ResultSet, each next action decodes up to fetch-size rows
    (Vert.x's JDBC decoder, into Vert.x JDBC rows), the last one closes it.

  The stream is one operation of the task's scope (see
  vireo.impl.context/run-as-operation): inside aio-atomic / aio-connection it
  runs on that connection after the operations started before it; outside
  it takes a connection of its own and gives it back when it ends. The
  reducing function runs with a level of its own bound, so operations it
  starts run on the stream's connection between batches."
  (:require [vireo.impl.context :as ctx]
            [vireo.impl.db :as db]
            [vireo.impl.errors :as err]
            [vireo.promise :as p])
  (:import (io.vertx.core Future)
           (io.vertx.core.buffer Buffer)
           (io.vertx.sqlclient Cursor PreparedStatement RowSet SqlConnection Tuple)
           (io.vertx.sqlclient.internal SqlConnectionInternal)
           (io.vertx.jdbcclient.impl ConnectionImpl JDBCRow)
           (io.vertx.jdbcclient.impl.actions CachedParameterMetaData CallableOutParams JDBCAction
                                             JDBCRowDesc JDBCStatementHelper)
           (io.vertx.jdbcclient.spi JDBCColumnDescriptorProvider JDBCDecoder JDBCEncoder)
           (java.sql ResultSet)
           (java.util ArrayList Iterator List)
           (java.util.concurrent CancellationException CompletableFuture CompletionException CompletionStage)
           (java.util.concurrent.atomic AtomicReference)))

(set! *warn-on-reflection* true)

(def default-fetch-size
  "Rows read per round trip when opts give no :fetch-size."
  1000)

;; ---------------------------------------------------------------- row sources
(deftype Batch [^Iterable rows more?])

(defprotocol RowSource
  (open! [src] "Executes the statement. Future of nil.")
  (read! [src n] "Future of the next Batch of at most n rows.")
  (close! [src] "Closes what open! opened (idempotent, also after a failed or no open). Future of nil."))

(defn- both
  "Future of nil after (a) and then (b) both ran, failing with the first
  failure (the second one suppressed)."
  [a b]
  (p/handle (p/do (a))
            (fn [_ ae]
              (p/handle (p/do (b))
                        (fn [_ be]
                          (cond (and ae be) (do (.addSuppressed ^Throwable ae ^Throwable be) (p/rejected ae))
                                (or ae be) (p/rejected (or ae be))
                                :else nil))))))

(defn- cursor-source
  "A Vert.x prepared statement and cursor (PostgreSQL, MySQL)."
  [^SqlConnection conn ^String sql ^List params]
  (let [ps (atom nil)
        cursor (atom nil)]
    (reify RowSource
      (open! [_]
        (p/map (p/from-vertx (.prepare conn sql))
               (fn [^PreparedStatement s]
                 (reset! ps s)
                 (reset! cursor (.cursor s (Tuple/from params)))
                 nil)))
      (read! [_ n]
        (let [^Cursor c @cursor]
          (p/map (p/from-vertx (.read c (int n)))
                 (fn [^RowSet rs] (Batch. rs (.hasMore c))))))
      (close! [_]
        (let [[^Cursor c] (reset-vals! cursor nil)
              [^PreparedStatement s] (reset-vals! ps nil)]
          (both #(when c (p/from-vertx (.close c)))
                #(when s (p/from-vertx (.close s)))))))))

(defn- jdbc-connection
  "The Vert.x JDBC client's connection under a pooled SqlConnection."
  ^ConnectionImpl [^SqlConnection conn]
  (loop [c (.unwrap ^SqlConnectionInternal conn) n 0]
    (cond
      (instance? ConnectionImpl c) c
      (< n 4) (recur (.unwrap ^io.vertx.sqlclient.internal.Connection c) (inc n))
      :else (throw (IllegalStateException. (str "not a Vert.x JDBC connection: " (class c)))))))

(def ^:private jdbc-helper
  ;; the encoder and decoder a JDBCPool makes with default options (Vireo's)
  (delay (JDBCStatementHelper.)))

(defn- jdbc-action ^JDBCAction [f]
  (reify JDBCAction (execute [_ jc] (f jc))))

(defn- jdbc-source
  "The statement's ResultSet kept open on the pooled connection's JDBC
  connection, read fetch-size rows per action. Every action runs through
  ConnectionImpl/schedule: the connection context's ordered worker queue that
  Vert.x's own statements on this connection go through, so they never
  overlap and no event loop blocks."
  [^SqlConnection conn ^String sql ^List params]
  (let [impl (jdbc-connection conn)
        ^JDBCStatementHelper helper @jdbc-helper
        ;; touched only inside actions, which the ordered queue runs one at a time
        state (atom nil)
        run (fn [f] (p/from-vertx (.schedule impl (jdbc-action f))))]
    (reify RowSource
      (open! [_]
        (run (fn [^java.sql.Connection jc]
               (let [ps (.prepareStatement jc sql)]
                 (try
                   ;; the parameters exactly as Vert.x's JDBCPreparedQuery binds them
                   (let [tuple (Tuple/from params)
                         pmd (.putOutParams (CachedParameterMetaData. ps) (CallableOutParams/create))
                         prov (JDBCColumnDescriptorProvider/fromParameterMetaData pmd)
                         ^JDBCEncoder enc (.getEncoder helper)]
                     (dotimes [i (.size tuple)]
                       (let [v (.encode enc tuple (int (inc i)) prov)]
                         (.setObject ps (int (inc i)) (if (instance? Buffer v) (.getBytes ^Buffer v) v))))
                     (let [rs (.executeQuery ps)
                           md (.getMetaData rs)
                           n (.getColumnCount md)
                           rprov (JDBCColumnDescriptorProvider/fromResultMetaData md)]
                       (reset! state {:ps ps :rs rs :prov rprov :desc (JDBCRowDesc. rprov n) :n n
                                      :has-row (.next rs)})
                       nil))
                   (catch Throwable t
                     (try (.close ps) (catch Throwable ct (.addSuppressed t ct)))
                     (throw t)))))))
      (read! [_ fetch]
        (run (fn [_]
               (let [{:keys [^ResultSet rs ^JDBCColumnDescriptorProvider prov desc n has-row]} @state
                     ^JDBCDecoder dec (.getDecoder helper)
                     n (long n)
                     fetch (long fetch)
                     out (ArrayList. (int (min fetch 4096)))]
                 (loop [k 0 has (boolean has-row)]
                   (if (and has (< k fetch))
                     (let [row (JDBCRow. desc)]
                       (loop [i 1]
                         (when (<= i n)
                           (.addValue row (.parse dec rs (int i) prov))
                           (recur (inc i))))
                       (.add out row)
                       (recur (inc k) (.next rs)))
                     (do (swap! state assoc :has-row has)
                         (Batch. out has))))))))
      (close! [_]
        (if (nil? @state)
          (p/resolved nil)
          (run (fn [_]
                 (let [[{:keys [^ResultSet rs ^java.sql.PreparedStatement ps]}] (reset-vals! state nil)]
                   (when rs
                     (try (.close rs)
                          (finally (.close ps))))
                   nil))))))))

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
                  (let [f (p/catch (p/do (read! src fetch)) (fn [e] (p/rejected (db-error e))))]
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
    aio-execute's rows (see vireo.impl.db/row-mapper).
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
            row-fn (or row-fn (db/row-mapper nil))
            ^List params (cond (nil? params) [] (instance? List params) params :else (vec params))
            counter db/*call-counter*
            kind (:kind d)
            db-error (fn [e] (err/map-error e sql params {:database (db/describe d)}))]
        (-> (ctx/run-as-operation
             d opts {:kind :stream :tx-if-none? (= kind :postgres) :result result}
             (fn [inner]
               (db/log-statement sql params)
               (db/count-call! counter)
               (let [src (if (= kind :sqlite)
                           (jdbc-source (:conn inner) sql params)
                           (cursor-source (:conn inner) sql params))]
                 (-> (p/catch (p/do (open! src)) (fn [e] (p/rejected (db-error e))))
                     (p/then (fn [_] (reduce-source src fetch row-fn rf init result db-error)))
                     (p/handle (fn [v e]
                                 (p/handle (p/catch (p/do (close! src)) (fn [ce] (p/rejected (db-error ce))))
                                           (fn [_ ce]
                                             (cond
                                               (and e ce) (do (when-not (identical? e ce)
                                                                (.addSuppressed ^Throwable e ^Throwable ce))
                                                              (p/rejected e))
                                               e (p/rejected e)
                                               ce (p/rejected ce)
                                               :else v)))))))))
            (p/handle (fn [v e] (if e (p/reject! result e) (p/resolve! result v))))))
      (catch Throwable t (p/reject! result t)))
    result))
