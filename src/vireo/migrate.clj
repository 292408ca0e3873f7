(ns vireo.migrate
  "Schema migrations (peewee's playhouse.migrate, plus a runner and a diff).
  A step is a map, a migration is {:id \"001-…\" :steps [step …]}, and a
  list of migrations is data, in code or in EDN resource files. Every
  `aio-` function returns a CompletableFuture; each has a blocking form
  (`!`) refused outside `vireo.core/with-allow-sync`. docs/migrations.md.

  Steps (columns are described like model fields; a column or index name is
  a string, or a keyword made snake_case as a model field's column is):
    {:op :create-table :table \"t\" :fields [:id {:type :auto} :title {:type :text}] :indexes? …}
    {:op :drop-table :table \"t\"}            {:op :rename-table :table \"t\" :to \"u\"}
    {:op :add-column :table \"t\" :column :title :spec {:type :char :max-length 80 :null true}}
    {:op :drop-column :table \"t\" :column :title}
    {:op :rename-column :table \"t\" :column :title :to :headline}
    {:op :alter-column :table \"t\" :column :title :spec {:type :text :default \"\"}}
      (the column's new type, nullability and default)
    {:op :add-index :table \"t\" :columns [:a :b] :unique? true :name? \"…\"}
    {:op :drop-index :table \"t\" :name \"…\"} (or :columns, naming it as :add-index does)
    {:op :add-foreign-key :table \"t\" :column :user-id :references [\"user\" :id] :on-delete? :cascade}
    {:op :drop-foreign-key :table \"t\" :column :user-id}
    {:op :sql :sql \"UPDATE …\" :params? [...]}
  What a backend's ALTER TABLE cannot do (SQLite: drop and alter a column,
  add and drop a foreign key) is done by SQLite's table rebuild, keeping
  the rows, indexes, triggers and foreign keys, checked with
  PRAGMA foreign_key_check.

  Public vars:
    aio-apply / apply!       - given a database and steps, applies them (one transaction where DDL is transactional)
    aio-migrate / migrate!   - given a database and migrations, applies those not yet applied, each exactly once
    aio-applied / applied!   - given a database, the migrations recorded in its versions table
    aio-plan / plan!         - given a database and steps, the SQL they would run (a dry run)
    aio-diff / diff!         - given a model, the steps that make its live table match it
    validate                 - given migrations, returns them with their checksums or throws
    read-resource            - given a classpath resource path, reads its EDN migrations

  Errors: :vireo/migration-error (bad migration data; :problem names it:
  :unknown-op, :unknown-key, :missing-key, :bad-value, :duplicate-id,
  :checksum-mismatch …), :vireo/migration-failed (a step failed: which
  steps ran, which failed, whether it was rolled back)."
  (:refer-clojure :exclude [apply])
  (:require [clojure.edn :as edn]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [vireo.impl.cancel :as cancel]
            [vireo.impl.db :as db]
            [vireo.impl.errors :as err]
            [vireo.impl.migrate :as m]
            [vireo.impl.model :as model]
            [vireo.impl.ops :as ops]
            [vireo.impl.sync :as sync]
            [vireo.promise :as p]))

(set! *warn-on-reflection* true)

(def ^:private defaults {:table "vireo_migrations" :lock-timeout 600000})

(defn- check-opts
  "opts when every key is one `fname` takes, else a :vireo/interface-error
  naming the unknown ones."
  [fname opts known]
  (cond
    (nil? opts) {}
    (not (map? opts)) (throw (err/error :vireo/interface-error (str fname " takes an options map, got " (pr-str opts)) {}))
    :else (let [unknown (remove known (keys opts))]
            (when (seq unknown)
              (throw (err/error :vireo/interface-error
                                (str "unknown option(s) " (str/join ", " (map pr-str unknown)) " for " fname
                                     "; known: " (str/join ", " (map pr-str (sort known))))
                                {:options (vec unknown)})))
            (when (contains? opts :table)
              (when-not (and (string? (:table opts)) (seq (:table opts)))
                (throw (err/error :vireo/interface-error (str fname " :table must be a non-empty string, got "
                                                              (pr-str (:table opts))) {}))))
            (when (contains? opts :lock-timeout)
              (when-not (pos-int? (:lock-timeout opts))
                (throw (err/error :vireo/interface-error (str fname " :lock-timeout must be a positive number of milliseconds, got "
                                                              (pr-str (:lock-timeout opts))) {}))))
            opts)))

(defn- database [target fname]
  (let [d (ops/database-of target)]
    (when-not (db/database? d)
      (throw (err/error :vireo/interface-error (str fname " needs a database (or a model bound to one), got " (pr-str target)) {})))
    d))

(defn- op
  "Runs (f d opts) as operation fname: checked options, a cancellation scope
  ({:timeout ms} covers it all). Future."
  [fname target opts known f]
  (p/do (let [opts (check-opts fname opts (into #{:connection :timeout} known))
              d (database target fname)]
          (cancel/run-op* fname (cancel/check-timeout (:timeout opts)) #(f d (dissoc opts :timeout))))))

(defn- blocking [fname target opts known aio]
  (let [opts (check-opts fname opts (into #{:connection :timeout} known))]
    (sync/run-sync (database target fname) fname opts #(aio target %))))

;; ---------------------------------------------------------------- steps
(defn aio-apply
  "Given a database (or a model bound to one), a vector of steps and options
  (:connection, :timeout ms), applies the steps in order: in one transaction
  on PostgreSQL and SQLite (all or nothing), one after another on
  MariaDB/MySQL, whose DDL commits itself. Future of the SQL statements run.
  Fails with :vireo/migration-error for bad steps (before anything runs) and
  :vireo/migration-failed when a step fails (:failed-step, :applied-steps,
  :rolled-back in its data).

      @(aio-apply db [{:op :add-column :table \"page\" :column :title
                       :spec {:type :text :null true}}])"
  ([db steps] (aio-apply db steps {}))
  ([db steps opts]
   (op "aio-apply" db opts #{}
       (fn [d o] (m/run-steps d (m/check-steps! steps) o)))))

(defn apply!
  "Blocking `aio-apply` (needs allow-sync). Returns the SQL statements run."
  ([db steps] (apply! db steps {}))
  ([db steps opts] (blocking "apply!" db opts #{} #(aio-apply %1 steps %2))))

(defn aio-plan
  "Given a database (or model) and steps, returns a future of the SQL
  statements ([sql & params] vectors) the steps would run, running none (a
  dry run). A SQLite rebuild reads the table as it is now.

      @(aio-plan db [{:op :drop-column :table \"page\" :column :title}])
      ;=> [[\"ALTER TABLE \\\"page\\\" DROP COLUMN \\\"title\\\"\"]]  (PostgreSQL)"
  ([db steps] (aio-plan db steps {}))
  ([db steps opts]
   (op "aio-plan" db opts #{} (fn [d o] (m/plan d (m/check-steps! steps) o)))))

(defn plan!
  "Blocking `aio-plan` (needs allow-sync)."
  ([db steps] (plan! db steps {}))
  ([db steps opts] (blocking "plan!" db opts #{} #(aio-plan %1 steps %2))))

;; ---------------------------------------------------------------- the runner
(defn validate
  "Given migrations ([{:id \"001-…\" :steps [...] :doc? \"…\"}]), returns
  them with a :checksum each (SHA-256 of the steps), or throws a
  :vireo/migration-error naming the problem (:problem :unknown-op,
  :unknown-key, :missing-key, :bad-value, :bad-id, :duplicate-id …).

      (validate [{:id \"001\" :steps [{:op :drop-table :table \"t\" :cascade true}]}])
      ;; throws: migration \"001\", step 1: unknown key(s) :cascade for :drop-table …"
  [migrations]
  (m/check-migrations! migrations))

(defn read-resource
  "Given a classpath resource path of an EDN file holding a vector of
  migrations (or one migration map), returns the vector. Throws
  :vireo/migration-error when the resource is missing or not EDN."
  [path]
  (let [r (io/resource path)]
    (when-not r
      (throw (err/error :vireo/migration-error (str "no migration resource " (pr-str path) " on the classpath")
                        {:problem :missing-resource :resource path})))
    (let [data (try (edn/read-string (slurp r))
                    (catch Exception e
                      (throw (err/error :vireo/migration-error (str "migration resource " (pr-str path) " is not EDN: " (ex-message e))
                                        {:problem :bad-resource :resource path} e))))]
      (if (map? data) [data] data))))

(defn aio-migrate
  "Given a database (or model) and migrations (a vector of {:id :steps}, see
  `validate`), applies in order those not yet recorded in the versions
  table, each exactly once: in a transaction of its own on PostgreSQL and
  SQLite, step by step on MariaDB/MySQL (a failure there says which steps
  ran: :vireo/migration-failed). Runners on several instances serialise on
  a lock (PostgreSQL pg_advisory_lock, MariaDB GET_LOCK, SQLite the BEGIN
  IMMEDIATE of each migration), so none is applied twice. A recorded
  migration whose steps changed fails the run before anything is applied
  (:vireo/migration-error, :problem :checksum-mismatch).
  Options: :table (the versions table, \"vireo_migrations\"), :lock-timeout
  (ms to wait for the lock, 600000), :dry-run (apply nothing: the future
  yields {:pending [{:id :sql [...]}] :skipped [...]}), :connection, :timeout.
  Future of {:applied [id …] :skipped [id …]}.

      @(aio-migrate db [{:id \"001-page\" :steps [{:op :create-table :table \"page\"
                                                  :fields [:id {:type :auto} :title {:type :text}]}]}])
      ;=> {:applied [\"001-page\"] :skipped []}"
  ([db migrations] (aio-migrate db migrations {}))
  ([db migrations opts]
   (op "aio-migrate" db opts #{:table :lock-timeout :dry-run}
       (fn [d o] (m/migrate d (m/check-migrations! migrations) (merge defaults o))))))

(defn migrate!
  "Blocking `aio-migrate` (needs allow-sync). Returns {:applied :skipped}."
  ([db migrations] (migrate! db migrations {}))
  ([db migrations opts]
   (blocking "migrate!" db opts #{:table :lock-timeout :dry-run} #(aio-migrate %1 migrations %2))))

(defn aio-applied
  "Given a database (or model) and options (:table, :connection), returns a
  future of the migrations recorded as applied: [{:id :checksum :applied-at}]
  sorted by id (empty when there is no versions table)."
  ([db] (aio-applied db {}))
  ([db opts]
   (op "aio-applied" db opts #{:table} (fn [d o] (m/applied-migrations d (merge defaults o))))))

(defn applied!
  "Blocking `aio-applied` (needs allow-sync)."
  ([db] (applied! db {}))
  ([db opts] (blocking "applied!" db opts #{:table} aio-applied)))

;; ---------------------------------------------------------------- diff
(defn aio-diff
  "Given a model (bound to a database) and options (:connection), returns a
  future of the steps that would make its live table match it: a
  :create-table (and :add-foreign-key steps) when the table is missing;
  else :add-column for fields without a column, :alter-column for columns
  whose type, nullability or constant default differ, :drop-column for
  columns no field has,
  :add-index for the model's missing indexes and :drop-index for others,
  :add-foreign-key / :drop-foreign-key for foreign keys missing, not
  declared or changed (target, ON DELETE, ON UPDATE). Pass the
  steps to `aio-plan` to see the SQL, or to `aio-apply`.

      @(aio-diff Page) ;=> [{:op :add-column :table \"page\" :column \"title\" :spec {:type :text :null true}}]"
  ([m] (aio-diff m {}))
  ([m opts]
   (p/do (when-not (model/model? m)
           (throw (err/error :vireo/interface-error (str "aio-diff needs a model, got " (pr-str m)) {})))
         (op "aio-diff" m opts #{} (fn [_ o] (m/diff m o))))))

(defn diff!
  "Blocking `aio-diff` (needs allow-sync)."
  ([m] (diff! m {}))
  ([m opts] (blocking "diff!" m opts #{} aio-diff)))
