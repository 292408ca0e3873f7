/**
 * The JUnit 5 extension {@link io.vireo.junit.VireoRollback}: each test runs
 * in a transaction rolled back after it.
 *
 * <p>The package is {@code @NullMarked} (JSpecify): a type is non-null unless
 * it says {@code @Nullable}.
 */
@NullMarked
package io.vireo.junit;

import org.jspecify.annotations.NullMarked;
