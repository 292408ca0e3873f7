package io.vireo.test;

import io.vireo.Database;
import io.vireo.DatabaseOptions;
import io.vireo.SqliteDatabase;
import java.io.File;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;

/** The test databases, from the same environment variables as the Clojure suite. */
final class Backends {
  private Backends() {}

  static final String PG_URL = env("VIREO_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/vireo_test");
  static final String MYSQL_URL = env("VIREO_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/vireo_test");

  static String env(String name, String dflt) {
    String v = System.getenv(name);
    return v == null || v.isEmpty() ? dflt : v;
  }

  static boolean enabled(String backend) {
    return Arrays.asList(env("VIREO_TEST_BACKENDS", "pg,mysql,sqlite").split(",")).contains(backend);
  }

  /** A fresh SQLite file under target/java-test. */
  static Database sqlite(String name) {
    Assumptions.assumeTrue(enabled("sqlite"), "sqlite not in VIREO_TEST_BACKENDS");
    File dir = new File("target/java-test");
    dir.mkdirs();
    for (String suffix : new String[] {"", "-wal", "-shm"}) {
      new File(dir, name + ".db" + suffix).delete();
    }
    return new SqliteDatabase(new File(dir, name + ".db").getPath());
  }

  /** PostgreSQL at VIREO_TEST_PG_URL; skipped when absent (a failure under CI=true). */
  static Database pg() {
    Assumptions.assumeTrue(enabled("pg"), "pg not in VIREO_TEST_BACKENDS");
    return reachable("PostgreSQL", PG_URL, new io.vireo.PostgresqlDatabase(PG_URL, DatabaseOptions.create().maxSize(4)));
  }

  /** MySQL/MariaDB at VIREO_TEST_MYSQL_URL; skipped when absent (a failure under CI=true). */
  static Database mysql() {
    Assumptions.assumeTrue(enabled("mysql"), "mysql not in VIREO_TEST_BACKENDS");
    return reachable("MySQL/MariaDB", MYSQL_URL, new io.vireo.MySQLDatabase(MYSQL_URL, DatabaseOptions.create().maxSize(4)));
  }

  /** The server options of a test URL (host, port, database, user), for Database.init. */
  static DatabaseOptions serverOptions(java.net.URI u, String defaultUser) {
    String user = u.getUserInfo() == null ? defaultUser : u.getUserInfo().split(":")[0];
    return DatabaseOptions.create().host(u.getHost()).port(u.getPort()).database(u.getPath().substring(1)).user(user);
  }

  private static Database reachable(String what, String url, Database db) {
    try {
      db.aioExecuteSql("SELECT 1").join();
    } catch (RuntimeException e) {
      db.aioClose().join();
      if ("true".equals(System.getenv("CI"))) {
        throw new AssertionError(what + " unavailable at " + url, e);
      }
      Assumptions.abort(what + " unavailable at " + url + ": " + e);
    }
    return db;
  }
}
