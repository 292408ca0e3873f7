package io.vireo.exception;

import java.util.List;
import java.util.Map;

/**
 * A CHECK constraint was violated.
 *
 * <p>Thrown for errors of type {@link ErrorType#CHECK_VIOLATION} and its subtypes.
 */
public class CheckViolationException extends IntegrityErrorException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception (Vireo creates them; see {@link VireoException}).
   *
   * @param type the error type ({@link ErrorType#CHECK_VIOLATION} or a subtype)
   * @param message the message
   * @param sql the SQL statement involved, or {@code null}
   * @param parameters the statement's parameters, or {@code null}
   * @param data the whole error data, or {@code null}
   * @param cause the underlying error, or {@code null}
   */
  public CheckViolationException(ErrorType type, String message, String sql, List<Object> parameters,
      Map<String, Object> data, Throwable cause) {
    super(type, message, sql, parameters, data, cause);
  }
}
