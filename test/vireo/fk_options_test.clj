(ns ^:vireo/per-backend vireo.fk-options-test
  "Explicit single-field primary keys (uuid with a random default, char,
  big-auto) under foreign keys, fetch, prefetch, many-to-many and
  insert-many; the default backref names; foreign-key options (:to-field,
  :on-delete, :on-update, the automatic index, :index false) and explicit
  and :self many-to-many through models, on every backend."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.impl.schema :as schema]
            [vireo.test-support :as ts :refer [await! error-of]])
  (:import (java.util UUID)))

(defn- names [rows] (mapv :name rows))

;; ---------------------------------------------------------------- explicit primary keys
(defn- key-models []
  (let [;; peewee-async's test pattern: UUIDField(primary_key=True, default=uuid.uuid4)
        Doc (ts/model 'FkoDoc {:table "fkodoc"
                               :fields [:id {:type :uuid :primary-key true :default #(UUID/randomUUID)}
                                        :name {:type :text}]})
        Page (ts/model 'FkoPage {:table "fkopage"
                                 :fields [:doc {:type :foreign-key :model Doc :backref :pages}
                                          :name {:type :text}]})
        Lang (ts/model 'FkoLang {:table "fkolang"
                                 :fields [:code {:type :char :max-length 8 :primary-key true}
                                          :name {:type :text}
                                          :docs {:type :many-to-many :model Doc :backref :langs}]})
        Big (ts/model 'FkoBig {:table "fkobig" :fields [:id {:type :big-auto} :name {:type :text}]})
        BigRef (ts/model 'FkoBigRef {:table "fkobigref"
                                     :fields [:big {:type :foreign-key :model Big :backref :refs}
                                              :name {:type :text}]})]
    [Doc Page Lang Big BigRef]))

(deftest uuid-primary-key-test
  (let [[Doc Page Lang Big BigRef] (key-models)]
    (ts/with-tables [Doc Page Lang (v/through-model Lang :docs) Big BigRef]
      (testing "aio-create fills the key from its default; aio-get finds it"
        (let [d (await! (v/aio-create Doc {:name "d1"}))]
          (is (instance? UUID (:id d)))
          (is (= d (await! (v/aio-get Doc (:id d)))))
          (is (= d (await! (v/aio-get Doc {:id (str (:id d))}))) "a uuid given as a string is compared as a uuid")))
      (testing "insert-many yields the keys its defaults generated, in row order"
        (let [ids (await! (v/aio-execute (v/insert-many Doc [{:name "d2"} {:name "d3"} {:name "d4"}])))]
          (is (= 3 (count ids)))
          (is (every? #(instance? UUID %) ids))
          (is (= ["d2" "d3" "d4"] (mapv #(:name (await! (v/aio-get Doc %))) ids)))))
      (testing "an explicit key is kept; insert yields it"
        (let [id (UUID/fromString "00000000-0000-4000-8000-000000000001")]
          (is (= id (await! (v/aio-execute (v/insert Doc {:id id :name "fixed"})))))
          (is (= "fixed" (:name (await! (v/aio-get Doc id)))))))
      (testing "foreign keys over a uuid key: store, fetch, prefetch both ways, join"
        (let [d (await! (v/aio-get Doc {:name "d1"}))
              p (await! (v/aio-create Page {:doc d :name "p1"}))]
          (await! (v/aio-create Page {:doc (:id d) :name "p2"}))
          (is (= (:id d) (:doc (await! (v/aio-get Page (:id p))))))
          (is (= d (:doc (await! (v/aio-fetch Page (await! (v/aio-get Page (:id p))) :doc)))))
          (is (= [["d1" ["p1" "p2"]]]
                 (mapv (juxt :name #(names (:pages %)))
                       (await! (v/aio-prefetch (v/where (v/select Doc) {:id (:id d)}) (v/order-by (v/select Page) :name))))))
          (is (= ["d1" "d1"] (mapv #(get-in % [:doc :name]) (await! (v/aio-prefetch (v/select Page) (v/select Doc))))))
          (is (= ["d1" "d1"] (mapv #(get-in % [:doc :name]) (await! (v/aio-execute (-> (v/select Page Doc) (v/join Doc)))))))))
      (testing "aio-save updates by the uuid key; a recursive delete follows it"
        (let [d (await! (v/aio-get Doc {:name "d1"}))]
          (is (= "d1!" (:name (await! (v/aio-get Doc (:id (await! (v/aio-save Doc (assoc d :name "d1!")))))))))
          (is (= 1 (await! (v/aio-delete-instance Doc d {:recursive true}))))
          (is (= 0 (await! (v/aio-count (v/select Page))))))))))

(deftest char-and-big-auto-primary-key-test
  (let [[Doc Page Lang Big BigRef] (key-models)]
    (ts/with-tables [Doc Page Lang (v/through-model Lang :docs) Big BigRef]
      (testing "a :char key: given by the caller, insert-many yields the given keys"
        (is (= "en" (:code (await! (v/aio-create Lang {:code "en" :name "English"})))))
        (is (= ["fr" "de"] (await! (v/aio-execute (v/insert-many Lang [{:code "fr" :name "French"} {:code "de" :name "German"}])))))
        (is (= "German" (:name (await! (v/aio-get Lang "de")))))
        (is (v/error-type? (error-of #(v/aio-create Lang {:code "en" :name "again"})) :vireo/unique-violation)))
      (testing "many-to-many between a :char key and a uuid key, both directions"
        (let [en (await! (v/aio-get Lang "en"))
              fr (await! (v/aio-get Lang "fr"))
              [d1 d2] (mapv #(await! (v/aio-create Doc {:name %})) ["d1" "d2"])]
          (is (= 2 (await! (v/aio-add Lang en :docs [d1 (:id d2)]))))
          (is (= 1 (await! (v/aio-add Lang fr :docs d1))))
          (is (= #{"d1" "d2"} (set (names (await! (v/aio-related Lang en :docs))))))
          (is (= ["English" "French"] (names (await! (v/aio-related Doc d1 :langs)))) "ordered by the char key: en, fr")
          (is (= 1 (await! (v/aio-remove Lang en :docs [d2]))))
          (is (= ["d1"] (names (await! (v/aio-related Lang en :docs)))))
          (is (= 1 (await! (v/aio-clear Lang fr :docs))))
          (is (= ["English"] (names (await! (v/aio-related Doc d1 :langs)))))))
      (testing "a :big-auto key: generated keys, and keys beyond 32 bits through a foreign key"
        (let [ids (await! (v/aio-execute (v/insert-many Big [{:name "b1"} {:name "b2"}])))]
          (is (= 2 (count ids)))
          (is (= (inc (first ids)) (second ids)))
          (is (= ["b1" "b2"] (mapv #(:name (await! (v/aio-get Big %))) ids))))
        (let [huge 5000000000
              b (await! (v/aio-create Big {:id huge :name "huge"}))
              r (await! (v/aio-create BigRef {:big b :name "r1"}))]
          (is (= huge (:id b)))
          (is (= huge (:big (await! (v/aio-get BigRef (:id r))))))
          (is (= "huge" (get-in (await! (v/aio-fetch BigRef (await! (v/aio-get BigRef (:id r))) :big)) [:big :name])))
          (is (= [["huge" ["r1"]]]
                 (mapv (juxt :name #(names (:refs %)))
                       (await! (v/aio-prefetch (v/where (v/select Big) {:id huge}) (v/select BigRef)))))))))))

;; ---------------------------------------------------------------- default backrefs
(deftest default-backref-names-test
  (let [Shelf (ts/model 'FkoShelf {:table "fkoshelf" :fields {:name {:type :text}}})
        Box (ts/model 'FkoBox {:table "fkobox"
                               :fields [:shelf {:type :foreign-key :model Shelf}
                                        :name {:type :text}
                                        :labels {:type :many-to-many :model Shelf}]})]
    (is (= :fkobox-set (get-in (some #(when (= :shelf (:key %)) %) (v/fields Box)) [:fk :backref])))
    (ts/with-tables [Shelf Box (v/through-model Box :labels)]
      (let [s1 (await! (v/aio-create Shelf {:name "s1"}))
            s2 (await! (v/aio-create Shelf {:name "s2"}))
            b1 (await! (v/aio-create Box {:shelf s1 :name "b1"}))
            _b2 (await! (v/aio-create Box {:shelf s1 :name "b2"}))]
        (testing "a foreign key without :backref fills :<model>-set in a prefetch"
          (is (= [["s1" ["b1" "b2"]] ["s2" []]]
                 (mapv (juxt :name #(names (:fkobox-set %)))
                       (await! (v/aio-prefetch (v/order-by (v/select Shelf) :name) (v/order-by (v/select Box) :name)))))))
        (testing "a many-to-many field without :backref is reachable from its target as :<model>-set"
          (await! (v/aio-add Box b1 :labels [s1 s2]))
          (is (= ["b1"] (names (await! (v/aio-related Shelf s2 :fkobox-set))))))))))

;; ---------------------------------------------------------------- :to-field
(deftest to-field-test
  (let [Cat (ts/model 'FkoCat {:table "fkocat" :fields [:code {:type :char :max-length 10 :unique true}
                                                        :name {:type :text}]})
        Item (ts/model 'FkoItem {:table "fkoitem"
                                 :fields [:cat {:type :foreign-key :model Cat :to-field :code :backref :items :on-update :cascade}
                                          :name {:type :text}]})]
    (testing "the column holds the referenced field's value and takes its type"
      (let [f (some #(when (= :cat (:key %)) %) (v/fields Item))]
        (is (= ["cat_id" :char 10] [(:column f) (:value-type f) (:max-length f)]))))
    (ts/with-tables [Cat Item]
      (let [a (await! (v/aio-create Cat {:code "A" :name "alpha"}))
            b (await! (v/aio-create Cat {:code "B" :name "beta"}))
            i1 (await! (v/aio-create Item {:cat a :name "i1"}))
            _i2 (await! (v/aio-create Item {:cat "A" :name "i2"}))]
        (testing "assignment by instance or raw value stores the code"
          (is (= ["A" "A"] (mapv :cat (await! (v/aio-execute (v/order-by (v/select Item) :name)))))))
        (testing "fetch"
          (is (= a (:cat (await! (v/aio-fetch Item (await! (v/aio-get Item (:id i1))) :cat))))))
        (testing "prefetch, backrefs and forward"
          (is (= [["alpha" ["i1" "i2"]] ["beta" []]]
                 (mapv (juxt :name #(names (:items %)))
                       (await! (v/aio-prefetch (v/order-by (v/select Cat) :code) (v/order-by (v/select Item) :name) {:strategy :join})))))
          (is (= ["alpha" "alpha"] (mapv #(get-in % [:cat :name]) (await! (v/aio-prefetch (v/order-by (v/select Item) :name) (v/select Cat)))))))
        (testing "join (inferred on the code) and filters on the raw value"
          (is (= [["i1" "alpha"] ["i2" "alpha"]]
                 (await! (v/aio-execute (-> (v/select Item :name :fkocat/name) (v/join Cat) (v/order-by :name) v/as-vectors)))))
          (is (= ["i1" "i2"] (names (await! (v/aio-execute (-> (v/select Item) (v/where {:cat "A"}) (v/order-by :name))))))))
        (testing "save: an instance is stored as its code; a loaded instance saves only a changed code"
          (let [saved (await! (v/aio-save Item (assoc (await! (v/aio-get Item (:id i1))) :cat b)))]
            (is (= b (:cat saved)))
            (is (= "B" (:cat (await! (v/aio-get Item (:id i1))))))
            (is (= 0 (second (await! (v/with-call-count (v/aio-save Item (assoc saved :cat "B")))))) "same code: nothing to write")))
        (testing ":on-update :cascade: changing the referenced code updates the referencing rows"
          (is (= 1 (await! (v/aio-execute (-> (v/update Cat {:code "BB"}) (v/where {:code "B"}))))))
          (is (= "BB" (:cat (await! (v/aio-get Item (:id i1)))))))
        (testing "a recursive delete follows the code"
          (is (= 1 (await! (v/aio-delete-instance Cat a {:recursive true}))))
          (is (= ["i1"] (names (await! (v/aio-execute (v/select Item)))))))))
    (testing "the referenced field must be unique"
      (let [e (error-of #(v/model 'FkoBad {:fields {:cat {:type :foreign-key :model Cat :to-field :name}}}))]
        (is (v/error-type? e :vireo/model-error))
        (is (str/includes? (ex-message e) ":to-field :name of FkoCat must be unique"))))))

;; ---------------------------------------------------------------- on-delete / on-update
(deftest on-delete-actions-test
  (let [Parent (ts/model 'FkoParent {:table "fkoparent" :fields {:name {:type :text}}})
        SetNull (ts/model 'FkoSetNull {:table "fkosetnull"
                                       :fields [:parent {:type :foreign-key :model Parent :null true :on-delete :set-null}
                                                :name {:type :text}]})
        Restrict (ts/model 'FkoRestrict {:table "fkorestrict"
                                         :fields [:parent {:type :foreign-key :model Parent :on-delete :restrict}
                                                  :name {:type :text}]})
        Cascade (ts/model 'FkoCascade {:table "fkocascade"
                                       :fields [:parent {:type :foreign-key :model Parent :on-delete :cascade}
                                                :name {:type :text}]})]
    (ts/with-tables [Parent SetNull Restrict Cascade]
      (let [[p1 p2 p3] (mapv #(await! (v/aio-create Parent {:name %})) ["p1" "p2" "p3"])]
        (await! (v/aio-create SetNull {:parent p1 :name "sn"}))
        (await! (v/aio-create Restrict {:parent p2 :name "rs"}))
        (await! (v/aio-create Cascade {:parent p3 :name "cs"}))
        (testing ":set-null: the database unlinks the referencing row"
          (is (= 1 (await! (v/aio-delete-instance Parent p1))))
          (is (= [{:name "sn" :parent nil}] (mapv #(dissoc % :id) (await! (v/aio-execute (v/select SetNull)))))))
        (testing ":restrict: the delete fails and keeps both rows"
          (let [e (error-of #(v/aio-delete-instance Parent p2))]
            (is (v/error-type? e :vireo/foreign-key-violation) (pr-str (ex-data e))))
          (is (some? (await! (v/aio-get-or-none Parent (:id p2)))))
          (is (= ["rs"] (names (await! (v/aio-execute (v/select Restrict)))))))
        (testing ":cascade: the database deletes the referencing row"
          (is (= 1 (await! (v/aio-delete-instance Parent p3))))
          (is (= [] (await! (v/aio-execute (v/select Cascade))))))))))

(deftest on-delete-set-default-test
  (let [Parent (ts/model 'FkoSdParent {:table "fkosdparent" :fields {:name {:type :text}}})
        Child (ts/model 'FkoSdChild {:table "fkosdchild"
                                     :fields [:parent {:type :foreign-key :model Parent :default 1 :on-delete :set-default}
                                              :name {:type :text}]})]
    (testing "a constant default of a foreign key must be a key value"
      (is (v/error-type? (error-of #(v/model 'FkoSdBad {:fields {:p {:type :foreign-key :model Parent :default "one"}}}))
                         :vireo/model-error)))
    (if (= :mysql ts/*backend*)
      (testing "MariaDB accepts SET DEFAULT but enforces NO ACTION: refused, naming the backend, before any table exists"
        (await! (v/aio-drop-tables [Child Parent] {:safe true}))
        (await! (v/aio-create-table Parent))
        (try
          (let [e (error-of #(v/aio-create-table Child))]
            (is (v/error-type? e :vireo/not-supported))
            (is (str/includes? (ex-message e) "ON DELETE SET DEFAULT is not supported by mysql")))
          (is (false? (await! (v/aio-table-exists Child))))
          (finally (await! (v/aio-drop-tables [Child Parent] {:safe true})))))
      (ts/with-tables [Parent Child]
        (testing "the column's DEFAULT is the field's, so the database can set it"
          (let [[p1 p2] (mapv #(await! (v/aio-create Parent {:name %})) ["p1" "p2"])]
            (is (= 1 (:id p1)))
            (await! (v/aio-create Child {:parent p2 :name "c"}))
            (await! (v/aio-delete-instance Parent p2))
            (is (= [1] (mapv :parent (await! (v/aio-execute (v/select Child))))))))))))

;; ---------------------------------------------------------------- indexes
(deftest foreign-key-index-test
  (let [Parent (ts/model 'FkoIxParent {:table "fkoixparent" :fields {:name {:type :text}}})
        Child (ts/model 'FkoIxChild {:table "fkoixchild"
                                     :fields [:parent {:type :foreign-key :model Parent}
                                              :other {:type :foreign-key :model Parent :null true :index false :backref :others}
                                              :only {:type :foreign-key :model Parent :null true :unique true :backref :onlies}]})]
    (ts/with-tables [Parent Child]
      (let [found (await! (schema/index-names Child))]
        (testing "a foreign key is indexed as <table>_<column>; :unique makes that index unique instead"
          (is (some #{"fkoixchild_parent_id"} found))
          (is (some #{"fkoixchild_only_id"} found)))
        (testing ":index false creates no index of Vireo's"
          (is (not (some #{"fkoixchild_other_id"} found)))
          ;; InnoDB indexes every foreign-key column itself, under the name of
          ;; its constraint (<table>_<column>_fkey), unless an index exists
          (is (= (if (= :mysql ts/*backend*)
                   ["fkoixchild_only_id" "fkoixchild_other_id_fkey" "fkoixchild_parent_id"]
                   ["fkoixchild_only_id" "fkoixchild_parent_id"])
                 found)))
        (testing "the unique index is enforced"
          (let [p (await! (v/aio-create Parent {:name "p"}))]
            (await! (v/aio-create Child {:parent p :only p}))
            (is (v/error-type? (error-of #(v/aio-create Child {:parent p :only p})) :vireo/unique-violation))))))))

;; ---------------------------------------------------------------- many-to-many through models
(declare ^:private fko-enrolment)
(declare ^:private fko-never-defined)

(deftest explicit-through-model-test
  (let [Course (ts/model 'FkoCourse {:table "fkocourse" :fields {:name {:type :text}}})
        ;; the through model references Student, so Student names it by a var defined after it
        Student (ts/model 'FkoStudent {:table "fkostudent"
                                       :fields {:name {:type :text}
                                                :courses {:type :many-to-many :model Course :through #'fko-enrolment :backref :students}}})
        Enrolment (ts/model 'FkoEnrolment {:table "fkoenrolment"
                                           :fields [:student {:type :foreign-key :model Student :on-delete :cascade}
                                                    :course {:type :foreign-key :model Course :on-delete :cascade}
                                                    :grade {:type :char :max-length 2 :default "-"}]
                                           :indexes [{:fields [:student :course] :unique true}]})]
    (testing "an undefined through var is named"
      (let [Lost (ts/model 'FkoLost {:fields {:courses {:type :many-to-many :model Course :through #'fko-never-defined}}})
            e (error-of #(v/through-model Lost :courses))]
        (is (v/error-type? e :vireo/interface-error))
        (is (str/includes? (ex-message e) "not defined yet"))))
    (with-redefs [fko-enrolment Enrolment]
      (is (= "fkoenrolment" (v/table-name (v/through-model Student :courses))))
      (try
        (await! (v/aio-drop-tables [Student Course] {:safe true}))
        (testing "aio-create-tables creates the given through model too"
          (await! (v/aio-create-tables [Student Course]))
          (is (true? (await! (v/aio-table-exists Enrolment)))))
        (let [[math art] (mapv #(await! (v/aio-create Course {:name %})) ["math" "art"])
              [ann bob] (mapv #(await! (v/aio-create Student {:name %})) ["ann" "bob"])]
          (testing "add, related both ways, remove and clear use its foreign keys"
            (is (= 2 (await! (v/aio-add Student ann :courses [math art]))))
            (is (= 1 (await! (v/aio-add Student bob :courses math))))
            (is (= ["math" "art"] (names (await! (v/aio-related Student ann :courses)))))
            (is (= ["ann" "bob"] (names (await! (v/aio-related Course math :students)))))
            (is (= ["-" "-" "-"] (mapv :grade (await! (v/aio-execute (v/select Enrolment))))) "its own defaults apply")
            (is (= 1 (await! (v/aio-remove Student ann :courses art))))
            (is (= 1 (await! (v/aio-clear Student bob :courses))))
            (is (= ["ann"] (names (await! (v/aio-related Course math :students)))))))
        (finally (await! (v/aio-drop-tables [Student Course] {:safe true})))))
    (testing "a through model without a foreign key to both sides is a clear error"
      (let [Half (ts/model 'FkoHalf {:table "fkohalf" :fields {:course {:type :foreign-key :model Course}}})
            Odd (ts/model 'FkoOdd {:fields {:courses {:type :many-to-many :model Course :through Half}}})
            e (error-of #(v/aio-related Odd {:id 1} :courses))]
        (is (v/error-type? e :vireo/interface-error))
        (is (str/includes? (ex-message e) "needs a foreign key to FkoOdd") (ex-message e))))
    (testing ":through must be a model (or a var or fn giving one)"
      (is (v/error-type? (error-of #(v/model 'FkoOdd2 {:fields {:cs {:type :many-to-many :model Course :through "fkoenrolment"}}}))
                         :vireo/model-error)))))

(deftest self-many-to-many-test
  (let [Person (ts/model 'FkoPerson {:table "fkoperson"
                                     :fields {:name {:type :text}
                                              :follows {:type :many-to-many :model :self :backref :followers}}})
        Through (v/through-model Person :follows)]
    (is (= "fkoperson_fkoperson_through" (v/table-name Through)))
    (is (= [[:id "id"] [:from "from_id"] [:to-fkoperson "to_fkoperson_id"]] (mapv (juxt :key :column) (v/fields Through))))
    (try
      (await! (v/aio-drop-tables [Person] {:safe true}))
      (await! (v/aio-create-tables [Person]))
      (let [[a b c] (mapv #(await! (v/aio-create Person {:name %})) ["a" "b" "c"])]
        (is (= 2 (await! (v/aio-add Person a :follows [b c]))))
        (is (= 1 (await! (v/aio-add Person b :follows [c]))))
        (is (= 0 (await! (v/aio-add Person a :follows [b]))))
        (is (= ["b" "c"] (names (await! (v/aio-related Person a :follows)))))
        (is (= ["a" "b"] (names (await! (v/aio-related Person c :followers)))))
        (is (= [] (await! (v/aio-related Person a :followers))))
        (is (= 1 (await! (v/aio-remove Person a :follows c))))
        (is (= ["b"] (names (await! (v/aio-related Person c :followers)))))
        (testing "deleting a person removes its links (ON DELETE CASCADE on the through table)"
          (await! (v/aio-delete-instance Person b))
          (is (= [] (await! (v/aio-related Person c :followers))))
          (is (= [] (await! (v/aio-related Person a :follows))))))
      (finally (await! (v/aio-drop-tables [Person] {:safe true}))))))
