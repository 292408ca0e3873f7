package io.vireo;

import clojure.lang.Keyword;
import clojure.lang.RT;
import io.vireo.exception.DoesNotExistException;
import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
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
  /** How {@link #aioPrefetch(PrefetchStrategy, SelectQuery...)} restricts each level to its parents' rows. */
  public enum PrefetchStrategy {
    /** {@code WHERE key IN (SELECT parent keys …)} (the default). */
    WHERE,
    /** A join on the DISTINCT parent keys (faster on some databases for large parent levels). */
    JOIN
  }

  private final Model model;
  private final Object q;
  private final int fetchSize;

  SelectQuery(Model model, Object q) {
    this(model, q, 0);
  }

  private SelectQuery(Model model, Object q, int fetchSize) {
    this.model = model;
    this.q = q;
    this.fetchSize = fetchSize;
  }

  Object form() {
    return q;
  }

  private SelectQuery with(Object newQuery) {
    return new SelectQuery(model, newQuery, fetchSize);
  }

  /** The query yielding instances, and the models of their joined instances. */
  private Object instancesQuery() {
    // no :vireo/as means instances already: no new query per run
    Object as = RT.get(q, AS);
    return as == null || as == INSTANCES ? q : Clj.call("as-instances", q);
  }

  private static final Keyword AS = Keyword.intern("vireo", "as");
  private static final Keyword INSTANCES = Keyword.intern("instances");

  private Nesting nesting() {
    return Nesting.of(model, q);
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
   * Locks the selected rows in a mode, not waiting for rows other
   * transactions hold: {@code option} {@code "nowait"} fails at once
   * (PostgreSQL, MySQL 8, MariaDB 10.6), {@code "skip-locked"} leaves them
   * out of the result (the usual way to take jobs from a queue table).
   *
   * @param mode {@code "update"}, {@code "share"}, {@code "no-key-update"} or {@code "key-share"}
   * @param option {@code "nowait"} or {@code "skip-locked"}
   * @return the new query
   */
  public SelectQuery forUpdate(String mode, String option) {
    return with(Clj.call("for-update", q,
        clojure.lang.PersistentVector.create(Keyword.intern(mode), Keyword.intern(option))));
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
   *     projected in the query nest under their foreign key or
   *     {@link Join#attr(String)}, as instances of the joined model)
   */
  public CompletableFuture<List<Instance>> aioExecute() {
    try {
      Nesting n = nesting();
      return Clj.aio(n == null ? model.toInstances : v -> model.instances(v, n), "aio-execute", instancesQuery());
    } catch (Throwable t) {
      return Clj.failed(t);
    }
  }

  /**
   * Runs the query, each row as a record (by component name) or POJO.
   *
   * @param type the record or POJO class
   * @param <R> the type
   * @return a future of the rows
   */
  public <R> CompletableFuture<List<R>> aioExecute(Class<R> type) {
    return Clj.guard(() -> {
      Nesting n = nesting();
      return Clj.aio(v -> {
        List<R> l = new ArrayList<>();
        for (Instance i : model.instances(v, n)) {
          l.add(i.as(type));
        }
        return l;
      }, "aio-execute", instancesQuery());
    });
  }

  /**
   * Runs the query, each row as a map: field names for the model's fields,
   * {@code "alias/field"} for joined models' fields, aliases for expressions.
   *
   * @return a future of the rows
   */
  @SuppressWarnings("unchecked")
  public CompletableFuture<List<Map<String, Object>>> aioMaps() {
    return Clj.guard(() -> Clj.aio(v -> {
      List<Map<String, Object>> l = new ArrayList<>();
      for (Object row : Clj.list(v)) {
        l.add((Map<String, Object>) Clj.toJava(row));
      }
      return l;
    }, "aio-execute", Clj.call("as-maps", q)));
  }

  /**
   * Runs the query, each row as a list of values in projection order.
   *
   * @return a future of the rows
   */
  @SuppressWarnings("unchecked")
  public CompletableFuture<List<List<Object>>> aioTuples() {
    return Clj.guard(() -> Clj.aio(v -> {
      List<List<Object>> l = new ArrayList<>();
      for (Object row : Clj.list(v)) {
        l.add((List<Object>) Clj.toJava(row));
      }
      return l;
    }, "aio-execute", Clj.call("as-vectors", q)));
  }

  /**
   * Synchronous {@link #aioExecute()}: needs {@link Database#allowSync()}.
   *
   * @return the rows as instances
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block
   */
  public List<Instance> execute() {
    return model.instances(Clj.call("execute!", instancesQuery()), nesting());
  }

  /**
   * Counts the rows the query yields.
   *
   * @return a future of the count
   */
  public CompletableFuture<Long> aioCount() {
    return Clj.guard(() -> Clj.aio(Model::toLong, "aio-count", q));
  }

  /**
   * Counts the rows the query yields; {@code clearLimit} ignores its LIMIT
   * and OFFSET (the total behind one page of {@link #paginate(long, long)}).
   *
   * @param clearLimit true to count every matching row
   * @return a future of the count
   */
  public CompletableFuture<Long> aioCount(boolean clearLimit) {
    return Clj.guard(() -> Clj.aio(Model::toLong, "aio-count", q,
        Clj.opts("clear-limit", clearLimit ? Boolean.TRUE : null)));
  }

  /**
   * Tells whether the query yields a row.
   *
   * @return a future of true when it does
   */
  public CompletableFuture<Boolean> aioExists() {
    return Clj.guard(() -> Clj.aio(v -> RT.booleanCast(v), "aio-exists", q));
  }

  /**
   * Returns the first column of the first row.
   *
   * @return a future of the value, or {@code null} when there is no row
   */
  public CompletableFuture<Object> aioScalar() {
    return Clj.guard(() -> Clj.aio(Clj::toJava, "aio-scalar", q));
  }

  /**
   * Returns the first row (the query's LIMIT set to 1).
   *
   * @return a future of the instance, or {@code null} when there is none
   */
  public CompletableFuture<Instance> aioFirst() {
    return Clj.guard(() -> {
      Nesting n = nesting();
      return Clj.aio(v -> model.instanceOf(v, n), "aio-first", instancesQuery());
    });
  }

  /**
   * Returns the first {@code n} rows (the query's LIMIT set to {@code n}).
   *
   * @param n the number of rows, at least 1
   * @return a future of up to {@code n} instances (empty when there are none)
   */
  public CompletableFuture<List<Instance>> aioFirst(int n) {
    return Clj.guard(() -> rows("aio-first", n));
  }

  /**
   * Returns the first row without changing the query's LIMIT (peewee's
   * {@code peek}; Vireo fetches only that row).
   *
   * @return a future of the instance, or {@code null} when there is none
   */
  public CompletableFuture<Instance> aioPeek() {
    return Clj.guard(() -> {
      Nesting nest = nesting();
      return Clj.aio(v -> model.instanceOf(v, nest), "aio-peek", instancesQuery(), 1L);
    });
  }

  /**
   * Returns up to {@code n} rows without changing the query's LIMIT
   * (fetching only those).
   *
   * @param n the number of rows, at least 1
   * @return a future of up to {@code n} instances (empty when there are none)
   */
  public CompletableFuture<List<Instance>> aioPeek(int n) {
    return Clj.guard(() -> rows("aio-peek", n));
  }

  private CompletableFuture<List<Instance>> rows(String fn, int n) {
    if (n < 1) {
      throw new IllegalArgumentException("Vireo: " + fn + " needs n >= 1, got " + n);
    }
    Nesting nest = nesting();
    return Clj.aio(v -> {
      if (v == null) {
        return new ArrayList<>();
      }
      if (n == 1) {
        List<Instance> one = new ArrayList<>();
        one.add(model.instanceOf(v, nest));
        return one;
      }
      return model.instances(v, nest);
    }, fn, instancesQuery(), (long) n);
  }

  /**
   * Returns the first row, failing when there is none.
   *
   * @return a future of the instance; fails with {@link DoesNotExistException}
   *     (carrying the SQL and parameters) when there is none
   */
  public CompletableFuture<Instance> aioGet() {
    return Clj.guard(() -> {
      Nesting n = nesting();
      return Clj.aio(v -> model.instanceOf(v, n), "aio-get", instancesQuery());
    });
  }

  /**
   * Returns the first row, or {@code null}.
   *
   * @return a future of the instance or {@code null}
   */
  public CompletableFuture<Instance> aioGetOrNone() {
    return Clj.guard(() -> {
      Nesting n = nesting();
      return Clj.aio(v -> model.instanceOf(v, n), "aio-get-or-none", instancesQuery());
    });
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
    return aioPrefetch(PrefetchStrategy.WHERE, subqueries);
  }

  /**
   * Like {@link #aioPrefetch(SelectQuery...)}, choosing how each level is
   * restricted to the rows of its parent level.
   *
   * @param strategy {@link PrefetchStrategy#WHERE} (IN a subquery) or {@link PrefetchStrategy#JOIN}
   * @param subqueries the subqueries, in level order
   * @return a future of the query's instances with the levels linked
   */
  public CompletableFuture<List<Instance>> aioPrefetch(PrefetchStrategy strategy, SelectQuery... subqueries) {
    return Clj.guard(() -> {
      Object[] a = new Object[subqueries.length + 2];
      a[0] = q;
      for (int i = 0; i < subqueries.length; i++) {
        a[i + 1] = subqueries[i].q;
      }
      a[a.length - 1] = Clj.opts("strategy", Keyword.intern(strategy.name().toLowerCase(java.util.Locale.ROOT)));
      Nesting n = nesting();
      return Clj.aio(v -> model.instances(v, n), "aio-prefetch", a);
    });
  }

  // ------------------------------------------------------------ streaming

  /**
   * Returns this query with the batch size of its streams
   * ({@link #aioForEach}, {@link #aioForEachAsync}, {@link #aioReduce}):
   * rows fetched per round trip (default 1000).
   *
   * @param rows rows per batch, at least 1
   * @return the new query
   * @throws IllegalArgumentException when {@code rows} is below 1
   */
  public SelectQuery fetchSize(int rows) {
    if (rows < 1) {
      throw new IllegalArgumentException("Vireo: fetchSize needs at least 1 row, got " + rows);
    }
    return new SelectQuery(model, q, rows);
  }

  private <A> CompletableFuture<A> stream(clojure.lang.IFn rf, Object init) {
    return Clj.aio(Database::cast, "aio-stream", null, instancesQuery(), streamOpts(), rf, init);
  }

  private Object streamOpts() {
    return fetchSize > 0 ? Clj.opts("fetch-size", (long) fetchSize) : Clj.opts();
  }

  /** The counting reducing function of forEach: (count, row) -> count + 1, after action. */
  private clojure.lang.IFn eachRow(java.util.function.Consumer<? super Instance> action, Nesting n) {
    return new clojure.lang.AFunction() {
      @Override
      public Object invoke(Object count, Object row) {
        action.accept(model.instanceOf(row, n));
        return (Long) count + 1;
      }
    };
  }

  /** The reducing function of reduce: (acc, row) -> f(acc, row). */
  private <A> clojure.lang.IFn reducing(java.util.function.BiFunction<? super A, ? super Instance, ? extends A> f,
      Nesting n) {
    return new clojure.lang.AFunction() {
      @Override
      @SuppressWarnings("unchecked")
      public Object invoke(Object acc, Object row) {
        return f.apply((A) acc, model.instanceOf(row, n));
      }
    };
  }

  /**
   * Streams the rows over a cursor, calling {@code action} on each, in
   * order, without holding them all in memory. Outside a transaction the
   * stream takes its own connection (on PostgreSQL in its own transaction,
   * which cursors need); inside {@link Database#aioAtomic} it is one
   * operation of the transaction. An exception from {@code action} stops the
   * stream, closes the cursor and fails the future with that exception.
   *
   * @param action called with each row
   * @return a future of the number of rows seen
   */
  public CompletableFuture<Long> aioForEach(java.util.function.Consumer<? super Instance> action) {
    return Clj.guard(() -> {
      java.util.Objects.requireNonNull(action, "Vireo: aioForEach needs an action");
      return stream(eachRow(action, nesting()), 0L);
    });
  }

  /**
   * Like {@link #aioForEach}, with back-pressure: the next row is handed to
   * {@code action} only when the stage it returned for the previous one
   * completed (the next batch is not fetched before). A failed stage stops
   * the stream and fails the future with its exception.
   *
   * @param action returns a stage for each row ({@code null} means done)
   * @return a future of the number of rows seen
   */
  public CompletableFuture<Long> aioForEachAsync(
      java.util.function.Function<? super Instance, ? extends java.util.concurrent.CompletionStage<?>> action) {
    return Clj.guard(() -> {
      java.util.Objects.requireNonNull(action, "Vireo: aioForEachAsync needs an action");
      Nesting n = nesting();
      return stream(new clojure.lang.AFunction() {
        @Override
        public Object invoke(Object count, Object row) {
          long next = (Long) count + 1;
          java.util.concurrent.CompletionStage<?> st = action.apply(model.instanceOf(row, n));
          return st == null ? (Object) next : Clj.toClojureFuture(st.thenApply(x -> next));
        }
      }, 0L);
    });
  }

  /**
   * Streams the rows over a cursor into an accumulator, like
   * {@link java.util.stream.Stream#reduce}: {@code acc = f(acc, row)} for
   * each row, in order.
   *
   * <pre>{@code
   * long pages = Book.select().aioReduce(0L, (sum, b) -> sum + b.getLong("pages")).join();
   * }</pre>
   *
   * @param init the initial accumulator
   * @param f the next accumulator from the current one and a row
   * @param <A> the accumulator type
   * @return a future of the final accumulator
   */
  public <A> CompletableFuture<A> aioReduce(A init,
      java.util.function.BiFunction<? super A, ? super Instance, ? extends A> f) {
    return Clj.guard(() -> {
      java.util.Objects.requireNonNull(f, "Vireo: aioReduce needs a function");
      return stream(reducing(f, nesting()), init);
    });
  }

  /**
   * Returns the Clojure query data, for Clojure code.
   *
   * @return the query map
   */
  public Object toClojure() {
    return q;
  }

  // ------------------------------------------------------------ blocking
  // Each runs its aio- counterpart through vireo.sync: needs
  // Database#allowSync(), refused on an event loop, throws Vireo's exception.

  /**
   * Blocking {@link #aioExecute(Class)}: each row as a record or POJO.
   *
   * @param type the record or POJO class
   * @param <R> the type
   * @return the rows
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public <R> List<R> execute(Class<R> type) {
    Nesting n = nesting();
    return Clj.sync(v -> {
      List<R> l = new ArrayList<>();
      for (Instance i : model.instances(v, n)) {
        l.add(i.as(type));
      }
      return l;
    }, "aio-execute", instancesQuery(), Clj.opts());
  }

  /**
   * Blocking {@link #aioForEach}: streams the rows over a cursor, calling
   * {@code action} on each on the calling thread's behalf.
   *
   * @param action called with each row
   * @return the number of rows seen
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public long forEach(java.util.function.Consumer<? super Instance> action) {
    java.util.Objects.requireNonNull(action, "Vireo: forEach needs an action");
    return Clj.sync(Model::toLong, "aio-stream", null, instancesQuery(), streamOpts(), eachRow(action, nesting()), 0L);
  }

  /**
   * Blocking {@link #aioReduce}.
   *
   * @param init the initial accumulator
   * @param f the next accumulator from the current one and a row
   * @param <A> the accumulator type
   * @return the final accumulator
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public <A> A reduce(A init, java.util.function.BiFunction<? super A, ? super Instance, ? extends A> f) {
    java.util.Objects.requireNonNull(f, "Vireo: reduce needs a function");
    return Clj.sync(Database::cast, "aio-stream", null, instancesQuery(), streamOpts(), reducing(f, nesting()), init);
  }

  /**
   * Blocking {@link #aioCount()}.
   *
   * @return the number of rows the query yields
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public long count() {
    return Clj.sync(Model::toLong, "aio-count", q, Clj.opts());
  }

  /**
   * Blocking {@link #aioExists()}.
   *
   * @return true when the query yields a row
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public boolean exists() {
    return Clj.sync(v -> RT.booleanCast(v), "aio-exists", q, Clj.opts());
  }

  /**
   * Blocking {@link #aioScalar()}.
   *
   * @return the first column of the first row, or {@code null}
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public Object scalar() {
    return Clj.sync(Clj::toJava, "aio-scalar", q, Clj.opts());
  }

  /**
   * Blocking {@link #aioFirst()}.
   *
   * @return the first row, or {@code null}
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public Instance first() {
    Nesting n = nesting();
    return Clj.sync(v -> model.instanceOf(v, n), "aio-first", instancesQuery(), 1L, Clj.opts());
  }

  /**
   * Blocking {@link #aioGet()}.
   *
   * @return the first row
   * @throws DoesNotExistException when there is none
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public Instance get() {
    Nesting n = nesting();
    return Clj.sync(v -> model.instanceOf(v, n), "aio-get", instancesQuery());
  }

  /**
   * Blocking {@link #aioGetOrNone()}.
   *
   * @return the first row, or {@code null}
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public Instance getOrNone() {
    Nesting n = nesting();
    return Clj.sync(v -> model.instanceOf(v, n), "aio-get-or-none", instancesQuery());
  }

  /**
   * Blocking {@link #aioMaps()}.
   *
   * @return the rows as maps
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  @SuppressWarnings("unchecked")
  public List<Map<String, Object>> maps() {
    return Clj.sync(v -> {
      List<Map<String, Object>> l = new ArrayList<>();
      for (Object row : Clj.list(v)) {
        l.add((Map<String, Object>) Clj.toJava(row));
      }
      return l;
    }, "aio-execute", Clj.call("as-maps", q));
  }

  /**
   * Blocking {@link #aioTuples()}.
   *
   * @return the rows as lists, in projection order
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  @SuppressWarnings("unchecked")
  public List<List<Object>> tuples() {
    return Clj.sync(v -> {
      List<List<Object>> l = new ArrayList<>();
      for (Object row : Clj.list(v)) {
        l.add((List<Object>) Clj.toJava(row));
      }
      return l;
    }, "aio-execute", Clj.call("as-vectors", q));
  }

  /**
   * Blocking {@link #aioPrefetch(SelectQuery...)}.
   *
   * @param subqueries the related queries
   * @return the instances with the related rows linked in
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public List<Instance> prefetch(SelectQuery... subqueries) {
    Object[] a = new Object[subqueries.length + 1];
    a[0] = q;
    for (int i = 0; i < subqueries.length; i++) {
      a[i + 1] = subqueries[i].q;
    }
    Nesting n = nesting();
    return Clj.sync(v -> model.instances(v, n), "aio-prefetch", a);
  }
}
