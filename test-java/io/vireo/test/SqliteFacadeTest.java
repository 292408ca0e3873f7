package io.vireo.test;

import io.vireo.exception.ErrorType;
import static io.vireo.test.Errors.assertVireo;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.vireo.Database;
import org.junit.jupiter.api.Test;

/** The facade contract on SQLite. */
class SqliteFacadeTest extends FacadeContract {
  @Override
  Database open() {
    return Backends.sqlite("facade");
  }

  @Override
  Database fresh() {
    return new io.vireo.SqliteDatabase("target/java-test/facade.db");
  }

  @Override
  String url() {
    return "sqlite:target/java-test/facade.db";
  }

  @Override
  String backend() {
    return "sqlite";
  }

  @Test
  void forUpdateIsRefusedOnSqlite() {
    assertVireo(ErrorType.NOT_SUPPORTED, failure(book.select().forUpdate().aioExecute()));
  }
}
