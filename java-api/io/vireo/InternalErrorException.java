package io.vireo;

import java.util.List;
import java.util.Map;

/**
 * The database reported an internal error (peewee's {@code InternalError}).
 *
 * <p>Vireo type {@code "vireo/internal-error"} and its subtypes.
 */
public class InternalErrorException extends DatabaseErrorException {
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
  public InternalErrorException(String type, String message, String sql, List<Object> params,
      Map<String, Object> data, Throwable cause) {
    super(type, message, sql, params, data, cause);
  }
}
