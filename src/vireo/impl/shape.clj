(ns ^:no-doc vireo.impl.shape
  "A cache of formatted SQL per query *shape*, so running the same kind of
  query data again (an update by id with a new text, a page with a new
  offset) does not format it again.

  The shape of a query is the query with its values (strings, numbers,
  dates, …) replaced by numbered slots; keywords, idents, nil, booleans,
  the contents of :inline/:raw/:cast forms and collection sizes are part of
  the shape, so everything that changes the SQL text changes the shape. A
  shape is formatted once per dialect (vireo.sql sees the slots as values and
  makes them parameters); a later query of that shape only binds its values.
  Anything the formatter cannot render with slots (a slot where it needs a
  literal) is formatted directly instead. DDL is never cached."
  (:require [vireo.sql :as sql])
  (:import (java.util ArrayList)
           (java.util.concurrent ConcurrentHashMap)))

(set! *warn-on-reflection* true)

(deftype Slot [^long i]
  Object
  (equals [_ o] (and (instance? Slot o) (== i (.-i ^Slot o))))
  (hashCode [_] (unchecked-add-int 0x5107 (int i))))

(def ^:private structural-ops
  "Forms whose arguments are SQL text or types, kept whole in the shape."
  #{:inline :raw :cast :over})

(defn- value? [x]
  (not (or (nil? x) (keyword? x) (boolean? x) (coll? x) (sql/ident? x) (symbol? x))))

(defn- walk
  "Returns x with its values replaced by slots (values appended to `vals`)."
  [x ^ArrayList vals]
  (cond
    (value? x) (do (.add vals x) (Slot. (dec (.size vals))))
    ;; arrays, not transients: this runs on every aio-execute of query data
    (map? x) (let [kvs (object-array (* 2 (count x)))]
               (reduce-kv (fn [^long i k v]
                            (aset kvs i k)
                            (aset kvs (inc i) (walk v vals))
                            (+ i 2))
                          0 x)
               (if (<= (alength kvs) 16)
                 (clojure.lang.PersistentArrayMap. kvs)
                 (clojure.lang.PersistentHashMap/create kvs)))
    (vector? x) (if (and (keyword? (nth x 0 nil)) (contains? structural-ops (nth x 0)))
                  x
                  (let [n (count x)
                        out (object-array n)]
                    (dotimes [i n] (aset out i (walk (nth x i) vals)))
                    (clojure.lang.LazilyPersistentVector/createOwning out)))
    (sequential? x) (mapv #(walk % vals) x)
    :else x))

(def ^:private ^:const max-shapes 4096)

;; dialect -> {shape -> [sql binder] | ::direct}
(def ^:private ^ConcurrentHashMap caches (ConcurrentHashMap.))

(defn- cache-for ^ConcurrentHashMap [dialect]
  (or (.get caches dialect)
      (let [c (ConcurrentHashMap.)] (or (.putIfAbsent caches dialect c) c))))

(defn- compile-shape [shape dialect]
  (try
    (let [[s & params] (sql/format shape {:dialect dialect})]
      [s (mapv (fn [p] (if (instance? Slot p) (.-i ^Slot p) [p])) params)])
    (catch clojure.lang.ExceptionInfo _ ::direct)))

(defn format-query
  "Like (vireo.sql/format query {:dialect dialect}), from the shape cache when
  the query is a select/insert/update/delete."
  [query dialect]
  (if-not (and (map? query)
               ;; a cacheable lead; spelled out (no seq over a vector): this runs on every call
               (or (contains? query :select) (contains? query :insert-into) (contains? query :update)
                   (contains? query :delete-from) (contains? query :select-distinct) (contains? query :union)
                   (contains? query :union-all) (contains? query :intersect) (contains? query :except)))
    (sql/format query {:dialect dialect})
    (let [vals (ArrayList.)
          shape (walk query vals)
          cache (cache-for dialect)
          hit (or (.get cache shape)
                  (let [c (compile-shape shape dialect)]
                    (when (< (.size cache) max-shapes) (.putIfAbsent cache shape c))
                    c))]
      (if (identical? hit ::direct)
        (sql/format query {:dialect dialect})
        (let [[s binder] hit
              n (count binder)
              out (object-array (inc n))]
          (aset out 0 s)
          (dotimes [i n]
            (let [b (nth binder i)]
              (aset out (inc i) (if (vector? b) (nth b 0) (.get vals (int b))))))
          (clojure.lang.LazilyPersistentVector/createOwning out))))))
