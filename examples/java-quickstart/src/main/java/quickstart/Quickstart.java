package quickstart;

import io.vireo.AllowSync;
import io.vireo.Database;
import io.vireo.Field;
import io.vireo.Model;
import io.vireo.SqliteDatabase;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The seed example: a PageBlock created, read and saved, asynchronously.
 *
 * <pre>
 *   mvn -q compile exec:java                                        (SQLite file vireo-quickstart.db)
 *   mvn -q compile exec:java -Dexec.args=postgresql://postgres@127.0.0.1:5432/test
 *   mvn -q compile exec:java -Dexec.args=mysql://root@127.0.0.1:3306/test           (MySQL or MariaDB)
 * </pre>
 */
public final class Quickstart {
  private Quickstart() {}

  /** A row read as a record: components name the fields. */
  public record PageBlock(Long id, String key, String text) {}

  /**
   * Runs the quickstart on {@code db}, printing the Was:/New: lines. Closes nothing.
   *
   * @param db the database
   */
  public static void run(Database db) {
    Model pageBlock = Model.builder("PageBlock")
        .database(db)
        .field("key", Field.charField(40).unique())
        .field("text", Field.text().defaultValue(""))
        .build();

    try (AllowSync sync = db.allowSync()) {
      pageBlock.createTable(true); // sync, on purpose
    }

    // re-runs find the row of the last run: start from a clean slate
    pageBlock.aioGetOrNone(Map.of("key", "title"))
        .thenCompose(old -> old == null ? CompletableFuture.completedFuture(0L) : old.aioDeleteInstance())
        .thenCompose(n -> pageBlock.aioCreate(Map.of("key", "title", "text", "Peewee is AWESOME with async!")))
        .thenCompose(created -> pageBlock.aioGet(Map.of("key", "title")))
        .thenCompose(title -> {
          System.out.println("Was: " + title.getString("text"));
          return title.set("text", "Peewee is SUPER awesome with async!").aioSave();
        })
        .thenCompose(saved -> pageBlock.aioGet(PageBlock.class, Map.of("key", "title")))
        .thenAccept(title -> System.out.println("New: " + title.text()))
        .join();
  }

  /**
   * Runs the quickstart on the URL given as argument or in VIREO_DATABASE_URL,
   * else on the SQLite file vireo-quickstart.db.
   *
   * @param args an optional database URL
   */
  public static void main(String[] args) {
    String url = args.length > 0 ? args[0] : System.getenv("VIREO_DATABASE_URL");
    Database db = url != null && !url.isEmpty() ? Database.fromUrl(url) : new SqliteDatabase("vireo-quickstart.db");
    try {
      run(db);
    } finally {
      db.aioClose().join(); // closes the pool (the JVM would exit without it too)
    }
  }
}
