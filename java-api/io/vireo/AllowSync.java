package io.vireo;

/**
 * An open allow-sync block: synchronous calls ({@link Model#createTable(boolean)},
 * {@link Database#executeSql(String, Object...)}, {@link SelectQuery#execute()}, …)
 * are allowed on its database for the current thread until it is closed. The
 * synchronous calls inside share one dedicated connection, released when the
 * outermost block closes. Use it with try-with-resources, and close it on the
 * thread that opened it:
 *
 * <pre>{@code
 * try (AllowSync sync = db.allowSync()) {
 *   PageBlock.createTable(true);
 * }
 * }</pre>
 *
 * <p>This is Clojure's {@code with-allow-sync}: a binding of the allow-sync
 * dynamic var for this thread only. It does not travel to other threads or to
 * callbacks, and synchronous calls are always refused on a Vert.x event loop.
 */
public final class AllowSync implements AutoCloseable {
  private final Object token;
  private boolean closed;

  AllowSync(Object token) {
    this.token = token;
  }

  /**
   * Ends the block (idempotent). The outermost block releases the connection
   * its synchronous calls used.
   *
   * @throws IllegalStateException when called on another thread, or before
   *     closing a block opened inside this one
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    try {
      Clj.bridge().popAllowSync(token);
    } catch (IllegalStateException e) {
      throw e;
    } catch (Throwable t) {
      throw Clj.sneaky(Clj.mapError(t));
    }
    closed = true;
  }
}
