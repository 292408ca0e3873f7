(ns vireo.bench.systems
  "The system registry: every system the harness can run, by name.

  An entry is {:doc string, :open (fn [{:keys [url pool-size]}] -> instance)}
  where :open is a symbol resolved lazily (so a system whose classes are
  missing only fails when selected). An instance is a map:

  - :kind            :async (ops return a CompletionStage or Vert.x Future)
                     or :blocking (ops return when done; one platform thread
                     per client)
  - :ops             {\"W1\" (fn [client-index seq] ...), ...}
  - :na              {\"W6\" \"reason\"} for workloads the system cannot run
                     honestly (reported as n/a, never faked)
  - :start-executor  (optional, async) where each client issues its first op
  - :info            a map printed in the run's metadata
  - :close           (fn []) releasing pools and threads (the JVM must exit)

  `vireo-java` runs the same calls through the Java facade (io.vireo),
  `vireo-pipelined` is vireo with opt-in pipelining, and `vireo-model` is
  vireo with W4 and W5 as model queries instead of plain query data; each
  has its own rows in the ratio table (vireo.bench.report/ratio-systems)."
  (:require [clojure.string :as str]))

(def registry
  (array-map
   "vireo" {:doc "Vireo's Clojure API (vireo.core), one Vert.x event loop, pool N"
            :open 'vireo.bench.vireo/open}
   "vireo-java" {:doc "Vireo's Java facade (io.vireo) called by plain interop, one event loop, pool N"
                 :open 'vireo.bench.vireo-java/open}
   "vireo-pipelined" {:doc "vireo with opt-in pipelining (:pipelining true): reads outside transactions go through Vert.x's pipelined client (N connections)"
                      :open 'vireo.bench.vireo/open-pipelined}
   "vireo-model" {:doc "vireo with W4/W5 as model queries: (-> (update PageBlock {:text t}) (where [:= :id id])) and (-> (select PageBlock) (order-by :id) (limit 50) (offset o)) decoding instances"
                  :open 'vireo.bench.vireo/open-model}
   "vireo-observed" {:doc "vireo with :metrics (Micrometer, in memory), :tracing (OpenTelemetry SDK, batch processor, spans dropped) and :slow-query (1 s) on: observability's overhead (needs the :bench-observe alias)"
                     :open 'vireo.bench.vireo/open-observed}
   "vertx-raw" {:doc "the same SQL straight through a Vert.x 5 pg Pool, one event loop, pool N"
                :open 'vireo.bench.vertx-raw/open}
   "jdbc-hikari" {:doc "pgjdbc + HikariCP pool N, one platform thread per client"
                  :open 'vireo.bench.jdbc/open}))

(def default-systems
  "Systems run when none are named (the order interleaves them)."
  ["vireo" "vireo-java" "vireo-pipelined" "vireo-model" "vertx-raw" "jdbc-hikari"])

(defn open
  "Opens system `name` with `cfg`."
  [name cfg]
  (let [entry (or (get registry name)
                  (throw (ex-info (str "unknown system " (pr-str name) "; known: "
                                       (str/join ", " (keys registry)))
                                  {:system name})))]
    ((requiring-resolve (:open entry)) cfg)))
