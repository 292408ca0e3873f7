package io.vireo;

import clojure.lang.AFunction;
import clojure.lang.Keyword;
import io.vireo.exception.CheckViolationException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A field specification for {@link ModelBuilder#field(String, Field)}: a type
 * made by one of the static factories, refined by the fluent options (each
 * returns this field). The column is the field name ({@code "created-at"}
 * becomes {@code created_at}) unless {@link #column(String)} says otherwise.
 *
 * <pre>{@code
 * Model.builder("PageBlock")
 *     .field("key", Field.charField(40).unique())
 *     .field("text", Field.text().defaultValue(""))
 * }</pre>
 */
public final class Field {
  private final Map<String, Object> spec = new LinkedHashMap<>();

  private Field(String type) {
    this(Keyword.intern(type));
  }

  private Field(Keyword type) {
    spec.put("type", type);
  }

  /**
   * Returns a field of any Vireo type by its Clojure name.
   *
   * @param type e.g. {@code "char"}, {@code "timestamptz"}, {@code "big-auto"}
   * @return the field
   */
  public static Field ofType(String type) {
    return new Field(type);
  }

  /**
   * Returns a field of a built-in type.
   *
   * @param type the type
   * @return the field
   */
  public static Field ofType(FieldType type) {
    return new Field(Clj.keyword(type));
  }

  /**
   * Returns a {@code VARCHAR(maxLength)} field (values are {@code String}s;
   * longer ones are refused before any SQL is sent).
   *
   * @param maxLength the maximum length
   * @return the field
   */
  public static Field charField(int maxLength) {
    return new Field("char").option("max-length", (long) maxLength);
  }

  /**
   * Returns a text field ({@code String}).
   *
   * @return the field
   */
  public static Field text() {
    return new Field("text");
  }

  /**
   * Returns a 32-bit integer field (read as {@code Long}).
   *
   * @return the field
   */
  public static Field integer() {
    return new Field("integer");
  }

  /**
   * Returns a 64-bit integer field ({@code Long}).
   *
   * @return the field
   */
  public static Field bigint() {
    return new Field("bigint");
  }

  /**
   * Returns a 16-bit integer field (read as {@code Long}).
   *
   * @return the field
   */
  public static Field smallint() {
    return new Field("smallint");
  }

  /**
   * Returns a boolean field ({@code Boolean}).
   *
   * @return the field
   */
  public static Field bool() {
    return new Field("boolean");
  }

  /**
   * Returns a double-precision field ({@code Double}).
   *
   * @return the field
   */
  public static Field doubleField() {
    return new Field("double");
  }

  /**
   * Returns a single-precision field (read as {@code Double}).
   *
   * @return the field
   */
  public static Field floatField() {
    return new Field("float");
  }

  /**
   * Returns a decimal field ({@code BigDecimal}).
   *
   * @param precision the total number of digits
   * @param scale the digits after the point
   * @return the field
   */
  public static Field decimal(int precision, int scale) {
    return new Field("decimal").option("precision", (long) precision).option("scale", (long) scale);
  }

  /**
   * Returns a UUID field ({@code java.util.UUID}).
   *
   * @return the field
   */
  public static Field uuid() {
    return new Field("uuid");
  }

  /**
   * Returns a datetime field without zone ({@code LocalDateTime}).
   *
   * @return the field
   */
  public static Field datetime() {
    return new Field("datetime");
  }

  /**
   * Returns a timestamp-with-zone field ({@code OffsetDateTime}, kept in UTC).
   *
   * @return the field
   */
  public static Field timestamptz() {
    return new Field("timestamptz");
  }

  /**
   * Returns a date field ({@code LocalDate}).
   *
   * @return the field
   */
  public static Field date() {
    return new Field("date");
  }

  /**
   * Returns a time field ({@code LocalTime}).
   *
   * @return the field
   */
  public static Field time() {
    return new Field("time");
  }

  /**
   * Returns a JSON field (values are {@code Map}, {@code List}, strings,
   * numbers, booleans).
   *
   * @return the field
   */
  public static Field json() {
    return new Field("json");
  }

  /**
   * Returns a binary field ({@code byte[]}).
   *
   * @return the field
   */
  public static Field bytes() {
    return new Field("bytes");
  }

  /**
   * Returns an auto-increment integer key field.
   *
   * @return the field
   */
  public static Field auto() {
    return new Field("auto");
  }

  /**
   * Returns an auto-increment 64-bit key field.
   *
   * @return the field
   */
  public static Field bigAuto() {
    return new Field("big-auto");
  }

  /**
   * Returns a foreign key to another model. Its column is {@code <name>_id};
   * it holds the referenced key (assign an instance or a raw key) until the
   * relation is loaded by a join, {@code aioFetch} or a prefetch.
   *
   * @param target the referenced model
   * @return the field
   */
  public static Field foreignKey(Model<?> target) {
    return new Field("foreign-key").option("model", target.toClojure());
  }

  /**
   * Returns a foreign key to the model being defined (a tree).
   *
   * @return the field
   */
  public static Field foreignKeyToSelf() {
    return new Field("foreign-key").option("model", Keyword.intern("self"));
  }

  /**
   * Returns a many-to-many relation to another model (not a column: a
   * generated through model holds the links; see {@link Model#aioAdd}).
   *
   * @param target the related model
   * @return the field
   */
  public static Field manyToMany(Model<?> target) {
    return new Field("many-to-many").option("model", target.toClojure());
  }

  private Field option(String name, Object value) {
    spec.put(name, value);
    return this;
  }

  /**
   * Sets any field option by its Clojure name (values as Clojure expects them).
   *
   * @param name the option, e.g. {@code "constraints"}
   * @param value its value
   * @return this field
   */
  public Field set(String name, Object value) {
    return option(name, Clj.toClj(value));
  }

  /**
   * Allows NULL (fields are NOT NULL by default).
   *
   * @return this field
   */
  public Field nullable() {
    return option("null", true);
  }

  /**
   * Adds a unique constraint.
   *
   * @return this field
   */
  public Field unique() {
    return option("unique", true);
  }

  /**
   * Adds an index named {@code <table>_<column>} (foreign keys have one unless
   * {@code index(false)}).
   *
   * @param index true for an index
   * @return this field
   */
  public Field index(boolean index) {
    return option("index", index);
  }

  /**
   * Makes this field the primary key (no {@code id} field is added then).
   *
   * @return this field
   */
  public Field primaryKey() {
    return option("primary-key", true);
  }

  /**
   * Sets a default value, used by inserts that omit the field (constant
   * strings, numbers and booleans are also the column's DEFAULT).
   *
   * @param value the default
   * @return this field
   */
  public Field defaultValue(Object value) {
    return option("default", Clj.toClj(value));
  }

  /**
   * Sets a default computed for each insert that omits the field.
   *
   * @param supplier makes the value
   * @return this field
   */
  public Field defaultValue(Supplier<?> supplier) {
    return option("default", new AFunction() {
      @Override
      public Object invoke() {
        return Clj.toClj(supplier.get());
      }
    });
  }

  /**
   * Sets the column name.
   *
   * @param column the column
   * @return this field
   */
  public Field column(String column) {
    return option("column", column);
  }

  /**
   * Names a foreign key's or many-to-many field's reverse relation on the
   * target model (default {@code <model>-set}).
   *
   * @param name the backref name, e.g. {@code "books"}
   * @return this field
   */
  public Field backref(String name) {
    return option("backref", Clj.key(name));
  }

  /**
   * Sets a foreign key's ON DELETE action.
   *
   * @param action the action
   * @return this field
   */
  public Field onDelete(ForeignKeyAction action) {
    return option("on-delete", Clj.keyword(action));
  }

  /**
   * Sets a foreign key's ON UPDATE action.
   *
   * @param action the action
   * @return this field
   */
  public Field onUpdate(ForeignKeyAction action) {
    return option("on-update", Clj.keyword(action));
  }

  /**
   * Makes a foreign key reference another unique field than the target's primary key.
   *
   * @param field the target field
   * @return this field
   */
  public Field toField(String field) {
    return option("to-field", Clj.key(field));
  }

  /**
   * Adds a CHECK constraint to the column; a write breaking it fails with
   * {@link CheckViolationException}.
   *
   * <pre>{@code
   * .field("pages", Field.integer().check(Where.gt("pages", 0)))
   * }</pre>
   *
   * @param condition the condition, over this model's fields
   * @return this field
   */
  public Field check(Where condition) {
    Object prev = spec.get("constraints");
    clojure.lang.IPersistentVector cs = prev instanceof clojure.lang.IPersistentVector
        ? (clojure.lang.IPersistentVector) prev : clojure.lang.PersistentVector.EMPTY;
    return option("constraints", cs.cons(clojure.lang.PersistentVector.create(Keyword.intern("check"), condition.form())));
  }

  boolean isPrimaryKey() {
    return Boolean.TRUE.equals(spec.get("primary-key"));
  }

  Object toClojure() {
    Object[] kvs = new Object[spec.size() * 2];
    int i = 0;
    for (Map.Entry<String, Object> e : spec.entrySet()) {
      kvs[i++] = Clj.key(e.getKey());
      kvs[i++] = e.getValue();
    }
    return new clojure.lang.PersistentArrayMap(kvs);
  }
}
