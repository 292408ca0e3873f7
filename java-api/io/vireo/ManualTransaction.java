package io.vireo;

import clojure.lang.IPersistentMap;
import clojure.lang.PersistentArrayMap;
import clojure.lang.RT;
import java.util.concurrent.CompletableFuture;

/**
 * A transaction (or savepoint) you end yourself, from
 * {@link Database#aioBegin()} / {@link Connection#aioBegin()} (BEGIN) or
 * {@link Database#aioSavepoint()} / {@link Connection#aioSavepoint()}
 * (SAVEPOINT): Clojure's {@code aio-begin} / {@code aio-savepoint} handles.
 * They are only available inside {@link Database#aioConnection}, whose
 * connection they run on; a transaction still open when that scope ends is
 * rolled back before the connection goes back to the pool.
 *
 * <pre>{@code
 * db.aioConnection(conn -> conn.aioBegin()
 *     .thenCompose(tx -> Author.aioCreate(Map.of("name", "ann"))
 *         .thenCompose(ann -> tx.aioCommit())));
 * }</pre>
 *
 * <p>Prefer {@link Database#aioAtomic}, which commits or rolls back for you.
 */
public final class ManualTransaction {
  private final Database database;
  private final Object handle;

  private ManualTransaction(Database database, Object handle) {
    this.database = database;
    this.handle = handle;
  }

  private static IPersistentMap scope(Object level) {
    return level == null ? PersistentArrayMap.EMPTY : Clj.opts("connection", level);
  }

  static CompletableFuture<ManualTransaction> begin(Database database, Object level, TransactionOptions options) {
    return Clj.guard(() -> {
      IPersistentMap opts = scope(level);
      if (options != null) {
        Object o = options.toClojure();
        for (Object e : (Iterable<?>) o) {
          clojure.lang.MapEntry me = (clojure.lang.MapEntry) e;
          opts = opts.assoc(me.key(), me.val());
        }
      }
      return Clj.aio(h -> new ManualTransaction(database, h), "aio-begin", database.toClojure(), opts);
    });
  }

  static CompletableFuture<ManualTransaction> savepoint(Database database, Object level) {
    return Clj.guard(() -> Clj.aio(h -> new ManualTransaction(database, h), "aio-savepoint",
        database.toClojure(), scope(level)));
  }

  /**
   * Returns the database of this transaction.
   *
   * @return the database
   */
  public Database database() {
    return database;
  }

  /**
   * Tells whether this handle is a savepoint (from {@code aioSavepoint}).
   *
   * @return true for a savepoint, false for a transaction
   */
  public boolean isSavepoint() {
    return RT.get(handle, Clj.key("savepoint")) != null;
  }

  /**
   * Commits the transaction (COMMIT), or releases the savepoint (RELEASE SAVEPOINT).
   *
   * @return a future completing when done
   */
  public CompletableFuture<Void> aioCommit() {
    return Clj.guard(() -> Clj.aio(v -> null, "aio-commit", handle));
  }

  /**
   * Rolls back the transaction (ROLLBACK), or to the savepoint (ROLLBACK TO SAVEPOINT).
   *
   * @return a future completing when done
   */
  public CompletableFuture<Void> aioRollback() {
    return Clj.guard(() -> Clj.aio(v -> null, "aio-rollback", handle));
  }

  /**
   * Returns the Clojure handle (for {@code aio-commit} / {@code aio-rollback} in Clojure code).
   *
   * @return the handle
   */
  public Object toClojure() {
    return handle;
  }
}
