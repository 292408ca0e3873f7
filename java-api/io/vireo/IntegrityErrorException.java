package io.vireo;

import java.util.List;
import java.util.Map;

/**
 * A constraint was violated (peewee's {@code IntegrityError}): unique, foreign key, not null or check; {@link #getType()} tells which (e.g. {@code "vireo/unique-violation"}).
 *
 * <p>Vireo type {@code "vireo/integrity-error"} and its subtypes.
 */
public class IntegrityErrorException extends DatabaseErrorException {
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
  public IntegrityErrorException(String type, String message, String sql, List<Object> params,
      Map<String, Object> data, Throwable cause) {
    super(type, message, sql, params, data, cause);
  }
}
