package io.vireo.test;

import io.vireo.Database;

/** The typed API's contract on PostgreSQL (VIREO_TEST_PG_URL). */
class PostgresTypedTest extends TypedContract {
  @Override
  Database open() {
    return Backends.pg();
  }
}
