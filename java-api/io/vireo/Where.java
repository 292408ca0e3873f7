package io.vireo;

import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
import java.util.Collection;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A condition for {@code where}, {@code having}, {@link Model#aioGet(Object)}
 * and joins: the same vectors a Clojure user writes ({@code [:= :key "x"]}).
 * The first argument of a comparison is a field name ({@code "title"}, or
 * {@code "author.name"} for a joined model); the others are values, or
 * {@link Expr#field(String)} to compare with another field.
 *
 * <p>Each comparison also takes a {@link Property}, a method reference the
 * compiler checks, and then a value of the property's type:
 * {@code Where.eq(Block::key, "title")}.
 *
 * <pre>{@code
 * Book.select().where(Where.and(Where.gt("pages", 10), Where.like("title", "A%")))
 * Book.select().where(Where.in("author", Author.select("id").where(Map.of("name", "bob"))))
 * }</pre>
 */
public final class Where {
  private final Object form;

  private Where(Object form) {
    this.form = form;
  }

  Object form() {
    return form;
  }

  private static Where op(String op, String field, Object value) {
    return new Where(Clj.vec(Clj.keyword(op), Clj.ref(field), Clj.toClj(value)));
  }

  private static Where op(String op, String field, Object... values) {
    Object[] a = new Object[values.length + 2];
    a[0] = Clj.keyword(op);
    a[1] = Clj.ref(field);
    for (int i = 0; i < values.length; i++) {
      a[i + 2] = Clj.toClj(values[i]);
    }
    return new Where(Clj.vec(a));
  }

  /**
   * {@code field = value}; a {@code null} value means IS NULL.
   *
   * @param field the field
   * @param value the value
   * @return the condition
   */
  public static Where eq(String field, @Nullable Object value) {
    return op("=", field, value);
  }

  /**
   * {@code field <> value}; a {@code null} value means IS NOT NULL.
   *
   * @param field the field
   * @param value the value
   * @return the condition
   */
  public static Where ne(String field, @Nullable Object value) {
    return op("<>", field, value);
  }

  /**
   * {@code field < value}.
   *
   * @param field the field
   * @param value the value
   * @return the condition
   */
  public static Where lt(String field, Object value) {
    return op("<", field, value);
  }

  /**
   * {@code field <= value}.
   *
   * @param field the field
   * @param value the value
   * @return the condition
   */
  public static Where le(String field, Object value) {
    return op("<=", field, value);
  }

  /**
   * {@code field > value}.
   *
   * @param field the field
   * @param value the value
   * @return the condition
   */
  public static Where gt(String field, Object value) {
    return op(">", field, value);
  }

  /**
   * {@code field >= value}.
   *
   * @param field the field
   * @param value the value
   * @return the condition
   */
  public static Where ge(String field, Object value) {
    return op(">=", field, value);
  }

  /**
   * {@code field IN (values)}; an empty collection matches nothing.
   *
   * @param field the field
   * @param values the values
   * @return the condition
   */
  public static Where in(String field, Collection<?> values) {
    return op("in", field, values);
  }

  /**
   * {@code field IN (subquery)}.
   *
   * @param field the field
   * @param subquery a select of one column
   * @return the condition
   */
  public static Where in(String field, SelectQuery<?> subquery) {
    return op("in", field, subquery);
  }

  /**
   * {@code field IN (subquery)} over a plain query (a CTE's rows, another table's).
   *
   * @param field the field
   * @param subquery a select of one column
   * @return the condition
   */
  public static Where in(String field, Query subquery) {
    return op("in", field, subquery);
  }

  /**
   * {@code field NOT IN (values)}; an empty collection matches everything.
   *
   * @param field the field
   * @param values the values
   * @return the condition
   */
  public static Where notIn(String field, Collection<?> values) {
    return op("not-in", field, values);
  }

  /**
   * {@code field LIKE pattern}.
   *
   * @param field the field
   * @param pattern the pattern ({@code %} and {@code _})
   * @return the condition
   */
  public static Where like(String field, String pattern) {
    return op("like", field, pattern);
  }

  /**
   * {@code field ILIKE pattern} (PostgreSQL only; elsewhere refused with
   * {@link VireoException} ({@link ErrorType#NOT_SUPPORTED})).
   *
   * @param field the field
   * @param pattern the pattern
   * @return the condition
   */
  public static Where ilike(String field, String pattern) {
    return op("ilike", field, pattern);
  }

  /**
   * {@code field BETWEEN low AND high}.
   *
   * @param field the field
   * @param low the low bound
   * @param high the high bound
   * @return the condition
   */
  public static Where between(String field, Object low, Object high) {
    return op("between", field, low, high);
  }

  /**
   * {@code field IS NULL}.
   *
   * @param field the field
   * @return the condition
   */
  public static Where isNull(String field) {
    return op("=", field, (Object) null);
  }

  /**
   * {@code field IS NOT NULL}.
   *
   * @param field the field
   * @return the condition
   */
  public static Where isNotNull(String field) {
    return op("<>", field, (Object) null);
  }

  // ------------------------------------------------------------ typed
  // The same conditions over a field named by a method reference the
  // compiler checks (Block::key names "key"); the value must have the
  // property's type.

  /**
   * {@code field = value} over a property: {@code Where.eq(Block::key, "title")};
   * a {@code null} value means IS NULL.
   *
   * @param field the field, as a method reference
   * @param value the value
   * @param <R> the record type
   * @param <T> the field's type
   * @return the condition
   * @throws IllegalArgumentException when {@code field} is a lambda, not a method reference
   */
  public static <R, T> Where eq(Property<R, T> field, @Nullable T value) {
    return eq(Properties.of(field), value);
  }

  /**
   * {@code field <> value} over a property; a {@code null} value means IS NOT NULL.
   *
   * @param field the field, as a method reference
   * @param value the value
   * @param <R> the record type
   * @param <T> the field's type
   * @return the condition
   */
  public static <R, T> Where ne(Property<R, T> field, @Nullable T value) {
    return ne(Properties.of(field), value);
  }

  /**
   * {@code field < value} over a property.
   *
   * @param field the field, as a method reference
   * @param value the value
   * @param <R> the record type
   * @param <T> the field's type
   * @return the condition
   */
  public static <R, T> Where lt(Property<R, T> field, T value) {
    return lt(Properties.of(field), value);
  }

  /**
   * {@code field <= value} over a property.
   *
   * @param field the field, as a method reference
   * @param value the value
   * @param <R> the record type
   * @param <T> the field's type
   * @return the condition
   */
  public static <R, T> Where le(Property<R, T> field, T value) {
    return le(Properties.of(field), value);
  }

  /**
   * {@code field > value} over a property.
   *
   * @param field the field, as a method reference
   * @param value the value
   * @param <R> the record type
   * @param <T> the field's type
   * @return the condition
   */
  public static <R, T> Where gt(Property<R, T> field, T value) {
    return gt(Properties.of(field), value);
  }

  /**
   * {@code field >= value} over a property.
   *
   * @param field the field, as a method reference
   * @param value the value
   * @param <R> the record type
   * @param <T> the field's type
   * @return the condition
   */
  public static <R, T> Where ge(Property<R, T> field, T value) {
    return ge(Properties.of(field), value);
  }

  /**
   * {@code field IN (values)} over a property; an empty collection matches nothing.
   *
   * @param field the field, as a method reference
   * @param values the values
   * @param <R> the record type
   * @param <T> the field's type
   * @return the condition
   */
  public static <R, T> Where in(Property<R, T> field, Collection<? extends T> values) {
    return in(Properties.of(field), values);
  }

  /**
   * {@code field IN (subquery)} over a property.
   *
   * @param field the field, as a method reference
   * @param subquery a select of one column
   * @param <R> the record type
   * @param <T> the field's type
   * @return the condition
   */
  public static <R, T> Where in(Property<R, T> field, SelectQuery<?> subquery) {
    return in(Properties.of(field), subquery);
  }

  /**
   * {@code field NOT IN (values)} over a property; an empty collection matches everything.
   *
   * @param field the field, as a method reference
   * @param values the values
   * @param <R> the record type
   * @param <T> the field's type
   * @return the condition
   */
  public static <R, T> Where notIn(Property<R, T> field, Collection<? extends T> values) {
    return notIn(Properties.of(field), values);
  }

  /**
   * {@code field LIKE pattern} over a {@code String} property.
   *
   * @param field the field, as a method reference
   * @param pattern the pattern ({@code %} and {@code _})
   * @param <R> the record type
   * @return the condition
   */
  public static <R> Where like(Property<R, String> field, String pattern) {
    return like(Properties.of(field), pattern);
  }

  /**
   * {@code field ILIKE pattern} over a {@code String} property (PostgreSQL only).
   *
   * @param field the field, as a method reference
   * @param pattern the pattern
   * @param <R> the record type
   * @return the condition
   */
  public static <R> Where ilike(Property<R, String> field, String pattern) {
    return ilike(Properties.of(field), pattern);
  }

  /**
   * {@code field BETWEEN low AND high} over a property.
   *
   * @param field the field, as a method reference
   * @param low the low bound
   * @param high the high bound
   * @param <R> the record type
   * @param <T> the field's type
   * @return the condition
   */
  public static <R, T> Where between(Property<R, T> field, T low, T high) {
    return between(Properties.of(field), low, high);
  }

  /**
   * {@code field IS NULL} over a property.
   *
   * @param field the field, as a method reference
   * @param <R> the record type
   * @return the condition
   */
  public static <R> Where isNull(Property<R, ?> field) {
    return isNull(Properties.of(field));
  }

  /**
   * {@code field IS NOT NULL} over a property.
   *
   * @param field the field, as a method reference
   * @param <R> the record type
   * @return the condition
   */
  public static <R> Where isNotNull(Property<R, ?> field) {
    return isNotNull(Properties.of(field));
  }

  private static Where logical(String op, Where... conditions) {
    Object[] a = new Object[conditions.length + 1];
    a[0] = Clj.keyword(op);
    for (int i = 0; i < conditions.length; i++) {
      a[i + 1] = conditions[i].form;
    }
    return new Where(Clj.vec(a));
  }

  /**
   * All of the conditions.
   *
   * @param conditions the conditions
   * @return the condition
   */
  public static Where and(Where... conditions) {
    return logical("and", conditions);
  }

  /**
   * Any of the conditions.
   *
   * @param conditions the conditions
   * @return the condition
   */
  public static Where or(Where... conditions) {
    return logical("or", conditions);
  }

  /**
   * The negation of a condition.
   *
   * @param condition the condition
   * @return the condition
   */
  public static Where not(Where condition) {
    return logical("not", condition);
  }

  /**
   * A Django-style filter map: {@code Map.of("key", "a", "pages__gte", 20)};
   * lookups {@code eq ne lt lte gt gte in not-in like ilike between is-null}.
   * A filter is a whole condition: pass it to {@code where}, not inside
   * {@link #and(Where...)} / {@link #or(Where...)}.
   *
   * @param filter field (with optional {@code __lookup}) to value
   * @return the condition
   */
  public static Where filter(Map<String, ?> filter) {
    return new Where(Clj.filterMap(filter));
  }

  /**
   * A condition over expressions: {@code Where.of(">", Expr.count("id"), 1)}.
   *
   * @param op the operator's Clojure name ({@code "="}, {@code "<"}, {@code "like"}, …)
   * @param args expressions or values
   * @return the condition
   */
  public static Where of(String op, Object... args) {
    Object[] a = new Object[args.length + 1];
    a[0] = Clj.keyword(op);
    for (int i = 0; i < args.length; i++) {
      a[i + 1] = Clj.toClj(args[i]);
    }
    return new Where(Clj.vec(a));
  }

  /**
   * Wraps Clojure condition data as it is (for what this class has no method for).
   *
   * @param clojureCondition a vireo.sql condition
   * @return the condition
   */
  public static Where raw(Object clojureCondition) {
    return new Where(clojureCondition);
  }

  /**
   * Returns the Clojure form, e.g. {@code [:= :key "x"]}.
   *
   * @return the printed form
   */
  @Override
  public String toString() {
    return clojure.lang.RT.printString(form);
  }
}
