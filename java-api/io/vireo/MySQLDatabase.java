package io.vireo;

import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
/**
 * A MySQL or MariaDB database.
 *
 * <pre>{@code
 * Database db = new MySQLDatabase("mysql://root@127.0.0.1:3306/app");
 * Database db2 = new MySQLDatabase(DatabaseOptions.create().database("app").maxSize(16));
 * }</pre>
 */
public final class MySQLDatabase extends Database {

  MySQLDatabase(Object clojureDatabase, boolean wrap) {
    super(clojureDatabase);
  }

  /**
   * Makes a database from a URL ({@code mysql://root@127.0.0.1:3306/app}); the pool opens on first use.
   *
   * @param url the URL
   * @throws VireoException ({@link ErrorType#INTERFACE_ERROR}) for a URL of another backend
   */
  public MySQLDatabase(String url) {
    this(url, DatabaseOptions.create());
  }

  /**
   * Makes a database from a URL and options (pool size, your Vert.x, …).
   *
   * @param url the URL
   * @param options the options
   * @throws VireoException ({@link ErrorType#INTERFACE_ERROR}) for a URL of another backend or an unknown option
   */
  public MySQLDatabase(String url, DatabaseOptions options) {
    super(Clj.call("mysql-database", url, options.toClojure()));
  }

  /**
   * Makes a database from options alone (host, port, database, user, password, pool…).
   *
   * @param options the options; {@link DatabaseOptions#database(String)} is required
   */
  public MySQLDatabase(DatabaseOptions options) {
    super(Clj.call("mysql-database", options.toClojure()));
  }
}
