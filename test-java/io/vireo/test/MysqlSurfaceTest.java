package io.vireo.test;

import io.vireo.Backend;
import io.vireo.Database;
import io.vireo.DatabaseOptions;
import java.net.URI;

/** The Java surface contract on MySQL/MariaDB (VIREO_TEST_MYSQL_URL). */
class MysqlSurfaceTest extends SurfaceContract {
  @Override
  Database open() {
    return Backends.mysql();
  }

  @Override
  Backend backendKind() {
    return Backend.MYSQL;
  }

  @Override
  DatabaseOptions where() {
    return Backends.serverOptions(URI.create(Backends.MYSQL_URL), "root");
  }

  @Override
  String param(int n) {
    return "?";
  }
}
