package io.vireo;

import java.util.List;
import java.util.Map;

/**
 * A deferred database used before Clojure's {@code vireo.core/init!} gave it its
 * database name or path, or a model bound to a database proxy that is not initialized yet.
 *
 * <p>Vireo type {@code "vireo/not-initialized"} and its subtypes.
 */
public class NotInitializedException extends InterfaceErrorException {
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
  public NotInitializedException(String type, String message, String sql, List<Object> params,
      Map<String, Object> data, Throwable cause) {
    super(type, message, sql, params, data, cause);
  }
}
