(ns ^:no-doc vireo.impl.errors
  "Vireo's error vocabulary: one keyword hierarchy (mirroring peewee's exception
  classes) and the single mapper from every driver's exceptions into it.

  Every error Vireo raises is an `ex-info` whose data has `:type`, one of the
  keywords below, plus `:sql`, `:params`, `:model`, … where known. Test with
  `(isa? (:type (ex-data e)) :vireo/integrity-error)`, or `vireo.core/error-type?`."
  (:import (io.vertx.sqlclient DatabaseException ClosedConnectionException)
           (java.sql SQLException)))

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
;; │   │   ├── :vireo/read-only             (a write on a standby / read-only server or transaction)
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
;; ├── :vireo/migration-failed               (a migration step failed: which ran, which failed)
;; └── :vireo/interface-error                (InterfaceError: misuse of the API)
;;     ├── :vireo/not-initialized            (a deferred database before init!, an unbound proxy)
;;     └── :vireo/migration-error            (bad migration data: unknown op or key, duplicate id, …)

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
   :vireo/read-only             :vireo/operational-error
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
   :vireo/interface-error       :vireo/error
   :vireo/not-initialized       :vireo/interface-error
   :vireo/migration-failed      :vireo/error
   :vireo/migration-error       :vireo/interface-error})

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

;; ---------------------------------------------------------------- the caller's frame
;; An error Vireo throws at its caller should point at the caller, as the
;; REPL's "Execution error … at user/eval… (REPL:1)" line and an editor's
;; jump-to-error take the top frame: not at vireo.impl.errors/error.

(def ^:private internal-prefixes
  "Class-name prefixes of Vireo's own code (its library namespaces, not
  user code in a `vireo.` namespace of its own, nor Vireo's tests) and of
  the Clojure plumbing between it and its caller."
  ["vireo.core$" "vireo.impl." "vireo.promise$" "vireo.promise." "vireo.sql$" "vireo.signals$"
   "vireo.jvm$" "vireo.testing$" "vireo.sync$" "vireo.migrate$" "vireo.java." "io.vireo."
   ;; ex-info, apply, mapv, reduce, a lazy seq … between Vireo's own calls
   "clojure.lang." "clojure.core$" "clojure.core.protocols$" "java.lang.Thread.getStackTrace"])

(def ^:private machinery-prefixes
  "Frames that say the code above them ran as a callback (an event loop, a
  pool thread, a future's completion), not as a call from user code."
  ["io.vertx." "io.netty." "java.util.concurrent." "java.lang.Thread" "java.lang.VirtualThread"
   "jdk.internal."])

(defn- frame-name ^String [^StackTraceElement f]
  (str (.getClassName f) "." (.getMethodName f)))

(defn- internal-frame? [^StackTraceElement f]
  (let [n (frame-name f)] (boolean (some #(.startsWith n ^String %) internal-prefixes))))

(defn caller-frames
  "The frames of `frames` from the first one that is not Vireo's (nor the
  Clojure calls between Vireo's functions), or nil when there is none or
  the first such frame is thread machinery (an event loop, a pool, a
  future's callback): then the code that called Vireo is not on this stack."
  [frames]
  (let [fs (drop-while internal-frame? frames)]
    (when-let [^StackTraceElement f (first fs)]
      (when-not (some #(.startsWith (frame-name f) ^String %) machinery-prefixes)
        (into-array StackTraceElement fs)))))

(defn at-caller
  "Given an error about to be thrown synchronously to Vireo's caller (a sync
  call's failure, completed on another thread), returns it with its stack
  trace replaced by the calling thread's, from the caller's frame on; the
  frames where it was raised are kept as a suppressed
  Throwable with the message \"vireo: raised at\" (added once). Unchanged when the
  calling stack has no caller frame (a callback) or e is not an ex-info."
  [^Throwable e]
  (when-let [^objects frames (and (instance? clojure.lang.ExceptionInfo e)
                                  (caller-frames (.getStackTrace (Thread/currentThread))))]
    (let [^objects own (.getStackTrace e)
          n (alength frames)
          from (- (alength own) n)]
      ;; raised on this thread, within this call: the caller's frames are
      ;; already the end of its own (and err/error trimmed Vireo's off the top)
      (when-not (and (>= from 0)
                     (java.util.Arrays/equals own (int from) (alength own) frames 0 n))
        (when-not (some #(= "vireo: raised at" (.getMessage ^Throwable %)) (.getSuppressed e))
          (.addSuppressed e (doto (Throwable. "vireo: raised at") (.setStackTrace own))))
        (.setStackTrace e ^"[Ljava.lang.StackTraceElement;" frames))))
  e)

(defn error
  "Builds an ex-info of `type` with message `msg` and data `data` (and
  `cause`). Built on the caller's thread (a refused argument, a validation
  error), its stack trace starts at the frame that called Vireo, not in
  Vireo; built in a callback (an event loop, a completion), it keeps every
  frame."
  ([type msg] (error type msg nil nil))
  ([type msg data] (error type msg data nil))
  ([type msg data cause]
   (let [^Throwable e (ex-info msg (assoc data :type type) cause)]
     (when-let [frames (caller-frames (.getStackTrace e))]
       (.setStackTrace e ^"[Ljava.lang.StackTraceElement;" frames))
     e)))

;; ---------------------------------------------------------------- bounded values
;; An error's message and data carry the statement's values so that a
;; failure can be understood, but a refused value may be megabytes (a
;; 10 MB text in a column too small): every logger would write it whole.
;; What errors carry is cut to a bounded size, the same in the message and
;; in the ex-data.
(def ^:private max-chars 200)
(def ^:private max-params 100)
(def ^:private max-sql-chars 4000)

(defn- cut [^String s limit what]
  (let [n (count s)]
    (if (> n (long limit)) (str (subs s 0 limit) "…(" n " " what ")") s)))

(defn bounded
  "The value itself when it is small, else a string showing its start and
  its size: strings over 200 characters, byte arrays and Vert.x buffers over
  64 bytes, collections printing to over 200 characters."
  [v]
  (cond
    (string? v) (cut v max-chars "characters")
    (bytes? v) (if (> (alength ^bytes v) 64) (str "#bytes[" (alength ^bytes v) "]") v)
    (instance? io.vertx.core.buffer.Buffer v)
    (let [n (.length ^io.vertx.core.buffer.Buffer v)] (if (> n 64) (str "#buffer[" n " bytes]") v))
    (coll? v) (let [s (pr-str v)] (if (> (count s) max-chars) (cut s max-chars "characters printed") v))
    :else v))

(defn bounded-params
  "The parameters of a statement, each `bounded`, at most 100 of them (then a
  string saying how many there were)."
  [params]
  (let [ps (vec params)]
    (cond-> (mapv bounded (subvec ps 0 (min (count ps) max-params)))
      (> (count ps) max-params) (conj (str "…(" (count ps) " parameters)")))))

(defn bounded-sql "A statement's SQL cut to 4000 characters." [sql]
  (if (string? sql) (cut sql max-sql-chars "characters") sql))

;; ---------------------------------------------------------------- driver mapping
(defn answered-by-server?
  "True when `e` (a mapped Vireo error) is one the database server reported
  — it has a SQLSTATE or a non-zero vendor code — so the statement reached a
  live session: a ROLLBACK failing that way leaves no transaction open."
  [e]
  (let [d (ex-data e)
        code (:error-code d)]
    (boolean (or (:sql-state d) (and (number? code) (not (zero? (long code))))))))

(defn not-sent?
  "True for the Vert.x failure of a command scheduled on a connection that had
  already closed (e.g. killed by the server): the statement never reached the
  database, so running it again on another connection is safe."
  [^Throwable e]
  (and (instance? io.vertx.core.VertxException e)
       (some-> (.getMessage e) (.startsWith "Connection is not active now"))))

(defn- ssl-failure
  "The javax.net.ssl.SSLException of a TLS failure (Netty wraps it in a
  DecoderException), or nil."
  [^Throwable e]
  (loop [t e depth 0]
    (cond (nil? t) nil
          (instance? javax.net.ssl.SSLException t) t
          (< depth 3) (recur (.getCause t) (inc depth))
          :else nil)))

(defn sqlstate->type
  "SQLSTATE (standard SQL; PostgreSQL's and MySQL's generic states) -> Vireo
  type, or nil."
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
      ;; read_only_sql_transaction: a write in a READ ONLY transaction or on a hot standby
      "25006" :vireo/read-only
      ;; invalid_catalog_name: the database named at connect does not exist
      "3D000" :vireo/connection-error
      (case (subs state 0 2)
        ;; connection exception; invalid authorization specification
        ("08" "28") :vireo/connection-error
        "23" :vireo/integrity-error
        "22" :vireo/data-error
        "42" :vireo/programming-error
        "0A" :vireo/not-supported
        ("53" "57" "58" "40" "25" "55") :vireo/operational-error
        "XX" :vireo/internal-error
        :vireo/database-error))))

;; Each backend namespace registers how its driver's exceptions read
;; ({:type :message :sql-state …} or nil), when it loads: the drivers are
;; optional, so this namespace names none of their classes.
(defonce ^:private driver-mappers (atom {}))

(defn register-driver-errors!
  "Registers (f throwable) -> error info or nil, the mapping of one driver's
  exceptions, under `kind` (a backend kind; re-registering replaces it)."
  [kind f]
  (swap! driver-mappers assoc kind f)
  nil)

(defn- driver-info
  "Given a driver exception, returns {:type … :message … :sql-state … :error-code …}
  or nil when it is not a database error."
  [^Throwable e]
  (or
   (some (fn [f] (f e)) (vals @driver-mappers))
   (cond
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

    ;; before SocketException, its parent: the server was never reached
    (instance? java.net.ConnectException e)
    {:type :vireo/connection-error
     :message (str "could not connect to the database server: " (.getMessage e))}

    (instance? java.net.UnknownHostException e)
    {:type :vireo/connection-error
     :message (str "could not connect to the database server: unknown host " (.getMessage e))}

    (instance? java.net.SocketException e)
    {:type :vireo/connection-error :message (str "connection lost: " (.getMessage e))}

    (ssl-failure e)
    {:type :vireo/connection-error
     :message (str "could not connect to the database server: the TLS handshake failed ("
                   (.getMessage ^Throwable (ssl-failure e)) ")")}

    ;; the PostgreSQL client reports a failed handshake without its cause
    (and (instance? io.vertx.core.VertxException e) (= "SSL handshake failed" (.getMessage e)))
    {:type :vireo/connection-error
     :message (str "could not connect to the database server: the TLS handshake failed (the driver gives"
                   " no detail: check the CA, that the server's certificate names the host connected to,"
                   " and the client certificate)")}

    (instance? java.util.concurrent.TimeoutException e)
    {:type :vireo/timeout :message (str "timed out: " (.getMessage e))}

    (not-sent? e)
    {:type :vireo/connection-error
     :message (str "the connection was closed (" (.getMessage e) ")")}

    ;; the pool's acquire timeout: for a statement on the pool, and for
    ;; getConnection (aio-atomic, aio-connection)
    (or (and (instance? io.vertx.core.VertxException e)
             (= "Timeout waiting for connection" (.getMessage e)))
        (and (instance? io.vertx.core.impl.NoStackTraceThrowable e) (= "Timeout" (.getMessage e))))
    {:type :vireo/timeout
     :message "timed out waiting for a pooled connection (all in use for longer than :connection-timeout)"}

    ;; MariaDB: commands queued on a connection the server killed; the
    ;; pool's "Connection was closed" (a new connection closed before use)
    (and (instance? io.vertx.core.VertxException e)
         (some-> (.getMessage e) (as-> m (or (.contains ^String m "connection has been closed")
                                             (= m "Connection was closed")))))
    {:type :vireo/connection-error :message (str "the connection was closed (" (.getMessage e) ")")}

    ;; Vert.x 5.0.7's pool, running another waiter's acquire timeout on this
    ;; thread (vertx-sql-client#1567): this acquisition's fate is unknown
    (and (instance? IllegalStateException e) (= "Promise already completed" (.getMessage e)))
    {:type :vireo/connection-error
     :message (str "the connection pool failed while handing out a connection (Vert.x 5.0.7's race between an"
                   " acquire timeout and a returned connection, vertx-sql-client#1567); nothing was sent")}

    ;; PostgreSQL: a parameter of a class the column's type cannot take
    ;; (a string compared with a BIGINT column)
    (and (instance? io.vertx.core.VertxException e)
         (some-> (.getMessage e) (.contains "can not be coerced")))
    {:type :vireo/data-error :message (str "a parameter does not fit its column's type: " (.getMessage e))}

    ;; "Connection reset by peer" and other I/O failures of the socket
    ;; (Netty's native transport throws plain IOExceptions)
    (instance? java.io.IOException e)
    {:type :vireo/connection-error :message (str "connection lost: " (.getMessage e))}

    (instance? io.vertx.core.http.ConnectionPoolTooBusyException e)
    {:type :vireo/operational-error :message (str "connection pool too busy: " (.getMessage e))})))

(defn map-error
  "Given a Throwable raised while running `sql` with `params`, returns the
  Throwable to surface: driver errors become `ex-info` of a Vireo `:type`
  (with the driver's exception as cause and `:sql`/`:params` in the data);
  Vireo errors gain `:sql`/`:params` when they lack them; anything else passes
  through unchanged. The SQL and parameters are `bounded` in both the message
  and the data."
  [^Throwable e sql params extra]
  (if (instance? clojure.lang.ExceptionInfo e)
    e
    (if-let [{:keys [type message] :as info} (driver-info e)]
      (let [sql (bounded-sql sql)
            params (bounded-params params)]
        (ex-info (str message "\nSQL: " sql "\nParams: " (pr-str params))
                 (merge (dissoc info :message)
                        {:type type :sql sql :params params :driver-message message}
                        extra)
                 e))
      e)))
