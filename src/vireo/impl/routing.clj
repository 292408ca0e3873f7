(ns ^:no-doc vireo.impl.routing
  "Read replicas: which server a statement runs on when a database has
  `:replicas`.

  A statement outside any connection scope (no aio-atomic, aio-connection,
  handle or test case in force) that only reads — a SELECT without a
  locking clause (FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE) — runs on a
  replica, chosen by the database's :replica-strategy (:round-robin, or
  :least-busy: the fewest statements in flight). Everything else runs on the
  primary: writes, statements inside a scope (so aio-atomic, aio-transaction
  and their locks), streams, DDL.

  A read on a replica that cannot be run there is sent elsewhere: when the
  replica is unreachable or its connection died, to another replica that
  is up, else the primary (the replica is skipped for :replica-retry-ms);
  when it refuses the read (a read-only error: a SELECT calling nextval();
  a hot standby's recovery conflict), to the primary. A read has no effect
  on a replica, so sending it again is safe. Any other error is the
  read's, reported with the replica's description.

  Read-your-writes (opt-in, :read-your-writes-ms): for that long after a
  write completes, reads go to the primary. The window follows every write
  through the database, or, inside `with-own-writes`, only the writes of
  that block (and the async work it starts).

  Overrides: the per-operation option {:route :primary} (or :replica, which
  ignores the window) and the `*route*` binding (vireo.core/with-route)."
  (:require [vireo.impl.log :as log]
            [vireo.impl.db :as db]
            [vireo.impl.errors :as err]
            [vireo.impl.executor :as ex])
  (:import (java.util.concurrent ConcurrentHashMap)
           (java.util.concurrent.atomic AtomicLong)
           (java.util.function BiConsumer Function)
           (java.util.regex Pattern)
           (vireo.impl.db Replica Routing)
           (vireo.impl.executor Statement)
           (vireo.promise ConveyingFuture)))

(set! *warn-on-reflection* true)

(def ^:dynamic *route*
  "nil, :primary or :replica: where the reads of the current task go
  (vireo.core/with-route; an operation's own :route wins)."
  nil)

(def ^:dynamic *write-clocks*
  "nil, or the ConcurrentHashMap (a database's routing clock -> AtomicLong)
  of a with-own-writes block: its read-your-writes window follows only its
  own writes."
  nil)

(def routes #{:primary :replica})

(defn checked-route
  "`r` if it is a route, else a throw naming the problem."
  [r]
  (if (contains? routes r)
    r
    (throw (err/error :vireo/interface-error
                      (str ":route must be :primary or :replica, got " (pr-str r))
                      {:option :route}))))

(defn with-route*
  "Calls (f) with the reads it starts sent to `route` (see *route*)."
  [route f]
  (binding [*route* (checked-route (if (string? route) (keyword route) route))] (f)))

(defn with-own-writes*
  "Calls (f) with a read-your-writes window of its own (see *write-clocks*)."
  [f]
  (binding [*write-clocks* (ConcurrentHashMap.)] (f)))

(defn op-handle
  "What an operation's options say about where it runs, for the Statement's
  handle: its :connection handle, else its :route (:primary / :replica),
  else nil. A :route :replica beside a :connection is refused (a handle is
  a connection to the primary)."
  [opts]
  (let [c (:connection opts)
        r (:route opts)]
    (cond
      (nil? r) c
      (and c (= :replica (checked-route r)))
      (throw (err/error :vireo/interface-error
                        ":route :replica cannot run on a :connection handle (a connection of the primary)"
                        {:option :route}))
      c c
      :else (checked-route r))))

;; ---------------------------------------------------------------- what reads
(def ^:private ^Pattern lock-clause
  #"(?i)\bFOR\s+(?:NO\s+KEY\s+UPDATE|KEY\s+SHARE|UPDATE|SHARE)\b|\bLOCK\s+IN\s+SHARE\s+MODE\b")

(defn read-only-sql?
  "True for a SELECT without a locking clause: what a replica may run."
  [^String sql]
  (and (.regionMatches sql true 0 "SELECT" 0 6)
       (not (.find (.matcher lock-clause sql)))))

(defn- read? [^Statement st]
  (and (identical? :query (.-kind st)) (read-only-sql? (.-sql st))))

;; ---------------------------------------------------------------- read-your-writes
(def ^:private new-clock
  (reify Function (apply [_ _] (AtomicLong. Long/MIN_VALUE))))

(defn- clock
  "The clock of the writes the current task's window follows."
  ^AtomicLong [^Routing routing]
  (let [own (:last-write routing)]
    (if-let [^ConcurrentHashMap m (ConveyingFuture/valueOf #'*write-clocks*)]
      (.computeIfAbsent m own new-clock)
      own)))

(defn- in-window? [^Routing routing]
  (let [w (.-window-ns routing)]
    (and (pos? w)
         (let [t (.get (clock routing))]
           (and (not= t Long/MIN_VALUE) (< (- (System/nanoTime) t) w))))))

(defn- watch-write!
  "With a read-your-writes window, has statement `st` — not a read —
  restart the window when it completes (a COMMIT, a write outside a scope)."
  [^Routing routing ^Statement st]
  (when (and (pos? (.-window-ns routing))
             (not (identical? :stream (.-kind st)))
             (not (read? st)))
    (let [c (clock routing)]
      (ex/observe! st (reify BiConsumer (accept [_ _ _] (.set c (System/nanoTime))))))))

;; ---------------------------------------------------------------- choosing a replica
(defn- up? [^Replica r ^long now]
  (let [t (.get ^AtomicLong (.-down-until r))]
    (or (= t Long/MIN_VALUE) (>= (- now t) 0))))

(defn- choose
  "A replica that is up, by the routing's strategy, or nil."
  [^Routing routing]
  (let [reps (.-replicas routing)
        n (count reps)
        now (System/nanoTime)
        start (.getAndIncrement ^AtomicLong (.-rr routing))]
    (if (identical? :least-busy (.-strategy routing))
      ;; the fewest in flight; ties go round (from a moving start)
      (loop [i 0 best nil best-n Long/MAX_VALUE]
        (if (< i n)
          (let [^Replica r (nth reps (Math/floorMod (+ start i) n))
                k (.get ^AtomicLong (.-in-flight r))]
            (if (and (< k best-n) (up? r now))
              (recur (inc i) r k)
              (recur (inc i) best best-n)))
          best))
      (loop [i 0]
        (when (< i n)
          (let [^Replica r (nth reps (Math/floorMod (+ start i) n))]
            (if (up? r now) r (recur (inc i)))))))))

(defn- to-primary!
  "Sends `st` on the primary's pool (a replica could not run it)."
  [d st]
  (try (ex/send! st (db/pool d) nil true)
       (catch Throwable t (ex/fail! st t))))

(declare send-to-replica!)

(defn- retry-elsewhere!
  "Sends `st` to another replica that is up, else to the primary."
  [routing d st]
  (let [r (choose routing)]
    (when-not (and r (send-to-replica! routing d r st))
      (to-primary! d st))))

(defn- fallback
  "What a read on replica `r` does when it fails: see the ns docstring."
  [^Routing routing d ^Replica r]
  (reify vireo.impl.executor.Fallback
    (recover [_ st e]
      (let [^Statement st st
            rdb (.-db r)
            m (err/map-error e (.-sql st) (.-params st) (assoc (.-info st) :database (db/describe rdb)))]
        (cond
          (or (err/not-sent? e) (err/error-type? m :vireo/connection-error))
          (do (when (up? r (System/nanoTime))
                (log/log! "vireo.replicas" :warn nil
                          (str "the replica " (db/describe rdb) " failed (" (ex-message m) "); its reads go to "
                              "the other replicas or the primary for " (quot (.-retry-ns routing) 1000000) " ms")))
              (db/mark-down! routing r)
              (retry-elsewhere! routing d st))
          (or (err/error-type? m :vireo/read-only) (err/error-type? m :vireo/serialization-failure))
          (to-primary! d st)
          :else (ex/deliver! st nil m))
        true))))

(defn- send-to-replica! [^Routing routing d ^Replica r ^Statement st]
  (let [pool (try (db/pool (.-db r)) (catch Throwable _ nil))]
    (if (nil? pool)
      ;; closed or not openable: the primary serves
      (do (db/mark-down! routing r) false)
      (do (.incrementAndGet ^AtomicLong (.-in-flight r))
          (ex/observe! st r)
          (ex/send! st pool nil (fallback routing d r))
          true))))

;; ---------------------------------------------------------------- the Router's two calls
(defn route!
  "For a statement `st` of database `d` outside any scope, with `routing`
  and `route` (the operation's :route, or nil): sends it to a replica and
  returns true, or returns false for the primary to run it (having
  arranged for a write to restart the read-your-writes window)."
  [^Routing routing d ^Statement st route]
  (let [route (or route (ConveyingFuture/valueOf #'*route*))]
    (if (and (read? st)
             (not (identical? route :primary))
             (or (identical? route :replica) (not (in-window? routing))))
      (if-let [r (choose routing)]
        (or (send-to-replica! routing d r st) (route! routing d st route))
        false)
      (do (watch-write! routing st) false))))

(defn in-scope!
  "For a statement running in a scope (or with its own target) on a
  database with `routing`: a write restarts the read-your-writes window.
  Throws for an operation that asked for a replica explicitly."
  [^Routing routing ^Statement st route]
  (when (identical? route :replica)
    (throw (err/error :vireo/interface-error
                      (str ":route :replica inside a transaction or connection scope: the scope's connection"
                           " is the primary's (run the read outside the scope, or drop :route)")
                      {:option :route})))
  (watch-write! routing st))

(defn status
  "The replicas of `d`: [{:server s :up bool :in-flight n} …]."
  [d]
  (let [now (System/nanoTime)]
    (mapv (fn [^Replica r]
            {:server (db/describe (.-db r))
             :up (up? r now)
             :in-flight (.get ^AtomicLong (.-in-flight r))})
          (db/replicas d))))
