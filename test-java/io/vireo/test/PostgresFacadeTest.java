package io.vireo.test;

import io.vireo.exception.ErrorType;
import io.vireo.exception.SerializationFailureException;
import static io.vireo.test.Errors.assertVireo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.vertx.core.Vertx;
import io.vireo.Database;
import io.vireo.DatabaseOptions;
import io.vireo.Instance;
import io.vireo.LockMode;
import io.vireo.LockWait;
import io.vireo.PostgresqlDatabase;
import io.vireo.Where;
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
  String url() {
    return Backends.PG_URL;
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
        .thenCombine(author.select().forUpdate(LockMode.SHARE).aioExecute(), (a, b) -> a.size())).join());
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

  /** The transaction body: read a row, (first attempt only) let another pool change it, then update it. */
  private java.util.concurrent.CompletableFuture<Long> raceOnAnn(Object id, Database other, int attempt) {
    return author.aioGet(id) // the transaction's snapshot is taken here
        .thenCompose(x -> attempt > 1 ? java.util.concurrent.CompletableFuture.completedFuture(null)
            : other.aioExecuteSql("UPDATE java_author SET born = born + 1 WHERE id = $1", id))
        .thenCompose(x -> author.update(Map.of("born", io.vireo.Expr.call("+", io.vireo.Expr.field("born"), 10)))
            .where(Where.eq("id", id)).aioExecute());
  }

  @Test
  void retryRunsASerializationFailureAgain() {
    Object id = ann().getId();
    Database other = fresh(); // another pool: its update commits outside the transaction
    try {
      io.vireo.TransactionOptions rr = io.vireo.TransactionOptions.create()
          .isolation(io.vireo.TransactionOptions.Isolation.REPEATABLE_READ);
      io.vireo.exception.SerializationFailureException e = assertInstanceOf(io.vireo.exception.SerializationFailureException.class,
          failure(db.aioAtomic(rr, tx -> raceOnAnn(id, other, 1))));
      assertEquals(ErrorType.SERIALIZATION_FAILURE, e.getType());
      assertEquals(1951L, author.aioGet(id).join().getLong("born")); // only the other pool's update

      java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger();
      assertEquals(1L, db.aioAtomic(io.vireo.TransactionOptions.create()
          .isolation(io.vireo.TransactionOptions.Isolation.REPEATABLE_READ).retry(1),
          tx -> raceOnAnn(id, other, attempts.incrementAndGet())).join());
      assertEquals(2, attempts.get());
      assertEquals(1951L + 1 + 10, author.aioGet(id).join().getLong("born"));
    } finally {
      other.aioClose().join();
    }
  }

  @Test
  void lockOptionsAndPassword() {
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
    // the test server trusts local connections: a password is sent and accepted
    Database withPassword = new PostgresqlDatabase(Backends.PG_URL, DatabaseOptions.create().password("unused"));
    try {
      assertEquals(1, withPassword.aioExecuteSql("SELECT 1").join().rows().size());
    } finally {
      withPassword.aioClose().join();
    }
  }
}
