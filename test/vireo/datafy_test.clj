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

(defn- navigable? [x] (fn? (get (meta x) `clojure.core.protocols/nav)))

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
            pet (await! (v/aio-get Pet {:name "Rex"}))]
        (testing "datafy: the row's values plus its model, still navigable"
          (let [df (datafy pet)]
            (is (= (assoc (into {} pet) :vireo/model Pet) (into {} df)))
            (is (identical? Pet (:vireo/model df)) "the model the row was decoded by")
            (is (= "df_pet2" (:table (datafy (:vireo/model df)))) "the model datafies to its data")
            (is (navigable? df))
            (is (identical? df (datafy df)) "datafy of that is itself")
            (is (= (:id ann) (nav df :owner (:owner df))))
            (is (= "Ann" (:name (v/with-allow-sync d (nav df :owner (:owner df))))))))
        (testing "outside the REPL switch nav gives the key and sends nothing"
          (let [[r n] (await! (v/with-call-count (nav pet :owner (:owner pet))))]
            (is (= (:id ann) r))
            (is (zero? n))))
        (testing "under with-allow-sync nav fetches the referenced row"
          (let [owner (v/with-allow-sync d (nav pet :owner (:owner pet)))]
            (is (= (into {} ann) (into {} owner)))
            (testing ", itself navigable"
              (is (navigable? owner))
              (is (identical? Owner (:vireo/model (datafy owner)))))))
        (testing "a foreign key to another field (:to-field) is followed by that field"
          (is (= "Ann" (:name (v/with-allow-sync d (nav pet :keeper "Ann"))))))
        (testing "a key no row has: nil; a nil key or a field that is no foreign key: the value"
          (is (nil? (v/with-allow-sync d (nav pet :owner 999999))))
          (is (nil? (v/with-allow-sync d (nav (assoc pet :owner nil) :owner nil))))
          (is (= "Rex" (v/with-allow-sync d (nav pet :name "Rex")))))
        (testing "a navigable instance saves as a loaded one (only changed fields), and stays navigable"
          (let [[saved n] (await! (v/with-call-count (v/aio-save Pet (assoc pet :name "Max"))))]
            (is (= "Max" (:name saved)))
            (is (= 1 n))
            (is (navigable? saved))
            (is (= "Ann" (:name (v/with-allow-sync d (nav saved :owner (:owner saved))))))))
        (testing "every way Vireo makes instances gives navigable ones, without datafiable"
          (let [created rex
                selected (await! (v/aio-execute (v/select Pet)))
                first-row (await! (v/aio-first (v/where (v/select Pet) [:= :name "Max"])))
                joined (await! (v/aio-execute (-> (v/select Pet Owner) (v/join Owner))))
                returned (await! (v/aio-execute (v/returning (v/insert Pet {:name "Rex" :owner (:id ann)}))))
                raw (await! (v/aio-execute (v/raw Pet "SELECT * FROM df_pet2")))
                streamed (await! (v/aio-transduce (map identity) conj [] (v/select Pet)))]
            (doseq [[what x] {"aio-create" created "a select" (first selected) "aio-first" first-row
                              "a join's root" (first joined) "a RETURNING row" (first returned)
                              "raw SQL as instances" (first raw) "a stream" (first streamed)}]
              (is (navigable? x) what)
              (is (identical? Pet (v/instance-model x)) what)
              (is (= (:id ann) (v/with-allow-sync d (:id (nav x :owner (:owner x))))) what))
            (testing ", a joined model's instance too"
              (let [o (:owner (first joined))]
                (is (navigable? o))
                (is (= Owner (v/instance-model o)))))
            (testing "; other row forms are plain data"
              (is (nil? (meta (first (await! (v/aio-execute (v/as-maps (v/select Pet)))))))))))
        (testing "an instance of a model bound to another database navigates on that database"
          (let [d2 (ts/new-db ts/*backend*)]
            (try
              (let [Pet2 (v/bind-database Pet d2)
                    p2 (await! (v/aio-get Pet2 {:name "Rex"}))]
                (is (identical? Pet2 (v/instance-model p2)))
                (is (= (:id ann) (v/with-allow-sync d (nav p2 :owner (:owner p2))))
                    "sync allowed on the first database only: the key, no query")
                (is (= "Ann" (:name (v/with-allow-sync d2 (nav p2 :owner (:owner p2)))))))
              (finally (await! (v/aio-close d2))))))
        (testing "datafiable: a map Vireo did not make (or a collection of them) as an instance"
          (let [hand (v/datafiable Pet {:name "Hand" :owner (:id ann)})]
            (is (navigable? hand))
            (is (= "Ann" (:name (v/with-allow-sync d (nav hand :owner (:owner hand))))))
            (is (nil? (vireo.impl.model/original hand)) "not taken for a loaded row")
            (is (= [(:id ann)] (map #(nav % :owner (:owner %)) (v/datafiable Pet [{:owner (:id ann)}]))))))))))
