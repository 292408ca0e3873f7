(ns vireo.bench.vertx-raw
  "The `vertx-raw` system: the workloads' SQL straight through a Vert.x 5
  pg `Pool` (cached prepared statements, `preparedQuery(...).execute(Tuple)`,
  W6 through `pool.withTransaction`), with the same event-loop setup as the
  `vireo` system: a Vert.x instance with ONE event loop, the pool on it.

  To keep the baseline honest, every operation reads its result the way an
  application would (the selected columns out of each row, the generated id),
  and to keep it as fast as possible the harness is handed the Vert.x future
  itself (no CompletableFuture conversion) and the clients issue from the
  event loop."
  (:require [vireo.bench.pg :as pg]
            [vireo.bench.workloads :as w])
  (:import (io.vertx.core Future Handler Vertx VertxOptions)
           (io.vertx.pgclient PgBuilder PgConnectOptions)
           (io.vertx.sqlclient Pool PoolOptions Row RowSet SqlConnection SqlConnectOptions Tuple)
           (java.util ArrayList Iterator)
           (java.util.concurrent Executor TimeUnit)
           (java.util.function Function)))

(set! *warn-on-reflection* true)

(def sql
  {:get-by-id  "SELECT id, key, text FROM page_block WHERE id = $1"
   :get-by-key "SELECT id, key, text FROM page_block WHERE key = $1"
   :insert     "INSERT INTO page_block (key, text) VALUES ($1, $2) RETURNING id"
   :update     "UPDATE page_block SET text = $1 WHERE id = $2"
   :page       "SELECT id, key, text FROM page_block ORDER BY id LIMIT $1 OFFSET $2"})

(defn- row->array ^objects [^Row r]
  (doto (object-array 3)
    (aset 0 (.getInteger r (int 0)))
    (aset 1 (.getString r (int 1)))
    (aset 2 (.getString r (int 2)))))

(def ^:private ^Function first-row
  (reify Function
    (apply [_ rs]
      (let [it (.iterator ^RowSet rs)]
        (when (.hasNext it) (row->array (.next it)))))))

(def ^:private ^Function all-rows
  (reify Function
    (apply [_ rs]
      (let [out (ArrayList. (.size ^RowSet rs))
            it (.iterator ^RowSet rs)]
        (while (.hasNext it) (.add out (row->array (.next it))))
        out))))

(def ^:private ^Function returned-id
  (reify Function
    (apply [_ rs]
      (.getInteger ^Row (.next (.iterator ^RowSet rs)) (int 0)))))

(def ^:private ^Function row-count
  (reify Function
    (apply [_ rs] (.rowCount ^RowSet rs))))

(defn- exec ^Future [^io.vertx.sqlclient.SqlClient client ^String s ^Tuple t]
  (.execute (.preparedQuery client s) t))

(defn- connect-options ^PgConnectOptions [url]
  (let [{:keys [host port database user password]} (pg/parse-url url)]
    (-> (PgConnectOptions.)
        (.setHost ^String host) (.setPort (int port)) (.setDatabase ^String database)
        (.setUser ^String user) (.setPassword ^String password)
        (.setCachePreparedStatements true)
        (.addProperty "client_min_messages" "warning")
        (.addProperty "application_name" "vireo-bench-vertx-raw"))))

(defn- w6 [^Pool pool ^long client ^long n]
  (let [id (Integer/valueOf (int (w/random-id)))
        text (w/text-for n)
        k (w/fresh-key "t" client n)]
    (.withTransaction pool
                      (reify Function
                        (apply [_ conn]
                          (let [conn ^SqlConnection conn]
                            (-> (exec conn (sql :get-by-id) (Tuple/of id))
                                (.map first-row)
                                (.compose (reify Function
                                            (apply [_ _row]
                                              (exec conn (sql :update) (Tuple/of text id)))))
                                (.compose (reify Function
                                            (apply [_ _]
                                              (.map (exec conn (sql :insert) (Tuple/of k text))
                                                    returned-id)))))))))))

(defn open
  "Given {:url :pool-size}, returns a system instance (see vireo.bench.systems)."
  [{:keys [url pool-size]}]
  (let [vertx (Vertx/vertx (-> (VertxOptions.) (.setEventLoopPoolSize 1)))
        ^Pool pool (-> (PgBuilder/pool)
                 (.with (-> (PoolOptions.) (.setMaxSize (int pool-size)) (.setEventLoopSize 1)))
                 (.connectingTo ^SqlConnectOptions (connect-options url))
                 (.using vertx)
                 (.build))
        ctx (.getOrCreateContext vertx)
        {:keys [get-by-id get-by-key insert update page]} sql]
    {:kind :async
     :start-executor (reify Executor
                       (execute [_ r]
                         (.runOnContext ctx (reify Handler (handle [_ _] (.run ^Runnable r))))))
     :ops {"W1" (fn [_ _]
                  (.map (exec pool get-by-id (Tuple/of (Integer/valueOf (int (w/random-id))))) first-row))
           "W2" (fn [_ _]
                  (.map (exec pool get-by-key (Tuple/of (w/random-key))) first-row))
           "W3" (fn [client n]
                  (.map (exec pool insert (Tuple/of (w/fresh-key "c" client n) (w/text-for n))) returned-id))
           "W4" (fn [_ n]
                  (.map (exec pool update (Tuple/of (w/text-for n) (Integer/valueOf (int (w/random-id))))) row-count))
           "W5" (fn [_ _]
                  (.map (exec pool page (Tuple/of (Integer/valueOf 50) (Integer/valueOf (int (w/random-offset))))) all-rows))
           "W6" (fn [client n] (w6 pool client n))}
     :na {}
     :info {:event-loops 1 :pool-size pool-size}
     :close (fn []
              (try (.await (.close pool) 10 TimeUnit/SECONDS)
                   (finally (.await (.close vertx) 10 TimeUnit/SECONDS))))}))
