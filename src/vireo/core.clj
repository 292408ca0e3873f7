(ns vireo.core
  "Vireo: peewee-async's programming model for Clojure. Models are data,
  instances are plain maps, every `aio-` operation returns a
  `java.util.concurrent.CompletableFuture` running on a Vert.x 5 SQL pool, and
  synchronous queries are refused unless allowed.

  Databases
  - `postgresql-database`, `mysql-database`, `sqlite-database`, `database` (from a URL),
    `database-from-env`
  - `aio-connect`, `aio-close`, `connected?`, `checked-out`, `pool-options`, `pool-state`, `capabilities`
  - observability options :metrics, :tracing, :slow-query (docs/observability.md)
  - `init!` (deferred databases), `database-proxy`, `initialize-proxy!`
  - read replicas (the :replicas option): `with-route`, `with-own-writes`, `replicas`
  Models (docs/models.md)
  - `defmodel`, `model`, `register-model!`, `model?`, `table-name`, `fields`, `bind-database`,
    `instance`, `get-id`, `instance-model`, `datafiable` (REPL data tools: every instance
    datafies and navigates; a model's datafy is its data)
  Instance operations (take the model explicitly)
  - `aio-create`, `aio-get`, `aio-get-or-none`, `aio-get-or-create`, `aio-save`, `aio-delete-instance`
  Relations
  - `aio-fetch`, `aio-prefetch`, `through-model`, `aio-related`, `aio-add`, `aio-remove`, `aio-clear`
  Model queries (data; docs/queries.md)
  - `select`, `where`, `join`, `order-by`, `limit`, `offset`, `paginate`, `distinct`,
    `group-by`, `having`, `for-update`, `with-cte`, `as-maps`, `as-vectors`, `as-instances`
  - `union`, `union-all`, `intersect`, `except`
  - `insert`, `insert-many`, `insert-from`, `on-conflict`, `on-conflict-ignore`,
    `returning`, `as-rowcount`, `update`, `delete`, `raw`
  - `aio-execute`, `aio-count`, `aio-exists`, `aio-scalar`, `aio-peek`, `aio-first`
  - `with-call-count` (statements sent by a body), `aio-stream` (cursor, back-pressure),
    `aio-transduce` (a transducer over a stream, completed)
  Queries and SQL
  - `aio-execute` also runs plain query data (see vireo.sql); `aio-execute-sql` (raw SQL)
  Connections and transactions (the body is a fn of the handle; operations
  inside use it implicitly, or explicitly with {:connection handle})
  - `aio-connection`, `aio-atomic`, `aio-transaction`, `with-atomic`
  - `aio-begin`, `aio-savepoint`, `aio-commit`, `aio-rollback`, `in-transaction?`
  Schema
  - `aio-create-table`, `aio-drop-table`, `aio-create-tables`, `aio-drop-tables`
  - `aio-table-exists`, `aio-get-tables`, `aio-sequence-exists`,
    `aio-create-indexes`, `aio-drop-indexes`, `aio-truncate-table`
  Synchronous calls (only inside `with-allow-sync` or after `set-allow-sync!`)
  - `with-allow-sync`, `allow-sync*`, `set-allow-sync!`
  - the `vireo.sync` namespace: every aio- operation without the prefix,
    blocking (`(sync/get PageBlock {:key \"title\"})`)
  - `create-table!`, `drop-table!`, `execute!`, `execute-sql!` (the same mechanism)
  Errors
  - `error-type`, `error-type?` (types form a hierarchy under :vireo/error)"
  (:refer-clojure :exclude [update distinct group-by])
  (:require [vireo.impl.protocols :as proto]
            [vireo.impl.cancel :as cancel]
            [vireo.impl.context :as ctx]
            [vireo.impl.datafy :as datafy]
            [vireo.impl.db :as db]
            [vireo.impl.errors :as err]
            [vireo.impl.executor :as ex]
            [vireo.impl.instance :as instance]
            [vireo.impl.model :as model]
            [vireo.impl.ops :as ops]
            [vireo.impl.query :as q]
            [vireo.impl.registry :as registry]
            [vireo.impl.relations :as rel]
            [vireo.impl.routing :as routing]
            [vireo.impl.schema :as schema]
            [vireo.impl.sync :as sync]
            [vireo.promise :as p]))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- databases
(defn- server-database [kind label url-or-opts opts]
  (if (string? url-or-opts)
    (let [d (db/from-url url-or-opts opts)]
      (when-not (= kind (:kind d))
        (throw (err/error :vireo/interface-error (str "not a " label " URL: " url-or-opts) {})))
      d)
    (db/make-database kind (merge url-or-opts opts))))

(defn postgresql-database
  "Given a URL string (\"postgresql://user:pass@host:port/db\") or an options
  map, returns a PostgreSQL database. No connection is opened: the pool is
  created on first use.

  Options (all optional but :database):
  - :host (\"127.0.0.1\"), :port (5432), :database, :user (\"postgres\"), :password
  - :hosts [\"h1:5432\" \"h2:5432\"] (servers in order) with :target-server-type
    :any (default) | :primary | :standby | :prefer-standby: checked for each
    new connection, so a pool follows a failover (docs/deployment.md)
  - :password-fn instead of :password: (fn []) giving the password (or a
    future of it) for each new connection: rotating passwords, IAM tokens
  - pool: :max-size (10), :max-wait-queue-size, :idle-timeout, :connection-timeout,
    :max-lifetime (milliseconds), :event-loop-size
  - :cache-prepared-statements (true), :prepared-statement-cache-max-size (256),
    :pgbouncer (true, for transaction-mode poolers: no named statements,
    Vert.x in proxy mode, only the startup parameters pgbouncer accepts),
    :properties (startup parameters), :application-name
  - TLS: :ssl-mode (:disable by default, :allow, :prefer, :require, :verify-ca,
    :verify-full: libpq's sslmode), :ssl-root-cert (the CA's PEM file) or
    :ssl-trust-store (.p12/.pfx/.jks) with :ssl-trust-store-password,
    :ssl-cert and :ssl-key (a client certificate, PEM). The verify modes
    without a CA use the JVM's trust store; :require/:prefer/:allow without
    one do not verify the server (logged as a warning). See docs/deployment.md.
  - URL parameters, each honoured or refused by name: sslmode, sslrootcert,
    sslcert, sslkey, application_name, host, port, dbname, user, password,
    pgbouncer, target_session_attrs; several hosts as h1:p1,h2:p2:
    \"postgresql://app@db1,db2/app?target_session_attrs=primary&sslmode=verify-full&sslrootcert=/etc/ca.pem\"
  - :pipelining (false): reads (SELECT) outside any transaction or
    connection scope go through a pipelined client — up to :pipelining-limit
    (256) queries in flight per connection over :pipelining-max-size
    (default :max-size) connections of its own; MySQL/MariaDB too
  - :vertx your application's Vert.x instance to run on (Vireo never closes
    it); without it the pool runs on the one Vert.x Vireo shares between its
    databases (daemon threads: see `aio-close`)
  - :allow-sync (false) the database-wide sync permission
  - :statement-timeout ms: the server cancels a statement running longer
    (statement_timeout; MariaDB max_statement_time): :vireo/timeout
  - :transaction-timeout ms: the default {:timeout ms} of every outermost
    aio-atomic / aio-transaction (its running statement is cancelled on the
    server, it rolls back: :vireo/timeout); every backend
  - :init-sql \"SET …\" or [\"SET …\" …]: run on every new pooled connection
    before it is used (session settings); a failing one fails the
    acquisition with its error (every backend)
  - read replicas: :replicas [url-or-options …] (each takes the primary's
    options but where its server is); reads outside any scope (a SELECT
    without FOR UPDATE/SHARE) go to a replica, everything else to the
    primary; :replica-strategy :round-robin (default) | :least-busy;
    :read-your-writes-ms (reads stay on the primary that long after a write;
    see `with-own-writes`); :replica-retry-ms (5000: how long a replica that
    failed is skipped, its reads going to the others or the primary). An
    operation's {:route :primary} (or :replica) and `with-route` choose.
    See docs/deployment.md.

      (postgresql-database {:database \"app\" :max-size 16})
      (postgresql-database \"postgresql://app@db-primary/app\"
                           {:replicas [\"postgresql://app@db-replica/app\"] :read-your-writes-ms 2000})"
  ([url-or-opts] (postgresql-database url-or-opts {}))
  ([url-or-opts opts]
   (server-database :postgres "PostgreSQL" url-or-opts opts)))

(defn mysql-database
  "Like `postgresql-database`, for MySQL / MariaDB (\"mysql://root@127.0.0.1:3306/db\").
  Defaults: :port 3306, :user \"root\", :charset \"utf8mb4\", :collation \"utf8mb4_bin\".
  TLS, several-host (:hosts, :target-server-type: a standby has
  @@global.read_only on) and read-replica options as PostgreSQL's, :ssl-mode one of :disable
  :prefer :require :verify-ca :verify-full (MySQL's DISABLED …
  VERIFY_IDENTITY accepted). URL
  parameters: ssl-mode (or sslmode), ssl-ca, ssl-cert, ssl-key, charset,
  collation, host, port, user, password, target-server-type."
  ([url-or-opts] (mysql-database url-or-opts {}))
  ([url-or-opts opts]
   (server-database :mysql "MySQL" url-or-opts opts)))

(defn sqlite-database
  "Given a file path (a string, File or Path; or \":memory:\") and options,
  returns a SQLite database.
  Every pooled connection gets WAL journaling, a busy timeout and foreign keys
  on. Options: :max-size (4), :busy-timeout (5000 ms), :journal-mode (\"WAL\"),
  :foreign-keys (true), :synchronous (\"NORMAL\"), :vertx, :allow-sync.

      (sqlite-database \"app.db\")"
  ([path] (sqlite-database path {}))
  ([path opts] (db/make-database :sqlite (cond-> opts
                                           path (assoc :path (if (or (instance? java.io.File path)
                                                                     (instance? java.nio.file.Path path))
                                                               (str path)
                                                               path))))))

(defn database
  "Given a URL (postgresql://…, postgres://…, mysql://…, mariadb://…,
  sqlite:path) and options, returns the matching database. Options given
  win over the URL's. Query parameters are each honoured or refused by name
  (see `postgresql-database`, `mysql-database`; SQLite: busy_timeout,
  journal_mode, foreign_keys, synchronous)."
  ([url] (database url {}))
  ([url opts] (db/from-url url opts)))

(defn database-from-env
  "The database the environment names, for twelve-factor deployments: the
  URL in VIREO_DATABASE_URL (anything `database` takes), else a PostgreSQL
  database from libpq's variables when PGHOST or PGDATABASE is set (PGHOST,
  PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE, PGSSLROOTCERT,
  PGSSLCERT, PGSSLKEY, PGAPPNAME). Options given win over the environment.
  Throws a :vireo/interface-error naming the variables when none is set.

      (database-from-env {:max-size 16})"
  ([] (database-from-env {}))
  ([opts] (db/from-env (System/getenv) opts)))

(defn database?
  "True when x is a Vireo database."
  [x] (db/database? x))

(defn init!
  "Completes a deferred database (one created without a database name or
  path), or changes its options, before it is connected. Until then, using it
  fails with :vireo/not-initialized (an :vireo/interface-error). Returns the database.

      (def db (postgresql-database {}))            ; deferred
      (init! db {:database \"app\" :host \"db\"})"
  [db opts] (db/init! db opts))

(defn database-proxy
  "Returns an unbound database proxy: models can name it as their :database
  and be defined before the real database is known (peewee's Proxy)."
  [] (db/make-proxy))

(defn initialize-proxy!
  "Binds a proxy to a database; returns the proxy."
  [proxy db]
  (when-not (db/database? db)
    (throw (err/error :vireo/interface-error (str "initialize-proxy! needs a database, got " (pr-str db)) {})))
  (reset! (:target proxy) db)
  proxy)

(defn aio-connect
  "Opens the database's pool if it is not open. Idempotent and safe to call
  concurrently (one pool). Also reopens a database closed by `aio-close`.
  Returns a future of nil."
  [db] (p/do (db/connect (ops/database-of db))))

(defn aio-close
  "Closes the pool. Idempotent. Queries fail with :vireo/pool-closed until
  `aio-connect`. Future of nil.

  Databases without a :vertx option share one Vert.x instance per JVM,
  created when the first of their pools opens and closed when the last one
  closes (a later one gets a fresh instance); its threads are daemon
  threads, so forgetting aio-close never keeps the JVM from exiting, and a
  shutdown hook closes what is still open at exit (waiting at most 5 s). A
  :vertx given by the application is never closed."
  [db] (p/do (db/close (ops/database-of db))))

(defn connected?
  "True when the database's pool exists and is open."
  [db] (db/connected? (ops/database-of db)))

(defmacro with-route
  "Runs body with the reads it starts (and the async work it starts, Vireo's
  futures convey it) sent to `route`: :primary, or :replica (a replica even
  within a read-your-writes window). An operation's own {:route …} wins;
  inside a transaction or connection scope everything runs on the scope's
  connection. Without replicas both run on the one server.

      (with-route :primary (aio-get Account {:id 1}))"
  [route & body]
  `(routing/with-route* ~route (fn [] ~@body)))

(defmacro with-own-writes
  "Runs body with its own read-your-writes window: its reads stay on the
  primary for :read-your-writes-ms after a write *of this body* (or of the
  async work it starts), instead of after any write through the database —
  one request's writes then do not pin every other request's reads to the
  primary.

      (with-own-writes
        (p/let [_ (aio-create Account {:id 7})]
          (aio-get Account {:id 7})))      ; the primary: sees the row"
  [& body]
  `(routing/with-own-writes* (fn [] ~@body)))

(defn replicas
  "The read replicas of a database and their state now:
  [{:server \"postgres://app@replica:5432/app\" :up true :in-flight 0} …]
  (:up false: it failed and is skipped for :replica-retry-ms)."
  [db] (routing/status (ops/database-of db)))

(defn checked-out
  "The number of connections Vireo holds out of the pool right now (sync
  blocks, explicit connections). Zero when nothing leaks."
  [db] (db/checked-out (ops/database-of db)))

(defn pool-options
  "The pool settings in force — the options in force with Vert.x's defaults
  for those not given (-1 max-wait-queue-size: unbounded; 0 idle-timeout /
  max-lifetime: none) — :statement-cache-size (the prepared statements
  cached per connection, 0: off; on MySQL/MariaDB bounded by the server's
  max_prepared_stmt_count, see docs/backends.md), and the live numbers of
  the pool now (:size :in-use :idle :waiting, see `pool-state`).

      (pool-options db)
      ;=> {:max-size 10 :max-wait-queue-size -1 :idle-timeout 0 :connection-timeout 30000
      ;    :max-lifetime 0 :event-loop-size 0 :pool-cleaner-period 1000
      ;    :statement-cache-size 256 :size 2 :in-use 0 :idle 2 :waiting 0}"
  [db]
  (let [d (ops/database-of db)]
    (merge (db/pool-settings d)
           (select-keys (db/pool-state d) [:size :in-use :idle :waiting]))))

(defn pool-state
  "The live state of the database's pool, read now:

      {:database \"postgresql://app@db:5432/app\" :backend :postgres :open true
       :max-size 10
       :size 3            ; connections open in the pool
       :in-use 1          ; of them, handed out (a statement, a transaction, a scope)
       :idle 2            ; open and free
       :waiting 0         ; acquirers waiting for a connection
       :checked-out 1     ; held by scopes (aio-connection, transactions, sync blocks): `checked-out`
       :acquired 1520     ; connections handed out since the database was made
       :acquire-timeouts 0
       :acquire-ms {:p50 0.02 :p95 0.3 :p99 1.1 :max 4.0}  ; the last 1024 acquisitions (nil before any)
       :connections-opened 3 :connections-closed 0
       :connections-failed 0   ; acquisitions failed for another reason than a timeout
       :replicas [{…the same for each read replica…}]}  ; with :replicas only

  Vireo counts these itself as it takes and gives back connections (a few
  atomic increments per statement); the pipelined client's connections
  (:pipelining) are not included."
  [db]
  (let [d (ops/database-of db)
        reps (db/replicas d)]
    (cond-> (db/pool-state d)
      (seq reps) (assoc :replicas (mapv #(db/pool-state (:db %)) reps)))))

(defn capabilities
  "Future of what the server behind the database can do, as Vireo detected
  it when the pool opened (opening it if needed; after `aio-close` this
  fails with :vireo/pool-closed until `aio-connect`):

      {:server \"MariaDB 10.11.19\"            ; name and version, as detected
       :returning #{:insert :delete}          ; statement kinds that may carry RETURNING
       :returning-source :detected}           ; or :option: the :returning database option forced it

  PostgreSQL: RETURNING on insert, update and delete; MariaDB >= 10.5:
  insert and delete; MySQL and older MariaDB: none; SQLite >= 3.35: all.
  See docs/backends.md.
      @(capabilities pg-db)  ;=> {:server \"PostgreSQL 15.19\" :returning #{:insert :update :delete} :returning-source :detected}"
  [db]
  (p/map (p/do (db/capabilities (ops/database-of db)))
         #(select-keys % [:server :returning :returning-source])))

;; ---------------------------------------------------------------- models
(defn- not-a-model
  "Names what was given where a model was expected, without printing it (a
  map or string could hold a password)."
  [x]
  (cond (nil? x) "nil"
        (db/database? x) "a database"
        (map? x) "a map that is not a model"
        :else (str "a " (.getName (class x)))))

(defn model
  "Given a name and a definition map, returns a model (plain data).

  Definition keys: :fields (a map, or a vector of name/spec pairs to fix the
  column order, of field specs), :database, :table (default: the lower-cased
  name). Field spec keys: :type (:char :text :integer :bigint :smallint
  :boolean :double :float :decimal :uuid :datetime :timestamptz :date :time
  :json :bytes :auto :big-auto), :column (default snake_case of the key),
  :null (false), :unique, :index, :default (a value or a no-argument fn),
  :primary-key, :max-length (:char, 255), :precision/:scale (:decimal).
  Without a :primary-key field an auto-increment :id comes first.

  A model is a value: equal definitions give `=` models with equal hashes,
  before and after they run queries (what Vireo caches per model is kept
  outside the value). `model` is pure: it registers nothing, so the models
  this one references do not learn of it (its backrefs for prefetch and
  recursive deletes, its many-to-many backrefs) until it is registered by
  `register-model!` — which `defmodel` does.

      (:table (model 'PageBlock {:fields {:key {:type :char}}}))  ;=> \"pageblock\""
  [model-name definition]
  (model/make-model model-name definition))

(defn register-model!
  "Given a model, makes it the known definition of its name for relations
  followed from the other side: the backrefs of its foreign keys (prefetch
  into the referenced model, `aio-delete-instance` with :recursive) and of
  its many-to-many fields (`aio-related` and friends on the target). The
  latest registered definition of a name wins (redefining a model at the
  REPL replaces it); registering the same model again changes nothing.
  `defmodel` calls it; call it for a model built with `model` that other
  models must know about. Returns the model.

      (def Book (register-model! (model 'Book {:fields {:author {:type :foreign-key :model Author}}})))"
  [m]
  (when-not (model/model? m)
    (throw (err/error :vireo/interface-error
                      (str "register-model! needs a model (from vireo.core/model), got " (not-a-model m))
                      {})))
  (registry/register-model! m))

(defmacro defmodel
  "Defines a var holding a model and registers it (see `register-model!`):
  `(def PageBlock (register-model! (model 'PageBlock {…})))`.

      (defmodel PageBlock
        {:database db
         :fields {:key  {:type :char :max-length 40 :unique true}
                  :text {:type :text :default \"\"}}})"
  [sym definition]
  `(def ~sym (register-model! (model '~sym ~definition))))

(defn model?
  "True when x is a model."
  [x] (model/model? x))

(defn table-name
  "The table a model maps to."
  [m] (:table m))

(defn fields
  "The model's field specs, in column order."
  [m] (:fields m))

(defn bind-database
  "Returns the model bound to another database (for tests, multi-tenant use):
  the same definition with another :database, so equal to
  `(assoc m :database db)`; it shares m's cached statements. Registers
  nothing."
  [m db]
  (when-not (model/model? m)
    (throw (err/error :vireo/interface-error (str "bind-database needs a model, got " (not-a-model m)) {})))
  (model/with-database m db))

;; ---------------------------------------------------------------- instance operations
;; ---------------------------------------------------------------- operation options
(def ^:private scope-option-keys #{:connection :route :timeout})

(defn- op-opts
  "`opts` of operation `fname` when every key is one it takes (:connection,
  :route and its `extra` keys), else a :vireo/interface-error naming the
  unknown ones, so no option is silently ignored. A `write?` operation
  refuses {:route :replica}: writes run on the primary."
  [fname opts extra write?]
  (cond
    (nil? opts) {}
    (not (map? opts)) (throw (err/error :vireo/interface-error
                                        (str fname " takes an options map, got " (pr-str opts)) {}))
    (zero? (count opts)) opts
    :else
    (let [unknown (remove #(or (contains? scope-option-keys %) (contains? extra %)) (keys opts))]
      (when (seq unknown)
        (throw (err/error :vireo/interface-error
                          (str "unknown option(s) " (clojure.string/join ", " (map pr-str unknown)) " for " fname
                               "; known: " (clojure.string/join ", " (map pr-str (sort (into scope-option-keys extra)))))
                          {:options (vec unknown)})))
      (when (and write? (= :replica (:route opts)))
        (throw (err/error :vireo/interface-error
                          (str fname " writes, so it runs on the primary: {:route :replica} is for reads")
                          {:option :route})))
      opts)))

(defn- without-timeout [opts]
  (if (contains? opts :timeout) (dissoc opts :timeout) opts))

(defn- scoped
  "Starts operation `fname` — (f opts) returns its future — in a
  cancellation scope (vireo.impl.cancel): cancelling the returned future
  cancels on the server what it is running, and with {:timeout ms} in
  `opts` it is cancelled when not complete in time, its future failing
  with :vireo/timeout. f gets opts without :timeout."
  [fname opts f]
  (cancel/run-op* fname (cancel/check-timeout (:timeout opts)) #(f (without-timeout opts))))

(defn- run-op
  "`scoped` for an operation whose `opts` are checked by `op-opts`."
  [fname opts extra write? f]
  (p/do (scoped fname (op-opts fname opts extra write?) f)))

(defn aio-create
  "Given a model and a map of field values, inserts a row. Future of the new
  instance: every field of the model (defaults applied) with the generated
  primary key filled in."
  ([m values] (aio-create m values {}))
  ([m values opts] (run-op "aio-create" opts #{} true #(instance/create m values %))))

(defn aio-get
  "Given a model and a filter — a primary-key value, a map of field values
  (equality, nil means IS NULL) or a where vector (`[:= :key \"x\"]`) —
  returns a future of the first matching instance, failing with
  :vireo/does-not-exist (naming the model and the filter) when none matches.
  Given a select query instead (and optional opts), future of its first row
  (LIMIT 1); the error then carries the SQL and parameters. A composite key
  is given as a vector of its values."
  ([m-or-query] (ops/get-query m-or-query {} true))
  ([m filter] (if (q/query? m) (ops/get-query m filter true) (aio-get m filter {})))
  ([m filter opts] (run-op "aio-get" opts #{} false #(ops/get-one m filter %))))

(defn aio-get-or-none
  "Like `aio-get` (also for a query), but the future yields nil when nothing
  matches."
  ([m-or-query] (ops/get-query m-or-query {} false))
  ([m filter] (if (q/query? m) (ops/get-query m filter false) (aio-get-or-none m filter {})))
  ([m filter opts] (run-op "aio-get-or-none" opts #{} false #(ops/get-or-none m filter %))))

(defn aio-get-or-create
  "Given a model and a map of field values, returns a future of
  `[instance created?]`: the matching instance, or a new one created from the
  map merged over (:defaults opts)."
  ([m filter] (aio-get-or-create m filter {}))
  ([m filter opts] (run-op "aio-get-or-create" opts #{:defaults} true #(instance/get-or-create m filter %))))

(defn aio-save
  "Given a model and an instance map, saves it. Future of the saved instance.
  With a primary key: UPDATE of the fields present in the map (fails with
  :vireo/does-not-exist when no row has that key, so no write goes missing
  silently). Without one, or with {:force-insert true}: INSERT, the generated
  key filled in."
  ([m instance] (aio-save m instance {}))
  ([m instance opts] (run-op "aio-save" opts #{:only :force-insert} true #(instance/save m instance %))))

(defn aio-delete-instance
  "Given a model and an instance, deletes its row by primary key. Future of
  the number of rows deleted (for the instance itself).
  Options:
  - :recursive true — first delete the rows that reference it (through every
    foreign key of the models defined so far, deepest first); rows whose
    key is nullable are unlinked (set to NULL) instead, unless
  - :delete-nullable true — delete those too.
  A recursive delete runs in one transaction (a savepoint inside one)."
  ([m instance] (aio-delete-instance m instance {}))
  ([m instance opts] (run-op "aio-delete-instance" opts #{:recursive :delete-nullable} true #(instance/delete-instance m instance %))))

;; ---------------------------------------------------------------- schema
(defn aio-table-exists
  "Future of true when the table exists in the current database/schema: given
  a model (its table), or a database and a table name or model. Names compare
  exactly."
  ([m] (schema/table-exists m))
  ([db table] (schema/table-exists db table))
  ([db table opts] (run-op "aio-table-exists" opts #{} false #(schema/table-exists db table %))))

(defn aio-get-tables
  "Future of the sorted table names of the current database/schema."
  ([db] (schema/get-tables db))
  ([db opts] (run-op "aio-get-tables" opts #{} false #(schema/get-tables db %))))

(defn aio-sequence-exists
  "Future of true when a PostgreSQL sequence of that name exists (false on
  other backends). Serial keys use <table>_<column>_seq."
  ([db sequence-name] (schema/sequence-exists db sequence-name))
  ([db sequence-name opts] (run-op "aio-sequence-exists" opts #{} false #(schema/sequence-exists db sequence-name %))))

(defn aio-create-indexes
  "Creates the model's indexes. Option :safe true adds IF NOT EXISTS."
  ([m] (aio-create-indexes m {}))
  ([m opts] (run-op "aio-create-indexes" opts #{:safe} true #(schema/create-indexes m %))))

(defn aio-drop-indexes
  "Drops the model's indexes. Option :safe true adds IF EXISTS."
  ([m] (aio-drop-indexes m {}))
  ([m opts] (run-op "aio-drop-indexes" opts #{:safe} true #(schema/drop-indexes m %))))

(defn aio-truncate-table
  "Deletes every row of the model's table (TRUNCATE; DELETE FROM on SQLite).
  Options: :restart-identity, :cascade (PostgreSQL). On MariaDB TRUNCATE
  commits an open transaction implicitly. Future of nil."
  ([m] (aio-truncate-table m {}))
  ([m opts] (run-op "aio-truncate-table" opts #{:restart-identity :cascade} true #(schema/truncate-table m %))))

(defn instance
  "Given a model and a map of field values, returns an instance: the values
  with the model's defaults filled in (no I/O). Sends the synchronous
  `vireo.signals/pre-init` signal."
  [m values]
  (instance/build m values))

(defn instance-model
  "The model an instance was decoded (or created, or saved) by — bound to
  the database it came from — or nil for a map Vireo did not make."
  [inst]
  (model/instance-model inst))

(defn datafiable
  "Given a model and a map of its values (or a collection of them, or nil)
  that Vireo did not make — built by hand, read back from elsewhere —
  returns it as an instance for REPL data tools. Instances Vireo decodes,
  creates or saves are already: `clojure.datafy/datafy` of one gives its
  values plus its model under :vireo/model, and `nav` on a foreign-key
  field fetches the row it references — only where a sync call on the
  model's database is allowed (inside `with-allow-sync`, or after
  `set-allow-sync!`: the REPL switch); anywhere else nav gives the key's
  value and sends nothing, so a production path never queries through nav.
  The fetched row (nil when none has that key) is navigable in turn. The
  values are unchanged; what aio-save compares is kept (a map never loaded
  stays one). (`datafy` of a model gives its name, table, fields, indexes …
  as data.)

    (require '[clojure.datafy :refer [datafy nav]])
    (def pet @(aio-get Pet {:name \"Rex\"}))
    (nav pet :owner (:owner pet))                          ;=> 1 (the key)
    (with-allow-sync db (nav pet :owner (:owner pet)))     ;=> {:id 1 :name \"Ann\"}
    (:vireo/model (datafy pet))                            ;=> #vireo/model[Pet \"pet\"]
    (nav (datafiable Pet {:owner 1}) :owner 1)             ;=> 1 (outside with-allow-sync)"
  [m x]
  (when-not (model/model? m)
    (throw (err/error :vireo/interface-error (str "datafiable needs a model, got " (not-a-model m)) {})))
  (datafy/navigable m x))

;; ---------------------------------------------------------------- model queries
(defn get-id
  "Given a model and an instance, returns its primary-key value (a vector of
  values for a composite key)."
  [m instance]
  (if (:pk-field m)
    (get instance (:primary-key m))
    (mapv #(get instance %) (:primary-key m))))

(defn select
  "Given a model and projection items, returns a select query (data) for
  `aio-execute` and the other query operations. No items: every field of the
  model. Items: field keys, models joined in the query (all their fields),
  `[expr alias]`. Rows are instances: joined models nest under their join's
  :attr (by default the foreign key, or the lower-cased model name).
      (select PageBlock)  (select PageBlock :id [[:upper :key] :k])"
  [m & items]
  (q/select m items))

(defn where
  "Given a query and a condition, returns the query with it ANDed in. A
  condition is a where vector over field keys (`[:= :key \"a\"]`,
  `[:and [:> :n 1] [:in :alpha/text [\"x\" \"y\"]]]`) or a filter map:
  `{:key \"a\"}` (equality, nil = IS NULL), `{:n__gt 1 :key__in [\"a\" \"b\"]}`
  (lookups: eq ne lt lte gt gte in not-in like ilike between is-null)."
  [query condition]
  (q/where query condition))

(defn join
  "Given a select query and a model, returns the query joined to it. The ON
  condition comes from a foreign key between it and a model already in the
  query (latest first) unless given. Options: :on, :type (:inner default,
  :left :right :full :cross), :as (alias; needed to join a table twice),
  :attr (key for the nested instance), :from (alias to join from)."
  ([query target] (q/join query target {}))
  ([query target opts] (q/join query target opts)))

(defn order-by
  "Given a query and order items (`:key`, `[:key :desc]`, `[:key :asc :nulls-last]`),
  returns the query ordered by them (replacing any earlier order)."
  [query & items]
  (assoc query :order-by (vec items)))

(defn limit "Returns the query with LIMIT n." [query n] (assoc query :limit n))
(defn offset "Returns the query with OFFSET n." [query n] (assoc query :offset n))

(defn paginate
  "Returns the query limited to page `page` (from 1) of `per-page` rows (20)."
  ([query page] (paginate query page 20))
  ([query page per-page]
   (assoc query :limit per-page :offset (* (max 0 (dec page)) per-page))))

(defn distinct
  "Returns the select query with SELECT DISTINCT."
  [query] (assoc query :distinct true))

(defn group-by
  "Returns the query grouped by the given expressions."
  [query & exprs] (assoc query :group-by (vec exprs)))

(defn having
  "Returns the query with a HAVING condition ANDed in."
  [query condition] (q/having query condition))

(defn as-maps
  "Returns the query yielding plain maps: field keys for the query's model,
  :alias/field for joined models, aliases for expressions."
  [query] (assoc query :vireo/as :maps))

(defn as-vectors
  "Returns the query yielding vectors in projection order."
  [query] (assoc query :vireo/as :vectors))

(defn as-instances
  "Returns the query yielding instances (the default)."
  [query] (assoc query :vireo/as :instances))

(defn union "Given two or more selects, returns their UNION." [q1 q2 & more] (q/union-like :union (list* q1 q2 more)))
(defn union-all "Given two or more selects, returns their UNION ALL." [q1 q2 & more] (q/union-like :union-all (list* q1 q2 more)))
(defn intersect "Given two or more selects, returns their INTERSECT." [q1 q2 & more] (q/union-like :intersect (list* q1 q2 more)))
(defn except "Given two or more selects, returns their EXCEPT." [q1 q2 & more] (q/union-like :except (list* q1 q2 more)))

(defn insert
  "Given a model and a map of field values, returns an insert query (defaults
  applied). `aio-execute` yields the new primary key (nil when a conflict
  clause skipped the row); with `returning`, instances; with `as-rowcount`,
  the number of rows inserted. An empty map inserts a default-values row."
  [m values]
  (q/insert m values))

(defn insert-many
  "Given a model and a sequence of maps, returns one multi-row insert query.
  `aio-execute` yields the vector of their primary keys, in order."
  [m rows]
  (q/insert-many m rows))

(defn insert-from
  "Given a model, the field keys to fill and a select query, returns
  INSERT … SELECT. `aio-execute` yields the number of rows inserted."
  [m field-keys select-query]
  (q/insert-from m field-keys select-query))

(defn update
  "Given a model and a map of field -> value or expression (`[:+ :n 1]`),
  returns an update query (add `where`). `aio-execute` yields rows affected."
  [m values]
  (q/update-query m values))

(defn delete
  "Given a model, returns a delete query (add `where`). `aio-execute` yields
  rows deleted."
  [m]
  (q/delete-query m))

(defn returning
  "Returns the insert/update/delete query yielding instances of the given
  fields (none: all fields) — or the row form asked for with `as-maps` /
  `as-vectors` (field order). Refused with :vireo/not-supported where the
  database cannot (UPDATE … RETURNING on MariaDB). Without `returning` a
  write query yields keys or counts, so a row form on it is refused by name,
  as is `as-rowcount` with it.
      (aio-execute (as-vectors (returning (where (delete PageBlock) {:key \"a\"}) :id :key)))
      ;=> [[1 \"a\"]]"
  [query & field-keys]
  (assoc query :vireo/returning (if (seq field-keys) (vec field-keys) true)))

(defn as-rowcount
  "Returns the insert query yielding the number of rows inserted."
  [query] (assoc query :vireo/rowcount true))

(defn on-conflict-ignore
  "Returns the insert query skipping rows that violate a unique constraint."
  [query] (assoc query :on-conflict [] :do-nothing true))

(defn on-conflict
  "Returns the insert query as an upsert. Options:
  - :target  conflict field keys (PostgreSQL/SQLite; MariaDB uses any unique key)
  - :update  field keys to take from the proposed row, or a map
             field -> expression
  - :ignore  true: skip the row instead"
  [query {:keys [target update ignore]}]
  (cond-> (assoc query :on-conflict (vec target))
    ignore (assoc :do-nothing true)
    update (assoc :do-update-set update)))

(defn for-update
  "Returns the select query locking its rows: FOR UPDATE, or `mode` —
  :share, :no-key-update, :key-share (PostgreSQL), or [mode :nowait] /
  [mode :skip-locked]. Refused with :vireo/not-supported on SQLite."
  ([query] (for-update query :update))
  ([query mode] (assoc query :for mode)))

(defn with-cte
  "Returns the select query with common table expressions (vireo.sql's :with
  pairs [name-or-[name & cols] query]; a model query as a body is compiled).
  Option {:recursive true} for WITH RECURSIVE."
  ([query ctes] (with-cte query ctes {}))
  ([query ctes {:keys [recursive]}]
   (assoc query (if recursive :with-recursive :with) (vec ctes))))

(defn raw
  "Given a model, a SQL string (placeholders as the database expects them)
  and parameters, returns a query yielding instances: columns named like a
  field's column decode with that field's type."
  ([m sql-string] (raw m sql-string []))
  ([m sql-string params] (q/raw m sql-string params)))

(defn aio-count
  "Given a select query, future of the number of rows it yields. Options:
  :clear-limit true ignores its LIMIT/OFFSET."
  ([query] (aio-count query {}))
  ([query opts] (run-op "aio-count" opts #{:clear-limit} false #(ops/count-rows query %))))

(defn aio-exists
  "Given a select query, future of true when it yields a row."
  ([query] (aio-exists query {}))
  ([query opts] (run-op "aio-exists" opts #{} false #(ops/exists query %))))

(defn aio-scalar
  "Given a select query, future of the first column of its first row (nil
  when there is none)."
  ([query] (aio-scalar query {}))
  ([query opts] (run-op "aio-scalar" opts #{} false #(ops/scalar query %))))

(defn aio-peek
  "Given a select query, future of its first row (n = 1) or a vector of up
  to n rows; nil when there are none. Fetches at most n rows (peewee-async
  fetches them all)."
  ([query] (aio-peek query 1 {}))
  ([query n] (aio-peek query n {}))
  ([query n opts] (run-op "aio-peek" opts #{} false #(ops/peek-rows query n %))))

(defn aio-first
  "Like `aio-peek`, but sets the query's own LIMIT to n."
  ([query] (aio-first query 1 {}))
  ([query n] (aio-first query n {}))
  ([query n opts] (run-op "aio-first" opts #{} false #(ops/first-rows query n %))))

(defn aio-fetch
  "Given a model, an instance and a foreign-key field, future of the
  instance with that relation loaded (the raw key replaced by the
  referenced instance; nil for a NULL nullable key). Already loaded (join,
  prefetch, earlier fetch): no query. Vireo never loads a relation behind
  your back: until then the field holds the raw key."
  ([m instance k] (aio-fetch m instance k {}))
  ([m instance k opts] (run-op "aio-fetch" opts #{} false #(rel/fetch m instance k %))))

(defn aio-prefetch
  "Given a select query and subqueries, future of the query's instances with
  each subquery's rows linked in — one query per level: a subquery whose
  model has a foreign key to an earlier level fills that level's backref
  vector; one referenced by an earlier level replaces its raw keys. A last
  argument {:strategy :join} restricts levels by a join on the parent keys
  instead of IN (subquery)."
  [query & subqueries]
  (let [opts (when (and (seq subqueries) (not (q/query? (last subqueries)))) (last subqueries))
        subs (if opts (butlast subqueries) subqueries)]
    (rel/prefetch query (vec subs) (or opts {}))))

(defn through-model
  "Given a model and a many-to-many field, returns the through model (create
  its table with `aio-create-tables`, which includes it automatically)."
  [m k] (rel/through-model m k))

(defn aio-related
  "Given a model, an instance and a many-to-many relation (a field of the
  model or the :backref another model declared), future of the related
  instances ordered by primary key."
  ([m instance k] (aio-related m instance k {}))
  ([m instance k opts] (run-op "aio-related" opts #{} false #(rel/related m instance k %))))

(defn aio-add
  "Links `instance` to targets (instances or keys) through a many-to-many
  relation, in one transaction; existing links are kept. Future of the
  number of links created."
  ([m instance k targets] (aio-add m instance k targets {}))
  ([m instance k targets opts] (run-op "aio-add" opts #{} true #(rel/add m instance k targets %))))

(defn aio-remove
  "Unlinks targets (instances or keys). Future of links removed."
  ([m instance k targets] (aio-remove m instance k targets {}))
  ([m instance k targets opts] (run-op "aio-remove" opts #{} true #(rel/remove-links m instance k targets %))))

(defn aio-clear
  "Unlinks every target of a many-to-many relation. Future of links removed."
  ([m instance k] (aio-clear m instance k {}))
  ([m instance k opts] (run-op "aio-clear" opts #{} true #(rel/clear m instance k %))))

(defn aio-create-tables
  "Given models, creates their tables (and the through tables of their
  many-to-many fields) in dependency order. Options as `aio-create-table`.
  Future of nil."
  ([models] (aio-create-tables models {}))
  ([models opts] (run-op "aio-create-tables" opts #{:safe} true #(rel/create-tables models %))))

(defn aio-drop-tables
  "Drops the tables of `models` (and their through tables), dependants
  first. Option :safe true adds IF EXISTS. Future of nil."
  ([models] (aio-drop-tables models {}))
  ([models opts] (run-op "aio-drop-tables" opts #{:safe} true #(rel/drop-tables models %))))

;; ---------------------------------------------------------------- queries
(defn aio-execute
  "Given a model query (from `select`, `insert`, `update`, … — see those for
  what each yields), runs it on its model's database. Given a database (or a
  model, for its database) and plain query data (see vireo.sql), formats it
  for the database's dialect and runs it. Future of, for plain data:
  a select (or any statement with :returning) -> vector of row maps with
  kebab-case keyword keys; an insert -> the generated id where the driver
  reports one (MySQL, SQLite), else nil; update/delete -> rows affected;
  DDL -> nil."
  ([query] (ops/execute nil query {}))
  ([target query] (if (q/query? target) (aio-execute nil target query) (aio-execute target query {})))
  ([target query opts] (run-op "aio-execute" opts #{} false #(ops/execute target query %))))

(defn aio-execute-sql
  "Given a database, a SQL string and a parameter vector, runs it. Each
  statement and its parameters are logged at DEBUG on logger `vireo.sql`.
  Future of {:rows [row maps] :row-count n :last-insert-id id-or-nil}."
  ([db sql] (aio-execute-sql db sql [] {}))
  ([db sql params] (aio-execute-sql db sql params {}))
  ([db sql params opts]
   (run-op "aio-execute-sql" opts #{} false #(ops/execute-sql (ops/database-of db) sql params %))))

(defn aio-create-table
  "Creates the model's table and its indexes (<table>_<column>). Option
  :safe true adds IF NOT EXISTS. Future of nil."
  ([m] (aio-create-table m {}))
  ([m opts] (run-op "aio-create-table" opts #{:safe} true #(ops/create-table m %))))

(defn aio-drop-table
  "Drops the model's table. Option :safe true adds IF EXISTS. Future of nil."
  ([m] (aio-drop-table m {}))
  ([m opts] (run-op "aio-drop-table" opts #{:safe} true #(ops/drop-table m %))))

;; ---------------------------------------------------------------- connections and transactions
(defn- block
  "`scoped` for a block (its options are checked where it runs): cancelling
  its future cancels the statement running in it (a transaction then rolls
  back), and {:timeout ms} covers the whole block. A transaction whose
  COMMIT was sent is no longer cancelled: its timeout waits for the COMMIT's
  outcome."
  [fname opts f]
  (p/do (scoped fname opts f)))

(defn- tx-timeout
  "opts, with the database's :transaction-timeout as :timeout when none is
  given and the block would be an outermost transaction."
  [d opts]
  (if-let [t (and (map? opts) (not (contains? opts :timeout)) (:transaction-timeout (db/options d)))]
    (if (try (some-> (ctx/current d opts) ctx/tx-open?)
             ;; a bad :connection handle: aio-atomic itself says so
             (catch Throwable _ true))
      opts
      (assoc opts :timeout t))
    opts))

(defn aio-connection
  "Given a database and a function of a connection handle, runs (f conn) with
  one pooled connection pinned for the current logical task: every operation
  inside (and in callbacks chained from it, also with plain CompletableFuture
  methods) runs on it. A nested aio-connection reuses the same connection;
  only the outermost scope releases it, after the operations started inside
  have finished. Future of f's result (a value or a future).

  Operations started concurrently inside a scope run one at a time, in the
  order they were started."
  ([db f] (aio-connection db {} f))
  ([db opts f] (block "aio-connection" opts #(ctx/with-connection (ops/database-of db) % f))))

(defn aio-atomic
  "Given a database and a function of a transaction handle, runs (f tx) in a
  transaction: the outermost block sends BEGIN … COMMIT, a nested one (same
  task, or given a handle) SAVEPOINT … RELEASE, at any depth. If f throws or
  its future fails, only this block is rolled back (ROLLBACK or ROLLBACK TO
  SAVEPOINT) and the error propagates; work committed by enclosing blocks
  stays theirs. Future of f's result.

  Options, on the outermost block only:
  - :isolation :read-uncommitted | :read-committed | :repeatable-read | :serializable
    (SQLite is always serializable and accepts every level)
  - :read-only true (SQLite: PRAGMA query_only for the transaction)
  - :connection a handle to run on
  On SQLite a writing transaction starts with BEGIN IMMEDIATE.

      @(aio-atomic db (fn [tx] (p/let [a (aio-create M {…})] (aio-save M …))))"
  ([db f] (aio-atomic db {} f))
  ([db opts f] (let [d (ops/database-of db)]
                 (block "aio-atomic" (tx-timeout d opts) #(ctx/atomic d % f false)))))

(defmacro with-atomic
  "Sugar for `aio-atomic`: (with-atomic [tx db opts?] body…) returns a future."
  [[tx db opts] & body]
  `(aio-atomic ~db ~(or opts {}) (fn [~tx] ~@body)))

(defn aio-transaction
  "Like `aio-atomic` at the top level, but fails with
  :vireo/operational-error \"Transaction already opened\" before sending any
  SQL when a transaction is already open for the task."
  ([db f] (aio-transaction db {} f))
  ([db opts f] (let [d (ops/database-of db)]
                 (block "aio-transaction" (tx-timeout d opts) #(ctx/atomic d % f true)))))

(defn in-transaction?
  "True when the current task (or the :connection handle) has a transaction
  open on `db`."
  ([db] (in-transaction? db {}))
  ([db opts] (boolean (some-> (ctx/current (ops/database-of db) opts) ctx/tx-open?))))

(defn aio-begin
  "Inside an `aio-connection` scope: sends BEGIN (options as `aio-atomic`).
  Future of a handle for `aio-commit` / `aio-rollback`. Unlike peewee-async,
  the transaction counts as open: `aio-atomic` inside it makes savepoints and
  `aio-transaction` refuses."
  ([db] (aio-begin db {}))
  ([db opts] (ctx/begin (ops/database-of db) opts)))

(defn aio-savepoint
  "Inside an open transaction in an `aio-connection` scope: sends SAVEPOINT.
  Future of a handle for `aio-commit` (RELEASE) / `aio-rollback` (ROLLBACK TO)."
  ([db] (aio-savepoint db {}))
  ([db opts] (ctx/savepoint (ops/database-of db) opts)))

(defn aio-commit
  "Commits a handle from `aio-begin` (or releases one from `aio-savepoint`)."
  [handle] (ctx/commit handle))

(defn aio-rollback
  "Rolls back a handle from `aio-begin` or `aio-savepoint`."
  [handle] (ctx/rollback handle))

;; ---------------------------------------------------------------- sync
(defn allow-sync*
  "Calls (f) with synchronous queries allowed on `db` for the current thread.
  The outermost block closes the dedicated connection its sync calls used."
  [db f] (sync/allow-sync* (ops/database-of db) f))

(defmacro with-allow-sync
  "Runs body with synchronous queries allowed on `db` (this thread only; the
  binding is not conveyed to event loops or other threads). Sync calls inside
  share one dedicated connection, closed when the outermost block ends.

      (with-allow-sync db (create-table! PageBlock {:safe true}))"
  [db & body]
  `(allow-sync* ~db (fn [] ~@body)))

(defn set-allow-sync!
  "Sets the database-wide default for synchronous queries. Returns db."
  [db flag] (sync/set-allow-sync! (ops/database-of db) flag))

(defn create-table!
  "Synchronous `aio-create-table` (needs allow-sync). Returns nil."
  ([m] (create-table! m {}))
  ([m opts] (sync/run-sync (ops/database-of m) "create-table!" (op-opts "create-table!" opts #{:safe} true) #(aio-create-table m %))))

(defn drop-table!
  "Synchronous `aio-drop-table` (needs allow-sync). Returns nil."
  ([m] (drop-table! m {}))
  ([m opts] (sync/run-sync (ops/database-of m) "drop-table!" (op-opts "drop-table!" opts #{:safe} true) #(aio-drop-table m %))))

(defn execute!
  "Synchronous `aio-execute` (needs allow-sync)."
  ([query] (execute! query {}))
  ([target query] (if (q/query? target)
                    (sync/run-sync (ops/database-of (:vireo/model target)) "execute!" (op-opts "execute!" query #{} false)
                                   #(aio-execute nil target %))
                    (execute! target query {})))
  ([target query opts] (sync/run-sync (ops/database-of target) "execute!" (op-opts "execute!" opts #{} false)
                                      #(aio-execute target query %))))

(defn execute-sql!
  "Synchronous `aio-execute-sql` (needs allow-sync)."
  ([db sql] (execute-sql! db sql [] {}))
  ([db sql params] (execute-sql! db sql params {}))
  ([db sql params opts]
   (let [d (ops/database-of db)]
     (sync/run-sync d "execute-sql!" (op-opts "execute-sql!" opts #{} false) #(aio-execute-sql d sql params %)))))

;; ---------------------------------------------------------------- streaming
(defn aio-stream
  "Streams a select over a server-side cursor and reduces its rows without
  materialising them; future of the final accumulator. `query` is a model
  select (rows decoded as it says: instances, maps, vectors), plain select
  data or a SQL string with (:params opts). `rf` is (fn [acc row]) returning
  the next accumulator, a `reduced`, or a future of either: the next batch
  is not fetched until it completes (back-pressure).
  Options: :fetch-size (1000 rows per batch), :params, :connection.
  Inside a transaction or connection scope the stream is one operation of
  it; outside, it takes its own connection (on PostgreSQL in its own
  transaction, which cursors need). Cancelling the future, `reduced` or an
  exception in rf closes the cursor and returns the connection.
  rf is a plain step function: it gets no completion call (arity 1), so a
  stateful transducer's rf (`partition-all`) would lose its tail — use
  `aio-transduce` for transducers.
      @(aio-stream (select PageBlock) (fn [n _] (inc n)) 0)"
  ([query rf init] (aio-stream nil query {} rf init))
  ([target query rf init] (if (q/query? target)
                            (aio-stream nil target query rf init)
                            (aio-stream target query {} rf init)))
  ([target query opts rf init]
   (run-op "aio-stream" opts #{:fetch-size :params} false #(ops/stream-reduce target query % rf init))))

(defn aio-transduce
  "Like `clojure.core/transduce` over the rows of a select streamed as by
  `aio-stream` (same query forms, target and options): each row goes
  through `xform` into `rf`, starting from `init`, and the result is
  completed — (rf acc) after the last row, or after a `reduced` stopped the
  stream early — so stateful transducers (`partition-all`, `dedupe`…) keep
  their tail. rf must return its accumulator directly (not a future).
  Future of the completed result.
      @(aio-transduce (comp (map :key) (partition-all 2)) conj [] (select PageBlock))
      ;=> [[\"a\" \"b\"] [\"c\"]]"
  ([xform rf init query] (aio-transduce xform rf init nil query {}))
  ([xform rf init target query] (if (q/query? target)
                                  (aio-transduce xform rf init nil target query)
                                  (aio-transduce xform rf init target query {})))
  ([xform rf init target query opts]
   (let [xf (xform rf)]
     (p/map (aio-stream target query opts xf init) xf))))

;; ---------------------------------------------------------------- statement counting
(defmacro with-call-count
  "Runs body (which may return a future) counting the statements it sends,
  also from the async operations it starts; future of [value n]. BEGIN,
  COMMIT, savepoints and pool-internal resends are not counted; a stream is
  one statement. Counters nest.
      @(with-call-count (aio-prefetch (select Alpha) (select Beta)))  ;=> [alphas 2]"
  [& body]
  `(ex/call-count* (fn [] ~@body)))

;; ---------------------------------------------------------------- errors
(defn error-type
  "The Vireo :type keyword of an exception (unwrapping CompletionException
  and ExecutionException), or nil."
  [e] (err/error-type (p/unwrap e)))

(defn error-type?
  "True when the exception's Vireo type is `k` or one of its descendants:
  (error-type? e :vireo/integrity-error)."
  [e k] (err/error-type? (p/unwrap e) k))
