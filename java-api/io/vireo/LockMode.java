package io.vireo;

/** The row lock a select takes ({@link SelectQuery#forUpdate(LockMode)}); refused on SQLite. */
public enum LockMode {
  /** FOR UPDATE. */
  UPDATE,
  /** FOR SHARE. */
  SHARE,
  /** FOR NO KEY UPDATE (PostgreSQL). */
  NO_KEY_UPDATE,
  /** FOR KEY SHARE (PostgreSQL). */
  KEY_SHARE
}
