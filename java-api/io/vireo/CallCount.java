package io.vireo;

/**
 * What {@link Vireo#withCallCount(java.util.function.Supplier)} yields: the
 * body's result and the number of SQL statements it sent.
 *
 * @param value the body's result
 * @param count the statements sent (BEGIN, COMMIT and savepoints not counted; a stream counts once)
 * @param <T> the result type
 */
public record CallCount<T>(T value, long count) {
}
