(ns ^:no-doc vireo.impl.context
  "The connection context: Vireo's ContextVar.

  A *scope* pins one pooled connection. Scopes nest as *levels*: the root
  level owns the connection (aio-connection), a transaction level lives inside
  it (aio-atomic / aio-transaction at the top), savepoint levels inside that
  (nested aio-atomic). `*contexts*` maps each database to the innermost level
  of the current logical task; it is an ordinary dynamic binding, conveyed to
  callbacks because Vireo's futures are `ConveyingFuture`s.

  Concurrency policy: every level runs its operations one at a time, in the
  order they were started; a nested block runs as one operation of its parent
  level (siblings started concurrently wait for it). So operations started
  concurrently inside a transaction all run in it, on its connection, in start
  order; they never escape to another connection."
  (:require [clojure.string :as str]
            [vireo.impl.backend :as backend]
            [vireo.impl.cancel :as cancel]
            [vireo.impl.db :as db]
            [vireo.impl.errors :as err]
            [vireo.impl.executor :as ex]
            [vireo.impl.observe :as obs]
            [vireo.impl.protocols :as proto]
            [vireo.impl.routing :as routing]
            [vireo.promise :as p])
  (:import (io.vertx.core Completable)
           (io.vertx.sqlclient SqlConnection)
           (java.util.concurrent CompletableFuture CompletionStage)
           (vireo.promise ConveyingFuture)
           (java.util.concurrent.atomic AtomicReference AtomicLong)))

(set! *warn-on-reflection* true)

(def ^:dynamic *contexts*
  "Database -> innermost Level of the current task."
  {})

(defmacro ^:private contexts
  "The value of *contexts*, read without the map entry a var's deref
  allocates (read on every statement: see ConveyingFuture/valueOf)."
  [] `(ConveyingFuture/valueOf (var *contexts*)))

;; kind    :connection (root), :transaction, :savepoint
;; root    the root level (owns conn and the transaction flag); nil for a
;;         root itself (see root-of)
;; tail    AtomicReference of the future the next operation waits for
;; state   volatile :open | :closed
;; tx      (shared by a root's levels) volatile: nil, or {:manual bool
;;         :read-only bool} while a transaction is open
;; sp-seq  (root only) AtomicLong for savepoint names
;; broken  (shared by a root's levels) volatile: true once a ROLLBACK (or COMMIT) failed
;;         on the connection, so a transaction may still be open there: the
;;         connection is closed, not given back for reuse
(declare execute-at)

;; A level is an Executor: a statement at a level runs on its connection,
;; after the operations started before it there.
(defrecord Level [db ^SqlConnection conn kind parent root ^AtomicReference tail state tx ^AtomicLong sp-seq savepoint broken]
  proto/Executor
  (-execute! [this st] (execute-at this st)))

(defmethod print-method Level [l ^java.io.Writer w]
  (.write w (str "#vireo/" (name (:kind l)) " \"" (db/describe (:db l)) "\"")))

(defn level? [x] (instance? Level x))

(defmacro ^:private with-level
  "Runs body with `level` as the task's innermost level for database `d`
  (what `binding` on *contexts* does, without building a map of the
  bindings and walking it on every call: this runs once per scope and block)."
  [d level & body]
  `(do (vireo.promise.ConveyingFuture/pushBinding (var *contexts*) (assoc (contexts) ~d ~level))
       (try ~@body
            (finally (clojure.lang.Var/popThreadBindings)))))

(def ^:private idle
  "The completed future a new level's queue starts with (shared: a
  completed future keeps no dependents)."
  (p/resolved nil))

(defn root-of
  "The root level of `level` (itself for a root: its :root is nil, so a
  root needs no copy of itself)."
  [level]
  (or (:root level) level))

;; state and tx are volatiles: written by the one operation holding the
;; level at a time, read by others
(defn new-root [d conn]
  (->Level d conn :connection nil nil (AtomicReference. idle) (volatile! :open)
           (volatile! nil) (AtomicLong.) nil (volatile! false)))

(defn- child [^Level parent kind savepoint]
  (let [root (root-of parent)]
    (->Level (:db parent) (:conn parent) kind parent root (AtomicReference. idle)
             (volatile! :open) (:tx root) (:sp-seq root) savepoint (:broken root))))

(defn tx-open? [level] (some? @(:tx level)))

;; ---------------------------------------------------------------- finding the level
(defn- ancestor? [a l]
  (loop [l (:parent l)] (cond (nil? l) false (identical? a l) true :else (recur (:parent l)))))

(defn current
  "The level an operation on `d` runs at: the explicit handle in opts (which
  must belong to `d`), else the innermost level of the current task, else nil
  (run on the pool)."
  [d opts]
  (if-let [h (:connection opts)]
    (do
      (when-not (level? h)
        (throw (err/error :vireo/interface-error
                          (str ":connection must be a Vireo connection or transaction handle, got " (pr-str h))
                          {})))
      (when-not (identical? (:state (:db h)) (:state d))
        (throw (err/error :vireo/interface-error
                          (str "the handle belongs to " (db/describe (:db h)) ", not to " (db/describe d))
                          {:database (db/describe d)})))
      (when-let [inner (get (contexts) d)]
        (when (ancestor? h inner)
          (throw (err/error :vireo/interface-error
                            (str "this handle is an enclosing " (name (:kind h))
                                 "; inside a nested block use the handle the block received"
                                 " (the enclosing one waits for the block to end)")
                            {:database (db/describe d)}))))
      h)
    ;; a level that has ended is still returned: run-at then fails clearly
    ;; instead of letting the operation escape to another connection
    (or (get (contexts) d)
        @(:override d))))

;; ---------------------------------------------------------------- running at a level
(defn- closed-error [level]
  (err/error :vireo/interface-error
             (str "the " (name (:kind level)) " scope on " (db/describe (:db level))
                  " has already ended; an operation started inside it ran after it closed")
             {:database (db/describe (:db level))}))

(defn run-at
  "Runs (f conn) as the next operation of `level`, after every operation
  started before it at that level. Future of f's result."
  [level f]
  (if-not (= :open @(:state level))
    (p/rejected (closed-error level))
    (let [^AtomicReference tail (:tail level)
          done (p/promise)
          ^CompletableFuture prev (.getAndSet tail done)
          run (fn []
                (let [r (try (p/->future (f (:conn level)))
                             (catch Throwable t (p/rejected t)))]
                  (p/finally r (fn [_ _] (p/resolve! done nil)))))]
      (if (.isDone prev)
        (run)
        (p/then (p/handle prev (fn [_ _] nil)) (fn [_] (run)))))))

(defn- execute-at
  "Runs statement `st` as the next operation of `level`. When the level is
  idle the statement is sent right away and its completion moves the
  level's queue on (no extra stage); otherwise it queues like any
  operation. A level that has ended fails the statement."
  [level st]
  (let [^AtomicReference tail (:tail level)
        ^CompletableFuture prev (.get tail)
        open? (= :open @(:state level))]
    (cond
      (not open?) (ex/fail! st (closed-error level))
      (.isDone prev)
      (let [done (p/promise)]
        (if (.compareAndSet tail prev done)
          (ex/send! st (:conn level) done false)
          ;; another operation started meanwhile: queue behind it
          (do (p/resolve! done nil)
              (run-at level (fn [conn] (ex/send! st conn nil false) (ex/result st))))))
      :else (run-at level (fn [conn] (ex/send! st conn nil false) (ex/result st))))))

(defn- after-drain
  "(g nil) once every operation queued at `level` has finished (their
  outcomes are theirs): at once, with no stage, when nothing is queued.
  Future of g's result."
  [level g]
  (let [^CompletableFuture t (.get ^AtomicReference (:tail level))]
    (if (.isDone t)
      (g nil)
      (p/then (p/handle t (fn [_ _] nil)) g))))

(defn- close-level!
  "The block's body has completed: no new operation may start at this level
  (a late one fails instead of running outside the block)."
  [level]
  (vreset! (:state level) :closed))

;; ---------------------------------------------------------------- the executor chain
(deftype ^:private Direct [^SqlConnection conn]
  proto/Executor
  (-execute! [_ st] (ex/send! st conn nil false)))

;; The bottom of every database's chain: a statement's own target (control
;; statements, streams), else the level of the operation (its :connection
;; handle, the task's innermost level, a test case's override), else — for
;; a database with read replicas — a replica for a read (vireo.impl.routing),
;; else the database's executor for statements outside any scope: the pool,
;; or the pipelined client for reads with :pipelining.
(deftype Router [d ^:volatile-mutable pipelined]
  proto/Executor
  (-execute! [_ st]
    (let [^vireo.impl.executor.Statement st st]
      (try
        (let [h (.-handle st)
              ;; a handle is a Level, or the operation's :route keyword
              route (when (keyword? h) h)
              target (or (.-target st)
                         (if (and h (nil? route))
                           (current d {:connection h})
                           ;; what `current` does without a handle, inline: the hot path
                           (or (get (contexts) d) @(:override d))))
              routing @(:routing d)]
          (cond
            target
            (do (when routing (routing/in-scope! routing st route))
                (proto/-execute! target st))
            (and routing (routing/route! routing d st route)) nil
            :else
            (let [s (db/open-state d)]
              (if-let [client (:pipelined s)]
                (let [pl pipelined]
                  (proto/-execute! (if (and pl (identical? client (first pl)))
                                     (second pl)
                                     (let [e (ex/pipelined-executor d client)]
                                       (set! pipelined [client e])
                                       e))
                                   st))
                ;; the pool executor's work, with the state already read
                (ex/send! st (:pool s) nil true)))))
        (catch Throwable t (ex/fail! st t))))))

(defn- build-chain [d]
  (reduce (fn [next wrap] (wrap next))
          (Router. d nil)
          ;; the observers (:metrics, :tracing, :slow-query) inside logging
          ;; and counting, outside the decorators added
          (concat @(:decorators d) (obs/wraps d) [ex/counting ex/logging])))

(defn chain
  "The executor chain of database `d`: Logging -> Counting -> the decorators
  added (last added outermost) -> the Router. Built on first use."
  [d]
  (let [^AtomicReference ref (:chain d)]
    (or (.get ref)
        (let [c (build-chain d)]
          (if (.compareAndSet ref nil c) c (.get ref))))))

(defn add-decorator!
  "Adds a decorator to database `d`'s chain: (wrap next-executor) returns an
  Executor (vireo.impl.protocols) that does its work and hands each
  statement on to next-executor. Decorators added later wrap those added
  before, inside logging and counting. Returns d."
  [d wrap]
  (swap! (:decorators d) conj wrap)
  (.set ^AtomicReference (:chain d) (build-chain d))
  d)

(defn execute
  "Runs `sql` with `params` at the level opts or the task select, or on the
  pool, through the database's executor chain. Future of (f rowset) — the
  RowSet itself by default: failures are mapped to Vireo errors carrying
  :sql, :params and `extra` (e.g. {:model \"PageBlock\"}), and a throw in f
  fails the future."
  ([d sql params opts] (execute d sql params opts identity nil))
  ([d sql params opts f extra]
   (let [st (ex/statement d sql params f extra (routing/op-handle opts) :query nil)]
     (proto/-execute! (chain d) st)
     (ex/result st))))

(defn control
  "Sends a transaction-control statement on a level's connection, not queued
  (the caller holds the level), as a simple query: no prepared statement to
  look up or cache, and on PostgreSQL one Query message instead of
  Bind/Execute/Sync (as Vert.x's own Transaction does). Logged, not counted.
  Future of nil."
  [level sql]
  (let [d (:db level)
        st (ex/statement d sql [] (constantly nil) nil nil :control (Direct. (:conn level)))]
    (proto/-execute! (chain d) st)
    (ex/result st)))

;; ---------------------------------------------------------------- connection scopes
(defn- finish
  "Completes the scope's result with the body's outcome after (cleanup), whose
  own failure is attached as suppressed (or becomes the failure)."
  [v e cleanup]
  (p/handle (p/->future (try (cleanup) (catch Throwable t (p/rejected t))))
            (fn [_ ce]
              (cond
                (and e ce) (do (when-not (identical? e ce) (.addSuppressed ^Throwable e ^Throwable ce))
                               (p/rejected e))
                e (p/rejected e)
                ce (p/rejected ce)
                :else v))))

(defn release-root!
  "Ends a root level: no new operation may start, the queued ones finish, a
  transaction left open (a manual aio-begin never committed) is rolled back —
  a connection never goes back to the pool with a transaction open — and the
  connection is released; closed instead when a ROLLBACK on it failed (its
  transaction state is unknown). Future of nil."
  [root]
  (close-level! root)
  (let [end (fn [_]
              (let [d (:db root)
                    release #(if @(:broken root) (db/discard d (:conn root)) (db/release d (:conn root)))]
                (if (tx-open? root)
                  (p/finally (p/handle (control root "ROLLBACK")
                                       (fn [_ e] (when (and e (not (err/answered-by-server? e))) (vreset! (:broken root) true))))
                             (fn [_ _] (vreset! (:tx root) nil) (release)))
                  (release))))]
    (after-drain root end)))

(defn with-connection*
  "Calls (f level fresh?) with the task's connection level for `d`: the
  current one (fresh? false), or a new root level on a connection acquired
  from the pool (fresh? true: nothing else can reach it while f starts),
  released (after every operation queued on it) when f's future completes.
  Future of f's result."
  [d opts f]
  (p/do
    (if-let [level (current d opts)]
      (if (= :open @(:state level))
        (with-level d level
          (f level false))
        (p/rejected (closed-error level)))
      (p/then (db/acquire d)
              (fn [conn]
                (let [root (new-root d conn)
                      result (p/do (with-level d root (f root true)))]
                  (p/handle result (fn [v e] (finish v e #(release-root! root))))))))))

(defn with-connection
  "Calls (f level) with the task's connection level for `d`: the current one,
  or a new root level on a connection acquired from the pool, released (after
  every operation queued on it) when f's future completes. Future of f's result."
  [d opts f]
  (with-connection* d opts (fn [level _] (f level))))

;; ---------------------------------------------------------------- transactions
(def ^:private isolation-sql backend/isolation-sql)

(defn check-tx-opts [{:keys [isolation read-only] :as opts} nested?]
  (when (seq opts)                      ; the common case: no options
    (let [unknown (remove #{:isolation :read-only :retry :connection :route} (keys opts))]
      (when (seq unknown)
        (throw (err/error :vireo/interface-error
                          (str "unknown transaction option(s) " (str/join ", " (map pr-str unknown))
                               "; known: :isolation, :read-only, :retry, :connection, :route")
                          {:options (vec unknown)}))))
    ;; a transaction runs on the primary: :route :primary says nothing more
    (when (and (contains? opts :route) (not= :primary (routing/checked-route (:route opts))))
      (throw (err/error :vireo/interface-error
                        "a transaction runs on the primary: {:route :replica} is for reads outside it"
                        {:option :route})))
    (when (and isolation (not (contains? isolation-sql isolation)))
      (throw (err/error :vireo/interface-error
                        (str "unknown :isolation " (pr-str isolation) "; use one of "
                             (str/join ", " (map pr-str (keys isolation-sql))))
                        {:isolation isolation})))
    (when (and nested? (or isolation (some? read-only)))
      (throw (err/error :vireo/interface-error
                        ":isolation and :read-only apply to the outermost transaction only (this block is nested)"
                        {})))))

(defn begin-statements
  "The statements that open a transaction on database `d` with these options
  ({:isolation :read-only}; its backend's -begin-statements)."
  [d opts]
  (proto/-begin-statements (:backend d) opts))

(defn- end-statements
  "The statements to run once a transaction with these options has ended."
  [d opts]
  (proto/-end-statements (:backend d) opts))

(defn- run-all [level stmts]
  (case (count stmts)
    0 (p/resolved nil)
    1 (control level (nth stmts 0))
    (reduce (fn [f s] (p/then f (fn [_] (control level s)))) (p/resolved nil) stmts)))

(defn- commit-ended?
  "True when the failed COMMIT's error `e` means the transaction is over:
  the server refused the COMMIT on a backend that then ends the
  transaction itself (PostgreSQL, MariaDB/MySQL). Otherwise — SQLite, or a
  COMMIT that failed without the server's answer — it may still be open."
  [d e]
  (and (err/answered-by-server? e) (not (:rollback-after-failed-commit (db/traits d)))))

(defn- rollback-then-fail
  "Rolls back with `sql` and fails with `e` (rollback errors surface, with e
  as suppressed; the connection is then marked broken: closed, not reused)."
  [level sql e]
  (p/handle (control level sql)
            (fn [_ re]
              (if re
                (do (when-not (err/answered-by-server? re) (vreset! (:broken level) true))
                    (.addSuppressed ^Throwable re ^Throwable e) (p/rejected re))
                (p/rejected e)))))

(defn- top-transaction
  "BEGIN … COMMIT around (f tx) as one operation of `level` (a root with no
  transaction open). On a `fresh` root (acquired for this block, reachable by
  nothing else yet) its queue is empty, so the block runs without queueing."
  [level opts f ^CompletableFuture result fresh?]
  (let [root (root-of level)
        d (:db level)
        tx-info {:manual false :read-only (boolean (:read-only opts))}
        after (end-statements d opts)]
    (let [block
          (fn [_]
              (p/then
               (p/catch (run-all level (begin-statements d opts))
                        (fn [e]
                          ;; BEGIN on a pooled connection that had died: nothing ran yet
                          (p/rejected (if (and (err/error-type? e :vireo/connection-error)
                                               (identical? level root) (nil? (:parent level)))
                                        (ex-info (ex-message e) (assoc (ex-data e) ::fresh-begin-failed true) (ex-cause e))
                                        e))))
               (fn [_]
                 (vreset! (:tx root) tx-info)
                 (let [tx (child level :transaction nil)
                       body (p/do (with-level (:db level) tx (f tx)))]
                   (-> body
                       (p/handle
                        (fn [v e]
                          (close-level! tx)
                          (after-drain tx
                                  (fn [_]
                                    (cond
                                      e (rollback-then-fail level "ROLLBACK" e)
                                      ;; past this point the caller's future cannot be cancelled
                                      (not (cancel/freeze! result))
                                      (rollback-then-fail level "ROLLBACK"
                                                          (err/error :vireo/interface-error "transaction cancelled" {}))
                                      :else
                                      (p/handle (control level "COMMIT")
                                                (fn [_ ce]
                                                  (if (or (nil? ce) (commit-ended? d ce))
                                                    (if ce (p/rejected ce) v)
                                                    ;; a failed COMMIT may leave the transaction open
                                                    ;; (SQLite: SQLITE_BUSY; anywhere: a COMMIT that never
                                                    ;; reached the server): end it so nothing persists
                                                    (p/handle (control level "ROLLBACK")
                                                              (fn [_ re]
                                                                (when re
                                                                  (when-not (err/answered-by-server? re)
                                                                    (vreset! (:broken level) true))
                                                                  (.addSuppressed ^Throwable ce ^Throwable re))
                                                                (p/rejected ce)))))))))))
                       (p/handle (fn [v e]
                                   (vreset! (:tx root) nil)
                                   (if (empty? after)
                                     (if e (p/rejected e) v)
                                     (p/handle (run-all level after)
                                               (fn [_ ae] (cond e (p/rejected e) ae (p/rejected ae) :else v)))))))))))]
      ;; a fresh root's queue is empty and unreachable: no need to queue
      (if fresh? (p/do (block nil)) (run-at level block)))))

(defn- savepoint-block
  "SAVEPOINT … RELEASE around (f sp) as one operation of `level` (inside a
  transaction)."
  [level f ^CompletableFuture result]
  (let [root (root-of level)
        sp-name (str "vireo_sp_" (.incrementAndGet ^AtomicLong (:sp-seq root)))]
    (run-at level
            (fn [_]
              (p/then
               (control level (str "SAVEPOINT " sp-name))
               (fn [_]
                 (let [sp (child level :savepoint sp-name)
                       body (p/do (with-level (:db level) sp (f sp)))]
                   (p/handle body
                             (fn [v e]
                               (close-level! sp)
                               (after-drain sp
                                       (fn [_]
                                         (cond
                                           e (rollback-then-fail level (str "ROLLBACK TO SAVEPOINT " sp-name) e)
                                           (.isCancelled result)
                                           (rollback-then-fail level (str "ROLLBACK TO SAVEPOINT " sp-name)
                                                               (err/error :vireo/interface-error "block cancelled" {}))
                                           :else (p/map (control level (str "RELEASE SAVEPOINT " sp-name))
                                                        (constantly v))))))))))))))

(defn- relay
  "Completes `result` with the outcome of `fut`; returns result."
  [^CompletableFuture result fut]
  (p/handle fut (fn [v e] (if e (p/reject! result e) (p/resolve! result v))))
  result)

(def ^:private retryable #{:vireo/serialization-failure :vireo/deadlock})

(defn- retryable? [e] (some #(err/error-type? e %) retryable))

;; ---------------------------------------------------------------- a transaction on a connection of its own
;; The common case — aio-atomic with no scope open for the task — runs as one
;; small state machine instead of a chain of futures: acquire a connection,
;; BEGIN, the body, wait for what the body started, COMMIT (ROLLBACK on
;; failure or cancel), the backend's end statements, release; then the
;; caller's future. Every step reports straight to the machine (driver
;; listeners and statement continuations), so the only futures made are the
;; body's and the caller's. Semantics are top-transaction's, with-connection*'s
;; and atomic's below: the retry of serialization failures and deadlocks, and
;; one more try when BEGIN finds the pooled connection dead.

(definterface ITxRun
  (^void start [])
  (^void step [v e])
  (^void guarded [v e])
  (^void crashed [t])
  (^void control [sql])
  (^void runBody [])
  (^void done []))

(def ^:private ^:const ACQUIRE 0)
(def ^:private ^:const BEGIN 1)
(def ^:private ^:const BODY 2)
(def ^:private ^:const DRAIN 3)
(def ^:private ^:const COMMIT 4)
(def ^:private ^:const ROLLBACK 5)
(def ^:private ^:const ROLLBACK-AFTER-COMMIT 6)
(def ^:private ^:const END 7)
(def ^:private ^:const RELEASE 8)

(declare retryable?)

(defn- no-value [_] nil)

(defn- run-body
  "Runs (f tx) with the caller's binding `frame` and `tx` bound as the task's
  level for `d`; the body's future (a throw becomes a failed one)."
  [frame d tx f]
  (let [prev (clojure.lang.Var/getThreadBindingFrame)]
    (clojure.lang.Var/resetThreadBindingFrame frame)
    (try
      (p/do (with-level d tx (f tx)))
      (finally (clojure.lang.Var/resetThreadBindingFrame prev)))))

(defn- with-suppressed
  "e with s added as suppressed (when both and distinct), or whichever is there."
  [^Throwable e ^Throwable s]
  (cond (nil? e) s
        (nil? s) e
        :else (do (when-not (identical? e s) (.addSuppressed e s)) e)))

(deftype FreshTx [d opts f ^CompletableFuture result frame tx-info begin-stmts end-stmts
                  ^:unsynchronized-mutable ^long left
                  ^:unsynchronized-mutable ^long phase
                  ^:unsynchronized-mutable ^long si
                  ^:unsynchronized-mutable conn
                  ^:unsynchronized-mutable root
                  ^:unsynchronized-mutable tx
                  ^:unsynchronized-mutable value
                  ^:unsynchronized-mutable ^Throwable error
                  ^:unsynchronized-mutable begin-died
                  ^:unsynchronized-mutable retried-begin
                  ^:unsynchronized-mutable broken]
  ITxRun
  (start [this]
    (set! phase ACQUIRE)
    (set! conn nil) (set! root nil) (set! tx nil) (set! value nil) (set! error nil) (set! begin-died false)
    (set! broken false)
    (db/acquire-k d this))
  (control [this sql]
    (proto/-execute! (chain d) (ex/statement-k d sql [] no-value nil nil :control (Direct. conn) this)))
  (runBody [this]
    (set! phase BODY)
    (vreset! (:tx root) tx-info)
    (set! tx (child root :transaction nil))
    (ConveyingFuture/listen ^CompletionStage (run-body frame d tx f) this))
  (step [this v e]
    (case phase
      0 (if e
          (do (set! error e) (.done this))
          (do (set! conn v)
              (set! root (new-root d v))
              (set! phase BEGIN)
              (set! si 0)
              (.control this (nth begin-stmts 0))))
      1 (cond
          e (do (set! error e)
                ;; BEGIN on a pooled connection that had died: nothing ran yet
                (set! begin-died (err/error-type? e :vireo/connection-error))
                (if (or begin-died (err/answered-by-server? e))
                  ;; dead, or the server refused it: no transaction began
                  (do (set! phase RELEASE) (.step this nil nil))
                  ;; it failed without the server's answer: end whatever it may have begun
                  (do (set! phase ROLLBACK-AFTER-COMMIT) (.control this "ROLLBACK"))))
          (< (inc si) (count begin-stmts)) (do (set! si (inc si)) (.control this (nth begin-stmts si)))
          :else (.runBody this))
      2 (do (set! value v) (set! error e)
            (close-level! tx)
            (set! phase DRAIN)
            ;; wait for the operations the body started (their outcomes are theirs)
            (let [^CompletableFuture t (.get ^AtomicReference (:tail tx))]
              (if (.isDone t) (.step this nil nil) (ConveyingFuture/listen t this))))
      3 (cond
          error (do (set! phase ROLLBACK) (.control this "ROLLBACK"))
          ;; from here on the caller's future can no longer be cancelled:
          ;; it gets the COMMIT's outcome (a cancel that comes first wins)
          (not (cancel/freeze! result))
          (do (set! error (err/error :vireo/interface-error "transaction cancelled" {}))
              (set! phase ROLLBACK) (.control this "ROLLBACK"))
          :else (do (set! phase COMMIT) (.control this "COMMIT")))
      4 (cond
          (nil? e) (do (set! phase END) (set! si -1) (.step this nil nil))
          (commit-ended? d e) (do (set! error e) (set! phase END) (set! si -1) (.step this nil nil))
          ;; a failed COMMIT may leave the transaction open (SQLite:
          ;; SQLITE_BUSY; anywhere: a COMMIT that never reached the server):
          ;; end it so nothing persists
          :else (do (set! error e) (set! phase ROLLBACK-AFTER-COMMIT) (.control this "ROLLBACK")))
      5 (do (when e
              ;; the rollback's own failure surfaces, with the body's as
              ;; suppressed; the transaction may still be open: close the connection
              (.addSuppressed ^Throwable e error)
              (set! error e)
              (set! broken (not (err/answered-by-server? e))))
            (set! phase END) (set! si -1) (.step this nil nil))
      6 (do (when e
              (set! error (with-suppressed error e))
              (set! broken (not (err/answered-by-server? e))))
            (set! phase END) (set! si -1) (.step this nil nil))
      7 (do (when (>= si 0)
              (when (and e (nil? error)) (set! error e)))
            (when (< si 0) (vreset! (:tx root) nil))
            (if (< (inc si) (count end-stmts))
              (do (set! si (inc si)) (.control this (nth end-stmts si)))
              (do (set! phase RELEASE) (.step this nil nil))))
      8 (do (close-level! root)
            (set! phase 9)
            (if broken (db/discard-k d conn this) (db/release-k d conn this)))
      9 (do (set! error (with-suppressed error e)) (.done this))))
  (done [this]
    (let [e error]
      (cond
        (nil? e) (.complete result value)
        (.isCancelled result) nil
        (and (pos? left) (retryable? e)) (do (set! left (dec left)) (.start this))
        ;; the pool handed out a connection that had just died and BEGIN
        ;; found out: the body never ran, so once more
        (and begin-died (not retried-begin)) (do (set! retried-begin true) (set! left 0) (.start this))
        :else (.completeExceptionally result e))))

  (guarded [this v e]
    (try (.step this v e)
         (catch Throwable t (.crashed this t))))
  (crashed [this t]
    ;; a bug in a step must not strand the caller or the connection: fail
    ;; the transaction, roll back whatever may be open, give the connection back
    (set! error (with-suppressed error t))
    (cond
      (nil? conn) (.done this)
      (and (< phase RELEASE) (not= phase ROLLBACK-AFTER-COMMIT))
      (do (set! phase ROLLBACK-AFTER-COMMIT)
                            (try (.control this "ROLLBACK")
                                 (catch Throwable t2 (set! error (with-suppressed error t2))
                                   (set! phase RELEASE) (.guarded this nil nil))))
      (< phase RELEASE) (do (set! phase RELEASE) (.guarded this nil nil))
      :else (.completeExceptionally result error)))

  java.util.function.BiConsumer
  (accept [this v e] (.guarded this v (when e (p/unwrap e))))
  Completable
  (complete [this v e] (.guarded this v e)))

(defn- fresh-transaction
  "aio-atomic on a connection of its own (no scope open for the task): the
  state machine above. Completes `result`."
  [d opts f ^CompletableFuture result retries]
  (check-tx-opts opts false)
  (.start (FreshTx. d opts f result (clojure.lang.Var/getThreadBindingFrame)
                    {:manual false :read-only (boolean (:read-only opts))}
                    (begin-statements d opts) (end-statements d opts)
                    retries ACQUIRE 0 nil nil nil nil nil false false false)))

(declare atomic*)

(defn atomic
  "aio-atomic: a transaction at the top, a savepoint when one is open.
  `transaction?` (aio-transaction) refuses to nest. With {:retry n} an
  outermost block that fails with a serialization failure or a deadlock runs
  again, in a new transaction, up to n more times. The database's
  observers (metrics, tracing) see the block (vireo.impl.observe/around-tx)."
  [d opts f transaction?]
  (obs/around-tx d f #(atomic* d opts %1 transaction? %2)))

(defn- atomic*
  [d opts f transaction? ^CompletableFuture result]
  (let [retries (:retry opts 0)
        attempt (fn attempt [left]
                  (p/catch
                   (with-connection* d opts
                     (fn [level fresh?]
                       (let [nested? (tx-open? level)]
                         (check-tx-opts opts nested?)
                         (cond
                           (and nested? transaction? (not (:test-case @(:tx level))))
                           (p/rejected (err/error :vireo/operational-error
                                                  "Transaction already opened: aio-transaction cannot nest; use aio-atomic for a savepoint"
                                                  {:database (db/describe d)}))
                           nested? (if (pos? retries)
                                     (p/rejected (err/error :vireo/interface-error
                                                            ":retry applies to the outermost transaction only (this block is nested)"
                                                            {}))
                                     (savepoint-block level f result))
                           :else (top-transaction level opts f result fresh?)))))
                   (fn [e]
                     (cond
                       (.isCancelled result) (p/rejected e)
                       (and (pos? left) (retryable? e)) (attempt (dec left))
                       ;; the pool handed out a connection that had just died and
                       ;; BEGIN found out: the body never ran, so once more
                       (and (::fresh-begin-failed (ex-data e)) (not (current d opts))) (attempt 0)
                       :else (p/rejected e)))))]
    (cond
      (not (nat-int? retries))
      (p/reject! result (err/error :vireo/interface-error
                                   (str ":retry must be a non-negative integer, got " (pr-str retries)) {}))

      ;; no scope for the task: a transaction on a connection of its own
      (and (nil? (:connection opts)) (nil? (get (contexts) d)) (nil? @(:override d)))
      (try (fresh-transaction d opts f result retries)
           (catch Throwable t (p/reject! result t)))

      :else (relay result (attempt retries)))
    result))

;; ---------------------------------------------------------------- long operations (streams)
(defn run-as-operation
  "Runs (f inner) as ONE operation of the task's scope for `d` — the level
  opts or the task select (see `with-connection`), or a new root level on a
  connection of its own, released afterwards. Operations started at that
  level meanwhile wait for it, in start order.

  `inner` is a child level of kind `kind` on the same connection, bound as
  the task's level while f (and every callback chained from it) runs: the
  operations f's callbacks start run on the connection, one at a time,
  without waiting for f itself. When f's future completes, inner is closed
  and drained before the outcome is final.

  With `tx-if-none?` (a PostgreSQL cursor needs a transaction), a level with
  no transaction open gets BEGIN before f and, after f, COMMIT — ROLLBACK
  when f failed; meanwhile the level counts as in a transaction (aio-atomic
  inside makes savepoints).

  When `result` (the caller's future) is already complete — cancelled while
  the operation waited for a connection or its turn — f is never called.
  Future of f's result."
  [d opts {:keys [kind tx-if-none? ^CompletableFuture result]} f]
  (with-connection d opts
    (fn [level]
      (run-at level
              (fn [_]
                (if (and result (.isDone result))
                  (p/rejected (java.util.concurrent.CancellationException. "cancelled before it started"))
                  (let [root (root-of level)
                        own-tx? (and tx-if-none? (not (tx-open? level)))
                        body (fn []
                               (let [inner (child level kind nil)
                                     fut (p/do (with-level d inner (f inner)))]
                                 (p/handle fut (fn [v e]
                                                 (close-level! inner)
                                                 (after-drain inner (fn [_] (if e (p/rejected e) v)))))))]
                    (if-not own-tx?
                      (body)
                      (-> (run-all level (begin-statements d {}))
                          (p/then (fn [_]
                                    (vreset! (:tx root) {:manual false :read-only false})
                                    (p/handle (body)
                                              (fn [v e]
                                                (if e
                                                  (rollback-then-fail level "ROLLBACK" e)
                                                  (p/map (control level "COMMIT") (constantly v)))))))
                          (p/finally (fn [_ _] (vreset! (:tx root) nil))))))))))))

;; ---------------------------------------------------------------- manual control
(defrecord ManualTx [level savepoint db])

(defn- scope-level [d opts what]
  (or (current d opts)
      (throw (err/error :vireo/operational-error
                        (str what " can only be called within an aio-connection scope (or with a :connection handle)")
                        {:database (db/describe d)}))))

(defn begin
  "aio-begin: BEGIN on the current scope's connection; future of a handle for
  aio-commit / aio-rollback. Marks the transaction open, so aio-atomic inside
  it makes savepoints and aio-transaction refuses."
  [d opts]
  (p/do
    (let [level (scope-level d opts "aio-begin")
          root (root-of level)]
      (check-tx-opts opts false)
      (when (contains? opts :retry)
        (throw (err/error :vireo/interface-error
                          "aio-begin takes no :retry: Vireo cannot run a transaction you control again (use aio-atomic with :retry)"
                          {:option :retry})))
      (when (:test-case (some-> (:tx level) deref))
        (throw (err/error :vireo/operational-error
                          "aio-begin is not available inside a vireo.testing transaction test case (its rollback would be undone); use aio-atomic, which makes a savepoint there"
                          {})))
      (when (tx-open? level)
        (throw (err/error :vireo/operational-error "Transaction already opened on this connection" {})))
      (run-at level (fn [_]
                      (p/map (run-all level (begin-statements d opts))
                             (fn [_]
                               (vreset! (:tx root) {:manual true :read-only (boolean (:read-only opts))})
                               (->ManualTx level nil d))))))))

(defn savepoint
  "aio-savepoint: SAVEPOINT on the current scope's connection inside an open
  transaction; future of a handle for aio-commit (RELEASE) / aio-rollback."
  [d opts]
  (p/do
    (let [level (scope-level d opts "aio-savepoint")
          root (root-of level)]
      (when-not (tx-open? level)
        (throw (err/error :vireo/operational-error
                          "aio-savepoint needs an open transaction (aio-begin or aio-atomic)" {})))
      (let [sp-name (str "vireo_sp_" (.incrementAndGet ^AtomicLong (:sp-seq root)))]
        (run-at level (fn [_] (p/map (control level (str "SAVEPOINT " sp-name))
                                     (fn [_] (->ManualTx level sp-name d)))))))))

(defn- manual-end [^ManualTx h commit?]
  (p/do
    (when-not (instance? ManualTx h)
      (throw (err/error :vireo/interface-error (str "not a handle from aio-begin/aio-savepoint: " (pr-str h)) {})))
    (let [level (:level h)
          root (root-of level)
          sp (:savepoint h)]
      (run-at level
              (fn [_]
                (if sp
                  (p/finally (control level (str (if commit? "RELEASE SAVEPOINT " "ROLLBACK TO SAVEPOINT ") sp))
                             (fn [_ e] (when e (vreset! (:broken root) true))))
                  (let [read-only (:read-only @(:tx root))]
                    (-> (control level (if commit? "COMMIT" "ROLLBACK"))
                        (p/finally (fn [_ e]
                                     ;; a failed COMMIT/ROLLBACK leaves the transaction state
                                     ;; unknown: the connection is closed when released
                                     (when e (vreset! (:broken root) true))
                                     (vreset! (:tx root) nil)))
                        (p/then (fn [_] (run-all level (end-statements (:db level) {:read-only read-only}))))))))))))

(defn commit [h] (manual-end h true))
(defn rollback [h] (manual-end h false))
