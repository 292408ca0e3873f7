package io.vireo;

import java.util.List;
import java.util.Map;

/**
 * A value does not fit (peewee's {@code DataError}): checked by Vireo against the field type before any SQL is sent, or refused by the database.
 *
 * <p>Vireo type {@code "vireo/data-error"} and its subtypes.
 */
public class DataErrorException extends DatabaseErrorException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception (Vireo creates them; see {@link VireoException}).
   *
   * @param type the Vireo error type
   * @param message the message
   * @param sql the SQL statement involved, or {@code null}
   * @param params the statement's parameters, or {@code null}
   * @param data the whole error data, or {@code null}
   * @param cause the underlying error, or {@code null}
   */
  public DataErrorException(String type, String message, String sql, List<Object> params,
      Map<String, Object> data, Throwable cause) {
    super(type, message, sql, params, data, cause);
  }
}
