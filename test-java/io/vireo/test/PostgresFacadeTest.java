package io.vireo.test;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vireo.Database;
import io.vireo.DatabaseOptions;
import io.vireo.PostgresqlDatabase;
import io.vireo.Where;
import io.vertx.core.Vertx;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The facade contract on PostgreSQL (VIREO_TEST_PG_URL). */
class PostgresFacadeTest extends FacadeContract {
  @Override
  Database open() {
    return Backends.pg();
  }

  @Override
  Database fresh() {
    return new PostgresqlDatabase(Backends.PG_URL, DatabaseOptions.create().maxSize(2));
  }

  @Override
  String backend() {
    return "pg";
  }

  /** test-java/run ran examples/java-quickstart on this database before: drop its table. */
  @AfterAll
  void dropQuickstartTable() {
    if (db != null) {
      db.aioExecuteSql("DROP TABLE IF EXISTS pageblock").join();
    }
  }

  @Test
  void forUpdateAndIlike() {
    ann();
    assertEquals(1, db.aioAtomic(tx -> author.select().where(Where.ilike("name", "ANN")).forUpdate().aioExecute()
        .thenCombine(author.select().forUpdate("share").aioExecute(), (a, b) -> a.size())).join());
  }

  @Test
  void bringYourOwnVertx() {
    Vertx vertx = Vertx.vertx();
    try {
      Database own = new PostgresqlDatabase(Backends.PG_URL, DatabaseOptions.create().vertx(vertx).maxSize(2));
      assertEquals(1L, own.aioExecuteSql("SELECT 1").join().rowCount());
      own.aioClose().join();
      // Vireo never closes a Vert.x it did not create
      assertEquals(42, vertx.executeBlocking(() -> 42).toCompletionStage().toCompletableFuture().join());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
  }

  @Test
  void databaseFromOptionsAndUrlKinds() {
    java.net.URI u = java.net.URI.create(Backends.PG_URL);
    Database fromOpts = new PostgresqlDatabase(DatabaseOptions.create()
        .host(u.getHost()).port(u.getPort()).database(u.getPath().substring(1))
        .user(u.getUserInfo() == null ? "postgres" : u.getUserInfo().split(":")[0])
        .connectionTimeout(java.time.Duration.ofSeconds(5)).idleTimeout(java.time.Duration.ofMinutes(1))
        .maxLifetime(java.time.Duration.ofMinutes(10)).maxWaitQueueSize(100).eventLoopSize(1)
        .properties(Map.of("application_name", "vireo-java-test")));
    assertEquals(java.util.List.of(Map.of("application-name", "vireo-java-test")),
        fromOpts.aioExecuteSql("SELECT current_setting('application_name') AS application_name").join().rows());
    assertEquals(5000L, ((Number) fromOpts.poolOptions().get("connection-timeout")).longValue());
    fromOpts.aioClose().join();
    assertEquals(PostgresqlDatabase.class, Database.fromUrl(Backends.PG_URL).getClass());
    assertEquals(io.vireo.MySQLDatabase.class, Database.fromUrl("mysql://root@127.0.0.1:3306/x").getClass());
    assertEquals(io.vireo.MySQLDatabase.class, new io.vireo.MySQLDatabase("mariadb://root@127.0.0.1:3306/x").getClass());
    assertEquals(io.vireo.SqliteDatabase.class, Database.fromUrl("sqlite:target/java-test/url.db").getClass());
  }
}
