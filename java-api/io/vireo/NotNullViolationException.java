package io.vireo;

import java.util.List;
import java.util.Map;

/**
 * A NOT NULL constraint was violated by the database (Vireo checks most values before sending SQL; this one got through, e.g. from raw SQL).
 *
 * <p>Vireo type {@code "vireo/not-null-violation"}.
 */
public class NotNullViolationException extends IntegrityErrorException {
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
  public NotNullViolationException(String type, String message, String sql, List<Object> params,
      Map<String, Object> data, Throwable cause) {
    super(type, message, sql, params, data, cause);
  }
}
