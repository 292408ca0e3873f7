package vireo.exittest;

import io.vireo.Database;
import io.vireo.SqlResult;

/**
 * The Java child JVM of {@code vireo.vertx-test}: a first Java program that
 * forgets {@code aioClose()}.
 *
 * <pre>
 *   java -cp &lt;facade classes&gt;:&lt;test classpath&gt; vireo.exittest.ForgetCloseMain &lt;backend&gt; &lt;url&gt; [...]
 * </pre>
 *
 * For each backend it opens a database, runs a query and prints
 * {@code JAVA-FORGOT backend=<b> rows=<rows>}; then {@code JAVA-MAIN-END}, and
 * main returns without closing anything or calling System.exit: the JVM must
 * exit by itself with status 0.
 */
public final class ForgetCloseMain {
  private ForgetCloseMain() {}

  /**
   * Runs the program.
   *
   * @param args backend names and URLs, alternating
   */
  public static void main(String[] args) {
    for (int i = 0; i + 1 < args.length; i += 2) {
      Database db = Database.fromUrl(args[i + 1]);
      SqlResult result = db.aioExecuteSql("SELECT 1 AS one").join();
      System.out.println("JAVA-FORGOT backend=" + args[i] + " rows=" + result.rows());
    }
    System.out.println("JAVA-MAIN-END");
  }
}
