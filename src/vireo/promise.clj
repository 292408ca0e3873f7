(ns vireo.promise
  "Small promise layer over java.util.concurrent.CompletableFuture.

  Every Vireo async function returns a plain CompletableFuture, so promesa's
  `p/let`, `p/then`, ... and the CompletableFuture methods work on them too.
  Futures completed by this namespace always hold the raw cause (never a
  CompletionException wrapper) and every handler sees unwrapped causes.

  Public vars:
    promise      - a new incomplete future (the single factory for Vireo futures)
    resolve!     - completes a future with a value
    reject!      - completes a future with an (unwrapped) exception
    resolved     - a future already completed with a value
    rejected     - a future already completed with an exception
    future?      - is x a CompletionStage (CompletableFuture)?
    ->future     - coerces a CompletionStage, Vert.x Future or plain value to a CompletableFuture
    then         - applies f to the value; f's future/stage/Vert.x result is flattened
    map          - applies f to the value without flattening
    chain        - threads a future through several `then`s
    catch        - recovers from (optionally filtered by class, predicate or :type keyword) failures
    handle       - applies f to [value error] in both outcomes; result flattened
    finally      - runs a side effect in both outcomes, keeping the original outcome
    all          - a future of the vector of all results; fails fast
    any          - a future of the first successful result
    let          - macro: sequential async bindings, returns a future
    do           - macro: runs body, returns a future; synchronous throws become rejections
    await        - blocks (never on an event loop) for the value, throwing the unwrapped cause
    timeout      - fails (or resolves with a default) if a future is not done in time
    delay        - a future resolving after some milliseconds
    unwrap       - strips CompletionException/ExecutionException wrappers
    from-vertx   - converts an io.vertx.core.Future to a CompletableFuture
    ->vertx      - converts a CompletionStage (or value) to an io.vertx.core.Future
    to-vertx     - alias of ->vertx"
  (:refer-clojure :exclude [promise map let await delay future?])
  (:require [clojure.core :as c]
            [vireo.jvm :as jvm])
  (:import (java.util.concurrent CompletableFuture CompletionStage CompletionException
                                 ExecutionException Executor TimeoutException CancellationException
                                 ScheduledExecutorService ScheduledThreadPoolExecutor
                                 ScheduledFuture ThreadFactory TimeUnit)
           (java.util.concurrent.atomic AtomicInteger)
           (java.util.function BiConsumer)
           (io.vertx.core Completable Context Future Promise)
           (io.vertx.core.internal ContextInternal)))

(set! *warn-on-reflection* true)

(jvm/ensure-class! "vireo.promise.ConveyingFuture")
(import '(vireo.promise ConveyingFuture))

;; ---------------------------------------------------------------------------
;; Factory and basic constructors

(defn promise
  "Given nothing, returns a new incomplete CompletableFuture.

  This is the single factory for every future Vireo creates: all helpers
  below create futures only through it (or through methods of their input
  future). It returns a `vireo.promise.ConveyingFuture`, a CompletableFuture
  whose dependent stages run with the dynamic bindings in force when they
  were registered, so Vireo's connection context follows a chain of
  callbacks onto Vert.x event loops.

    (def p (promise))
    (resolve! p 1)   ;=> true
    (await p)        ;=> 1"
  ^CompletableFuture []
  (ConveyingFuture.))

(defn unwrap
  "Given a Throwable, returns its cause with every CompletionException and
  ExecutionException wrapper (that has a cause) stripped; other throwables are
  returned unchanged.

    (unwrap (CompletionException. (ex-info \"boom\" {})))  ;=> the ex-info"
  ^Throwable [^Throwable e]
  (loop [e e]
    (c/let [cause (when (or (instance? CompletionException e)
                            (instance? ExecutionException e))
                    (.getCause e))]
      (if (some? cause) (recur cause) e))))

(defn resolve!
  "Given an incomplete future p and a value v, completes p with v and returns
  true, or returns false if p was already complete.

    (resolve! (promise) 1)  ;=> true"
  [^CompletableFuture p v]
  (.complete p v))

(defn reject!
  "Given an incomplete future p and a Throwable e, completes p exceptionally
  with (unwrap e) and returns true, or false if p was already complete.

    (reject! (promise) (ex-info \"boom\" {}))  ;=> true"
  [^CompletableFuture p ^Throwable e]
  (.completeExceptionally p (unwrap e)))

(defn resolved
  "Given a value v, returns a future already completed with v.

    (await (resolved 1))  ;=> 1"
  ^CompletableFuture [v]
  (c/let [p (promise)] (.complete p v) p))

(defn rejected
  "Given a Throwable e, returns a future already completed exceptionally with
  (unwrap e).

    (await (rejected (ex-info \"boom\" {})))  ; throws the ex-info"
  ^CompletableFuture [^Throwable e]
  (c/let [p (promise)] (.completeExceptionally p (unwrap e)) p))

(defn future?
  "Given any x, returns true if x is a CompletionStage (every
  CompletableFuture is one). Vert.x futures are not CompletionStages.

    (future? (resolved 1))  ;=> true
    (future? 1)             ;=> false"
  [x]
  (instance? CompletionStage x))

;; ---------------------------------------------------------------------------
;; Callbacks (deftypes: one small allocation per registration)

(deftype ^:no-doc Relay [^CompletableFuture r]
  BiConsumer
  (accept [_ v e]
    (if (nil? e) (.complete r v) (.completeExceptionally r (unwrap e))))
  Completable
  (complete [_ v e]
    (if (nil? e) (.complete r v) (.completeExceptionally r (unwrap e)))))

(defn- listen
  "Registers callback cb on stage without a conveying wrapper (see
  ConveyingFuture/listen): cb either conveys the registering frame itself or,
  like Relay, needs no binding."
  [^CompletionStage stage ^BiConsumer cb]
  (ConveyingFuture/listen stage cb))

(defmacro ^:private conveying-frame
  "Runs body with the binding frame `frame` and restores the thread's own
  afterwards; nothing is reset when the thread already has that frame."
  [frame & body]
  `(c/let [prev# (ConveyingFuture/currentFrame)
           f# ~frame]
     (if (identical? prev# f#)
       (do ~@body)
       (do (clojure.lang.Var/resetThreadBindingFrame f#)
           (try ~@body
                (finally (clojure.lang.Var/resetThreadBindingFrame prev#)))))))

(defmacro ^:private conveying
  "Runs body with what the callback captured when it was registered
  (`frame`): the binding frame, and a ConveyingFuture Carrier's state when
  one was set (e.g. OpenTelemetry's Context). What ConveyingFuture's
  wrappers do, in the callback itself, so a stage allocates no wrapper."
  [frame & body]
  `(c/let [f0# ~frame]
     (if (instance? vireo.promise.ConveyingFuture$Carried f0#)
       (c/let [^vireo.promise.ConveyingFuture$Carried cd# f0#
               ^vireo.promise.ConveyingFuture$Carrier c# (.-carrier cd#)
               t# (.attach c# (.-state cd#))]
         (try (conveying-frame (.-frame cd#) ~@body)
              (finally (.detach c# t#))))
       (conveying-frame f0# ~@body))))

(defn- frame
  "What a callback conveys: the binding frame, with the ConveyingFuture
  Carrier's state when one is set (see ConveyingFuture/setCarrier)."
  []
  (c/let [c (ConveyingFuture/carrier)]
    (if (nil? c)
      (ConveyingFuture/currentFrame)
      (vireo.promise.ConveyingFuture$Carried. (ConveyingFuture/currentFrame) c))))

(defn from-vertx
  "Given an io.vertx.core.Future, returns a CompletableFuture completed with
  the same outcome. No thread hop: the CompletableFuture is completed on the
  thread that completes the Vert.x future (usually its event loop), or right
  away if it is already complete.

    (await (from-vertx (io.vertx.core.Future/succeededFuture 1)))  ;=> 1"
  ^CompletableFuture [^Future fut]
  (c/let [r (promise)]
    (if (.isComplete fut)
      (if (.succeeded fut)
        (.complete r (.result fut))
        (.completeExceptionally r (unwrap (.cause fut))))
      (.onComplete fut ^Completable (Relay. r)))
    r))

(defn ->future
  "Given x, returns a Vireo CompletableFuture: x itself if it is one, a
  future following x if x is another CompletableFuture or CompletionStage
  (including the restricted stages of CompletableFuture/minimalCompletionStage)
  or an io.vertx.core.Future, otherwise a future resolved with x.

    (await (->future 1))  ;=> 1"
  ^CompletableFuture [x]
  (cond
    ;; Vireo's own futures as they are; any other CompletableFuture is
    ;; followed by a new ConveyingFuture, so that stages chained after it
    ;; (p/let, then, …) still run with the caller's bindings — a plain
    ;; CompletableFuture would run them with none, and a transaction's
    ;; context would be lost after e.g. an HTTP client's future
    (instance? ConveyingFuture x) x
    (instance? Future x) (from-vertx x)
    (instance? CompletionStage x) (c/let [r (promise)]
                                    (.whenComplete ^CompletionStage x (Relay. r))
                                    r)
    :else (resolved x)))

(defn- settle!
  "Completes r with x, flattening one level: if x is a CompletionStage or a
  Vert.x Future, r follows its outcome."
  [^CompletableFuture r x]
  (cond
    (instance? CompletionStage x) (listen x (Relay. r))
    (instance? Future x) (.onComplete ^Future x ^Completable (Relay. r))
    :else (.complete r x)))

;; The callbacks capture the registering thread's binding frame and run with
;; it (`conveying`), and are registered with `listen`: one object per stage
;; besides the CompletableFuture's own.

(deftype ^:no-doc Then [^CompletableFuture r f frame]
  BiConsumer
  (accept [_ v e]
    (if (nil? e)
      (conveying frame
        (try (settle! r (f v))
             (catch Throwable t (.completeExceptionally r t))))
      (.completeExceptionally r (unwrap e)))))

(deftype ^:no-doc Mapper [^CompletableFuture r f frame]
  BiConsumer
  (accept [_ v e]
    (if (nil? e)
      (conveying frame
        (try (.complete r (f v))
             (catch Throwable t (.completeExceptionally r t))))
      (.completeExceptionally r (unwrap e)))))

(deftype ^:no-doc Catch [^CompletableFuture r pred f frame]
  BiConsumer
  (accept [_ v e]
    (if (nil? e)
      (.complete r v)
      (c/let [e (unwrap e)]
        (conveying frame
          (try
            (if (or (nil? pred) (pred e))
              (settle! r (f e))
              (.completeExceptionally r e))
            (catch Throwable t (.completeExceptionally r t))))))))

(deftype ^:no-doc Handle [^CompletableFuture r f frame]
  BiConsumer
  (accept [_ v e]
    (conveying frame
      (try (settle! r (f v (when (some? e) (unwrap e))))
           (catch Throwable t (.completeExceptionally r t))))))

(deftype ^:no-doc Finally [^CompletableFuture r f frame]
  BiConsumer
  (accept [_ v e]
    (c/let [e (when (some? e) (unwrap e))]
      (conveying frame
        (try
          (f v e)
          (if (nil? e) (.complete r v) (.completeExceptionally r e))
          (catch Throwable t
            (when (and (some? e) (not (identical? t e)))
              (.addSuppressed t e))
            (.completeExceptionally r t)))))))

;; ---------------------------------------------------------------------------
;; Composition

(defn then
  "Given a future (or CompletionStage, Vert.x Future, plain value) p and a
  function f, returns a future of (f value). If f returns a future,
  CompletionStage or Vert.x Future it is flattened; if f throws, the result is
  rejected with that exception; if p fails, f is skipped and the result fails
  with p's unwrapped cause. With an Executor, f runs on it.

    (await (then (resolved 1) inc))                        ;=> 2
    (await (then (resolved 1) #(resolved (inc %))))        ;=> 2
    (await (then (resolved 1) inc (ForkJoinPool/commonPool)))  ;=> 2"
  (^CompletableFuture [p f]
   (c/let [r (promise)]
     (listen (->future p) (Then. r f (frame)))
     r))
  (^CompletableFuture [p f ^Executor executor]
   (c/let [r (promise)]
     (.whenCompleteAsync (->future p) (Then. r f (frame)) executor)
     r)))

(defn map
  "Given a future p and a function f, returns a future of (f value), without
  flattening (f's result is taken as is, even if it is a future). Throws in f
  become rejections.

    (await (map (resolved 1) inc))  ;=> 2"
  ^CompletableFuture [p f]
  (c/let [r (promise)]
    (listen (->future p) (Mapper. r f (frame)))
    r))

(defn chain
  "Given a future p and one or more functions, returns the future of
  threading p through `then` with each function in order.

    (await (chain (resolved 1) inc #(resolved (* 2 %))))  ;=> 4"
  ^CompletableFuture [p f & fs]
  (reduce then (then p f) fs))

(defn- matcher [x]
  (cond
    (class? x) (fn [e] (.isInstance ^Class x e))
    (keyword? x) (fn [e] (isa? (:type (ex-data e)) x))
    (ifn? x) x
    :else (throw (IllegalArgumentException.
                  (str "vireo.promise/catch: expected a Class, keyword or predicate, got "
                       (pr-str x))))))

(defn catch
  "Given a future p and a function f, returns a future that, if p fails, is
  the (flattened) result of calling f with the unwrapped cause; on success it
  has p's value. With a filter as second argument, only some failures are
  handled, others pass through with the original cause:
    - a Class: causes that are instances of it;
    - a keyword: ex-info causes whose (:type (ex-data e)) is `isa?` it;
    - any other fn: causes for which (pred e) is truthy.

    (await (catch (rejected (ex-info \"x\" {:type :db/error})) :db/error (constantly :ok)))
    ;=> :ok"
  (^CompletableFuture [p f]
   (c/let [r (promise)]
     (listen (->future p) (Catch. r nil f (frame)))
     r))
  (^CompletableFuture [p pred-or-class f]
   (c/let [r (promise)]
     (listen (->future p) (Catch. r (matcher pred-or-class) f (frame)))
     r)))

(defn handle
  "Given a future p and a function f of two arguments, returns a future of
  (f value error) called in both outcomes (error unwrapped, nil on success;
  value nil on failure). f's result is flattened; if f throws, the result is
  rejected with that exception.

    (await (handle (rejected (ex-info \"x\" {})) (fn [v e] (ex-message e))))  ;=> \"x\""
  ^CompletableFuture [p f]
  (c/let [r (promise)]
    (listen (->future p) (Handle. r f (frame)))
    r))

(defn finally
  "Given a future p and a function f of two arguments, calls (f value error)
  for side effects when p completes (error unwrapped, nil on success) and
  returns a future with p's original outcome. f's return value is ignored
  (a returned future is not awaited). If f throws, the result is rejected with
  f's exception, with p's original exception (if any) added as suppressed.

    (await (finally (resolved 1) (fn [v e] (println \"done\" v))))  ;=> 1"
  ^CompletableFuture [p f]
  (c/let [r (promise)]
    (listen (->future p) (Finally. r f (frame)))
    r))

(defn- async? [x]
  (or (instance? CompletionStage x) (instance? Future x)))

(deftype ^:no-doc AllSlot [^CompletableFuture r ^objects results ^long i
                           ^AtomicInteger remaining]
  BiConsumer
  (accept [_ v e]
    (if (nil? e)
      (do (aset results i v)
          (when (zero? (.decrementAndGet remaining))
            (.complete r (vec results))))
      (.completeExceptionally r (unwrap e)))))

(defn all
  "Given a collection of futures (CompletionStages, Vert.x Futures or plain
  values), returns a future of the vector of their results in the same order.
  Fails as soon as any of them fails, with that (unwrapped) cause.

    (await (all [(resolved 1) 2 (delay 10 3)]))  ;=> [1 2 3]"
  ^CompletableFuture [ps]
  (c/let [results (object-array ps)
          n (alength results)
          r (promise)
          remaining (AtomicInteger. (inc n))]
    (dotimes [i n]
      (c/let [x (aget results i)]
        (if (async? x)
          (.whenComplete (->future x) (AllSlot. r results i remaining))
          (.decrementAndGet remaining))))
    ;; the extra count keeps r open until every slot is registered
    (when (zero? (.decrementAndGet remaining))
      (.complete r (vec results)))
    r))

(defn- any-exhausted! [^CompletableFuture r ^AtomicInteger remaining errors default? default]
  (when (zero? (.decrementAndGet remaining))
    (if default?
      (.complete r default)
      (.completeExceptionally
       r (ex-info "vireo.promise/any: every future failed"
                  {:type :vireo/all-rejected :errors (vec errors)})))))

(deftype ^:no-doc AnySlot [^CompletableFuture r ^objects errors ^long i
                           ^AtomicInteger remaining default? default]
  BiConsumer
  (accept [_ v e]
    (if (nil? e)
      (.complete r v)
      (do (aset errors i (unwrap e))
          (any-exhausted! r remaining errors default? default)))))

(defn- any* [ps default? default]
  (c/let [items (object-array ps)
          n (alength items)
          errors (object-array n)
          r (promise)
          remaining (AtomicInteger. (inc n))]
    (dotimes [i n]
      (c/let [x (aget items i)]
        (if (async? x)
          (.whenComplete (->future x) (AnySlot. r errors i remaining default? default))
          (.complete r x))))
    ;; the extra count keeps r open until every slot is registered
    (any-exhausted! r remaining errors default? default)
    r))

(defn any
  "Given a collection of futures (or plain values), returns a future of the
  first successful result (plain values count as already successful). If all
  fail (or the collection is empty) it resolves with default when given, else
  rejects with ex-info {:type :vireo/all-rejected :errors [causes in order]}.

    (await (any [(rejected (ex-info \"x\" {})) (resolved 2)]))  ;=> 2
    (await (any [] :none))                                     ;=> :none"
  (^CompletableFuture [ps] (any* ps false nil))
  (^CompletableFuture [ps default] (any* ps true default)))

;; ---------------------------------------------------------------------------
;; Macros

(defn ^:no-doc bind*
  "Implementation detail of `let`: calls f with x's value, synchronously when
  x is not a future/CompletionStage/Vert.x Future."
  [x f]
  (if (async? x) (then x f) (f x)))

(defmacro do
  "Given a body, evaluates it and returns a future of its value: a returned
  future/CompletionStage/Vert.x Future is flattened (a CompletableFuture is
  returned as is), a plain value is wrapped, and a synchronous throw becomes a
  rejected future instead of escaping.

    (await (vireo.promise/do (inc 1)))                 ;=> 2
    (await (catch (vireo.promise/do (throw (ex-info \"x\" {}))) ex-message))  ;=> \"x\""
  [& body]
  `(try (->future (do ~@body))
        (catch Throwable t# (rejected t#))))

(defmacro let
  "Given a binding vector and a body, returns a future of the body's value,
  binding each name sequentially to the value of its init. Inits and the body
  may return futures (CompletionStages, Vert.x Futures) or plain values;
  futures are awaited without blocking, plain values are bound right away.
  Any synchronous throw (in an init or the body) becomes a rejected future;
  a failed init skips the rest and fails the result with its cause.
  Destructuring works as in clojure.core/let.

    (await (let [a (resolved 1)
                 b (inc a)
                 c (delay 10 (* 2 b))]
             (+ a b c)))  ;=> 7"
  [bindings & body]
  (when-not (and (vector? bindings) (even? (count bindings)))
    (throw (IllegalArgumentException.
            "vireo.promise/let requires a vector with an even number of forms")))
  `(vireo.promise/do
     ~(reduce (fn [acc [b init]] `(bind* ~init (fn [~b] ~acc)))
              `(do ~@body)
              (reverse (partition 2 bindings)))))

;; ---------------------------------------------------------------------------
;; Blocking

(defn- check-not-event-loop! []
  (when (Context/isOnEventLoopThread)
    (throw (ex-info (str "vireo.promise/await called on Vert.x event-loop thread "
                         (.getName (Thread/currentThread))
                         ": blocking it would stall every connection and callback "
                         "it serves (and can deadlock waiting for itself). Compose "
                         "with then/let instead, or await from a worker thread.")
                    {:type :vireo/blocking-on-event-loop
                     :thread (.getName (Thread/currentThread))}))))

(defn- timeout-ex [ms cause]
  (ex-info (str "Timed out after " ms " ms")
           {:type :vireo/timeout :timeout-ms ms}
           cause))

(defn await
  "Given a future (or CompletionStage, Vert.x Future, plain value) p and
  optionally a timeout in milliseconds, blocks the calling thread until p
  completes and returns its value, or throws its unwrapped cause (the original
  exception, not an ExecutionException). On timeout throws ex-info
  {:type :vireo/timeout :timeout-ms ms}. If interrupted, restores the
  thread's interrupt flag and rethrows the InterruptedException.

  Refuses to run on a Vert.x event-loop thread (even if p is already done):
  throws ex-info {:type :vireo/blocking-on-event-loop}.

    (await (resolved 1))            ;=> 1
    (await (delay 1000 :x) 10)      ; throws ex-info {:type :vireo/timeout ...}"
  ([p]
   (check-not-event-loop!)
   (try
     (.get (->future p))
     (catch ExecutionException e (throw (unwrap e)))
     (catch InterruptedException e
       (.interrupt (Thread/currentThread))
       (throw e))))
  ([p timeout-ms]
   (check-not-event-loop!)
   (c/let [ms (long timeout-ms)]
     (try
       (.get (->future p) ms TimeUnit/MILLISECONDS)
       (catch ExecutionException e (throw (unwrap e)))
       (catch TimeoutException e (throw (timeout-ex ms e)))
       (catch InterruptedException e
         (.interrupt (Thread/currentThread))
         (throw e))))))

;; ---------------------------------------------------------------------------
;; Time

(defonce ^:private scheduler
  (c/delay
    (c/let [n (AtomicInteger.)
            pool (ScheduledThreadPoolExecutor.
                  1
                  (reify ThreadFactory
                    (newThread [_ r]
                      (doto (Thread. r (str "vireo-scheduler-" (.incrementAndGet n)))
                        (.setDaemon true)))))]
      (.setRemoveOnCancelPolicy pool true)
      pool)))

(defn ^:no-doc schedule
  "Runs `task` (a Runnable) after `ms` on the shared vireo-scheduler daemon
  thread; its ScheduledFuture. (For Vireo's own timers.)"
  ^ScheduledFuture [ms ^Runnable task]
  (.schedule ^ScheduledExecutorService @scheduler task (long ms) TimeUnit/MILLISECONDS))

(definterface ^:no-doc ITimeout
  (arm [^java.util.concurrent.ScheduledFuture timer]))

;; Runnable: the timer firing; BiConsumer: src completing. On timeout, src is
;; cancelled *before* r is completed, so whoever wakes up on r already sees
;; src cancelled; the cancellation itself is turned into the timeout outcome.
(deftype ^:no-doc Timeout [^CompletableFuture r ^CompletableFuture src ^long ms
                           default? default
                           ^:volatile-mutable ^ScheduledFuture timer
                           ^:volatile-mutable fired]
  ITimeout
  (arm [_ t] (set! timer t))
  Runnable
  (run [this]
    (set! fired true)
    (.cancel src false)
    ;; in case src ignored the cancellation
    (.accept this nil (CancellationException.)))
  BiConsumer
  (accept [_ v e]
    (c/let [t timer]
      (when (some? t) (.cancel t false)))
    (cond
      (nil? e) (.complete r v)
      (and fired (instance? CancellationException e))
      (if default?
        (.complete r default)
        (.completeExceptionally r (timeout-ex ms nil)))
      :else (.completeExceptionally r (unwrap e)))))

(defn- timeout* [p ms default? default]
  (c/let [src (->future p)
          r (promise)]
    (if (.isDone src)
      (.whenComplete src (Relay. r))
      (c/let [t (Timeout. r src (long ms) default? default nil false)]
        (.arm t (schedule ms t))
        (.whenComplete src t)))
    r))

(defn timeout
  "Given a future p and a number of milliseconds, returns a future with p's
  outcome if p completes within ms; otherwise it rejects with ex-info
  {:type :vireo/timeout :timeout-ms ms} or, when a third argument is given,
  resolves with that value (nil included).

  On timeout p itself is cancelled with (.cancel p false), so code watching p
  can react (e.g. stop work); a Vert.x future or non-CompletableFuture stage is
  not affected (only its converted copy is). Wrap a shared future first, e.g.
  (timeout (then p identity) ms), to protect it. The pending timer is
  cancelled as soon as p completes. Callbacks on a timed-out result run on the
  shared vireo-scheduler daemon thread: keep them short or pass an Executor to
  `then`.

    (await (timeout (delay 1000 :late) 10 :default))  ;=> :default"
  (^CompletableFuture [p ms] (timeout* p ms false nil))
  (^CompletableFuture [p ms value] (timeout* p ms true value)))

(defn delay
  "Given a number of milliseconds and optionally a value (default nil),
  returns a future resolved with the value after ms, using the shared
  vireo-scheduler daemon thread (callbacks attached to it run there).

    (await (delay 10 :x))  ;=> :x"
  (^CompletableFuture [ms] (delay ms nil))
  (^CompletableFuture [ms v]
   (c/let [r (promise)]
     (schedule ms (fn [] (.complete r v)))
     r)))

;; ---------------------------------------------------------------------------
;; Vert.x

(deftype ^:no-doc VertxRelay [^Promise vp]
  BiConsumer
  (accept [_ v e]
    (if (nil? e) (.tryComplete vp v) (.tryFail vp (unwrap e)))))

(defn ->vertx
  "Given a CompletionStage (or a Vert.x Future, returned as is, or a plain
  value), returns an io.vertx.core.Future with its outcome (cause unwrapped).
  Like io.vertx.core.Future/fromCompletionStage: without a Context, Vert.x
  callbacks run on the thread completing the stage; with a Context, they are
  dispatched on that context.

    (.result (->vertx (resolved 1)))  ;=> 1"
  (^Future [p]
   (cond
     (instance? Future p) p
     (instance? CompletionStage p) (c/let [vp (Promise/promise)]
                                     (.whenComplete ^CompletionStage p (VertxRelay. vp))
                                     (.future vp))
     :else (Future/succeededFuture p)))
  (^Future [p ^Context ctx]
   (if (instance? Future p)
     p
     (c/let [vp (.promise ^ContextInternal ctx)]
       (.whenComplete (->future p) (VertxRelay. vp))
       (.future vp)))))

(def ^{:arglists '([p] [p ctx])} to-vertx
  "Given a CompletionStage (or Vert.x Future, or value) and optionally a
  Context, returns an io.vertx.core.Future: an alias of `->vertx`.

    (.result (to-vertx (resolved 1)))  ;=> 1"
  ->vertx)

;; deftype positional factories are implementation details
(doseq [s '[->Relay ->Then ->Mapper ->Catch ->Handle ->Finally ->AllSlot ->AnySlot
            ->Timeout ->VertxRelay]]
  (alter-meta! (ns-resolve (the-ns 'vireo.promise) s) assoc :private true))
