package io.vireo;

import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * a DELETE over a model's table, refined with {@code where} and run with
 * {@link #aioExecute()}.
 *
 * <pre>{@code
 * long n = Book.delete().where(Where.lt("pages", 10)).aioExecute().join();
 * }</pre>
 */
public final class DeleteQuery {
  private final Model<?> model;
  private final Object q;

  DeleteQuery(Model<?> model, Object q) {
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
  public DeleteQuery where(Where condition) {
    return new DeleteQuery(model, Clj.call("where", q, condition.form()));
  }

  /**
   * Adds a Django-style filter map (ANDed).
   *
   * @param filter field (with optional {@code __lookup}) to value
   * @return the new query
   */
  public DeleteQuery where(Map<String, ?> filter) {
    return new DeleteQuery(model, Clj.call("where", q, Clj.filterMap(filter)));
  }

  /**
   * Runs the statement.
   *
   * @return a future of the number of rows deleted
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
   * @return the number of rows deleted
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
