(ns ^:no-doc vireo.impl.results
  "Building results from rows: the one place that turns driver rows
  (io.vertx.sqlclient.Row) into Clojure values (in the manner of
  next.jdbc's result_set.clj builders).

  A *plan* says, per column by index, the key the value goes under, how it
  is decoded (a codec's decoder, or `types/normalise-value` for columns no
  model knows) and — for joined models — the alias of the model it belongs
  to. A key may be nil: it is then read from the column's label on the
  first row (`label->key`, the one label -> key rule). A plan is compiled
  once per query shape (model plans once per model and dialect) into a
  *row builder*, (fn [Row] value), for one of the result forms:

    :maps       {key value}; a joined model's columns as :alias/key
    :vectors    [value …] in column order
    :instances  a loaded instance of the root model (vireo.impl.model/loaded),
                joined models nested under their :attr (see `nest`)

  Public vars:
    label->key     - column label -> keyword (snake_case -> kebab-case), cached (bounded)
    plan           - [[key decode target] …] -> a Plan
    label-plan     - the plan of column labels alone (kebab keys, normalised values)
    row-builder    - a Plan, a form (nesting for joins, the root model's instance
                     template) -> (fn [Row] value)
    rows, first-row - RowSet -> vector of built rows / the first one or nil
    row-maps       - RowSet -> vector of maps keyed by label (aio-execute of plain data)"
  (:require [clojure.string :as str]
            [vireo.impl.model :as model]
            [vireo.impl.types :as types])
  (:import (clojure.lang PersistentArrayMap PersistentHashMap LazilyPersistentVector)
           (io.vertx.sqlclient Row RowSet)
           (java.util ArrayList Iterator List)
           (java.util.concurrent ConcurrentHashMap)))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- keys
;; Both caches below are keyed by what statements return (column labels,
;; label lists), which callers choose freely (`AS` aliases): each is cleared
;; when it reaches its limit (vireo.impl.model/cache-put!).
(def label-cache-limit "The most labels `label->key` keeps." 4096)
(def builder-cache-limit "The most label lists whose :rows builder is kept." 1024)

(def ^:private ^ConcurrentHashMap label-keys (ConcurrentHashMap.))

(defn label->key
  "Column label -> result key: snake_case labels become kebab-case keywords
  (the inverse of vireo.sql's identifier rule), cached (at most
  `label-cache-limit` labels).
      (label->key \"created_at\") ;=> :created-at"
  [^String label]
  (or (.get label-keys label)
      (model/cache-put! label-keys label (keyword (str/replace label "_" "-")) label-cache-limit)))

;; ---------------------------------------------------------------- plans
;; keys, decoders and targets by column index; `resolved?` false while some
;; key still comes from the labels
(deftype Plan [^objects keys ^objects decoders ^objects targets ^long n resolved? distinct?])

(defn- distinct-keys? [^objects keys ^objects targets]
  (let [n (alength keys)]
    (or (< n 2)
        (apply distinct? (map (fn [i] [(aget targets i) (aget keys i)]) (range n))))))

(defn plan
  "Given a vector of [key decode target] by column index (key nil: from the
  column label; decode nil: types/normalise-value; target nil: the root
  model, else the alias of a joined model), returns a Plan."
  ^Plan [columns]
  (let [n (count columns)
        ks (object-array n) ds (object-array n) ts (object-array n)]
    (dotimes [i n]
      (let [[k d t] (nth columns i)]
        (aset ks i k)
        (aset ds i (or d types/normalise-value))
        (aset ts i t)))
    (let [resolved? (every? some? ks)]
      (Plan. ks ds ts n resolved? (and resolved? (distinct-keys? ks ts))))))

(defn label-plan
  "The plan of a row's column labels: kebab-case keys, normalised values."
  ^Plan [labels]
  (plan (mapv (fn [l] [(label->key (str l)) nil nil]) labels)))

(defn- with-labels
  "The plan with its missing keys taken from the row's column labels."
  ^Plan [^Plan p ^Row row]
  (plan (mapv (fn [i] [(or (aget ^objects (.-keys p) i) (label->key (.getColumnName row (int i))))
                       (aget ^objects (.-decoders p) i)
                       (aget ^objects (.-targets p) i)])
              (range (.-n p)))))

;; ---------------------------------------------------------------- building one row
(defn kvs->map
  "Given an array of alternating keys and values, returns the map holding
  them without copying (array map up to 8 entries). With repeated keys the
  last value wins, as with assoc."
  [^objects kvs distinct?]
  (cond
    (not distinct?) (PersistentArrayMap/createAsIfByAssoc kvs)
    (<= (alength kvs) 16) (PersistentArrayMap. kvs)
    :else (PersistentHashMap/create kvs)))

(defn- row-kvs
  "The row's keys (the plan's) and values alternating, in a new array."
  ^objects [^Plan p ^Row row]
  (let [n (.-n p)
        ^objects ks (.-keys p)
        ^objects ds (.-decoders p)
        kvs (object-array (* 2 n))]
    (loop [i 0]
      (when (< i n)
        (aset kvs (* 2 i) (aget ks i))
        (aset kvs (inc (* 2 i)) ((aget ds i) (.getValue row (int i))))
        (recur (inc i))))
    kvs))

(defn- row-map
  "The row as a map by the plan's keys (targets ignored)."
  [^Plan p ^Row row]
  (kvs->map (row-kvs p row) (.-distinct? p)))

(defn- row-qualified-map
  "The row as a map: root columns by key, joined ones as :alias/key."
  [^Plan p ^Row row]
  (let [n (.-n p)
        ^objects ks (.-keys p)
        ^objects ds (.-decoders p)
        ^objects ts (.-targets p)]
    (loop [i 0 m (transient {})]
      (if (< i n)
        (let [k (aget ks i) t (aget ts i)]
          (recur (inc i) (assoc! m (if t (keyword t (name k)) k) ((aget ds i) (.getValue row (int i))))))
        (persistent! m)))))

(defn- row-vector [^Plan p ^Row row]
  (let [n (.-n p)
        ^objects ds (.-decoders p)
        out (object-array n)]
    (dotimes [i n] (aset out i ((aget ds i) (.getValue row (int i)))))
    (LazilyPersistentVector/createOwning out)))

(defn- row-nested
  "The root instance with joined instances nested (see `row-builder`)."
  [^Plan p ^Row row nest template]
  (let [n (.-n p)
        ^objects ks (.-keys p)
        ^objects ds (.-decoders p)
        ^objects ts (.-targets p)
        parts (loop [i 0 parts {}]
                (if (< i n)
                  (let [t (aget ts i)]
                    (recur (inc i) (update parts t (fnil assoc {}) (aget ks i) ((aget ds i) (.getValue row (int i))))))
                  parts))]
    (model/loaded template (nest parts))))

(defn row-builder
  "Given a Plan and a form (:maps :vectors :instances), returns (fn [Row]
  value). :instances needs the root model's `vireo.impl.model/instance-template`
  (its instances' metadata); with joined models, `nest` is (fn [parts]
  root-map): parts maps each target (nil for the root) to its column map;
  vireo.impl.query gives the nesting of its joins. Keys the plan leaves to
  the labels are read from the first row."
  ([p form] (row-builder p form nil nil))
  ([^Plan p form nest template]
   (let [build (fn [^Plan p]
                 (case form
                   :vectors (fn [row] (row-vector p row))
                   :maps (if (some some? (.-targets p))
                           (fn [row] (row-qualified-map p row))
                           (fn [row] (row-map p row)))
                   :instances (if nest
                                (fn [row] (row-nested p row nest template))
                                (if (.-distinct? p)
                                  (fn [row] (model/row-instance template (row-kvs p row)))
                                  (fn [row] (model/loaded-fresh template (row-map p row)))))
                   ;; plain rows of no model
                   :rows (fn [row] (row-map p row))))]
     (if (.-resolved? p)
       (build p)
       (let [built (volatile! nil)]
         (fn [^Row row]
           ((or @built (vreset! built (build (with-labels p row)))) row)))))))

;; ---------------------------------------------------------------- result sets
(defn rows
  "RowSet -> vector of (build row) (no transient: the rows go into an
  array that becomes the vector)."
  [^RowSet rs build]
  (let [size (.size rs)
        ^Iterator it (.iterator rs)]
    (case size
      0 []
      1 [(build (.next it))]
      (let [out (object-array size)]
        (loop [i 0]
          (when (.hasNext it)
            (aset out i (build (.next it)))
            (recur (inc i))))
        (LazilyPersistentVector/createOwning out)))))

(defn first-row
  "RowSet -> (build first-row), or nil when there is none."
  [^RowSet rs build]
  (let [it (.iterator rs)]
    (when (.hasNext it)
      (build (.next it)))))

(def ^:private ^ConcurrentHashMap label-builders
  "Column-label list -> its :rows builder (at most `builder-cache-limit`)."
  (ConcurrentHashMap.))

(defn- label-builder
  "The :rows builder of these column labels, compiled once per label list."
  [^List names]
  (or (.get label-builders names)
      (model/cache-put! label-builders (java.util.ArrayList. names) (row-builder (label-plan names) :rows)
                        builder-cache-limit)))

(defn cache-sizes
  "{:labels n :builders n}: how many entries the label caches hold (tests,
  debugging)."
  []
  {:labels (.size label-keys) :builders (.size label-builders)})

(defn row-maps
  "RowSet -> vector of maps keyed by the column labels (kebab-case keywords,
  values normalised); [] for a statement without a result (DDL)."
  [^RowSet rs]
  (let [^List names (.columnsNames rs)]
    (if (nil? names)
      []
      (rows rs (label-builder names)))))

(defn model-builder
  "(fn [Row] instance) for rows holding `fields` of model `m` (all its
  fields by default) in order, decoded by its codecs for `dialect`; the
  builder of all fields is compiled once per model object and dialect (its
  instances carry that object: `vireo.impl.model/instance-template`)."
  ([m dialect]
   (if-let [cache (model/object-dialect-cache m dialect)]
     (or (.get cache ::builder)
         (let [b (model-builder m dialect (:fields m))]
           (or (.putIfAbsent cache ::builder b) b)))
     (model-builder m dialect (:fields m))))
  ([m dialect fields] (model-builder m dialect fields :instances))
  ([m dialect fields form]
   (let [codecs (model/codecs m dialect)]
     (row-builder (plan (mapv (fn [f] [(:key f) (get-in codecs [(:key f) :decode]) nil]) fields))
                  form nil (when (= form :instances) (model/instance-template m))))))

(defn label-row-fn
  "A (fn [Row] map) keyed by each row's labels, the plan read from the first
  row (every row of one result has the same columns): streams of plain SQL."
  []
  (let [built (volatile! nil)]
    (fn [^Row row]
      ((or @built
           (vreset! built (row-builder (label-plan (mapv #(.getColumnName row (int %)) (range (.size row)))) :rows)))
       row))))
