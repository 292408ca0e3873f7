package io.vireo;

import io.vireo.exception.DeadlockException;
import io.vireo.exception.ErrorType;
import io.vireo.exception.SerializationFailureException;
import io.vireo.exception.TimeoutErrorException;
import io.vireo.exception.VireoException;
/**
 * Options of an outermost transaction ({@link Database#aioAtomic(TransactionOptions, java.util.function.Function)}).
 *
 * <pre>{@code
 * db.aioAtomic(TransactionOptions.create().isolation(TransactionOptions.Isolation.SERIALIZABLE), tx -> …);
 * }</pre>
 */
public final class TransactionOptions {
  /** SQL isolation levels (SQLite is always serializable and accepts each). */
  public enum Isolation {
    /** READ UNCOMMITTED. */
    READ_UNCOMMITTED,
    /** READ COMMITTED. */
    READ_COMMITTED,
    /** REPEATABLE READ. */
    REPEATABLE_READ,
    /** SERIALIZABLE. */
    SERIALIZABLE
  }

  private Isolation isolation;
  private boolean readOnly;
  private int retry;
  private long timeoutMs;

  private TransactionOptions() {}

  /**
   * Returns default options (the database's isolation level, read-write).
   *
   * @return new options
   */
  public static TransactionOptions create() {
    return new TransactionOptions();
  }

  /**
   * Sets the isolation level.
   *
   * @param level the level
   * @return these options
   */
  public TransactionOptions isolation(Isolation level) {
    this.isolation = level;
    return this;
  }

  /**
   * Makes the transaction read only (SQLite: {@code PRAGMA query_only}).
   *
   * @param readOnly true for read only
   * @return these options
   */
  public TransactionOptions readOnly(boolean readOnly) {
    this.readOnly = readOnly;
    return this;
  }

  /**
   * Runs the whole transaction again, up to {@code times} more times, when
   * it fails with a {@link SerializationFailureException} or a
   * {@link DeadlockException} (the database aborted it in favour of a
   * concurrent one; a new attempt usually succeeds). The body is called
   * again from the start, so it must not have effects outside the database
   * that cannot be repeated. Other failures are never retried, and the
   * option applies to the outermost block only (a nested block fails with
   * {@link VireoException} ({@link ErrorType#INTERFACE_ERROR})).
   *
   * <pre>{@code
   * db.aioAtomic(TransactionOptions.create().isolation(TransactionOptions.Isolation.SERIALIZABLE).retry(3), tx -> …);
   * }</pre>
   *
   * @param times the number of retries (0, the default, for none)
   * @return these options
   * @throws IllegalArgumentException when {@code times} is negative
   */
  public TransactionOptions retry(int times) {
    if (times < 0) {
      throw new IllegalArgumentException("Vireo: retry needs a number of retries >= 0, got " + times);
    }
    this.retry = times;
    return this;
  }

  /**
   * A deadline for the whole transaction, enforced on the server: when it
   * has not committed within {@code timeout}, the statement it is running is
   * cancelled on the server, it rolls back and its future fails with
   * {@link TimeoutErrorException}. Once its COMMIT was sent it is no longer
   * cancelled: the future gets the COMMIT's outcome.
   *
   * @param timeout at least 1 ms
   * @return these options
   */
  public TransactionOptions timeout(java.time.Duration timeout) {
    java.util.Objects.requireNonNull(timeout, "Vireo: timeout needs a duration");
    long ms = timeout.toMillis();
    if (ms < 1) {
      throw new IllegalArgumentException("Vireo: a transaction timeout must be at least 1 ms, got " + timeout);
    }
    this.timeoutMs = ms;
    return this;
  }

  Object toClojure() {
    return Clj.opts(
        "retry", retry > 0 ? (Object) (long) retry : null,
        "isolation", isolation == null ? null
            : clojure.lang.Keyword.intern(isolation.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')),
        "read-only", readOnly ? Boolean.TRUE : null,
        "timeout", timeoutMs > 0 ? (Object) timeoutMs : null);
  }
}
