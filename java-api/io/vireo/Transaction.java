package io.vireo;

import clojure.lang.Var;
import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The handle of a transaction (or savepoint) that
 * {@link Database#aioAtomic(Function)} passes to its body.
 *
 * <p>You rarely need it: operations the body starts use the transaction
 * implicitly, also in stages chained on Vireo's futures with
 * {@code thenCompose}, {@code thenApply}, …, whichever thread runs them. Use
 * {@link #run(Supplier)} for code that hops threads by other means (an
 * executor of your own), and {@link #aioAtomic(Function)} for an explicit
 * savepoint.
 */
public final class Transaction {
  private final Database database;
  private final Object handle;
  private final Object frame;

  Transaction(Database database, Object handle) {
    this.database = database;
    this.handle = handle;
    this.frame = Var.getThreadBindingFrame();
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
   * Runs a nested block on this transaction: a savepoint, rolled back alone
   * when the block fails (see {@link Database#aioAtomic(Function)}).
   *
   * @param body a function of the savepoint's handle returning a stage
   * @param <T> the body's result type
   * @return a future of the body's result, after RELEASE
   */
  public <T> CompletableFuture<T> aioAtomic(Function<? super Transaction, ? extends CompletionStage<T>> body) {
    return run(() -> database.aioAtomic(body));
  }

  /**
   * Blocking {@link #aioAtomic}: a savepoint of this transaction whose body
   * runs on the calling thread (see {@link Database#atomic(Function)}).
   *
   * @param body the work, given the savepoint's handle
   * @param <T> the body's value
   * @return the body's value, after RELEASE
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block or on an event loop
   */
  public <T> T atomic(Function<? super Transaction, ? extends T> body) {
    return run(() -> database.atomic(body));
  }

  /**
   * Calls {@code action} with this transaction as the current context, on the
   * calling thread: the operations it starts use the transaction even when
   * the thread is not one Vireo conveyed the context to.
   *
   * <pre>{@code
   * db.aioAtomic(tx -> CompletableFuture.supplyAsync(() -> 1, myExecutor)
   *     .thenCompose(x -> tx.run(() -> PageBlock.aioCreate(Map.of("key", "k" + x)))));
   * }</pre>
   *
   * @param action the code to run
   * @param <T> its result type
   * @return what the action returns
   */
  public <T> T run(Supplier<T> action) {
    return Clj.inFrame(frame, action);
  }

  /**
   * Returns the Clojure transaction handle (for {@code {:connection handle}}
   * in Clojure code).
   *
   * @return the handle
   */
  public Object toClojure() {
    return handle;
  }
}
