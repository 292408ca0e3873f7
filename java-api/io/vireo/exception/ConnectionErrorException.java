package io.vireo.exception;

import java.util.List;
import java.util.Map;

/**
 * The connection to the database failed, was refused or was lost.
 *
 * <p>Thrown for errors of type {@link ErrorType#CONNECTION_ERROR} and its subtypes.
 */
public class ConnectionErrorException extends VireoException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception (Vireo creates them; see {@link VireoException}).
   *
   * @param type the error type ({@link ErrorType#CONNECTION_ERROR} or a subtype)
   * @param message the message
   * @param sql the SQL statement involved, or {@code null}
   * @param parameters the statement's parameters, or {@code null}
   * @param data the whole error data, or {@code null}
   * @param cause the underlying error, or {@code null}
   */
  public ConnectionErrorException(ErrorType type, String message, String sql, List<Object> parameters,
      Map<String, Object> data, Throwable cause) {
    super(type, message, sql, parameters, data, cause);
  }
}
