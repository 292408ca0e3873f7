(ns ^:vireo/per-backend vireo.datafy-test
  "clojure.datafy on models and instances, on every backend: a model's
  datafy is its data; nav on a foreign key fetches the referenced row only
  under the REPL switch (allow-sync), and otherwise gives the key and sends
  nothing."
  (:require [clojure.datafy :refer [datafy nav]]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.test-support :as ts :refer [await!]]))

(deftest model-datafy-test
  (let [Owner (ts/model 'DfOwner {:table "df_owner" :fields [:name {:type :char :max-length 40 :unique true}]})
        Pet (ts/model 'DfPet {:table "df_pet"
                              :fields [:name {:type :char :max-length 40 :default "x"}
                                       :born {:type :date :null true :default #(java.time.LocalDate/of 2020 1 1)}
                                       :owner {:type :foreign-key :model Owner :on-delete :cascade}]
                              :indexes [{:fields [:name :owner] :unique true}]})
        d (datafy Pet)]
    (is (= "DfPet" (:name d)))
    (is (= "df_pet" (:table d)))
    (is (= :id (:primary-key d)))
    (is (= [:id :name :born :owner] (mapv :key (:fields d))))
    (is (= {:key :name :column "name" :type :char :max-length 40 :default "x"}
           (select-keys (second (:fields d)) [:key :column :type :max-length :default])))
    (is (= 'fn (:default (nth (:fields d) 2))) "a function default shows as the symbol fn")
    (is (= {:model "DfOwner" :table "df_owner" :column "id"}
           (-> (nth (:fields d) 3) :references (select-keys [:model]) (assoc :table (get-in (nth (:fields d) 3) [:references :target-table])
                                                                          :column (get-in (nth (:fields d) 3) [:references :target-column])))))
    (is (= 1 (count (:indexes d))))
    (is (string? (:database d)))
    (is (not (re-find #"(?i)password" (:database d))) "no secret in the data")
    (testing "plain data: prints and reads back"
      (is (= (dissoc d :fields) (read-string (pr-str (dissoc d :fields))))))))

(deftest instance-nav-test
  (let [d (ts/db)
        Owner (ts/model 'DfOwner2 {:table "df_owner2" :fields [:name {:type :char :max-length 40 :unique true}]})
        Pet (ts/model 'DfPet2 {:table "df_pet2"
                               :fields [:name {:type :char :max-length 40}
                                        :owner {:type :foreign-key :model Owner :null true}
                                        :keeper {:type :foreign-key :model Owner :to-field :name :null true}]})]
    (ts/with-tables [Owner Pet]
      (let [ann (await! (v/aio-create Owner {:name "Ann"}))
            rex (await! (v/aio-create Pet {:name "Rex" :owner (:id ann) :keeper "Ann"}))
            pet (v/datafiable Pet (await! (v/aio-get Pet {:name "Rex"})))]
        (is (= (into {} rex) (into {} pet)) "the values are unchanged")
        (is (identical? pet (datafy pet)) "an instance's datafy is the instance")
        (testing "outside the REPL switch nav gives the key and sends nothing"
          (let [[r n] (await! (v/with-call-count (nav pet :owner (:owner pet))))]
            (is (= (:id ann) r))
            (is (zero? n))))
        (testing "under with-allow-sync nav fetches the referenced row"
          (let [owner (v/with-allow-sync d (nav pet :owner (:owner pet)))]
            (is (= (into {} ann) (into {} owner)))
            (testing ", itself navigable"
              (is (fn? (get (meta owner) `clojure.core.protocols/nav))))))
        (testing "a foreign key to another field (:to-field) is followed by that field"
          (is (= "Ann" (:name (v/with-allow-sync d (nav pet :keeper "Ann"))))))
        (testing "a key no row has: nil; a nil key or a field that is no foreign key: the value"
          (is (nil? (v/with-allow-sync d (nav pet :owner 999999))))
          (is (nil? (v/with-allow-sync d (nav (v/datafiable Pet (assoc pet :owner nil)) :owner nil))))
          (is (= "Rex" (v/with-allow-sync d (nav pet :name "Rex")))))
        (testing "a navigable instance saves as a loaded one (only changed fields)"
          (let [[saved n] (await! (v/with-call-count (v/aio-save Pet (assoc pet :name "Max"))))]
            (is (= "Max" (:name saved)))
            (is (= 1 n))))
        (testing "collections: each instance navigable"
          (let [pets (v/datafiable Pet (await! (v/aio-execute (v/select Pet))))]
            (is (= [(:id ann)] (map #(nav % :owner (:owner %)) pets)))))))))
