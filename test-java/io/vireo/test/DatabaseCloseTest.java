package io.vireo.test;

import static io.vireo.test.Errors.assertVireo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vireo.Database;
import io.vireo.exception.ErrorType;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Database is AutoCloseable: try-with-resources closes the pool, with no allowSync. */
class DatabaseCloseTest {

  private static void closesInTryWithResources(Supplier<Database> open) {
    Database kept;
    try (Database db = open.get()) {
      kept = db;
      List<Map<String, Object>> rows = db.aioExecuteSql("SELECT 1 AS one").join().rows();
      assertEquals(1L, ((Number) rows.get(0).get("one")).longValue());
      assertTrue(db.isConnected());
    }
    assertFalse(kept.isConnected());
    assertVireo(ErrorType.POOL_CLOSED, kept.aioExecuteSql("SELECT 1").handle((v, e) -> e).join());
    kept.close(); // idempotent, still without allowSync
  }

  @Test
  void sqlite() {
    closesInTryWithResources(() -> Backends.sqlite("java_close"));
  }

  @Test
  void postgres() {
    closesInTryWithResources(Backends::pg);
  }

  @Test
  void mysql() {
    closesInTryWithResources(Backends::mysql);
  }
}
