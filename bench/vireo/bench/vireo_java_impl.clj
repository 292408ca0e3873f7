(ns vireo.bench.vireo-java-impl
  "W1–W6 through io.vireo (loaded only once its classes exist; see
  vireo.bench.vireo-java)."
  (:require [vireo.bench.workloads :as w])
  (:import (io.vertx.core Handler Vertx VertxOptions)
           (io.vireo Database DatabaseOptions Field Instance Model PostgresqlDatabase Where)
           (java.util Map)
           (java.util.concurrent Executor TimeUnit)
           (java.util.function Function)))

(set! *warn-on-reflection* true)

(defn open
  [{:keys [url pool-size]}]
  (let [vertx (Vertx/vertx (-> (VertxOptions.) (.setEventLoopPoolSize 1)))
        ^Database db (PostgresqlDatabase. ^String url
                                          (-> (DatabaseOptions/create) (.maxSize (int pool-size)) (.eventLoopSize 1)
                                              (.vertx vertx) (.properties {"application_name" "vireo-bench-java"})))
        ^Model pb (-> (Model/builder "PageBlock") (.database db) (.table "page_block")
                      (.field "key" (.unique (Field/charField 40)))
                      (.field "text" (.defaultValue (Field/text) ""))
                      (.build))
        ctx (.getOrCreateContext vertx)
        update-text (fn [^Object id ^String text]
                      (-> (.update pb ^Map (Map/of "text" text)) (.where (Where/eq "id" id)) (.aioExecute)))]
    {:kind :async
     :start-executor (reify Executor
                       (execute [_ r] (.runOnContext ctx (reify Handler (handle [_ _] (.run ^Runnable r))))))
     :ops {"W1" (fn [_ _] (.aioGet pb (Long/valueOf (long (w/random-id)))))
           "W2" (fn [_ _] (.aioGet pb (Map/of "key" (w/random-key))))
           "W3" (fn [client n] (.aioCreate pb ^Map (Map/of "key" (w/fresh-key "j" client n) "text" (w/text-for n))))
           "W4" (fn [_ n] (update-text (Long/valueOf (long (w/random-id))) (w/text-for n)))
           "W5" (fn [_ _] (-> (.select pb (object-array 0)) (.orderBy (object-array ["id"])) (.limit 50)
                              (.offset (long (w/random-offset))) (.aioExecute)))
           "W6" (fn [client n]
                  (let [id (Long/valueOf (long (w/random-id)))
                        text (w/text-for n)
                        k (w/fresh-key "u" client n)]
                    (.aioAtomic db (reify Function
                                     (apply [_ _tx]
                                       (-> (.aioGet pb id)
                                           (.thenCompose (reify Function
                                                           (apply [_ row]
                                                             (update-text (.get ^Instance row "id") text))))
                                           (.thenCompose (reify Function
                                                           (apply [_ _]
                                                             (.aioCreate pb ^Map (Map/of "key" k "text" text)))))
                                           (.thenApply (reify Function
                                                         (apply [_ created] (.get ^Instance created "id"))))))))))}
     :na {}
     :warnings []
     :info {:event-loops 1 :pool-size pool-size}
     :close (fn []
              (try (.get (.aioClose db) 10 TimeUnit/SECONDS)
                   (finally (.await (.close vertx) 10 TimeUnit/SECONDS))))}))
