package io.vireo;

import clojure.lang.IFn;
import io.vireo.exception.VireoException;
import java.util.Objects;
import java.util.concurrent.Callable;

/**
 * A rollback test case: while it is open, every async operation on its
 * database — from any thread, without an explicit connection — runs on one
 * connection inside {@code BEGIN … ROLLBACK}; {@code aioAtomic} and
 * {@code aioTransaction} inside become savepoints, so code under test that
 * uses transactions keeps working. Closing it waits for what the operations
 * started, rolls everything back and releases the connection: the tables are
 * as before. This is Clojure's {@code vireo.testing/with-rollback}; JUnit 5
 * users register {@link io.vireo.junit.VireoRollback} instead.
 *
 * <pre>{@code
 * try (RollbackCase rollback = RollbackCase.start(db)) {
 *   PageBlock.aioCreate(Map.of("key", "k", "text", "t")).join();   // rolled back on close
 * }
 * }</pre>
 *
 * <p>Synchronous calls (inside {@link Database#allowSync()}) use a connection
 * of their own and are not rolled back. One case at a time per database.
 */
public final class RollbackCase implements AutoCloseable {
  private final IFn end;
  private boolean closed;

  private RollbackCase(IFn end) {
    this.end = end;
  }

  /**
   * Starts a rollback test case on {@code database}, returning once it is in
   * force.
   *
   * @param database the database whose operations the case captures
   * @return the open case; close it to roll back
   * @throws VireoException when it cannot start (a case already runs on this
   *     database: type {@code INTERFACE_ERROR}; the connection or BEGIN failed)
   */
  public static RollbackCase start(Database database) {
    Objects.requireNonNull(database, "Vireo: RollbackCase.start needs a database");
    return new RollbackCase((IFn) Clj.call("vireo.testing/start-rollback-case", database.toClojure()));
  }

  /**
   * Runs {@code body} on the calling thread inside a rollback test case on
   * {@code database} and rolls back afterwards, also when it throws.
   *
   * @param database the database whose operations the case captures
   * @param body the test code
   * @param <T> its result type
   * @return what {@code body} returned
   * @throws Exception what {@code body} threw (the rollback still happened)
   */
  public static <T> T call(Database database, Callable<T> body) throws Exception {
    Objects.requireNonNull(body, "Vireo: RollbackCase.call needs a body");
    RollbackCase c = start(database);
    T v;
    try {
      v = body.call();
    } catch (Throwable t) {
      try {
        c.close();
      } catch (RuntimeException e) {
        t.addSuppressed(e);
      }
      throw t;
    }
    c.close();
    return v;
  }

  /**
   * Ends the case (idempotent): waits for the operations it captured, rolls
   * back and releases the connection.
   *
   * @throws VireoException when the rollback itself failed
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      end.invoke();
    } catch (Throwable t) {
      throw Clj.sneaky(Clj.mapError(t));
    }
  }
}
