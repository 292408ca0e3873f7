(ns vireo.cluster.pgpool-test
  "pgpool-II in streaming-replication mode with load balancing
  (bin/cluster-servers: the TLS primary and its hot standby behind it):
  every kind of operation works through it without any option. pgpool
  pins each client session to server sessions (no multiplexing), so
  prepared statements and cursors need nothing special; it sends reads to
  either server, so a read right after a write may lag (as with
  Vireo's own :replicas): reads of fresh rows wait on the condition."
  (:require [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await!]]))

(set! *warn-on-reflection* true)

(defn- pgpool-db []
  (v/postgresql-database {:host "127.0.0.1" :port (parse-long (System/getenv "VIREO_CLUSTER_PGPOOL_PORT"))
                          :database "vireo_tls" :user "plainuser" :max-size 6}))

(deftest every-operation-through-pgpool-test
  (if-not (System/getenv "VIREO_CLUSTER_PGPOOL_PORT")
    (ts/skip! "the cluster servers are not running (bin/test's cluster sub-run starts them)")
    (let [d (pgpool-db)
          Item (v/model "PoolItem" {:database d :table "pgpool_item"
                                    :fields {:name {:type :char :max-length 40} :n {:type :integer}}})
          count-where (fn [w] (await! (v/aio-count (-> (v/select Item) (v/where w)))))]
      (try
        (await! (v/aio-connect d))
        (await! (v/aio-drop-tables [Item] {:safe true}))
        (await! (v/aio-create-tables [Item]))
        (testing "creates, gets, saves, deletes, counts: 200 rounds, 6 at a time"
          (let [ids (await! (p/all (for [i (range 200)]
                                     (p/map (v/aio-create Item {:name (str "item-" i) :n i}) :id))))]
            (is (= 200 (count (distinct ids))))
            (is (ts/wait-until #(= 200 (count-where [:>= :n 0])) 30000))
            (is (= (range 200) (sort (map :n (await! (p/all (for [id ids] (v/aio-get Item id))))))))
            (await! (p/all (for [id (take 50 ids)]
                             (v/aio-atomic d (fn [_] (p/let [it (v/aio-get Item id)] (v/aio-save Item (assoc it :n -1))))))))
            (is (ts/wait-until #(= 50 (count-where [:= :n -1])) 30000))
            (await! (p/all (for [id (take 10 ids)]
                             (v/aio-atomic d (fn [_] (p/let [it (v/aio-get Item id)] (v/aio-delete-instance Item it)))))))
            (is (ts/wait-until #(= 190 (await! (v/aio-count (v/select Item)))) 30000))))
        (testing "transactions with savepoints, rolled back and committed"
          (await! (v/aio-atomic d (fn [_]
                                    (p/let [_ (v/aio-create Item {:name "tx" :n 1000})]
                                      (p/catch (v/aio-atomic d (fn [_]
                                                                 (p/let [_ (v/aio-create Item {:name "sp" :n 1001})]
                                                                   (throw (ex-info "undo the savepoint" {})))))
                                               (fn [_] nil))))))
          (is (ts/wait-until #(= 1 (count-where [:in :n [1000 1001]])) 30000)))
        (testing "insert-many, raw SQL with parameters, a selected page"
          (await! (v/aio-execute (v/insert-many Item (for [i (range 100)] {:name (str "bulk-" i) :n (+ 2000 i)}))))
          (is (ts/wait-until #(= 100 (count-where [:>= :n 2000])) 30000))
          (is (= 5 (count (await! (v/aio-execute (-> (v/select Item) (v/where [:>= :n 2000]) (v/order-by :n) (v/limit 5)))))))
          (is (= [{:n 2042}] (:rows (await! (v/aio-execute-sql d "SELECT n FROM pgpool_item WHERE name = $1" ["bulk-42"]))))))
        (testing "streaming"
          (dotimes [_ 3]
            (is (= 100 (await! (v/aio-stream nil (-> (v/select Item) (v/where [:>= :n 2000])) {:fetch-size 7}
                                             (fn [n _] (inc n)) 0))))))
        (testing "a write in a transaction and the reads after it see each other (pgpool keeps them on the primary)"
          (is (= 1 (await! (v/aio-atomic d (fn [_]
                                             (p/let [_ (v/aio-create Item {:name "own" :n 3000})]
                                               (v/aio-count (-> (v/select Item) (v/where [:= :n 3000]))))))))))
        (finally
          (await! (v/aio-drop-tables [Item] {:safe true}))
          (await! (v/aio-close d)))))))
