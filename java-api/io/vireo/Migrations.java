package io.vireo;

import clojure.lang.IPersistentMap;
import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Schema migrations from Java: the facade of {@code vireo.migrate}
 * (docs/migrations.md). A step is a map like the Clojure one, with string
 * keys and values; the values of {@code op}, {@code type}, {@code on-delete}
 * and {@code on-update} are turned into keywords.
 *
 * <pre>{@code
 * Map<String, Object> applied = Migrations.create()
 *     .table("schema_versions")
 *     .add("001-page", List.of(
 *         Migrations.step("create-table", "table", "page",
 *             "fields", Map.of("title", Map.of("type", "text")))))
 *     .add("002-page-views", List.of(
 *         Migrations.step("add-column", "table", "page", "column", "views",
 *             "spec", Map.of("type", "integer", "default", 0))))
 *     .aioMigrate(db).join();   // {"applied": ["001-page", "002-page-views"], "skipped": []}
 * }</pre>
 *
 * <p>Failures are {@link VireoException}s: bad migration data is a
 * {@link VireoException} ({@link ErrorType#INTERFACE_ERROR}) of type {@code vireo/migration-error} (its
 * {@code getData()} has the {@code problem}), a failed step one of type
 * {@code vireo/migration-failed} ({@code failed-step}, {@code applied-steps},
 * {@code rolled-back} in its data).
 */
public final class Migrations {
  private static final Set<String> KEYWORD_VALUES = Set.of("op", "type", "on-delete", "on-update");

  private final List<Object> migrations = new ArrayList<>();
  private String table;
  private Long lockTimeoutMillis;

  private Migrations() {}

  /**
   * Returns an empty list of migrations.
   *
   * @return a new builder
   */
  public static Migrations create() {
    return new Migrations();
  }

  /**
   * Returns a step map: {@code step("drop-column", "table", "page", "column", "title")}.
   *
   * @param op the step's op ({@code "add-column"}, {@code "alter-column"}, …)
   * @param keyValues the step's other keys and values, alternating
   * @return the step
   * @throws IllegalArgumentException for an odd number of keyValues or a non-string key
   */
  public static Map<String, Object> step(String op, Object... keyValues) {
    if (keyValues.length % 2 != 0) {
      throw new IllegalArgumentException("Vireo: Migrations.step takes keys and values in pairs, got "
          + keyValues.length + " arguments after the op");
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("op", op);
    for (int i = 0; i < keyValues.length; i += 2) {
      if (!(keyValues[i] instanceof String)) {
        throw new IllegalArgumentException("Vireo: Migrations.step keys are strings, got " + keyValues[i]);
      }
      m.put((String) keyValues[i], keyValues[i + 1]);
    }
    return m;
  }

  /**
   * Adds a migration (applied after those added before it).
   *
   * @param id the migration's id, unique
   * @param steps its steps
   * @return this builder
   */
  public Migrations add(String id, List<Map<String, Object>> steps) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id);
    m.put("steps", steps);
    migrations.add(steps(m));
    return this;
  }

  /**
   * Adds the migrations of an EDN classpath resource (a vector of
   * {@code {:id … :steps […]}} maps, as Clojure's {@code read-resource} reads).
   *
   * @param path the resource path, e.g. {@code "db/migrations.edn"}
   * @return this builder
   */
  public Migrations addResource(String path) {
    migrations.addAll(Clj.list(Clj.call("vireo.migrate/read-resource", path)));
    return this;
  }

  /**
   * Sets the versions table (default {@code vireo_migrations}).
   *
   * @param versionsTable the table's name
   * @return this builder
   */
  public Migrations table(String versionsTable) {
    this.table = Objects.requireNonNull(versionsTable, "Vireo: Migrations.table needs a name");
    return this;
  }

  /**
   * Sets how long a runner waits for the migration lock (MariaDB's
   * {@code GET_LOCK}; default 600000 ms).
   *
   * @param millis the timeout in milliseconds
   * @return this builder
   */
  public Migrations lockTimeout(long millis) {
    this.lockTimeoutMillis = millis;
    return this;
  }

  private IPersistentMap opts(Boolean dryRun) {
    return Clj.opts("table", table, "lock-timeout", lockTimeoutMillis, "dry-run", dryRun);
  }

  /**
   * Applies the migrations not yet applied, each exactly once (see Clojure's
   * {@code aio-migrate}).
   *
   * @param db the database
   * @return a future of {@code {"applied": [ids], "skipped": [ids]}}
   */
  @SuppressWarnings("unchecked")
  public CompletableFuture<Map<String, Object>> aioMigrate(Database db) {
    return Clj.guard(() -> Clj.aio(r -> (Map<String, Object>) Clj.toJava(r), "vireo.migrate/aio-migrate",
        db.toClojure(), Clj.vec(migrations.toArray()), opts(null)));
  }

  /**
   * Blocking {@link #aioMigrate(Database)} (needs {@link Database#allowSync()}).
   *
   * @param db the database
   * @return {@code {"applied": [ids], "skipped": [ids]}}
   * @throws VireoException ({@link ErrorType#SYNC_NOT_ALLOWED}) outside an allow-sync block
   */
  @SuppressWarnings("unchecked")
  public Map<String, Object> migrate(Database db) {
    return (Map<String, Object>) Clj.toJava(Clj.call("vireo.migrate/migrate!", db.toClojure(),
        Clj.vec(migrations.toArray()), opts(null)));
  }

  /**
   * A dry run: applies nothing.
   *
   * @param db the database
   * @return a future of {@code {"pending": [{"id": …, "sql": [statements]}], "skipped": [ids]}}
   */
  @SuppressWarnings("unchecked")
  public CompletableFuture<Map<String, Object>> aioDryRun(Database db) {
    return Clj.guard(() -> Clj.aio(r -> (Map<String, Object>) Clj.toJava(r), "vireo.migrate/aio-migrate",
        db.toClojure(), Clj.vec(migrations.toArray()), opts(Boolean.TRUE)));
  }

  /**
   * Applies steps (no versions table): in one transaction on PostgreSQL and SQLite.
   *
   * @param db the database
   * @param steps the steps
   * @return a future of the SQL statements run
   */
  @SuppressWarnings("unchecked")
  public static CompletableFuture<List<String>> aioApply(Database db, List<Map<String, Object>> steps) {
    return Clj.guard(() -> Clj.aio(r -> (List<String>) Clj.toJava(r), "vireo.migrate/aio-apply",
        db.toClojure(), stepVector(steps)));
  }

  /**
   * The SQL steps would run, running none.
   *
   * @param db the database
   * @param steps the steps
   * @return a future of the statements' SQL
   */
  public static CompletableFuture<List<String>> aioPlan(Database db, List<Map<String, Object>> steps) {
    return Clj.guard(() -> Clj.aio(r -> {
      List<String> sql = new ArrayList<>();
      for (Object stmt : Clj.list(r)) {
        sql.add((String) Clj.list(stmt).get(0));
      }
      return sql;
    }, "vireo.migrate/aio-plan", db.toClojure(), stepVector(steps)));
  }

  /**
   * The steps that would make a model's live table match it (see Clojure's {@code aio-diff}).
   *
   * @param model a model bound to a database
   * @return a future of the steps
   */
  @SuppressWarnings("unchecked")
  public static CompletableFuture<List<Map<String, Object>>> aioDiff(Model<?> model) {
    return Clj.guard(() -> Clj.aio(r -> (List<Map<String, Object>>) Clj.toJava(r), "vireo.migrate/aio-diff",
        model.toClojure()));
  }

  /**
   * The migrations recorded as applied.
   *
   * @param db the database
   * @return a future of {@code [{"id": …, "checksum": …, "applied-at": …}]}
   */
  @SuppressWarnings("unchecked")
  public CompletableFuture<List<Map<String, Object>>> aioApplied(Database db) {
    return Clj.guard(() -> Clj.aio(r -> (List<Map<String, Object>>) Clj.toJava(r), "vireo.migrate/aio-applied",
        db.toClojure(), Clj.opts("table", table)));
  }

  private static Object stepVector(List<Map<String, Object>> steps) {
    Objects.requireNonNull(steps, "Vireo: migration steps must not be null");
    Object[] a = new Object[steps.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = steps(steps.get(i));
    }
    return Clj.vec(a);
  }

  /** Java data -> Clojure data, with the enumerated values as keywords. */
  private static Object steps(Object v) {
    if (v instanceof Map) {
      Map<Object, Object> out = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        Object val = e.getValue();
        if (KEYWORD_VALUES.contains(e.getKey()) && val instanceof String) {
          out.put(e.getKey(), Clj.key((String) val));
        } else {
          out.put(e.getKey(), steps(val));
        }
      }
      return Clj.map(out);
    }
    if (v instanceof List) {
      List<?> l = (List<?>) v;
      Object[] a = new Object[l.size()];
      for (int i = 0; i < a.length; i++) {
        a[i] = steps(l.get(i));
      }
      return Clj.vec(a);
    }
    return Clj.toClj(v);
  }
}
