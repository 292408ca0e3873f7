(ns vireo.test-runner
  "A small clojure.test runner (kaocha and cognitect's runner are not on Maven
  Central). Usage:

      bin/clojure -M:test                       ; every test/**/*_test.clj
      bin/clojure -M:test vireo.sql-test        ; one namespace
      bin/clojure -M:test vireo.core-test/aio-get-test   ; one var
      bin/clojure -M:test --dir test-cluster    ; every *_test.clj under another directory

  Namespaces whose metadata has `:vireo/per-backend true` run every test var
  once per backend (VIREO_TEST_BACKENDS, default pg,mysql,sqlite), through
  `vireo.test-support/around-case`; a var with `:backends #{:sqlite}` metadata
  runs on those backends only. A test case is one var (on one backend);
  it passes when it reported no failure and no error. A var marked
  `^:vireo/stress` (a million rows, 20,000-row batches: stress-sized) runs
  only when VIREO_TEST_STRESS=1, and then only such vars run (bin/test's
  stress sub-run); a var named on the command line runs either way. The last line printed
  is `N passed, N failed` (`, N skipped` when a backend was unavailable
  outside CI, or a case called `vireo.test-support/skip!` and did not fail).
  A full run first loads every src/ namespace and counts a
  reflection warning there as a failed case. Exit status 1 on any failure, or when no test ran."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :as t])
  (:import (java.io File PushbackReader)))

(set! *warn-on-reflection* true)

(defn- file->ns [^File f]
  (with-open [r (PushbackReader. (io/reader f))]
    (binding [*read-eval* false]
      (let [form (read {:eof nil :read-cond :allow} r)]
        (when (and (seq? form) (= 'ns (first form)) (symbol? (second form)))
          (second form))))))

(defn find-test-nses
  "Namespaces of the *_test.clj files under `dirs`, sorted."
  [dirs]
  (->> dirs
       (mapcat #(file-seq (io/file %)))
       (filter #(str/ends-with? (.getName ^File %) "_test.clj"))
       (keep file->ns)
       distinct sort))

(defn- test-vars [ns]
  (->> (vals (ns-interns ns))
       (filter (comp :test meta))
       (sort-by (comp :line meta))))

(def ^:private counters (atom {:passed 0 :failed 0 :skipped 0 :assertions 0}))
(def ^:private failures (atom []))

(defn- run-case
  "Runs one test var (with each-fixtures) and records it as one case."
  [v label each-fixture]
  (let [before @t/*report-counters*
        start (System/nanoTime)
        ;; vireo.test-support/skip! (only loaded by tests that can call it)
        skip-reason (when (find-ns 'vireo.test-support) @(resolve 'vireo.test-support/skip-reason))]
    (some-> skip-reason (reset! nil))
    (binding [t/*testing-vars* (conj t/*testing-vars* v)]
      (try
        (each-fixture (fn [] (t/test-var v)))
        (catch Throwable e
          (t/do-report {:type :error :message "Uncaught exception in fixture" :expected nil :actual e}))))
    (let [after @t/*report-counters*
          bad (- (+ (:fail after 0) (:error after 0)) (+ (:fail before 0) (:error before 0)))]
      (swap! counters update :assertions + (- (:pass after 0) (:pass before 0)))
      (let [secs (/ (- (System/nanoTime) start) 1e9)]
        (when (> secs 3.0) (println (format "  slow: %s took %.1f s" label secs))))
      (cond
        (pos? bad) (do (swap! counters update :failed inc) (swap! failures conj label))
        (some-> skip-reason deref) (do (println (str "  skipped: " label " - " @skip-reason))
                                       (swap! counters update :skipped inc))
        :else (swap! counters update :passed inc)))))

(defn- record-unavailable [v label reason]
  (if (= "true" (System/getenv "CI"))
    (do (println "FAIL" label "- backend unavailable under CI:" reason)
        (swap! counters update :failed inc)
        (swap! failures conj (str label " (backend unavailable: " reason ")")))
    (swap! counters update :skipped inc)))

(defn- stress?
  "True in the stress sub-run: VIREO_TEST_STRESS=1."
  []
  (= "1" (System/getenv "VIREO_TEST_STRESS")))

(defn- run-ns [ns selected-vars]
  (let [nsobj (the-ns ns)
        vars (if selected-vars
               (filter #(contains? selected-vars (symbol (name ns) (name (.sym ^clojure.lang.Var %)))) (test-vars nsobj))
               (filter #(= (stress?) (boolean (:vireo/stress (meta %)))) (test-vars nsobj)))
        once (t/join-fixtures (::t/once-fixtures (meta nsobj)))
        each (t/join-fixtures (::t/each-fixtures (meta nsobj)))]
    (when (seq vars)
      (println "\nTesting" ns)
      (binding [t/*report-counters* (ref t/*initial-report-counters*)]
        (if (:vireo/per-backend (meta nsobj))
          (let [backends ((requiring-resolve 'vireo.test-support/backends))
                status (requiring-resolve 'vireo.test-support/backend-unavailable)
                around (requiring-resolve 'vireo.test-support/around-case)]
            (doseq [b backends]
              (if-let [reason (status b)]
                (do (println (str "  [" (name b) "] unavailable: " reason))
                    (doseq [v vars] (record-unavailable v (str (symbol v) " [" (name b) "]") reason)))
                (t/testing (str "[" (name b) "]")
                  (around b (fn []
                              (once (fn []
                                      (doseq [v vars
                                              :when (if-let [only (:backends (meta v))] (contains? only b) true)]
                                        (run-case v (str (symbol v) " [" (name b) "]")
                                                  (fn [f] (around b (fn [] (each f)) :case)))))))
                          :once)))))
          (once (fn [] (doseq [v vars] (run-case v (str (symbol v)) each)))))))))

(defn- src-nses []
  (->> (file-seq (io/file "src"))
       (filter #(str/ends-with? (.getName ^File %) ".clj"))
       (keep file->ns)
       sort))

(defn- load-src-checking-reflection
  "Loads every src/ namespace first, capturing what the compiler prints: a
  reflection warning in src/ counts as a failed case (the code must stay
  reflection-free on the hot path)."
  []
  (let [sw (java.io.StringWriter.)]
    (binding [*err* sw]
      (doseq [n (src-nses)] (require n)))
    (let [warnings (filter #(str/includes? % "Reflection warning") (str/split-lines (str sw)))]
      (binding [*out* *err*] (print (str sw)) (flush))
      (if (seq warnings)
        (do (println "FAIL reflection warnings in src/:")
            (doseq [w warnings] (println "  " w))
            (swap! counters update :failed inc)
            (swap! failures conj "no reflection warnings in src/"))
        (swap! counters update :passed inc)))))

(defn run
  "Runs the selected namespaces/vars (all test namespaces under `dir` when
  `selectors` is empty). Returns the counters map."
  ([selectors] (run selectors "test"))
  ([selectors dir]
  (let [sels (map symbol selectors)
        ns-sels (set (map #(if (namespace %) (symbol (namespace %)) %) sels))
        var-sels (set (filter namespace sels))
        nses (if (seq sels) (sort ns-sels) (find-test-nses [dir]))
        start (System/nanoTime)]
    ;; the reflection check belongs to the default run only (once per suite)
    (println (str "Clojure " (clojure-version) " on Java " (System/getProperty "java.version")
                  (when (stress?) ", stress-sized tests only (VIREO_TEST_STRESS=1)")))
    (when (and (empty? sels) (= dir "test") (not (stress?))) (load-src-checking-reflection))
    (doseq [ns nses] (require ns))
    (binding [t/*test-out* *out*]
      (doseq [ns nses]
        (run-ns ns (let [vs (filter #(= (name ns) (namespace %)) var-sels)]
                     (when (seq vs) (set vs))))))
    (let [{:keys [passed failed skipped assertions]} @counters]
      (println)
      (when (seq @failures)
        (println "Failed cases:")
        (doseq [f @failures] (println "  -" f)))
      (println (format "Ran %d test cases (%d assertions) in %.1f s."
                       (+ passed failed) assertions (/ (- (System/nanoTime) start) 1e9)))
      (println (str passed " passed, " failed " failed" (when (pos? skipped) (str ", " skipped " skipped"))))
      (flush)
      @counters))))

(defn -main [& args]
  (let [{:keys [passed failed]}
        (try (let [[dir args] (if (= "--dir" (first args)) [(second args) (nnext args)] ["test" args])]
               (run args dir))
             (catch Throwable e
               (binding [*out* *err*] (println "Test run crashed:") (.printStackTrace e))
               (println (str (:passed @counters) " passed, " (inc (:failed @counters)) " failed"))
               {:failed 1}))]
    (shutdown-agents)
    (System/exit (if (and (zero? (or failed 0)) (pos? (or passed 0))) 0 1))))
