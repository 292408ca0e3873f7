package io.vireo;

/**
 * What {@link Model#aioGetOrCreate(java.util.Map)} yields: the row and whether it was created.
 *
 * @param instance the matching row, or the new one (a record of a typed model, an {@link Instance} of a dynamic one)
 * @param created true when it was created by this call
 * @param <R> the model's row type
 */
public record GetOrCreate<R>(R instance, boolean created) {
}
