package io.vireo;

import clojure.lang.AFunction;
import clojure.lang.RT;
import io.vireo.exception.TimeoutErrorException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Entry point of Vireo's Java API.
 *
 * <p>Vireo brings peewee-async's programming model to the JVM: models are
 * data, every {@code aio*} operation returns a {@link java.util.concurrent.CompletableFuture}
 * running on a Vert.x 5 SQL pool, and synchronous queries are refused unless
 * explicitly allowed. Start with a {@link Database} ({@link PostgresqlDatabase},
 * {@link MySQLDatabase}, {@link SqliteDatabase}, {@link Database#fromUrl(String)})
 * and a {@link Model} ({@link Model#builder(String)}); see docs/java.md.
 * This class reports the library version and counts statements.
 */
public final class Vireo {
  private Vireo() {}

  /**
   * Returns the version of the Vireo jar on the classpath.
   *
   * @return the version string, e.g. {@code "0.1.0"}, or {@code "unknown"}
   *     when the version resource is missing
   */
  public static String version() {
    Properties p = new Properties();
    try (InputStream in = Vireo.class.getResourceAsStream("/vireo/version.properties")) {
      if (in == null) {
        return "unknown";
      }
      p.load(in);
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  /**
   * Runs {@code body}, counting the SQL statements it sends, also from the
   * operations it starts asynchronously and the stages chained on Vireo's
   * futures (the count of a test asserting "one query per level", say).
   * Counters nest: an outer count includes an inner one's statements.
   *
   * <pre>{@code
   * CallCount<List<Instance>> r = Vireo.withCallCount(() -> Author.select().aioPrefetch(Book.select())).join();
   * assertEquals(2, r.count());
   * }</pre>
   *
   * @param body starts the work and returns its stage
   * @param <T> the result type
   * @return a future of the result and the count, once the body's stage completed
   */
  public static <T> CompletableFuture<CallCount<T>> withCallCount(Supplier<? extends CompletionStage<T>> body) {
    return Clj.guard(() -> {
      java.util.Objects.requireNonNull(body, "Vireo: withCallCount needs a body");
      AFunction f = thunk(body);
      return Clj.aio(v -> new CallCount<>(Database.<T>cast(RT.nth(v, 0)), ((Number) RT.nth(v, 1)).longValue()),
          "vireo.impl.executor/call-count*", f);
    });
  }

  /**
   * Runs {@code body} with the reads it starts (and those of the stages
   * chained on Vireo's futures) sent to {@code route}, on every database with
   * read replicas. Inside a transaction everything runs on its connection
   * (the primary's); without replicas both routes are the one server.
   *
   * <pre>{@code
   * Instance fresh = Vireo.withRoute(Route.PRIMARY, () -> Account.aioGet(Map.of("id", 7))).join();
   * }</pre>
   *
   * @param route where the reads go
   * @param body starts the work and returns its stage
   * @param <T> the result type
   * @return the body's stage, as a Vireo future
   */
  public static <T> CompletableFuture<T> withRoute(Route route, Supplier<? extends CompletionStage<T>> body) {
    return Clj.guard(() -> {
      java.util.Objects.requireNonNull(route, "Vireo: withRoute needs a route");
      java.util.Objects.requireNonNull(body, "Vireo: withRoute needs a body");
      AFunction f = thunk(body);
      return Clj.aio(Database::cast, "vireo.impl.routing/with-route*", route.toClojure(), f);
    });
  }

  /**
   * Runs {@code body} with a read-your-writes window of its own
   * ({@link DatabaseOptions#readYourWrites(java.time.Duration)}): its reads
   * stay on the primary after a write of this body (or of the work it
   * starts), and other writes through the database do not pin its reads.
   *
   * @param body starts the work and returns its stage
   * @param <T> the result type
   * @return the body's stage, as a Vireo future
   */
  public static <T> CompletableFuture<T> withOwnWrites(Supplier<? extends CompletionStage<T>> body) {
    return Clj.guard(() -> {
      java.util.Objects.requireNonNull(body, "Vireo: withOwnWrites needs a body");
      AFunction f = thunk(body);
      return Clj.aio(Database::cast, "vireo.impl.routing/with-own-writes*", f);
    });
  }

  /**
   * Runs {@code body} with a deadline the server enforces: when the work it
   * starts has not completed within {@code timeout}, the statement it is
   * running is cancelled on the server (PostgreSQL's cancel request, MariaDB's
   * {@code KILL QUERY}, SQLite's interrupt), a transaction it opened rolls
   * back, and the returned future fails with {@link TimeoutErrorException}
   * naming the statement. Cancelling the returned future does the same at
   * once. A transaction whose COMMIT was already sent is no longer cancelled:
   * the future then completes with the COMMIT's outcome. Transactions take
   * {@link TransactionOptions#timeout(java.time.Duration)} too.
   *
   * <pre>{@code
   * Instance a = Vireo.withTimeout(Duration.ofSeconds(2), () -> Account.aioGet(7)).join();
   * }</pre>
   *
   * @param timeout how long the work may take (at least 1 ms)
   * @param body starts the work and returns its stage
   * @param <T> the result type
   * @return the body's stage, as a Vireo future
   */
  public static <T> CompletableFuture<T> withTimeout(java.time.Duration timeout, Supplier<? extends CompletionStage<T>> body) {
    return Clj.guard(() -> {
      java.util.Objects.requireNonNull(timeout, "Vireo: withTimeout needs a timeout");
      java.util.Objects.requireNonNull(body, "Vireo: withTimeout needs a body");
      long ms = timeout.toMillis();
      if (ms < 1) {
        throw new IllegalArgumentException("Vireo: withTimeout needs a timeout of at least 1 ms, got " + timeout);
      }
      AFunction f = thunk(body);
      return Clj.aio(Database::cast, "vireo.impl.cancel/run-op*", "withTimeout", ms, f);
    });
  }

  /** A Clojure function of no arguments starting {@code body}, its stage as a Clojure future. */
  private static AFunction thunk(Supplier<? extends CompletionStage<?>> body) {
    return new AFunction() {
      @Override
      public Object invoke() {
        return Clj.toClojureFuture(body.get());
      }
    };
  }
}
