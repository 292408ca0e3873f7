(ns ^:no-doc vireo.impl.schema
  "peewee-async's schema manager (aio_truncate_table, aio_create_indexes,
  aio_drop_indexes) and database introspection (table_exists, get_tables,
  sequence_exists), per backend. Every statement runs through
  vireo.impl.context/execute, so it joins an enclosing connection scope or
  transaction (or the :connection handle in opts); names are always passed
  as statement parameters or quoted identifiers.

  Public vars:
    table-exists    - given a database/model and a table name or model, returns a future of a boolean
    get-tables      - given a database/model, returns a future of the sorted vector of table names
    sequence-exists - given a database/model and a sequence name, returns a future of a boolean (PG only)
    index-names     - given a database/model and a table name or model, returns a future of its sorted index names
    create-indexes  - given a model and {:safe bool}, returns a future of nil after creating its indexes
    drop-indexes    - given a model and {:safe bool}, returns a future of nil after dropping its indexes
    truncate-table  - given a model and {:restart-identity :cascade}, returns a future of nil after emptying its table"
  (:require [vireo.impl.context :as ctx]
            [vireo.impl.db :as db]
            [vireo.impl.errors :as err]
            [vireo.impl.model :as model]
            [vireo.impl.ops :as ops]
            [vireo.impl.protocols :as proto]
            [vireo.promise :as p]
            [vireo.sql :as sql])
  (:import (io.vertx.sqlclient Row RowSet)))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- plumbing
(defn- first-column
  "RowSet -> vector of the first column of every row, as strings."
  [^RowSet rs]
  (let [it (.iterator rs)]
    (loop [acc (transient [])]
      (if (.hasNext it)
        (let [v (.getValue ^Row (.next it) (int 0))]
          (recur (if (nil? v) acc (conj! acc (str v)))))
        (persistent! acc)))))

(defn- names
  "Future of the first column of `sql` run with `params` on `d`."
  [d sql params opts]
  (ctx/execute d sql params opts first-column nil))

(defn- table-name-of
  "A table argument (a non-empty string or a model) -> the table name."
  [t what]
  (cond
    (model/model? t) (:table t)
    (and (string? t) (seq t)) t
    :else (throw (err/error :vireo/interface-error
                            (str what " needs a table name (a non-empty string) or a model, got " (pr-str t))
                            {}))))

(defn- check-model [m what]
  (when-not (model/model? m)
    (throw (err/error :vireo/interface-error (str what " needs a model, got " (pr-str m)) {}))))

(defn- exact
  "Keeps the names equal to `n` (MariaDB's information_schema compares names
  case-insensitively; table names themselves are case-sensitive)."
  [n found]
  (filterv #(= n %) found))

(defn- run-statements
  "Runs query maps (or [sql & params] vectors) one after another; future of nil."
  [d statements opts]
  (reduce (fn [fut q]
            (p/then fut (fn [_]
                          (let [[s & params] (if (map? q) (db/format-query d q) q)]
                            (ctx/execute d s params opts)))))
          (p/resolved nil)
          statements))

;; ---------------------------------------------------------------- introspection
(defn- introspection
  "The backend's introspection SQL (its :introspection trait)."
  [d k]
  (get (:introspection (db/traits d)) k))

(defn get-tables
  "Given a database, proxy or model (for its database) and options
  ({:connection h}), returns a future of the sorted vector of the names of the
  tables in the current schema (PostgreSQL current_schema(), MariaDB
  DATABASE(), SQLite's main database without its sqlite_ tables)."
  ([target] (get-tables target {}))
  ([target opts]
   (p/do (let [d (ops/database-of target)]
           (p/map (names d (introspection d :tables) [] opts) (comp vec sort))))))

(defn table-exists
  "Given a model, returns a future of true when its table exists. Given a
  database (or proxy, or model) and a table name or model, returns a future
  of true when that table exists in the current schema (the name compared
  exactly, as `get-tables` lists it)."
  ([m] (table-exists m m {}))
  ([target table] (table-exists target table {}))
  ([target table opts]
   (p/do (let [d (ops/database-of target)
               n (table-name-of table "table-exists")]
           (p/map (names d (str (introspection d :tables) (introspection d :table-filter)) [n] opts)
                  (fn [found] (boolean (seq (exact n found)))))))))

(defn sequence-exists
  "Given a database (or proxy, or model), a sequence name and options,
  returns a future of true when that sequence exists in the current schema.
  Only PostgreSQL has sequences here (a SERIAL key of table t uses t_id_seq);
  other backends yield false."
  ([target seq-name] (sequence-exists target seq-name {}))
  ([target seq-name opts]
   (p/do (let [d (ops/database-of target)]
           (when-not (and (string? seq-name) (seq seq-name))
             (throw (err/error :vireo/interface-error
                               (str "sequence-exists needs a sequence name, got " (pr-str seq-name)) {})))
           (if-let [sql (introspection d :sequence)]
             (p/map (names d sql [seq-name] opts)
                    (fn [found] (boolean (seq found))))
             false)))))

(defn index-names
  "Given a database (or proxy, or model), a table name or model and options,
  returns a future of the sorted vector of the table's index names, without
  the primary key's index (empty when the table does not exist)."
  ([m] (index-names m m {}))
  ([target table] (index-names target table {}))
  ([target table opts]
   (p/do (let [d (ops/database-of target)
               n (table-name-of table "index-names")]
           (ctx/execute d (introspection d :index-names) [n] opts
                        (fn [^RowSet rs]
                          (let [it (.iterator rs)]
                            (loop [acc #{}]
                              (if (.hasNext it)
                                (let [^Row row (.next it)]
                                  ;; the second column is the table name
                                  (recur (if (= n (str (.getValue row (int 1))))
                                           (conj acc (str (.getValue row (int 0))))
                                           acc)))
                                (vec (sort acc))))))
                        nil)))))

;; ---------------------------------------------------------------- indexes
(defn- index-queries
  "The model's :create-index query maps (<table>_<column> per :unique or
  :index field, plus the model's :indexes), with IF NOT EXISTS when safe."
  [m safe]
  (filterv :create-index (model/create-table-queries m {:safe (boolean safe)})))

(defn create-indexes
  "Given a model and options {:safe bool} (plus :connection), creates the
  model's indexes — the ones aio-create-table creates after the table — one
  after another; :safe adds IF NOT EXISTS. Returns a future of nil."
  ([m] (create-indexes m {}))
  ([m opts]
   (p/do (check-model m "create-indexes")
         (let [d (ops/database-of m)]
           (model/check-identifier-lengths! m (:identifier-limit (db/traits d)))
           (p/map (run-statements d (index-queries m (:safe opts)) opts) (constantly nil))))))

(defn drop-indexes
  "Given a model and options {:safe bool} (plus :connection), drops the
  model's indexes (those `create-indexes` makes); :safe adds IF EXISTS.
  Returns a future of nil."
  ([m] (drop-indexes m {}))
  ([m opts]
   (p/do (check-model m "drop-indexes")
         (let [d (ops/database-of m)
               safe (boolean (:safe opts))]
           (model/check-identifier-lengths! m (:identifier-limit (db/traits d)))
           (p/map (run-statements d (mapv (fn [q] {:drop-index (:create-index q)
                                                   :on (:on q)
                                                   :if-exists safe})
                                          (index-queries m false))
                                  opts)
                  (constantly nil))))))

;; ---------------------------------------------------------------- truncate
(defn- truncate-statements
  "Future of the statements emptying table `t` (an ident) named `n`: the
  backend's (-truncate-statements); a refused option names the database."
  [d t n topts opts]
  (let [[base] (db/format-query d {:truncate t})]
    (p/catch (proto/-truncate-statements (:backend d) base n topts (fn [sql params] (names d sql params opts)))
             (fn [e]
               (p/rejected
                (if-let [feature (and (err/error-type? e :vireo/not-supported) (:feature (ex-data e)))]
                  (err/error :vireo/not-supported (str feature " is not supported by " (db/describe d))
                             {:backend (:kind d)})
                  e))))))

(defn truncate-table
  "Given a model and options, empties its table. Returns a future of nil.
  Options: :restart-identity (restart the table's sequence / counter),
  :cascade (also truncate tables referencing it; PostgreSQL only, elsewhere
  :vireo/not-supported), :connection. PostgreSQL: TRUNCATE TABLE [RESTART
  IDENTITY] [CASCADE]. MariaDB: TRUNCATE TABLE, which always restarts
  AUTO_INCREMENT and commits an open transaction (it is DDL there). SQLite:
  DELETE FROM, and with :restart-identity its sqlite_sequence entry is
  removed (AUTOINCREMENT tables)."
  ([m] (truncate-table m {}))
  ([m opts]
   (p/do (check-model m "truncate-table")
         (let [d (ops/database-of m)]
           (p/then (truncate-statements d (model/table-ident m) (:table m) opts opts)
                   (fn [statements]
                     (p/map (run-statements d statements opts) (constantly nil))))))))
