package io.vireo;

/** The backends Vireo runs on, for {@link Database#deferred(Backend)}. */
public enum Backend {
  /** PostgreSQL ({@link PostgresqlDatabase}). */
  POSTGRESQL("postgresql-database"),
  /** MySQL and MariaDB ({@link MySQLDatabase}). */
  MYSQL("mysql-database"),
  /** SQLite ({@link SqliteDatabase}). */
  SQLITE("sqlite-database");

  final String constructor;

  Backend(String constructor) {
    this.constructor = constructor;
  }
}
