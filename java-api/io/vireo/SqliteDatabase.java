package io.vireo;

/**
 * A SQLite database (a file, or {@code ":memory:"}). Every pooled connection
 * gets WAL journaling, a 5 s busy timeout and foreign keys on.
 *
 * <pre>{@code
 * Database db = new SqliteDatabase("app.db");
 * }</pre>
 */
public final class SqliteDatabase extends Database {

  SqliteDatabase(Object clojureDatabase, boolean wrap) {
    super(clojureDatabase);
  }

  /**
   * Makes a database on a file; it is created on first use.
   *
   * @param path the file path, or {@code ":memory:"}
   */
  public SqliteDatabase(String path) {
    this(path, DatabaseOptions.create());
  }

  /**
   * Makes a database on a file with options ({@code maxSize}, {@code busyTimeout},
   * {@code "journal-mode"}, {@code "foreign-keys"}, {@code "synchronous"}, your Vert.x).
   *
   * @param path the file path, or {@code ":memory:"}
   * @param options the options
   */
  public SqliteDatabase(String path, DatabaseOptions options) {
    super(Clj.call("sqlite-database", path, options.toClojure()));
  }
}
