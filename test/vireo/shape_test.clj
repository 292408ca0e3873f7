(ns vireo.shape-test
  "The shape cache gives exactly what vireo.sql/format gives, for every
  dialect, whatever values a query of a cached shape carries."
  (:require [clojure.test :refer [deftest is testing]]
            [vireo.impl.template :as shape]
            [vireo.sql :as sql])
  (:import (java.time LocalDate)
           (java.util UUID)))

(def ^:private queries
  [{:update :page_block :set {:text "x"} :where [:= :id 1]}
   {:update :page_block :set {:text "it's"} :where [:= :id 2]}
   {:select [:id :key] :from :page_block :order-by [:id] :limit 50 :offset 10}
   {:select [:id] :from :t :where [:and [:= :a nil] [:= :b 3]]}
   {:select [:id] :from :t :where [:and [:= :a 4] [:= :b 3]]}
   {:select [:id] :from :t :where [:in :a [1 2 3]]}
   {:select [:id] :from :t :where [:in :a [5 6]]}
   {:select [:id] :from :t :where [:in :a []]}
   {:select [:id] :from :t :where [:in :a #{7 8}]}
   {:select [:id] :from :t :where [:is :flag true]}
   {:select [:id] :from :t :where [:= :flag false]}
   {:select [[[:inline 5] :five] [[:cast :x [:char 10]] :c]] :from :t :where [:= :d (LocalDate/of 2020 1 2)]}
   {:select [[[:over [:sum :n] {:order-by [:id] :frame [:rows [:preceding 2]]}] :s]] :from :t}
   {:select [:id] :from :t :window [[:w {:order-by [:id] :frame [:rows [:preceding 2]]}]]}
   {:insert-into :t :values [{:a 1 :b "x"} {:a 2 :b "y"}] :returning [:id]}
   {:insert-into :t :values [[1 (UUID/fromString "00000000-0000-0000-0000-000000000001")]]}
   {:delete-from :t :where [:like :name "a%"]}
   {:union [{:select [:a] :from :t :where [:= :b 1]} {:select [:a] :from :u :where [:= :b 2]}] :limit 3}
   {:select [:id] :from :t :where [:in :id {:select [:id] :from :u :where [:> :n 10]}]}])

(deftest same-as-format-test
  (doseq [d [:postgres :mysql :sqlite]
          _ (range 2)                       ; the second pass reads the cache
          q queries]
    (let [expected (try (sql/format q {:dialect d}) (catch Exception e (type e)))]
      (is (= expected (try (shape/format-query q d) (catch Exception e (type e))))
          (str d " " (pr-str q))))))

(deftest values-do-not-leak-between-calls-test
  (testing "two queries of one shape get their own parameters"
    (is (= ["UPDATE \"t\" SET \"x\" = $1 WHERE \"id\" = $2" "a" 1]
           (shape/format-query {:update :t :set {:x "a"} :where [:= :id 1]} :postgres)))
    (is (= ["UPDATE \"t\" SET \"x\" = $1 WHERE \"id\" = $2" "b" 2]
           (shape/format-query {:update :t :set {:x "b"} :where [:= :id 2]} :postgres)))))

(deftest ddl-is-not-cached-test
  (is (= (sql/format {:create-table :t :with-columns [[:a :text [:default "x"]]]} {:dialect :mysql})
         (shape/format-query {:create-table :t :with-columns [[:a :text [:default "x"]]]} :mysql))))
