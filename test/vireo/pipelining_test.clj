(ns ^:vireo/per-backend vireo.pipelining-test
  "Opt-in pipelining: reads outside any scope go through a pipelined client
  (many in flight on one connection); everything else keeps the pool."
  (:require [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await! error-of]]))

(defn- pid-sql [] (if (= ts/*backend* :postgres) "SELECT pg_backend_pid() AS pid" "SELECT CONNECTION_ID() AS pid"))

(deftest ^{:backends #{:postgres :mysql}} pipelined-reads-test
  (let [d (ts/new-db ts/*backend* {:pipelining true :pipelining-max-size 1 :max-size 2})]
    (try
      (testing "fifty concurrent reads share the pipelined client's one connection"
        (let [pids (await! (p/all (repeatedly 50 #(v/aio-execute-sql d (pid-sql)))))]
          (is (= 1 (count (set (map #(:pid (first (:rows %))) pids)))))))
      (testing "reads inside a transaction use the transaction's connection"
        (let [outside (:pid (first (:rows (await! (v/aio-execute-sql d (pid-sql))))))
              inside (await! (v/aio-atomic d (fn [_] (p/map (v/aio-execute-sql d (pid-sql)) #(:pid (first (:rows %)))))))]
          (is (not= outside inside))))
      (testing "model operations work through it"
        (let [M (v/model 'PipeThing {:database d :table "pipe_thing" :fields {:n {:type :integer}}})]
          (try
            (await! (v/aio-create-table M {:safe true}))
            (let [ids (await! (p/all (map #(v/aio-execute (v/insert M {:n %})) (range 20))))
                  rows (await! (p/all (map #(v/aio-get M %) ids)))]
              (is (= (range 20) (map :n rows))))
            (finally (await! (v/aio-drop-table M {:safe true}))))))
      (finally (await! (v/aio-close d))))))

(deftest ^{:backends #{:sqlite}} sqlite-refuses-pipelining-test
  (is (v/error-type? (error-of #(ts/new-db :sqlite {:pipelining true})) :vireo/interface-error)))
