package io.vireo;

/**
 * The field types of {@link Field#ofType(FieldType)} (each also has a factory
 * on {@link Field}, and {@link ModelBuilder} infers most from a record's
 * components). A custom type registered in Clojure is named by
 * {@link Field#ofType(String)}.
 */
public enum FieldType {
  /** An auto-increment integer key. */
  AUTO,
  /** An auto-increment 64-bit key. */
  BIG_AUTO,
  /** {@code VARCHAR(max-length)}: set {@code Field.set("max-length", n)} or use {@link Field#charField(int)}. */
  CHAR,
  /** Text of any length. */
  TEXT,
  /** A 32-bit integer. */
  INTEGER,
  /** A 64-bit integer. */
  BIGINT,
  /** A 16-bit integer. */
  SMALLINT,
  /** A boolean. */
  BOOLEAN,
  /** A double-precision number. */
  DOUBLE,
  /** A single-precision number. */
  FLOAT,
  /** A decimal: set precision and scale, or use {@link Field#decimal(int, int)}. */
  DECIMAL,
  /** A UUID. */
  UUID,
  /** A date and time without zone ({@code LocalDateTime}). */
  DATETIME,
  /** A timestamp with zone ({@code OffsetDateTime}, kept in UTC). */
  TIMESTAMPTZ,
  /** A date. */
  DATE,
  /** A time of day. */
  TIME,
  /** JSON ({@code Map}, {@code List}, …). */
  JSON,
  /** Bytes. */
  BYTES
}
