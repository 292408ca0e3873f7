(ns vireo.bench.hist
  "A fixed-bucket log-linear latency histogram, HdrHistogram-like, with no
  dependency: a long array of counts over nanosecond values. Values below 256
  ns have their own bucket; above, every power of two is split into 128 equal
  sub-buckets, so a reported value is within 1/256 (0.4 %) of any value
  recorded in its bucket. Range: up to 2^44 ns (about 4.9 hours; larger values
  are clamped). 4,864 buckets = 38 KB per histogram.

  Not thread-safe: keep one per client (a closed-loop client records its own
  operations one after another) and `merge` them after the run."
  (:refer-clojure :exclude [merge count]))

(set! *warn-on-reflection* true)

(def ^:const ^long sub-bits 8)                         ; 2^8 = 256 direct buckets
(def ^:const ^long half (bit-shift-left 1 (dec sub-bits)))  ; 128 sub-buckets per octave
(def ^:const ^long max-msb 43)
(def ^:const ^long n-buckets (+ (bit-shift-left 1 sub-bits) (* (- max-msb (dec sub-bits)) half)))

(defn create ^longs [] (long-array n-buckets))

(defn index
  "The bucket index of a value in nanoseconds."
  ^long [^long v]
  (let [v (max 0 v)
        msb (- 63 (Long/numberOfLeadingZeros v))]
    (cond
      (< msb sub-bits) v
      (> msb max-msb) (dec n-buckets)
      :else (let [shift (- msb (dec sub-bits))
                  mantissa (unsigned-bit-shift-right v shift)]
              (+ (bit-shift-left 1 sub-bits) (* (dec shift) half) (- mantissa half))))))

(defn bucket-value
  "The value reported for a bucket: its midpoint, in nanoseconds."
  ^double [^long i]
  (if (< i (bit-shift-left 1 sub-bits))
    (double i)
    (let [j (- i (bit-shift-left 1 sub-bits))
          shift (inc (quot j half))
          mantissa (+ half (rem j half))
          lo (bit-shift-left mantissa shift)]
      (+ lo (/ (double (bit-shift-left 1 shift)) 2.0) -0.5))))

(defn record!
  "Adds one value (nanoseconds)."
  [^longs h ^long v]
  (let [i (index v)]
    (aset h i (inc (aget h i)))))

(defn count
  ^long [^longs h]
  (areduce h i acc 0 (+ acc (aget h i))))

(defn merge
  "A new histogram holding the counts of all of `hs`."
  ^longs [hs]
  (let [out (create)]
    (doseq [^longs h hs]
      (dotimes [i n-buckets] (aset out i (+ (aget out i) (aget h i)))))
    out))

(defn percentile
  "The value (nanoseconds) at quantile q (0 < q <= 1), or nil when empty:
  the smallest bucket whose cumulative count reaches ceil(q * total)."
  [^longs h q]
  (let [total (count h)]
    (when (pos? total)
      (let [target (max 1 (long (Math/ceil (* (double q) total))))]
        (loop [i 0 acc 0]
          (let [acc (+ acc (aget h i))]
            (if (or (>= acc target) (= i (dec n-buckets)))
              (bucket-value i)
              (recur (inc i) acc))))))))
