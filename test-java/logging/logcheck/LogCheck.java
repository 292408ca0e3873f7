package logcheck;

import io.vireo.Database;
import io.vireo.SqliteDatabase;

/**
 * Runs one statement on SQLite, which Vireo logs at DEBUG on logger
 * {@code vireo.sql}; test-java/run runs it with slf4j-simple and checks the
 * line arrived under that name.
 */
public final class LogCheck {
  private LogCheck() {}

  /**
   * Runs the statement.
   *
   * @param args the SQLite file
   */
  public static void main(String[] args) {
    Database db = new SqliteDatabase(args[0]);
    try {
      db.aioExecuteSql("SELECT 42 AS logged").join();
    } finally {
      db.aioClose().join();
    }
  }
}
