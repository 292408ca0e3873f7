(ns ^:no-doc vireo.impl.observe
  "Observability as executor decorators: metrics (Micrometer), tracing
  (OpenTelemetry) and the slow-query log, each switched on by a database
  option (:metrics, :tracing, :slow-query; checked by vireo.impl.backend).

  A database's observers are made from its options on first use (the
  chain is built then, see vireo.impl.context/chain) and are nil without
  those options: the chain is then exactly Logging -> Counting -> Router
  and a transaction pays one field read, so switched off they cost
  nothing. Micrometer and OpenTelemetry are optional dependencies: their
  namespaces (vireo.impl.observe.micrometer, .otel) are loaded only when
  the option is given.

  Each facility is a map:
    :wrap  (fn [next-executor] executor) — the statement decorator
    :tx    nil, or (fn [d] token): called when an aio-atomic / aio-transaction
           block starts; token {:bind {var value} (bindings for the block's
           body, or nil) :attempt (fn []) (each run of the body) :end (fn [v e])}

  Public vars:
    observers     - the database's observers ({:wraps [...] :tx [...]}) or nil
    wraps         - the decorators to add to the chain (outermost last)
    around-tx     - runs a transaction block with the tx hooks around it
    verb, outcome, model-name, table-name - bounded names for tags and attributes
    sql-facts     - verb, span operation, table and span name of a SQL string, cached
    time-statement!, Timed - a statement's duration and outcome, told to a decorator
    slow-log      - the slow-query log's decorator"
  (:require [vireo.impl.log :as log]
            [vireo.jvm :as jvm]
            [vireo.impl.db :as db]
            [vireo.impl.errors :as err]
            [vireo.impl.executor :as ex]
            [vireo.impl.protocols :as proto]
            [vireo.promise :as p])
  (:import (java.util.concurrent CancellationException CompletableFuture)
           (java.util.function BiConsumer)))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- bounded names
(def ^:private verbs
  #{"select" "insert" "update" "delete" "with" "create" "drop" "alter" "truncate" "begin" "start"
    "commit" "rollback" "savepoint" "release" "set" "pragma" "show" "replace" "values" "explain"})

(defn verb
  "The statement's first keyword, lower case, among a fixed set (else
  \"other\"): the `statement` tag (never the SQL text)."
  ^String [^String sql]
  (let [n (.length sql)
        start (loop [i 0] (if (and (< i n) (or (Character/isWhitespace (.charAt sql i)) (= \( (.charAt sql i)))) (recur (inc i)) i))
        end (loop [i start] (if (and (< i n) (Character/isLetter (.charAt sql i))) (recur (inc i)) i))
        w (.toLowerCase (subs sql start end))]
    (if (contains? verbs w) w "other")))

(defn outcome
  "A statement's outcome for a tag: \"ok\", \"cancelled\", the Vireo error
  type without its colon (\"vireo/unique-violation\"), or \"error\"."
  ^String [e]
  (cond
    (nil? e) "ok"
    (instance? CancellationException e) "cancelled"
    :else (if-let [t (err/error-type e)]
            (subs (str t) 1)
            "error")))

(defn model-name
  "The model a statement works on (its :model info), or nil."
  [st]
  (let [m (:model (ex/info-of st))]
    (when m (str m))))

(def ^:private ^java.util.regex.Pattern table-pattern
  #"(?is)^\s*(?:select\b.*?\bfrom|insert\s+(?:ignore\s+)?into|replace\s+into|update|delete\s+from)\s+[\"`\[]?([A-Za-z_][A-Za-z0-9_$]*)")

(defn table-name
  "The table a statement names first (FROM / INTO / UPDATE), or nil."
  [^String sql]
  (let [m (.matcher table-pattern sql)]
    (when (.find m) (.group m 1))))

;; What a decorator derives from a statement's SQL, once per SQL string (a
;; model's statements are the same strings every time): its verb (the
;; `statement` tag), the span's operation name, the table and the span name.
(deftype SqlFacts [^String verb ^String op ^String table ^String span-name])

(def ^:private ^java.util.concurrent.ConcurrentHashMap facts-cache
  ;; bounded: SQL with inline values would otherwise grow it without end
  (java.util.concurrent.ConcurrentHashMap.))

(defn sql-facts
  "The SqlFacts of `sql` (cached)."
  ^vireo.impl.observe.SqlFacts [^String sql]
  (or (.get facts-cache sql)
      (let [v (verb sql)
            op (.toUpperCase v)
            t (table-name sql)
            f (SqlFacts. v op t (if t (str op " " t) op))]
        (when (>= (.size facts-cache) 4096) (.clear facts-cache))
        (.putIfAbsent facts-cache sql f)
        f)))

;; ---------------------------------------------------------------- timing a statement
;; What a decorator that times statements implements: told each one's
;; duration and outcome (error, or nil) when it ends.
(definterface Timed
  (^void ended [st ^long duration-ns e]))

(deftype TimedOutcome [st ^long t0 ^Timed f]
  BiConsumer
  (accept [_ _ e]
    (try (.ended f st (- (System/nanoTime) t0) e)
         (catch Throwable _ nil))))

(defn time-statement!
  "Has `f` (a Timed) told how long statement `st` took and how it ended
  (never failing it); transaction control is not timed (its transaction
  is). Call it in -execute!, before handing the statement on."
  [st ^Timed f]
  (when-not (identical? :control (ex/kind-of st))
    (ex/observe! st (TimedOutcome. st (System/nanoTime) f))))

;; ---------------------------------------------------------------- the slow-query log
(deftype SlowLog [next ^long threshold-ns parameters?]
  proto/Executor
  (-execute! [this st]
    (time-statement! st this)
    (proto/-execute! next st))
  Timed
  (ended [_ st dt e]
    (when (>= dt threshold-ns)
      (log/log! "vireo.slow" :warn nil
                (str "slow statement: " (format "%.1f" (/ dt 1e6)) " ms"
                    " operation=" (or (ex/operation-of st) "none")
                    " model=" (or (model-name st) "none")
                    " outcome=" (outcome e)
                    " database=" (db/describe (ex/db-of st))
                    " sql=" (pr-str (err/bounded-sql (ex/sql-of st)))
                    " params=" (if parameters?
                                 (pr-str (err/bounded-params (vec (ex/params-of st))))
                                 (str "<" (.size ^java.util.List (ex/params-of st)) " redacted>")))))))

(defn slow-log
  "The facility logging statements that took at least :threshold-ms at WARN
  on logger vireo.slow (parameters redacted unless :parameters true)."
  [_d {:keys [threshold-ms parameters]}]
  {:wrap (fn [next] (SlowLog. next (* 1000000 (long threshold-ms)) (boolean parameters)))})

;; ---------------------------------------------------------------- making the observers
(def ^:private none
  "The observers of a database without observability options."
  ::none)

(defn- facility
  "The facility of option `k` with value `v` for database d: the optional
  library's namespace is loaded now (vireo.impl.backend checked it is there)."
  [d k v]
  (case k
    :slow-query (slow-log d v)
    :metrics ((jvm/loaded-var 'vireo.impl.observe.micrometer/facility) d v)
    :tracing ((jvm/loaded-var 'vireo.impl.observe.otel/facility) d v)))

(defn- make [d]
  (let [opts (db/options d)
        ;; innermost first: the slow log nearest the driver, tracing outermost
        fs (for [k [:slow-query :metrics :tracing] :let [v (get opts k)] :when v] (facility d k v))]
    (if (seq fs)
      {:wraps (mapv :wrap fs) :tx (not-empty (filterv some? (map :tx fs)))}
      none)))

(defn observers
  "The observers of database d ({:wraps [...] :tx [...]}), made from its
  options on first use, or nil when it has none."
  [d]
  (let [^java.util.concurrent.atomic.AtomicReference ref (:observers d)
        o (or (.get ref)
              (let [o (make d)]
                (if (.compareAndSet ref nil o) o (.get ref))))]
    (when-not (identical? o none) o)))

(defn wraps
  "The decorators of d's observers, innermost first ([] without any)."
  [d]
  (:wraps (observers d) []))

(defn around-tx
  "Runs a transaction block: (run f' result) with f' the body `f` observed
  by d's transaction hooks, their bindings in force, and `result` the
  future the block completes, which it returns. The hooks are told the
  block's outcome before `result` completes (its span has ended, its timer
  recorded, when the caller sees the outcome), or when it is cancelled.
  Just (run f (p/promise)) without hooks."
  [d f run]
  (if-let [hooks (:tx (observers d))]
    (let [tokens (mapv #(% d) hooks)
          bind (apply merge (map :bind tokens))
          attempts (keep :attempt tokens)
          f' (fn [tx] (doseq [a attempts] (a)) (f tx))
          ended (java.util.concurrent.atomic.AtomicBoolean.)
          end (reify BiConsumer
                (accept [_ v e]
                  (when (.compareAndSet ended false true)
                    (doseq [t tokens]
                      (try ((:end t) v (some-> e p/unwrap)) (catch Throwable _ nil))))))
          r (vireo.promise.ConveyingFuture$Observed. end)]
      (if (seq bind)
        (with-bindings* bind #(run f' r))
        (run f' r))
      (.whenComplete r end)
      r)
    (run f (p/promise))))
