(ns ^:no-doc vireo.impl.errors
  "Vireo's error vocabulary: one keyword hierarchy (mirroring peewee's exception
  classes) and the single mapper from every driver's exceptions into it.

  Every error Vireo raises is an `ex-info` whose data has `:type`, one of the
  keywords below, plus `:sql`, `:params`, `:model`, … where known. Test with
  `(isa? (:type (ex-data e)) :vireo/integrity-error)`, or `vireo.core/error-type?`."
  (:import (io.vertx.sqlclient DatabaseException ClosedConnectionException)
           (io.vertx.pgclient PgException)
           (io.vertx.mysqlclient MySQLException)
           (java.sql SQLException)
           (org.sqlite SQLiteException SQLiteErrorCode)))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- the hierarchy
;; :vireo/error
;; ├── :vireo/database-error                 (peewee DatabaseError)
;; │   ├── :vireo/integrity-error            (IntegrityError)
;; │   │   ├── :vireo/unique-violation
;; │   │   ├── :vireo/foreign-key-violation
;; │   │   ├── :vireo/not-null-violation
;; │   │   └── :vireo/check-violation
;; │   ├── :vireo/operational-error          (OperationalError)
;; │   │   ├── :vireo/serialization-failure
;; │   │   ├── :vireo/deadlock
;; │   │   ├── :vireo/connection-error
;; │   │   ├── :vireo/pool-closed
;; │   │   └── :vireo/timeout
;; │   ├── :vireo/programming-error          (ProgrammingError)
;; │   ├── :vireo/data-error                 (DataError)
;; │   ├── :vireo/not-supported              (NotSupportedError)
;; │   └── :vireo/internal-error             (InternalError)
;; ├── :vireo/does-not-exist                 (Model.DoesNotExist)
;; ├── :vireo/sync-not-allowed               (peewee-async's AssertionError)
;; ├── :vireo/blocking-on-event-loop
;; ├── :vireo/model-error                    (a bad model definition or instance)
;; └── :vireo/interface-error                (InterfaceError: misuse of the API)

(def ^:private hierarchy-parents
  {:vireo/database-error        :vireo/error
   :vireo/integrity-error       :vireo/database-error
   :vireo/unique-violation      :vireo/integrity-error
   :vireo/foreign-key-violation :vireo/integrity-error
   :vireo/not-null-violation    :vireo/integrity-error
   :vireo/check-violation       :vireo/integrity-error
   :vireo/operational-error     :vireo/database-error
   :vireo/serialization-failure :vireo/operational-error
   :vireo/deadlock              :vireo/operational-error
   :vireo/connection-error      :vireo/operational-error
   :vireo/pool-closed           :vireo/operational-error
   :vireo/timeout               :vireo/operational-error
   :vireo/programming-error     :vireo/database-error
   :vireo/data-error            :vireo/database-error
   :vireo/not-supported         :vireo/database-error
   :vireo/internal-error        :vireo/database-error
   :vireo/does-not-exist        :vireo/error
   :vireo/sync-not-allowed      :vireo/error
   :vireo/blocking-on-event-loop :vireo/error
   :vireo/model-error           :vireo/error
   :vireo/interface-error       :vireo/error})

(doseq [[child parent] hierarchy-parents] (derive child parent))

(defn error-type
  "Given a Throwable, returns its Vireo `:type` keyword, or nil."
  [^Throwable e]
  (when (instance? clojure.lang.ExceptionInfo e) (:type (ex-data e))))

(defn error-type?
  "Given a Throwable and a type keyword, returns true when the error's `:type`
  is that keyword or a descendant of it."
  [e k]
  (boolean (some-> (error-type e) (isa? k))))

(defn error
  "Builds an ex-info of `type` with message `msg` and data `data` (and `cause`)."
  ([type msg] (error type msg nil nil))
  ([type msg data] (error type msg data nil))
  ([type msg data cause] (ex-info msg (assoc data :type type) cause)))

;; ---------------------------------------------------------------- driver mapping
(defn not-sent?
  "True for the Vert.x failure of a command scheduled on a connection that had
  already closed (e.g. killed by the server): the statement never reached the
  database, so running it again on another connection is safe."
  [^Throwable e]
  (and (instance? io.vertx.core.VertxException e)
       (some-> (.getMessage e) (.startsWith "Connection is not active now"))))

(defn- sqlstate->type
  "SQLSTATE (PostgreSQL, and MySQL's generic states) -> Vireo type."
  [^String state]
  (when (and state (>= (count state) 2))
    (case state
      "23505" :vireo/unique-violation
      "23503" :vireo/foreign-key-violation
      "23502" :vireo/not-null-violation
      "23514" :vireo/check-violation
      "40001" :vireo/serialization-failure
      "40P01" :vireo/deadlock
      "57014" :vireo/timeout
      (case (subs state 0 2)
        "23" :vireo/integrity-error
        "22" :vireo/data-error
        "42" :vireo/programming-error
        "0A" :vireo/not-supported
        ("08" "53" "57" "58" "40" "25" "55") :vireo/operational-error
        "XX" :vireo/internal-error
        :vireo/database-error))))

(defn- mysql-code->type
  "MySQL / MariaDB error number -> Vireo type (SQLSTATEs there are too coarse:
  every integrity error is 23000)."
  [code state]
  (case (int code)
    (1062 1586) :vireo/unique-violation
    (1451 1452 1216 1217) :vireo/foreign-key-violation
    (1048 1364) :vireo/not-null-violation
    (3819 4025) :vireo/check-violation
    1213 :vireo/deadlock
    1205 :vireo/timeout
    (1146 1054 1064 1049 1051 1060 1061 1091 1149) :vireo/programming-error
    (1264 1265 1292 1366 1406 1367 1411 3140) :vireo/data-error
    (2002 2003 2006 2013 1040 1053) :vireo/connection-error
    (sqlstate->type state)))

(defn- sqlite->type [^SQLiteException e]
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
      SQLiteErrorCode/SQLITE_READONLY :vireo/operational-error
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

(defn- driver-info
  "Given a driver exception, returns {:type … :message … :sql-state … :error-code …}
  or nil when it is not a database error."
  [^Throwable e]
  (cond
    (instance? PgException e)
    (let [^PgException e e]
      {:type (sqlstate->type (.getSqlState e))
       :message (.getErrorMessage e)
       :sql-state (.getSqlState e)
       :detail (.getDetail e)
       :constraint (.getConstraint e)})

    (instance? MySQLException e)
    (let [^MySQLException e e]
      {:type (mysql-code->type (.getErrorCode e) (.getSqlState e))
       :message (let [m (.getMessage e)]
                  (or (second (re-find #"errorMessage=(.*?), errorCode=" (str m))) m))
       :sql-state (.getSqlState e)
       :error-code (.getErrorCode e)})

    (instance? SQLiteException e)
    (let [^SQLiteException e e]
      {:type (sqlite->type e)
       :message (.getMessage e)
       :error-code (.code (.getResultCode e))
       :sqlite-code (.name (.getResultCode e))})

    (instance? DatabaseException e)
    (let [^DatabaseException e e]
      {:type (or (sqlstate->type (.getSqlState e)) :vireo/database-error)
       :message (.getMessage e)
       :sql-state (.getSqlState e)
       :error-code (.getErrorCode e)})

    (instance? SQLException e)
    (let [^SQLException e e]
      {:type (or (sqlstate->type (.getSQLState e)) :vireo/database-error)
       :message (.getMessage e)
       :sql-state (.getSQLState e)
       :error-code (.getErrorCode e)})

    (instance? ClosedConnectionException e)
    {:type :vireo/connection-error :message "the database connection was closed"}

    (instance? java.net.SocketException e)
    {:type :vireo/connection-error :message (str "connection lost: " (.getMessage e))}

    (instance? java.net.ConnectException e)
    {:type :vireo/connection-error :message (str "cannot connect: " (.getMessage e))}

    (instance? java.util.concurrent.TimeoutException e)
    {:type :vireo/timeout :message (str "timed out: " (.getMessage e))}

    (not-sent? e)
    {:type :vireo/connection-error
     :message (str "the connection was closed (" (.getMessage e) ")")}

    (and (instance? io.vertx.core.VertxException e)
         (= "Timeout waiting for connection" (.getMessage e)))
    {:type :vireo/timeout
     :message "timed out waiting for a pooled connection (all in use for longer than :connection-timeout)"}

    (instance? io.vertx.core.http.ConnectionPoolTooBusyException e)
    {:type :vireo/operational-error :message (str "connection pool too busy: " (.getMessage e))}))

(defn map-error
  "Given a Throwable raised while running `sql` with `params`, returns the
  Throwable to surface: driver errors become `ex-info` of a Vireo `:type`
  (with the driver's exception as cause and `:sql`/`:params` in the data);
  Vireo errors gain `:sql`/`:params` when they lack them; anything else passes
  through unchanged."
  [^Throwable e sql params extra]
  (if (instance? clojure.lang.ExceptionInfo e)
    e
    (if-let [{:keys [type message] :as info} (driver-info e)]
      (ex-info (str message "\nSQL: " sql "\nParams: " (pr-str (vec params)))
               (merge (dissoc info :message)
                      {:type type :sql sql :params (vec params) :driver-message message}
                      extra)
               e)
      e)))
