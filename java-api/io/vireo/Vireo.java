package io.vireo;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * Entry point of Vireo's Java API.
 *
 * <p>Vireo brings peewee-async's programming model to the JVM: models are
 * data, every {@code aio*} operation returns a {@link java.util.concurrent.CompletableFuture}
 * running on a Vert.x 5 SQL pool, and synchronous queries are refused unless
 * explicitly allowed. Start with a {@link Database} ({@link PostgresqlDatabase},
 * {@link MySQLDatabase}, {@link SqliteDatabase}, {@link Database#fromUrl(String)})
 * and a {@link Model} ({@link Model#builder(String)}); see docs/java.md.
 * This class reports the library version.
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
}
