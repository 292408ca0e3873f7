(ns ^:vireo/per-backend vireo.model-value-test
  "Models are values: equal definitions give equal models (and hashes)
  whatever queries ran, a changed model never runs the statements cached for
  the model it came from, and building a model registers nothing — its
  backrefs and many-to-many backrefs become known through defmodel or
  register-model!, the latest definition of a name winning."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.impl.model :as model]
            [vireo.impl.query :as q]
            [vireo.impl.registry :as registry]
            [vireo.test-support :as ts :refer [await! error-of]]))

(defn- named
  "A model name unique to the backend under test (the registry is global and
  each backend runs the namespace again)."
  [base]
  (symbol (str base (str/capitalize (name ts/*backend*)))))

;; ---------------------------------------------------------------- equality
(defn- tag-def [] {:database (ts/db) :table "mv_tag" :fields {:name {:type :char :max-length 20 :unique true}}})

(defn- doc-def [tag]
  {:database (ts/db) :table "mv_doc"
   :fields [:id {:type :uuid :primary-key true}       ; its default: a random UUID
            :title {:type :char :max-length 40}
            :n {:type :integer :null true}
            :tags {:type :many-to-many :model tag}]})

(deftest equal-models-stay-equal-test
  (let [Tag (v/model 'MvTag (tag-def))
        Doc (v/model 'MvDoc (doc-def Tag))
        Doc-before (v/model 'MvDoc (doc-def Tag))
        hash-before (hash Doc-before)]
    (testing "equal definitions give equal models with equal hashes"
      (is (= Doc Doc-before))
      (is (= (hash Doc) hash-before)))
    (ts/with-tables [Tag Doc (v/through-model Doc :tags)]
      (let [t (await! (v/aio-create Tag {:name "x"}))
            d (await! (v/aio-create Doc {:title "a"}))]
        (is (= d (await! (v/aio-get Doc (:id d)))))
        (is (= d (await! (v/aio-get Doc {:title "a"}))))
        (is (= 2 (:n (await! (v/aio-save Doc (assoc d :n 2))))))
        (is (= ["a"] (mapv :title (await! (v/aio-execute (v/where (v/select Doc) [:= :title "a"]))))))
        (is (= 1 (await! (v/aio-add Doc d :tags t))))
        (is (= ["x"] (mapv :name (await! (v/aio-related Doc d :tags)))))
        (is (= 1 (await! (v/aio-delete-instance Doc d)))))
      (testing "after one of them ran queries, they are still equal, hashes too, and so is a new one"
        (let [Doc-after (v/model 'MvDoc (doc-def Tag))]
          (is (= Doc Doc-before Doc-after))
          (is (= hash-before (hash Doc) (hash Doc-after)))
          (is (= Tag (v/model 'MvTag (tag-def))))
          (is (= (hash Tag) (hash (v/model 'MvTag (tag-def)))))
          (testing "as set members and map keys"
            (is (= 1 (count (set [Doc Doc-before Doc-after]))))
            (is (contains? #{Doc-after} Doc))
            (is (= :found (get {Doc-before :found} Doc))))
          (testing "their through models and bound copies too"
            (is (= (v/through-model Doc :tags) (v/through-model Doc-after :tags)))
            (let [other (ts/new-db ts/*backend*)]
              (try
                (let [bound (v/bind-database Doc other)]
                  (is (nil? (await! (v/aio-get-or-none bound (java.util.UUID/randomUUID)))) "the bound copy runs queries")
                  (is (= 0 (await! (v/aio-count (v/select bound)))))
                  (is (= bound (v/bind-database Doc-after other)))
                  (is (= (hash bound) (hash (v/bind-database Doc-after other)))))
                (finally (await! (v/aio-close other)))))))))))

;; ---------------------------------------------------------------- changed models
(deftest changed-model-runs-its-own-statements-test
  (let [A (v/model 'MvItem {:database (ts/db) :table "mv_item_a" :fields {:name {:type :char :max-length 20}}})
        Wide (v/model 'MvItemWide {:database (ts/db) :table "mv_item_b"
                                   :fields [:name {:type :char :max-length 20} :note {:type :text :null true}]})]
    (ts/with-tables [A Wide]
      (let [a1 (await! (v/aio-create A {:name "in-a"}))]
        (is (= a1 (await! (v/aio-get A (:id a1)))) "A's statements are cached now")
        (is (= a1 (await! (v/aio-get A {:name "in-a"}))))
        (testing "(assoc m :table …) runs against the other table"
          (let [B (assoc A :table "mv_item_b")
                b1 (await! (v/aio-create B {:name "in-b"}))]
            (is (= (:id a1) (:id b1)) "both tables' first row: a stale statement would read A's")
            (is (= "in-b" (:name (await! (v/aio-get B (:id b1))))))
            (is (= "in-b" (:name (await! (v/aio-get B {:name "in-b"})))))
            (is (nil? (await! (v/aio-get-or-none B {:name "in-a"}))))
            (is (= "renamed" (:name (await! (v/aio-save B (assoc b1 :name "renamed"))))))
            (is (= ["renamed"] (mapv :name (await! (v/aio-execute (v/select Wide))))))
            (is (= ["in-a"] (mapv :name (await! (v/aio-execute (v/select A))))))
            (is (= "in-a" (:name (await! (v/aio-get A (:id a1))))) "A still reads its own table")
            (testing "a field added: its column is read and decoded"
              (let [note (model/field Wide :note)
                    B+ (-> B (update :fields conj note) (assoc-in [:field-index :note] note))]
                (await! (v/aio-save Wide (assoc (await! (v/aio-get Wide (:id b1))) :note "hi")))
                (is (= {:id (:id b1) :name "renamed" :note "hi"} (await! (v/aio-get B+ (:id b1)))))
                (is (= {:id (:id b1) :name "renamed"} (await! (v/aio-get B (:id b1)))))))
            (is (= 1 (await! (v/aio-delete-instance B b1))))
            (is (= 1 (await! (v/aio-count (v/select A)))) "the delete went to B's table")))))))

(deftest caches-found-without-hashing-test
  (let [P (v/model 'MvFastP {:database (ts/db) :table "mv_fast_p" :fields {:name {:type :text}}})
        K (v/model 'MvFastK {:database (ts/db) :table "mv_fast_k" :fields {:p {:type :foreign-key :model P}}})
        other (ts/new-db ts/*backend*)]
    (testing "models from model, bind-database, bound-model and fk-target find their caches by identity"
      (is (model/cached-by-identity? P))
      (is (model/cached-by-identity? K))
      (let [bound (v/bind-database K other)
            target (model/fk-target bound (model/field bound :p))]
        (is (model/cached-by-identity? bound))
        (is (identical? (model/dialect-cache K :postgres) (model/dialect-cache bound :postgres))
            "a rebound model shares the caches of its original")
        (is (model/cached-by-identity? (q/bound-model P bound)))
        (is (identical? other (:database target)))
        (is (model/cached-by-identity? target))
        (is (identical? (model/dialect-cache P :mysql) (model/dialect-cache target :mysql)))))
    (testing "a copy with only :database assoc'ed shares; a changed definition has caches of its own"
      (is (identical? (model/dialect-cache K :sqlite) (model/dialect-cache (assoc K :database other) :sqlite)))
      (is (not (model/cached-by-identity? (assoc K :table "x"))))
      (is (not (identical? (model/dialect-cache K :sqlite) (model/dialect-cache (assoc K :table "x") :sqlite))))
      (is (identical? (model/dialect-cache (assoc K :table "x") :sqlite) (model/dialect-cache (assoc K :table "x") :sqlite))
          "equal changed models share theirs"))))

(deftest content-cache-is-bounded-test
  (let [M (v/model 'MvBounded {:fields {:name {:type :text}}})]
    (dotimes [i 1000]
      ;; the backend under test: only its backend is sure to be loaded
      (model/codecs (assoc M :table (str "mv_bounded_" i)) ts/*backend*))
    (is (<= (model/content-cache-size) 256))))

;; ---------------------------------------------------------------- bind-database
(deftest bind-database-test
  (let [M (v/model 'MvBind {:database (ts/db) :table "mv_bind" :fields {:name {:type :text}}})
        other (ts/new-db ts/*backend*)]
    (try
      (testing "equal by content: the same definition with another :database"
        (is (= (assoc M :database other) (v/bind-database M other) (v/bind-database M other)))
        (is (= (hash (assoc M :database other)) (hash (v/bind-database M other))))
        (is (not= M (v/bind-database M other)))
        (is (= M (v/bind-database (v/bind-database M other) (ts/db))) "bound back, it equals the original"))
      (ts/with-tables [M]
        (let [bound (v/bind-database M other)
              row (await! (v/aio-create bound {:name "via other"}))]
          (is (= row (await! (v/aio-get M (:id row)))) "same server and database, so the original reads the row")
          (is (= row (await! (v/aio-get bound (:id row)))))
          (is (= (v/bind-database (v/model 'MvBind {:database (ts/db) :table "mv_bind" :fields {:name {:type :text}}}) other)
                 bound)
              "still equal to a fresh model bound the same way after queries")))
      (testing "a non-model is refused by name, without printing it"
        (let [e (error-of #(v/bind-database {:password "s3cret"} other))]
          (is (v/error-type? e :vireo/interface-error))
          (is (str/includes? (ex-message e) "bind-database needs a model"))
          (is (not (str/includes? (ex-message e) "s3cret")))))
      (finally (await! (v/aio-close other))))))

;; ---------------------------------------------------------------- registration
(deftest pure-model-registers-nothing-test
  (let [P (v/model (named "MvOwner") {:database (ts/db) :table "mv_owner" :fields {:name {:type :text}}})
        K (v/model (named "MvPet") {:database (ts/db) :table "mv_pet"
                                    :fields [:owner {:type :foreign-key :model P :backref :pets} :name {:type :text}]})
        Club (v/model (named "MvClub") {:database (ts/db) :table "mv_club"
                                        :fields {:name {:type :text} :members {:type :many-to-many :model P :backref :clubs}}})]
    (is (= [] (registry/backrefs P)) "model registers nothing")
    (is (nil? (registry/m2m-backref (:name P) :clubs)))
    (ts/with-tables [P K Club (v/through-model Club :members)]
      (let [o (await! (v/aio-create P {:name "o"}))
            _ (await! (v/aio-create K {:owner o :name "rex"}))
            c (await! (v/aio-create Club {:name "c"}))]
        (is (= 1 (await! (v/aio-add Club c :members o))))
        (testing "unregistered, the pet and the club's backref are unknown on the owner's side"
          (is (not-any? #(= (:name K) (:name (:model %))) (registry/backrefs P)))
          (is (v/error-type? (error-of #(v/aio-delete-instance P o {:recursive true})) :vireo/foreign-key-violation)
              "a recursive delete does not know the pets")
          (is (v/error-type? (error-of #(v/aio-related P o :clubs)) :vireo/interface-error)))
        (testing "register-model! makes them known; it returns the model"
          (is (identical? K (v/register-model! K)))
          (is (identical? Club (v/register-model! Club)))
          (is (= [:owner] (keep #(when (= (:name K) (:name (:model %))) (:key (:field %))) (registry/backrefs P))))
          (is (= ["c"] (mapv :name (await! (v/aio-related P o :clubs)))))
          (is (= 1 (await! (v/aio-delete-instance P o {:recursive true}))))
          (is (= 0 (await! (v/aio-count (v/select K))))))))
    (testing "a non-model is refused"
      (is (v/error-type? (error-of #(v/register-model! {:name "x" :password "s3cret"})) :vireo/interface-error))
      (is (not (str/includes? (ex-message (error-of #(v/register-model! {:password "s3cret"}))) "s3cret")))
      (is (v/error-type? (error-of #(v/register-model! nil)) :vireo/interface-error)))))

(def ^:dynamic *owner* nil)

(deftest defmodel-registers-test
  (let [Owner (v/model (named "MvDefOwner") {:fields {:name {:type :text}}})
        pet-name (named "MvDefPet")
        form `(v/defmodel ~pet-name {:fields {:owner {:type :foreign-key :model *owner* :backref :pets}}})]
    (binding [*owner* Owner]
      (v/model pet-name {:fields {:owner {:type :foreign-key :model Owner :backref :pets}}})
      (is (= [] (registry/backrefs Owner)) "the same definition built with model registers nothing")
      (let [v (binding [*ns* (the-ns 'vireo.model-value-test)] (eval form))
            Pet @v]
        (try
          (is (= [Pet] (mapv :model (registry/backrefs Owner))) "defmodel registered it")
          (is (identical? Pet (registry/registered (name pet-name))))
          (finally (ns-unmap 'vireo.model-value-test pet-name)))))))

(deftest redefinition-replaces-registration-test
  (let [Owner (v/register-model! (v/model (named "MvROwner") {:fields {:name {:type :text}}}))
        Keeper (v/register-model! (v/model (named "MvRKeeper") {:fields {:name {:type :text}}}))
        pet (named "MvRPet")
        v1 (v/register-model! (v/model pet {:fields {:owner {:type :foreign-key :model Owner :backref :pets}}}))]
    (is (= [v1] (mapv :model (registry/backrefs Owner))))
    (testing "the latest definition of a name wins; the old one's foreign keys are forgotten"
      (let [v2 (v/register-model! (v/model pet {:fields {:keeper {:type :foreign-key :model Keeper :backref :pets}}}))]
        (is (= [] (registry/backrefs Owner)))
        (is (= [v2] (mapv :model (registry/backrefs Keeper))))
        (is (identical? v2 (registry/registered (name pet))))))
    (testing "registering the registered definition again changes nothing"
      (let [m (registry/registered (name pet))
            before @@#'registry/registry]
        (is (identical? m (v/register-model! m)))
        (is (identical? before @@#'registry/registry))))
    (testing "an equal definition built again replaces the registered one (latest wins)"
      (let [again (v/model pet {:fields {:keeper {:type :foreign-key :model Keeper :backref :pets}}})]
        (is (= again (registry/registered (name pet))))
        (v/register-model! again)
        (is (identical? again (registry/registered (name pet))))))
    (testing "thousands of REPL redefinitions keep one registration"
      (dotimes [i 3000]
        (v/register-model! (v/model pet {:table (str "mv_rpet_" i)
                                         :fields {:owner {:type :foreign-key :model Owner :backref :pets}}})))
      (is (= ["mv_rpet_2999"] (mapv (comp :table :model) (registry/backrefs Owner))))
      (is (= [] (registry/backrefs Keeper))))
    (testing "many-to-many backrefs: the latest definition's"
      (let [Tag (v/register-model! (v/model (named "MvRTag") {:fields {:name {:type :text}}}))
            art (named "MvRArt")
            a1 (v/register-model! (v/model art {:fields {:tags {:type :many-to-many :model Tag :backref :articles}}}))]
        (is (identical? a1 (:owner (registry/m2m-backref (:name Tag) :articles))))
        (let [a2 (v/register-model! (v/model art {:fields {:tags {:type :many-to-many :model Tag :backref :posts}}}))]
          (is (nil? (registry/m2m-backref (:name Tag) :articles)))
          (is (identical? a2 (:owner (registry/m2m-backref (:name Tag) :posts)))))))
    (testing "a generated through model follows a redefined side's key"
      (let [k1 (v/model (named "MvRKey") {:fields {:name {:type :text}}})
            h1 (v/model (named "MvRHolder") {:fields {:keys {:type :many-to-many :model k1}}})
            fk (keyword (str/lower-case (:name k1)))
            t1 (v/through-model h1 :keys)
            k2 (v/model (named "MvRKey") {:fields {:code {:type :char :max-length 8 :primary-key true}}})
            h2 (v/model (named "MvRHolder") {:fields {:keys {:type :many-to-many :model k2}}})
            t2 (v/through-model h2 :keys)]
        (is (= :integer (:value-type (model/field t1 fk))))
        (is (= :char (:value-type (model/field t2 fk))))
        (is (identical? t2 (v/through-model h2 :keys)) "built once, then cached")
        (is (identical? t2 (registry/registered (:name t2))) "and registered")))))
