package io.vireo.test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vireo.AllowSync;
import io.vireo.Database;
import io.vireo.Expr;
import io.vireo.Field;
import io.vireo.FieldType;
import io.vireo.ForeignKeyAction;
import io.vireo.GetOrCreate;
import io.vireo.Instance;
import io.vireo.Join;
import io.vireo.JoinType;
import io.vireo.Model;
import io.vireo.Property;
import io.vireo.Where;
import io.vireo.exception.DoesNotExistException;
import io.vireo.exception.ErrorType;
import io.vireo.exception.NotNullViolationException;
import io.vireo.exception.UniqueViolationException;
import io.vireo.exception.VireoException;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The typed API (Model&lt;R&gt; over records and POJOs, Property method
 * references), written once and run per backend by the subclasses like
 * {@link FacadeContract}. Tables start with java_typed_.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class TypedContract {
  /** Stored as the constant's name. */
  public enum Color { RED, GREEN, A_RATHER_LONG_CONSTANT_NAME_OF_MORE_THAN_32 }

  /** A record of every supported component type: primitives NOT NULL, boxed nullable. */
  public record Kind(Long id, String s, long l, Long bl, int i, Integer bi, short sh, Short bsh,
      boolean b, Boolean bb, double d, Double bd, float f, Float bf, BigDecimal dec, UUID u,
      LocalDateTime dt, OffsetDateTime tz, LocalDate da, LocalTime ti, byte[] by,
      Map<String, Object> j, List<Object> jl, Color color) {}

  /** The typed model of the quickstart. */
  public record Block(Long id, String key, String text) {}

  /** A writer with its posts: a foreign key component holds the key. */
  public record Writer(Long id, String name, Integer born) {}

  /** A post of a writer. */
  public record Post(Long id, Long writer, String title, int pages) {}

  /** A post read with its writer joined: the component of the related record type. */
  public record PostWithWriter(Long id, Writer writer, String title) {}

  /** A writer read with its prefetched posts (the backref "posts"). */
  public record WriterWithPosts(Long id, String name, List<Post> posts) {}

  /** An aggregate projection. */
  public record Total(Long writer, Long total) {}

  /** A tag, many-to-many with posts through a dynamic model's field. */
  public record Label(Long id, String name) {}

  /** A POJO: properties are the fields with setters, named by getters. */
  public static final class Page {
    private Long id;
    private String title;
    private boolean active;

    public Long getId() {
      return id;
    }

    public void setId(Long id) {
      this.id = id;
    }

    public String getTitle() {
      return title;
    }

    public void setTitle(String title) {
      this.title = title;
    }

    public boolean isActive() {
      return active;
    }

    public void setActive(boolean active) {
      this.active = active;
    }
  }

  /** A component type with no field type. */
  public record Unsupported(Long id, java.net.URI where) {}

  /** BigDecimal needs its precision given. */
  public record Money(Long id, BigDecimal amount) {}

  Database db;
  Model<Kind> kinds;
  Model<Block> blocks;
  Model<Writer> writers;
  Model<Post> posts;
  Model<Page> pages;
  Model<Label> labels;
  Model<Instance> postLabels;
  Model<Instance> memo;

  abstract Database open();

  @BeforeAll
  void setUp() {
    db = open();
    kinds = Model.builder(Kind.class).database(db).table("java_typed_kind")
        .field(Kind::dec, Field.decimal(12, 2).nullable())
        .build();
    blocks = Model.builder(Block.class).database(db).table("java_typed_block")
        .field(Block::key, Field.charField(40).unique())
        .field(Block::text, Field.text().defaultValue(""))
        .build();
    writers = Model.builder(Writer.class).database(db).table("java_typed_writer")
        .field(Writer::name, Field.charField(40).unique())
        .build();
    posts = Model.builder(Post.class).database(db).table("java_typed_post")
        .field(Post::writer, Field.foreignKey(writers).backref("posts").onDelete(ForeignKeyAction.CASCADE))
        .field(Post::title, Field.charField(60))
        .build();
    pages = Model.builder(Page.class).database(db).table("java_typed_page").build();
    labels = Model.builder(Label.class).database(db).table("java_typed_label")
        .field(Label::name, Field.charField(20).unique())
        .build();
    postLabels = Model.builder("JavaTypedPostLabels").database(db).table("java_typed_post_labels")
        .field("post", Field.foreignKey(posts).backref("labelling"))
        .field("labels", Field.manyToMany(labels).backref("labelled"))
        .build();
    // a dynamic model built with the enums where strings were
    memo = Model.builder("JavaTypedMemo").database(db).table("java_typed_memo")
        .field("body", Field.ofType(FieldType.TEXT))
        .field("writer", Field.foreignKey(writers).nullable().onDelete(ForeignKeyAction.SET_NULL)
            .onUpdate(ForeignKeyAction.CASCADE))
        .build();
    db.aioDropTables(true, memo, postLabels, labels, posts, writers, kinds, blocks, pages).join();
    db.aioCreateTables(false, kinds, blocks, writers, posts, pages, labels, postLabels, memo).join();
  }

  @AfterAll
  void tearDown() {
    if (db != null) {
      db.aioDropTables(true, memo, postLabels, labels, posts, writers, kinds, blocks, pages).join();
      db.aioClose().join();
    }
  }

  @BeforeEach
  void clean() {
    db.aioExecuteSql("DELETE FROM java_typed_post_labels_java_typed_label_through").join();
    for (Model<?> m : List.of(memo, postLabels, labels, posts, writers, kinds, blocks, pages)) {
      m.delete().aioExecute().join();
    }
  }

  static Throwable failure(CompletableFuture<?> f) {
    Throwable e = f.handle((v, x) -> x).join();
    assertNotNull(e, "the future did not fail");
    return e;
  }

  // ------------------------------------------------------------ inference

  @Test
  void everySupportedComponentTypeRoundTrips() {
    UUID u = UUID.randomUUID();
    Kind k = new Kind(null, "s", 1L << 40, 2L, 7, 8, (short) 3, (short) -4, true, false, 1.5, -2.25,
        0.5f, 1.25f, new BigDecimal("1234.56"), u, LocalDateTime.of(2024, 5, 6, 7, 8, 9),
        OffsetDateTime.of(2024, 5, 6, 7, 8, 9, 0, ZoneOffset.UTC), LocalDate.of(2024, 2, 29),
        LocalTime.of(23, 59, 58), new byte[] {0, 1, (byte) 0xff}, Map.of("a", 1L, "b", List.of("x")),
        List.of(1L, "two"), Color.A_RATHER_LONG_CONSTANT_NAME_OF_MORE_THAN_32);
    Kind created = kinds.aioCreate(k).join();
    assertNotNull(created.id());
    Kind back = kinds.aioGet(created.id()).join();
    assertEquals(created.id(), back.id());
    assertEquals("s", back.s());
    assertEquals(1L << 40, back.l());
    assertEquals(2L, back.bl());
    assertEquals(7, back.i());
    assertEquals(8, back.bi());
    assertEquals((short) 3, back.sh());
    assertEquals((short) -4, back.bsh());
    assertTrue(back.b());
    assertEquals(false, back.bb());
    assertEquals(1.5, back.d());
    assertEquals(-2.25, back.bd());
    assertEquals(0.5f, back.f());
    assertEquals(1.25f, back.bf());
    assertEquals(0, new BigDecimal("1234.56").compareTo(back.dec()));
    assertEquals(u, back.u());
    assertEquals(LocalDateTime.of(2024, 5, 6, 7, 8, 9), back.dt());
    assertEquals(OffsetDateTime.of(2024, 5, 6, 7, 8, 9, 0, ZoneOffset.UTC), back.tz());
    assertEquals(LocalDate.of(2024, 2, 29), back.da());
    assertEquals(LocalTime.of(23, 59, 58), back.ti());
    assertArrayEquals(new byte[] {0, 1, (byte) 0xff}, back.by());
    assertEquals(Map.of("a", 1L, "b", List.of("x")), back.j());
    assertEquals(List.of(1L, "two"), back.jl());
    assertEquals(Color.A_RATHER_LONG_CONSTANT_NAME_OF_MORE_THAN_32, back.color());
    // the enum is stored as the constant's name
    assertEquals("A_RATHER_LONG_CONSTANT_NAME_OF_MORE_THAN_32",
        kinds.select(Kind::color).aioTuples().join().get(0).get(0));
    assertEquals(1L, kinds.select().where(Where.eq(Kind::color, Color.A_RATHER_LONG_CONSTANT_NAME_OF_MORE_THAN_32))
        .aioCount().join());
    // the table's columns are the components, in order, an auto-increment id first
    assertEquals(List.of("id", "s", "l", "bl", "i", "bi", "sh", "bsh", "b", "bb", "d", "bd", "f", "bf", "dec", "u",
        "dt", "tz", "da", "ti", "by", "j", "jl", "color"), kinds.fieldNames());
    assertEquals("Kind", kinds.name());
    assertEquals(Kind.class, kinds.rowClass());
  }

  @Test
  void boxedComponentsAreNullablePrimitivesAreNot() {
    Kind nulls = kinds.aioCreate(new Kind(null, null, 1, null, 2, null, (short) 3, null, false, null, 0, null,
        0, null, null, null, null, null, null, null, null, null, null, null)).join();
    Kind back = kinds.aioGet(nulls.id()).join();
    assertNull(back.s());
    assertNull(back.bl());
    assertNull(back.bi());
    assertNull(back.color());
    assertNull(back.j());
    assertEquals(1L, back.l());
    // a primitive component's column is NOT NULL
    Throwable e = failure(db.aioExecuteSql("UPDATE java_typed_kind SET l = NULL"));
    assertInstanceOf(NotNullViolationException.class, e);
  }

  @Test
  void auto_incrementIdAndOverrides() {
    Block a = blocks.aioCreate(new Block(null, "a", "first")).join();
    Block b = blocks.aioCreate(new Block(null, "b", null)).join();
    assertNotNull(a.id());
    assertNotEquals(a.id(), b.id());
    assertEquals("", b.text()); // the override's default
    // the override's unique constraint
    assertInstanceOf(UniqueViolationException.class, failure(blocks.aioCreate(new Block(null, "a", "again"))));
    // and its length: refused before any SQL
    VireoException tooLong = assertInstanceOf(VireoException.class,
        failure(blocks.aioCreate(new Block(null, "k".repeat(41), "t"))));
    assertTrue(tooLong.getMessage().contains("key"), tooLong.getMessage());
    assertEquals(List.of("id", "key", "text"), blocks.fieldNames());
    assertEquals("java_typed_block", blocks.tableName());
  }

  @Test
  void badDefinitionsFailInBuildNamingTheComponent() {
    VireoException unsupported = assertThrows(VireoException.class,
        () -> Model.builder(Unsupported.class).build());
    assertEquals(ErrorType.MODEL_ERROR, unsupported.getType());
    assertTrue(unsupported.getMessage().contains("where"), unsupported.getMessage());
    assertTrue(unsupported.getMessage().contains("java.net.URI"), unsupported.getMessage());
    assertEquals("where", unsupported.getData().get("field"));
    VireoException money = assertThrows(VireoException.class, () -> Model.builder(Money.class).build());
    assertEquals(ErrorType.MODEL_ERROR, money.getType());
    assertTrue(money.getMessage().contains("amount") && money.getMessage().contains("Field.decimal"),
        money.getMessage());
    Model<Money> ok = Model.builder(Money.class).table("java_typed_money")
        .field(Money::amount, Field.decimal(10, 2)).build();
    assertEquals(List.of("id", "amount"), ok.fieldNames());
  }

  @Test
  void aLambdaIsNotAProperty() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Where.eq((Block b) -> b.key(), "x"));
    assertTrue(e.getMessage().contains("method reference"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> Model.builder(Block.class).field((Block b) -> b.text(), Field.text()));
    Property<Block, String> key = Block::key;
    assertEquals("[:= :key \"x\"]", Where.eq(key, "x").toString());
    assertEquals("[:= :title \"x\"]", Where.eq(Page::getTitle, "x").toString());
    assertEquals("[:= :active true]", Where.eq(Page::isActive, true).toString());
  }

  // ------------------------------------------------------------ operations

  @Test
  void typedOperations() {
    Writer ann = writers.aioCreate(new Writer(null, "ann", 1950)).join();
    Writer bob = writers.aioCreate(Map.of("name", "bob")).join();
    assertNull(bob.born());
    assertEquals(ann, writers.aioGet(ann.id()).join());
    assertEquals(ann, writers.aioGet(Map.of("name", "ann")).join());
    assertEquals(ann, writers.aioGet(Where.eq(Writer::name, "ann")).join());
    assertNull(writers.aioGetOrNone(Where.eq(Writer::name, "nobody")).join());
    assertInstanceOf(DoesNotExistException.class, failure(writers.aioGet(Where.eq(Writer::name, "nobody"))));
    GetOrCreate<Writer> cat = writers.aioGetOrCreate(Map.of("name", "cat"), Map.of("born", 1970)).join();
    assertTrue(cat.created());
    assertEquals(1970, cat.instance().born());
    GetOrCreate<Writer> again = writers.aioGetOrCreate(Map.of("name", "cat")).join();
    assertFalse(again.created());
    assertEquals(cat.instance(), again.instance());
    // a record is immutable: a save returns the saved row
    Writer older = writers.aioSave(new Writer(ann.id(), "ann", 1940)).join();
    assertEquals(new Writer(ann.id(), "ann", 1940), older);
    Writer dan = writers.aioSave(new Writer(null, "dan", null)).join();   // no key: an insert
    assertNotNull(dan.id());
    Writer eve = writers.aioSave(new Writer(1_000_000L, "eve", 1), true).join(); // forced insert with a key
    assertEquals(1_000_000L, eve.id());
    writers.aioSaveOnly(new Writer(ann.id(), "changed", 1930), "born").join();
    assertEquals(new Writer(ann.id(), "ann", 1930), writers.aioGet(ann.id()).join());
    writers.aioSaveOnly(new Writer(ann.id(), "changed", 1920), Writer::born).join();
    assertEquals(new Writer(ann.id(), "ann", 1920), writers.aioGet(ann.id()).join());
    assertEquals(ann.id(), writers.getId(ann));
    assertEquals(new Writer(null, "x", null), writers.instance(Map.of("name", "x")));
    // fetch: a key component keeps the key
    Post p = posts.aioCreate(new Post(null, ann.id(), "P1", 10)).join();
    assertEquals(p, posts.aioFetch(p, "writer").join());
    // delete
    Post gone = posts.aioCreate(new Post(null, bob.id(), "P2", 20)).join();
    assertEquals(1L, posts.aioDeleteInstance(gone).join());
    assertEquals(1L, writers.aioDeleteInstance(ann, true).join());  // its post first
    assertEquals(0L, posts.select().where(Where.eq(Post::writer, ann.id())).aioCount().join());
    assertEquals(1L, writers.aioDeleteInstance(bob, false, false).join());
    assertInstanceOf(DoesNotExistException.class, failure(writers.aioSave(new Writer(ann.id(), "ann", 1))));
  }

  @Test
  void pojoRows() {
    Page p = new Page();
    p.setTitle("home");
    p.setActive(true);
    Page created = pages.aioCreate(p).join();
    assertNotNull(created.getId());
    assertEquals(List.of("id", "title", "active"), pages.fieldNames());
    Page back = pages.aioGet(Where.eq(Page::isActive, true)).join();
    assertEquals("home", back.getTitle());
    back.setActive(false);
    assertFalse(pages.aioSave(back).join().isActive());
    assertEquals(List.of("home"), pages.select().where(Where.eq(Page::getTitle, "home")).aioExecute().join()
        .stream().map(Page::getTitle).toList());
  }

  @Test
  void queries() {
    Writer ann = writers.aioCreate(new Writer(null, "ann", 1950)).join();
    Writer bob = writers.aioCreate(new Writer(null, "bob", 1960)).join();
    posts.aioCreate(new Post(null, ann.id(), "A1", 10)).join();
    posts.aioCreate(new Post(null, ann.id(), "A2", 20)).join();
    posts.aioCreate(new Post(null, bob.id(), "B1", 30)).join();
    List<Post> thick = posts.select().where(Where.ge(Post::pages, 15)).orderBy(Expr.desc(Post::pages))
        .aioExecute().join();
    assertEquals(List.of("B1", "A2"), thick.stream().map(Post::title).toList());
    assertEquals(List.of("A1", "A2", "B1"), posts.select().orderBy(Post::title).aioExecute().join()
        .stream().map(Post::title).toList());
    assertEquals(List.of("A1"), titles(posts.select().where(Where.lt(Post::pages, 15))));
    assertEquals(List.of("A1", "A2"), titles(posts.select().where(Where.le(Post::pages, 20)).orderBy(Post::title)));
    assertEquals(List.of("B1"), titles(posts.select().where(Where.gt(Post::pages, 20))));
    assertEquals(List.of("A2", "B1"), titles(posts.select().where(Where.ne(Post::title, "A1")).orderBy(Post::title)));
    assertEquals(List.of("A1", "B1"), titles(posts.select().where(Where.in(Post::title, List.of("A1", "B1")))
        .orderBy(Post::title)));
    assertEquals(List.of("A2"), titles(posts.select().where(Where.notIn(Post::title, List.of("A1", "B1")))));
    assertEquals(List.of("A1", "A2"), titles(posts.select().where(Where.like(Post::title, "A%")).orderBy(Post::title)));
    assertEquals(List.of("A2"), titles(posts.select().where(Where.between(Post::pages, 15, 25))));
    assertEquals(List.of("A1", "A2"), titles(posts.select()
        .where(Where.in(Post::writer, writers.select(Writer::id).where(Where.eq(Writer::name, "ann"))))
        .orderBy(Post::title)));
    assertEquals(0L, writers.select().where(Where.isNull(Writer::born)).aioCount().join());
    assertEquals(2L, writers.select().where(Where.isNotNull(Writer::born)).aioCount().join());
    assertEquals(ann, writers.select().orderBy(Expr.asc(Writer::born)).aioFirst().join());
    assertEquals(List.of(ann, bob), writers.select().orderBy(Writer::born).aioFirst(2).join());
    assertEquals(bob, writers.select().orderBy(Expr.field(Writer::born).desc()).aioPeek().join());
    assertEquals(List.of(ann), writers.select().orderBy(Writer::born).aioPeek(1).join());
    assertEquals(bob, writers.select().where(Where.eq(Writer::name, "bob")).aioGet().join());
    assertNull(writers.select().where(Where.eq(Writer::name, "nobody")).aioGetOrNone().join());
    assertEquals(30L, ((Number) posts.select(Expr.max(Post::pages)).aioScalar().join()).longValue());
    assertEquals(10L, ((Number) posts.select(Expr.min(Post::pages)).aioScalar().join()).longValue());
    assertEquals(3L, ((Number) posts.select(Expr.count(Post::id)).aioScalar().join()).longValue());
    assertEquals(20.0, ((Number) posts.select(Expr.avg(Post::pages)).aioScalar().join()).doubleValue(), 0.001);
    // a projection onto another record: aggregates
    List<Total> totals = posts.select("writer", Expr.sum(Post::pages).as("total")).groupBy(Post::writer)
        .orderBy(Post::writer).as(Total.class).aioExecute().join();
    assertEquals(List.of(new Total(ann.id(), 30L), new Total(bob.id(), 30L)), totals);
    // a join read into a record with a component of the related record type
    List<PostWithWriter> joined = posts.select(posts, writers).join(writers).orderBy(Post::title)
        .as(PostWithWriter.class).aioExecute().join();
    assertEquals(ann, joined.get(0).writer());
    assertEquals("A1", joined.get(0).title());
    // the same join read as posts: the key component gets the related row's key
    assertEquals(ann.id(), posts.select(posts, writers).join(writers).orderBy(Post::title).aioFirst().join().writer());
    // prefetch into a List<Post> component named after the backref
    List<WriterWithPosts> withPosts = writers.select().orderBy(Writer::name).as(WriterWithPosts.class)
        .aioPrefetch(posts.select().orderBy(Post::title)).join();
    assertEquals(List.of("A1", "A2"), withPosts.get(0).posts().stream().map(Post::title).toList());
    assertEquals(List.of(posts.aioGet(Where.eq(Post::title, "B1")).join()), withPosts.get(1).posts());
    // raw SQL rows as records
    assertEquals(List.of(bob), writers.raw("SELECT * FROM java_typed_writer WHERE born > " + 1955).aioExecute().join());
    // streams
    List<String> seen = new ArrayList<>();
    assertEquals(3L, posts.select().orderBy(Post::title).fetchSize(2).aioForEach(p -> seen.add(p.title())).join());
    assertEquals(List.of("A1", "A2", "B1"), seen);
    assertEquals(60, posts.select().aioReduce(0, (sum, p) -> sum + p.pages()).join());
    AtomicInteger async = new AtomicInteger();
    assertEquals(3L, posts.select().aioForEachAsync(p -> CompletableFuture.runAsync(() -> async.addAndGet(p.pages())))
        .join());
    assertEquals(60, async.get());
    // maps and tuples are unchanged
    assertEquals(List.of(List.of("A1")), posts.select(Post::title).where(Where.eq(Post::pages, 10)).aioTuples().join());
    assertEquals(List.of(Map.of("title", "A1")), posts.select(Post::title).where(Where.eq(Post::pages, 10))
        .aioMaps().join());
    // the dynamic view of the same rows
    Instance a1 = posts.select().where(Where.eq(Post::title, "A1")).as(Instance.class).aioGet().join();
    assertEquals(10L, a1.getLong("pages"));
  }

  private static List<String> titles(io.vireo.SelectQuery<Post> q) {
    return q.aioExecute().join().stream().map(Post::title).toList();
  }

  @Test
  void manyToManyOfATypedModel() {
    Writer ann = writers.aioCreate(new Writer(null, "ann", null)).join();
    Post p = posts.aioCreate(new Post(null, ann.id(), "P", 1)).join();
    Label red = labels.aioCreate(new Label(null, "red")).join();
    Label blue = labels.aioCreate(new Label(null, "blue")).join();
    Instance holder = postLabels.aioCreate(Map.of("post", p.id())).join();
    assertEquals(2L, postLabels.aioAdd(holder, "labels", red, blue.id()).join());
    assertEquals(List.of("red", "blue"), postLabels.aioRelated(holder, "labels").join().stream()
        .map(i -> i.getString("name")).toList());
    // from the typed side, through its backref
    assertEquals(1, labels.aioRelated(red, "labelled").join().size());
    assertEquals(1L, labels.aioRemove(red, "labelled", holder).join());
    assertEquals(1L, labels.aioAdd(red, "labelled", holder).join());
    assertEquals(1L, labels.aioClear(blue, "labelled").join());
    assertEquals(1, postLabels.aioRelated(holder, "labels").join().size());
  }

  @Test
  void aTypedModelInATransaction() {
    Writer kept = db.aioAtomic(tx -> writers.aioCreate(new Writer(null, "tx", 1))
        .thenCompose(w -> writers.aioSave(new Writer(w.id(), "tx", 2)))).join();
    assertEquals(new Writer(kept.id(), "tx", 2), writers.aioGet(Where.eq(Writer::name, "tx")).join());
    CompletionException e = assertThrows(CompletionException.class,
        () -> db.aioAtomic(tx -> writers.aioCreate(new Writer(null, "lost", 1))
            .thenCompose(w -> writers.aioCreate(new Writer(null, "tx", 3)))).join());   // unique violation
    assertInstanceOf(UniqueViolationException.class, VireoException.unwrap(e));
    assertNull(writers.aioGetOrNone(Where.eq(Writer::name, "lost")).join());
  }

  @Test
  void blockingTwins() {
    try (AllowSync sync = db.allowSync()) {
      Writer ann = writers.create(new Writer(null, "ann", 1950));
      Writer bob = writers.create(Map.of("name", "bob", "born", 1960));
      assertEquals(ann, writers.get(Where.eq(Writer::name, "ann")));
      assertNull(writers.getOrNone(Where.eq(Writer::name, "nobody")));
      assertTrue(writers.getOrCreate(Map.of("name", "cat")).created());
      assertFalse(writers.getOrCreate(Map.of("name", "cat"), Map.of("born", 1)).created());
      assertEquals(1951, writers.save(new Writer(ann.id(), "ann", 1951)).born());
      assertNotNull(writers.save(new Writer(2_000_000L, "dan", null), true).id());
      writers.saveOnly(new Writer(ann.id(), "x", 1952), "born");
      writers.saveOnly(new Writer(ann.id(), "x", 1953), Writer::born);
      assertEquals(new Writer(ann.id(), "ann", 1953), writers.get(ann.id()));
      Post p = posts.create(new Post(null, bob.id(), "P", 5));
      assertEquals(p, posts.fetch(p, "writer"));
      assertEquals(List.of(p), posts.select().execute());
      assertEquals(p, posts.select().first());
      assertEquals(p, posts.select().get());
      assertNull(posts.select().where(Where.eq(Post::pages, 0)).getOrNone());
      List<Post> seen = new ArrayList<>();
      assertEquals(1L, posts.select().forEach(seen::add));
      assertEquals(List.of(p), seen);
      assertEquals(5, posts.select().reduce(0, (sum, x) -> sum + x.pages()));
      assertEquals(1, writers.select().where(Where.eq(Writer::name, "bob")).as(WriterWithPosts.class)
          .prefetch(posts.select()).get(0).posts().size());
      Label red = labels.create(new Label(null, "red"));
      Instance holder = postLabels.create(Map.of("post", p.id()));
      assertEquals(1L, labels.add(red, "labelled", holder));
      assertEquals(1, labels.related(red, "labelled").size());
      assertEquals(1L, labels.remove(red, "labelled", holder));
      assertEquals(0L, labels.clear(red, "labelled"));
      assertEquals(1L, postLabels.deleteInstance(holder));
      assertEquals(1L, posts.deleteInstance(p));
      assertEquals(1L, writers.deleteInstance(bob, true, false));
    }
  }

  @Test
  void modelsAndTheirRowClasses() {
    Model<Instance> dynamic = writers.as(Instance.class);
    assertEquals(Instance.class, dynamic.rowClass());
    assertNotEquals(writers, dynamic);
    assertEquals(writers, dynamic.as(Writer.class));
    assertEquals(writers.hashCode(), dynamic.as(Writer.class).hashCode());
    assertEquals(writers, writers.bind(db));
    assertEquals("Model<Writer>[Writer \"java_typed_writer\"]", writers.toString());
    // the same rows through the dynamic view
    Writer ann = writers.aioCreate(new Writer(null, "ann", 1)).join();
    Instance i = dynamic.aioGet(ann.id()).join();
    assertNotNull(i.model());
    assertEquals(ann, i.as(Writer.class));
    // an explicit definition mapped onto a record
    Model<Writer> explicit = Model.builder("JavaTypedWriterView").database(db).table("java_typed_writer")
        .field("name", Field.charField(40).unique())
        .field("born", Field.integer().nullable())
        .build(Writer.class);
    assertEquals(ann, explicit.aioGet(Where.eq(Writer::name, "ann")).join());
  }

  @Test
  void enumsWhereStringsWere() {
    Writer ann = writers.aioCreate(new Writer(null, "ann", null)).join();
    Instance m = memo.aioCreate(Map.of("body", "b", "writer", ann.id())).join();
    writers.aioDeleteInstance(ann).join();
    assertNull(memo.aioGet(m.getId()).join().get("writer"));   // ON DELETE SET NULL
    List<Map<String, Object>> left = memo.select("body", "writer.name").join(writers, Join.of(JoinType.LEFT))
        .aioMaps().join();
    assertEquals(1, left.size());
    assertEquals(0, memo.select().join(writers, Join.of(JoinType.INNER)).aioExecute().join().size());
    assertEquals(ErrorType.MODEL_ERROR, assertThrows(VireoException.class,
        () -> Model.builder("JavaTypedBad").field("x", Field.ofType("no-such-type")).build()).getType());
  }
}
