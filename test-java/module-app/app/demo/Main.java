package app.demo;

import io.vireo.Database;
import io.vireo.Field;
import io.vireo.Instance;
import io.vireo.Model;
import io.vireo.SqliteDatabase;
import java.util.Map;

/** Creates a row on SQLite and reads it back, from a named module. */
public final class Main {
  private Main() {}

  /**
   * Runs the application.
   *
   * @param args the SQLite file
   */
  public static void main(String[] args) {
    Database db = new SqliteDatabase(args[0]);
    try {
      Model<Instance> note = Model.builder("ModuleNote").database(db).table("module_note")
          .field("text", Field.text())
          .build();
      note.aioCreateTable(true).join();
      Instance made = note.aioCreate(Map.of("text", "hello from module " + Main.class.getModule().getName())).join();
      Instance read = note.aioGet(made.getId()).join();
      System.out.println(read.getString("text") + "; Vireo is module " + Database.class.getModule().getName());
    } finally {
      db.aioClose().join();
    }
  }
}
