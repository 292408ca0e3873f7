package io.vireo;

import java.util.List;
import java.util.Map;

/**
 * Blocking for an unfinished Vireo future on a Vert.x event-loop thread, which would deadlock it.
 *
 * <p>Vireo type {@code "vireo/blocking-on-event-loop"} and its subtypes.
 */
public class BlockingOnEventLoopException extends VireoException {
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
  public BlockingOnEventLoopException(String type, String message, String sql, List<Object> params,
      Map<String, Object> data, Throwable cause) {
    super(type, message, sql, params, data, cause);
  }
}
