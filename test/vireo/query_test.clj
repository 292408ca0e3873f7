(ns ^:vireo/per-backend vireo.query-test
  "Model queries (select, compound, insert, update, delete, raw) and the
  query operations (count, exists, scalar, peek, first, get) on every backend."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.test-support :as ts :refer [await! error-of]]))

(defn- models []
  (let [Author (ts/model 'QAuthor {:table "qauthor" :fields [:name {:type :char :max-length 40 :unique true}
                                                              :born {:type :integer :null true}]})
        Book (ts/model 'QBook {:table "qbook"
                               :fields [:author {:type :foreign-key :model Author :backref :books}
                                        :title {:type :text}
                                        :pages {:type :integer :default 100}
                                        :editor {:type :foreign-key :model Author :null true :backref :edited}]})]
    [Author Book]))

(defn- seed [Author Book]
  (let [[a b c] (await! (v/aio-execute (v/insert-many Author [{:name "ann" :born 1950} {:name "bob" :born 1970} {:name "cy"}])))]
    (await! (v/aio-execute (v/insert-many Book [{:author a :title "A1" :pages 10}
                                                 {:author a :title "A2" :pages 20 :editor b}
                                                 {:author b :title "B1" :pages 30}
                                                 {:author b :title "B2" :pages 40 :editor a}
                                                 {:author b :title "B3" :pages 50}])))
    {:ann a :bob b :cy c}))

(deftest select-shapes-and-clauses-test
  (let [[Author Book] (models)]
    (ts/with-tables [Author Book]
      (let [{:keys [ann bob]} (seed Author Book)]
        (testing "all fields, in declaration order, as instances"
          (let [rows (await! (v/aio-execute (v/order-by (v/select Author) :id)))]
            (is (= [{:id ann :name "ann" :born 1950} {:id bob :name "bob" :born 1970}] (take 2 rows)))
            (is (= [:id :name :born] (keys (first rows))))))
        (testing "explicit fields and aliased expressions"
          (is (= [{:name "ann" :up "ANN"}]
                 (await! (v/aio-execute (-> (v/select Author :name [[:upper :name] :up]) (v/where {:name "ann"})))))))
        (testing "maps and vectors"
          (is (= [["ann" 1950]] (await! (v/aio-execute (-> (v/select Author :name :born) (v/where [:= :name "ann"]) v/as-vectors)))))
          (is (= [{:name "bob"}] (await! (v/aio-execute (-> (v/select Author :name) (v/where [:= :born 1970]) v/as-maps))))))
        (testing "where operators"
          (let [titles (fn [cond] (mapv :title (await! (v/aio-execute (-> (v/select Book) (v/where cond) (v/order-by :title))))))]
            (is (= ["A1" "A2"] (titles [:< :pages 25])))
            (is (= ["B1" "B2"] (titles [:between :pages 25 45])))
            (is (= ["A1" "B3"] (titles [:in :title ["A1" "B3" "nope"]])))
            (is (= [] (titles [:in :title []])))
            (is (= ["B1" "B2" "B3"] (titles [:like :title "B%"])))
            (is (= ["A1" "B1" "B3"] (titles [:= :editor nil])))
            (is (= ["A2" "B2"] (titles [:<> :editor nil])))
            (is (= ["A1" "B3"] (titles [:or [:= :title "A1"] [:and [:> :pages 45] [:not [:= :title "B2"]]]])))
            (is (= ["A1" "A2"] (titles [:in :author (v/where (v/select Author :id) {:name "ann"})])) "IN (subquery)")
            (is (= ["A2" "B2"] (titles {:editor__is-null false})))
            (is (= ["B2" "B3"] (titles {:pages__gte 40 :title__like "B%"})))
            (is (= ["A2"] (titles {:author ann :editor bob})) "filter by raw foreign-key values")))
        (testing "unknown lookups and fields are named"
          (let [e (error-of #(v/aio-execute (v/where (v/select Book) {:pages__near 3})))]
            (is (v/error-type? e :vireo/interface-error))
            (is (str/includes? (ex-message e) "__near"))))
        (testing "order, limit, offset, paginate, distinct"
          (is (= ["B3" "B2"] (mapv :title (await! (v/aio-execute (-> (v/select Book) (v/order-by [:pages :desc]) (v/limit 2)))))))
          (is (= ["A2" "B1"] (mapv :title (await! (v/aio-execute (-> (v/select Book) (v/order-by :pages) (v/limit 2) (v/offset 1)))))))
          (is (= ["B1" "B2"] (mapv :title (await! (v/aio-execute (-> (v/select Book) (v/order-by :pages) (v/paginate 2 2)))))))
          (is (= [ann bob] (mapv :author (await! (v/aio-execute (-> (v/select Book :author) v/distinct (v/order-by :author))))))))
        (testing "group by, having, aggregates with aliases"
          (is (= [{:author bob :n 3 :total 120}]
                 (map #(update % :total long)
                 (await! (v/aio-execute (-> (v/select Book :author [[:count :*] :n] [[:sum :pages] :total])
                                            (v/group-by :author)
                                            (v/having [:> [:count :*] 2])))))))
          (is (= 50 (await! (v/aio-scalar (v/select Book [[:max :pages] :m]))))))))))

(deftest joins-test
  (let [[Author Book] (models)]
    (ts/with-tables [Author Book]
      (let [{:keys [ann bob]} (seed Author Book)]
        (testing "a join inferred from the foreign key nests the joined instance under it"
          (let [rows (await! (v/aio-execute (-> (v/select Book Author) (v/join Author) (v/where {:title "A1"}))))]
            (is (= [{:id 1 :author {:id ann :name "ann" :born 1950} :title "A1" :pages 10 :editor nil}]
                   (mapv #(assoc % :id 1) rows)))))
        (testing "filtering on the joined model's fields"
          (is (= ["B1" "B2" "B3"]
                 (mapv :title (await! (v/aio-execute (-> (v/select Book) (v/join Author) (v/where [:= :qauthor/name "bob"]) (v/order-by :title))))))))
        (testing "left join with an alias and an explicit condition; a missing row is nil"
          (let [rows (await! (v/aio-execute (-> (v/select Book :title :ed/name)
                                                (v/join Author {:type :left :as :ed :on [:= :ed/id :editor]})
                                                (v/order-by :title)
                                                v/as-maps)))]
            (is (= [{:title "A1" :ed/name nil} {:title "A2" :ed/name "bob"} {:title "B1" :ed/name nil}
                    {:title "B2" :ed/name "ann"} {:title "B3" :ed/name nil}]
                   rows))))
        (testing "self-join style: the same table twice needs an alias"
          (let [e (error-of #(v/aio-execute (-> (v/select Book) (v/join Author) (v/join Author {:on [:= :qauthor/id :editor]}))))]
            (is (v/error-type? e :vireo/interface-error))
            (is (str/includes? (ex-message e) ":as"))))
        (testing "two joins of one model under their own keys"
          (let [[row] (await! (v/aio-execute (-> (v/select Book Author)
                                                 (v/join Author {:attr :writer})
                                                 (v/join Author {:as :ed :type :left :on [:= :ed/id :editor]})
                                                 (v/where [:= :ed/name "ann"]))))]
            (is (= "B2" (:title row)))
            (is (= bob (:author row)) "the foreign key keeps its raw value when the join nests elsewhere")
            (is (= "bob" (get-in row [:writer :name])))))
        (testing "join from the target side (backref direction)"
          (is (= [["ann" "A1"] ["ann" "A2"]]
                 (await! (v/aio-execute (-> (v/select Author :name :qbook/title) (v/join Book)
                                            (v/where {:name "ann"}) (v/order-by :qbook/title) v/as-vectors))))))
        (testing "no foreign key between the models is a clear error"
          (let [Other (ts/model 'QOther {:fields {:x {:type :integer}}})
                e (error-of #(v/aio-execute (-> (v/select Author) (v/join Other))))]
            (is (v/error-type? e :vireo/interface-error))
            (is (str/includes? (ex-message e) "no foreign key"))))))))

(deftest compound-test
  (let [[Author Book] (models)]
    (ts/with-tables [Author Book]
      (seed Author Book)
      (let [q (fn [cond] (-> (v/select Book :title) (v/where cond)))
            titles #(set (map :title (await! (v/aio-execute %))))]
        (testing "union, union all, intersect, except"
          (is (= #{"A1" "B1"} (titles (v/union (q {:title "A1"}) (q {:title "B1"})))))
          (is (= 3 (count (await! (v/aio-execute (v/union-all (q {:title "A1"}) (q {:title "A1"}) (q {:title "B1"})))))))
          (is (= #{"A2"} (titles (v/intersect (q [:< :pages 25]) (q [:> :pages 15])))))
          (is (= #{"A1" "B1"} (titles (v/except (q [:< :pages 35]) (q {:title "A2"}))))))
        (testing "chained three ways (nested compounds)"
          (is (= #{"B1"} (titles (v/except (v/union (q {:title "A1"}) (q {:title "B1"})) (q {:title "A1"}))))))
        (testing "ordered and limited, counted and tested for existence"
          (let [u (-> (v/union (q {:title "A1"}) (q {:title "B1"}) (q {:title "B2"})) (v/order-by [:title :desc]) (v/limit 2))]
            (is (= ["B2" "B1"] (mapv :title (await! (v/aio-execute u)))))
            (is (= 2 (await! (v/aio-count u))))
            (is (= 3 (await! (v/aio-count u {:clear-limit true}))))
            (is (true? (await! (v/aio-exists u))))
            (is (false? (await! (v/aio-exists (v/intersect (q {:title "A1"}) (q {:title "B1"}))))))))))))

(deftest query-operations-test
  (let [[Author Book] (models)]
    (ts/with-tables [Author Book]
      (seed Author Book)
      (let [by-pages (v/order-by (v/select Book) :pages)]
        (testing "count keeps LIMIT unless told; works on grouped and distinct queries"
          (is (= 5 (await! (v/aio-count (v/select Book)))))
          (is (= 2 (await! (v/aio-count (v/limit by-pages 2)))))
          (is (= 2 (await! (v/aio-count (-> (v/select Book :author) (v/group-by :author))))))
          (is (= 2 (await! (v/aio-count (-> (v/select Book :author) v/distinct))))))
        (testing "exists"
          (is (true? (await! (v/aio-exists (v/where (v/select Book) {:title "A1"})))))
          (is (false? (await! (v/aio-exists (v/where (v/select Book) {:title "zz"}))))))
        (testing "scalar, peek and first"
          (is (= 10 (await! (v/aio-scalar (v/select Book [[:min :pages] :m])))))
          (is (nil? (await! (v/aio-scalar (v/where (v/select Book :pages) {:title "zz"})))))
          (is (= "A1" (:title (await! (v/aio-peek by-pages)))))
          (is (= ["A1" "A2" "B1"] (mapv :title (await! (v/aio-peek by-pages 3)))))
          (is (= ["A1" "A2"] (mapv :title (await! (v/aio-first by-pages 2)))))
          (is (nil? (await! (v/aio-first (v/where by-pages {:title "zz"}))))))
        (testing "aio-get of a query: the first row, or does-not-exist with the SQL"
          (is (= "B3" (:title (await! (v/aio-get (v/order-by (v/select Book) [:pages :desc]))))))
          (is (nil? (await! (v/aio-get-or-none (v/where (v/select Book) {:title "zz"})))))
          (let [e (error-of #(v/aio-get (v/where (v/select Book) {:title "zz"})))]
            (is (v/error-type? e :vireo/does-not-exist))
            (is (str/includes? (ex-message e) "QBook instance matching query does not exist"))
            (is (str/includes? (ex-message e) "SQL: SELECT"))
            (is (= ["zz" 1] (:params (ex-data e))))))
        (testing "raw SQL yields instances decoded by column"
          (let [ph (if (= ts/*backend* :postgres) "$1" "?")
                rows (await! (v/aio-execute (v/raw Book (str "SELECT id, title, pages FROM qbook WHERE pages > " ph " ORDER BY pages") [35])))]
            (is (= [["B2" 40] ["B3" 50]] (mapv (juxt :title :pages) rows)))
            (is (every? #(instance? Long (:pages %)) rows))))))))

(deftest insert-test
  (let [[Author Book] (models)]
    (ts/with-tables [Author Book]
      (testing "one row yields its new key; defaults apply"
        (let [id (await! (v/aio-execute (v/insert Author {:name "ann"})))]
          (is (pos-int? id))
          (is (= {:id id :name "ann" :born nil} (await! (v/aio-get Author id))))))
      (testing "insert-many yields every key in order, with and without explicit ids"
        (let [ids (await! (v/aio-execute (v/insert-many Author [{:name "b"} {:name "c"} {:name "d"}])))]
          (is (= 3 (count ids)))
          (is (= ids (sort ids)))
          (is (= ["b" "c" "d"] (mapv #(:name (await! (v/aio-get Author %))) ids))))
        (is (= [100 101] (await! (v/aio-execute (v/insert-many Author [{:id 100 :name "x"} {:id 101 :name "y"}]))))))
      (testing "a row of defaults only"
        (let [Counter (ts/model 'QCounter {:fields {:n {:type :integer :default 7}}})
              Empty (ts/model 'QEmpty {:fields {:note {:type :text :null true}}})]
          (ts/with-tables [Counter Empty]
            (is (= 7 (:n (await! (v/aio-get Counter (await! (v/aio-execute (v/insert Counter {}))))))))
            (is (pos-int? (await! (v/aio-execute (v/insert Empty {}))))))))
      (testing "returning yields instances (every backend here has INSERT … RETURNING); as-rowcount the count"
        (let [rows (await! (v/aio-execute (v/returning (v/insert-many Author [{:name "r1" :born 1} {:name "r2" :born 2}]))))]
          (is (= [["r1" 1] ["r2" 2]] (mapv (juxt :name :born) rows)))
          (is (every? pos-int? (map :id rows))))
        (is (= [{:name "r3"}] (await! (v/aio-execute (v/returning (v/insert Author {:name "r3"}) :name))))))
      (is (= 2 (await! (v/aio-execute (v/as-rowcount (v/insert-many Author [{:name "c1"} {:name "c2"}]))))))
      (testing "insert-from copies rows with INSERT … SELECT"
        (let [a (:id (await! (v/aio-get Author {:name "ann"})))]
          (is (= 2 (await! (v/aio-execute (v/insert-from Book [:author :title]
                                                         (-> (v/select Author [a :a] :name) (v/where [:in :name ["b" "c"]])))))))
          (is (= #{"b" "c"} (set (map :title (await! (v/aio-execute (v/where (v/select Book) {:author a})))))))))
      (testing "a duplicate unique value is an integrity error and writes nothing"
        (let [n (await! (v/aio-count (v/select Author)))
              e (error-of #(v/aio-execute (v/insert-many Author [{:name "new1"} {:name "ann"}])))]
          (is (v/error-type? e :vireo/unique-violation))
          (is (= n (await! (v/aio-count (v/select Author))))))))))

(deftest update-delete-test
  (let [[Author Book] (models)]
    (ts/with-tables [Author Book]
      (let [{:keys [ann]} (seed Author Book)]
        (testing "filtered update with expressions; rows affected"
          (is (= 2 (await! (v/aio-execute (-> (v/update Book {:pages [:+ :pages 1]}) (v/where {:author ann}))))))
          (is (= [11 21] (mapv :pages (await! (v/aio-execute (-> (v/select Book) (v/where {:author ann}) (v/order-by :pages))))))))
        (testing "an update without where changes every row"
          (is (= 5 (await! (v/aio-execute (v/update Book {:pages [:* :pages 2]})))))
          (is (= [22 42 60 80 100] (mapv :pages (await! (v/aio-execute (v/order-by (v/select Book) :pages))))))
          (is (= 5 (await! (v/aio-count (v/where (v/select Book) [:>= :pages 22]))))))
        (testing "setting a foreign key to NULL"
          (is (= 2 (await! (v/aio-execute (-> (v/update Book {:editor nil}) (v/where [:<> :editor nil]))))))
          (is (= 0 (await! (v/aio-count (v/where (v/select Book) [:<> :editor nil]))))))
        (testing "update returning where the database can; a clear refusal where not"
          (if (= ts/*backend* :mysql)
            (let [e (error-of #(v/aio-execute (v/returning (v/where (v/update Book {:pages 1}) {:title "A1"}))))]
              (is (v/error-type? e :vireo/not-supported))
              (is (str/includes? (ex-message e) "mysql")))
            (is (= [{:title "A1" :pages 1}]
                   (await! (v/aio-execute (v/returning (v/where (v/update Book {:pages 1}) {:title "A1"}) :title :pages)))))))
        (testing "delete with a subquery filter, returning, and unfiltered"
          (is (= [{:title "B3"}] (await! (v/aio-execute (v/returning (v/where (v/delete Book) {:title "B3"}) :title)))))
          (is (= 2 (await! (v/aio-execute (v/where (v/delete Book) [:in :author (v/where (v/select Author :id) {:name "ann"})])))))
          (is (= 2 (await! (v/aio-execute (v/delete Book)))))
          (is (= 0 (await! (v/aio-count (v/select Book))))))))))

(deftest composite-key-test
  (let [Pair (ts/model 'QPair {:primary-key [:a :b]
                               :fields [:a {:type :integer} :b {:type :char :max-length 10} :v {:type :text :default ""}]})]
    (ts/with-tables [Pair]
      (let [p1 (await! (v/aio-create Pair {:a 1 :b "x" :v "one"}))]
        (is (= [1 "x"] (v/get-id Pair p1)))
        (is (= p1 (await! (v/aio-get Pair [1 "x"]))))
        (is (= p1 (await! (v/aio-get Pair {:a 1 :b "x"}))))
        (is (= [[2 "y"]] (await! (v/aio-execute (v/insert-many Pair [{:a 2 :b "y"}])))))
        (is (= "uno" (:v (await! (v/aio-save Pair (assoc p1 :v "uno"))))))
        (is (= "uno" (:v (await! (v/aio-get Pair [1 "x"])))))
        (is (v/error-type? (error-of #(v/aio-create Pair {:a 1 :b "x"})) :vireo/integrity-error))
        (is (v/error-type? (error-of #(v/aio-get Pair 1)) :vireo/interface-error))
        (is (= 1 (await! (v/aio-delete-instance Pair p1))))
        (is (nil? (await! (v/aio-get-or-none Pair [1 "x"]))))))))

(deftest upsert-lock-window-cte-test
  (let [[Author Book] (models)]
    (ts/with-tables [Author Book]
      (let [{:keys [ann bob]} (seed Author Book)]
        (testing "on-conflict-ignore keeps the old row; PostgreSQL/SQLite yield nil, MariaDB the existing key"
          (let [r (await! (v/aio-execute (v/on-conflict-ignore (v/insert Author {:name "ann" :born 1}))))]
            (if (= ts/*backend* :mysql) (is (= ann r)) (is (nil? r))))
          (is (= 1950 (:born (await! (v/aio-get Author {:name "ann"}))))))
        (testing "upsert: update from the proposed row, or by expression; yields the updated row's key on every backend"
          (is (= ann (await! (v/aio-execute (v/on-conflict (v/insert Author {:name "ann" :born 1951}) {:target [:name] :update [:born]})))))
          (is (= 1951 (:born (await! (v/aio-get Author {:name "ann"})))))
          (is (= ann (await! (v/aio-execute (v/on-conflict (v/insert Author {:name "ann" :born 10})
                                                           {:target [:name] :update {:born [:+ :born [:excluded :born]]}})))))
          (is (= 1961 (:born (await! (v/aio-get Author {:name "ann"})))))
          (is (= 3 (await! (v/aio-count (v/select Author)))) "no row was added"))
        (testing "an upsert that inserts yields the new key"
          (let [id (await! (v/aio-execute (v/on-conflict (v/insert Author {:name "eve" :born 3}) {:target [:name] :update [:born]})))]
            (is (= "eve" (:name (await! (v/aio-get Author id)))))))
        (testing "upsert of many rows inserts the new ones; yields the key of every row written, in row order"
          (let [ids (await! (v/aio-execute (v/on-conflict (v/insert-many Author [{:name "bob" :born 1} {:name "dee" :born 2}])
                                                          {:target [:name] :update [:born]})))]
            (is (= 2 (count ids)))
            (is (= bob (first ids)))
            (is (= "dee" (:name (await! (v/aio-get Author (second ids)))))))
          (is (= [["bob" 1] ["dee" 2]] (await! (v/aio-execute (-> (v/select Author :name :born) (v/where [:in :name ["bob" "dee"]])
                                                                  (v/order-by :name) v/as-vectors))))))
        (testing "on-conflict-ignore of many rows: the keys of the rows inserted (MariaDB: of the skipped ones too)"
          (let [ids (await! (v/aio-execute (v/on-conflict-ignore (v/insert-many Author [{:name "ann" :born 0} {:name "fay" :born 4}]))))
                fay (:id (await! (v/aio-get Author {:name "fay"})))]
            (is (= (if (= ts/*backend* :mysql) [ann fay] [fay]) ids)))
          (is (= 1961 (:born (await! (v/aio-get Author {:name "ann"})))) "the skipped row is unchanged"))
        (testing "for-update inside a transaction; refused on SQLite"
          (if (= ts/*backend* :sqlite)
            (is (v/error-type? (error-of #(v/aio-execute (v/for-update (v/select Author)))) :vireo/not-supported))
            (is (= "ann" (:name (first (await! (v/aio-atomic (ts/db) (fn [_] (v/aio-execute (v/for-update (v/where (v/select Author) {:id ann}))))))))))))
        (testing "window functions over fields"
          (is (= [["A1" 1] ["A2" 2] ["B1" 1] ["B2" 2] ["B3" 3]]
                 (await! (v/aio-execute (-> (v/select Book :title [[:over [:row-number] {:partition-by [:author] :order-by [:pages]}] :rn])
                                            (v/order-by :title) v/as-vectors))))))
        (testing "a CTE whose body is a model query"
          (is (= ["B1" "B2" "B3"]
                 (mapv :title (await! (v/aio-execute (-> (v/select Book)
                                                         (v/with-cte [[:bobs (v/where (v/select Author :id) {:name "bob"})]])
                                                         (v/where [:in :author {:select [:id] :from :bobs}])
                                                         (v/order-by :title))))))))
        (is (some? bob))))))

(deftest save-only-changed-fields-test
  (let [[Author Book] (models)]
    (ts/with-tables [Author Book]
      (let [{:keys [ann]} (seed Author Book)
            loaded (await! (v/aio-get Author ann))]
        (testing "a loaded instance saves only the fields that changed"
          ;; someone else changes :born meanwhile
          (await! (v/aio-execute (v/where (v/update Author {:born 1999}) {:id ann})))
          (let [saved (await! (v/aio-save Author (assoc loaded :name "ann2")))]
            (is (= "ann2" (:name saved)))
            (is (= {:id ann :name "ann2" :born 1999} (await! (v/aio-get Author ann))) ":born was not overwritten")
            (testing "saving it again unchanged sends nothing"
              (is (= [saved 0] (await! (v/with-call-count (v/aio-save Author saved))))))))
        (testing "a plain map (not loaded) writes every field it has; :only limits them"
          (await! (v/aio-save Author {:id ann :name "ann3" :born 1}))
          (is (= {:id ann :name "ann3" :born 1} (await! (v/aio-get Author ann))))
          (await! (v/aio-save Author {:id ann :name "ignored" :born 2} {:only [:born]}))
          (is (= {:id ann :name "ann3" :born 2} (await! (v/aio-get Author ann)))))))))

(deftest stream-model-query-test
  (let [[Author Book] (models)]
    (ts/with-tables [Author Book]
      (seed Author Book)
      (testing "a model select streams decoded instances, joins nested"
        (is (= [["A1" "ann"] ["A2" "ann"] ["B1" "bob"]]
               (await! (v/aio-stream (-> (v/select Book Author) (v/join Author) (v/order-by :title) (v/limit 3))
                                     {:fetch-size 2}
                                     (fn [acc b] (conj acc [(:title b) (get-in b [:author :name])]))
                                     [])))))
      (testing "vectors, early stop, and plain query data"
        (is (= ["A1" "A2"] (await! (v/aio-stream (-> (v/select Book :title) (v/order-by :title) v/as-vectors)
                                                 (fn [acc [t]] (if (= 2 (count acc)) (reduced acc) (conj acc t)))
                                                 []))))
        (is (= 150 (await! (v/aio-stream (ts/db) {:select [:pages] :from :qbook} (fn [acc r] (+ acc (:pages r))) 0))))))))

(deftest get-or-create-in-transaction-test
  (let [[Author Book] (models)]
    (ts/with-tables [Author Book]
      (await! (v/aio-create Author {:name "ann" :born 1}))
      (testing "a unique violation inside get-or-create leaves the enclosing transaction usable"
        (is (= "ok"
               (await! (v/aio-atomic (ts/db)
                                     (fn [_]
                                       (-> (v/aio-get-or-create Author {:name "ann" :born 2})
                                           (vireo.promise/catch :vireo/integrity-error (fn [_] :conflict))
                                           (vireo.promise/then (fn [r]
                                                                 (is (= :conflict r))
                                                                 (vireo.promise/map (v/aio-count (v/select Author)) (fn [n] (is (= 1 n)) "ok")))))))))))
      (testing "defaults apply to the created row"
        (is (= [{:id 2 :name "bob" :born 1970} true]
               (update (await! (v/aio-get-or-create Author {:name "bob"} {:defaults {:born 1970}})) 0 assoc :id 2)))))))
