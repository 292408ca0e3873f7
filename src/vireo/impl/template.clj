(ns ^:no-doc vireo.impl.template
  "Statement templates: a query formatted once per dialect and *shape*, so
  running the same kind of query again only binds its values. One Slot type,
  one compiler, one binder, two ways to find a template:

  - by the query's shape (`format-query`): the shape of query data is the
    query with its values (strings, numbers, dates, …) replaced by numbered
    slots; keywords, idents, nil, booleans, the contents of
    :inline/:raw/:cast/:over forms and collection sizes are part of the
    shape, so everything that changes the SQL text changes the shape. Cached
    per dialect (at most `max-shapes` shapes each); DDL is never cached, and
    anything the formatter cannot render with slots (a slot where it needs a
    literal) is formatted directly instead.
  - by a key the caller chooses (`cached`): model operations build their
    query with `slot` markers and key it by what determines its text (e.g.
    [:get field-keys]), in the model's cache for the dialect
    (vireo.impl.model/dialect-cache), which is cheaper than walking it.

  A template is {:sql s :binder b}: b holds, per statement parameter, the
  index of the call's argument (a long) or [constant]."
  (:require [vireo.impl.model :as model]
            [vireo.sql :as sql])
  (:import (java.util ArrayList Arrays List)
           (java.util.concurrent ConcurrentHashMap)))

(set! *warn-on-reflection* true)

(deftype Slot [^long i]
  Object
  (equals [_ o] (and (instance? Slot o) (== i (.-i ^Slot o))))
  (hashCode [_] (unchecked-add-int 0x5107 (int i)))
  (toString [_] (str "#vireo/slot " i)))

(defn slot "The marker of the call's argument i in a template query." [i] (Slot. i))

(defn compile-template
  "Formats `query` (whose varying values are Slot markers) for `dialect`.
  Returns {:sql s :binder b} (see the ns docstring)."
  [dialect query]
  (let [[s & params] (sql/format query {:dialect dialect})]
    {:sql s
     :binder (mapv (fn [p] (if (instance? Slot p) (.-i ^Slot p) [p])) params)}))

(defn bind
  "Given a template's binder and the call's arguments (indexed), returns
  the statement parameters (a java.util.List)."
  ^List [binder args]
  (let [n (count binder)
        out (object-array n)]
    (dotimes [i n]
      (let [b (nth binder i)]
        (aset out i (if (vector? b) (nth b 0) (nth args b)))))
    (Arrays/asList out)))

(defn cached
  "The template keyed `k` in model `m`'s cache for `dialect`, compiled from
  (build) — a query with Slot markers — the first time."
  [m dialect k build]
  (let [cache (model/dialect-cache m dialect)]
    (or (.get cache k)
        (let [v (compile-template dialect (build))]
          (or (.putIfAbsent cache k v) v)))))

;; ---------------------------------------------------------------- by query shape
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

;; dialect -> {shape -> template | ::direct}
(def ^:private ^ConcurrentHashMap shapes (ConcurrentHashMap.))

(defn- cache-for ^ConcurrentHashMap [dialect]
  (or (.get shapes dialect)
      (let [c (ConcurrentHashMap.)] (or (.putIfAbsent shapes dialect c) c))))

(defn- compile-shape [shape dialect]
  (try (compile-template dialect shape)
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
        (let [binder (:binder hit)
              n (count binder)
              out (object-array (inc n))]
          (aset out 0 (:sql hit))
          (dotimes [i n]
            (let [b (nth binder i)]
              (aset out (inc i) (if (vector? b) (nth b 0) (.get vals (int b))))))
          (clojure.lang.LazilyPersistentVector/createOwning out))))))
