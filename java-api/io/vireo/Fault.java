package io.vireo;

import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One fault to inject with {@link Faults#inject(Database, Fault...)}: the
 * statements it applies to and what happens to them before they are sent —
 * they fail (by default, with an {@link VireoException} ({@link ErrorType#OPERATIONAL_ERROR}) "injected
 * fault") or are sent later. Clojure: {@code vireo.testing/inject-faults!}.
 *
 * <pre>{@code
 * Fault.on("COMMIT").times(1)                         // the next COMMIT fails, never sent
 * Fault.matching(Pattern.compile("^INSERT")).delay(Duration.ofMillis(50))
 * }</pre>
 */
public final class Fault {
  private final Object sql;
  private Object fail;
  private Long delayMs;
  private Integer times;

  private Fault(Object sql) {
    this.sql = Objects.requireNonNull(sql, "Vireo: a fault needs the SQL it applies to");
  }

  /**
   * A fault on the statements equal to {@code sql} (case and surrounding
   * space aside): {@code "BEGIN"}, {@code "COMMIT"}, {@code "ROLLBACK"}, …
   *
   * @param sql the statement
   * @return a fault that fails them
   */
  public static Fault on(String sql) {
    return new Fault(sql);
  }

  /**
   * A fault on the statements whose SQL the pattern finds.
   *
   * @param pattern searched in the SQL
   * @return a fault that fails them
   */
  public static Fault matching(Pattern pattern) {
    return new Fault(pattern);
  }

  /**
   * Fails the statements with {@code error} instead of the default
   * {@link VireoException} ({@link ErrorType#OPERATIONAL_ERROR}) "injected fault".
   *
   * @param error what the statement fails with
   * @return this fault
   */
  public Fault fail(Throwable error) {
    this.fail = Objects.requireNonNull(error, "Vireo: fail needs an error");
    return this;
  }

  /**
   * Sends the statements that much later instead of failing them (or,
   * with {@link #fail(Throwable)}, fails them that much later).
   *
   * @param delay how long
   * @return this fault
   */
  public Fault delay(Duration delay) {
    this.delayMs = delay.toMillis();
    return this;
  }

  /**
   * Applies to that many statements, then no more (default: all).
   *
   * @param n how many
   * @return this fault
   */
  public Fault times(int n) {
    this.times = n;
    return this;
  }

  Object toClojure() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("sql", sql);
    if (fail != null) {
      m.put("fail", fail);
    }
    if (delayMs != null) {
      m.put("delay-ms", delayMs);
    }
    if (times != null) {
      m.put("times", (long) times);
    }
    return Clj.map(m);
  }
}
