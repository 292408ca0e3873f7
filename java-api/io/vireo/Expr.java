package io.vireo;

import clojure.lang.Keyword;
import clojure.lang.PersistentVector;

/**
 * An SQL expression for projections, ordering, grouping and update values:
 * a field, a function call, an operator, a literal. In {@link #call(String, Object...)}
 * strings are values: use {@link #field(String)} for a column.
 *
 * <pre>{@code
 * Book.select("title", Expr.call("upper", Expr.field("title")).as("shout"))
 *     .orderBy(Expr.field("pages").desc())
 * Book.update(Map.of("pages", Expr.call("+", Expr.field("pages"), 1)))
 * }</pre>
 */
public final class Expr {
  private final Object form;
  /** The function of an unaliased call, which a projection names after it. */
  private final String function;

  private Expr(Object form) {
    this(form, null);
  }

  private Expr(Object form, String function) {
    this.form = form;
    this.function = function;
  }

  /** The projection item: an unaliased call is named after its function ({@code MAX(n)} is {@code "max"}). */
  Object selectForm() {
    return function == null ? form : PersistentVector.create(form, Clj.key(function));
  }

  Object form() {
    return form;
  }

  /**
   * A field (column) reference: {@code "title"}, or {@code "author.name"} for a joined model.
   *
   * @param name the field
   * @return the expression
   */
  public static Expr field(String name) {
    return new Expr(Clj.ref(name));
  }

  /**
   * A field (column) reference named by a method reference: {@code Expr.field(Book::pages)}.
   *
   * @param field the field
   * @param <R> the record type
   * @return the expression
   * @throws IllegalArgumentException when {@code field} is a lambda, not a method reference
   */
  public static <R> Expr field(Property<R, ?> field) {
    return field(Properties.of(field));
  }

  /**
   * A field in ascending order (for {@code orderBy}): {@code Expr.asc(Book::pages)}.
   *
   * @param field the field
   * @param <R> the record type
   * @return the order item
   */
  public static <R> Expr asc(Property<R, ?> field) {
    return field(field).asc();
  }

  /**
   * A field in descending order (for {@code orderBy}): {@code Expr.desc(Book::pages)}.
   *
   * @param field the field
   * @param <R> the record type
   * @return the order item
   */
  public static <R> Expr desc(Property<R, ?> field) {
    return field(field).desc();
  }

  /**
   * {@code COUNT(field)} over a property.
   *
   * @param field the field
   * @param <R> the record type
   * @return the expression
   */
  public static <R> Expr count(Property<R, ?> field) {
    return count(Properties.of(field));
  }

  /**
   * {@code SUM(field)} over a property.
   *
   * @param field the field
   * @param <R> the record type
   * @return the expression
   */
  public static <R> Expr sum(Property<R, ?> field) {
    return sum(Properties.of(field));
  }

  /**
   * {@code MAX(field)} over a property.
   *
   * @param field the field
   * @param <R> the record type
   * @return the expression
   */
  public static <R> Expr max(Property<R, ?> field) {
    return max(Properties.of(field));
  }

  /**
   * {@code MIN(field)} over a property.
   *
   * @param field the field
   * @param <R> the record type
   * @return the expression
   */
  public static <R> Expr min(Property<R, ?> field) {
    return min(Properties.of(field));
  }

  /**
   * {@code AVG(field)} over a property.
   *
   * @param field the field
   * @param <R> the record type
   * @return the expression
   */
  public static <R> Expr avg(Property<R, ?> field) {
    return avg(Properties.of(field));
  }

  /**
   * A function or operator applied to arguments: {@code call("upper", field("t"))},
   * {@code call("+", field("n"), 1)}, {@code call("coalesce", field("x"), "none")}.
   *
   * @param function the SQL function or operator
   * @param args expressions or values
   * @return the expression
   */
  public static Expr call(String function, Object... args) {
    Object[] a = new Object[args.length + 1];
    a[0] = Keyword.intern(function);
    for (int i = 0; i < args.length; i++) {
      a[i + 1] = Clj.toClj(args[i]);
    }
    return new Expr(PersistentVector.create(a), function);
  }

  /**
   * {@code COUNT(field)}; {@code "*"} counts rows.
   *
   * @param field the field, or {@code "*"}
   * @return the expression
   */
  public static Expr count(String field) {
    return call("count", "*".equals(field) ? Keyword.intern("*") : Clj.ref(field));
  }

  /**
   * {@code SUM(field)}.
   *
   * @param field the field
   * @return the expression
   */
  public static Expr sum(String field) {
    return call("sum", Clj.ref(field));
  }

  /**
   * {@code MAX(field)}.
   *
   * @param field the field
   * @return the expression
   */
  public static Expr max(String field) {
    return call("max", Clj.ref(field));
  }

  /**
   * {@code MIN(field)}.
   *
   * @param field the field
   * @return the expression
   */
  public static Expr min(String field) {
    return call("min", Clj.ref(field));
  }

  /**
   * {@code AVG(field)}.
   *
   * @param field the field
   * @return the expression
   */
  public static Expr avg(String field) {
    return call("avg", Clj.ref(field));
  }

  /**
   * Wraps Clojure expression data as it is.
   *
   * @param clojureExpression a vireo.sql expression
   * @return the expression
   */
  public static Expr raw(Object clojureExpression) {
    return new Expr(clojureExpression);
  }

  /**
   * This expression under an alias (in a projection); the alias is the row
   * key. Without one, a call is named after its function ({@code "max"}).
   *
   * @param alias the alias
   * @return the aliased expression
   */
  public Expr as(String alias) {
    return new Expr(PersistentVector.create(form, Clj.key(alias)));
  }

  /**
   * This expression in ascending order (for {@code orderBy}).
   *
   * @return the order item
   */
  public Expr asc() {
    return new Expr(PersistentVector.create(form, Keyword.intern("asc")));
  }

  /**
   * This expression in descending order (for {@code orderBy}).
   *
   * @return the order item
   */
  public Expr desc() {
    return new Expr(PersistentVector.create(form, Keyword.intern("desc")));
  }

  /**
   * This function call as a window function over {@code window}:
   * {@code call("row_number").over(Window.partitionBy("author").orderBy("pages"))}
   * is {@code ROW_NUMBER() OVER (PARTITION BY author ORDER BY pages)}.
   *
   * @param window the window
   * @return the expression
   */
  public Expr over(Window window) {
    java.util.Objects.requireNonNull(window, "Vireo: over needs a window");
    return new Expr(PersistentVector.create(Keyword.intern("over"), form, window.form()), function);
  }

  /**
   * This function call over a window the query names ({@link Query#window(String, Window)}).
   *
   * @param windowName the window's name
   * @return the expression
   */
  public Expr over(String windowName) {
    java.util.Objects.requireNonNull(windowName, "Vireo: over needs a window name");
    return new Expr(PersistentVector.create(Keyword.intern("over"), form, Clj.key(windowName)), function);
  }

  /**
   * Returns the Clojure form.
   *
   * @return the printed form
   */
  @Override
  public String toString() {
    return clojure.lang.RT.printString(form);
  }
}
