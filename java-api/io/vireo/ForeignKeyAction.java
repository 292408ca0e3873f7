package io.vireo;

/** What a foreign key does when the referenced row is deleted or its key updated ({@link Field#onDelete}, {@link Field#onUpdate}). */
public enum ForeignKeyAction {
  /** Delete (update) the referencing rows too. */
  CASCADE,
  /** Set the reference to NULL (the field must be nullable). */
  SET_NULL,
  /** Set the reference to the column's default. */
  SET_DEFAULT,
  /** Refuse the change while rows reference it (checked at once). */
  RESTRICT,
  /** Refuse the change while rows reference it (checked at the end of the statement; the default). */
  NO_ACTION
}
