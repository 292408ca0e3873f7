package io.vireo;

/**
 * Where the reads of a block go on a database with read replicas
 * ({@link DatabaseOptions#replicas(java.util.List)}); see
 * {@link Vireo#withRoute(Route, java.util.function.Supplier)}.
 */
public enum Route {
  /** The primary: reads see every committed write. */
  PRIMARY,
  /** A replica, even within a read-your-writes window. */
  REPLICA;

  Object toClojure() {
    return Clj.key(this == PRIMARY ? "primary" : "replica");
  }
}
