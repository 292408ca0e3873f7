package io.vireo.exception;

import java.util.List;
import java.util.Map;

/**
 * No row matched (peewee's {@code Model.DoesNotExist}): {@code aioGet} found nothing, or {@code aioSave} updated a row that is gone.
 *
 * <p>Thrown for errors of type {@link ErrorType#DOES_NOT_EXIST} and its subtypes.
 */
public class DoesNotExistException extends VireoException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception (Vireo creates them; see {@link VireoException}).
   *
   * @param type the error type ({@link ErrorType#DOES_NOT_EXIST} or a subtype)
   * @param message the message
   * @param sql the SQL statement involved, or {@code null}
   * @param parameters the statement's parameters, or {@code null}
   * @param data the whole error data, or {@code null}
   * @param cause the underlying error, or {@code null}
   */
  public DoesNotExistException(ErrorType type, String message, String sql, List<Object> parameters,
      Map<String, Object> data, Throwable cause) {
    super(type, message, sql, parameters, data, cause);
  }
}
