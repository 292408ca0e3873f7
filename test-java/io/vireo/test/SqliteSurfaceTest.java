package io.vireo.test;

import io.vireo.Backend;
import io.vireo.Database;
import io.vireo.DatabaseOptions;

/** The Java surface contract on SQLite. */
class SqliteSurfaceTest extends SurfaceContract {
  @Override
  Database open() {
    return Backends.sqlite("surface");
  }

  @Override
  Backend backendKind() {
    return Backend.SQLITE;
  }

  @Override
  DatabaseOptions where() {
    return DatabaseOptions.create().path("target/java-test/surface.db");
  }

  @Override
  String param(int n) {
    return "?";
  }
}
