package io.vireo;


/**
 * How {@link SelectQuery#join(Model, Join)} joins: the type, and optionally
 * the ON condition (default: from a foreign key between the models), an
 * alias and the attribute the joined instance nests under.
 *
 * <pre>{@code
 * Author.select("name", Expr.count("book.id").as("n")).join(Book, Join.left()).groupBy("name")
 * }</pre>
 */
public final class Join {
  private final JoinType type;
  private Where on;
  private String alias;
  private String attr;

  private Join(JoinType type) {
    this.type = type;
  }

  /**
   * A join of a type.
   *
   * @param type the type
   * @return the join options
   */
  public static Join of(JoinType type) {
    return new Join(java.util.Objects.requireNonNull(type, "Vireo: the join type is null"));
  }

  /**
   * An INNER JOIN (the default of {@link SelectQuery#join(Model)}).
   *
   * @return the join options
   */
  public static Join inner() {
    return new Join(JoinType.INNER);
  }

  /**
   * A LEFT OUTER JOIN.
   *
   * @return the join options
   */
  public static Join left() {
    return new Join(JoinType.LEFT);
  }

  /**
   * A RIGHT OUTER JOIN.
   *
   * @return the join options
   */
  public static Join right() {
    return new Join(JoinType.RIGHT);
  }

  /**
   * A FULL OUTER JOIN (not on MariaDB).
   *
   * @return the join options
   */
  public static Join full() {
    return new Join(JoinType.FULL);
  }

  /**
   * A CROSS JOIN.
   *
   * @return the join options
   */
  public static Join cross() {
    return new Join(JoinType.CROSS);
  }

  /**
   * Sets the ON condition.
   *
   * @param condition the condition
   * @return these options
   */
  public Join on(Where condition) {
    this.on = condition;
    return this;
  }

  /**
   * Sets an alias for the joined table (needed to join a table twice).
   *
   * @param alias the alias
   * @return these options
   */
  public Join as(String alias) {
    this.alias = alias;
    return this;
  }

  /**
   * Sets the key the joined instance nests under.
   *
   * @param attr the key
   * @return these options
   */
  public Join attr(String attr) {
    this.attr = attr;
    return this;
  }

  Object toClojure() {
    return Clj.opts("type", Clj.keyword(type), "on", on == null ? null : on.form(),
        "as", alias == null ? null : Clj.key(alias), "attr", attr == null ? null : Clj.key(attr));
  }
}
