package io.vireo;

import io.vireo.exception.VireoException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Rows a test inserts (committed) and deletes again when it is closed, in
 * reverse order, also when the test throws: Clojure's
 * {@code vireo.testing/with-temp}. For tests that cannot run in a
 * {@link RollbackCase} (they check what other connections see).
 *
 * <pre>{@code
 * try (TempRows temp = TempRows.open()) {
 *   Instance ann = temp.insert(Author, Map.of("name", "ann"));
 *   temp.insert(Book, Map.of("author", ann.get("id"), "title", "t"));
 *   // … the rows are committed, visible to every connection
 * }   // both deleted, the book first
 * }</pre>
 *
 * <p>Its calls block the calling thread (a test's); never use it on an event
 * loop.
 */
public final class TempRows implements AutoCloseable {
  /** How to delete each row, in insertion order. */
  private final List<java.util.function.Supplier<CompletableFuture<Long>>> deletes = new ArrayList<>();
  private final List<Object> rows = new ArrayList<>();
  private boolean closed;

  private TempRows() {}

  /**
   * An empty set of temporary rows.
   *
   * @return it; insert rows with {@link #insert(Model, Map)}
   */
  public static TempRows open() {
    return new TempRows();
  }

  /**
   * Inserts a row of {@code model} (committed), to be deleted on close.
   *
   * @param model the row's model
   * @param values its field values
   * @param <R> the model's row type
   * @return the created row (defaults and the generated key filled in)
   * @throws VireoException when the insert fails
   * @throws IllegalStateException when already closed
   */
  public <R> R insert(Model<R> model, Map<String, ?> values) {
    Objects.requireNonNull(model, "Vireo: TempRows.insert needs a model");
    if (closed) {
      throw new IllegalStateException("Vireo: these TempRows are closed");
    }
    R row = await(model.aioCreate(values));
    deletes.add(() -> model.aioDeleteInstance(row));
    rows.add(row);
    return row;
  }

  /**
   * The rows inserted so far, in order.
   *
   * @return an unmodifiable copy
   */
  public List<Object> rows() {
    return List.copyOf(rows);
  }

  /**
   * Deletes the rows in reverse order (idempotent). Every row is tried; the
   * first failure is thrown afterwards, the others added to it as suppressed.
   *
   * @throws VireoException when a delete failed
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    RuntimeException first = null;
    for (int i = rows.size() - 1; i >= 0; i--) {
      try {
        await(deletes.get(i).get());
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  private static <T> T await(CompletableFuture<T> f) {
    try {
      return f.join();
    } catch (java.util.concurrent.CompletionException e) {
      throw Clj.sneaky(Clj.mapError(e));
    }
  }
}
