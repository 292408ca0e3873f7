(ns ^:vireo/per-backend vireo.compiled-query-test
  "Model queries are compiled once per shape (vireo.impl.ops/run-compiled):
  later queries of the shape bind their own values, encoded by the field's
  codec each time, and a value the field cannot take still fails naming it."
  (:require [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.test-support :as ts :refer [await! error-of]])
  (:import (java.time LocalDateTime)))

(defn- event-model []
  (ts/model 'CqEvent {:table "cq_event"
                      :fields {:name {:type :char :max-length 20}
                               :at {:type :datetime}
                               :done {:type :boolean :default false}
                               :n {:type :integer}}}))

(deftest same-shape-new-values-test
  (let [Event (event-model)
        t0 (LocalDateTime/of 2024 1 1 10 0)]
    (ts/with-tables [Event]
      (await! (v/aio-execute (v/insert-many Event (for [i (range 10)]
                                                    {:name (str "e" i) :at (.plusHours t0 i) :n i}))))
      (testing "one shape, three values: each call its own rows (datetime encoded per call)"
        (doseq [i [3 7 0]]
          (is (= [(str "e" i)]
                 (mapv :name (await! (v/aio-execute (-> (v/select Event)
                                                        (v/where [:= :at (.plusHours t0 i)])))))))))
      (testing "ranges and pages of one shape"
        (doseq [[lo hi] [[2 5] [6 9]]]
          (is (= (range lo (inc hi))
                 (map :n (await! (v/aio-execute (-> (v/select Event) (v/where {:n__between [lo hi]}) (v/order-by :n)))))))))
      (testing "IN lists of other sizes are other shapes, each right"
        (is (= ["e1" "e2"] (mapv :name (await! (v/aio-execute (-> (v/select Event) (v/where [:in :n [1 2]]) (v/order-by :n)))))))
        (is (= ["e1" "e2" "e3"] (mapv :name (await! (v/aio-execute (-> (v/select Event) (v/where [:in :n [1 2 3]]) (v/order-by :n))))))))
      (testing "an update of one shape writes each call's value (boolean encoded per backend)"
        (doseq [[n flag] [[1 true] [2 false] [3 true]]]
          (is (= 1 (await! (v/aio-execute (-> (v/update Event {:done flag}) (v/where [:= :n n])))))))
        (is (= [1 3] (map :n (await! (v/aio-execute (-> (v/select Event) (v/where [:= :done true]) (v/order-by :n))))))))
      (testing "a value the field cannot hold fails naming the field, in a shape seen before"
        (let [e (error-of #(v/aio-execute (-> (v/select Event) (v/where [:= :at "not a datetime"]))))]
          (is (v/error-type? e :vireo/data-error))
          (is (re-find #":at" (ex-message e)))))
      (testing "a model of the same name with another table is another shape"
        (let [Renamed (ts/model 'CqEvent {:table "cq_event_2"
                                          :fields {:name {:type :char :max-length 20}
                                                   :at {:type :datetime}
                                                   :done {:type :boolean :default false}
                                                   :n {:type :integer}}})]
          (ts/with-tables [Renamed]
            (await! (v/aio-create Renamed {:name "other" :at t0 :n 3}))
            (is (= ["other"] (mapv :name (await! (v/aio-execute (-> (v/select Renamed) (v/where [:= :n 3])))))))
            (is (= ["e3"] (mapv :name (await! (v/aio-execute (-> (v/select Event) (v/where [:= :n 3]))))))))))
      (testing "the model is part of the shape: another table, another statement"
        (let [Other (ts/model 'CqOther {:table "cq_other" :fields {:n {:type :integer}}})]
          (ts/with-tables [Other]
            (await! (v/aio-create Other {:n 42}))
            (is (= [42] (map :n (await! (v/aio-execute (-> (v/select Other) (v/where [:= :n 42])))))))
            (is (= [] (map :n (await! (v/aio-execute (-> (v/select Event) (v/where [:= :n 42]))))))))))))
)
