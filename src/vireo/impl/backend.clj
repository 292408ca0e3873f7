(ns ^:no-doc vireo.impl.backend
  "One place per backend that knows how to build a Vert.x pool: PostgreSQL
  (vertx-pg-client), MySQL/MariaDB (vertx-mysql-client) and SQLite
  (vertx-jdbc-client over sqlite-jdbc). Everything else in Vireo is backend
  neutral and reads only the dialect map."
  (:require [clojure.string :as str]
            [vireo.impl.errors :as err]
            [vireo.sql :as sql])
  (:import (io.vertx.core Vertx)
           (io.vertx.sqlclient Pool PoolOptions SqlClient SqlConnectOptions ClientBuilder)
           (io.vertx.pgclient PgBuilder PgConnectOptions)
           (io.vertx.mysqlclient MySQLBuilder MySQLConnectOptions)
           (io.vertx.jdbcclient JDBCPool JDBCConnectOptions)
           (java.net URLDecoder)
           (java.nio.charset StandardCharsets)))

(set! *warn-on-reflection* true)

(def pool-option-keys
  "Pool settings Vert.x 5 has, readable back with vireo.core/pool-options."
  #{:max-size :max-wait-queue-size :idle-timeout :connection-timeout :max-lifetime
    :event-loop-size :pool-cleaner-period})

(def ^:private connect-option-keys
  {:postgres #{:host :port :database :user :password :properties
               :cache-prepared-statements :prepared-statement-cache-max-size
               :pipelining-limit :ssl-mode :pgbouncer :pipelining :pipelining-max-size}
   :mysql #{:host :port :database :user :password :properties :charset :collation
            :cache-prepared-statements :prepared-statement-cache-max-size :pipelining-limit
            :max-prepared-stmt-count :pipelining :pipelining-max-size}
   :sqlite #{:path :busy-timeout :journal-mode :foreign-keys :synchronous}})

(def ^:private common-option-keys #{:vertx :allow-sync :url :leak-detection-threshold :returning})

(def defaults
  {:postgres {:host "127.0.0.1" :port 5432 :user "postgres" :max-size 10
              :cache-prepared-statements true :prepared-statement-cache-max-size 256}
   :mysql {:host "127.0.0.1" :port 3306 :user "root" :max-size 10
           :cache-prepared-statements true :prepared-statement-cache-max-size 256
           :charset "utf8mb4" :collation "utf8mb4_bin"}
   :sqlite {:max-size 4 :busy-timeout 5000 :journal-mode "WAL" :foreign-keys true
            :synchronous "NORMAL"}})

(defn- check-returning
  "The :returning option (the statement kinds RETURNING may be used on,
  instead of what aio-connect detects): nil, or a set within what the
  backend's dialect can render."
  [kind v]
  (when (some? v)
    (let [most (:returning (sql/dialect kind))]
      (when-not (and (or (set? v) (sequential? v)) (every? #{:insert :update :delete} v))
        (throw (err/error :vireo/interface-error
                          (str ":returning must be a set of statement kinds among :insert :update :delete"
                               " (#{} switches RETURNING off), got " (pr-str v))
                          {:backend kind :returning v})))
      (when-let [extra (seq (remove most v))]
        (throw (err/error :vireo/interface-error
                          (str ":returning " (pr-str (set v)) ": " (name kind) " has no RETURNING on "
                               (str/join ", " (map (comp str/upper-case name) (sort extra)))
                               " (at most " (pr-str most) ")")
                          {:backend kind :returning v})))
      (when (and (= kind :postgres) (not (some #{:insert} v)))
        (throw (err/error :vireo/interface-error
                          (str ":returning " (pr-str (set v)) ": postgres reports generated keys only through"
                               " INSERT … RETURNING, so :returning must keep :insert")
                          {:backend kind :returning v}))))))

(defn check-options
  "Throws a clear :vireo/interface-error for an option Vireo does not know for
  this backend (so a typo or an unsupported setting such as a min size never
  goes silently ignored)."
  [kind opts]
  (let [known (into (into common-option-keys pool-option-keys) (connect-option-keys kind))
        unknown (remove known (keys opts))]
    (when (seq unknown)
      (throw (err/error :vireo/interface-error
                        (str "unknown " (name kind) " database option(s) "
                             (str/join ", " (map pr-str unknown))
                             (when (some #{:min-size :min-idle} unknown)
                               " (Vert.x pools have no minimum size: connections are opened on demand)")
                             "; known: " (str/join ", " (map pr-str (sort known))))
                        {:backend kind :options (vec unknown)}))))
  (check-returning kind (:returning opts)))

;; ---------------------------------------------------------------- URLs
(defn- decode [s] (when s (URLDecoder/decode ^String s StandardCharsets/UTF_8)))

(defn parse-url
  "Given a database URL, returns [kind options]:
  postgresql://user:pass@host:port/db, postgres://…, mysql://…, mariadb://…,
  sqlite:path/to/file.db, sqlite://relative.db, sqlite:///abs/path.db,
  sqlite::memory:. Query parameters are ignored except for SQLite pragmas."
  [^String url]
  (let [[_ scheme rest] (re-matches #"(?i)([a-z][a-z0-9+]*):(.*)" (or url ""))
        scheme (some-> scheme str/lower-case)]
    (case scheme
      ("postgresql" "postgres" "mysql" "mariadb")
      (let [kind (if (#{"postgresql" "postgres"} scheme) :postgres :mysql)
            [_ userinfo host port db query]
            (or (re-matches #"//(?:([^@/]*)@)?([^:/?]*)(?::(\d+))?(?:/([^?]*))?(?:\?(.*))?" rest)
                (throw (err/error :vireo/interface-error (str "cannot parse database URL " (pr-str url)) {:url url})))
            [user password] (when userinfo (str/split userinfo #":" 2))]
        [kind (cond-> {}
                (seq host) (assoc :host host)
                port (assoc :port (parse-long port))
                (seq db) (assoc :database (decode db))
                (seq user) (assoc :user (decode user))
                password (assoc :password (decode password)))])
      "sqlite"
      (let [[path] (str/split rest #"\?" 2)
            path (cond (str/starts-with? path "///") (subs path 2)
                       (str/starts-with? path "//") (subs path 2)
                       :else path)]
        [:sqlite {:path (decode path)}])
      (throw (err/error :vireo/interface-error
                        (str "unsupported database URL " (pr-str url)
                             "; use postgresql://…, mysql://…, mariadb://… or sqlite:path")
                        {:url url})))))

;; ---------------------------------------------------------------- pools
(defn- pool-options ^PoolOptions [opts]
  (let [po (PoolOptions.)]
    (when-let [v (:max-size opts)] (.setMaxSize po (int v)))
    (when-let [v (:max-wait-queue-size opts)] (.setMaxWaitQueueSize po (int v)))
    (when-let [v (:idle-timeout opts)]
      (.setIdleTimeout po (int v)) (.setIdleTimeoutUnit po java.util.concurrent.TimeUnit/MILLISECONDS))
    (when-let [v (:connection-timeout opts)]
      (.setConnectionTimeout po (int v)) (.setConnectionTimeoutUnit po java.util.concurrent.TimeUnit/MILLISECONDS))
    (when-let [v (:max-lifetime opts)]
      (.setMaxLifetime po (int v)) (.setMaxLifetimeUnit po java.util.concurrent.TimeUnit/MILLISECONDS))
    (when-let [v (:event-loop-size opts)] (.setEventLoopSize po (int v)))
    (when-let [v (:pool-cleaner-period opts)] (.setPoolCleanerPeriod po (int v)))
    po))

(def mysql-default-max-prepared-stmt-count
  "MySQL's and MariaDB's default max_prepared_stmt_count."
  16382)

(defn statement-cache-size
  "The prepared-statement cache size per connection Vireo really uses.
  PostgreSQL: as configured, 0 (cache off) with :pgbouncer (a pooler in
  transaction mode hands each transaction a different server connection, so
  named statements cannot be kept). MySQL/MariaDB: the server limits the
  statements prepared at once across *all* sessions (max_prepared_stmt_count,
  read from the server by aio-connect, else :max-prepared-stmt-count, else
  MySQL's default 16382), so the pool's share is at most half of it, split
  over its connections."
  [kind opts]
  (cond
    (not (:cache-prepared-statements opts)) 0
    (and (= kind :postgres) (:pgbouncer opts)) 0
    (= kind :mysql) (let [server-max (long (or (:max-prepared-stmt-count opts) mysql-default-max-prepared-stmt-count))
                          per-conn (quot (quot server-max 2) (max 1 (long (or (:max-size opts) 10))))]
                      (max 0 (min (long (:prepared-statement-cache-max-size opts)) per-conn)))
    :else (long (:prepared-statement-cache-max-size opts))))

(defn- connect-options!
  "Sets what every network backend shares on `o`; returns o."
  [^SqlConnectOptions o kind opts properties]
  (.setHost o (str (:host opts)))
  (.setPort o (int (:port opts)))
  (when-let [v (:database opts)] (.setDatabase o (str v)))
  (.setUser o (str (:user opts)))
  (.setPassword o (str (or (:password opts) "")))
  (let [n (statement-cache-size kind opts)]
    (.setCachePreparedStatements o (pos? n))
    (when (pos? n) (.setPreparedStatementCacheMaxSize o (int n))))
  (doseq [[k v] properties] (.addProperty o (name k) (str v)))
  o)

(defn- pg-connect-options ^PgConnectOptions [opts]
  (let [o (PgConnectOptions.)]
    ;; NOTICEs (e.g. "table does not exist, skipping" for DROP … IF EXISTS)
    ;; would otherwise be logged by Vert.x as warnings on every such statement
    (connect-options! o :postgres opts (merge {"client_min_messages" "warning"} (:properties opts)))
    (when-let [v (:pipelining-limit opts)] (.setPipeliningLimit o (int v)))
    o))

(defn mysql-connect-options ^MySQLConnectOptions [opts]
  (let [o (MySQLConnectOptions.)]
    (connect-options! o :mysql opts (:properties opts))
    (.setCharset o (str (:charset opts)))
    (.setCollation o (str (:collation opts)))
    (when-let [v (:pipelining-limit opts)] (.setPipeliningLimit o (int v)))
    o))

(defn sqlite-jdbc-url
  "The JDBC URL for a SQLite path, carrying the pragmas every pooled connection
  gets (sqlite-jdbc applies URL parameters on connect)."
  [{:keys [path busy-timeout journal-mode foreign-keys synchronous]}]
  (str "jdbc:sqlite:" path
       "?busy_timeout=" busy-timeout
       (when (and journal-mode (not= path ":memory:")) (str "&journal_mode=" journal-mode))
       "&foreign_keys=" (boolean foreign-keys)
       (when synchronous (str "&synchronous=" synchronous))))

(defn- prime-sqlite-file!
  "Opens one connection to a SQLite file before the pool does, so a file's
  switch to WAL happens once, alone. Two pooled connections opening a new
  file at the same moment (the capability check beside the first statement,
  or two first queries) would both try to switch its journal mode, and
  SQLite answers one of them SQLITE_BUSY at once, without waiting for the
  busy timeout (seen on a fresh checkout). A file already in WAL needs
  nothing, so this only matters once per file; on a Vert.x event loop it is
  skipped rather than block it."
  [{:keys [path journal-mode] :as opts}]
  (when (and journal-mode (not= path ":memory:")
             (not (io.vertx.core.Context/isOnEventLoopThread)))
    (try
      (.close (java.sql.DriverManager/getConnection (sqlite-jdbc-url opts)))
      (catch java.sql.SQLException _
        ;; the pool's own connections report the problem (a bad path, …)
        nil))))

(defn make-pool
  "Given the backend kind, the merged options and a Vertx, returns a new Pool.
  No connection is opened until the pool is used."
  ^Pool [kind opts ^Vertx vertx]
  (case kind
    :postgres (-> (PgBuilder/pool)
                  (.with (pool-options opts))
                  (.connectingTo ^SqlConnectOptions (pg-connect-options opts))
                  (.using vertx)
                  (.build))
    :mysql (-> (MySQLBuilder/pool)
               (.with (pool-options opts))
               (.connectingTo ^SqlConnectOptions (mysql-connect-options opts))
               (.using vertx)
               (.build))
    :sqlite (do (prime-sqlite-file! opts)
                (JDBCPool/pool vertx
                           (-> (JDBCConnectOptions.) (.setJdbcUrl (sqlite-jdbc-url opts)))
                           (pool-options (cond-> opts
                                           ;; every connection to :memory: is a new, empty database
                                           (= (:path opts) ":memory:") (assoc :max-size 1)))))))

(defn make-pipelined-client
  "Given the backend kind, the options and a Vertx, returns the client that
  opt-in pipelining (:pipelining true) sends reads outside scopes through:
  Vert.x's SqlClient, which pipelines up to :pipelining-limit (256) queries
  per connection over :pipelining-max-size (default :max-size) connections
  of its own. SQLite has no pipelining: refused."
  ^SqlClient [kind opts ^Vertx vertx]
  (let [po (pool-options (assoc opts :max-size (or (:pipelining-max-size opts) (:max-size opts))))]
    (case kind
      :postgres (-> (PgBuilder/client) (.with po)
                    (.connectingTo ^SqlConnectOptions (pg-connect-options opts)) (.using vertx) (.build))
      :mysql (-> (MySQLBuilder/client) (.with po)
                 (.connectingTo ^SqlConnectOptions (mysql-connect-options opts)) (.using vertx) (.build))
      (throw (err/error :vireo/not-supported "pipelining is not supported by sqlite" {:backend kind})))))

(defn describe
  "A short, password-free description of a database for messages."
  [kind opts]
  (case kind
    :sqlite (str "sqlite:" (or (:path opts) "<deferred>"))
    (str (name kind) "://" (:user opts) "@" (:host opts) ":" (:port opts) "/" (or (:database opts) "<deferred>"))))
