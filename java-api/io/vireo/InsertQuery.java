package io.vireo;

import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * An INSERT of one row ({@link Model#insert(Map)}; {@link #aioExecute()}
 * yields its key) or of many in one statement ({@link Model#insertMany(List)};
 * yields the list of keys).
 *
 * <pre>{@code
 * Object id = Book.insert(Map.of("title", "A1")).aioExecute().join();
 * List<Object> ids = Book.insertMany(List.of(Map.of("title", "x"), Map.of("title", "y"))).aioExecute().join();
 * Book.insert(Map.of("title", "A1")).onConflictIgnore().aioExecute().join();   // null when skipped (not on MariaDB)
 * }</pre>
 *
 * @param <R> what {@link #aioExecute()} yields
 */
public final class InsertQuery<R> {
  private final Model<?> model;
  private final Object q;
  private final Function<Object, R> result;

  InsertQuery(Model<?> model, Object q, Function<Object, R> result) {
    this.model = model;
    this.q = q;
    this.result = result;
  }

  Object form() {
    return q;
  }

  /**
   * Skips rows that violate a unique constraint (ON CONFLICT DO NOTHING /
   * INSERT IGNORE); a skipped row's key is {@code null} (on MariaDB, the
   * existing row's key: see docs/queries.md).
   *
   * @return the new query
   */
  public InsertQuery<R> onConflictIgnore() {
    return new InsertQuery<>(model, Clj.call("on-conflict-ignore", q), result);
  }

  /**
   * Makes it an upsert: on a conflict over {@code target} (ignored on MariaDB,
   * which uses any unique key) the named fields take the proposed row's values.
   *
   * @param target the conflicting unique fields
   * @param updateFields the fields to update
   * @return the new query
   */
  public InsertQuery<R> onConflictUpdate(List<String> target, List<String> updateFields) {
    return new InsertQuery<>(model, Clj.call("on-conflict", q,
        Clj.opts("target", Clj.refs(target.toArray(new String[0])),
            "update", Clj.refs(updateFields.toArray(new String[0])))), result);
  }

  /**
   * Makes it an upsert setting values or {@link Expr}s on a conflict over {@code target}.
   *
   * @param target the conflicting unique fields
   * @param updates field to value or expression
   * @return the new query
   */
  public InsertQuery<R> onConflictUpdate(List<String> target, Map<String, ?> updates) {
    return new InsertQuery<>(model, Clj.call("on-conflict", q,
        Clj.opts("target", Clj.refs(target.toArray(new String[0])), "update", Clj.filterMap(updates))), result);
  }

  /**
   * Runs the insert.
   *
   * @return a future of the new key (one row) or keys (many rows)
   */
  public CompletableFuture<R> aioExecute() {
    return Clj.guard(() -> Clj.aio(result, "aio-execute", q));
  }

  /**
   * Runs the insert with RETURNING.
   *
   * @param fields the fields to return (none: all)
   * @return a future of the inserted rows as instances
   */
  public CompletableFuture<List<Instance>> aioReturning(String... fields) {
    return Clj.aioReturning(model, q, fields);
  }

  /**
   * Runs the insert, counting rows instead of returning keys.
   *
   * @return a future of the number of rows inserted
   */
  public CompletableFuture<Long> aioRowCount() {
    return Clj.guard(() -> Clj.aio(Model::toLong, "aio-execute", Clj.call("as-rowcount", q)));
  }

  /**
   * Synchronous {@link #aioExecute()}: needs {@link Database#allowSync()}.
   *
   * @return the new key or keys
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block
   */
  public R execute() {
    return result.apply(Clj.call("execute!", q));
  }

  /**
   * Returns the Clojure query data, for Clojure code.
   *
   * @return the query map
   */
  public Object toClojure() {
    return q;
  }

  /**
   * Blocking {@link #aioReturning(String...)} (needs {@link Database#allowSync()}).
   *
   * @param fields the fields to return (none: all)
   * @return the rows written, as instances
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public List<Instance> returning(String... fields) {
    return Clj.syncReturning(model, q, fields);
  }

  /**
   * Blocking {@link #aioRowCount()} (needs {@link Database#allowSync()}).
   *
   * @return the number of rows inserted
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public long rowCount() {
    return Clj.sync(Model::toLong, "aio-execute", Clj.call("as-rowcount", q));
  }
}
