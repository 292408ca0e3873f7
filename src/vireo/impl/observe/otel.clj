(ns ^:no-doc vireo.impl.observe.otel
  "Tracing through OpenTelemetry (an optional dependency: this namespace is
  loaded only for a database with the :tracing option). One CLIENT span per
  statement and one span per aio-atomic / aio-transaction block, with the
  database semantic conventions (db.system.name, db.namespace,
  db.operation.name, db.collection.name, db.query.text — the SQL with its
  placeholders, never the values unless :query-parameters — server.address,
  server.port).

  The parent of a statement's span is the span current when its operation
  was called: each operation's scope captures it (vireo.impl.cancel/
  trace-capture), and Vireo's futures convey the scope to the callbacks
  that send its later statements, on whatever thread. Inside a transaction
  block the block's span is the parent (bound in *trace-parent*, conveyed
  the same way). The application's own callbacks on Vireo's futures run
  with the Context current where they were chained (a ConveyingFuture
  Carrier), so an operation they start has the right parent too."
  (:require [clojure.string :as str]
            [vireo.impl.cancel :as cancel]
            [vireo.impl.db :as db]
            [vireo.impl.executor :as ex]
            [vireo.impl.observe :as obs]
            [vireo.impl.protocols :as proto])
  (:import (io.opentelemetry.api GlobalOpenTelemetry OpenTelemetry)
           (io.opentelemetry.api.common AttributeKey Attributes)
           (io.opentelemetry.api.trace Span SpanBuilder SpanKind StatusCode Tracer)
           (io.opentelemetry.context Context)
           (java.util List)
           (java.util.function BiConsumer)))

(set! *warn-on-reflection* true)

(def ^:dynamic *trace-parent*
  "nil, or the Context of the transaction block running (its span): the
  parent of the spans its operations make."
  nil)

;; the attribute keys, made once (a String key is made anew on every call)
(def ^:private ^AttributeKey k-operation (AttributeKey/stringKey "db.operation.name"))
(def ^:private ^AttributeKey k-query-text (AttributeKey/stringKey "db.query.text"))
(def ^:private ^AttributeKey k-collection (AttributeKey/stringKey "db.collection.name"))
(def ^:private ^AttributeKey k-vireo-operation (AttributeKey/stringKey "vireo.operation"))
(def ^:private ^AttributeKey k-vireo-model (AttributeKey/stringKey "vireo.model"))
(def ^:private ^AttributeKey k-error-type (AttributeKey/stringKey "error.type"))
(def ^:private ^AttributeKey k-tx-outcome (AttributeKey/stringKey "vireo.transaction.outcome"))
(def ^:private ^AttributeKey k-tx-attempts (AttributeKey/longKey "vireo.transaction.attempts"))

(defn current-context
  "The trace context an operation called now belongs to."
  ^Context []
  (or *trace-parent* (Context/current)))

(defn- system-name
  "db.system.name: the backend's :db-system trait (postgresql, mysql,
  sqlite), or mariadb once the server is known to be MariaDB."
  [d]
  (if (some-> (db/capabilities-now d) :server str/lower-case (str/starts-with? "mariadb"))
    "mariadb"
    (:db-system (db/traits d))))

(defn- common-attributes
  "The attributes every span of database d carries."
  ^Attributes [d namespace]
  (let [opts (db/options d)
        b (Attributes/builder)]
    (.put b "db.system.name" ^String (system-name d))
    (when namespace (.put b "db.namespace" ^String namespace))
    (when-let [h (:host opts)] (.put b "server.address" (str h)))
    (when-let [port (:port opts)] (.put b (AttributeKey/longKey "server.port") (Long/valueOf (long port))))
    (.build b)))

(defn- cached-common
  "d's common attributes, computed once its server is known (before, the
  system name may still turn from mysql to mariadb) and kept in `ref`."
  ^Attributes [^java.util.concurrent.atomic.AtomicReference ref d namespace]
  (or (.get ref)
      (let [a (common-attributes d namespace)]
        (when (db/capabilities-now d) (.set ref a))
        a)))

(defn- fail! [^Span span e]
  ;; the error type only: a driver's message can quote the values (a
  ;; duplicate key's), so neither it nor the exception is recorded
  (let [t (obs/outcome e)]
    (.setAttribute span k-error-type t)
    (.setStatus span StatusCode/ERROR t)))

(deftype Traced [next ^Tracer tracer d namespace parameters? common]
  proto/Executor
  (-execute! [_ st]
    (when-not (identical? :control (ex/kind-of st))
      (let [sql (ex/sql-of st)
            ^vireo.impl.observe.SqlFacts facts (obs/sql-facts sql)
            ^String table (.-table facts)
            ^Context parent (or (ex/trace-of st) (current-context))
            ^SpanBuilder b (-> (.spanBuilder tracer ^String (.-span-name facts))
                  (.setParent parent)
                  (.setSpanKind SpanKind/CLIENT)
                  (.setAllAttributes (cached-common common d namespace))
                  (.setAttribute k-operation ^String (.-op facts))
                  (.setAttribute k-query-text ^String sql))]
        (when table (.setAttribute b k-collection ^String table))
        (when-let [o (ex/operation-of st)] (.setAttribute b k-vireo-operation ^String o))
        (when-let [m (obs/model-name st)] (.setAttribute b k-vireo-model ^String m))
        (when parameters?
          (let [^List ps (ex/params-of st)]
            (dotimes [i (.size ps)]
              (.setAttribute b (str "db.query.parameter." i) (str (.get ps i))))))
        (let [span (.startSpan b)]
          (ex/observe! st (reify BiConsumer
                            (accept [_ _ e]
                              (try (when e (fail! span e))
                                   (.end span)
                                   (catch Throwable _ nil))))))))
    (proto/-execute! next st)))

(defn- tx-hook [^Tracer tracer namespace common]
  (fn [d]
    (let [^Context parent (or (cancel/scope-trace cancel/*scope*) (current-context))
          span (-> (.spanBuilder tracer "transaction")
                   (.setParent parent)
                   (.setSpanKind SpanKind/CLIENT)
                   (.setAllAttributes (cached-common common d namespace))
                   (.setAttribute k-operation "TRANSACTION")
                   (.startSpan))
          attempts (volatile! 0)]
      {:bind {#'*trace-parent* (.with parent span)}
       :attempt (fn [] (vswap! attempts inc))
       :end (fn [_ e]
              (.setAttribute span k-tx-attempts (Long/valueOf (long @attempts)))
              (.setAttribute span k-tx-outcome (if e "rollback" "commit"))
              (when e (fail! span e))
              (.end span))})))

(def ^:private carrier
  "Conveys the OpenTelemetry Context with every stage of Vireo's futures
  (vireo.promise.ConveyingFuture), as the binding frame is: a callback the
  application chains on an operation's future runs with the Context that
  was current where it was chained, so the operations it starts (on an event
  loop) have the right parent span."
  (reify vireo.promise.ConveyingFuture$Carrier
    (current [_] (Context/current))
    (attach [_ ctx] (.makeCurrent ^Context ctx))
    (detach [_ scope] (.close ^io.opentelemetry.context.Scope scope))))

(defn facility
  "The :tracing facility of database d: {:open-telemetry o :name s :query-parameters bool}."
  [d {:keys [open-telemetry name query-parameters]}]
  (let [^OpenTelemetry otel (or open-telemetry (GlobalOpenTelemetry/get))
        tracer (.getTracer otel "io.vireo")
        opts (db/options d)
        namespace (or name (some-> (or (:database opts) (:path opts)) str))]
    ;; from now on every operation captures its caller's trace context
    (.compareAndSet ^java.util.concurrent.atomic.AtomicReference cancel/trace-capture nil current-context)
    (vireo.promise.ConveyingFuture/setCarrier carrier)
    (let [common (java.util.concurrent.atomic.AtomicReference.)]
      {:wrap (fn [next] (Traced. next tracer d namespace (boolean query-parameters) common))
       :tx (tx-hook tracer namespace common)})))
