package io.vireo;

/**
 * A database named before it is known, peewee's {@code Proxy} (Clojure's
 * {@code database-proxy}): models can be built with it as their database and
 * used once {@link #initialize(Database)} bound it to a real one. Until then
 * every operation fails with {@link io.vireo.exception.VireoException} of type {@link io.vireo.exception.ErrorType#NOT_INITIALIZED}.
 *
 * <pre>{@code
 * DatabaseProxy proxy = Database.proxy();
 * Model Note = Model.builder("Note").database(proxy).field("text", Field.text()).build();
 * proxy.initialize(new SqliteDatabase("app.db"));   // at startup, from configuration
 * Note.aioCreateTable(true).join();
 * }</pre>
 */
public final class DatabaseProxy extends Database {
  DatabaseProxy(Object clojureProxy) {
    super(clojureProxy);
  }

  /**
   * Binds this proxy to a database (again: the latest wins); models naming
   * the proxy run their operations on it from now on.
   *
   * @param database the database, not a proxy
   * @return this proxy
   * @throws io.vireo.exception.VireoException (INTERFACE_ERROR) when {@code database} is a proxy or null
   */
  public DatabaseProxy initialize(Database database) {
    Clj.call("initialize-proxy!", toClojure(), database == null ? null : database.toClojure());
    return this;
  }

  /**
   * Tells whether the proxy is bound to a database.
   *
   * @return true after {@link #initialize(Database)}
   */
  public boolean isInitialized() {
    return clojure.lang.RT.get(toClojure(), Clj.key("target")) instanceof clojure.lang.IDeref
        && ((clojure.lang.IDeref) clojure.lang.RT.get(toClojure(), Clj.key("target"))).deref() != null;
  }

  /**
   * Returns the proxy's description: the database it is bound to, or unbound.
   *
   * @return a readable form
   */
  @Override
  public String toString() {
    return isInitialized() ? "DatabaseProxy[" + Clj.call("vireo.impl.db/describe",
        Clj.call("vireo.impl.ops/database-of", toClojure())) + "]" : "DatabaseProxy[unbound]";
  }
}
