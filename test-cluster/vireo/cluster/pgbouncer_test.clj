(ns vireo.cluster.pgbouncer-test
  "pgbouncer in transaction mode (bin/cluster-servers) with {:pgbouncer true}:
  every kind of operation, many times over, on a pool of several client
  connections that pgbouncer multiplexes over fewer server connections, so a
  statement prepared on one server connection and used on another would
  fail (26000 / 42P05)."
  (:require [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await!]]))

(set! *warn-on-reflection* true)

(defn- bouncer-db [opts]
  (v/postgresql-database (merge {:host "127.0.0.1" :port (parse-long (System/getenv "VIREO_CLUSTER_BOUNCER_PORT"))
                                 :database "vireo_tls" :user "plainuser" :pgbouncer true :max-size 6}
                                opts)))

(deftest every-operation-through-pgbouncer-test
  (if-not (System/getenv "VIREO_CLUSTER_BOUNCER_PORT")
    (ts/skip! "the cluster servers are not running (bin/test's cluster sub-run starts them)")
    (let [d (bouncer-db {})
          Item (v/model "BouncerItem" {:database d :table "bouncer_item"
                                       :fields {:name {:type :char :max-length 40}
                                                :n {:type :integer}}})]
      (try
        (await! (v/aio-connect d))
        (await! (v/aio-drop-tables [Item] {:safe true}))
        (await! (v/aio-create-tables [Item]))
        (testing "creates, gets, saves, deletes, counts: 200 rounds, 6 at a time"
          (let [ids (await! (p/all (for [i (range 200)]
                                     (p/map (v/aio-create Item {:name (str "item-" i) :n i}) :id))))]
            (is (= 200 (count (distinct ids))))
            (is (= (range 200) (sort (map :n (await! (p/all (for [id ids] (v/aio-get Item id))))))))
            (await! (p/all (for [id (take 50 ids)]
                             (p/let [it (v/aio-get Item id)] (v/aio-save Item (assoc it :n -1))))))
            (is (= 50 (await! (v/aio-count (-> (v/select Item) (v/where [:= :n -1]))))))
            (await! (p/all (for [id (take 10 ids)] (p/let [it (v/aio-get Item id)] (v/aio-delete-instance Item it)))))
            (is (= 190 (await! (v/aio-count (v/select Item)))))))
        (testing "transactions with savepoints, rolled back and committed"
          (await! (v/aio-atomic d (fn [_]
                                    (p/let [_ (v/aio-create Item {:name "tx" :n 1000})]
                                      (p/catch (v/aio-atomic d (fn [_]
                                                                 (p/let [_ (v/aio-create Item {:name "sp" :n 1001})]
                                                                   (throw (ex-info "undo the savepoint" {})))))
                                               (fn [_] nil))))))
          (is (= 1 (await! (v/aio-count (-> (v/select Item) (v/where [:in :n [1000 1001]])))))))
        (testing "insert-many, raw SQL with parameters, a selected page"
          (await! (v/aio-execute (v/insert-many Item (for [i (range 100)] {:name (str "bulk-" i) :n (+ 2000 i)}))))
          (is (= 5 (count (await! (v/aio-execute (-> (v/select Item) (v/where [:>= :n 2000]) (v/order-by :n)
                                                     (v/limit 5)))))))
          (is (= [{:n 2042}] (:rows (await! (v/aio-execute-sql d "SELECT n FROM bouncer_item WHERE name = $1" ["bulk-42"]))))))
        (testing "streaming (a cursor inside the transaction Vireo opens for it)"
          (dotimes [_ 3]
            (is (= 100 (await! (v/aio-stream nil (-> (v/select Item) (v/where [:>= :n 2000])) {:fetch-size 7}
                                             (fn [n _] (inc n)) 0))))))
        (finally
          (await! (v/aio-drop-tables [Item] {:safe true}))
          (await! (v/aio-close d)))))))
