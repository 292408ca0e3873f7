package io.vireo;

import java.util.List;
import java.util.Map;

/**
 * An operation timed out: waiting for a pooled connection longer than {@link DatabaseOptions#connectionTimeout(java.time.Duration)}, or a statement cancelled by the server. (Not named {@code TimeoutException}, so it does not clash with {@link java.util.concurrent.TimeoutException}.)
 *
 * <p>Vireo type {@code "vireo/timeout"}.
 */
public class TimeoutErrorException extends OperationalErrorException {
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
  public TimeoutErrorException(String type, String message, String sql, List<Object> params,
      Map<String, Object> data, Throwable cause) {
    super(type, message, sql, params, data, cause);
  }
}
