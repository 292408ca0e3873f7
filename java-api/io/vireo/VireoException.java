package io.vireo;

import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The root of Vireo's exceptions. Every error Vireo raises has a type from one
 * hierarchy mirroring peewee's exception classes ({@code "vireo/integrity-error"},
 * {@code "vireo/does-not-exist"}, …); the Java facade raises the subclass of
 * this exception named after it ({@link IntegrityErrorException},
 * {@link DoesNotExistException}, …), carrying the SQL and parameters where
 * they are known.
 *
 * <p>A future returned by Vireo fails with this exception itself; stages you
 * chain on it see it wrapped in a {@link java.util.concurrent.CompletionException},
 * which {@link #unwrap(Throwable)} strips.
 *
 * <p>The cause is the Clojure error ({@code clojure.lang.ExceptionInfo}) the
 * exception stands for, whose own cause is the driver's exception, if any.
 */
public class VireoException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String type;
  private final String sql;
  private final transient List<Object> params;
  private final transient Map<String, Object> data;
  /** The type and its ancestors, most specific first (set by the facade; null when made by hand). */
  transient List<String> types;

  /**
   * Creates an exception (Vireo creates them; applications rarely need to).
   *
   * @param type the Vireo error type, e.g. {@code "vireo/integrity-error"}
   * @param message the message
   * @param sql the SQL statement involved, or {@code null}
   * @param params the statement's parameters, or {@code null}
   * @param data the whole error data (string keys), or {@code null}
   * @param cause the underlying error, or {@code null}
   */
  public VireoException(String type, String message, String sql, List<Object> params,
      Map<String, Object> data, Throwable cause) {
    super(message, cause);
    this.type = type;
    this.sql = sql;
    this.params = params == null ? Collections.emptyList() : Collections.unmodifiableList(params);
    this.data = data == null ? Collections.emptyMap() : Collections.unmodifiableMap(data);
  }

  /**
   * Returns the Vireo error type: the name of the Clojure keyword, e.g.
   * {@code "vireo/unique-violation"} (a subtype of {@code "vireo/integrity-error"}).
   *
   * @return the type name
   */
  public String getType() {
    return type;
  }

  /**
   * Returns the SQL statement that failed, when the error comes from one.
   *
   * @return the SQL, or {@code null}
   */
  public String getSql() {
    return sql;
  }

  /**
   * Returns the parameters of the statement that failed.
   *
   * @return the parameters (empty when unknown)
   */
  public List<Object> getParams() {
    return params;
  }

  /**
   * Returns everything the error carries ({@code "model"}, {@code "filter"},
   * {@code "op"}, …), keys as in Clojure without the colon.
   *
   * @return the error data, read-only
   */
  public Map<String, Object> getData() {
    return data;
  }

  /**
   * Returns the error's type and its ancestors in Vireo's hierarchy, most
   * specific first, e.g. {@code ["vireo/unique-violation",
   * "vireo/integrity-error", "vireo/database-error", "vireo/error"]}.
   *
   * @return the types, read-only
   */
  public List<String> getTypes() {
    List<String> t = types;
    if (t == null) {
      t = computeTypes();
      types = t;
    }
    return t;
  }

  @SuppressWarnings("unchecked")
  private List<String> computeTypes() {
    if (type == null) {
      return List.of("vireo/error");
    }
    Object chain = Clj.call("vireo.java.bridge/type-chain", clojure.lang.Keyword.intern(type));
    return List.copyOf((List<String>) chain);
  }

  /**
   * Tells whether the error is of a Vireo type or one of its subtypes, with
   * the hierarchy the Clojure side uses ({@code isa?}): an
   * {@code "vireo/unique-violation"} is an {@code "vireo/integrity-error"}
   * and a {@code "vireo/database-error"}. The {@code "vireo/"} prefix may
   * be left out.
   *
   * <pre>{@code
   * if (VireoException.unwrap(e) instanceof VireoException v && v.isA("serialization-failure")) { … }
   * }</pre>
   *
   * @param type a type name, e.g. {@code "vireo/integrity-error"} or {@code "integrity-error"}
   * @return true when this error's type is {@code type} or a descendant of it
   */
  public boolean isA(String type) {
    String t = type.indexOf('/') < 0 ? "vireo/" + type : type;
    return getTypes().contains(t);
  }

  /**
   * Strips the {@link java.util.concurrent.CompletionException} and
   * {@link java.util.concurrent.ExecutionException} wrappers the JDK adds
   * around a failure in chained stages and in {@code join()} / {@code get()}.
   *
   * <pre>{@code
   * future.exceptionally(e -> {
   *   if (VireoException.unwrap(e) instanceof DoesNotExistException) return null;
   *   throw new CompletionException(e);
   * });
   * }</pre>
   *
   * @param error any throwable
   * @return the innermost cause behind such wrappers (the throwable itself
   *     when it is not one)
   */
  public static Throwable unwrap(Throwable error) {
    Throwable e = error;
    while ((e instanceof java.util.concurrent.CompletionException
            || e instanceof java.util.concurrent.ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }
}
