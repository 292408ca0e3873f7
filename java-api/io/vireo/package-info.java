/**
 * Vireo's Java API: models (typed by your records, or dynamic over
 * {@link io.vireo.Instance}s), databases, queries and transactions, each
 * {@code aio*} method returning a {@link java.util.concurrent.CompletableFuture}.
 *
 * <p>The package is {@code @NullMarked} (JSpecify): a type is non-null unless
 * it says {@code @Nullable}, as {@link io.vireo.Model#aioGetOrNone(Object)}'s
 * result does.
 */
@NullMarked
package io.vireo;

import org.jspecify.annotations.NullMarked;
