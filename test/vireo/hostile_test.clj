(ns ^:vireo/per-backend vireo.hostile-test
  "Identifiers are always quoted per dialect and values always bound as
  parameters: a model whose table and column names are full of quotes,
  statement separators, comments, placeholders and unicode stores SQL
  injection attempts and reads them back verbatim through every operation,
  and nothing is ever executed (a canary table survives)."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.sql :as sql]
            [vireo.test-support :as ts :refer [await!]]))

(def ^:private canary-table "types_canary")

(def ^:private hostile-values
  ["'; DROP TABLE types_canary; --"
   "\\'; DROP TABLE types_canary; --"
   "\\' OR 1=1 --"
   "' OR '1'='1"
   "\" OR \"\"=\""
   "` OR 1=1 #"
   "Robert'); DROP TABLE types_canary;--"
   "back\\slash \\\\ \\n \\0 \\x00 \\Z \\%"
   "/* comment */ -- line comment\n# hash comment"
   "? ?? $1 $2 :name @v ${x} %s %(x)s"
   "1; SELECT pg_sleep(10); SELECT 1"
   "ünï 中文 😀 𝔘 \u2028 \u00a0"
   "   leading and trailing   "
   "END; COMMIT; ROLLBACK; --"])

(defn- names
  "Table and column names for the backend. MariaDB refuses identifiers with
  characters outside the Basic Multilingual Plane and names that end with a
  space (both documented server limits, not quoting issues), so its names
  leave those two out; PostgreSQL keeps 63 bytes of a name and MariaDB 64
  characters, so every name stays shorter."
  [backend]
  (let [mysql? (= backend :mysql)]
    {:table (str "types_hostile \"t\" 'q' `b`; -- /* c */" (if mysql? " ü" " 😀"))
     :id "id \"'`; --"
     :name "name \"dq\" 'sq' `bt` ?"
     :note "note; DROP TABLE types_canary; --"
     :memo "memo /* c */ -- $1 ."
     :uni (if mysql? "ünï 中文 ✓" "ünï 中文 😀 𝔘")
     :trail (if mysql? "trail end" "trail end ")}))

(defn- hostile-model [n]
  (ts/model 'TypesHostile
            {:table (:table n)
             :fields [:id {:type :auto :column (:id n)}
                      :name {:type :char :max-length 100 :column (:name n) :unique true}
                      :note {:type :text :column (:note n) :null true}
                      :memo {:type :text :column (:memo n) :null true :index true}
                      :uni {:type :text :column (:uni n) :null true}
                      :trail {:type :text :column (:trail n) :null true}]}))

(defn- canary-model []
  (ts/model 'TypesCanary {:table canary-table :fields {:word {:type :text}}}))

(defn- canary-alive? []
  (= ["tweet"] (mapv :word (await! (v/aio-execute (ts/db) {:select [:word] :from (keyword canary-table)})))))

(defn- raw-select
  "aio-execute query data over the hostile names: the values of column `col`
  in rows whose column `where-col` equals `value` (bound as a parameter)."
  [n col where-col value]
  (mapv :v (await! (v/aio-execute (ts/db) {:select [[(sql/ident (col n)) :v]]
                                           :from (sql/ident (:table n))
                                           :where [:= (sql/ident (where-col n)) value]}))))

(deftest hostile-names-and-values-test
  (let [n (names ts/*backend*)
        M (hostile-model n)
        Canary (canary-model)]
    (ts/with-tables [Canary M]
      (await! (v/aio-create Canary {:word "tweet"}))
      (testing "the table, its columns and its indexes exist under their verbatim names"
        (is (= [] (await! (v/aio-execute (ts/db) {:select [(sql/ident (:name n))] :from (sql/ident (:table n))})))))
      (doseq [[i value] (map-indexed vector hostile-values)]
        (testing (pr-str value)
          (let [other (nth hostile-values (mod (inc i) (count hostile-values)))
                row {:name value :note value :memo value :uni value :trail value}
                created (await! (v/aio-create M row))
                id (:id created)]
            (testing "aio-create and aio-get by primary key return the values verbatim"
              (is (pos-int? id))
              (is (= (assoc row :id id) (await! (v/aio-get M id)))))
            (testing "filters on every hostile column find it (a map filter and a where vector)"
              (doseq [k [:name :note :memo :uni :trail]]
                (is (= id (:id (await! (v/aio-get M {k value :id id})))) (str "map filter on " k))
                (is (= id (:id (await! (v/aio-get M [:and [:= k value] [:= :id id]])))) (str "where on " k))))
            (testing "aio-execute query data with hostile identifiers and a hostile bound value"
              (is (= [value] (raw-select n :note :name value)))
              (is (= [value] (raw-select n :memo :note value)))
              (is (= [value] (raw-select n :trail :uni value))))
            (testing "aio-save updates every hostile column"
              (let [changed {:id id :name (str other " #" i) :note other :memo other :uni other :trail other}]
                (await! (v/aio-save M changed))
                (is (= changed (await! (v/aio-get M id))))
                (is (= [other] (raw-select n :note :name (str other " #" i))))))
            (testing "aio-delete-instance deletes exactly that row"
              (is (= 1 (await! (v/aio-delete-instance M {:id id}))))
              (is (nil? (await! (v/aio-get-or-none M id))))))))
      (testing "all values at once, then every row read back"
        (let [ids (mapv (fn [value] (:id (await! (v/aio-create M {:name value :note value :memo value :uni value :trail value}))))
                        hostile-values)]
          (is (= hostile-values
                 (mapv :note (await! (v/aio-execute (ts/db) {:select [[(sql/ident (:note n)) :note]]
                                                             :from (sql/ident (:table n))
                                                             :where [:in (sql/ident (:id n)) ids]
                                                             :order-by [(sql/ident (:id n))]})))))))
      (testing "nothing was executed: the canary table and its row are intact"
        (is (canary-alive?))))
    (testing "dropping the hostile table left the canary alone"
      (ts/with-tables [Canary]
        (await! (v/aio-create Canary {:word "tweet"}))
        (is (canary-alive?))))))

(deftest hostile-raw-sql-parameters-test
  (testing "aio-execute-sql binds values as parameters too"
    (let [Canary (canary-model)
          ph (fn [i] (if (= ts/*backend* :postgres) (str "$" i) "?"))]
      (ts/with-tables [Canary]
        (doseq [value hostile-values]
          (await! (v/aio-execute-sql (ts/db) (str "INSERT INTO types_canary (word) VALUES (" (ph 1) ")") [value])))
        (is (= hostile-values
               (mapv :word (:rows (await! (v/aio-execute-sql (ts/db) "SELECT word FROM types_canary ORDER BY id"))))))
        (is (= [(first hostile-values)]
               (mapv :word (:rows (await! (v/aio-execute-sql (ts/db) (str "SELECT word FROM types_canary WHERE word = " (ph 1))
                                                             [(first hostile-values)]))))))))))

;; ---------------------------------------------------------------- relations and queries over hostile names
(declare ^:private hostile-link)

(defn- relation-names
  "Short hostile names (generated index and through-table names append to
  them, and must stay within PostgreSQL's 63 bytes and MariaDB's 64
  characters)."
  [backend]
  (let [emoji (if (= backend :mysql) "ü" "😀")]
    {:p-table (str "hp \"'`;--" emoji) :p-id "pid \"'`;" :p-label "label '\";-- x"
     :c-table (str "hc \"'`;/*" emoji) :c-parent "par \"'` ;--" :c-note "note ?$1 '"
     :l-table "hl '\";#" :l-child "ch \"'`" :l-parent "pa ;--'"}))

(defn- hostile-relations [n]
  (let [P (ts/model 'HostileP {:table (:p-table n)
                               :fields [:id {:type :auto :column (:p-id n)}
                                        :label {:type :char :max-length 100 :unique true :column (:p-label n)}]})
        C (ts/model 'HostileC {:table (:c-table n)
                               :fields [:parent {:type :foreign-key :model P :column (:c-parent n) :backref :kids}
                                        :note {:type :text :column (:c-note n) :null true}
                                        :tags {:type :many-to-many :model P :backref :tagged}
                                        :links {:type :many-to-many :model P :through #'hostile-link :backref :linked}]})
        L (ts/model 'HostileL {:table (:l-table n)
                               :fields [:child {:type :foreign-key :model C :column (:l-child n) :on-delete :cascade}
                                        :parent {:type :foreign-key :model P :column (:l-parent n) :on-delete :cascade}]})]
    [P C L]))

(deftest hostile-relations-and-queries-test
  (let [n (relation-names ts/*backend*)
        [P C L] (hostile-relations n)
        Canary (canary-model)
        [v1 v2 v3 v4] (take 4 hostile-values)]
    (with-redefs [hostile-link L]
      (try
        (await! (v/aio-drop-tables [L C P Canary] {:safe true}))
        (await! (v/aio-create-tables [Canary P C L]))
        (await! (v/aio-create Canary {:word "tweet"}))
        (testing "insert-many yields the keys; rows read back verbatim"
          (let [ids (await! (v/aio-execute (v/insert-many P [{:label v1} {:label v2} {:label v3}])))]
            (is (= 3 (count ids)))
            (is (= [v1 v2 v3] (mapv #(:label (await! (v/aio-get P %))) ids)))))
        (let [[p1 p2 p3] (await! (v/aio-execute (v/order-by (v/select P) :id)))
              c1 (await! (v/aio-create C {:parent p1 :note v4}))
              c2 (await! (v/aio-create C {:parent (:id p2) :note v1}))]
          (testing "the foreign-key column stores the key; fetch and a join inferred over it"
            (is (= (:id p1) (:parent (await! (v/aio-get C (:id c1))))))
            (is (= p1 (:parent (await! (v/aio-fetch C (await! (v/aio-get C (:id c1))) :parent)))))
            (is (= [[v4 v1] [v1 v2]]
                   (await! (v/aio-execute (-> (v/select C :note (keyword (:p-table n) "label")) (v/join P)
                                              (v/order-by :id) v/as-vectors))))))
          (testing "joins under hostile aliases, with explicit conditions, as maps and instances"
            (let [al (str "al \"'`;")]
              (is (= [{:note v4 (keyword al "label") v1} {:note v1 (keyword al "label") v2}]
                     (await! (v/aio-execute (-> (v/select C :note (keyword al "label"))
                                                (v/join P {:as (keyword al) :type :left
                                                           :on [:= (keyword al "id") :parent]})
                                                (v/order-by :id) v/as-maps)))))
              (is (= [v1 v2] (mapv #(get-in % [:owner :label])
                                   (await! (v/aio-execute (-> (v/select C P) (v/join P {:as (keyword al) :attr :owner})
                                                              (v/order-by :id)))))))))
          (testing "where over hostile columns, count, exists"
            (is (= 1 (await! (v/aio-count (v/where (v/select C) {:note v4 :parent (:id p1)})))))
            (is (= 2 (await! (v/aio-count (-> (v/select C) (v/join P) (v/where [:in (keyword (:p-table n) "label") [v1 v2]]))))))
            (is (true? (await! (v/aio-exists (v/where (v/select P) {:label__in [v3]})))))
            (is (= 3 (await! (v/aio-count (v/select P))))))
          (testing "update with a hostile value, filtered on a hostile column"
            (is (= 1 (await! (v/aio-execute (-> (v/update C {:note v3}) (v/where {:note v1}))))))
            (is (= v3 (:note (await! (v/aio-get C (:id c2)))))))
          (testing "upsert on the hostile unique column keeps one row and takes the new value"
            (await! (v/aio-execute (v/on-conflict (v/insert P {:label v1}) {:target [:label] :update {:label v4}})))
            (is (= [v4 v2 v3] (mapv :label (await! (v/aio-execute (v/order-by (v/select P) :id))))))
            (await! (v/aio-execute (v/on-conflict-ignore (v/insert P {:label v2}))))
            (is (= 3 (await! (v/aio-count (v/select P))))))
          (testing "prefetch both ways over the hostile foreign-key column, both strategies"
            (doseq [strategy [:where :join]]
              (is (= [[v4 [v4]] [v2 [v3]] [v3 []]]
                     (mapv (juxt :label #(mapv :note (:kids %)))
                           (await! (v/aio-prefetch (v/order-by (v/select P) :id) (v/order-by (v/select C) :id) {:strategy strategy}))))
                  (str strategy)))
            (is (= [v4 v2] (mapv #(get-in % [:parent :label]) (await! (v/aio-prefetch (v/order-by (v/select C) :id) (v/select P)))))))
          (testing "many-to-many through a generated table named after hostile tables"
            (is (= 2 (await! (v/aio-add C c1 :tags [p2 p3]))))
            (is (= [v2 v3] (mapv :label (await! (v/aio-related C c1 :tags)))))
            (is (= [(:id c1)] (mapv :id (await! (v/aio-related P p3 :tagged)))))
            (is (= 1 (await! (v/aio-remove C c1 :tags p2))))
            (is (= 1 (await! (v/aio-clear C c1 :tags)))))
          (testing "many-to-many through a given model with hostile table and column names"
            (is (= 2 (await! (v/aio-add C c2 :links [p1 p3]))))
            (is (= 0 (await! (v/aio-add C c2 :links [p1]))))
            (is (= [(:id c2)] (mapv :id (await! (v/aio-related P p1 :linked)))))
            (is (= 1 (await! (v/aio-remove C c2 :links [p3]))))
            (is (= [(:id p1)] (mapv :id (await! (v/aio-related C c2 :links))))))
          (testing "a recursive delete through the hostile foreign keys"
            (is (= 1 (await! (v/aio-delete-instance P p1 {:recursive true}))))
            (is (= [(:id c2)] (mapv :id (await! (v/aio-execute (v/select C))))))
            (is (= [] (await! (v/aio-execute (v/select L)))))))
        (testing "nothing was executed: the canary is intact"
          (is (canary-alive?)))
        (finally
          (await! (v/aio-drop-tables [L C P Canary] {:safe true})))))))
