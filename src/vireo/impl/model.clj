(ns ^:no-doc vireo.impl.model
  "Models are data: a validated, normalised map describing a table. This
  namespace builds and checks them, and converts field values between Clojure
  and each backend (encode: value -> statement parameter; decode: column value
  -> Clojure value). A model is a value: building one registers nothing (see
  vireo.impl.registry), and the caches derived from it (codecs, statement
  templates) live outside its equality (see `dialect-cache`)."
  (:require [clojure.string :as str]
            [vireo.impl.errors :as err]
            [vireo.impl.types :as types]
            [vireo.jvm :as jvm]
            [vireo.sql :as sql])
  (:import (java.util.concurrent ConcurrentHashMap)))

(set! *warn-on-reflection* true)

(jvm/ensure-class! "vireo.impl.InstanceMeta")
(import '(vireo.impl InstanceMeta))

;; ---------------------------------------------------------------- field types
(def field-types
  "Field type -> the DDL column type it uses (see vireo.sql's :types).
  :foreign-key columns take the type of the key they reference."
  {:auto :auto-pk, :big-auto :big-auto-pk
   :char :char, :text :text, :integer :integer, :bigint :bigint, :smallint :smallint
   :boolean :boolean, :double :double, :float :float, :decimal :decimal
   :uuid :uuid, :datetime :datetime, :timestamptz :timestamptz, :date :date, :time :time
   :json :json, :bytes :bytes, :foreign-key nil})

(def ^:private field-option-keys
  #{:type :column :null :unique :index :default :primary-key :max-length
    :precision :scale :constraints :doc
    ;; :foreign-key and :many-to-many
    :model :to-field :backref :on-delete :on-update :through})

(def ^:private fk-only-keys #{:model :to-field :backref :on-delete :on-update})

(def ^:private model-option-keys
  #{:database :fields :table :doc :indexes :primary-key :constraints})

(def ^:private fk-actions #{:cascade :set-null :set-default :restrict :no-action})

;; `get`, not a keyword call: x is a hash map, an array map or a record in
;; turn, and a keyword call site allocates a new lookup thunk whenever the
;; class it sees changes
(defn model? [x] (and (map? x) (true? (get x :vireo/model))))

(defn- model-error [model-name field msg & [data]]
  (throw (err/error :vireo/model-error
                    (str "Model " model-name (when field (str ", field " field)) ": " msg)
                    (merge {:model model-name :field field} data))))

(defn- snake [k] (str/replace (name k) "-" "_"))

(defn- check-target! [model-name k target]
  (when-not (or (= :self target) (model? target))
    (model-error model-name k (str ":model must be a model (or :self), got "
                                   (if (or (symbol? target) (keyword? target) (string? target))
                                     (str (pr-str target) " — an undefined model? Define it first and pass the model value")
                                     (pr-str target))))))

(defn- fk-field
  "Normalises a :foreign-key spec. The column is <key>_id; the value type is
  that of the referenced key (resolved later for :self)."
  [model-name k spec base]
  (let [{:keys [model to-field backref on-delete on-update]} spec]
    (check-target! model-name k model)
    (doseq [[o a] [[:on-delete on-delete] [:on-update on-update]]]
      (when (and (some? a) (not (fk-actions a)))
        (model-error model-name k (str o " must be one of " (str/join ", " (sort fk-actions)) ", got " (pr-str a)))))
    (when (and (some? backref) (not (keyword? backref)))
      (model-error model-name k (str ":backref must be a keyword, got " (pr-str backref))))
    (when (:primary-key spec)
      (model-error model-name k "a :foreign-key cannot be the :primary-key; use the model's :primary-key [..] for composite keys"))
    (assoc base
           :column (or (:column spec) (str (snake k) "_id"))
           :index (if (contains? spec :index) (boolean (:index spec)) (not (:unique spec)))
           :fk {:target (if (= :self model) nil model)
                :self? (= :self model)
                :to-field to-field
                :backref backref
                :on-delete on-delete
                :on-update on-update})))

(defn- random-uuid-default
  "The :default of a :uuid primary key given none (one fn for every model,
  so equal definitions make equal models)."
  []
  (java.util.UUID/randomUUID))

(defn- normalise-field [model-name [k spec]]
  (when-not (keyword? k)
    (model-error model-name (pr-str k) "field names must be keywords"))
  (when-not (map? spec)
    (model-error model-name k (str "the field spec must be a map like {:type :text}, got " (pr-str spec))))
  (let [unknown (remove field-option-keys (keys spec))
        {:keys [type column max-length default precision scale]} spec]
    (when (seq unknown)
      (model-error model-name k (str "unknown option(s) " (str/join ", " (map pr-str unknown))
                                     "; known: " (str/join ", " (sort field-option-keys)))))
    (when-not (or (contains? field-types type) (= type :many-to-many))
      (model-error model-name k (str "unknown type " (pr-str type) "; known types: "
                                     (str/join ", " (map pr-str (sort (conj (keys field-types) :many-to-many)))))))
    (when (and (not (#{:foreign-key :many-to-many} type)) (some #(contains? spec %) (conj fk-only-keys :through)))
      (model-error model-name k (str (str/join ", " (map pr-str (filter #(contains? spec %) (conj fk-only-keys :through))))
                                     " apply only to :foreign-key and :many-to-many fields")))
    (when (and (some? column) (not (and (string? column) (seq column))))
      (model-error model-name k (str ":column must be a non-empty string, got " (pr-str column))))
    (when (and (some? max-length) (not (pos-int? max-length)))
      (model-error model-name k (str ":max-length must be a positive integer, got " (pr-str max-length))))
    (when (and (some? max-length) (not= type :char))
      (model-error model-name k ":max-length applies only to :char fields"))
    (doseq [[o v] [[:precision precision] [:scale scale]]]
      (when (and (some? v) (not (nat-int? v)))
        (model-error model-name k (str o " must be a non-negative integer, got " (pr-str v)))))
    (when (and (or precision scale) (not= type :decimal))
      (model-error model-name k ":precision and :scale apply only to :decimal fields"))
    (let [auto? (contains? #{:auto :big-auto} type)
          pk? (or auto? (boolean (:primary-key spec)))
          base (cond-> {:key k
                        :column (or column (snake k))
                        :type type
                        :null (if pk? false (boolean (:null spec)))
                        :primary-key pk?
                        :auto auto?
                        :unique (boolean (:unique spec))
                        :index (boolean (:index spec))}
                 (= type :char) (assoc :max-length (or max-length 255))
                 (= type :decimal) (assoc :precision (or precision 19) :scale (or scale 4))
                 (contains? spec :default) (assoc :default default)
                 ;; a uuid primary key without a default gets a random one (peewee's default=uuid4)
                 (and pk? (= type :uuid) (not (contains? spec :default))) (assoc :default random-uuid-default)
                 (:constraints spec) (assoc :constraints (:constraints spec)))]
      (if (= type :foreign-key) (fk-field model-name k spec base) base))))

(defn- check-default
  "A constant :default must be a value of the field's type (a foreign key's:
  of the key it references)."
  [model-name {:keys [key fk value-type] :as field}]
  (when (contains? field :default)
    (let [d (:default field)]
      (when-not (fn? d)
        (try (if fk
               ((types/encoder types/validation-profile value-type) d)
               ((types/encoder types/validation-profile field :write) d))
             (catch clojure.lang.ExceptionInfo e
               (model-error model-name key (str "bad :default " (pr-str d) ": " (ex-message e)))))))))

(defn- value-field
  "The field whose values a foreign key holds: the target's :to-field or
  primary key. `self` is the model being defined (for :self references)."
  [model-name fk-f self]
  (let [{:keys [target self? to-field]} (:fk fk-f)
        t (if self? self target)
        tf (if to-field
             (or (get-in t [:field-index to-field])
                 (model-error model-name (:key fk-f) (str ":to-field " (pr-str to-field) " is not a field of " (:name t))))
             (or (:pk-field t)
                 (model-error model-name (:key fk-f) (str (:name t) " has no single-field primary key to reference; give :to-field"))))]
    (when (= :foreign-key (:type tf))
      (model-error model-name (:key fk-f) "a foreign key to a foreign-key field is not supported"))
    (when (and to-field (not (or (:unique tf) (:primary-key tf))))
      (model-error model-name (:key fk-f) (str ":to-field " (pr-str to-field) " of " (:name t) " must be unique or the primary key")))
    tf))

(defn- resolve-fk
  "Completes a foreign-key field once the model (for :self) is known: the
  referenced table and column, and the value type its column takes."
  [model-name self f]
  (if-not (:fk f)
    f
    (let [tf (value-field model-name f self)
          t (if (get-in f [:fk :self?]) self (get-in f [:fk :target]))]
      (-> f
          (assoc :value-type (case (:type tf) :auto :integer :big-auto :bigint (:type tf)))
          (cond-> (:max-length tf) (assoc :max-length (:max-length tf))
                  (:precision tf) (assoc :precision (:precision tf) :scale (:scale tf)))
          (update :fk assoc
                  :to-field (:key tf)
                  :target-name (:name t)
                  :target-table (:table t)
                  :target-column (:column tf)
                  :backref (or (get-in f [:fk :backref])
                               (keyword (str (str/lower-case model-name) "-set"))))))))

(defn- m2m-spec [model-name k spec]
  (check-target! model-name k (:model spec))
  (let [extra (remove #{:type :model :backref :through :doc} (keys spec))]
    (when (seq extra)
      (model-error model-name k (str (str/join ", " (map pr-str extra)) " do not apply to :many-to-many fields"))))
  (when (and (some? (:through spec)) (not (or (model? (:through spec)) (var? (:through spec)) (fn? (:through spec)))))
    (model-error model-name k (str ":through must be a model with foreign keys to both sides (or a var or no-argument fn"
                                   " returning one, for a through model defined later), got " (pr-str (:through spec)))))
  (when (and (some? (:backref spec)) (not (keyword? (:backref spec))))
    (model-error model-name k (str ":backref must be a keyword, got " (pr-str (:backref spec)))))
  ;; peewee's default: <model>_set on the target
  {:key k :model (:model spec) :through (:through spec)
   :backref (or (:backref spec) (keyword (str (str/lower-case model-name) "-set")))})

(defn- check-indexes! [model-name by-key indexes]
  (when-not (or (nil? indexes) (sequential? indexes))
    (model-error model-name nil (str ":indexes must be a vector of {:fields [..] :unique bool}, got " (pr-str indexes))))
  (doseq [ix indexes]
    (when-not (and (map? ix) (sequential? (:fields ix)) (seq (:fields ix)))
      (model-error model-name nil (str "an index must be {:fields [field …] :unique bool :name str?}, got " (pr-str ix))))
    (doseq [k (:fields ix)]
      (when-not (by-key k)
        (model-error model-name k (str "is named in :indexes but is not a field")))))
  (vec indexes))

;; ---------------------------------------------------------------- caches, outside the value
;; A model is a value: `=` and `hash` see its definition only. What Vireo
;; computes from a model (per-dialect codecs, decoding shape, formatted
;; statement templates, see vireo.impl.ops) lives beside it, never in it:
;;
;; - fast path: the model's metadata holds a ModelCache box that knows the
;;   very object it was made for. make-model, with-database (bind-database,
;;   vireo.impl.query/bound-model, fk-target) and with-own-cache attach one,
;;   so finding the cache costs a metadata lookup and an identity check, no
;;   hashing or comparing of the model.
;; - a model assoc'ed from another (assoc keeps the metadata, so the box of
;;   the original) with only its :database changed: the original's cache,
;;   after one identity check per key.
;; - any other model value (its definition changed by assoc; built by hand):
;;   the cache is found by content in a bounded map, so a changed model never
;;   sees the statements of the model it was derived from.
;;
;; Cached entries depend on the model's definition and the dialect only,
;; never on its :database, so a model rebound to another database shares
;; the caches of the model it came from.

(definterface IModelCache
  (owner [])
  (setOwner [m])
  (^java.util.concurrent.ConcurrentHashMap byDialect [])
  (^java.util.concurrent.ConcurrentHashMap byObject []))

;; byObject: what depends on the very model object, its :database included
;; (the metadata template of its instances, the row builders holding it),
;; never shared with a rebound model
(deftype ModelCache [^:volatile-mutable model ^ConcurrentHashMap dialects ^ConcurrentHashMap objects]
  IModelCache
  (owner [_] model)
  (setOwner [_ m] (set! model m))
  (byDialect [_] dialects)
  (byObject [_] objects))

(defn- attach-cache
  "`m` with a ModelCache box made for the returned object itself, holding
  `dialects` (dialect keyword -> ConcurrentHashMap) and a cache of its own
  for what depends on the object (`object-cache`)."
  [m ^ConcurrentHashMap dialects]
  (let [box (ModelCache. nil dialects (ConcurrentHashMap.))
        m (vary-meta m assoc ::cache box)]
    (.setOwner box m)
    m))

(defn- own-dialects
  "The per-dialect caches of `m` when its metadata holds a box made for this
  very object, else nil."
  ^ConcurrentHashMap [m]
  (let [box (get (meta m) ::cache)]
    (when (and (some? box) (identical? m (.owner ^IModelCache box)))
      (.byDialect ^IModelCache box))))

(defn object-cache
  "The cache of what depends on the model object `m` itself, its :database
  included (a ConcurrentHashMap), when its metadata holds a box made for
  this very object; else nil (compute, do not cache: a model assoc'ed from
  another, or found by content, shares its caches with other databases')."
  ^ConcurrentHashMap [m]
  (let [box (get (meta m) ::cache)]
    (when (and (some? box) (identical? m (.owner ^IModelCache box)))
      (.byObject ^IModelCache box))))

(defn object-dialect-cache
  "`object-cache`'s map for one dialect (what depends on the model object
  and is used per dialect: row builders, the get plans holding them), or
  nil when the model object has no cache of its own."
  ^ConcurrentHashMap [m dialect]
  (when-let [oc (object-cache m)]
    (or (.get oc dialect)
        (let [c (ConcurrentHashMap.)] (or (.putIfAbsent oc dialect c) c)))))

(def ^:private content-cache-limit
  "How many distinct model contents the by-content cache keeps (least
  recently used first out)."
  256)

;; model definition (without :database and metadata) -> dialect caches
(defonce ^:private ^java.util.Map by-content
  (java.util.Collections/synchronizedMap
   (proxy [java.util.LinkedHashMap] [(int 16) (float 0.75) true]
     (removeEldestEntry [_] (> (.size ^java.util.Map this) (long content-cache-limit))))))

(def ^:private new-dialects
  (reify java.util.function.Function
    (apply [_ _] (ConcurrentHashMap.))))

(defn- same-definition?
  "True when model `m` holds the very values `o` holds, :database aside (so
  `m` is `o` rebound by assoc): no hashing, one identity check per key."
  [o m]
  (and (map? o)
       (= (count o) (count m))
       (reduce-kv (fn [_ k v]
                    (if (or (identical? k :database) (identical? v (get o k ::none)))
                      true
                      (reduced false)))
                  true m)))

(defn- dialects-of
  "The per-dialect caches of `m`: its own (fast path); those of the model it
  was assoc'ed from, when only its :database changed; else those of its
  content."
  ^ConcurrentHashMap [m]
  (or (own-dialects m)
      (let [box (get (meta m) ::cache)]
        (when (and (some? box) (same-definition? (.owner ^IModelCache box) m))
          (.byDialect ^IModelCache box)))
      (.computeIfAbsent by-content (with-meta (dissoc m :database) nil) new-dialects)))

(defn same-definition-as?
  "True when models `a` and `b` have the same definition (their :database
  aside): they share their caches. Found without comparing them deeply on
  the fast paths, so a query cache can tell two models apart cheaply (two
  models of one name but different definitions are different)."
  [a b]
  (or (identical? a b) (identical? (dialects-of a) (dialects-of b))))

(defn cached-by-identity?
  "True when `m`'s caches are found without hashing or comparing it (its
  metadata holds a cache made for this very value)."
  [m]
  (some? (own-dialects m)))

(defn content-cache-size
  "The number of model contents the by-content cache holds (at most 256)."
  []
  (.size by-content))

(defn with-database
  "`m` bound to database `db` (assoc'ed as :database), sharing m's caches,
  found again without hashing."
  [m db]
  (attach-cache (assoc m :database db) (dialects-of m)))

(defn with-own-cache
  "Given a model value changed by assoc/dissoc that will be used again and
  again, returns it with caches of its own (found without hashing); a model
  whose caches are its own is returned as is."
  [m]
  (if (own-dialects m) m (attach-cache m (ConcurrentHashMap.))))

(defn- names-model
  "A model, var or fn naming a model, as the model's name (for data)."
  [x]
  (cond (model? x) (:name x)
        (var? x) (str (symbol x))
        (nil? x) nil
        :else (str x)))

(defn model-data
  "What `clojure.datafy/datafy` gives for a model (its metadata extends
  Datafiable): its name, table, primary key, fields (what each one is, a
  foreign key's target by name, a function default as the symbol fn),
  indexes, constraints, many-to-many fields and database, as plain data
  that REPL tools (Portal, Morse, Reveal) show and navigate."
  [m]
  (cond-> {:name (:name m)
           :table (:table m)
           :primary-key (:primary-key m)
           :fields (mapv (fn [f]
                           (cond-> (dissoc f :default :fk)
                             (contains? f :default) (assoc :default (let [d (:default f)] (if (fn? d) 'fn d)))
                             (:fk f) (assoc :references (-> (:fk f)
                                                            (dissoc :target :self?)
                                                            (assoc :model (if (get-in f [:fk :self?])
                                                                            (:name m)
                                                                            (names-model (get-in f [:fk :target]))))))))
                         (:fields m))
           :indexes (vec (:indexes m))}
    (seq (:constraints m)) (assoc :constraints (:constraints m))
    (seq (:m2m m)) (assoc :many-to-many (into (sorted-map)
                                              (map (fn [[k spec]]
                                                     [k (cond-> (assoc (dissoc spec :model :through) :model (names-model (:model spec)))
                                                          (:through spec) (assoc :through (names-model (:through spec))))]))
                                              (:m2m m)))
    (some? (:database m)) (assoc :database (pr-str (:database m)))))

(defn make-model
  "Given a model name (symbol or string) and its definition map, returns the
  model: a map with `:vireo/model true`, `:name`, `:table`, `:fields` (a vector
  in declaration order, columns only), `:field-index`, `:primary-key` (a key,
  or a vector of keys for a composite key), `:pk-field` (nil when composite),
  `:pk-fields`, `:m2m` (many-to-many specs by key), `:indexes`, `:database`.
  Pure: equal definitions give equal models, and nothing is registered (see
  vireo.impl.registry). Throws a `:vireo/model-error` naming the model and
  field for any bad definition."
  [model-name {:keys [fields table database indexes constraints] :as definition}]
  (let [model-name (name model-name)]
    (when-not (map? definition)
      (model-error model-name nil (str "the definition must be a map, got " (pr-str definition))))
    (let [unknown (remove model-option-keys (keys definition))]
      (when (seq unknown)
        (model-error model-name nil (str "unknown option(s) " (str/join ", " (map pr-str unknown))
                                         "; known: " (str/join ", " (sort model-option-keys))))))
    (when-not (or (map? fields) (and (vector? fields) (even? (count fields))))
      (model-error model-name nil ":fields must be a map (or a vector of name/spec pairs) of field specs"))
    (when (and (some? table) (not (and (string? table) (seq table))))
      (model-error model-name nil (str ":table must be a non-empty string, got " (pr-str table))))
    (when (and (some? constraints) (not (vector? constraints)))
      (model-error model-name nil (str ":constraints must be a vector of table constraints, got " (pr-str constraints))))
    (let [pairs (if (map? fields) (seq fields) (partition 2 fields))
          _ (let [dups (for [[k n] (frequencies (map first pairs)) :when (> n 1)] k)]
              (when (seq dups) (model-error model-name (first dups) "is defined more than once")))
          m2m-pairs (filter #(and (map? (second %)) (= :many-to-many (:type (second %)))) pairs)
          m2m (into {} (map (fn [[k spec]] [k (m2m-spec model-name k spec)])) m2m-pairs)
          declared (mapv #(normalise-field model-name %) (remove #(contains? m2m (first %)) pairs))
          composite (:primary-key definition)
          _ (when (some? composite)
              (when-not (and (vector? composite) (< 1 (count composite)) (every? keyword? composite))
                (model-error model-name nil (str "a model-level :primary-key is a vector of two or more field keys (a composite key), got "
                                                 (pr-str composite))))
              (doseq [k composite]
                (when-not (some #(= k (:key %)) declared)
                  (model-error model-name k "is named in :primary-key but is not a field"))))
          pks (filterv :primary-key declared)
          _ (when (and composite (seq pks))
              (model-error model-name (:key (first pks)) "is a :primary-key field, but the model also declares a composite :primary-key"))
          _ (when (> (count pks) 1)
              (model-error model-name (:key (second pks))
                           (str "more than one primary key (" (str/join ", " (map :key pks))
                                "); for a composite key give the model :primary-key [" (str/join " " (map :key pks)) "]")))
          declared (if composite
                     (mapv #(if (some #{(:key %)} composite) (assoc % :null false :pk-part true) %) declared)
                     declared)
          fields (if (or (seq pks) composite)
                   declared
                   (do (when (some #(= :id (:key %)) declared)
                         (model-error model-name :id "is declared but not as :primary-key; make it one or rename it"))
                       (into [(normalise-field model-name [:id {:type :auto}])] declared)))
          _ (let [dups (for [[c n] (frequencies (map :column fields)) :when (> n 1)] c)]
              (when (seq dups)
                (model-error model-name nil (str "two fields use the column " (pr-str (first dups))))))
          pk (when-not composite (first (filter :primary-key fields)))
          by-key (into {} (map (juxt :key identity)) fields)
          model ^{:type ::model `clojure.core.protocols/datafy model-data} {:vireo/model true
                 :name model-name
                 :table (or table (str/lower-case model-name))
                 :database database
                 :fields fields
                 :field-index by-key
                 :primary-key (or composite (:key pk))
                 :pk-field pk
                 :pk-fields (if composite (mapv by-key composite) [pk])
                 :m2m m2m
                 :indexes (check-indexes! model-name by-key indexes)
                 :constraints constraints}
          ;; :self foreign keys need the model itself to resolve their target
          fields (mapv #(resolve-fk model-name model %) fields)
          _ (run! #(check-default model-name %) fields)]
      (attach-cache
       (assoc model
              :fields fields
              :field-index (into {} (map (juxt :key identity)) fields))
       (ConcurrentHashMap.)))))

;; ---------------------------------------------------------------- relations
(defmethod print-method ::model [m ^java.io.Writer w]
  (.write w (str "#vireo/model[" (:name m) " " (pr-str (:table m)) "]")))

(defn fk-target
  "The model a foreign-key field references, bound to `m`'s database (so a
  relation followed from a model bound to a test database stays there)."
  [m f]
  (let [{:keys [self? target]} (:fk f)
        t (if self? m target)]
    (if (identical? (:database t) (:database m)) t (with-database t (:database m)))))

(defn foreign-keys [m] (filterv :fk (:fields m)))

;; ---------------------------------------------------------------- loaded instances
;; An instance's metadata: ::original (the values it was loaded or saved
;; with, what aio-save compares), ::model (the model it was decoded by, its
;; database included) and clojure.datafy's datafy and nav, so REPL data tools
;; see every instance Vireo makes without a call of yours. It is one small
;; object per row (vireo.impl.InstanceMeta): the model's template
;; (`instance-template`, shared) and the row, answering lookups without
;; copying the template.
(defn instance-datafy
  "An instance's `clojure.datafy/datafy`: its values plus its model under
  :vireo/model (itself datafiable: `vireo.impl.model/model-data`), still
  navigable; datafy of that is itself."
  [inst]
  (let [md (meta inst)]
    (with-meta (assoc inst :vireo/model (::model md))
      (dissoc md ::original `clojure.core.protocols/datafy))))

(defonce ^:private nav-impl
  ;; (fn [m inst k v]) -> what nav on an instance of m gives: installed by
  ;; vireo.impl.datafy (it needs the operations above this layer); until
  ;; then, the value itself
  (volatile! nil))

(defn set-instance-nav!
  "Installs (fn [model inst k v] value), the nav of every instance."
  [f]
  (vreset! nav-impl f))

(defn instance-nav
  "An instance's `clojure.datafy/nav`: the installed nav with the instance's
  model (`set-instance-nav!`), or `v`."
  [inst k v]
  (let [f @nav-impl m (::model (meta inst))]
    (if (and f m) (f m inst k v) v)))

(defn instance-template
  "The metadata template of `m`'s instances: [::original nil ::model m
  datafy nav], cached per model object (a rebound model's instances know
  their own database)."
  ^objects [m]
  (let [make #(object-array [::original nil ::model m
                             `clojure.core.protocols/datafy instance-datafy
                             `clojure.core.protocols/nav instance-nav])]
    (if-let [oc (object-cache m)]
      (or (.get oc ::instance-template)
          (let [t (make)] (or (.putIfAbsent oc ::instance-template t) t)))
      (make))))

(defn loaded-fresh
  "`loaded` for a map known to carry no metadata (one built from a row),
  given its model's `instance-template`."
  [^objects template inst]
  (.withMeta ^clojure.lang.IObj inst (InstanceMeta. template inst)))

(defn row-instance
  "The loaded instance of the model whose `instance-template` is given,
  from `kvs`, the row's distinct keys and values alternating (kept, not
  copied): an array map built with its metadata (one map, not a map and
  its copy with metadata) up to 8 entries, else a hash map."
  [^objects template ^objects kvs]
  (if (<= (alength kvs) 16)
    (clojure.lang.PersistentArrayMap. (InstanceMeta. template kvs) kvs)
    (loaded-fresh template (clojure.lang.PersistentHashMap/create kvs))))

(defn loaded
  "Marks an instance of the model whose `instance-template` is given as
  matching its row: its metadata keeps these values, so aio-save of a
  changed copy (assoc keeps metadata) writes only the fields that differ;
  it is datafiable and navigable (see `instance-template`). Other metadata
  is dropped. nil stays nil."
  [template inst]
  (when inst
    (loaded-fresh template (if (nil? (meta inst)) inst (with-meta inst nil)))))

(defn as-instance
  "`inst` with the metadata of its model's instances (`instance-template`),
  keeping what it was loaded or saved with (what aio-save compares; none
  for a map never loaded), other metadata dropped."
  [^objects template inst]
  (with-meta inst (InstanceMeta. template (get (meta inst) ::original))))

(defn instance-model
  "The model an instance was decoded (or saved) by, or nil."
  [inst]
  (::model (meta inst)))

(def ^:private ^java.util.concurrent.ConcurrentHashMap infos (java.util.concurrent.ConcurrentHashMap.))

(defn info
  "{:model name}: what errors of a model's statements carry (one map per
  model name, not one per statement)."
  [model]
  (let [n (:name model)]
    (or (.get infos n)
        (let [v {:model n}] (or (.putIfAbsent infos n v) v)))))

(defn original
  "The values an instance had when it was loaded or saved, or nil."
  [inst]
  (get (meta inst) ::original))

(defn field [model k]
  (or (get-in model [:field-index k])
      (throw (err/error :vireo/model-error
                        (str "Model " (:name model) " has no field " (pr-str k)
                             "; fields: " (str/join ", " (map (comp pr-str :key) (:fields model))))
                        {:model (:name model) :field k}))))

(defn column-ident
  "The quoted-identifier form of a field's column for vireo.sql."
  [field]
  (sql/ident (:column field)))

(defn table-ident [model] (sql/ident (:table model)))

;; ---------------------------------------------------------------- bounded caches
;; Every cache whose keys come from what callers pass (column labels, query
;; shapes, the field sets of creates, updates and gets) is bounded, or a
;; stream of distinct inputs (20,000 column aliases, IN lists of every
;; length) would grow it for the life of the JVM. The policy is the
;; simplest that stays correct under concurrency: a cache that reaches its
;; limit is cleared, then fills again with what is in use now (entries are
;; only ever recomputed, never wrong). docs/reliability.md lists them.

(defn cache-put!
  "Puts k -> v in `cache` unless k is there (returns the value cached),
  first clearing the cache when it holds `limit` entries or more."
  [^ConcurrentHashMap cache k v limit]
  (when (>= (.size cache) (long limit)) (.clear cache))
  (or (.putIfAbsent cache k v) v))

(def dialect-cache-limit
  "The most entries one model's cache for one dialect holds (its codecs,
  builders and statement templates, one per field set used) before it is
  cleared."
  1024)

;; ---------------------------------------------------------------- per-dialect codecs, cached
(defn dialect-cache
  "The model's cache for one dialect: a ConcurrentHashMap holding its codecs
  (under ::codecs), decoding shape (::shape) and formatted statement templates.
  Keyed by the dialect keyword, so the hot path allocates no key. The cache is
  not part of the model value (see \"caches, outside the value\" above): what
  goes in must depend only on the model's definition and the dialect, never
  on its :database (models rebound to another database share it).
  Templates are keyed by the fields an operation names, so a cache holding
  `dialect-cache-limit` entries is cleared when found here (callers put
  into the map they are given, after this check)."
  ^ConcurrentHashMap [model dialect]
  (let [cache (dialects-of model)
        ^ConcurrentHashMap c (or (.get cache dialect)
                                 (let [fresh (ConcurrentHashMap.)]
                                   (or (.putIfAbsent cache dialect fresh) fresh)))]
    (when (>= (.size c) (long dialect-cache-limit)) (.clear c))
    c))

(defn codecs
  "Given a model and a dialect keyword, returns
  {field-key {:encode f :write w :decode g}}, computed once per model and
  dialect: :encode for values compared with the field (where clauses),
  :write for values stored by INSERT/UPDATE (it also applies the field's
  :max-length, :precision and :scale), :decode for column values."
  [model dialect]
  (let [cache (dialect-cache model dialect)]
    (or (.get cache ::codecs)
        (let [v (into {} (for [{:keys [key type value-type fk] :as f} (:fields model)]
                           (if fk
                             (let [enc (types/encoder dialect value-type)
                                   to (:to-field fk)
                                   ;; assignment by instance or by raw key
                                   e (fn [v] (enc (if (map? v) (get v to) v)))]
                               [key {:encode e :write e :decode (types/decoder dialect value-type)}])
                             [key {:encode (types/encoder dialect f)
                                   :write (types/encoder dialect f :write)
                                   :decode (types/decoder dialect type)}])))]
          (or (.putIfAbsent cache ::codecs v) v)))))

(defn- encode-with [model dialect k v which]
  (try ((get (get (codecs model dialect) k) which) v)
       (catch clojure.lang.ExceptionInfo e
         (throw (err/error :vireo/data-error
                           (str "Model " (:name model) ", field " k ": " (ex-message e))
                           (assoc (ex-data e) :model (:name model) :field k))))))

(defn field-encoder
  "(fn [v] encoded) for field `k` of `model` on `dialect`: :encode (compared
  with the field) or :write (stored in it), naming the field on error like
  encode-value — looked up once, for plans that encode on every call."
  [model dialect k which]
  (let [enc (get (get (codecs model dialect) k) which)]
    (fn [v]
      (try (enc v)
           (catch clojure.lang.ExceptionInfo e
             (throw (err/error :vireo/data-error
                               (str "Model " (:name model) ", field " k ": " (ex-message e))
                               (assoc (ex-data e) :model (:name model) :field k))))))))

(defn encode-value
  "Encodes `v`, compared with field `k` of `model` (a where clause), for
  `dialect`, naming the field on error."
  [model dialect k v]
  (encode-with model dialect k v :encode))

(defn encode-write-value
  "Encodes `v` to be stored in field `k` of `model` (INSERT/UPDATE) for
  `dialect`: like encode-value, and also refuses a value over the field's
  :max-length or :precision, naming the field."
  [model dialect k v]
  (encode-with model dialect k v :write))

(defn default-value [field]
  (let [d (:default field)] (if (fn? d) (d) d)))

(defn with-defaults
  "The values with the model's :default of every field they lack (a
  no-argument fn default is called): the one place defaults are applied,
  for instances, creates and insert rows."
  [model values]
  (reduce (fn [acc f]
            (if (and (contains? f :default) (not (contains? acc (:key f))))
              (assoc acc (:key f) (default-value f))
              acc))
          values (:fields model)))

;; ---------------------------------------------------------------- DDL
(defn db-default
  "A constant default the database can hold too (so INSERT … SELECT and
  plain SQL inserts get it): strings, integers, booleans and doubles."
  [{:keys [type default fk value-type] :as field}]
  (when (and (contains? field :default) (not (fn? default)) (some? default))
    (case (if fk value-type type)
      (:char :text) (when (string? default) default)
      (:integer :bigint :smallint) (when (integer? default) (long default))
      :boolean (when (boolean? default) default)
      (:double :float) (when (number? default) (double default))
      nil)))

(defn column-def
  "The column vector of a field for :create-table (its foreign key, if any,
  is a named table constraint, see `foreign-key-constraint`)."
  [_dialect {:keys [type null max-length precision scale constraints auto fk value-type] :as field}]
  (let [t (if fk value-type type)
        col-type (case t
                   :char [:char max-length]
                   :decimal [:decimal precision scale]
                   (field-types t))]
    (into [(column-ident field) col-type]
          (concat (when-not auto (if null [:null] [:not-null]))
                  (when (and (:primary-key field) (not auto)) [:primary-key])
                  ;; (some?: a false default is written too)
                  (let [d (db-default field)] (when (some? d) [[:default d]]))
                  constraints))))

;; a column on its own (vireo.migrate): described like a model field
(defn column-field
  "Given a table name, a field key and a field spec as a model takes it,
  returns the normalised field, for a column added or changed on its own
  (`column-def` gives its column vector). A :foreign-key, :many-to-many,
  :auto/:big-auto or :primary-key field is refused (a foreign key is a
  constraint of its own there), and so is a :default the database cannot
  hold (a fn, a value other than a string, integer, boolean or double): the
  column's existing rows would not get it. Throws :vireo/model-error naming
  the table and field."
  [table k spec]
  (let [what (str "(column of table " table ")")]
    (when (and (map? spec) (contains? #{:foreign-key :many-to-many :auto :big-auto} (:type spec)))
      (model-error what k (str "a " (pr-str (:type spec)) " column cannot be described here: "
                               (if (= :foreign-key (:type spec))
                                 "add an :integer (or the key's type) column, then an :add-foreign-key step"
                                 "give it in the table's model"))))
    (when (and (map? spec) (:primary-key spec))
      (model-error what k "a :primary-key cannot be added or changed by a migration step"))
    (let [f (normalise-field what [k spec])]
      (when (and (some? (:default f)) (nil? (db-default f)))
        (model-error what k (str ":default " (pr-str (:default f)) " is not a value the database can hold for a "
                                 (pr-str (:type f)) " column (a string, integer, boolean or double as the type takes)")))
      f)))

;; ---------------------------------------------------------------- generated names
;; Names Vireo makes up (index names, foreign-key constraint names, generated
;; through tables) must fit every backend, or PostgreSQL cuts them at 63 bytes
;; without a word (two long names then collide, and the catalog holds a name
;; no one asked for) and MariaDB refuses them over 64 characters. Like
;; peewee, a name over the limit keeps a prefix and gets a short hash of the
;; whole name: deterministic, so create, drop, index-exists checks and
;; recursive deletes all compute the same name. The rule is the same on every
;; backend (SQLite has no limit), so a model's names do not depend on where it
;; runs.

(def generated-name-limit
  "Generated identifiers are at most this many UTF-8 bytes (PostgreSQL's
  63-byte limit, which is also within MariaDB's 64 characters)."
  63)

(def ^:private hash-length 8)

(defn- utf8-length ^long [^String s]
  (alength (.getBytes s java.nio.charset.StandardCharsets/UTF_8)))

(defn- prefix-within
  "The longest prefix of s (whole code points) of at most `limit` UTF-8 bytes."
  [^String s ^long limit]
  (loop [i 0 bytes 0]
    (if (< i (.length s))
      (let [cp (.codePointAt s i)
            n (long (cond (< cp 0x80) 1 (< cp 0x800) 2 (< cp 0x10000) 3 :else 4))]
        (if (<= (+ bytes n) limit)
          (recur (+ i (Character/charCount cp)) (+ bytes n))
          (subs s 0 i)))
      s)))

(defn short-name
  "A generated identifier fitted to `generated-name-limit`: `n` itself when
  it fits, else its longest prefix of 54 bytes, \"_\" and the first 8 hex
  digits of the MD5 of the whole name (UTF-8)."
  ^String [^String n]
  (if (<= (utf8-length n) (long generated-name-limit))
    n
    (let [md (.digest (java.security.MessageDigest/getInstance "MD5")
                      (.getBytes n java.nio.charset.StandardCharsets/UTF_8))
          hex (apply str (map #(format "%02x" (bit-and (long %) 0xff)) md))]
      (str (prefix-within n (- (long generated-name-limit) 1 hash-length)) "_" (subs hex 0 hash-length)))))

(defn index-name
  "The generated name of a field's index: <table>_<column>, shortened."
  [model field]
  (short-name (str (:table model) "_" (:column field))))

(defn indexes-entry-name
  "The name of a model :indexes entry: its :name, or
  <table>_<column1>_<column2>…, shortened."
  [model ix fields]
  (or (:name ix) (short-name (str/join "_" (cons (:table model) (map :column fields))))))

(defn foreign-key-name
  "The generated name of a foreign key's constraint: <table>_<column>_fkey
  (PostgreSQL's own choice), shortened."
  [model field]
  (short-name (str (:table model) "_" (:column field) "_fkey")))

(defn- foreign-key-constraint
  "A field's foreign key as a named table constraint (MariaDB's own name,
  <table>_ibfk_<n>, is refused once the table name passes 57 characters)."
  [model {:keys [fk] :as field}]
  [:constraint (sql/ident (foreign-key-name model field))
   (cond-> [:foreign-key [(column-ident field)]
            [:references (sql/ident (:target-table fk)) (sql/ident (:target-column fk))]]
     (:on-delete fk) (conj [:on-delete (:on-delete fk)])
     (:on-update fk) (conj [:on-update (:on-update fk)]))])

(defn- identifier-length [unit ^String n]
  (if (= unit :bytes) (utf8-length n) (.codePointCount n 0 (.length n))))

(defn check-identifier-lengths!
  "Throws a :vireo/model-error naming the backend and its limit when a name
  given by the model (its :table, a field's :column, an :indexes :name) is
  too long for the backend's identifier `limit` (its traits'
  :identifier-limit, {:max n :unit :bytes|:characters :label s :why s}, nil:
  none). Generated names always fit."
  [model limit]
  (when-let [{:keys [max unit label why]} limit]
    (let [given (concat [["table name" (:table model) :table nil]]
                        (for [f (:fields model)] ["column name" (:column f) :column (:key f)])
                        (for [ix (:indexes model) :when (:name ix)] ["index name" (:name ix) :name nil]))]
      (doseq [[what n option field] given
              :let [len (identifier-length unit n)]
              :when (> len (long max))]
        (throw (err/error :vireo/model-error
                          (str "Model " (:name model) (when field (str ", field " field)) ": the " what " " (pr-str n)
                               " is " len " " (name unit) " long; " label " allows at most " max " " (name unit)
                               " in an identifier" why "; give a shorter " option)
                          {:model (:name model) :field field :name n :backend (:kind limit) :limit max}))))))

(defn index-queries
  "Given a model and options {:safe bool}, returns the CREATE INDEX query maps:
  one per `:unique`/`:index` field (named <table>_<column>), then one per
  model `:indexes` entry (named <table>_<col1>_<col2>… unless :name);
  generated names are fitted by `short-name`."
  [model {:keys [safe]}]
  (into (vec (for [f (:fields model)
                   :when (and (or (:unique f) (:index f)) (not (:primary-key f)))]
               {:create-index (sql/ident (index-name model f))
                :on (table-ident model)
                :columns [(column-ident f)]
                :unique (:unique f)
                :if-not-exists (boolean safe)}))
        (for [ix (:indexes model)
              :let [fs (mapv #(field model %) (:fields ix))]]
          {:create-index (sql/ident (indexes-entry-name model ix fs))
           :on (table-ident model)
           :columns (mapv column-ident fs)
           :unique (boolean (:unique ix))
           :if-not-exists (boolean safe)})))

(defn create-table-queries
  "Given a model and options {:safe bool}, returns the vector of DDL query maps
  (table, then its indexes, see `index-queries`)."
  [model opts]
  (into [(cond-> {:create-table (table-ident model)
                  :if-not-exists (boolean (:safe opts))
                  :with-columns (mapv #(column-def nil %) (:fields model))}
           (or (nil? (:pk-field model)) (seq (:constraints model)) (some :fk (:fields model)))
           (assoc :constraints
                  (-> (if (:pk-field model) [] [(into [:primary-key] (map column-ident (:pk-fields model)))])
                      (into (:constraints model))
                      (into (map #(foreign-key-constraint model %)) (filter :fk (:fields model))))))]
        (index-queries model opts)))

(defn drop-table-queries [model {:keys [safe]}]
  [{:drop-table (table-ident model) :if-exists (boolean safe)}])
