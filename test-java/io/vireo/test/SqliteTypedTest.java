package io.vireo.test;

import io.vireo.Database;

/** The typed API's contract on sqlite. */
class SqliteTypedTest extends TypedContract {
  @Override
  Database open() {
    return Backends.sqlite("typed");
  }
}
