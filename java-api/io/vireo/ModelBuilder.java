package io.vireo;

import clojure.lang.PersistentVector;
import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * Builds a {@link Model} from Java, over the same definition data a Clojure
 * {@code defmodel} takes. Fields keep their order; without a primary-key
 * field an auto-increment {@code id} comes first.
 *
 * <p><b>Typed</b> ({@link Model#builder(Class)}): the model is named after the
 * class, and its fields are the record's components (a POJO's properties:
 * its non-static fields that have a setter, in declaration order), each typed
 * from the component's Java type:
 *
 * <table>
 * <caption>Inferred field types</caption>
 * <tr><th>Java type</th><th>field</th></tr>
 * <tr><td>{@code String}</td><td>{@code text}</td></tr>
 * <tr><td>{@code Long}, {@code long}</td><td>{@code bigint}</td></tr>
 * <tr><td>{@code Integer}, {@code int}</td><td>{@code integer}</td></tr>
 * <tr><td>{@code Short}, {@code short}</td><td>{@code smallint}</td></tr>
 * <tr><td>{@code Boolean}, {@code boolean}</td><td>{@code boolean}</td></tr>
 * <tr><td>{@code Double}, {@code double}</td><td>{@code double}</td></tr>
 * <tr><td>{@code Float}, {@code float}</td><td>{@code float}</td></tr>
 * <tr><td>{@code UUID}</td><td>{@code uuid}</td></tr>
 * <tr><td>{@code LocalDateTime}</td><td>{@code datetime}</td></tr>
 * <tr><td>{@code OffsetDateTime}</td><td>{@code timestamptz}</td></tr>
 * <tr><td>{@code LocalDate}</td><td>{@code date}</td></tr>
 * <tr><td>{@code LocalTime}</td><td>{@code time}</td></tr>
 * <tr><td>{@code byte[]}</td><td>{@code bytes}</td></tr>
 * <tr><td>{@code Map}, {@code List}</td><td>{@code json}</td></tr>
 * <tr><td>an enum</td><td>{@code char} holding the constant's name (as long as the
 *     longest name, at least 32), read back as the constant</td></tr>
 * </table>
 *
 * <p>A primitive component is NOT NULL; a boxed (reference) one is nullable.
 * A component {@code id} of type {@code Long} ({@code Integer}) is an
 * auto-increment primary key when no other field is one. {@code BigDecimal}
 * has no inferred precision: give it with {@link #field(Property, Field)}
 * ({@code Field.decimal(12, 2)}). Another type fails in {@link #build()} with
 * a {@link VireoException} of type {@link ErrorType#MODEL_ERROR} naming the component. An override replaces the
 * inferred field whole (say {@code nullable()} there when it should be).
 *
 * <pre>{@code
 * record Block(Long id, String key, String text) {}
 * Model<Block> Blocks = Model.builder(Block.class)
 *     .database(db)
 *     .field(Block::key, Field.charField(40).unique())
 *     .build();
 * }</pre>
 *
 * <p><b>Dynamic</b> ({@link Model#builder(String)}): every field is given;
 * {@link #build()} makes a {@code Model<Instance>}, {@link #build(Class)} maps
 * the same definition onto a record or POJO class.
 *
 * <pre>{@code
 * Model<Instance> PageBlock = Model.builder("PageBlock")
 *     .database(db)
 *     .field("key", Field.charField(40).unique())
 *     .field("text", Field.text().defaultValue(""))
 *     .build();
 * }</pre>
 *
 * @param <R> the row type of the model it builds
 */
public final class ModelBuilder<R> {
  private final String name;
  private final @Nullable Class<R> rowClass;
  /** Fields given by name, in order: the whole definition (dynamic) or overrides and extra fields (typed). */
  private final Map<String, Field> fields = new LinkedHashMap<>();
  /** The fields named by property references (typed): each must be a component. */
  private final List<String> propertyFields = new ArrayList<>();
  private final List<Object> indexes = new ArrayList<>();
  private @Nullable Object database;
  private @Nullable String table;
  private @Nullable Object primaryKey;

  ModelBuilder(String name, @Nullable Class<R> rowClass) {
    this.name = name;
    this.rowClass = rowClass;
  }

  /**
   * Sets the database the model's operations run on.
   *
   * @param database the database
   * @return this builder
   */
  public ModelBuilder<R> database(Database database) {
    this.database = database.toClojure();
    return this;
  }

  /**
   * Sets the table name (default: the lower-cased model name).
   *
   * @param table the table
   * @return this builder
   */
  public ModelBuilder<R> table(String table) {
    this.table = table;
    return this;
  }

  /**
   * Adds a field. Its name is the name rows, filters and queries use. On a
   * typed builder a name that is a component overrides its inferred field;
   * another name adds a field the record does not hold (a column it never
   * reads, filled by its default).
   *
   * @param name the field name
   * @param field its specification
   * @return this builder
   */
  public ModelBuilder<R> field(String name, Field field) {
    java.util.Objects.requireNonNull(field, "Vireo: the field specification of " + name + " is null");
    fields.remove(name); // a field given again moves to the end, like a new one
    fields.put(name, field);
    return this;
  }

  /**
   * Overrides the field of a component, named by a method reference the
   * compiler checks: {@code .field(Block::key, Field.charField(40).unique())}.
   *
   * @param property the component's accessor (a POJO's getter)
   * @param field its specification, replacing the inferred one whole
   * @return this builder
   * @throws IllegalArgumentException when {@code property} is not a method reference
   */
  public ModelBuilder<R> field(Property<R, ?> property, Field field) {
    String n = Properties.of(property);
    propertyFields.add(n);
    return field(n, field);
  }

  /**
   * Declares a composite primary key over two or more fields.
   *
   * @param fieldNames the key's fields, in order
   * @return this builder
   */
  public ModelBuilder<R> primaryKey(String... fieldNames) {
    this.primaryKey = Clj.refs(fieldNames);
    return this;
  }

  /**
   * Adds a multi-column index.
   *
   * @param unique true for a unique index
   * @param fieldNames the indexed fields, in order
   * @return this builder
   */
  public ModelBuilder<R> index(boolean unique, String... fieldNames) {
    indexes.add(Clj.opts("fields", Clj.refs(fieldNames), "unique", unique ? Boolean.TRUE : null));
    return this;
  }

  /**
   * Builds the model, checking the definition, and registers it like a
   * Clojure {@code defmodel} ({@code vireo.core/register-model!}): the models
   * it references learn its backrefs and many-to-many backrefs, and a later
   * model of the same name replaces it there.
   *
   * @return the model
   * @throws VireoException ({@link ErrorType#MODEL_ERROR}) for a bad definition (an
   *     unsupported component type among them), naming the model and field
   */
  public Model<R> build() {
    return rowClass == null ? build0(RowType.of(castInstance())) : build0(RowType.of(rowClass));
  }

  @SuppressWarnings("unchecked")
  private Class<R> castInstance() {
    return (Class<R>) (Class<?>) Instance.class;
  }

  /**
   * Builds the model like {@link #build()} and maps its rows onto a record or
   * POJO class: an explicit definition for a record whose fields are not
   * inferred (a Clojure-style model, a table you do not own). Components are
   * matched by name (a component {@code createdAt} reads the field
   * {@code createdAt}, else {@code created-at}).
   *
   * @param type the record or POJO class
   * @param <T> the row type
   * @return the model
   * @throws VireoException ({@link ErrorType#MODEL_ERROR}) for a bad definition
   */
  public <T> Model<T> build(Class<T> type) {
    return build0(RowType.of(type));
  }

  private <T> Model<T> build0(RowType<T> rows) {
    List<Object> fs = new ArrayList<>();
    if (rowClass != null) {
      inferFields(rowClass, fs);
    } else {
      for (Map.Entry<String, Field> e : fields.entrySet()) {
        fs.add(Clj.key(e.getKey()));
        fs.add(e.getValue().toClojure());
      }
    }
    Object def = Clj.opts(
        "fields", PersistentVector.create(fs),
        "database", database,
        "table", table,
        "primary-key", primaryKey,
        "indexes", indexes.isEmpty() ? null : PersistentVector.create(indexes));
    // registered like a Clojure defmodel: backrefs and many-to-many backrefs
    // of this model become known to the models it references
    return Model.wrap(Clj.call("register-model!", Clj.call("model", name, def)), rows);
  }

  // ------------------------------------------------------------ inference

  /** A component (POJO property) with its Java type. */
  private static final class Component {
    final String name;
    final Class<?> type;

    Component(String name, Class<?> type) {
      this.name = name;
      this.type = type;
    }
  }

  private void inferFields(Class<R> type, List<Object> out) {
    List<Component> components = components(type);
    Map<String, Component> byName = new LinkedHashMap<>();
    for (Component c : components) {
      byName.put(c.name, c);
    }
    for (String n : propertyFields) {
      if (!byName.containsKey(n)) {
        throw error(n, "the property names no component of " + type.getName()
            + " (its components: " + String.join(", ", byName.keySet()) + ")");
      }
    }
    boolean otherKey = primaryKey != null;
    for (Field f : fields.values()) {
      otherKey |= f.isPrimaryKey();
    }
    for (Component c : components) {
      Field f = fields.get(c.name);
      if (f == null) {
        f = infer(c, otherKey);
      }
      out.add(Clj.key(c.name));
      out.add(f.toClojure());
    }
    for (Map.Entry<String, Field> e : fields.entrySet()) {
      if (!byName.containsKey(e.getKey())) {
        out.add(Clj.key(e.getKey()));
        out.add(e.getValue().toClojure());
      }
    }
  }

  private List<Component> components(Class<R> type) {
    List<Component> l = new ArrayList<>();
    if (type.isRecord()) {
      for (RecordComponent rc : type.getRecordComponents()) {
        l.add(new Component(rc.getName(), rc.getType()));
      }
      return l;
    }
    if (type.isInterface() || Modifier.isAbstract(type.getModifiers()) || type.isEnum() || type.isArray()) {
      throw error(null, type.getName() + " is not a record or a class with a no-argument constructor and setters");
    }
    for (java.lang.reflect.Field f : type.getDeclaredFields()) {
      if (Modifier.isStatic(f.getModifiers()) || f.isSynthetic()) {
        continue;
      }
      String setter = "set" + Character.toUpperCase(f.getName().charAt(0)) + f.getName().substring(1);
      try {
        type.getMethod(setter, f.getType());
      } catch (NoSuchMethodException e) {
        continue; // not a property: no setter to fill it
      }
      l.add(new Component(f.getName(), f.getType()));
    }
    if (l.isEmpty()) {
      throw error(null, type.getName() + " has no properties (non-static fields with a public setter)");
    }
    return l;
  }

  private Field infer(Component c, boolean otherKey) {
    Class<?> t = c.type;
    boolean primitive = t.isPrimitive();
    if ("id".equals(c.name) && !otherKey && (t == Long.class || t == Integer.class)) {
      return t == Long.class ? Field.bigAuto() : Field.auto();
    }
    Field f;
    if (t == String.class) {
      f = Field.text();
    } else if (t == Long.class || t == long.class) {
      f = Field.bigint();
    } else if (t == Integer.class || t == int.class) {
      f = Field.integer();
    } else if (t == Short.class || t == short.class) {
      f = Field.smallint();
    } else if (t == Boolean.class || t == boolean.class) {
      f = Field.bool();
    } else if (t == Double.class || t == double.class) {
      f = Field.doubleField();
    } else if (t == Float.class || t == float.class) {
      f = Field.floatField();
    } else if (t == UUID.class) {
      f = Field.uuid();
    } else if (t == LocalDateTime.class) {
      f = Field.datetime();
    } else if (t == OffsetDateTime.class) {
      f = Field.timestamptz();
    } else if (t == LocalDate.class) {
      f = Field.date();
    } else if (t == LocalTime.class) {
      f = Field.time();
    } else if (t == byte[].class) {
      f = Field.bytes();
    } else if (Map.class.isAssignableFrom(t) || List.class.isAssignableFrom(t)) {
      f = Field.json();
    } else if (t.isEnum()) {
      int longest = 32;
      for (Object constant : t.getEnumConstants()) {
        longest = Math.max(longest, ((Enum<?>) constant).name().length());
      }
      f = Field.charField(longest);
    } else if (t == BigDecimal.class) {
      throw error(c.name, "a BigDecimal component needs its precision and scale: "
          + ".field(" + rowName() + "::" + c.name + ", Field.decimal(precision, scale))");
    } else {
      throw error(c.name, "the component's type " + t.getName() + " has no field type; supported: String, "
          + "Long, Integer, Short, Boolean, Double, Float (or their primitives), BigDecimal (with an override), "
          + "UUID, LocalDateTime, OffsetDateTime, LocalDate, LocalTime, byte[], Map, List and enums; "
          + "or override it with .field(" + rowName() + "::" + c.name + ", Field....)");
    }
    return primitive ? f : f.nullable();
  }

  private String rowName() {
    return rowClass == null ? name : rowClass.getSimpleName();
  }

  private VireoException error(@Nullable String field, String message) {
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("model", name);
    if (field != null) {
      data.put("field", field);
    }
    return VireoException.of(ErrorType.MODEL_ERROR,
        "Model " + name + (field == null ? "" : ", field " + field) + ": " + message, null, null, data, null);
  }
}
