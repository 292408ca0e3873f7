(ns ^:vireo/per-backend vireo.migrate-test
  "vireo.migrate against each backend: every step op, SQLite's table rebuild
  keeping rows, indexes and foreign keys, the runner (exactly once, several
  concurrent runners on separate Database objects, the partial-failure
  report), the diff, the dry run, bad input and the blocking forms."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.impl.migrate]
            [vireo.impl.schema :as schema]
            [vireo.migrate :as mig]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(declare ph)

(defn- sql! [d s & params] (await! (v/aio-execute-sql d (ph s) (vec params))))

(defn- drop! [d & tables]
  (doseq [t tables] (sql! d (str "DROP TABLE IF EXISTS " t))))

(defn- rows [d s] (:rows (sql! d s)))

(defn- indexes [d t] (set (await! (schema/index-names d t))))

(defn- columns
  "The live table's column names (read from the catalog: a SELECT * prepared
  before an ALTER TABLE would fail on PostgreSQL, \"cached plan must not
  change result type\")."
  [d t]
  (set (map :name (await! (#'vireo.impl.migrate/live-columns d nil t)))))

(defn- ph
  "The SQL text with its ? placeholders numbered on PostgreSQL."
  [s]
  (if (= :postgres ts/*backend*)
    (let [n (atom 0)] (str/replace s #"\?" (fn [_] (str "$" (swap! n inc)))))
    s))

(defn- with-clean* [tables f]
  (let [d (ts/db)]
    (apply drop! d tables)
    (try (f d) (finally (apply drop! d tables)))))

(defmacro ^:private with-clean [[d tables] & body]
  `(with-clean* ~tables (fn [~d] ~@body)))

(def ^:private author-post
  [{:op :create-table :table "mig_author"
    :fields [:id {:type :auto} :name {:type :char :max-length 40 :unique true}]}
   {:op :create-table :table "mig_post"
    :fields [:id {:type :auto} :title {:type :char :max-length 80} :body {:type :text :null true}
             :author-id {:type :integer :null true}]}
   {:op :add-foreign-key :table "mig_post" :column :author-id :references ["mig_author" :id] :on-delete :cascade}
   {:op :add-index :table "mig_post" :columns [:title]}])

(defn- type-of [e] (:type (ex-data e)))

(deftest each-operation-test
  (with-clean [d ["mig_post" "mig_article" "mig_author"]]
    (await! (mig/aio-apply d author-post))
    (sql! d "INSERT INTO mig_author (name) VALUES ('ann')")
    (sql! d "INSERT INTO mig_post (title, author_id) VALUES ('first', 1)")
    (testing "create-table, add-index, add-foreign-key"
      (is (= #{"mig_post_title"} (disj (indexes d "mig_post") "mig_post_author_id_fkey")))
      (is (= :vireo/foreign-key-violation
             (type-of (error-of #(v/aio-execute-sql d "INSERT INTO mig_post (title, author_id) VALUES ('x', 99)"))))))
    (testing "add-column: existing rows get the default"
      (await! (mig/aio-apply d [{:op :add-column :table "mig_post" :column :views :spec {:type :integer :default 7}}]))
      (is (= [7] (map :views (rows d "SELECT views FROM mig_post")))))
    (testing "rename-column"
      (await! (mig/aio-apply d [{:op :rename-column :table "mig_post" :column :views :to :hits}]))
      (is (contains? (columns d "mig_post") "hits"))
      (is (not (contains? (columns d "mig_post") "views"))))
    (testing "alter-column: type, nullability and default"
      (sql! d "UPDATE mig_post SET body = 'b0' WHERE body IS NULL")
      (await! (mig/aio-apply d [{:op :alter-column :table "mig_post" :column :body :spec {:type :text :default "none"}}]))
      (is (= :vireo/not-null-violation
             (type-of (error-of #(v/aio-execute-sql d "INSERT INTO mig_post (title, body) VALUES ('n', NULL)")))))
      (sql! d "INSERT INTO mig_post (title) VALUES ('second')")
      (is (= "none" (:body (first (rows d "SELECT body FROM mig_post WHERE title = 'second'")))))
      (await! (mig/aio-apply d [{:op :alter-column :table "mig_post" :column :title :spec {:type :text :null true}}]))
      (sql! d "INSERT INTO mig_post (title) VALUES (NULL)")
      (is (= 3 (count (rows d "SELECT id FROM mig_post"))) "rows kept"))
    (testing "drop-index"
      (await! (mig/aio-apply d [{:op :drop-index :table "mig_post" :columns [:title]}]))
      (is (not (contains? (indexes d "mig_post") "mig_post_title"))))
    (testing "drop-foreign-key"
      (await! (mig/aio-apply d [{:op :drop-foreign-key :table "mig_post" :column :author-id}]))
      (sql! d "INSERT INTO mig_post (title, author_id) VALUES ('orphan', 99)")
      (is (= 1 (count (rows d "SELECT id FROM mig_post WHERE author_id = 99")))))
    (testing "drop-column"
      (await! (mig/aio-apply d [{:op :drop-column :table "mig_post" :column :hits}]))
      (is (not (contains? (columns d "mig_post") "hits"))))
    (testing "rename-table, :sql"
      (await! (mig/aio-apply d [{:op :rename-table :table "mig_post" :to "mig_article"}
                                {:op :sql :sql (ph "UPDATE mig_article SET body = ? WHERE title = ?") :params ["b" "first"]}]))
      (is (false? (await! (v/aio-table-exists d "mig_post"))))
      (is (= "b" (:body (first (rows d "SELECT body FROM mig_article WHERE title = 'first'"))))))
    (testing "drop-table"
      (await! (mig/aio-apply d [{:op :drop-table :table "mig_article"}]))
      (is (false? (await! (v/aio-table-exists d "mig_article")))))))

(deftest rebuild-keeps-data-indexes-and-foreign-keys-test
  ;; on SQLite these steps are table rebuilds; elsewhere ALTER TABLE: the same outcome
  (with-clean [d ["mig_post" "mig_author"]]
    (await! (mig/aio-apply d author-post))
    (await! (mig/aio-apply d [{:op :add-index :table "mig_post" :columns [:author-id :title] :unique true}]))
    (sql! d "INSERT INTO mig_author (name) VALUES ('ann')")
    (sql! d "INSERT INTO mig_author (name) VALUES ('bob')")
    (doseq [[t a] [["a1" 1] ["a2" 1] ["b1" 2]]]
      (sql! d "INSERT INTO mig_post (title, body, author_id) VALUES (?, 'x', ?)" t a))
    (let [before (indexes d "mig_post")
          steps [{:op :drop-column :table "mig_post" :column :body}
                 {:op :alter-column :table "mig_post" :column :title :spec {:type :char :max-length 120}}]
          planned (await! (mig/aio-plan d steps))]
      (when (= :sqlite ts/*backend*)
        (is (some #(str/includes? (first %) "vireo_new_mig_post") planned) "SQLite rebuilds the table"))
      (await! (mig/aio-apply d steps))
      (is (= [["a1" 1] ["a2" 1] ["b1" 2]]
             (mapv (juxt :title :author-id) (rows d "SELECT title, author_id FROM mig_post ORDER BY title")))
          "the rows are kept")
      (is (= before (indexes d "mig_post")) "the indexes are kept")
      (is (= :vireo/unique-violation
             (type-of (error-of #(v/aio-execute-sql d "INSERT INTO mig_post (title, author_id) VALUES ('a1', 1)"))))
          "the unique index still holds")
      (is (= :vireo/foreign-key-violation
             (type-of (error-of #(v/aio-execute-sql d "INSERT INTO mig_post (title, author_id) VALUES ('z', 42)"))))
          "the foreign key still holds")
      (sql! d "DELETE FROM mig_author WHERE name = 'ann'")
      (is (= ["b1"] (mapv :title (rows d "SELECT title FROM mig_post"))) "ON DELETE CASCADE is kept"))
    (testing "the parent rebuilt: the child's foreign key still points at it"
      (await! (mig/aio-apply d [{:op :alter-column :table "mig_author" :column :name :spec {:type :char :max-length 80}}]))
      (is (= :vireo/foreign-key-violation
             (type-of (error-of #(v/aio-execute-sql d "INSERT INTO mig_post (title, author_id) VALUES ('z', 42)"))))))
    (testing "a foreign key the rows violate fails, and the table is as before"
      (await! (mig/aio-apply d [{:op :drop-foreign-key :table "mig_post" :column :author-id}]))
      (sql! d "INSERT INTO mig_post (title, author_id) VALUES ('orphan', 42)")
      (let [e (error-of #(mig/aio-apply d [{:op :add-foreign-key :table "mig_post" :column :author-id
                                            :references ["mig_author" :id]}]))]
        (is (= :vireo/migration-failed (type-of e)))
        (is (= 1 (:failed-step (ex-data e))))
        (is (= 2 (count (rows d "SELECT id FROM mig_post"))))))))

(deftest rebuild-keeps-check-constraints-and-refuses-what-it-cannot-keep-test
  (if-not (= :sqlite ts/*backend*)
    (ts/skip! "only SQLite rebuilds tables")
    (with-clean [d ["mig_checked" "mig_collated"]]
      (sql! d (str "CREATE TABLE mig_checked (id INTEGER PRIMARY KEY, n INTEGER CHECK (n > 0), s TEXT,"
                   " t TEXT, CONSTRAINT short_s CHECK (length(\"s\") < 10 OR s = 'it''s (long) enough'))"))
      (sql! d "INSERT INTO mig_checked (n, s, t) VALUES (1, 'a', 'x')")
      (testing "a rebuild keeps the table's CHECK constraints, its column's and its own"
        (await! (mig/aio-apply d [{:op :drop-column :table "mig_checked" :column :t}]))
        (is (= #{"id" "n" "s"} (columns d "mig_checked")))
        (is (= [[1 "a"]] (mapv (juxt :n :s) (:rows (await! (v/aio-execute-sql d "SELECT n, s FROM mig_checked"))))))
        (is (= :vireo/check-violation (type-of (error-of #(v/aio-execute-sql d "INSERT INTO mig_checked (n, s) VALUES (0, 'b')")))))
        (is (= :vireo/check-violation (type-of (error-of #(v/aio-execute-sql d "INSERT INTO mig_checked (n, s) VALUES (2, 'far too long a text')")))))
        (sql! d "INSERT INTO mig_checked (n, s) VALUES (3, 'it''s (long) enough')"))
      (testing "a column a CHECK names is not dropped under it"
        (let [e (error-of #(mig/aio-apply d [{:op :drop-column :table "mig_checked" :column :n}]))]
          (is (= :vireo/migration-failed (type-of e)))
          (is (= :vireo/not-supported (type-of (ex-cause e))))
          (is (str/includes? (ex-message e) "CHECK constraint (n > 0)") (ex-message e)))
        (is (= #{"id" "n" "s"} (columns d "mig_checked")) "the table is unchanged"))
      (testing "what the pragmas cannot read back is refused, never dropped"
        (sql! d "CREATE TABLE mig_collated (id INTEGER PRIMARY KEY, s TEXT COLLATE NOCASE, u TEXT)")
        (let [e (error-of #(mig/aio-apply d [{:op :drop-column :table "mig_collated" :column :u}]))]
          (is (= :vireo/migration-failed (type-of e)))
          (is (= :vireo/not-supported (type-of (ex-cause e))))
          (is (str/includes? (ex-message e) "COLLATE clause")))
        (is (= #{"id" "s" "u"} (columns d "mig_collated")))))))

(defn- migrations [n]
  (vec (cons {:id "001-create" :steps [{:op :create-table :table "mig_log"
                                       :fields [:id {:type :auto} :note {:type :char :max-length 40}]}]}
             (for [i (range 1 n)]
               {:id (format "%03d-row" (inc i))
                :steps [{:op :sql :sql (str "INSERT INTO mig_log (note) VALUES ('m" i "')")}]}))))

(deftest runner-exactly-once-test
  (with-clean [d ["mig_log" "mig_versions"]]
    (let [opts {:table "mig_versions"}
          ms (migrations 3)]
      (is (= {:applied ["001-create" "002-row" "003-row"] :skipped []} (await! (mig/aio-migrate d ms opts))))
      (is (= {:applied [] :skipped ["001-create" "002-row" "003-row"]} (await! (mig/aio-migrate d ms opts))))
      (is (= 2 (count (rows d "SELECT id FROM mig_log"))))
      (is (= ["001-create" "002-row" "003-row"] (mapv :id (await! (mig/aio-applied d opts)))))
      (testing "a new migration appended: only it runs"
        (is (= {:applied ["004-row"] :skipped ["001-create" "002-row" "003-row"]}
               (await! (mig/aio-migrate d (migrations 4) opts))))
        (is (= 3 (count (rows d "SELECT id FROM mig_log")))))
      (testing "an applied migration changed: refused before anything runs"
        (let [changed (-> (migrations 5) (assoc-in [1 :steps 0 :sql] "INSERT INTO mig_log (note) VALUES ('other')"))
              e (error-of #(mig/aio-migrate d changed opts))]
          (is (= :vireo/migration-error (type-of e)))
          (is (= :checksum-mismatch (:problem (ex-data e))))
          (is (= "002-row" (:migration (ex-data e))))
          (is (str/includes? (ex-message e) "002-row"))
          (is (= 3 (count (rows d "SELECT id FROM mig_log"))) "005 did not run")))
      (testing "a dry run applies nothing and says what it would run"
        (let [r (await! (mig/aio-migrate d (migrations 5) (assoc opts :dry-run true)))]
          (is (= ["005-row"] (mapv :id (:pending r))))
          (is (= [["INSERT INTO mig_log (note) VALUES ('m4')"]] (mapv :sql (:pending r))))
          (is (= 3 (count (rows d "SELECT id FROM mig_log"))))
          (is (= 4 (count (await! (mig/aio-applied d opts))))))))))

(deftest concurrent-runners-test
  (with-clean [d ["mig_log" "mig_versions"]]
    (let [n 4
          dbs (vec (repeatedly n #(ts/new-db ts/*backend* {:max-size 2})))
          ms (migrations 5)]
      (try
        (let [start (p/promise)
              runs (mapv (fn [x] (p/then start (fn [_] (mig/aio-migrate x ms {:table "mig_versions"})))) dbs)
              _ (p/resolve! start true)
              results (mapv await! runs)
              applied (mapcat :applied results)]
          (is (= (sort (map :id ms)) (sort applied)) "every migration applied once, by one runner")
          (is (= (count applied) (count (distinct applied))))
          (is (every? #(= (set (map :id ms)) (into (set (:applied %)) (:skipped %))) results))
          (is (= 4 (count (rows d "SELECT id FROM mig_log"))) "each :sql step ran once")
          (is (= 5 (count (rows d "SELECT id FROM mig_versions")))))
        (finally (run! #(await! (v/aio-close %)) dbs))))))

(deftest failure-report-test
  (with-clean [d ["mig_log" "mig_versions"]]
    (await! (mig/aio-migrate d (migrations 1) {:table "mig_versions"}))
    (sql! d "INSERT INTO mig_log (note) VALUES ('one')")
    (let [bad [{:id "002-bad" :steps [{:op :add-column :table "mig_log" :column :extra :spec {:type :text :null true}}
                                      {:op :drop-column :table "mig_log" :column :no-such-column}]}]
          e (error-of #(mig/aio-migrate d (into (migrations 1) bad) {:table "mig_versions"}))
          data (ex-data e)
          transactional? (not= :mysql ts/*backend*)]
      (is (= :vireo/migration-failed (type-of e)))
      (is (= "002-bad" (:migration data)))
      (is (= 2 (:failed-step data)))
      (is (= [1] (:applied-steps data)))
      (is (= transactional? (:rolled-back data)))
      (is (str/includes? (ex-message e) "step 2 of 2"))
      (is (some? (ex-cause e)) "the step's own error is the cause")
      (is (= transactional? (not (contains? (columns d "mig_log") "extra")))
          "rolled back where DDL is transactional; MariaDB keeps step 1, and says so")
      (when-not transactional?
        (is (str/includes? (ex-message e) "steps 1-1 were applied and stay")))
      (is (= ["001-create"] (mapv :id (await! (mig/aio-applied d {:table "mig_versions"}))))
          "the failed migration is not recorded"))))

(defn- blog-model [fields]
  (ts/model 'MigBlog {:table "mig_blog" :fields fields}))

(deftest diff-test
  (with-clean [d ["mig_note" "mig_blog"]]
    (let [full (blog-model [:title {:type :char :max-length 80 :index true}
                            :body {:type :text :null true}
                            :score {:type :double :default 0.0}
                            :stamp {:type :datetime :null true}
                            :flag {:type :boolean :default false}
                            :price {:type :decimal :null true}])]
      (testing "no table: a create-table step"
        (let [steps (await! (mig/aio-diff full))]
          (is (= [:create-table] (map :op steps)))
          (await! (mig/aio-apply d steps))
          (is (= [] (await! (mig/aio-diff full))) "the created table matches the model")))
      (testing "columns and indexes differ"
        (let [changed (blog-model [:title {:type :text :null true}
                                   :body {:type :text :null true}
                                   :score {:type :double :default 0.0}
                                   :stamp {:type :datetime :null true}
                                   :flag {:type :boolean :default false}
                                   :subtitle {:type :char :max-length 40 :null true :index true}])
              steps (await! (mig/aio-diff changed))]
          (is (= #{[:add-column "subtitle"] [:alter-column "title"] [:drop-column "price"]
                   [:add-index "mig_blog_subtitle"] [:drop-index "mig_blog_title"]}
                 (set (map (juxt :op #(or (:name %) (:column %))) steps))))
          (testing "the plan runs nothing"
            (is (seq (await! (mig/aio-plan d steps))))
            (is (= (set (map :op steps)) (set (map :op (await! (mig/aio-diff changed)))))))
          (await! (mig/aio-apply d steps))
          (is (= [] (await! (mig/aio-diff changed))) "applied, the table matches")
          (testing "a default changed: the column is altered"
            (let [redefault (blog-model [:title {:type :text :null true}
                                         :body {:type :text :null true :default "none"}
                                         :score {:type :double :default 1.5}
                                         :stamp {:type :datetime :null true}
                                         :flag {:type :boolean :default true}
                                         :subtitle {:type :char :max-length 40 :null true :index true}])
                  steps (await! (mig/aio-diff redefault))]
              (is (= #{"body" "score" "flag"} (set (map :column steps))))
              (is (every? #(= :alter-column (:op %)) steps))
              (await! (mig/aio-apply d steps))
              (is (= [] (await! (mig/aio-diff redefault))) "applied, the defaults match")
              (await! (mig/aio-apply d (await! (mig/aio-diff changed))))
              (is (= [] (await! (mig/aio-diff changed))) "and back")))
          (testing "a model with a foreign key: the table, then the constraint"
            (let [note (ts/model 'MigNote {:table "mig_note"
                                           :fields [:blog {:type :foreign-key :model changed :on-delete :cascade}
                                                    :text {:type :text}]})
                  steps (await! (mig/aio-diff note))]
              (is (= [:create-table :add-foreign-key] (map :op steps)))
              (await! (mig/aio-apply d steps))
              (is (= [] (await! (mig/aio-diff note))))
              (sql! d "INSERT INTO mig_blog (title, score, flag) VALUES ('t', 1.0, ?)" true)
              (is (= :vireo/foreign-key-violation
                     (type-of (error-of #(v/aio-execute-sql d (ph "INSERT INTO mig_note (blog_id, text) VALUES (?, 'x')") [999])))))
              (testing "a foreign key's action changed: it is replaced"
                (let [note2 (ts/model 'MigNote {:table "mig_note"
                                                :fields [:blog {:type :foreign-key :model changed :on-delete :set-null :null true}
                                                         :text {:type :text}]})
                      steps (await! (mig/aio-diff note2))]
                  (is (= [[:drop-foreign-key "blog_id"] [:alter-column "blog_id"] [:add-foreign-key "blog_id"]]
                         (mapv (juxt :op :column) steps)))
                  (await! (mig/aio-apply d steps))
                  (is (= [] (await! (mig/aio-diff note2))) "applied, the table matches")
                  (testing "and one the model no longer declares is dropped"
                    (let [plain (ts/model 'MigNote {:table "mig_note"
                                                    :fields [:blog-id {:type :integer :null true :index true}
                                                             :text {:type :text}]})
                          steps (await! (mig/aio-diff plain))]
                      (is (= [[:drop-foreign-key "blog_id"]] (mapv (juxt :op :column) steps)))
                      (await! (mig/aio-apply d steps))
                      (is (= [] (await! (mig/aio-diff plain))))
                      (is (some? (sql! d "INSERT INTO mig_note (blog_id, text) VALUES (?, 'x')" 999))
                          "the constraint is gone"))))))))))))

(deftest bad-input-test
  (let [d (ts/db)
        problem (fn [f] (let [e (error-of f)] [(type-of e) (:problem (ex-data e))]))]
    (is (= [:vireo/migration-error :unknown-op] (problem #(mig/aio-apply d [{:op :drop-everything}]))))
    (is (= [:vireo/migration-error :unknown-key]
           (problem #(mig/aio-apply d [{:op :drop-table :table "t" :cascade true}]))))
    (is (= [:vireo/migration-error :missing-key] (problem #(mig/aio-apply d [{:op :add-column :table "t" :column :c}]))))
    (is (= [:vireo/migration-error :bad-value]
           (problem #(mig/aio-apply d [{:op :add-foreign-key :table "t" :column :c :references "u"}]))))
    (is (= [:vireo/migration-error :duplicate-id]
           (problem #(mig/aio-migrate d [{:id "1" :steps []} {:id "1" :steps []}]))))
    (is (= [:vireo/migration-error :bad-id] (problem #(mig/aio-migrate d [{:id 1 :steps []}]))))
    (is (= [:vireo/migration-error :unknown-key] (problem #(mig/aio-migrate d [{:id "1" :steps [] :down []}]))))
    (is (isa? :vireo/migration-error :vireo/interface-error))
    (let [e (error-of #(mig/aio-migrate d [] {:tabel "x"}))]
      (is (= :vireo/interface-error (type-of e)))
      (is (str/includes? (ex-message e) ":tabel")))
    (is (= :vireo/model-error
           (type-of (error-of #(mig/aio-apply d [{:op :add-column :table "t" :column :c :spec {:type :foreign-key}}])))))
    (is (= :vireo/model-error
           (type-of (error-of #(mig/aio-apply d [{:op :add-column :table "t" :column :c
                                                  :spec {:type :uuid :default (fn [] (random-uuid))}}])))))
    (is (= :vireo/model-error
           (type-of (error-of #(mig/aio-apply d [{:op :add-column :table "t" :column :c :spec {:type :text :colour 1}}])))))
    (is (= :vireo/migration-error (type-of (error-of #(mig/read-resource "no/such/migrations.edn")))))
    (is (= 0 (v/checked-out d)))))

(deftest resource-and-blocking-forms-test
  (with-clean [d ["mig_res" "mig_versions"]]
    (let [ms (mig/read-resource "vireo/migrate_test_migrations.edn")]
      (is (= ["001-res" "002-res-flag"] (mapv :id ms)))
      (testing "refused outside allow-sync"
        (is (= :vireo/sync-not-allowed (type-of (error-of #(mig/migrate! d ms {:table "mig_versions"}))))))
      (v/with-allow-sync d
        (is (= {:applied ["001-res" "002-res-flag"] :skipped []} (mig/migrate! d ms {:table "mig_versions"})))
        (is (= 2 (count (mig/applied! d {:table "mig_versions"}))))
        (is (= [] (mig/diff! (ts/model 'MigRes {:table "mig_res"
                                                 :fields [:name {:type :char :max-length 40}
                                                          :flag {:type :boolean :default true}]}))))
        (is (vector? (mig/plan! d [{:op :drop-column :table "mig_res" :column :flag}])))
        (mig/apply! d [{:op :drop-column :table "mig_res" :column :flag}])
        (is (not (contains? (columns d "mig_res") "flag")))))))
