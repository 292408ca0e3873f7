/**
 * Vireo's errors: {@link io.vireo.exception.VireoException} and its
 * subclasses, each with an {@link io.vireo.exception.ErrorType} from one
 * hierarchy mirroring peewee's exceptions.
 *
 * <p>The package is {@code @NullMarked} (JSpecify): a type is non-null unless
 * it says {@code @Nullable}, as {@link io.vireo.exception.VireoException#getSql()}'s
 * result does.
 */
@NullMarked
package io.vireo.exception;

import org.jspecify.annotations.NullMarked;
