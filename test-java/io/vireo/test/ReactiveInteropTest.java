package io.vireo.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.vireo.Database;
import io.vireo.Field;
import io.vireo.Instance;
import io.vireo.Model;
import io.vireo.Transaction;
import io.vireo.Where;
import io.vireo.exception.VireoException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Reactor and Mutiny compositions inside {@code db.aioAtomic(tx -> …)} keep
 * the transaction: the statements they start run in it (they would
 * otherwise commit on their own, or on SQLite wait for its write lock) and
 * roll back with it. A hop to a scheduler of the library's own loses the
 * context, as any executor Vireo does not know does; {@code tx.run} brings it
 * back. One nested class per backend.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ReactiveInteropTest {
  Database db;
  Model<Instance> note;

  abstract Database open();

  static final class SqliteTest extends ReactiveInteropTest {
    @Override
    Database open() {
      return Backends.sqlite("java-reactive");
    }
  }

  static final class PostgresTest extends ReactiveInteropTest {
    @Override
    Database open() {
      return Backends.pg();
    }
  }

  static final class MysqlTest extends ReactiveInteropTest {
    @Override
    Database open() {
      return Backends.mysql();
    }
  }

  @BeforeAll
  void openDatabase() {
    db = open();
    note = Model.builder("ReactiveNote").database(db).table("java_reactive_note")
        .field("text", Field.charField(40))
        .build();
    note.aioDropTable(true).join();
    note.aioCreateTable(true).join();
  }

  @AfterAll
  void closeDatabase() {
    if (db != null) {
      db.aioClose().join();
    }
  }

  @BeforeEach
  void emptyTable() {
    note.delete().aioExecute().join();
  }

  private CompletableFuture<Instance> create(String text) {
    return note.aioCreate(Map.of("text", text));
  }

  private long count(String... texts) {
    return note.select().where(Where.in("text", List.of((Object[]) texts))).aioCount().join();
  }

  /** Runs body in aioAtomic; the block must fail with exactly `boom`. */
  private void assertRollsBack(Function<Transaction, CompletionStage<Object>> body, RuntimeException boom) {
    CompletionException e = assertThrows(CompletionException.class, () -> db.aioAtomic(body).join());
    assertSame(boom, VireoException.unwrap(e), "the block failed with something else than the body's exception");
  }

  private static <T> T fail(RuntimeException boom) {
    throw boom;
  }

  @Test
  void reactorMonoKeepsTheTransaction() {
    boolean inside = db.aioAtomic(tx -> Mono.fromFuture(() -> create("mono-1"))
        .flatMap(a -> Mono.fromFuture(() -> create("mono-2")))
        .map(b -> db.inTransaction())
        .toFuture()).join();
    assertTrue(inside);
    assertEquals(2L, count("mono-1", "mono-2"));

    RuntimeException boom = new IllegalStateException("boom");
    assertRollsBack(tx -> Mono.fromFuture(() -> create("mono-3"))
        .flatMap(a -> Mono.fromFuture(() -> create("mono-4")))
        .map(b -> fail(boom))
        .toFuture(), boom);
    assertEquals(0L, count("mono-3", "mono-4"));
  }

  @Test
  void reactorFluxKeepsTheTransaction() {
    List<Instance> made = db.aioAtomic(tx -> Flux.fromIterable(List.of("flux-1", "flux-2", "flux-3"))
        .concatMap(t -> Mono.fromFuture(() -> create(t)))
        .collectList()
        .toFuture()).join();
    assertEquals(3, made.size());
    assertEquals(3L, count("flux-1", "flux-2", "flux-3"));

    // Flux.from over a Vireo future's Mono, merged: still the transaction's statements
    RuntimeException boom = new IllegalStateException("boom");
    assertRollsBack(tx -> Flux.from(Mono.fromFuture(() -> create("flux-4")))
        .concatWith(Flux.fromIterable(List.of("flux-5", "flux-6")).concatMap(t -> Mono.fromFuture(() -> create(t))))
        .collectList()
        .map(all -> fail(boom))
        .toFuture(), boom);
    assertEquals(0L, count("flux-4", "flux-5", "flux-6"));
  }

  @Test
  void mutinyKeepsTheTransaction() {
    boolean inside = db.aioAtomic(tx -> Uni.createFrom().completionStage(() -> create("uni-1"))
        .onItem().transformToUni(a -> Uni.createFrom().completionStage(() -> create("uni-2")))
        .onItem().transform(b -> db.inTransaction())
        .subscribeAsCompletionStage()).join();
    assertTrue(inside);
    assertEquals(2L, count("uni-1", "uni-2"));

    RuntimeException boom = new IllegalStateException("boom");
    assertRollsBack(tx -> Multi.createFrom().iterable(List.of("uni-3", "uni-4"))
        .onItem().transformToUniAndConcatenate(t -> Uni.createFrom().completionStage(() -> create(t)))
        .collect().asList()
        .onItem().transform(all -> fail(boom))
        .subscribeAsCompletionStage(), boom);
    assertEquals(0L, count("uni-3", "uni-4"));
  }

  @Test
  void aSchedulerHopLosesTheContextAndTxRunBringsItBack() {
    // publishOn / emitOn continue on the library's own threads, which Vireo does not know
    boolean afterPublishOn = db.aioAtomic(tx -> Mono.fromFuture(() -> create("hop-1"))
        .publishOn(Schedulers.parallel())
        .map(a -> db.inTransaction())
        .toFuture()).join();
    assertFalse(afterPublishOn);
    boolean afterEmitOn = db.aioAtomic(tx -> Uni.createFrom().completionStage(() -> create("hop-2"))
        .emitOn(Infrastructure.getDefaultExecutor())
        .onItem().transform(a -> db.inTransaction())
        .subscribeAsCompletionStage()).join();
    assertFalse(afterEmitOn);

    // tx.run(…) runs code with the transaction as its context on any thread
    RuntimeException boom = new IllegalStateException("boom");
    assertRollsBack(tx -> Mono.fromFuture(() -> create("hop-3"))
        .publishOn(Schedulers.parallel())
        .flatMap(a -> Mono.fromFuture(() -> tx.run(() -> {
          assertTrue(db.inTransaction());
          return create("hop-4");
        })))
        .map(b -> fail(boom))
        .toFuture(), boom);
    assertRollsBack(tx -> Uni.createFrom().completionStage(() -> create("hop-5"))
        .emitOn(Infrastructure.getDefaultExecutor())
        .onItem().transformToUni(a -> Uni.createFrom().completionStage(() -> tx.run(() -> create("hop-6"))))
        .onItem().transform(b -> fail(boom))
        .subscribeAsCompletionStage(), boom);
    assertEquals(0L, count("hop-3", "hop-4", "hop-5", "hop-6"));
    assertEquals(2L, count("hop-1", "hop-2"));
  }
}
