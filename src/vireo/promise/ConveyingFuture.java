package vireo.promise;

import clojure.lang.Var;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The CompletableFuture Vireo returns: a plain {@code CompletableFuture} whose
 * dependent stages run with the Clojure dynamic bindings that were in force
 * when the stage was registered (the idea of clojure.core's
 * {@code binding-conveyor-fn}). This is how Vireo's connection context, its
 * ContextVar, survives the hop onto a Vert.x event loop, also when users chain
 * with {@code thenCompose}, {@code thenApply}, {@code whenComplete},
 * {@code handle}, … rather than Vireo's helpers. Every stage it creates is a
 * ConveyingFuture again ({@link #newIncompleteFuture()}).
 *
 * <p>A callback registered with no binding in force runs with none; when the
 * completing thread already has the right frame, nothing is reset.
 */
public class ConveyingFuture<T> extends CompletableFuture<T> {

  /**
   * The frame of a thread without any binding (clojure.lang.Var.Frame.TOP),
   * read on a fresh thread, and BASE: a frame with no bindings either, made
   * once and shared (frames are immutable), whose only difference is that it
   * is not TOP. Clojure's popThreadBindings removes the thread-local when it
   * pops back to TOP, so on a thread at TOP (a Netty event loop) every
   * push/pop pair and the next frame read re-create the ThreadLocalMap entry
   * (an allocation and a missed probe each time). A thread whose frame is
   * BASE keeps its entry: {@link #currentFrame()} puts a thread found at TOP
   * on BASE. Null when they cannot be made (then nothing changes).
   */
  private static final Object[] TOP_AND_BASE = topAndBase();

  private static final Object TOP = TOP_AND_BASE[0];
  private static final Object BASE = TOP_AND_BASE[1];

  private static Object[] topAndBase() {
    try {
      Class<?> frame = Class.forName("clojure.lang.Var$Frame");
      java.lang.reflect.Field top = frame.getDeclaredField("TOP");
      top.setAccessible(true);
      Object t = top.get(null);
      java.lang.reflect.Constructor<?> make = frame.getDeclaredConstructor(clojure.lang.Associative.class, frame);
      make.setAccessible(true);
      // an array map, not TOP's hash map: a push of one or two bindings on
      // it (what Vireo's operations do) builds one small array map instead
      // of a hash map, its node, its array and a Box
      return new Object[] {t, make.newInstance(clojure.lang.PersistentArrayMap.EMPTY, t)};
    } catch (ReflectiveOperationException | RuntimeException e) {
      return new Object[2];
    }
  }

  /**
   * Clojure's frame and thread-box constructors, a frame's bindings, a var's
   * threadBound flag and a thread box's value, for {@link #pushBinding} and
   * {@link #valueOf}; null when they cannot be reached (then those fall back
   * on Var.pushThreadBindings and Var.deref). Each is a static final field,
   * so the JIT treats the handle as a constant.
   */
  private static final java.lang.invoke.MethodHandle[] FRAME_PARTS = frameParts();
  private static final java.lang.invoke.MethodHandle NEW_FRAME = FRAME_PARTS == null ? null : FRAME_PARTS[0];
  private static final java.lang.invoke.MethodHandle NEW_BOX = FRAME_PARTS == null ? null : FRAME_PARTS[1];
  private static final java.lang.invoke.MethodHandle BINDINGS = FRAME_PARTS == null ? null : FRAME_PARTS[2];
  private static final java.lang.invoke.MethodHandle THREAD_BOUND = FRAME_PARTS == null ? null : FRAME_PARTS[3];
  private static final java.lang.invoke.MethodHandle BOX_VALUE = FRAME_PARTS == null ? null : FRAME_PARTS[4];

  private static java.lang.invoke.MethodHandle[] frameParts() {
    try {
      java.lang.invoke.MethodHandles.Lookup l = java.lang.invoke.MethodHandles.lookup();
      Class<?> frame = Class.forName("clojure.lang.Var$Frame");
      Class<?> tbox = Class.forName("clojure.lang.Var$TBox");
      java.lang.reflect.Constructor<?> newFrame = frame.getDeclaredConstructor(clojure.lang.Associative.class, frame);
      java.lang.reflect.Constructor<?> newBox = tbox.getDeclaredConstructor(Thread.class, Object.class);
      java.lang.reflect.Field bindings = frame.getDeclaredField("bindings");
      java.lang.reflect.Field threadBound = Var.class.getDeclaredField("threadBound");
      java.lang.reflect.Field boxVal = tbox.getDeclaredField("val");
      newFrame.setAccessible(true);
      newBox.setAccessible(true);
      bindings.setAccessible(true);
      threadBound.setAccessible(true);
      boxVal.setAccessible(true);
      return new java.lang.invoke.MethodHandle[] {
        l.unreflectConstructor(newFrame).asType(java.lang.invoke.MethodType.methodType(Object.class, clojure.lang.Associative.class, Object.class)),
        l.unreflectConstructor(newBox).asType(java.lang.invoke.MethodType.methodType(Object.class, Thread.class, Object.class)),
        l.unreflectGetter(bindings).asType(java.lang.invoke.MethodType.methodType(clojure.lang.Associative.class, Object.class)),
        l.unreflectGetter(threadBound).asType(java.lang.invoke.MethodType.methodType(
            java.util.concurrent.atomic.AtomicBoolean.class, Var.class)),
        l.unreflectGetter(boxVal).asType(java.lang.invoke.MethodType.methodType(Object.class, Object.class))};
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  /**
   * Binds one dynamic var on the calling thread, like
   * {@code Var.pushThreadBindings({v val})} (undo with
   * {@code Var.popThreadBindings()}), without the map of bindings, its seq
   * and its entries that call allocates to be read back: what Vireo's
   * per-operation bindings (its cancellation scope, its connection
   * context) do on every operation. Internal to Vireo.
   *
   * @param v a dynamic var
   * @param val its value
   */
  public static void pushBinding(Var v, Object val) {
    if (NEW_FRAME == null || !v.isDynamic()) {
      Var.pushThreadBindings(clojure.lang.RT.map(v, val));
      return;
    }
    Object f = currentFrame();
    try {
      java.util.concurrent.atomic.AtomicBoolean bound = (java.util.concurrent.atomic.AtomicBoolean) THREAD_BOUND.invokeExact(v);
      if (!bound.get()) {
        bound.set(true); // what pushThreadBindings does: deref looks thread bindings up from now on
      }
      clojure.lang.Associative b = (clojure.lang.Associative) BINDINGS.invokeExact(f);
      Object box = (Object) NEW_BOX.invokeExact(Thread.currentThread(), val);
      Var.resetThreadBindingFrame((Object) NEW_FRAME.invokeExact(b.assoc(v, box), f));
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /**
   * The value of dynamic var {@code v} on the calling thread, like
   * {@code v.deref()}, without the map entry Var.deref allocates to look
   * its binding up (a frame's {@code entryAt}): Vireo reads its own vars
   * (the operation scope, the connection contexts) on every statement.
   * Internal to Vireo.
   *
   * @param v a dynamic var
   * @return its binding on this thread, or its root value
   */
  public static Object valueOf(Var v) {
    if (BINDINGS == null) {
      return v.deref();
    }
    try {
      Object box = ((clojure.lang.Associative) BINDINGS.invokeExact(Var.getThreadBindingFrame())).valAt(v);
      return box == null ? v.getRawRoot() : (Object) BOX_VALUE.invokeExact(box);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /**
   * The calling thread's binding frame, for a stage to convey. A thread at
   * Clojure's TOP frame (no binding) is put on an equivalent frame with no
   * binding that is not TOP, so that its binding pushes and pops stop
   * removing and re-creating its thread-local entry (see TOP_AND_BASE).
   *
   * @return the frame (an opaque clojure.lang.Var.Frame)
   */
  public static Object currentFrame() {
    Object f = Var.getThreadBindingFrame();
    if (f == TOP && BASE != null) {
      Var.resetThreadBindingFrame(BASE);
      return BASE;
    }
    return f;
  }

  /** Creates an incomplete future. */
  public ConveyingFuture() {
    super();
  }

  @Override
  public <U> CompletableFuture<U> newIncompleteFuture() {
    return new ConveyingFuture<U>();
  }

  /**
   * A future that tells an observer its outcome — completed or failed by
   * {@code complete} / {@code completeExceptionally} — before it completes,
   * so that whoever waits on it sees what the observer did (a transaction's
   * span ended, its timer recorded). Cancellation is not observed: the
   * caller watches for it with a dependent. Internal to Vireo.
   *
   * @param <T> the value's type
   */
  public static final class Observed<T> extends ConveyingFuture<T> {
    private final java.util.function.BiConsumer<Object, Throwable> first;

    /** @param first told (value, null) or (null, error) first; its throw is ignored */
    public Observed(java.util.function.BiConsumer<Object, Throwable> first) {
      super();
      this.first = first;
    }

    private void tell(Object v, Throwable e) {
      if (!isDone()) {
        try {
          first.accept(v, e);
        } catch (Throwable ignored) {
          // an observer's failure must not change the outcome
        }
      }
    }

    @Override
    public boolean complete(T v) {
      tell(v, null);
      return super.complete(v);
    }

    @Override
    public boolean completeExceptionally(Throwable e) {
      tell(null, e);
      return super.completeExceptionally(e);
    }
  }

  // ------------------------------------------------------------ cancellation
  // What cancelling this future does besides completing it: nothing (null),
  // a Runnable run once after the cancellation (Vireo's operation scope,
  // which cancels the statements still running on the server), FROZEN (the
  // outcome is already on its way — a transaction's COMMIT was sent — so
  // cancel refuses), or CANCELLED (cancel has won).
  private static final Object FROZEN = new Object();
  private static final Object CANCELLED = new Object();
  @SuppressWarnings("rawtypes")
  private static final java.util.concurrent.atomic.AtomicReferenceFieldUpdater<ConveyingFuture, Object> CANCELLER =
      java.util.concurrent.atomic.AtomicReferenceFieldUpdater.newUpdater(ConveyingFuture.class, Object.class, "canceller");
  private volatile Object canceller;

  /**
   * Cancels this future, as {@link CompletableFuture#cancel}, and then runs
   * the action given to {@link #onCancel} (Vireo: the operation's running
   * statements are cancelled on the server). Returns false without doing
   * anything when the outcome can no longer be cancelled ({@link #freeze}:
   * a transaction whose COMMIT was sent) — the future then completes with
   * that outcome.
   */
  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    Object c;
    do {
      c = canceller;
      if (c == FROZEN) {
        return false;
      }
      if (c == CANCELLED) {
        return super.cancel(mayInterruptIfRunning);
      }
    } while (!CANCELLER.compareAndSet(this, c, CANCELLED));
    boolean r = super.cancel(mayInterruptIfRunning);
    if (c instanceof Runnable) {
      try {
        ((Runnable) c).run();
      } catch (Throwable ignored) {
        // the cancellation itself stands; what it triggers must not undo it
      }
    }
    return r;
  }

  /**
   * Sets what cancelling this future also does (replacing an earlier
   * action). When it was already cancelled the action runs now; when it is
   * frozen nothing happens.
   *
   * @param action run once, on the cancelling thread
   */
  public void onCancel(Runnable action) {
    Object c;
    do {
      c = canceller;
      if (c == FROZEN) {
        return;
      }
      if (c == CANCELLED) {
        action.run();
        return;
      }
    } while (!CANCELLER.compareAndSet(this, c, action));
  }

  /**
   * Makes this future impossible to cancel from now on: its outcome is on
   * its way (a COMMIT was sent). Returns false, doing nothing, when it was
   * cancelled first.
   *
   * @return true when frozen (or already frozen)
   */
  public boolean freeze() {
    Object c;
    do {
      c = canceller;
      if (c == FROZEN) {
        return true;
      }
      if (c == CANCELLED || isCancelled()) {
        return false;
      }
    } while (!CANCELLER.compareAndSet(this, c, FROZEN));
    return true;
  }

  /**
   * Blocking for a result that is not there yet on a Vert.x event-loop thread
   * would deadlock: the loop could never deliver it. Fail clearly instead.
   */
  private void checkBlocking() {
    if (!isDone() && io.vertx.core.Context.isOnEventLoopThread()) {
      throw blockingOnEventLoop(Thread.currentThread().getName());
    }
  }

  /**
   * The exception {@code get}/{@code join} throw on an event-loop thread.
   * The Java facade's futures (a subclass) throw its own exception type, with
   * advice for Java callers.
   *
   * @param thread the event-loop thread's name
   * @return the exception to throw
   */
  protected RuntimeException blockingOnEventLoop(String thread) {
    return new IllegalStateException(
        "Vireo: blocking on an unfinished future (deref/get/join) on the Vert.x event-loop thread "
            + thread + " would deadlock it; chain with vireo.promise/then or p/let instead");
  }

  @Override
  public T get() throws InterruptedException, ExecutionException {
    checkBlocking();
    return super.get();
  }

  @Override
  public T get(long timeout, TimeUnit unit)
      throws InterruptedException, ExecutionException, TimeoutException {
    checkBlocking();
    return super.get(timeout, unit);
  }

  @Override
  public T join() {
    checkBlocking();
    return super.join();
  }

  /**
   * The binding frame to convey: the registering thread's frame. A callback
   * registered with no binding in force must run with none as well (not with
   * whatever frame the completing thread happens to have: on an event loop
   * that is often another stage's conveyed frame, e.g. an ended transaction).
   */
  static Object capture() {
    // frames are immutable snapshots: the registering thread's own frame can
    // be shared (no clone, no allocation), as a binding pushed inside the
    // callback links to it and pops back to it
    return currentFrame();
  }

  // ------------------------------------------------------------ carriers
  /**
   * Something a stage conveys besides the binding frame, from the thread that
   * registers it to the thread that runs it — a thread-local context of
   * another library, such as OpenTelemetry's current Context (Vireo's tracing
   * registers one when a database has the :tracing option). None by default:
   * then a registration pays one volatile read.
   */
  public interface Carrier {
    /** The state of the registering thread, to convey. */
    Object current();

    /** Makes {@code state} current on the running thread; returns what {@link #detach} needs. */
    Object attach(Object state);

    /** Restores what {@link #attach} replaced. */
    void detach(Object token);
  }

  private static volatile Carrier carrier;

  /** The Carrier set, or null. */
  public static Carrier carrier() {
    return carrier;
  }

  /**
   * A binding frame with a Carrier's state: what vireo.promise's own
   * callbacks capture instead of the bare frame while a Carrier is set.
   */
  public static final class Carried {
    /** The binding frame. */
    public final Object frame;
    /** The Carrier. */
    public final Carrier carrier;
    /** Its state on the registering thread. */
    public final Object state;

    /**
     * Captures the current thread's frame and the Carrier's state.
     *
     * @param frame the binding frame
     * @param carrier the Carrier
     */
    public Carried(Object frame, Carrier carrier) {
      this.frame = frame;
      this.carrier = carrier;
      this.state = carrier.current();
    }
  }

  /**
   * Sets the one Carrier every stage registered from now on conveys (null:
   * none). Returns false, changing nothing, when another one is set already.
   */
  public static synchronized boolean setCarrier(Carrier c) {
    if (c != null && carrier != null && carrier != c) {
      return false;
    }
    carrier = c;
    return true;
  }

  private static <A, B> Function<A, B> carriedFn(Carrier c, Function<A, B> f) {
    final Object s = c.current();
    return a -> {
      Object t = c.attach(s);
      try {
        return f.apply(a);
      } finally {
        c.detach(t);
      }
    };
  }

  private static <A, B, C> BiFunction<A, B, C> carriedBiFn(Carrier c, BiFunction<A, B, C> f) {
    final Object s = c.current();
    return (a, b) -> {
      Object t = c.attach(s);
      try {
        return f.apply(a, b);
      } finally {
        c.detach(t);
      }
    };
  }

  private static <A> Consumer<A> carriedConsumer(Carrier c, Consumer<A> f) {
    final Object s = c.current();
    return a -> {
      Object t = c.attach(s);
      try {
        f.accept(a);
      } finally {
        c.detach(t);
      }
    };
  }

  private static <A, B> BiConsumer<A, B> carriedBiConsumer(Carrier c, BiConsumer<A, B> f) {
    final Object s = c.current();
    return (a, b) -> {
      Object t = c.attach(s);
      try {
        f.accept(a, b);
      } finally {
        c.detach(t);
      }
    };
  }

  private static Runnable carriedRunnable(Carrier c, Runnable f) {
    final Object s = c.current();
    return () -> {
      Object t = c.attach(s);
      try {
        f.run();
      } finally {
        c.detach(t);
      }
    };
  }

  static <A, B> Function<A, B> fn(Function<A, B> f0) {
    final Carrier c = carrier;
    final Function<A, B> f = c == null ? f0 : carriedFn(c, f0);
    final Object frame = capture();
    return a -> {
      Object prev = currentFrame();
      if (prev == frame) {
        return f.apply(a);
      }
      Var.resetThreadBindingFrame(frame);
      try {
        return f.apply(a);
      } finally {
        Var.resetThreadBindingFrame(prev);
      }
    };
  }

  static <A, B, C> BiFunction<A, B, C> biFn(BiFunction<A, B, C> f0) {
    final Carrier c = carrier;
    final BiFunction<A, B, C> f = c == null ? f0 : carriedBiFn(c, f0);
    final Object frame = capture();
    return (a, b) -> {
      Object prev = currentFrame();
      if (prev == frame) {
        return f.apply(a, b);
      }
      Var.resetThreadBindingFrame(frame);
      try {
        return f.apply(a, b);
      } finally {
        Var.resetThreadBindingFrame(prev);
      }
    };
  }

  static <A> Consumer<A> consumer(Consumer<A> f0) {
    final Carrier c = carrier;
    final Consumer<A> f = c == null ? f0 : carriedConsumer(c, f0);
    final Object frame = capture();
    return a -> {
      Object prev = currentFrame();
      if (prev == frame) {
        f.accept(a);
        return;
      }
      Var.resetThreadBindingFrame(frame);
      try {
        f.accept(a);
      } finally {
        Var.resetThreadBindingFrame(prev);
      }
    };
  }

  static <A, B> BiConsumer<A, B> biConsumer(BiConsumer<A, B> f0) {
    final Carrier c = carrier;
    final BiConsumer<A, B> f = c == null ? f0 : carriedBiConsumer(c, f0);
    final Object frame = capture();
    return (a, b) -> {
      Object prev = currentFrame();
      if (prev == frame) {
        f.accept(a, b);
        return;
      }
      Var.resetThreadBindingFrame(frame);
      try {
        f.accept(a, b);
      } finally {
        Var.resetThreadBindingFrame(prev);
      }
    };
  }

  static Runnable runnable(Runnable f0) {
    final Carrier c = carrier;
    final Runnable f = c == null ? f0 : carriedRunnable(c, f0);
    final Object frame = capture();
    return () -> {
      Object prev = currentFrame();
      if (prev == frame) {
        f.run();
        return;
      }
      Var.resetThreadBindingFrame(frame);
      try {
        f.run();
      } finally {
        Var.resetThreadBindingFrame(prev);
      }
    };
  }

  @Override
  public <U> CompletableFuture<U> thenApply(Function<? super T, ? extends U> fn) {
    return super.thenApply(fn(fn));
  }

  @Override
  public CompletableFuture<Void> thenAccept(Consumer<? super T> action) {
    return super.thenAccept(consumer(action));
  }

  @Override
  public CompletableFuture<Void> thenRun(Runnable action) {
    return super.thenRun(runnable(action));
  }

  @Override
  public <U, V> CompletableFuture<V> thenCombine(CompletionStage<? extends U> other, BiFunction<? super T, ? super U, ? extends V> fn) {
    return super.thenCombine(other, biFn(fn));
  }

  @Override
  public <U> CompletableFuture<Void> thenAcceptBoth(CompletionStage<? extends U> other, BiConsumer<? super T, ? super U> action) {
    return super.thenAcceptBoth(other, biConsumer(action));
  }

  @Override
  public CompletableFuture<Void> runAfterBoth(CompletionStage<?> other, Runnable action) {
    return super.runAfterBoth(other, runnable(action));
  }

  @Override
  public <U> CompletableFuture<U> applyToEither(CompletionStage<? extends T> other, Function<? super T, U> fn) {
    return super.applyToEither(other, fn(fn));
  }

  @Override
  public CompletableFuture<Void> acceptEither(CompletionStage<? extends T> other, Consumer<? super T> action) {
    return super.acceptEither(other, consumer(action));
  }

  @Override
  public CompletableFuture<Void> runAfterEither(CompletionStage<?> other, Runnable action) {
    return super.runAfterEither(other, runnable(action));
  }

  @Override
  public <U> CompletableFuture<U> thenCompose(Function<? super T, ? extends CompletionStage<U>> fn) {
    return super.thenCompose(fn(fn));
  }

  @Override
  public <U> CompletableFuture<U> handle(BiFunction<? super T, Throwable, ? extends U> fn) {
    return super.handle(biFn(fn));
  }

  @Override
  public CompletableFuture<T> whenComplete(BiConsumer<? super T, ? super Throwable> action) {
    return super.whenComplete(biConsumer(action));
  }

  /**
   * Registers {@code action} on {@code stage} without conveying bindings: for
   * Vireo's own callbacks, which convey the frame themselves (they capture it
   * when created) or need none (they only complete another future, whose own
   * dependents convey). Saves the wrapper a conveying registration allocates.
   */
  public static <T> void listen(CompletionStage<T> stage, BiConsumer<? super T, ? super Throwable> action) {
    if (stage instanceof ConveyingFuture) {
      ((ConveyingFuture<T>) stage).whenCompleteBare(action);
    } else {
      stage.whenComplete(action);
    }
  }

  private void whenCompleteBare(BiConsumer<? super T, ? super Throwable> action) {
    super.whenComplete(action);
  }

  @Override
  public CompletableFuture<T> exceptionally(Function<Throwable, ? extends T> fn) {
    return super.exceptionally(fn(fn));
  }

  @Override
  public CompletableFuture<T> exceptionallyCompose(Function<Throwable, ? extends CompletionStage<T>> fn) {
    return super.exceptionallyCompose(fn(fn));
  }

  @Override
  public <U> CompletableFuture<U> thenApplyAsync(Function<? super T, ? extends U> fn) {
    return super.thenApplyAsync(fn(fn));
  }

  @Override
  public CompletableFuture<Void> thenAcceptAsync(Consumer<? super T> action) {
    return super.thenAcceptAsync(consumer(action));
  }

  @Override
  public CompletableFuture<Void> thenRunAsync(Runnable action) {
    return super.thenRunAsync(runnable(action));
  }

  @Override
  public <U, V> CompletableFuture<V> thenCombineAsync(CompletionStage<? extends U> other, BiFunction<? super T, ? super U, ? extends V> fn) {
    return super.thenCombineAsync(other, biFn(fn));
  }

  @Override
  public <U> CompletableFuture<Void> thenAcceptBothAsync(CompletionStage<? extends U> other, BiConsumer<? super T, ? super U> action) {
    return super.thenAcceptBothAsync(other, biConsumer(action));
  }

  @Override
  public CompletableFuture<Void> runAfterBothAsync(CompletionStage<?> other, Runnable action) {
    return super.runAfterBothAsync(other, runnable(action));
  }

  @Override
  public <U> CompletableFuture<U> applyToEitherAsync(CompletionStage<? extends T> other, Function<? super T, U> fn) {
    return super.applyToEitherAsync(other, fn(fn));
  }

  @Override
  public CompletableFuture<Void> acceptEitherAsync(CompletionStage<? extends T> other, Consumer<? super T> action) {
    return super.acceptEitherAsync(other, consumer(action));
  }

  @Override
  public CompletableFuture<Void> runAfterEitherAsync(CompletionStage<?> other, Runnable action) {
    return super.runAfterEitherAsync(other, runnable(action));
  }

  @Override
  public <U> CompletableFuture<U> thenComposeAsync(Function<? super T, ? extends CompletionStage<U>> fn) {
    return super.thenComposeAsync(fn(fn));
  }

  @Override
  public <U> CompletableFuture<U> handleAsync(BiFunction<? super T, Throwable, ? extends U> fn) {
    return super.handleAsync(biFn(fn));
  }

  @Override
  public CompletableFuture<T> whenCompleteAsync(BiConsumer<? super T, ? super Throwable> action) {
    return super.whenCompleteAsync(biConsumer(action));
  }

  @Override
  public CompletableFuture<T> exceptionallyAsync(Function<Throwable, ? extends T> fn) {
    return super.exceptionallyAsync(fn(fn));
  }

  @Override
  public CompletableFuture<T> exceptionallyComposeAsync(Function<Throwable, ? extends CompletionStage<T>> fn) {
    return super.exceptionallyComposeAsync(fn(fn));
  }

  @Override
  public <U> CompletableFuture<U> thenApplyAsync(Function<? super T, ? extends U> fn, Executor executor) {
    return super.thenApplyAsync(fn(fn), executor);
  }

  @Override
  public CompletableFuture<Void> thenAcceptAsync(Consumer<? super T> action, Executor executor) {
    return super.thenAcceptAsync(consumer(action), executor);
  }

  @Override
  public CompletableFuture<Void> thenRunAsync(Runnable action, Executor executor) {
    return super.thenRunAsync(runnable(action), executor);
  }

  @Override
  public <U, V> CompletableFuture<V> thenCombineAsync(CompletionStage<? extends U> other, BiFunction<? super T, ? super U, ? extends V> fn, Executor executor) {
    return super.thenCombineAsync(other, biFn(fn), executor);
  }

  @Override
  public <U> CompletableFuture<Void> thenAcceptBothAsync(CompletionStage<? extends U> other, BiConsumer<? super T, ? super U> action, Executor executor) {
    return super.thenAcceptBothAsync(other, biConsumer(action), executor);
  }

  @Override
  public CompletableFuture<Void> runAfterBothAsync(CompletionStage<?> other, Runnable action, Executor executor) {
    return super.runAfterBothAsync(other, runnable(action), executor);
  }

  @Override
  public <U> CompletableFuture<U> applyToEitherAsync(CompletionStage<? extends T> other, Function<? super T, U> fn, Executor executor) {
    return super.applyToEitherAsync(other, fn(fn), executor);
  }

  @Override
  public CompletableFuture<Void> acceptEitherAsync(CompletionStage<? extends T> other, Consumer<? super T> action, Executor executor) {
    return super.acceptEitherAsync(other, consumer(action), executor);
  }

  @Override
  public CompletableFuture<Void> runAfterEitherAsync(CompletionStage<?> other, Runnable action, Executor executor) {
    return super.runAfterEitherAsync(other, runnable(action), executor);
  }

  @Override
  public <U> CompletableFuture<U> thenComposeAsync(Function<? super T, ? extends CompletionStage<U>> fn, Executor executor) {
    return super.thenComposeAsync(fn(fn), executor);
  }

  @Override
  public <U> CompletableFuture<U> handleAsync(BiFunction<? super T, Throwable, ? extends U> fn, Executor executor) {
    return super.handleAsync(biFn(fn), executor);
  }

  @Override
  public CompletableFuture<T> whenCompleteAsync(BiConsumer<? super T, ? super Throwable> action, Executor executor) {
    return super.whenCompleteAsync(biConsumer(action), executor);
  }

  @Override
  public CompletableFuture<T> exceptionallyAsync(Function<Throwable, ? extends T> fn, Executor executor) {
    return super.exceptionallyAsync(fn(fn), executor);
  }

  @Override
  public CompletableFuture<T> exceptionallyComposeAsync(Function<Throwable, ? extends CompletionStage<T>> fn, Executor executor) {
    return super.exceptionallyComposeAsync(fn(fn), executor);
  }
}
