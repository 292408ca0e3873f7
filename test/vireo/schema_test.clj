(ns ^:vireo/per-backend vireo.schema-test
  "The schema manager and introspection (vireo.core's aio-* wrappers over
  vireo.impl.schema) against each backend. index-names has no public
  wrapper and is called directly."
  (:require [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.impl.schema :as schema]
            [vireo.promise :as p]
            [vireo.sql :as sql]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(def ^:private quote-table "schema_q'uo\"te")

(defn- schema-foo []
  (ts/model 'SchemaFoo {:table "schemafoo"
                        :fields [:key {:type :char :max-length 40 :unique true}
                                 :tag {:type :char :max-length 40 :index true}
                                 :note {:type :text :null true}]}))

(defn- schema-quote []
  (ts/model 'SchemaQuote {:table quote-table
                          :fields {:name {:type :char :max-length 40 :index true}}}))

(defn- row-count [m]
  (-> (await! (v/aio-execute m {:select [[[:count :*] :n]] :from (sql/ident (:table m))}))
      first :n long))

(defn- add-rows! [m rows]
  (mapv #(await! (v/aio-create m %)) rows))

(deftest get-tables-and-table-exists-test
  (let [Foo (schema-foo) Quote (schema-quote) d (ts/db)]
    (ts/with-tables [Foo Quote]
      (testing "get-tables: a sorted vector holding the model tables, no internal tables"
        (let [tables (await! (v/aio-get-tables d))]
          (is (vector? tables))
          (is (= (sort tables) tables))
          (is (every? string? tables))
          (is (some #{"schemafoo"} tables))
          (is (some #{quote-table} tables))
          (is (not-any? #(.startsWith ^String % "sqlite_") tables)))
        (is (= (await! (v/aio-get-tables d)) (await! (v/aio-get-tables Foo {})))
            "a model stands for its database"))
      (testing "table-exists: by model, by name, by a model on a database"
        (is (true? (await! (v/aio-table-exists Foo))))
        (is (true? (await! (v/aio-table-exists d "schemafoo"))))
        (is (true? (await! (v/aio-table-exists d Quote))))
        (is (true? (await! (v/aio-table-exists d quote-table {})))))
      (testing "names are compared exactly, never spliced into the SQL"
        (is (false? (await! (v/aio-table-exists d "SCHEMAFOO"))))
        (is (false? (await! (v/aio-table-exists d "schemafo"))))
        (is (false? (await! (v/aio-table-exists d "schemafoo' OR '1'='1"))))
        (is (false? (await! (v/aio-table-exists d "schema_q'uo")))))
      (testing "bad arguments fail the future"
        (let [f (v/aio-table-exists d 42)]
          (is (p/future? f))
          (is (v/error-type? (error-of (constantly f)) :vireo/interface-error)))
        (is (v/error-type? (error-of #(v/aio-table-exists d "")) :vireo/interface-error))
        (is (v/error-type? (error-of #(v/aio-get-tables {:not "a db"})) :vireo/interface-error))))
    (testing "after the tables are dropped"
      (is (false? (await! (v/aio-table-exists Foo))))
      (is (false? (await! (v/aio-table-exists d quote-table))))
      (is (not (some #{"schemafoo" quote-table} (await! (v/aio-get-tables d))))))))

(deftest sequence-exists-test
  (let [Foo (schema-foo) d (ts/db)]
    (ts/with-tables [Foo]
      (if (= :postgres ts/*backend*)
        (do (is (true? (await! (v/aio-sequence-exists d "schemafoo_id_seq"))))
            (is (false? (await! (v/aio-sequence-exists d "schemafoo_key_seq"))))
            (is (false? (await! (v/aio-sequence-exists d "schemafoo"))) "a table is not a sequence")
            (is (false? (await! (v/aio-sequence-exists Foo "x' OR 'a'='a")))))
        (do (is (false? (await! (v/aio-sequence-exists d "schemafoo_id_seq"))))
            (is (false? (await! (v/aio-sequence-exists Foo "anything" {}))))))
      (is (v/error-type? (error-of #(v/aio-sequence-exists d nil)) :vireo/interface-error)))
    (when (= :postgres ts/*backend*)
      (is (false? (await! (v/aio-sequence-exists d "schemafoo_id_seq"))) "dropped with its table"))))

(deftest indexes-test
  (let [Foo (schema-foo) Quote (schema-quote) d (ts/db)
        foo-indexes ["schemafoo_key" "schemafoo_tag"]]
    (ts/with-tables [Foo Quote]
      (testing "index-names lists the indexes aio-create-table made, without the primary key's"
        (is (= foo-indexes (await! (schema/index-names Foo))))
        (is (= foo-indexes (await! (schema/index-names d "schemafoo"))))
        (is (= [(str quote-table "_name")] (await! (schema/index-names d Quote {}))))
        (is (= [] (await! (schema/index-names d "no_such_table_here"))))
        (is (= [] (await! (schema/index-names d "SCHEMAFOO")))))
      (testing "drop-indexes, then again: fails unless :safe"
        (is (nil? (await! (v/aio-drop-indexes Foo))))
        (is (= [] (await! (schema/index-names Foo))))
        (is (v/error-type? (error-of #(v/aio-drop-indexes Foo)) :vireo/programming-error))
        (is (nil? (await! (v/aio-drop-indexes Foo {:safe true})))))
      (testing "without its unique index the table takes duplicates"
        (add-rows! Foo [{:key "k" :tag "a"} {:key "k" :tag "b"}])
        (is (= 2 (row-count Foo)))
        (is (v/error-type? (error-of #(v/aio-create-indexes Foo)) :vireo/integrity-error)
            "the unique index cannot be built over duplicates")
        (await! (v/aio-execute Foo {:delete-from :schemafoo})))
      (testing "create-indexes, then again: fails unless :safe"
        (await! (v/aio-drop-indexes Foo {:safe true}))
        (is (nil? (await! (v/aio-create-indexes Foo))))
        (is (= foo-indexes (await! (schema/index-names Foo))))
        (is (v/error-type? (error-of #(v/aio-create-indexes Foo)) :vireo/programming-error))
        (is (nil? (await! (v/aio-create-indexes Foo {:safe true}))))
        (is (= foo-indexes (await! (schema/index-names Foo)))))
      (testing "the unique index is back in force"
        (await! (v/aio-create Foo {:key "u" :tag "a"}))
        (is (v/error-type? (error-of #(v/aio-create Foo {:key "u" :tag "b"})) :vireo/unique-violation)))
      (testing "a table name with quotes in it"
        (await! (v/aio-drop-indexes Quote))
        (is (= [] (await! (schema/index-names Quote))))
        (await! (v/aio-create-indexes Quote {:safe true}))
        (is (= [(str quote-table "_name")] (await! (schema/index-names Quote)))))
      (testing "a model is required"
        (is (v/error-type? (error-of #(v/aio-create-indexes d)) :vireo/interface-error))
        (is (v/error-type? (error-of #(v/aio-drop-indexes "schemafoo")) :vireo/interface-error))))))

(deftest create-tables-safe-twice-test
  (let [Owner (ts/model 'SchemaOwner {:table "schemaowner"
                                      :fields [:key {:type :char :max-length 40 :unique true}
                                               :tag {:type :char :max-length 40 :index true}]
                                      :indexes [{:fields [:tag :key]} {:fields [:key :tag] :unique true :name "schemaowner_pair"}]})
        Pet (ts/model 'SchemaPet {:table "schemapet"
                                  :fields {:owner {:type :foreign-key :model Owner}
                                           :friends {:type :many-to-many :model Owner :backref :pet-friends}}})
        Through (v/through-model Pet :friends)
        models [Pet Owner]
        expected {"schemaowner" ["schemaowner_key" "schemaowner_pair" "schemaowner_tag" "schemaowner_tag_key"]
                  "schemapet" ["schemapet_owner_id"]
                  "schemapet_schemaowner_through" ["schemapet_schemaowner_through_schemaowner_id"
                                                   "schemapet_schemaowner_through_schemapet_id_schemaowner_id"]}]
    (try
      (await! (v/aio-drop-tables models {:safe true}))
      (testing "the first {:safe true} creates the tables and their indexes"
        (is (nil? (await! (v/aio-create-tables models {:safe true}))))
        (let [o (await! (v/aio-create Owner {:key "k" :tag "t"}))
              p (await! (v/aio-create Pet {:owner o}))]
          (await! (v/aio-add Pet p :friends o))))
      (testing "the second one, on existing tables and indexes, succeeds and changes nothing"
        (is (nil? (await! (v/aio-create-tables models {:safe true}))))
        (is (= 1 (await! (v/aio-count (v/select Owner)))))
        (is (= 1 (await! (v/aio-count (v/select Through)))))
        (doseq [[table ixs] expected]
          (is (= ixs (await! (schema/index-names (ts/db) table))) table)))
      (testing "without :safe the second create fails on the existing table"
        (is (v/error-type? (error-of #(v/aio-create-table Owner)) :vireo/programming-error)))
      (testing "aio-create-indexes {:safe true} over existing indexes, then aio-drop-tables {:safe true} twice"
        (is (nil? (await! (v/aio-create-indexes Owner {:safe true}))))
        (is (nil? (await! (v/aio-drop-tables models {:safe true}))))
        (is (nil? (await! (v/aio-drop-tables models {:safe true}))))
        (is (every? false? (map #(await! (v/aio-table-exists %)) [Owner Pet Through]))))
      (finally (await! (v/aio-drop-tables models {:safe true}))))))

(deftest truncate-table-test
  (let [Foo (schema-foo) Quote (schema-quote)]
    (ts/with-tables [Foo Quote]
      (let [rows (add-rows! Foo [{:key "a" :tag "t"} {:key "b" :tag "t"} {:key "c" :tag "t"}])]
        (is (= 3 (row-count Foo)))
        (testing "restart-identity: the table is empty and the next key is 1 again"
          (is (nil? (await! (v/aio-truncate-table Foo {:restart-identity true}))))
          (is (= 0 (row-count Foo)))
          (is (= 1 (:id (await! (v/aio-create Foo {:key "a" :tag "t"}))))))
        (testing "without restart-identity"
          (add-rows! Foo [{:key "b" :tag "t"}])
          (await! (v/aio-truncate-table Foo))
          (is (= 0 (row-count Foo)))
          (let [next-id (:id (await! (v/aio-create Foo {:key "x" :tag "t"})))]
            (case ts/*backend*
              ;; the sequence goes on
              :postgres (is (= 3 next-id))
              ;; TRUNCATE always restarts AUTO_INCREMENT; a plain INTEGER PRIMARY
              ;; KEY restarts once the table is empty
              (:mysql :sqlite) (is (= 1 next-id)))))
        (is (= 3 (count rows))))
      (testing "a table name with quotes in it"
        (add-rows! Quote [{:name "n1"} {:name "n2"}])
        (is (= 2 (row-count Quote)))
        (await! (v/aio-truncate-table Quote {:restart-identity true}))
        (is (= 0 (row-count Quote))))
      (testing ":cascade is PostgreSQL's"
        (if (= :postgres ts/*backend*)
          (is (nil? (await! (v/aio-truncate-table Foo {:cascade true}))))
          (let [e (error-of #(v/aio-truncate-table Foo {:cascade true}))]
            (is (v/error-type? e :vireo/not-supported))
            (is (= 1 (row-count Foo)) "nothing was deleted"))))
      (is (v/error-type? (error-of #(v/aio-truncate-table (ts/db))) :vireo/interface-error)))))

(deftest ^{:backends #{:postgres}} truncate-cascade-test
  (let [Foo (schema-foo) d (ts/db)]
    (ts/with-tables [Foo]
      (try
        (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS schemachild"))
        (await! (v/aio-execute-sql d "CREATE TABLE schemachild (id SERIAL PRIMARY KEY, foo_id INTEGER NOT NULL REFERENCES schemafoo (id))"))
        (let [foo (await! (v/aio-create Foo {:key "a" :tag "t"}))]
          (await! (v/aio-execute-sql d "INSERT INTO schemachild (foo_id) VALUES ($1)" [(:id foo)]))
          (testing "a referenced table cannot be truncated alone"
            (is (v/error-type? (error-of #(v/aio-truncate-table Foo)) :vireo/database-error))
            (is (= 1 (row-count Foo))))
          (testing ":cascade empties the referencing table too"
            (await! (v/aio-truncate-table Foo {:cascade true :restart-identity true}))
            (is (= 0 (row-count Foo)))
            (is (= [{:n 0}] (:rows (await! (v/aio-execute-sql d "SELECT COUNT(*)::int AS n FROM schemachild")))))))
        (finally
          (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS schemachild")))))))

(deftest ^{:backends #{:sqlite}} sqlite-autoincrement-restart-test
  (let [d (ts/db)
        Counter (ts/model 'SchemaCounter {:table "schemacounter" :fields {:n {:type :integer}}})
        next-id #(:id (await! (v/aio-create Counter {:n 1})))]
    (try
      (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS schemacounter"))
      (await! (v/aio-execute-sql d "CREATE TABLE schemacounter (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL)"))
      (is (= [1 2 3] (repeatedly 3 next-id)))
      (testing "AUTOINCREMENT keeps counting after DELETE FROM…"
        (await! (v/aio-truncate-table Counter))
        (is (= 4 (next-id))))
      (testing "…unless :restart-identity, which resets sqlite_sequence"
        (await! (v/aio-truncate-table Counter {:restart-identity true}))
        (is (= 0 (row-count Counter)))
        (is (= 1 (next-id))))
      (finally
        (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS schemacounter"))))))

(deftest ^{:backends #{:postgres :sqlite}} joins-the-transaction-test
  (let [Foo (schema-foo) d (ts/db)]
    (ts/with-tables [Foo]
      (add-rows! Foo [{:key "a" :tag "t"} {:key "b" :tag "t"}])
      (testing "a truncate inside a rolled-back aio-atomic is undone"
        (let [e (error-of #(v/aio-atomic d (fn [_]
                                             (p/let [_ (v/aio-truncate-table Foo)
                                                     n (v/aio-execute Foo {:select [[[:count :*] :n]] :from :schemafoo})]
                                               (throw (ex-info "roll back" {:seen (:n (first n))}))))))]
          (is (= "roll back" (ex-message e)))
          (is (= 0 (long (:seen (ex-data e)))) "the truncate ran in the transaction")
          (is (= 2 (row-count Foo)))))
      (testing "introspection sees a table created in the same transaction, and not after the rollback"
        (let [e (error-of #(v/aio-atomic d (fn [_]
                                             (p/let [_ (v/aio-execute-sql d "CREATE TABLE schematx (id INTEGER PRIMARY KEY)")
                                                     seen (v/aio-table-exists d "schematx")
                                                     tables (v/aio-get-tables d)]
                                               (throw (ex-info "roll back" {:seen seen :listed (boolean (some #{"schematx"} tables))}))))))]
          (is (= {:seen true :listed true} (select-keys (ex-data e) [:seen :listed])))
          (is (false? (await! (v/aio-table-exists d "schematx")))))))))
