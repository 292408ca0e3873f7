(ns ^:no-doc vireo.impl.executor
  "Executing one statement: the `Statement` that travels down an executor
  chain, the executors at the bottom of it (the pool, the pipelined client,
  one connection), and the decorators above them (logging, call counting).

  Every statement a database sends goes through the database's chain once
  (vireo.impl.context/chain builds it):

      Logging -> Counting -> [observers] -> [added decorators] -> Router (vireo.impl.context)
                                                     |-> a connection Level (root, transaction, savepoint)
                                                     |-> the statement's own target (control, stream)
                                                     '-> the database's bottom executor:
                                                         PoolExecutor, or Pipelined with :pipelining

  Each link implements vireo.impl.protocols/Executor. A decorator does its
  work and hands the statement on, so metrics or tracing are one more
  decorator (`vireo.impl.context/add-decorator!`). At the bottom the
  Statement is sent with the driver and registered as the driver future's
  listener: it decodes the result on the event loop and completes the
  caller's future — one object per statement besides the driver's, no
  intermediate CompletableFuture, no extra stage.

  Public vars:
    statement        - a new Statement: what to send, how to decode, the future it completes
    send!            - sends a Statement on a SqlClient (the pool or one connection)
    fail!            - completes a Statement with a failure (mapped to a Vireo error)
    result           - the Statement's future
    pool-executor, pipelined-executor - the executors for statements outside any scope
    logging, counting - the built-in decorators
    log-statement    - logs SQL and parameters at DEBUG on logger vireo.sql
    *call-counter*, call-counter, count-call!, call-count, with-call-counter*, call-count*
                     - statement counting (vireo.core/with-call-count)"
  (:require [vireo.impl.log :as log]
            [vireo.impl.cancel :as cancel]
            [vireo.impl.db :as db]
            [vireo.impl.errors :as err]
            [vireo.impl.protocols :as proto]
            [vireo.promise :as p])
  (:import (io.vertx.core Completable Future)
           (io.vertx.sqlclient Pool SqlClient SqlConnection Tuple)
           (java.util List)
           (java.util.concurrent CompletableFuture CompletionStage)
           (java.util.concurrent.atomic AtomicLong)
           (vireo.promise ConveyingFuture)))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- the statement
(definterface IStatement
  (^void sendOn [client done retry])
  (^void sendDirect [client])
  (^void send [])
  (^void sendOnConn [conn])
  (^void executeOn [client])
  (^void onLease [conn e owner])
  (^void finish [rs e])
  (^void cancelDone [attempt])
  (^void drop [])
  (^boolean markRunning [])
  (startCancel [])
  (^boolean holdIfCancelling [rs e])
  (^boolean endCancel [])
  (^void failWith [e])
  (^void deliver [v e])
  (^void observe [o]))

;; What a statement does when it fails where it was sent (a read replica):
;; recover returns true when it took the failure over (sent the statement
;; elsewhere, or delivered it) — see vireo.impl.routing.
(definterface Fallback
  (^boolean recover [st e]))

;; the pool's answer to a statement leasing a connection of its own (a
;; deftype, not a reify: a reify copies itself to carry its form's line
;; metadata, two objects per statement)
(deftype ^:private Leased [^IStatement st owner]
  Completable
  (complete [_ lc e] (.onLease st lc e owner)))

;; a decoder's throw, carried out of the try (no closure for the catch)
(deftype Failed [^Throwable e])

;; (a try in a non-tail position compiles to a closure: these keep it in tail position)
(defn- decode-or-failed [decode rs]
  (try (decode rs) (catch Throwable t (Failed. t))))

(defn- notify [^java.util.function.BiConsumer o v e]
  (try (.accept o v e) (catch Throwable _ nil)))

(def ^:private ^Class owned-list-class
  "The class of java.util.Arrays/asList: the parameter lists Vireo builds
  itself (template binders), mutable in place."
  (class (java.util.Arrays/asList (object-array 0))))

(defn- tuple
  "The Tuple to send `params` with. Vert.x's pg encoder writes converted
  values back into the tuple, so a list Vireo built itself (an array) is
  wrapped as it is, and any other list (a persistent vector of a caller's)
  copied."
  ^Tuple [^List params]
  (if (identical? (class params) owned-list-class)
    (Tuple/wrap params)
    (Tuple/from params)))

(defn- give-back
  "Gives a connection a statement leased from the pool back (Vert.x 5.0.7's
  'Promise already completed' from another waiter's timeout concerns that
  waiter: see vireo.impl.db/release-k)."
  [db ^SqlConnection conn]
  (db/returned! db)
  (try (.close conn) (catch Throwable _ nil)))

(defn- cancel-on-server
  "Asks the server to cancel what `conn` is running (the backend's
  -cancel!); (done) once the request has been answered or has failed."
  [db conn ^Runnable done]
  (try
    (let [f (proto/-cancel! (:backend db) conn (db/options db) (:vertx @(:state db)))]
      (.whenComplete (p/->future f)
                     (reify java.util.function.BiConsumer
                       (accept [_ _ e]
                         (when e
                           (log/log! "vireo.pool" :warn nil
                                     (str "could not cancel a statement on " (db/describe db) ": " (ex-message (p/unwrap e)))))
                         (.run done)))))
    (catch Throwable t
      (log/log! "vireo.pool" :warn nil (str "could not cancel a statement on " (db/describe db) ": " (ex-message t)))
      (.run done))))

;; The states of a statement that can be cancelled (one with an operation
;; scope, see vireo.impl.cancel), guarded by the statement's monitor:
(def ^:private ^:const IDLE 0)        ; not sent yet
(def ^:private ^:const RUNNING 1)     ; sent on a connection
(def ^:private ^:const CANCELLING 2)  ; a cancel is on its way to the server: the outcome waits for it
(def ^:private ^:const DONE 3)        ; completed, or the cancel has reached the server
(def ^:private ^:const DROPPED 4)     ; cancelled before it was sent: it never will be
(def ^:private ^:const CANCEL-WAIT 5) ; a cancel reached the server, the statement has not ended yet:
                                      ; it may not have started there when the cancel came (the
                                      ; server ignores a cancel then): another is sent soon

;; db       the Database
;; sql      the SQL string; params a java.util.List
;; decode   (fn [RowSet] value): the statement's value (may throw)
;; info     extra data for errors ({:model "PageBlock"}) or nil
;; handle   the explicit :connection handle of the operation, or nil
;; kind     :query | :control (transaction control: sent as a simple query,
;;          not counted, never cancelled by an operation) | :stream (run by its target)
;; target   nil (the Router finds the executor) or the Executor to use
;; result   the CompletableFuture the caller gets — or nil when the caller
;;          is Vireo itself and gave a continuation instead:
;; cont     nil, or a BiConsumer called with (value, nil) or (nil, error):
;;          an internal continuation (transaction control, a transaction's
;;          steps), so no future is made where no user will see one
;; scope    the operation scope (vireo.impl.cancel) it is a member of, or nil
;;          (then it is never cancelled on the server)
;; done     a CompletableFuture completed just before the outcome (a
;;          connection level's queue moving on), or nil
;; retry    true when the statement runs on the pool (no connection of the
;;          caller's): one that never reached a just-died connection may be
;;          sent once more, on the same client; or a Fallback (a read on a
;;          replica), told of any failure first
;; client   what it is sent on: a Pool (it leases a connection of its own
;;          for the statement, so it can be cancelled on the server, and
;;          gives it back before the outcome), a SqlConnection (a level's),
;;          or the pipelined SqlClient (direct: sent on it as it is; not
;;          cancellable, since it cannot say which connection a statement went to)
;; conn     the connection it runs on; leased: the Database whose pool it
;;          leased conn from (its own, or a read replica's), else false
;; observer nil, or a BiConsumer told the outcome (value, error) first:
;;          what a decorator registers with `observe!`
(deftype Statement [db ^String sql ^List params decode info handle kind target ^CompletableFuture result
                    ^java.util.function.BiConsumer cont scope
                    ^:unsynchronized-mutable ^CompletableFuture done
                    ^:unsynchronized-mutable retry
                    ^:unsynchronized-mutable ^SqlClient client
                    ^:unsynchronized-mutable ^java.util.function.BiConsumer observer
                    ^:unsynchronized-mutable ^SqlConnection conn
                    ^:unsynchronized-mutable leased
                    ^:unsynchronized-mutable ^long cstate
                    ^:unsynchronized-mutable pending
                    ^:unsynchronized-mutable pending-rs
                    ^:unsynchronized-mutable pending-e
                    ^:unsynchronized-mutable direct]
  IStatement
  (sendOn [this c d r]
    ;; fields are written before the driver sees the listener: its future's
    ;; completion happens-after the registration
    (set! client c)
    (set! done d)
    (set! retry r)
    ;; a test's fault injection (vireo.impl.faults) may fail or delay it
    (let [hook (.get ^java.util.concurrent.atomic.AtomicReference (.-faults ^vireo.impl.db.Database db))]
      (when-not (and hook (hook this))
        (.send this))))
  (sendDirect [this c]
    (set! direct true)
    (.sendOn this c nil true))
  (send [this]
    (let [c client]
      (cond
        (instance? SqlConnection c) (.sendOnConn this c)
        (and (instance? Pool c) (not direct))
        ;; a connection of its own for the statement: what the pool does
        ;; inside preparedQuery, done here so the statement knows where it runs
        ;; (the pool of a read replica is counted in the replica's pool state)
        (let [owner (db/pool-owner db c)]
          (try (db/lease-k owner c (Leased. this owner))
               (catch Throwable t (.complete this nil t))))
        :else (.executeOn this c))))
  (sendOnConn [this c]
    (set! conn c)
    (if (and scope (not (.markRunning this)))
      (.complete this nil (java.util.concurrent.CancellationException. "the operation was cancelled before this statement was sent"))
      (.executeOn this c)))
  (executeOn [this c]
    (try
      (let [^Future fut (if (identical? kind :control)
                          (.execute (.query ^SqlClient c sql))
                          (.execute (.preparedQuery ^SqlClient c sql) (tuple params)))]
        (.onComplete fut this))
      (catch Throwable t (.complete this nil t))))
  (onLease [this lc e owner]
    (if (nil? e)
      (do (set! leased owner) (.sendOnConn this lc))
      (.complete this nil e)))
  ;; the state changes, each method's whole body its `locking` (in tail
  ;; position a try needs no closure, so mutable fields can be set inside)
  (drop [this]
    (locking this (set! cstate DROPPED)))
  (markRunning [this]
    (locking this
      (if (== cstate DROPPED) false (do (set! cstate RUNNING) true))))
  (startCancel [this]
    (locking this
      (case cstate
        0 (do (set! cstate DROPPED) nil)
        (1 5) (do (set! cstate CANCELLING) conn)
        nil)))
  (holdIfCancelling [this rs e]
    (locking this
      (if (== cstate CANCELLING)
        (do (set! pending true) (set! pending-rs rs) (set! pending-e e) true)
        (do (set! cstate DONE) false))))
  (endCancel [this]
    (locking this
      (let [h pending]
        (set! cstate (if h DONE CANCEL-WAIT))
        (set! pending false)
        h)))
  (cancelDone [this attempt]
    ;; the cancel has reached the server: the outcome held meanwhile goes
    ;; on; none yet — the statement may not have been running there when the
    ;; cancel came — and another cancel follows, later each time
    (if (.endCancel this)
      (.finish this pending-rs pending-e)
      (p/schedule (min 1000 (* 20 (bit-shift-left 1 (min 6 (long attempt)))))
                  (reify Runnable
                    (run [_] (when-let [c (.startCancel this)]
                               (cancel-on-server db c (reify Runnable (run [_] (.cancelDone this (inc (long attempt))))))))))))
  (finish [this rs e]
    ;; the connection leased for this statement goes back first
    (when leased
      (let [owner leased]
        (set! leased false)
        (give-back owner conn)))
    ;; the level's queue moves on first, as if this statement's future were
    ;; a stage after it (see vireo.impl.context/execute-at)
    (when-let [^CompletableFuture d done]
      (set! done nil)
      (.complete d nil))
    (if (nil? e)
      (let [v (decode-or-failed decode rs)]
        (if (instance? Failed v)
          (.deliver this nil (.-e ^Failed v))
          (.deliver this v nil)))
      (.failWith this e)))
  (failWith [this e]
    (cond
      ;; on the pool, a statement handed a connection that had just died (its
      ;; close not yet noticed) never ran: send it once more
      (and (identical? retry true) (err/not-sent? e)) (.sendOn this client nil false)
      (and (instance? Fallback retry)
           (let [^Fallback f retry] (set! retry false) (.recover f this e))) nil
      :else (.deliver this nil (db/explain db (err/map-error e sql params (assoc info :database (db/describe db)))))))
  (deliver [this v e]
    (when scope (cancel/leave! scope this))
    (when observer (notify observer v e))
    (cond
      cont (.accept cont v e)
      (nil? e) (if (instance? CompletionStage v)
                 (vireo.promise.ConveyingFuture/listen ^CompletionStage v (vireo.promise.Relay. result))
                 (.complete result v))
      :else (.completeExceptionally result e)))
  (observe [_ o]
    (set! observer (if observer
                     (let [^java.util.function.BiConsumer prev observer]
                       (reify java.util.function.BiConsumer
                         (accept [_ v e] (.accept prev v e) (.accept ^java.util.function.BiConsumer o v e))))
                     o)))

  vireo.impl.cancel.Cancellable
  (describe [_] sql)
  (cancelNow [this]
    (let [c (.startCancel this)]
      (when c
        (cancel-on-server db c (reify Runnable (run [_] (.cancelDone this 0)))))))

  Completable
  (complete [this rs e]
    ;; while a cancel is on its way to the server the outcome waits for it,
    ;; holding the connection: a late cancel can never reach the next
    ;; statement sent on it
    (when-not (and scope (.holdIfCancelling this rs e))
      (.finish this rs e)))

  Object
  (toString [_] (str "#vireo/statement " (pr-str sql))))

(defn- joined
  "st, a member of the current operation scope when it is cancellable (not
  transaction control); dropped (never sent) when that scope was already
  cancelled."
  [^Statement st]
  (when (.-scope st)
    (when-not (.add ^vireo.impl.cancel.IScope (.-scope st) st)
      (.drop st)))
  st)

(defn statement
  "A new Statement (see the deftype's comment); its future is a new Vireo
  future unless `result` is given."
  ([d sql params decode info handle kind target]
   (statement d sql params decode info handle kind target (p/promise)))
  ([d ^String sql params decode info handle kind target ^CompletableFuture result]
   (let [^List ps (cond (instance? List params) params (nil? params) [] :else (vec params))
         scope (when-not (identical? kind :control) (ConveyingFuture/valueOf #'cancel/*scope*))]
     (joined (Statement. d sql ps decode info handle kind target result nil scope nil false nil nil nil false IDLE false nil nil false)))))

(defn statement-k
  "A new Statement reporting its outcome to the BiConsumer `cont` (value,
  nil) / (nil, error) instead of a future: for Vireo's own steps."
  [d sql params decode info handle kind target ^java.util.function.BiConsumer cont]
  (let [^List ps (cond (instance? List params) params (nil? params) [] :else (vec params))]
    (Statement. d sql ps decode info handle kind target nil cont nil nil false nil nil nil false IDLE false nil nil false)))

(defn observe!
  "Tells `o`, a BiConsumer, the outcome of statement `st` (value, nil) or
  (nil, error) before anyone else learns it: how a decorator watches a
  statement (its timing, its failure) without a future of its own. Call it
  in -execute!, before handing the statement on."
  [^Statement st o]
  (.observe st o))

(defn deliver!
  "Completes statement `st` with its outcome (value, nil) or (nil, error):
  observers first, then its continuation or future. For statements run by
  their own target (streams)."
  [^Statement st v e]
  (.deliver st v e))

(defn sql-of "The Statement's SQL." ^String [^Statement st] (.-sql st))
(defn params-of "The Statement's parameters (a java.util.List)." ^List [^Statement st] (.-params st))
(defn info-of "The Statement's extra data ({:model \"PageBlock\"}) or nil." [^Statement st] (.-info st))
(defn kind-of "The Statement's kind: :query | :control | :stream." [^Statement st] (.-kind st))
(defn db-of "The Statement's database." [^Statement st] (.-db st))
(defn operation-of
  "The name of the public operation the Statement is part of (\"aio-get\"), or nil."
  [^Statement st]
  (cancel/scope-operation (.-scope st)))
(defn trace-of
  "The trace context captured when the Statement's operation was called, or nil."
  [^Statement st]
  (cancel/scope-trace (.-scope st)))

(defn result "The Statement's future (nil for one with a continuation)." ^CompletableFuture [^Statement st] (.-result st))

(defn send!
  "Sends statement `st` on `client` (a pool or one SqlConnection);
  `done` (or nil) completes just before the statement's future; `retry?`:
  see the Statement."
  [^Statement st client done retry?]
  (.sendOn st client done retry?))

(defn send-direct!
  "Sends statement `st` on `client` — the pipelined client, a Pool — as it
  is, without leasing a connection of its own (so it cannot be cancelled on
  the server); one that never reached a just-died connection is sent once more."
  [^Statement st client]
  (.sendDirect st client))

(defn send-now!
  "Sends statement `st` on the client it was given, without asking the
  fault hook (what a delayed statement does when its delay is over)."
  [^Statement st]
  (.send st))

(defn fail!
  "Completes `st` with the failure `e` (a driver error mapped, with :sql,
  :params and :database)."
  [^Statement st e]
  (.failWith st e))

;; ---------------------------------------------------------------- executors outside any scope
(deftype PoolExecutor [d]
  proto/Executor
  (-execute! [_ st]
    (try (send! st (db/pool d) nil true)
         (catch Throwable t (fail! st t)))))

(defn pool-executor "Statements on `d`'s pool." [d] (PoolExecutor. d))

(defn- read-statement?
  "True for a SELECT (what opt-in pipelining sends through the pipelined
  client when it runs outside any scope)."
  [^String sql]
  (.regionMatches sql true 0 "SELECT" 0 6))

(deftype Pipelined [d ^SqlClient client pool-ex]
  proto/Executor
  (-execute! [_ st]
    (if (read-statement? (.-sql ^Statement st))
      (try (send-direct! st client)
           (catch Throwable t (fail! st t)))
      (proto/-execute! pool-ex st))))

(defn pipelined-executor
  "Reads (SELECT) on `d`'s pipelined client, everything else on its pool."
  [d client]
  (Pipelined. d client (PoolExecutor. d)))

;; ---------------------------------------------------------------- logging
(defn log-statement
  "Logs a statement and its parameters at DEBUG on logger `vireo.sql`."
  [sql params]
  (let [logger (log/logger "vireo.sql")]
    (when (log/enabled? logger :debug)
      (log/log* logger :debug nil (pr-str [sql (vec params)])))))

(defn- log-quietly
  "Logs the statement; a failing logger never fails the statement."
  [^Statement st]
  (try (log-statement (.-sql st) (.-params st))
       (catch Throwable _ nil)))

(deftype Logging [next]
  proto/Executor
  (-execute! [_ st]
    (log-quietly st)
    (proto/-execute! next st)))

(defn logging
  "The decorator logging every statement at DEBUG on logger vireo.sql."
  [next] (Logging. next))

;; ---------------------------------------------------------------- statement counting
;; toucan2's with-call-count: the statements an operation sends, counted so
;; N+1 patterns can be pinned down in tests. The Counting decorator reads
;; *call-counter* when a statement enters the chain — in the caller's
;; binding, which Vireo's futures convey to callbacks — so the statements of
;; async operations started in the body count too. Transaction control
;; (BEGIN/COMMIT/SAVEPOINT…) and the resend of a statement that never
;; reached the server are not counted; a stream is one.

(def ^:dynamic *call-counter*
  "nil, or the CallCounter the statements of the current task are counted in."
  nil)

(deftype CallCounter [^AtomicLong n parent])

(defn call-counter
  "A new counter. Created inside another counter's scope it is nested: what
  it counts is counted by the enclosing ones too."
  []
  (CallCounter. (AtomicLong.) *call-counter*))

(defn count-call!
  "Counts one statement in `c` (nil: nothing) and its enclosing counters."
  [c]
  (loop [^CallCounter c c]
    (when c
      (.incrementAndGet ^AtomicLong (.-n c))
      (recur (.-parent c)))))

(defn call-count
  "The number of statements counted in `c` so far."
  ^long [^CallCounter c]
  (.get ^AtomicLong (.-n c)))

(defn with-call-counter*
  "Calls (f) with statements counted in `c` (also those of async operations
  f starts: the binding is conveyed to their stages). Returns f's value."
  [c f]
  (binding [*call-counter* c] (f)))

(defn call-count*
  "Calls (f) with a new counter in force; future of [v n]: f's value (a
  returned future awaited) and the statements counted when it completed."
  [f]
  (let [c (call-counter)]
    (p/map (binding [*call-counter* c] (p/do (f)))
           (fn [v] [v (call-count c)]))))

(deftype Counting [next]
  proto/Executor
  (-execute! [_ st]
    (when-not (identical? :control (.-kind ^Statement st))
      (count-call! (ConveyingFuture/valueOf #'*call-counter*)))
    (proto/-execute! next st)))

(defn counting
  "The decorator counting statements in the task's *call-counter*."
  [next] (Counting. next))
