package io.vireo;

import clojure.lang.IPersistentMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which model each joined instance of a query's rows belongs to: the join
 * attribute ({@code Join.attr}, the foreign key, or the joined model's
 * lower-cased name) to the joined model and its own joins.
 */
final class Nesting {
  final Model<Instance> model;
  private final Map<String, Nesting> children;

  private Nesting(Model<Instance> model, Map<String, Nesting> children) {
    this.model = model;
    this.children = children;
  }

  Nesting child(String attr) {
    return children.get(attr);
  }

  /** The nesting of a select's rows, or {@code null} when it joins nothing. */
  static Nesting of(Model<Instance> root, Object query) {
    if (query instanceof IPersistentMap && ((IPersistentMap) query).valAt(Clj.ref("vireo/joins")) == null
        && ((IPersistentMap) query).valAt(Clj.ref("vireo/members")) == null) {
      return null;
    }
    Object tree = Clj.call("vireo.java.bridge/join-tree", query);
    return tree == null ? null : new Nesting(root, children(tree));
  }

  private static Map<String, Nesting> children(Object tree) {
    Map<String, Nesting> m = new HashMap<>();
    for (Map.Entry<?, ?> e : ((Map<?, ?>) tree).entrySet()) {
      List<?> v = (List<?>) e.getValue();
      m.put((String) e.getKey(), new Nesting(Model.wrap(v.get(0)), children(v.get(1))));
    }
    return m;
  }
}
