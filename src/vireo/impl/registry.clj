(ns ^:no-doc vireo.impl.registry
  "The models Vireo knows by name, for the relations a model does not carry
  itself: a model holds its own foreign keys and many-to-many fields, but
  the models that reference it (its backrefs, followed by prefetch,
  recursive deletes and saves of loaded backref lists) and the many-to-many
  relations other models declare on it are known only once those models
  are registered. A model value is pure data: building one registers
  nothing; `vireo.core/defmodel` and `vireo.core/register-model!` call
  `register-model!` here.

  Registered definitions are keyed by model name and the latest
  registration of a name wins, so redefining a model at the REPL replaces
  its relations (and the registry holds one definition per name).

  API
  - `register-model!`  given a model, makes it the registered definition of
                       its name (its foreign keys' backrefs, its many-to-many
                       fields' backrefs); idempotent; returns the model
  - `registered`       given a model name, the registered definition or nil
  - `backrefs`         given a model, the foreign keys registered models
                       hold to it
  - `m2m-backref`      given a model name and a relation key, the
                       many-to-many field another model declares under it
  - `through-model`    the generated through model of a many-to-many field,
                       built once per pair of sides (see its docstring)"
  (:import (java.util.concurrent ConcurrentHashMap)))

(set! *warn-on-reflection* true)

;; {:models   {name model}                              the registered definitions
;;  :backrefs {target-name {[referrer-name fk-key] referrer}}
;;  :m2m      {target-name {backref {:owner model :key field-key}}}}
(defonce ^:private registry (atom {:models {} :backrefs {} :m2m {}}))

(defn- target-name
  "The name of the model a many-to-many spec relates `m` to."
  [m {:keys [model]}]
  (if (= :self model) (:name m) (:name model)))

(defn- without-name
  "The registry without anything the definition named `n` registered."
  [reg n]
  (-> reg
      (update :models dissoc n)
      (update :backrefs (fn [b]
                          (reduce-kv (fn [acc t refs]
                                       (let [refs (into {} (remove (fn [[[rn _] _]] (= rn n))) refs)]
                                         (if (empty? refs) acc (assoc acc t refs))))
                                     {} b)))
      (update :m2m (fn [mm]
                     (reduce-kv (fn [acc t brs]
                                  (let [brs (into {} (remove (fn [[_ {:keys [owner]}]] (= n (:name owner)))) brs)]
                                    (if (empty? brs) acc (assoc acc t brs))))
                                {} mm)))))

(defn- with-model [reg m]
  (let [n (:name m)
        reg (assoc-in (without-name reg n) [:models n] m)
        reg (reduce (fn [r f] (assoc-in r [:backrefs (get-in f [:fk :target-name]) [n (:key f)]] m))
                    reg (filter :fk (:fields m)))]
    (reduce-kv (fn [r k {:keys [backref] :as spec}]
                 (if backref
                   (assoc-in r [:m2m (target-name m spec) backref] {:owner m :key k})
                   r))
               reg (:m2m m))))

(defn register-model!
  "Given a model, makes it the registered definition of its name: the
  backrefs of its foreign keys become known on the models they reference,
  and the backrefs of its many-to-many fields on their targets. Whatever an
  earlier definition of the same name registered is forgotten (the latest
  definition wins). Registering the registered definition again changes
  nothing. Returns the model."
  [m]
  (if (identical? m (get-in @registry [:models (:name m)]))
    m
    (do (swap! registry with-model m)
        m)))

(defn registered
  "Given a model name, the registered definition of that name, or nil."
  [model-name]
  (get-in @registry [:models model-name]))

(defn backrefs
  "Given a model, returns [{:model referrer :field fk-field}] for every
  foreign key of the registered models that references it (by name),
  ordered by referrer name and field key."
  [m]
  (vec (for [[[_ k] r] (sort-by key (get-in @registry [:backrefs (:name m)]))]
         {:model r :field (get-in r [:field-index k])})))

(defn m2m-backref
  "Given a model name and a key, returns {:owner model :key field-key} when
  a registered model declares a many-to-many field with that backref on the
  named model, else nil."
  [model-name k]
  (get-in @registry [:m2m model-name k]))

;; generated through models: [source-name source-table field target-name
;; target-table] -> {:model through :key-fields [source-pk target-pk]}. One
;; entry per such key, so redefining a model replaces its entries instead of
;; adding new ones.
(defonce ^:private ^ConcurrentHashMap through-models (ConcurrentHashMap.))

(defn through-model
  "The generated through model of many-to-many field `k` of `source`
  relating it to `target`, built by (build) the first time, and again when
  the key field of either side changed since (a redefinition: the through
  model's columns take those keys' types). Keyed by the names and tables of
  both sides and the field, so one entry per relation exists however often
  the models are redefined. The model returned is registered (its backrefs
  are known), even when a later definition of its name had replaced it."
  [source k target build]
  (let [ck [(:name source) (:table source) k (:name target) (:table target)]
        key-fields [(:pk-field source) (:pk-field target)]
        valid? #(and % (= key-fields (:key-fields %)))
        hit (.get through-models ck)
        entry (if (valid? hit)
                hit
                (let [fresh {:model (build) :key-fields key-fields}
                      ;; a concurrent first use may have stored one already: keep that one
                      stored (if hit
                               (if (.replace through-models ck hit fresh) fresh (.get through-models ck))
                               (or (.putIfAbsent through-models ck fresh) fresh))]
                  (if (valid? stored) stored fresh)))]
    (register-model! (:model entry))))
