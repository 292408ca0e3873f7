(ns ^:no-doc vireo.impl.db
  "Databases: configuration, the lazily created Vert.x pool, statement
  execution with logging and error mapping, result decoding, and the
  allow-sync guard. The only namespace that talks to Vert.x SQL clients."
  (:require [clojure.string :as str]
            [vireo.impl.log :as log]
            [vireo.impl.backend :as backend]
            [vireo.impl.errors :as err]
            [vireo.impl.protocols :as proto]
            [vireo.impl.types :as types]
            [vireo.impl.vertx :as vx]
            [vireo.promise :as p]
            [vireo.sql :as sql])
  (:import (io.vertx.core Vertx Context Future Completable)
           (clojure.lang Var)
           (io.vertx.sqlclient Pool SqlClient SqlConnection Row RowSet Tuple)
           (java.util List)
           (java.util.concurrent CompletableFuture CompletionStage ConcurrentHashMap)
           (java.util.concurrent.atomic AtomicLong LongAdder)))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- the record
;; kind    :postgres | :mysql | :sqlite
;; backend its vireo.impl.protocols/Backend (vireo.impl.backend.<kind>)
;; dialect the vireo.sql dialect keyword
;; config  atom of the merged options (defaults + URL + user map); init! sets it
;; state   atom {:status :new|:open|:closed :pool Pool :vertx Vertx :owns-vertx bool}
;; checked-out  AtomicLong of connections Vireo holds out of the pool right now
;; allow-sync   atom boolean: set-allow-sync!
;; override     atom: nil, or the connection level every operation without an
;;              explicit handle or task context uses (vireo.testing's test case)
;; held         ConcurrentHashMap connection -> acquisition info, only with
;;              :leak-detection-threshold
;; chain        AtomicReference: the executor chain every statement passes
;;              (built on first use by vireo.impl.context/chain), or nil
;; decorators   atom: vector of (fn [executor] executor) added by
;;              vireo.impl.context/add-decorator!, innermost first
;; routing      atom: nil, or the Routing of a database with read replicas
;;              (made from the options; see vireo.impl.routing)
;; faults       AtomicReference: nil, or the fault-injection hook of a test
;;              (vireo.impl.faults), asked before each statement is sent
;; stats        the PoolStats Vireo keeps of its pool (see pool-state)
;; observers    AtomicReference: nil (no :metrics, :tracing or :slow-query),
;;              or what vireo.impl.observe made of those options
(defrecord Database [kind backend dialect config state ^AtomicLong checked-out allow-sync override ^ConcurrentHashMap held
                     ^java.util.concurrent.atomic.AtomicReference chain decorators routing
                     ^java.util.concurrent.atomic.AtomicReference faults
                     stats
                     ^java.util.concurrent.atomic.AtomicReference observers])

;; ---------------------------------------------------------------- live pool state
;; What Vireo counts of its pool as it uses it (Vert.x 5.0.7's Pool tells
;; only its size): every connection Vireo takes — a statement's own lease,
;; a transaction's, an explicit one — passes lease-k and comes back through
;; give-back (vireo.impl.executor), release-k, discard-k or release. A few
;; atomic increments per statement; the acquire times go to a ring of the
;; last 1024 (percentiles are computed when asked).
;;
;; connects  AtomicLong: connections the pool set out to open (counted by
;;           the backend's connection factory: see ::vireo.impl.backend/connects)
(def ^:private ^:const ring-size 1024)

(deftype PoolStats [^LongAdder in-use ^LongAdder waiting ^LongAdder acquired
                    ^LongAdder timeouts ^LongAdder failed ^AtomicLong connects
                    ^longs ring ^AtomicLong ring-n])

;; (LongAdders: the event loops count without contending for one cache line)
(defn- new-stats []
  (PoolStats. (LongAdder.) (LongAdder.) (LongAdder.) (LongAdder.) (LongAdder.) (AtomicLong.)
              (long-array ring-size) (AtomicLong.)))

(defn- record-acquire! [^PoolStats s ^long nanos]
  (let [i (.getAndIncrement ^AtomicLong (.-ring-n s))]
    (aset ^longs (.-ring s) (int (bit-and i (dec ring-size))) nanos)
    nil))

(defn returned!
  "Counts a connection Vireo took from `db`'s pool as given back."
  [db]
  (.decrement ^LongAdder (.-in-use ^PoolStats (:stats db))))

(defn- percentiles
  "{:p50 :p95 :p99 :max} in ms (doubles) of the recorded acquire times, or nil."
  [^PoolStats s]
  (let [n (min ring-size (.get ^AtomicLong (.-ring-n s)))]
    (when (pos? n)
      (let [^longs a (java.util.Arrays/copyOf ^longs (.-ring s) (int n))
            _ (java.util.Arrays/sort a)
            at (fn [q] (/ (aget a (int (min (dec n) (long (Math/floor (* q n)))))) 1e6))]
        {:p50 (at 0.5) :p95 (at 0.95) :p99 (at 0.99) :max (/ (aget a (int (dec n))) 1e6)}))))

;; One read replica of a database: its own Database (pool, capabilities),
;; the statements it has in flight (what :least-busy compares) and the
;; System/nanoTime until which it is skipped after it failed to answer
;; (Long/MIN_VALUE: up).
(defrecord Replica [db ^AtomicLong in-flight ^AtomicLong down-until]
  java.util.function.BiConsumer
  ;; a statement it ran completed (observed by vireo.impl.routing)
  (accept [_ _ _] (.decrementAndGet in-flight)))

;; The read replicas of a database and how reads are spread over them:
;; strategy :round-robin | :least-busy; window-ns the read-your-writes window
;; (0: none); retry-ns how long a replica that failed is skipped; rr the
;; round-robin counter; last-write the System/nanoTime the last write through
;; the database completed (Long/MIN_VALUE: none yet).
(defrecord Routing [replicas strategy ^long window-ns ^long retry-ns ^AtomicLong rr ^AtomicLong last-write])

(declare make-database)

(defn- routing-of
  "The Routing the options describe (nil without :replicas)."
  [kind opts]
  (when (seq (:replicas opts))
    (->Routing (mapv #(->Replica (make-database kind %) (AtomicLong.) (AtomicLong. Long/MIN_VALUE))
                     (backend/replica-options opts))
               (:replica-strategy opts :round-robin)
               (* 1000000 (long (:read-your-writes-ms opts 0)))
               (* 1000000 (long (:replica-retry-ms opts 5000)))
               (AtomicLong.)
               (AtomicLong. Long/MIN_VALUE))))

(defn replicas "The database's Replica records ([] without replicas)." [db] (or (some-> @(:routing db) :replicas) []))

(defn options "The database's merged options." [db] @(:config db))

(defn traits "The static facts of the database's backend." [db] (proto/-traits (:backend db)))

(defn describe [db] (proto/-describe (:backend db) (options db)))

(defmethod print-method Database [db ^java.io.Writer w]
  (.write w (str "#vireo/database \"" (describe db) "\"")))

(defn database? [x] (instance? Database x))

(defn- missing-name
  "nil when the options name a database (the backend's :name-option), else
  the problem."
  [db opts]
  (let [{:keys [name-option name-problem]} (traits db)]
    (when-not (seq (str (get opts name-option)))
      name-problem)))

(defn make-database
  "Given a backend kind and an options map, returns a Database (no connection
  is opened). Without a database name it is *deferred*: using it fails with a
  clear error until `init!` gives the name. Loads the backend (and needs its
  driver): see vireo.impl.backend."
  [kind opts]
  (let [b (backend/backend kind)
        opts (backend/merged-options b opts)]
    (->Database kind b (:dialect (proto/-traits b)) (atom opts) (atom {:status :new}) (AtomicLong.)
                (atom (boolean (:allow-sync opts))) (atom nil) (ConcurrentHashMap.)
                (java.util.concurrent.atomic.AtomicReference.) (atom []) (atom (routing-of kind opts))
                (java.util.concurrent.atomic.AtomicReference.)
                (new-stats)
                (java.util.concurrent.atomic.AtomicReference.))))

(defn init!
  "Completes (or changes) a database's options before it is connected:
  peewee's deferred initialisation. Returns the database."
  [db opts]
  (locking (:state db)
    (when (= :open (:status @(:state db)))
      (throw (err/error :vireo/interface-error
                        (str "cannot init " (describe db) " while it is connected; aio-close it first")
                        {})))
    (let [new-opts (backend/merged-options (:backend db) (merge (dissoc (options db) :url) opts))]
      (when-let [problem (missing-name db new-opts)]
        (throw (err/error :vireo/interface-error problem {:backend (:kind db)})))
      (reset! (:config db) new-opts)
      (reset! (:routing db) (routing-of (:kind db) new-opts))
      ;; the observers (:metrics, :tracing, :slow-query) may have changed:
      ;; the chain is built again on its next use
      (.set ^java.util.concurrent.atomic.AtomicReference (:observers db) nil)
      (.set ^java.util.concurrent.atomic.AtomicReference (:chain db) nil)
      db)))

(defrecord DatabaseProxy [target])

(defmethod print-method DatabaseProxy [px ^java.io.Writer w]
  (.write w (str "#vireo/database-proxy " (if-let [t @(:target px)] (str "\"" (describe t) "\"") "<unbound>"))))

(defn proxy? [x] (instance? DatabaseProxy x))

(def proxy-advice
  "What the not-initialized message of a proxy tells a Clojure caller to do
  (the Java facade says it in Java instead: vireo.java.bridge)."
  "call (vireo.core/initialize-proxy! proxy db) first")

(defn make-proxy [] (->DatabaseProxy (atom nil)))

(defn resolve-proxy [px]
  (or @(:target px)
      (throw (err/error :vireo/not-initialized
                        (str "the database proxy is not initialized; " proxy-advice)
                        {}))))

(defn from-url [url opts]
  (let [[kind url-opts] (backend/parse-url url)]
    (make-database kind (merge url-opts opts))))

(defn from-env
  "The database the environment `env` (variable -> value) names, with `opts`
  over it: see vireo.impl.backend/env-database."
  [env opts]
  (let [[kind x] (backend/env-database env)]
    (if (= kind :url)
      (from-url x opts)
      (make-database kind (merge x opts)))))

;; ---------------------------------------------------------------- lifecycle
(declare detect-capabilities)

(def init-advice
  "What the not-initialized message of a deferred database tells a Clojure
  caller to do (the Java facade says it in Java instead: vireo.java.bridge)."
  "call (vireo.core/init! db {…})")

(def reopen-advice
  "What the pool-closed message tells a Clojure caller to do (the Java facade
  says it in Java instead: vireo.java.bridge)."
  "call (vireo.core/aio-connect db) to reopen it")

(defn- open!
  "Opens the pool unless it is open; returns it. Without a :vertx option the
  pool runs on the shared Vert.x (vireo.impl.vertx), held until `close`.
  `own-vertx`: a shared instance the caller acquired for this pool (connect's
  MySQL read), kept by the pool or else released here."
  ([db] (open! db nil))
  ([db own-vertx]
   (let [held (volatile! own-vertx)]
     (try
       (locking (:state db)
         (let [st @(:state db)
               opts (options db)]
           (when-let [problem (missing-name db opts)]
             (throw (err/error :vireo/not-initialized
                               (str "Error, database must be initialized before creating a connection pool: "
                                    problem "; " init-advice)
                               {:backend (:kind db)})))
           (if (= :open (:status st))
             (:pool st)
             (let [user-vertx (:vertx opts)
                   vertx (or user-vertx @held (vreset! held (vx/acquire!)))
                   ;; where a failing :init-sql statement is recorded (see explain)
                   init-failure (java.util.concurrent.atomic.AtomicReference.)
                   opts (assoc opts :vireo.impl.backend/init-failure init-failure
                               :vireo.impl.backend/connects (.-connects ^PoolStats (:stats db)))
                   pool (proto/-make-pool (:backend db) opts vertx)
                   pipelined (when (:pipelining opts) (proto/-make-pipelined-client (:backend db) opts vertx))]
               (reset! (:state db) {:status :open :pool pool :pipelined pipelined :init-failure init-failure
                                    :vertx vertx :owns-vertx (nil? user-vertx)
                                    :caps (detect-capabilities db pool)})
               (when-not user-vertx (vreset! held nil))
               pool))))
       (finally
         ;; not kept by an open pool: already open, a :vertx option, or a throw
         (some-> ^io.vertx.core.Vertx @held vx/release!))))))

(defn open-state
  "The state of an open database: {:status :open :pool Pool :pipelined
  SqlClient-or-nil …}, opening the pool on first use. After aio-close the
  pool stays closed (peewee-async semantics): this throws :vireo/pool-closed
  until aio-connect is called."
  [db]
  (let [st @(:state db)]
    (case (:status st)
      :open st
      :new (do (open! db) @(:state db))
      :closed (throw (err/error :vireo/pool-closed
                                (str "the database " (describe db)
                                     " is closed; " reopen-advice)
                                {:database (describe db)})))))

(defn pool
  "Returns the database's pool, creating it on first use (see `open-state`)."
  ^Pool [db]
  (:pool (open-state db)))


;; ---------------------------------------------------------------- capabilities
;; What the server behind a database can do is data of the database, read
;; from the server when its pool opens (aio-connect waits for it; a pool
;; opened lazily by its first statement reads it then, and the operations
;; that depend on it wait for the answer). Only RETURNING depends on it so
;; far. The :returning option forces the set (no detection for it).

(defn- with-option
  "The detected capabilities with the user's :returning option in force,
  and the database's *effective dialect*: its vireo.sql dialect with the
  RETURNING it really has, under :dialect."
  [db caps opts]
  (let [caps (if (contains? opts :returning)
               (assoc caps :returning (:returning opts) :returning-source :option)
               (assoc caps :returning-source :detected))]
    (assoc caps :dialect (assoc (sql/dialect (:dialect db)) :returning (:returning caps)))))

(defn- detect-capabilities
  "Future of the capabilities of the server behind `pool` (the backend's
  -detect: {:returning #{…} :server \"MariaDB 10.11.19\"} plus backend facts)
  with :returning-source :detected|:option."
  [db ^Pool pool]
  (let [opts (options db)]
    (-> (proto/-detect (:backend db) pool opts)
        (p/map #(with-option db % opts))
        (p/catch (fn [e] (p/rejected (err/map-error e "<detect the server's capabilities>" []
                                                    {:database (describe db)})))))))

(defn capabilities
  "Future of the database's capabilities (see `detect-capabilities`),
  opening the pool if it is not open. A detection that failed (server
  unreachable) is tried again."
  [db]
  (p/do
    (let [pl (pool db)
          st @(:state db)
          ^CompletableFuture f (:caps st)]
      (if (and f (not (.isCompletedExceptionally f)))
        f
        (let [f2 (detect-capabilities db pl)]
          (swap! (:state db) (fn [s] (if (identical? (:caps s) f) (assoc s :caps f2) s)))
          f2)))))

(defn capabilities-now
  "The database's capabilities when they are known already, else nil."
  [db]
  (let [^CompletableFuture f (:caps @(:state db))]
    (when (and f (.isDone f) (not (.isCompletedExceptionally f)))
      (.getNow f nil))))

(defn describe-returning
  "Why the database has the RETURNING kinds it has, for messages."
  [caps]
  (let [kinds (str/join ", " (map (comp str/upper-case name) (sort (:returning caps))))]
    (if (= :option (:returning-source caps))
      (str "its :returning option is " (pr-str (:returning caps)))
      (str (:server caps) " has RETURNING on " (if (seq kinds) kinds "no statement")))))

(defn connected? [db] (= :open (:status @(:state db))))

(declare connect)

(defn mark-down!
  "Skips replica `r` for the routing's retry time: it failed to answer."
  [routing ^Replica r]
  (.set ^AtomicLong (:down-until r) (+ (System/nanoTime) (long (:retry-ns routing)))))

(defn- connect-replicas
  "Connects the database's replicas, each on its own: one that cannot be
  reached is logged and skipped for a while (reads go to the others, or to
  the primary), never a failure of the database. Future of nil."
  [db]
  (if-let [routing @(:routing db)]
    (p/map (p/all (for [r (:replicas routing)]
                    (p/catch (connect (:db r))
                             (fn [e]
                               (mark-down! routing r)
                               (log/log! "vireo.replicas" :warn nil
                                         (str "the replica " (describe (:db r)) " of " (describe db)
                                             " could not be connected; its reads go elsewhere: " (ex-message (p/unwrap e))))))))
           (constantly nil))
    (p/resolved nil)))

(defn connect
  "Opens the pool if it is not open (idempotent, safe when called concurrently)
  and reads what the server can do (`capabilities`). A pool opened here
  first lets the backend read what it needs from the server
  (-prepare-options: MySQL's max_prepared_stmt_count, so the pool's
  statement caches stay within it). Returns a future of nil."
  [db]
  (p/then
   (if (= :new (:status @(:state db)))
     (let [own (when-not (:vertx (options db)) (vx/acquire!))]
       (p/then (p/catch (p/do (proto/-prepare-options (:backend db) (options db) (or (:vertx (options db)) own)))
                        (fn [_] (options db)))
               (fn [opts]
                 (locking (:state db)
                   (when (= :new (:status @(:state db)))
                     (reset! (:config db) opts)))
                 (open! db own)
                 nil)))
     (p/do (open! db) nil))
   (fn [_] (p/then (capabilities db) (fn [_] (connect-replicas db))))))

(defn- close-pool
  "Closes the pool of state `st` (when open) and releases the shared Vert.x
  it held. Future of nil."
  [st]
  (if (= :open (:status st))
    (let [^Pool pool (:pool st)]
      (-> (p/from-vertx (.close pool))
          (p/then (fn [_] (when-let [^SqlClient c (:pipelined st)] (p/from-vertx (.close c)))))
          ;; released exactly once per open, even when closing the pool failed
          (p/handle (fn [_ e]
                      (p/then (when (:owns-vertx st) (vx/release! (:vertx st)))
                              (fn [_] (when e (throw e))))))))
    (p/resolved nil)))

(defn close
  "Closes the pool (and the replicas') and releases the shared Vert.x it
  held (closed with its last user; an application's own :vertx is never
  closed). Idempotent. Returns a future of nil."
  [db]
  (let [st (locking (:state db)
             (let [st @(:state db)]
               (swap! (:state db) (fn [s] (if (= :open (:status s)) {:status :closed} s)))
               st))]
    (p/handle (close-pool st)
              (fn [_ e]
                ;; the replicas are closed even when the primary's close failed
                (p/then (p/all (map #(p/handle (close (:db %)) (fn [_ _] nil)) (replicas db)))
                        (fn [_] (when e (throw e))))))))

;; ---------------------------------------------------------------- connections
(defn- watch-for-leak
  "With :leak-detection-threshold ms, logs a warning with the acquirer's stack
  when a connection is still held after that long."
  [db conn ^Exception acquired-at ms]
  (let [^ConcurrentHashMap held (:held db)]
    (.put held conn acquired-at)
    (p/then (p/delay ms)
            (fn [_]
              (when (identical? acquired-at (.get held conn))
                (log/log! "vireo.pool" :warn acquired-at
                          (str "possible connection leak: a connection of " (describe db)
                              " has been held for more than " ms " ms")))))))

(defn explain
  "The error to report for `e`, a mapped failure of database `db`: a
  connection error right after an :init-sql statement failed on a new
  connection is that statement's failure (the pool only says the
  connection closed)."
  [db e]
  (if-let [init (and (err/error-type? e :vireo/connection-error)
                     (backend/init-failure (:init-failure @(:state db))))]
    (ex-info (ex-message init) (merge (ex-data e) (ex-data init)) e)
    e))

;; ---------------------------------------------------------------- waiting for a connection
;; Completable: the pool's answer; Runnable: the :connection-timeout timer.
;; Whichever comes first settles it; a connection handed over after the
;; timeout is given straight back (the race Vert.x 5.0.7's own timeout
;; loses, leaking the connection: vertx-sql-client#1567).
(definterface ISettle (^boolean settle []))

(deftype Waiting [^Completable k ^:unsynchronized-mutable settled
                  ^PoolStats stats ^long started
                  ^:volatile-mutable ^java.util.concurrent.ScheduledFuture timer]
  ISettle
  ;; true for the first caller only (the whole body its `locking`, so the
  ;; field can be set inside): an uncontended monitor, not an AtomicBoolean
  ;; per lease
  (settle [this]
    (locking this
      (if settled false (do (set! settled true) true))))
  vireo.promise.ITimeout
  (arm [_ t] (set! timer t))
  Completable
  (complete [this conn e]
    (if (.settle this)
      (do (when-let [t timer] (.cancel t false))
          (.decrement ^LongAdder (.-waiting stats))
          (if (nil? e)
            (do (.increment ^LongAdder (.-in-use stats))
                (.increment ^LongAdder (.-acquired stats))
                (record-acquire! stats (- (System/nanoTime) started)))
            (.increment ^LongAdder (.-failed stats)))
          (.complete k conn e))
      (when conn (try (.close ^SqlConnection conn) (catch Throwable _ nil)))))
  Runnable
  (run [this]
    (when (.settle this)
      (.decrement ^LongAdder (.-waiting stats))
      (.increment ^LongAdder (.-timeouts stats))
      (.complete k nil (io.vertx.core.impl.NoStackTraceThrowable. "Timeout")))))

(defn lease-k
  "Takes a connection from `pool` (of database `db`) for `k`, a Completable:
  (complete conn nil), or (complete nil driver-error) — a connection not
  available within the database's :connection-timeout (30 s) fails with the
  pool's \"Timeout\" (a :vireo/timeout once mapped). Not counted as checked
  out: for Vireo's own short leases (one statement)."
  [db ^Pool pool ^Completable k]
  (let [^PoolStats stats (:stats db)
        _ (.increment ^LongAdder (.-waiting stats))
        w (Waiting. k false stats (System/nanoTime) nil)
        ^Future f (try (.getConnection pool)
                       (catch Throwable t (.decrement ^LongAdder (.-waiting stats)) (throw t)))]
    (.onComplete f ^Completable w)
    (when-not (.isComplete f)
      ;; (a timer that fires after the connection came settles nothing)
      (.arm w (p/schedule (or (:connection-timeout (options db)) backend/default-connection-timeout-ms) w)))))

(defn pool-owner
  "The database whose pool `pool` is: `db` itself, or one of its read
  replicas (whose pool state counts the connections leased from it)."
  [db pool]
  (if (identical? pool (:pool @(:state db)))
    db
    (or (some (fn [r] (let [rd (:db r)] (when (identical? pool (:pool @(:state rd))) rd))) (replicas db))
        db)))

(declare acquire-k)

(defn acquire
  "A future of a connection taken from the pool (counted as checked out).
  Failures (acquire timeout, closed pool) are mapped to Vireo errors."
  [db]
  (let [r (p/promise)]
    (acquire-k db (reify Completable
                    (complete [_ c e] (if (nil? e) (.complete r c) (.completeExceptionally r e)))))
    r))

;; the pool's answer to acquire-k (a deftype, not a reify: a reify copies
;; itself to carry its form's line metadata, two objects per acquire)
(deftype ^:private Acquired [db ^Completable k ^AtomicLong n leak-ms acquired-at]
  Completable
  (complete [_ c e]
    (if (nil? e)
      (do (.incrementAndGet n)
          (when leak-ms (watch-for-leak db c acquired-at leak-ms))
          (.complete k c nil))
      (.complete k nil (explain db (err/map-error e "<acquire a connection>" [] {:database (describe db)}))))))

(defn acquire-k
  "Like `acquire`, reporting to `k`, a Completable: (complete conn nil) or
  (complete nil mapped-error) — for Vireo's own steps, without a future."
  [db ^Completable k]
  (let [^AtomicLong n (:checked-out db)
        leak-ms (:leak-detection-threshold (options db))
        acquired-at (when leak-ms
                      (Exception. (str "connection acquired here, on thread " (.getName (Thread/currentThread)))))]
    (try
      (lease-k db (pool db) (Acquired. db k n leak-ms acquired-at))
      (catch Throwable t
        (.complete k nil (err/map-error t "<acquire a connection>" [] {:database (describe db)}))))))

(defn- others-promise?
  "True for the IllegalStateException Vert.x 5.0.7's pool throws on the
  caller's thread when, handing a connection back (or out), it runs another
  waiter's acquire-timeout task and that one fails an already completed
  promise (vertx-sql-client#1567): it concerns that other waiter, not this
  call, whose own work was done."
  [^Throwable t]
  (and (instance? IllegalStateException t) (= "Promise already completed" (.getMessage t))))

(defn release-k
  "Gives a connection back to the pool, reporting the close's outcome to
  `k`, a Completable."
  [db ^SqlConnection conn ^Completable k]
  (.decrementAndGet ^AtomicLong (:checked-out db))
  (returned! db)
  (.remove ^ConcurrentHashMap (:held db) conn)
  (try (.onComplete (.close conn) k)
       (catch IllegalStateException t
         (if (others-promise? t) (.complete k nil nil) (.complete k nil t)))))

(defn discard-k
  "Closes a connection whose state is unknown (a ROLLBACK that did not
  reach the server: a transaction may still be open) instead of giving it
  back for reuse: the connection itself is closed (the server ends the
  session, rolling back what was open) and the pool drops it, opening a new
  one when needed. Reports to `k`, a Completable, like `release-k`."
  [db ^SqlConnection conn ^Completable k]
  (.decrementAndGet ^AtomicLong (:checked-out db))
  (returned! db)
  (.remove ^ConcurrentHashMap (:held db) conn)
  (try
    (let [^io.vertx.sqlclient.internal.Connection pooled
          (.unwrap ^io.vertx.sqlclient.internal.SqlConnectionInternal conn)
          physical (.unwrap pooled)]
      (.close physical nil
              (reify Completable
                (complete [_ _ _]
                  ;; a socket connection tells the pool it closed; a JDBC one
                  ;; (SQLite) does not: tell it
                  (when-not (instance? io.vertx.sqlclient.impl.SocketConnectionBase physical)
                    (.handleClosed ^io.vertx.sqlclient.internal.Connection$Holder pooled))
                  (.complete k nil nil)))))
    (catch Throwable t
      (log/log! "vireo.pool" :warn t (str "could not close a connection of " (describe db) " in an unknown state"))
      (.onComplete (.close conn) k))))

(defn discard
  "`discard-k` as a future of nil."
  [db ^SqlConnection conn]
  (let [r (p/promise)]
    (discard-k db conn (reify Completable (complete [_ _ e] (if e (p/reject! r e) (p/resolve! r nil)))))
    r))

(defn release
  "Gives a connection back to the pool. Returns a future of nil."
  [db ^SqlConnection conn]
  (.decrementAndGet ^AtomicLong (:checked-out db))
  (returned! db)
  (.remove ^ConcurrentHashMap (:held db) conn)
  (try (p/from-vertx (.close conn))
       (catch IllegalStateException t
         (if (others-promise? t) (p/resolved nil) (p/rejected t)))))

(defn checked-out [db] (.get ^AtomicLong (:checked-out db)))

(defn pool-settings
  "The pool settings in force for `db`: its options with Vert.x's defaults
  for those not given (the PoolOptions its pool is opened with), Vireo's own
  acquisition timeout, and the prepared statements cached per connection."
  [db]
  (let [opts (options db)
        ^io.vertx.sqlclient.PoolOptions po (backend/pool-options opts)]
    ;; (longs, as the options are given: Java sees Long, not Integer)
    {:max-size (long (.getMaxSize po))
     :max-wait-queue-size (long (.getMaxWaitQueueSize po))
     :idle-timeout (.toMillis (.getIdleTimeoutUnit po) (.getIdleTimeout po))
     :connection-timeout (long (or (:connection-timeout opts) backend/default-connection-timeout-ms))
     :max-lifetime (.toMillis (.getMaxLifetimeUnit po) (.getMaxLifetime po))
     :event-loop-size (long (.getEventLoopSize po))
     :pool-cleaner-period (long (.getPoolCleanerPeriod po))
     :statement-cache-size (proto/-statement-cache-size (:backend db) opts)}))

(defn pool-state
  "The live state of `db`'s pool (see vireo.core/pool-state): nil-free
  numbers read now; :size 0 while the pool is not open."
  [db]
  (let [^PoolStats s (:stats db)
        st @(:state db)
        size (if (= :open (:status st)) (.size ^Pool (:pool st)) 0)
        in-use (max 0 (.sum ^LongAdder (.-in-use s)))
        failed (.sum ^LongAdder (.-failed s))
        opened (max 0 (- (.get ^AtomicLong (.-connects s)) failed))]
    {:database (describe db)
     :backend (:kind db)
     :open (= :open (:status st))
     :max-size (:max-size (options db))
     :size size
     :in-use in-use
     :idle (max 0 (- size in-use))
     :waiting (max 0 (.sum ^LongAdder (.-waiting s)))
     :checked-out (checked-out db)
     :acquired (.sum ^LongAdder (.-acquired s))
     :acquire-timeouts (.sum ^LongAdder (.-timeouts s))
     :acquire-ms (percentiles s)
     :connections-opened opened
     :connections-closed (max 0 (- opened size))
     :connections-failed failed}))

(defn last-insert-id
  "The id generated by the last INSERT of this result, where the driver tells."
  [db ^RowSet rs]
  (proto/-last-insert-id (:backend db) rs))

(defn format-query
  "Formats query data for this database's dialect."
  [db query]
  (sql/format query {:dialect (:dialect db)}))

