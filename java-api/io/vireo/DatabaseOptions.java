package io.vireo;

import io.vireo.exception.ConnectionErrorException;
import io.vireo.exception.ErrorType;
import io.vireo.exception.TimeoutErrorException;
import io.vireo.exception.VireoException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Options for a database: connection settings, pool settings, a Vert.x
 * instance of your own, the sync permission. Every setter returns this
 * builder; unset options keep Vireo's defaults. An option a backend does not
 * know is refused by name ({@link VireoException} ({@link ErrorType#INTERFACE_ERROR})) when the database
 * is made, so a typo never goes unnoticed.
 *
 * <pre>{@code
 * Database db = new PostgresqlDatabase("postgresql://app@db:5432/app",
 *     DatabaseOptions.create().maxSize(16).connectionTimeout(Duration.ofSeconds(5)));
 * }</pre>
 *
 * <p>{@link #set(String, Object)} sets any option by its Clojure name
 * (e.g. {@code "prepared-statement-cache-max-size"}).
 */
public final class DatabaseOptions {
  private final Map<String, Object> opts = new LinkedHashMap<>();

  private DatabaseOptions() {}

  /**
   * Returns empty options (every option at its default).
   *
   * @return new options
   */
  public static DatabaseOptions create() {
    return new DatabaseOptions();
  }

  /**
   * Sets an option by its Clojure name (the keyword without the colon). The
   * value is passed as given (Java maps and lists become Clojure data).
   *
   * @param name the option, e.g. {@code "max-size"}
   * @param value its value
   * @return these options
   */
  public DatabaseOptions set(String name, Object value) {
    opts.put(name, value);
    return this;
  }

  /**
   * Sets the server host ({@code "127.0.0.1"}).
   *
   * @param host the host
   * @return these options
   */
  public DatabaseOptions host(String host) {
    return set("host", host);
  }

  /**
   * Sets the server port (5432 / 3306).
   *
   * @param port the port
   * @return these options
   */
  public DatabaseOptions port(int port) {
    return set("port", (long) port);
  }

  /**
   * Sets the database name.
   *
   * @param database the name
   * @return these options
   */
  public DatabaseOptions database(String database) {
    return set("database", database);
  }

  /**
   * Sets a SQLite database's file path (or {@code ":memory:"}), for
   * {@link Database#init(DatabaseOptions)} of a deferred SQLite database.
   *
   * @param path the file path
   * @return these options
   */
  public DatabaseOptions path(String path) {
    return set("path", path);
  }

  /**
   * Sets the user ({@code "postgres"} / {@code "root"}).
   *
   * @param user the user
   * @return these options
   */
  public DatabaseOptions user(String user) {
    return set("user", user);
  }

  /**
   * Sets the password.
   *
   * @param password the password
   * @return these options
   */
  public DatabaseOptions password(String password) {
    return set("password", password);
  }

  /**
   * Sets the pool's maximum size (10 for servers, 4 for SQLite).
   *
   * @param maxSize the number of connections
   * @return these options
   */
  public DatabaseOptions maxSize(int maxSize) {
    return set("max-size", (long) maxSize);
  }

  /**
   * Sets how many requests may wait for a connection (unbounded by default).
   *
   * @param size the queue size
   * @return these options
   */
  public DatabaseOptions maxWaitQueueSize(int size) {
    return set("max-wait-queue-size", (long) size);
  }

  /**
   * Sets how long a connection may stay idle in the pool.
   *
   * @param timeout the duration (millisecond precision)
   * @return these options
   */
  public DatabaseOptions idleTimeout(Duration timeout) {
    return set("idle-timeout", timeout.toMillis());
  }

  /**
   * Sets how long to wait for a pooled connection; then the operation fails
   * with a {@link TimeoutErrorException}.
   *
   * @param timeout the duration (millisecond precision)
   * @return these options
   */
  public DatabaseOptions connectionTimeout(Duration timeout) {
    return set("connection-timeout", timeout.toMillis());
  }

  /**
   * Records Micrometer meters (statement and transaction timers, error
   * counters, pool gauges) in {@code registry}, an
   * {@code io.micrometer.core.instrument.MeterRegistry} (Micrometer is an
   * optional dependency: without {@code io.micrometer:micrometer-core} on the
   * classpath the database is refused with an {@link VireoException} ({@link ErrorType#INTERFACE_ERROR})
   * naming it). See docs/observability.md.
   *
   * <pre>{@code
   * DatabaseOptions.create().metrics(new SimpleMeterRegistry());
   * }</pre>
   *
   * @param registry a MeterRegistry (null: Micrometer's global registry)
   * @return these options
   */
  public DatabaseOptions metrics(Object registry) {
    Map<String, Object> m = new LinkedHashMap<>();
    if (registry != null) {
      m.put("registry", registry);
    }
    return set("metrics", m);
  }

  /**
   * Traces every statement and transaction block as OpenTelemetry spans of
   * {@code openTelemetry}, an {@code io.opentelemetry.api.OpenTelemetry}
   * (optional dependency {@code io.opentelemetry:opentelemetry-api}), parented
   * to the span current when each operation is called. Parameter values are
   * never recorded. See docs/observability.md.
   *
   * @param openTelemetry an OpenTelemetry (null: GlobalOpenTelemetry)
   * @return these options
   */
  public DatabaseOptions tracing(Object openTelemetry) {
    Map<String, Object> m = new LinkedHashMap<>();
    if (openTelemetry != null) {
      m.put("open-telemetry", openTelemetry);
    }
    return set("tracing", m);
  }

  /**
   * Logs every statement lasting at least {@code threshold} at WARN on logger
   * {@code vireo.slow}, with its duration, operation, model and SQL
   * (parameters redacted).
   *
   * @param threshold the threshold (millisecond precision, at least 1 ms)
   * @return these options
   */
  public DatabaseOptions slowQuery(Duration threshold) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("threshold-ms", threshold.toMillis());
    return set("slow-query", m);
  }

  /**
   * Sets the maximum lifetime of a pooled connection.
   *
   * @param lifetime the duration (millisecond precision)
   * @return these options
   */
  public DatabaseOptions maxLifetime(Duration lifetime) {
    return set("max-lifetime", lifetime.toMillis());
  }

  /**
   * Sets the number of event loops the pool uses.
   *
   * @param size the number of loops
   * @return these options
   */
  public DatabaseOptions eventLoopSize(int size) {
    return set("event-loop-size", (long) size);
  }

  /**
   * Runs the database on your application's Vert.x instance; Vireo then
   * never closes it. Without it the database runs on the one Vert.x instance
   * Vireo shares between its databases (daemon threads, closed with the last
   * open pool and at JVM exit).
   *
   * @param vertx an {@code io.vertx.core.Vertx}
   * @return these options
   */
  public DatabaseOptions vertx(io.vertx.core.Vertx vertx) {
    return set("vertx", vertx);
  }

  /**
   * Sets the database-wide sync permission (false: synchronous calls need
   * {@link Database#allowSync()}).
   *
   * @param allow true to allow synchronous calls everywhere but on event loops
   * @return these options
   */
  public DatabaseOptions allowSync(boolean allow) {
    return set("allow-sync", allow);
  }

  /**
   * Sets SQLite's busy timeout (5 s).
   *
   * @param timeout the duration (millisecond precision)
   * @return these options
   */
  public DatabaseOptions busyTimeout(Duration timeout) {
    return set("busy-timeout", timeout.toMillis());
  }

  /**
   * Adds server startup parameters (PostgreSQL) or connection properties (MySQL).
   *
   * @param properties name to value
   * @return these options
   */
  public DatabaseOptions properties(Map<String, String> properties) {
    return set("properties", new LinkedHashMap<>(properties));
  }

  /**
   * Sets several servers to choose from, each {@code "host"} or
   * {@code "host:port"}, tried in order for each new connection; see
   * {@link #targetServerType(String)}.
   *
   * @param hosts the servers, in order of preference
   * @return these options
   */
  public DatabaseOptions hosts(java.util.List<String> hosts) {
    return set("hosts", new java.util.ArrayList<>(hosts));
  }

  /**
   * Sets which of the {@link #hosts(java.util.List)} a new connection may use
   * (libpq's {@code target_session_attrs}): {@code "any"} (the default),
   * {@code "primary"} ({@code "read-write"}), {@code "standby"}
   * ({@code "read-only"}) or {@code "prefer-standby"}.
   *
   * @param type the server type
   * @return these options
   */
  public DatabaseOptions targetServerType(String type) {
    return set("target-server-type", type);
  }

  /**
   * Sets a password supplier, called for each new connection the pool opens
   * (instead of a fixed {@link #password(String)}): for rotating passwords
   * and cloud IAM tokens. A supplier that fails, or completes with
   * {@code null}, fails that connection with a {@link ConnectionErrorException}.
   *
   * @param supplier gives the password, asynchronously
   * @return these options
   */
  public DatabaseOptions passwordSupplier(Supplier<? extends CompletionStage<String>> supplier) {
    return set("password-fn", java.util.Objects.requireNonNull(supplier, "Vireo: passwordSupplier needs a supplier"));
  }

  /**
   * Sets the TLS mode: {@code "disable"} (the default), {@code "allow"}
   * (PostgreSQL), {@code "prefer"}, {@code "require"}, {@code "verify-ca"},
   * {@code "verify-full"}; MySQL's names ({@code "REQUIRED"},
   * {@code "VERIFY_IDENTITY"}, …) are accepted too. The verify modes check the
   * server's certificate against {@link #sslRootCert(Path)} or
   * {@link #sslTrustStore(Path, String)} (else the JVM's trust store);
   * {@code verify-full} checks the host name too.
   *
   * @param mode the mode
   * @return these options
   */
  public DatabaseOptions sslMode(String mode) {
    return set("ssl-mode", mode);
  }

  /**
   * Sets the CA certificate(s), a PEM file, the server's certificate is
   * checked against.
   *
   * @param pemFile the PEM file
   * @return these options
   */
  public DatabaseOptions sslRootCert(Path pemFile) {
    return set("ssl-root-cert", pemFile.toString());
  }

  /**
   * Sets the client certificate and its (unencrypted) private key, PEM files,
   * for servers that authenticate clients by certificate.
   *
   * @param certFile the certificate's PEM file
   * @param keyFile the private key's PEM file
   * @return these options
   */
  public DatabaseOptions sslClientCert(Path certFile, Path keyFile) {
    set("ssl-cert", certFile.toString());
    return set("ssl-key", keyFile.toString());
  }

  /**
   * Sets a trust store (PKCS#12 {@code .p12}/{@code .pfx} or JKS
   * {@code .jks}) holding the CA certificate(s), instead of
   * {@link #sslRootCert(Path)}.
   *
   * @param store the store file
   * @param password its password, or {@code null}
   * @return these options
   */
  public DatabaseOptions sslTrustStore(Path store, String password) {
    set("ssl-trust-store", store.toString());
    return password == null ? this : set("ssl-trust-store-password", password);
  }

  /**
   * Sets the PostgreSQL {@code application_name} the server shows for these
   * connections (in {@code pg_stat_activity}).
   *
   * @param name the name
   * @return these options
   */
  public DatabaseOptions applicationName(String name) {
    return set("application-name", name);
  }

  /**
   * Sets a statement timeout the server enforces on every statement
   * (PostgreSQL's {@code statement_timeout}, MariaDB's
   * {@code max_statement_time}): a statement running longer is cancelled by
   * the server and fails with a {@link TimeoutErrorException}.
   *
   * @param timeout the longest a statement may run
   * @return these options
   */
  public DatabaseOptions statementTimeout(Duration timeout) {
    return set("statement-timeout", timeout.toMillis());
  }

  /**
   * Sets the default deadline of every outermost transaction
   * ({@code aioAtomic}, {@code aioTransaction}) of the database, as
   * {@link TransactionOptions#timeout(Duration)} gives one transaction: when
   * it has not committed in time, its running statement is cancelled on the
   * server, it rolls back and fails with {@link TimeoutErrorException}.
   *
   * @param timeout at least 1 ms
   * @return these options
   */
  public DatabaseOptions transactionTimeout(Duration timeout) {
    return set("transaction-timeout", timeout.toMillis());
  }

  /**
   * Sets statements run on every new pooled connection, in order, before it
   * is used: session settings such as {@code "SET SESSION wsrep_sync_wait = 1"}.
   * A statement that fails closes that connection and fails the operation
   * waiting for it with a {@link ConnectionErrorException} naming the
   * statement.
   *
   * @param statements the SQL statements
   * @return these options
   */
  public DatabaseOptions initSql(String... statements) {
    return set("init-sql", java.util.List.of(statements));
  }

  /**
   * Sets the read replicas: reads outside any transaction or connection scope
   * (a SELECT without FOR UPDATE/SHARE) go to one of them, everything else to
   * this database's server. Each entry is a URL of the same backend or a
   * {@code DatabaseOptions}, over this database's options (credentials, TLS,
   * pool size…). A replica that fails is skipped for
   * {@link #replicaRetry(Duration)} and its reads go to the others or the
   * primary; see {@link Vireo#withRoute(Route, Supplier)} and
   * docs/deployment.md.
   *
   * <pre>{@code
   * new DatabaseOptions().replicas(List.of("postgresql://app@replica1/app", "postgresql://app@replica2/app"))
   * }</pre>
   *
   * @param replicas URLs ({@code String}) or {@code DatabaseOptions}
   * @return these options
   */
  public DatabaseOptions replicas(java.util.List<?> replicas) {
    java.util.List<Object> copy = new java.util.ArrayList<>();
    for (Object r : replicas) {
      if (!(r instanceof String || r instanceof DatabaseOptions)) {
        throw new IllegalArgumentException("Vireo: replicas are URLs (String) or DatabaseOptions, got "
            + (r == null ? "null" : r.getClass().getName()));
      }
      copy.add(r instanceof DatabaseOptions ? new DatabaseOptions().setAll((DatabaseOptions) r) : r);
    }
    return set("replicas", copy);
  }

  private DatabaseOptions setAll(DatabaseOptions other) {
    opts.putAll(other.opts);
    return this;
  }

  /**
   * Sets how reads are spread over the {@link #replicas(java.util.List)}:
   * {@code "round-robin"} (the default) or {@code "least-busy"} (the replica
   * with the fewest statements in flight).
   *
   * @param strategy the strategy
   * @return these options
   */
  public DatabaseOptions replicaStrategy(String strategy) {
    return set("replica-strategy", strategy);
  }

  /**
   * Sets the read-your-writes window: for this long after a write completes,
   * reads go to the primary (after any write through the database, or, inside
   * {@link Vireo#withOwnWrites(Supplier)}, after that block's own writes).
   *
   * @param window how long reads stay on the primary
   * @return these options
   */
  public DatabaseOptions readYourWrites(Duration window) {
    return set("read-your-writes-ms", window.toMillis());
  }

  /**
   * Sets how long a replica that failed (unreachable, connection lost) is
   * skipped before it is tried again (default 5 s).
   *
   * @param time how long it is skipped
   * @return these options
   */
  public DatabaseOptions replicaRetry(Duration time) {
    return set("replica-retry-ms", time.toMillis());
  }

  /**
   * Returns the options set so far, by Clojure name.
   *
   * @return a copy of the options
   */
  public Map<String, Object> toMap() {
    return new LinkedHashMap<>(opts);
  }

  Object toClojure() {
    Map<String, Object> m = new LinkedHashMap<>(opts);
    Object reps = m.get("replicas");
    if (reps instanceof java.util.List) {
      java.util.List<Object> cl = new java.util.ArrayList<>();
      for (Object r : (java.util.List<?>) reps) {
        cl.add(r instanceof DatabaseOptions ? ((DatabaseOptions) r).toClojure() : r);
      }
      m.put("replicas", Clj.vec(cl.toArray()));
    }
    Object props = m.get("properties");
    if (props instanceof Map) {
      // startup parameters keep their string names
      m.put("properties", clojure.lang.PersistentArrayMap.create(new LinkedHashMap<>((Map<?, ?>) props)));
    }
    return Clj.map(m);
  }
}
