package io.vireo;

import clojure.lang.AFunction;
import clojure.lang.Keyword;
import clojure.lang.RT;
import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * A database: a lazily opened Vert.x 5 SQL pool. Make one with
 * {@link PostgresqlDatabase}, {@link MySQLDatabase}, {@link SqliteDatabase} or
 * {@link #fromUrl(String)}; no connection is opened until the first query.
 *
 * <pre>{@code
 * try (Database db = Database.fromUrl("sqlite:app.db")) {
 *   db.aioAtomic(tx -> PageBlock.aioCreate(Map.of("key", "a"))).join();
 * } // close(): the pool is closed
 * }</pre>
 *
 * <p>The same database value is usable from Clojure: {@link #toClojure()}
 * returns it, and {@link #of(Object)} wraps one made in Clojure.
 */
public abstract class Database implements AutoCloseable {
  private final Object db;

  Database(Object clojureDatabase) {
    this.db = clojureDatabase;
  }

  /**
   * Returns the database for a URL: {@code postgresql://user:pass@host:port/db}
   * ({@code postgres://} too), {@code mysql://…} ({@code mariadb://} too) or
   * {@code sqlite:path}.
   *
   * @param url the URL
   * @return a {@link PostgresqlDatabase}, {@link MySQLDatabase} or {@link SqliteDatabase}
   * @throws VireoException ({@link ErrorType#INTERFACE_ERROR}) for a URL of no known backend
   */
  public static Database fromUrl(String url) {
    return fromUrl(url, DatabaseOptions.create());
  }

  /**
   * Returns the database for a URL with options (pool size, your Vert.x, …).
   *
   * @param url the URL
   * @param options the options
   * @return a {@link PostgresqlDatabase}, {@link MySQLDatabase} or {@link SqliteDatabase}
   * @throws VireoException ({@link ErrorType#INTERFACE_ERROR}) for a URL of no known backend or an unknown option
   */
  public static Database fromUrl(String url, DatabaseOptions options) {
    return of(Clj.call("database", url, options.toClojure()));
  }

  /**
   * Returns the database the environment names: the URL in
   * {@code VIREO_DATABASE_URL}, else a PostgreSQL database from libpq's
   * variables when {@code PGHOST} or {@code PGDATABASE} is set
   * ({@code PGHOST}, {@code PGPORT}, {@code PGDATABASE}, {@code PGUSER},
   * {@code PGPASSWORD}, {@code PGSSLMODE}, {@code PGSSLROOTCERT},
   * {@code PGSSLCERT}, {@code PGSSLKEY}, {@code PGAPPNAME}).
   *
   * @return the database
   * @throws VireoException ({@link ErrorType#INTERFACE_ERROR}) naming the variables when none is set
   */
  public static Database fromEnv() {
    return fromEnv(DatabaseOptions.create());
  }

  /**
   * Like {@link #fromEnv()}, with options over the environment's.
   *
   * @param options the options
   * @return the database
   * @throws VireoException ({@link ErrorType#INTERFACE_ERROR}) naming the variables when none is set, or for a bad option
   */
  public static Database fromEnv(DatabaseOptions options) {
    return of(Clj.call("database-from-env", options.toClojure()));
  }

  /**
   * Wraps a database made in Clojure ({@code vireo.core/database} and friends).
   *
   * @param clojureDatabase a Vireo database (or database proxy)
   * @return the Java view of it
   */
  public static Database of(Object clojureDatabase) {
    Object kind = RT.get(clojureDatabase, Keyword.intern("kind"));
    if (Keyword.intern("postgres").equals(kind)) {
      return new PostgresqlDatabase(clojureDatabase, true);
    } else if (Keyword.intern("mysql").equals(kind)) {
      return new MySQLDatabase(clojureDatabase, true);
    } else if (Keyword.intern("sqlite").equals(kind)) {
      return new SqliteDatabase(clojureDatabase, true);
    }
    if (!RT.booleanCast(Clj.call("vireo.impl.db/proxy?", clojureDatabase))) {
      throw new IllegalArgumentException("Vireo: not a database: " + clojureDatabase);
    }
    return new DatabaseProxy(clojureDatabase);
  }

  /**
   * Returns the Clojure database value, for Clojure code ({@code vireo.core} functions).
   *
   * @return the database
   */
  public Object toClojure() {
    return db;
  }

  /**
   * Opens the pool if it is not open (idempotent; also reopens a closed database).
   *
   * @return a future completing when the pool is open
   */
  public CompletableFuture<Void> aioConnect() {
    return Clj.guard(() -> Clj.aio(v -> null, "aio-connect", db));
  }

  /**
   * Closes the pool (idempotent). Queries then fail with {@link VireoException} ({@link ErrorType#POOL_CLOSED})
   * until {@link #aioConnect()}. Databases share one Vert.x instance per JVM, closed
   * with the last open pool; its threads are daemon threads, so a program that
   * forgets this call still exits. A Vert.x given with
   * {@link DatabaseOptions#vertx(io.vertx.core.Vertx)} is never closed.
   *
   * @return a future completing when closed
   */
  public CompletableFuture<Void> aioClose() {
    return Clj.guard(() -> Clj.aio(v -> null, "aio-close", db));
  }

  /**
   * Tells whether the pool exists and is open.
   *
   * @return true when connected
   */
  public boolean isConnected() {
    return RT.booleanCast(Clj.call("connected?", db));
  }

  /**
   * Returns the number of connections Vireo holds out of the pool right now
   * (sync blocks, transactions). Zero when nothing leaks.
   *
   * @return the number of checked-out connections
   */
  public long checkedOut() {
    return ((Number) Clj.call("checked-out", db)).longValue();
  }

  /**
   * Returns the pool settings in force, by Clojure name ({@code "max-size"},
   * {@code "connection-timeout"}, …), with the live numbers of the pool now
   * ({@code "size"}, {@code "in-use"}, {@code "idle"}, {@code "waiting"}).
   *
   * @return the pool options
   */
  @SuppressWarnings("unchecked")
  public Map<String, Object> poolOptions() {
    return (Map<String, Object>) Clj.toJava(Clj.call("pool-options", db));
  }

  /**
   * Returns the live state of the pool, read now, by Clojure name:
   * {@code "size"}, {@code "in-use"}, {@code "idle"}, {@code "waiting"},
   * {@code "checked-out"}, {@code "acquired"}, {@code "acquire-timeouts"},
   * {@code "acquire-ms"} (a map of {@code "p50"}, {@code "p95"}, {@code "p99"},
   * {@code "max"}), {@code "connections-opened"}, {@code "connections-closed"},
   * {@code "connections-failed"}, and {@code "replicas"} (one such map per read
   * replica) — see vireo.core/pool-state.
   *
   * <pre>{@code
   * long waiting = ((Number) db.poolState().get("waiting")).longValue();
   * }</pre>
   *
   * @return the pool state
   */
  @SuppressWarnings("unchecked")
  public Map<String, Object> poolState() {
    return (Map<String, Object>) Clj.toJava(Clj.call("pool-state", db));
  }

  /**
   * Allows synchronous calls on this database for the current thread until
   * the returned block is closed (Clojure's {@code with-allow-sync}).
   *
   * <pre>{@code
   * try (AllowSync sync = db.allowSync()) {
   *   PageBlock.createTable(true);
   * }
   * }</pre>
   *
   * @return the open block, to close (try-with-resources)
   */
  public AllowSync allowSync() {
    try {
      return new AllowSync(Clj.bridge().pushAllowSync(db));
    } catch (Throwable t) {
      throw Clj.sneaky(Clj.mapError(t));
    }
  }

  /**
   * Sets the database-wide sync permission: true allows synchronous calls on
   * every thread but event loops, without {@link #allowSync()}.
   *
   * @param allow the new default
   * @return this database
   */
  public Database setAllowSync(boolean allow) {
    Clj.call("set-allow-sync!", db, allow);
    return this;
  }

  // ------------------------------------------------------------ transactions

  private <T> CompletableFuture<T> atomic(String fn, TransactionOptions options,
      Function<? super Transaction, ? extends CompletionStage<T>> body) {
    AFunction f = new AFunction() {
      @Override
      public Object invoke(Object handle) {
        return Clj.toClojureFuture(body.apply(new Transaction(Database.this, handle)));
      }
    };
    try {
      return Clj.aio(Database::cast, fn, db,
          options == null ? clojure.lang.PersistentArrayMap.EMPTY : options.toClojure(), f);
    } catch (Throwable t) {
      return Clj.failed(t);
    }
  }

  @SuppressWarnings("unchecked")
  static <T> T cast(Object v) {
    return (T) v;
  }

  /**
   * Runs {@code body} in a transaction: BEGIN … COMMIT, or a savepoint when a
   * transaction is already open for the task (also in callbacks chained from
   * the body). Every operation the body starts, and those chained on their
   * futures, use the transaction's connection without being told. If the body
   * throws or its stage fails, this block alone is rolled back and the future
   * fails with the same error.
   *
   * <pre>{@code
   * db.aioAtomic(tx -> Account.aioGet(Map.of("owner", "ann"))
   *     .thenCompose(a -> a.set("balance", a.getLong("balance") - 10).aioSave()));
   * }</pre>
   *
   * @param body a function of the transaction handle returning a stage
   * @param <T> the body's result type
   * @return a future of the body's result, after COMMIT (or RELEASE)
   */
  public <T> CompletableFuture<T> aioAtomic(Function<? super Transaction, ? extends CompletionStage<T>> body) {
    return atomic("aio-atomic", null, body);
  }

  /**
   * Like {@link #aioAtomic(Function)} with options for the outermost block
   * (isolation level, read only, retries of serialization failures and
   * deadlocks: {@link TransactionOptions#retry(int)}).
   *
   * @param options the transaction options
   * @param body a function of the transaction handle returning a stage
   * @param <T> the body's result type
   * @return a future of the body's result
   */
  public <T> CompletableFuture<T> aioAtomic(TransactionOptions options,
      Function<? super Transaction, ? extends CompletionStage<T>> body) {
    return atomic("aio-atomic", options, body);
  }

  /**
   * Like {@link #aioAtomic(Function)}, but refuses to nest: inside an open
   * transaction it fails with {@link VireoException} ({@link ErrorType#OPERATIONAL_ERROR}) ("Transaction
   * already opened") before sending any SQL.
   *
   * @param body a function of the transaction handle returning a stage
   * @param <T> the body's result type
   * @return a future of the body's result
   */
  public <T> CompletableFuture<T> aioTransaction(Function<? super Transaction, ? extends CompletionStage<T>> body) {
    return atomic("aio-transaction", null, body);
  }

  /**
   * Like {@link #aioTransaction(Function)} with options.
   *
   * @param options the transaction options
   * @param body a function of the transaction handle returning a stage
   * @param <T> the body's result type
   * @return a future of the body's result
   */
  public <T> CompletableFuture<T> aioTransaction(TransactionOptions options,
      Function<? super Transaction, ? extends CompletionStage<T>> body) {
    return atomic("aio-transaction", options, body);
  }

  /**
   * The read replicas of this database and their state now: one map per
   * replica with {@code "server"} (its description, no password),
   * {@code "up"} (false while it is skipped after a failure) and
   * {@code "in-flight"} (statements running there).
   *
   * @return the replicas, empty without any
   */
  @SuppressWarnings("unchecked")
  public List<Map<String, Object>> replicas() {
    return (List<Map<String, Object>>) Clj.toJava(Clj.call("replicas", db));
  }

  /**
   * Tells whether the current task has a transaction open on this database.
   *
   * @return true inside {@code aioAtomic}/{@code aioTransaction}
   */
  public boolean inTransaction() {
    return RT.booleanCast(Clj.call("in-transaction?", db));
  }

  // ------------------------------------------------------------ SQL and schema

  /**
   * Runs a SQL statement with parameters (placeholders as the database
   * expects: {@code $1} on PostgreSQL, {@code ?} elsewhere).
   *
   * @param sql the statement
   * @param params its parameters
   * @return a future of the rows, row count and generated key
   */
  public CompletableFuture<SqlResult> aioExecuteSql(String sql, Object... params) {
    return Clj.guard(() -> Clj.aio(Database::sqlResult, "aio-execute-sql", db,
        java.util.Objects.requireNonNull(sql, "Vireo: aioExecuteSql needs a SQL statement, got null"), Clj.toClj(params)));
  }

  /**
   * Synchronous {@link #aioExecuteSql(String, Object...)} (needs {@link #allowSync()}).
   *
   * @param sql the statement
   * @param params its parameters
   * @return the rows, row count and generated key
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block
   */
  public SqlResult executeSql(String sql, Object... params) {
    return sqlResult(Clj.call("execute-sql!", db, sql, Clj.toClj(params)));
  }

  @SuppressWarnings("unchecked")
  static SqlResult sqlResult(Object r) {
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Object row : Clj.list(Clj.get(r, "rows"))) {
      rows.add((Map<String, Object>) Clj.toJava(row));
    }
    Object n = Clj.get(r, "row-count");
    return new SqlResult(rows, n == null ? 0 : ((Number) n).longValue(), Clj.toJava(Clj.get(r, "last-insert-id")));
  }

  private static Object models(Model<?>... models) {
    Object[] ms = new Object[models.length];
    for (int i = 0; i < models.length; i++) {
      ms[i] = models[i].toClojure();
    }
    return clojure.lang.PersistentVector.create(ms);
  }

  /**
   * Creates the models' tables (and the through tables of their many-to-many
   * fields) in dependency order.
   *
   * @param safe true to add IF NOT EXISTS
   * @param models the models
   * @return a future completing when done
   */
  public CompletableFuture<Void> aioCreateTables(boolean safe, Model<?>... models) {
    return Clj.guard(() -> Clj.aio(v -> null, "aio-create-tables", models(models), Clj.opts("safe", safe)));
  }

  /**
   * Drops the models' tables (and their through tables), dependants first.
   *
   * @param safe true to add IF EXISTS
   * @param models the models
   * @return a future completing when done
   */
  public CompletableFuture<Void> aioDropTables(boolean safe, Model<?>... models) {
    return Clj.guard(() -> Clj.aio(v -> null, "aio-drop-tables", models(models), Clj.opts("safe", safe)));
  }

  /**
   * Returns the sorted table names of the current database/schema.
   *
   * @return a future of the names
   */
  @SuppressWarnings("unchecked")
  public CompletableFuture<List<String>> aioGetTables() {
    return Clj.guard(() -> Clj.aio(v -> (List<String>) Clj.toJava(v), "aio-get-tables", db));
  }

  /**
   * Tells whether a table exists in the current database/schema (exact name).
   *
   * @param table the table name
   * @return a future of true when it exists
   */
  public CompletableFuture<Boolean> aioTableExists(String table) {
    return Clj.guard(() -> Clj.aio(v -> RT.booleanCast(v), "aio-table-exists", db, table));
  }

  /**
   * Returns the database's description, e.g. {@code sqlite:app.db}.
   *
   * @return a readable form
   */
  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + Clj.call("vireo.impl.db/describe", Clj.call("vireo.impl.ops/database-of", db)) + "]";
  }

  // ------------------------------------------------------------ blocking
  // Each runs its aio- counterpart through vireo.sync: needs allowSync()
  // (or setAllowSync(true)), refused on an event loop, throws Vireo's
  // exception itself.

  /**
   * Blocking {@link #aioConnect()}.
   *
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public void connect() {
    Clj.sync(v -> null, "aio-connect", db);
  }

  /**
   * Closes the pool and waits until it is closed (idempotent), so a
   * database can be a try-with-resources resource. Unlike the other
   * blocking methods it needs no {@link #allowSync()}: closing a pool is a
   * step of the application's lifecycle, not a query. On a Vert.x
   * event-loop thread, where waiting would deadlock the loop, it starts
   * closing and returns at once (use {@link #aioClose()} there to know when
   * it is done).
   *
   * @throws VireoException when the pool fails to close
   */
  @Override
  public void close() {
    CompletableFuture<Void> closing = aioClose();
    if (io.vertx.core.Context.isOnEventLoopThread()) {
      return;
    }
    try {
      closing.join();
    } catch (java.util.concurrent.CompletionException e) {
      throw Clj.sneaky(VireoException.unwrap(e));
    }
  }

  private <T> T syncBlock(String fn, TransactionOptions options, Function<? super Transaction, ? extends T> body) {
    AFunction f = new AFunction() {
      @Override
      public Object invoke(Object handle) {
        return body.apply(new Transaction(Database.this, handle));
      }
    };
    return Clj.sync(Database::cast, fn, db,
        options == null ? clojure.lang.PersistentArrayMap.EMPTY : options.toClojure(), f);
  }

  /**
   * Blocking {@link #aioAtomic(Function)}: runs {@code body} on this thread in a
   * transaction (a savepoint when one is open: it nests with {@code aioAtomic}
   * both ways) and returns its value after COMMIT; if it throws, this block
   * alone is rolled back and the exception propagates. Every operation inside,
   * blocking or not, runs in the transaction.
   * <pre>{@code
   * try (AllowSync sync = db.allowSync()) {
   *   db.atomic(tx -> author.create(Map.of("name", "Ann")));
   * }
   * }</pre>
   *
   * @param body the work, given the transaction
   * @param <T> the body's value
   * @return the body's value
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public <T> T atomic(Function<? super Transaction, ? extends T> body) {
    return atomic(null, body);
  }

  /**
   * Blocking {@link #aioAtomic(TransactionOptions, Function)} (see {@link #atomic(Function)};
   * a retry option is refused: the body runs once).
   *
   * @param options isolation, read-only
   * @param body the work, given the transaction
   * @param <T> the body's value
   * @return the body's value
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public <T> T atomic(TransactionOptions options, Function<? super Transaction, ? extends T> body) {
    return syncBlock("aio-atomic*", options, body);
  }

  /**
   * Blocking {@link #aioTransaction(Function)}: {@link #atomic(Function)} that
   * refuses to nest.
   *
   * @param body the work, given the transaction
   * @param <T> the body's value
   * @return the body's value
   * @throws VireoException ({@link ErrorType#OPERATIONAL_ERROR}) when a transaction is already open
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public <T> T transaction(Function<? super Transaction, ? extends T> body) {
    return syncBlock("aio-transaction*", null, body);
  }

  /**
   * Blocking {@link #aioCreateTables(boolean, Model...)}.
   *
   * @param safe add IF NOT EXISTS
   * @param models the models
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public void createTables(boolean safe, Model<?>... models) {
    Clj.sync(v -> null, "aio-create-tables", models(models), Clj.opts("safe", safe));
  }

  /**
   * Blocking {@link #aioDropTables(boolean, Model...)}.
   *
   * @param safe add IF EXISTS
   * @param models the models
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public void dropTables(boolean safe, Model<?>... models) {
    Clj.sync(v -> null, "aio-drop-tables", models(models), Clj.opts("safe", safe));
  }

  /**
   * Blocking {@link #aioGetTables()}.
   *
   * @return the sorted table names
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  @SuppressWarnings("unchecked")
  public List<String> getTables() {
    return Clj.sync(v -> (List<String>) Clj.toJava(v), "aio-get-tables", db);
  }

  /**
   * Blocking {@link #aioTableExists(String)}.
   *
   * @param table the table name
   * @return true when it exists
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public boolean tableExists(String table) {
    return Clj.sync(v -> RT.booleanCast(v), "aio-table-exists", db, table);
  }

  // ------------------------------------------------------------ deferred databases and proxies

  /**
   * Returns a deferred database of a backend: made now (models can name it),
   * told where it is later with {@link #init(DatabaseOptions)}; until then
   * every operation fails with {@link io.vireo.exception.VireoException} of type {@link io.vireo.exception.ErrorType#NOT_INITIALIZED}.
   *
   * @param backend the backend
   * @return the database, not yet usable
   */
  public static Database deferred(Backend backend) {
    java.util.Objects.requireNonNull(backend, "Vireo: deferred needs a backend");
    return of(backend == Backend.SQLITE ? Clj.call(backend.constructor, null, clojure.lang.PersistentArrayMap.EMPTY)
        : Clj.call(backend.constructor, clojure.lang.PersistentArrayMap.EMPTY));
  }

  /**
   * Completes a deferred database (or changes a database's options) before it
   * is connected (Clojure's {@code init!}): the database name and server, or
   * a SQLite file's {@link DatabaseOptions#path(String)}.
   *
   * @param options the options, over those the database has
   * @return this database
   * @throws io.vireo.exception.VireoException (INTERFACE_ERROR) while it is connected, when the options
   *     still name no database, or for an unknown option
   */
  public Database init(DatabaseOptions options) {
    java.util.Objects.requireNonNull(options, "Vireo: init needs options");
    Clj.call("init!", db, options.toClojure());
    return this;
  }

  /**
   * Returns an unbound database proxy (Clojure's {@code database-proxy}).
   *
   * @return the proxy, to {@link DatabaseProxy#initialize(Database)} later
   */
  public static DatabaseProxy proxy() {
    return new DatabaseProxy(Clj.call("database-proxy"));
  }

  // ------------------------------------------------------------ connections and manual transactions

  /**
   * Runs {@code body} with one pooled connection pinned, without a transaction
   * (Clojure's {@code aio-connection}): every operation it starts, and those
   * chained on their futures, runs on that connection, in the order started.
   * Nested, it reuses the connection; the outermost releases it once the body's
   * stage and everything started inside have finished. Inside, manual
   * transactions are available: {@link #aioBegin()}, {@link #aioSavepoint()}.
   *
   * @param body a function of the connection's handle returning a stage
   * @param <T> the body's result type
   * @return a future of the body's result
   */
  public <T> CompletableFuture<T> aioConnection(Function<? super Connection, ? extends CompletionStage<T>> body) {
    return Connection.open(this, body);
  }

  /**
   * Inside {@link #aioConnection}: sends BEGIN on its connection (Clojure's
   * {@code aio-begin}); see {@link Connection#aioBegin()}.
   *
   * @return a future of the handle to commit or roll back; fails with
   *     {@link io.vireo.exception.VireoException} of type {@link io.vireo.exception.ErrorType#OPERATIONAL_ERROR} outside an {@code aioConnection} scope
   */
  public CompletableFuture<ManualTransaction> aioBegin() {
    return ManualTransaction.begin(this, null, null);
  }

  /**
   * Like {@link #aioBegin()} with isolation level and read-only mode.
   *
   * @param options the transaction options (no retry, no timeout)
   * @return a future of the handle
   */
  public CompletableFuture<ManualTransaction> aioBegin(TransactionOptions options) {
    return ManualTransaction.begin(this, null, options);
  }

  /**
   * Inside {@link #aioConnection} with a transaction open: sends SAVEPOINT
   * (Clojure's {@code aio-savepoint}).
   *
   * @return a future of the savepoint's handle
   */
  public CompletableFuture<ManualTransaction> aioSavepoint() {
    return ManualTransaction.savepoint(this, null);
  }

  // ------------------------------------------------------------ plain queries and streams

  /**
   * Runs a plain query and yields its rows: a select, or a write with
   * {@link Query#returning(String...)}. Column names are kebab-cased.
   *
   * @param query the query
   * @return a future of the rows; fails with {@link io.vireo.exception.VireoException} of type {@link io.vireo.exception.ErrorType#INTERFACE_ERROR}
   *     for a query that yields no rows (use {@link #aioExecute(Query)})
   */
  public CompletableFuture<List<Map<String, Object>>> aioQuery(Query query) {
    return Clj.guard(() -> Clj.aio(v -> {
      if (!(v instanceof java.util.List)) {
        throw (RuntimeException) Clj.call("vireo.impl.errors/error", Clj.keyword("vireo/interface-error"),
            "aioQuery runs queries that yield rows (a select, or a write with returning(…));"
                + " use aioExecute for an INSERT, UPDATE or DELETE without RETURNING",
            clojure.lang.PersistentArrayMap.EMPTY);
      }
      return rows(v);
    }, "aio-execute", db, java.util.Objects.requireNonNull(query, "Vireo: aioQuery needs a query").form()));
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> rows(Object v) {
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Object row : Clj.list(v)) {
      rows.add((Map<String, Object>) Clj.toJava(row));
    }
    return rows;
  }

  /**
   * Runs a plain query (Clojure's {@code aio-execute} of query data): yields
   * the rows (a {@code List} of maps) of a select or RETURNING, the number of
   * rows an UPDATE or DELETE changed ({@code Long}), the key an INSERT
   * generated where the driver reports one (MySQL, SQLite; else {@code null}).
   *
   * @param query the query
   * @return a future of the result
   */
  public CompletableFuture<Object> aioExecute(Query query) {
    return Clj.guard(() -> Clj.aio(v -> v instanceof java.util.List ? rows(v)
        : v instanceof Integer || v instanceof Short ? (Object) ((Number) v).longValue() : Clj.toJava(v), "aio-execute", db,
        java.util.Objects.requireNonNull(query, "Vireo: aioExecute needs a query").form()));
  }

  /**
   * The rows of a SQL select as a {@link java.util.concurrent.Flow.Publisher},
   * streamed over a cursor with back-pressure (see {@link SelectQuery#publisher()}).
   *
   * @param sql the select
   * @param params its parameters
   * @return the publisher of rows (maps, kebab-cased column names)
   */
  @SuppressWarnings("unchecked")
  public java.util.concurrent.Flow.Publisher<Map<String, Object>> publisher(String sql, Object... params) {
    java.util.Objects.requireNonNull(sql, "Vireo: publisher needs a SQL statement");
    return new RowPublisher<>(db, sql, Clj.opts("params", Clj.toClj(params)),
        row -> (Map<String, Object>) Clj.toJava(row));
  }

  /**
   * The rows of a plain select as a {@link java.util.concurrent.Flow.Publisher}
   * (see {@link SelectQuery#publisher()}).
   *
   * @param query the select
   * @return the publisher of rows (maps, kebab-cased column names)
   */
  @SuppressWarnings("unchecked")
  public java.util.concurrent.Flow.Publisher<Map<String, Object>> publisher(Query query) {
    java.util.Objects.requireNonNull(query, "Vireo: publisher needs a query");
    return new RowPublisher<>(db, query.form(), Clj.opts(), row -> (Map<String, Object>) Clj.toJava(row));
  }

  // ------------------------------------------------------------ schema helpers and capabilities

  /**
   * Tells whether a PostgreSQL sequence exists (serial keys use
   * {@code <table>_<column>_seq}); false on the other backends.
   *
   * @param sequence the sequence name
   * @return a future of true when it exists
   */
  public CompletableFuture<Boolean> aioSequenceExists(String sequence) {
    return Clj.guard(() -> Clj.aio(v -> RT.booleanCast(v), "aio-sequence-exists", db,
        java.util.Objects.requireNonNull(sequence, "Vireo: aioSequenceExists needs a name")));
  }

  /**
   * What the server can do, as detected when the pool opened (opening it if
   * needed): its name and version and the statements that may carry RETURNING.
   *
   * @return a future of the capabilities; fails with {@link io.vireo.exception.VireoException} of type {@link io.vireo.exception.ErrorType#POOL_CLOSED} after {@link #aioClose()}
   */
  public CompletableFuture<Capabilities> aioCapabilities() {
    return Clj.guard(() -> Clj.aio(Capabilities::of, "capabilities", db));
  }
}
