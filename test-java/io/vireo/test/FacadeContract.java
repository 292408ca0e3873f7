package io.vireo.test;

import io.vireo.exception.CheckViolationException;
import io.vireo.exception.ConnectionErrorException;
import io.vireo.exception.DeadlockException;
import io.vireo.exception.DoesNotExistException;
import io.vireo.exception.ErrorType;
import io.vireo.exception.ForeignKeyViolationException;
import io.vireo.exception.IntegrityErrorException;
import io.vireo.exception.NotNullViolationException;
import io.vireo.exception.ReadOnlyException;
import io.vireo.exception.TimeoutErrorException;
import io.vireo.exception.UniqueViolationException;
import io.vireo.exception.VireoException;
import static io.vireo.test.Errors.assertVireo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import clojure.java.api.Clojure;
import clojure.lang.IFn;
import clojure.lang.Keyword;
import clojure.lang.PersistentVector;
import clojure.lang.RT;
import io.vertx.core.Vertx;
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
import io.vireo.Join;
import io.vireo.Model;
import io.vireo.Route;
import io.vireo.SelectQuery;
import io.vireo.Signal;
import io.vireo.SignalConnection;
import io.vireo.SqlResult;
import io.vireo.Transaction;
import io.vireo.TransactionOptions;
import io.vireo.Vireo;
import io.vireo.Where;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every facade method, written once and run per backend by the subclasses
 * (like the Clojure suite's backend-parametrised tests). Tables start with java_.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class FacadeContract {
  /** A user's record: components name the fields. */
  public record Author(Long id, String name, Integer born) {}

  /** Primitive components get numbers converted (Long to long/int). */
  public record Book(long id, long author, String title, int pages, Long editor) {}

  /** A POJO, filled by setters. */
  public static final class AuthorBean {
    private String name;
    private int born;

    public String getName() {
      return name;
    }

    public void setName(String name) {
      this.name = name;
    }

    public int getBorn() {
      return born;
    }

    public void setBorn(int born) {
      this.born = born;
    }
  }

  Database db;
  Model<Instance> author;
  Model<Instance> book;
  Model<Instance> tag;
  Model<Instance> article;
  Model<Instance> kinds;
  Model<Instance> note;
  Model<Instance> pair;
  Model<Instance> node;
  Model<Instance> badge;
  Model<Instance> code;
  List<Model<Instance>> all;

  abstract Database open();

  /** Another database on the same server or file, not connected yet. */
  abstract Database fresh();

  abstract String backend();

  /** The URL of the test database, for Database.fromUrl. */
  abstract String url();

  @BeforeAll
  void setUp() {
    db = open();
    author = Model.builder("JavaAuthor").database(db).table("java_author")
        .field("name", Field.charField(40).unique())
        .field("born", Field.integer().nullable())
        .build();
    book = Model.builder("JavaBook").database(db).table("java_book")
        .field("author", Field.foreignKey(author).backref("books").onDelete(ForeignKeyAction.CASCADE))
        .field("title", Field.charField(100)) // indexed: MariaDB cannot index a LONGTEXT
        .field("pages", Field.integer().defaultValue(100))
        .field("editor", Field.foreignKey(author).nullable().backref("edited"))
        .index(false, "title", "pages")
        .build();
    tag = Model.builder("JavaTag").database(db).table("java_tag")
        .field("name", Field.charField(20).unique())
        .build();
    article = Model.builder("JavaArticle").database(db).table("java_article")
        .field("title", Field.text())
        .field("tags", Field.manyToMany(tag).backref("articles"))
        .build();
    kinds = Model.builder("JavaKinds").database(db).table("java_kinds")
        .field("c", Field.charField(10))
        .field("t", Field.text().nullable())
        .field("i", Field.integer().nullable())
        .field("bi", Field.bigint().nullable())
        .field("si", Field.smallint().nullable())
        .field("b", Field.bool().nullable())
        .field("d", Field.doubleField().nullable())
        .field("f", Field.floatField().nullable())
        .field("dec", Field.decimal(10, 2).nullable())
        .field("u", Field.uuid().nullable())
        .field("dt", Field.datetime().nullable())
        .field("tz", Field.timestamptz().nullable())
        .field("da", Field.date().nullable())
        .field("ti", Field.time().nullable())
        .field("j", Field.json().nullable())
        .field("by", Field.bytes().nullable())
        .field("createdAt", Field.date().nullable())
        .field("token", Field.text().defaultValue(() -> "tok-" + UUID.randomUUID()))
        .build();
    note = Model.builder("JavaNote").database(db).table("java_note")
        .field("author", Field.foreignKey(author).backref("notes"))
        .field("meta", Field.json())
        .build();
    pair = Model.builder("JavaPair").database(db).table("java_pair")
        .field("a", Field.integer())
        .field("b", Field.charField(10))
        .field("v", Field.charField(20))
        .primaryKey("a", "b")
        .index(true, "v")
        .build();
    node = Model.builder("JavaNode").database(db).table("java_node")
        .field("nid", Field.auto())
        .field("label", Field.charField(20).column("label_col"))
        .field("parent", Field.foreignKeyToSelf().nullable().backref("children"))
        .build();
    badge = Model.builder("JavaBadge").database(db).table("java_badge")
        .field("bid", Field.bigAuto())
        .field("holder", Field.foreignKey(author).toField("name").onUpdate(ForeignKeyAction.CASCADE).onDelete(ForeignKeyAction.CASCADE))
        .field("rank", Field.integer().check(Where.gt("rank", 0)))
        .field("note", Field.text().set("null", true))
        .build();
    code = Model.builder("JavaCode").database(db).table("java_code")
        .field("code", Field.charField(10).primaryKey())
        .field("label", Field.text())
        .build();
    all = List.of(article, tag, note, badge, book, author, kinds, pair, node, code);
    db.aioDropTables(true, all.toArray(new Model<?>[0])).join();
    db.aioCreateTables(false, all.toArray(new Model<?>[0])).join();
  }

  @AfterAll
  void tearDown() {
    if (db != null && all != null) {
      db.aioDropTables(true, all.toArray(new Model<?>[0])).join();
    }
    if (db != null) {
      db.aioClose().join();
    }
  }

  @BeforeEach
  void clean() {
    db.aioExecuteSql("DELETE FROM java_article_java_tag_through").join();
    for (Model<Instance> m : List.of(article, tag, note, badge, book, author, kinds, pair, code)) {
      m.delete().aioExecute().join();
    }
    node.update(java.util.Collections.singletonMap("parent", null)).where(Where.isNotNull("parent")).aioExecute().join();
    node.delete().aioExecute().join();
  }

  /** The exception a future completes with, as its direct dependents see it. */
  static Throwable failure(CompletableFuture<?> f) {
    Throwable e = f.handle((v, x) -> x).join();
    assertNotNull(e, "the future did not fail");
    return e;
  }

  Instance ann() {
    return author.aioCreate(Map.of("name", "ann", "born", 1950)).join();
  }

  // ------------------------------------------------------------ databases

  @Test
  void connectCloseReopen() {
    Database other = fresh();
    assertFalse(other.isConnected());
    other.aioConnect().join();
    assertTrue(other.isConnected());
    assertEquals(0L, other.checkedOut());
    assertTrue(other.poolOptions().containsKey("max-size"));
    other.aioClose().join();
    assertFalse(other.isConnected());
    VireoException e = assertVireo(ErrorType.OPERATIONAL_ERROR,
        failure(other.aioExecuteSql("SELECT 1")));
    assertEquals(ErrorType.POOL_CLOSED, e.getType());
    other.aioConnect().join();
    assertEquals(List.of(Map.of("one", 1L)), other.aioExecuteSql("SELECT 1 AS one").join().rows());
    other.aioClose().join();
  }

  @Test
  void executeSqlAndTables() {
    ann();
    SqlResult r = db.aioExecuteSql(
        "SELECT name, born AS born_year FROM java_author WHERE name = " + (backend().equals("pg") ? "$1" : "?"),
        "ann").join();
    assertEquals(List.of(Map.of("name", "ann", "born-year", 1950L)), r.rows());
    assertTrue(db.aioGetTables().join().containsAll(List.of("java_author", "java_book", "java_kinds")));
    assertTrue(db.aioTableExists("java_author").join());
    assertFalse(db.aioTableExists("java_nope").join());
    assertTrue(author.aioTableExists().join());
    assertEquals("java_article_java_tag_through", article.throughModel("tags").tableName());
  }

  // ------------------------------------------------------------ allow-sync

  @Test
  void syncCallsNeedAllowSync() {
    VireoException e = assertVireo(ErrorType.SYNC_NOT_ALLOWED, () -> author.createTable(true));
    assertEquals(ErrorType.SYNC_NOT_ALLOWED, e.getType());
    assertVireo(ErrorType.SYNC_NOT_ALLOWED, () -> author.select().execute());
    try (AllowSync outer = db.allowSync()) {
      author.createTable(true);
      try (AllowSync inner = db.allowSync()) {
        assertEquals(1, db.executeSql("SELECT 1 AS one").rows().size());
      }
      Object id = author.insert(Map.of("name", "sync")).execute();
      assertNotNull(id);
      assertEquals(1, author.select().execute().size());
      assertEquals(1L, author.update(Map.of("born", 1)).where(Where.eq("name", "sync")).execute());
      assertEquals(1L, author.delete().where(Map.of("name", "sync")).execute());
      // the permission is for this thread only
      CompletableFuture<Object> elsewhere = CompletableFuture.supplyAsync(() -> db.executeSql("SELECT 1"));
      assertVireo(ErrorType.SYNC_NOT_ALLOWED, VireoException.unwrap(failure(elsewhere)));
    }
    assertVireo(ErrorType.SYNC_NOT_ALLOWED, () -> db.executeSql("SELECT 1"));
    assertEquals(0L, db.checkedOut());
  }

  @Test
  void blockingMethodsMirrorTheAioOnes() {
    assertVireo(ErrorType.SYNC_NOT_ALLOWED, () -> author.get(Map.of("name", "x")));
    assertVireo(ErrorType.SYNC_NOT_ALLOWED, () -> db.atomic(tx -> 1));
    try (AllowSync sync = db.allowSync()) {
      db.connect();
      assertTrue(author.tableExists());
      assertTrue(db.tableExists("java_author"));
      assertTrue(db.getTables().contains("java_author"));
      Instance a = author.create(Map.of("name", "ann", "born", 1950));
      assertEquals("ann", author.get(Map.of("name", "ann")).getString("name"));
      assertEquals(a.getId(), author.get(a.getId()).getId());
      assertNull(author.getOrNone(Map.of("name", "nobody")));
      DoesNotExistException dne = assertThrows(DoesNotExistException.class, () -> author.get(Map.of("name", "nobody")));
      assertEquals(ErrorType.DOES_NOT_EXIST, dne.getType());
      GetOrCreate<Instance> bob = author.getOrCreate(Map.of("name", "bob"), Map.of("born", 1960));
      assertTrue(bob.created());
      assertFalse(author.getOrCreate(Map.of("name", "bob")).created());
      assertEquals(1951, a.set("born", 1951).save().getInt("born"));
      assertEquals(1952, author.save(a.set("born", 1952)).getInt("born"));
      assertEquals(1952, author.get(Map.of("name", "ann")).getInt("born"));
      // queries
      assertEquals(2L, author.select().count());
      assertTrue(author.select().where(Map.of("name", "ann")).exists());
      assertFalse(author.select().where(Map.of("name", "zz")).exists());
      assertEquals(1952L, ((Number) author.select("born").orderBy("born").scalar()).longValue());
      assertEquals("ann", author.select().orderBy("name").first().getString("name"));
      assertEquals("bob", author.select().where(Map.of("name", "bob")).get().getString("name"));
      assertNull(author.select().where(Map.of("name", "zz")).getOrNone());
      assertEquals(List.of(List.of("ann"), List.of("bob")), author.select("name").orderBy("name").tuples());
      assertEquals("bob", author.select("name").orderBy("name").maps().get(1).get("name"));
      // relations
      Instance b1 = book.create(Map.of("author", a.getId(), "title", "t1"));
      assertEquals("ann", book.fetch(b1, "author").getInstance("author").getString("name"));
      List<Instance> withBooks = author.select().orderBy("name").prefetch(book.select());
      assertEquals(1, withBooks.get(0).getInstances("books").size());
      Instance clj = tag.create(Map.of("name", "clj"));
      Instance art = article.create(Map.of("title", "x"));
      assertEquals(1L, article.add(art, "tags", clj));
      assertEquals(List.of("clj"), article.related(art, "tags").stream().map(t -> t.getString("name")).toList());
      assertEquals(1L, article.remove(art, "tags", clj));
      article.add(art, "tags", clj);
      assertEquals(1L, article.clear(art, "tags"));
      // writes with RETURNING, as the server can
      assertEquals("cy", author.insert(Map.of("name", "cy")).returning("name").get(0).getString("name"));
      assertEquals(1L, author.insert(Map.of("name", "dee")).rowCount());
      assertEquals("dee", author.delete().where(Map.of("name", "dee")).returning().get(0).getString("name"));
      if (!backend().equals("mysql")) {
        assertEquals(1999, author.update(Map.of("born", 1999)).where(Map.of("name", "cy")).returning("born")
            .get(0).getInt("born"));
      } else {
        assertVireo(ErrorType.NOT_SUPPORTED,
            () -> author.update(Map.of("born", 1999)).where(Map.of("name", "cy")).returning());
      }
      // transactions: the body runs on this thread, in the transaction
      assertEquals(42, (int) db.atomic(tx -> {
        assertTrue(db.inTransaction());
        author.create(Map.of("name", "tx1"));
        return 42;
      }));
      assertThrows(UniqueViolationException.class, () -> db.atomic(tx -> {
        author.create(Map.of("name", "tx2"));
        return author.create(Map.of("name", "tx1"));
      }));
      assertNull(author.getOrNone(Map.of("name", "tx2")), "the whole block rolled back");
      // an aioAtomic inside a blocking one is a savepoint: its failure rolls back only it
      db.atomic(tx -> {
        author.create(Map.of("name", "outer"));
        failure(db.aioAtomic(inner -> author.aioCreate(Map.of("name", "lost"))
            .thenCompose(x -> CompletableFuture.<Object>failedFuture(new IllegalStateException("inner")))));
        // and a blocking one inside a blocking one too
        assertThrows(IllegalStateException.class, () -> db.atomic(inner -> {
          author.create(Map.of("name", "lost"));
          throw new IllegalStateException("inner");
        }));
        return null;
      });
      assertNotNull(author.getOrNone(Map.of("name", "outer")));
      assertNull(author.getOrNone(Map.of("name", "lost")));
      assertVireo(ErrorType.OPERATIONAL_ERROR, () -> db.transaction(tx -> db.transaction(inner -> 1)));
      // a blocking savepoint of the transaction handle
      db.atomic(tx -> {
        author.create(Map.of("name", "tx-outer"));
        assertThrows(IllegalStateException.class, () -> tx.atomic(sp -> {
          author.create(Map.of("name", "sp-lost"));
          throw new IllegalStateException("savepoint");
        }));
        assertEquals("kept", tx.atomic(sp -> author.create(Map.of("name", "sp-kept")).getString("name")).replace("sp-", ""));
        return null;
      });
      assertNotNull(author.getOrNone(Map.of("name", "sp-kept")));
      assertNull(author.getOrNone(Map.of("name", "sp-lost")));
      // streaming and records, blocking
      List<String> seen = new java.util.ArrayList<>();
      long n = author.select().orderBy("name").forEach(i -> seen.add(i.getString("name")));
      assertEquals(author.select().count(), n);
      assertEquals(seen, author.select().orderBy("name").execute().stream().map(i -> i.getString("name")).toList());
      assertEquals(seen.stream().mapToInt(String::length).sum(),
          (int) author.select().reduce(0, (acc, i) -> acc + i.getString("name").length()));
      assertEquals(seen, author.select().orderBy("name").as(Author.class).execute().stream().map(Author::name).toList());
      // records
      Author rec = author.as(Author.class).create(new Author(null, "rec", 1901));
      assertNotNull(rec.id());
      assertEquals(rec, author.as(Author.class).get(Map.of("name", "rec")));
      assertNull(author.as(Author.class).getOrNone(Map.of("name", "nobody")));
      assertEquals(1902, author.as(Author.class).save(new Author(rec.id(), "rec", 1902)).born());
      Instance r = author.get(rec.id());
      assertEquals(1903, author.saveOnly(r.set("born", 1903), "born").getInt("born"));
      // deletes, truncate
      assertEquals(1L, bob.instance().deleteInstance());
      assertEquals(1L, author.deleteInstance(a, true, false));
      code.create(Map.of("code", "c1", "label", "one"));
      code.truncateTable();
      assertEquals(0L, code.select().count());
    }
    assertEquals(0L, db.checkedOut());
  }

  @Test
  void allowSyncClosedOutOfOrderIsRefused() {
    AllowSync outer = db.allowSync();
    Database other = fresh();
    AllowSync inner = other.allowSync();
    assertThrows(IllegalStateException.class, outer::close);
    inner.close();
    outer.close();
    outer.close(); // idempotent
    other.aioClose().join();
  }

  @Test
  void setAllowSyncIsDatabaseWide() {
    Database other = fresh();
    assertSame(other, other.setAllowSync(true));
    assertEquals(1, other.executeSql("SELECT 1").rows().size());
    other.setAllowSync(false);
    assertVireo(ErrorType.SYNC_NOT_ALLOWED, () -> other.executeSql("SELECT 1"));
    other.aioClose().join();
  }

  // ------------------------------------------------------------ models and instances

  @Test
  void modelIntrospection() {
    assertEquals("JavaBook", book.name());
    assertEquals("java_book", book.tableName());
    assertEquals(List.of("id", "author", "title", "pages", "editor"), book.fieldNames());
    assertEquals(db.toClojure(), book.database().toClojure());
    Instance i = book.instance(Map.of("title", "x"));
    assertEquals(100L, i.getLong("pages"));
    assertNull(i.getId());
    VireoException e = assertVireo(ErrorType.MODEL_ERROR,
        () -> Model.builder("Broken").field("title", Field.ofType("string")).build());
    assertTrue(e.getMessage().contains("unknown type :string"), e.getMessage());
    Model<Instance> same = Model.of(book.toClojure());
    assertEquals(book, same);
    assertEquals("Model[JavaBook \"java_book\"]", same.toString());
  }

  /** Two models built alike are equal, hashes too, also after one of them ran queries. */
  Model<Instance> equalAuthor() {
    return Model.builder("JavaEqualAuthor").database(db).table("java_author")
        .field("name", Field.charField(40).unique())
        .field("born", Field.integer().nullable())
        .build();
  }

  @Test
  void modelsBuiltAlikeStayEqualAfterQueries() {
    Model<Instance> a = equalAuthor();
    Model<Instance> b = equalAuthor();
    assertEquals(a, b);
    assertEquals(a.hashCode(), b.hashCode());
    Instance row = a.aioCreate(Map.of("name", "eq", "born", 1)).join();
    assertEquals(row, a.aioGet(row.getId()).join());
    assertEquals(row, a.aioGet(Map.of("name", "eq")).join());
    assertEquals(1, a.select().aioExecute().join().size());
    Model<Instance> c = equalAuthor();
    assertEquals(a, b);
    assertEquals(b, a);
    assertEquals(a, c);
    assertEquals(a.hashCode(), b.hashCode());
    assertEquals(a.hashCode(), c.hashCode());
    assertEquals(1, new java.util.HashSet<>(List.of(a, b, c)).size());
    assertEquals(a.bind(db), b.bind(db));
    assertNotEquals(a, author); // another name
  }

  @Test
  void createGetSave() {
    Instance a = ann();
    assertEquals("ann", a.getString("name"));
    assertEquals(1950L, a.getLong("born"));
    assertEquals(1950, a.getInt("born"));
    Object id = a.getId();
    assertEquals(id, author.getId(a));
    assertEquals(a, author.aioGet(id).join());
    assertEquals(a, author.aioGet(Map.of("name", "ann")).join());
    assertEquals(a, author.aioGet(Where.like("name", "a%")).join());
    assertNull(author.aioGetOrNone(Map.of("name", "bob")).join());

    Instance saved = author.aioSave(a.set("born", 1951)).join();
    assertSame(a, saved);
    assertEquals(1951L, author.aioGet(id).join().getLong("born"));
    // an unchanged loaded instance is not written; a concurrent change to another field survives
    Instance stale = author.aioGet(id).join();
    author.update(Map.of("name", "ann2")).where(Where.eq("id", id)).aioExecute().join();
    author.aioSave(stale.set("born", 1952)).join();
    assertEquals("ann2", author.aioGet(id).join().getString("name"));

    Instance fresh = Instance.of(Map.of("name", "cat"));
    author.aioSave(fresh).join();
    assertNotNull(fresh.getLong("id"));
    Instance forced = Instance.of(Map.of("id", 99, "name", "ghost"));
    assertInstanceOf(DoesNotExistException.class, failure(author.aioSave(forced)));
    author.aioSave(forced, true).join();
    assertEquals("ghost", author.aioGet(99).join().getString("name"));
    Instance only = author.aioGet(99).join().set("name", "ghost2").set("born", 5);
    author.aioSaveOnly(only, "born").join();
    assertEquals("ghost", author.aioGet(99).join().getString("name"));
    assertEquals(1L, author.aioGet(99).join().aioDeleteInstance().join());
    assertEquals(Map.of("id", id, "name", "ann2", "born", 1952L), author.aioGet(id).join().toMap());
    assertTrue(author.aioGet(id).join().toString().startsWith("JavaAuthor{"));
    assertEquals(List.of("id", "name", "born"), new ArrayList<>(author.aioGet(id).join().keys()));
  }

  @Test
  void getOrCreate() {
    GetOrCreate<Instance> first = author.aioGetOrCreate(Map.of("name", "bob"), Map.of("born", 1970)).join();
    assertTrue(first.created());
    assertEquals(1970L, first.instance().getLong("born"));
    GetOrCreate<Instance> again = author.aioGetOrCreate(Map.of("name", "bob")).join();
    assertFalse(again.created());
    assertEquals(first.instance(), again.instance());
  }

  @Test
  void recordsAndPojos() {
    Author created = author.as(Author.class).aioCreate(new Author(null, "rec", 1980)).join();
    assertNotNull(created.id());
    assertEquals(new Author(created.id(), "rec", 1980), author.as(Author.class).aioGet(created.id()).join());
    assertNull(author.as(Author.class).aioGetOrNone(Map.of("name", "nope")).join());
    Author moved = author.as(Author.class).aioSave(new Author(created.id(), "rec", 1981)).join();
    assertEquals(1981, moved.born());
    AuthorBean bean = author.as(AuthorBean.class).aioGet(Map.of("name", "rec")).join();
    assertEquals("rec", bean.getName());
    assertEquals(1981, bean.getBorn());
    Instance fromBean = Instance.from(bean);
    assertEquals("rec", fromBean.getString("name"));
    Instance b = book.aioCreate(Map.of("author", created.id(), "title", "T")).join();
    Book rb = b.as(Book.class);
    assertEquals(100, rb.pages());
    assertNull(rb.editor());
    assertEquals(List.of(rb), book.select().as(Book.class).aioExecute().join());
  }

  @Test
  void allFieldTypesRoundTrip() {
    UUID u = UUID.randomUUID();
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("c", "char");
    v.put("t", "text ✓");
    v.put("i", 42);
    v.put("bi", 1L << 40);
    v.put("si", 7);
    v.put("b", true);
    v.put("d", 1.5);
    v.put("f", 0.25);
    v.put("dec", new BigDecimal("12.34"));
    v.put("u", u);
    v.put("dt", LocalDateTime.of(2024, 1, 2, 3, 4, 5));
    v.put("tz", OffsetDateTime.of(2024, 1, 2, 3, 4, 5, 0, ZoneOffset.UTC));
    v.put("da", LocalDate.of(2024, 2, 29));
    v.put("ti", LocalTime.of(23, 59, 58));
    v.put("j", Map.of("a", List.of(1, 2, Map.of("b", "c")), "n", true));
    v.put("by", new byte[] {0, 1, (byte) 255});
    v.put("createdAt", LocalDate.of(2000, 1, 1));
    Instance k = kinds.aioCreate(v).join();
    Instance r = kinds.aioGet(k.getId()).join();
    assertEquals("char", r.getString("c"));
    assertEquals("text ✓", r.getString("t"));
    assertEquals(42L, r.getLong("i"));
    assertEquals(1L << 40, r.getLong("bi"));
    assertEquals(7, r.getInt("si"));
    assertTrue(r.getBoolean("b"));
    assertEquals(1.5, r.getDouble("d"));
    assertEquals(0.25, r.getDouble("f"));
    assertEquals(new BigDecimal("12.34"), r.getBigDecimal("dec"));
    assertEquals(u, r.getUuid("u"));
    assertEquals(LocalDateTime.of(2024, 1, 2, 3, 4, 5), r.getLocalDateTime("dt"));
    assertEquals(OffsetDateTime.of(2024, 1, 2, 3, 4, 5, 0, ZoneOffset.UTC), r.getOffsetDateTime("tz"));
    assertEquals(LocalDate.of(2024, 2, 29), r.getLocalDate("da"));
    assertEquals(LocalTime.of(23, 59, 58), r.getLocalTime("ti"));
    assertEquals(Map.of("a", List.of(1L, 2L, Map.of("b", "c")), "n", true), r.get("j"));
    assertArrayEquals(new byte[] {0, 1, (byte) 255}, r.getBytes("by"));
    assertEquals(LocalDate.of(2000, 1, 1), r.getLocalDate("createdAt"));
    assertTrue(r.getString("token").startsWith("tok-"));
    assertVireo(ErrorType.DATA_ERROR, failure(kinds.aioCreate(Map.of("c", "far too long for ten"))));
    assertVireo(ErrorType.DATA_ERROR, failure(kinds.aioCreate(Map.of("c", 42))));
  }

  // ------------------------------------------------------------ relations

  @Test
  void foreignKeysFetchPrefetchAndRecursiveDelete() {
    Instance a = ann();
    Instance bob = author.aioCreate(Map.of("name", "bob")).join();
    Instance b1 = book.aioCreate(Map.of("author", a, "title", "A1", "pages", 10)).join();
    book.aioCreate(Map.of("author", a.getId(), "title", "A2", "pages", 20, "editor", bob)).join();
    assertEquals(a.getId(), b1.getLong("author"));
    Instance fetched = book.aioGet(b1.getId()).join().aioFetch("author").join();
    assertEquals("ann", fetched.getInstance("author").getString("name"));
    assertEquals(a.getId(), fetched.getInstance("author").getId());

    List<Instance> authors = author.select().orderBy("id").aioPrefetch(book.select().orderBy("title")).join();
    assertEquals(List.of("A1", "A2"),
        authors.get(0).getInstances("books").stream().map(i -> i.getString("title")).toList());
    assertEquals(List.of(), authors.get(1).getInstances("books"));

    List<Instance> joined = book.select(book, author).join(author).orderBy("id").aioExecute().join();
    assertEquals("ann", joined.get(0).getInstance("author").getString("name"));
    assertEquals(a.getId(), joined.get(0).getLong("author"));
    assertEquals(List.of(Map.of("title", "A2", "ed/name", "bob")), book.select("title", "ed.name")
        .join(author, Join.inner().as("ed").on(Where.eq("editor", Expr.field("ed.id")))).aioMaps().join());

    assertEquals(1L, author.aioDeleteInstance(bob, true).join());
    assertNull(book.aioGet(Map.of("title", "A2")).join().get("editor"));
    assertEquals(1L, author.aioDeleteInstance(a, true).join());
    assertEquals(0L, book.select().aioCount().join());
  }

  @Test
  void manyToMany() {
    Instance clj = tag.aioCreate(Map.of("name", "clj")).join();
    Instance jvm = tag.aioCreate(Map.of("name", "jvm")).join();
    Instance art = article.aioCreate(Map.of("title", "hello")).join();
    assertEquals(2L, article.aioAdd(art, "tags", clj, jvm.getId()).join());
    assertEquals(0L, article.aioAdd(art, "tags", clj).join());
    assertEquals(List.of("clj", "jvm"),
        article.aioRelated(art, "tags").join().stream().map(i -> i.getString("name")).toList());
    assertEquals("hello", tag.aioRelated(jvm, "articles").join().get(0).getString("title"));
    assertEquals(1L, article.aioRemove(art, "tags", jvm).join());
    assertEquals(1L, article.aioClear(art, "tags").join());
  }

  // ------------------------------------------------------------ queries

  void books() {
    Instance a = ann();
    Instance bob = author.aioCreate(Map.of("name", "bob", "born", 1970)).join();
    List<Object> ids = book.insertMany(List.of(
        Map.of("author", a.getId(), "title", "A1", "pages", 10),
        Map.of("author", a.getId(), "title", "A2", "pages", 20),
        Map.of("author", bob.getId(), "title", "B1", "pages", 30),
        Map.of("author", bob.getId(), "title", "B2", "pages", 40))).aioExecute().join();
    assertEquals(4, ids.size());
  }

  @Test
  void selectRefinementsAndShapes() {
    books();
    assertEquals(List.of("B2", "B1", "A2", "A1"), titles(book.select().orderBy(Expr.field("pages").desc())));
    assertEquals(List.of("A2"), titles(book.select().orderBy("id").paginate(2, 1)));
    assertEquals(List.of("A2", "B1"), titles(book.select().orderBy("id").limit(2).offset(1)));
    assertEquals(List.of("A1", "B1", "B2"),
        titles(book.select().where(Where.or(Where.lt("pages", 15), Where.like("title", "B%"))).orderBy("id")));
    assertEquals(List.of("A2", "B2"),
        titles(book.select().where(Map.of("pages__gte", 20)).where(Map.of("title__in", List.of("A2", "B2"))).orderBy("id")));
    assertEquals(List.of("B1", "B2"), titles(book.select()
        .where(Where.in("author", author.select("id").where(Map.of("name", "bob")))).orderBy("id")));
    assertEquals(List.of("A1", "B1"), titles(book.select()
        .where(Where.and(Where.between("pages", 5, 35), Where.not(Where.in("title", List.of("A2", "B2"))),
            Where.isNull("editor"), Where.ne("title", "x"), Where.ge("pages", 10), Where.le("pages", 30),
            Where.gt("pages", 0), Where.notIn("title", List.of()))).where(Where.filter(Map.of("title__like", "%1")))
        .orderBy("id")));
    assertEquals(List.of(Map.of("author", 2L, "total", 70L)), book.select("author", Expr.sum("pages").as("total"))
        .groupBy("author").having(Where.of(">", Expr.sum("pages"), 40)).aioMaps().join().stream()
        .map(m -> Map.of("author", ((Number) m.get("author")).longValue() - firstAuthorId() + 1,
            "total", ((Number) m.get("total")).longValue())).toList());
    assertEquals(List.of(List.of("A1", 10L)), book.select("title", "pages").where(Map.of("pages", 10)).aioTuples().join());
    assertEquals(List.of(Map.of("title", "A1", "java_author/name", "ann")),
        book.select("title", "java_author.name").join(author).where(Map.of("pages", 10)).aioMaps().join());
    assertEquals(List.of(Map.of("name", "ann", "n", 2L), Map.of("name", "bob", "n", 2L)),
        author.select("name", Expr.count("java_book.id").as("n")).join(book, Join.left())
            .groupBy("name").orderBy("name").aioMaps().join().stream()
            .map(m -> Map.of("name", m.get("name"), "n", ((Number) m.get("n")).longValue())).toList());
    assertEquals(4L, book.select().aioCount().join());
    assertTrue(book.select().where(Map.of("title", "A1")).aioExists().join());
    assertFalse(book.select().where(Map.of("title", "zz")).aioExists().join());
    assertEquals(40L, ((Number) book.select(Expr.max("pages")).aioScalar().join()).longValue());
    assertEquals("A1", book.select().orderBy("id").aioFirst().join().getString("title"));
    assertNull(book.select().where(Map.of("title", "zz")).aioFirst().join());
    assertEquals("B2", book.select().where(Map.of("pages", 40)).aioGet().join().getString("title"));
    assertNull(book.select().where(Map.of("pages", 41)).aioGetOrNone().join());
    DoesNotExistException e = assertInstanceOf(DoesNotExistException.class,
        failure(book.select().where(Map.of("pages", 41)).aioGet()));
    assertTrue(e.getSql().contains("java_book"), e.getSql());
    assertEquals(List.of(41L, 1L), e.getParameters().stream().map(p -> ((Number) p).longValue()).toList());
    assertEquals(List.of("A1", "B2"), titles(book.select().where(Map.of("pages", 10))
        .union(book.select().where(Map.of("pages", 40)))).stream().sorted().toList());
    assertEquals(4, book.select().where(Map.of("pages__lt", 100)).unionAll(book.select().where(Map.of("pages", 1000))).aioExecute().join().size());
    assertEquals(List.of("A1"), titles(book.select().where(Map.of("pages__lt", 15)).intersect(book.select())));
    assertEquals(3, book.select().except(book.select().where(Map.of("pages", 10))).aioExecute().join().size());
    assertEquals(List.of("ann", "bob"), author.select("name").distinct().orderBy("name").aioExecute().join()
        .stream().map(i -> i.getString("name")).toList());
    assertEquals(List.of("A1"), titles(book.raw("SELECT * FROM java_book WHERE pages = "
        + (backend().equals("pg") ? "$1" : "?"), 10)));
    assertVireo(ErrorType.INTERFACE_ERROR, () -> book.select().where(Map.of("pages__near", 1)));
  }

  long firstAuthorId() {
    return author.select().orderBy("id").aioFirst().join().getLong("id");
  }

  static List<String> titles(io.vireo.SelectQuery<Instance> q) {
    return q.aioExecute().join().stream().map(i -> i.getString("title")).toList();
  }

  @Test
  void insertUpdateDelete() {
    books();
    Object aId = author.aioGet(Map.of("name", "ann")).join().getId();
    Object id = book.insert(Map.of("author", aId, "title", "C1")).aioExecute().join();
    assertEquals(100L, book.aioGet(id).join().getLong("pages"));
    assertEquals(1L, book.insert(Map.of("author", aId, "title", "C2")).aioRowCount().join());
    assertEquals(List.of("C3"), book.insert(Map.of("author", aId, "title", "C3")).aioReturning("title").join()
        .stream().map(i -> i.getString("title")).toList());
    Object skipped = author.insert(Map.of("name", "ann")).onConflictIgnore().aioExecute().join();
    if (backend().equals("mysql")) { // MariaDB's no-op ON DUPLICATE KEY returns the existing row (docs/queries.md)
      assertEquals(aId, skipped);
    } else {
      assertNull(skipped);
    }
    author.insert(Map.of("name", "ann", "born", 1999)).onConflictUpdate(List.of("name"), List.of("born")).aioExecute().join();
    assertEquals(1999L, author.aioGet(Map.of("name", "ann")).join().getLong("born"));
    author.insert(Map.of("name", "ann", "born", 1)).onConflictUpdate(List.of("name"),
        Map.of("born", Expr.call("+", Expr.field("java_author.born"), 1))).aioExecute().join();
    assertEquals(2000L, author.aioGet(Map.of("name", "ann")).join().getLong("born"));

    assertEquals(2L, book.update(Map.of("pages", Expr.call("+", Expr.field("pages"), 1)))
        .where(Where.like("title", "A%")).aioExecute().join());
    assertEquals(11L, book.aioGet(Map.of("title", "A1")).join().getLong("pages"));
    if (backend().equals("mysql")) { // MariaDB: no UPDATE … RETURNING (MysqlFacadeTest checks the refusal)
      assertEquals(1L, book.update(Map.of("pages", 0)).where(Map.of("title", "B1")).aioExecute().join());
    } else {
      assertEquals(List.of(0L), book.update(Map.of("pages", 0)).where(Map.of("title", "B1")).aioReturning("pages").join()
          .stream().map(i -> i.getLong("pages")).toList());
    }
    assertEquals(List.of("B1"), book.delete().where(Map.of("pages", 0)).aioReturning().join()
        .stream().map(i -> i.getString("title")).toList());
    assertEquals(1L, book.delete().where(Where.eq("title", "B2")).aioExecute().join());
    book.aioTruncateTable().join();
    assertEquals(0L, book.select().aioCount().join());
  }

  // ------------------------------------------------------------ exceptions

  @Test
  void futuresFailWithVireoExceptionsThemselves() {
    ann();
    CompletableFuture<Instance> dup = author.aioCreate(Map.of("name", "ann"));
    Throwable direct = failure(dup);
    UniqueViolationException e = assertInstanceOf(UniqueViolationException.class, direct);
    assertInstanceOf(IntegrityErrorException.class, e);
    assertEquals(ErrorType.UNIQUE_VIOLATION, e.getType());
    assertTrue(e.getSql().toLowerCase().contains("insert into"), e.getSql());
    assertEquals(List.of("ann"), e.getParameters().subList(0, 1));
    // chained stages and join() see the JDK's CompletionException around it
    CompletionException wrapped = assertThrows(CompletionException.class, dup::join);
    assertSame(e, wrapped.getCause());
    Throwable chained = failure(dup.thenApply(i -> i));
    assertInstanceOf(CompletionException.class, chained);
    assertSame(e, VireoException.unwrap(chained));

    DoesNotExistException dne = assertInstanceOf(DoesNotExistException.class,
        failure(author.aioGet(Map.of("name", "nobody"))));
    assertEquals(ErrorType.DOES_NOT_EXIST, dne.getType());
    assertVireo(ErrorType.MODEL_ERROR, failure(author.aioCreate(Map.of("name", "x", "nmae", "typo"))));
    assertVireo(ErrorType.INTERFACE_ERROR, assertThrows(VireoException.class,
        () -> new io.vireo.PostgresqlDatabase("mysql://root@127.0.0.1/x")));
    assertVireo(ErrorType.INTERFACE_ERROR, assertThrows(VireoException.class,
        () -> Database.fromUrl("sqlite:x.db", io.vireo.DatabaseOptions.create().set("min-size", 2))));
    assertVireo(ErrorType.PROGRAMMING_ERROR, failure(db.aioExecuteSql("SELEC 1")));
  }

  // ------------------------------------------------------------ transactions

  @Test
  void atomicCommitsAndRollsBack() {
    String r = db.aioAtomic(tx -> author.aioCreate(Map.of("name", "in-tx"))
        .thenApply(i -> db.inTransaction() ? "committed" : "outside")).join();
    assertEquals("committed", r);
    assertFalse(db.inTransaction());
    assertNotNull(author.aioGetOrNone(Map.of("name", "in-tx")).join());

    CompletableFuture<Object> failed = db.aioAtomic(tx -> author.aioCreate(Map.of("name", "rolled"))
        .thenCompose(i -> author.aioCreate(Map.of("name", "in-tx"))) // unique violation
        .thenApply(i -> (Object) i));
    assertInstanceOf(UniqueViolationException.class, failure(failed));
    assertNull(author.aioGetOrNone(Map.of("name", "rolled")).join());

    RuntimeException mine = new IllegalStateException("mine");
    CompletableFuture<Object> thrown = db.aioAtomic(tx -> author.aioCreate(Map.of("name", "gone"))
        .thenApply(i -> {
          throw mine;
        }));
    assertSame(mine, VireoException.unwrap(failure(thrown)));
    assertNull(author.aioGetOrNone(Map.of("name", "gone")).join());
  }

  @Test
  void nestedAtomicIsASavepoint() {
    String r = db.aioAtomic(outer -> author.aioCreate(Map.of("name", "cat"))
        .thenCompose(c -> db.aioAtomic(inner -> author.aioCreate(Map.of("name", "dan"))
                .thenApply(d -> {
                  throw new IllegalStateException("inner failure");
                }))
            .handle((v, e) -> "inner rolled back: " + VireoException.unwrap(e).getMessage())))
        .join();
    assertEquals("inner rolled back: inner failure", r);
    assertNotNull(author.aioGetOrNone(Map.of("name", "cat")).join());
    assertNull(author.aioGetOrNone(Map.of("name", "dan")).join());

    // explicit savepoint on the handle; a Vireo error inside keeps its type outside
    Throwable e = failure(db.aioAtomic(tx -> tx.aioAtomic(sp -> author.aioCreate(Map.of("name", "cat")))));
    assertInstanceOf(UniqueViolationException.class, e);

    VireoException again = assertVireo(ErrorType.OPERATIONAL_ERROR,
        failure(db.aioAtomic(tx -> db.aioTransaction(t2 -> CompletableFuture.completedFuture(1)))));
    assertTrue(again.getMessage().contains("already"), again.getMessage());
    assertEquals(1, db.aioTransaction(tx -> CompletableFuture.completedFuture(1)).join());
  }

  @Test
  void transactionRunCarriesTheContextToOtherThreads() {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      AtomicReference<Transaction> handle = new AtomicReference<>();
      Boolean inTx = db.aioAtomic(TransactionOptions.create().isolation(TransactionOptions.Isolation.SERIALIZABLE),
          tx -> {
            handle.set(tx);
            return CompletableFuture.supplyAsync(() -> 1, pool)
                .thenComposeAsync(x -> tx.run(() -> author.aioCreate(Map.of("name", "thread"))), pool)
                .thenApplyAsync(i -> tx.run(db::inTransaction), pool);
          }).join();
      assertTrue(inTx);
      assertEquals(db.toClojure(), handle.get().database().toClojure());
      assertNotNull(handle.get().toClojure());
    } finally {
      pool.shutdown();
    }
    assertNotNull(author.aioGetOrNone(Map.of("name", "thread")).join());
    assertEquals("ro", db.aioAtomic(TransactionOptions.create().readOnly(true),
        tx -> CompletableFuture.completedFuture("ro")).join());
  }

  // ------------------------------------------------------------ related instances have their model

  @Test
  void relatedInstancesHaveTheirModel() {
    Instance a = ann();
    Instance b1 = book.aioCreate(Map.of("author", a, "title", "A1", "pages", 10)).join();
    note.aioCreate(Map.of("author", a, "meta", Map.of("k", "v", "n", List.of(1, 2)))).join();

    // many-to-many: the field's target, and the owner of a backref
    Instance clj = tag.aioCreate(Map.of("name", "clj")).join();
    Instance art = article.aioCreate(Map.of("title", "hello")).join();
    article.aioAdd(art, "tags", clj).join();
    Instance relTag = article.aioRelated(art, "tags").join().get(0);
    assertEquals(tag, relTag.model());
    assertEquals(clj.getId(), relTag.getId());
    relTag.set("name", "clojure").aioSave().join();
    assertEquals("clojure", tag.aioGet(clj.getId()).join().getString("name"));
    Instance relArt = tag.aioRelated(clj, "articles").join().get(0);
    assertEquals(article, relArt.model());
    relArt.set("title", "bye").aioSave().join();
    assertEquals("bye", article.aioGet(art.getId()).join().getString("title"));
    assertEquals(1L, relArt.aioDeleteInstance().join());
    assertNull(article.aioGetOrNone(art.getId()).join());

    // prefetched backrefs: getInstances and the list get() returns
    Instance pa = author.select().where(Map.of("name", "ann")).aioPrefetch(book.select(), note.select()).join().get(0);
    Instance pb = pa.getInstances("books").get(0);
    assertEquals(book, pb.model());
    assertEquals(b1.getId(), pb.getId());
    assertEquals("ann", pb.aioFetch("author").join().getInstance("author").getString("name"));
    assertEquals(author, pb.getInstance("author").model());
    List<?> viaGet = assertInstanceOf(List.class, pa.get("books"));
    assertEquals(book, ((Instance) viaGet.get(0)).model());
    Instance pn = pa.getInstances("notes").get(0);
    assertEquals(note, pn.model());
    assertEquals(Map.of("k", "v", "n", List.of(1L, 2L)), pn.get("meta")); // JSON, not an Instance
    pn.set("meta", Map.of("k", "w")).aioSave().join();
    assertEquals(Map.of("k", "w"), note.aioGet(pn.getId()).join().get("meta"));
    pb.set("pages", 11).aioSave().join();
    assertEquals(11L, book.aioGet(b1.getId()).join().getLong("pages"));

    // joins: a custom attribute, an alias, a backward join, nested JSON
    Instance jb = book.select(book, author).join(author, Join.inner().attr("writer")).aioGet().join();
    Instance writer = jb.getInstance("writer");
    assertEquals(author, writer.model());
    assertEquals(a.getId(), writer.getId());
    writer.set("born", 1960).aioSave().join();
    assertEquals(1960L, author.aioGet(a.getId()).join().getLong("born"));
    Instance aliased = book.select(book, author)
        .join(author, Join.inner().as("w").attr("by").on(Where.eq("author", Expr.field("w.id")))).aioGet().join();
    assertEquals(author, aliased.getInstance("by").model());
    assertEquals(a.getId(), aliased.getInstance("by").getId());
    Instance an = author.select(author, note).join(note).aioGet().join();
    Instance joinedNote = an.getInstance("javanote");
    assertEquals(note, joinedNote.model());
    assertEquals(Map.of("k", "w"), joinedNote.get("meta"));
    Instance ab = author.select(author, book).join(book).aioGet().join();
    Instance joinedBook = ab.getInstance("javabook");
    assertEquals(book, joinedBook.model());
    assertEquals("ann", joinedBook.aioFetch("author").join().getInstance("author").getString("name"));
    List<Instance> executed = book.select(book, author).join(author, Join.inner().attr("writer")).aioExecute().join();
    assertEquals(author, executed.get(0).getInstance("writer").model());
    assertEquals(1L, joinedBook.aioDeleteInstance().join());
    assertEquals(0L, book.select().aioCount().join());
  }

  // ------------------------------------------------------------ event loops

  @Test
  void joinOnAnEventLoopThrowsBlockingOnEventLoop() {
    Vertx vertx = Vertx.vertx();
    try {
      CompletableFuture<Object> gate = new CompletableFuture<>();
      // cannot complete before the gate does
      CompletableFuture<Object> pending = author.aioGetOrNone(Map.of("name", "nobody")).thenCompose(x -> gate);
      CompletableFuture<List<Throwable>> seen = new CompletableFuture<>();
      vertx.runOnContext(v -> {
        List<Throwable> errors = new ArrayList<>();
        try {
          pending.join();
        } catch (Throwable t) {
          errors.add(t);
        }
        try {
          pending.get();
        } catch (Throwable t) {
          errors.add(t);
        }
        seen.complete(errors);
      });
      List<Throwable> errors = seen.join();
      assertEquals(2, errors.size());
      for (Throwable t : errors) {
        VireoException e = assertVireo(ErrorType.BLOCKING_ON_EVENT_LOOP, t);
        assertEquals(ErrorType.BLOCKING_ON_EVENT_LOOP, e.getType());
        assertTrue(e.getMessage().contains("thenCompose"), e.getMessage());
        assertTrue(e.getData().get("thread").toString().contains("eventloop"), e.getData().toString());
      }
      gate.complete("done");
      assertEquals("done", pending.join());
      // a finished future may be read anywhere, an event loop included
      CompletableFuture<Object> onLoop = new CompletableFuture<>();
      vertx.runOnContext(v -> onLoop.complete(pending.join()));
      assertEquals("done", onLoop.join());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
  }

  // ------------------------------------------------------------ both languages

  @Test
  void modelsAndDatabasesAreSharedWithClojure() {
    Instance a = ann();
    IFn aioGet = Clojure.var("vireo.core", "aio-get");
    Object row = ((CompletableFuture<?>) aioGet.invoke(author.toClojure(), a.getId())).join();
    assertEquals("ann", RT.get(row, Keyword.intern("name")));

    IFn readString = Clojure.var("clojure.core", "read-string");
    IFn assoc = Clojure.var("clojure.core", "assoc");
    Object def = assoc.invoke(readString.invoke("{:table \"java_clj_event\""
        + " :fields {:event-name {:type :char :max-length 30} :created-at {:type :date :null true}}}"),
        Keyword.intern("database"), db.toClojure());
    Model<Instance> event = Model.of(Clojure.var("vireo.core", "model").invoke("CljEvent", def));
    event.aioDropTable(true).join();
    event.aioCreateTable(false).join();
    try {
      assertEquals(List.of("id", "event-name", "created-at"), event.fieldNames());
      event.aioCreate(Map.of("event-name", "launch", "created-at", LocalDate.of(2024, 1, 1))).join();
      Instance launch = event.aioGet(Map.of("event-name", "launch")).join();
      assertEquals(LocalDate.of(2024, 1, 1), launch.getLocalDate("created-at"));
      assertEquals(event, launch.model());
    } finally {
      event.aioDropTable(false).join();
    }
    assertThrows(IllegalArgumentException.class, () -> Model.of(Map.of("name", "x")));

    Object proxy = Clojure.var("vireo.core", "database-proxy").invoke();
    Database viaProxy = Database.of(proxy);
    Model<Instance> proxied = Model.builder("JavaProxiedAuthor").database(viaProxy).table("java_author")
        .field("name", Field.charField(40).unique())
        .field("born", Field.integer().nullable())
        .build();
    Clojure.var("vireo.core", "initialize-proxy!").invoke(proxy, db.toClojure());
    assertEquals(1950L, proxied.aioGet(Map.of("name", "ann")).join().getLong("born"));
    assertSame(proxy, viaProxy.toClojure());
    assertEquals(db.getClass(), Database.of(db.toClojure()).getClass());
    assertThrows(IllegalArgumentException.class, () -> Database.of("not a database"));
  }

  // ------------------------------------------------------------ model definitions

  @Test
  void compositeKeysIndexesAndFieldOptions() {
    Instance p = pair.aioCreate(Map.of("a", 1, "b", "x", "v", "one")).join();
    assertEquals(List.of(1, "x"), p.getId()); // the values given
    assertEquals(List.of(1L, "x"), pair.aioGet(p.getId()).join().getId()); // the values read
    assertEquals("one", pair.aioGet(List.of(1, "x")).join().getString("v"));
    assertNull(pair.aioGetOrNone(List.of(1, "y")).join());
    assertInstanceOf(UniqueViolationException.class, failure(pair.aioCreate(Map.of("a", 2, "b", "y", "v", "one"))));

    Instance root = node.aioCreate(Map.of("label", "root")).join();
    Instance leaf = node.aioCreate(Map.of("label", "leaf", "parent", root)).join();
    assertEquals(List.of("nid", "label", "parent"), node.fieldNames());
    Instance parent = leaf.aioFetch("parent").join().getInstance("parent");
    assertEquals("root", parent.getString("label"));
    assertEquals(node, parent.model());
    assertEquals(List.of(Map.of("label-col", "leaf")), db.aioExecuteSql(
        "SELECT label_col FROM java_node WHERE parent_id = " + (backend().equals("pg") ? "$1" : "?"),
        root.getId()).join().rows());
    assertEquals(List.of("leaf"), node.select().where(Map.of("nid", root.getId()))
        .aioPrefetch(node.select().where(Where.isNotNull("parent"))).join().get(0).getInstances("children").stream()
        .map(i -> i.getString("label")).toList());

    Instance a = ann();
    Instance gold = badge.aioCreate(Map.of("holder", "ann", "rank", 1)).join();
    assertInstanceOf(Long.class, gold.getId());
    assertNull(gold.get("note"));
    author.update(Map.of("name", "anna")).where(Map.of("name", "ann")).aioExecute().join();
    assertEquals("anna", badge.aioGet(gold.getId()).join().getString("holder")); // ON UPDATE CASCADE
    assertEquals("anna", badge.aioGet(gold.getId()).join().aioFetch("holder").join()
        .getInstance("holder").getString("name"));
    CheckViolationException check = assertInstanceOf(CheckViolationException.class,
        failure(badge.aioCreate(Map.of("holder", "anna", "rank", 0))));
    assertInstanceOf(IntegrityErrorException.class, check);
    assertEquals(1L, author.aioGet(a.getId()).join().aioDeleteInstance().join());
    assertEquals(0L, badge.select().aioCount().join()); // ON DELETE CASCADE

    Instance c = code.aioCreate(Map.of("code", "k1", "label", "one")).join();
    assertEquals("k1", c.getId());
    assertEquals("one", code.aioGet("k1").join().getString("label"));
  }

  @Test
  void bindSchemaAndSyncDrop() {
    Model<Instance> temp = Model.builder("JavaTemp").database(db).table("java_temp").field("x", Field.integer()).build();
    temp.aioDropTable(true).join();
    temp.aioCreateTable(false).join();
    assertTrue(temp.aioTableExists().join());
    temp.aioCreate(Map.of("x", 1)).join();
    Database other = fresh();
    try {
      Model<Instance> bound = temp.bind(other);
      assertEquals(other.toClojure(), bound.database().toClojure());
      assertEquals(1L, bound.aioGet(Map.of("x", 1)).join().getLong("x"));
    } finally {
      other.aioClose().join();
    }
    temp.aioDropTable(false).join();
    assertFalse(db.aioTableExists("java_temp").join());
    assertVireo(ErrorType.PROGRAMMING_ERROR, failure(temp.aioDropTable(false)));
    temp.aioCreateTable(true).join();
    try (AllowSync sync = db.allowSync()) {
      temp.dropTable(false);
      temp.dropTable(true);
    }
    assertFalse(db.aioTableExists("java_temp").join());
  }

  // ------------------------------------------------------------ the rest of the surface

  @Test
  void conditionsExpressionsAndJoinKinds() {
    books();
    book.update(Map.of("editor", author.aioGet(Map.of("name", "bob")).join())).where(Map.of("title", "A2")).aioExecute().join();
    assertEquals(List.of("A2"), titles(book.select().where(Where.isNotNull("editor"))
        .where(Where.raw(PersistentVector.create(Keyword.intern("="), Keyword.intern("title"), "A2")))));
    assertEquals(List.of("A1", "A2", "B1", "B2"), titles(book.select().orderBy(Expr.field("pages").asc())));
    assertEquals(10L, ((Number) book.select(Expr.min("pages")).aioScalar().join()).longValue());
    assertEquals(25.0, ((Number) book.select(Expr.avg("pages")).aioScalar().join()).doubleValue(), 1e-9);
    assertEquals(40L, ((Number) book.select(Expr.raw(Keyword.intern("pages")))
        .orderBy(Expr.field("pages").desc()).aioScalar().join()).longValue());
    Instance a = author.aioGet(Map.of("name", "ann")).join();
    assertTrue(a.has("born"));
    assertFalse(a.has("nope"));
    assertEquals(author, a.model());
    assertEquals(Integer.valueOf(1950), a.get("born", Integer.class));
    assertEquals(new BigDecimal("1950"), a.get("born", BigDecimal.class));
    assertThrows(ClassCastException.class, () -> a.get("name", Long.class));
    assertEquals(book, book.select().where(Map.of("pages", 10)).model());

    author.aioCreate(Map.of("name", "cat")).join(); // no books
    // every author's books, RIGHT: every book's author; CROSS: every pair
    assertEquals(4L, author.select("name", "java_book.title").join(book, Join.right()).aioCount().join());
    tag.aioCreate(Map.of("name", "t1")).join();
    tag.aioCreate(Map.of("name", "t2")).join();
    assertEquals(6L, author.select("name", "java_tag.name").join(tag, Join.cross()).aioCount().join());
    if (backend().equals("mysql")) {
      VireoException e = assertInstanceOf(VireoException.class,
          failure(author.select("name", "java_book.title").join(book, Join.full()).aioExecute()));
      assertTrue(e.isA(ErrorType.DATABASE_ERROR) || e.isA(ErrorType.NOT_SUPPORTED), String.valueOf(e.getType()));
    } else {
      assertEquals(5L, author.select("name", "java_book.title").join(book, Join.full()).aioCount().join());
    }
  }

  @Test
  void errorsCarryDataTypesAndSubclasses() {
    ann();
    UniqueViolationException dup = assertInstanceOf(UniqueViolationException.class,
        failure(author.aioCreate(Map.of("name", "ann"))));
    assertEquals(List.of(ErrorType.UNIQUE_VIOLATION, ErrorType.INTEGRITY_ERROR, ErrorType.DATABASE_ERROR, ErrorType.ERROR),
        dup.getTypes());
    assertTrue(dup.isA(ErrorType.INTEGRITY_ERROR));
    assertTrue(dup.isA(ErrorType.DATABASE_ERROR));
    assertFalse(dup.isA(ErrorType.OPERATIONAL_ERROR));
    DoesNotExistException dne = assertInstanceOf(DoesNotExistException.class,
        failure(author.aioGet(Map.of("name", "nobody"))));
    assertEquals("JavaAuthor", dne.getData().get("model"));
    VireoException byHand = VireoException.of(ErrorType.DEADLOCK, "by hand", null, null, null, null);
    assertInstanceOf(DeadlockException.class, byHand);
    assertTrue(byHand.isA(ErrorType.OPERATIONAL_ERROR));
    assertEquals(VireoException.class, VireoException.of(ErrorType.POOL_CLOSED, "closed", null, null, null, null).getClass());
    assertEquals(List.of(), byHand.getParameters());

    assertInstanceOf(ForeignKeyViolationException.class,
        failure(book.aioCreate(Map.of("author", 999999, "title", "orphan"))));
    assertInstanceOf(NotNullViolationException.class,
        failure(db.aioExecuteSql("INSERT INTO java_author (name, born) VALUES (NULL, 1)")));
    VireoException closed = assertVireo(ErrorType.POOL_CLOSED, failure(closedDatabase().aioExecuteSql("SELECT 1")));
    assertVireo(ErrorType.OPERATIONAL_ERROR, closed);
    if (!backend().equals("sqlite")) {
      Database nowhere = Database.fromUrl(url().replaceFirst(":\\d+/", ":1/"),
          DatabaseOptions.create().connectionTimeout(Duration.ofSeconds(5)));
      try {
        assertInstanceOf(ConnectionErrorException.class, failure(nowhere.aioExecuteSql("SELECT 1")));
      } finally {
        nowhere.aioClose().join();
      }
    }
    if (backend().equals("pg")) {
      // several hosts with a target server type: the test server is a primary, so "standby" finds none
      Database primary = new io.vireo.PostgresqlDatabase(DatabaseOptions.create().database("vireo_test")
          .hosts(List.of("127.0.0.1:1", "127.0.0.1:5432")).targetServerType("primary"));
      Database standby = new io.vireo.PostgresqlDatabase(DatabaseOptions.create().database("vireo_test")
          .hosts(List.of("127.0.0.1:5432")).targetServerType("standby"));
      try {
        assertEquals(1, ((Number) primary.aioExecuteSql("SELECT 1 AS one").join().rows().get(0).get("one")).intValue());
        ConnectionErrorException none = assertInstanceOf(ConnectionErrorException.class, failure(standby.aioConnect()));
        assertTrue(none.getMessage().contains("127.0.0.1:5432 is a primary"), none.getMessage());
      } finally {
        primary.aioClose().join();
        standby.aioClose().join();
      }
      Database named = Database.fromUrl(url(), DatabaseOptions.create().applicationName("vireo-java-test"));
      try {
        assertEquals("vireo-java-test", named.aioExecuteSql(
            "SELECT application_name AS a FROM pg_stat_activity WHERE pid = pg_backend_pid()").join().rows().get(0).get("a"));
      } finally {
        named.aioClose().join();
      }
    }
    // the environment: VIREO_DATABASE_URL, or libpq's PGHOST/PGDATABASE
    if (System.getenv("VIREO_DATABASE_URL") == null && System.getenv("PGHOST") == null
        && System.getenv("PGDATABASE") == null) {
      VireoException none = assertVireo(ErrorType.INTERFACE_ERROR, Database::fromEnv);
      assertTrue(none.getMessage().contains("VIREO_DATABASE_URL"), none.getMessage());
    }
  }

  Database closedDatabase() {
    Database other = fresh();
    other.aioConnect().join();
    other.aioClose().join();
    return other;
  }

  @Test
  void waitingTooLongForAConnectionIsATimeout() {
    Database one = Database.fromUrl(url(), DatabaseOptions.create().maxSize(1).connectionTimeout(Duration.ofMillis(300)));
    try {
      CompletableFuture<Object> gate = new CompletableFuture<>();
      CompletableFuture<Object> started = new CompletableFuture<>();
      CompletableFuture<Object> holding = one.aioAtomic(tx -> {
        started.complete(null);
        return gate;
      });
      started.join(); // the pool's only connection is in the transaction
      TimeoutErrorException e = assertInstanceOf(TimeoutErrorException.class, failure(one.aioExecuteSql("SELECT 1")));
      assertTrue(e.isA(ErrorType.OPERATIONAL_ERROR));
      gate.complete("released");
      assertEquals("released", holding.join());
      assertEquals(1, one.aioExecuteSql("SELECT 1").join().rows().size());
    } finally {
      one.aioClose().join();
    }
  }

  @Test
  void transactionOptionsRetryAndReadOnly() {
    ann();
    AtomicInteger attempts = new AtomicInteger();
    assertEquals("ok", db.aioAtomic(TransactionOptions.create().retry(2), tx -> {
      attempts.incrementAndGet();
      return CompletableFuture.completedFuture("ok");
    }).join());
    assertEquals(1, attempts.get());
    attempts.set(0);
    assertInstanceOf(UniqueViolationException.class, failure(db.aioAtomic(TransactionOptions.create().retry(2), tx -> {
      attempts.incrementAndGet(); // a unique violation is not retried
      return author.aioCreate(Map.of("name", "ann"));
    })));
    assertEquals(1, attempts.get());
    assertVireo(ErrorType.INTERFACE_ERROR, failure(db.aioAtomic(tx ->
        db.aioAtomic(TransactionOptions.create().retry(1), inner -> CompletableFuture.completedFuture(1)))));
    assertThrows(IllegalArgumentException.class, () -> TransactionOptions.create().retry(-1));

    VireoException ro = assertInstanceOf(VireoException.class, failure(db.aioAtomic(
        TransactionOptions.create().readOnly(true), tx -> author.aioCreate(Map.of("name", "ro")))));
    assertTrue(ro.isA(ErrorType.DATABASE_ERROR), String.valueOf(ro.getType()));
    assertNull(author.aioGetOrNone(Map.of("name", "ro")).join());
  }

  @Test
  void injectedFaultsLeaveNoTransactionOpen() {
    db.aioExecuteSql("DROP TABLE IF EXISTS java_faults").join();
    db.aioExecuteSql("CREATE TABLE java_faults (id INTEGER PRIMARY KEY)").join();
    try {
      try (Faults faults = Faults.inject(db, Fault.on("COMMIT").times(1))) {
        CompletionException e = assertThrows(CompletionException.class, () -> db.aioAtomic(
            tx -> db.aioExecuteSql("INSERT INTO java_faults (id) VALUES (1)")).join());
        VireoException cause = assertVireo(ErrorType.OPERATIONAL_ERROR, e.getCause());
        assertTrue(cause.getMessage().contains("injected fault"), cause.getMessage());
        assertEquals(1, faults.hits());
      }
      // the COMMIT never reached the server: the transaction was rolled back, nothing is left open
      assertEquals(0L, ((Number) db.aioExecuteSql("SELECT count(*) AS n FROM java_faults").join().rows().get(0).get("n")).longValue());
      db.aioAtomic(tx -> db.aioExecuteSql("INSERT INTO java_faults (id) VALUES (2)")).join();
      assertEquals(1L, ((Number) db.aioExecuteSql("SELECT count(*) AS n FROM java_faults").join().rows().get(0).get("n")).longValue());
    } finally {
      db.aioExecuteSql("DROP TABLE IF EXISTS java_faults").join();
    }
  }

  @Test
  void timeoutsCancelTheStatementOnTheServer() {
    String endless = switch (backend()) {
      case "pg" -> "SELECT pg_sleep(60) AS s";
      case "mysql" -> "SELECT SLEEP(60) AS s FROM (SELECT 1 AS x) t";
      default -> "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS s FROM c";
    };
    Database one = Database.fromUrl(url(), DatabaseOptions.create().maxSize(1));
    try {
      CompletionException e = assertThrows(CompletionException.class,
          () -> Vireo.withTimeout(java.time.Duration.ofMillis(300), () -> one.aioExecuteSql(endless)).join());
      TimeoutErrorException cause = assertInstanceOf(TimeoutErrorException.class, e.getCause());
      assertTrue(cause.getMessage().contains("cancelled on the server"), cause.getMessage());
      // the pool's only connection is free again: the server stopped the statement
      assertEquals(1L, ((Number) one.aioExecuteSql("SELECT 1 AS one").join().rows().get(0).get("one")).longValue());
      // a whole transaction's deadline: it rolls back
      one.aioExecuteSql("DROP TABLE IF EXISTS java_timeouts").join();
      one.aioExecuteSql("CREATE TABLE java_timeouts (id INTEGER PRIMARY KEY)").join();
      CompletionException te = assertThrows(CompletionException.class, () -> one.aioAtomic(
          TransactionOptions.create().timeout(java.time.Duration.ofMillis(300)),
          tx -> one.aioExecuteSql("INSERT INTO java_timeouts (id) VALUES (1)").thenCompose(r -> one.aioExecuteSql(endless))).join());
      assertInstanceOf(TimeoutErrorException.class, te.getCause());
      assertEquals(0L, ((Number) one.aioExecuteSql("SELECT count(*) AS n FROM java_timeouts").join().rows().get(0).get("n")).longValue());
      // cancelling the future cancels the statement too
      CompletableFuture<SqlResult> running = one.aioExecuteSql(endless);
      assertTrue(running.cancel(true));
      assertEquals(1L, ((Number) one.aioExecuteSql("SELECT 1 AS one").join().rows().get(0).get("one")).longValue());
      assertThrows(IllegalArgumentException.class, () -> TransactionOptions.create().timeout(java.time.Duration.ZERO));
      one.aioExecuteSql("DROP TABLE IF EXISTS java_timeouts").join();
    } finally {
      one.aioClose().join();
    }
  }

  @Test
  void readReplicasTakeTheReadsAndFallBack() {
    if (backend().equals("sqlite")) {
      VireoException e = assertVireo(ErrorType.INTERFACE_ERROR,
          () -> Database.fromUrl(url(), DatabaseOptions.create().replicas(List.of("sqlite:other.db"))));
      assertTrue(e.getMessage().contains(":replicas"), e.getMessage());
      return;
    }
    // the "replica" is another database of the same server: which one answered shows in the result
    boolean pg = backend().equals("pg");
    String other = pg ? "postgres" : "mysql";
    String which = pg ? "SELECT current_database() AS db" : "SELECT DATABASE() AS db";
    Database replicated = Database.fromUrl(url(), DatabaseOptions.create().maxSize(2)
        .replicas(List.of(DatabaseOptions.create().database(other)))
        .readYourWrites(java.time.Duration.ofMinutes(10)));
    try {
      java.util.function.Supplier<Object> served =
          () -> replicated.aioExecuteSql(which).join().rows().get(0).get("db");
      assertEquals(other, served.get());
      Object primary = Vireo.withRoute(Route.PRIMARY, () -> replicated.aioExecuteSql(which)).join().rows().get(0).get("db");
      assertNotEquals(other, primary);
      // a write in withOwnWrites pins that block's reads to the primary, not the others'
      Object inBlock = Vireo.withOwnWrites(() -> replicated.aioExecuteSql("CREATE TABLE IF NOT EXISTS vireo_java_rep (id INTEGER)")
          .thenCompose(r -> replicated.aioExecuteSql(which))).join().rows().get(0).get("db");
      assertEquals(primary, inBlock);
      assertEquals(other, served.get());
      replicated.aioExecuteSql("DROP TABLE vireo_java_rep").join();
      assertEquals(primary, served.get(), "after a write, the database's reads stay on the primary");
      assertEquals(primary, replicated.aioAtomic(tx -> replicated.aioExecuteSql(which)).join().rows().get(0).get("db"),
          "a transaction runs on the primary");
      assertEquals(List.of(true), replicated.replicas().stream().map(r -> r.get("up")).toList());
    } finally {
      replicated.aioClose().join();
    }
    Database down = Database.fromUrl(url(), DatabaseOptions.create().maxSize(2)
        .replicas(List.of(DatabaseOptions.create().host("127.0.0.1").port(1)))
        .replicaStrategy("least-busy"));
    try {
      assertNotEquals(other, down.aioExecuteSql(which).join().rows().get(0).get("db"));
      assertEquals(List.of(false), down.replicas().stream().map(r -> r.get("up")).toList());
    } finally {
      down.aioClose().join();
    }
    // statements run on every new pooled connection
    Database prepared = Database.fromUrl(url(), DatabaseOptions.create().maxSize(1)
        .initSql(pg ? "SET application_name = 'vireo42'" : "SET @vireo_java_init = 42"));
    try {
      assertEquals(pg ? "vireo42" : "42", String.valueOf(prepared.aioExecuteSql(pg
          ? "SELECT current_setting('application_name') AS v" : "SELECT @vireo_java_init AS v").join().rows().get(0).get("v")));
    } finally {
      prepared.aioClose().join();
    }
    // a statement timeout the server enforces
    Database limited = Database.fromUrl(url(), DatabaseOptions.create().maxSize(1)
        .statementTimeout(java.time.Duration.ofMillis(300)));
    try {
      CompletionException slow = assertThrows(CompletionException.class,
          () -> limited.aioExecuteSql(pg ? "SELECT pg_sleep(20)::text AS s" : "SELECT SLEEP(20) AS s").join());
      assertInstanceOf(TimeoutErrorException.class, slow.getCause());
      assertEquals(1L, ((Number) limited.aioExecuteSql("SELECT 1 AS one").join().rows().get(0).get("one")).longValue());
    } finally {
      limited.aioClose().join();
    }
    VireoException bad = assertVireo(ErrorType.INTERFACE_ERROR,
        () -> Database.fromUrl(url(), DatabaseOptions.create().replicas(List.of(url())).replicaStrategy("random")));
    assertTrue(bad.getMessage().contains("random"), bad.getMessage());
  }

  @Test
  void connectionSettingsAreCheckedAndReadOnlyWritesAreTyped() {
    // a write in a read-only transaction: its own type, an operational error
    VireoException ro = assertInstanceOf(ReadOnlyException.class, failure(db.aioAtomic(
        TransactionOptions.create().readOnly(true), tx -> author.aioCreate(Map.of("name", "ro2")))));
    assertTrue(ro.isA(ErrorType.OPERATIONAL_ERROR), String.valueOf(ro.getType()));
    assertEquals(ErrorType.READ_ONLY, ro.getType());
    // every URL parameter is honoured or refused by name
    String sep = url().contains("?") ? "&" : "?";
    VireoException unknown = assertVireo(ErrorType.INTERFACE_ERROR,
        () -> Database.fromUrl(url() + sep + "no_such_parameter=1"));
    assertTrue(unknown.getMessage().contains("no_such_parameter"), unknown.getMessage());
    if (!backend().equals("sqlite")) {
      // TLS options are checked when the database is made
      VireoException badMode = assertVireo(ErrorType.INTERFACE_ERROR,
          () -> Database.fromUrl(url(), DatabaseOptions.create().sslMode("sometimes")));
      assertTrue(badMode.getMessage().contains("sometimes"), badMode.getMessage());
      VireoException missing = assertVireo(ErrorType.INTERFACE_ERROR,
          () -> Database.fromUrl(url(), DatabaseOptions.create().sslMode("verify-full")
              .sslRootCert(java.nio.file.Path.of("/no/such/ca.pem"))));
      assertTrue(missing.getMessage().contains("/no/such/ca.pem"), missing.getMessage());
      VireoException noKey = assertVireo(ErrorType.INTERFACE_ERROR,
          () -> Database.fromUrl(url(), DatabaseOptions.create().sslMode("require")
              .sslClientCert(java.nio.file.Path.of("/no/such/client.crt"), java.nio.file.Path.of("/no/such/client.key"))));
      assertTrue(noKey.getMessage().contains("/no/such/client.crt"), noKey.getMessage());
      VireoException noStore = assertVireo(ErrorType.INTERFACE_ERROR,
          () -> Database.fromUrl(url(), DatabaseOptions.create().sslMode("verify-ca")
              .sslTrustStore(java.nio.file.Path.of("/no/such/ca.p12"), "store-secret")));
      assertTrue(noStore.getMessage().contains("/no/such/ca.p12"), noStore.getMessage());
      assertFalse(noStore.getMessage().contains("store-secret"), noStore.getMessage());
      // a password supplier, asked for each new connection (the test servers take an empty password)
      java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
      Database supplied = Database.fromUrl(url(), DatabaseOptions.create().maxSize(1)
          .passwordSupplier(() -> {
            asked.incrementAndGet();
            return CompletableFuture.completedFuture("");
          }));
      try {
        assertEquals(1, ((Number) supplied.aioExecuteSql("SELECT 1 AS one").join().rows().get(0).get("one")).intValue());
        assertTrue(asked.get() > 0);
      } finally {
        supplied.aioClose().join();
      }
      Database vaultDown = Database.fromUrl(url(), DatabaseOptions.create()
          .passwordSupplier(() -> CompletableFuture.failedFuture(new IllegalStateException("vault down"))));
      try {
        ConnectionErrorException e = assertInstanceOf(ConnectionErrorException.class, failure(vaultDown.aioConnect()));
        assertTrue(e.getMessage().contains("vault down"), e.getMessage());
      } finally {
        vaultDown.aioClose().join();
      }
      // nothing listens on port 1: a typed connect failure naming the address
      Database nowhere = Database.fromUrl(url(), DatabaseOptions.create().host("127.0.0.1").port(1));
      try {
        ConnectionErrorException e = assertInstanceOf(ConnectionErrorException.class, failure(nowhere.aioConnect()));
        assertTrue(e.getMessage().contains("could not connect to the database server"), e.getMessage());
      } finally {
        nowhere.aioClose().join();
      }
    }
  }

  @Test
  void allowSyncClosedOnAnotherThreadIsRefused() {
    AllowSync sync = db.allowSync();
    CompletableFuture<Void> elsewhere = CompletableFuture.runAsync(sync::close);
    IllegalStateException e = assertInstanceOf(IllegalStateException.class, VireoException.unwrap(failure(elsewhere)));
    assertTrue(e.getMessage().contains("thread"), e.getMessage());
    assertEquals(1, db.executeSql("SELECT 1").rows().size()); // still open here
    sync.close();
    assertVireo(ErrorType.SYNC_NOT_ALLOWED, () -> db.executeSql("SELECT 1"));
    Database syncDb = Database.fromUrl(url(), DatabaseOptions.create().allowSync(true));
    try {
      assertEquals(1, syncDb.executeSql("SELECT 1").rows().size());
    } finally {
      syncDb.aioClose().join();
    }
  }

  @Test
  void versionIsTheJarsVersion() throws java.io.IOException {
    java.util.Properties p = new java.util.Properties();
    try (java.io.Reader r = java.nio.file.Files.newBufferedReader(java.nio.file.Path.of("resources/vireo/version.properties"))) {
      p.load(r);
    }
    assertEquals(p.getProperty("version"), Vireo.version());
  }

  // ------------------------------------------------------------ aio methods never throw

  @Test
  void aioMethodsFailTheirFutureInsteadOfThrowing() {
    Instance a = ann();
    IllegalArgumentException bad = assertInstanceOf(IllegalArgumentException.class, failure(author.aioGet(a)));
    assertTrue(bad.getMessage().contains("getId()"), bad.getMessage());
    assertInstanceOf(IllegalArgumentException.class, failure(author.aioGetOrNone(a)));
    assertInstanceOf(IllegalArgumentException.class, failure(author.as(Author.class).aioGet(a)));
    assertInstanceOf(IllegalArgumentException.class, failure(author.as(Author.class).aioGetOrNone(a)));
    assertInstanceOf(NullPointerException.class, failure(author.aioCreate((Map<String, ?>) null)));
    assertInstanceOf(NullPointerException.class, failure(author.as(Author.class).aioCreate((Author) null)));
    assertInstanceOf(NullPointerException.class, failure(author.aioSave((Instance) null)));
    assertInstanceOf(NullPointerException.class, failure(author.as(Author.class).aioSave((Author) null)));
    assertInstanceOf(NullPointerException.class, failure(author.aioSaveOnly(null, "born")));
    assertInstanceOf(NullPointerException.class, failure(author.aioDeleteInstance(null)));
    assertInstanceOf(NullPointerException.class, failure(author.aioFetch(null, "x")));
    assertInstanceOf(NullPointerException.class, failure(author.aioGetOrCreate(null)));
    assertInstanceOf(NullPointerException.class, failure(article.aioRelated(null, "tags")));
    assertInstanceOf(NullPointerException.class, failure(article.aioAdd(null, "tags")));
    assertInstanceOf(NullPointerException.class, failure(article.aioRemove(null, "tags")));
    assertInstanceOf(NullPointerException.class, failure(article.aioClear(null, "tags")));
    assertVireo(ErrorType.INTERFACE_ERROR, failure(article.aioRelated(a, "nope")));
    assertVireo(ErrorType.INTERFACE_ERROR, failure(author.aioFetch(a, "name")));
    assertInstanceOf(NullPointerException.class, failure(db.aioCreateTables(true, (Model) null)));
    assertInstanceOf(NullPointerException.class, failure(db.aioDropTables(true, (Model) null)));
    assertInstanceOf(NullPointerException.class, failure(db.aioAtomic(null)));
    assertInstanceOf(NullPointerException.class, failure(db.aioExecuteSql(null)));
    assertInstanceOf(NullPointerException.class, failure(author.select().aioForEach(null)));
    assertInstanceOf(NullPointerException.class, failure(author.select().aioReduce(0, null)));
    assertInstanceOf(IllegalArgumentException.class, failure(author.select().aioFirst(0)));
    assertInstanceOf(IllegalArgumentException.class, failure(author.select().aioPeek(0)));
    assertInstanceOf(NullPointerException.class, failure(author.select().aioPrefetch((SelectQuery.PrefetchStrategy) null, book.select())));
    assertInstanceOf(NullPointerException.class, failure(author.insert(Map.of("name", "x")).aioReturning((String) null)));
    IllegalStateException noModel = assertInstanceOf(IllegalStateException.class,
        failure(Instance.of(Map.of("name", "x")).aioSave()));
    assertTrue(noModel.getMessage().contains("Model.aioSave"), noModel.getMessage());
    assertInstanceOf(IllegalStateException.class, failure(Instance.of(Map.of("id", 1)).aioDeleteInstance()));
    assertInstanceOf(IllegalStateException.class, failure(Instance.of(Map.of("id", 1)).aioFetch("author")));
    assertInstanceOf(NullPointerException.class, failure(Vireo.withCallCount(null)));
    // an exception of the user's own code passes through unchanged
    RuntimeException mine = new IllegalStateException("mine");
    assertSame(mine, VireoException.unwrap(failure(db.aioAtomic(tx -> {
      throw mine;
    }))));
  }

  // ------------------------------------------------------------ more runners

  @Test
  void peekFirstCountPrefetchJoinTruncateAndDeleteNullable() {
    books();
    book.update(Map.of("editor", author.aioGet(Map.of("name", "bob")).join())).where(Map.of("title", "A2")).aioExecute().join();
    SelectQuery<Instance> byId = book.select().orderBy("id");
    assertEquals("A1", byId.aioPeek().join().getString("title"));
    assertEquals(List.of("A1", "A2"), byId.aioPeek(2).join().stream().map(i -> i.getString("title")).toList());
    assertEquals(List.of("A1"), byId.aioPeek(1).join().stream().map(i -> i.getString("title")).toList());
    assertEquals(List.of("A1", "A2", "B1"), byId.aioFirst(3).join().stream().map(i -> i.getString("title")).toList());
    assertEquals(List.of(), book.select().where(Map.of("pages", 0)).aioFirst(3).join());
    assertNull(book.select().where(Map.of("pages", 0)).aioPeek().join());
    assertEquals(1L, byId.paginate(1, 1).aioCount().join());
    assertEquals(4L, byId.paginate(1, 1).aioCount(true).join());
    assertEquals(1L, byId.paginate(1, 1).aioCount(false).join());
    List<Instance> authors = author.select().orderBy("id")
        .aioPrefetch(SelectQuery.PrefetchStrategy.JOIN, book.select().orderBy("title")).join();
    assertEquals(List.of("A1", "A2"), authors.get(0).getInstances("books").stream().map(i -> i.getString("title")).toList());
    assertEquals(book, authors.get(1).getInstances("books").get(0).model());

    // recursive delete: nullable references are unlinked, or deleted with deleteNullable
    Instance ann = author.aioGet(Map.of("name", "ann")).join();
    Instance bob = author.aioGet(Map.of("name", "bob")).join();
    assertEquals(1L, author.aioDeleteInstance(bob, true, false).join());
    assertNull(book.aioGet(Map.of("title", "A2")).join().get("editor"));
    book.update(Map.of("editor", author.aioCreate(Map.of("name", "ed")).join().getId()))
        .where(Map.of("title", "A2")).aioExecute().join();
    Instance ed = author.aioGet(Map.of("name", "ed")).join();
    assertEquals(1L, author.aioDeleteInstance(ed, true, true).join());
    assertEquals(List.of("A1"), titles(book.select()));
    assertEquals(1L, author.aioDeleteInstance(ann, true, true).join());

    kinds.aioCreate(Map.of("c", "x")).join();
    kinds.aioTruncateTable(true, false).join();
    assertEquals(0L, kinds.select().aioCount().join());
    assertEquals(1L, ((Number) kinds.aioCreate(Map.of("c", "y")).join().getId()).longValue());
    if (backend().equals("pg")) {
      ann();
      note.aioCreate(Map.of("author", author.aioGet(Map.of("name", "ann")).join(), "meta", Map.of())).join();
      note.aioTruncateTable(false, true).join();
      assertEquals(0L, note.select().aioCount().join());
    } else {
      assertVireo(ErrorType.NOT_SUPPORTED, failure(kinds.aioTruncateTable(false, true)));
    }
  }

  @Test
  void streams() {
    books();
    List<String> seen = new ArrayList<>();
    assertEquals(4L, book.select().orderBy("id").fetchSize(1).aioForEach(b -> seen.add(b.getString("title"))).join());
    assertEquals(List.of("A1", "A2", "B1", "B2"), seen);
    assertEquals(100L, book.select().fetchSize(3).aioReduce(0L, (sum, b) -> sum + b.getLong("pages")).join());
    List<String> async = new ArrayList<>();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      assertEquals(4L, book.select().orderBy("id").fetchSize(2).aioForEachAsync(b ->
          CompletableFuture.runAsync(() -> async.add(b.getString("title")), pool)).join());
    } finally {
      pool.shutdown();
    }
    assertEquals(List.of("A1", "A2", "B1", "B2"), async);
    List<Model<Instance>> joined = new ArrayList<>();
    book.select(book, author).join(author).aioForEach(b -> joined.add(b.getInstance("author").model())).join();
    assertEquals(List.of(author, author, author, author), joined);
    RuntimeException stop = new IllegalStateException("stop");
    assertSame(stop, VireoException.unwrap(failure(book.select().aioForEach(b -> {
      throw stop;
    }))));
    assertEquals(4L, db.aioAtomic(tx -> book.select().aioReduce(0L, (n, b) -> n + 1)).join());
    assertThrows(IllegalArgumentException.class, () -> book.select().fetchSize(0));
  }

  /**
   * Cancelling the future a facade method returned cancels Vireo's own: a
   * stream waiting on a stage that never completes stops, and returns its
   * connection. Both ways a CompletableFuture is cancelled count.
   */
  @Test
  void cancellingAFacadeFutureCancelsVireosOperation() throws InterruptedException {
    books();
    for (boolean viaCancel : new boolean[] {true, false}) {
      java.util.concurrent.CountDownLatch first = new java.util.concurrent.CountDownLatch(1);
      // completed only in the finally: until then only a cancel ends the stream
      CompletableFuture<Void> gate = new CompletableFuture<>();
      CompletableFuture<Long> stream = book.select().fetchSize(1).aioForEachAsync(b -> {
        first.countDown();
        return gate;
      });
      try {
        assertTrue(first.await(30, java.util.concurrent.TimeUnit.SECONDS), "the stream reached its first row");
        assertEquals(1L, db.checkedOut());
        if (viaCancel) {
          assertTrue(stream.cancel(false));
        } else {
          assertTrue(stream.completeExceptionally(new java.util.concurrent.CancellationException("stop")));
        }
        assertTrue(stream.isCancelled());
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (db.checkedOut() != 0 && System.nanoTime() < deadline) {
          java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L); // polls the condition
        }
        assertEquals(0L, db.checkedOut(), "the cancelled stream returned its connection");
      } finally {
        gate.complete(null); // a failed check must not leave the stream holding its connection
      }
    }
  }

  @Test
  void signalsReachJavaReceivers() {
    List<String> events = new CopyOnWriteArrayList<>();
    try (SignalConnection pre = Signal.PRE_SAVE.connect(author, (m, i, created) -> {
          events.add("pre-save " + i.getString("name") + " " + created + " " + m.name());
          return null;
        });
        SignalConnection post = Signal.POST_SAVE.connect(author, (m, i, created) ->
            CompletableFuture.runAsync(() -> events.add("post-save " + i.getString("name") + " " + created
                + " " + (i.getId() != null))));
        SignalConnection deletes = Signal.PRE_DELETE.connect((m, i, created) -> {
          events.add("pre-delete " + m.name());
          return null;
        });
        SignalConnection deleted = Signal.POST_DELETE.connect(author, (m, i, created) -> {
          events.add("post-delete " + i.getString("name"));
          return null;
        })) {
      Instance a = ann();
      a.set("born", 1).aioSave().join();
      tag.aioCreate(Map.of("name", "not an author")).join();
      a.aioDeleteInstance().join();
      assertEquals(List.of("pre-save ann true JavaAuthor", "post-save ann true true",
          "pre-save ann false JavaAuthor", "post-save ann false true",
          "pre-delete JavaAuthor", "post-delete ann"), events);
      assertTrue(pre.isConnected());
    }
    events.clear();
    ann();
    assertEquals(List.of(), events);

    RuntimeException veto = new IllegalStateException("no bob");
    SignalConnection guard = Signal.PRE_SAVE.connect(author, (m, i, created) -> {
      if ("bob".equals(i.getString("name"))) {
        throw veto;
      }
      return null;
    });
    try {
      assertSame(veto, VireoException.unwrap(failure(author.aioCreate(Map.of("name", "bob")))));
      assertNull(author.aioGetOrNone(Map.of("name", "bob")).join());
    } finally {
      guard.disconnect();
      guard.disconnect(); // idempotent
    }
    assertFalse(guard.isConnected());
    assertNotNull(author.aioCreate(Map.of("name", "bob")).join());
  }

  @Test
  void callCounts() {
    books();
    CallCount<List<Instance>> prefetch = Vireo.withCallCount(() -> author.select().aioPrefetch(book.select())).join();
    assertEquals(2L, prefetch.count());
    assertEquals(2, prefetch.value().size());
    CallCount<Instance> chained = Vireo.withCallCount(() -> author.aioGet(Map.of("name", "ann"))
        .thenCompose(a -> author.aioGetOrNone(Map.of("name", "zz")))).join();
    assertEquals(2L, chained.count());
    assertNull(chained.value());
    CallCount<CallCount<Long>> nested = Vireo.withCallCount(() -> Vireo.withCallCount(() -> book.select().aioCount())
        .thenCompose(inner -> book.select().aioExists().thenApply(x -> inner))).join();
    assertEquals(1L, nested.value().count());
    assertEquals(2L, nested.count());
  }
}
