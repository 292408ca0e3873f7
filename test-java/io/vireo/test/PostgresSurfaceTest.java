package io.vireo.test;

import io.vireo.Backend;
import io.vireo.Database;
import io.vireo.DatabaseOptions;
import java.net.URI;

/** The Java surface contract on PostgreSQL (VIREO_TEST_PG_URL). */
class PostgresSurfaceTest extends SurfaceContract {
  @Override
  Database open() {
    return Backends.pg();
  }

  @Override
  Backend backendKind() {
    return Backend.POSTGRESQL;
  }

  @Override
  DatabaseOptions where() {
    return Backends.serverOptions(URI.create(Backends.PG_URL), "postgres");
  }

  @Override
  String param(int n) {
    return "$" + n;
  }
}
