package io.vireo;

import clojure.lang.AFunction;
import clojure.lang.RT;
import clojure.lang.Var;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The handle of a pooled connection pinned by
 * {@link Database#aioConnection(Function)} (Clojure's {@code aio-connection}):
 * no transaction is opened, but every operation the body starts — and those
 * chained on their futures — runs on this one connection, one at a time, in
 * the order they were started. The connection goes back to the pool when the
 * body's stage and every operation started inside have finished; a
 * transaction left open by {@link #aioBegin()} is rolled back then.
 *
 * <p>Like {@link Transaction}, a connection is found implicitly: you need the
 * handle only for {@link #run(Supplier)} (code on a thread Vireo did not
 * convey the scope to) and for the manual transaction control
 * ({@link #aioBegin()}, {@link #aioSavepoint()}).
 */
public final class Connection {
  private final Database database;
  private final Object level;
  private final Object frame;

  Connection(Database database, Object level) {
    this.database = database;
    this.level = level;
    this.frame = Var.getThreadBindingFrame();
  }

  /** The body of {@link Database#aioConnection(Function)}. */
  static <T> CompletableFuture<T> open(Database database,
      Function<? super Connection, ? extends CompletionStage<T>> body) {
    return Clj.guard(() -> {
      java.util.Objects.requireNonNull(body, "Vireo: aioConnection needs a body");
      AFunction f = new AFunction() {
        @Override
        public Object invoke(Object level) {
          return Clj.toClojureFuture(body.apply(new Connection(database, level)));
        }
      };
      return Clj.aio(Database::cast, "aio-connection", database.toClojure(), f);
    });
  }

  /**
   * Returns the database of this connection.
   *
   * @return the database
   */
  public Database database() {
    return database;
  }

  /**
   * Calls {@code action} with this connection as the current scope, on the
   * calling thread: the operations it starts run on this connection even when
   * the thread is not one Vireo conveyed the scope to (an executor of your
   * own). Same as {@link Transaction#run(Supplier)}.
   *
   * @param action the code to run
   * @param <T> its result type
   * @return what the action returns
   */
  public <T> T run(Supplier<T> action) {
    return Clj.inFrame(frame, action);
  }

  /**
   * Sends BEGIN on this connection (Clojure's {@code aio-begin} with
   * {@code {:connection handle}}): a transaction you end yourself with
   * {@link ManualTransaction#aioCommit()} or {@link ManualTransaction#aioRollback()}.
   * Until then operations on the connection run in it, {@code aioAtomic}
   * makes savepoints and {@code aioTransaction} refuses.
   *
   * @return a future of the transaction's handle; fails with
   *     {@link io.vireo.exception.VireoException} of type {@link io.vireo.exception.ErrorType#OPERATIONAL_ERROR} when a transaction is already open here
   */
  public CompletableFuture<ManualTransaction> aioBegin() {
    return ManualTransaction.begin(database, level, null);
  }

  /**
   * Like {@link #aioBegin()} with options: isolation level and read-only mode
   * ({@link TransactionOptions#retry(int)} and
   * {@link TransactionOptions#timeout(java.time.Duration)} are refused: they
   * are for blocks Vireo runs).
   *
   * @param options the transaction options
   * @return a future of the transaction's handle
   */
  public CompletableFuture<ManualTransaction> aioBegin(TransactionOptions options) {
    return ManualTransaction.begin(database, level, options);
  }

  /**
   * Sends SAVEPOINT inside the transaction open on this connection (Clojure's
   * {@code aio-savepoint}).
   *
   * @return a future of the savepoint's handle ({@link ManualTransaction#aioCommit()}
   *     releases it, {@link ManualTransaction#aioRollback()} rolls back to it); fails with
   *     {@link io.vireo.exception.VireoException} of type {@link io.vireo.exception.ErrorType#OPERATIONAL_ERROR} when no transaction is open
   */
  public CompletableFuture<ManualTransaction> aioSavepoint() {
    return ManualTransaction.savepoint(database, level);
  }

  /**
   * Tells whether a transaction is open on this connection.
   *
   * @return true after {@link #aioBegin()} (until it ends) or inside {@code aioAtomic}
   */
  public boolean inTransaction() {
    return RT.booleanCast(Clj.call("in-transaction?", database.toClojure(), Clj.opts("connection", level)));
  }

  /**
   * Returns the Clojure connection handle (for {@code {:connection handle}}
   * in Clojure code).
   *
   * @return the handle
   */
  public Object toClojure() {
    return level;
  }
}
