package io.vireo.exception;

import java.util.List;
import java.util.Map;

/**
 * A constraint was violated (peewee's {@code IntegrityError}); the subclasses say which kind.
 *
 * <p>Thrown for errors of type {@link ErrorType#INTEGRITY_ERROR} and its subtypes.
 */
public class IntegrityErrorException extends VireoException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception (Vireo creates them; see {@link VireoException}).
   *
   * @param type the error type ({@link ErrorType#INTEGRITY_ERROR} or a subtype)
   * @param message the message
   * @param sql the SQL statement involved, or {@code null}
   * @param parameters the statement's parameters, or {@code null}
   * @param data the whole error data, or {@code null}
   * @param cause the underlying error, or {@code null}
   */
  public IntegrityErrorException(ErrorType type, String message, String sql, List<Object> parameters,
      Map<String, Object> data, Throwable cause) {
    super(type, message, sql, parameters, data, cause);
  }
}
