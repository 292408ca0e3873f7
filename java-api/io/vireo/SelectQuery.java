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
import org.jspecify.annotations.Nullable;

/**
 * A select over a model whose rows are {@code R}, built fluently (each
 * refinement returns a new query; queries are immutable values) and run by
 * one of the {@code aio*} methods: {@link #aioExecute()} for the rows,
 * {@link #aioMaps()}, {@link #aioTuples()}, {@link #aioCount()}, …;
 * {@link #as(Class)} reads the rows as another record (a projection).
 *
 * <pre>{@code
 * List<Book> books = Books.select()
 *     .where(Where.gt(Book::pages, 10))
 *     .orderBy(Expr.desc(Book::pages))
 *     .limit(10)
 *     .aioExecute().join();
 * }</pre>
 *
 * @param <R> the row type: the model's record, {@link Instance}, or the class given to {@link #as(Class)}
 */
public final class SelectQuery<R> {
  /** How {@link #aioPrefetch(PrefetchStrategy, SelectQuery...)} restricts each level to its parents' rows. */
  public enum PrefetchStrategy {
    /** {@code WHERE key IN (SELECT parent keys …)} (the default). */
    WHERE,
    /** A join on the DISTINCT parent keys (faster on some databases for large parent levels). */
    JOIN
  }

  private final Model<?> model;
  private final Object q;
  private final RowType<R> rows;
  private final int fetchSize;

  SelectQuery(Model<?> model, Object q, RowType<R> rows) {
    this(model, q, rows, 0);
  }

  private SelectQuery(Model<?> model, Object q, RowType<R> rows, int fetchSize) {
    this.model = model;
    this.q = q;
    this.rows = rows;
    this.fetchSize = fetchSize;
  }

  Object form() {
    return q;
  }

  private SelectQuery<R> with(Object newQuery) {
    return new SelectQuery<>(model, newQuery, rows, fetchSize);
  }

  private @Nullable R row(@Nullable Object v, @Nullable Nesting n) {
    return rows.read(model, v, n);
  }

  private List<R> rowList(@Nullable Object v, @Nullable Nesting n) {
    return rows.readAll(model, v, n);
  }

  /**
   * Returns this query reading its rows as another record (or POJO) class,
   * by component name: a projection of aggregates, aliases or joined fields.
   * {@code as(Instance.class)} reads them as instances.
   *
   * <pre>{@code
   * record Total(Long author, Long total) {}
   * List<Total> totals = Books.select("author", Expr.sum("pages").as("total"))
   *     .groupBy("author").as(Total.class).aioExecute().join();
   * }</pre>
   *
   * @param type the record or POJO class
   * @param <T> the row type
   * @return the query yielding {@code T}s
   */
  public <T> SelectQuery<T> as(Class<T> type) {
    return new SelectQuery<>(model, q, RowType.of(type), fetchSize);
  }

  /** The query yielding instances, and the models of their joined instances. */
  private Object instancesQuery() {
    // no :vireo/as means instances already: no new query per run
    Object as = RT.get(q, AS);
    return as == null || as == INSTANCES ? q : Clj.call("as-instances", q);
  }

  private static final Keyword AS = Keyword.intern("vireo", "as");
  private static final Keyword INSTANCES = Keyword.intern("instances");

  private @Nullable Nesting nesting() {
    return Nesting.of(model.dynamic(), q);
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
  public Model<?> model() {
    return model;
  }

  /**
   * Adds a condition (ANDed with earlier ones).
   *
   * @param condition the condition
   * @return the new query
   */
  public SelectQuery<R> where(Where condition) {
    return with(Clj.call("where", q, condition.form()));
  }

  /**
   * Adds a Django-style filter map (ANDed): {@code Map.of("pages__gte", 20)}.
   *
   * @param filter field (with optional {@code __lookup}) to value
   * @return the new query
   */
  public SelectQuery<R> where(Map<String, ?> filter) {
    return with(Clj.call("where", q, Clj.filterMap(filter)));
  }

  /**
   * Joins a model, the ON condition taken from a foreign key between it and
   * a model already in the query.
   *
   * @param target the model to join
   * @return the new query
   */
  public SelectQuery<R> join(Model<?> target) {
    return with(Clj.call("join", q, target.toClojure()));
  }

  /**
   * Joins a model with options (type, ON, alias, attribute).
   *
   * @param target the model to join
   * @param join the options
   * @return the new query
   */
  public SelectQuery<R> join(Model<?> target, Join join) {
    return with(Clj.call("join", q, target.toClojure(), join.toClojure()));
  }

  /**
   * Orders by fields (ascending) or {@link Expr}s ({@code Expr.field("n").desc()}),
   * replacing any earlier order.
   *
   * @param items field names or expressions
   * @return the new query
   */
  public SelectQuery<R> orderBy(Object... items) {
    return with(Clj.call("order-by", cons(q, items(items))));
  }

  /**
   * Orders by fields named by property references, ascending, replacing any
   * earlier order: {@code orderBy(Block::key)}; {@link Expr#desc(Property)}
   * for descending.
   *
   * @param fields the fields
   * @return the new query
   */
  @SafeVarargs
  public final SelectQuery<R> orderBy(Property<R, ?>... fields) {
    return orderBy((Object[]) Properties.names(fields.length, i -> fields[i]));
  }

  /**
   * Sets LIMIT.
   *
   * @param n the maximum number of rows
   * @return the new query
   */
  public SelectQuery<R> limit(long n) {
    return with(Clj.call("limit", q, n));
  }

  /**
   * Sets OFFSET.
   *
   * @param n the rows to skip
   * @return the new query
   */
  public SelectQuery<R> offset(long n) {
    return with(Clj.call("offset", q, n));
  }

  /**
   * Limits to one page of rows.
   *
   * @param page the page, from 1
   * @param perPage rows per page
   * @return the new query
   */
  public SelectQuery<R> paginate(long page, long perPage) {
    return with(Clj.call("paginate", q, page, perPage));
  }

  /**
   * Makes it SELECT DISTINCT.
   *
   * @return the new query
   */
  public SelectQuery<R> distinct() {
    return with(Clj.call("distinct", q));
  }

  /**
   * Groups by fields or expressions.
   *
   * @param items field names or expressions
   * @return the new query
   */
  public SelectQuery<R> groupBy(Object... items) {
    return with(Clj.call("group-by", cons(q, items(items))));
  }

  /**
   * Groups by fields named by property references: {@code groupBy(Book::author)}.
   *
   * @param fields the fields
   * @return the new query
   */
  @SafeVarargs
  public final SelectQuery<R> groupBy(Property<R, ?>... fields) {
    return groupBy((Object[]) Properties.names(fields.length, i -> fields[i]));
  }

  /**
   * Adds a HAVING condition (ANDed).
   *
   * @param condition the condition, e.g. {@code Where.of(">", Expr.sum("pages"), 40)}
   * @return the new query
   */
  public SelectQuery<R> having(Where condition) {
    return with(Clj.call("having", q, condition.form()));
  }

  /**
   * Locks the selected rows: FOR UPDATE (refused on SQLite).
   *
   * @return the new query
   */
  public SelectQuery<R> forUpdate() {
    return with(Clj.call("for-update", q));
  }

  /**
   * Locks the selected rows in a mode: {@link LockMode#SHARE},
   * {@link LockMode#NO_KEY_UPDATE}, {@link LockMode#KEY_SHARE} (PostgreSQL).
   *
   * @param mode the lock mode
   * @return the new query
   */
  public SelectQuery<R> forUpdate(LockMode mode) {
    return with(Clj.call("for-update", q, Clj.keyword(mode)));
  }

  /**
   * Locks the selected rows in a mode, not waiting for rows other
   * transactions hold: {@link LockWait#NOWAIT} fails at once (PostgreSQL,
   * MySQL 8, MariaDB 10.6), {@link LockWait#SKIP_LOCKED} leaves them out of
   * the result (the usual way to take jobs from a queue table).
   *
   * @param mode the lock mode
   * @param wait what to do about locked rows
   * @return the new query
   */
  public SelectQuery<R> forUpdate(LockMode mode, LockWait wait) {
    return with(Clj.call("for-update", q,
        clojure.lang.PersistentVector.create(Clj.keyword(mode), Clj.keyword(wait))));
  }

  /**
   * UNION with other selects.
   *
   * @param others the other selects
   * @return the compound query
   */
  public SelectQuery<R> union(SelectQuery<?>... others) {
    return compound("union", others);
  }

  /**
   * UNION ALL with other selects.
   *
   * @param others the other selects
   * @return the compound query
   */
  public SelectQuery<R> unionAll(SelectQuery<?>... others) {
    return compound("union-all", others);
  }

  /**
   * INTERSECT with other selects.
   *
   * @param others the other selects
   * @return the compound query
   */
  public SelectQuery<R> intersect(SelectQuery<?>... others) {
    return compound("intersect", others);
  }

  /**
   * EXCEPT the other selects.
   *
   * @param others the other selects
   * @return the compound query
   */
  public SelectQuery<R> except(SelectQuery<?>... others) {
    return compound("except", others);
  }

  private SelectQuery<R> compound(String fn, SelectQuery<?>... others) {
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
   * @return a future of its rows (joined models projected in the query nest
   *     under their foreign key or {@link Join#attr(String)}, as instances of
   *     the joined model, or as a record component of that name)
   */
  public CompletableFuture<List<R>> aioExecute() {
    return Clj.guard(() -> {
      Nesting n = nesting();
      return Clj.aio(v -> rowList(v, n), "aio-execute", instancesQuery());
    });
  }

  /**
   * Runs the query, each row as a map: field names for the model's fields,
   * {@code "alias/field"} for joined models' fields, aliases for expressions.
   *
   * @return a future of the rows
   */
  public CompletableFuture<List<Map<String, Object>>> aioMaps() {
    return Clj.guard(() -> Clj.aio(SelectQuery::maps, "aio-execute", Clj.call("as-maps", q)));
  }

  /**
   * Runs the query, each row as a list of values in projection order.
   *
   * @return a future of the rows
   */
  public CompletableFuture<List<List<Object>>> aioTuples() {
    return Clj.guard(() -> Clj.aio(SelectQuery::tuples, "aio-execute", Clj.call("as-vectors", q)));
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> maps(Object v) {
    List<Map<String, Object>> l = new ArrayList<>();
    for (Object row : Clj.list(v)) {
      l.add((Map<String, Object>) Clj.toJava(row));
    }
    return l;
  }

  @SuppressWarnings("unchecked")
  private static List<List<Object>> tuples(Object v) {
    List<List<Object>> l = new ArrayList<>();
    for (Object row : Clj.list(v)) {
      l.add((List<Object>) Clj.toJava(row));
    }
    return l;
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
  public CompletableFuture<@Nullable Object> aioScalar() {
    return Clj.guard(() -> Clj.aio(Clj::toJava, "aio-scalar", q));
  }

  /**
   * Returns the first row (the query's LIMIT set to 1).
   *
   * @return a future of the row, or {@code null} when there is none
   */
  public CompletableFuture<@Nullable R> aioFirst() {
    return Clj.guard(() -> {
      Nesting n = nesting();
      return Clj.aio(v -> row(v, n), "aio-first", instancesQuery());
    });
  }

  /**
   * Returns the first {@code n} rows (the query's LIMIT set to {@code n}).
   *
   * @param n the number of rows, at least 1
   * @return a future of up to {@code n} rows (empty when there are none)
   */
  public CompletableFuture<List<R>> aioFirst(int n) {
    return Clj.guard(() -> rows("aio-first", n));
  }

  /**
   * Returns the first row without changing the query's LIMIT (peewee's
   * {@code peek}; Vireo fetches only that row).
   *
   * @return a future of the row, or {@code null} when there is none
   */
  public CompletableFuture<@Nullable R> aioPeek() {
    return Clj.guard(() -> {
      Nesting nest = nesting();
      return Clj.aio(v -> row(v, nest), "aio-peek", instancesQuery(), 1L);
    });
  }

  /**
   * Returns up to {@code n} rows without changing the query's LIMIT
   * (fetching only those).
   *
   * @param n the number of rows, at least 1
   * @return a future of up to {@code n} rows (empty when there are none)
   */
  public CompletableFuture<List<R>> aioPeek(int n) {
    return Clj.guard(() -> rows("aio-peek", n));
  }

  private CompletableFuture<List<R>> rows(String fn, int n) {
    if (n < 1) {
      throw new IllegalArgumentException("Vireo: " + fn + " needs n >= 1, got " + n);
    }
    Nesting nest = nesting();
    return Clj.aio(v -> {
      if (v == null) {
        return new ArrayList<>();
      }
      if (n == 1) {
        List<R> one = new ArrayList<>();
        one.add(row(v, nest));
        return one;
      }
      return rowList(v, nest);
    }, fn, instancesQuery(), (long) n);
  }

  /**
   * Returns the first row, failing when there is none.
   *
   * @return a future of the row; fails with {@link DoesNotExistException}
   *     (carrying the SQL and parameters) when there is none
   */
  public CompletableFuture<R> aioGet() {
    return Clj.guard(() -> {
      Nesting n = nesting();
      return Clj.aio(v -> row(v, n), "aio-get", instancesQuery());
    });
  }

  /**
   * Returns the first row, or {@code null}.
   *
   * @return a future of the row or {@code null}
   */
  public CompletableFuture<@Nullable R> aioGetOrNone() {
    return Clj.guard(() -> {
      Nesting n = nesting();
      return Clj.aio(v -> row(v, n), "aio-get-or-none", instancesQuery());
    });
  }

  /**
   * Runs the query and links in the rows of subqueries, one query per level:
   * a subquery whose model references an earlier level fills that level's
   * backref list ({@link Instance#getInstances(String)}, or a record
   * component {@code List<Child>} of the backref's name); one an earlier level
   * references replaces its raw keys ({@link Instance#getInstance(String)}).
   *
   * <pre>{@code
   * List<Instance> authors = Author.select().aioPrefetch(Book.select()).join();
   * authors.get(0).getInstances("books");
   * }</pre>
   *
   * @param subqueries the subqueries, in level order
   * @return a future of the query's rows with the levels linked
   */
  public CompletableFuture<List<R>> aioPrefetch(SelectQuery<?>... subqueries) {
    return aioPrefetch(PrefetchStrategy.WHERE, subqueries);
  }

  /**
   * Like {@link #aioPrefetch(SelectQuery...)}, choosing how each level is
   * restricted to the rows of its parent level.
   *
   * @param strategy {@link PrefetchStrategy#WHERE} (IN a subquery) or {@link PrefetchStrategy#JOIN}
   * @param subqueries the subqueries, in level order
   * @return a future of the query's rows with the levels linked
   */
  public CompletableFuture<List<R>> aioPrefetch(PrefetchStrategy strategy, SelectQuery<?>... subqueries) {
    return Clj.guard(() -> {
      Object[] a = prefetchArgs(subqueries, 2);
      a[a.length - 1] = Clj.opts("strategy", Keyword.intern(strategy.name().toLowerCase(java.util.Locale.ROOT)));
      Nesting n = nesting();
      return Clj.aio(v -> rowList(v, n), "aio-prefetch", a);
    });
  }

  private Object[] prefetchArgs(SelectQuery<?>[] subqueries, int extra) {
    Object[] a = new Object[subqueries.length + extra];
    a[0] = q;
    for (int i = 0; i < subqueries.length; i++) {
      a[i + 1] = subqueries[i].q;
    }
    return a;
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
  public SelectQuery<R> fetchSize(int rows) {
    if (rows < 1) {
      throw new IllegalArgumentException("Vireo: fetchSize needs at least 1 row, got " + rows);
    }
    return new SelectQuery<>(model, q, this.rows, rows);
  }

  private <A> CompletableFuture<A> stream(clojure.lang.IFn rf, @Nullable Object init) {
    return Clj.aio(Database::cast, "aio-stream", null, instancesQuery(), streamOpts(), rf, init);
  }

  private Object streamOpts() {
    return fetchSize > 0 ? Clj.opts("fetch-size", (long) fetchSize) : Clj.opts();
  }

  /** The counting reducing function of forEach: (count, row) -> count + 1, after action. */
  private clojure.lang.IFn eachRow(java.util.function.Consumer<? super R> action, @Nullable Nesting n) {
    return new clojure.lang.AFunction() {
      @Override
      public Object invoke(Object count, Object row) {
        action.accept(row(row, n));
        return (Long) count + 1;
      }
    };
  }

  /** The reducing function of reduce: (acc, row) -> f(acc, row). */
  private <A> clojure.lang.IFn reducing(java.util.function.BiFunction<? super A, ? super R, ? extends A> f,
      @Nullable Nesting n) {
    return new clojure.lang.AFunction() {
      @Override
      @SuppressWarnings("unchecked")
      public Object invoke(Object acc, Object row) {
        return f.apply((A) acc, row(row, n));
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
  public CompletableFuture<Long> aioForEach(java.util.function.Consumer<? super R> action) {
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
      java.util.function.Function<? super R, ? extends java.util.concurrent.@Nullable CompletionStage<?>> action) {
    return Clj.guard(() -> {
      java.util.Objects.requireNonNull(action, "Vireo: aioForEachAsync needs an action");
      Nesting n = nesting();
      return stream(new clojure.lang.AFunction() {
        @Override
        public Object invoke(Object count, Object row) {
          long next = (Long) count + 1;
          java.util.concurrent.CompletionStage<?> st = action.apply(row(row, n));
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
   * long pages = Books.select().aioReduce(0L, (sum, b) -> sum + b.pages()).join();
   * }</pre>
   *
   * @param init the initial accumulator
   * @param f the next accumulator from the current one and a row
   * @param <A> the accumulator type
   * @return a future of the final accumulator
   */
  public <A> CompletableFuture<A> aioReduce(A init,
      java.util.function.BiFunction<? super A, ? super R, ? extends A> f) {
    return Clj.guard(() -> {
      java.util.Objects.requireNonNull(f, "Vireo: aioReduce needs a function");
      return stream(reducing(f, nesting()), init);
    });
  }

  /**
   * Returns the rows as a {@link java.util.concurrent.Flow.Publisher}, streamed
   * over a cursor with back-pressure (see {@link #aioForEachAsync}): a row is
   * fetched and handed to {@code onNext} only against demand, {@code cancel()}
   * closes the cursor and returns the connection, a failure goes to
   * {@code onError}. Each subscription runs the query in the scope current
   * here (made inside {@link Database#aioAtomic}, it reads in that
   * transaction). Works with any Reactive Streams library through
   * {@code FlowAdapters} (Reactor's {@code JdkFlowAdapter}, Mutiny's {@code Multi.createFrom().publisher}).
   *
   * @return the publisher
   */
  public java.util.concurrent.Flow.Publisher<R> publisher() {
    Nesting n = nesting();
    return new RowPublisher<R>(null, instancesQuery(), streamOpts(), row -> row(row, n));
  }

  /**
   * Returns this query with common table expressions (WITH), which its
   * conditions can read by name ({@code Where.in("id", Query.select("id").from("cte"))}).
   *
   * @param ctes the CTEs, in order
   * @return the new query
   */
  public SelectQuery<R> with(Cte... ctes) {
    return with(Clj.call("with-cte", q, Cte.forms(ctes)));
  }

  /**
   * Returns this query with recursive common table expressions (WITH RECURSIVE).
   *
   * @param ctes the CTEs, in order
   * @return the new query
   */
  public SelectQuery<R> withRecursive(Cte... ctes) {
    return with(Clj.call("with-cte", q, Cte.forms(ctes), Clj.opts("recursive", Boolean.TRUE)));
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
   * Blocking {@link #aioExecute()}: needs {@link Database#allowSync()}.
   *
   * @return the rows
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public List<R> execute() {
    Nesting n = nesting();
    return Clj.sync(v -> rowList(v, n), "aio-execute", instancesQuery(), Clj.opts());
  }

  /**
   * Blocking {@link #aioForEach}: streams the rows over a cursor, calling
   * {@code action} on each on the calling thread's behalf.
   *
   * @param action called with each row
   * @return the number of rows seen
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public long forEach(java.util.function.Consumer<? super R> action) {
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
  public <A> A reduce(A init, java.util.function.BiFunction<? super A, ? super R, ? extends A> f) {
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
  public @Nullable Object scalar() {
    return Clj.sync(Clj::toJava, "aio-scalar", q, Clj.opts());
  }

  /**
   * Blocking {@link #aioFirst()}.
   *
   * @return the first row, or {@code null}
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public @Nullable R first() {
    Nesting n = nesting();
    return Clj.sync(v -> row(v, n), "aio-first", instancesQuery(), 1L, Clj.opts());
  }

  /**
   * Blocking {@link #aioGet()}.
   *
   * @return the first row
   * @throws DoesNotExistException when there is none
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public R get() {
    Nesting n = nesting();
    return Clj.sync(v -> row(v, n), "aio-get", instancesQuery());
  }

  /**
   * Blocking {@link #aioGetOrNone()}.
   *
   * @return the first row, or {@code null}
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public @Nullable R getOrNone() {
    Nesting n = nesting();
    return Clj.sync(v -> row(v, n), "aio-get-or-none", instancesQuery());
  }

  /**
   * Blocking {@link #aioMaps()}.
   *
   * @return the rows as maps
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public List<Map<String, Object>> maps() {
    return Clj.sync(SelectQuery::maps, "aio-execute", Clj.call("as-maps", q));
  }

  /**
   * Blocking {@link #aioTuples()}.
   *
   * @return the rows as lists, in projection order
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public List<List<Object>> tuples() {
    return Clj.sync(SelectQuery::tuples, "aio-execute", Clj.call("as-vectors", q));
  }

  /**
   * Blocking {@link #aioPrefetch(SelectQuery...)}.
   *
   * @param subqueries the related queries
   * @return the rows with the related rows linked in
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public List<R> prefetch(SelectQuery<?>... subqueries) {
    Object[] a = prefetchArgs(subqueries, 1);
    Nesting n = nesting();
    return Clj.sync(v -> rowList(v, n), "aio-prefetch", a);
  }
}
