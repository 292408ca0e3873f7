(ns ^:no-doc vireo.impl.observe.micrometer
  "Metrics through Micrometer (an optional dependency: this namespace is
  loaded only for a database with the :metrics option). See
  docs/observability.md for the meters.

  Tags are bounded: database (the :name option or the database's
  description), backend, operation (the public operation: aio-get…),
  statement (the SQL's first keyword: select…), model, outcome (ok,
  cancelled, or the Vireo error type) — never SQL text or values."
  (:require [vireo.impl.db :as db]
            [vireo.impl.executor :as ex]
            [vireo.impl.observe :as obs]
            [vireo.impl.protocols :as proto])
  (:import (io.micrometer.core.instrument Counter FunctionCounter Gauge MeterRegistry Metrics Tags Timer)
           (java.util.concurrent ConcurrentHashMap TimeUnit)
           (java.util.function ToDoubleFunction)))

(set! *warn-on-reflection* true)

(defn- tags ^Tags [& kvs] (Tags/of ^"[Ljava.lang.String;" (into-array String kvs)))

(deftype Metered [next ^MeterRegistry registry ^String database ^String backend ^ConcurrentHashMap timers]
  proto/Executor
  (-execute! [this st]
    (obs/time-statement! st this)
    (proto/-execute! next st))
  vireo.impl.observe.Timed
  (ended [_ st dt e]
    (let [outcome (obs/outcome e)
          k [(or (ex/operation-of st) "none") (.-verb ^vireo.impl.observe.SqlFacts (obs/sql-facts (ex/sql-of st)))
             (or (obs/model-name st) "none") outcome]
          ^Timer t (or (.get timers k)
                       (let [[op verb model out] k
                             t (-> (Timer/builder "vireo.statement")
                                   (.description "Statements sent, by operation, statement kind, model and outcome")
                                   (.tags (tags "database" database "backend" backend "operation" op
                                                "statement" verb "model" model "outcome" out))
                                   (.register registry))]
                         (.putIfAbsent timers k t)
                         t))]
      (.record t dt TimeUnit/NANOSECONDS)
      (when e
        (.increment (.register (-> (Counter/builder "vireo.errors")
                                   (.description "Failed statements, by Vireo error type")
                                   (.tags (tags "database" database "backend" backend "type" outcome)))
                               registry))))))

(defn- gauge! [^MeterRegistry r ^String name ^String desc base d k]
  (-> (Gauge/builder name d (reify ToDoubleFunction (applyAsDouble [_ d] (double (or (get (db/pool-state d) k) 0)))))
      (.description desc) (.tags ^Tags base) (.strongReference true) (.register r)))

(defn- counter! [^MeterRegistry r ^String name ^String desc base d k]
  (-> (FunctionCounter/builder name d (reify ToDoubleFunction (applyAsDouble [_ d] (double (or (get (db/pool-state d) k) 0)))))
      (.description desc) (.tags ^Tags base) (.register r)))

(defn- tx-hook [^MeterRegistry registry ^String database ^String backend]
  (let [timer (fn [outcome] (-> (Timer/builder "vireo.transaction")
                                (.description "aio-atomic / aio-transaction blocks, by outcome (commit, rollback, retry: an attempt run again)")
                                (.tags (tags "database" database "backend" backend "outcome" outcome))
                                (.register registry)))
        commit (timer "commit") rollback (timer "rollback") retry (timer "retry")
        retries (-> (Counter/builder "vireo.transaction.retries")
                    (.description "Transaction attempts run again after a serialization failure or deadlock")
                    (.tags (tags "database" database "backend" backend))
                    (.register registry))]
    (fn [_d]
      (let [started (volatile! (System/nanoTime))
            n (volatile! 0)]
        {:attempt (fn []
                    (let [now (System/nanoTime)]
                      (when (pos? (long @n))
                        (.record ^Timer retry (- now (long @started)) TimeUnit/NANOSECONDS)
                        (.increment ^Counter retries)
                        (vreset! started now))
                      (vswap! n inc)))
         ;; (a failed statement was counted in vireo.errors already)
         :end (fn [_ e]
                (let [^Timer t (if e rollback commit)]
                  (.record t (- (System/nanoTime) (long @started)) TimeUnit/NANOSECONDS)))}))))

(defn- pool-meters!
  "Registers the pool gauges and counters of database `pd` (d itself, or
  one of its read replicas) with the tags `base`."
  [^MeterRegistry r base pd]
  (doseq [[k n desc] [[:size "vireo.pool.size" "Connections open in the pool"]
                      [:in-use "vireo.pool.in-use" "Connections of the pool in use"]
                      [:idle "vireo.pool.idle" "Connections of the pool open and idle"]
                      [:waiting "vireo.pool.waiting" "Acquirers waiting for a connection"]
                      [:checked-out "vireo.pool.checked-out" "Connections held by explicit scopes (aio-connection, transactions, sync blocks)"]]]
    (gauge! r n desc base pd k))
  (doseq [[k n desc] [[:acquired "vireo.pool.acquired" "Connections handed out by the pool"]
                      [:acquire-timeouts "vireo.pool.acquire.timeouts" "Acquisitions that timed out (:connection-timeout)"]
                      [:connections-opened "vireo.pool.connections.opened" "Connections opened"]
                      [:connections-closed "vireo.pool.connections.closed" "Connections closed"]
                      [:connections-failed "vireo.pool.connections.failed" "Acquisitions failed for another reason than a timeout (connect failures)"]]]
    (counter! r n desc base pd k)))

(defn facility
  "The :metrics facility of database d: {:registry r :name s}."
  [d {:keys [registry name]}]
  (let [^MeterRegistry r (or registry Metrics/globalRegistry)
        database (or name (db/describe d))
        backend (clojure.core/name (:kind d))]
    ;; the pool tag: "primary", or a read replica's description
    (pool-meters! r (tags "database" database "backend" backend "pool" "primary") d)
    (doseq [rep (db/replicas d)]
      (pool-meters! r (tags "database" database "backend" backend "pool" (db/describe (:db rep))) (:db rep)))
    {:wrap (fn [next] (Metered. next r database backend (ConcurrentHashMap.)))
     :tx (tx-hook r database backend)}))
