package io.vireo;

import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
/**
 * A PostgreSQL database.
 *
 * <pre>{@code
 * Database db = new PostgresqlDatabase("postgresql://postgres@127.0.0.1:5432/app");
 * Database db2 = new PostgresqlDatabase(DatabaseOptions.create().database("app").maxSize(16));
 * }</pre>
 */
public final class PostgresqlDatabase extends Database {

  PostgresqlDatabase(Object clojureDatabase, boolean wrap) {
    super(clojureDatabase);
  }

  /**
   * Makes a database from a URL ({@code postgresql://postgres@127.0.0.1:5432/app}); the pool opens on first use.
   *
   * @param url the URL
   * @throws VireoException ({@link ErrorType#INTERFACE_ERROR}) for a URL of another backend
   */
  public PostgresqlDatabase(String url) {
    this(url, DatabaseOptions.create());
  }

  /**
   * Makes a database from a URL and options (pool size, your Vert.x, …).
   *
   * @param url the URL
   * @param options the options
   * @throws VireoException ({@link ErrorType#INTERFACE_ERROR}) for a URL of another backend or an unknown option
   */
  public PostgresqlDatabase(String url, DatabaseOptions options) {
    super(Clj.call("postgresql-database", url, options.toClojure()));
  }

  /**
   * Makes a database from options alone (host, port, database, user, password, pool…).
   *
   * @param options the options; {@link DatabaseOptions#database(String)} is required
   */
  public PostgresqlDatabase(DatabaseOptions options) {
    super(Clj.call("postgresql-database", options.toClojure()));
  }
}
