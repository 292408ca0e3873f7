(ns ^:vireo/per-backend vireo.relations-test
  "Foreign keys, fetch, prefetch, many-to-many, recursive delete, table
  dependency order and relation-related model validation, on every backend."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.signals :as signals]
            [vireo.test-support :as ts :refer [await! error-of]]))

(defn- abc []
  (let [Alpha (ts/model 'RAlpha {:table "ralpha" :fields {:text {:type :text}}})
        Beta (ts/model 'RBeta {:table "rbeta"
                               :fields [:alpha {:type :foreign-key :model Alpha :backref :betas :null true}
                                        :text {:type :text}]})
        Gamma (ts/model 'RGamma {:table "rgamma"
                                 :fields [:beta {:type :foreign-key :model Beta :backref :gammas :on-delete :cascade}
                                          :text {:type :text}]})]
    [Alpha Beta Gamma]))

(defn- seed [Alpha Beta Gamma]
  (let [a1 (await! (v/aio-create Alpha {:text "a1"}))
        a2 (await! (v/aio-create Alpha {:text "a2"}))
        _a3 (await! (v/aio-create Alpha {:text "a3"}))
        b1 (await! (v/aio-create Beta {:alpha a1 :text "b1"}))
        b2 (await! (v/aio-create Beta {:alpha (:id a1) :text "b2"}))
        b3 (await! (v/aio-create Beta {:alpha a2 :text "b3"}))
        b4 (await! (v/aio-create Beta {:alpha nil :text "b4"}))]
    (doseq [[b t] [[b1 "g1"] [b1 "g2"] [b3 "g3"]]]
      (await! (v/aio-create Gamma {:beta b :text t})))
    {:a1 a1 :a2 a2 :b1 b1 :b2 b2 :b3 b3 :b4 b4}))

(deftest foreign-key-definition-test
  (let [[Alpha Beta Gamma] (abc)]
    (is (= "alpha_id" (:column (some #(when (= :alpha (:key %)) %) (v/fields Beta)))))
    (ts/with-tables [Alpha Beta Gamma]
      (testing "assignment by instance or raw key stores the key"
        (let [{:keys [a1 b1 b2]} (seed Alpha Beta Gamma)]
          (is (= (:id a1) (:alpha (await! (v/aio-get Beta (:id b1))))))
          (is (= (:id a1) (:alpha (await! (v/aio-get Beta (:id b2))))))
          (is (= a1 (:alpha (await! (v/aio-save Beta (assoc (await! (v/aio-get Beta (:id b2))) :alpha a1))))) "a saved instance keeps what it was given")
          (is (= (:id a1) (:alpha (await! (v/aio-get Beta (:id b2))))))))
      (testing "a missing referenced row is an integrity error"
        (is (v/error-type? (error-of #(v/aio-create Beta {:alpha 999999 :text "x"})) :vireo/foreign-key-violation))))))

(deftest fetch-test
  (let [[Alpha Beta Gamma] (abc)]
    (ts/with-tables [Alpha Beta Gamma]
      (let [{:keys [a1 b1 b4]} (seed Alpha Beta Gamma)
            b (await! (v/aio-get Beta (:id b1)))]
        (testing "an unloaded relation is its raw key; aio-fetch loads it"
          (is (= (:id a1) (:alpha b)))
          (let [[fetched n] (await! (v/with-call-count (v/aio-fetch Beta b :alpha)))]
            (is (= a1 (:alpha fetched)))
            (is (= 1 n)))
          (testing "a loaded relation costs no query"
            (let [fetched (await! (v/aio-fetch Beta b :alpha))
                  [again n] (await! (v/with-call-count (v/aio-fetch Beta fetched :alpha)))]
              (is (= fetched again))
              (is (= 0 n)))))
        (testing "a NULL nullable key fetches nil; a non-FK field is an error"
          (is (nil? (:alpha (await! (v/aio-fetch Beta b4 :alpha)))))
          (let [e (error-of #(v/aio-fetch Beta b :text))]
            (is (v/error-type? e :vireo/interface-error))
            (is (str/includes? (ex-message e) "foreign-key"))))
        (testing "a key no row has (an instance built by hand) is does-not-exist"
          (is (v/error-type? (error-of #(v/aio-fetch Beta (assoc b :alpha 424242) :alpha)) :vireo/does-not-exist)))))))

(deftest prefetch-test
  (let [[Alpha Beta Gamma] (abc)]
    (ts/with-tables [Alpha Beta Gamma]
      (seed Alpha Beta Gamma)
      (doseq [strategy [:where :join]]
        (testing (str "two levels of backrefs in exactly three queries, strategy " strategy)
          (let [[alphas n] (await! (v/with-call-count
                                     (v/aio-prefetch (v/order-by (v/select Alpha) :id)
                                                     (v/order-by (v/select Beta) :text)
                                                     (v/order-by (v/select Gamma) :text)
                                                     {:strategy strategy})))]
            (is (= 3 n))
            (is (= ["a1" "a2" "a3"] (mapv :text alphas)))
            (is (= [["b1" "b2"] ["b3"] []] (mapv #(mapv :text (:betas %)) alphas)))
            (is (= [["g1" "g2"] []] (mapv #(mapv :text (:gammas %)) (:betas (first alphas)))))
            (is (= [["g3"]] (mapv #(mapv :text (:gammas %)) (:betas (second alphas)))))))
        (testing (str "a restricted and limited root, strategy " strategy)
          (let [alphas (await! (v/aio-prefetch (-> (v/select Alpha) (v/where [:<> :text "a1"]) (v/order-by :id) (v/limit 1))
                                               (v/select Beta) {:strategy strategy}))]
            (is (= [["a2" ["b3"]]] (mapv (juxt :text #(mapv :text (:betas %))) alphas))))))
      (testing "prefetching the referenced side replaces raw keys"
        (let [betas (await! (v/aio-prefetch (v/order-by (v/select Beta) :text) (v/select Alpha)))]
          (is (= ["a1" "a1" "a2" nil] (mapv #(get-in % [:alpha :text]) betas)))))
      (testing "an unrelated subquery is a clear error"
        (let [Other (ts/model 'ROther {:fields {:x {:type :integer}}})]
          (is (v/error-type? (error-of #(v/aio-prefetch (v/select Alpha) (v/select Other))) :vireo/interface-error)))))))

(deftest many-to-many-test
  (let [Tag (ts/model 'RTag {:table "rtag" :fields {:name {:type :char :max-length 20 :unique true}}})
        Article (ts/model 'RArticle {:table "rarticle"
                                     :fields {:title {:type :text}
                                              :tags {:type :many-to-many :model Tag :backref :articles}}})
        Through (v/through-model Article :tags)]
    (is (= "rarticle_rtag_through" (v/table-name Through)))
    (try
      (await! (v/aio-drop-tables [Article Tag] {:safe true}))
      (await! (v/aio-create-tables [Article Tag]))
      (is (true? (await! (v/aio-table-exists Through))))
      (let [[t1 t2 t3] (mapv #(await! (v/aio-create Tag {:name %})) ["clj" "db" "jvm"])
            art (await! (v/aio-create Article {:title "hello"}))
            art2 (await! (v/aio-create Article {:title "other"}))]
        (testing "add by instance or key; existing links are kept"
          (is (= 2 (await! (v/aio-add Article art :tags [t1 (:id t2)]))))
          (is (= 1 (await! (v/aio-add Article art :tags [t2 t3]))))
          (is (= 0 (await! (v/aio-add Article art :tags t1))))
          (is (= 1 (await! (v/aio-add Article art2 :tags [t1])))))
        (testing "related from both sides"
          (is (= ["clj" "db" "jvm"] (mapv :name (await! (v/aio-related Article art :tags)))))
          (is (= ["hello" "other"] (mapv :title (await! (v/aio-related Tag t1 :articles))))))
        (testing "remove and clear"
          (is (= 1 (await! (v/aio-remove Article art :tags [t2]))))
          (is (= ["clj" "jvm"] (mapv :name (await! (v/aio-related Article art :tags)))))
          (is (= 2 (await! (v/aio-clear Article art :tags))))
          (is (= [] (await! (v/aio-related Article art :tags))))
          (is (= ["other"] (mapv :title (await! (v/aio-related Tag t1 :articles)))))))
      (testing "the through table holds each pair once"
        (is (v/error-type? (error-of #(v/aio-execute (v/insert-many Through [{:rarticle 1 :rtag 1} {:rarticle 1 :rtag 1}])))
                           :vireo/integrity-error)))
      (testing "an unknown relation is named"
        (is (str/includes? (ex-message (error-of #(v/aio-related Article {:id 1} :nope))) ":nope")))
      (finally
        (await! (v/aio-drop-tables [Article Tag] {:safe true}))))))

(defn- chain
  "Root <- Mid <- Leaf: non-nullable foreign keys without any ON DELETE
  action (the database refuses to delete a referenced row), and
  Root <- Note (nullable) <- NoteChild (non-nullable), so only Vireo's
  recursion can remove dependants."
  []
  (let [Root (ts/model 'RdRoot {:table "rdroot" :fields {:name {:type :text}}})
        Mid (ts/model 'RdMid {:table "rdmid" :fields [:root {:type :foreign-key :model Root :backref :mids}
                                                      :name {:type :text}]})
        Leaf (ts/model 'RdLeaf {:table "rdleaf" :fields [:mid {:type :foreign-key :model Mid :backref :leaves}
                                                         :name {:type :text}]})
        Note (ts/model 'RdNote {:table "rdnote" :fields [:root {:type :foreign-key :model Root :null true :backref :notes}
                                                         :name {:type :text}]})
        NoteChild (ts/model 'RdNoteChild {:table "rdnotechild" :fields [:note {:type :foreign-key :model Note :backref :children}
                                                                        :name {:type :text}]})]
    [Root Mid Leaf Note NoteChild]))

(defn- seed-chain
  "r1, r2; m1 m2 -> r1, m3 -> r2; l1 l2 -> m1, l3 -> m2, l4 -> m3;
  n1 n2 -> r1, n3 -> r2, n4 -> nothing; c1 -> n1, c3 -> n3."
  [[Root Mid Leaf Note NoteChild]]
  (let [mk (fn [m row] (await! (v/aio-create m row)))
        r1 (mk Root {:name "r1"}) r2 (mk Root {:name "r2"})
        m1 (mk Mid {:root r1 :name "m1"}) m2 (mk Mid {:root r1 :name "m2"}) m3 (mk Mid {:root r2 :name "m3"})]
    (doseq [[m n] [[m1 "l1"] [m1 "l2"] [m2 "l3"] [m3 "l4"]]] (mk Leaf {:mid m :name n}))
    (let [[n1 _ n3 _] (mapv (fn [[r n]] (mk Note {:root r :name n})) [[r1 "n1"] [r1 "n2"] [r2 "n3"] [nil "n4"]])]
      (mk NoteChild {:note n1 :name "c1"})
      (mk NoteChild {:note n3 :name "c3"}))
    {:r1 r1 :r2 r2}))

(defn- chain-state
  "Every row of the chain as [name referenced-name] (nil: NULL), per table."
  [[Root Mid Leaf Note NoteChild]]
  (let [rows (fn [m] (await! (v/aio-execute (v/order-by (v/select m) :name))))
        names (fn [m] (into {} (map (juxt :id :name)) (rows m)))
        roots (names Root) mids (names Mid) notes (names Note)]
    {:root (mapv :name (rows Root))
     :mid (mapv (juxt :name (comp roots :root)) (rows Mid))
     :leaf (mapv (juxt :name (comp mids :mid)) (rows Leaf))
     :note (mapv (juxt :name (comp roots :root)) (rows Note))
     :note-child (mapv (juxt :name (comp notes :note)) (rows NoteChild))}))

(def ^:private chain-seeded
  {:root ["r1" "r2"]
   :mid [["m1" "r1"] ["m2" "r1"] ["m3" "r2"]]
   :leaf [["l1" "m1"] ["l2" "m1"] ["l3" "m2"] ["l4" "m3"]]
   :note [["n1" "r1"] ["n2" "r1"] ["n3" "r2"] ["n4" nil]]
   :note-child [["c1" "n1"] ["c3" "n3"]]})

(deftest recursive-delete-without-database-cascade-test
  (let [models (chain)
        [Root] models]
    (testing "the database itself refuses: no ON DELETE action does the work"
      (ts/with-tables models
        (let [{:keys [r1]} (seed-chain models)]
          (is (= chain-seeded (chain-state models)))
          (is (v/error-type? (error-of #(v/aio-delete-instance Root r1)) :vireo/foreign-key-violation))
          (is (= chain-seeded (chain-state models)) "nothing was deleted"))))
    (testing ":recursive deletes two levels of non-nullable dependants and unlinks nullable ones"
      (ts/with-tables models
        (let [{:keys [r1]} (seed-chain models)]
          (is (= 1 (await! (v/aio-delete-instance Root r1 {:recursive true}))))
          (is (= {:root ["r2"]
                  :mid [["m3" "r2"]]
                  :leaf [["l4" "m3"]]
                  :note [["n1" nil] ["n2" nil] ["n3" "r2"] ["n4" nil]]
                  :note-child [["c1" "n1"] ["c3" "n3"]]}
                 (chain-state models))))))
    (testing ":recursive with :delete-nullable deletes the nullable dependants and their own dependants"
      (ts/with-tables models
        (let [{:keys [r2]} (seed-chain models)]
          (is (= 1 (await! (v/aio-delete-instance Root r2 {:recursive true :delete-nullable true}))))
          (is (= {:root ["r1"]
                  :mid [["m1" "r1"] ["m2" "r1"]]
                  :leaf [["l1" "m1"] ["l2" "m1"] ["l3" "m2"]]
                  :note [["n1" "r1"] ["n2" "r1"] ["n4" nil]]
                  :note-child [["c1" "n1"]]}
                 (chain-state models))))))
    (testing "a failure half-way rolls the whole recursive delete back"
      (ts/with-tables models
        (let [{:keys [r1]} (seed-chain models)
              ;; a table outside Vireo's models that references a leaf: the leaves' DELETE fails
              d (ts/db)]
          (try
            (await! (v/aio-execute-sql d "CREATE TABLE rdblocker (leaf_id INTEGER NOT NULL REFERENCES rdleaf (id))"))
            (await! (v/aio-execute-sql d (str "INSERT INTO rdblocker (leaf_id) SELECT id FROM rdleaf WHERE name = 'l1'")))
            (is (v/error-type? (error-of #(v/aio-delete-instance Root r1 {:recursive true})) :vireo/foreign-key-violation))
            (is (= chain-seeded (chain-state models)) "no row was deleted or unlinked")
            (finally
              (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS rdblocker")))))))))

(deftest recursive-delete-test
  (let [[Alpha Beta Gamma] (abc)]
    (ts/with-tables [Alpha Beta Gamma]
      (testing "nullable dependants are unlinked, others deleted, in one transaction"
        (let [{:keys [a1]} (seed Alpha Beta Gamma)]
          (is (= 1 (await! (v/aio-delete-instance Alpha a1 {:recursive true}))))
          (is (= [nil nil] (mapv :alpha (await! (v/aio-execute (v/where (v/select Beta) [:in :text ["b1" "b2"]]))))))
          (is (= 3 (await! (v/aio-count (v/select Gamma)))))))
      (testing ":delete-nullable deletes them and their dependants too"
        (let [{:keys [a2 b3]} (seed Alpha Beta Gamma)]
          (is (= 1 (await! (v/aio-delete-instance Alpha a2 {:recursive true :delete-nullable true}))))
          (is (nil? (await! (v/aio-get-or-none Beta (:id b3)))))
          (is (= 0 (await! (v/aio-count (v/where (v/select Gamma) {:beta (:id b3)})))))))
      (testing "without :recursive the database's constraint decides"
        (let [{:keys [b1]} (seed Alpha Beta Gamma)]
          ;; rgamma.beta_id is ON DELETE CASCADE
          (is (= 1 (await! (v/aio-delete-instance Beta b1))))
          (is (zero? (await! (v/aio-count (v/where (v/select Gamma) {:beta (:id b1)})))))))
      (testing "signals fire around single-instance writes only"
        (let [seen (atom [])]
          (signals/with-receivers [signals/pre-save [(fn [m inst kw] (swap! seen conj [:pre-save (:name m) (:text inst) (:created kw)]))]
                                   signals/post-delete [(fn [m inst _] (swap! seen conj [:post-delete (:name m) (:text inst)]))]]
            (let [a (await! (v/aio-create Alpha {:text "sig"}))]
              (await! (v/aio-save Alpha (assoc a :text "sig2")))
              (await! (v/aio-execute (v/insert Alpha {:text "bulk"})))
              (await! (v/aio-delete-instance Alpha a))))
          (is (= [[:pre-save "RAlpha" "sig" true] [:pre-save "RAlpha" "sig2" false] [:post-delete "RAlpha" "sig"]]
                 @seen)))))))

(deftest table-order-and-validation-test
  (let [[Alpha Beta Gamma] (abc)]
    (testing "create-tables sorts by dependency, drop-tables reverses"
      (try
        (await! (v/aio-drop-tables [Gamma Beta Alpha] {:safe true}))
        (await! (v/aio-create-tables [Gamma Beta Alpha]))
        (is (every? true? (map #(await! (v/aio-table-exists %)) [Alpha Beta Gamma])))
        (await! (v/aio-drop-tables [Alpha Gamma Beta]))
        (is (every? false? (map #(await! (v/aio-table-exists %)) [Alpha Beta Gamma])))
        (finally (await! (v/aio-drop-tables [Gamma Beta Alpha] {:safe true}))))))
  (testing "bad relation definitions name the model and field"
    (doseq [[def-map field-s msg] [[{:fields {:owner {:type :foreign-key :model 'Undefined}}} ":owner" "undefined model"]
                                   [{:fields {:owner {:type :foreign-key}}} ":owner" ":model must be a model"]
                                   [{:fields {:owner {:type :foreign-key :model :self :on-delete :explode}}} ":owner" ":on-delete"]
                                   [{:fields {:n {:type :integer :backref :x}}} ":n" "apply only to :foreign-key"]
                                   [{:fields {:tags {:type :many-to-many}}} ":tags" ":model must be a model"]
                                   [{:primary-key [:a] :fields {:a {:type :integer}}} nil "composite"]
                                   [{:primary-key [:a :zz] :fields {:a {:type :integer}}} ":zz" "not a field"]]]
      (let [e (error-of #(v/model 'Bad def-map))]
        (is (v/error-type? e :vireo/model-error) (pr-str def-map))
        (is (str/includes? (ex-message e) "Model Bad") (pr-str def-map))
        (when field-s (is (str/includes? (ex-message e) field-s) (ex-message e)))
        (is (str/includes? (ex-message e) msg) (ex-message e))))))

(deftest self-reference-test
  (let [Node (ts/model 'RNode {:table "rnode" :fields [:parent {:type :foreign-key :model :self :null true :backref :children}
                                                        :name {:type :text}]})]
    (ts/with-tables [Node]
      (let [root (await! (v/aio-create Node {:name "root"}))
            kid (await! (v/aio-create Node {:parent root :name "kid"}))]
        (is (= "root" (get-in (await! (v/aio-fetch Node kid :parent)) [:parent :name])))
        (is (= [["root" ["kid"]]]
               (mapv (juxt :name #(mapv :name (:children %)))
                     (await! (v/aio-prefetch (v/where (v/select Node) {:parent nil}) (v/select Node))))))
        (is (= [{:name "kid" :up/name "root"}]
               (await! (v/aio-execute (-> (v/select Node :name :up/name)
                                          (v/join Node {:as :up :on [:= :up/id :parent]})
                                          v/as-maps)))))))))
