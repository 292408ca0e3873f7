package io.vireo;

import clojure.lang.Keyword;
import clojure.lang.RT;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A select over a model, built fluently (each refinement returns a new query;
 * queries are immutable values) and run by one of the {@code aio*} methods:
 * {@link #aioExecute()} for instances, {@link #aioExecute(Class)} for records,
 * {@link #aioMaps()}, {@link #aioTuples()}, {@link #aioCount()}, …
 *
 * <pre>{@code
 * List<Instance> books = Book.select()
 *     .where(Where.gt("pages", 10))
 *     .orderBy(Expr.field("pages").desc())
 *     .limit(10)
 *     .aioExecute().join();
 * }</pre>
 */
public final class SelectQuery {
  private final Model model;
  private final Object q;

  SelectQuery(Model model, Object q) {
    this.model = model;
    this.q = q;
  }

  Object form() {
    return q;
  }

  private SelectQuery with(Object newQuery) {
    return new SelectQuery(model, newQuery);
  }

  private static Object[] items(Object[] xs) {
    Object[] a = new Object[xs.length];
    for (int i = 0; i < xs.length; i++) {
      a[i] = xs[i] instanceof String ? Clj.ref((String) xs[i]) : Clj.toClj(xs[i]);
    }
    return a;
  }

  private static Object[] cons(Object x, Object[] xs) {
    Object[] a = new Object[xs.length + 1];
    a[0] = x;
    System.arraycopy(xs, 0, a, 1, xs.length);
    return a;
  }

  /**
   * Returns the query's model.
   *
   * @return the model
   */
  public Model model() {
    return model;
  }

  /**
   * Adds a condition (ANDed with earlier ones).
   *
   * @param condition the condition
   * @return the new query
   */
  public SelectQuery where(Where condition) {
    return with(Clj.call("where", q, condition.form()));
  }

  /**
   * Adds a Django-style filter map (ANDed): {@code Map.of("pages__gte", 20)}.
   *
   * @param filter field (with optional {@code __lookup}) to value
   * @return the new query
   */
  public SelectQuery where(Map<String, ?> filter) {
    return with(Clj.call("where", q, Clj.filterMap(filter)));
  }

  /**
   * Joins a model, the ON condition taken from a foreign key between it and
   * a model already in the query.
   *
   * @param target the model to join
   * @return the new query
   */
  public SelectQuery join(Model target) {
    return with(Clj.call("join", q, target.toClojure()));
  }

  /**
   * Joins a model with options (type, ON, alias, attribute).
   *
   * @param target the model to join
   * @param join the options
   * @return the new query
   */
  public SelectQuery join(Model target, Join join) {
    return with(Clj.call("join", q, target.toClojure(), join.toClojure()));
  }

  /**
   * Orders by fields (ascending) or {@link Expr}s ({@code Expr.field("n").desc()}),
   * replacing any earlier order.
   *
   * @param items field names or expressions
   * @return the new query
   */
  public SelectQuery orderBy(Object... items) {
    return with(Clj.call("order-by", cons(q, items(items))));
  }

  /**
   * Sets LIMIT.
   *
   * @param n the maximum number of rows
   * @return the new query
   */
  public SelectQuery limit(long n) {
    return with(Clj.call("limit", q, n));
  }

  /**
   * Sets OFFSET.
   *
   * @param n the rows to skip
   * @return the new query
   */
  public SelectQuery offset(long n) {
    return with(Clj.call("offset", q, n));
  }

  /**
   * Limits to one page of rows.
   *
   * @param page the page, from 1
   * @param perPage rows per page
   * @return the new query
   */
  public SelectQuery paginate(long page, long perPage) {
    return with(Clj.call("paginate", q, page, perPage));
  }

  /**
   * Makes it SELECT DISTINCT.
   *
   * @return the new query
   */
  public SelectQuery distinct() {
    return with(Clj.call("distinct", q));
  }

  /**
   * Groups by fields or expressions.
   *
   * @param items field names or expressions
   * @return the new query
   */
  public SelectQuery groupBy(Object... items) {
    return with(Clj.call("group-by", cons(q, items(items))));
  }

  /**
   * Adds a HAVING condition (ANDed).
   *
   * @param condition the condition, e.g. {@code Where.of(">", Expr.sum("pages"), 40)}
   * @return the new query
   */
  public SelectQuery having(Where condition) {
    return with(Clj.call("having", q, condition.form()));
  }

  /**
   * Locks the selected rows: FOR UPDATE (refused on SQLite).
   *
   * @return the new query
   */
  public SelectQuery forUpdate() {
    return with(Clj.call("for-update", q));
  }

  /**
   * Locks the selected rows in a mode: {@code "share"}, {@code "no-key-update"},
   * {@code "key-share"} (PostgreSQL).
   *
   * @param mode the lock mode
   * @return the new query
   */
  public SelectQuery forUpdate(String mode) {
    return with(Clj.call("for-update", q, Keyword.intern(mode)));
  }

  /**
   * UNION with other selects.
   *
   * @param others the other selects
   * @return the compound query
   */
  public SelectQuery union(SelectQuery... others) {
    return compound("union", others);
  }

  /**
   * UNION ALL with other selects.
   *
   * @param others the other selects
   * @return the compound query
   */
  public SelectQuery unionAll(SelectQuery... others) {
    return compound("union-all", others);
  }

  /**
   * INTERSECT with other selects.
   *
   * @param others the other selects
   * @return the compound query
   */
  public SelectQuery intersect(SelectQuery... others) {
    return compound("intersect", others);
  }

  /**
   * EXCEPT the other selects.
   *
   * @param others the other selects
   * @return the compound query
   */
  public SelectQuery except(SelectQuery... others) {
    return compound("except", others);
  }

  private SelectQuery compound(String fn, SelectQuery... others) {
    Object[] a = new Object[others.length + 1];
    a[0] = q;
    for (int i = 0; i < others.length; i++) {
      a[i + 1] = others[i].q;
    }
    return with(Clj.call(fn, a));
  }

  // ------------------------------------------------------------ running

  /**
   * Runs the query.
   *
   * @return a future of its rows as instances of the model (joined models
   *     projected in the query nest under their foreign key)
   */
  public CompletableFuture<List<Instance>> aioExecute() {
    return Clj.aio(model::instances, "aio-execute", Clj.call("as-instances", q));
  }

  /**
   * Runs the query, each row as a record (by component name) or POJO.
   *
   * @param type the record or POJO class
   * @param <R> the type
   * @return a future of the rows
   */
  public <R> CompletableFuture<List<R>> aioExecute(Class<R> type) {
    return Clj.aio(v -> {
      List<R> l = new ArrayList<>();
      for (Instance i : model.instances(v)) {
        l.add(i.as(type));
      }
      return l;
    }, "aio-execute", Clj.call("as-instances", q));
  }

  /**
   * Runs the query, each row as a map: field names for the model's fields,
   * {@code "alias/field"} for joined models' fields, aliases for expressions.
   *
   * @return a future of the rows
   */
  @SuppressWarnings("unchecked")
  public CompletableFuture<List<Map<String, Object>>> aioMaps() {
    return Clj.aio(v -> {
      List<Map<String, Object>> l = new ArrayList<>();
      for (Object row : Clj.list(v)) {
        l.add((Map<String, Object>) Clj.toJava(row));
      }
      return l;
    }, "aio-execute", Clj.call("as-maps", q));
  }

  /**
   * Runs the query, each row as a list of values in projection order.
   *
   * @return a future of the rows
   */
  @SuppressWarnings("unchecked")
  public CompletableFuture<List<List<Object>>> aioTuples() {
    return Clj.aio(v -> {
      List<List<Object>> l = new ArrayList<>();
      for (Object row : Clj.list(v)) {
        l.add((List<Object>) Clj.toJava(row));
      }
      return l;
    }, "aio-execute", Clj.call("as-vectors", q));
  }

  /**
   * Synchronous {@link #aioExecute()}: needs {@link Database#allowSync()}.
   *
   * @return the rows as instances
   * @throws SyncNotAllowedException outside an allow-sync block
   */
  public List<Instance> execute() {
    return model.instances(Clj.call("execute!", Clj.call("as-instances", q)));
  }

  /**
   * Counts the rows the query yields.
   *
   * @return a future of the count
   */
  public CompletableFuture<Long> aioCount() {
    return Clj.aio(Model::toLong, "aio-count", q);
  }

  /**
   * Tells whether the query yields a row.
   *
   * @return a future of true when it does
   */
  public CompletableFuture<Boolean> aioExists() {
    return Clj.aio(v -> RT.booleanCast(v), "aio-exists", q);
  }

  /**
   * Returns the first column of the first row.
   *
   * @return a future of the value, or {@code null} when there is no row
   */
  public CompletableFuture<Object> aioScalar() {
    return Clj.aio(Clj::toJava, "aio-scalar", q);
  }

  /**
   * Returns the first row (the query's LIMIT set to 1).
   *
   * @return a future of the instance, or {@code null} when there is none
   */
  public CompletableFuture<Instance> aioFirst() {
    return Clj.aio(model::instanceOf, "aio-first", Clj.call("as-instances", q));
  }

  /**
   * Returns the first row, failing when there is none.
   *
   * @return a future of the instance; fails with {@link DoesNotExistException}
   *     (carrying the SQL and parameters) when there is none
   */
  public CompletableFuture<Instance> aioGet() {
    return Clj.aio(model::instanceOf, "aio-get", Clj.call("as-instances", q));
  }

  /**
   * Returns the first row, or {@code null}.
   *
   * @return a future of the instance or {@code null}
   */
  public CompletableFuture<Instance> aioGetOrNone() {
    return Clj.aio(model::instanceOf, "aio-get-or-none", Clj.call("as-instances", q));
  }

  /**
   * Runs the query and links in the rows of subqueries, one query per level:
   * a subquery whose model references an earlier level fills that level's
   * backref list ({@link Instance#getInstances(String)}); one an earlier level
   * references replaces its raw keys ({@link Instance#getInstance(String)}).
   *
   * <pre>{@code
   * List<Instance> authors = Author.select().aioPrefetch(Book.select()).join();
   * authors.get(0).getInstances("books");
   * }</pre>
   *
   * @param subqueries the subqueries, in level order
   * @return a future of the query's instances with the levels linked
   */
  public CompletableFuture<List<Instance>> aioPrefetch(SelectQuery... subqueries) {
    Object[] a = new Object[subqueries.length + 1];
    a[0] = q;
    for (int i = 0; i < subqueries.length; i++) {
      a[i + 1] = subqueries[i].q;
    }
    return Clj.aio(model::instances, "aio-prefetch", a);
  }

  /**
   * Returns the Clojure query data, for Clojure code.
   *
   * @return the query map
   */
  public Object toClojure() {
    return q;
  }
}
