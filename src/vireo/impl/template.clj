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
  (:require [vireo.impl.errors :as err]
            [vireo.impl.model :as model]
            [vireo.impl.types :as types]
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

(defn slot? "True for a Slot marker." [x] (instance? Slot x))

;; a slot whose argument is encoded by `enc` when bound: a value compared
;; with (or written to) a model's field, whose codec applies to the call's
;; value (see vireo.impl.query)
(deftype EncodedSlot [^long i enc]
  Object
  (toString [_] (str "#vireo/slot " i " (encoded)")))

(defn encoded
  "The marker of slot s's argument encoded by (enc value) when bound."
  [^Slot s enc]
  (EncodedSlot. (.-i s) enc))

(defn checked-param
  "Statement parameter v (the i-th, from 0) itself, or a :vireo/data-error
  naming the parameter when no driver would send it faithfully: a string
  holding a lone UTF-16 surrogate (every driver sends it as ?), an integer
  beyond 64 bits, or a double the backend's driver changes (`double-problem`,
  from `param-check`: SQLite binds NaN as NULL). Values compared with or
  written to a model's field are checked by the field's codec instead
  (vireo.impl.types); this covers the values of query data, model queries
  and raw SQL that no field encodes."
  [v ^long i double-problem]
  (cond
    (string? v)
    (if-let [why (types/lone-surrogate-problem v)]
      (throw (err/error :vireo/data-error
                        (str "parameter " (inc i) " (" (types/safe-preview v) ") cannot be sent: " why)
                        {:param-index (inc i) :value (err/bounded v)}))
      v)
    ;; an integer beyond 64 bits: the PostgreSQL driver wraps it around into
    ;; another integer, and no backend's integer column holds it
    (and (or (instance? java.math.BigInteger v) (instance? clojure.lang.BigInt v))
         (not (<= Long/MIN_VALUE v Long/MAX_VALUE)))
    (throw (err/error :vireo/data-error
                      (str "parameter " (inc i) " (" v ") is an integer beyond 64 bits: no integer column holds it"
                           " and the PostgreSQL driver would wrap it around; for a NUMERIC/DECIMAL column give a BigDecimal")
                      {:param-index (inc i)}))
    (and double-problem (or (instance? Double v) (instance? Float v)))
    (if-let [why (double-problem (.doubleValue ^Number v))]
      (throw (err/error :vireo/data-error
                        (str "parameter " (inc i) " (" v ") cannot be sent: " why)
                        {:param-index (inc i) :value v}))
      v)
    :else v))

(defn param-check
  "The backend-specific part of `checked-param` for `dialect` (a keyword):
  nil, or the fn [d] giving why double d cannot be sent."
  [dialect]
  (types/param-double-problem dialect))

(defn checked-params
  "The parameters `params` (a sequential collection no field encoded) of a
  statement for `dialect`, each checked by `checked-param`; returns params."
  [dialect params]
  (when (seq params)
    (let [check (param-check dialect)]
      (loop [i 0 ps (seq params)]
        (when ps
          (checked-param (first ps) i check)
          (recur (inc i) (next ps))))))
  params)

(defn compile-template
  "Formats `query` (whose varying values are Slot or EncodedSlot markers)
  for `dialect`. Returns {:sql s :binder b :check c :identity? bool} (see
  the ns docstring); :check is the dialect's `param-check` (nil or a fn),
  used by `bind`; :identity? when the parameters are exactly the call's
  arguments in order."
  [dialect query]
  (let [[s & params] (sql/format query {:dialect dialect})
        check (param-check dialect)
        binder (into [] (map-indexed (fn [i p] (cond (instance? Slot p) (.-i ^Slot p)
                                                     (instance? EncodedSlot p) p
                                                     :else [(checked-param p i check)])))
                     params)]
    {:sql s
     :binder binder
     :check check
     :identity? (= binder (vec (range (count binder))))}))

(defn bind
  "Given a template (its binder, its dialect's parameter check) and the
  call's arguments (indexed), returns the statement parameters (a
  java.util.List)."
  ^List [t args]
  (let [binder (:binder t)
        check (:check t)
        n (count binder)
        out (object-array n)]
    (dotimes [i n]
      (let [b (nth binder i)]
        (aset out i (cond (vector? b) (nth b 0)
                          (instance? EncodedSlot b) (let [^EncodedSlot e b] ((.-enc e) (nth args (.-i e))))
                          :else (checked-param (nth args b) i check)))))
    (Arrays/asList out)))

(defn bind-template
  "The statement parameters of template `t` for the call's arguments `args`
  (a java.util.List Vireo built, every value encoded by its field): args
  itself when the template takes them as they are."
  ^List [t ^List args]
  (if (:identity? t) args (bind t args)))

(defn params-2
  "The parameter list of a statement with the parameters a and b."
  ^List [a b]
  (let [arr (object-array 2)] (aset arr 0 a) (aset arr 1 b) (Arrays/asList arr)))

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
  "Returns x with its values replaced by slots (values appended to `vals`).
  A model (in a model query) is kept whole."
  [x ^ArrayList vals]
  (cond
    (value? x) (do (.add vals x) (Slot. (dec (.size vals))))
    (model/model? x) x
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

(def max-shapes
  "The most query shapes one shape cache holds (per dialect) before it is
  cleared: shapes come from what callers pass (an IN list of each length is
  a shape of its own), so the cache is bounded (vireo.impl.model/cache-put!
  says why clearing)."
  4096)

(def ^:private ^:const max-bucket
  "The most shapes kept under one hash (they collide only by accident)."
  8)

;; Finding a query's template must not cost more than formatting it would
;; save, so a lookup allocates nothing but the list of the query's values:
;; one walk hashes the query's shape (values count as slots) and collects
;; the values, a second compares the query with the cached shape of that
;; hash. Only a shape not seen before is built (`walk`) and formatted.

(defn- mix ^long [^long h ^long x] (unchecked-add (unchecked-multiply 31 h) x))

;; the arglists let HashKV call it primitively (invokePrim: no Long per call)
(declare ^{:arglists '(^long [x vals])} shape-hash)

;; the accumulator of one map's entries (kvreduce without boxing a long per entry)
(deftype ^:private HashKV [^:unsynchronized-mutable ^long h ^ArrayList vals]
  clojure.lang.IFn
  (invoke [this _ k v]
    ;; Util/hasheq, not clojure.core/hash: a fn returns the int boxed
    (set! h (mix (mix h (clojure.lang.Util/hasheq k)) (shape-hash v vals)))
    this)
  Object
  (hashCode [_] (unchecked-int h)))

(defn- shape-hash
  "The hash of x's shape (its values count as slots); appends x's values to
  `vals` in the order `walk` numbers them."
  ^long [x ^ArrayList vals]
  (cond
    (value? x) (do (.add vals x) 0x5107)
    (model/model? x) (mix (mix 0x6d6f64 (clojure.lang.Util/hasheq (:name x))) (System/identityHashCode (:database x)))
    ;; every branch a primitive long (an int here would box them all)
    (map? x) (let [acc (HashKV. 0x6d6170 vals)]
               (reduce-kv acc acc x)
               (long (.hashCode acc)))
    (vector? x) (if (and (keyword? (nth x 0 nil)) (contains? structural-ops (nth x 0)))
                  (mix 0x737472 (clojure.lang.Util/hasheq x))
                  (let [n (count x)]
                    (loop [i 0 h 0x766563]
                      (if (< i n) (recur (inc i) (mix h (shape-hash (nth x i) vals))) h))))
    (sequential? x) (loop [xs (seq x) h 0x766563]
                      (if xs (recur (next xs) (mix h (shape-hash (first xs) vals))) h))
    :else (mix 0x6f7468 (clojure.lang.Util/hasheq x))))

(defn- same-shape?
  "True when query x has the shape `s` (a cached shape built by `walk`)."
  [x s]
  (cond
    (instance? Slot s) (value? x)
    (value? x) false
    ;; the same definition and database: no SQL depends on the database, but
    ;; the instances decoded carry their model, database included
    ;; (vireo.impl.model/instance-template)
    (model/model? x) (and (model/model? s) (identical? (:database x) (:database s)) (model/same-definition-as? x s))
    (map? x) (and (map? s) (== (count x) (count s))
                  (reduce-kv (fn [_ k v]
                               (let [sv (.valAt ^clojure.lang.ILookup s k ::none)]
                                 (if (and (not (identical? sv ::none)) (same-shape? v sv)) true (reduced false))))
                             true x))
    (vector? x) (and (vector? s)
                     (if (and (keyword? (nth x 0 nil)) (contains? structural-ops (nth x 0)))
                       (= x s)
                       (let [n (count x)]
                         (and (== n (count s))
                              (loop [i 0]
                                (cond (== i n) true
                                      (same-shape? (nth x i) (nth s i)) (recur (inc i))
                                      :else false))))))
    ;; walk makes every other sequence a vector
    (sequential? x) (and (vector? s) (== (count x) (count s))
                         (loop [xs (seq x) i 0]
                           (cond (nil? xs) true
                                 (same-shape? (first xs) (nth s i)) (recur (next xs) (inc i))
                                 :else false)))
    :else (= x s)))

;; dialect -> {shape hash -> [[shape template-or-::direct] …]}
(def ^:private ^ConcurrentHashMap shapes (ConcurrentHashMap.))

(defn- cache-for ^ConcurrentHashMap [dialect]
  (or (.get shapes dialect)
      (let [c (ConcurrentHashMap.)] (or (.putIfAbsent shapes dialect c) c))))

(defn- compile-shape [shape dialect]
  (try (compile-template dialect shape)
       (catch clojure.lang.ExceptionInfo _ ::direct)))

(defn- cacheable?
  "A select/insert/update/delete (DDL is never cached)."
  [query]
  (and (map? query)
       ;; spelled out (no seq over a vector): this runs on every call
       (or (contains? query :select) (contains? query :insert-into) (contains? query :update)
           (contains? query :delete-from) (contains? query :select-distinct) (contains? query :union)
           (contains? query :union-all) (contains? query :intersect) (contains? query :except))))

(defn cached-shape
  "The value cached for `query`'s shape in `cache` (a ConcurrentHashMap from
  `shape-cache`), `vals` filled with the query's values; on a miss, (build
  shape arg) with the query's shape (values as Slots, models whole) is
  cached and returned. (`arg` rather than a closure: a hit allocates none.)"
  [^ConcurrentHashMap cache query ^ArrayList vals build arg]
  (let [h (shape-hash query vals)
        k (Long/valueOf h)
        entries (.get cache k)
        hit (when entries
              (let [n (count entries)]
                (loop [i 0]
                  (when (< i n)
                    (let [e (nth entries i)]
                      (if (same-shape? query (nth e 0)) (nth e 1) (recur (inc i))))))))]
    (or hit
        (let [shape (walk query (ArrayList.))
              v (build shape arg)]
          (when (>= (.size cache) (long max-shapes)) (.clear cache))
          (.put cache k (if (and entries (< (count entries) max-bucket))
                          (conj entries [shape v])
                          [[shape v]]))
          v))))

(defn shape-cache
  "A new cache for `cached-shape`."
  ^ConcurrentHashMap [] (ConcurrentHashMap.))

(defn shape-count
  "How many shapes the cache of `dialect` holds (tests, debugging)."
  [dialect]
  (let [^ConcurrentHashMap c (cache-for dialect)]
    (reduce (fn [^long n e] (+ n (count e))) 0 (.values c))))

(defn- template-of
  "The cached template (or ::direct) of `query`'s shape, `vals` filled with
  its values; built and cached on a miss."
  [query dialect ^ArrayList vals]
  (cached-shape (cache-for dialect) query vals compile-shape dialect))

(defn params-of
  "The statement parameters of template `t` for the query values `vals`."
  ^List [t ^ArrayList vals]
  (bind t vals))

(deftype Formatted [^String sql ^List params])

(defn- format-directly ^Formatted [query dialect]
  (let [[s & ps] (sql/format query {:dialect dialect})]
    (Formatted. s (let [check (param-check dialect)]
                    (into [] (map-indexed (fn [i p] (checked-param p i check))) ps)))))

(defn format-statement
  "The SQL of query data for `dialect` and its parameters (a
  java.util.List), as a Formatted: from the shape cache when the query is a
  select/insert/update/delete. The same SQL and parameters as
  vireo.sql/format."
  ^Formatted [query dialect]
  (if-not (cacheable? query)
    (format-directly query dialect)
    ;; (room for a few values: the default capacity allocates ten on the first add)
    (let [vals (ArrayList. 4)
          t (template-of query dialect vals)]
      (if (identical? t ::direct)
        (format-directly query dialect)
        (Formatted. (:sql t) (params-of t vals))))))

(defn format-query
  "Like (vireo.sql/format query {:dialect dialect}), from the shape cache when
  the query is a select/insert/update/delete."
  [query dialect]
  (let [f (format-statement query dialect)]
    (into [(.-sql f)] (.-params f))))
