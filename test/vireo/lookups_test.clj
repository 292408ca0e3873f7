(ns ^:vireo/per-backend vireo.lookups-test
  "Joins of every type, Django-style filter lookups and compound queries,
  executed on every backend; the features a backend lacks are refused
  through model queries with an error naming it."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.test-support :as ts :refer [await! error-of]]))

(defn- models []
  (let [Owner (ts/model 'LkOwner {:table "lkowner" :fields [:name {:type :char :max-length 20}]})
        Pet (ts/model 'LkPet {:table "lkpet"
                              :fields [:owner {:type :foreign-key :model Owner :null true :backref :pets}
                                       :name {:type :char :max-length 20}
                                       :legs {:type :integer :null true}]})]
    [Owner Pet]))

(defn- seed
  "Owners ann, bob (no pet), cy; pets Rex (ann, 4), rita (ann, 2), Tom (cy, 4),
  Stray (no owner, legs NULL)."
  [Owner Pet]
  (let [[ann _bob cy] (await! (v/aio-execute (v/insert-many Owner [{:name "ann"} {:name "bob"} {:name "cy"}])))]
    (await! (v/aio-execute (v/insert-many Pet [{:owner ann :name "Rex" :legs 4} {:owner ann :name "rita" :legs 2}
                                               {:owner cy :name "Tom" :legs 4} {:owner nil :name "Stray" :legs nil}])))))

(defn- pairs
  "[owner-name pet-name] of a join, sorted (nil first)."
  [q]
  (sort-by (juxt #(or (first %) "") #(or (second %) ""))
           (await! (v/aio-execute (v/as-vectors q)))))

(deftest join-types-test
  (let [[Owner Pet] (models)]
    (ts/with-tables [Owner Pet]
      (seed Owner Pet)
      (testing "inner"
        (is (= [["ann" "Rex"] ["ann" "rita"] ["cy" "Tom"]]
               (pairs (-> (v/select Owner :name :lkpet/name) (v/join Pet))))))
      (testing "left: an owner without pets is kept with NULLs"
        (is (= [["ann" "Rex"] ["ann" "rita"] ["bob" nil] ["cy" "Tom"]]
               (pairs (-> (v/select Owner :name :lkpet/name) (v/join Pet {:type :left}))))))
      (testing "right: a pet without owner is kept with NULLs (SQLite has RIGHT JOIN since 3.39)"
        (is (= [[nil "Stray"] ["ann" "Rex"] ["ann" "rita"] ["cy" "Tom"]]
               (pairs (-> (v/select Owner :name :lkpet/name) (v/join Pet {:type :right}))))))
      (testing "full: refused on MariaDB, naming it; both sides kept elsewhere"
        (let [q (-> (v/select Owner :name :lkpet/name) (v/join Pet {:type :full}))]
          (if (= :mysql ts/*backend*)
            (let [e (error-of #(v/aio-execute q))]
              (is (v/error-type? e :vireo/not-supported))
              (is (= "FULL JOIN is not supported by mysql (MariaDB)" (ex-message e))))
            (is (= [[nil "Stray"] ["ann" "Rex"] ["ann" "rita"] ["bob" nil] ["cy" "Tom"]] (pairs q))))))
      (testing "cross: every pairing, no condition"
        (is (= 12 (count (await! (v/aio-execute (-> (v/select Owner :name :lkpet/name) (v/join Pet {:type :cross}) v/as-vectors))))))
        (is (= [["bob" "Rex"] ["bob" "Stray"] ["bob" "Tom"] ["bob" "rita"]]
               (pairs (-> (v/select Owner :name :lkpet/name) (v/join Pet {:type :cross}) (v/where {:name "bob"}))))))
      (testing "an unknown join type is named"
        (is (str/includes? (ex-message (error-of #(v/aio-execute (-> (v/select Owner) (v/join Pet {:type :outer})))))
                           ":type must be")))
      (testing "a left-joined instance whose row is missing nests as nil"
        (let [rows (await! (v/aio-execute (-> (v/select Pet Owner) (v/join Owner {:type :left}) (v/order-by :name))))]
          (is (= [["Rex" "ann"] ["Stray" nil] ["Tom" "cy"] ["rita" "ann"]]
                 (sort-by first (mapv (juxt :name #(get-in % [:owner :name])) rows))))
          (is (nil? (:owner (some #(when (= "Stray" (:name %)) %) rows))) "nil, not a map of NULLs")
          (is (map? (:owner (some #(when (= "Rex" (:name %)) %) rows)))))
        (testing "also under an alias, from the other side"
          (let [rows (await! (v/aio-execute (-> (v/select Owner Pet)
                                                (v/join Pet {:type :left :as :p :attr :pet})
                                                (v/where {:name "bob"}))))]
            (is (= [{:name "bob" :pet nil}] (mapv #(dissoc % :id) rows)))))))))

(deftest lookups-test
  (let [[Owner Pet] (models)]
    (ts/with-tables [Owner Pet]
      (seed Owner Pet)
      (let [pets (fn [filter-map] (sort (mapv :name (await! (v/aio-execute (v/where (v/select Pet) filter-map))))))]
        (testing "every lookup, executed"
          (is (= ["Rex" "Tom"] (pets {:legs 4})))
          (is (= ["Rex" "Tom"] (pets {:legs__eq 4})))
          (is (= ["rita"] (pets {:legs__ne 4})) "<> skips NULL, as SQL does")
          (is (= ["rita"] (pets {:legs__lt 4})))
          (is (= ["Rex" "Tom" "rita"] (pets {:legs__lte 4})))
          (is (= [] (pets {:legs__gt 4})))
          (is (= ["Rex" "Tom"] (pets {:legs__gte 3})))
          (is (= ["Rex" "Stray"] (pets {:name__in ["Rex" "Stray" "nobody"]})))
          (is (= ["Tom" "rita"] (pets {:name__not-in ["Rex" "Stray"]})))
          (is (= ["Rex" "Tom" "rita"] (pets {:legs__between [2 4]})))
          (is (= ["rita"] (pets {:legs__between [1 3]})))
          ;; LIKE goes to the database unchanged, so its case rule is the
          ;; server's: case-sensitive on PostgreSQL, ASCII-insensitive on
          ;; SQLite, the column's collation on MariaDB (bin/test's database
          ;; is utf8mb4_bin, a _ci default would ignore case)
          (let [ci? (case ts/*backend*
                      :postgres false
                      :sqlite true
                      :mysql (let [[{c :c}] (:rows (await! (v/aio-execute-sql (ts/db) "SELECT COLLATION_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?" ["lkpet" "name"])))]
                               (boolean (re-find #"_ci$" (str c)))))]
            (is (= (if ci? ["Rex" "rita"] ["Rex"]) (pets {:name__like "R%"}))
                "LIKE follows the server's case rule"))
          (is (= ["Stray"] (pets {:legs__is-null true})))
          (is (= ["Rex" "Tom" "rita"] (pets {:legs__is-null false})))
          (is (= ["Stray"] (pets {:legs nil})) "nil equality is IS NULL")
          (is (= ["Rex" "rita"] (pets {:owner__in (v/where (v/select Owner :id) {:name "ann"})})) "in a subquery"))
        (testing "ilike: PostgreSQL only; refused elsewhere through the lookup, naming the backend"
          (if (= :postgres ts/*backend*)
            (is (= ["Rex" "rita"] (pets {:name__ilike "r%"})))
            (let [e (error-of #(v/aio-execute (v/where (v/select Pet) {:name__ilike "r%"})))]
              (is (v/error-type? e :vireo/not-supported))
              (is (str/includes? (ex-message e) (str "ILIKE is not supported by " (name (if (= :mysql ts/*backend*) :mysql :sqlite))))))))
        (testing "bad lookups are named"
          (is (str/includes? (ex-message (error-of #(pets {:legs__between [1]}))) "[low high]"))
          (is (str/includes? (ex-message (error-of #(pets {:legs__almost 1}))) "__almost")))))))

(deftest compound-test
  (let [[Owner Pet] (models)]
    (ts/with-tables [Owner Pet]
      (seed Owner Pet)
      (let [q (fn [filter-map] (-> (v/select Pet :name) (v/where filter-map)))
            names #(set (map :name (await! (v/aio-execute %))))]
        (testing "three-argument intersect"
          (is (= #{"Rex"} (names (v/intersect (q {:legs__gte 2}) (q {:name__in ["Rex" "rita"]}) (q {:legs 4}))))))
        (testing "three-argument except"
          (is (= #{"Tom"} (names (v/except (q {:legs__is-null false}) (q {:name "Rex"}) (q {:name "rita"}))))))
        (testing "nested intersect"
          (is (= #{"Rex"} (names (v/intersect (v/intersect (q {:legs 4}) (q {:name__in ["Rex" "Stray"]}))
                                              (q {:legs__gte 0})))))
          (is (= #{"Rex" "Stray"} (names (v/union (v/intersect (q {:legs 4}) (q {:name "Rex"})) (q {:legs nil}))))))
        (testing "counted and tested for existence"
          (is (= 1 (await! (v/aio-count (v/except (q {:legs__is-null false}) (q {:name "Rex"}) (q {:name "rita"}))))))
          (is (false? (await! (v/aio-exists (v/intersect (q {:name "Rex"}) (q {:name "Tom"}) (q {:legs 4})))))))))))
