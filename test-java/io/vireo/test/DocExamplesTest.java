package io.vireo.test;

import io.vireo.exception.DoesNotExistException;
import io.vireo.exception.ErrorType;
import io.vireo.exception.IntegrityErrorException;
import io.vireo.exception.UniqueViolationException;
import io.vireo.exception.VireoException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import clojure.java.api.Clojure;
import clojure.lang.IFn;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vireo.AllowSync;
import io.vireo.RollbackCase;
import io.vireo.TempRows;
import io.vireo.junit.VireoRollback;
import org.junit.jupiter.api.extension.RegisterExtension;
import io.vireo.CallCount;
import io.vireo.Signal;
import io.vireo.SignalConnection;
import io.vireo.Vireo;
import java.util.concurrent.CopyOnWriteArrayList;
import io.vireo.Database;
import io.vireo.DatabaseOptions;
import io.vireo.Expr;
import io.vireo.Fault;
import io.vireo.Faults;
import io.vireo.Field;
import io.vireo.GetOrCreate;
import io.vireo.Instance;
import io.vireo.Migrations;
import io.vireo.Model;
import io.vireo.SqliteDatabase;
import io.vireo.TransactionOptions;
import io.vireo.Where;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The examples of docs/java.md, run on SQLite. Every ```java block of the
 * guide (and of docs/observability.md) must appear verbatim (indentation
 * aside) in this file, so the guide only shows code that compiles and runs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DocExamplesTest {
  /** The record of the guide. */
  public record Block(Long id, String key, String text) {}

  Database db;
  Model pageBlock;
  Model author;
  Model book;

  @BeforeAll
  void open() {
    db = Backends.sqlite("java-doc");
  }

  @AfterAll
  void close() {
    if (db != null) {
      db.aioClose().join();
    }
  }

  @Test
  @Order(0)
  void everyJavaBlockOfTheGuideIsHere() throws IOException {
    String guide = Files.readString(Path.of("docs/java.md"), StandardCharsets.UTF_8);
    String self = normalise(Files.readString(Path.of("test-java/io/vireo/test/DocExamplesTest.java"),
        StandardCharsets.UTF_8));
    Matcher m = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(guide);
    List<String> missing = new ArrayList<>();
    int blocks = 0;
    while (m.find()) {
      blocks++;
      if (!self.contains(normalise(m.group(1)))) {
        missing.add(m.group(1));
      }
    }
    assertTrue(blocks >= 10, "docs/java.md has " + blocks + " java blocks");
    assertEquals(List.of(), missing, "java blocks of docs/java.md not in DocExamplesTest.java");
    // docs/observability.md's Java example is one of them too
    Matcher o = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL)
        .matcher(Files.readString(Path.of("docs/observability.md"), StandardCharsets.UTF_8));
    int observability = 0;
    while (o.find()) {
      observability++;
      assertTrue(self.contains(normalise(o.group(1))), "a java block of docs/observability.md is not in DocExamplesTest.java");
    }
    assertTrue(observability >= 1, "docs/observability.md has no java block");
  }

  static String normalise(String code) {
    StringBuilder b = new StringBuilder();
    for (String line : code.split("\n")) {
      String t = line.strip();
      if (!t.isEmpty()) {
        b.append(t).append('\n');
      }
    }
    return b.toString();
  }

  @Test
  @Order(1)
  void quickstart() {
    Model PageBlock = Model.builder("PageBlock")
        .database(db)
        .field("key", Field.charField(40).unique())
        .field("text", Field.text().defaultValue(""))
        .build();

    try (AllowSync sync = db.allowSync()) {
      PageBlock.createTable(true); // synchronous, on purpose
    }

    Instance title = PageBlock.aioCreate(Map.of("key", "title", "text", "Peewee is AWESOME with async!"))
        .thenCompose(created -> PageBlock.aioGet(Map.of("key", "title")))
        .join();
    System.out.println("Was: " + title.getString("text"));

    title.set("text", "Peewee is SUPER awesome with async!");
    PageBlock.aioSave(title).join();
    System.out.println("New: " + title.getString("text"));

    assertEquals("Peewee is SUPER awesome with async!", PageBlock.aioGet(title.getId()).join().getString("text"));
    pageBlock = PageBlock;
  }

  @Test
  @Order(2)
  void databases() {
    Database fromUrl = Database.fromUrl("postgresql://app:secret@db.example:5432/app");
    Database pooled = new SqliteDatabase("target/java-test/pooled.db",
        DatabaseOptions.create().maxSize(2).busyTimeout(Duration.ofSeconds(10)));
    assertFalse(pooled.isConnected());   // nothing is opened until the first query
    pooled.aioConnect().join();
    assertTrue(pooled.isConnected());
    pooled.aioClose().join();

    assertEquals("PostgresqlDatabase", fromUrl.getClass().getSimpleName());
    assertEquals(2L, pooled.poolOptions().get("max-size"));
  }

  @Test
  @Order(3)
  void models() {
    Model Author = Model.builder("Author")
        .database(db)
        .table("java_doc_author")
        .field("name", Field.charField(40).unique())
        .field("born", Field.integer().nullable())
        .build();
    Model Book = Model.builder("Book")
        .database(db)
        .table("java_doc_book")
        .field("author", Field.foreignKey(Author).backref("books").onDelete("cascade"))
        .field("title", Field.text())
        .field("pages", Field.integer().defaultValue(100))
        .index(false, "title", "pages")
        .build();
    db.aioCreateTables(true, Author, Book).join();

    assertEquals(List.of("id", "author", "title", "pages"), Book.fieldNames());
    assertEquals("java_doc_book", Book.tableName());
    author = Author;
    book = Book;
  }

  @Test
  @Order(4)
  void instancesAndRecords() {
    Model PageBlock = pageBlock;
    Instance block = PageBlock.aioGet(Map.of("key", "title")).join();
    String text = block.getString("text");
    Long id = block.getLong("id");
    Map<String, Object> values = block.toMap();

    Block record = PageBlock.aioGet(Block.class, Map.of("key", "title")).join();
    Block copy = PageBlock.aioCreate(new Block(null, "copy", record.text())).join();

    assertEquals(text, values.get("text"));
    assertEquals(id, record.id());
    assertEquals("copy", copy.key());
  }

  @Test
  @Order(5)
  void operations() {
    Model Author = author;
    Instance ann = Author.aioCreate(Map.of("name", "ann", "born", 1950)).join();
    Instance same = Author.aioGet(ann.getId()).join();                         // by primary key
    Instance byMap = Author.aioGet(Map.of("name", "ann")).join();              // by field values
    Instance byWhere = Author.aioGet(Where.gt("born", 1900)).join();           // by condition
    Instance none = Author.aioGetOrNone(Map.of("name", "bob")).join();         // null
    GetOrCreate bob = Author.aioGetOrCreate(Map.of("name", "bob"), Map.of("born", 1970)).join();

    ann.set("born", 1951).aioSave().join();          // UPDATE of the changed field only
    long deleted = bob.instance().aioDeleteInstance().join();

    assertEquals(ann.getId(), same.getId());
    assertEquals(byMap, byWhere);
    assertEquals(null, none);
    assertTrue(bob.created());
    assertEquals(1L, deleted);
  }

  @Test
  @Order(6)
  void queries() {
    Model Author = author;
    Model Book = book;
    Object annId = Author.aioGet(Map.of("name", "ann")).join().getId();
    List<Object> ids = Book.insertMany(List.of(
        Map.of("author", annId, "title", "A1", "pages", 10),
        Map.of("author", annId, "title", "A2", "pages", 20))).aioExecute().join();

    List<Instance> thick = Book.select()
        .where(Where.and(Where.ge("pages", 15), Where.like("title", "A%")))
        .orderBy(Expr.field("pages").desc())
        .aioExecute().join();
    long count = Book.select().where(Map.of("pages__lt", 15)).aioCount().join();
    List<Map<String, Object>> totals = Book.select("author", Expr.sum("pages").as("total"))
        .groupBy("author").aioMaps().join();
    List<Instance> withAuthor = Book.select(Book, Author).join(Author).aioExecute().join();
    List<Instance> authors = Author.select().aioPrefetch(Book.select()).join();

    long updated = Book.update(Map.of("pages", Expr.call("+", Expr.field("pages"), 1)))
        .where(Where.eq("title", "A1")).aioExecute().join();
    long removed = Book.delete().where(Where.eq("title", "A2")).aioExecute().join();

    assertEquals(2, ids.size());
    assertEquals("A2", thick.get(0).getString("title"));
    assertEquals(1L, count);
    assertEquals(30L, ((Number) totals.get(0).get("total")).longValue());
    assertEquals("ann", withAuthor.get(0).getInstance("author").getString("name"));
    assertEquals(2, authors.get(0).getInstances("books").size());
    assertEquals(1L, updated);
    assertEquals(1L, removed);
  }

  @Test
  @Order(7)
  void transactions() {
    Model Author = author;
    String result = db.aioAtomic(tx -> Author.aioCreate(Map.of("name", "cat"))
        .thenCompose(cat -> db.aioAtomic(savepoint -> Author.aioCreate(Map.of("name", "dan"))
                .thenApply(dan -> {
                  throw new IllegalStateException("inner failure");   // rolls back dan only
                }))
            .handle((v, e) -> "inner rolled back")))
        .join();
    // cat is committed, dan is not

    db.aioTransaction(TransactionOptions.create().isolation(TransactionOptions.Isolation.SERIALIZABLE),
        tx -> Author.aioGet(Map.of("name", "cat"))).join();

    assertEquals("inner rolled back", result);
    assertTrue(Author.aioGetOrNone(Map.of("name", "cat")).join() != null);
    assertEquals(null, Author.aioGetOrNone(Map.of("name", "dan")).join());
  }

  @Test
  @Order(8)
  void allowSync() {
    Model Author = author;
    try (AllowSync sync = db.allowSync()) {
      Author.createTable(true);
      List<Instance> all = Author.select().execute();
      assertFalse(all.isEmpty());
    }
    try (AllowSync sync = db.allowSync()) {
      Instance fay = Author.create(Map.of("name", "fay"));
      String name = db.atomic(tx -> {
        Author.save(fay.set("born", 1990));
        try {
          db.atomic(inner -> Author.create(Map.of("name", "fay"))); // a savepoint: unique violation
        } catch (UniqueViolationException e) {
          // only the savepoint rolled back
        }
        return Author.get(Map.of("name", "fay")).getString("name");
      });
      assertEquals("fay", name);
      assertEquals(1990, Author.get(Map.of("name", "fay")).getInt("born"));
      assertEquals(null, Author.getOrNone(Map.of("name", "nobody")));
    }
  }

  @Test
  @Order(9)
  void exceptions() {
    Model Author = author;
    CompletableFuture<Instance> dup = Author.aioCreate(Map.of("name", "ann"));

    dup.whenComplete((value, error) -> {
      // the future Vireo returns fails with the Vireo exception itself
      IntegrityErrorException e = (IntegrityErrorException) error;
      System.out.println(e.getType() + " " + e.getSql() + " " + e.getParameters());
    });

    try {
      dup.join();
    } catch (CompletionException e) {
      // join() and chained stages wrap it, as the JDK always does
      Throwable cause = VireoException.unwrap(e);
      assertInstanceOf(IntegrityErrorException.class, cause);
    }

    Instance fallback = Author.aioGet(Map.of("name", "nobody"))
        .exceptionally(e -> {
          if (VireoException.unwrap(e) instanceof DoesNotExistException) {
            return null;
          }
          throw new CompletionException(e);
        })
        .join();

    assertEquals(null, fallback);
    assertEquals(ErrorType.UNIQUE_VIOLATION, ((VireoException) dup.handle((v, e) -> e).join()).getType());
  }

  @Test
  @Order(10)
  void bringYourOwnVertx() {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    Database shared = new SqliteDatabase("target/java-test/shared.db", DatabaseOptions.create().vertx(vertx));
    shared.aioExecuteSql("SELECT 1").join();
    shared.aioClose().join();   // closes the pool, never your Vert.x
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  @Test
  @Order(11)
  void clojureInterop() {
    Model Author = author;
    // a model built in Java, used from Clojure: the same value
    IFn aioGet = Clojure.var("vireo.core", "aio-get");
    Instance ann = Author.aioGet(Map.of("name", "ann")).join();
    Object row = ((CompletableFuture<?>) aioGet.invoke(Author.toClojure(), ann.getId())).join();

    // a model defined in Clojure, used from Java
    IFn readString = Clojure.var("clojure.core", "read-string");
    Object tagDef = readString.invoke("{:table \"java_doc_tag\" :fields {:label {:type :char :max-length 20}}}");
    Model Tag = Model.of(Clojure.var("vireo.core", "model").invoke("Tag", tagDef)).bind(db);
    Tag.aioCreateTable(true).join();
    Instance jvm = Tag.aioCreate(Map.of("label", "jvm")).join();

    // a Clojure database proxy, bound to a database later
    Object proxy = Clojure.var("vireo.core", "database-proxy").invoke();
    Model Late = Model.builder("Late").database(Database.of(proxy)).table("java_doc_author")
        .field("name", Field.charField(40).unique())
        .field("born", Field.integer().nullable())
        .build();
    Clojure.var("vireo.core", "initialize-proxy!").invoke(proxy, db.toClojure());
    Instance viaProxy = Late.aioGet(Map.of("name", "ann")).join();

    assertEquals("ann", clojure.lang.RT.get(row, clojure.lang.Keyword.intern("name")));
    assertEquals("jvm", Tag.aioGet(jvm.getId()).join().getString("label"));
    assertEquals(ann.getId(), viaProxy.getId());
  }

  @Test
  @Order(12)
  void streams() {
    Model Book = book;
    long pages = Book.select().aioReduce(0L, (sum, b) -> sum + b.getLong("pages")).join();
    long seen = Book.select().orderBy("id").fetchSize(500)
        .aioForEach(b -> System.out.println(b.getString("title"))).join();

    assertEquals(11L, pages);
    assertEquals(1L, seen);
  }

  @Test
  @Order(13)
  void signalsAndCallCounts() {
    Model Author = author;
    Model Book = book;
    List<String> audit = new CopyOnWriteArrayList<>();
    try (SignalConnection connection = Signal.POST_SAVE.connect(Author, (model, saved, created) -> {
      audit.add((created ? "created " : "updated ") + saved.getString("name"));
      return null;   // or a CompletionStage the save waits for
    })) {
      Author.aioCreate(Map.of("name", "eve")).join();
    }

    CallCount<List<Instance>> counted = Vireo.withCallCount(() -> Author.select().aioPrefetch(Book.select())).join();
    // counted.count() is 2: one query per level

    assertEquals(List.of("created eve"), audit);
    assertEquals(2L, counted.count());
  }

  @Test
  @Order(14)
  void errorTypesAndRetries() {
    Model Author = author;
    VireoException e = (VireoException) Author.aioCreate(Map.of("name", "ann")).handle((v, x) -> x).join();
    boolean constraint = e.isA(ErrorType.INTEGRITY_ERROR);    // true: a unique violation is one
    List<ErrorType> types = e.getTypes();                     // [UNIQUE_VIOLATION, INTEGRITY_ERROR, …]

    long n = db.aioAtomic(TransactionOptions.create()
            .isolation(TransactionOptions.Isolation.SERIALIZABLE).retry(3),   // again on serialization failures
        tx -> Author.select().aioCount()).join();

    assertTrue(constraint);
    assertInstanceOf(UniqueViolationException.class, e);
    assertEquals(ErrorType.ERROR, types.get(types.size() - 1));
    assertTrue(n >= 2);
  }

  @Test
  @Order(15)
  void installSnippetHasTheJarsVersion() throws IOException {
    String guide = Files.readString(Path.of("docs/java.md"), StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("<version>([^<]+)</version>").matcher(guide);
    assertTrue(m.find(), "docs/java.md has no <version> in its xml snippet");
    assertEquals(Vireo.version(), m.group(1), "docs/java.md's xml snippet names another version than resources/vireo/version.properties");
    assertTrue(guide.contains("io.vireo:vireo:" + Vireo.version() + " into ~/.m2"), "the install comment's version");
  }

  @Test
  @Order(16)
  void faultInjection() {
    db.aioExecuteSql("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY)").join();
    try {
      try (Faults faults = Faults.inject(db, Fault.on("COMMIT").times(1))) {
        assertThrows(CompletionException.class,
            () -> db.aioAtomic(tx -> db.aioExecuteSql("INSERT INTO t (id) VALUES (1)")).join());
        assertEquals(1, faults.hits());
      }
      assertEquals(0L, ((Number) db.aioExecuteSql("SELECT count(*) AS n FROM t").join().rows().get(0).get("n")).longValue());
    } finally {
      db.aioExecuteSql("DROP TABLE IF EXISTS t").join();
    }
  }

  @Test
  @Order(17)
  void observability() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Database observed = new SqliteDatabase("target/java-test/observed.db",
        DatabaseOptions.create().metrics(registry).slowQuery(Duration.ofMillis(500)));
    observed.aioExecuteSql("SELECT 1").join();
    Map<String, Object> state = observed.poolState();        // {"size" 1, "in-use" 0, "idle" 1, "waiting" 0, …}
    long selects = registry.get("vireo.statement")
        .tag("operation", "aio-execute-sql").tag("statement", "select").timer().count();   // 1
    observed.aioClose().join();

    assertEquals(1L, selects);
    assertEquals(0L, ((Number) state.get("in-use")).longValue());
    assertEquals(1L, ((Number) state.get("acquired")).longValue());
    assertTrue(state.containsKey("acquire-ms"));
  }

  @Test
  @Order(18)
  void rollbackCaseAndTempRows() {
    Model Author = author;
    try (RollbackCase rollback = RollbackCase.start(db)) {
      Author.aioCreate(Map.of("name", "rolled-back")).join();
    }
    try (TempRows temp = TempRows.open()) {
      Instance tmp = temp.insert(Author, Map.of("name", "committed-for-now"));
      assertEquals("committed-for-now", Author.aioGet(tmp.getId()).join().getString("name"));
    }
    assertEquals(0L, Author.select().where(Where.in("name", List.of("rolled-back", "committed-for-now"))).aioCount().join());
  }

  /** The guide's JUnit extension example: JUnit runs it as a test class of its own. */
  static class PageBlockTest {
    static final Database db = new SqliteDatabase("target/java-test/doc-rollback.db");
    static final Model PageBlock = Model.builder("PageBlock").database(db)
        .field("key", Field.charField(40).unique())
        .field("text", Field.text().defaultValue(""))
        .build();

    @RegisterExtension
    static final VireoRollback rollback = VireoRollback.of(db);

    @BeforeAll
    static void createTable() {
      PageBlock.aioCreateTable(true).join();
    }

    @Test
    void createsABlock() {
      PageBlock.aioCreate(Map.of("key", "k", "text", "t")).join(); // undone after the test
      assertEquals(1L, PageBlock.select().aioCount().join());
    }
  }

  @Test
  @Order(19)
  void migrations() {
    Map<String, Object> applied = Migrations.create()
        .table("java_doc_versions")
        .add("001-note", List.of(
            Migrations.step("create-table", "table", "java_doc_note",
                "fields", Map.of("text", Map.of("type", "text")))))
        .add("002-note-stars", List.of(
            Migrations.step("add-column", "table", "java_doc_note", "column", "stars",
                "spec", Map.of("type", "integer", "default", 0))))
        .aioMigrate(db).join();
    // {"applied": ["001-note", "002-note-stars"], "skipped": []}
    List<String> sql = Migrations.aioPlan(db, List.of(
        Migrations.step("drop-column", "table", "java_doc_note", "column", "stars"))).join();

    assertEquals(List.of("001-note", "002-note-stars"), applied.get("applied"));
    assertTrue(sql.get(0).contains("java_doc_note"), sql.toString());
  }
}
