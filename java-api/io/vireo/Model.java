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

/**
 * A model: a table described as data, with peewee-async's AioModel
 * operations. Build one with {@link #builder(String)}, or wrap a model defined
 * in Clojure with {@link #of(Object)}; both languages share the same value.
 *
 * <p>Every {@code aio*} method returns a {@link CompletableFuture} that runs on
 * the model's database pool and fails with a {@link VireoException} subclass
 * ({@link DoesNotExistException}, {@link IntegrityErrorException}, …) itself.
 *
 * <pre>{@code
 * Instance block = PageBlock.aioCreate(Map.of("key", "title", "text", "Hello")).join();
 * Instance same = PageBlock.aioGet(Map.of("key", "title")).join();
 * PageBlock.aioSave(same.set("text", "Bye")).join();
 * }</pre>
 *
 * <p><b>Filters.</b> The {@code filter} of {@link #aioGet(Object)} and its
 * siblings is a primary-key value, a {@code Map} of field values (equality,
 * {@code null} meaning IS NULL, Django-style lookups such as
 * {@code "pages__gt"}), a {@link Where} condition, or a {@code List} of the
 * values of a composite key.
 */
public final class Model {
  private static final Keyword FIELD_INDEX = Keyword.intern("field-index");
  private static final Keyword TYPE = Keyword.intern("type");
  private static final Keyword FK = Keyword.intern("fk");
  private static final Keyword PRIMARY_KEY = Keyword.intern("primary-key");

  private final Object m;
  /** {@link #instanceOf(Object)}, made once (a method reference allocates on each use). */
  private final Function<Object, Instance> toInstance = this::instanceOf;
  /** {@link #instances(Object)}, made once. */
  final Function<Object, List<Instance>> toInstances = this::instances;
  private final Map<String, Model> related = new ConcurrentHashMap<>();
  private final Map<String, Model> backrefs = new ConcurrentHashMap<>();

  Model(Object clojureModel) {
    this.m = clojureModel;
  }

  /**
   * Starts building a model.
   *
   * @param name the model name (the table is its lower-cased form unless set)
   * @return a builder
   */
  public static ModelBuilder builder(String name) {
    return new ModelBuilder(name);
  }

  /**
   * Wraps a model defined in Clojure ({@code defmodel} / {@code vireo.core/model}).
   *
   * @param clojureModel the model value
   * @return the Java view of it
   * @throws IllegalArgumentException when the value is not a model
   */
  public static Model of(Object clojureModel) {
    if (!RT.booleanCast(Clj.call("model?", clojureModel))) {
      throw new IllegalArgumentException("Vireo: not a model: " + clojureModel);
    }
    return new Model(clojureModel);
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

  Model relatedModel(String key) {
    Model r = related.get(key);
    if (r == null) {
      Object f = RT.get(RT.get(m, FIELD_INDEX), Clj.key(key));
      if (f == null || RT.get(f, FK) == null) {
        return null;
      }
      r = new Model(Clj.call("vireo.impl.model/fk-target", m, f));
      related.put(key, r);
    }
    return r;
  }

  /** The model of the rows a prefetch puts under backref {@code key}, or null. */
  Model backrefModel(String key) {
    Model r = backrefs.get(key);
    if (r == null) {
      Object b = Clj.call("vireo.java.bridge/backref-model", m, Clj.key(key));
      if (b == null) {
        return null; // not cached: a model defined later may declare it
      }
      r = new Model(b);
      backrefs.put(key, r);
    }
    return r;
  }

  /**
   * Returns the model's database.
   *
   * @return the database, or {@code null} when the model has none
   */
  public Database database() {
    Object d = Clj.get(m, "database");
    return d == null ? null : Database.of(d);
  }

  /**
   * Returns this model bound to another database (tests, multi-tenant use).
   *
   * @param database the database
   * @return a new model value
   */
  public Model bind(Database database) {
    return new Model(Clj.call("bind-database", m, database.toClojure()));
  }

  /**
   * Returns the through model of a many-to-many field (its table is created
   * by {@link Database#aioCreateTables(boolean, Model...)} with this model).
   *
   * @param manyToManyField the field
   * @return the through model
   */
  public Model throughModel(String manyToManyField) {
    return new Model(Clj.call("through-model", m, Clj.key(manyToManyField)));
  }

  // ------------------------------------------------------------ conversions

  Instance instanceOf(Object v) {
    return v == null ? null : new Instance(this, v);
  }

  Instance instanceOf(Object v, Nesting nesting) {
    return v == null ? null : new Instance(this, v, nesting);
  }

  List<Instance> instances(Object v) {
    return instances(v, null);
  }

  List<Instance> instances(Object v, Nesting nesting) {
    List<Instance> l = new ArrayList<>(v instanceof clojure.lang.Counted ? ((clojure.lang.Counted) v).count() : 10);
    if (v != null) {
      for (Object x : (Iterable<?>) v) {
        l.add(instanceOf(x, nesting));
      }
    }
    return l;
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

  @SuppressWarnings("unchecked")
  private <R> R asRecord(Object v, Class<?> type) {
    return v == null ? null : (R) instanceOf(v).as(type);
  }

  // ------------------------------------------------------------ instances

  /**
   * Returns a new instance of this model with its defaults filled in (no I/O).
   *
   * @param values field values by name
   * @return the instance
   */
  public Instance instance(Map<String, ?> values) {
    return instanceOf(Clj.call("instance", m, values(values, false)));
  }

  /**
   * Returns an instance's primary-key value.
   *
   * @param instance the instance
   * @return the key (a {@code List} for a composite key), or {@code null}
   */
  public Object getId(Instance instance) {
    return Clj.toJava(Clj.call("get-id", m, data(instance)));
  }

  /**
   * Inserts a row. Defaults apply to omitted fields; values are checked
   * against the field types before any SQL is sent.
   *
   * @param values field values by name
   * @return a future of the new instance: every field, the generated key filled in
   */
  public CompletableFuture<Instance> aioCreate(Map<String, ?> values) {
    try {
      return Clj.aio(toInstance, "aio-create", m, values(values, false));
    } catch (Throwable t) {
      return Clj.failed(t);
    }
  }

  /**
   * Inserts a row from a record's components (a {@code null} primary key is
   * left to the database) and returns it as the same record type.
   *
   * @param record the values
   * @param <R> the record type
   * @return a future of the created row as a record (the generated key filled in)
   */
  public <R extends Record> CompletableFuture<R> aioCreate(R record) {
    return Clj.guard(() -> {
      Class<?> type = record.getClass();
      return Clj.aio(v -> asRecord(v, type), "aio-create", m, values(Records.toMap(record), true));
    });
  }

  /**
   * Returns the first instance matching a filter (see the class comment).
   *
   * @param filter a key value, a {@code Map}, a {@link Where} or a composite key's {@code List}
   * @return a future of the instance; it fails with {@link DoesNotExistException} when none matches
   */
  public CompletableFuture<Instance> aioGet(Object filter) {
    try {
      return Clj.aio(toInstance, "aio-get", m, filter(filter));
    } catch (Throwable t) {
      return Clj.failed(t);
    }
  }

  /**
   * Like {@link #aioGet(Object)}, as a record (by component name) or POJO.
   *
   * @param type the record or POJO class
   * @param filter the filter
   * @param <R> the type
   * @return a future of the object; fails with {@link DoesNotExistException} when none matches
   */
  public <R> CompletableFuture<R> aioGet(Class<R> type, Object filter) {
    return Clj.guard(() -> Clj.aio(v -> asRecord(v, type), "aio-get", m, filter(filter)));
  }

  /**
   * Like {@link #aioGet(Object)}, but yields {@code null} when nothing matches.
   *
   * @param filter the filter
   * @return a future of the instance or {@code null}
   */
  public CompletableFuture<Instance> aioGetOrNone(Object filter) {
    try {
      return Clj.aio(toInstance, "aio-get-or-none", m, filter(filter));
    } catch (Throwable t) {
      return Clj.failed(t);
    }
  }

  /**
   * Like {@link #aioGet(Class, Object)}, but yields {@code null} when nothing matches.
   *
   * @param type the record or POJO class
   * @param filter the filter
   * @param <R> the type
   * @return a future of the object or {@code null}
   */
  public <R> CompletableFuture<R> aioGetOrNone(Class<R> type, Object filter) {
    return Clj.guard(() -> Clj.aio(v -> asRecord(v, type), "aio-get-or-none", m, filter(filter)));
  }

  /**
   * Returns the instance matching the field values, creating it when there is none.
   *
   * @param filter field values by name
   * @return a future of the instance and whether it was created
   */
  public CompletableFuture<GetOrCreate> aioGetOrCreate(Map<String, ?> filter) {
    return aioGetOrCreate(filter, Map.of());
  }

  /**
   * Returns the instance matching the field values, creating it from them
   * merged over {@code defaults} when there is none.
   *
   * @param filter field values by name
   * @param defaults values used only when creating
   * @return a future of the instance and whether it was created
   */
  public CompletableFuture<GetOrCreate> aioGetOrCreate(Map<String, ?> filter, Map<String, ?> defaults) {
    return Clj.guard(() -> Clj.aio(v -> new GetOrCreate(instanceOf(RT.nth(v, 0)), RT.booleanCast(RT.nth(v, 1))),
        "aio-get-or-create", m, values(filter, false), Clj.opts("defaults", values(defaults, false))));
  }

  private CompletableFuture<Instance> save(Instance instance, Object opts) {
    return Clj.guard(() -> Clj.aio(v -> {
      instance.replace(v);
      return instance;
    }, "aio-save", m, data(instance), opts));
  }

  /**
   * Saves an instance: with a primary key, an UPDATE of the fields that
   * changed since it was loaded or saved (nothing when none did; every field
   * it holds for an instance built by hand); without one, an INSERT. The
   * instance then holds the saved values and key. Unlike peewee, updating a
   * row that is gone fails with {@link DoesNotExistException}.
   *
   * @param instance the instance
   * @return a future of the same instance, saved
   */
  public CompletableFuture<Instance> aioSave(Instance instance) {
    return Clj.guard(() -> save(instance, Clj.opts()));
  }

  /**
   * Like {@link #aioSave(Instance)}; {@code forceInsert} inserts even with a
   * primary key (to create a row with a key of your choice).
   *
   * @param instance the instance
   * @param forceInsert true to INSERT
   * @return a future of the same instance, saved
   */
  public CompletableFuture<Instance> aioSave(Instance instance, boolean forceInsert) {
    return Clj.guard(() -> save(instance, Clj.opts("force-insert", forceInsert ? Boolean.TRUE : null)));
  }

  /**
   * Like {@link #aioSave(Instance)}, writing only the named fields.
   *
   * @param instance the instance
   * @param fields the fields to write
   * @return a future of the same instance, saved
   */
  public CompletableFuture<Instance> aioSaveOnly(Instance instance, String... fields) {
    return Clj.guard(() -> save(instance, Clj.opts("only", Clj.refs(fields))));
  }

  /**
   * Saves a record (an UPDATE of every field when its key is set, else an
   * INSERT) and returns the saved row as the same record type.
   *
   * @param record the values
   * @param <R> the record type
   * @return a future of the saved row as a record
   */
  public <R extends Record> CompletableFuture<R> aioSave(R record) {
    return Clj.guard(() -> {
      Class<?> type = record.getClass();
      return Clj.aio(v -> asRecord(v, type), "aio-save", m, values(Records.toMap(record), true));
    });
  }

  /**
   * Deletes an instance's row by primary key.
   *
   * @param instance the instance
   * @return a future of the number of rows deleted
   */
  public CompletableFuture<Long> aioDeleteInstance(Instance instance) {
    return aioDeleteInstance(instance, false);
  }

  /**
   * Deletes an instance's row; {@code recursive} first deletes the rows that
   * reference it (and sets nullable references to NULL), in one transaction.
   *
   * @param instance the instance
   * @param recursive true to delete dependants first
   * @return a future of the number of rows deleted (for the instance itself)
   */
  public CompletableFuture<Long> aioDeleteInstance(Instance instance, boolean recursive) {
    return aioDeleteInstance(instance, recursive, false);
  }

  /**
   * Deletes an instance's row; {@code recursive} first deletes the rows that
   * reference it, in one transaction. Rows whose reference is nullable are
   * unlinked (set to NULL) unless {@code deleteNullable}, which deletes them
   * too.
   *
   * @param instance the instance
   * @param recursive true to delete dependants first
   * @param deleteNullable with {@code recursive}, true to delete the rows
   *     with a nullable reference as well instead of unlinking them
   * @return a future of the number of rows deleted (for the instance itself)
   */
  public CompletableFuture<Long> aioDeleteInstance(Instance instance, boolean recursive, boolean deleteNullable) {
    return Clj.guard(() -> Clj.aio(Model::toLong, "aio-delete-instance", m, data(instance),
        Clj.opts("recursive", recursive ? Boolean.TRUE : null, "delete-nullable", deleteNullable ? Boolean.TRUE : null)));
  }

  static IPersistentMap data(Instance instance) {
    return java.util.Objects.requireNonNull(instance, "Vireo: the instance is null").data();
  }

  static Long toLong(Object v) {
    return v == null ? null : ((Number) v).longValue();
  }

  /**
   * Loads a foreign-key relation into an instance: the raw key is replaced by
   * the referenced instance ({@link Instance#getInstance(String)}). No query
   * when it is already loaded.
   *
   * @param instance the instance (updated in place)
   * @param foreignKey the foreign-key field
   * @return a future of the same instance
   */
  public CompletableFuture<Instance> aioFetch(Instance instance, String foreignKey) {
    return Clj.guard(() -> Clj.aio(v -> {
      instance.replace(v);
      return instance;
    }, "aio-fetch", m, data(instance), Clj.key(foreignKey)));
  }

  // ------------------------------------------------------------ many-to-many

  /**
   * Returns the instances related through a many-to-many field (or the
   * backref another model declared), ordered by primary key.
   *
   * @param instance the instance
   * @param relation the many-to-many field or backref
   * @return a future of the related instances
   */
  public CompletableFuture<List<Instance>> aioRelated(Instance instance, String relation) {
    return Clj.guard(() -> {
      Keyword k = Clj.key(relation);
      Object data = data(instance);
      return Clj.aio(v -> new Model(Clj.call("vireo.java.bridge/related-model", m, k)).instances(v),
          "aio-related", m, data, k);
    });
  }

  /**
   * Links an instance to targets through a many-to-many relation, in one
   * transaction; existing links are kept.
   *
   * @param instance the instance
   * @param relation the many-to-many field or backref
   * @param targets instances or key values
   * @return a future of the number of links created
   */
  public CompletableFuture<Long> aioAdd(Instance instance, String relation, Object... targets) {
    return Clj.guard(() -> Clj.aio(Model::toLong, "aio-add", m, data(instance), Clj.key(relation), Clj.toClj(targets)));
  }

  /**
   * Unlinks targets from an instance.
   *
   * @param instance the instance
   * @param relation the many-to-many field or backref
   * @param targets instances or key values
   * @return a future of the number of links removed
   */
  public CompletableFuture<Long> aioRemove(Instance instance, String relation, Object... targets) {
    return Clj.guard(() -> Clj.aio(Model::toLong, "aio-remove", m, data(instance), Clj.key(relation), Clj.toClj(targets)));
  }

  /**
   * Unlinks every target of a many-to-many relation.
   *
   * @param instance the instance
   * @param relation the many-to-many field or backref
   * @return a future of the number of links removed
   */
  public CompletableFuture<Long> aioClear(Instance instance, String relation) {
    return Clj.guard(() -> Clj.aio(Model::toLong, "aio-clear", m, data(instance), Clj.key(relation)));
  }

  // ------------------------------------------------------------ queries

  /**
   * Starts a select of this model's rows. Items: none for every field, field
   * names ({@code "title"}, {@code "author.name"} for a joined model),
   * {@link Expr}s (with {@link Expr#as(String)}), or models joined in the
   * query (their instance nests under the foreign key).
   *
   * @param items the projection
   * @return the query
   */
  public SelectQuery select(Object... items) {
    Object[] forms = new Object[items.length];
    for (int i = 0; i < items.length; i++) {
      Object it = items[i];
      forms[i] = it instanceof String ? Clj.ref((String) it)
          : it instanceof Expr ? ((Expr) it).selectForm() : Clj.toClj(it);
    }
    return new SelectQuery(this, Clj.call("select", prepend(m, forms)));
  }

  private static Object[] prepend(Object first, Object[] rest) {
    Object[] a = new Object[rest.length + 1];
    a[0] = first;
    System.arraycopy(rest, 0, a, 1, rest.length);
    return a;
  }

  /**
   * Starts a select from raw SQL whose rows are this model's instances
   * (columns named like a field decode with its type).
   *
   * @param sql the statement (placeholders as the database expects)
   * @param params its parameters
   * @return the query
   */
  public SelectQuery raw(String sql, Object... params) {
    return new SelectQuery(this, Clj.call("raw", m, sql, Clj.toClj(params)));
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
   * Two models are equal when their Clojure values are: models built from
   * equal definitions are equal, whatever queries either has run.
   *
   * @param o another object
   * @return true when equal
   */
  @Override
  public boolean equals(Object o) {
    return o instanceof Model && clojure.lang.Util.equiv(m, ((Model) o).m);
  }

  /**
   * Returns a hash of the model value.
   *
   * @return the hash
   */
  @Override
  public int hashCode() {
    return clojure.lang.Util.hash(m);
  }

  /**
   * Returns e.g. {@code Model[PageBlock "pageblock"]}.
   *
   * @return a readable form
   */
  @Override
  public String toString() {
    return "Model[" + name() + " \"" + tableName() + "\"]";
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
   * @return the new instance
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public Instance create(Map<String, ?> values) {
    return Clj.sync(toInstance, "aio-create", m, values(values, false));
  }

  /**
   * Blocking {@link #aioGet(Object)}: {@code PageBlock.get(Map.of("key", "title"))}.
   *
   * @param filter a primary-key value, a map of field values or a {@link Where}
   * @return the matching instance
   * @throws DoesNotExistException when none matches
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public Instance get(Object filter) {
    return Clj.sync(toInstance, "aio-get", m, filter(filter));
  }

  /**
   * Blocking {@link #aioGetOrNone(Object)}.
   *
   * @param filter as {@link #get(Object)}
   * @return the matching instance, or {@code null}
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public Instance getOrNone(Object filter) {
    return Clj.sync(toInstance, "aio-get-or-none", m, filter(filter));
  }

  /**
   * Blocking {@link #aioGetOrCreate(Map)}.
   *
   * @param filter field name to value
   * @return the instance and whether it was created
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public GetOrCreate getOrCreate(Map<String, ?> filter) {
    return getOrCreate(filter, Map.of());
  }

  /**
   * Blocking {@link #aioGetOrCreate(Map, Map)}.
   *
   * @param filter field name to value
   * @param defaults values for a new row, beside the filter's
   * @return the instance and whether it was created
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public GetOrCreate getOrCreate(Map<String, ?> filter, Map<String, ?> defaults) {
    return Clj.sync(v -> new GetOrCreate(instanceOf(RT.nth(v, 0)), RT.booleanCast(RT.nth(v, 1))),
        "aio-get-or-create", m, values(filter, false), Clj.opts("defaults", values(defaults, false)));
  }

  /**
   * Blocking {@link #aioSave(Instance)}.
   *
   * @param instance the instance (it then holds the saved values)
   * @return the instance
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public Instance save(Instance instance) {
    return save(instance, false);
  }

  /**
   * Blocking {@link #aioSave(Instance, boolean)}.
   *
   * @param instance the instance (it then holds the saved values)
   * @param forceInsert insert even when it has a key
   * @return the instance
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public Instance save(Instance instance, boolean forceInsert) {
    return Clj.sync(v -> {
      instance.replace(v);
      return instance;
    }, "aio-save", m, data(instance), Clj.opts("force-insert", forceInsert ? Boolean.TRUE : null));
  }

  /**
   * Blocking {@link #aioDeleteInstance(Instance, boolean, boolean)}.
   *
   * @param instance the instance
   * @param recursive delete (or unlink) the rows that reference it first
   * @param deleteNullable delete the nullable references too
   * @return the number of rows deleted
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public long deleteInstance(Instance instance, boolean recursive, boolean deleteNullable) {
    return Clj.sync(Model::toLong, "aio-delete-instance", m, data(instance),
        Clj.opts("recursive", recursive ? Boolean.TRUE : null, "delete-nullable", deleteNullable ? Boolean.TRUE : null));
  }

  /**
   * Blocking {@link #aioDeleteInstance(Instance)}.
   *
   * @param instance the instance
   * @return the number of rows deleted
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public long deleteInstance(Instance instance) {
    return deleteInstance(instance, false, false);
  }

  /**
   * Blocking {@link #aioFetch(Instance, String)}.
   *
   * @param instance the instance (it then holds the loaded relation)
   * @param foreignKey the foreign-key field
   * @return the instance
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public Instance fetch(Instance instance, String foreignKey) {
    return Clj.sync(v -> {
      instance.replace(v);
      return instance;
    }, "aio-fetch", m, data(instance), Clj.key(foreignKey));
  }

  /**
   * Blocking {@link #aioRelated(Instance, String)}.
   *
   * @param instance the instance
   * @param relation the many-to-many field or backref
   * @return the related instances, by primary key
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public List<Instance> related(Instance instance, String relation) {
    Keyword k = Clj.key(relation);
    return Clj.sync(v -> new Model(Clj.call("vireo.java.bridge/related-model", m, k)).instances(v),
        "aio-related", m, data(instance), k);
  }

  /**
   * Blocking {@link #aioAdd(Instance, String, Object...)}.
   *
   * @param instance the instance
   * @param relation the many-to-many relation
   * @param targets instances or keys
   * @return the number of links created
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public long add(Instance instance, String relation, Object... targets) {
    return Clj.sync(Model::toLong, "aio-add", m, data(instance), Clj.key(relation), Clj.toClj(targets));
  }

  /**
   * Blocking {@link #aioRemove(Instance, String, Object...)}.
   *
   * @param instance the instance
   * @param relation the many-to-many relation
   * @param targets instances or keys
   * @return the number of links removed
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public long remove(Instance instance, String relation, Object... targets) {
    return Clj.sync(Model::toLong, "aio-remove", m, data(instance), Clj.key(relation), Clj.toClj(targets));
  }

  /**
   * Blocking {@link #aioClear(Instance, String)}.
   *
   * @param instance the instance
   * @param relation the many-to-many relation
   * @return the number of links removed
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public long clear(Instance instance, String relation) {
    return Clj.sync(Model::toLong, "aio-clear", m, data(instance), Clj.key(relation));
  }

  /**
   * Blocking {@link #aioCreate(Record)}.
   *
   * @param record the values, one per component
   * @param <R> the record type
   * @return the created row as the same record type
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public <R extends Record> R create(R record) {
    Class<?> type = record.getClass();
    return Clj.sync(v -> asRecord(v, type), "aio-create", m, values(Records.toMap(record), true));
  }

  /**
   * Blocking {@link #aioGet(Class, Object)}.
   *
   * @param type the record or bean class to fill
   * @param filter as {@link #get(Object)}
   * @param <R> the type
   * @return the matching row as {@code type}
   * @throws DoesNotExistException when none matches
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public <R> R get(Class<R> type, Object filter) {
    return Clj.sync(v -> asRecord(v, type), "aio-get", m, filter(filter));
  }

  /**
   * Blocking {@link #aioGetOrNone(Class, Object)}.
   *
   * @param type the record or bean class to fill
   * @param filter as {@link #get(Object)}
   * @param <R> the type
   * @return the matching row as {@code type}, or {@code null}
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public <R> R getOrNone(Class<R> type, Object filter) {
    return Clj.sync(v -> asRecord(v, type), "aio-get-or-none", m, filter(filter));
  }

  /**
   * Blocking {@link #aioSave(Record)}.
   *
   * @param record the values, with the primary key to update (none: insert)
   * @param <R> the record type
   * @return the saved row as the same record type
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public <R extends Record> R save(R record) {
    Class<?> type = record.getClass();
    return Clj.sync(v -> asRecord(v, type), "aio-save", m, values(Records.toMap(record), true));
  }

  /**
   * Blocking {@link #aioSaveOnly(Instance, String...)}.
   *
   * @param instance the instance (it then holds the saved values)
   * @param fields the fields to write
   * @return the instance
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public Instance saveOnly(Instance instance, String... fields) {
    return Clj.sync(v -> {
      instance.replace(v);
      return instance;
    }, "aio-save", m, data(instance), Clj.opts("only", Clj.refs(fields)));
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
}
