(ns vireo.bench.cost
  "Client cost per operation: how much CPU and allocation each async system
  spends on its Vert.x event loop for one operation of a workload.

      bin/clojure -M:bench -m vireo.bench.cost [--systems vireo,vertx-raw] \\
          [--workloads W1,…,W6] [--concurrency 16] [--window 6] [--repeats 2] \\
          [--url postgresql://…] [--out FILE.tsv]

  Throughput on a 2-core machine shared with PostgreSQL is noisy and hides
  where a client's cost goes; these figures are per operation and far
  steadier: for each (system, workload), after a warm-up cell, one cell of
  `--window` seconds is measured and the event-loop threads' own counters
  are read before and after it —

  - user / sys µs per operation: the threads' utime and stime from
    /proc/self/task/*/stat (Linux; -1 elsewhere), so time in the kernel
    (socket writes, epoll) is separated from Java code;
  - bytes per operation: allocated by those threads (ThreadMXBean);
  - voluntary / involuntary context switches per operation.

  Both systems run on one event loop each (see vireo.bench.vireo), so the
  difference between two rows is the client code's own. Blocking systems
  (jdbc-hikari) have no event loop and are skipped. Like the rest of the
  harness this measures, it asserts nothing."
  (:require [clojure.string :as str]
            [vireo.bench.driver :as driver]
            [vireo.bench.main :as main]
            [vireo.bench.pg :as pg]
            [vireo.bench.systems :as systems]
            [vireo.bench.workloads :as w])
  (:import (java.io File IOException)
           (java.lang.management ManagementFactory)
           (java.nio.file Files NoSuchFileException)))

(set! *warn-on-reflection* true)

(defn- slurp-proc ^String [^File f] (String. (Files/readAllBytes (.toPath f))))

(defn- event-loop-threads []
  (filter #(str/includes? (.getName ^Thread %) "eventloop") (keys (Thread/getAllStackTraces))))

(defn- allocated
  "Bytes allocated so far by the event-loop threads."
  ^long []
  (let [tm ^com.sun.management.ThreadMXBean (ManagementFactory/getThreadMXBean)]
    (reduce + 0 (map #(max 0 (.getThreadAllocatedBytes tm (.getId ^Thread %))) (event-loop-threads)))))

(defn- thread-counters
  "[utime stime voluntary involuntary] of the thread whose /proc/self/task
  directory is `d` when it is an event-loop thread, [0 0 0 0] when it is
  another thread, nil when the thread exited while being read (its files
  vanish between listing the directory and reading them)."
  [^File d]
  (try
    (let [comm (str/trim (slurp-proc (File. d "comm")))]
      (if (str/includes? comm "eventloo")          ; comm is cut to 15 characters
        (let [stat (slurp-proc (File. d "stat"))
              fields (str/split (subs stat (+ 2 (str/last-index-of stat ")"))) #" ")
              status (slurp-proc (File. d "status"))
              switches (fn [re] (parse-long (second (re-find re status))))]
          [(parse-long (nth fields 11)) (parse-long (nth fields 12))
           (switches #"(?m)^voluntary_ctxt_switches:\s+(\d+)")
           (switches #"(?m)^nonvoluntary_ctxt_switches:\s+(\d+)")])
        [0 0 0 0]))
    (catch NoSuchFileException _ nil)
    ;; a task directory that vanished can also read as ESRCH ("No such process")
    (catch IOException e
      (when (.exists d) (throw e)))))

(defn- proc-counters
  "[utime-jiffies stime-jiffies voluntary involuntary] summed over this
  process's event-loop threads (Linux), or nil; given task directories,
  summed over those. Threads that exit between the listing of
  /proc/self/task and the reading of their files are skipped."
  ([]
   (let [dir (File. "/proc/self/task")]
     (when (.isDirectory dir)
       (proc-counters (.listFiles dir)))))
  ([task-dirs]
   (reduce (fn [acc d] (if-let [c (thread-counters d)] (mapv + acc c) acc))
           [0 0 0 0] task-dirs)))

(def ^:private jiffy-us 1e4) ; USER_HZ is 100 on Linux

(defn measure
  "Measures one (system instance, workload) at `concurrency`; returns a row
  map. `offset` keeps W3/W6 keys fresh across cells."
  [inst workload concurrency window-s offset]
  (let [op (get (:ops inst) workload)
        cell (fn [secs base]
               (driver/run-cell {:kind (:kind inst)
                                 :op (fn [client n] (op client (+ (long base) (long n))))
                                 :start-executor (:start-executor inst)
                                 :concurrency concurrency :warmup-s 0 :window-s secs}))
        _ (cell (max 0.2 (/ window-s 2)) offset)
        a0 (allocated) c0 (proc-counters)
        res (cell window-s (+ offset 5000000))
        a1 (allocated) c1 (proc-counters)
        n (max 1 (long (:ops res)))
        per (fn [i scale] (if (and c0 c1) (/ (* scale (- (nth c1 i) (nth c0 i))) n) -1.0))]
    {:ops-per-sec (:ops-per-sec res)
     :errors (:errors res)
     :user-us (per 0 jiffy-us)
     :sys-us (per 1 jiffy-us)
     :bytes (/ (double (- a1 a0)) n)
     :vol-cs (per 2 1.0)
     :invol-cs (per 3 1.0)}))

(def ^:private columns
  [:system :workload :concurrency :repeat :ops-per-sec :errors :user-us :sys-us :bytes :vol-cs :invol-cs])

(defn- fmt [x] (if (double? x) (String/format java.util.Locale/US "%.2f" (to-array [x])) (str x)))

(defn -main [& args]
  (let [opts (merge {:systems ["vireo" "vertx-raw"] :workloads w/all-workloads :concurrency [16]
                     :window-s 6.0 :repeats 2 :pool-size 16 :url pg/default-url}
                    (main/parse-args args))
        out (:out opts)
        counter (atom 0)
        rows (atom [])]
    (when-let [why (pg/unreachable (:url opts))]
      (binding [*out* *err*] (println "vireo bench cost:" why))
      (System/exit 2))
    (pg/seed! (:url opts))
    (let [insts (into {} (for [s (:systems opts)] [s (systems/open s {:url (:url opts) :pool-size (:pool-size opts)})]))]
      (try
        (doseq [r (range (:repeats opts)) wl (:workloads opts) c (:concurrency opts) s (:systems opts)
                :let [inst (insts s)]
                :when (and (= :async (:kind inst)) (get (:ops inst) wl))]
          (pg/seed! (:url opts))
          (System/gc)
          (let [row (merge {:system s :workload wl :concurrency c :repeat (inc r)}
                           (measure inst wl c (:window-s opts) (* 10000000 (swap! counter inc))))]
            (swap! rows conj row)
            (println (str/join "\t" (map #(fmt (get row %)) columns)))))
        (finally
          (doseq [[_ i] insts] ((:close i))))))
    (when out
      (spit out (str (str/join "\t" (map name columns)) "\n"
                     (str/join "\n" (map (fn [row] (str/join "\t" (map #(fmt (get row %)) columns))) @rows)) "\n")))
    (shutdown-agents)
    (System/exit 0)))
