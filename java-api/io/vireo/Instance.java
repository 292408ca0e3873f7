package io.vireo;

import clojure.lang.IPersistentMap;
import clojure.lang.IPersistentVector;
import clojure.lang.Keyword;
import clojure.lang.PersistentArrayMap;
import clojure.lang.RT;
import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * A row of a model: field values by name, with typed getters, a fluent
 * {@link #set(String, Object)} and {@link #toMap()}.
 *
 * <p>An instance wraps the same immutable map a Clojure user gets; {@code set}
 * swaps in a changed copy. An instance read from (or saved to) the database
 * remembers the values it had then, so {@link #aioSave()} writes only the
 * fields that changed, and nothing when none did.
 *
 * <p>Field names are the model's: a model defined in Java uses the names
 * given to its builder ({@code "createdAt"}); one defined in Clojure uses its
 * keyword names ({@code "created-at"}). Values are plain Java types:
 * {@code Long} for integer fields, {@code String}, {@code Boolean},
 * {@code Double}, {@code BigDecimal}, {@code UUID}, {@code byte[]},
 * {@code java.time} values, and {@code Map}/{@code List} for JSON fields.
 * A loaded relation (a joined or fetched foreign key, a prefetched backref) is
 * an {@code Instance}, or a {@code List} of them.
 *
 * <pre>{@code
 * Instance title = PageBlock.aioGet(Map.of("key", "title")).join();
 * title.set("text", "changed").aioSave().join();
 * }</pre>
 */
public final class Instance {
  private volatile IPersistentMap data;
  private final @Nullable Model<Instance> model;
  /** The models of the instances joined into this one by its query, or null. */
  private final Nesting nesting;

  Instance(@Nullable Model<Instance> model, Object data) {
    this(model, data, null);
  }

  Instance(@Nullable Model<Instance> model, @Nullable Object data, @Nullable Nesting nesting) {
    this.model = model;
    this.data = data == null ? PersistentArrayMap.EMPTY : (IPersistentMap) data;
    this.nesting = nesting;
  }

  /**
   * Creates an instance of no model from field values (no I/O). To fill in a
   * model's defaults, use {@link Model#instance(Map)}.
   *
   * @param values field values by name
   * @return a new instance
   */
  public static Instance of(Map<String, ?> values) {
    return new Instance(null, Clj.map(values));
  }

  /**
   * Creates an instance of no model from a record's components or a POJO's
   * properties (getters and public fields), by name.
   *
   * @param recordOrPojo the object to read
   * @return a new instance
   */
  public static Instance from(Object recordOrPojo) {
    return new Instance(null, Clj.map(Records.toMap(recordOrPojo)));
  }

  IPersistentMap data() {
    return data;
  }

  void replace(Object newData) {
    this.data = (IPersistentMap) newData;
  }

  /**
   * Returns the model this instance belongs to.
   *
   * @return the model, or {@code null} for an instance made with {@link #of(Map)}
   *     or {@link #from(Object)}; a related instance (joined, fetched,
   *     prefetched, from {@link Model#aioRelated}) has the related model
   */
  public @Nullable Model<Instance> model() {
    return model;
  }

  private Model<Instance> requireModel(String op) {
    if (model == null) {
      throw new IllegalStateException("Vireo: " + op + " needs the instance's model, and this instance has none"
          + " (made with Instance.of or Instance.from); use Model." + op + "(instance)");
    }
    return model;
  }

  /**
   * Tells whether the instance holds a value (possibly null) for a field.
   *
   * @param key the field name
   * @return true when the key is present
   */
  public boolean has(String key) {
    return data.containsKey(Clj.key(key));
  }

  /**
   * Returns the names of the fields this instance holds.
   *
   * @return the field names, in order
   */
  public Set<String> keys() {
    Set<String> s = new LinkedHashSet<>();
    for (Object o : data) {
      s.add(Clj.keyName(((Map.Entry<?, ?>) o).getKey()));
    }
    return s;
  }

  /**
   * Returns a field's value as a Java value: a nested map that is a loaded
   * relation is an {@code Instance}, a vector of them a {@code List<Instance>},
   * JSON a {@code Map}/{@code List}.
   *
   * @param key the field name
   * @return the value, or {@code null}
   */
  public @Nullable Object get(String key) {
    Object raw = data.valAt(Clj.key(key));
    if (raw == null) {
      return null;
    }
    boolean json = model != null && "json".equals(model.fieldType(key));
    if (!json && raw instanceof IPersistentMap) {
      Nesting joined = nesting == null ? null : nesting.child(key);
      Model<Instance> related = joined != null ? joined.model : model == null ? null : model.relatedModel(key);
      return new Instance(related, raw, joined);
    }
    if (!json && raw instanceof IPersistentVector && isVectorOfMaps(raw)) {
      return instances(raw, key);
    }
    return Clj.toJava(raw);
  }

  private static boolean isKeyType(Class<?> type) {
    return Number.class.isAssignableFrom(type) || type == String.class || type == UUID.class;
  }

  private static boolean isVectorOfMaps(Object v) {
    IPersistentVector vec = (IPersistentVector) v;
    if (vec.count() == 0) {
      return false;
    }
    for (Object x : (Iterable<?>) vec) {
      if (!(x instanceof IPersistentMap)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Returns a field's value converted to a type: any type the value already
   * has, and numeric conversions ({@code Long} to {@code Integer}, …),
   * records and POJOs for a loaded relation. A loaded relation read as a
   * number, string or UUID yields the related instance's primary key, so
   * {@code getLong("author")} is the author's id whether or not the relation
   * is loaded.
   *
   * @param key the field name
   * @param type the wanted type
   * @param <T> the wanted type
   * @return the value, or {@code null}
   */
  public <T> @Nullable T get(String key, Class<T> type) {
    Object v = get(key);
    if (v == null || type.isInstance(v)) {
      return type.cast(v);
    }
    if (v instanceof Instance && isKeyType(type)) {
      // a loaded relation read as a key: the related instance's primary key
      Instance rel = (Instance) v;
      v = rel.key();
      if (v == null || type.isInstance(v)) {
        return type.cast(v);
      }
    } else if (v instanceof Instance && !Map.class.isAssignableFrom(type)) {
      return ((Instance) v).as(type);
    }
    if (v instanceof Number) {
      Number n = (Number) v;
      Object c = null;
      if (type == Integer.class) {
        c = Math.toIntExact(n.longValue());
      } else if (type == Long.class) {
        c = n.longValue();
      } else if (type == Double.class) {
        c = n.doubleValue();
      } else if (type == Short.class) {
        c = (short) n.longValue();
      } else if (type == Float.class) {
        c = n.floatValue();
      } else if (type == BigDecimal.class) {
        c = new BigDecimal(n.toString());
      }
      if (c != null) {
        return type.cast(c);
      }
    }
    if (v instanceof Instance) {
      return type.cast(((Instance) v).toMap());
    }
    throw new ClassCastException("Vireo: field " + key + " holds a " + v.getClass().getName()
        + ", not a " + type.getName());
  }

  /**
   * Returns a text field's value.
   *
   * @param key the field name
   * @return the value, or {@code null}
   */
  public @Nullable String getString(String key) {
    return get(key, String.class);
  }

  /**
   * Returns an integer field's value (Vireo reads every integer type as a {@code Long}).
   *
   * @param key the field name
   * @return the value, or {@code null}
   */
  public @Nullable Long getLong(String key) {
    return get(key, Long.class);
  }

  /**
   * Returns an integer field's value as an {@code Integer}.
   *
   * @param key the field name
   * @return the value, or {@code null}
   * @throws ArithmeticException when the value does not fit an int
   */
  public @Nullable Integer getInt(String key) {
    return get(key, Integer.class);
  }

  /**
   * Returns a floating-point field's value.
   *
   * @param key the field name
   * @return the value, or {@code null}
   */
  public @Nullable Double getDouble(String key) {
    return get(key, Double.class);
  }

  /**
   * Returns a boolean field's value.
   *
   * @param key the field name
   * @return the value, or {@code null}
   */
  public @Nullable Boolean getBoolean(String key) {
    return get(key, Boolean.class);
  }

  /**
   * Returns a decimal field's value.
   *
   * @param key the field name
   * @return the value, or {@code null}
   */
  public @Nullable BigDecimal getBigDecimal(String key) {
    return get(key, BigDecimal.class);
  }

  /**
   * Returns a UUID field's value.
   *
   * @param key the field name
   * @return the value, or {@code null}
   */
  public @Nullable UUID getUuid(String key) {
    return get(key, UUID.class);
  }

  /**
   * Returns a bytes field's value.
   *
   * @param key the field name
   * @return the value, or {@code null}
   */
  public byte @Nullable [] getBytes(String key) {
    return get(key, byte[].class);
  }

  /**
   * Returns a date field's value.
   *
   * @param key the field name
   * @return the value, or {@code null}
   */
  public @Nullable LocalDate getLocalDate(String key) {
    return get(key, LocalDate.class);
  }

  /**
   * Returns a time field's value.
   *
   * @param key the field name
   * @return the value, or {@code null}
   */
  public @Nullable LocalTime getLocalTime(String key) {
    return get(key, LocalTime.class);
  }

  /**
   * Returns a datetime field's value.
   *
   * @param key the field name
   * @return the value, or {@code null}
   */
  public @Nullable LocalDateTime getLocalDateTime(String key) {
    return get(key, LocalDateTime.class);
  }

  /**
   * Returns a timestamptz field's value (in UTC).
   *
   * @param key the field name
   * @return the value, or {@code null}
   */
  public @Nullable OffsetDateTime getOffsetDateTime(String key) {
    return get(key, OffsetDateTime.class);
  }

  /**
   * Returns a loaded relation: the instance a joined or fetched foreign key
   * holds. An unloaded foreign key holds its raw key instead; read it with
   * {@link #get(String)} or {@link #getLong(String)}.
   *
   * @param key the foreign-key field (or join attribute)
   * @return the related instance, or {@code null}
   * @throws ClassCastException when the relation is not loaded
   */
  public @Nullable Instance getInstance(String key) {
    return get(key, Instance.class);
  }

  /**
   * Returns a prefetched backref: the list of instances that reference this one.
   *
   * @param key the backref name (e.g. {@code "books"})
   * @return the instances (empty when the key is absent or empty)
   */
  public List<Instance> getInstances(String key) {
    Object raw = data.valAt(Clj.key(key));
    return raw == null ? new ArrayList<>() : instances(raw, key);
  }

  /** A prefetched backref's rows, as instances of the model declaring it. */
  private List<Instance> instances(Object raw, String key) {
    Model<Instance> related = model == null ? null : model.backrefModel(key);
    List<Instance> l = new ArrayList<>();
    for (Object x : (Iterable<?>) raw) {
      l.add(new Instance(related, x));
    }
    return l;
  }

  /**
   * Sets a field's value and returns this instance (the change is saved by
   * {@link #aioSave()} or {@link Model#aioSave(Object)}). A value can be
   * another instance, for a foreign key.
   *
   * @param key the field name
   * @param value the value (Java types as for {@link #get(String)})
   * @return this instance
   */
  public Instance set(String key, Object value) {
    Keyword k = Clj.key(key);
    IPersistentMap d;
    Object v = Clj.toClj(value);
    do {
      d = data;
    } while (!compareAndSet(d, d.assoc(k, v)));
    return this;
  }

  private synchronized boolean compareAndSet(IPersistentMap expected, IPersistentMap next) {
    if (data != expected) {
      return false;
    }
    data = next;
    return true;
  }

  /**
   * Returns the values as a new mutable map: keys are field names, nested
   * instances become maps too.
   *
   * @return the values
   */
  @SuppressWarnings("unchecked")
  public Map<String, Object> toMap() {
    return (Map<String, Object>) Clj.toJava(data);
  }

  /**
   * Returns the values as a record (by component name) or a POJO (by setter
   * or public field); numbers are converted to the component's type
   * ({@code Long} to {@code int}, …). A component {@code createdAt} reads the
   * field {@code createdAt}, else {@code created-at}.
   *
   * @param type the record or POJO class
   * @param <R> its type
   * @return a new object
   */
  public <R> R as(Class<R> type) {
    return Records.fromInstance(this, type);
  }

  /** The primary key, also of an instance of no model (its {@code "id"}): a loaded relation read as a key. */
  @Nullable Object key() {
    return model != null ? model.getId(this) : get("id");
  }

  /**
   * Returns the primary-key value (a {@code List} for a composite key).
   *
   * @return the key, or {@code null} before the instance is saved
   * @throws IllegalStateException for an instance of no model ({@link #of(Map)})
   */
  public @Nullable Object getId() {
    return requireModel("getId").getId(this);
  }

  /**
   * Saves this instance through its model (see {@link Model#aioSave(Object)}):
   * an update of the changed fields, or an insert when it has no key yet. The
   * instance then holds the saved values (and the new key). For an instance
   * of no model the future fails with {@link IllegalStateException}.
   *
   * @return a future of this instance
   */
  public CompletableFuture<Instance> aioSave() {
    return Clj.guard(() -> requireModel("aioSave").aioSave(this));
  }

  /**
   * Deletes this instance's row (see {@link Model#aioDeleteInstance(Object)}).
   *
   * @return a future of the number of rows deleted
   */
  public CompletableFuture<Long> aioDeleteInstance() {
    return Clj.guard(() -> requireModel("aioDeleteInstance").aioDeleteInstance(this));
  }

  /**
   * Loads a foreign-key relation into this instance (see {@link Model#aioFetch(Object, String)}).
   *
   * @param foreignKey the foreign-key field
   * @return a future of this instance, the relation loaded
   */
  public CompletableFuture<Instance> aioFetch(String foreignKey) {
    return Clj.guard(() -> requireModel("aioFetch").aioFetch(this, foreignKey));
  }

  /**
   * Returns the Clojure map this instance wraps (metadata included), for
   * Clojure code.
   *
   * @return a persistent map with keyword keys
   */
  public Object toClojure() {
    return data;
  }

  /**
   * Two instances are equal when they hold equal values.
   *
   * @param o another object
   * @return true when equal
   */
  @Override
  public boolean equals(Object o) {
    return o instanceof Instance && RT.booleanCast(clojure.lang.Util.equiv(data, ((Instance) o).data));
  }

  /**
   * Returns a hash of the values.
   *
   * @return the hash
   */
  @Override
  public int hashCode() {
    return Objects.hashCode(data);
  }

  /**
   * Returns the model name and values, e.g. {@code PageBlock{id=1, key=title, text=}}.
   *
   * @return a readable form
   */
  @Override
  public String toString() {
    return (model == null ? "Instance" : model.name()) + toMap();
  }

  /**
   * Blocking {@link #aioSave()} (needs {@link Database#allowSync()}).
   *
   * @return this instance, holding the saved values
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public Instance save() {
    return requireModel("save").save(this);
  }

  /**
   * Blocking {@link #aioDeleteInstance()} (needs {@link Database#allowSync()}).
   *
   * @return the number of rows deleted
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public long deleteInstance() {
    return requireModel("deleteInstance").deleteInstance(this);
  }

  /**
   * Blocking {@link #aioFetch(String)} (needs {@link Database#allowSync()}).
   *
   * @param foreignKey the foreign-key field
   * @return this instance, the relation loaded
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public Instance fetch(String foreignKey) {
    return requireModel("fetch").fetch(this, foreignKey);
  }
}
