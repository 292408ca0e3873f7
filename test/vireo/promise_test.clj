(ns vireo.promise-test
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.doc-examples :as doc-examples]
            [vireo.promise :as p])
  (:import (clojure.lang ExceptionInfo)
           (io.vertx.core Context Future Handler Promise Vertx)
           (java.io StringReader)
           (java.util.concurrent CompletableFuture CompletionException ExecutionException
                                 Executors ExecutorService ScheduledThreadPoolExecutor)
           (java.util.function BiConsumer Function)))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------------------
;; helpers

(defn- ^ExceptionInfo boom
  ([] (boom :test/boom))
  ([type] (ex-info (str "boom " type) {:type type})))

(defn- outcome
  "Given a future, returns [:ok v] or [:error e] with e exactly as stored in the
  future (not unwrapped); waits at most 2 s."
  [^CompletableFuture f]
  (let [cap (CompletableFuture.)]
    (.whenComplete f (reify BiConsumer
                       (accept [_ v e] (.complete cap (if e [:error e] [:ok v])))))
    (.get cap 2 java.util.concurrent.TimeUnit/SECONDS)))

(defn- raw-failure
  "The exception stored in a failed future, exactly as stored."
  [f]
  (let [[k e] (outcome f)]
    (when (= k :error) e)))

(defn- wrapped-failure
  "A future failed the way plain CompletableFuture stages fail: with a
  CompletionException around e."
  ^CompletableFuture [e]
  (let [f (.thenApply (p/rejected e) (reify Function (apply [_ x] x)))]
    (assert (instance? CompletionException (raw-failure f)))
    f))

(defn- thrown [f]
  (try (f) nil (catch Throwable t t)))

(defmacro ^:private with-vertx [[sym] & body]
  `(let [~sym (Vertx/vertx)]
     (try ~@body
          (finally (p/await (p/from-vertx (.close ~(with-meta sym {:tag `Vertx}))) 5000)))))

;; ---------------------------------------------------------------------------

(deftest promise-resolve-reject
  (let [f (p/promise)]
    (is (instance? CompletableFuture f))
    (is (not (.isDone f)))
    (is (true? (p/resolve! f 1)))
    (is (false? (p/resolve! f 2)))
    (is (false? (p/reject! f (boom))))
    (is (= [:ok 1] (outcome f))))
  (testing "reject! stores the unwrapped cause"
    (let [f (p/promise) e (boom)]
      (is (true? (p/reject! f (CompletionException. (ExecutionException. e)))))
      (is (identical? e (raw-failure f)))))
  (testing "every call returns a fresh future"
    (is (not (identical? (p/promise) (p/promise))))))

(deftest resolved-rejected-future?
  (is (= [:ok :x] (outcome (p/resolved :x))))
  (is (= [:ok nil] (outcome (p/resolved nil))))
  (let [e (boom)]
    (is (identical? e (raw-failure (p/rejected e))))
    (is (identical? e (raw-failure (p/rejected (CompletionException. e))))))
  (is (true? (p/future? (p/resolved 1))))
  (is (true? (p/future? (.minimalCompletionStage (p/resolved 1)))))
  (is (false? (p/future? 1)))
  (is (false? (p/future? nil)))
  (is (false? (p/future? (Future/succeededFuture 1)))))

(deftest unwrap-test
  (let [e (boom)]
    (is (identical? e (p/unwrap e)))
    (is (identical? e (p/unwrap (CompletionException. e))))
    (is (identical? e (p/unwrap (ExecutionException. (CompletionException. (ExecutionException. e)))))))
  (testing "a wrapper without cause is kept"
    (let [w (CompletionException. "no cause" nil)]
      (is (identical? w (p/unwrap w)))))
  (testing "other exceptions keep their causes"
    (let [e (RuntimeException. "outer" (boom))]
      (is (identical? e (p/unwrap e))))))

(deftest ->future-test
  (let [f (p/resolved 1)]
    (is (identical? f (p/->future f))))
  (is (= [:ok 5] (outcome (p/->future 5))))
  (is (= [:ok nil] (outcome (p/->future nil))))
  (testing "other CompletionStage"
    (let [src (CompletableFuture.)
          stage (.minimalCompletionStage src)
          f (p/->future stage)]
      (is (instance? CompletableFuture f))
      (is (not (.isDone f)))
      (.complete src 3)
      (is (= [:ok 3] (outcome f))))
    (let [e (boom)
          f (p/->future (.minimalCompletionStage (wrapped-failure e)))]
      (is (identical? e (raw-failure f)) "cause unwrapped")))
  (testing "Vert.x future"
    (is (= [:ok 7] (outcome (p/->future (Future/succeededFuture 7)))))))

(deftest then-test
  (testing "plain value"
    (is (= 2 (p/await (p/then (p/resolved 1) inc)))))
  (testing "plain input value"
    (is (= 2 (p/await (p/then 1 inc)))))
  (testing "flattens CompletableFuture, CompletionStage and Vert.x futures"
    (is (= 2 (p/await (p/then (p/resolved 1) #(p/resolved (inc %))))))
    (is (= 2 (p/await (p/then (p/resolved 1) #(.minimalCompletionStage (p/resolved (inc %)))))))
    (is (= 2 (p/await (p/then (p/resolved 1) #(Future/succeededFuture (inc %))))))
    (is (= 2 (p/await (p/then (p/resolved 1) #(p/delay 5 (inc %)))))))
  (testing "flattened failures are raw"
    (let [e (boom)]
      (is (identical? e (raw-failure (p/then (p/resolved 1) (fn [_] (p/rejected e))))))
      (is (identical? e (raw-failure (p/then (p/resolved 1) (fn [_] (wrapped-failure e))))))
      (is (identical? e (raw-failure (p/then (p/resolved 1) (fn [_] (Future/failedFuture e))))))))
  (testing "a throw in f rejects with that exception"
    (let [e (boom)]
      (is (identical? e (raw-failure (p/then (p/resolved 1) (fn [_] (throw e))))))))
  (testing "a failed input skips f and passes the unwrapped cause"
    (let [e (boom) called (atom false)
          f (p/then (wrapped-failure e) (fn [_] (reset! called true)))]
      (is (identical? e (raw-failure f)))
      (is (false? @called))))
  (testing "runs later when the input completes later"
    (let [src (p/promise)
          f (p/then src inc)]
      (is (not (.isDone f)))
      (p/resolve! src 41)
      (is (= 42 (p/await f 1000)))))
  (testing "executor arity runs f on the executor"
    (let [ex (Executors/newSingleThreadExecutor
              (reify java.util.concurrent.ThreadFactory
                (newThread [_ r] (doto (Thread. r "then-test-executor") (.setDaemon true)))))]
      (try
        (is (= "then-test-executor"
               (p/await (p/then (p/resolved 1) (fn [_] (.getName (Thread/currentThread))) ex) 1000)))
        (let [e (boom)]
          (is (identical? e (raw-failure (p/then (p/resolved 1) (fn [_] (throw e)) ex)))))
        (finally (.shutdown ^ExecutorService ex))))))

(deftest map-test
  (is (= 2 (p/await (p/map (p/resolved 1) inc))))
  (testing "does not flatten"
    (let [inner (p/resolved 2)]
      (is (identical? inner (p/await (p/map (p/resolved 1) (constantly inner)))))))
  (let [e (boom)]
    (is (identical? e (raw-failure (p/map (p/resolved 1) (fn [_] (throw e))))))
    (is (identical? e (raw-failure (p/map (wrapped-failure e) inc))))))

(deftest chain-test
  (is (= 2 (p/await (p/chain (p/resolved 1) inc))))
  (is (= 5 (p/await (p/chain (p/resolved 1) inc #(p/resolved (* 2 %)) #(Future/succeededFuture (inc %))))))
  (let [e (boom) called (atom false)]
    (is (identical? e (raw-failure (p/chain (p/resolved 1) (fn [_] (throw e)) (fn [_] (reset! called true))))))
    (is (false? @called))))

(derive :test/child-error :test/parent-error)

(deftest catch-test
  (testing "success passes the value through without calling f"
    (let [called (atom false)]
      (is (= 1 (p/await (p/catch (p/resolved 1) (fn [_] (reset! called true))))))
      (is (false? @called))))
  (testing "f gets the unwrapped cause"
    (let [e (boom)]
      (is (identical? e (p/await (p/catch (wrapped-failure e) identity))))))
  (testing "f's result is flattened; a throw in f rejects"
    (is (= :ok (p/await (p/catch (p/rejected (boom)) (fn [_] (p/delay 5 :ok))))))
    (is (= :ok (p/await (p/catch (p/rejected (boom)) (fn [_] (Future/succeededFuture :ok))))))
    (let [e2 (boom :test/other)]
      (is (identical? e2 (raw-failure (p/catch (p/rejected (boom)) (fn [_] (throw e2))))))))
  (testing "class filter"
    (let [e (IllegalStateException. "state")]
      (is (= :handled (p/await (p/catch (p/rejected e) IllegalStateException (constantly :handled)))))
      (is (= :handled (p/await (p/catch (p/rejected e) RuntimeException (constantly :handled)))))
      (is (identical? e (raw-failure (p/catch (wrapped-failure e) ExceptionInfo (constantly :no)))))))
  (testing "predicate filter"
    (let [e (boom)]
      (is (= :handled (p/await (p/catch (p/rejected e) #(= "boom :test/boom" (ex-message %)) (constantly :handled)))))
      (is (identical? e (raw-failure (p/catch (p/rejected e) (constantly nil) (constantly :no)))))))
  (testing "keyword filter uses isa? on (:type (ex-data e))"
    (let [child (boom :test/child-error)
          parent (boom :test/parent-error)
          other (boom :test/other)
          plain (IllegalStateException. "no ex-data")]
      (is (= :handled (p/await (p/catch (p/rejected child) :test/parent-error (constantly :handled)))))
      (is (= :handled (p/await (p/catch (p/rejected parent) :test/parent-error (constantly :handled)))))
      (is (identical? parent (raw-failure (p/catch (p/rejected parent) :test/child-error (constantly :no)))))
      (is (identical? other (raw-failure (p/catch (wrapped-failure other) :test/parent-error (constantly :no)))))
      (is (identical? plain (raw-failure (p/catch (p/rejected plain) :test/parent-error (constantly :no)))))))
  (testing "an invalid filter is rejected eagerly"
    (is (thrown? IllegalArgumentException (p/catch (p/resolved 1) "nope" identity)))))

(deftest handle-test
  (is (= [1 nil] (p/await (p/handle (p/resolved 1) vector))))
  (let [e (boom)]
    (is (= [nil e] (p/await (p/handle (wrapped-failure e) vector))))
    (is (identical? e (second (p/await (p/handle (wrapped-failure e) vector))))))
  (is (= :flat (p/await (p/handle (p/resolved 1) (fn [_ _] (p/delay 5 :flat))))))
  (let [e (boom)]
    (is (identical? e (raw-failure (p/handle (p/resolved 1) (fn [_ _] (throw e))))))))

(deftest finally-test
  (testing "success: f sees [v nil], value preserved"
    (let [seen (atom nil)]
      (is (= [:ok 1] (outcome (p/finally (p/resolved 1) (fn [v e] (reset! seen [v e]) :ignored)))))
      (is (= [1 nil] @seen))))
  (testing "failure: f sees the unwrapped cause, original failure preserved"
    (let [seen (atom nil) e (boom)]
      (is (identical? e (raw-failure (p/finally (wrapped-failure e) (fn [v err] (reset! seen [v err]))))))
      (is (= [nil e] @seen))
      (is (identical? e (second @seen)))))
  (testing "f's returned future is not awaited nor its failure used"
    (is (= [:ok 1] (outcome (p/finally (p/resolved 1) (fn [_ _] (p/rejected (boom))))))))
  (testing "f throws on success: rejected with f's exception"
    (let [fe (IllegalStateException. "cleanup")]
      (is (identical? fe (raw-failure (p/finally (p/resolved 1) (fn [_ _] (throw fe))))))
      (is (empty? (.getSuppressed fe)))))
  (testing "f throws on failure: f's exception with the original suppressed"
    (let [fe (IllegalStateException. "cleanup") e (boom)
          r (raw-failure (p/finally (wrapped-failure e) (fn [_ _] (throw fe))))]
      (is (identical? fe r))
      (is (= [e] (vec (.getSuppressed fe))))))
  (testing "f rethrowing the original does not self-suppress"
    (let [e (boom)]
      (is (identical? e (raw-failure (p/finally (p/rejected e) (fn [_ err] (throw err))))))
      (is (empty? (.getSuppressed e))))))

(deftest all-test
  (testing "results in input order, whatever the completion order"
    (is (= [:a :b :c :d :e]
           (p/await (p/all [(p/delay 40 :a) (p/delay 20 :b) :c (p/resolved :d)
                            (Future/succeededFuture :e)])
                    1000))))
  (testing "lazy seqs and nil values"
    (is (= [0 nil 2] (p/await (p/all (clojure.core/map #(p/resolved (when (even? %) %)) (range 3)))))))
  (is (= [] (p/await (p/all []))))
  (is (= [] (p/await (p/all nil))))
  (is (vector? (p/await (p/all [(p/resolved 1)]))))
  (testing "rejects with the first failure (unwrapped), without waiting for others"
    (let [e (boom) pending (p/promise)
          r (p/all [pending (wrapped-failure e) (p/rejected (boom :test/later))])]
      (is (identical? e (raw-failure r)))))
  (testing "a failure arriving later"
    (let [e (boom) src (p/promise)
          r (p/all [(p/resolved 1) src])]
      (is (not (.isDone r)))
      (p/reject! src e)
      (is (identical? e (raw-failure r))))))

(deftest any-test
  (is (= :ok (p/await (p/any [(p/rejected (boom)) (p/delay 5 :ok)]) 1000)))
  (is (= :first (p/await (p/any [(p/promise) (p/resolved :first)]))))
  (is (= :plain (p/await (p/any [(p/promise) :plain]))))
  (testing "all failures: ex-info with causes in input order"
    (let [e1 (boom :test/one) e2 (boom :test/two)
          r (p/any [(wrapped-failure e1) (p/rejected e2)])
          err (raw-failure r)]
      (is (= :vireo/all-rejected (:type (ex-data err))))
      (is (= [e1 e2] (:errors (ex-data err))))
      (is (identical? e1 (first (:errors (ex-data err)))))))
  (is (= :vireo/all-rejected (:type (ex-data (raw-failure (p/any []))))))
  (testing "default"
    (is (= :default (p/await (p/any [(p/rejected (boom))] :default))))
    (is (nil? (p/await (p/any [] nil))))
    (is (= 1 (p/await (p/any [(p/resolved 1)] :default))))))

(deftest let-test
  (testing "sequential bindings over futures and plain values"
    (is (= 13 (p/await (p/let [a (p/resolved 1)
                               b (inc a)
                               c (p/delay 5 (* 10 b))
                               d (Future/succeededFuture (- c a b 7))]
                         (+ a b d))))))
  (testing "destructuring"
    (is (= 3 (p/await (p/let [{:keys [x]} (p/resolved {:x 1})
                              [y z] [1 1]]
                        (+ x y z))))))
  (testing "body result is flattened; returns a CompletableFuture"
    (let [r (p/let [a 1] (p/resolved (inc a)))]
      (is (instance? CompletableFuture r))
      (is (= 2 (p/await r))))
    (is (= 2 (p/await (p/let [] (p/resolved 2)))))
    (is (= 3 (p/await (p/let [a 1] (Future/succeededFuture (+ a 2)))))))
  (testing "no bindings, multiple body forms"
    (let [side (atom 0)]
      (is (= 1 (p/await (p/let [] (swap! side inc) @side))))))
  (testing "synchronous throws become rejections"
    (let [e (boom)]
      (is (identical? e (raw-failure (p/let [a (throw e)] a))))
      (is (identical? e (raw-failure (p/let [a 1 b (throw e)] (+ a b)))))
      (is (identical? e (raw-failure (p/let [a (p/resolved 1) b (throw e)] (+ a b)))))
      (is (identical? e (raw-failure (p/let [a (p/resolved 1)] (throw e)))))
      (is (identical? e (raw-failure (p/let [a 1] (throw e)))))))
  (testing "a failed init skips the rest"
    (let [e (boom) later (atom false)]
      (is (identical? e (raw-failure (p/let [a (wrapped-failure e)
                                             b (reset! later true)]
                                       (reset! later true)))))
      (is (false? @later))))
  (testing "invalid bindings"
    (is (thrown? Exception (eval '(vireo.promise/let [a] a))))))

(deftest do-test
  (is (= 3 (p/await (p/do (+ 1 2)))))
  (let [side (atom [])]
    (is (= :b (p/await (p/do (swap! side conj :a) :b))))
    (is (= [:a] @side)))
  (let [f (p/resolved 1)]
    (is (identical? f (p/do f)) "a CompletableFuture is returned as is"))
  (is (= 1 (p/await (p/do (Future/succeededFuture 1)))))
  (is (= [:ok nil] (outcome (p/do))))
  (let [e (boom)
        r (p/do (throw e))]
    (is (instance? CompletableFuture r))
    (is (identical? e (raw-failure r)))))

(deftest await-test
  (is (= 1 (p/await (p/resolved 1))))
  (is (= 1 (p/await 1)))
  (is (= 1 (p/await (Future/succeededFuture 1))))
  (is (= :later (p/await (p/delay 10 :later) 1000)))
  (testing "throws the original exception, not a wrapper"
    (let [e (boom)]
      (is (identical? e (thrown #(p/await (p/rejected e)))))
      (is (identical? e (thrown #(p/await (wrapped-failure e)))))
      (is (identical? e (thrown #(p/await (wrapped-failure e) 1000))))
      (is (identical? e (thrown #(p/await (Future/failedFuture e)))))))
  (testing "timeout"
    (let [t0 (System/nanoTime)
          ex (thrown #(p/await (p/promise) 30))
          ms (/ (- (System/nanoTime) t0) 1e6)]
      (is (instance? ExceptionInfo ex))
      (is (= {:type :vireo/timeout :timeout-ms 30} (ex-data ex)))
      (is (str/includes? (ex-message ex) "30 ms"))
      (is (<= 25 ms 1000))))
  (testing "interrupted: rethrows and restores the interrupt flag"
    (let [result (p/promise)
          t (Thread. (fn []
                       (.interrupt (Thread/currentThread))
                       (let [ex (thrown #(p/await (p/promise)))]
                         (p/resolve! result [(class ex) (Thread/interrupted)]))))]
      (.start t)
      (is (= [InterruptedException true] (p/await result 2000)))))
  (testing "refuses on a Vert.x event loop, works on a worker"
    (with-vertx [vertx]
      (let [on-loop (p/promise)]
        (.runOnContext vertx (reify Handler
                               (handle [_ _]
                                 (p/resolve! on-loop
                                             [(Context/isOnEventLoopThread)
                                              (thrown #(p/await (p/resolved 1)))]))))
        (let [[loop? ex] (p/await on-loop 2000)]
          (is (true? loop?))
          (is (= :vireo/blocking-on-event-loop (:type (ex-data ex))))
          (is (str/includes? (ex-message ex) "event-loop"))))
      (is (= [false 1]
             (p/await (p/from-vertx
                       (.executeBlocking vertx
                                         ^java.util.concurrent.Callable
                                         (fn [] [(Context/isOnEventLoopThread)
                                                 (p/await (p/delay 5 1) 1000)])))
                      2000))))))

(defn- scheduler-queue ^java.util.concurrent.BlockingQueue []
  (.getQueue ^ScheduledThreadPoolExecutor @@#'p/scheduler))

(deftest timeout-test
  (testing "completes in time: p's outcome"
    (is (= :in-time (p/await (p/timeout (p/delay 5 :in-time) 1000) 1000)))
    (let [e (boom)]
      (is (identical? e (raw-failure (p/timeout (wrapped-failure e) 1000))))
      (is (identical? e (raw-failure (p/timeout (p/then (p/delay 5) (fn [_] (throw e))) 1000))))))
  (testing "already completed input"
    (is (= 1 (p/await (p/timeout (p/resolved 1) 0)))))
  (testing "too late: rejects with :vireo/timeout and cancels p"
    (let [src (p/promise)
          t0 (System/nanoTime)
          ex (raw-failure (p/timeout src 20))
          ms (/ (- (System/nanoTime) t0) 1e6)]
      (is (= {:type :vireo/timeout :timeout-ms 20} (ex-data ex)))
      (is (str/includes? (ex-message ex) "20 ms"))
      (is (<= 15 ms 1000))
      (is (.isCancelled src))))
  (testing "default value (nil included)"
    (is (= :default (p/await (p/timeout (p/promise) 10 :default) 1000)))
    (is (= [:ok nil] (outcome (p/timeout (p/promise) 10 nil))))
    (is (= :real (p/await (p/timeout (p/resolved :real) 10 :default)))))
  (testing "the timer is cancelled and removed when p completes"
    (let [q (scheduler-queue)
          before (set (.toArray q))
          src (p/promise)
          r (p/timeout src 60000)
          task (first (remove before (seq (.toArray q))))]
      (is (some? task))
      (p/resolve! src :done)
      (is (= :done (p/await r)))
      (is (.isCancelled ^java.util.concurrent.Future task))
      (is (not (.contains q task))))))

(deftest delay-test
  (let [t0 (System/nanoTime)
        v (p/await (p/delay 30 :v) 1000)
        ms (/ (- (System/nanoTime) t0) 1e6)]
    (is (= :v v))
    (is (<= 25 ms 1000)))
  (let [d (p/delay 20)]
    (is (not (.isDone d)))
    (is (nil? (p/await d 1000))))
  (testing "runs on the daemon scheduler thread"
    (let [t (p/await (p/map (p/delay 1) (fn [_] (Thread/currentThread))) 1000)]
      (is (str/starts-with? (.getName ^Thread t) "vireo-scheduler"))
      (is (.isDaemon ^Thread t)))))

(deftest from-vertx-test
  (is (= 1 (p/await (p/from-vertx (Future/succeededFuture 1)))))
  (is (= [:ok nil] (outcome (p/from-vertx (Future/succeededFuture)))))
  (let [e (boom)]
    (is (identical? e (raw-failure (p/from-vertx (Future/failedFuture e))))))
  (testing "completed later, on the completing thread (no hop)"
    (let [vp (Promise/promise)
          cf (p/from-vertx (.future vp))
          seen (.thenApply cf (reify Function (apply [_ v] [v (.getName (Thread/currentThread))])))]
      (is (not (.isDone cf)))
      (doto (Thread. (fn [] (.complete ^Promise vp :later)) "vertx-completer") (.start))
      (is (= [:later "vertx-completer"] (p/await seen 1000)))))
  (testing "failed later"
    (let [vp (Promise/promise)
          cf (p/from-vertx (.future vp))
          e (boom)]
      (is (not (.isDone cf)))
      (.fail vp ^Throwable e)
      (is (identical? e (raw-failure cf))))))

(deftest ->vertx-test
  (is (= 1 (.result (p/->vertx (p/resolved 1)))))
  (is (= 1 (.result (p/->vertx 1))))
  (let [vf (Future/succeededFuture 1)]
    (is (identical? vf (p/->vertx vf))))
  (testing "round trip"
    (is (= :rt (p/await (p/from-vertx (p/->vertx (p/delay 5 :rt))) 1000)))
    (let [e (boom)]
      (is (identical? e (.cause (p/->vertx (wrapped-failure e)))) "cause unwrapped")
      (is (identical? e (raw-failure (p/from-vertx (p/->vertx (wrapped-failure e))))))))
  (testing "later completion"
    (let [src (p/promise)
          vf (p/->vertx src)]
      (is (not (.isComplete vf)))
      (p/resolve! src 2)
      (is (= 2 (.result vf)))))
  (testing "to-vertx is an alias"
    (is (= 3 (.result ^Future (p/to-vertx (p/resolved 3))))))
  (testing "context arity dispatches callbacks on the context"
    (with-vertx [vertx]
      (let [ctx (.getOrCreateContext vertx)
            src (p/promise)
            vf (p/->vertx src ctx)
            seen (p/promise)]
        (.onComplete vf (reify Handler
                          (handle [_ ar]
                            (p/resolve! seen [(.result ^io.vertx.core.AsyncResult ar)
                                              (identical? ctx (Vertx/currentContext))]))))
        (p/resolve! src :ctx)
        (is (= [:ctx true] (p/await seen 2000)))))))

;; ---------------------------------------------------------------------------
;; docs/promise.md: every clojure block is evaluated, `;; => x` and
;; `;; throws x` comments are assertions on the preceding form.

(deftest doc-examples
  (is (< 50 (doc-examples/run-file! "docs/promise.md" 'vireo.promise-doc-examples))
      "docs/promise.md examples were found"))

(def ^:dynamic *pushed* :root)

(deftest push-binding-is-binding
  (testing "ConveyingFuture/pushBinding binds like pushThreadBindings: visible, popped, conveyed, thread-local"
    (vireo.promise.ConveyingFuture/pushBinding #'*pushed* :pushed)
    (try
      (is (= :pushed *pushed*))
      (is (= :pushed (get (get-thread-bindings) #'*pushed*)))
      (binding [*pushed* :inner] (is (= :inner *pushed*)))
      (is (= :pushed *pushed*) "an inner binding pops back to it")
      (let [p (p/promise)
            seen (-> p (.thenApply (reify java.util.function.Function (apply [_ _] *pushed*))))]
        (.start (Thread. #(p/resolve! p 1)))
        (is (= :pushed (deref seen 5000 :timeout)) "a stage registered here sees it on another thread"))
      (let [seen (p/promise)]
        (.start (Thread. #(p/resolve! seen *pushed*)))
        (is (= :root (deref seen 5000 :timeout)) "a plain thread does not"))
      (finally (clojure.lang.Var/popThreadBindings)))
    (is (= :root *pushed*) "popped")))

(def ^:dynamic *read* :root)

(deftest value-of-is-deref
  (testing "ConveyingFuture/valueOf reads a dynamic var like deref: root, bound, nil bound, nested, popped, other threads"
    (let [value-of #(vireo.promise.ConveyingFuture/valueOf #'*read*)]
      (is (= :root (value-of) *read*))
      (binding [*read* nil]
        (is (nil? (value-of)) "a binding to nil is not the root")
        (binding [*read* :inner] (is (= :inner (value-of) *read*))))
      (vireo.promise.ConveyingFuture/pushBinding #'*read* :pushed)
      (try
        (is (= :pushed (value-of)))
        (let [seen (p/promise)]
          (.start (Thread. #(p/resolve! seen (value-of))))
          (is (= :root (deref seen 5000 :timeout)) "a plain thread reads the root"))
        (finally (clojure.lang.Var/popThreadBindings)))
      (is (= :root (value-of)) "popped")
      (let [seen (p/promise)]
        ;; a thread at Clojure's TOP frame is moved to Vireo's base frame
        ;; (an array map) by currentFrame: bindings pushed there read back
        (.start (Thread. #(do (vireo.promise.ConveyingFuture/currentFrame)
                              (vireo.promise.ConveyingFuture/pushBinding #'*read* :on-base)
                              (p/resolve! seen [(value-of) *read*])
                              (clojure.lang.Var/popThreadBindings))))
        (is (= [:on-base :on-base] (deref seen 5000 :timeout)))))))
