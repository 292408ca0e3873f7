package io.vireo.test;

import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
import static io.vireo.test.Errors.assertVireo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vireo.AllowSync;
import io.vireo.Database;
import io.vireo.Migrations;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** io.vireo.Migrations (vireo.migrate) on each backend. */
class MigrationsTest {

  private static Migrations migrations() {
    return Migrations.create()
        .table("jmig_versions")
        .add("001-page", List.of(
            Migrations.step("create-table", "table", "jmig_page",
                "fields", Map.of("title", Map.of("type", "char", "max-length", 80)))))
        .add("002-page-views", List.of(
            Migrations.step("add-column", "table", "jmig_page", "column", "views",
                "spec", Map.of("type", "integer", "default", 0)),
            Migrations.step("add-index", "table", "jmig_page", "columns", List.of("title"), "unique", true)));
  }

  private static Throwable failure(java.util.concurrent.CompletableFuture<?> f) {
    Throwable e = f.handle((v, x) -> x).join();
    assertNotNull(e, "the future did not fail");
    return VireoException.unwrap(e);
  }

  private static void check(Database db) {
    try {
      db.aioExecuteSql("DROP TABLE IF EXISTS jmig_page").join();
      db.aioExecuteSql("DROP TABLE IF EXISTS jmig_versions").join();
      Map<String, Object> r = migrations().aioMigrate(db).join();
      assertEquals(List.of("001-page", "002-page-views"), r.get("applied"));
      assertEquals(List.of(), r.get("skipped"));
      Map<String, Object> again = migrations().aioMigrate(db).join();
      assertEquals(List.of(), again.get("applied"));
      assertEquals(2, migrations().aioApplied(db).join().size());

      db.aioExecuteSql("INSERT INTO jmig_page (title) VALUES ('a')").join();
      assertEquals(0L, ((Number) db.aioExecuteSql("SELECT views FROM jmig_page").join().rows().get(0).get("views")).longValue());

      List<Map<String, Object>> steps = List.of(Migrations.step("drop-column", "table", "jmig_page", "column", "views"));
      List<String> sql = Migrations.aioPlan(db, steps).join();
      assertTrue(!sql.isEmpty() && sql.stream().anyMatch(s -> s.contains("jmig_page")), sql.toString());
      Migrations.aioApply(db, steps).join();

      Map<String, Object> dry = migrations()
          .add("003-more", List.of(Migrations.step("add-column", "table", "jmig_page", "column", "note",
              "spec", Map.of("type", "text", "null", true))))
          .aioDryRun(db).join();
      assertEquals("003-more", ((Map<?, ?>) ((List<?>) dry.get("pending")).get(0)).get("id"));

      Throwable bad = failure(Migrations.aioApply(db, List.of(Migrations.step("explode", "table", "jmig_page"))));
      assertVireo(ErrorType.INTERFACE_ERROR, bad);
      assertEquals(ErrorType.MIGRATION_ERROR, ((VireoException) bad).getType());
      assertEquals("unknown-op", ((VireoException) bad).getData().get("problem"));

      try {
        migrations().migrate(db);
        throw new AssertionError("migrate outside allowSync must be refused");
      } catch (VireoException expected) {
        // the blocking form needs allowSync
        assertEquals(ErrorType.SYNC_NOT_ALLOWED, expected.getType());
      }
      try (AllowSync s = db.allowSync()) {
        assertEquals(List.of(), migrations().migrate(db).get("applied"));
      }
    } finally {
      db.aioExecuteSql("DROP TABLE IF EXISTS jmig_page").join();
      db.aioExecuteSql("DROP TABLE IF EXISTS jmig_versions").join();
      db.aioClose().join();
    }
  }

  @Test
  void sqlite() {
    check(Backends.sqlite("migrations"));
  }

  @Test
  void postgres() {
    check(Backends.pg());
  }

  @Test
  void mysql() {
    check(Backends.mysql());
  }
}
