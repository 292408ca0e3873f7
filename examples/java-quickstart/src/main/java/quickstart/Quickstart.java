package quickstart;

import io.vireo.AllowSync;
import io.vireo.Database;
import io.vireo.Field;
import io.vireo.Model;
import io.vireo.SqliteDatabase;
import io.vireo.Where;

/**
 * The seed example: a PageBlock record created, read and saved through a typed model, asynchronously.
 *
 * <pre>
 *   mvn -q compile exec:java                                        (SQLite file vireo-quickstart.db)
 *   mvn -q compile exec:java -Dexec.args=postgresql://postgres@127.0.0.1:5432/test
 *   mvn -q compile exec:java -Dexec.args=mysql://root@127.0.0.1:3306/test           (MySQL or MariaDB)
 * </pre>
 */
public final class Quickstart {
  private Quickstart() {}

  /** A page block: the model's fields are the record's components. */
  public record PageBlock(Long id, String key, String text) {}

  /**
   * Runs the quickstart on {@code db}, printing the Was:/New: lines. Closes nothing.
   *
   * @param db the database
   */
  public static void run(Database db) {
    Model<PageBlock> pageBlocks = Model.builder(PageBlock.class)
        .database(db)
        .field(PageBlock::key, Field.charField(40).unique())
        .build();

    try (AllowSync sync = db.allowSync()) {
      pageBlocks.createTable(true); // sync, on purpose
    }

    // re-runs find the row of the last run: start from a clean slate
    pageBlocks.delete().where(Where.eq(PageBlock::key, "title")).aioExecute()
        .thenCompose(n -> pageBlocks.aioCreate(new PageBlock(null, "title", "Peewee is AWESOME with async!")))
        .thenCompose(created -> pageBlocks.aioGet(Where.eq(PageBlock::key, "title")))
        .thenCompose(title -> {
          System.out.println("Was: " + title.text());
          // records are immutable: save a changed copy, get the saved row back
          return pageBlocks.aioSave(new PageBlock(title.id(), title.key(), "Peewee is SUPER awesome with async!"));
        })
        .thenAccept(saved -> System.out.println("New: " + saved.text()))
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
    // Database is AutoCloseable: close() closes the pool (the JVM would exit without it too)
    try (Database db = url != null && !url.isEmpty() ? Database.fromUrl(url) : new SqliteDatabase("vireo-quickstart.db")) {
      run(db);
    }
  }
}
