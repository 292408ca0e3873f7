(ns vireo.bench.main
  "The benchmark harness: runs the W1–W6 workloads (see the shared bench
  README) against local PostgreSQL for several systems in the same JVM run,
  and writes TSVs, a summary with the vireo / vertx-raw ratios, and a PNG.

      bin/clojure -M:bench -m vireo.bench.main [options]
      bin/clojure -M:bench -m vireo.bench.main --smoke

  From code (the smoke test does this): (run! {:smoke true ...}) returns
  {:rows :summary :ratios :out-dir :files} and never exits the JVM."
  (:refer-clojure :exclude [run!])
  (:require [clojure.edn :as edn]
            [clojure.java.io :as io]
            [clojure.pprint]
            [clojure.string :as str]
            [vireo.bench.chart :as chart]
            [vireo.bench.driver :as driver]
            [vireo.bench.pg :as pg]
            [vireo.bench.report :as report]
            [vireo.bench.systems :as systems]
            [vireo.bench.workloads :as w])
  (:import (java.time LocalDateTime)
           (java.time.format DateTimeFormatter)))

(set! *warn-on-reflection* true)

(def defaults
  {:url pg/default-url
   :systems systems/default-systems
   :workloads w/all-workloads
   :concurrency [1 16 64]
   :warmup-s 3.0
   :window-s 10.0
   :repeats 3
   :pool-size 16
   :prewarm-s 1.0
   :drain-s 30
   :out nil
   :smoke false
   :chart true
   :quiet false})

(def smoke-defaults
  "--smoke: about one second per cell, tiny warm-up, no repeats."
  {:warmup-s 0.2 :window-s 1.0 :repeats 1 :prewarm-s 0.0})

(def usage
  (str/join
   "\n"
   ["Usage: bin/clojure -M:bench -m vireo.bench.main [options]"
    ""
    (str "  --systems LIST      comma-separated, default " (str/join "," systems/default-systems))
    (str "                      (known: " (str/join ", " (keys systems/registry)) ")")
    "  --workloads LIST    default W1,W2,W3,W4,W5,W6 (also accepts 1,2 or w1,w2)"
    "  --concurrency LIST  closed-loop clients per cell, default 1,16,64"
    "  --warmup SECONDS    discarded warm-up per cell, default 3"
    "  --window SECONDS    measurement window per cell, default 10"
    "  --repeats N         default 3 (systems interleaved, order rotated per repeat)"
    "  --prewarm SECONDS   before measuring, run every (system, workload) this long, unrecorded,"
    "                      so the JIT has compiled every path before the first cell; default 1, 0 = off"
    "  --pool N            connections per pool, default 16"
    "  --out DIR           default bench/results/<timestamp>/"
    "  --url URL           default postgresql://postgres@127.0.0.1:5432/vireo_test"
    "  --smoke             ~1 s per cell, 0.2 s warm-up, 1 repeat (explicit options still win)"
    "  --no-chart          skip the PNG"
    "  --quiet             no per-cell progress lines"
    "  --report-only DIR   recompute summary, ratios, report and chart from DIR/results.tsv"
    "  --help"]))

(defn- split-list [s] (remove str/blank? (str/split (str s) #"[,\s]+")))

(defn- workload-id [s]
  (let [id (str "W" (str/replace (str/upper-case s) #"^W" ""))]
    (when-not (some #{id} w/all-workloads)
      (throw (ex-info (str "unknown workload " (pr-str s) "; known: " (str/join ", " w/all-workloads)) {:arg s})))
    id))

(def ^:private value-options
  {"--systems" [:systems #(vec (split-list %))]
   "--workloads" [:workloads #(mapv workload-id (split-list %))]
   "--concurrency" [:concurrency #(mapv parse-long (split-list %))]
   "--warmup" [:warmup-s parse-double]
   "--window" [:window-s parse-double]
   "--repeats" [:repeats parse-long]
   "--prewarm" [:prewarm-s parse-double]
   "--pool" [:pool-size parse-long]
   "--out" [:out identity]
   "--url" [:url identity]
   "--report-only" [:report-only identity]})

(def ^:private flag-options
  {"--smoke" [:smoke true] "--no-chart" [:chart false] "--quiet" [:quiet true]
   "--help" [:help true] "-h" [:help true]})

(defn parse-args
  "Command-line arguments -> an options map (only the options given)."
  [args]
  (loop [[a & more] args opts {}]
    (cond
      (nil? a) opts
      (value-options a)
      (let [[k parse] (value-options a)
            v (first more)]
        (when (nil? v) (throw (ex-info (str a " needs a value") {:arg a})))
        (recur (rest more) (assoc opts k (parse v))))
      (flag-options a)
      (let [[k v] (flag-options a)] (recur more (assoc opts k v)))
      :else (throw (ex-info (str "unknown option " (pr-str a) "\n" usage) {:arg a})))))

(defn- resolve-options [opts]
  (let [o (merge defaults (when (:smoke opts) smoke-defaults) opts)]
    (doseq [s (:systems o)]
      (when-not (contains? systems/registry s)
        (throw (ex-info (str "unknown system " (pr-str s) "; known: " (str/join ", " (keys systems/registry))) {}))))
    (doseq [[k ok?] [[:repeats pos?] [:pool-size pos?] [:window-s pos?] [:warmup-s (complement neg?)]
                         [:prewarm-s (complement neg?)]]]
      (when-not (and (number? (k o)) (ok? (k o)))
        (throw (ex-info (str "bad value for " k ": " (pr-str (k o))) {}))))
    (when-not (and (seq (:concurrency o)) (every? pos-int? (:concurrency o)))
      (throw (ex-info (str "bad concurrency list " (pr-str (:concurrency o))) {})))
    (assoc o :out (or (:out o)
                      (str "bench/results/" (.format (LocalDateTime/now) (DateTimeFormatter/ofPattern "yyyyMMdd-HHmmss")))))))

(defn- rotate [xs n] (let [n (mod n (max 1 (count xs)))] (vec (concat (drop n xs) (take n xs)))))

(defn- fmt-num [x] (if (number? x) (String/format java.util.Locale/US "%,.0f" (to-array [(double x)])) "-"))
(defn- fmt-ms [x] (if (number? x) (String/format java.util.Locale/US "%.2f" (to-array [(double x)])) "-"))

(defn- error-line [^Throwable e]
  (when e
    (let [e (loop [e e] (if (and (instance? java.util.concurrent.CompletionException e) (.getCause e)) (recur (.getCause e)) e))]
      (str (.getName (class e)) ": " (ex-message e)))))

(defn- panel-concurrencies [cs]
  (let [big (filter #{16 64} cs)] (vec (if (seq big) big cs))))

(def ^:private unclosed
  "Systems whose close did not finish in time (their threads may keep the JVM alive)."
  (atom #{}))

(defn- close-bounded!
  "Runs a system's close on a daemon thread, waiting at most 30 s, so a
  broken system can never hang the harness."
  [s close]
  (let [t (doto (Thread. ^Runnable (fn []
                                     (try (close)
                                          (catch Throwable t
                                            (swap! unclosed conj s)
                                            (binding [*out* *err*] (println "closing" s "failed:" (error-line t)))))))
            (.setDaemon true) (.setName (str "bench-close-" s)) (.start))]
    (.join t 30000)
    (when (.isAlive t)
      (swap! unclosed conj s)
      (binding [*out* *err*] (println "closing" s "did not finish within 30 s")))))

(defn- write-outputs!
  "Writes results.tsv, summary.tsv, ratios.tsv, report.md, run.edn and the
  chart for `rows`; prints the summary and ratio tables. Returns
  {:summary :ratios :files}."
  [rows {:keys [o started na warnings first-errors say env]}]
  (let [{:keys [systems workloads concurrency warmup-s window-s repeats pool-size out]} o
        summary (report/summarise rows)
        ratios (report/ratios rows)
        files (cond-> {:results (io/file out "results.tsv")
                       :summary (io/file out "summary.tsv")
                       :ratios (io/file out "ratios.tsv")
                       :report (io/file out "report.md")
                       :run (io/file out "run.edn")
                       :chart (io/file out "throughput.png")}
                (not (:chart o)) (dissoc :chart))
        subtitle (str "PostgreSQL on loopback, pool " pool-size ", 1 Vert.x event loop; window " window-s
                      " s after " warmup-s " s warm-up; median of " repeats " repeat(s); " started)]
    (report/write-tsv! (:results files) report/result-columns (map report/result-line rows))
    (report/write-tsv! (:summary files) report/summary-columns (map report/summary-line summary))
    (report/write-tsv! (:ratios files) report/ratio-columns (map report/ratio-line ratios))
    (spit (:run files)
          (with-out-str
            (clojure.pprint/pprint {:options (dissoc o :help :say) :started started
                                    :jvm (str (System/getProperty "java.vm.name") " " (System/getProperty "java.version"))
                                    :cpus (.availableProcessors (Runtime/getRuntime))
                                    :environment env
                                    :na na :warnings warnings :first-errors first-errors})))
    (spit (:report files)
          (str "# Vireo benchmark run " started "\n\n"
               "Options: `" (pr-str (dissoc o :help)) "`\n\n"
               "JVM: " (System/getProperty "java.vm.name") " " (System/getProperty "java.version")
               ", " (.availableProcessors (Runtime/getRuntime)) " CPUs\n\n"
               (when env
                 (str "Machine: load average " (get-in env [:start :load-average]) " at the start, "
                      (get-in env [:end :load-average]) " at the end; other sessions on the database: "
                      (get-in env [:start :other-sessions]) " at the start, "
                      (get-in env [:end :other-sessions]) " at the end.\n\n"))
               "## Medians\n\n" (report/markdown-table report/summary-columns (map report/summary-line summary))
               "\n\n## Ratios\n\n" (report/markdown-table report/ratio-columns (map report/ratio-line ratios))
               "\n\n## n/a cells\n\n"
               (str/join "\n" (or (seq (for [[[s wl] reason] na] (str "- " s " " wl ": " reason))) ["none"]))
               "\n\n## Warnings\n\n"
               (str/join "\n" (or (seq (map #(str "- " %) warnings)) ["none"]))
               "\n\n## First errors\n\n"
               (str/join "\n" (or (seq (for [[[s wl c] e] first-errors] (str "- " s " " wl " c=" c ": " e))) ["none"]))
               "\n"))
    (when (:chart files)
      (chart/render (:chart files) summary ratios
                    {:title "Vireo benchmark: throughput by workload"
                     :subtitle subtitle :systems systems :workloads workloads
                     :concurrencies (panel-concurrencies concurrency)}))
    (say)
    (say (str "Medians over " repeats " repeat(s):"))
    (say (report/table-str report/summary-columns (map report/summary-line summary)))
    (say)
    (say "Ratios (per repeat, then median and min-max); target: throughput >= 0.90, p99 <= 1.2 at c=16/64:")
    (say (report/table-str report/ratio-columns (map report/ratio-line ratios)))
    (say)
    (say (str "Wrote " (str/join ", " (map str (vals files)))))
    {:summary summary :ratios ratios :files files}))

(defn report-only!
  "Re-computes the summary, ratios, report and chart of an earlier run from
  its results.tsv (and run.edn), e.g. after changing the report code."
  [dir]
  (let [run (let [f (io/file dir "run.edn")] (when (.exists f) (edn/read-string (slurp f))))
        lines (map #(str/split % #"\t") (rest (str/split-lines (slurp (io/file dir "results.tsv")))))
        num (fn [s] (when-not (#{"-" "n/a"} s) (parse-double s)))
        rows (vec (for [[system workload c r ops p50 p99 errors starved] lines]
                    (cond-> {:system system :workload workload :concurrency (parse-long c) :repeat (parse-long r)}
                      (= ops "n/a") (assoc :na (get-in run [:na [system workload]] "n/a"))
                      (not= ops "n/a") (assoc :ops-per-sec (num ops) :p50-ms (num p50) :p99-ms (num p99)
                                              :errors (parse-long errors) :starved (parse-long starved)))))
        o (merge defaults
                 {:systems (vec (distinct (map :system rows))) :workloads (vec (distinct (map :workload rows)))
                  :concurrency (vec (distinct (map :concurrency rows))) :repeats (count (distinct (map :repeat rows)))}
                 (select-keys (:options run) [:warmup-s :window-s :pool-size :url :smoke])
                 {:out (str dir)})]
    (write-outputs! rows {:o o :started (or (:started run) "?") :na (:na run {}) :warnings (:warnings run [])
                          :env (:environment run)
                          :first-errors (:first-errors run {}) :say println})))

(defn run!
  "Runs the benchmark described by `opts` (keys as in `defaults`; missing
  ones take the defaults, or the smoke defaults under :smoke true). Writes
  the output files and returns {:rows :summary :ratios :out-dir :files
  :na :warnings :errors}. Throws when PostgreSQL is unreachable."
  [opts]
  (System/setProperty "java.awt.headless" "true")
  (let [o (resolve-options opts)
        {:keys [url systems workloads concurrency warmup-s window-s repeats pool-size drain-s out quiet]} o
        say (fn [& xs] (when-not quiet (apply println xs) (flush)))
        _ (when-let [why (pg/unreachable url)]
            (throw (ex-info (str "PostgreSQL is unreachable at " url ": " why) {:url url})))
        started (.format (LocalDateTime/now) (DateTimeFormatter/ofPattern "yyyy-MM-dd HH:mm"))
        _ (say (str "vireo bench: systems " (str/join "," systems) ", workloads " (str/join "," workloads)
                    ", concurrency " (str/join "," concurrency) ", warm-up " warmup-s " s, window " window-s
                    " s, repeats " repeats ", pool " pool-size " -> " out))
        _ (pg/seed! url)                     ; the vireo system's aio-atomic check needs the table
        env-start {:other-sessions (pg/other-sessions url) :load-average (pg/load-average)}
        _ (when (pos? (or (:other-sessions env-start) 0))
            (say (str "  note: " (:other-sessions env-start) " other session(s) are connected to this database: "
                      "results may be noisy, and a test suite running against it may terminate the harness's "
                      "connections (errors \"connection was closed\")")))
        opened (atom [])]
    (try
      (doseq [s systems]
        (swap! opened conj [s (systems/open s {:url url :pool-size pool-size})]))
      (let [inst (into {} @opened)
            na (into {} (for [[s i] inst [wl reason] (:na i)] [[s wl] reason]))
            _ (doseq [[[s wl] reason] na] (say (str "  " s " " wl ": n/a - " reason)))
            warnings (vec (for [[s i] inst w (:warnings i)] (str s ": " w)))
            _ (doseq [w warnings] (say (str "  warning: " w)))
            _ (when (pos? (:prewarm-s o))
                (say (str "  pre-warming every (system, workload) for " (:prewarm-s o) " s at c="
                          (apply max concurrency) " (not recorded)"))
                (doseq [wl workloads s systems
                        :let [i (inst s) op (get-in i [:ops wl])]
                        :when (and op (not (na [s wl])))]
                  (pg/seed! url)
                  (driver/run-cell {:kind (:kind i) :op op :start-executor (:start-executor i)
                                    :concurrency (apply max concurrency) :warmup-s 0
                                    :window-s (:prewarm-s o) :drain-s drain-s})))
            total (* repeats (count workloads) (count concurrency) (count systems))
            counter (atom 0)
            first-errors (atom {})
            rows (vec
                  (for [r (range 1 (inc repeats))
                        wl workloads
                        c concurrency
                        s (rotate systems (dec r))]
                    (let [i (inst s)
                          base {:system s :workload wl :concurrency c :repeat r}
                          n (swap! counter inc)]
                      (if-let [reason (or (na [s wl]) (when-not (get-in i [:ops wl]) "not implemented"))]
                        (assoc base :na reason)
                        (let [seed-ms (pg/seed! url)
                              _ (System/gc)
                              res (driver/run-cell {:kind (:kind i) :op (get-in i [:ops wl])
                                                    :start-executor (:start-executor i)
                                                    :concurrency c :warmup-s warmup-s :window-s window-s
                                                    :drain-s drain-s})
                              row (merge base (dissoc res :first-error) {:seed-ms seed-ms})]
                          (when-let [e (:first-error res)]
                            (swap! first-errors update [s wl c] #(or % (error-line e))))
                          (say (format "[%d/%d] r%d %s c=%-3d %-12s %10s ops/s  p50 %7s ms  p99 %7s ms  errors %d  starved %d%s"
                                       n total r wl c s (fmt-num (:ops-per-sec res)) (fmt-ms (:p50-ms res))
                                       (fmt-ms (:p99-ms res)) (:errors res) (:starved res)
                                       (if (pos? (:stuck res)) (str "  STUCK " (:stuck res)) "")))
                          (when-let [e (:first-error res)] (say "      first error:" (error-line e)))
                          (cond-> row
                            (pos? (:stuck res)) (update :errors + (:stuck res))))))))
            env {:start env-start
                 :end {:other-sessions (pg/other-sessions url) :load-average (pg/load-average)}}
            result (write-outputs! rows {:o o :started started :na na :warnings warnings
                                         :first-errors @first-errors :say say :env env})]
        (merge result {:rows rows :out-dir out :na na :warnings warnings :errors @first-errors}))
      (finally
        (doseq [[s i] (reverse @opened)]
          (close-bounded! s (:close i)))))))

(defn -main [& args]
  (let [opts (try (parse-args args)
                  (catch clojure.lang.ExceptionInfo e
                    (binding [*out* *err*] (println (ex-message e)))
                    (System/exit 2)))]
    (if (:help opts)
      (println usage)
      (try
        (if-let [dir (:report-only opts)]
          (report-only! dir)
          (run! opts))
        (catch Throwable t
          (binding [*out* *err*]
            (println "vireo bench failed:" (error-line t))
            (.printStackTrace t))
          (shutdown-agents)
          (System/exit 1))))
    (shutdown-agents)
    ;; every pool and Vert.x instance is closed, so the JVM exits by itself;
    ;; only when a system failed to close is the exit forced
    (when (seq @unclosed) (System/exit 3))))
