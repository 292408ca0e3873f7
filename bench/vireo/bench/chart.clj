(ns vireo.bench.chart
  "The throughput chart, drawn with Java2D (headless): one panel per
  concurrency, workloads on the x axis, one bar per system (median ops/s over
  the repeats, value on the bar), and under each workload the median
  vireo / vertx-raw throughput ratio."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [vireo.bench.report :as report])
  (:import (java.awt BasicStroke Color Font Graphics2D RenderingHints)
           (java.awt.geom AffineTransform)
           (java.awt.image BufferedImage)
           (javax.imageio ImageIO)))

(set! *warn-on-reflection* true)

(def ^:private palette
  {"vireo" (Color. 31 119 180)
   "vertx-raw" (Color. 255 127 14)
   "jdbc-hikari" (Color. 44 160 44)
   "vireo-java" (Color. 148 103 189)
   "vireo-model" (Color. 23 190 207)})

(def ^:private fallback-colors [(Color. 214 39 40) (Color. 140 86 75) (Color. 227 119 194) (Color. 127 127 127)])

(def ^:private short-names
  {"W1" "get by pk" "W2" "get by key" "W3" "insert" "W4" "update by pk" "W5" "page of 50" "W6" "transaction"})

(defn- color-of [systems s]
  (or (palette s) (nth fallback-colors (mod (.indexOf ^java.util.List systems s) (count fallback-colors)))))

(defn- nice-step
  "A 1/2/5 x 10^k step giving about `n` ticks up to `max-v`."
  ^double [^double max-v n]
  (let [raw (/ max-v n)
        mag (Math/pow 10 (Math/floor (Math/log10 raw)))
        f (/ raw mag)]
    (* mag (cond (<= f 1) 1 (<= f 2) 2 (<= f 2.5) 2.5 (<= f 5) 5 :else 10))))

(defn- full-num ^String [v] (String/format java.util.Locale/US "%,d" (to-array [(long (Math/round (double v)))])))

(defn- compact-num ^String [v]
  (let [v (double v)]
    (cond (>= v 1e6) (String/format java.util.Locale/US "%.1fM" (to-array [(/ v 1e6)]))
          (>= v 1e4) (String/format java.util.Locale/US "%.1fk" (to-array [(/ v 1e3)]))
          (>= v 1e3) (String/format java.util.Locale/US "%.2fk" (to-array [(/ v 1e3)]))
          :else (full-num v))))

(defn- text-width ^long [^Graphics2D g ^String s] (.stringWidth (.getFontMetrics g) s))

(defn- draw-centered [^Graphics2D g ^String s ^double cx ^double y]
  (.drawString g s (float (- cx (/ (text-width g s) 2.0))) (float y)))

(defn- draw-rotated [^Graphics2D g ^String s ^double x ^double y]
  (let [old (.getTransform g)]
    (.rotate g (- (/ Math/PI 2)) x y)
    (.drawString g s (float x) (float y))
    (.setTransform g old)))

(defn- verdict-color
  "Green/red where the README's target applies (c=16, 64), else grey."
  ^Color [c ok?]
  (cond (not (contains? (:concurrencies report/target) c)) (Color. 60 60 60)
        ok? (Color. 30 130 50)
        :else (Color. 190 40 40)))

(defn render
  "Draws the chart to `file` (PNG). `summary` rows are
  {:system :workload :concurrency :ops-per-sec | :na}; `ratios` rows
  {:workload :concurrency :throughput-median :target}; opts: :title,
  :subtitle, :systems, :workloads, :concurrencies (one panel each)."
  [file summary ratios {:keys [title subtitle systems workloads concurrencies]}]
  (System/setProperty "java.awt.headless" "true")
  (let [width 1400
        left 120 right 40
        header 150 panel-h 480 plot-h 300
        height (+ header (* panel-h (count concurrencies)) 20)
        img (BufferedImage. width height BufferedImage/TYPE_INT_RGB)
        g (.createGraphics img)
        cell (into {} (map (fn [r] [[(:system r) (:workload r) (:concurrency r)] r])) summary)
        ;; the ratios under the bars are vireo / vertx-raw's: other pairs
        ;; (vireo-java, vireo-pipelined, vireo-model) are in ratios.tsv and report.md
        ratios (filter #(= "vireo / vertx-raw" (:pair % "vireo / vertx-raw")) ratios)
        ratio (into {} (map (fn [r] [[(:workload r) (:concurrency r)] r])) ratios)
        plot-w (- width left right)]
    (try
      (.setRenderingHint g RenderingHints/KEY_ANTIALIASING RenderingHints/VALUE_ANTIALIAS_ON)
      (.setRenderingHint g RenderingHints/KEY_TEXT_ANTIALIASING RenderingHints/VALUE_TEXT_ANTIALIAS_ON)
      (.setColor g Color/WHITE)
      (.fillRect g 0 0 width height)
      ;; title, subtitle, legend
      (.setColor g (Color. 30 30 30))
      (.setFont g (Font. "SansSerif" Font/BOLD 24))
      (.drawString g ^String (str title) (int left) (int 42))
      (.setFont g (Font. "SansSerif" Font/PLAIN 14))
      (.setColor g (Color. 90 90 90))
      (.drawString g ^String (str subtitle) (int left) (int 68))
      (.setFont g (Font. "SansSerif" Font/PLAIN 15))
      (loop [x (double left) [s & more] systems]
        (when s
          (.setColor g (color-of systems s))
          (.fillRect g (int x) (int 88) 18 18)
          (.setColor g (Color. 30 30 30))
          (.drawString g ^String s (float (+ x 26)) (float 102))
          (recur (+ x 26 (text-width g s) 36) more)))
      (when (some :throughput-median ratios)
        (.setFont g (Font. "SansSerif" Font/PLAIN 13))
        (.setColor g (Color. 90 90 90))
        (let [note (str "Under each workload: vireo / vertx-raw, median of the per-repeat ratios (throughput, then p99); "
                        "green = within the target (throughput \u2265 0.90\u00d7, p99 \u2264 1.2\u00d7), red = outside")]
          (.drawString g note (int left) (int 124))))
      (doseq [[pi c] (map-indexed vector concurrencies)]
        (let [top (+ header (* pi panel-h))
              plot-top (+ top 50)
              base (+ plot-top plot-h)
              vals (for [s systems w workloads
                         :let [v (:ops-per-sec (cell [s w c]))]
                         :when v]
                     v)
              max-v (max 1.0 (double (reduce max 0.0 vals)))
              step (nice-step (* 1.08 max-v) 5)
              y-max (* step (Math/ceil (/ (* 1.08 max-v) step)))
              y-of (fn [v] (- base (* plot-h (/ (double v) y-max))))
              group-w (/ (double plot-w) (count workloads))
              bar-w (/ (* 0.78 group-w) (max 1 (count systems)))]
          ;; panel title
          (.setColor g (Color. 30 30 30))
          (.setFont g (Font. "SansSerif" Font/BOLD 18))
          (.drawString g (str "concurrency " c " (closed-loop clients)") (int left) (int (+ top 30)))
          ;; grid and y ticks
          (.setFont g (Font. "SansSerif" Font/PLAIN 13))
          (doseq [i (range 0 (inc (long (Math/round (/ y-max step)))))]
            (let [v (* i step) y (y-of v)]
              (.setColor g (if (zero? i) (Color. 60 60 60) (Color. 225 225 225)))
              (.setStroke g (BasicStroke. (if (zero? i) 1.5 1.0)))
              (.drawLine g (int left) (int y) (int (+ left plot-w)) (int y))
              (.setColor g (Color. 80 80 80))
              (let [s (full-num v)]
                (.drawString g s (float (- left 10 (text-width g s))) (float (+ y 5))))))
          ;; y axis label
          (.setColor g (Color. 50 50 50))
          (.setFont g (Font. "SansSerif" Font/BOLD 14))
          (draw-rotated g "throughput (ops/s, median)" 28.0 (+ base -40.0))
          ;; bars
          (doseq [[wi w] (map-indexed vector workloads)]
            (let [gx (+ left (* wi group-w) (* 0.11 group-w))]
              (doseq [[si s] (map-indexed vector systems)]
                (let [x (+ gx (* si bar-w))
                      r (cell [s w c])
                      cx (+ x (/ bar-w 2.0))]
                  (cond
                    (nil? r) nil
                    (:na r)
                    (do (.setColor g (Color. 150 150 150))
                        (.setFont g (Font. "SansSerif" Font/ITALIC 13))
                        (draw-centered g "n/a" cx (- base 8.0)))
                    :else
                    (let [v (double (:ops-per-sec r))
                          y (y-of v)]
                      (.setColor g (color-of systems s))
                      (.fillRect g (int (+ x 2)) (int y) (int (max 1 (- bar-w 4))) (int (Math/ceil (- base y))))
                      (.setColor g (Color. 30 30 30))
                      (.setFont g (Font. "SansSerif" Font/PLAIN 12))
                      (let [full (full-num v)
                            label (if (<= (text-width g full) (- bar-w 2)) full (compact-num v))]
                        (if (<= (text-width g label) (+ bar-w 4))
                          (draw-centered g label cx (- y 5.0))
                          (draw-rotated g label (+ cx 4.0) (- y 5.0))))))))
              ;; x labels and ratio
              (let [cx (+ left (* wi group-w) (/ group-w 2.0))
                    rr (ratio [w c])]
                (.setColor g (Color. 30 30 30))
                (.setFont g (Font. "SansSerif" Font/BOLD 15))
                (draw-centered g w cx (+ base 22.0))
                (.setFont g (Font. "SansSerif" Font/PLAIN 13))
                (.setColor g (Color. 80 80 80))
                (draw-centered g (short-names w "") cx (+ base 40.0))
                (when-let [t (:throughput-median rr)]
                  (.setColor g (verdict-color c (>= (double t) (double (:min-throughput-ratio report/target)))))
                  (.setFont g (Font. "SansSerif" Font/BOLD 13))
                  (draw-centered g (String/format java.util.Locale/US "vireo/raw %.2f\u00d7" (to-array [(double t)]))
                                 cx (+ base 60.0))
                  (when-let [p99 (:p99-median rr)]
                    (.setColor g (verdict-color c (<= (double p99) (double (:max-p99-ratio report/target)))))
                    (.setFont g (Font. "SansSerif" Font/PLAIN 12))
                    (draw-centered g (String/format java.util.Locale/US "p99 %.2f\u00d7" (to-array [(double p99)]))
                                   cx (+ base 76.0)))))))
          ;; x axis label
          (.setColor g (Color. 50 50 50))
          (.setFont g (Font. "SansSerif" Font/BOLD 14))
          (draw-centered g "workload" (+ left (/ plot-w 2.0)) (+ base 100.0))))
      (io/make-parents file)
      (ImageIO/write img "png" (io/file file))
      (finally (.dispose g)))))
