package io.vireo;

/**
 * What {@link Model#aioGetOrCreate(java.util.Map)} yields: the instance and whether it was created.
 *
 * @param instance the matching instance, or the new one
 * @param created true when it was created by this call
 */
public record GetOrCreate(Instance instance, boolean created) {
}
