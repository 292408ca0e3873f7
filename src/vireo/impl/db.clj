(ns ^:no-doc vireo.impl.db
  "Databases: configuration, the lazily created Vert.x pool, statement
  execution with logging and error mapping, result decoding, and the
  allow-sync guard. The only namespace that talks to Vert.x SQL clients."
  (:require [clojure.string :as str]
            [clojure.tools.logging :as log]
            [clojure.tools.logging.impl :as log-impl]
            [vireo.impl.backend :as backend]
            [vireo.impl.errors :as err]
            [vireo.impl.types :as types]
            [vireo.impl.vertx :as vx]
            [vireo.promise :as p]
            [vireo.sql :as sql])
  (:import (io.vertx.core Vertx Context Future Completable)
           (clojure.lang Var)
           (io.vertx.sqlclient Pool SqlClient SqlConnection Row RowSet Tuple PropertyKind)
           (io.vertx.mysqlclient MySQLClient MySQLConnection)
           (io.vertx.jdbcclient JDBCPool)
           (java.util List)
           (java.util.concurrent CompletableFuture CompletionStage ConcurrentHashMap)
           (java.util.concurrent.atomic AtomicLong)))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- the record
;; kind    :postgres | :mysql | :sqlite
;; dialect the vireo.sql dialect keyword
;; config  atom of the merged options (defaults + URL + user map); init! sets it
;; state   atom {:status :new|:open|:closed :pool Pool :vertx Vertx :owns-vertx bool}
;; checked-out  AtomicLong of connections Vireo holds out of the pool right now
;; allow-sync   atom boolean: set-allow-sync!
;; override     atom: nil, or the connection level every operation without an
;;              explicit handle or task context uses (vireo.testing's test case)
;; held         ConcurrentHashMap connection -> acquisition info, only with
;;              :leak-detection-threshold
(defrecord Database [kind dialect config state ^AtomicLong checked-out allow-sync override ^ConcurrentHashMap held])

(defn options "The database's merged options." [db] @(:config db))

(defn describe [db] (backend/describe (:kind db) (options db)))

(defmethod print-method Database [db ^java.io.Writer w]
  (.write w (str "#vireo/database \"" (describe db) "\"")))

(defn database? [x] (instance? Database x))

(defn- missing-name
  "nil when the options name a database, else the problem."
  [kind opts]
  (if (= kind :sqlite)
    (when-not (and (string? (:path opts)) (seq (:path opts)))
      "a SQLite database needs a file path (or \":memory:\")")
    (when-not (seq (str (:database opts)))
      (str "a " (name kind) " database needs a database name (:database, or the URL path)"))))

(defn- merged [kind opts]
  (backend/check-options kind opts)
  (cond-> (merge (backend/defaults kind) (dissoc opts :url))
    ;; :returning nil means "detect", like no option at all
    (nil? (:returning opts)) (dissoc :returning)
    (some? (:returning opts)) (update :returning set)))

(defn make-database
  "Given a backend kind and an options map, returns a Database (no connection
  is opened). Without a database name it is *deferred*: using it fails with a
  clear error until `init!` gives the name."
  [kind opts]
  (let [opts (merged kind opts)]
    (->Database kind kind (atom opts) (atom {:status :new}) (AtomicLong.)
                (atom (boolean (:allow-sync opts))) (atom nil) (ConcurrentHashMap.))))

(defn init!
  "Completes (or changes) a database's options before it is connected:
  peewee's deferred initialisation. Returns the database."
  [db opts]
  (locking (:state db)
    (when (= :open (:status @(:state db)))
      (throw (err/error :vireo/interface-error
                        (str "cannot init " (describe db) " while it is connected; aio-close it first")
                        {})))
    (let [new-opts (merged (:kind db) (merge (dissoc (options db) :url) opts))]
      (when-let [problem (missing-name (:kind db) new-opts)]
        (throw (err/error :vireo/interface-error problem {:backend (:kind db)})))
      (reset! (:config db) new-opts)
      db)))

(defrecord DatabaseProxy [target])

(defmethod print-method DatabaseProxy [px ^java.io.Writer w]
  (.write w (str "#vireo/database-proxy " (if-let [t @(:target px)] (str "\"" (describe t) "\"") "<unbound>"))))

(defn proxy? [x] (instance? DatabaseProxy x))

(defn make-proxy [] (->DatabaseProxy (atom nil)))

(defn resolve-proxy [px]
  (or @(:target px)
      (throw (err/error :vireo/interface-error
                        "the database proxy is not initialized; call (vireo.core/initialize-proxy! proxy db) first"
                        {}))))

(defn from-url [url opts]
  (let [[kind url-opts] (backend/parse-url url)]
    (make-database kind (merge url-opts opts))))

;; ---------------------------------------------------------------- lifecycle
(declare detect-capabilities)

(defn- open!
  "Opens the pool unless it is open; returns it. Without a :vertx option the
  pool runs on the shared Vert.x (vireo.impl.vertx), held until `close`.
  `own-vertx`: a shared instance the caller acquired for this pool (connect's
  MySQL read), kept by the pool or else released here."
  ([db] (open! db nil))
  ([db own-vertx]
   (let [held (volatile! own-vertx)]
     (try
       (locking (:state db)
         (let [st @(:state db)
               opts (options db)]
           (when-let [problem (missing-name (:kind db) opts)]
             (throw (err/error :vireo/interface-error
                               (str "Error, database must be initialized before creating a connection pool: "
                                    problem "; call (vireo.core/init! db {…})")
                               {:backend (:kind db)})))
           (if (= :open (:status st))
             (:pool st)
             (let [user-vertx (:vertx opts)
                   vertx (or user-vertx @held (vreset! held (vx/acquire!)))
                   pool (backend/make-pool (:kind db) opts vertx)
                   pipelined (when (:pipelining opts) (backend/make-pipelined-client (:kind db) opts vertx))]
               (reset! (:state db) {:status :open :pool pool :pipelined pipelined
                                    :vertx vertx :owns-vertx (nil? user-vertx)
                                    :caps (detect-capabilities db pool)})
               (when-not user-vertx (vreset! held nil))
               pool))))
       (finally
         ;; not kept by an open pool: already open, a :vertx option, or a throw
         (some-> ^io.vertx.core.Vertx @held vx/release!))))))

(defn pool
  "Returns the database's pool, creating it on first use. After aio-close the
  pool stays closed (peewee-async semantics): this throws :vireo/pool-closed
  until aio-connect is called."
  ^Pool [db]
  (let [st @(:state db)]
    (case (:status st)
      :open (:pool st)
      :new (open! db)
      :closed (throw (err/error :vireo/pool-closed
                                (str "the database " (describe db)
                                     " is closed; call (vireo.core/aio-connect db) to reopen it")
                                {:database (describe db)})))))


(defn- driver-future
  "A Vireo future of (ok value) for the Vert.x future (start) returns, failing
  with (fail e) when it fails or start throws: one listener on the driver's
  future, no intermediate CompletableFuture."
  [start ok fail]
  (let [r (p/promise)]
    (try
      (.onComplete ^Future (start)
                   ^Completable
                   (fn [v e]
                     (try
                       (if (nil? e) (.complete r (ok v)) (.completeExceptionally r (fail e)))
                       (catch Throwable t (.completeExceptionally r t)))))
      (catch Throwable t (.completeExceptionally r (fail t))))
    r))

;; ---------------------------------------------------------------- capabilities
;; What the server behind a database can do is data of the database, read
;; from the server when its pool opens (aio-connect waits for it; a pool
;; opened lazily by its first statement reads it then, and the operations
;; that depend on it wait for the answer). Only RETURNING depends on it so
;; far. The :returning option forces the set (no detection for it).

(def all-returning
  "Every statement kind that may carry RETURNING."
  #{:insert :update :delete})

(defn- version-numbers
  "\"10.11.19-MariaDB-0+deb12u1\" -> [10 11 19]; MariaDB's replication
  prefix \"5.5.5-\" is skipped. nil when there is no number."
  [^String s]
  (let [s (str/replace (str s) #"^5\.5\.5-" "")]
    (when-let [[_ a b c] (re-find #"^(\d+)(?:\.(\d+))?(?:\.(\d+))?" s)]
      (mapv #(if % (parse-long %) 0) [a b c]))))

(defn- at-least? [v want] (and v (not (neg? (compare v want)))))

(defn server-capabilities
  "Given a backend kind and the server's version string (MySQL/MariaDB:
  SELECT VERSION(); SQLite: sqlite_version(); PostgreSQL: ignored), returns
  {:returning #{kinds} :server \"name version\"}. MariaDB >= 10.5: INSERT and
  DELETE … RETURNING (no UPDATE … RETURNING); MySQL: none; SQLite >= 3.35:
  all; PostgreSQL: all."
  [kind ^String version]
  (case kind
    :postgres {:returning all-returning :server (str "PostgreSQL" (when version (str " " version)))}
    :mysql (let [maria? (str/includes? (str/lower-case (str version)) "mariadb")
                 v (version-numbers version)
                 label (str (if maria? "MariaDB " "MySQL ") (str/join "." v))]
             {:returning (if (and maria? (at-least? v [10 5 0])) #{:insert :delete} #{})
              :server label})
    :sqlite (let [v (version-numbers version)]
              {:returning (if (at-least? v [3 35 0]) all-returning #{})
               :server (str "SQLite " (str/join "." v))})))

(def ^:private detect-sql
  {:mysql "SELECT VERSION(), @@auto_increment_increment"
   :sqlite "SELECT sqlite_version()"})

(defn- with-option
  "The detected capabilities with the user's :returning option in force."
  [caps opts]
  (if (contains? opts :returning)
    (assoc caps :returning (:returning opts) :returning-source :option)
    (assoc caps :returning-source :detected)))

(defn- detect-capabilities
  "Future of the capabilities of the server behind `pool`: {:returning #{…}
  :server \"MariaDB 10.11.19\" :returning-source :detected|:option} plus, on
  MySQL/MariaDB, :auto-increment-increment (the step between the ids of one
  multi-row INSERT). PostgreSQL needs no query."
  [db ^Pool pool]
  (let [kind (:kind db)
        opts (options db)]
    (if-let [q (detect-sql kind)]
      (driver-future #(.execute (.query pool ^String q))
                     (fn [^RowSet rs]
                       (let [^Row row (.next (.iterator rs))
                             caps (server-capabilities kind (str (.getValue row (int 0))))]
                         (with-option (cond-> caps
                                        (= kind :mysql) (assoc :auto-increment-increment
                                                               (long (.getValue row (int 1)))))
                           opts)))
                     #(err/map-error % q [] {:database (describe db)}))
      (p/resolved (with-option (server-capabilities kind nil) opts)))))

(defn capabilities
  "Future of the database's capabilities (see `detect-capabilities`),
  opening the pool if it is not open. A detection that failed (server
  unreachable) is tried again."
  [db]
  (p/do
    (let [pl (pool db)
          st @(:state db)
          ^CompletableFuture f (:caps st)]
      (if (and f (not (.isCompletedExceptionally f)))
        f
        (let [f2 (detect-capabilities db pl)]
          (swap! (:state db) (fn [s] (if (identical? (:caps s) f) (assoc s :caps f2) s)))
          f2)))))

(defn capabilities-now
  "The database's capabilities when they are known already, else nil."
  [db]
  (let [^CompletableFuture f (:caps @(:state db))]
    (when (and f (.isDone f) (not (.isCompletedExceptionally f)))
      (.getNow f nil))))

(defn describe-returning
  "Why the database has the RETURNING kinds it has, for messages."
  [caps]
  (let [kinds (str/join ", " (map (comp str/upper-case name) (sort (:returning caps))))]
    (if (= :option (:returning-source caps))
      (str "its :returning option is " (pr-str (:returning caps)))
      (str (:server caps) " has RETURNING on " (if (seq kinds) kinds "no statement")))))

(defn connected? [db] (= :open (:status @(:state db))))

(defn- read-max-prepared-stmt-count
  "Future of MySQL/MariaDB's max_prepared_stmt_count (nil when it cannot be
  read), read on a short-lived connection of `vertx`."
  [db ^Vertx vertx]
  (let [opts (options db)]
    (-> (p/do (p/from-vertx (MySQLConnection/connect vertx (backend/mysql-connect-options (assoc opts :cache-prepared-statements false)))))
        (p/then (fn [^SqlConnection c]
                  (-> (p/from-vertx (.execute (.query c "SELECT @@GLOBAL.max_prepared_stmt_count")))
                      (p/map (fn [^RowSet rs] (let [v (.getValue ^Row (.next (.iterator rs)) (int 0))] (long v))))
                      (p/finally (fn [_ _] (.close c))))))
        (p/handle (fn [v _e] v)))))

(defn connect
  "Opens the pool if it is not open (idempotent, safe when called concurrently)
  and reads what the server can do (`capabilities`). On MySQL/MariaDB with
  the statement cache on, first reads the server's max_prepared_stmt_count
  so the pool's caches stay within it. Returns a future of nil."
  [db]
  (p/then
   (if (and (= :mysql (:kind db)) (= :new (:status @(:state db)))
            (:cache-prepared-statements (options db)) (not (:max-prepared-stmt-count (options db))))
     (let [own (when-not (:vertx (options db)) (vx/acquire!))]
       (p/then (read-max-prepared-stmt-count db (or (:vertx (options db)) own))
               (fn [n]
                 (locking (:state db)
                   (when (and n (= :new (:status @(:state db))))
                     (swap! (:config db) assoc :max-prepared-stmt-count n)))
                 (open! db own)
                 nil)))
     (p/do (open! db) nil))
   (fn [_] (p/map (capabilities db) (constantly nil)))))

(defn close
  "Closes the pool and releases the shared Vert.x it held (closed with its
  last user; an application's own :vertx is never closed). Idempotent.
  Returns a future of nil."
  [db]
  (let [st (locking (:state db)
             (let [st @(:state db)]
               (swap! (:state db) (fn [s] (if (= :open (:status s)) {:status :closed} s)))
               st))]
    (if (= :open (:status st))
      (let [^Pool pool (:pool st)]
        (-> (p/from-vertx (.close pool))
            (p/then (fn [_] (when-let [^SqlClient c (:pipelined st)] (p/from-vertx (.close c)))))
            ;; released exactly once per open, even when closing the pool failed
            (p/handle (fn [_ e]
                        (p/then (when (:owns-vertx st) (vx/release! (:vertx st)))
                                (fn [_] (when e (throw e))))))))
      (p/resolved nil))))

;; ---------------------------------------------------------------- connections
(defn- watch-for-leak
  "With :leak-detection-threshold ms, logs a warning with the acquirer's stack
  when a connection is still held after that long."
  [db conn ^Exception acquired-at ms]
  (let [^ConcurrentHashMap held (:held db)]
    (.put held conn acquired-at)
    (p/then (p/delay ms)
            (fn [_]
              (when (identical? acquired-at (.get held conn))
                (log/log "vireo.pool" :warn acquired-at
                         (str "possible connection leak: a connection of " (describe db)
                              " has been held for more than " ms " ms")))))))

(defn acquire
  "A future of a connection taken from the pool (counted as checked out).
  Failures (acquire timeout, closed pool) are mapped to Vireo errors."
  [db]
  (let [^AtomicLong n (:checked-out db)
        leak-ms (:leak-detection-threshold (options db))
        acquired-at (when leak-ms
                      (Exception. (str "connection acquired here, on thread " (.getName (Thread/currentThread)))))]
    (driver-future #(.getConnection (pool db))
                   (fn [c]
                     (.incrementAndGet n)
                     (when leak-ms (watch-for-leak db c acquired-at leak-ms))
                     c)
                   #(err/map-error % "<acquire a connection>" [] {:database (describe db)}))))

(defn release
  "Gives a connection back to the pool. Returns a future of nil."
  [db ^SqlConnection conn]
  (.decrementAndGet ^AtomicLong (:checked-out db))
  (.remove ^ConcurrentHashMap (:held db) conn)
  (p/from-vertx (.close conn)))

(defn checked-out [db] (.get ^AtomicLong (:checked-out db)))

;; ---------------------------------------------------------------- results
(def ^:private ^ConcurrentHashMap label-keys (ConcurrentHashMap.))

(defn label->key
  "Column label -> result key: snake_case labels become kebab-case keywords
  (the inverse of vireo.sql's identifier rule), cached."
  [^String label]
  (or (.get label-keys label)
      (let [k (keyword (str/replace label "_" "-"))]
        (.putIfAbsent label-keys label k)
        k)))

(defn column-shape
  "The default decoding shape for these column labels: a vector of
  [key decode-fn] by column index (kebab-case keyword keys, values
  normalised)."
  [labels]
  (let [shape (mapv (fn [l] [(label->key l) types/normalise-value]) labels)]
    ;; a repeated label (SELECT a.id, b.id): the last value wins, as with assoc
    (if (apply distinct? nil (map first shape)) shape (with-meta shape {::repeated-keys true}))))

(defn kvs->map
  "Given an array of alternating keys and values (keys distinct), returns the
  map holding them without copying (array map up to 8 entries)."
  [^objects kvs]
  (if (<= (alength kvs) 16)
    (clojure.lang.PersistentArrayMap. kvs)
    (clojure.lang.PersistentHashMap/create kvs)))

(defn row->map
  "One Row -> map by `shape`, a vector of [key decode-fn] by column index
  with distinct keys (`n` is (count shape))."
  ([^Row row shape] (row->map row shape (count shape)))
  ([^Row row shape ^long n]
   (let [kvs (object-array (* 2 n))]
     (loop [i 0]
       (when (< i n)
         (let [[k dec] (nth shape i)]
           (aset kvs (* 2 i) k)
           (aset kvs (inc (* 2 i)) (dec (.getValue row (int i))))
           (recur (inc i)))))
     (if (::repeated-keys (meta shape))
       (clojure.lang.PersistentArrayMap/createAsIfByAssoc kvs)
       (kvs->map kvs)))))

(defn owning-vector
  "A vector over the list's elements (no transient; up to 32 elements the
  array becomes the vector's tail)."
  [^java.util.Collection xs]
  (clojure.lang.LazilyPersistentVector/createOwning (.toArray xs)))

(defn row-mapper
  "A row function for streams: Row -> map by `shape`, or when shape is nil
  by the row's column labels like `rows->maps` (the shape is computed from
  the first row and kept: every row of one result has the same columns)."
  [shape]
  (if shape
    (let [n (count shape)] (fn [row] (row->map row shape n)))
    (let [cached (volatile! nil)]
      (fn [^Row row]
        (let [sh (or @cached
                     (vreset! cached (column-shape (mapv #(.getColumnName row (int %)) (range (.size row))))))]
          (row->map row sh (count sh)))))))

(defn rows->maps
  "RowSet -> vector of maps. `shape` is nil (keys from column labels, values
  normalised) or a vector of [key decode-fn] by column index."
  [^RowSet rs shape]
  (let [names ^List (.columnsNames rs)]
    (if (nil? names)
      []
      (let [shape (or shape (column-shape names))
            n (count shape)
            size (.size rs)
            it (.iterator rs)]
        (case size
          0 []
          1 [(row->map (.next it) shape n)]
          (let [out (java.util.ArrayList. size)]
            (while (.hasNext it) (.add out (row->map (.next it) shape n)))
            (owning-vector out)))))))

(defn first-row->map
  "RowSet -> its first row as a map by `shape` (see rows->maps), or nil."
  [^RowSet rs shape]
  (let [it (.iterator rs)]
    (when (.hasNext it)
      (let [shape (or shape (column-shape (.columnsNames rs)))]
        (row->map (.next it) shape (count shape))))))

(defn last-insert-id
  "The id generated by the last INSERT of this result, where the driver tells."
  [db ^RowSet rs]
  (case (:kind db)
    :mysql (.property rs MySQLClient/LAST_INSERTED_ID)
    :sqlite (when-let [^Row r (.property rs JDBCPool/GENERATED_KEYS)]
              (when (pos? (.size r)) (.getValue r (int 0))))
    nil))

;; ---------------------------------------------------------------- statement counting
;; toucan2's with-call-count: the statements an operation sends, counted so
;; N+1 patterns can be pinned down in tests. vireo.impl.context/execute reads
;; *call-counter* once per statement (when the operation starts, so the
;; binding conveyed by Vireo's futures counts) and counts it when it is sent;
;; transaction control (BEGIN/COMMIT/SAVEPOINT…) and the resend of a
;; statement that never reached the server are not counted; a stream is one.

(def ^:dynamic *call-counter*
  "nil, or the CallCounter the statements of the current task are counted in."
  nil)

(deftype CallCounter [^AtomicLong n parent])

(defn call-counter
  "A new counter. Created inside another counter's scope it is nested: what
  it counts is counted by the enclosing ones too."
  []
  (CallCounter. (AtomicLong.) *call-counter*))

(defn count-call!
  "Counts one statement in `c` (nil: nothing) and its enclosing counters."
  [c]
  (loop [^CallCounter c c]
    (when c
      (.incrementAndGet ^AtomicLong (.-n c))
      (recur (.-parent c)))))

(defn call-count
  "The number of statements counted in `c` so far."
  ^long [^CallCounter c]
  (.get ^AtomicLong (.-n c)))

(defn with-call-counter*
  "Calls (f) with statements counted in `c` (also those of async operations
  f starts: the binding is conveyed to their stages). Returns f's value."
  [c f]
  (binding [*call-counter* c] (f)))

(defn call-count*
  "Calls (f) with a new counter in force; future of [v n]: f's value (a
  returned future awaited) and the statements counted when it completed."
  [f]
  (let [c (call-counter)]
    (p/map (binding [*call-counter* c] (p/do (f)))
           (fn [v] [v (call-count c)]))))

;; ---------------------------------------------------------------- execution
(def ^:private sql-logger
  ;; [factory logger]: looking a logger up (e.g. JUL's LogManager) on every
  ;; statement costs more than the rest of the hot path, so cache it per factory
  (atom [nil nil]))

(defn- statement-logger []
  (let [factory log/*logger-factory*
        [f l] @sql-logger]
    (if (identical? f factory)
      l
      (let [l (log-impl/get-logger factory "vireo.sql")]
        (reset! sql-logger [factory l])
        l))))

(defn log-statement
  "Logs a statement and its parameters at DEBUG on logger `vireo.sql`."
  [sql params]
  (let [logger (statement-logger)]
    (when (log-impl/enabled? logger :debug)
      (log/log* logger :debug nil (pr-str [sql params])))))

(defn- read-statement?
  "True for a SELECT (what opt-in pipelining sends through the pipelined
  client when it runs outside any scope)."
  [^String sql]
  (.regionMatches sql true 0 "SELECT" 0 6))

(defn- settle-with!
  "Completes r with (f x), following it when f returns a future; a throw in
  f fails r."
  [^CompletableFuture r f x]
  (try
    (let [v (f x)]
      (if (instance? CompletionStage v)
        (vireo.impl.ConveyingFuture/listen ^CompletionStage v (vireo.promise.Relay. r))
        (.complete r v)))
    (catch Throwable t (.completeExceptionally r t))))

(defn- send-statement
  "The driver's future for one statement on `client`."
  ^Future [^SqlClient client ^String sql params]
  ;; Tuple/from copies: Vert.x's pg encoder writes converted values back
  ;; into the tuple, which a wrapped persistent vector cannot take
  (let [^List ps (if (instance? List params) params (vec params))]
    (.execute (.preparedQuery client sql) (Tuple/from ps))))

(declare statement-failed!)

;; Listens to the driver's future of one statement and completes r with
;; (f rowset), running f with the caller's binding frame (as a dependent stage
;; of a Vireo future would). One object per statement, no intermediate
;; CompletableFuture. `retry?`: the statement ran on the pool (no connection
;; of the caller's), so one that never reached a just-died connection may be
;; sent once more.
(deftype StatementListener [^CompletableFuture r f frame db sql params extra retry? ^CompletableFuture done]
  Completable
  (complete [_ rs e]
    ;; the scope's queue moves on first, as if this statement's future were
    ;; a stage after it (see vireo.impl.context/run-statement-at)
    (when done (.complete done nil))
    (let [prev (Var/getThreadBindingFrame)
          swap? (not (identical? prev frame))]
      (when swap? (Var/resetThreadBindingFrame frame))
      (try
        (if (nil? e)
          (settle-with! r f rs)
          (statement-failed! r f frame db sql params extra retry? e))
        (finally
          (when swap? (Var/resetThreadBindingFrame prev)))))))

(defn- statement-client
  "Where a statement runs: the caller's connection, else the pool (or the
  pipelined client, for a read, when pipelining is on)."
  ^SqlClient [db conn sql]
  (or conn
      (let [pl (pool db)]
        (or (when (read-statement? sql) (:pipelined @(:state db))) pl))))

(defn- listen! [^Future fut ^Completable l] (.onComplete fut l))

(defn- statement-failed! [^CompletableFuture r f frame db sql params extra retry? e]
  (if (and retry? (err/not-sent? e))
    ;; on the pool, a statement handed a connection that had just died (its
    ;; close not yet noticed) never ran: send it once more
    (try (listen! (send-statement (statement-client db nil sql) sql params)
                  (StatementListener. r f frame db sql params extra false nil))
         (catch Throwable t (statement-failed! r f frame db sql params extra false t)))
    (.completeExceptionally r (err/map-error e sql params (assoc extra :database (describe db))))))

(defn execute-raw
  "Runs `sql` with `params` on the raw SqlConnection `:conn` of opts, or on
  the pool. Returns a future of (f rowset) — the RowSet itself by default —
  in one stage: failures are mapped to Vireo errors carrying :sql, :params
  and `extra` (e.g. {:model \"PageBlock\"}), and a throw in f fails the future.
  (Connection scopes and handles are resolved one level up, in
  vireo.impl.context.)"
  ([db sql params opts] (execute-raw db sql params opts identity nil))
  ([db sql params {:keys [conn done]} f extra]
   (log-statement sql params)
   (let [r (p/promise)
         frame (Var/getThreadBindingFrame)]
     (try
       (listen! (send-statement (statement-client db conn sql) sql params)
                (StatementListener. r f frame db sql params extra (nil? conn) done))
       (catch Throwable t
         (when done (.complete ^CompletableFuture done nil))
         (statement-failed! r f frame db sql params extra false t)))
     r)))

(defn execute-control
  "Sends a transaction-control statement (BEGIN, COMMIT, SAVEPOINT …, no
  parameters) on the raw SqlConnection `conn` as a simple query, as Vert.x's
  own Transaction does: no prepared statement to look up or cache, and on
  PostgreSQL one Query message instead of Bind/Execute/Sync. Logged and
  mapped like every statement. Future of nil."
  [db ^SqlClient conn ^String sql]
  (log-statement sql [])
  (driver-future #(.execute (.query conn sql))
                 (constantly nil)
                 #(err/map-error % sql [] {:database (describe db)})))

(defn result-map
  "RowSet -> {:rows [maps] :row-count n :last-insert-id id}."
  [db ^RowSet rs]
  {:rows (rows->maps rs nil)
   :row-count (.rowCount rs)
   :last-insert-id (last-insert-id db rs)})

(defn format-query
  "Formats query data for this database's dialect."
  [db query]
  (sql/format query {:dialect (:dialect db)}))

