package io.vireo;

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

  Object toClojure() {
    return Clj.opts(
        "isolation", isolation == null ? null
            : clojure.lang.Keyword.intern(isolation.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')),
        "read-only", readOnly ? Boolean.TRUE : null);
  }
}
