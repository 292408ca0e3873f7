package io.vireo.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vireo.Backend;
import io.vireo.Capabilities;
import io.vireo.Cte;
import io.vireo.CustomSignal;
import io.vireo.Database;
import io.vireo.DatabaseOptions;
import io.vireo.DatabaseProxy;
import io.vireo.Expr;
import io.vireo.Field;
import io.vireo.Instance;
import io.vireo.ManualTransaction;
import io.vireo.Model;
import io.vireo.Query;
import io.vireo.Signal;
import io.vireo.SignalConnection;
import io.vireo.SignalReceiver;
import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
import io.vireo.Where;
import io.vireo.Window;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The Java forms of the Clojure capabilities that had none (connections and
 * manual transactions, Flow publishers, plain queries, CTEs, windows,
 * INSERT … SELECT, deferred databases and proxies, schema helpers,
 * capabilities, custom signals), written once and run per backend.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SurfaceContract {
  Database db;
  Model<Instance> item;
  Model<Instance> copy;

  abstract Database open();

  abstract Backend backendKind();

  /** Options that complete a deferred database of this backend into the test database. */
  abstract DatabaseOptions where();

  /** The placeholder of parameter n in raw SQL. */
  abstract String param(int n);

  @BeforeAll
  void setUp() {
    db = open();
    item = Model.builder("SurfaceItem").database(db).table("java_s_item")
        .field("name", Field.charField(20).unique())
        .field("grp", Field.integer())
        .field("n", Field.integer())
        .index(false, "grp", "n")
        .build();
    copy = Model.builder("SurfaceCopy").database(db).table("java_s_copy")
        .field("name", Field.charField(20))
        .field("n", Field.integer())
        .build();
    db.aioDropTables(true, copy, item).join();
    db.aioCreateTables(false, item, copy).join();
  }

  @AfterAll
  void tearDown() {
    if (db != null) {
      db.aioDropTables(true, copy, item).join();
      db.aioClose().join();
    }
  }

  @BeforeEach
  void rows() {
    copy.delete().aioExecute().join();
    item.delete().aioExecute().join();
    item.insertMany(List.of(
        Map.of("name", "a", "grp", 1, "n", 1),
        Map.of("name", "b", "grp", 1, "n", 2),
        Map.of("name", "c", "grp", 2, "n", 3),
        Map.of("name", "d", "grp", 2, "n", 4),
        Map.of("name", "e", "grp", 2, "n", 5))).aioExecute().join();
  }

  /** The Vireo exception of that type (or a descendant), returned for more checks. */
  static VireoException assertType(ErrorType type, Throwable e) {
    VireoException v = assertInstanceOf(VireoException.class, e);
    assertTrue(v.isA(type), "expected " + type + ", got " + v.getType() + ": " + v.getMessage());
    return v;
  }

  static Throwable failure(CompletableFuture<?> f) {
    Throwable e = f.handle((v, x) -> x).join();
    assertNotNull(e, "the future did not fail");
    return VireoException.unwrap(e);
  }

  /** Waits for a condition (never a fixed time): polls every 20 ms, at most 60 s. */
  static void waitUntil(String what, BooleanSupplier condition) {
    long end = System.nanoTime() + 60_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("waited 60 s for: " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  List<String> names() {
    return item.select().orderBy("name").aioExecute().join().stream().map(i -> i.getString("name")).toList();
  }

  long inUse() {
    return ((Number) db.poolState().get("in-use")).longValue();
  }

  // ------------------------------------------------------------ connections and manual transactions

  @Test
  void aioConnectionPinsOneConnection() {
    long held = db.aioConnection(conn -> item.aioGet(Map.of("name", "a"))
        .thenApply(a -> db.checkedOut())).join();
    assertEquals(1L, held);
    waitUntil("the connection is released", () -> db.checkedOut() == 0);
  }

  @Test
  void manualTransactionsAndSavepoints() {
    db.aioConnection(conn -> conn.aioBegin()
        .thenCompose(tx -> item.aioCreate(Map.of("name", "m1", "grp", 9, "n", 0))
            .thenCompose(m1 -> db.aioSavepoint())
            .thenCompose(sp -> {
              assertTrue(sp.isSavepoint());
              return item.aioCreate(Map.of("name", "m2", "grp", 9, "n", 0)).thenCompose(m2 -> sp.aioRollback());
            })
            .thenCompose(x -> {
              assertTrue(conn.inTransaction());
              assertTrue(db.inTransaction());
              assertFalse(tx.isSavepoint());
              return tx.aioCommit();
            })
            .thenApply(x -> {
              assertFalse(conn.inTransaction());
              return null;
            }))).join();
    assertEquals(List.of("a", "b", "c", "d", "e", "m1"), names());

    db.aioConnection(conn -> db.aioBegin()
        .thenCompose(tx -> item.aioCreate(Map.of("name", "m3", "grp", 9, "n", 0)).thenCompose(x -> tx.aioRollback()))).join();
    // a scope ending with its manual transaction open rolls it back
    db.aioConnection(conn -> conn.aioBegin()
        .thenCompose(tx -> item.aioCreate(Map.of("name", "m4", "grp", 9, "n", 0)))).join();
    assertEquals(List.of("a", "b", "c", "d", "e", "m1"), names());
    waitUntil("the connections are released", () -> db.checkedOut() == 0);
  }

  @Test
  void manualTransactionsRefuseMisuse() {
    assertType(ErrorType.OPERATIONAL_ERROR, failure(db.aioBegin()));
    assertType(ErrorType.OPERATIONAL_ERROR,
        failure(db.aioConnection(conn -> conn.aioSavepoint())));
    VireoException retry = assertType(ErrorType.INTERFACE_ERROR,
        failure(db.aioConnection(conn -> conn.aioBegin(io.vireo.TransactionOptions.create().retry(2)))));
    assertTrue(retry.getMessage().contains("retry"), retry.getMessage());
    assertType(ErrorType.OPERATIONAL_ERROR, failure(db.aioConnection(conn -> conn.aioBegin()
        .thenCompose(tx -> conn.aioBegin()))));
    waitUntil("the connections are released", () -> db.checkedOut() == 0);
  }

  @Test
  void connectionRunCarriesTheScopeToAnotherThread() {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      db.aioConnection(conn -> conn.aioBegin()
          .thenCompose(tx -> CompletableFuture.supplyAsync(
                  () -> conn.run(() -> item.aioCreate(Map.of("name", "r1", "grp", 9, "n", 0))), pool)
              .thenCompose(f -> f)
              .thenCompose(r1 -> tx.aioRollback()))).join();
      assertEquals(List.of("a", "b", "c", "d", "e"), names()); // r1 ran in the rolled-back transaction
    } finally {
      pool.shutdown();
    }
  }

  // ------------------------------------------------------------ Flow.Publisher

  /** A hand-written subscriber: requests on demand, checks it never gets more than it asked for. */
  static final class Probe<T> implements Flow.Subscriber<T> {
    final List<T> items = new CopyOnWriteArrayList<>();
    final AtomicLong requested = new AtomicLong();
    final List<String> violations = new CopyOnWriteArrayList<>();
    final CompletableFuture<List<T>> done = new CompletableFuture<>();
    volatile Flow.Subscription subscription;
    private final long initial;
    private final java.util.function.Consumer<T> onEach;

    Probe(long initial) {
      this(initial, x -> { });
    }

    Probe(long initial, java.util.function.Consumer<T> onEach) {
      this.initial = initial;
      this.onEach = onEach;
    }

    void request(long n) {
      requested.addAndGet(n);
      subscription.request(n);
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      if (initial > 0) {
        request(initial);
      }
    }

    @Override
    public void onNext(T item) {
      items.add(item);
      if (items.size() > requested.get()) {
        violations.add("row " + items.size() + " with " + requested.get() + " requested");
      }
      onEach.accept(item);
    }

    @Override
    public void onError(Throwable t) {
      done.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      done.complete(new ArrayList<>(items));
    }
  }

  @Test
  void publisherHonoursDemand() {
    Probe<Instance> probe = new Probe<>(2);
    item.select().orderBy("name").fetchSize(1).publisher().subscribe(probe);
    waitUntil("two rows", () -> probe.items.size() == 2);
    assertFalse(probe.done.isDone());
    probe.request(2);
    waitUntil("four rows", () -> probe.items.size() == 4);
    probe.request(Long.MAX_VALUE - 4);
    List<Instance> all = probe.done.join();
    assertEquals(List.of("a", "b", "c", "d", "e"), all.stream().map(i -> i.getString("name")).toList());
    assertEquals(List.of(), probe.violations);
    waitUntil("the stream's connection is back", () -> inUse() == 0);
  }

  @Test
  void publisherCancelStopsTheStream() {
    Probe<Instance> probe = new Probe<>(1);
    item.select().orderBy("name").fetchSize(1).publisher().subscribe(probe);
    waitUntil("one row", () -> probe.items.size() == 1);
    probe.subscription.cancel();
    waitUntil("the stream's connection is back", () -> inUse() == 0);
    probe.request(10); // after cancel: a no-op
    assertEquals(1, probe.items.size());
    assertFalse(probe.done.isDone());

    // cancel from inside onNext
    List<Object> seen = new CopyOnWriteArrayList<>();
    Flow.Subscriber<Map<String, Object>> cancelling = new Flow.Subscriber<>() {
      Flow.Subscription s;

      @Override
      public void onSubscribe(Flow.Subscription s) {
        this.s = s;
        s.request(10);
      }

      @Override
      public void onNext(Map<String, Object> row) {
        seen.add(row.get("name"));
        s.cancel();
      }

      @Override
      public void onError(Throwable t) {
        seen.add(t);
      }

      @Override
      public void onComplete() {
        seen.add("complete");
      }
    };
    db.publisher(Query.select("name").from("java_s_item").orderBy("name")).subscribe(cancelling);
    waitUntil("a row", () -> !seen.isEmpty());
    waitUntil("the stream's connection is back", () -> inUse() == 0);
    assertEquals(List.of("a"), seen);
  }

  @Test
  void publisherErrors() {
    Probe<Map<String, Object>> bad = new Probe<>(1);
    db.publisher("SELECT * FROM java_s_no_such_table").subscribe(bad);
    Throwable e = VireoException.unwrap(assertThrowsCompletion(bad.done));
    assertTrue(e instanceof VireoException && ((VireoException) e).isA(ErrorType.DATABASE_ERROR), String.valueOf(e));

    IllegalStateException boom = new IllegalStateException("subscriber failed");
    Probe<Instance> throwing = new Probe<>(10, row -> {
      throw boom;
    });
    item.select().publisher().subscribe(throwing);
    assertSame(boom, VireoException.unwrap(assertThrowsCompletion(throwing.done)));
    waitUntil("the stream's connection is back", () -> inUse() == 0);

    Probe<Instance> zero = new Probe<>(0);
    item.select().publisher().subscribe(zero);
    zero.request(0);
    assertInstanceOf(IllegalArgumentException.class, VireoException.unwrap(assertThrowsCompletion(zero.done)));
  }

  static Throwable assertThrowsCompletion(CompletableFuture<?> f) {
    try {
      f.join();
    } catch (CompletionException e) {
      return e.getCause();
    }
    throw new AssertionError("the subscriber completed without an error");
  }

  @Test
  void publisherKeepsTheTransaction() {
    RuntimeException undo = new IllegalStateException("undo");
    CompletableFuture<List<Map<String, Object>>> seen = new CompletableFuture<>();
    Throwable e = failure(db.aioAtomic(tx -> item.aioCreate(Map.of("name", "tx", "grp", 9, "n", 9))
        .thenCompose(x -> {
          Probe<Map<String, Object>> probe = new Probe<>(Long.MAX_VALUE);
          db.publisher("SELECT name FROM java_s_item WHERE n > " + param(1) + " ORDER BY name", 4).subscribe(probe);
          return probe.done;
        })
        .thenApply(rows -> {
          seen.complete(rows);
          throw undo;
        })));
    assertSame(undo, e);
    assertEquals(List.of(Map.of("name", "e"), Map.of("name", "tx")), seen.join()); // read in the transaction
    assertEquals(List.of("a", "b", "c", "d", "e"), names());                          // rolled back
  }

  // ------------------------------------------------------------ plain queries, INSERT … SELECT, CTEs, windows

  @Test
  void plainQueries() {
    Query big = Query.select("name", "n").from("java_s_item").where(Where.gt("n", 2))
        .where(Where.lt("n", 5)).orderBy(Expr.field("n").desc()).limit(5);
    assertEquals(List.of(Map.of("name", "d", "n", 4L), Map.of("name", "c", "n", 3L)),
        db.aioQuery(big).join().stream().map(r -> Map.of("name", r.get("name"), "n", ((Number) r.get("n")).longValue()))
            .toList());
    assertEquals(2L, db.aioExecute(Query.update("java_s_item", Map.of("n", Expr.call("+", Expr.field("n"), 10)))
        .where(Where.eq("grp", 1))).join());
    assertEquals(List.of(11L, 12L), item.select().where(Where.eq("grp", 1)).orderBy("n").aioExecute().join().stream()
        .map(i -> i.getLong("n")).toList());
    db.aioExecute(Query.insertInto("java_s_item", List.of(Map.of("name", "f", "grp", 3, "n", 6)))).join();
    assertEquals(1L, db.aioExecute(Query.deleteFrom("java_s_item").where(Where.eq("name", "f"))).join());
    assertType(ErrorType.INTERFACE_ERROR,
        failure(db.aioQuery(Query.deleteFrom("java_s_item").where(Where.eq("name", "zzz")))));
    if (db.aioCapabilities().join().canReturn("delete")) {
      assertEquals(List.of(Map.of("name", "e")),
          db.aioQuery(Query.deleteFrom("java_s_item").where(Where.eq("name", "e")).returning("name")).join());
    }
    // INSERT … SELECT of plain data, and a subquery
    db.aioExecute(Query.insertInto("java_s_copy", List.of("name", "n"),
        Query.select("name", "n").from("java_s_item").where(Where.eq("grp", 2)))).join();
    assertEquals(List.of("c", "d"), copy.select().where(Where.in("name", Query.select("name").from("java_s_item")))
        .orderBy("name").aioExecute().join().stream().map(i -> i.getString("name")).toList());
  }

  @Test
  void insertFromAndCtes() {
    assertEquals(2L, copy.insertFrom(List.of("name", "n"), item.select("name", "n").where(Where.gt("n", 3)))
        .aioExecute().join());
    assertEquals(List.of("d", "e"), copy.select().orderBy("name").aioExecute().join().stream()
        .map(i -> i.getString("name")).toList());

    List<String> viaCte = item.select().with(Cte.of("small", item.select("id").where(Where.lt("n", 3))))
        .where(Where.in("id", Query.select("id").from("small"))).orderBy("name").aioExecute().join().stream()
        .map(i -> i.getString("name")).toList();
    assertEquals(List.of("a", "b"), viaCte);

    Query counting = Query.select("x").from("r").orderBy("x").withRecursive(Cte.of("r", List.of("x"),
        Query.unionAll(Query.select(Expr.call("inline", 1)),
            Query.select(Expr.call("+", Expr.field("x"), Expr.call("inline", 1))).from("r").where(Where.lt("x", 4)))));
    assertEquals(List.of(1L, 2L, 3L, 4L), db.aioQuery(counting).join().stream()
        .map(r -> ((Number) r.get("x")).longValue()).toList());
  }

  @Test
  void windowFunctions() {
    List<Map<String, Object>> ranked = item.select("name",
            Expr.call("row_number").over(Window.partitionBy("grp").orderBy(Expr.field("n").desc())).as("rk"),
            Expr.sum("n").over(Window.partitionBy("grp").orderBy("n")
                .frame(Window.Unit.ROWS, Window.UNBOUNDED_PRECEDING, Window.CURRENT_ROW)).as("running"))
        .orderBy("name").aioMaps().join();
    assertEquals(List.of("a:2:1", "b:1:3", "c:3:3", "d:2:7", "e:1:12"), ranked.stream()
        .map(r -> r.get("name") + ":" + ((Number) r.get("rk")).longValue() + ":" + ((Number) r.get("running")).longValue())
        .toList());
    List<Map<String, Object>> named = db.aioQuery(Query.select("name", Expr.call("rank").over("w").as("r"))
        .from("java_s_item").window("w", Window.partitionBy("grp").orderBy("n")).orderBy("name")).join();
    assertEquals(List.of(1L, 2L, 1L, 2L, 3L), named.stream().map(r -> ((Number) r.get("r")).longValue()).toList());
    assertEquals(5L, ((Number) db.aioQuery(Query.select(Expr.count("*").over(Window.create()).as("total"))
        .from("java_s_item").limit(1)).join().get(0).get("total")).longValue());
  }

  // ------------------------------------------------------------ deferred databases, proxies

  @Test
  void deferredDatabase() {
    Database later = Database.deferred(backendKind());
    assertType(ErrorType.NOT_INITIALIZED, failure(later.aioExecuteSql("SELECT 1")));
    later.init(where());
    try {
      assertEquals(5L, ((Number) later.aioExecuteSql("SELECT COUNT(*) AS c FROM java_s_item").join()
          .rows().get(0).get("c")).longValue());
      VireoException connected = assertType(ErrorType.INTERFACE_ERROR,
          assertThrowsSync(() -> later.init(where())));
      assertTrue(connected.getMessage().contains("connected"), connected.getMessage());
    } finally {
      later.aioClose().join();
    }
  }

  static Throwable assertThrowsSync(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      return e;
    }
    throw new AssertionError("no exception");
  }

  @Test
  void databaseProxy() {
    DatabaseProxy proxy = Database.proxy();
    assertFalse(proxy.isInitialized());
    Model<Instance> late = Model.builder("SurfaceLate").database(proxy).table("java_s_item")
        .field("name", Field.charField(20).unique())
        .field("grp", Field.integer())
        .field("n", Field.integer())
        .build();
    assertType(ErrorType.NOT_INITIALIZED, failure(late.select().aioCount()));
    assertSame(proxy, proxy.initialize(db));
    assertTrue(proxy.isInitialized());
    assertEquals(5L, late.select().aioCount().join());
    assertType(ErrorType.INTERFACE_ERROR, assertThrowsSync(() -> proxy.initialize(null)));
    assertInstanceOf(DatabaseProxy.class, Database.of(proxy.toClojure()));
  }

  // ------------------------------------------------------------ schema helpers, capabilities

  @Test
  void sequencesIndexesAndCapabilities() {
    assertEquals(backendKind() == Backend.POSTGRESQL, db.aioSequenceExists("java_s_item_id_seq").join());
    assertFalse(db.aioSequenceExists("java_s_no_such_seq").join());

    item.aioDropIndexes(false).join();
    item.aioDropIndexes(true).join();                                         // IF EXISTS: nothing to drop
    item.aioCreateIndexes(false).join();
    assertInstanceOf(VireoException.class, failure(item.aioCreateIndexes(false))); // it exists now
    item.aioCreateIndexes(true).join();

    Capabilities caps = db.aioCapabilities().join();
    assertNotNull(caps.server());
    assertEquals("detected", caps.returningSource());
    String expected = switch (backendKind()) {
      case POSTGRESQL -> "PostgreSQL";
      case MYSQL -> "M";
      case SQLITE -> "SQLite";
    };
    assertTrue(caps.server().startsWith(expected), caps.server());
    assertTrue(caps.returning().stream().allMatch(s -> List.of("insert", "update", "delete").contains(s)));
  }

  // ------------------------------------------------------------ signals

  @Test
  void preInitAndReceiverIntrospection() {
    List<String> built = new CopyOnWriteArrayList<>();
    SignalReceiver r = (model, instance, created) -> {
      built.add(model.name() + ":" + instance.getString("name") + ":" + created);
      return null;
    };
    try (SignalConnection c = Signal.PRE_INIT.connect(item, r)) {
      assertTrue(Signal.PRE_INIT.hasReceivers(item));
      assertFalse(Signal.PRE_INIT.hasReceivers(copy));
      assertSame(r, Signal.PRE_INIT.receivers().get(0).get("receiver"));
      assertEquals("SurfaceItem", Signal.PRE_INIT.receivers().get(0).get("sender"));
      item.instance(Map.of("name", "built", "grp", 1, "n", 1));
    }
    assertEquals(List.of("SurfaceItem:built:false"), built);
    assertFalse(Signal.PRE_INIT.hasReceivers(item));

    List<String> only = new CopyOnWriteArrayList<>();
    List<String> outer = new CopyOnWriteArrayList<>();
    try (SignalConnection c = Signal.POST_SAVE.connect(item, (m, i, created) -> {
      outer.add(i.getString("name"));
      return null;
    })) {
      Instance saved = Signal.POST_SAVE.aioWithReceivers(List.of((m, i, created) -> {
        only.add(i.getString("name"));
        return null;
      }), () -> item.aioCreate(Map.of("name", "w1", "grp", 1, "n", 1))).join();
      assertEquals("w1", saved.getString("name"));
      item.aioCreate(Map.of("name", "w2", "grp", 1, "n", 1)).join();
      assertEquals("none", Signal.POST_SAVE.withReceivers(List.of(), () -> {
        item.aioCreate(Map.of("name", "w3", "grp", 1, "n", 1)).join();
        return "none";
      }));
    }
    assertEquals(List.of("w1"), only);
    assertEquals(List.of("w2"), outer); // restored after each block
  }

  @Test
  void customSignals() {
    CustomSignal published = CustomSignal.create("published");
    Instance a = item.aioGet(Map.of("name", "a")).join();
    List<String> heard = new CopyOnWriteArrayList<>();
    CustomSignal.Receiver first = (model, instance, kw) -> {
      heard.add("first " + instance.getString("name") + " by " + kw.get("by"));
      return CompletableFuture.supplyAsync(() -> "async-result");
    };
    try (SignalConnection c1 = published.connect(item, first);
        SignalConnection c2 = published.connect((model, instance, kw) -> {
          heard.add("second " + model.name());
          return 42;
        })) {
      assertEquals(List.of("async-result", 42), published.aioSend(item, a, Map.of("by", "ann")).join());
      assertEquals(2, published.receivers().size());
      assertSame(first, published.receivers().get(0).get("receiver"));
      assertTrue(published.hasReceivers(item));
      assertEquals(1, published.sendSync(copy, null, null).size()); // only the receiver of every model
      assertEquals(List.of("w"), published.withReceivers(List.of((m, i, kw) -> "w"),
          () -> published.sendSync(item, a, Map.of())));
      c2.disconnect();
      assertFalse(c2.isConnected());
      RuntimeException fail = new IllegalStateException("receiver failed");
      try (SignalConnection c3 = published.connect(item, (m, i, kw) -> {
        throw fail;
      })) {
        assertSame(fail, failure(published.aioSend(item, a, Map.of())));
      }
    }
    assertEquals(List.of("first a by ann", "second SurfaceItem", "second SurfaceCopy", "first a by null"), heard);
    assertFalse(published.hasReceivers(item));
    assertSame(published.toClojure(), CustomSignal.of(published.toClojure()).toClojure());
    assertEquals(List.of(), Signal.PRE_SAVE.receivers().stream().filter(m -> m.get("receiver") == first)
        .collect(Collectors.toList()));
  }
}
