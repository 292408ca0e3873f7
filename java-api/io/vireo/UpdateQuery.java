package io.vireo;

import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * an UPDATE over a model's table, refined with {@code where} and run with
 * {@link #aioExecute()}.
 *
 * <pre>{@code
 * long n = Book.update(Map.of("pages", 0)).where(Where.eq("title", "A1")).aioExecute().join();
 * }</pre>
 *
 * @param <R> the model's row type
 */
public final class UpdateQuery<R> {
  private final Model<R> model;
  private final Object q;
  private static final Object SET = Clj.keyword("vireo/set");

  UpdateQuery(Model<R> model, Object q) {
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
  public UpdateQuery<R> where(Where condition) {
    return new UpdateQuery<>(model, Clj.call("where", q, condition.form()));
  }

  /**
   * Adds a Django-style filter map (ANDed).
   *
   * @param filter field (with optional {@code __lookup}) to value
   * @return the new query
   */
  public UpdateQuery<R> where(Map<String, ?> filter) {
    return new UpdateQuery<>(model, Clj.call("where", q, Clj.filterMap(filter)));
  }

  /**
   * Sets one more field, typed by a {@link Property}: the value must have
   * the field's type ({@code .set(Book::pages, 0)}); a later value for the
   * same field wins.
   *
   * @param field the field, a method reference such as {@code Book::pages}
   * @param value its new value ({@code null}: NULL)
   * @param <T> the field's type
   * @return the new query
   * @throws IllegalArgumentException when {@code field} is a lambda, not a method reference
   */
  public <T> UpdateQuery<R> set(Property<R, T> field, @Nullable T value) {
    Object one = model.values(java.util.Collections.singletonMap(Properties.of(field), value), false);
    return new UpdateQuery<>(model, Clj.call("clojure.core/update", q, SET, Clj.fn("clojure.core/merge"), one));
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
   * @return a future of the affected rows, as the model's rows (records for a typed model)
   */
  public CompletableFuture<List<R>> aioReturning(String... fields) {
    return Clj.aioReturning(model::rowsOf, q, fields);
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
   * @return the rows written, as the model's rows (records for a typed model)
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public List<R> returning(String... fields) {
    return Clj.syncReturning(model::rowsOf, q, fields);
  }
}
