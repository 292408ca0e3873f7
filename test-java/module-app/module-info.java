/**
 * A tiny application on the module path (test-java/run compiles and runs it).
 * Vireo is the automatic module {@code io.vireo} (its jar's
 * Automatic-Module-Name): an automatic module declares no dependencies, so
 * the application requires the Vert.x SQL client of its backend too, which
 * brings Vert.x and Netty.
 */
module app.demo {
  requires io.vireo;
  // SQLite (PostgreSQL: io.vertx.sql.client.pg; MySQL/MariaDB: io.vertx.sql.client.mysql)
  requires io.vertx.sql.client.jdbc;
}
