package io.vireo;

import java.io.Serializable;
import java.util.function.Function;

/**
 * A field named by a method reference the compiler checks: a record
 * accessor ({@code Block::key} names the field {@code "key"}) or a POJO
 * getter ({@code Page::getTitle} names {@code "title"}, {@code Page::isActive}
 * names {@code "active"}). Typed overloads of {@link Where}, {@link Expr},
 * {@link SelectQuery} and {@link ModelBuilder} take one where a field name
 * string is taken otherwise:
 *
 * <pre>{@code
 * Blocks.select().where(Where.eq(Block::key, "title")).orderBy(Block::key)
 * }</pre>
 *
 * <p>Only a method reference names a field: a lambda ({@code b -> b.key()})
 * is refused with an {@link IllegalArgumentException} that says so. The name
 * is read once per method reference (from its serialized form) and cached.
 *
 * @param <R> the record or POJO class
 * @param <T> the property's type
 */
@FunctionalInterface
public interface Property<R, T> extends Function<R, T>, Serializable {
}
