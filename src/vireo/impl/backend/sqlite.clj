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
           (io.vertx.core.internal VertxInternal)
           (io.vertx.jdbcclient JDBCPool)
           (io.vertx.jdbcclient.impl ConnectionImpl JDBCRow)
           (io.vertx.jdbcclient.impl.actions CachedParameterMetaData CallableOutParams JDBCAction
                                             JDBCRowDesc JDBCStatementHelper)
           (io.vertx.jdbcclient.spi JDBCColumnDescriptorProvider JDBCDecoder JDBCEncoder)
           (io.vertx.sqlclient Row RowSet SqlConnection Tuple)
           (io.vertx.sqlclient.internal SqlConnectionInternal)
           (java.lang.reflect InvocationHandler InvocationTargetException Method Proxy)
           (java.sql Connection DriverManager PreparedStatement ResultSet ResultSetMetaData Statement Types)
           (java.util ArrayList List)
           (java.util.concurrent ThreadPoolExecutor)
           (java.util.concurrent.atomic AtomicBoolean)
           (javax.sql DataSource)
           (org.sqlite SQLiteErrorCode SQLiteException)))

(set! *warn-on-reflection* true)

(def ^:private traits
  {:kind :sqlite
   :db-system "sqlite"
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
            ;; SQLite has no NaN: sqlite3_bind_double(NaN) binds NULL, so a NaN
            ;; parameter would be stored as NULL, compared as NULL or read back
            ;; as NULL wherever it goes (±Infinity it keeps)
            :param-non-finite {:reject :nan :why "SQLite has no NaN: it would bind it as NULL"}
            :decimal :text :uuid :text :temporal :text :timestamptz :text
            :json :text :bytes :array}
   :introspection
   {:tables "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
    :table-filter " AND name = ?"
    :index-names (str "SELECT il.name, m.name FROM sqlite_master m JOIN pragma_index_list(m.name) il"
                      " WHERE m.type = 'table' AND m.name = ? AND il.origin <> 'pk'")
    :sequence nil
    ;; name, type, nullable, default (SQL), table name
    :columns (str "SELECT p.name, p.type, p.\"notnull\" = 0, p.dflt_value, m.name"
                  " FROM sqlite_master m JOIN pragma_table_info(m.name) p"
                  " WHERE m.type = 'table' AND m.name = ? ORDER BY p.cid")
    ;; SQLite keeps no foreign-key names Vireo could read back (a rebuild names them again)
    :foreign-key-names nil
    ;; single-column foreign keys: name (SQLite keeps none), column,
    ;; referenced table and column, ON DELETE, ON UPDATE (vireo.migrate's diff)
    :foreign-keys (str "WITH f AS (SELECT * FROM pragma_foreign_key_list(?))"
                       " SELECT NULL, f.\"from\", f.\"table\", f.\"to\", f.on_delete, f.on_update FROM f"
                       " WHERE (SELECT count(*) FROM f g WHERE g.id = f.id) = 1")
    :type-names {}}
   ;; schema migrations (vireo.migrate): DDL is transactional, and a writing
   ;; transaction (BEGIN IMMEDIATE) is the lock. ALTER TABLE does little, so
   ;; the rest is SQLite's own table rebuild
   ;; (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of
   ;; Table Schema Changes"): these statements read the table and switch
   ;; foreign keys off around it
   :migrations {:transactional-ddl true
                :lock nil
                :unlock nil
                :table-rebuild
                {:foreign-keys-state "PRAGMA foreign_keys"
                 :foreign-keys-off "PRAGMA foreign_keys = OFF"
                 :foreign-keys-on "PRAGMA foreign_keys = ON"
                 :foreign-key-check "PRAGMA foreign_key_check"
                 :table-sql "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?"
                 ;; name, declared type, not null, default (SQL), position in the primary key (0: none)
                 :columns "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid"
                 ;; id, seq, referenced table, column, referenced column, on update, on delete
                 :foreign-keys (str "SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete"
                                    " FROM pragma_foreign_key_list(?) ORDER BY id, seq")
                 ;; UNIQUE table constraints: index name, column
                 :unique (str "SELECT il.name, ii.name FROM pragma_index_list(?) il"
                              " JOIN pragma_index_info(il.name) ii WHERE il.origin = 'u' ORDER BY il.name, ii.seqno")
                 ;; the table's own indexes and triggers: type, name, sql
                 :schema-sql (str "SELECT type, name, sql FROM sqlite_master"
                                  " WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL"
                                  " ORDER BY type, name")
                 ;; an index's columns
                 :index-columns "SELECT name FROM pragma_index_info(?)"}}})

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

;; ---------------------------------------------------------------- connections
;; Vireo opens the JDBC connections of a SQLite pool itself (a DataSource
;; given to JDBCPool) for three things the driver has no setting for.
;;
;; 1. Double-quoted identifiers stay identifiers. SQLite takes a
;;    double-quoted name it cannot resolve for a string literal (its
;;    "double-quoted string" misfeature): {:select [:nmae]} would return the
;;    text "nmae" and [:= :nmae "nmae"] would match every row, where
;;    PostgreSQL and MariaDB report the unknown column. SQLite's own switch
;;    (sqlite3_db_config SQLITE_DBCONFIG_DQS_DML/DDL) is not reachable:
;;    sqlite-jdbc 3.50.3.0 has no connection property or pragma for it and
;;    exports no sqlite3_* symbol. A backquoted name is never taken for a
;;    string, so every statement's double-quoted identifiers are sent
;;    backquoted (`strict-identifiers`) — what DQS off does, for Vireo's SQL
;;    and raw SQL alike; an unknown name is then SQLITE_ERROR "no such
;;    column", a :vireo/programming-error.
;;
;; 2. A worker thread per open connection. The Vert.x JDBC client runs each
;;    connection's statements on the Vert.x instance's worker pool (20
;;    threads by default), one at a time per connection. A BEGIN IMMEDIATE
;;    that waits for SQLite's write lock holds its worker for up to the busy
;;    timeout, so with more than 20 connections waiting writers can take
;;    every worker, and the one holding the lock never gets a thread for its
;;    COMMIT: they all fail with SQLITE_BUSY. Each open connection therefore
;;    adds a thread to the worker pool for as long as it is open
;;    (`worker-slot!`): the connections of every SQLite pool on the instance,
;;    of one database or several on the same file, can always run, and the
;;    pool's 20 threads stay for everyone else.

(defn- copy-token
  "Appends sql[i..] through the char `close` that ends the token opened at
  i to sb (a doubled quote is part of the token; a bracketed name has no
  escape); returns the index after it (the end when it is unterminated)."
  ^long [^String sql ^StringBuilder sb ^long i close]
  (let [n (.length sql)
        close (char close)
        doubling (not= close \])]
    (.append sb (.charAt sql i))
    (loop [j (inc i)]
      (if (>= j n)
        n
        (let [c (.charAt sql j)]
          (.append sb c)
          (cond
            (not= c close) (recur (inc j))
            (and doubling (< (inc j) n) (= close (.charAt sql (inc j))))
            (do (.append sb close) (recur (+ j 2)))
            :else (inc j)))))))

(defn- copy-comment
  "Appends the comment at i (`--` to the end of the line, `/* */`) to sb;
  returns the index after it."
  ^long [^String sql ^StringBuilder sb ^long i]
  (let [n (.length sql)
        line? (= \- (.charAt sql i))
        end (if line?
              (let [e (.indexOf sql (int \newline) (int i))] (if (neg? e) n (inc e)))
              (let [e (.indexOf sql "*/" (int (+ i 2)))] (if (neg? e) n (+ e 2))))]
    (.append sb sql (int i) (int end))
    end))

(defn- backquote
  "Appends the double-quoted identifier at i as a backquoted one (\"\" -> \",
  ` -> ``); returns the index after it. Unterminated, it is appended as is
  (SQLite reports it)."
  ^long [^String sql ^StringBuilder sb ^long i]
  (let [n (.length sql)
        end (loop [j (inc i)]
              (cond (>= j n) -1
                    (not= \" (.charAt sql j)) (recur (inc j))
                    (and (< (inc j) n) (= \" (.charAt sql (inc j)))) (recur (+ j 2))
                    :else j))]
    (if (neg? end)
      (do (.append sb sql (int i) n) n)
      (do (.append sb \`)
          (loop [j (inc i)]
            (when (< j end)
              (let [c (.charAt sql j)]
                (cond (= c \") (do (.append sb c) (recur (+ j 2)))
                      (= c \`) (do (.append sb "``") (recur (inc j)))
                      :else (do (.append sb c) (recur (inc j)))))))
          (.append sb \`)
          (inc end)))))

(defn strict-identifiers
  "Given SQL for SQLite, returns it with every double-quoted identifier
  backquoted (\"a\"\"b\" -> `a\"b`), string literals, backquoted and
  bracketed names and comments untouched: SQLite then never takes an
  unknown name for a string. SQL without a double quote is returned as is."
  ^String [^String sql]
  (if (neg? (.indexOf sql (int \")))
    sql
    (let [n (.length sql)
          sb (StringBuilder. (+ n 8))]
      (loop [i 0]
        (if (>= i n)
          (.toString sb)
          (let [c (.charAt sql i)
                next-c (when (< (inc i) n) (.charAt sql (inc i)))]
            (cond
              (= c \") (recur (backquote sql sb i))
              (= c \') (recur (copy-token sql sb i \'))
              (= c \`) (recur (copy-token sql sb i \`))
              (= c \[) (recur (copy-token sql sb i \]))
              (or (and (= c \-) (= next-c \-)) (and (= c \/) (= next-c \*))) (recur (copy-comment sql sb i))
              :else (do (.append sb c) (recur (inc i))))))))))

(defn- worker-slot!
  "Grows (+1) or shrinks (-1) the worker pool of `vertx` by one thread. A
  worker pool that is not a ThreadPoolExecutor (an application's own
  ExecutorServiceFactory) is left as it is."
  [^Vertx vertx ^long delta]
  (let [ex (.executor (.workerPool ^VertxInternal vertx))]
    (when (instance? ThreadPoolExecutor ex)
      (let [^ThreadPoolExecutor tpe ex]
        ;; the core size may never exceed the maximum: grow the maximum
        ;; first, shrink it last
        (locking tpe
          (if (pos? delta)
            (do (.setMaximumPoolSize tpe (+ (.getMaximumPoolSize tpe) delta))
                (.setCorePoolSize tpe (+ (.getCorePoolSize tpe) delta)))
            (do (.setCorePoolSize tpe (+ (.getCorePoolSize tpe) delta))
                (.setMaximumPoolSize tpe (+ (.getMaximumPoolSize tpe) delta)))))))))

(defn- call-through
  "Calls method m on target with args, throwing what the method threw."
  [target ^Method m args]
  (try (.invoke m target ^objects args)
       (catch InvocationTargetException e (throw (.getCause e)))))

(defn- sql-first
  "args with its first element, a SQL string, made strict."
  ^objects [^objects args]
  (when (and args (pos? (alength args)) (string? (aget args 0)))
    (aset args 0 (strict-identifiers (aget args 0))))
  args)

(defn- proxy-of
  "A java.lang.reflect.Proxy implementing `iface` over `target`: methods in
  `sql-methods` get their SQL made strict, (before name) runs before each
  call, (after name result) may replace a result; equality and hashing are
  the proxy's own."
  [^Class iface target sql-methods before after]
  (Proxy/newProxyInstance
   (.getClassLoader iface)
   (into-array Class [iface])
   (reify InvocationHandler
     (invoke [_ self m args]
       (let [nm (.getName ^Method m)]
         (case nm
           "equals" (identical? self (aget ^objects args 0))
           "hashCode" (System/identityHashCode self)
           (do (before nm)
               (after nm (call-through target m (if (contains? sql-methods nm) (sql-first args) args))))))))))

(def ^:private statement-sql-methods
  #{"execute" "executeQuery" "executeUpdate" "executeLargeUpdate" "addBatch"})

(def ^:private connection-sql-methods
  #{"prepareStatement" "prepareCall" "nativeSQL"})

;; 3. Doubles read as doubles. sqlite-jdbc reports a column declared REAL
;;    as java.sql.Types/REAL, one declared FLOAT, and any other float value
;;    without a declared type (an expression, a REAL stored in a BIGINT
;;    column), as FLOAT (JDBC3ResultSet.getColumnType). The Vert.x JDBC client
;;    decides the Java type of every value from that: its JDBCTypeWrapper maps
;;    REAL and FLOAT to Float, and JDBCDecoderImpl.decodeNumber reads the value
;;    with rs.getObject(i, Float.class), i.e. getFloat — a 32-bit float, where
;;    SQLite stores an 8-byte double (1e-300 came back 0.0, Math/PI
;;    3.1415927, 1e308 Infinity). The decoder is not reachable (the pool makes
;;    its own JDBCStatementHelper, whose decoder can only be named by a class
;;    the application class loader finds), so the result sets of Vireo's
;;    connections report REAL and FLOAT as DOUBLE in their metadata, and
;;    Vert.x reads them with getDouble. The statements, result sets and
;;    metadata are wrapped by `delegating`: compiled classes, no reflection
;;    per row or value, one more interface call per driver call.

(defmacro ^:private delegating
  "A reify of the JDBC interface `iface` over `target`: each of its methods
  calls the same method of target, compiled (no reflection), except that a
  method named in `sql` (a set of names, or a var naming one) gets its first
  argument, when it is a String, made strict (`strict-identifiers`), and a
  method named in `wrap` (name -> fn symbol) returns (f result)."
  [iface target sql wrap]
  (let [^Class c (resolve iface)
        sql (if (symbol? sql) @(resolve sql) sql)
        tag (fn [^Class k] (symbol (.getName k)))
        t (with-meta (gensym "target") {:tag (tag c)})
        methods (->> (.getMethods c)
                     (remove #(java.lang.reflect.Modifier/isStatic (.getModifiers ^Method %)))
                     (map (fn [^Method m] [(.getName m) (vec (.getParameterTypes m)) (.getReturnType m)]))
                     distinct)]
    `(let [~t ~target]
       (reify ~(tag c)
         ~@(for [[nm ptypes ^Class ret] methods
                 :let [args (mapv (fn [k i] (with-meta (symbol (str "a" i)) {:tag (tag k)})) ptypes (range))
                       call-args (if (and (contains? sql nm) (= String (first ptypes)))
                                   (assoc args 0 `(strict-identifiers ~(first args)))
                                   args)
                       call `(. ~t ~(symbol nm) ~@call-args)
                       f (get wrap nm)]]
             ;; fully hinted (the name with the return type), so each
             ;; overload is matched exactly and every call compiles direct
             `(~(with-meta (symbol nm) {:tag (tag ret)}) [~'_ ~@args]
               ~(cond (nil? f) call
                      ;; (int …) for an int method: f returns a long or an Object
                      (.isPrimitive ret) `(~(symbol "clojure.core" (.getName ret)) (~f ~call))
                      :else `(~f ~call))))))))

(defn- double-type
  "The JDBC type a value of a column of JDBC type t is read as: DOUBLE for
  sqlite-jdbc's REAL and FLOAT (SQLite's REAL is a double)."
  ^long [^long t]
  (if (or (== t Types/REAL) (== t Types/FLOAT)) Types/DOUBLE t))

(defn- metadata
  "ResultSetMetaData md reporting REAL and FLOAT columns as DOUBLE (nil for nil)."
  ^ResultSetMetaData [^ResultSetMetaData md]
  (when md
    (delegating ResultSetMetaData md #{} {"getColumnType" double-type})))

(defn- result-set
  "ResultSet rs whose metadata reports REAL and FLOAT columns as DOUBLE (nil for nil)."
  ^ResultSet [^ResultSet rs]
  (when rs
    (delegating ResultSet rs #{} {"getMetaData" metadata})))

(defn- strict-statement
  "Statement st with its SQL made strict and its result sets' doubles read
  as doubles."
  ^Statement [^Statement st]
  (delegating Statement st statement-sql-methods {"executeQuery" result-set "getResultSet" result-set}))

(defn- strict-prepared
  "PreparedStatement ps with its result sets' (and its own metadata's)
  doubles read as doubles (its SQL was made strict when it was prepared)."
  ^PreparedStatement [^PreparedStatement ps]
  (delegating PreparedStatement ps statement-sql-methods
              {"executeQuery" result-set "getResultSet" result-set "getMetaData" metadata}))

(defn- strict-connection
  "A JDBC connection to SQLite as Vireo's pools use it: its SQL made strict
  (statements it creates too), its doubles read as doubles and, while it is
  open, one more thread in `vertx`'s worker pool."
  ^Connection [^Connection c vertx]
  (let [closed (AtomicBoolean.)]
    (worker-slot! vertx 1)
    (proxy-of Connection c connection-sql-methods
              ;; the thread goes back when the close is asked for, even if it fails
              (fn [nm]
                (when (and (= "close" nm) (.compareAndSet closed false true))
                  (worker-slot! vertx -1)))
              (fn [nm r]
                (case nm
                  "createStatement" (strict-statement r)
                  "prepareStatement" (strict-prepared r)
                  r)))))

(defn- initialised
  "`conn` after running the :init-sql statements on it, in order; when one
  fails the connection is closed and the failure (a SQLException naming the
  statement) thrown, so the pool's acquisition fails with it."
  ^Connection [^Connection conn init-sql]
  (doseq [^String sql init-sql]
    (try
      (with-open [st (.createStatement conn)] (.execute st sql))
      (catch java.sql.SQLException e
        (try (.close conn) (catch Throwable _ nil))
        (throw (java.sql.SQLException.
                (str "a new connection could not be prepared: its :init-sql statement " (pr-str sql)
                     " failed: " (.getMessage e))
                (.getSQLState e) (.getErrorCode e) e)))))
  conn)

(defn- data-source
  "The DataSource of a SQLite pool: connections to `url`, made strict, each
  prepared with the :init-sql statements; each one counted in `connects`
  (an AtomicLong or nil: the live pool state's connections opened)."
  ^DataSource [^String url vertx init-sql ^java.util.concurrent.atomic.AtomicLong connects]
  (reify DataSource
    (getConnection [_]
      (when connects (.incrementAndGet connects))
      (strict-connection (initialised (DriverManager/getConnection url) init-sql) vertx))
    (getConnection [this _ _] (.getConnection this))))

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
      ;; sqlite3_interrupt: the statement was cancelled (a timeout or a cancelled future)
      SQLiteErrorCode/SQLITE_INTERRUPT :vireo/timeout
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
                     (data-source (jdbc-url opts) vertx (:init-sql opts) (:vireo.impl.backend/connects opts))
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
    ;; sqlite3_interrupt: the statement running on the connection stops with
    ;; SQLITE_INTERRUPT (a transaction it was in is rolled back); a
    ;; connection running nothing is not affected
    (-cancel! [_ conn _opts _vertx]
      (let [^java.sql.Connection jc (.getJDBCConnection (jdbc-connection conn))]
        (.interrupt (.getDatabase ^org.sqlite.SQLiteConnection (.unwrap jc org.sqlite.SQLiteConnection)))
        (p/resolved nil)))
    (-error-info [_ e] (error-info e))))

(defn backend
  "The SQLite Backend (registers its codecs and error mapping)."
  []
  (backend/install the-backend error-info))
