package io.vireo.spi;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The narrow interface between Vireo's hand-written Java API and its Clojure
 * implementation. It is implemented by one AOT-compiled gen-class,
 * {@code io.vireo.impl.ClojureBridge}, which the Java side loads by name, so
 * nothing in {@code io.vireo} refers to a generated class at compile time.
 *
 * <p>This is not an API for applications: use {@link io.vireo.Vireo} and the
 * classes of {@code io.vireo}. Values crossing it are Clojure values
 * (keywords, persistent maps and vectors, Vireo's databases and models).
 */
public interface Bridge {

  /**
   * Calls a public Clojure function by its qualified name.
   *
   * @param qualifiedName the function's var, e.g. {@code "vireo.core/aio-create"}
   * @param args its arguments, as Clojure values
   * @return what the function returns (a {@link CompletableFuture} for the
   *     {@code aio-} functions)
   */
  Object invoke(String qualifiedName, Object[] args);

  /**
   * Returns a public Clojure function by its qualified name, resolved once,
   * for callers that invoke it often (by arity, with no argument array).
   *
   * @param qualifiedName the function's var, e.g. {@code "vireo.core/aio-create"}
   * @return the function's var (a {@code clojure.lang.IFn})
   * @throws IllegalArgumentException when no such function exists
   */
  Object function(String qualifiedName);

  /**
   * Returns a new incomplete future of the kind Vireo creates (one that
   * conveys Vireo's context to the stages chained on it).
   *
   * @return a new incomplete {@link CompletableFuture}
   */
  CompletableFuture<Object> newFuture();

  /**
   * Allows synchronous queries on a database for the current thread, like
   * Clojure's {@code with-allow-sync}, until {@link #popAllowSync(Object)}.
   *
   * @param database a Vireo database (or a model, for its database)
   * @return a token for {@link #popAllowSync(Object)}
   */
  Object pushAllowSync(Object database);

  /**
   * Ends what {@link #pushAllowSync(Object)} began, on the same thread and in
   * reverse order of opening; the outermost block releases its connection.
   *
   * @param token the token {@code pushAllowSync} returned
   */
  void popAllowSync(Object token);

  /**
   * Describes a Vireo error.
   *
   * @param error any throwable
   * @return {@code null} when it is not a Vireo error; otherwise a map with
   *     {@code "type"} (e.g. {@code "vireo/unique-violation"}), {@code "types"}
   *     (that type and its ancestors, most specific first, as a {@link List}
   *     of strings), {@code "message"}, {@code "sql"}, {@code "params"} and
   *     {@code "data"} (the whole error data with string keys)
   */
  Map<String, Object> errorInfo(Throwable error);
}
