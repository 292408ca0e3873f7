(ns ^:no-doc vireo.impl.backend.mysql
  "The MySQL/MariaDB backend (io.vertx:vertx-mysql-client): everything Vireo
  does differently on MySQL and MariaDB. Loaded by vireo.impl.backend when
  the first MySQL database is created."
  (:require [clojure.string :as str]
            [vireo.impl.log :as log]
            [vireo.impl.backend :as backend]
            [vireo.impl.errors :as err]
            [vireo.impl.protocols :as proto]
            [vireo.promise :as p])
  (:import (io.vertx.core Vertx)
           (io.vertx.mysqlclient MySQLBuilder MySQLClient MySQLConnectOptions MySQLConnection MySQLException
                                 SslMode)
           (io.vertx.sqlclient Row RowSet SqlConnection)))

(set! *warn-on-reflection* true)

(def default-max-prepared-stmt-count
  "MySQL's and MariaDB's default max_prepared_stmt_count."
  16382)

(def ^:private traits
  {:kind :mysql
   :db-system "mysql"
   :label "MariaDB/MySQL"
   :dialect :mysql
   :option-keys (into (into #{:host :port :hosts :target-server-type :database :user :password :password-fn
                          :properties :charset :collation :statement-timeout
                          :cache-prepared-statements :prepared-statement-cache-max-size :pipelining-limit
                          :max-prepared-stmt-count :pipelining :pipelining-max-size}
                            backend/tls-option-keys)
                      backend/routing-option-keys)
   :defaults {:host "127.0.0.1" :port 3306 :user "root" :max-size 10
              :cache-prepared-statements true :prepared-statement-cache-max-size 256
              :charset "utf8mb4" :collation "utf8mb4_bin" :ssl-mode :disable}
   ;; several hosts (:hosts, a URL's h1:p1,h2:p2) with a target server type
   ;; (a standby: @@global.read_only on)
   :multi-host true
   ;; MySQL's DISABLED PREFERRED REQUIRED VERIFY_CA VERIFY_IDENTITY, by the
   ;; names Vireo gives every backend (MySQL's names are accepted too)
   :ssl-modes #{:disable :prefer :require :verify-ca :verify-full}
   ;; URL query parameters: parameter -> [option kind]
   :url-params {"ssl-mode" [:ssl-mode :ssl-mode]
                "sslmode" [:ssl-mode :ssl-mode]
                "ssl-ca" [:ssl-root-cert :string]
                "ssl-cert" [:ssl-cert :string]
                "ssl-key" [:ssl-key :string]
                "charset" [:charset :string]
                "collation" [:collation :string]
                "host" [:host :string]
                "port" [:port :int]
                "user" [:user :string]
                "password" [:password :string]
                "target-server-type" [:target-server-type :string]}
   :url-params-refused {"usessl" "this is Connector/J's spelling: use ssl-mode=REQUIRED (or VERIFY_IDENTITY)"
                        "connecttimeout" "give :connection-timeout (milliseconds) as an option"}
   ;; the option naming the database (without it the database is deferred)
   :name-option :database
   :name-problem "a mysql database needs a database name (:database, or the URL path)"
   :param-limit 65535
   :identifier-limit {:kind :mysql :max 64 :unit :characters :label "MariaDB/MySQL" :why ""}
   ;; a multi-row INSERT reports its FIRST generated id; the rest follow by
   ;; @@auto_increment_increment
   :insert-id :first
   ;; a single-row upsert reports the id of the row it inserted or updated
   :upsert-insert-id :always
   :cursor-needs-transaction false
   :rollback-after-failed-commit false
   :codecs {:auto-64bit false :text-nul true :boolean :native
            :non-finite {:reject :all :why "MariaDB/MySQL cannot store NaN or Infinity"}
            ;; the driver sends NaN and ±Infinity as they are: SELECT ? returns
            ;; them, a DOUBLE column refuses them (a typed "Out of range value")
            :param-non-finite nil
            :decimal :native :uuid :text :temporal :native :timestamptz :local-utc
            :json :text :bytes :buffer}
   :introspection
   {:tables (str "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
                 " AND table_type IN ('BASE TABLE', 'SYSTEM VERSIONED')")
    :table-filter " AND table_name = ?"
    :index-names (str "SELECT DISTINCT index_name, table_name FROM information_schema.statistics"
                      " WHERE table_schema = DATABASE() AND table_name = ? AND index_name <> 'PRIMARY'")
    :sequence nil
    ;; name, type, nullable, default (SQL), table name (compared exactly: see vireo.impl.schema)
    :columns (str "SELECT column_name, column_type, is_nullable = 'YES', column_default, table_name"
                  " FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?"
                  " ORDER BY ordinal_position")
    ;; foreign-key constraint names, table name
    :foreign-key-names (str "SELECT constraint_name, table_name FROM information_schema.referential_constraints"
                            " WHERE constraint_schema = DATABASE() AND table_name = ?")
    ;; single-column foreign keys: name, column, referenced table and column,
    ;; ON DELETE, ON UPDATE (vireo.migrate's diff)
    :foreign-keys (str "SELECT k.constraint_name, k.column_name, k.referenced_table_name, k.referenced_column_name,"
                       " r.delete_rule, r.update_rule"
                       " FROM information_schema.key_column_usage k"
                       " JOIN information_schema.referential_constraints r"
                       " ON r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name"
                       " AND r.table_name = k.table_name"
                       " WHERE k.table_schema = DATABASE() AND k.table_name = ? AND k.referenced_table_name IS NOT NULL"
                       " AND (SELECT count(*) FROM information_schema.key_column_usage k2"
                       " WHERE k2.constraint_schema = k.constraint_schema AND k2.constraint_name = k.constraint_name"
                       " AND k2.table_name = k.table_name) = 1")
    ;; type names as the columns query reports them -> the dialect's (vireo.migrate's diff)
    :type-names {"int(11)" "INTEGER" "int" "INTEGER" "bigint(20)" "BIGINT" "smallint(6)" "SMALLINT"
                 "tinyint(1)" "BOOLEAN" "longtext" "LONGTEXT"}}
   ;; schema migrations (vireo.migrate): DDL commits on its own; the runners
   ;; of one database serialise on a named lock (1: taken, 0: timed out)
   :migrations {:transactional-ddl false
                :lock {:sql "SELECT GET_LOCK(?, ?)" :params [:name :timeout-seconds]}
                :unlock {:sql "SELECT RELEASE_LOCK(?)" :params [:name]}}})

(defn- cache-size
  "The server limits the statements prepared at once across *all* sessions
  (max_prepared_stmt_count, read from the server by aio-connect, else
  :max-prepared-stmt-count, else MySQL's default), so the pool's share is at
  most half of it, split over its connections."
  [opts]
  (if-not (:cache-prepared-statements opts)
    0
    (let [server-max (long (or (:max-prepared-stmt-count opts) default-max-prepared-stmt-count))
          per-conn (quot (quot server-max 2) (max 1 (long (or (:max-size opts) 10))))]
      (max 0 (min (long (:prepared-statement-cache-max-size opts)) per-conn)))))

(def ^:private ssl-modes
  {:disable SslMode/DISABLED :prefer SslMode/PREFERRED :require SslMode/REQUIRED
   :verify-ca SslMode/VERIFY_CA :verify-full SslMode/VERIFY_IDENTITY})

(defn- warn-unverified [opts]
  (fn [msg] (log/log! "vireo.impl.backend.mysql" :warn nil (str "vireo: " (backend/server-description :mysql opts) ": " msg))))

(defn- connect-options ^MySQLConnectOptions [opts]
  (let [o (MySQLConnectOptions.)]
    (backend/connect-options! o opts (cache-size opts) (:properties opts)
                              (backend/client-ssl-options opts (warn-unverified opts)))
    (.setSslMode o ^SslMode (ssl-modes (:ssl-mode opts :disable)))
    (.setCharset o (str (:charset opts)))
    (.setCollation o (str (:collation opts)))
    (when-let [v (:pipelining-limit opts)] (.setPipeliningLimit o (int v)))
    o))

(defn- with-statement-timeout
  "`opts` with :statement-timeout as MariaDB's session max_statement_time
  (seconds), set first on every new connection: the server interrupts a
  statement running longer (error 1969)."
  [opts]
  (if-let [ms (:statement-timeout opts)]
    (update opts :init-sql #(into [(str "SET SESSION max_statement_time = " (/ (double ms) 1000.0))] %))
    opts))

(defn- code->type
  "MySQL / MariaDB error number -> Vireo type (SQLSTATEs there are too coarse:
  every integrity error is 23000)."
  [code state ^String message]
  (case (int code)
    ;; ER_OPTION_PREVENTS_STATEMENT: --read-only (and other options)
    1290 (if (some-> message str/lower-case (str/includes? "read-only")) :vireo/read-only :vireo/operational-error)
    ;; ER_READ_ONLY_MODE (MySQL), ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
    (1836 1792) :vireo/read-only
    ;; login refused (user, password), auth plugin refused; not 1044 (no
    ;; privilege on a database), which statements such as GRANT raise too
    (1045 1251) :vireo/connection-error
    (1062 1586) :vireo/unique-violation
    (1451 1452 1216 1217) :vireo/foreign-key-violation
    (1048 1364) :vireo/not-null-violation
    (3819 4025) :vireo/check-violation
    1213 :vireo/deadlock
    ;; lock wait timeout; MariaDB's max_statement_time, MySQL's max_execution_time
    ;; ER_QUERY_INTERRUPTED: KILL QUERY (a cancelled future, a :timeout)
    (1205 1969 3024 1317) :vireo/timeout
    (1146 1054 1064 1049 1051 1060 1061 1091 1149) :vireo/programming-error
    (1264 1265 1292 1366 1406 1367 1411 3140) :vireo/data-error
    (2002 2003 2006 2013 1040 1053) :vireo/connection-error
    (err/sqlstate->type state)))

(defn- error-info [e]
  (when (instance? MySQLException e)
    (let [^MySQLException e e]
      {:type (code->type (.getErrorCode e) (.getSqlState e) (.getMessage e))
       :message (let [m (.getMessage e)]
                  (or (second (re-find #"errorMessage=(.*?), errorCode=" (str m))) m))
       :sql-state (.getSqlState e)
       :error-code (.getErrorCode e)})))

(defn- copy [o] (MySQLConnectOptions. ^MySQLConnectOptions o))

(defn- probe
  "(fn [options]) -> future of true when the server there is read-only (a
  replica with read_only on), on a short-lived connection of `vertx`."
  [^Vertx vertx]
  (fn [^MySQLConnectOptions o]
    (p/map (backend/value-on-connection (MySQLConnection/connect vertx o) "SELECT @@global.read_only")
           (fn [v] (boolean (and (number? v) (not (zero? (long v)))))))))

(defn- server-capabilities
  "MariaDB >= 10.5: INSERT and DELETE … RETURNING (no UPDATE … RETURNING);
  MySQL: none."
  [version]
  (let [maria? (str/includes? (str/lower-case (str version)) "mariadb")
        v (backend/version-numbers version)]
    {:returning (if (and maria? (backend/at-least? v [10 5 0])) #{:insert :delete} #{})
     :server (str (if maria? "MariaDB " "MySQL ") (str/join "." v))}))

(defn- side-connection-options
  "The connect options of a short-lived connection of Vireo's own (no
  statement cache), with the password `pw` already resolved."
  ^MySQLConnectOptions [opts pw]
  (connect-options (-> opts (dissoc :password-fn) (assoc :password pw :cache-prepared-statements false))))

(defn- read-max-prepared-stmt-count
  "Future of the server's max_prepared_stmt_count (nil when it cannot be
  read), read on a short-lived connection of `vertx`."
  [opts ^Vertx vertx]
  (-> (backend/password-of opts)
      (p/then (fn [pw]
                (backend/value-on-connection
                 (MySQLConnection/connect vertx (side-connection-options opts pw))
                 "SELECT @@GLOBAL.max_prepared_stmt_count")))
      (p/map (fn [n] (long n)))
      (p/handle (fn [v _e] v))))

;; ---------------------------------------------------------------- cancelling
;; KILL QUERY needs the server's id of the connection, which the Vert.x client
;; reads in the handshake and drops: every new pooled connection asks for it
;; once (CONNECTION_ID()), kept here by its physical connection until that
;; is garbage.
(def ^:private connection-ids
  (java.util.Collections/synchronizedMap (java.util.WeakHashMap.)))

(defn- physical
  "The physical connection under a pooled SqlConnection."
  [^SqlConnection conn]
  (.unwrap ^io.vertx.sqlclient.internal.Connection (.unwrap ^io.vertx.sqlclient.internal.SqlConnectionInternal conn)))

(defn- remember-id
  "The connect step reading a new connection's id: a Vert.x future."
  [^SqlConnection conn]
  (.map (.execute (.query conn "SELECT CONNECTION_ID()"))
        (reify java.util.function.Function
          (apply [_ rs]
            (let [^Row row (.next (.iterator ^RowSet rs))]
              (.put ^java.util.Map connection-ids (physical conn) (.getValue row (int 0)))
              nil)))))

(defn- kill-query
  "KILL QUERY for the statement `conn` runs, sent from a short-lived
  connection of its own to the same server (the pool may have none free):
  a future of nil."
  [^SqlConnection conn opts vertx]
  (let [phys (physical conn)
        id (.get ^java.util.Map connection-ids phys)
        ^io.vertx.core.net.SocketAddress at (.server ^io.vertx.sqlclient.internal.Connection phys)]
    (if (nil? id)
      (p/rejected (err/error :vireo/interface-error "the connection's id is unknown: its statement cannot be cancelled" {}))
      (p/then (backend/password-of opts)
              (fn [pw]
                (let [o (doto (side-connection-options opts pw)
                          (.setHost (.host at))
                          (.setPort (.port at)))]
                  (p/then (p/from-vertx (MySQLConnection/connect ^Vertx vertx ^MySQLConnectOptions o))
                          (fn [^SqlConnection c]
                            (p/finally (p/from-vertx (.execute (.query c (str "KILL QUERY " (long id)))))
                                       (fn [_ _] (.close c)))))))))))

(def ^:private the-backend
  (reify proto/Backend
    (-traits [_] traits)
    (-check-options [_ _opts] nil)
    (-parse-url [_ rest url] (backend/server-url-options rest url traits))
    (-describe [_ opts] (backend/server-description :mysql opts))
    (-statement-cache-size [_ opts] (cache-size opts))
    (-prepare-options [_ opts vertx]
      ;; with the statement cache on, the pool's caches must stay within the
      ;; server's max_prepared_stmt_count: read it before the pool opens
      (if (and (:cache-prepared-statements opts) (not (:max-prepared-stmt-count opts)))
        (p/map (read-max-prepared-stmt-count opts vertx)
               (fn [n] (cond-> opts n (assoc :max-prepared-stmt-count n))))
        (p/resolved opts)))
    (-make-pool [_ opts vertx]
      (backend/build-client (MySQLBuilder/pool) (backend/pool-options opts) (connect-options opts) vertx
                            (assoc (with-statement-timeout opts) ::backend/on-connect remember-id) copy
                            (backend/host-chooser :mysql opts copy (probe vertx))))
    (-make-pipelined-client [_ opts vertx]
      (backend/build-client (MySQLBuilder/client) (backend/pipelining-pool-options opts) (connect-options opts) vertx
                            (assoc (with-statement-timeout opts) ::backend/on-connect remember-id) copy
                            (backend/host-chooser :mysql opts copy (probe vertx))))
    (-detect [_ pool _opts]
      (backend/first-row pool "SELECT VERSION(), @@auto_increment_increment"
                         (fn [^Row row]
                           (assoc (server-capabilities (str (.getValue row (int 0))))
                                  :auto-increment-increment (long (.getValue row (int 1)))))))
    (-server-capabilities [_ version] (server-capabilities version))
    (-last-insert-id [_ rs] (.property ^RowSet rs MySQLClient/LAST_INSERTED_ID))
    (-begin-statements [_ {:keys [isolation read-only]}]
      (cond-> []
        isolation (conj (str "SET TRANSACTION ISOLATION LEVEL " (backend/isolation-sql isolation)))
        true (conj (if read-only "START TRANSACTION READ ONLY" "START TRANSACTION"))))
    (-end-statements [_ _opts] [])
    (-stream-source [_ conn sql params] (backend/cursor-source conn sql params))
    (-truncate-statements [_ table-sql _table-name {:keys [cascade]} _names]
      ;; TRUNCATE always restarts AUTO_INCREMENT here
      (if cascade
        (p/rejected (err/error :vireo/not-supported "TRUNCATE … CASCADE" {:backend :mysql :feature "TRUNCATE … CASCADE"}))
        (p/resolved [[table-sql]])))
    (-cancel! [_ conn opts vertx] (kill-query conn opts vertx))
    (-error-info [_ e] (error-info e))))

(defn backend
  "The MySQL/MariaDB Backend (registers its codecs and error mapping)."
  []
  (backend/install the-backend error-info))
