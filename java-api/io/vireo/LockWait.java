package io.vireo;

/** What a locking select does about rows other transactions hold ({@link SelectQuery#forUpdate(LockMode, LockWait)}). */
public enum LockWait {
  /** NOWAIT: fail at once (PostgreSQL, MySQL 8, MariaDB 10.6). */
  NOWAIT,
  /** SKIP LOCKED: leave them out of the result (taking jobs from a queue table). */
  SKIP_LOCKED
}
