(ns ^:no-doc vireo.impl.backend.sqlite
  "The SQLite backend (io.vertx:vertx-jdbc-client over org.xerial:sqlite-jdbc):
  everything Vireo does differently on SQLite. Loaded by vireo.impl.backend
  when the first SQLite database is created."
  (:require [clojure.string :as str]
            [vireo.impl.backend :as backend]
            [vireo.impl.errors :as err]
            [vireo.impl.protocols :as proto]
            [vireo.promise :as p])
  (:import (io.vertx.core Vertx)
           (io.vertx.core.buffer Buffer)
           (io.vertx.jdbcclient JDBCConnectOptions JDBCPool)
           (io.vertx.jdbcclient.impl ConnectionImpl JDBCRow)
           (io.vertx.jdbcclient.impl.actions CachedParameterMetaData CallableOutParams JDBCAction
                                             JDBCRowDesc JDBCStatementHelper)
           (io.vertx.jdbcclient.spi JDBCColumnDescriptorProvider JDBCDecoder JDBCEncoder)
           (io.vertx.sqlclient Row RowSet SqlConnection Tuple)
           (io.vertx.sqlclient.internal SqlConnectionInternal)
           (java.sql ResultSet)
           (java.util ArrayList List)
           (org.sqlite SQLiteErrorCode SQLiteException)))

(set! *warn-on-reflection* true)

(def ^:private traits
  {:kind :sqlite
   :label "SQLite"
   :dialect :sqlite
   :option-keys #{:path :busy-timeout :journal-mode :foreign-keys :synchronous}
   :defaults {:max-size 4 :busy-timeout 5000 :journal-mode "WAL" :foreign-keys true
              :synchronous "NORMAL"}
   ;; URL query parameters (sqlite:app.db?busy_timeout=10000): parameter -> [option kind]
   :url-params {"busy_timeout" [:busy-timeout :int]
                "journal_mode" [:journal-mode :string]
                "foreign_keys" [:foreign-keys :bool]
                "synchronous" [:synchronous :string]}
   ;; SQLITE_MAX_VARIABLE_NUMBER's default
   ;; the option naming the database (without it the database is deferred)
   :name-option :path
   :name-problem "a SQLite database needs a file path (or \":memory:\")"
   :param-limit 32766
   :identifier-limit nil
   ;; a multi-row INSERT reports its LAST rowid (they are consecutive)
   :insert-id :last
   ;; after an upsert that updated, the last insert rowid is stale
   :upsert-insert-id :inserted
   :cursor-needs-transaction false
   ;; a failed COMMIT (SQLITE_BUSY, deferred constraints) leaves the
   ;; transaction open: it must be rolled back so nothing persists
   :rollback-after-failed-commit true
   :codecs {:auto-64bit true :text-nul true :boolean :integer
            :non-finite {:reject :nan :why "SQLite stores NaN as NULL"}
            :decimal :text :uuid :text :temporal :text :timestamptz :text
            :json :text :bytes :array}
   :introspection
   {:tables "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
    :table-filter " AND name = ?"
    :index-names (str "SELECT il.name, m.name FROM sqlite_master m JOIN pragma_index_list(m.name) il"
                      " WHERE m.type = 'table' AND m.name = ? AND il.origin <> 'pk'")
    :sequence nil}})

(defn jdbc-url
  "The JDBC URL for a SQLite path, carrying the pragmas every pooled connection
  gets (sqlite-jdbc applies URL parameters on connect)."
  [{:keys [path busy-timeout journal-mode foreign-keys synchronous]}]
  (str "jdbc:sqlite:" path
       "?busy_timeout=" busy-timeout
       (when (and journal-mode (not= path ":memory:")) (str "&journal_mode=" journal-mode))
       "&foreign_keys=" (boolean foreign-keys)
       (when synchronous (str "&synchronous=" synchronous))))

(defn- prime-file!
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
      (.close (java.sql.DriverManager/getConnection (jdbc-url opts)))
      (catch java.sql.SQLException _
        ;; the pool's own connections report the problem (a bad path, …)
        nil))))

(defn- code->type [^SQLiteException e]
  (let [code (.getResultCode e)]
    (condp = code
      SQLiteErrorCode/SQLITE_CONSTRAINT_UNIQUE :vireo/unique-violation
      SQLiteErrorCode/SQLITE_CONSTRAINT_PRIMARYKEY :vireo/unique-violation
      SQLiteErrorCode/SQLITE_CONSTRAINT_FOREIGNKEY :vireo/foreign-key-violation
      ;; an ON DELETE/UPDATE RESTRICT action fails through SQLite's internal trigger
      SQLiteErrorCode/SQLITE_CONSTRAINT_TRIGGER (if (some-> (.getMessage e) (.contains "FOREIGN KEY constraint failed"))
                                                  :vireo/foreign-key-violation
                                                  :vireo/integrity-error)
      SQLiteErrorCode/SQLITE_CONSTRAINT_NOTNULL :vireo/not-null-violation
      SQLiteErrorCode/SQLITE_CONSTRAINT_CHECK :vireo/check-violation
      SQLiteErrorCode/SQLITE_BUSY :vireo/operational-error
      SQLiteErrorCode/SQLITE_LOCKED :vireo/operational-error
      SQLiteErrorCode/SQLITE_READONLY :vireo/read-only
      SQLiteErrorCode/SQLITE_CANTOPEN :vireo/connection-error
      SQLiteErrorCode/SQLITE_TOOBIG :vireo/data-error
      SQLiteErrorCode/SQLITE_MISMATCH :vireo/data-error
      SQLiteErrorCode/SQLITE_RANGE :vireo/programming-error
      ;; SQLITE_ERROR covers syntax errors and missing tables/columns: the same
      ;; situations PostgreSQL reports as class 42, so map them alike.
      SQLiteErrorCode/SQLITE_ERROR :vireo/programming-error
      (if (= 19 (bit-and (.code code) 0xff))
        :vireo/integrity-error
        :vireo/database-error))))

(defn- error-info [e]
  (when (instance? SQLiteException e)
    (let [^SQLiteException e e]
      {:type (code->type e)
       :message (.getMessage e)
       :error-code (.code (.getResultCode e))
       :sqlite-code (.name (.getResultCode e))})))

(defn- server-capabilities
  "SQLite >= 3.35: RETURNING on every statement kind."
  [version]
  (let [v (backend/version-numbers version)]
    {:returning (if (backend/at-least? v [3 35 0]) backend/all-returning #{})
     :server (str "SQLite " (str/join "." v))}))

;; ---------------------------------------------------------------- streaming
(defn- jdbc-connection
  "The Vert.x JDBC client's connection under a pooled SqlConnection."
  ^ConnectionImpl [^SqlConnection conn]
  (loop [c (.unwrap ^SqlConnectionInternal conn) n 0]
    (cond
      (instance? ConnectionImpl c) c
      (< n 4) (recur (.unwrap ^io.vertx.sqlclient.internal.Connection c) (inc n))
      :else (throw (IllegalStateException. (str "not a Vert.x JDBC connection: " (class c)))))))

(def ^:private jdbc-helper
  ;; the encoder and decoder a JDBCPool makes with default options (Vireo's)
  (delay (JDBCStatementHelper.)))

(defn- jdbc-action ^JDBCAction [f]
  (reify JDBCAction (execute [_ jc] (f jc))))

(defn- jdbc-source
  "The Vert.x JDBC client has no cursor (its prepared query reads the whole
  ResultSet into one RowSet), so the stream runs its own actions on the
  pooled connection's JDBC connection: the statement's ResultSet kept open,
  read fetch-size rows per action (Vert.x's JDBC decoder, into Vert.x JDBC
  rows). Every action runs through ConnectionImpl/schedule: the connection
  context's ordered worker queue that Vert.x's own statements on this
  connection go through, so they never overlap and no event loop blocks."
  [^SqlConnection conn ^String sql ^List params]
  (let [impl (jdbc-connection conn)
        ^JDBCStatementHelper helper @jdbc-helper
        ;; touched only inside actions, which the ordered queue runs one at a time
        state (atom nil)
        run (fn [f] (p/from-vertx (.schedule impl (jdbc-action f))))]
    (reify proto/RowSource
      (open! [_]
        (run (fn [^java.sql.Connection jc]
               (let [ps (.prepareStatement jc sql)]
                 (try
                   ;; the parameters exactly as Vert.x's JDBCPreparedQuery binds them
                   (let [tuple (Tuple/from params)
                         pmd (.putOutParams (CachedParameterMetaData. ps) (CallableOutParams/create))
                         prov (JDBCColumnDescriptorProvider/fromParameterMetaData pmd)
                         ^JDBCEncoder enc (.getEncoder helper)]
                     (dotimes [i (.size tuple)]
                       (let [v (.encode enc tuple (int (inc i)) prov)]
                         (.setObject ps (int (inc i)) (if (instance? Buffer v) (.getBytes ^Buffer v) v))))
                     (let [rs (.executeQuery ps)
                           md (.getMetaData rs)
                           n (.getColumnCount md)
                           rprov (JDBCColumnDescriptorProvider/fromResultMetaData md)]
                       (reset! state {:ps ps :rs rs :prov rprov :desc (JDBCRowDesc. rprov n) :n n
                                      :has-row (.next rs)})
                       nil))
                   (catch Throwable t
                     (try (.close ps) (catch Throwable ct (.addSuppressed t ct)))
                     (throw t)))))))
      (read! [_ fetch]
        (run (fn [_]
               (let [{:keys [^ResultSet rs ^JDBCColumnDescriptorProvider prov desc n has-row]} @state
                     ^JDBCDecoder dec (.getDecoder helper)
                     n (long n)
                     fetch (long fetch)
                     out (ArrayList. (int (min fetch 4096)))]
                 (loop [k 0 has (boolean has-row)]
                   (if (and has (< k fetch))
                     (let [row (JDBCRow. desc)]
                       (loop [i 1]
                         (when (<= i n)
                           (.addValue row (.parse dec rs (int i) prov))
                           (recur (inc i))))
                       (.add out row)
                       (recur (inc k) (.next rs)))
                     (do (swap! state assoc :has-row has)
                         (proto/->Batch out has))))))))
      (close! [_]
        (if (nil? @state)
          (p/resolved nil)
          (run (fn [_]
                 (let [[{:keys [^ResultSet rs ^java.sql.PreparedStatement ps]}] (reset-vals! state nil)]
                   (when rs
                     (try (.close rs)
                          (finally (.close ps))))
                   nil))))))))

;; SQLite transactions are always serializable; a write transaction takes
;; the write lock up front so concurrent writers queue on the busy timeout
;; instead of failing with SQLITE_BUSY on lock upgrade.
(def ^:private write-begin ["BEGIN IMMEDIATE"])
(def ^:private read-only-begin ["PRAGMA query_only = ON" "BEGIN"])
(def ^:private read-only-end ["PRAGMA query_only = OFF"])

(def ^:private the-backend
  (reify proto/Backend
    (-traits [_] traits)
    (-check-options [_ _opts] nil)
    (-parse-url [_ rest url]
      (let [[path query] (str/split rest #"\?" 2)
            path (cond (str/starts-with? path "///") (subs path 2)
                       (str/starts-with? path "//") (subs path 2)
                       :else path)]
        (merge {:path (backend/decode-url-part path)}
               (backend/query-options url query traits))))
    (-describe [_ opts] (str "sqlite:" (or (:path opts) "<deferred>")))
    (-statement-cache-size [_ _opts] 0)
    (-prepare-options [_ opts _vertx] (p/resolved opts))
    (-make-pool [_ opts vertx]
      (prime-file! opts)
      (JDBCPool/pool ^Vertx vertx
                     (-> (JDBCConnectOptions.) (.setJdbcUrl (jdbc-url opts)))
                     (backend/pool-options (cond-> opts
                                             ;; every connection to :memory: is a new, empty database
                                             (= (:path opts) ":memory:") (assoc :max-size 1)))))
    (-make-pipelined-client [_ _opts _vertx]
      (throw (err/error :vireo/not-supported "pipelining is not supported by sqlite" {:backend :sqlite})))
    (-detect [_ pool _opts]
      (backend/first-row pool "SELECT sqlite_version()"
                         (fn [^Row row] (server-capabilities (str (.getValue row (int 0)))))))
    (-server-capabilities [_ version] (server-capabilities version))
    (-last-insert-id [_ rs]
      (when-let [^Row r (.property ^RowSet rs JDBCPool/GENERATED_KEYS)]
        (when (pos? (.size r)) (.getValue r (int 0)))))
    (-begin-statements [_ {:keys [read-only]}]
      (if read-only read-only-begin write-begin))
    (-end-statements [_ {:keys [read-only]}]
      (if read-only read-only-end []))
    (-stream-source [_ conn sql params] (jdbc-source conn sql params))
    (-truncate-statements [_ table-sql table-name {:keys [restart-identity cascade]} names]
      ;; DELETE FROM; only an AUTOINCREMENT table keeps a counter (in
      ;; sqlite_sequence, which exists once such a table was created). A plain
      ;; INTEGER PRIMARY KEY (Vireo's :auto) restarts at 1 once the table is empty.
      (cond
        cascade (p/rejected (err/error :vireo/not-supported "truncate with :cascade"
                                       {:backend :sqlite :feature "truncate with :cascade"}))
        (not restart-identity) (p/resolved [[table-sql]])
        :else (p/map (names "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'" [])
                     (fn [found]
                       (cond-> [[table-sql]]
                         (seq found) (conj ["DELETE FROM sqlite_sequence WHERE name = ?" table-name]))))))
    (-error-info [_ e] (error-info e))))

(defn backend
  "The SQLite Backend (registers its codecs and error mapping)."
  []
  (backend/install the-backend error-info))
