(ns ^:vireo/per-backend vireo.long-names-test
  "Long identifiers on every backend. Names Vireo generates (field indexes
  <table>_<column>, :indexes entries without :name, foreign-key constraints
  <table>_<column>_fkey, generated through tables) over 63 UTF-8 bytes are
  shortened deterministically (a prefix and a hash of the whole name), so
  create, drop, the index listing and recursive deletes agree on them; a
  name the model gives itself that is too long for the backend is refused
  before anything is sent, naming the backend and its limit."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.impl.model :as model]
            [vireo.impl.schema :as schema]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(defn- padded
  "`prefix` padded with `c` to n characters."
  [prefix c n]
  (str prefix (apply str (repeat (- n (count prefix)) c))))

(defn- utf8-bytes [^String s] (alength (.getBytes s "UTF-8")))

;; ---------------------------------------------------------------- the rule (no database)
(deftest ^{:backends #{:sqlite}} short-name-rule-test
  (testing "a name within 63 bytes is kept as it is"
    (is (= "pageblock_key" (model/short-name "pageblock_key")))
    (let [n (padded "t_" "a" 63)] (is (identical? n (model/short-name n)))))
  (testing "a longer one: its first 54 bytes, _ and 8 hex digits of the whole name's MD5"
    (let [n (padded "t_" "a" 64)
          s (model/short-name n)]
      (is (= 63 (count s) (utf8-bytes s)))
      (is (= (str (subs n 0 54) "_") (subs s 0 55)))
      (is (re-matches #"[0-9a-f]{8}" (subs s 55)))
      (is (= s (model/short-name (str n))) "deterministic")))
  (testing "names that differ only after the cut get different names"
    (let [a (model/short-name (padded "t_" "a" 80))
          b (model/short-name (str (padded "t_" "a" 79) "b"))]
      (is (not= a b))
      (is (= (subs a 0 54) (subs b 0 54)))))
  (testing "the cut falls between characters, never inside one"
    (let [s (model/short-name (apply str (repeat 40 "é")))]   ; 80 bytes
      (is (<= (utf8-bytes s) 63))
      (is (= (str (apply str (repeat 27 "é")) "_") (subs s 0 28)) "27 é are 54 bytes")))
  (testing "non-BMP characters (4 bytes, two UTF-16 units) are kept whole"
    (let [s (model/short-name (str "t" (apply str (repeat 20 "😀"))))]
      (is (<= (utf8-bytes s) 63))
      (is (= (str "t" (apply str (repeat 13 "😀")) "_") (subs s 0 28)) "t + 13 × 4 bytes = 53 bytes"))))

;; ---------------------------------------------------------------- generated names, live
(def ^:private parent-table (padded "ln_parent_" "p" 58))
(def ^:private child-table (padded "ln_child_" "c" 60))
;; two columns whose <table>_<column> names share their first 63 bytes:
;; PostgreSQL would cut both to the same index name
(def ^:private title-a (padded "title_" "t" 55))
(def ^:private title-b (str (padded "title_" "t" 54) "b"))

(defn- models []
  (let [Parent (ts/model 'LnParent {:table parent-table
                                    :fields [:title {:type :char :max-length 20 :index true :column title-a}
                                             :subtitle {:type :char :max-length 20 :index true :column title-b}
                                             :code {:type :char :max-length 10 :unique true}]
                                    :indexes [{:fields [:title :subtitle :code]}]})
        Child (ts/model 'LnChild {:table child-table
                                  :fields {:parent {:type :foreign-key :model Parent :backref :kids}
                                           :name {:type :text}
                                           :tags {:type :many-to-many :model Parent :backref :tagged}}})]
    [Parent Child]))

(defn- foreign-key-names
  "The FOREIGN KEY constraint names of `table` (PostgreSQL and MariaDB)."
  [d table]
  (set (map :constraint-name
            (:rows (await! (v/aio-execute-sql d (str "SELECT constraint_name FROM information_schema.table_constraints"
                                                     " WHERE constraint_type = 'FOREIGN KEY' AND table_name = "
                                                     (if (= ts/*backend* :postgres) "$1" "?")
                                                     (when (= ts/*backend* :mysql) " AND table_schema = DATABASE()"))
                                              [table]))))))

(deftest generated-names-test
  (let [[Parent Child] (models)
        d (ts/db)
        Through (v/through-model Child :tags)
        fld (fn [m k] (model/field m k))
        parent-indexes (sort [(model/index-name Parent (fld Parent :title))
                              (model/index-name Parent (fld Parent :subtitle))
                              (model/index-name Parent (fld Parent :code))
                              (model/indexes-entry-name Parent {} (mapv #(fld Parent %) [:title :subtitle :code]))])]
    (testing "the generated names, computed without a database"
      (is (= (model/short-name (str parent-table "_" title-a)) (model/index-name Parent (fld Parent :title))))
      (is (= 4 (count (distinct parent-indexes))) "the two titles' indexes do not collide")
      (is (every? #(<= (utf8-bytes %) 63) parent-indexes))
      (is (= (str parent-table "_code") (model/index-name Parent (fld Parent :code))) "a short one is unchanged")
      (is (re-matches #".{54}_[0-9a-f]{8}" (v/table-name Through)) "the through table's generated name is shortened")
      (is (str/starts-with? (v/table-name Through) (subs child-table 0 54))))
    (await! (v/aio-drop-tables [Parent Child] {:safe true}))
    (try
      (await! (v/aio-create-tables [Parent Child]))
      (testing "every table exists under its name"
        (is (true? (await! (v/aio-table-exists Parent))))
        (is (true? (await! (v/aio-table-exists Child))))
        (is (true? (await! (v/aio-table-exists Through))))
        (is (some #{(v/table-name Through)} (await! (v/aio-get-tables d)))))
      (testing "the indexes exist under the names Vireo computes"
        (is (= parent-indexes (await! (schema/index-names Parent))))
        (is (some #{(model/index-name Child (fld Child :parent))} (await! (schema/index-names Child)))))
      (testing "create-indexes :safe sees them as existing; drop-indexes finds them; create-indexes makes them again"
        (is (nil? (await! (v/aio-create-indexes Parent {:safe true}))))
        (is (= parent-indexes (await! (schema/index-names Parent))))
        (is (nil? (await! (v/aio-drop-indexes Parent))))
        (is (= [] (await! (schema/index-names Parent))))
        (is (nil? (await! (v/aio-create-indexes Parent))))
        (is (= parent-indexes (await! (schema/index-names Parent)))))
      (when (#{:postgres :mysql} ts/*backend*)
        (testing "the foreign keys' constraints have Vireo's names (MariaDB's own <table>_ibfk_1 is too long here)"
          (is (= #{(model/foreign-key-name Child (fld Child :parent))} (foreign-key-names d child-table)))
          (is (= (set (map #(model/foreign-key-name Through %) (model/foreign-keys Through)))
                 (foreign-key-names d (v/table-name Through))))))
      (testing "the foreign keys and the through table work; a recursive delete finds them by their names"
        (let [[p q] (mapv #(await! (v/aio-create Parent {:title % :subtitle % :code %})) ["p" "q"])
              kid (await! (v/aio-create Child {:parent p :name "kid"}))
              other (await! (v/aio-create Child {:parent q :name "other"}))]
          (is (= 2 (await! (v/aio-add Child kid :tags [p q]))))
          (is (= 2 (await! (v/aio-add Child other :tags [p q]))))
          (is (= ["p" "q"] (mapv :code (await! (v/aio-related Child kid :tags)))))
          (is (= ["kid" "other"] (sort (mapv :name (await! (v/aio-related Parent p :tagged))))))
          (is (= 1 (await! (v/aio-delete-instance Parent p {:recursive true}))))
          (is (= ["other"] (mapv :name (await! (v/aio-execute (v/select Child))))) "the child of p went with it")
          (is (= [[(:id other) (:id q)]]
                 (mapv (juxt :lnchild :lnparent) (await! (v/aio-execute (v/select Through)))))
              "so did every through row of p and of its child: other's link to q is left")))
      (finally
        (await! (v/aio-drop-tables [Parent Child] {:safe true}))))
    (is (false? (await! (v/aio-table-exists Through))) "drop-tables dropped the through table too")))

;; ---------------------------------------------------------------- names the model gives, too long
(deftest user-given-names-test
  (let [d (ts/db)
        limit-msg (case ts/*backend*
                    :postgres "PostgreSQL allows at most 63 bytes in an identifier (it would silently cut the name)"
                    :mysql "MariaDB/MySQL allows at most 64 characters in an identifier"
                    nil)
        try-table (fn [table refused?]
                    (let [M (ts/model 'LnGiven {:table table :fields {:v {:type :integer}}})]
                      (try
                        (if refused?
                          (let [e (error-of #(v/aio-create-table M))]
                            (is (v/error-type? e :vireo/model-error) table)
                            (is (str/includes? (str (ex-message e)) limit-msg) (ex-message e))
                            (is (str/includes? (str (ex-message e)) (pr-str table)))
                            (is (str/includes? (str (ex-message e)) "give a shorter :table"))
                            (is (= {:model "LnGiven" :name table :backend ts/*backend*}
                                   (select-keys (ex-data e) [:model :name :backend])))
                            (is (not (some #{table} (await! (v/aio-get-tables d)))) "nothing was created")
                            (is (v/error-type? (error-of #(v/aio-drop-table M {:safe true})) :vireo/model-error)
                                "drop-table refuses it too"))
                          (do (await! (v/aio-create-table M))
                              (is (true? (await! (v/aio-table-exists M))) table)
                              (await! (v/aio-create M {:v 1}))
                              (is (= [1] (mapv :v (await! (v/aio-execute (v/select M))))))))
                        (finally (when-not refused? (await! (v/aio-drop-table M {:safe true})))))))]
    (testing "a table name of 65 characters: refused on PostgreSQL and MariaDB, fine on SQLite"
      (try-table (padded "ln_given_" "g" 65) (not= ts/*backend* :sqlite)))
    (testing "64 characters: over PostgreSQL's limit only"
      (try-table (padded "ln_given_" "g" 64) (= ts/*backend* :postgres)))
    (testing "PostgreSQL counts bytes: 40 × é is 80 bytes but 40 characters"
      (try-table (str "ln_" (apply str (repeat 37 "é"))) (= ts/*backend* :postgres)))
    (testing "a column name, with the field named"
      (let [col (padded "col_" "k" 65)
            M (ts/model 'LnGivenCol {:table "ln_given_col" :fields {:v {:type :integer :column col}}})]
        (try
          (let [e (error-of #(v/aio-create-table M))]
            (if (= ts/*backend* :sqlite)
              (is (nil? e))
              (do (is (v/error-type? e :vireo/model-error))
                  (is (str/includes? (ex-message e) "Model LnGivenCol, field :v: the column name"))
                  (is (str/includes? (ex-message e) "give a shorter :column")))))
          (finally (when (= ts/*backend* :sqlite) (await! (v/aio-drop-table M {:safe true})))))))
    (testing "an :indexes :name, refused by create-table and by create-indexes"
      (let [ix (padded "ix_" "i" 65)
            M (ts/model 'LnGivenIx {:table "ln_given_ix" :fields {:v {:type :integer}}
                                    :indexes [{:fields [:v] :name ix}]})]
        (try
          (if (= ts/*backend* :sqlite)
            (do (await! (v/aio-create-table M))
                (is (= [ix] (await! (schema/index-names M)))))
            (do (is (str/includes? (ex-message (error-of #(v/aio-create-table M))) "the index name"))
                (is (str/includes? (ex-message (error-of #(v/aio-create-indexes M))) "give a shorter :name"))))
          (finally (when (= ts/*backend* :sqlite) (await! (v/aio-drop-table M {:safe true})))))))))
