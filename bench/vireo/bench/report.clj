(ns vireo.bench.report
  "Results -> TSV files and stdout tables: one row per (system, workload,
  concurrency, repeat); medians over repeats; the ratio table, one row pair
  per pair of `ratio-systems` (vireo / vertx-raw, vireo-java, vireo-pipelined
  and vireo-model / vertx-raw; vireo-observed / vireo, observability's
  overhead): throughput and p99, median and min–max over
  repeats, each ratio taken within one repeat, where the two systems ran back
  to back."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]))

(set! *warn-on-reflection* true)

(def ratio-systems
  "[numerator denominator] pairs of the ratio table."
  [["vireo" "vertx-raw"] ["vireo-java" "vertx-raw"] ["vireo-pipelined" "vertx-raw"]
   ["vireo-model" "vertx-raw"] ["vireo-observed" "vireo"]])

(def target
  "The README's target, checked at concurrency 16 and 64 on medians."
  {:min-throughput-ratio 0.90 :max-p99-ratio 1.2 :concurrencies #{16 64}})

(defn median [xs]
  (let [v (vec (sort xs)) n (count v)]
    (when (pos? n)
      (if (odd? n) (v (quot n 2)) (/ (+ (v (dec (quot n 2))) (v (quot n 2))) 2.0)))))

(defn- ran? [row] (and row (not (:na row))))

(defn- fmt [x digits]
  (cond (nil? x) "-"
        (string? x) x
        :else (String/format java.util.Locale/ROOT (str "%." digits "f") (to-array [(double x)]))))

;; ---------------------------------------------------------------- rows
(def result-columns ["system" "workload" "concurrency" "repeat" "ops_per_sec" "p50_ms" "p99_ms" "errors" "starved"])

(defn result-line [{:keys [system workload concurrency repeat na ops-per-sec p50-ms p99-ms errors starved]}]
  (if na
    [system workload concurrency repeat "n/a" "n/a" "n/a" "n/a" "n/a"]
    [system workload concurrency repeat (fmt ops-per-sec 1) (fmt p50-ms 3) (fmt p99-ms 3) errors starved]))

;; ---------------------------------------------------------------- summary
(defn summarise
  "Medians over repeats per (system, workload, concurrency), in run order."
  [rows]
  (->> rows
       (group-by (juxt :system :workload :concurrency))
       (sort-by (fn [[[s w c] _]] [w c (.indexOf ^java.util.List (vec (distinct (map :system rows))) s)]))
       (mapv (fn [[[s w c] rs]]
               (let [ok (filter ran? rs)]
                 (if (empty? ok)
                   {:system s :workload w :concurrency c :repeats (count rs) :na (:na (first rs))}
                   {:system s :workload w :concurrency c :repeats (count ok)
                    :ops-per-sec (median (map :ops-per-sec ok))
                    :p50-ms (median (keep :p50-ms ok))
                    :p99-ms (median (keep :p99-ms ok))
                    :errors (reduce + (map :errors ok))
                    :starved (reduce max 0 (map :starved ok))}))))))

(def summary-columns ["system" "workload" "concurrency" "repeats" "ops_per_sec_median" "p50_ms_median" "p99_ms_median" "errors_total" "starved_max"])

(defn summary-line [{:keys [system workload concurrency repeats na ops-per-sec p50-ms p99-ms errors starved]}]
  (if na
    [system workload concurrency repeats "n/a" "n/a" "n/a" "n/a" "n/a"]
    [system workload concurrency repeats (fmt ops-per-sec 1) (fmt p50-ms 3) (fmt p99-ms 3) errors starved]))

;; ---------------------------------------------------------------- ratios
(defn ratios
  "One map per (pair, workload, concurrency) where both systems ran."
  [rows]
  (let [by (group-by (juxt :system :workload :concurrency :repeat) rows)
        cells (distinct (map (juxt :workload :concurrency) rows))
        repeats (sort (distinct (map :repeat rows)))
        present (set (map :system rows))]
    (vec
     (for [[a b] ratio-systems
           :when (and (present a) (present b))
           [w c] cells
           :let [pairs (for [r repeats
                             :let [x (first (by [a w c r])) y (first (by [b w c r]))]
                             :when (and (ran? x) (ran? y))]
                         [x y])
                 tr (for [[x y] pairs :when (pos? (:ops-per-sec y))] (/ (:ops-per-sec x) (:ops-per-sec y)))
                 pr (for [[x y] pairs :when (and (:p99-ms x) (:p99-ms y) (pos? (:p99-ms y)))] (/ (:p99-ms x) (:p99-ms y)))
                 na (or (some :na (concat (by [a w c (first repeats)]) (by [b w c (first repeats)])))
                        (when (empty? pairs) "no runs"))]]
       (let [t-med (median tr) p-med (median pr)]
         {:pair (str a " / " b) :workload w :concurrency c :n (count pairs)
          :na (when (empty? pairs) na)
          :throughput-median t-med :throughput-min (when (seq tr) (apply min tr)) :throughput-max (when (seq tr) (apply max tr))
          :p99-median p-med :p99-min (when (seq pr) (apply min pr)) :p99-max (when (seq pr) (apply max pr))
          :target (cond
                    (not (contains? (:concurrencies target) c)) "-"
                    (or (nil? t-med) (nil? p-med)) "-"
                    (and (>= t-med (:min-throughput-ratio target)) (<= p-med (:max-p99-ratio target))) "meets"
                    :else "misses")})))))

(def ratio-columns ["pair" "workload" "concurrency" "repeats" "throughput_ratio_median" "throughput_ratio_min" "throughput_ratio_max"
                    "p99_ratio_median" "p99_ratio_min" "p99_ratio_max" "target"])

(defn ratio-line [{:keys [pair workload concurrency n na throughput-median throughput-min throughput-max
                          p99-median p99-min p99-max target]}]
  (if na
    [pair workload concurrency n "n/a" "n/a" "n/a" "n/a" "n/a" "n/a" "-"]
    [pair workload concurrency n (fmt throughput-median 3) (fmt throughput-min 3) (fmt throughput-max 3)
     (fmt p99-median 3) (fmt p99-min 3) (fmt p99-max 3) target]))

;; ---------------------------------------------------------------- output
(defn write-tsv! [file header lines]
  (io/make-parents file)
  (spit file (str (str/join "\n" (map #(str/join "\t" %) (cons header lines))) "\n")))

(defn table-str
  "An aligned plain-text table."
  [header lines]
  (let [all (map #(map str %) (cons header lines))
        widths (apply map (fn [& cells] (apply max (map count cells))) all)
        line (fn [cells] (str/trimr (str/join "  " (map (fn [w c] (format (str "%-" w "s") c)) widths cells))))]
    (str/join "\n" (concat [(line (first all)) (line (map #(apply str (repeat % "-")) widths))]
                           (map line (rest all))))))

(defn markdown-table [header lines]
  (str/join "\n" (concat [(str "| " (str/join " | " header) " |")
                          (str "|" (str/join "|" (repeat (count header) "---")) "|")]
                         (map #(str "| " (str/join " | " %) " |") lines))))
