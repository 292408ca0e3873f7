(ns ^:no-doc vireo.impl.model
  "Models are data: a validated, normalised map describing a table. This
  namespace builds and checks them, and converts field values between Clojure
  and each backend (encode: value -> statement parameter; decode: column value
  -> Clojure value)."
  (:require [clojure.string :as str]
            [vireo.impl.errors :as err]
            [vireo.impl.types :as types]
            [vireo.sql :as sql])
  (:import (java.util.concurrent ConcurrentHashMap)))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- field types
(def field-types
  "Field type -> the DDL column type it uses (see vireo.sql's :types)."
  {:auto :auto-pk, :big-auto :big-auto-pk
   :char :char, :text :text, :integer :integer, :bigint :bigint, :smallint :smallint
   :boolean :boolean, :double :double, :float :float, :decimal :decimal
   :uuid :uuid, :datetime :datetime, :timestamptz :timestamptz, :date :date, :time :time
   :json :json, :bytes :bytes})

(def ^:private field-option-keys
  #{:type :column :null :unique :index :default :primary-key :max-length
    :precision :scale :constraints :doc})

(def ^:private model-option-keys
  #{:database :fields :table :doc :indexes})

(defn model? [x] (and (map? x) (true? (:vireo/model x))))

(defn- model-error [model-name field msg & [data]]
  (throw (err/error :vireo/model-error
                    (str "Model " model-name (when field (str ", field " field)) ": " msg)
                    (merge {:model model-name :field field} data))))

(defn- snake [k] (str/replace (name k) "-" "_"))

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
    (when-not (contains? field-types type)
      (model-error model-name k (str "unknown type " (pr-str type) "; known types: "
                                     (str/join ", " (map pr-str (sort (keys field-types)))))))
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
          pk? (or auto? (boolean (:primary-key spec)))]
      (cond-> {:key k
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
        (:constraints spec) (assoc :constraints (:constraints spec))))))

(defn- check-default [model-name {:keys [key type] :as field}]
  (when (contains? field :default)
    (let [d (:default field)]
      (when-not (fn? d)
        (try ((types/encoder :postgres type) d)
             (catch clojure.lang.ExceptionInfo e
               (model-error model-name key (str "bad :default " (pr-str d) ": " (ex-message e)))))))))

(defn make-model
  "Given a model name (symbol or string) and its definition map, returns the
  model: a map with `:vireo/model true`, `:name`, `:table`, `:fields` (a vector
  in declaration order), `:field-index`, `:primary-key`, `:database`. Throws a
  `:vireo/model-error` naming the model and field for any bad definition."
  [model-name {:keys [fields table database] :as definition}]
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
    (let [pairs (if (map? fields) (seq fields) (partition 2 fields))
          _ (let [dups (for [[k n] (frequencies (map first pairs)) :when (> n 1)] k)]
              (when (seq dups) (model-error model-name (first dups) "is defined more than once")))
          declared (mapv #(normalise-field model-name %) pairs)
          pks (filterv :primary-key declared)
          _ (when (> (count pks) 1)
              (model-error model-name (:key (second pks))
                           (str "more than one primary key (" (str/join ", " (map :key pks)) ")")))
          fields (if (seq pks)
                   declared
                   (do (when (some #(= :id (:key %)) declared)
                         (model-error model-name :id "is declared but not as :primary-key; make it one or rename it"))
                       (into [(normalise-field model-name [:id {:type :auto}])] declared)))
          _ (let [dups (for [[c n] (frequencies (map :column fields)) :when (> n 1)] c)]
              (when (seq dups)
                (model-error model-name nil (str "two fields use the column " (pr-str (first dups))))))
          _ (run! #(check-default model-name %) fields)
          pk (first (filter :primary-key fields))]
      {:vireo/model true
       :name model-name
       :table (or table (str/lower-case model-name))
       :database database
       :fields fields
       :field-index (into {} (map (juxt :key identity)) fields)
       :primary-key (:key pk)
       :pk-field pk
       ;; formatted statements, per dialect and shape (see vireo.impl.ops)
       :cache (ConcurrentHashMap.)})))

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

;; ---------------------------------------------------------------- per-dialect codecs, cached
(defn dialect-cache
  "The model's cache for one dialect: a ConcurrentHashMap holding its codecs
  (under ::codecs), decoding shape (::shape) and formatted statement templates.
  Keyed by the dialect keyword, so the hot path allocates no key."
  ^ConcurrentHashMap [model dialect]
  (let [^ConcurrentHashMap cache (:cache model)]
    (or (.get cache dialect)
        (let [fresh (ConcurrentHashMap.)]
          (or (.putIfAbsent cache dialect fresh) fresh)))))

(defn codecs
  "Given a model and a dialect keyword, returns {field-key {:encode f :decode g}},
  computed once per model and dialect."
  [model dialect]
  (let [cache (dialect-cache model dialect)]
    (or (.get cache ::codecs)
        (let [v (into {} (for [{:keys [key type]} (:fields model)]
                           [key {:encode (types/encoder dialect type) :decode (types/decoder dialect type)}]))]
          (or (.putIfAbsent cache ::codecs v) v)))))

(defn encode-value
  "Encodes `v` for field `k` of `model` on `dialect`, naming the field on error."
  [model dialect k v]
  (try ((:encode (get (codecs model dialect) k)) v)
       (catch clojure.lang.ExceptionInfo e
         (throw (err/error :vireo/data-error
                           (str "Model " (:name model) ", field " k ": " (ex-message e))
                           (assoc (ex-data e) :model (:name model) :field k))))))

(defn default-value [field]
  (let [d (:default field)] (if (fn? d) (d) d)))

;; ---------------------------------------------------------------- DDL
(defn column-def [dialect {:keys [type null unique max-length precision scale constraints auto] :as field}]
  (let [col-type (case type
                   :char [:char max-length]
                   :decimal [:decimal precision scale]
                   (field-types type))]
    (into [(column-ident field) col-type]
          (concat (when-not auto (if null [:null] [:not-null]))
                  (when (and (:primary-key field) (not auto)) [:primary-key])
                  constraints))))

(defn index-name [model field] (str (:table model) "_" (:column field)))

(defn create-table-queries
  "Given a model and options {:safe bool}, returns the vector of DDL query maps
  (table, then one index per `:unique`/`:index` field, named <table>_<column>)."
  [model {:keys [safe]}]
  (into [{:create-table (table-ident model)
          :if-not-exists (boolean safe)
          :with-columns (mapv #(column-def nil %) (:fields model))}]
        (for [f (:fields model)
              :when (and (or (:unique f) (:index f)) (not (:primary-key f)))]
          {:create-index (sql/ident (index-name model f))
           :on (table-ident model)
           :columns [(column-ident f)]
           :unique (:unique f)
           :if-not-exists (boolean safe)})))

(defn drop-table-queries [model {:keys [safe]}]
  [{:drop-table (table-ident model) :if-exists (boolean safe)}])
