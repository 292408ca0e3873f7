(ns vireo.bench.vireo
  "The `vireo` system: the workloads through Vireo's Clojure API
  (vireo.core), on a database with a pool of `pool-size` connections and one
  Vert.x event loop: Vireo runs on a Vert.x instance the harness creates with
  a single event-loop thread (`:vertx`, which Vireo never closes, so the
  harness does) and the pool is told `:event-loop-size 1`. This is the same
  setup as `vertx-raw`, so the two differ only by Vireo's own code.

  W4 and W5 run as plain query data on the database (`aio-execute db {...}`).
  The `vireo-model` system (`open-model`) is the same in every respect but
  those two: it runs them through model queries as users write them,
  `(-> (update PageBlock {:text t}) (where [:= :id id]))` and
  `(-> (select PageBlock) (order-by :id) (limit 50) (offset o))` decoding
  instances, so the ratio of the two systems is the model layer's own cost.

  W6 needs `vireo.core/aio-atomic`; when it does not exist (or does not keep
  the statements of its body in one transaction) the cell is reported `n/a`
  with the reason, never faked."
  (:require [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.bench.workloads :as w])
  (:import (io.vertx.core Context Handler Vertx VertxOptions)
           (java.util.concurrent CompletionStage Executor TimeUnit)
           (java.util.function BiConsumer)))

(set! *warn-on-reflection* true)

(defn page-block
  "The bench model over `db` (its table is named explicitly: the default
  would be `pageblock`)."
  [db]
  (v/model 'PageBlock {:table "page_block"
                       :database db
                       :fields {:key {:type :char :max-length 40 :unique true}
                                :text {:type :text :default ""}}}))

(defn- atomic-fn
  "vireo.core/aio-atomic when this Vireo has it, else nil."
  [] (some-> (resolve 'vireo.core/aio-atomic) deref))

(defn- tx-target
  "What to run aio-execute(-sql) on inside an aio-atomic body: the handle the
  body received when it is a database, else the database itself (peewee-async
  style: the transaction is the caller's context, not an argument)."
  [db tx] (if (v/database? tx) tx db))

(defn- check-atomic
  "nil when aio-atomic exists and behaves as a transaction for the W6 body
  (statements in callbacks of the body run on the transaction's connection,
  a failure rolls back a model write made in a callback), else the reason."
  [db model]
  (if-let [atomic (atomic-fn)]
    (try
      (let [probe "SELECT pg_backend_pid() AS pid, txid_current() AS tx"
            [a b] (p/await (atomic db (fn [tx]
                                        (let [t (tx-target db tx)]
                                          (p/let [a (v/aio-execute-sql t probe)
                                                  b (v/aio-execute-sql t probe)]
                                            [(:rows a) (:rows b)]))))
                           30000)
            marker (str "atomic-probe-" (System/nanoTime))
            rolled-back? (try
                           (p/await (atomic db (fn [tx]
                                                 (p/let [_ (v/aio-execute-sql (tx-target db tx) "SELECT 1")
                                                         _ (v/aio-create model {:key marker :text "probe"})]
                                                   (throw (ex-info "roll back" {::probe true})))))
                                    30000)
                           false
                           (catch Throwable e
                             (and (::probe (ex-data e))
                                  (nil? (p/await (v/aio-get-or-none model {:key marker}) 30000)))))]
        (cond
          (not= a b) (str "aio-atomic exists but two statements of its body ran in different "
                          "sessions/transactions: " (pr-str a) " vs " (pr-str b))
          (not rolled-back?) "aio-atomic exists but a failure in its body did not roll back a model write"
          :else nil))
      (catch Throwable e
        (str "aio-atomic exists but the W6 call shape (aio-atomic db (fn [tx] ...)) failed: "
             (.getName (class e)) ": " (ex-message e))))
    "vireo.core/aio-atomic does not exist yet"))

(defn- chained-atomic-warning
  "nil, or a warning when an aio-atomic started from the completion callback
  of a previous aio-atomic's future fails (the previous block's connection
  context leaking into the callback). The harness starts every operation
  with a fresh binding frame, so this does not affect the measurement, but
  applications chaining transactions that way would hit it."
  [db atomic ^Context ctx]
  (let [result (promise)
        body (fn [_] (v/aio-execute-sql db "SELECT 1"))]
    ;; from the event loop, with no bindings, as the harness's clients run
    (.runOnContext ctx
                   (reify Handler
                     (handle [_ _]
                       (try
                         (.whenComplete ^CompletionStage (atomic db body)
                                        (reify BiConsumer
                                          (accept [_ _ e]
                                            (if (some? e)
                                              (deliver result e)
                                              (try (.whenComplete ^CompletionStage (atomic db body)
                                                                  (reify BiConsumer (accept [_ _ e2] (deliver result e2))))
                                                   (catch Throwable t (deliver result t)))))))
                         (catch Throwable t (deliver result t))))))
    (let [e (deref result 30000 ::timeout)]
      (cond
        (= e ::timeout) "an aio-atomic chained from the callback of another did not finish within 30 s"
        (some? e) (str "an aio-atomic started from the completion callback of a previous aio-atomic fails: "
                       (ex-message (p/unwrap e)))
        :else nil))))

(defn- data-w4-w5
  "W4 and W5 as plain query data on `db`."
  [db]
  {"W4" (fn [_ n] (v/aio-execute db {:update :page_block
                                    :set {:text (w/text-for n)}
                                    :where [:= :id (w/random-id)]}))
   "W5" (fn [_ _] (v/aio-execute db {:select [:id :key :text] :from :page_block
                                    :order-by [:id] :limit 50
                                    :offset (w/random-offset)}))})

(defn- model-w4-w5
  "W4 and W5 as model queries on `PageBlock`, built per operation as a user
  writes them (W5 yields instances)."
  [PageBlock]
  {"W4" (fn [_ n] (v/aio-execute (-> (v/update PageBlock {:text (w/text-for n)})
                                     (v/where [:= :id (w/random-id)]))))
   "W5" (fn [_ _] (v/aio-execute (-> (v/select PageBlock)
                                     (v/order-by :id)
                                     (v/limit 50)
                                     (v/offset (w/random-offset)))))})

(defn open
  "Given {:url :pool-size}, returns a system instance (see vireo.bench.systems).
  Needs the page_block table to exist (for the aio-atomic check). Options
  :pipelining (see `open-pipelined`), :model-queries (see `open-model`) and
  :observe (database options merged in, see `open-observed`)."
  [{:keys [url pool-size pipelining model-queries observe]}]
  (let [vertx (Vertx/vertx (-> (VertxOptions.) (.setEventLoopPoolSize 1)))
        db (v/postgresql-database url (cond-> {:max-size pool-size :event-loop-size 1 :vertx vertx
                                               :properties {"application_name" "vireo-bench-vireo"}}
                                        pipelining (assoc :pipelining true :pipelining-max-size pool-size)
                                        observe (merge observe)))
        PageBlock (page-block db)
        ctx (.getOrCreateContext vertx)
        close (fn []
                (try (p/await (v/aio-close db) 10000)
                     (finally (.await (.close vertx) 10 TimeUnit/SECONDS))))
        atomic-problem (try (check-atomic db PageBlock)
                            (catch Throwable t (close) (throw t)))
        atomic (atomic-fn)
        warning (when (and atomic (nil? atomic-problem))
                  (try (chained-atomic-warning db atomic ctx)
                       (catch Throwable t (close) (throw t))))]
    {:kind :async
     :start-executor (reify Executor
                       (execute [_ r]
                         (.runOnContext ctx (reify Handler (handle [_ _] (.run ^Runnable r))))))
     :ops (cond-> (merge {"W1" (fn [_ _] (v/aio-get PageBlock (w/random-id)))
                          "W2" (fn [_ _] (v/aio-get PageBlock {:key (w/random-key)}))
                          "W3" (fn [client n] (v/aio-create PageBlock {:key (w/fresh-key "c" client n)
                                                                       :text (w/text-for n)}))}
                         (if model-queries (model-w4-w5 PageBlock) (data-w4-w5 db)))
            (nil? atomic-problem)
            (assoc "W6" (fn [client n]
                          (let [id (w/random-id)
                                text (w/text-for n)
                                k (w/fresh-key "t" client n)]
                            (atomic db (fn [tx]
                                         (p/let [row (v/aio-get PageBlock id)
                                                 _ (v/aio-execute (tx-target db tx)
                                                                  {:update :page_block
                                                                   :set {:text text}
                                                                   :where [:= :id (:id row)]})
                                                 created (v/aio-create PageBlock {:key k :text text})]
                                           (:id created))))))))
     :na (if atomic-problem {"W6" atomic-problem} {})
     :warnings (if warning [warning] [])
     :info {:event-loops 1 :pool-size pool-size
            :w4-w5 (if model-queries :model-queries :query-data)}
     :close close}))

(defn open-pipelined
  "Like `open`, with opt-in pipelining: the reads of W1, W2 and W5 go through
  Vert.x's pipelined client (pool-size connections of its own)."
  [cfg]
  (open (assoc cfg :pipelining true)))

(defn open-model
  "Like `open`, with W4 and W5 as model queries (update … where, select …
  order-by limit offset decoding instances) instead of plain query data."
  [cfg]
  (open (assoc cfg :model-queries true)))

(defn open-observed
  "Like `open`, with everything observability offers switched on: Micrometer
  meters in a SimpleMeterRegistry, OpenTelemetry spans through the SDK's
  batch processor (to an exporter that drops them: the cost measured is
  Vireo's and the SDK's, not an exporter's I/O) and the slow-query log
  (threshold 1 s: nothing is logged, every statement is timed). Needs
  Micrometer and the OpenTelemetry SDK on the classpath (the :bench-observe
  alias)."
  [cfg]
  (let [registry ((requiring-resolve 'vireo.bench.observed/registry))
        [otel shutdown] ((requiring-resolve 'vireo.bench.observed/open-telemetry))
        system (open (assoc cfg :observe {:metrics {:registry registry}
                                          :tracing {:open-telemetry otel}
                                          :slow-query {:threshold-ms 1000}}))]
    (update system :close (fn [close] (fn [] (try (close) (finally (shutdown))))))))
