package vireo.impl;

import clojure.lang.APersistentMap;
import clojure.lang.IMapEntry;
import clojure.lang.IPersistentCollection;
import clojure.lang.IPersistentMap;
import clojure.lang.ISeq;
import clojure.lang.MapEntry;
import clojure.lang.PersistentArrayMap;
import clojure.lang.Util;
import java.util.Iterator;

/**
 * The metadata of a model instance: the persistent map
 * {@code {::original <the instance without metadata>, ::model m, datafy f, nav g}}
 * (see vireo.impl.model/instance-template), as one small object per row
 * instead of an array map and its array copied from the model's template.
 *
 * <p>The template is the model's {@code [k0 nil k1 v1 ...]} array, shared by
 * all its instances and never written; {@code k0} is {@code ::original},
 * whose value is this instance's own: a map, or the key/value array the
 * instance (an array map) was built on, wrapped in an array map when it is
 * read (the instance's values without its metadata). Reads by key answer
 * from the template; anything that changes the map or walks it works on an
 * array map holding the same entries. Internal to Vireo.
 */
public final class InstanceMeta extends APersistentMap {
  private static final long serialVersionUID = 1L;

  private final Object[] template;
  private final Object original;

  /**
   * @param template the model's metadata template (never written)
   * @param original the instance without metadata: a map, or the key/value
   *     array of an array map
   */
  public InstanceMeta(Object[] template, Object original) {
    this.template = template;
    this.original = original;
  }

  private Object originalValue() {
    Object o = original;
    return o instanceof Object[] ? new PersistentArrayMap((Object[]) o) : o;
  }

  private IPersistentMap materialize() {
    Object[] kvs = template.clone();
    kvs[1] = originalValue();
    return new PersistentArrayMap(kvs);
  }

  private int indexOf(Object key) {
    Object[] t = template;
    for (int i = 0; i < t.length; i += 2) {
      if (t[i] == key || Util.equiv(t[i], key)) {
        return i;
      }
    }
    return -1;
  }

  @Override
  public Object valAt(Object key, Object notFound) {
    int i = indexOf(key);
    return i < 0 ? notFound : i == 0 ? originalValue() : template[i + 1];
  }

  @Override
  public Object valAt(Object key) {
    return valAt(key, null);
  }

  @Override
  public boolean containsKey(Object key) {
    return indexOf(key) >= 0;
  }

  @Override
  public IMapEntry entryAt(Object key) {
    int i = indexOf(key);
    return i < 0 ? null : MapEntry.create(template[i], i == 0 ? originalValue() : template[i + 1]);
  }

  @Override
  public int count() {
    return template.length / 2;
  }

  @Override
  public ISeq seq() {
    return materialize().seq();
  }

  @Override
  @SuppressWarnings("rawtypes")
  public Iterator iterator() {
    return materialize().iterator();
  }

  @Override
  public IPersistentMap assoc(Object key, Object val) {
    return materialize().assoc(key, val);
  }

  @Override
  public IPersistentMap assocEx(Object key, Object val) {
    return materialize().assocEx(key, val);
  }

  @Override
  public IPersistentMap without(Object key) {
    return materialize().without(key);
  }

  @Override
  public IPersistentCollection empty() {
    return PersistentArrayMap.EMPTY;
  }
}
