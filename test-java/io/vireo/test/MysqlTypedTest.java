package io.vireo.test;

import io.vireo.Database;

/** The typed API's contract on MySQL/MariaDB (VIREO_TEST_MYSQL_URL). */
class MysqlTypedTest extends TypedContract {
  @Override
  Database open() {
    return Backends.mysql();
  }
}
