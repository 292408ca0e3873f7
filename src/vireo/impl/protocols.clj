(ns ^:no-doc vireo.impl.protocols
  "The seams of Vireo's middle layer: the few protocols the rest of impl is
  written against (in the manner of next.jdbc's protocols.clj). Everything
  that varies implements one of them; nothing above them asks which
  implementation it has.

  - `Backend`  — what differs between PostgreSQL, MariaDB/MySQL and SQLite:
    one implementation per backend in `vireo.impl.backend.<name>`, loaded on
    demand by `vireo.impl.backend/backend` (so its driver is needed only when
    that backend is used). Static facts are data (`-traits`); behaviour is a
    method.
  - `RowSource` — a select being read in batches over a server-side cursor
    (what a backend's -stream-source returns; vireo.impl.stream reduces it).
  - `Executor` — something a statement can be executed on: the pool, the
    pipelined client, a connection level (root connection, transaction,
    savepoint), and decorators (logging, call counting; metrics, tracing and
    the slow-query log in vireo.impl.observe) that implement the same
    protocol and delegate. See vireo.impl.executor.

  This namespace requires nothing: it is the bottom of impl.")

(set! *warn-on-reflection* true)

(defprotocol Backend
  "One database backend. Implementations live in vireo.impl.backend.*; no
  other namespace branches on the backend."
  (-traits [b]
    "Static facts as data:
    {:kind :postgres  :label \"PostgreSQL\"  :dialect :postgres (vireo.sql)
     :db-system \"postgresql\" (OpenTelemetry's db.system.name)
     :option-keys #{…} (connect options it accepts)  :defaults {…}
     :ssl-modes #{…} (the :ssl-mode values it takes; network backends)
     :url-params {\"name\" [option-key :string|:int|:bool|:ssl-mode]} (URL
       query parameters it honours)  :url-params-refused {\"name\" why}
     :param-limit n (bind parameters one statement may carry)
     :identifier-limit nil | {:max n :unit :bytes|:characters :label s :why s}
     :insert-id nil | :first | :last (which key of a multi-row INSERT the
       driver's last insert id is)
     :upsert-insert-id :always | :inserted (whether a single-row upsert's
       insert id names an updated row too)
     :cursor-needs-transaction bool
     :rollback-after-failed-commit bool (a COMMIT the server refused leaves
       the transaction open; one that failed without the server's answer is
       rolled back on every backend)
     :codecs {…} (the value representation profile, see vireo.impl.types)
     :introspection {:tables sql :table-filter sql :index-names sql
                     :sequence sql-or-nil}}")
  (-check-options [b opts]
    "Throws a :vireo/interface-error for options this backend refuses (beyond
    unknown keys, which vireo.impl.backend checks).")
  (-parse-url [b rest url]
    "Given what follows \"scheme:\" in a database URL, returns its options.")
  (-describe [b opts] "A short, password-free description for messages.")
  (-statement-cache-size [b opts]
    "The prepared statements cached per connection with these options (0: off).")
  (-prepare-options [b opts vertx]
    "Future of the options to open the pool with, read from the server
    first where needed (MySQL's max_prepared_stmt_count); else opts.")
  (-make-pool [b opts vertx] "A new io.vertx.sqlclient.Pool (no connection opened).")
  (-make-pipelined-client [b opts vertx]
    "A new pipelining io.vertx.sqlclient.SqlClient, or a :vireo/not-supported throw.")
  (-detect [b pool opts]
    "Future of what the server can do: {:returning #{…} :server \"name version\"}
    plus backend facts (e.g. :auto-increment-increment).")
  (-server-capabilities [b version]
    "Given the server's version string, {:returning #{…} :server s}.")
  (-last-insert-id [b rowset] "The id the driver reports for the INSERT of this RowSet, or nil.")
  (-begin-statements [b opts] "The statements opening a transaction with {:isolation :read-only}.")
  (-end-statements [b opts] "The statements to run after a transaction with these options ended.")
  (-stream-source [b conn sql params]
    "A vireo.impl.stream/RowSource reading the select over a cursor of conn.")
  (-truncate-statements [b table-sql table-name opts names]
    "Future of the [sql & params] vectors emptying a table; (names sql params)
    is a future of the first column of a query's rows.")
  (-cancel! [b conn opts vertx]
    "Asks the server to cancel the statement `conn` (a pooled SqlConnection
    of this backend's pool opened with `opts`, on `vertx`) is running. Future (Vert.x or
    CompletionStage) completing once the request has reached the server; a
    connection running nothing is not affected.")
  (-error-info [b throwable]
    "{:type :message :sql-state … } for this driver's exceptions, else nil."))

(defprotocol Executor
  "Something a statement (vireo.impl.executor/Statement) is executed on."
  (-execute! [ex st]
    "Sends the statement `st` (or hands it on) and arranges for its result
    future to complete with (decode rowset), or with a mapped error. Returns
    nothing of use; never throws (failures complete the statement)."))

(deftype Batch [^Iterable rows more?])

(defprotocol RowSource
  "A select read in batches over a cursor (see vireo.impl.stream)."
  (open! [src] "Executes the statement. Future of nil.")
  (read! [src n] "Future of the next Batch of at most n rows (io.vertx.sqlclient.Row).")
  (close! [src] "Closes what open! opened (idempotent, also after a failed or no open). Future of nil."))
