package io.vireo;

import clojure.lang.ArraySeq;
import clojure.lang.IFn;
import clojure.lang.IPersistentMap;
import clojure.lang.IPersistentSet;
import clojure.lang.IPersistentVector;
import clojure.lang.ISeq;
import clojure.lang.Keyword;
import clojure.lang.LazilyPersistentVector;
import clojure.lang.PersistentArrayMap;
import clojure.lang.PersistentHashMap;
import clojure.lang.Symbol;
import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
import io.vireo.spi.Bridge;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Function;
import vireo.promise.ConveyingFuture;

/**
 * The facade's plumbing: the bridge to the Clojure implementation, Java to
 * Clojure data, futures whose failures are Vireo's exceptions.
 */
final class Clj {
  private Clj() {}

  /** Loads the gen-class bridge once, on first use (by name: javac runs before AOT). */
  private static final class Holder {
    static final Bridge BRIDGE = load();

    private static Bridge load() {
      try {
        Class<?> c = Class.forName("io.vireo.impl.ClojureBridge", true, Clj.class.getClassLoader());
        return (Bridge) c.getDeclaredConstructor().newInstance();
      } catch (ReflectiveOperationException | LinkageError e) {
        throw new IllegalStateException(
            "Vireo: cannot load io.vireo.impl.ClojureBridge; use the Vireo jar, which holds it", e);
      }
    }
  }

  static Bridge bridge() {
    return Holder.BRIDGE;
  }

  // ------------------------------------------------------------------ keys

  /**
   * The keywords of the names seen so far, so that turning a name into a
   * keyword on a hot path (field names, lookups) allocates nothing. Bounded:
   * past this many names, a name is interned on each use as before.
   */
  private static final int NAMES_CACHED = 4096;
  private static final ConcurrentHashMap<String, Keyword> KEYS = new ConcurrentHashMap<>();
  private static final ConcurrentHashMap<String, Keyword> REFS = new ConcurrentHashMap<>();
  private static final ConcurrentHashMap<String, Keyword> KEYWORDS = new ConcurrentHashMap<>();

  private static Keyword remember(ConcurrentHashMap<String, Keyword> cache, String name, Keyword k) {
    if (cache.size() < NAMES_CACHED) {
      cache.put(name, k);
    }
    return k;
  }

  /** A data key: the Java name is the keyword's name ("created-at" -> :created-at). */
  static Keyword key(String name) {
    Keyword k = name == null ? null : KEYS.get(name);
    return k != null ? k : remember(KEYS, name, Keyword.intern(Symbol.intern(null, name)));
  }

  /** {@code Keyword.intern(nsname)}: "like" -> :like, "vireo/as" -> :vireo/as. */
  static Keyword keyword(String nsname) {
    Keyword k = KEYWORDS.get(nsname);
    return k != null ? k : remember(KEYWORDS, nsname, Keyword.intern(nsname));
  }

  /** A field reference: "author.name" or "author/name" -> :author/name. */
  /**
   * The Clojure keyword of a Java enum constant, the one mapping of every
   * enum of the API ({@link FieldType}, {@link ForeignKeyAction},
   * {@link JoinType}, {@link LockMode}, {@link LockWait}, …): the name
   * lower-cased, {@code _} as {@code -} ({@code SET_NULL} is {@code :set-null}).
   */
  static Keyword keyword(Enum<?> constant) {
    return Keyword.intern(constant.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
  }

  static Keyword ref(String name) {
    Keyword k = REFS.get(name);
    return k != null ? k : remember(REFS, name, parseRef(name));
  }

  private static Keyword parseRef(String name) {
    int slash = name.indexOf('/');
    if (slash < 0) {
      int dot = name.indexOf('.');
      if (dot > 0) {
        return Keyword.intern(name.substring(0, dot), name.substring(dot + 1));
      }
      return key(name);
    }
    return Keyword.intern(Symbol.intern(name));
  }

  static String keyName(Object k) {
    if (k instanceof Keyword) {
      Keyword kw = (Keyword) k;
      return kw.getNamespace() == null ? kw.getName() : kw.getNamespace() + "/" + kw.getName();
    }
    return String.valueOf(k);
  }

  static Object refs(String... names) {
    Object[] ks = new Object[names.length];
    for (int i = 0; i < names.length; i++) {
      ks[i] = ref(names[i]);
    }
    return vec(ks);
  }

  /** A vector of the elements of a new array, which it takes over (no copy). */
  static IPersistentVector vec(Object... owned) {
    return LazilyPersistentVector.createOwning(owned);
  }

  // ------------------------------------------------------------------ data

  /** Java value -> Clojure value (maps get keyword keys, collections become vectors). */
  static Object toClj(Object v) {
    if (v == null || v instanceof String || v instanceof Number || v instanceof Boolean
        || v instanceof Keyword || v instanceof byte[]) {
      return v;
    }
    if (v instanceof Instance) {
      return ((Instance) v).data();
    }
    if (v instanceof Where) {
      return ((Where) v).form();
    }
    if (v instanceof Expr) {
      return ((Expr) v).form();
    }
    if (v instanceof SelectQuery) {
      return ((SelectQuery<?>) v).form();
    }
    if (v instanceof Query) {
      return ((Query) v).form();
    }
    if (v instanceof Model) {
      return ((Model<?>) v).toClojure();
    }
    if (v instanceof Enum) {
      return ((Enum<?>) v).name(); // an enum component is stored as its constant's name
    }
    if (v instanceof Database) {
      return ((Database) v).toClojure();
    }
    if (v instanceof IPersistentMap || v instanceof IPersistentVector || v instanceof IPersistentSet
        || v instanceof ISeq) {
      return v;
    }
    if (v instanceof Map) {
      return map((Map<?, ?>) v);
    }
    if (v instanceof Collection) {
      Collection<?> c = (Collection<?>) v;
      Object[] a = new Object[c.size()];
      int i = 0;
      for (Object x : c) {
        a[i++] = toClj(x);
      }
      return vec(a);
    }
    if (v instanceof Object[]) {
      Object[] src = (Object[]) v;
      Object[] a = new Object[src.length];
      for (int i = 0; i < src.length; i++) {
        a[i] = toClj(src[i]);
      }
      return vec(a);
    }
    if (v instanceof Record) {
      return map(Records.toMap(v));
    }
    return v;
  }

  /** Java map -> Clojure map with keyword keys (by name), values converted. */
  static IPersistentMap map(Map<?, ?> m) {
    if (m == null) {
      return PersistentArrayMap.EMPTY;
    }
    Object[] kvs = new Object[m.size() * 2];
    int i = 0;
    for (Map.Entry<?, ?> e : m.entrySet()) {
      Object k = e.getKey();
      kvs[i++] = k instanceof String ? key((String) k) : k;
      kvs[i++] = toClj(e.getValue());
    }
    return kvs.length <= 16 ? new PersistentArrayMap(kvs) : PersistentHashMap.create(kvs);
  }

  /** A map of new key-value pairs (a key given twice: the later value, as by assoc). */
  static IPersistentMap mapOf(Object[] kvs) {
    return kvs.length <= 16 ? PersistentArrayMap.createAsIfByAssoc(kvs) : PersistentHashMap.create(kvs);
  }

  /** A filter map: keys are field references ("author.name", "pages__gt"). */
  static IPersistentMap filterMap(Map<String, ?> m) {
    Object[] kvs = new Object[m.size() * 2];
    int i = 0;
    for (Map.Entry<String, ?> e : m.entrySet()) {
      kvs[i++] = ref(e.getKey());
      kvs[i++] = toClj(e.getValue());
    }
    return kvs.length <= 16 ? new PersistentArrayMap(kvs) : PersistentHashMap.create(kvs);
  }

  static IPersistentMap opts(Object... kvs) {
    boolean any = false;
    for (int i = 1; i < kvs.length; i += 2) {
      any |= kvs[i] != null;
    }
    if (!any) {
      return PersistentArrayMap.EMPTY;
    }
    List<Object> l = new ArrayList<>();
    for (int i = 0; i < kvs.length; i += 2) {
      if (kvs[i + 1] != null) {
        l.add(key((String) kvs[i]));
        l.add(kvs[i + 1]);
      }
    }
    return l.isEmpty() ? PersistentArrayMap.EMPTY : PersistentArrayMap.createAsIfByAssoc(l.toArray());
  }

  /** Clojure value -> plain Java: maps with string keys, lists, keywords as strings. */
  static Object toJava(Object v) {
    if (v == null || v instanceof String || v instanceof Number || v instanceof Boolean) {
      return v;
    }
    if (v instanceof Keyword) {
      return keyName(v);
    }
    if (v instanceof IPersistentMap) {
      Map<String, Object> m = new LinkedHashMap<>();
      for (Object o : (Iterable<?>) v) {
        Map.Entry<?, ?> e = (Map.Entry<?, ?>) o;
        m.put(keyName(e.getKey()), toJava(e.getValue()));
      }
      return m;
    }
    if (v instanceof IPersistentSet) {
      Set<Object> s = new LinkedHashSet<>();
      for (Object x : (Iterable<?>) v) {
        s.add(toJava(x));
      }
      return s;
    }
    if (v instanceof IPersistentVector || v instanceof ISeq || v instanceof List) {
      List<Object> l = new ArrayList<>();
      for (Object x : (Iterable<?>) v) {
        l.add(toJava(x));
      }
      return l;
    }
    return v;
  }

  static Object get(Object cljMap, String k) {
    return clojure.lang.RT.get(cljMap, key(k));
  }

  static List<Object> list(Object cljSeq) {
    List<Object> l = new ArrayList<>();
    if (cljSeq != null) {
      for (Object x : (Iterable<?>) cljSeq) {
        l.add(x);
      }
    }
    return l;
  }

  static Object[] array(Object... xs) {
    return xs;
  }

  // ------------------------------------------------------------------ calls

  /**
   * The functions called so far, by the name the facade uses ("aio-get" for
   * vireo.core's, or a qualified name): each is resolved through the bridge
   * once, then invoked directly by arity.
   */
  private static final ConcurrentHashMap<String, IFn> FNS = new ConcurrentHashMap<>();

  static IFn fn(String name) {
    IFn f = FNS.get(name);
    if (f == null) {
      f = (IFn) bridge().function(name.indexOf('/') < 0 ? "vireo.core/" + name : name);
      FNS.put(name, f);
    }
    return f;
  }

  private static Object invoke(String name, Object[] a) {
    IFn f = fn(name);
    switch (a == null ? 0 : a.length) { // a null array: no arguments, as (seq nil)
      case 0:
        return f.invoke();
      case 1:
        return f.invoke(a[0]);
      case 2:
        return f.invoke(a[0], a[1]);
      case 3:
        return f.invoke(a[0], a[1], a[2]);
      case 4:
        return f.invoke(a[0], a[1], a[2], a[3]);
      case 5:
        return f.invoke(a[0], a[1], a[2], a[3], a[4]);
      default:
        return f.applyTo(ArraySeq.create(a));
    }
  }

  /** Calls a vireo.core function synchronously; errors are thrown as Vireo's exceptions. */
  static Object call(String fn, Object... args) {
    try {
      return invoke(fn, args);
    } catch (Throwable t) {
      throw sneaky(mapError(t));
    }
  }

  /**
   * The blocking form of an aio- call: calls its {@code vireo.sync} mirror (the
   * aio- name without the prefix) with the same arguments and converts its
   * value; the one mechanism behind every blocking method of the facade (the
   * allow-sync and event-loop guards, the allow-sync block's connection).
   * Errors are thrown as Vireo's exceptions.
   */
  static <T> T sync(Function<Object, T> conv, String aioFn, Object... args) {
    try {
      return conv.apply(invoke("vireo.sync/" + aioFn.substring(4), args));
    } catch (Throwable t) {
      throw sneaky(mapError(t));
    }
  }

  /** Calls an aio- function; the future fails with Vireo's exception itself. */
  static <T> CompletableFuture<T> aio(Function<Object, T> conv, String fn, Object... args) {
    Object r;
    try {
      r = invoke(fn, args);
    } catch (Throwable t) {
      return failed(t);
    }
    return adapt(r, conv);
  }

  // The same with one to three arguments, without an argument array. (An
  // Object[] argument still goes to the variadic form, its most specific
  // applicable method, as the arguments themselves.)

  static Object call(String fn, Object a) {
    try {
      return fn(fn).invoke(a);
    } catch (Throwable t) {
      throw sneaky(mapError(t));
    }
  }

  static Object call(String fn, Object a, Object b) {
    try {
      return fn(fn).invoke(a, b);
    } catch (Throwable t) {
      throw sneaky(mapError(t));
    }
  }

  static Object call(String fn, Object a, Object b, Object c) {
    try {
      return fn(fn).invoke(a, b, c);
    } catch (Throwable t) {
      throw sneaky(mapError(t));
    }
  }

  static <T> CompletableFuture<T> aio(Function<Object, T> conv, String fn, Object a) {
    Object r;
    try {
      r = fn(fn).invoke(a);
    } catch (Throwable t) {
      return failed(t);
    }
    return adapt(r, conv);
  }

  static <T> CompletableFuture<T> aio(Function<Object, T> conv, String fn, Object a, Object b) {
    Object r;
    try {
      r = fn(fn).invoke(a, b);
    } catch (Throwable t) {
      return failed(t);
    }
    return adapt(r, conv);
  }

  static <T> CompletableFuture<T> aio(Function<Object, T> conv, String fn, Object a, Object b, Object c) {
    Object r;
    try {
      r = fn(fn).invoke(a, b, c);
    } catch (Throwable t) {
      return failed(t);
    }
    return adapt(r, conv);
  }

  @SuppressWarnings("unchecked")
  static <T> CompletableFuture<T> adapt(Object r, Function<Object, T> conv) {
    if (!(r instanceof CompletableFuture)) {
      CompletableFuture<T> out = newFuture();
      try {
        out.complete(conv.apply(r));
      } catch (Throwable t) {
        out.completeExceptionally(mapError(t));
      }
      return out;
    }
    Adapted<T> out = new Adapted<>((CompletableFuture<Object>) r, conv);
    ConveyingFuture.listen((CompletableFuture<Object>) r, out);
    return out;
  }

  /**
   * The facade's future of a Vireo future: completes with its converted
   * result or Vireo's exception, and passes its own cancellation on to it.
   * It listens to the Vireo future itself (one stage, no conveying wrapper:
   * it only completes this future, whose dependents convey their own
   * bindings).
   */
  private static final class Adapted<T> extends JavaFuture<T> implements BiConsumer<Object, Throwable> {
    private final CompletableFuture<Object> src;
    private final Function<Object, T> conv;

    Adapted(CompletableFuture<Object> src, Function<Object, T> conv) {
      this.src = src;
      this.conv = conv;
    }

    @Override
    public void accept(Object v, Throwable e) {
      if (e != null) {
        super.completeExceptionally(mapError(e));
        return;
      }
      T t;
      try {
        t = conv.apply(v);
      } catch (Throwable x) {
        super.completeExceptionally(mapError(x));
        return;
      }
      super.complete(t);
    }

    private void propagateCancel() {
      if (isCancelled()) {
        src.cancel(false);
      }
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      // the source first: a transaction whose COMMIT was sent refuses, and
      // this future then gets the COMMIT's outcome too
      if (!src.isDone() && !src.cancel(mayInterruptIfRunning) && !src.isCancelled()) {
        return false;
      }
      boolean r = super.cancel(mayInterruptIfRunning);
      propagateCancel();
      return r;
    }

    @Override
    public boolean completeExceptionally(Throwable ex) {
      boolean r = super.completeExceptionally(ex);
      propagateCancel();
      return r;
    }

    @Override
    public void obtrudeException(Throwable ex) {
      super.obtrudeException(ex);
      propagateCancel();
    }
  }

  /** A new incomplete facade future (conveying; Java's event-loop exception). */
  static <T> CompletableFuture<T> newFuture() {
    return new JavaFuture<>();
  }

  /**
   * Runs a write query with RETURNING of the given fields (none: all) and
   * yields the rows as instances of {@code model}: the shared body of the
   * insert, update and delete builders' {@code aioReturning}.
   */
  static <T> java.util.List<T> syncReturning(java.util.function.Function<Object, java.util.List<T>> rows, Object q,
      String[] fields) {
    return sync(rows, "aio-execute", call("returning", returningArgs(q, fields)));
  }

  private static Object[] returningArgs(Object q, String[] fields) {
    Object[] a = new Object[fields.length + 1];
    a[0] = q;
    for (int i = 0; i < fields.length; i++) {
      a[i + 1] = ref(fields[i]);
    }
    return a;
  }

  static <T> CompletableFuture<java.util.List<T>> aioReturning(java.util.function.Function<Object, java.util.List<T>> rows,
      Object q, String[] fields) {
    return guard(() -> aio(rows, "aio-execute", call("returning", returningArgs(q, fields))));
  }

  /**
   * Runs the body of an {@code aio*} method: whatever it throws (a bad
   * argument found while converting it, say) fails the returned future
   * instead, so an {@code aio*} method never throws.
   */
  /**
   * Calls {@code action} on the calling thread with Clojure's binding frame
   * {@code frame} in force (a scope's: its connection level and operation
   * scope), the thread's own frame restored after: what
   * {@link Connection#run} and {@link Transaction#run} do.
   */
  static <T> T inFrame(Object frame, java.util.function.Supplier<T> action) {
    Object prev = clojure.lang.Var.getThreadBindingFrame();
    clojure.lang.Var.resetThreadBindingFrame(frame);
    try {
      return action.get();
    } finally {
      clojure.lang.Var.resetThreadBindingFrame(prev);
    }
  }

  static <T> CompletableFuture<T> guard(java.util.function.Supplier<CompletableFuture<T>> body) {
    try {
      return body.get();
    } catch (Throwable t) {
      return failed(t);
    }
  }

  static <T> CompletableFuture<T> failed(Throwable t) {
    CompletableFuture<T> f = newFuture();
    f.completeExceptionally(mapError(t));
    return f;
  }

  /**
   * The Clojure side of a Java stage: a future failing with Vireo's Clojure
   * error again (so aio-atomic and Clojure callers see its :type).
   */
  static CompletableFuture<Object> toClojureFuture(java.util.concurrent.CompletionStage<?> stage) {
    CompletableFuture<Object> out = bridge().newFuture();
    if (stage == null) {
      out.complete(null);
      return out;
    }
    // bare: this only completes out, whose dependents convey their own bindings
    ConveyingFuture.listen(stage, (v, e) -> {
      if (e == null) {
        out.complete(v);
      } else {
        out.completeExceptionally(clojureError(e));
      }
    });
    return out;
  }

  static Throwable clojureError(Throwable e) {
    Throwable u = VireoException.unwrap(e);
    if (u instanceof VireoException && u.getCause() instanceof clojure.lang.ExceptionInfo) {
      return u.getCause();
    }
    return u;
  }

  // ------------------------------------------------------------------ errors

  /** Any failure -> the Vireo exception it stands for (other throwables unwrapped, unchanged). */
  @SuppressWarnings("unchecked")
  static Throwable mapError(Throwable t) {
    Throwable e = VireoException.unwrap(t);
    if (e instanceof VireoException || !(e instanceof clojure.lang.ExceptionInfo)) {
      return e;
    }
    Map<String, Object> info;
    try {
      info = bridge().errorInfo(e);
    } catch (RuntimeException | LinkageError x) {
      return e;
    }
    if (info == null) {
      return e;
    }
    ErrorType type = null;
    for (Object name : (List<Object>) info.get("types")) {
      type = ErrorType.fromName((String) name);
      if (type != null) {
        break;
      }
    }
    Object params = info.get("params");
    return VireoException.of(type, (String) info.get("message"), (String) info.get("sql"),
        params instanceof List ? (List<Object>) params : null,
        (Map<String, Object>) info.get("data"), e);
  }

  /** Throws any throwable without declaring it (for checked exceptions from Clojure). */
  static RuntimeException sneaky(Throwable t) {
    return Clj.<RuntimeException>sneaky0(t);
  }

  @SuppressWarnings("unchecked")
  private static <E extends Throwable> RuntimeException sneaky0(Throwable t) throws E {
    throw (E) t;
  }

}
