(ns ^:no-doc vireo.impl.backend.postgres
  "The PostgreSQL backend (io.vertx:vertx-pg-client): everything Vireo does
  differently on PostgreSQL. Loaded by vireo.impl.backend when the first
  PostgreSQL database is created."
  (:require [vireo.impl.log :as log]
            [vireo.impl.backend :as backend]
            [vireo.impl.errors :as err]
            [vireo.impl.protocols :as proto]
            [vireo.promise :as p])
  (:import (io.vertx.core Vertx)
           (io.vertx.pgclient PgBuilder PgConnection PgConnectOptions PgException SslMode)
           (io.vertx.sqlclient Row)))

(set! *warn-on-reflection* true)

(def ^:private traits
  {:kind :postgres
   :db-system "postgresql"
   :label "PostgreSQL"
   :dialect :postgres
   :option-keys (into (into #{:host :port :hosts :target-server-type :database :user :password :password-fn
                          :properties :application-name :statement-timeout
                          :cache-prepared-statements :prepared-statement-cache-max-size
                          :pipelining-limit :pgbouncer :pipelining :pipelining-max-size}
                            backend/tls-option-keys)
                      backend/routing-option-keys)
   :defaults {:host "127.0.0.1" :port 5432 :user "postgres" :max-size 10
              :cache-prepared-statements true :prepared-statement-cache-max-size 256
              :ssl-mode :disable}
   ;; several hosts (:hosts, a URL's h1:p1,h2:p2) with a target server type
   :multi-host true
   ;; libpq's sslmode values
   :ssl-modes #{:disable :allow :prefer :require :verify-ca :verify-full}
   ;; URL query parameters (libpq's names): parameter -> [option kind]
   :url-params {"sslmode" [:ssl-mode :ssl-mode]
                "sslrootcert" [:ssl-root-cert :string]
                "sslcert" [:ssl-cert :string]
                "sslkey" [:ssl-key :string]
                "application_name" [:application-name :string]
                "host" [:host :string]
                "port" [:port :int]
                "dbname" [:database :string]
                "user" [:user :string]
                "password" [:password :string]
                "pgbouncer" [:pgbouncer :bool]
                "target_session_attrs" [:target-server-type :string]}
   :url-params-refused {"connect_timeout" "give :connection-timeout (milliseconds) as an option"
                        "sslpassword" "an encrypted client key is not supported: give an unencrypted PEM key"
                        "sslcompression" "TLS compression is not supported"
                        "ssl" "this is pgjdbc's spelling: use sslmode=verify-full (or require)"
                        "options" "give startup parameters as the :properties option"}
   ;; the protocol counts bind parameters in 16 bits
   ;; the option naming the database (without it the database is deferred)
   :name-option :database
   :name-problem "a postgres database needs a database name (:database, or the URL path)"
   :param-limit 65535
   :identifier-limit {:kind :postgres :max 63 :unit :bytes :label "PostgreSQL"
                      :why " (it would silently cut the name)"}
   ;; keys come back through INSERT … RETURNING only
   :insert-id nil
   :upsert-insert-id :inserted
   ;; a portal (cursor) only lives inside a transaction
   :cursor-needs-transaction true
   :rollback-after-failed-commit false
   :codecs {:auto-64bit false :text-nul false :boolean :native :non-finite nil :param-non-finite nil
            :decimal :native :uuid :native :temporal :native :timestamptz :offset
            :json :native :bytes :buffer}
   :introspection
   {:tables "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
    :table-filter " AND tablename = $1"
    :index-names (str "SELECT i.relname, t.relname FROM pg_catalog.pg_index x"
                      " JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid"
                      " JOIN pg_catalog.pg_class t ON t.oid = x.indrelid"
                      " JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace"
                      " WHERE n.nspname = current_schema() AND t.relname = $1 AND NOT x.indisprimary")
    :sequence (str "SELECT c.relname FROM pg_catalog.pg_class c"
                   " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                   " WHERE c.relkind = 'S' AND n.nspname = current_schema() AND c.relname = $1")
    ;; name, type, nullable, default (SQL), table name
    :columns (str "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,"
                  " pg_get_expr(d.adbin, d.adrelid), c.relname"
                  " FROM pg_catalog.pg_attribute a"
                  " JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
                  " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                  " LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
                  " WHERE n.nspname = current_schema() AND c.relname = $1 AND c.relkind = 'r'"
                  " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum")
    ;; foreign-key constraint names, table name
    :foreign-key-names (str "SELECT o.conname, c.relname FROM pg_catalog.pg_constraint o"
                            " JOIN pg_catalog.pg_class c ON c.oid = o.conrelid"
                            " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                            " WHERE o.contype = 'f' AND n.nspname = current_schema() AND c.relname = $1")
    ;; single-column foreign keys: name, column, referenced table and column,
    ;; ON DELETE, ON UPDATE (vireo.migrate's diff)
    :foreign-keys (str "SELECT o.conname, a.attname, rc.relname, ra.attname,"
                       " CASE o.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT'"
                       " WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END,"
                       " CASE o.confupdtype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT'"
                       " WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END"
                       " FROM pg_catalog.pg_constraint o"
                       " JOIN pg_catalog.pg_class c ON c.oid = o.conrelid"
                       " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                       " JOIN pg_catalog.pg_class rc ON rc.oid = o.confrelid"
                       " JOIN pg_catalog.pg_attribute a ON a.attrelid = o.conrelid AND a.attnum = o.conkey[1]"
                       " JOIN pg_catalog.pg_attribute ra ON ra.attrelid = o.confrelid AND ra.attnum = o.confkey[1]"
                       " WHERE o.contype = 'f' AND cardinality(o.conkey) = 1"
                       " AND n.nspname = current_schema() AND c.relname = $1")
    ;; type names as the columns query reports them -> the dialect's (vireo.migrate's diff)
    :type-names {"character varying" "VARCHAR" "timestamp without time zone" "TIMESTAMP"
                 "timestamp with time zone" "TIMESTAMPTZ" "time without time zone" "TIME"}}
   ;; schema migrations (vireo.migrate): DDL is transactional; the runners of
   ;; one database serialise on a session advisory lock
   :migrations {:transactional-ddl true
                :lock {:sql "SELECT pg_advisory_lock(hashtext($1))" :params [:name]}
                :unlock {:sql "SELECT pg_advisory_unlock(hashtext($1))" :params [:name]}}})

(defn- cache-size [opts]
  ;; a pooler in transaction mode hands each transaction a different server
  ;; connection, so named statements cannot be kept
  (if (or (not (:cache-prepared-statements opts)) (:pgbouncer opts))
    0
    (long (:prepared-statement-cache-max-size opts))))

(def ^:private ssl-modes
  {:disable SslMode/DISABLE :allow SslMode/ALLOW :prefer SslMode/PREFER :require SslMode/REQUIRE
   :verify-ca SslMode/VERIFY_CA :verify-full SslMode/VERIFY_FULL})

(defn- warn-unverified [opts]
  (fn [msg] (log/log! "vireo.impl.backend.postgres" :warn nil (str "vireo: " (backend/server-description :postgres opts) ": " msg))))

(def ^:private pooler-startup-parameters
  "The startup parameters a default pgbouncer accepts (the ones it tracks
  per client); it refuses a connection sending any other (08P01
  \"unsupported startup parameter\"), Vert.x's own defaults
  extra_float_digits and IntervalStyle included."
  {"application_name" "vertx-pg-client" "client_encoding" "utf8" "DateStyle" "ISO"})

(defn- startup-parameters
  "The startup parameters of a connection: Vert.x's defaults with
  client_min_messages=warning (NOTICEs, e.g. \"table does not exist,
  skipping\" for DROP … IF EXISTS, would otherwise be logged by Vert.x as
  warnings on every such statement), or with :pgbouncer only those a pooler
  accepts; then :properties and :application-name."
  [opts]
  (cond-> (merge (if (:pgbouncer opts) pooler-startup-parameters {"client_min_messages" "warning"})
                 (:properties opts))
    (:application-name opts) (assoc "application_name" (str (:application-name opts)))
    ;; the server cancels a statement running longer (SQLSTATE 57014)
    (:statement-timeout opts) (assoc "statement_timeout" (str (:statement-timeout opts)))))

(defn- connect-options ^PgConnectOptions [opts]
  (let [o (PgConnectOptions.)]
    (when (:pgbouncer opts)
      ;; replace Vert.x's default startup parameters instead of adding to them
      (.setProperties o (java.util.HashMap.))
      ;; a transaction-mode pooler hands each transaction another server
      ;; connection: Vert.x must not rely on a statement prepared earlier on
      ;; "this" connection (unnamed statements, re-parsed each time)
      (.setUseLayer7Proxy o true))
    (backend/connect-options! o opts (cache-size opts) (startup-parameters opts)
                              (backend/client-ssl-options opts (warn-unverified opts)))
    (.setSslMode o ^SslMode (ssl-modes (:ssl-mode opts :disable)))
    (when-let [v (:pipelining-limit opts)] (.setPipeliningLimit o (int v)))
    o))

(defn- error-info [e]
  (when (instance? PgException e)
    (let [^PgException e e]
      {:type (err/sqlstate->type (.getSqlState e))
       :message (cond-> (str (.getErrorMessage e))
                  ;; what a transaction-mode pooler does to prepared statements
                  (and (#{"26000" "42P05"} (.getSqlState e))
                       (re-find #"prepared statement" (str (.getErrorMessage e))))
                  (str " (behind a transaction-mode pooler such as pgbouncer? give the database :pgbouncer true)")
                  ;; a pooler refusing Vert.x's startup parameters
                  (and (= "08P01" (.getSqlState e))
                       (re-find #"unsupported startup parameter" (str (.getErrorMessage e))))
                  (str " (a pooler such as pgbouncer? give the database :pgbouncer true)"))
       :sql-state (.getSqlState e)
       :detail (.getDetail e)
       :constraint (.getConstraint e)})))

(defn- server-capabilities
  "Every PostgreSQL Vireo supports has RETURNING everywhere; `version` is
  server_version (\"15.19 (Debian 15.19-0+deb12u1)\")."
  [version]
  {:returning backend/all-returning
   :server (str "PostgreSQL" (when-let [v (re-find #"^\d+(?:\.\d+)*" (str version))] (str " " v)))})

(defn- copy [o] (PgConnectOptions. ^PgConnectOptions o))

(defn- probe
  "(fn [options]) -> future of true when the server there is a hot standby
  (pg_is_in_recovery), on a short-lived connection of `vertx`."
  [^Vertx vertx]
  (fn [^PgConnectOptions o]
    (p/map (backend/value-on-connection (PgConnection/connect vertx o) "SELECT pg_is_in_recovery()")
           boolean)))

(def ^:private plain-begin ["BEGIN"])

(def ^:private the-backend
  (reify proto/Backend
    (-traits [_] traits)
    (-check-options [_ opts]
      (when (and (:statement-timeout opts) (:pgbouncer opts))
        (throw (err/error :vireo/interface-error
                          (str ":statement-timeout is sent as a startup parameter, which pgbouncer refuses: set it on"
                               " the server instead (ALTER ROLE … SET statement_timeout = …)")
                          {:backend :postgres :option :statement-timeout})))
      (let [v (:returning opts)]
        (when (and (some? v) (not (some #{:insert} v)))
          (throw (err/error :vireo/interface-error
                            (str ":returning " (pr-str (set v)) ": postgres reports generated keys only through"
                                 " INSERT … RETURNING, so :returning must keep :insert")
                            {:backend :postgres :returning v})))))
    (-parse-url [_ rest url] (backend/server-url-options rest url traits))
    (-describe [_ opts] (backend/server-description :postgres opts))
    (-statement-cache-size [_ opts] (cache-size opts))
    (-prepare-options [_ opts _vertx] (p/resolved opts))
    (-make-pool [_ opts vertx]
      (backend/build-client (PgBuilder/pool) (backend/pool-options opts) (connect-options opts) vertx opts copy
                            (backend/host-chooser :postgres opts copy (probe vertx))))
    (-make-pipelined-client [_ opts vertx]
      (backend/build-client (PgBuilder/client) (backend/pipelining-pool-options opts) (connect-options opts) vertx opts copy
                            (backend/host-chooser :postgres opts copy (probe vertx))))
    ;; asked of the server so that aio-connect proves one answers (and says
    ;; which); every PostgreSQL Vireo supports has RETURNING
    (-detect [_ pool _opts]
      (backend/first-row pool "SHOW server_version"
                         (fn [^Row row] (server-capabilities (str (.getValue row (int 0)))))))
    (-server-capabilities [_ version] (server-capabilities version))
    (-last-insert-id [_ _rs] nil)
    (-begin-statements [_ {:keys [isolation read-only]}]
      (if (or isolation read-only)
        [(str "BEGIN" (when isolation (str " ISOLATION LEVEL " (backend/isolation-sql isolation)))
              (when read-only " READ ONLY"))]
        plain-begin))
    (-end-statements [_ _opts] [])
    (-stream-source [_ conn sql params] (backend/cursor-source conn sql params))
    (-truncate-statements [_ table-sql _table-name {:keys [restart-identity cascade]} _names]
      (p/resolved [[(str table-sql (when restart-identity " RESTART IDENTITY") (when cascade " CASCADE"))]]))
    ;; the cancel request on a connection of its own (through pgbouncer
    ;; and pgpool-II too): the server interrupts the backend running the
    ;; statement (57014); an idle backend ignores it
    (-cancel! [_ conn _opts _vertx] (.cancelRequest ^PgConnection conn))
    (-error-info [_ e] (error-info e))))

(defn backend
  "The PostgreSQL Backend (registers its codecs and error mapping)."
  []
  (backend/install the-backend error-info))
