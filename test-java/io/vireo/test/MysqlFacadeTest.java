package io.vireo.test;

import io.vireo.exception.ErrorType;
import static io.vireo.test.Errors.assertVireo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.vireo.Database;
import io.vireo.DatabaseOptions;
import io.vireo.Instance;
import io.vireo.LockMode;
import io.vireo.LockWait;
import io.vireo.MySQLDatabase;
import io.vireo.Where;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The facade contract on MySQL/MariaDB (VIREO_TEST_MYSQL_URL). */
class MysqlFacadeTest extends FacadeContract {
  @Override
  Database open() {
    return Backends.mysql();
  }

  @Override
  Database fresh() {
    return new MySQLDatabase(Backends.MYSQL_URL, DatabaseOptions.create().maxSize(2));
  }

  @Override
  String url() {
    return Backends.MYSQL_URL;
  }

  @Override
  String backend() {
    return "mysql";
  }

  /** test-java/run ran examples/java-quickstart on this database before: drop its table. */
  @AfterAll
  void dropQuickstartTable() {
    if (db != null) {
      db.aioExecuteSql("DROP TABLE IF EXISTS pageblock").join();
    }
  }

  @Test
  void forUpdateLocksAndUpdateReturningIsRefused() {
    ann();
    assertEquals(1, db.aioAtomic(tx -> author.select().where(Where.eq("name", "ann")).forUpdate().aioExecute()
        .thenCombine(author.select().forUpdate(LockMode.SHARE).aioExecute(), (a, b) -> a.size())).join());
    // MariaDB has RETURNING for INSERT and DELETE, not for UPDATE
    assertVireo(ErrorType.NOT_SUPPORTED,
        failure(author.update(Map.of("born", 1)).where(Where.eq("name", "ann")).aioReturning("born")));
  }

  @Test
  void lockOptions() {
    ann();
    author.aioCreate(Map.of("name", "bob")).join();
    Database other = fresh();
    try {
      java.util.concurrent.CompletableFuture<Object> gate = new java.util.concurrent.CompletableFuture<>();
      java.util.concurrent.CompletableFuture<Object> locked = new java.util.concurrent.CompletableFuture<>();
      java.util.concurrent.CompletableFuture<Object> holder = db.aioAtomic(tx -> author.select()
          .where(Where.eq("name", "ann")).forUpdate().aioExecute()
          .thenCompose(rows -> {
            locked.complete(null);
            return gate;
          }));
      locked.join(); // ann's row is locked by the transaction above
      io.vireo.Model<Instance> otherAuthor = author.bind(other);
      assertEquals(java.util.List.of("bob"), other.aioAtomic(tx -> otherAuthor.select().orderBy("name")
          .forUpdate(LockMode.UPDATE, LockWait.SKIP_LOCKED).aioExecute()).join().stream().map(i -> i.getString("name")).toList());
      assertVireo(ErrorType.OPERATIONAL_ERROR, failure(other.aioAtomic(tx -> otherAuthor.select()
          .where(Where.eq("name", "ann")).forUpdate(LockMode.UPDATE, LockWait.NOWAIT).aioExecute())));
      gate.complete("done");
      assertEquals("done", holder.join());
    } finally {
      other.aioClose().join();
    }
  }

  @Test
  void databaseFromOptions() {
    java.net.URI u = java.net.URI.create(Backends.MYSQL_URL);
    Database fromOpts = new MySQLDatabase(DatabaseOptions.create()
        .host(u.getHost()).port(u.getPort()).database(u.getPath().substring(1))
        .user(u.getUserInfo() == null ? "root" : u.getUserInfo().split(":")[0]).maxSize(1));
    try {
      assertEquals(java.util.List.of(Map.of("one", 1L)), fromOpts.aioExecuteSql("SELECT 1 AS one").join().rows());
      assertEquals(1L, ((Number) fromOpts.poolOptions().get("max-size")).longValue());
    } finally {
      fromOpts.aioClose().join();
    }
  }
}
