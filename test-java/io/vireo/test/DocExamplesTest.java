package io.vireo.test;

import io.vireo.exception.DoesNotExistException;
import io.vireo.exception.ErrorType;
import io.vireo.exception.IntegrityErrorException;
import io.vireo.exception.UniqueViolationException;
import io.vireo.exception.VireoException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import clojure.java.api.Clojure;
import clojure.lang.IFn;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vireo.AllowSync;
import io.vireo.CallCount;
import io.vireo.Database;
import io.vireo.DatabaseOptions;
import io.vireo.Expr;
import io.vireo.Fault;
import io.vireo.Faults;
import io.vireo.Field;
import io.vireo.ForeignKeyAction;
import io.vireo.GetOrCreate;
import io.vireo.Instance;
import io.vireo.Migrations;
import io.vireo.Model;
import io.vireo.RollbackCase;
import io.vireo.Signal;
import io.vireo.SignalConnection;
import io.vireo.SqliteDatabase;
import io.vireo.TempRows;
import io.vireo.TransactionOptions;
import io.vireo.Vireo;
import io.vireo.Where;
import io.vireo.junit.VireoRollback;
import io.vireo.Backend;
import io.vireo.Capabilities;
import io.vireo.Cte;
import io.vireo.CustomSignal;
import io.vireo.DatabaseProxy;
import io.vireo.Query;
import io.vireo.Window;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import io.smallrye.mutiny.Uni;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The examples of docs/java.md, run on SQLite. Every ```java block of the
 * guide (and of docs/observability.md) must appear verbatim (indentation
 * aside) in this file, so the guide only shows code that compiles and runs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DocExamplesTest {
  // the records of the guide
  record Author(Long id, String name, Integer born) {}
  record Book(Long id, Long author, String title, Integer pages) {}

  record Total(Long author, Long total) {}
  record BookWithAuthor(Long id, String title, Author author) {}
  record AuthorWithBooks(Long id, String name, List<Book> books) {}

  Database db;
  Model<Author> authors;
  Model<Book> books;
  Model<Instance> author;
  Model<Instance> book;
  Model<Instance> label;

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
    record PageBlock(Long id, String key, String text) {}

    Database db = new SqliteDatabase("target/java-test/quickstart.db");
    Model<PageBlock> PageBlocks = Model.builder(PageBlock.class)
        .database(db)
        .field(PageBlock::key, Field.charField(40).unique())
        .build();

    try (AllowSync sync = db.allowSync()) {
      PageBlocks.createTable(true); // synchronous, on purpose
    }
    PageBlocks.delete().where(Where.eq(PageBlock::key, "title")).aioExecute().join(); // re-runnable

    PageBlock title = PageBlocks.aioCreate(new PageBlock(null, "title", "Peewee is AWESOME with async!"))
        .thenCompose(created -> PageBlocks.aioGet(Where.eq(PageBlock::key, "title")))
        .join();
    System.out.println("Was: " + title.text());

    // records are immutable: save a changed copy, the saved row comes back
    PageBlock saved = PageBlocks.aioSave(new PageBlock(title.id(), title.key(), "Peewee is SUPER awesome with async!"))
        .join();
    System.out.println("New: " + saved.text());
    db.aioClose().join();

    assertEquals(title.id(), saved.id());
    assertEquals("Peewee is SUPER awesome with async!", saved.text());
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
    Model<Author> Authors = Model.builder(Author.class)
        .database(db)
        .table("java_doc_author")
        .field(Author::name, Field.charField(40).unique())
        .build();
    Model<Book> Books = Model.builder(Book.class)
        .database(db)
        .table("java_doc_book")
        .field(Book::author, Field.foreignKey(Authors).backref("books").onDelete(ForeignKeyAction.CASCADE))
        .field(Book::pages, Field.integer().defaultValue(100))
        .index(false, "title", "pages")
        .build();
    db.aioCreateTables(true, Authors, Books).join();

    Model<Instance> Author = Authors.as(Instance.class);    // the same model, rows as Instances
    Model<Instance> Label = Model.builder("Label")           // a dynamic model, field by field
        .database(db)
        .table("java_doc_label")
        .field("name", Field.charField(20).unique())
        .field("weight", Field.integer().defaultValue(1))
        .build();
    Label.aioCreateTable(true).join();
    Model<Author> Explicit = Model.builder("AuthorView").database(db).table("java_doc_author")
        .field("name", Field.charField(40).unique())
        .field("born", Field.integer().nullable())
        .build(Author.class);

    assertEquals(List.of("id", "author", "title", "pages"), Books.fieldNames());
    assertEquals("java_doc_book", Books.tableName());
    assertEquals(Author.class, Explicit.rowClass());
    assertEquals(Authors, Author.as(Author.class));
    authors = Authors;
    books = Books;
    author = Author;
    book = Books.as(Instance.class);
    label = Label;
  }

  @Test
  @Order(4)
  void operations() {
    Model<Author> Authors = authors;
    Author ann = Authors.aioCreate(new Author(null, "ann", 1950)).join();
    Author same = Authors.aioGet(ann.id()).join();                                // by primary key
    Author byWhere = Authors.aioGet(Where.eq(Author::name, "ann")).join();        // by condition
    Author byMap = Authors.aioGet(Map.of("name", "ann")).join();                  // by field values
    Author none = Authors.aioGetOrNone(Where.eq(Author::name, "bob")).join();     // null
    GetOrCreate<Author> bob = Authors.aioGetOrCreate(Map.of("name", "bob"), Map.of("born", 1970)).join();

    Author older = Authors.aioSave(new Author(ann.id(), "ann", 1949)).join();     // UPDATE of every field
    Authors.aioSaveOnly(new Author(ann.id(), "ignored", 1951), Author::born).join();   // of born only
    long deleted = Authors.aioDeleteInstance(bob.instance()).join();

    assertEquals(ann, same);
    assertEquals(byMap, byWhere);
    assertNull(none);
    assertTrue(bob.created());
    assertEquals(1949, older.born());
    assertEquals(new Author(ann.id(), "ann", 1951), Authors.aioGet(ann.id()).join());
    assertEquals(1L, deleted);
  }

  @Test
  @Order(5)
  void queries() {
    Model<Author> Authors = authors;
    Model<Book> Books = books;
    Author ann = Authors.aioGet(Where.eq(Author::name, "ann")).join();
    List<Object> ids = Books.insertMany(List.of(
        Map.of("author", ann.id(), "title", "A1", "pages", 10),
        Map.of("author", ann.id(), "title", "A2", "pages", 20))).aioExecute().join();

    List<Book> thick = Books.select()
        .where(Where.and(Where.ge(Book::pages, 15), Where.like(Book::title, "A%")))
        .orderBy(Expr.desc(Book::pages))
        .aioExecute().join();
    long count = Books.select().where(Map.of("pages__lt", 15)).aioCount().join();
    List<Total> totals = Books.select("author", Expr.sum(Book::pages).as("total"))
        .groupBy(Book::author).as(Total.class).aioExecute().join();
    List<Map<String, Object>> maps = Books.select(Book::title, Book::pages).aioMaps().join();
    List<BookWithAuthor> withAuthor = Books.select(Books, Authors).join(Authors)
        .as(BookWithAuthor.class).aioExecute().join();
    List<AuthorWithBooks> authors = Authors.select().as(AuthorWithBooks.class)
        .aioPrefetch(Books.select()).join();

    long updated = Books.update(Map.of("pages", Expr.call("+", Expr.field(Book::pages), 1)))
        .where(Where.eq(Book::title, "A1")).aioExecute().join();
    long removed = Books.delete().where(Where.eq(Book::title, "A2")).aioExecute().join();

    assertEquals(2, ids.size());
    assertEquals("A2", thick.get(0).title());
    assertEquals(1L, count);
    assertEquals(List.of(new Total(ann.id(), 30L)), totals);
    assertEquals(Map.of("title", "A1", "pages", 10L), maps.get(0));
    assertEquals(ann, withAuthor.get(0).author());
    assertEquals(2, authors.get(0).books().size());
    assertEquals(1L, updated);
    assertEquals(1L, removed);
  }

  @Test
  @Order(6)
  void instancesAndRecords() {
    Model<Instance> Author = author;
    Model<Instance> Label = label;
    Instance ann = Author.aioGet(Map.of("name", "ann")).join();
    String name = ann.getString("name");
    Long born = ann.getLong("born");                  // integer fields read as Long
    Map<String, Object> values = ann.toMap();
    ann.set("born", 1952).aioSave().join();           // an UPDATE of born only: it changed
    Author asRecord = ann.as(Author.class);           // the same row as a record
    Instance red = Label.aioGetOrCreate(Map.of("name", "red")).join().instance();

    assertEquals("ann", name);
    assertEquals(1951L, born);
    assertEquals(name, values.get("name"));
    assertEquals(1952, asRecord.born());
    assertEquals(1L, red.getLong("weight"));
  }

  @Test
  @Order(7)
  void transactions() {
    Model<Instance> Author = author;
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
    Model<Instance> Author = author;
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
    Model<Instance> Author = author;
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
    Model<Instance> Author = author;
    // a model built in Java, used from Clojure: the same value
    IFn aioGet = Clojure.var("vireo.core", "aio-get");
    Instance ann = Author.aioGet(Map.of("name", "ann")).join();
    Object row = ((CompletableFuture<?>) aioGet.invoke(Author.toClojure(), ann.getId())).join();

    // a model defined in Clojure, used from Java
    IFn readString = Clojure.var("clojure.core", "read-string");
    Object tagDef = readString.invoke("{:table \"java_doc_tag\" :fields {:label {:type :char :max-length 20}}}");
    Model<Instance> Tag = Model.of(Clojure.var("vireo.core", "model").invoke("Tag", tagDef)).bind(db);
    Tag.aioCreateTable(true).join();
    Instance jvm = Tag.aioCreate(Map.of("label", "jvm")).join();

    // a Clojure database proxy, bound to a database later
    Object proxy = Clojure.var("vireo.core", "database-proxy").invoke();
    Model<Instance> Late = Model.builder("Late").database(Database.of(proxy)).table("java_doc_author")
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
    Model<Instance> Book = book;
    long pages = Book.select().aioReduce(0L, (sum, b) -> sum + b.getLong("pages")).join();
    long seen = Book.select().orderBy("id").fetchSize(500)
        .aioForEach(b -> System.out.println(b.getString("title"))).join();

    assertEquals(11L, pages);
    assertEquals(1L, seen);
  }

  @Test
  @Order(13)
  void signalsAndCallCounts() {
    Model<Instance> Author = author;
    Model<Instance> Book = book;
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
    Model<Instance> Author = author;
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
    Model<Instance> Author = author;
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
    static final Model<Instance> PageBlock = Model.builder("PageBlock").database(db)
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

  // ------------------------------------------------------------ the Java forms of the former "Not in Java yet"

  @Test
  @Order(20)
  void connectionsAndManualTransactions() {
    Model<Instance> Author = author;
    String committed = db.aioConnection(conn -> conn.aioBegin()
        .thenCompose(tx -> Author.aioCreate(Map.of("name", "manual"))
            .thenCompose(created -> db.aioSavepoint())
            .thenCompose(sp -> Author.aioCreate(Map.of("name", "undone")).thenCompose(x -> sp.aioRollback()))
            .thenCompose(x -> tx.aioCommit())
            .thenApply(x -> "manual committed, undone rolled back")))
        .join();

    ExecutorService mine = Executors.newSingleThreadExecutor();
    Instance onConn = db.aioConnection(conn -> CompletableFuture.supplyAsync(() -> 1, mine)
        .thenCompose(x -> conn.run(() -> Author.aioGet(Map.of("name", "manual"))))).join();   // on conn
    mine.shutdown();

    assertEquals("manual committed, undone rolled back", committed);
    assertEquals("manual", onConn.getString("name"));
    assertEquals(null, Author.aioGetOrNone(Map.of("name", "undone")).join());
  }

  @Test
  @Order(21)
  void plainQueriesCtesWindows() {
    Model<Instance> Book = book;
    Query thick = Query.select("title", "pages").from("java_doc_book")
        .where(Where.gt("pages", 10)).orderBy(Expr.field("pages").desc()).limit(10);
    List<Map<String, Object>> rows = db.aioQuery(thick).join();
    long changed = (Long) db.aioExecute(Query.update("java_doc_book", Map.of("pages", Expr.call("+", Expr.field("pages"), 1)))
        .where(Where.eq("title", "no such title"))).join();

    List<Instance> small = Book.select()
        .with(Cte.of("small", Book.select("id").where(Where.lt("pages", 50))))
        .where(Where.in("id", Query.select("id").from("small")))
        .aioExecute().join();

    List<Map<String, Object>> ranked = Book.select("title",
            Expr.call("row_number").over(Window.partitionBy("author").orderBy(Expr.field("pages").desc())).as("rank"))
        .aioMaps().join();

    long copied = Book.insertFrom(List.of("author", "title", "pages"),
        Book.select("author", "title", "pages").where(Where.eq("title", "A1"))).aioExecute().join();

    assertEquals(0L, changed);
    assertEquals(Book.select().where(Where.lt("pages", 50)).aioCount().join() - copied, (long) small.size());
    assertTrue(ranked.stream().allMatch(r -> ((Number) r.get("rank")).longValue() >= 1));
    assertTrue(rows.size() <= 10);
    assertTrue(copied >= 0);
  }

  @Test
  @Order(22)
  void publishers() {
    Model<Instance> Book = book;
    List<String> titles = new CopyOnWriteArrayList<>();
    CompletableFuture<Integer> done = new CompletableFuture<>();
    Flow.Publisher<Instance> books = Book.select().orderBy("id").fetchSize(100).publisher();
    books.subscribe(new Flow.Subscriber<>() {
      Flow.Subscription subscription;

      @Override
      public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(10);                 // ten rows at a time
      }

      @Override
      public void onNext(Instance book) {
        titles.add(book.getString("title"));
        if (titles.size() % 10 == 0) {
          subscription.request(10);
        }
      }

      @Override
      public void onError(Throwable e) {
        done.completeExceptionally(e);
      }

      @Override
      public void onComplete() {
        done.complete(titles.size());
      }
    });
    int seen = done.join();
    Flow.Publisher<Map<String, Object>> rows = db.publisher("SELECT name FROM java_doc_author WHERE born > ?", 1900);

    assertEquals(Book.select().aioCount().join(), (long) seen);
    assertTrue(rows != null);
  }

  @Test
  @Order(23)
  void deferredDatabasesAndProxies() {
    Database later = Database.deferred(Backend.SQLITE);          // models can name it now
    later.init(DatabaseOptions.create().path("target/java-test/later.db"));
    later.aioExecuteSql("SELECT 1").join();
    later.aioClose().join();

    DatabaseProxy proxy = Database.proxy();
    Model<Instance> Note = Model.builder("Note").database(proxy).table("java_doc_proxy_note").field("text", Field.text()).build();
    proxy.initialize(db);                                         // at startup
    Note.aioCreateTable(true).join();

    assertEquals(0L, Note.select().aioCount().join());
  }

  @Test
  @Order(24)
  void schemaHelpersAndCapabilities() {
    Model<Instance> Book = book;
    boolean seq = db.aioSequenceExists("java_doc_author_id_seq").join();   // false: not PostgreSQL
    Book.aioDropIndexes(true).join();
    Book.aioCreateIndexes(true).join();
    Capabilities caps = db.aioCapabilities().join();
    // Capabilities[server=SQLite 3.50.3, returning=[delete, insert, update], returningSource=detected]
    boolean canReturn = caps.canReturn("update");

    assertFalse(seq);
    assertTrue(canReturn, caps.toString());
  }

  @Test
  @Order(25)
  void customSignalsAndReceivers() {
    Model<Instance> Author = author;
    CustomSignal published = CustomSignal.create("published");
    Instance annToo = Author.aioGet(Map.of("name", "ann")).join();
    try (SignalConnection c = published.connect(Author, (model, who, kw) -> {
      System.out.println(who.getString("name") + " published by " + kw.get("by"));
      return null;                     // or a value, or a CompletionStage to wait for
    })) {
      List<Object> results = published.aioSend(Author, annToo, Map.of("by", "bob")).join();
    }
    try (SignalConnection c = Signal.PRE_INIT.connect(Author, (model, built, created) -> null)) {
      boolean heard = Signal.PRE_INIT.hasReceivers(Author);                  // true
      Instance draft = Author.instance(Map.of("name", "draft"));              // sends PRE_INIT
    }
    String quiet = Signal.POST_SAVE.withReceivers(List.of(), () -> "no post-save receiver in here");

    assertEquals("no post-save receiver in here", quiet);
  }

  @Test
  @Order(100)
  void reactorAndMutiny() {
    Model<Instance> Author = author;
    List<Instance> made = db.aioAtomic(tx -> Flux.just("reactor-1", "reactor-2")
        .concatMap(name -> Mono.fromFuture(() -> Author.aioCreate(Map.of("name", name))))
        .collectList()
        .toFuture()).join();

    Instance viaMutiny = db.aioAtomic(tx -> Uni.createFrom().completionStage(() -> Author.aioCreate(Map.of("name", "mutiny-1")))
        .onItem().transformToUni(a -> Uni.createFrom().completionStage(() -> Author.aioGet(a.getId())))
        .subscribeAsCompletionStage()).join();

    Instance afterHop = db.aioAtomic(tx -> Mono.just("reactor-3")
        .publishOn(Schedulers.boundedElastic())
        .flatMap(name -> Mono.fromFuture(tx.run(() -> Author.aioCreate(Map.of("name", name)))))
        .toFuture()).join();

    assertEquals(2, made.size());
    assertEquals("mutiny-1", viaMutiny.getString("name"));
    assertEquals("reactor-3", afterHop.getString("name"));
    assertEquals(4L, Author.select().where(Where.in("name", List.of("reactor-1", "reactor-2", "mutiny-1", "reactor-3")))
        .aioCount().join());
  }
}
