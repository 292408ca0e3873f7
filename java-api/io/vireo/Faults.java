package io.vireo;

/**
 * Faults injected into a database's statements for a test: while it is open,
 * the statements its {@link Fault}s match fail or are delayed before they
 * are sent (a COMMIT that never reaches the server, a slow BEGIN), so a test
 * can check what happens to a transaction and its connection. Replaces the
 * faults injected before; close it (try-with-resources) to stop.
 *
 * <pre>{@code
 * try (Faults faults = Faults.inject(db, Fault.on("COMMIT").times(1))) {
 *   assertThrows(CompletionException.class, () -> db.aioAtomic(tx -> Account.aioCreate(Map.of("id", 1))).join());
 *   assertEquals(1, faults.hits());
 * }
 * }</pre>
 */
public final class Faults implements AutoCloseable {
  private final Database db;

  private Faults(Database db) {
    this.db = db;
  }

  /**
   * Injects {@code faults} into {@code db}'s statements (the first that
   * matches a statement applies).
   *
   * @param db the database
   * @param faults the faults
   * @return the open injection, to close
   */
  public static Faults inject(Database db, Fault... faults) {
    Object[] rules = new Object[faults.length];
    for (int i = 0; i < faults.length; i++) {
      rules[i] = faults[i].toClojure();
    }
    Clj.call("vireo.testing/inject-faults!", db.toClojure(), Clj.vec(rules));
    return new Faults(db);
  }

  /**
   * How many statements the faults have failed or delayed so far.
   *
   * @return the count
   */
  public long hits() {
    return ((Number) Clj.call("vireo.testing/fault-hits", db.toClojure())).longValue();
  }

  /** Removes the faults: statements are sent as usual again. */
  @Override
  public void close() {
    Clj.call("vireo.testing/clear-faults!", db.toClojure());
  }
}
