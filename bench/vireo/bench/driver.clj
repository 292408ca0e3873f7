(ns vireo.bench.driver
  "Closed-loop load generation for one cell (system, workload, concurrency).

  Every client issues its next operation only when the previous one finished.
  The run has a warm-up (operations discarded) and a measurement window;
  an operation counts when it *completes* inside the window, its latency
  measured from issue (including any wait for a pooled connection) to result.
  At the end of the window every client stops by itself; the driver then
  waits (bounded) for in-flight operations to drain.

  Two kinds of clients:
  - async: `(op client-index seq)` returns a CompletionStage or an
    io.vertx.core.Future; the next operation is issued from the completion
    callback (for Vert.x systems: on the event loop), with a trampoline so an
    already-completed future never grows the stack.
  - blocking: `(op client-index seq)` returns when done (throws on error); one
    platform thread per client."
  (:require [vireo.bench.hist :as hist])
  (:import (clojure.lang Var)
           (java.util.concurrent CompletionStage CountDownLatch Executor TimeUnit)
           (java.util.concurrent.atomic AtomicInteger)
           (java.util.function BiConsumer)
           (io.vertx.core Completable Future)))

(set! *warn-on-reflection* true)

;; stats slots (one long array per client, written only by that client's
;; sequential operations, read by the driver after the drain latch)
(def ^:private ^:const ops 0)          ; successes completed in the window
(def ^:private ^:const win-errors 1)   ; failures completed in the window
(def ^:private ^:const all-errors 2)   ; failures in warm-up + window
(def ^:private ^:const seqno 3)        ; operations issued
(def ^:private ^:const t-issue 4)      ; issue time of the operation in flight

(definterface IRecorder
  (^long record [e]))

;; one per client: its histogram, stats and first error, and the window
(deftype Recorder [^longs h ^longs stats ^objects first-error ^long start ^long end]
  IRecorder
  (record [_ e]
    (let [now (System/nanoTime)]
      (when (some? e)
        (aset stats all-errors (inc (aget stats all-errors)))
        (when (nil? (aget first-error 0)) (aset first-error 0 e)))
      (when (and (>= now start) (< now end))
        (if (nil? e)
          (do (aset stats ops (inc (aget stats ops)))
              (hist/record! h (- now (aget stats t-issue))))
          (aset stats win-errors (inc (aget stats win-errors)))))
      now)))

;; ---------------------------------------------------------------- async clients
;; Every operation is started (and its completion callback registered) as a
;; fresh task, like a request handler would: with the root dynamic-binding
;; frame, whatever frame the thread completing the previous operation happened
;; to be in (a library conveying bindings to callbacks must not see the
;; previous operation's context as the parent of the next one). Same for every
;; system; costs two ThreadLocal writes.
(def ^:private root-frame
  (let [p (promise)]
    (doto (Thread. ^Runnable (fn [] (deliver p (Var/getThreadBindingFrame)))) (.start) (.join))
    @p))

(declare issue!)

;; phase: 0 = registering a callback, 1 = completed while registering (the
;; registering frame loops), 2 = registration returned (the callback issues)
(deftype AsyncClient [^long idx op ^Recorder rec ^AtomicInteger phase ^CountDownLatch done ^long end]
  BiConsumer
  (accept [this v e]
    (.record rec e)
    (when-not (.compareAndSet phase 0 1)
      (issue! this)))
  Completable
  (complete [this v e]
    (.accept this v e)))

(defn- issue! [^AsyncClient c]
  (let [^longs stats (.-stats ^Recorder (.-rec c))
        ^AtomicInteger phase (.-phase c)
        op (.-op c)
        idx (.-idx c)
        end (.-end c)]
    (loop []
      (let [now (System/nanoTime)]
        (if (>= now end)
          (.countDown ^CountDownLatch (.-done c))
          (let [n (aget stats seqno)]
            (aset stats seqno (inc n))
            (aset stats t-issue now)
            (.set phase 0)
            (let [frame (Var/getThreadBindingFrame)]
              (Var/resetThreadBindingFrame root-frame)
              (try
                (let [f (try (op idx n) (catch Throwable t t))]
                  (cond
                    (instance? Future f) (.onComplete ^Future f ^Completable c)
                    (instance? CompletionStage f) (.whenComplete ^CompletionStage f ^BiConsumer c)
                    (instance? Throwable f) (.accept c nil f)
                    :else (.accept c nil (IllegalStateException.
                                          (str "an async op returned " (class f) ", not a future")))))
                (finally (Var/resetThreadBindingFrame frame))))
            (when-not (.compareAndSet phase 0 2)
              (recur))))))))

;; ---------------------------------------------------------------- blocking clients
(defn- blocking-loop [op ^long idx ^Recorder rec ^CountDownLatch done]
  (try
    (loop []
      (let [now (System/nanoTime)
            ^longs stats (.-stats rec)]
        (when (< now (.-end rec))
          (let [n (aget stats seqno)]
            (aset stats seqno (inc n))
            (aset stats t-issue now)
            (.record rec (try (op idx n) nil (catch Throwable t t)))
            (recur)))))
    (finally (.countDown done))))

;; ---------------------------------------------------------------- a cell
(defn run-cell
  "Runs one cell and returns
  {:ops :errors :window-errors :starved :stuck :ops-per-sec :p50-ms :p99-ms
   :first-error :issued}.

  - kind: :async or :blocking
  - op: (fn [client-index seq] ...) as described in the namespace doc
  - start-executor: (async, optional) where clients issue their first op
  - concurrency, warmup-s, window-s, drain-s (max wait for in-flight ops)"
  [{:keys [kind op ^Executor start-executor concurrency warmup-s window-s drain-s]
    :or {drain-s 30}}]
  (let [n (long concurrency)
        t0 (System/nanoTime)
        start (+ t0 (long (* 1e9 (double warmup-s))))
        end (+ start (long (* 1e9 (double window-s))))
        done (CountDownLatch. n)
        hs (vec (repeatedly n hist/create))
        statss (vec (repeatedly n #(long-array 5)))
        errs (vec (repeatedly n #(object-array 1)))]
    (case kind
      :async
      (doseq [i (range n)]
        (let [c (AsyncClient. i op (Recorder. (hs i) (statss i) (errs i) start end) (AtomicInteger. 2) done end)
              r (fn [] (issue! c))]
          (if start-executor (.execute start-executor r) (r))))
      :blocking
      (doseq [i (range n)]
        (doto (Thread. ^Runnable (fn [] (blocking-loop op i (Recorder. (hs i) (statss i) (errs i) start end) done))
                       (str "bench-client-" i))
          (.setDaemon true)
          (.start))))
    (let [left-ms (max 0 (quot (- end (System/nanoTime)) 1000000))
          drained? (.await done (+ left-ms (* 1000 (long drain-s))) TimeUnit/MILLISECONDS)
          window (/ (- end start) 1e9)
          ops-per-client (mapv #(aget ^longs % ops) statss)
          total (reduce + ops-per-client)
          merged (hist/merge hs)
          ms (fn [v] (when v (/ (double v) 1e6)))]
      {:ops total
       :ops-per-sec (/ total window)
       :p50-ms (ms (hist/percentile merged 0.50))
       :p99-ms (ms (hist/percentile merged 0.99))
       :errors (reduce + (map #(aget ^longs % all-errors) statss))
       :window-errors (reduce + (map #(aget ^longs % win-errors) statss))
       :starved (count (filter zero? ops-per-client))
       :stuck (if drained? 0 (.getCount done))
       :issued (reduce + (map #(aget ^longs % seqno) statss))
       :first-error (some #(aget ^objects % 0) errs)})))
