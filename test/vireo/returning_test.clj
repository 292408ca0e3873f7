(ns ^:vireo/per-backend vireo.returning-test
  "RETURNING by capability: what the server can do is detected when the pool
  opens (or forced with the :returning option); without RETURNING, generated
  keys come from the driver's last insert id, and a returning the database
  cannot do is refused naming it. Large insert-many batches are split under
  the bind-parameter limit, all-or-nothing."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [clojure.tools.logging :as log]
            [vireo.core :as v]
            [vireo.impl.backend :as backend]
            [vireo.impl.db :as db]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await! error-of]]))

(defn- author-def [d]
  {:database d :table "rauthor"
   :fields [:name {:type :char :max-length 40 :unique true}
            :born {:type :integer :null true}]})

(defn- with-db
  "Runs (f d Author) with a new database of the current backend (options
  `opts`) and a fresh rauthor table on it; closes it afterwards."
  [opts f]
  (let [d (ts/new-db ts/*backend* opts)
        Author (v/model 'RAuthor (author-def d))]
    (try
      (v/with-allow-sync d
        (v/drop-table! Author {:safe true})
        (v/create-table! Author))
      (f d Author)
      (finally
        (try (v/with-allow-sync d (v/drop-table! Author {:safe true}))
             (finally (await! (v/aio-close d))))))))

(defn- statements
  "Runs (f) awaiting its future; returns [value [sql …]]: the statements
  logged on vireo.sql meanwhile."
  [f]
  (let [logged (atom [])]
    (binding [log/*logger-factory* (ts/capturing-logger-factory logged "vireo.sql" :debug)]
      (let [v (await! (f))]
        [v (mapv (fn [[_ _ _ msg]] (first (read-string msg))) @logged)]))))

(deftest server-capabilities-test
  (testing "the capability rules by server and version"
    (is (= #{:insert :delete} (:returning (backend/server-capabilities :mysql "10.11.19-MariaDB-0+deb12u1"))))
    (is (= #{:insert :delete} (:returning (backend/server-capabilities :mysql "10.5.0-MariaDB"))))
    (is (= #{:insert :delete} (:returning (backend/server-capabilities :mysql "5.5.5-10.6.12-MariaDB-log"))))
    (is (= #{} (:returning (backend/server-capabilities :mysql "10.4.32-MariaDB"))))
    (is (= #{} (:returning (backend/server-capabilities :mysql "8.0.36"))))
    (is (= "MySQL 8.0.36" (:server (backend/server-capabilities :mysql "8.0.36"))))
    (is (= #{:insert :update :delete} (:returning (backend/server-capabilities :sqlite "3.35.0"))))
    (is (= #{} (:returning (backend/server-capabilities :sqlite "3.34.1"))))
    (is (= #{:insert :update :delete} (:returning (backend/server-capabilities :postgres nil))))))

(deftest detected-at-connect-test
  (let [d (ts/new-db ts/*backend*)]
    (try
      (await! (v/aio-connect d))
      (let [caps (db/capabilities-now d)]
        (testing "aio-connect reads what the server can do"
          (is (= (case ts/*backend* :mysql #{:insert :delete} #{:insert :update :delete}) (:returning caps)))
          (is (= :detected (:returning-source caps)))
          (is (str/starts-with? (:server caps) (case ts/*backend* :postgres "PostgreSQL" :mysql "MariaDB" :sqlite "SQLite"))))
        (when (= ts/*backend* :mysql)
          (is (= 1 (:auto-increment-increment caps)) "the step between the ids of one multi-row INSERT")))
      (finally (await! (v/aio-close d)))))
  (testing "a pool opened lazily by its first statement detects too"
    (with-db {} (fn [d Author]
                  (is (pos-int? (:id (await! (v/aio-create Author {:name "lazy"})))))
                  (is (= :detected (:returning-source (db/capabilities-now d))))))))

(deftest returning-option-test
  (testing "the option is checked when the database is made"
    (let [e (error-of #(ts/new-db ts/*backend* {:returning :insert}))]
      (is (v/error-type? e :vireo/interface-error))
      (is (str/includes? (ex-message e) ":returning must be a set")))
    (when (= ts/*backend* :mysql)
      (let [e (error-of #(ts/new-db :mysql {:returning #{:insert :update}}))]
        (is (v/error-type? e :vireo/interface-error))
        (is (str/includes? (ex-message e) "mysql has no RETURNING on UPDATE"))))
    (when (= ts/*backend* :postgres)
      (let [e (error-of #(ts/new-db :postgres {:returning #{}}))]
        (is (v/error-type? e :vireo/interface-error))
        (is (str/includes? (ex-message e) "must keep :insert")))))
  (testing "with the detected capabilities, inserts use RETURNING (MariaDB's prepared INSERT … RETURNING included)"
    (with-db {} (fn [_ Author]
                  (let [[a sqls] (statements #(v/aio-create Author {:name "r"}))]
                    (is (pos-int? (:id a)))
                    (is (= 1 (count sqls)))
                    (is (str/includes? (first sqls) "RETURNING")))
                  (let [[ids sqls] (statements #(v/aio-execute (v/insert-many Author [{:name "r1"} {:name "r2"}])))]
                    (is (= 2 (count ids)))
                    (is (= ["r1" "r2"] (mapv #(:name (await! (v/aio-get Author %))) ids)))
                    (is (str/includes? (first sqls) "RETURNING")))))))

(deftest ^{:backends #{:mysql :sqlite}} without-returning-test
  (with-db {:returning #{}}
    (fn [d Author]
      (testing "the option is in force"
        (await! (v/aio-connect d))
        (is (= #{} (:returning (db/capabilities-now d))))
        (is (= :option (:returning-source (db/capabilities-now d)))))
      (testing "aio-create: the key from the driver's last insert id, no RETURNING sent"
        (let [[a sqls] (statements #(v/aio-create Author {:name "ann" :born 1950}))]
          (is (pos-int? (:id a)))
          (is (not (str/includes? (first sqls) "RETURNING")))
          (is (= a (await! (v/aio-get Author (:id a)))))))
      (testing "aio-save of a new instance inserts and yields its key"
        (let [b (await! (v/aio-save Author {:name "bob"}))]
          (is (pos-int? (:id b)))
          (is (= "bob" (:name (await! (v/aio-get Author (:id b))))))))
      (testing "insert: one key; insert-many: every key, in row order"
        (let [id (await! (v/aio-execute (v/insert Author {:name "cy"})))]
          (is (= "cy" (:name (await! (v/aio-get Author id))))))
        (let [[ids sqls] (statements #(v/aio-execute (v/insert-many Author [{:name "d1"} {:name "d2"} {:name "d3"}])))]
          (is (= 1 (count sqls)) "one multi-row statement")
          (is (not (str/includes? (first sqls) "RETURNING")))
          (is (= ["d1" "d2" "d3"] (mapv #(:name (await! (v/aio-get Author %))) ids)))))
      (testing "rows with and without keys: the given keys first, the generated ones after, one transaction"
        (let [ids (await! (v/aio-execute (v/insert-many Author [{:name "e1"} {:id 500 :name "e2"} {:name "e3"}])))]
          (is (= 500 (second ids)))
          (is (= ["e1" "e2" "e3"] (mapv #(:name (await! (v/aio-get Author %))) ids)))))
      (testing "a returning the database cannot do is refused, naming it, before anything is sent"
        (let [n (await! (v/aio-count (v/select Author)))]
          (doseq [q [(v/returning (v/insert Author {:name "x"}))
                     (v/returning (v/insert-many Author [{:name "y"}]) :name)
                     (v/returning (v/where (v/delete Author) {:name "ann"}))]]
            (let [e (error-of #(v/aio-execute q))]
              (is (v/error-type? e :vireo/not-supported))
              (is (str/includes? (ex-message e) "RETURNING on"))
              (is (str/includes? (ex-message e) (db/describe d)))
              (is (str/includes? (ex-message e) "its :returning option is #{}"))))
          (let [e (error-of #(v/aio-execute d {:delete-from :rauthor :where [:= :name "ann"] :returning [:id]}))]
            (is (v/error-type? e :vireo/not-supported) "plain query data too"))
          (is (= n (await! (v/aio-count (v/select Author)))))))
      (testing "upserts: one row yields the new key, nil when skipped; the key of the updated row on MariaDB"
        (let [ann (:id (await! (v/aio-get Author {:name "ann"})))]
          (is (nil? (await! (v/aio-execute (v/on-conflict-ignore (v/insert Author {:name "ann" :born 1}))))))
          (is (pos-int? (await! (v/aio-execute (v/on-conflict-ignore (v/insert Author {:name "new" :born 1}))))))
          (let [upd (v/on-conflict (v/insert Author {:name "ann" :born 1951}) {:target [:name] :update [:born]})]
            (if (= ts/*backend* :mysql)
              (is (= ann (await! (v/aio-execute upd))))
              (is (v/error-type? (error-of #(v/aio-execute upd)) :vireo/not-supported)
                  "SQLite's last insert id says nothing about an updated row")))
          (let [e (error-of #(v/aio-execute (v/on-conflict-ignore (v/insert-many Author [{:name "ann"} {:name "z"}]))))]
            (is (v/error-type? e :vireo/not-supported))
            (is (str/includes? (ex-message e) "as-rowcount")))
          ;; MariaDB counts found rows: the skipped duplicate (a no-op update) too
          (is (= (if (= ts/*backend* :mysql) 2 1)
                 (await! (v/aio-execute (v/as-rowcount (v/on-conflict-ignore (v/insert-many Author [{:name "ann"} {:name "z"}]))))))))))))

(defn- wide-model [d]
  (v/model 'RWide {:database d :table "rwide"
                   :fields [:code {:type :char :max-length 20 :unique true}
                            :n {:type :integer}
                            :note {:type :text}
                            :m {:type :integer}]}))

(defn- wide-rows [n] (mapv (fn [i] {:code (str "c" i) :n i :note (str "note " i) :m (- i)}) (range n)))

(defn- check-large-batch [d]
  (let [Wide (wide-model d)]
    (v/with-allow-sync d (v/drop-table! Wide {:safe true}) (v/create-table! Wide))
    (try
      (testing "20 000 rows × 4 columns (80 000 parameters): split in chunks, keys in row order"
        (let [[ids sqls] (statements #(v/aio-execute (v/insert-many Wide (wide-rows 20000))))]
          (is (= 20000 (count ids)))
          (is (apply < ids) "increasing in row order")
          (is (< 1 (count (filter #(str/starts-with? % "INSERT") sqls))) "more than one INSERT")
          (is (= {:code "c0" :n 0} (select-keys (await! (v/aio-get Wide (first ids))) [:code :n])))
          (is (= {:code "c19999" :n 19999} (select-keys (await! (v/aio-get Wide (peek ids))) [:code :n])))
          (is (= {:code "c12345" :n 12345} (select-keys (await! (v/aio-get Wide (nth ids 12345))) [:code :n])))
          (is (= 20000 (await! (v/aio-count (v/select Wide)))))))
      (testing "all or nothing: a duplicate in the last chunk leaves no row of the batch"
        (await! (v/aio-execute (v/delete Wide)))
        (let [rows (conj (wide-rows 19999) {:code "c0" :n 0 :note "dup" :m 0})
              e (error-of #(v/aio-execute (v/insert-many Wide rows)))]
          (is (v/error-type? e :vireo/unique-violation))
          (is (= 0 (await! (v/aio-count (v/select Wide)))))))
      (testing "inside a transaction the batch is a savepoint: its failure leaves the transaction usable"
        (is (= [:failed 1]
               (await! (v/aio-atomic d (fn [_]
                                         (p/let [_ (v/aio-create Wide {:code "kept" :n 1 :note "" :m 1})
                                                 r (-> (v/aio-execute (v/insert-many Wide (conj (wide-rows 19999) {:code "kept" :n 0 :note "" :m 0})))
                                                       (p/catch :vireo/unique-violation (fn [_] :failed)))
                                                 n (v/aio-count (v/select Wide))]
                                           [r n])))))))
      (testing "as-rowcount and returning add up over the chunks"
        (await! (v/aio-execute (v/delete Wide)))
        (is (= 20000 (await! (v/aio-execute (v/as-rowcount (v/insert-many Wide (wide-rows 20000)))))))
        (when (contains? (:returning (db/capabilities-now d)) :insert)
          (await! (v/aio-execute (v/delete Wide)))
          (let [rows (await! (v/aio-execute (v/returning (v/insert-many Wide (wide-rows 20000)) :code)))]
            (is (= 20000 (count rows)))
            (is (= (set (map :code (wide-rows 20000))) (set (map :code rows)))))))
      (finally (v/with-allow-sync d (v/drop-table! Wide {:safe true}))))))

(deftest ^:vireo/stress large-insert-many-test
  (check-large-batch (ts/db)))

(deftest ^{:vireo/stress true :backends #{:mysql :sqlite}} large-insert-many-without-returning-test
  (let [d (ts/new-db ts/*backend* {:returning #{}})]
    (try (check-large-batch d)
         (finally (await! (v/aio-close d))))))

(deftest insert-many-of-empty-rows-test
  (let [Empty (ts/model 'REmpty {:table "rempty" :fields {:note {:type :text :null true}}})]
    (ts/with-tables [Empty]
      (testing "rows of defaults only: one DEFAULT VALUES statement per row, every key"
        (let [ids (await! (v/aio-execute (v/insert-many Empty [{} {} {}])))]
          (is (= 3 (count ids)))
          (is (apply < ids))
          (is (= 3 (await! (v/aio-count (v/select Empty))))))))))

(deftest row-forms-on-returning-test
  ;; each row form (instances, maps, vectors) on each query that returns
  ;; rows; a kind the server cannot return is refused by capability
  (with-db {}
    (fn [d Author]
      (let [can (:returning (await! (v/capabilities d)))
            forms {:instances v/as-instances :maps v/as-maps :vectors v/as-vectors}
            shaped (fn [form row]
                     (case form
                       :vectors (is (vector? row) "a vector in field order")
                       :maps (is (and (map? row) (nil? (meta row))) "a plain map")
                       :instances (is (and (map? row) (some? (meta row))) "a loaded instance"))
                     (if (= form :vectors) (vec (rest row)) [(:name row) (:born row)]))
            ph (fn [i] (if (= :postgres ts/*backend*) (str "$" i) "?"))
            n (atom 0)
            fresh (fn [] (str "a" (swap! n inc)))]
        (doseq [[form as] forms]
          (testing (str form)
            (testing "insert and insert-many"
              (if (contains? can :insert)
                (let [k (fresh)
                      [row] (await! (v/aio-execute (as (v/returning (v/insert Author {:name k :born 1})))))
                      rows (await! (v/aio-execute (as (v/returning (v/insert-many Author [{:name (fresh) :born 2}
                                                                                          {:name (fresh) :born 3}])))))]
                  (is (= [k 1] (shaped form row)))
                  (is (= [2 3] (sort (map #(second (shaped form %)) rows))))
                  (testing "only the fields asked for"
                    (let [[r] (await! (v/aio-execute (as (v/returning (v/insert Author {:name (fresh)}) :name :born))))]
                      (is (= (if (= form :vectors) 2 #{:name :born})
                             (if (= form :vectors) (count r) (set (keys r))))))))
                (is (v/error-type? (error-of #(v/aio-execute (as (v/returning (v/insert Author {:name (fresh)})))))
                                   :vireo/not-supported))))
            (testing "update"
              (let [k (fresh)]
                (await! (v/aio-create Author {:name k :born 10}))
                (if (contains? can :update)
                  (let [[row] (await! (v/aio-execute (as (v/returning (v/where (v/update Author {:born 11}) {:name k})))))]
                    (is (= [k 11] (shaped form row))))
                  (let [e (error-of #(v/aio-execute (as (v/returning (v/where (v/update Author {:born 11}) {:name k})))))]
                    (is (v/error-type? e :vireo/not-supported))
                    (is (str/includes? (ex-message e) "UPDATE"))))))
            (testing "delete"
              (let [k (fresh)]
                (await! (v/aio-create Author {:name k :born 20}))
                (if (contains? can :delete)
                  (let [[row] (await! (v/aio-execute (as (v/returning (v/where (v/delete Author) {:name k})))))]
                    (is (= [k 20] (shaped form row)))
                    (is (nil? (await! (v/aio-get-or-none Author {:name k})))))
                  (is (v/error-type? (error-of #(v/aio-execute (as (v/returning (v/where (v/delete Author) {:name k})))))
                                     :vireo/not-supported)))))
            (testing "raw SQL with RETURNING"
              (let [k (fresh)]
                (await! (v/aio-create Author {:name k :born 30}))
                (when (contains? can :delete)
                  (let [[row] (await! (v/aio-execute (as (v/raw Author (str "DELETE FROM rauthor WHERE name = " (ph 1)
                                                                            " RETURNING id, name, born")
                                                                [k]))))]
                    (is (= [k 30] (shaped form row)))))))
            (testing "select"
              (let [[row] (await! (v/aio-execute (as (v/limit (v/order-by (v/select Author) :id) 1))))]
                (is (= ["a1" 1] (shaped form row)))))))
        (testing "a row form without returning is refused by name, before anything is sent"
          (doseq [[q what] [[(v/insert Author {:name "never"}) "insert"]
                            [(v/update Author {:born 1}) "update"]
                            [(v/delete Author) "delete"]]]
            (let [e (error-of #(v/aio-execute (v/as-vectors q)))]
              (is (v/error-type? e :vireo/interface-error) what)
              (is (str/includes? (ex-message e) "as-vectors"))
              (is (str/includes? (ex-message e) "returning"))))
          (is (nil? (await! (v/aio-get-or-none Author {:name "never"})))))
        (testing "as-rowcount with returning is refused by name"
          (let [e (error-of #(v/aio-execute (v/as-rowcount (v/returning (v/insert Author {:name "never"})))))]
            (is (v/error-type? e :vireo/interface-error))
            (is (str/includes? (ex-message e) "as-rowcount"))))))))
