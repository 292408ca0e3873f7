package io.vireo;

import java.util.Set;
import java.util.TreeSet;

/**
 * What the server behind a database can do, as Vireo detected it when the
 * pool opened ({@link Database#aioCapabilities()}; Clojure's {@code capabilities}).
 *
 * @param server the server's name and version, e.g. {@code "PostgreSQL 15.19"}
 * @param returning the statements that may carry RETURNING: {@code "insert"},
 *     {@code "update"}, {@code "delete"} (PostgreSQL and SQLite 3.35+ all,
 *     MariaDB 10.5+ insert and delete, MySQL none)
 * @param returningSource {@code "detected"}, or {@code "option"} when the
 *     {@code returning} database option forced it
 */
public record Capabilities(String server, Set<String> returning, String returningSource) {
  /**
   * Makes the record, copying the set so that it is an immutable value.
   *
   * @param server the server's name and version
   * @param returning the statements that may carry RETURNING
   * @param returningSource {@code "detected"} or {@code "option"}
   */
  public Capabilities {
    returning = Set.copyOf(returning);
  }

  /**
   * Tells whether a statement kind may carry RETURNING.
   *
   * @param statement {@code "insert"}, {@code "update"} or {@code "delete"}
   * @return true when it may
   */
  public boolean canReturn(String statement) {
    return returning.contains(statement);
  }

  @SuppressWarnings("unchecked")
  static Capabilities of(Object clj) {
    Object ret = Clj.toJava(Clj.get(clj, "returning"));
    Set<String> r = new TreeSet<>();
    if (ret instanceof Iterable) {
      for (Object x : (Iterable<Object>) ret) {
        r.add(String.valueOf(x));
      }
    }
    Object server = Clj.get(clj, "server");
    Object source = Clj.toJava(Clj.get(clj, "returning-source"));
    return new Capabilities(server == null ? null : server.toString(), r, source == null ? null : source.toString());
  }
}
