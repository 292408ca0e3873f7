(ns ^:no-doc vireo.impl.cancel
  "Cancelling operations on the server, and operation timeouts.

  Every public operation runs in a *scope* (`run-op`): the statements it
  sends — also those its callbacks send later, since the scope is a dynamic
  binding that Vireo's futures convey — and the scopes of the operations it
  starts (an aio-get inside an aio-atomic) are its members. Cancelling the
  operation's future cancels the scope: each member still waiting is never
  sent, and each statement running is cancelled *on the server* through its
  backend (`vireo.impl.protocols/-cancel!`: PostgreSQL's cancel request,
  MariaDB/MySQL's KILL QUERY from a connection of its own, SQLite's
  sqlite3_interrupt). A statement being cancelled holds its connection —
  neither the pool nor the next statement of its transaction gets it —
  until the cancel has reached the server, so a late cancel can never hit
  another statement (see vireo.impl.executor/Statement).

  `{:timeout ms}` on an operation cancels it the same way when it has not
  completed in time and fails its future with :vireo/timeout. A transaction
  whose COMMIT was sent can no longer be cancelled
  (vireo.promise.ConveyingFuture/freeze): its timeout then waits for the
  COMMIT's outcome instead of reporting a failure that may be false."
  (:require [vireo.impl.errors :as err]
            [vireo.promise :as p])
  (:import (java.util ArrayList)
           (java.util.concurrent CompletableFuture ScheduledFuture)
           (vireo.promise ConveyingFuture)))

(set! *warn-on-reflection* true)

(definterface Cancellable
  (^void cancelNow [])
  (^String describe [] "The SQL it is running (the first one found), or nil."))

(definterface IScope
  (^boolean add [m])
  (^void remove [m])
  (snapshot [])
  (takeAll [])
  (^void setOp [op])
  (opFuture []))

(def ^:dynamic *scope*
  "The scope of the operation running (conveyed to its callbacks), or nil."
  nil)

(def ^java.util.concurrent.atomic.AtomicReference trace-capture
  "nil, or a fn of no argument returning the caller's trace context (an
  OpenTelemetry Context) — set once a database with :tracing exists
  (vireo.impl.observe): each operation's scope captures it when the
  operation is called, so its statements, sent later from other threads,
  have the caller's span as their parent. Off, it costs one read."
  (java.util.concurrent.atomic.AtomicReference.))

(defn- members-array
  "A scope's members in a new array: `one` (or nil) and those of `more` (or nil)."
  ^objects [one ^ArrayList more]
  (let [n (if more (.size more) 0)
        a (object-array (+ n (if (some? one) 1 0)))]
    (when more (dotimes [i n] (aset a i (.get more i))))
    (when (some? one) (aset a n one))
    a))

(defn- ended-scope?
  "True when `m` is the scope of an operation that has ended."
  [m]
  (and (instance? IScope m)
       (let [op (.opFuture ^IScope m)]
         (and (some? op) (.isDone ^CompletableFuture op)))))

;; members: the statements (they leave when they end) and the scopes of the
;; operations started in it, in `one` (a free slot: most operations have a
;; single member at a time, a statement, and need no list) and in `more`
;; (made when a second member comes). An ended operation's scope is not
;; removed when it ends (that would cost a listener, and a future, per
;; operation): the ended ones in `more` are dropped when `add` finds `limit`
;; members, the limit then growing with the members still running, so a
;; long block running many operations holds only the running ones, in
;; amortised constant time.
;; what  the operation's name ("aio-get"): the operation tag of its statements
;; trace the trace context captured when it was called (see trace-capture), or nil
(deftype Scope [parent ^:unsynchronized-mutable one ^:unsynchronized-mutable ^ArrayList more
                ^:unsynchronized-mutable cancelled
                ^:unsynchronized-mutable ^long limit ^:volatile-mutable op what trace]
  IScope
  (add [this m]
    (locking this
      (cond
        cancelled false
        (nil? one) (do (set! one m) true)
        :else (let [^ArrayList ms (or more (let [l (ArrayList. 4)] (set! more l) l))]
                ;; (`one` counts: it holds a member)
                (when (>= (inc (.size ms)) limit)
                  (.removeIf ms (reify java.util.function.Predicate (test [_ x] (ended-scope? x))))
                  (set! limit (max 16 (* 2 (inc (.size ms))))))
                (.add ms m)
                true))))
  (remove [this m]
    (locking this
      (if (identical? one m)
        (set! one nil)
        (when more
          (let [i (.indexOf more m)]
            (when (>= i 0) (.remove more (int i))))))))
  ;; (each method's whole body is its `locking`: in tail position a try
  ;; needs no closure, so the mutable field can be set inside)
  (snapshot [this]
    (locking this (members-array one more)))
  (takeAll [this]
    (locking this
      (when-not cancelled
        (set! cancelled true)
        (let [a (members-array one more)]
          (set! one nil)
          (when more (.clear more))
          a))))
  (setOp [_ f] (set! op f))
  (opFuture [_] op)
  Cancellable
  (cancelNow [this]
    (let [^objects ms (.takeAll this)]
      (when ms
        (dotimes [i (alength ms)]
          (try (.cancelNow ^Cancellable (aget ms i))
               (catch Throwable _ nil))))))
  (describe [this]
    (let [^objects ms (.snapshot this)]
      (loop [i 0]
        (when (< i (alength ms))
          (or (.describe ^Cancellable (aget ms i)) (recur (inc i)))))))
  Runnable
  (run [this] (.cancelNow this)))

(defn scope-operation
  "The name of the operation scope `s` belongs to (\"aio-get\"), or nil."
  [s]
  (when s (.-what ^Scope s)))

(defn scope-trace
  "The trace context captured when the operation of scope `s` was called, or nil."
  [s]
  (when s (.-trace ^Scope s)))

(defn leave!
  "Unregisters `m` from scope `s` (nil: nothing)."
  [s m]
  (when s (.remove ^IScope s m)))

;; ---------------------------------------------------------------- timeouts
(defn timeout-error
  "The :vireo/timeout error of operation `what` after `ms`, naming the
  statement it was running (`sql`, or nil)."
  [what ms sql]
  (err/error :vireo/timeout
             (str what " did not complete within its :timeout of " ms " ms"
                  (when sql "; the statement it was running was cancelled on the server"))
             (cond-> {:timeout-ms ms :operation what} sql (assoc :sql sql))))

;; Runnable: the timer; BiConsumer: the operation's future completing. Unlike
;; vireo.promise/timeout (whose timer-arming interface it shares), a cancel
;; the operation refuses (a COMMIT on its way) is not a timeout.

(deftype Deadline [^CompletableFuture op ^CompletableFuture r ^Cancellable scope what ^long ms
                   ^:volatile-mutable ^ScheduledFuture timer
                   ^:volatile-mutable fired]
  vireo.promise.ITimeout
  (arm [_ t] (set! timer t))
  Runnable
  (run [_]
    (set! fired true)
    ;; false when the operation finished meanwhile or can no longer be
    ;; cancelled (a COMMIT on its way): r then gets its real outcome
    (let [sql (try (.describe scope) (catch Throwable _ nil))]
      (when (.cancel op false)
        (.completeExceptionally r (timeout-error what ms sql)))))
  java.util.function.BiConsumer
  (accept [_ v e]
    (when-let [t timer] (.cancel ^ScheduledFuture t false))
    (cond
      (nil? e) (.complete r v)
      (and fired (.isCancelled op)) nil
      :else (.completeExceptionally r (p/unwrap e)))))

(defn- with-deadline [^CompletableFuture op scope what ms]
  (let [r (p/promise)
        d (Deadline. op r scope what (long ms) nil false)]
    (.onCancel ^ConveyingFuture r (reify Runnable (run [_] (.cancel op false))))
    (.arm d (p/schedule ms d))
    (ConveyingFuture/listen op d)
    r))

(defn check-timeout
  "`ms` when it is a positive integer (or nil), else a :vireo/interface-error."
  [ms]
  (when (and (some? ms) (not (and (integer? ms) (pos? ms))))
    (throw (err/error :vireo/interface-error
                      (str ":timeout must be a positive number of milliseconds, got " (pr-str ms))
                      {:option :timeout :value ms})))
  ms)

(defn run-op*
  "Calls (f) — which starts operation `what` and returns its future — in a
  new scope (a member of the current one), so that cancelling the returned
  future cancels what the operation is running on the server. With
  `timeout-ms`, the operation is cancelled when it has not completed in time
  and the returned future fails with :vireo/timeout."
  [what timeout-ms f]
  (let [parent (ConveyingFuture/valueOf #'*scope*)
        s (Scope. parent nil nil false 16 nil what (when-let [c (.get trace-capture)] (c)))]
    (if (and parent (not (.add ^IScope parent s)))
      (p/rejected (java.util.concurrent.CancellationException. (str what ": its enclosing operation was cancelled")))
      (let [^CompletableFuture fut
            (do (ConveyingFuture/pushBinding #'*scope* s)
                (try (p/do (f))
                     (finally (clojure.lang.Var/popThreadBindings))))]
        (if (.isDone fut)
          (do (when parent (.remove ^IScope parent s)) fut)
          (do
            (when (instance? ConveyingFuture fut) (.onCancel ^ConveyingFuture fut s))
            (when parent (.setOp s fut))
            (if timeout-ms (with-deadline fut s what timeout-ms) fut)))))))

(defn freeze!
  "Makes `result` (a transaction's future) impossible to cancel from now on:
  its COMMIT is about to be sent. False when it was cancelled first."
  [^CompletableFuture result]
  (if (instance? ConveyingFuture result)
    (.freeze ^ConveyingFuture result)
    (not (.isCancelled result))))
