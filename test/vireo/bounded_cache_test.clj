(ns ^:vireo/per-backend vireo.bounded-cache-test
  "Every cache that what callers pass can grow stays bounded (issue 13,
  item 6): 20,000+ distinct inputs — column aliases, query shapes, label
  lists, model filters over distinct field sets, keywords — leave each
  cache within its limit, and every result is still right (a cache that
  reaches its limit is cleared and fills again; see docs/reliability.md)."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.impl.model :as model]
            [vireo.impl.results :as results]
            [vireo.impl.template :as tpl]
            [vireo.promise :as p]
            [vireo.sql :as sql]
            [vireo.test-support :as ts :refer [await!]])
  (:import (java.util.concurrent ConcurrentHashMap)))

(def ^:private batch
  "Operations started at once (the bound may be passed by this many
  entries between one clearing and the next lookup)."
  200)

(defn- in-batches
  "Runs (f i) for every i of `xs`, `batch` at a time; returns the results
  in order."
  [xs f]
  (into [] (mapcat (fn [chunk] (await! (p/all (mapv f chunk))))) (partition-all batch xs)))

(deftest column-aliases-test
  (testing "21,000 distinct column aliases, 1,000 per statement: the label cache stays bounded, rows stay right"
    (let [d (ts/db)
          limit results/label-cache-limit
          sizes (atom [])]
      (doseq [k (range 21)]
        (let [sql (str "SELECT " (str/join ", " (map #(str % " AS c_" k "_" %) (range 1000))))
              [row :as rows] (:rows (await! (v/aio-execute-sql d sql)))]
          (is (= 1 (count rows)))
          (is (= (into {} (map (fn [i] [(keyword (str "c-" k "-" i)) i])) (range 1000)) row)
              (str "statement " k))
          (swap! sizes conj (:labels (results/cache-sizes)))))
      (is (every? #(<= % limit) @sizes) (str "label cache sizes " @sizes)))))

(deftest ^:vireo/stress query-shapes-test
  (testing "20,000 distinct query shapes (and label lists): the shape and builder caches stay bounded"
    (let [d (ts/db)
          dialect ts/*backend*
          results (in-batches (range 20000)
                              (fn [i] (v/aio-execute d {:select [[[:inline i] (keyword (str "s_" i))]]})))]
      (is (= [] (remove nil? (map (fn [i r] (when-not (= [{(keyword (str "s-" i)) i}] r) [i r])) (range 20000) results))))
      (is (<= (tpl/shape-count dialect) (+ tpl/max-shapes batch)) (str (tpl/shape-count dialect) " shapes"))
      (is (<= (:builders (results/cache-sizes)) (+ results/builder-cache-limit batch)))
      (is (<= (:labels (results/cache-sizes)) (+ results/label-cache-limit batch)))))
  (testing "IN lists of 1..500 values, each length its own shape: every result right"
    (let [d (ts/db)
          results (in-batches (range 1 501)
                              (fn [n] (v/aio-execute d {:select [[[:count :*] :n]]
                                                        :from [[{:select [[[:inline 0] :x]]} :sub]]
                                                        :where [:in :x (vec (range n))]})))]
      (is (= [] (remove #{[{:n 1}]} results))))))

(def ^:private filter-fields (mapv #(keyword (str "f" %)) (range 15)))

(defn- wide-model []
  (ts/model 'CacheWide {:table "cache_wide"
                        :fields (into [] (mapcat (fn [k] [k {:type :integer :default 0}])) filter-fields)}))

(deftest ^:vireo/stress model-templates-test
  (testing "20,000 gets by distinct sets of fields (a template each): the model's cache stays bounded"
    (let [M (wide-model)]
      (ts/with-tables [M]
        (let [{:keys [id]} (await! (v/aio-create M {}))
              subsets (->> (range 1 32768)
                           (map (fn [mask] (into {} (keep (fn [i] (when (bit-test mask i) [(nth filter-fields i) 0])))
                                                 (range 15))))
                           (take 20000))
              found (in-batches subsets #(v/aio-get M %))]
          (is (= 20000 (count (distinct subsets))))
          (is (every? #(= id (:id %)) found))
          (is (<= (.size (model/dialect-cache M ts/*backend*)) (+ model/dialect-cache-limit batch)))
          (testing "after clearing, the hot operations still work"
            (is (= id (:id (await! (v/aio-get M id)))))
            (is (= 1 (await! (v/aio-count (v/where (v/select M) {:f0 0}))))))))))
  (testing "20,000 distinct keywords through vireo.sql: its identifier cache stays bounded"
    (let [q (:quote (sql/dialect ts/*backend*))
          sizes (for [i (range 20000)]
                  (let [[s] (sql/format {:select [(keyword (str "k" i))] :from :t} {:dialect ts/*backend*})]
                    (when (zero? (mod i 1000))
                      (is (str/includes? s (str q "k" i q))))
                    (.size ^ConcurrentHashMap (.get ^ConcurrentHashMap @#'vireo.sql/ident-caches q))))]
      (is (<= (apply max sizes) 10000)))))
