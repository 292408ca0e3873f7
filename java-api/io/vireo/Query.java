package io.vireo;

import clojure.lang.IPersistentMap;
import clojure.lang.Keyword;
import clojure.lang.PersistentArrayMap;
import clojure.lang.RT;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A plain query over tables, without a model: the query data of
 * {@code vireo.sql} (docs/sql.md), built fluently and run on a database with
 * {@link Database#aioQuery(Query)} (rows as maps), {@link Database#aioExecute(Query)}
 * or streamed with {@link Database#publisher(Query)}. Queries are immutable values.
 *
 * <pre>{@code
 * Query thick = Query.select("title", "pages").from("book")
 *     .where(Where.gt("pages", 100)).orderBy(Expr.field("pages").desc()).limit(10);
 * List<Map<String, Object>> rows = db.aioQuery(thick).join();
 * long changed = (Long) db.aioExecute(Query.update("book", Map.of("pages", 0))
 *     .where(Where.eq("title", "draft"))).join();
 * }</pre>
 *
 * <p>Names are identifiers ({@code "book"}, {@code "b.title"} for a table's
 * column; {@code -} becomes {@code _}); every other value is a parameter —
 * strings too. Conditions are {@link Where}s, expressions {@link Expr}s.
 */
public final class Query {
  private final IPersistentMap form;

  private Query(IPersistentMap form) {
    this.form = form;
  }

  private Query with(String key, Object value) {
    return new Query(form.assoc(Clj.key(key), value));
  }

  private static Object[] items(Object[] xs) {
    Object[] a = new Object[xs.length];
    for (int i = 0; i < xs.length; i++) {
      Objects.requireNonNull(xs[i], "Vireo: a query item is null");
      a[i] = xs[i] instanceof String ? Clj.ref((String) xs[i]) : Clj.toClj(xs[i]);
    }
    return a;
  }

  /** Projection items: an unaliased call is named after its function, as in a model select. */
  private static Object[] selectItems(Object[] xs) {
    Object[] a = items(xs);
    for (int i = 0; i < xs.length; i++) {
      if (xs[i] instanceof Expr) {
        a[i] = ((Expr) xs[i]).selectForm();
      }
    }
    return a;
  }

  private static Keyword table(String name) {
    Objects.requireNonNull(name, "Vireo: a table name is null");
    return Clj.ref(name);
  }

  /**
   * Starts a SELECT of the given items: column names, {@link Expr}s (aliased
   * with {@link Expr#as(String)}); none selects {@code *}.
   *
   * @param items the projection
   * @return the query
   */
  public static Query select(Object... items) {
    Object sel = items.length == 0 ? Clj.vec(Clj.keyword("*")) : Clj.vec(selectItems(items));
    return new Query(PersistentArrayMap.EMPTY.assoc(Clj.key("select"), sel));
  }

  /**
   * Starts an INSERT of rows given as maps of column to value (the columns
   * are the keys, in first-seen order; a missing one is NULL).
   *
   * @param table the table
   * @param rows the rows, at least one
   * @return the query
   * @throws IllegalArgumentException when there is no row
   */
  public static Query insertInto(String table, List<? extends Map<String, ?>> rows) {
    if (rows == null || rows.isEmpty()) {
      throw new IllegalArgumentException("Vireo: insertInto needs at least one row");
    }
    return new Query(PersistentArrayMap.EMPTY.assoc(Clj.key("insert-into"), table(table))
        .assoc(Clj.key("values"), Clj.toClj(rows)));
  }

  /**
   * Starts an INSERT … SELECT: the columns filled, in order, by the select's columns.
   *
   * @param table the table
   * @param columns the columns
   * @param select the rows to insert
   * @return the query
   */
  public static Query insertInto(String table, List<String> columns, Query select) {
    Objects.requireNonNull(select, "Vireo: insertInto needs a select");
    return new Query(PersistentArrayMap.EMPTY.assoc(Clj.key("insert-into"), table(table))
        .assoc(Clj.key("columns"), Clj.refs(columns.toArray(new String[0])))
        .assoc(Clj.key("select"), select.form));
  }

  /**
   * Starts an UPDATE setting columns to values or {@link Expr}s (add {@link #where}).
   *
   * @param table the table
   * @param set column to value or expression
   * @return the query
   * @throws IllegalArgumentException when {@code set} is empty
   */
  public static Query update(String table, Map<String, ?> set) {
    if (set == null || set.isEmpty()) {
      throw new IllegalArgumentException("Vireo: update needs at least one column to set");
    }
    return new Query(PersistentArrayMap.EMPTY.assoc(Clj.key("update"), table(table))
        .assoc(Clj.key("set"), Clj.filterMap(set)));
  }

  /**
   * Starts a DELETE (add {@link #where}).
   *
   * @param table the table
   * @return the query
   */
  public static Query deleteFrom(String table) {
    return new Query(PersistentArrayMap.EMPTY.assoc(Clj.key("delete-from"), table(table)));
  }

  /**
   * The UNION of selects.
   *
   * @param first a select
   * @param others more selects
   * @return the query
   */
  public static Query union(Query first, Query... others) {
    return compound("union", first, others);
  }

  /**
   * The UNION ALL of selects (the usual body of a recursive CTE).
   *
   * @param first a select
   * @param others more selects
   * @return the query
   */
  public static Query unionAll(Query first, Query... others) {
    return compound("union-all", first, others);
  }

  private static Query compound(String op, Query first, Query[] others) {
    Object[] a = new Object[others.length + 1];
    a[0] = first.form;
    for (int i = 0; i < others.length; i++) {
      a[i + 1] = others[i].form;
    }
    return new Query(PersistentArrayMap.EMPTY.assoc(Clj.key(op), Clj.vec(a)));
  }

  /**
   * Wraps query data written in Clojure ({@code {:select [:*] :from :t}}).
   *
   * @param clojureData a vireo.sql query map
   * @return the query
   * @throws IllegalArgumentException when it is not a map
   */
  public static Query of(Object clojureData) {
    if (!(clojureData instanceof IPersistentMap)) {
      throw new IllegalArgumentException("Vireo: Query.of needs a vireo.sql query map, got "
          + (clojureData == null ? "null" : clojureData.getClass().getName()));
    }
    return new Query((IPersistentMap) clojureData);
  }

  /**
   * Sets the table read (FROM).
   *
   * @param table the table (or a CTE's name)
   * @return the new query
   */
  public Query from(String table) {
    return with("from", table(table));
  }

  /**
   * Sets the table read under an alias ({@code FROM book b}).
   *
   * @param table the table
   * @param alias its alias
   * @return the new query
   */
  public Query from(String table, String alias) {
    return with("from", Clj.vec(table(table), Clj.key(alias)));
  }

  /**
   * Adds a condition, ANDed with an earlier one.
   *
   * @param condition the condition
   * @return the new query
   */
  public Query where(Where condition) {
    Objects.requireNonNull(condition, "Vireo: where needs a condition");
    Object old = RT.get(form, Clj.key("where"));
    return with("where", old == null ? condition.form() : Clj.vec(Clj.keyword("and"), old, condition.form()));
  }

  /**
   * Sets the order: column names or {@link Expr}s ({@code Expr.field("n").desc()}).
   *
   * @param items the order items
   * @return the new query
   */
  public Query orderBy(Object... items) {
    return with("order-by", Clj.vec(items(items)));
  }

  /**
   * Sets GROUP BY.
   *
   * @param items columns or expressions
   * @return the new query
   */
  public Query groupBy(Object... items) {
    return with("group-by", Clj.vec(items(items)));
  }

  /**
   * Sets HAVING.
   *
   * @param condition the condition
   * @return the new query
   */
  public Query having(Where condition) {
    return with("having", condition.form());
  }

  /**
   * Sets LIMIT.
   *
   * @param n the number of rows
   * @return the new query
   */
  public Query limit(long n) {
    return with("limit", n);
  }

  /**
   * Sets OFFSET.
   *
   * @param n the rows to skip
   * @return the new query
   */
  public Query offset(long n) {
    return with("offset", n);
  }

  /**
   * Adds RETURNING of columns to an INSERT, UPDATE or DELETE (refused where
   * the database cannot: see docs/backends.md); {@link Database#aioQuery} then
   * yields the rows.
   *
   * @param columns the columns, none for {@code *}
   * @return the new query
   */
  public Query returning(String... columns) {
    return with("returning", columns.length == 0 ? Clj.vec(Clj.keyword("*")) : Clj.refs(columns));
  }

  /**
   * Names a window for {@link Expr#over(String)} ({@code WINDOW name AS (…)}).
   *
   * @param name the window's name
   * @param window its definition
   * @return the new query
   */
  public Query window(String name, Window window) {
    Object old = RT.get(form, Clj.key("window"));
    Object entry = Clj.vec(Clj.key(name), window.form());
    return with("window", old == null ? Clj.vec(entry) : ((clojure.lang.IPersistentVector) old).cons(entry));
  }

  /**
   * Adds common table expressions (WITH), readable by name in this query.
   *
   * @param ctes the CTEs, in order (a later one may read an earlier one)
   * @return the new query
   */
  public Query with(Cte... ctes) {
    return with("with", Cte.forms(ctes));
  }

  /**
   * Adds recursive common table expressions (WITH RECURSIVE).
   *
   * @param ctes the CTEs
   * @return the new query
   */
  public Query withRecursive(Cte... ctes) {
    return with("with-recursive", Cte.forms(ctes));
  }

  /**
   * Returns the vireo.sql query map.
   *
   * @return the Clojure data
   */
  public Object toClojure() {
    return form;
  }

  Object form() {
    return form;
  }

  /**
   * Returns the Clojure form, for reading.
   *
   * @return the printed query data
   */
  @Override
  public String toString() {
    return RT.printString(form);
  }
}
