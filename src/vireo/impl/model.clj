(ns ^:no-doc vireo.impl.model
  "Models are data: a validated, normalised map describing a table. This
  namespace builds and checks them, and converts field values between Clojure
  and each backend (encode: value -> statement parameter; decode: column value
  -> Clojure value)."
  (:require [clojure.string :as str]
            [vireo.impl.errors :as err]
            [vireo.sql :as sql])
  (:import (io.vertx.core.buffer Buffer)
           (io.vertx.core.json Json JsonArray JsonObject)
           (io.vertx.sqlclient.data Numeric)
           (java.math BigDecimal BigInteger)
           (java.time Instant LocalDate LocalDateTime LocalTime OffsetDateTime ZoneOffset ZonedDateTime)
           (java.time.format DateTimeFormatter DateTimeFormatterBuilder)
           (java.time.temporal ChronoField)
           (java.util UUID Map List)
           (java.util.concurrent ConcurrentHashMap)))

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

(declare encoder)

(defn- check-default [model-name {:keys [key type] :as field}]
  (when (contains? field :default)
    (let [d (:default field)]
      (when-not (fn? d)
        (try ((encoder :postgres type) d)
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

;; ---------------------------------------------------------------- JSON
(defn- ->java-json [x]
  (cond
    (map? x) (let [m (java.util.LinkedHashMap.)]
               (doseq [[k v] x] (.put m (if (keyword? k) (subs (str k) 1) (str k)) (->java-json v)))
               m)
    (or (sequential? x) (set? x)) (java.util.ArrayList. ^java.util.Collection (mapv ->java-json x))
    (keyword? x) (subs (str x) 1)
    :else x))

(defn- <-java-json [x]
  (cond
    (instance? JsonObject x) (<-java-json (.getMap ^JsonObject x))
    (instance? JsonArray x) (<-java-json (.getList ^JsonArray x))
    (instance? Map x) (persistent! (reduce (fn [m [k v]] (assoc! m (keyword k) (<-java-json v)))
                                           (transient {}) x))
    (instance? List x) (mapv <-java-json x)
    :else x))

(defn json-encode ^String [x] (Json/encode (->java-json x)))
(defn json-decode [x]
  (cond (string? x) (<-java-json (Json/decodeValue ^String x))
        (instance? Buffer x) (<-java-json (Json/decodeValue ^Buffer x))
        :else (<-java-json x)))

;; ---------------------------------------------------------------- temporal text (SQLite)
(def ^:private ^DateTimeFormatter datetime-text
  (DateTimeFormatter/ofPattern "uuuu-MM-dd HH:mm:ss.SSSSSS"))

(def ^:private ^DateTimeFormatter datetime-parse
  (-> (DateTimeFormatterBuilder.)
      (.append DateTimeFormatter/ISO_LOCAL_DATE)
      (.optionalStart) (.appendLiteral "T") (.optionalEnd)
      (.optionalStart) (.appendLiteral " ") (.optionalEnd)
      (.append DateTimeFormatter/ISO_LOCAL_TIME)
      (.optionalStart) (.appendOffsetId) (.optionalEnd)
      (.toFormatter)))

(def ^:private ^DateTimeFormatter time-text (DateTimeFormatter/ofPattern "HH:mm:ss.SSSSSS"))

;; ---------------------------------------------------------------- encoders
(defn- bad-value [type v expected]
  (throw (err/error :vireo/data-error
                    (str "a " (name type) " field expects " expected ", got "
                         (if (nil? v) "nil" (str (pr-str v) " (" (.getName (class v)) ")")))
                    {:field-type type :value v})))

(defn- ->long [type v]
  (cond (instance? Long v) v
        (or (instance? Integer v) (instance? Short v) (instance? Byte v)) (long v)
        (instance? BigInteger v) (if (< (.bitLength ^BigInteger v) 64) (.longValue ^BigInteger v)
                                     (bad-value type v "an integer within 64 bits"))
        (and (instance? clojure.lang.BigInt v) (< (.bitLength (.toBigInteger ^clojure.lang.BigInt v)) 64)) (long v)
        :else (bad-value type v "an integer")))

(defn- ->odt ^OffsetDateTime [type v]
  (cond (instance? OffsetDateTime v) (.withOffsetSameInstant ^OffsetDateTime v ZoneOffset/UTC)
        (instance? Instant v) (.atOffset ^Instant v ZoneOffset/UTC)
        (instance? ZonedDateTime v) (.withOffsetSameInstant (.toOffsetDateTime ^ZonedDateTime v) ZoneOffset/UTC)
        (instance? java.util.Date v) (.atOffset (.toInstant ^java.util.Date v) ZoneOffset/UTC)
        :else (bad-value type v "an OffsetDateTime, Instant, ZonedDateTime or java.util.Date")))

(defn- text-based? [dialect] (= dialect :sqlite))

(defn encoder
  "Given a dialect keyword and a field type, returns a fn value -> parameter.
  nil always encodes to nil (NULL)."
  [dialect type]
  (let [f (case type
            (:auto :big-auto :integer :bigint :smallint) #(->long type %)
            (:char :text) #(if (string? %) % (bad-value type % "a string"))
            :boolean (if (text-based? dialect)
                       #(if (boolean? %) (if % 1 0) (bad-value type % "true or false"))
                       #(if (boolean? %) % (bad-value type % "true or false")))
            (:double :float) #(cond (instance? Double %) %
                                    (number? %) (double %)
                                    :else (bad-value type % "a number"))
            :decimal (let [->bd #(cond (instance? BigDecimal %) %
                                       (integer? %) (bigdec %)
                                       (number? %) (BigDecimal/valueOf (double %))
                                       :else (bad-value type % "a BigDecimal or number"))]
                       (if (text-based? dialect) #(.toPlainString ^BigDecimal (->bd %)) ->bd))
            :uuid (let [->uuid #(cond (instance? UUID %) %
                                      (string? %) (try (UUID/fromString %)
                                                       (catch IllegalArgumentException _
                                                         (bad-value type % "a UUID")))
                                      :else (bad-value type % "a UUID"))]
                    (if (= dialect :postgres) ->uuid #(str (->uuid %))))
            :datetime (if (text-based? dialect)
                        #(if (instance? LocalDateTime %) (.format datetime-text ^LocalDateTime %)
                             (bad-value type % "a java.time.LocalDateTime"))
                        #(if (instance? LocalDateTime %) % (bad-value type % "a java.time.LocalDateTime")))
            :timestamptz (case dialect
                           :postgres #(->odt type %)
                           :mysql #(.toLocalDateTime (->odt type %))
                           #(str (.format datetime-text (->odt type %)) "Z"))
            :date (if (text-based? dialect)
                    #(if (instance? LocalDate %) (str %) (bad-value type % "a java.time.LocalDate"))
                    #(if (instance? LocalDate %) % (bad-value type % "a java.time.LocalDate")))
            :time (if (text-based? dialect)
                    #(if (instance? LocalTime %) (.format time-text ^LocalTime %) (bad-value type % "a java.time.LocalTime"))
                    #(if (instance? LocalTime %) % (bad-value type % "a java.time.LocalTime")))
            :json (if (= dialect :postgres)
                    #(let [j (->java-json %)]
                       (cond (instance? Map j) (JsonObject. ^Map j)
                             (instance? List j) (JsonArray. ^List j)
                             :else (bad-value type % "a map or a vector (JSON object or array)")))
                    #(json-encode %))
            :bytes (if (text-based? dialect)
                     #(if (bytes? %) % (bad-value type % "a byte array"))
                     #(if (bytes? %) (Buffer/buffer ^bytes %) (bad-value type % "a byte array"))))]
    (fn [v] (if (nil? v) nil (f v)))))

;; ---------------------------------------------------------------- decoders
(defn- ->bytes [v]
  (cond (bytes? v) v
        (instance? Buffer v) (.getBytes ^Buffer v)
        :else v))

(defn normalise-value
  "Driver value -> plain Clojure/Java value, for rows that have no model."
  [v]
  (cond
    (nil? v) nil
    (instance? Long v) v
    (instance? String v) v
    (or (instance? Integer v) (instance? Short v) (instance? Byte v)) (long v)
    (instance? Numeric v) (let [^Numeric n v] (or (.bigDecimalValue n) (.doubleValue n)))
    (instance? Buffer v) (.getBytes ^Buffer v)
    (or (instance? JsonObject v) (instance? JsonArray v)) (<-java-json v)
    :else v))

(defn decoder
  "Given a dialect keyword and a field type, returns a fn column-value -> Clojure value."
  [dialect type]
  (let [f (case type
            (:auto :big-auto :integer :bigint :smallint)
            #(if (instance? Long %) % (long (if (instance? Numeric %) (.longValue ^Numeric %) %)))
            (:char :text) #(if (string? %) % (str %))
            :boolean #(if (boolean? %) % (not (zero? (long (if (instance? Numeric %) (.longValue ^Numeric %) %)))))
            (:double :float) #(if (instance? Double %) %
                                  (if (instance? Float %) (Double/parseDouble (str %))
                                      (.doubleValue ^Number %)))
            :decimal #(cond (instance? BigDecimal %) %
                            (instance? Numeric %) (.bigDecimalValue ^Numeric %)
                            (string? %) (BigDecimal. ^String %)
                            (integer? %) (bigdec %)
                            :else (BigDecimal. (str %)))
            :uuid #(if (instance? UUID %) % (UUID/fromString (str %)))
            :datetime #(if (instance? LocalDateTime %) % (LocalDateTime/parse (str %) datetime-parse))
            :timestamptz #(cond (instance? OffsetDateTime %) (.withOffsetSameInstant ^OffsetDateTime % ZoneOffset/UTC)
                                (instance? LocalDateTime %) (.atOffset ^LocalDateTime % ZoneOffset/UTC)
                                :else (let [s (str/replace (str %) #"Z$" "+00:00")
                                            t (.parse datetime-parse s)]
                                        (if (.isSupported t ChronoField/OFFSET_SECONDS)
                                          (.withOffsetSameInstant (OffsetDateTime/from t) ZoneOffset/UTC)
                                          (.atOffset (LocalDateTime/from t) ZoneOffset/UTC))))
            :date #(if (instance? LocalDate %) % (LocalDate/parse (str %)))
            :time #(if (instance? LocalTime %) % (LocalTime/parse (str %)))
            :json json-decode
            :bytes ->bytes)]
    (fn [v] (if (nil? v) nil (f v)))))

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
                           [key {:encode (encoder dialect type) :decode (decoder dialect type)}]))]
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
