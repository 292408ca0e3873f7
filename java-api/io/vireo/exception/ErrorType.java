package io.vireo.exception;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The type of a Vireo error: one constant per type of the single hierarchy
 * the Clojure side defines ({@code :vireo/unique-violation},
 * {@code :vireo/integrity-error}, …), each knowing its parent. A test checks
 * that this enum and the Clojure hierarchy list the same types with the same
 * parents, so the two cannot drift.
 *
 * <pre>
 * ERROR
 * ├── DATABASE_ERROR
 * │   ├── INTEGRITY_ERROR: UNIQUE_VIOLATION, FOREIGN_KEY_VIOLATION, NOT_NULL_VIOLATION, CHECK_VIOLATION
 * │   ├── OPERATIONAL_ERROR: SERIALIZATION_FAILURE, DEADLOCK, CONNECTION_ERROR, READ_ONLY, POOL_CLOSED, TIMEOUT
 * │   └── PROGRAMMING_ERROR, DATA_ERROR, NOT_SUPPORTED, INTERNAL_ERROR
 * ├── DOES_NOT_EXIST, SYNC_NOT_ALLOWED, BLOCKING_ON_EVENT_LOOP, MODEL_ERROR, MIGRATION_FAILED
 * └── INTERFACE_ERROR: NOT_INITIALIZED, MIGRATION_ERROR
 * </pre>
 *
 * <p>{@link VireoException#getType()} is the precise type;
 * {@link #isA(ErrorType)} tests the hierarchy
 * ({@code UNIQUE_VIOLATION.isA(DATABASE_ERROR)} is true).
 */
public enum ErrorType {
  /** The root: every Vireo error. */
  ERROR("error", null),
  /** An error the database reported (peewee's {@code DatabaseError}). */
  DATABASE_ERROR("database-error", ERROR),
  /** A constraint was violated (peewee's {@code IntegrityError}). */
  INTEGRITY_ERROR("integrity-error", DATABASE_ERROR),
  /** A unique constraint or primary key was violated. */
  UNIQUE_VIOLATION("unique-violation", INTEGRITY_ERROR),
  /** A foreign key constraint was violated. */
  FOREIGN_KEY_VIOLATION("foreign-key-violation", INTEGRITY_ERROR),
  /** A NOT NULL constraint was violated. */
  NOT_NULL_VIOLATION("not-null-violation", INTEGRITY_ERROR),
  /** A CHECK constraint was violated. */
  CHECK_VIOLATION("check-violation", INTEGRITY_ERROR),
  /** The database could not do the operation (peewee's {@code OperationalError}). */
  OPERATIONAL_ERROR("operational-error", DATABASE_ERROR),
  /** A serializable transaction could not be serialized: run it again. */
  SERIALIZATION_FAILURE("serialization-failure", OPERATIONAL_ERROR),
  /** The transaction was chosen as a deadlock victim: run it again. */
  DEADLOCK("deadlock", OPERATIONAL_ERROR),
  /** The connection failed, was refused or was lost. */
  CONNECTION_ERROR("connection-error", OPERATIONAL_ERROR),
  /** A write on a read-only server (a standby) or in a read-only transaction. */
  READ_ONLY("read-only", OPERATIONAL_ERROR),
  /** The database's pool is closed. */
  POOL_CLOSED("pool-closed", OPERATIONAL_ERROR),
  /** A statement, a transaction or a connection wait took longer than allowed. */
  TIMEOUT("timeout", OPERATIONAL_ERROR),
  /** Bad SQL: a syntax error, an unknown table or column (peewee's {@code ProgrammingError}). */
  PROGRAMMING_ERROR("programming-error", DATABASE_ERROR),
  /** A value the column cannot hold (peewee's {@code DataError}). */
  DATA_ERROR("data-error", DATABASE_ERROR),
  /** A feature the backend does not have (peewee's {@code NotSupportedError}). */
  NOT_SUPPORTED("not-supported", DATABASE_ERROR),
  /** The database reported an internal error (peewee's {@code InternalError}). */
  INTERNAL_ERROR("internal-error", DATABASE_ERROR),
  /** No row matched (peewee's {@code Model.DoesNotExist}). */
  DOES_NOT_EXIST("does-not-exist", ERROR),
  /** A blocking call outside {@code allowSync} (peewee-async's {@code AssertionError}). */
  SYNC_NOT_ALLOWED("sync-not-allowed", ERROR),
  /** {@code join()}/{@code get()} of an unfinished future on a Vert.x event-loop thread. */
  BLOCKING_ON_EVENT_LOOP("blocking-on-event-loop", ERROR),
  /** A bad model definition or instance. */
  MODEL_ERROR("model-error", ERROR),
  /** A migration step failed (the data says which ran and which failed). */
  MIGRATION_FAILED("migration-failed", ERROR),
  /** Misuse of the API: a bad argument or option (peewee's {@code InterfaceError}). */
  INTERFACE_ERROR("interface-error", ERROR),
  /** A deferred database or a proxy used before it was initialized. */
  NOT_INITIALIZED("not-initialized", INTERFACE_ERROR),
  /** Bad migration data: an unknown operation or key, a duplicate id, … */
  MIGRATION_ERROR("migration-error", INTERFACE_ERROR);

  private static final Map<String, ErrorType> BY_NAME = new HashMap<>();

  static {
    for (ErrorType t : values()) {
      BY_NAME.put(t.typeName, t);
    }
  }

  private final String typeName;
  private final ErrorType parent;

  ErrorType(String name, ErrorType parent) {
    this.typeName = "vireo/" + name;
    this.parent = parent;
  }

  /**
   * Returns the type's name as the Clojure side writes its keyword, without the
   * colon: {@code "vireo/unique-violation"}.
   *
   * @return the name
   */
  public String typeName() {
    return typeName;
  }

  /**
   * Returns the parent type, or {@code null} for {@link #ERROR}.
   *
   * @return the parent
   */
  public ErrorType parent() {
    return parent;
  }

  /**
   * Tells whether this type is {@code type} or one of its descendants.
   *
   * @param type a type
   * @return true when {@code type} is this type or one of its ancestors
   */
  public boolean isA(ErrorType type) {
    for (ErrorType t = this; t != null; t = t.parent) {
      if (t == type) {
        return true;
      }
    }
    return false;
  }

  /**
   * Returns this type and its ancestors, most specific first
   * ({@code [UNIQUE_VIOLATION, INTEGRITY_ERROR, DATABASE_ERROR, ERROR]}).
   *
   * @return the chain, read-only
   */
  public List<ErrorType> lineage() {
    List<ErrorType> l = new ArrayList<>();
    for (ErrorType t = this; t != null; t = t.parent) {
      l.add(t);
    }
    return Collections.unmodifiableList(l);
  }

  /**
   * Returns the type of a name as {@link #typeName()} gives it
   * ({@code "vireo/unique-violation"}; the {@code "vireo/"} prefix may be left out).
   *
   * @param name a type name
   * @return the type, or {@code null} when Vireo has none of that name
   */
  public static ErrorType fromName(String name) {
    if (name == null) {
      return null;
    }
    return BY_NAME.get(name.indexOf('/') < 0 ? "vireo/" + name : name);
  }
}
