package io.vireo.exception;

import java.util.List;
import java.util.Map;

/**
 * A statement, a transaction or a wait for a connection took longer than allowed (named so as not to clash with {@link java.util.concurrent.TimeoutException}).
 *
 * <p>Thrown for errors of type {@link ErrorType#TIMEOUT} and its subtypes.
 */
public class TimeoutErrorException extends VireoException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception (Vireo creates them; see {@link VireoException}).
   *
   * @param type the error type ({@link ErrorType#TIMEOUT} or a subtype)
   * @param message the message
   * @param sql the SQL statement involved, or {@code null}
   * @param parameters the statement's parameters, or {@code null}
   * @param data the whole error data, or {@code null}
   * @param cause the underlying error, or {@code null}
   */
  public TimeoutErrorException(ErrorType type, String message, String sql, List<Object> parameters,
      Map<String, Object> data, Throwable cause) {
    super(type, message, sql, parameters, data, cause);
  }
}
