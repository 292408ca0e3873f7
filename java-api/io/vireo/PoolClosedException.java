package io.vireo;

import java.util.List;
import java.util.Map;

/**
 * The database's pool is closed ({@link Database#aioClose()}); {@link Database#aioConnect()} reopens it.
 *
 * <p>Vireo type {@code "vireo/pool-closed"}.
 */
public class PoolClosedException extends OperationalErrorException {
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
  public PoolClosedException(String type, String message, String sql, List<Object> params,
      Map<String, Object> data, Throwable cause) {
    super(type, message, sql, params, data, cause);
  }
}
