(ns ^:vireo/per-backend vireo.wide-model-test
  "A model with more fields than the insert template's bit set has bits
  (63): creates and saves still write exactly the fields given."
  (:require [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.test-support :as ts :refer [await!]]))

(deftest seventy-fields-test
  (let [ks (mapv #(keyword (str "f" %)) (range 70))
        Wide (ts/model 'WideSeventy {:table "wide_seventy"
                                     :fields (vec (mapcat (fn [k] [k {:type :integer :null true}]) ks))})]
    (ts/with-tables [Wide]
      (testing "every field, then a few of the last ones, then none"
        (let [all (zipmap ks (range 70))
              a (await! (v/aio-create Wide all))
              b (await! (v/aio-create Wide {:f64 64 :f69 69}))
              c (await! (v/aio-create Wide {}))]
          (is (= (assoc all :id (:id a)) (await! (v/aio-get Wide (:id a)))))
          (is (= (merge (zipmap ks (repeat nil)) {:id (:id b) :f64 64 :f69 69}) (await! (v/aio-get Wide (:id b)))))
          (is (every? nil? (vals (dissoc (await! (v/aio-get Wide (:id c))) :id))))
          (testing "the same fields again reuse their template"
            (let [d (await! (v/aio-create Wide {:f64 1 :f69 2}))]
              (is (= [1 2] ((juxt :f64 :f69) (await! (v/aio-get Wide (:id d))))))))
          (testing "a save of a loaded instance writes the changed field"
            (let [saved (await! (v/aio-save Wide (assoc (await! (v/aio-get Wide (:id b))) :f66 66)))]
              (is (= 66 (:f66 (await! (v/aio-get Wide (:id saved)))))))))))))
