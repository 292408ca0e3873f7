package io.vireo;

import clojure.lang.AFunction;
import clojure.lang.RT;
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
      AFunction f = new AFunction() {
        @Override
        public Object invoke() {
          return Clj.toClojureFuture(body.get());
        }
      };
      return Clj.aio(v -> new CallCount<>(Database.<T>cast(RT.nth(v, 0)), ((Number) RT.nth(v, 1)).longValue()),
          "vireo.impl.executor/call-count*", f);
    });
  }
}
