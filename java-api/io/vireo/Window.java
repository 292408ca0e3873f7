package io.vireo;

import clojure.lang.IPersistentMap;
import clojure.lang.PersistentArrayMap;
import java.util.Objects;

/**
 * The window of a window function, for {@link Expr#over(Window)}:
 * {@code PARTITION BY}, {@code ORDER BY} and a frame. An empty window
 * ({@link #create()}) is {@code OVER ()}.
 *
 * <pre>{@code
 * Book.select("title", Expr.call("row_number")
 *         .over(Window.partitionBy("author").orderBy(Expr.field("pages").desc())).as("rank"))
 *     .aioMaps().join();
 * }</pre>
 */
public final class Window {
  /** A frame's unit. */
  public enum Unit {
    /** {@code ROWS}. */
    ROWS,
    /** {@code RANGE}. */
    RANGE,
    /** {@code GROUPS} (not on MySQL/MariaDB). */
    GROUPS
  }

  /** A frame bound: {@link #UNBOUNDED_PRECEDING}, {@link #CURRENT_ROW}, {@link #preceding(long)}, … */
  public static final class Bound {
    private final Object form;

    private Bound(Object form) {
      this.form = form;
    }
  }

  /** {@code UNBOUNDED PRECEDING}. */
  public static final Bound UNBOUNDED_PRECEDING = new Bound(Clj.keyword("unbounded-preceding"));
  /** {@code CURRENT ROW}. */
  public static final Bound CURRENT_ROW = new Bound(Clj.keyword("current-row"));
  /** {@code UNBOUNDED FOLLOWING}. */
  public static final Bound UNBOUNDED_FOLLOWING = new Bound(Clj.keyword("unbounded-following"));

  /**
   * {@code n PRECEDING}.
   *
   * @param n rows (or range) back, at least 0
   * @return the bound
   * @throws IllegalArgumentException for a negative n
   */
  public static Bound preceding(long n) {
    return new Bound(Clj.vec(Clj.keyword("preceding"), nonNegative(n)));
  }

  /**
   * {@code n FOLLOWING}.
   *
   * @param n rows (or range) ahead, at least 0
   * @return the bound
   * @throws IllegalArgumentException for a negative n
   */
  public static Bound following(long n) {
    return new Bound(Clj.vec(Clj.keyword("following"), nonNegative(n)));
  }

  private static Object nonNegative(long n) {
    if (n < 0) {
      throw new IllegalArgumentException("Vireo: a window frame offset must be at least 0, got " + n);
    }
    return n;
  }

  private final IPersistentMap form;

  private Window(IPersistentMap form) {
    this.form = form;
  }

  Object form() {
    return form;
  }

  /**
   * The empty window: {@code OVER ()}, every row of the result.
   *
   * @return the window
   */
  public static Window create() {
    return new Window(PersistentArrayMap.EMPTY);
  }

  /**
   * A window starting from a window the query names ({@link Query#window}),
   * refined by the methods here.
   *
   * @param name the named window
   * @return the window
   */
  public static Window named(String name) {
    return create().with("window", Clj.key(name));
  }

  /**
   * A window partitioned by fields or expressions.
   *
   * @param items the partition keys
   * @return the window
   */
  public static Window partitionBy(Object... items) {
    return create().with("partition-by", Clj.vec(items(items)));
  }

  /**
   * Returns this window ordered by fields or {@link Expr}s ({@code Expr.field("n").desc()}).
   *
   * @param items the order items
   * @return the new window
   */
  public Window orderBy(Object... items) {
    return with("order-by", Clj.vec(items(items)));
  }

  /**
   * Returns this window with a frame from {@code start} to {@code end}
   * ({@code ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW}).
   *
   * @param unit ROWS, RANGE or GROUPS
   * @param start the start bound
   * @param end the end bound
   * @return the new window
   */
  public Window frame(Unit unit, Bound start, Bound end) {
    Objects.requireNonNull(unit, "Vireo: a window frame needs a unit");
    return with("frame", Clj.vec(Clj.keyword(unit.name().toLowerCase(java.util.Locale.ROOT)),
        Objects.requireNonNull(start, "Vireo: a window frame needs a start").form,
        Objects.requireNonNull(end, "Vireo: a window frame needs an end").form));
  }

  private Window with(String key, Object value) {
    return new Window(form.assoc(Clj.key(key), value));
  }

  private static Object[] items(Object[] xs) {
    Object[] a = new Object[xs.length];
    for (int i = 0; i < xs.length; i++) {
      Objects.requireNonNull(xs[i], "Vireo: a window item is null");
      a[i] = xs[i] instanceof String ? Clj.ref((String) xs[i]) : Clj.toClj(xs[i]);
    }
    return a;
  }

  /**
   * The Clojure form, for reading.
   *
   * @return the printed window spec
   */
  @Override
  public String toString() {
    return clojure.lang.RT.printString(form);
  }
}
