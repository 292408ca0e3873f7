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
