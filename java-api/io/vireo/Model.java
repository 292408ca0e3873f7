package io.vireo;

import clojure.lang.IPersistentMap;
import clojure.lang.IPersistentVector;
import clojure.lang.Keyword;
import clojure.lang.RT;
import io.vireo.exception.DoesNotExistException;
import io.vireo.exception.ErrorType;
import io.vireo.exception.IntegrityErrorException;
import io.vireo.exception.VireoException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * A model: a table described as data, with peewee-async's AioModel
 * operations, whose rows are {@code R}. A <b>typed</b> model is bound to your
 * record (or POJO) class: {@link #builder(Class)} infers the fields from its
 * components, and every operation takes and yields that class. A
 * <b>dynamic</b> model, {@code Model<Instance>}, is built field by field with
 * {@link #builder(String)} or wraps a model defined in Clojure with
 * {@link #of(Object)}; its rows are {@link Instance}s. Both languages share
 * the same model value.
 *
 * <p>Every {@code aio*} method returns a {@link CompletableFuture} that runs on
 * the model's database pool and fails with a {@link VireoException} subclass
 * ({@link DoesNotExistException}, {@link IntegrityErrorException}, …) itself.
 *
 * <pre>{@code
 * record Block(Long id, String key, String text) {}
 * Model<Block> Blocks = Model.builder(Block.class).database(db).build();
 * Block block = Blocks.aioCreate(new Block(null, "title", "Hello")).join();
 * Block same = Blocks.aioGet(Where.eq(Block::key, "title")).join();
 * Blocks.aioSave(new Block(same.id(), same.key(), "Bye")).join();
 * }</pre>
 *
 * <p><b>Filters.</b> The {@code filter} of {@link #aioGet(Object)} and its
 * siblings is a primary-key value, a {@code Map} of field values (equality,
 * {@code null} meaning IS NULL, Django-style lookups such as
 * {@code "pages__gt"}), a {@link Where} condition, or a {@code List} of the
 * values of a composite key.
 *
 * @param <R> the row type: a record or POJO class, or {@link Instance}
 */
public final class Model<R> {
  private static final Keyword FIELD_INDEX = Keyword.intern("field-index");
  private static final Keyword TYPE = Keyword.intern("type");
  private static final Keyword FK = Keyword.intern("fk");
  private static final Keyword PRIMARY_KEY = Keyword.intern("primary-key");
  private static final Keyword DEFAULT = Keyword.intern("default");

  private final Object m;
  private final RowType<R> rows;
  /** {@code rows.read} of a row without joins, made once (a lambda allocates on each use). */
  private final Function<Object, @Nullable R> toRow;
  /** This model's dynamic view (itself when R is Instance): what Instances of its rows belong to. */
  private final Model<Instance> dynamic;
  private final Map<String, Model<Instance>> related = new ConcurrentHashMap<>();
  private final Map<String, Model<Instance>> backrefs = new ConcurrentHashMap<>();

  @SuppressWarnings("unchecked")
  private Model(Object clojureModel, RowType<R> rows) {
    this.m = clojureModel;
    this.rows = rows;
    this.toRow = v -> rows.read(this, v, null);
    this.dynamic = rows == RowType.INSTANCE ? (Model<Instance>) this : new Model<>(clojureModel, RowType.INSTANCE);
  }

  /** A dynamic model over a Clojure model value (no check). */
  static Model<Instance> wrap(Object clojureModel) {
    return new Model<>(clojureModel, RowType.INSTANCE);
  }

  /** A model over a Clojure model value whose rows are {@code rows}. */
  static <T> Model<T> wrap(Object clojureModel, RowType<T> rows) {
    return new Model<>(clojureModel, rows);
  }

  Model<Instance> dynamic() {
    return dynamic;
  }

  RowType<R> rows() {
    return rows;
  }

  /**
   * Starts building a dynamic model, field by field; {@link ModelBuilder#build(Class)}
   * maps the definition onto a record or POJO class instead.
   *
   * @param name the model name (the table is its lower-cased form unless set)
   * @return a builder
   */
  public static ModelBuilder<Instance> builder(String name) {
    return new ModelBuilder<>(name, null);
  }

  /**
   * Starts building a model typed by a record (or a POJO with a no-argument
   * constructor and setters): its name is the class's simple name, its fields
   * are inferred from the components (properties) in order, and
   * {@link ModelBuilder#field(Property, Field)} overrides one. See
   * {@link ModelBuilder} for the types inferred.
   *
   * @param rowClass the record or POJO class
   * @param <T> the row type
   * @return a builder
   */
  public static <T> ModelBuilder<T> builder(Class<T> rowClass) {
    java.util.Objects.requireNonNull(rowClass, "Vireo: Model.builder needs a class");
    return new ModelBuilder<>(rowClass.getSimpleName(), rowClass);
  }

  /**
   * Returns this model with its rows read as (and written from) a record or
   * POJO class, by component name: a model defined in Clojure
   * ({@code Model.of(clojureModel).as(Block.class)}) or built field by field,
   * used with typed rows. {@code as(Instance.class)} is the dynamic form.
   * The definition is the same value; the models are equal only when their
   * row classes are too.
   *
   * @param rowClass the record or POJO class
   * @param <T> the row type
   * @return the model typed by {@code rowClass}
   */
  public <T> Model<T> as(Class<T> rowClass) {
    return new Model<>(m, RowType.of(rowClass));
  }

  /**
   * Returns the class of this model's rows ({@code Instance.class} for a dynamic model).
   *
   * @return the row class
   */
  public Class<R> rowClass() {
    return rows.type();
  }

  /**
   * Wraps a model defined in Clojure ({@code defmodel} / {@code vireo.core/model}).
   *
   * @param clojureModel the model value
   * @return the Java view of it
   * @throws IllegalArgumentException when the value is not a model
   */
  public static Model<Instance> of(Object clojureModel) {
    if (!RT.booleanCast(Clj.call("model?", clojureModel))) {
      throw new IllegalArgumentException("Vireo: not a model: " + clojureModel);
    }
    return wrap(clojureModel);
  }

  /**
   * Returns the Clojure model value, for Clojure code.
   *
   * @return the model
   */
  public Object toClojure() {
    return m;
  }

  /**
   * Returns the model name.
   *
   * @return the name
   */
  public String name() {
    return (String) Clj.get(m, "name");
  }

  /**
   * Returns the table the model maps to.
   *
   * @return the table name
   */
  public String tableName() {
    return (String) Clj.call("table-name", m);
  }

  /**
   * Returns the field names, in column order (many-to-many relations excluded).
   *
   * @return the names
   */
  public List<String> fieldNames() {
    List<String> l = new ArrayList<>();
    for (Object f : Clj.list(Clj.call("fields", m))) {
      l.add(Clj.keyName(Clj.get(f, "key")));
    }
    return l;
  }

  String fieldType(String key) {
    Object f = RT.get(RT.get(m, FIELD_INDEX), Clj.key(key));
    Object t = RT.get(f, TYPE);
    return t == null ? null : ((Keyword) t).getName();
  }

  @Nullable Model<Instance> relatedModel(String key) {
    Model<Instance> r = related.get(key);
    if (r == null) {
      Object f = RT.get(RT.get(m, FIELD_INDEX), Clj.key(key));
      if (f == null || RT.get(f, FK) == null) {
        return null;
      }
      r = wrap(Clj.call("vireo.impl.model/fk-target", m, f));
      related.put(key, r);
    }
    return r;
  }

  /** The model of the rows a prefetch puts under backref {@code key}, or null. */
  @Nullable Model<Instance> backrefModel(String key) {
    Model<Instance> r = backrefs.get(key);
    if (r == null) {
      Object b = Clj.call("vireo.java.bridge/backref-model", m, Clj.key(key));
      if (b == null) {
        return null; // not cached: a model defined later may declare it
      }
      r = wrap(b);
      backrefs.put(key, r);
    }
    return r;
  }

  /**
   * Returns the model's database.
   *
   * @return the database, or {@code null} when the model has none
   */
  public @Nullable Database database() {
    Object d = Clj.get(m, "database");
    return d == null ? null : Database.of(d);
  }

  /**
   * Returns this model bound to another database (tests, multi-tenant use).
   *
   * @param database the database
   * @return a new model value, with the same row type
   */
  public Model<R> bind(Database database) {
    return new Model<>(Clj.call("bind-database", m, database.toClojure()), rows);
  }

  /**
   * Returns the through model of a many-to-many field (its table is created
   * by {@link Database#aioCreateTables(boolean, Model...)} with this model).
   *
   * @param manyToManyField the field
   * @return the through model
   */
  public Model<Instance> throughModel(String manyToManyField) {
    return wrap(Clj.call("through-model", m, Clj.key(manyToManyField)));
  }

  // ------------------------------------------------------------ conversions

  /** A dynamic instance of this model (for signals and RETURNING rows), or null. */
  @Nullable Instance instanceOf(@Nullable Object v) {
    return v == null ? null : new Instance(dynamic, v);
  }

  List<Instance> instances(@Nullable Object v) {
    return RowType.INSTANCE.readAll(this, v, null);
  }

  /** A row of this model's type, or null. */
  @Nullable R row(@Nullable Object v, @Nullable Nesting nesting) {
    return rows.read(this, v, nesting);
  }

  List<R> rowList(@Nullable Object v, @Nullable Nesting nesting) {
    return rows.readAll(this, v, nesting);
  }

  /** {@code values} without the null values of fields that have a default. */
  IPersistentMap withoutNullDefaults(IPersistentMap values) {
    Object index = RT.get(m, FIELD_INDEX);
    IPersistentMap out = values;
    for (Object o : values) {
      Map.Entry<?, ?> e = (Map.Entry<?, ?>) o;
      if (e.getValue() == null && RT.get(RT.get(index, e.getKey()), DEFAULT) != null) {
        out = out.without(e.getKey());
      }
    }
    return out;
  }

  /** A row's data for an operation on it. */
  IPersistentMap data(R row) {
    java.util.Objects.requireNonNull(row, "Vireo: the row is null");
    return rows.write(this, row);
  }

  /** A row's values for an INSERT. */
  IPersistentMap newData(R row) {
    java.util.Objects.requireNonNull(row, "Vireo: the row is null");
    return rows.writeNew(this, row);
  }

  private GetOrCreate<R> getOrCreateResult(Object v) {
    return new GetOrCreate<>(row(RT.nth(v, 0), null), RT.booleanCast(RT.nth(v, 1)));
  }

  @SuppressWarnings("unchecked")
  static Object filter(Object f) {
    if (f instanceof Map) {
      return Clj.filterMap((Map<String, ?>) f);
    }
    if (f instanceof Instance) {
      throw new IllegalArgumentException("Vireo: a filter is a key, a Map, a Where or a List of key values, "
          + "not an Instance; for an instance pass its getId()");
    }
    return Clj.toClj(f);
  }

  /** Java values by name -> instance data; a record's camelCase names find kebab-case fields. */
  IPersistentMap values(Map<String, ?> values, boolean dropNullKey) {
    java.util.Objects.requireNonNull(values, "Vireo: the field values are null");
    Object index = RT.get(m, FIELD_INDEX);
    Object pk = RT.get(m, PRIMARY_KEY);
    Object[] kvs = new Object[values.size() * 2];
    int i = 0;
    for (Map.Entry<String, ?> e : values.entrySet()) {
      String name = e.getKey();
      Keyword k = Clj.key(name);
      if (RT.get(index, k) == null) {
        Keyword kebab = Clj.key(Records.kebab(name));
        if (RT.get(index, kebab) != null) {
          k = kebab;
        }
      }
      if (dropNullKey && e.getValue() == null && k.equals(pk)) {
        continue;
      }
      kvs[i++] = k;
      kvs[i++] = Clj.toClj(e.getValue());
    }
    // two names may find the same field ("createdAt" and "created-at"): the later value wins
    return Clj.mapOf(i == kvs.length ? kvs : java.util.Arrays.copyOf(kvs, i));
  }

  // ------------------------------------------------------------ rows

  /**
   * Returns a new row of this model with its defaults filled in (no I/O).
   *
   * @param values field values by name
   * @return the row
   */
  public R instance(Map<String, ?> values) {
    return row(Clj.call("instance", m, values(values, false)), null);
  }

  /**
   * Returns a row's primary-key value.
   *
   * @param row the row
   * @return the key (a {@code List} for a composite key), or {@code null}
   */
  public @Nullable Object getId(R row) {
    return Clj.toJava(Clj.call("get-id", m, data(row)));
  }

  /**
   * Inserts a row. Defaults apply to omitted fields; values are checked
   * against the field types before any SQL is sent.
   *
   * @param values field values by name
   * @return a future of the new row: every field, the generated key filled in
   */
  public CompletableFuture<R> aioCreate(Map<String, ?> values) {
    return Clj.guard(() -> Clj.aio(toRow, "aio-create", m, values(values, false)));
  }

  /**
   * Inserts a row from a record's components (a POJO's properties; an
   * {@link Instance}'s values): a {@code null} primary key is left to the
   * database, and a {@code null} component whose field has a default takes
   * the default. Records are immutable: the created row, its generated key
   * filled in, is a new record.
   *
   * @param row the values
   * @return a future of the created row
   */
  public CompletableFuture<R> aioCreate(R row) {
    return Clj.guard(() -> Clj.aio(toRow, "aio-create", m, newData(row)));
  }

  /**
   * Returns the first row matching a filter (see the class comment).
   *
   * @param filter a key value, a {@code Map}, a {@link Where} or a composite key's {@code List}
   * @return a future of the row; it fails with {@link DoesNotExistException} when none matches
   */
  public CompletableFuture<R> aioGet(Object filter) {
    return Clj.guard(() -> Clj.aio(toRow, "aio-get", m, filter(filter)));
  }

  /**
   * Like {@link #aioGet(Object)}, but yields {@code null} when nothing matches.
   *
   * @param filter the filter
   * @return a future of the row or {@code null}
   */
  public CompletableFuture<@Nullable R> aioGetOrNone(Object filter) {
    return Clj.guard(() -> Clj.aio(toRow, "aio-get-or-none", m, filter(filter)));
  }

  /**
   * Returns the row matching the field values, creating it when there is none.
   *
   * @param filter field values by name
   * @return a future of the row and whether it was created
   */
  public CompletableFuture<GetOrCreate<R>> aioGetOrCreate(Map<String, ?> filter) {
    return aioGetOrCreate(filter, Map.of());
  }

  /**
   * Returns the row matching the field values, creating it from them
   * merged over {@code defaults} when there is none.
   *
   * @param filter field values by name
   * @param defaults values used only when creating
   * @return a future of the row and whether it was created
   */
  public CompletableFuture<GetOrCreate<R>> aioGetOrCreate(Map<String, ?> filter, Map<String, ?> defaults) {
    return Clj.guard(() -> Clj.aio(this::getOrCreateResult,
        "aio-get-or-create", m, values(filter, false), Clj.opts("defaults", values(defaults, false))));
  }

  private CompletableFuture<R> save(R row, Object opts) {
    return Clj.guard(() -> Clj.aio(v -> rows.updated(this, row, v), "aio-save", m, data(row), opts));
  }

  /**
   * Saves a row: with a primary key, an UPDATE; without one, an INSERT.
   * Unlike peewee, updating a row that is gone fails with
   * {@link DoesNotExistException}.
   *
   * <p>An {@link Instance} remembers the values it was loaded with, so only
   * the fields that changed are written (nothing when none did; every field
   * it holds for an instance built by hand), and the instance itself then
   * holds the saved values and key. A record is immutable and carries no
   * such memory: every field is written, and the saved row (its new key
   * filled in) is a new record.
   *
   * @param row the row
   * @return a future of the saved row (the same {@code Instance}; a new record)
   */
  public CompletableFuture<R> aioSave(R row) {
    return save(row, Clj.opts());
  }

  /**
   * Like {@link #aioSave(Object)}; {@code forceInsert} inserts even with a
   * primary key (to create a row with a key of your choice).
   *
   * @param row the row
   * @param forceInsert true to INSERT
   * @return a future of the saved row
   */
  public CompletableFuture<R> aioSave(R row, boolean forceInsert) {
    return save(row, Clj.opts("force-insert", forceInsert ? Boolean.TRUE : null));
  }

  /**
   * Like {@link #aioSave(Object)}, writing only the named fields.
   *
   * @param row the row
   * @param fields the fields to write
   * @return a future of the saved row
   */
  public CompletableFuture<R> aioSaveOnly(R row, String... fields) {
    return save(row, Clj.opts("only", Clj.refs(fields)));
  }

  /**
   * Like {@link #aioSave(Object)}, writing only the fields named by property
   * references: {@code Blocks.aioSaveOnly(block, Block::text)}.
   *
   * @param row the row
   * @param fields the fields to write
   * @return a future of the saved row
   */
  @SafeVarargs
  public final CompletableFuture<R> aioSaveOnly(R row, Property<R, ?>... fields) {
    return Clj.guard(() -> save(row, Clj.opts("only", Clj.refs(Properties.names(fields.length, i -> fields[i])))));
  }

  /**
   * Deletes a row by primary key.
   *
   * @param row the row
   * @return a future of the number of rows deleted
   */
  public CompletableFuture<Long> aioDeleteInstance(R row) {
    return aioDeleteInstance(row, false);
  }

  /**
   * Deletes a row; {@code recursive} first deletes the rows that
   * reference it (and sets nullable references to NULL), in one transaction.
   *
   * @param row the row
   * @param recursive true to delete dependants first
   * @return a future of the number of rows deleted (for the row itself)
   */
  public CompletableFuture<Long> aioDeleteInstance(R row, boolean recursive) {
    return aioDeleteInstance(row, recursive, false);
  }

  /**
   * Deletes a row; {@code recursive} first deletes the rows that
   * reference it, in one transaction. Rows whose reference is nullable are
   * unlinked (set to NULL) unless {@code deleteNullable}, which deletes them
   * too.
   *
   * @param row the row
   * @param recursive true to delete dependants first
   * @param deleteNullable with {@code recursive}, true to delete the rows
   *     with a nullable reference as well instead of unlinking them
   * @return a future of the number of rows deleted (for the row itself)
   */
  public CompletableFuture<Long> aioDeleteInstance(R row, boolean recursive, boolean deleteNullable) {
    return Clj.guard(() -> Clj.aio(Model::toLong, "aio-delete-instance", m, data(row),
        Clj.opts("recursive", recursive ? Boolean.TRUE : null, "delete-nullable", deleteNullable ? Boolean.TRUE : null)));
  }

  static IPersistentMap instanceData(Instance instance) {
    return java.util.Objects.requireNonNull(instance, "Vireo: the instance is null").data();
  }

  static @Nullable Long toLong(@Nullable Object v) {
    return v == null ? null : ((Number) v).longValue();
  }

  /**
   * Loads a foreign-key relation into a row: the raw key is replaced by
   * the referenced row ({@link Instance#getInstance(String)}; a record
   * component of the referenced model's record type receives it, one of a key
   * type keeps the key). No query when it is already loaded.
   *
   * @param row the row (an {@code Instance} is updated in place)
   * @param foreignKey the foreign-key field
   * @return a future of the row holding the relation
   */
  public CompletableFuture<R> aioFetch(R row, String foreignKey) {
    return Clj.guard(() -> Clj.aio(v -> rows.updated(this, row, v), "aio-fetch", m, data(row), Clj.key(foreignKey)));
  }

  // ------------------------------------------------------------ many-to-many

  /**
   * Returns the instances related through a many-to-many field (or the
   * backref another model declared), ordered by primary key.
   *
   * @param row the row
   * @param relation the many-to-many field or backref
   * @return a future of the related instances (of the related model, dynamic)
   */
  public CompletableFuture<List<Instance>> aioRelated(R row, String relation) {
    return Clj.guard(() -> {
      Keyword k = Clj.key(relation);
      Object data = data(row);
      return Clj.aio(v -> wrap(Clj.call("vireo.java.bridge/related-model", m, k)).instances(v),
          "aio-related", m, data, k);
    });
  }

  /**
   * Links a row to targets through a many-to-many relation, in one
   * transaction; existing links are kept.
   *
   * @param row the row
   * @param relation the many-to-many field or backref
   * @param targets instances, records or key values
   * @return a future of the number of links created
   */
  public CompletableFuture<Long> aioAdd(R row, String relation, Object... targets) {
    return Clj.guard(() -> Clj.aio(Model::toLong, "aio-add", m, data(row), Clj.key(relation), Clj.toClj(targets)));
  }

  /**
   * Unlinks targets from a row.
   *
   * @param row the row
   * @param relation the many-to-many field or backref
   * @param targets instances, records or key values
   * @return a future of the number of links removed
   */
  public CompletableFuture<Long> aioRemove(R row, String relation, Object... targets) {
    return Clj.guard(() -> Clj.aio(Model::toLong, "aio-remove", m, data(row), Clj.key(relation), Clj.toClj(targets)));
  }

  /**
   * Unlinks every target of a many-to-many relation.
   *
   * @param row the row
   * @param relation the many-to-many field or backref
   * @return a future of the number of links removed
   */
  public CompletableFuture<Long> aioClear(R row, String relation) {
    return Clj.guard(() -> Clj.aio(Model::toLong, "aio-clear", m, data(row), Clj.key(relation)));
  }

  // ------------------------------------------------------------ queries

  /**
   * Starts a select of this model's rows. Items: none for every field, field
   * names ({@code "title"}, {@code "author.name"} for a joined model),
   * {@link Expr}s (with {@link Expr#as(String)}), or models joined in the
   * query (their instance nests under the foreign key). To read a projection
   * that is not this model's row (aggregates, joined fields) as another
   * record, use {@link SelectQuery#as(Class)}.
   *
   * @param items the projection
   * @return the query
   */
  public SelectQuery<R> select(Object... items) {
    Object[] forms = new Object[items.length];
    for (int i = 0; i < items.length; i++) {
      Object it = items[i];
      forms[i] = it instanceof String ? Clj.ref((String) it)
          : it instanceof Expr ? ((Expr) it).selectForm() : Clj.toClj(it);
    }
    return new SelectQuery<>(this, Clj.call("select", prepend(m, forms)), rows);
  }

  /**
   * Starts a select of the fields named by property references:
   * {@code Blocks.select(Block::key)}; none selects every field.
   *
   * @param fields the fields
   * @return the query
   */
  @SafeVarargs
  public final SelectQuery<R> select(Property<R, ?>... fields) {
    return select((Object[]) Properties.names(fields.length, i -> fields[i]));
  }

  private static Object[] prepend(Object first, Object[] rest) {
    Object[] a = new Object[rest.length + 1];
    a[0] = first;
    System.arraycopy(rest, 0, a, 1, rest.length);
    return a;
  }

  /**
   * Starts a select from raw SQL whose rows are this model's rows
   * (columns named like a field decode with its type).
   *
   * @param sql the statement (placeholders as the database expects)
   * @param params its parameters
   * @return the query
   */
  public SelectQuery<R> raw(String sql, Object... params) {
    return new SelectQuery<>(this, Clj.call("raw", m, sql, Clj.toClj(params)), rows);
  }

  /**
   * Starts an insert of one row (defaults applied);
   * {@link InsertQuery#aioExecute()} yields its new key.
   *
   * @param values field values by name
   * @return the query
   */
  public InsertQuery<Object> insert(Map<String, ?> values) {
    return new InsertQuery<>(this, Clj.call("insert", m, values(values, false)), Clj::toJava);
  }

  /**
   * Starts a multi-row insert (one statement);
   * {@link InsertQuery#aioExecute()} yields the new keys, in order.
   *
   * @param rows the rows' field values
   * @return the query
   */
  @SuppressWarnings("unchecked")
  public InsertQuery<List<Object>> insertMany(List<? extends Map<String, ?>> rows) {
    Object[] rs = new Object[rows.size()];
    for (int i = 0; i < rs.length; i++) {
      rs[i] = values(rows.get(i), false);
    }
    return new InsertQuery<>(this, Clj.call("insert-many", m, clojure.lang.PersistentVector.create(rs)),
        v -> (List<Object>) Clj.toJava(v));
  }

  /**
   * Starts an update: field name to a value or an {@link Expr}
   * ({@code Expr.call("+", Expr.field("n"), 1)}). Add a {@code where}.
   *
   * @param values the new values
   * @return the query
   */
  public UpdateQuery update(Map<String, ?> values) {
    return new UpdateQuery(this, Clj.call("update", m, values(values, false)));
  }

  /**
   * Starts a delete. Add a {@code where} (without one it deletes every row).
   *
   * @return the query
   */
  public DeleteQuery delete() {
    return new DeleteQuery(this, Clj.call("delete", m));
  }

  // ------------------------------------------------------------ schema

  /**
   * Creates the table and its indexes.
   *
   * @param safe true to add IF NOT EXISTS
   * @return a future completing when done
   */
  public CompletableFuture<Void> aioCreateTable(boolean safe) {
    return Clj.guard(() -> Clj.aio(v -> null, "aio-create-table", m, Clj.opts("safe", safe)));
  }

  /**
   * Drops the table.
   *
   * @param safe true to add IF EXISTS
   * @return a future completing when done
   */
  public CompletableFuture<Void> aioDropTable(boolean safe) {
    return Clj.guard(() -> Clj.aio(v -> null, "aio-drop-table", m, Clj.opts("safe", safe)));
  }

  /**
   * Tells whether the table exists.
   *
   * @return a future of true when it exists
   */
  public CompletableFuture<Boolean> aioTableExists() {
    return Clj.guard(() -> Clj.aio(v -> RT.booleanCast(v), "aio-table-exists", m));
  }

  /**
   * Deletes every row (TRUNCATE; DELETE FROM on SQLite).
   *
   * @return a future completing when done
   */
  public CompletableFuture<Void> aioTruncateTable() {
    return aioTruncateTable(false, false);
  }

  /**
   * Deletes every row, with options: {@code restartIdentity} restarts the
   * table's auto-increment counter (PostgreSQL's RESTART IDENTITY; SQLite
   * forgets its AUTOINCREMENT sequence; MariaDB's TRUNCATE always restarts
   * it), {@code cascade} also empties the tables referencing it (PostgreSQL
   * only: elsewhere the future fails with {@link VireoException} ({@link ErrorType#NOT_SUPPORTED})). On
   * MariaDB TRUNCATE commits an open transaction.
   *
   * @param restartIdentity true to restart the key counter
   * @param cascade true to TRUNCATE … CASCADE (PostgreSQL)
   * @return a future completing when done
   */
  public CompletableFuture<Void> aioTruncateTable(boolean restartIdentity, boolean cascade) {
    return Clj.guard(() -> Clj.aio(v -> null, "aio-truncate-table", m,
        Clj.opts("restart-identity", restartIdentity ? Boolean.TRUE : null, "cascade", cascade ? Boolean.TRUE : null)));
  }

  /**
   * Synchronous {@link #aioCreateTable(boolean)}: needs {@link Database#allowSync()}.
   *
   * @param safe true to add IF NOT EXISTS
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block
   */
  public void createTable(boolean safe) {
    Clj.call("create-table!", m, Clj.opts("safe", safe));
  }

  /**
   * Synchronous {@link #aioDropTable(boolean)}: needs {@link Database#allowSync()}.
   *
   * @param safe true to add IF EXISTS
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block
   */
  public void dropTable(boolean safe) {
    Clj.call("drop-table!", m, Clj.opts("safe", safe));
  }

  /**
   * Two models are equal when their Clojure values are and their rows are
   * the same class: models built from equal definitions are equal, whatever
   * queries either has run; a typed model and the dynamic model of the same
   * definition are not.
   *
   * @param o another object
   * @return true when equal
   */
  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof Model && rows.type() == ((Model<?>) o).rows.type()
        && clojure.lang.Util.equiv(m, ((Model<?>) o).m);
  }

  /**
   * Returns a hash of the model value and its row class.
   *
   * @return the hash
   */
  @Override
  public int hashCode() {
    return 31 * clojure.lang.Util.hash(m) + rows.type().hashCode();
  }

  /**
   * Returns e.g. {@code Model[PageBlock "pageblock"]}, or
   * {@code Model<Block>[Block "block"]} for a typed model.
   *
   * @return a readable form
   */
  @Override
  public String toString() {
    String of = rows == RowType.INSTANCE ? "" : "<" + rows.type().getSimpleName() + ">";
    return "Model" + of + "[" + name() + " \"" + tableName() + "\"]";
  }

  static boolean isVector(Object o) {
    return o instanceof IPersistentVector;
  }

  // ------------------------------------------------------------ blocking
  // Each method below is its aio- counterpart run synchronously through
  // vireo.sync: it needs Database#allowSync() (or setAllowSync(true)), is
  // refused on a Vert.x event loop (a VireoException of type SYNC_NOT_ALLOWED), and throws
  // the Vireo exception itself instead of failing a future.

  /**
   * Blocking {@link #aioCreate(Map)} (needs {@link Database#allowSync()}).
   *
   * @param values field name to value
   * @return the new row
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public R create(Map<String, ?> values) {
    return Clj.sync(toRow, "aio-create", m, values(values, false));
  }

  /**
   * Blocking {@link #aioCreate(Object)}.
   *
   * @param row the values
   * @return the created row (a new record, its key filled in)
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public R create(R row) {
    return Clj.sync(toRow, "aio-create", m, newData(row));
  }

  /**
   * Blocking {@link #aioGet(Object)}: {@code Blocks.get(Where.eq(Block::key, "title"))}.
   *
   * @param filter a primary-key value, a map of field values or a {@link Where}
   * @return the matching row
   * @throws DoesNotExistException when none matches
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public R get(Object filter) {
    return Clj.sync(toRow, "aio-get", m, filter(filter));
  }

  /**
   * Blocking {@link #aioGetOrNone(Object)}.
   *
   * @param filter as {@link #get(Object)}
   * @return the matching row, or {@code null}
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public @Nullable R getOrNone(Object filter) {
    return Clj.sync(toRow, "aio-get-or-none", m, filter(filter));
  }

  /**
   * Blocking {@link #aioGetOrCreate(Map)}.
   *
   * @param filter field name to value
   * @return the row and whether it was created
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public GetOrCreate<R> getOrCreate(Map<String, ?> filter) {
    return getOrCreate(filter, Map.of());
  }

  /**
   * Blocking {@link #aioGetOrCreate(Map, Map)}.
   *
   * @param filter field name to value
   * @param defaults values for a new row, beside the filter's
   * @return the row and whether it was created
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public GetOrCreate<R> getOrCreate(Map<String, ?> filter, Map<String, ?> defaults) {
    return Clj.sync(this::getOrCreateResult,
        "aio-get-or-create", m, values(filter, false), Clj.opts("defaults", values(defaults, false)));
  }

  /**
   * Blocking {@link #aioSave(Object)}.
   *
   * @param row the row (an {@code Instance} then holds the saved values)
   * @return the saved row (the same {@code Instance}; a new record)
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public R save(R row) {
    return save(row, false);
  }

  /**
   * Blocking {@link #aioSave(Object, boolean)}.
   *
   * @param row the row
   * @param forceInsert insert even when it has a key
   * @return the saved row
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public R save(R row, boolean forceInsert) {
    return Clj.sync(v -> rows.updated(this, row, v), "aio-save", m, data(row),
        Clj.opts("force-insert", forceInsert ? Boolean.TRUE : null));
  }

  /**
   * Blocking {@link #aioSaveOnly(Object, String...)}.
   *
   * @param row the row
   * @param fields the fields to write
   * @return the saved row
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public R saveOnly(R row, String... fields) {
    return Clj.sync(v -> rows.updated(this, row, v), "aio-save", m, data(row), Clj.opts("only", Clj.refs(fields)));
  }

  /**
   * Blocking {@link #aioSaveOnly(Object, Property...)}.
   *
   * @param row the row
   * @param fields the fields to write
   * @return the saved row
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  @SafeVarargs
  public final R saveOnly(R row, Property<R, ?>... fields) {
    return saveOnly(row, Properties.names(fields.length, i -> fields[i]));
  }

  /**
   * Blocking {@link #aioDeleteInstance(Object, boolean, boolean)}.
   *
   * @param row the row
   * @param recursive delete (or unlink) the rows that reference it first
   * @param deleteNullable delete the nullable references too
   * @return the number of rows deleted
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public long deleteInstance(R row, boolean recursive, boolean deleteNullable) {
    return Clj.sync(Model::toLong, "aio-delete-instance", m, data(row),
        Clj.opts("recursive", recursive ? Boolean.TRUE : null, "delete-nullable", deleteNullable ? Boolean.TRUE : null));
  }

  /**
   * Blocking {@link #aioDeleteInstance(Object)}.
   *
   * @param row the row
   * @return the number of rows deleted
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public long deleteInstance(R row) {
    return deleteInstance(row, false, false);
  }

  /**
   * Blocking {@link #aioFetch(Object, String)}.
   *
   * @param row the row (an {@code Instance} then holds the loaded relation)
   * @param foreignKey the foreign-key field
   * @return the row holding the relation
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public R fetch(R row, String foreignKey) {
    return Clj.sync(v -> rows.updated(this, row, v), "aio-fetch", m, data(row), Clj.key(foreignKey));
  }

  /**
   * Blocking {@link #aioRelated(Object, String)}.
   *
   * @param row the row
   * @param relation the many-to-many field or backref
   * @return the related instances, by primary key
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public List<Instance> related(R row, String relation) {
    Keyword k = Clj.key(relation);
    return Clj.sync(v -> wrap(Clj.call("vireo.java.bridge/related-model", m, k)).instances(v),
        "aio-related", m, data(row), k);
  }

  /**
   * Blocking {@link #aioAdd(Object, String, Object...)}.
   *
   * @param row the row
   * @param relation the many-to-many relation
   * @param targets instances, records or keys
   * @return the number of links created
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public long add(R row, String relation, Object... targets) {
    return Clj.sync(Model::toLong, "aio-add", m, data(row), Clj.key(relation), Clj.toClj(targets));
  }

  /**
   * Blocking {@link #aioRemove(Object, String, Object...)}.
   *
   * @param row the row
   * @param relation the many-to-many relation
   * @param targets instances, records or keys
   * @return the number of links removed
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public long remove(R row, String relation, Object... targets) {
    return Clj.sync(Model::toLong, "aio-remove", m, data(row), Clj.key(relation), Clj.toClj(targets));
  }

  /**
   * Blocking {@link #aioClear(Object, String)}.
   *
   * @param row the row
   * @param relation the many-to-many relation
   * @return the number of links removed
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public long clear(R row, String relation) {
    return Clj.sync(Model::toLong, "aio-clear", m, data(row), Clj.key(relation));
  }

  /**
   * Blocking {@link #aioTableExists()}.
   *
   * @return true when the model's table exists
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public boolean tableExists() {
    return Clj.sync(v -> RT.booleanCast(v), "aio-table-exists", m);
  }

  /**
   * Blocking {@link #aioTruncateTable()}.
   *
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public void truncateTable() {
    Clj.sync(v -> null, "aio-truncate-table", m, Clj.opts());
  }

  // ------------------------------------------------------------ INSERT … SELECT, indexes

  /**
   * Starts an INSERT … SELECT: the named fields are filled, in order, by the
   * columns of {@code select}; {@link InsertQuery#aioExecute()} yields the
   * number of rows inserted.
   *
   * <pre>{@code
   * long copied = Archive.insertFrom(List.of("title", "pages"),
   *     Book.select("title", "pages").where(Where.gt("pages", 100))).aioExecute().join();
   * }</pre>
   *
   * @param fields the fields to fill
   * @param select a select of as many columns
   * @return the query
   */
  public InsertQuery<Long> insertFrom(List<String> fields, SelectQuery<?> select) {
    java.util.Objects.requireNonNull(select, "Vireo: insertFrom needs a select");
    return new InsertQuery<>(this, Clj.call("insert-from", m, Clj.refs(fields.toArray(new String[0])), select.form()),
        Model::toLong);
  }

  /**
   * Creates the model's indexes (those of its indexed fields and
   * {@code index(…)}); {@link #aioCreateTable(boolean)} already does.
   *
   * @param safe true to add IF NOT EXISTS
   * @return a future completing when done
   */
  public CompletableFuture<Void> aioCreateIndexes(boolean safe) {
    return Clj.guard(() -> Clj.aio(v -> null, "aio-create-indexes", m, Clj.opts("safe", safe)));
  }

  /**
   * Drops the model's indexes.
   *
   * @param safe true to add IF EXISTS
   * @return a future completing when done
   */
  public CompletableFuture<Void> aioDropIndexes(boolean safe) {
    return Clj.guard(() -> Clj.aio(v -> null, "aio-drop-indexes", m, Clj.opts("safe", safe)));
  }
}
