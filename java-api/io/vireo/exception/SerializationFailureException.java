package io.vireo.exception;

import java.util.List;
import java.util.Map;

/**
 * A serializable transaction could not be serialized; running it again may succeed ({@code TransactionOptions.retry} does).
 *
 * <p>Thrown for errors of type {@link ErrorType#SERIALIZATION_FAILURE} and its subtypes.
 */
public class SerializationFailureException extends VireoException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception (Vireo creates them; see {@link VireoException}).
   *
   * @param type the error type ({@link ErrorType#SERIALIZATION_FAILURE} or a subtype)
   * @param message the message
   * @param sql the SQL statement involved, or {@code null}
   * @param parameters the statement's parameters, or {@code null}
   * @param data the whole error data, or {@code null}
   * @param cause the underlying error, or {@code null}
   */
  public SerializationFailureException(ErrorType type, String message, String sql, List<Object> parameters,
      Map<String, Object> data, Throwable cause) {
    super(type, message, sql, parameters, data, cause);
  }
}
