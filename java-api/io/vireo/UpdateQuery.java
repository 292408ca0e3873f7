package io.vireo;

import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * an UPDATE over a model's table, refined with {@code where} and run with
 * {@link #aioExecute()}.
 *
 * <pre>{@code
 * long n = Book.update(Map.of("pages", 0)).where(Where.eq("title", "A1")).aioExecute().join();
 * }</pre>
 */
public final class UpdateQuery {
  private final Model<?> model;
  private final Object q;

  UpdateQuery(Model<?> model, Object q) {
    this.model = model;
    this.q = q;
  }

  Object form() {
    return q;
  }

  /**
   * Adds a condition (ANDed with earlier ones).
   *
   * @param condition the condition
   * @return the new query
   */
  public UpdateQuery where(Where condition) {
    return new UpdateQuery(model, Clj.call("where", q, condition.form()));
  }

  /**
   * Adds a Django-style filter map (ANDed).
   *
   * @param filter field (with optional {@code __lookup}) to value
   * @return the new query
   */
  public UpdateQuery where(Map<String, ?> filter) {
    return new UpdateQuery(model, Clj.call("where", q, Clj.filterMap(filter)));
  }

  /**
   * Runs the statement.
   *
   * @return a future of the number of rows updated
   */
  public CompletableFuture<Long> aioExecute() {
    return Clj.aio(Model::toLong, "aio-execute", q); // Clj.aio throws nothing: no guard needed
  }

  /**
   * Runs the statement with RETURNING (refused with {@link VireoException} ({@link ErrorType#NOT_SUPPORTED})
   * where the database cannot, e.g. UPDATE on MariaDB).
   *
   * @param fields the fields to return (none: all)
   * @return a future of the affected rows as instances
   */
  public CompletableFuture<List<Instance>> aioReturning(String... fields) {
    return Clj.aioReturning(model, q, fields);
  }

  /**
   * Synchronous {@link #aioExecute()}: needs {@link Database#allowSync()}.
   *
   * @return the number of rows updated
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block
   */
  public long execute() {
    return Model.toLong(Clj.call("execute!", q));
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
}
