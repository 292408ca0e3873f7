package io.vireo.exception;

import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The root of Vireo's exceptions. Every error Vireo raises has an
 * {@link ErrorType} from one hierarchy mirroring peewee's exception classes
 * ({@link ErrorType#INTEGRITY_ERROR}, {@link ErrorType#DOES_NOT_EXIST}, …).
 * The errors an application catches have their own subclass
 * ({@link DoesNotExistException}, {@link IntegrityErrorException} and its
 * unique / foreign-key / not-null / check children,
 * {@link SerializationFailureException}, {@link DeadlockException},
 * {@link TimeoutErrorException}, {@link ConnectionErrorException},
 * {@link ReadOnlyException}); every other type (a programming error, a
 * refused argument, a blocking call outside {@code allowSync}, …) is a
 * {@code VireoException} whose {@link #getType()} names it.
 *
 * <pre>{@code
 * catch (VireoException e) {
 *   if (e.isA(ErrorType.OPERATIONAL_ERROR)) { … }
 * }
 * }</pre>
 *
 * <p>A future returned by Vireo fails with this exception itself; stages you
 * chain on it see it wrapped in a {@link java.util.concurrent.CompletionException},
 * which {@link #unwrap(Throwable)} strips.
 *
 * <p>The cause is the Clojure error ({@code clojure.lang.ExceptionInfo}) the
 * exception stands for, whose own cause is the driver's exception, if any.
 */
public class VireoException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorType type;
  private final String sql;
  private final transient List<Object> parameters;
  private final transient Map<String, Object> data;

  /**
   * Creates an exception (Vireo creates them; applications rarely need to).
   * {@link #of} picks the most specific class for a type.
   *
   * @param type the error type; {@code null} means {@link ErrorType#ERROR}
   * @param message the message
   * @param sql the SQL statement involved, or {@code null}
   * @param parameters the statement's parameters, or {@code null}
   * @param data the whole error data (string keys), or {@code null}
   * @param cause the underlying error, or {@code null}
   */
  public VireoException(ErrorType type, String message, String sql, List<Object> parameters,
      Map<String, Object> data, Throwable cause) {
    super(message, cause);
    this.type = type == null ? ErrorType.ERROR : type;
    this.sql = sql;
    this.parameters = parameters == null ? Collections.emptyList() : Collections.unmodifiableList(parameters);
    this.data = data == null ? Collections.emptyMap() : Collections.unmodifiableMap(data);
  }

  /**
   * Creates the exception of the most specific class for {@code type}: a
   * {@link UniqueViolationException} for {@link ErrorType#UNIQUE_VIOLATION},
   * an {@link IntegrityErrorException} for {@link ErrorType#INTEGRITY_ERROR},
   * a plain {@code VireoException} for a type with no class of its own.
   *
   * @param type the error type; {@code null} means {@link ErrorType#ERROR}
   * @param message the message
   * @param sql the SQL statement involved, or {@code null}
   * @param parameters the statement's parameters, or {@code null}
   * @param data the whole error data (string keys), or {@code null}
   * @param cause the underlying error, or {@code null}
   * @return the exception
   */
  public static VireoException of(ErrorType type, String message, String sql, List<Object> parameters,
      Map<String, Object> data, Throwable cause) {
    ErrorType t = type == null ? ErrorType.ERROR : type;
    for (ErrorType k = t; k != null; k = k.parent()) {
      switch (k) {
        case UNIQUE_VIOLATION:
          return new UniqueViolationException(t, message, sql, parameters, data, cause);
        case FOREIGN_KEY_VIOLATION:
          return new ForeignKeyViolationException(t, message, sql, parameters, data, cause);
        case NOT_NULL_VIOLATION:
          return new NotNullViolationException(t, message, sql, parameters, data, cause);
        case CHECK_VIOLATION:
          return new CheckViolationException(t, message, sql, parameters, data, cause);
        case INTEGRITY_ERROR:
          return new IntegrityErrorException(t, message, sql, parameters, data, cause);
        case SERIALIZATION_FAILURE:
          return new SerializationFailureException(t, message, sql, parameters, data, cause);
        case DEADLOCK:
          return new DeadlockException(t, message, sql, parameters, data, cause);
        case TIMEOUT:
          return new TimeoutErrorException(t, message, sql, parameters, data, cause);
        case CONNECTION_ERROR:
          return new ConnectionErrorException(t, message, sql, parameters, data, cause);
        case READ_ONLY:
          return new ReadOnlyException(t, message, sql, parameters, data, cause);
        case DOES_NOT_EXIST:
          return new DoesNotExistException(t, message, sql, parameters, data, cause);
        default:
          break;
      }
    }
    return new VireoException(t, message, sql, parameters, data, cause);
  }

  /**
   * Returns the error's precise type, e.g. {@link ErrorType#UNIQUE_VIOLATION}.
   *
   * @return the type
   */
  public ErrorType getType() {
    return type;
  }

  /**
   * Returns the error's type and its ancestors, most specific first, e.g.
   * {@code [UNIQUE_VIOLATION, INTEGRITY_ERROR, DATABASE_ERROR, ERROR]}.
   *
   * @return the types, read-only
   */
  public List<ErrorType> getTypes() {
    return type.lineage();
  }

  /**
   * Tells whether the error is of a type or one of its subtypes: a
   * {@link ErrorType#UNIQUE_VIOLATION} is an {@link ErrorType#INTEGRITY_ERROR}
   * and a {@link ErrorType#DATABASE_ERROR}.
   *
   * <pre>{@code
   * if (VireoException.unwrap(e) instanceof VireoException v && v.isA(ErrorType.OPERATIONAL_ERROR)) { … }
   * }</pre>
   *
   * @param type a type
   * @return true when this error's type is {@code type} or a descendant of it
   */
  public boolean isA(ErrorType type) {
    return this.type.isA(type);
  }

  /**
   * Returns the SQL statement that failed, when the error comes from one.
   *
   * @return the SQL, or {@code null}
   */
  public String getSql() {
    return sql;
  }

  /**
   * Returns the parameters of the statement that failed, each cut to a
   * bounded size (a long string or byte array is shown by its start and its
   * size), at most 100 of them.
   *
   * @return the parameters (empty when unknown)
   */
  public List<Object> getParameters() {
    return parameters;
  }

  /**
   * Returns everything the error carries ({@code "model"}, {@code "filter"},
   * {@code "op"}, …), keys as in Clojure without the colon.
   *
   * @return the error data, read-only
   */
  public Map<String, Object> getData() {
    return data;
  }

  /**
   * Strips the {@link java.util.concurrent.CompletionException} and
   * {@link java.util.concurrent.ExecutionException} wrappers the JDK adds
   * around a failure in chained stages and in {@code join()} / {@code get()}.
   *
   * <pre>{@code
   * future.exceptionally(e -> {
   *   if (VireoException.unwrap(e) instanceof DoesNotExistException) return null;
   *   throw new CompletionException(e);
   * });
   * }</pre>
   *
   * @param error any throwable
   * @return the innermost cause behind such wrappers (the throwable itself
   *     when it is not one)
   */
  public static Throwable unwrap(Throwable error) {
    Throwable e = error;
    while ((e instanceof java.util.concurrent.CompletionException
            || e instanceof java.util.concurrent.ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }
}
