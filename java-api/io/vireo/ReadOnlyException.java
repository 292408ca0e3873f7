package io.vireo;

import java.util.List;
import java.util.Map;

/**
 * A write was refused because the server or the transaction is read-only: a
 * PostgreSQL hot standby or {@code READ ONLY} transaction (SQLSTATE 25006), a
 * MariaDB/MySQL server in {@code read_only} mode (1290, 1836) or read-only
 * transaction (1792), SQLite's {@code query_only}. Retrying on the primary
 * can succeed.
 *
 * <p>Vireo type {@code "vireo/read-only"}.
 */
public class ReadOnlyException extends OperationalErrorException {
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
  public ReadOnlyException(String type, String message, String sql, List<Object> params,
      Map<String, Object> data, Throwable cause) {
    super(type, message, sql, params, data, cause);
  }
}
