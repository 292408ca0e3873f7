package io.vireo.test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vireo.AllowSync;
import io.vireo.DataErrorException;
import io.vireo.Database;
import io.vireo.DoesNotExistException;
import io.vireo.Expr;
import io.vireo.Field;
import io.vireo.GetOrCreate;
import io.vireo.Instance;
import io.vireo.IntegrityErrorException;
import io.vireo.InterfaceErrorException;
import io.vireo.Join;
import io.vireo.Model;
import io.vireo.ModelErrorException;
import io.vireo.OperationalErrorException;
import io.vireo.SqlResult;
import io.vireo.SyncNotAllowedException;
import io.vireo.Transaction;
import io.vireo.TransactionOptions;
import io.vireo.UniqueViolationException;
import io.vireo.VireoException;
import io.vireo.Where;
import java.math.BigDecimal;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
  Model author;
  Model book;
  Model tag;
  Model article;
  Model kinds;

  abstract Database open();

  /** Another database on the same server or file, not connected yet. */
  abstract Database fresh();

  abstract String backend();

  @BeforeAll
  void setUp() {
    db = open();
    author = Model.builder("JavaAuthor").database(db).table("java_author")
        .field("name", Field.charField(40).unique())
        .field("born", Field.integer().nullable())
        .build();
    book = Model.builder("JavaBook").database(db).table("java_book")
        .field("author", Field.foreignKey(author).backref("books").onDelete("cascade"))
        .field("title", Field.text())
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
    db.aioDropTables(true, article, tag, book, author, kinds).join();
    db.aioCreateTables(false, article, tag, book, author, kinds).join();
  }

  @AfterAll
  void tearDown() {
    if (db != null && kinds != null) {
      db.aioDropTables(true, article, tag, book, author, kinds).join();
    }
    if (db != null) {
      db.aioClose().join();
    }
  }

  @BeforeEach
  void clean() {
    db.aioExecuteSql("DELETE FROM java_article_java_tag_through").join();
    for (Model m : List.of(article, tag, book, author, kinds)) {
      m.delete().aioExecute().join();
    }
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
    VireoException e = assertInstanceOf(OperationalErrorException.class,
        failure(other.aioExecuteSql("SELECT 1")));
    assertEquals("vireo/pool-closed", e.getType());
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
    SyncNotAllowedException e = assertThrows(SyncNotAllowedException.class, () -> author.createTable(true));
    assertEquals("vireo/sync-not-allowed", e.getType());
    assertThrows(SyncNotAllowedException.class, () -> author.select().execute());
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
      assertInstanceOf(SyncNotAllowedException.class, VireoException.unwrap(failure(elsewhere)));
    }
    assertThrows(SyncNotAllowedException.class, () -> db.executeSql("SELECT 1"));
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
    assertThrows(SyncNotAllowedException.class, () -> other.executeSql("SELECT 1"));
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
    ModelErrorException e = assertThrows(ModelErrorException.class,
        () -> Model.builder("Broken").field("title", Field.ofType("string")).build());
    assertTrue(e.getMessage().contains("unknown type :string"), e.getMessage());
    Model same = Model.of(book.toClojure());
    assertEquals(book, same);
    assertEquals("Model[JavaBook \"java_book\"]", same.toString());
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
    GetOrCreate first = author.aioGetOrCreate(Map.of("name", "bob"), Map.of("born", 1970)).join();
    assertTrue(first.created());
    assertEquals(1970L, first.instance().getLong("born"));
    GetOrCreate again = author.aioGetOrCreate(Map.of("name", "bob")).join();
    assertFalse(again.created());
    assertEquals(first.instance(), again.instance());
  }

  @Test
  void recordsAndPojos() {
    Author created = author.aioCreate(new Author(null, "rec", 1980)).join();
    assertNotNull(created.id());
    assertEquals(new Author(created.id(), "rec", 1980), author.aioGet(Author.class, created.id()).join());
    assertNull(author.aioGetOrNone(Author.class, Map.of("name", "nope")).join());
    Author moved = author.aioSave(new Author(created.id(), "rec", 1981)).join();
    assertEquals(1981, moved.born());
    AuthorBean bean = author.aioGet(AuthorBean.class, Map.of("name", "rec")).join();
    assertEquals("rec", bean.getName());
    assertEquals(1981, bean.getBorn());
    Instance fromBean = Instance.from(bean);
    assertEquals("rec", fromBean.getString("name"));
    Instance b = book.aioCreate(Map.of("author", created.id(), "title", "T")).join();
    Book rb = b.as(Book.class);
    assertEquals(100, rb.pages());
    assertNull(rb.editor());
    assertEquals(List.of(rb), book.select().aioExecute(Book.class).join());
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
    assertInstanceOf(DataErrorException.class, failure(kinds.aioCreate(Map.of("c", "far too long for ten"))));
    assertInstanceOf(DataErrorException.class, failure(kinds.aioCreate(Map.of("c", 42))));
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
    assertEquals(List.of(41L, 1L), e.getParams().stream().map(p -> ((Number) p).longValue()).toList());
    assertEquals(List.of("A1", "B2"), titles(book.select().where(Map.of("pages", 10))
        .union(book.select().where(Map.of("pages", 40)))).stream().sorted().toList());
    assertEquals(4, book.select().where(Map.of("pages__lt", 100)).unionAll(book.select().where(Map.of("pages", 1000))).aioExecute().join().size());
    assertEquals(List.of("A1"), titles(book.select().where(Map.of("pages__lt", 15)).intersect(book.select())));
    assertEquals(3, book.select().except(book.select().where(Map.of("pages", 10))).aioExecute().join().size());
    assertEquals(List.of("ann", "bob"), author.select("name").distinct().orderBy("name").aioExecute().join()
        .stream().map(i -> i.getString("name")).toList());
    assertEquals(List.of("A1"), titles(book.raw("SELECT * FROM java_book WHERE pages = "
        + (backend().equals("pg") ? "$1" : "?"), 10)));
    assertThrows(InterfaceErrorException.class, () -> book.select().where(Map.of("pages__near", 1)));
  }

  long firstAuthorId() {
    return author.select().orderBy("id").aioFirst().join().getLong("id");
  }

  static List<String> titles(io.vireo.SelectQuery q) {
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
    assertNull(author.insert(Map.of("name", "ann")).onConflictIgnore().aioExecute().join());
    author.insert(Map.of("name", "ann", "born", 1999)).onConflictUpdate(List.of("name"), List.of("born")).aioExecute().join();
    assertEquals(1999L, author.aioGet(Map.of("name", "ann")).join().getLong("born"));
    author.insert(Map.of("name", "ann", "born", 1)).onConflictUpdate(List.of("name"),
        Map.of("born", Expr.call("+", Expr.field("java_author.born"), 1))).aioExecute().join();
    assertEquals(2000L, author.aioGet(Map.of("name", "ann")).join().getLong("born"));

    assertEquals(2L, book.update(Map.of("pages", Expr.call("+", Expr.field("pages"), 1)))
        .where(Where.like("title", "A%")).aioExecute().join());
    assertEquals(11L, book.aioGet(Map.of("title", "A1")).join().getLong("pages"));
    assertEquals(List.of(0L), book.update(Map.of("pages", 0)).where(Map.of("title", "B1")).aioReturning("pages").join()
        .stream().map(i -> i.getLong("pages")).toList());
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
    assertEquals("vireo/unique-violation", e.getType());
    assertTrue(e.getSql().toLowerCase().contains("insert into"), e.getSql());
    assertEquals(List.of("ann"), e.getParams().subList(0, 1));
    // chained stages and join() see the JDK's CompletionException around it
    CompletionException wrapped = assertThrows(CompletionException.class, dup::join);
    assertSame(e, wrapped.getCause());
    Throwable chained = failure(dup.thenApply(i -> i));
    assertInstanceOf(CompletionException.class, chained);
    assertSame(e, VireoException.unwrap(chained));

    DoesNotExistException dne = assertInstanceOf(DoesNotExistException.class,
        failure(author.aioGet(Map.of("name", "nobody"))));
    assertEquals("vireo/does-not-exist", dne.getType());
    assertInstanceOf(ModelErrorException.class, failure(author.aioCreate(Map.of("name", "x", "nmae", "typo"))));
    assertInstanceOf(InterfaceErrorException.class, assertThrows(VireoException.class,
        () -> new io.vireo.PostgresqlDatabase("mysql://root@127.0.0.1/x")));
    assertInstanceOf(InterfaceErrorException.class, assertThrows(VireoException.class,
        () -> Database.fromUrl("sqlite:x.db", io.vireo.DatabaseOptions.create().set("min-size", 2))));
    assertInstanceOf(io.vireo.ProgrammingErrorException.class, failure(db.aioExecuteSql("SELEC 1")));
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

    OperationalErrorException again = assertInstanceOf(OperationalErrorException.class,
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
}
