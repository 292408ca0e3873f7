(ns vireo.bench-smoke-test
  "Keeps the benchmark harness (bench/, vireo.bench.*) working: runs it in
  smoke mode for every registered system, W1–W6, concurrency 1 and 4, with
  ~0.3 s windows, into target/bench-smoke/, and checks that every cell that
  ran completed operations without errors and that the TSVs and the PNG were
  written. Never asserts anything about timings: benchmarks are not tests.

  Not per-backend (the harness is PostgreSQL only). Skipped, with a printed
  reason, when PostgreSQL is unreachable, unless CI=true (except the test of
  vireo.bench.cost's /proc reading, which needs no database)."
  (:require [clojure.java.io :as io]
            [clojure.test :refer [deftest is testing]]
            [vireo.bench.cost :as cost]
            [vireo.bench.main :as bench]
            [vireo.bench.pg :as pg]
            [vireo.bench.systems :as systems]
            [vireo.bench.workloads :as w]
            [vireo.test-support :as ts])
  (:import (java.io File)
           (java.nio.file Files)
           (java.util.concurrent CountDownLatch)))

(set! *warn-on-reflection* true)

(def ^:private url (or (System/getenv "VIREO_TEST_PG_URL") pg/default-url))

(defn- with-postgres
  "Runs (f) when PostgreSQL answers; without it, prints why and skips — but
  under CI=true an unreachable PostgreSQL is a failure."
  [test-name f]
  (let [unreachable (pg/unreachable url)]
    (if (and unreachable (not= "true" (System/getenv "CI")))
      (println (str "SKIP vireo.bench-smoke-test/" test-name ": PostgreSQL is unreachable at") url "-" unreachable)
      (do
        (is (nil? unreachable) (str "PostgreSQL must be reachable under CI: " unreachable))
        (when-not unreachable (f))))))

(deftest ^:vireo/stress harness-smoke-test
  (with-postgres "harness-smoke-test"
    (fn []
      (let [system-names (vec (keys systems/registry))
            {:keys [rows files na]}
            (bench/run! {:smoke true :url url
                         :systems system-names :workloads w/all-workloads
                         :concurrency [1 4] :warmup-s 0.1 :window-s 0.3 :repeats 1
                         :out "target/bench-smoke" :quiet true})]
        (is (= (* (count system-names) (count w/all-workloads) 2) (count rows))
            "one row per (system, workload, concurrency)")
        (doseq [{:keys [system workload concurrency] :as r} rows]
          (testing (str system " " workload " c=" concurrency)
            (if (:na r)
              (is (and (string? (:na r)) (seq (:na r))) "an n/a cell says why")
              (do (is (pos? (:ops r)) "completed operations in the window")
                  (is (zero? (:errors r)) "no errors")
                  (is (zero? (:stuck r)) "every client stopped by itself")))))
        (testing "only vireo's W6 may be n/a (while aio-atomic is missing or broken)"
          (is (every? #{["vireo" "W6"]} (keys na)) (pr-str na)))
        (doseq [k [:results :summary :ratios :report :chart]]
          (let [f (io/file (get files k))]
            (is (.isFile f) (str k " written"))
            (is (pos? (.length f)) (str k " not empty"))))))))

(deftest cost-smoke-test
  ;; vireo.bench.cost's per-operation counters on the event loop: it must
  ;; count operations, allocation and (on Linux) CPU, never a timing verdict
  (with-postgres "cost-smoke-test"
    (fn []
      (pg/seed! url)
      (doseq [s ["vireo" "vertx-raw"]]
        (let [inst (systems/open s {:url url :pool-size 4})]
          (try
            (testing s
              (let [row (cost/measure inst "W1" 2 0.3 0)]
                (is (pos? (:ops-per-sec row)) "operations counted")
                (is (zero? (:errors row)))
                (is (pos? (:bytes row)) "the event loop's allocation is read")
                (when (.isDirectory (io/file "/proc/self/task"))
                  (is (not (neg? (:user-us row))) "CPU read from /proc"))))
            (finally ((:close inst)))))))))

(deftest cost-skips-exited-threads-test
  ;; vireo.bench.cost lists /proc/self/task, then reads each thread's files:
  ;; a thread exiting in between must be skipped, not fail the measurement
  (let [task-dir (File. "/proc/self/task")]
    (if-not (.isDirectory task-dir)
      (println "SKIP vireo.bench-smoke-test/cost-skips-exited-threads-test: no /proc/self/task (not Linux)")
      (let [started (CountDownLatch. 1)
            release (CountDownLatch. 1)
            t (doto (Thread. ^Runnable (fn [] (.countDown started) (.await release)) "eventloop-gone")
                (.start))
            _ (.await started)
            ;; (slurp fails on /proc files: FileInputStream.available is EINVAL there)
            comm (fn [^File d] (try (.trim (String. (Files/readAllBytes (.toPath (File. d "comm")))))
                                    (catch java.io.IOException _ nil)))
            d (first (filter #(= "eventloop-gone" (comm %)) (.listFiles task-dir)))]
        (is (some? d) "the thread's task directory is found by its name")
        (try
          (when d
            ;; parked on the latch, it has switched out voluntarily at least once
            (is (ts/wait-until #(pos? (nth (#'cost/proc-counters [d]) 2)) 10000)
                "its counters are read while it runs"))
          (finally
            (.countDown release)
            (.join t)))
        (when d
          (is (ts/wait-until #(not (.exists ^File d)) 10000) "the task directory vanishes once the thread exited")
          (is (= [0 0 0 0] (#'cost/proc-counters [d])) "a thread that exited is skipped")
          (let [others (#'cost/proc-counters (conj (vec (.listFiles task-dir)) d))]
            (is (and (vector? others) (= 4 (count others))) "the other threads are still summed")))))))

(deftest model-system-results-test
  ;; vireo-model's W4/W5 are model queries: what they yield is what a user
  ;; of (update …)/(select …) gets, so the measured path is the real one
  (with-postgres "model-system-results-test"
    (fn []
      (pg/seed! url)
      (let [inst (systems/open "vireo-model" {:url url :pool-size 2})
            op (fn [wl n] (.get (.toCompletableFuture ^java.util.concurrent.CompletionStage ((get-in inst [:ops wl]) 0 n))
                                30 java.util.concurrent.TimeUnit/SECONDS))]
        (try
          (is (= 1 (op "W4" 3)) "W4 updates one row")
          (let [page (op "W5" 0)
                ids (map :id page)]
            (is (= 50 (count page)) "W5 yields a page of 50")
            (is (every? #(= #{:id :key :text} (set (keys %))) page) "as instances of PageBlock")
            (is (= ids (range (first ids) (+ (first ids) 50))) "consecutive ids, ordered by id"))
          (finally ((:close inst))))))))
