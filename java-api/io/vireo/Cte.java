package io.vireo;

import java.util.List;
import java.util.Objects;

/**
 * A common table expression for {@link SelectQuery#with(Cte...)} and
 * {@link Query#with(Cte...)}: a name (and optionally its columns) bound to a
 * query — a {@link SelectQuery} of a model or a plain {@link Query}.
 *
 * <pre>{@code
 * Cte thick = Cte.of("thick", Book.select("id").where(Where.gt("pages", 100)));
 * List<Instance> books = Book.select().with(thick)
 *     .where(Where.in("id", Query.select("id").from("thick"))).aioExecute().join();
 * }</pre>
 */
public final class Cte {
  private final Object form;

  private Cte(Object form) {
    this.form = form;
  }

  /**
   * A CTE named {@code name} over a model select.
   *
   * @param name the name
   * @param body the query
   * @return the CTE
   */
  public static Cte of(String name, SelectQuery<?> body) {
    Objects.requireNonNull(body, "Vireo: a CTE needs a query");
    return new Cte(Clj.vec(Clj.key(name), body.form()));
  }

  /**
   * A CTE named {@code name} over a plain query.
   *
   * @param name the name
   * @param body the query
   * @return the CTE
   */
  public static Cte of(String name, Query body) {
    Objects.requireNonNull(body, "Vireo: a CTE needs a query");
    return new Cte(Clj.vec(Clj.key(name), body.form()));
  }

  /**
   * A CTE with a column list ({@code name (c1, c2) AS (…)}), the usual form
   * of a recursive one.
   *
   * @param name the name
   * @param columns its columns
   * @param body the query
   * @return the CTE
   */
  public static Cte of(String name, List<String> columns, Query body) {
    Objects.requireNonNull(body, "Vireo: a CTE needs a query");
    Object[] head = new Object[columns.size() + 1];
    head[0] = Clj.key(name);
    for (int i = 0; i < columns.size(); i++) {
      head[i + 1] = Clj.key(columns.get(i));
    }
    return new Cte(Clj.vec(Clj.vec(head), body.form()));
  }

  static Object forms(Cte... ctes) {
    if (ctes.length == 0) {
      throw new IllegalArgumentException("Vireo: with needs at least one CTE");
    }
    Object[] a = new Object[ctes.length];
    for (int i = 0; i < ctes.length; i++) {
      a[i] = Objects.requireNonNull(ctes[i], "Vireo: a CTE is null").form;
    }
    return Clj.vec(a);
  }
}
