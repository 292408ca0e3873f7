(ns ^:no-doc vireo.impl.types
  "Value codecs per field type and dialect: encode (Clojure value -> statement
  parameter) and decode (driver column value -> Clojure value), plus JSON and
  the text forms SQLite stores temporal values in. Pure functions, no I/O."
  (:require [clojure.string :as str]
            [vireo.impl.errors :as err])
  (:import (io.vertx.core.buffer Buffer)
           (io.vertx.core.json Json JsonArray JsonObject)
           (io.vertx.sqlclient.data Numeric)
           (java.math BigDecimal BigInteger)
           (java.time Instant LocalDate LocalDateTime LocalTime OffsetDateTime ZoneOffset ZonedDateTime)
           (java.time.format DateTimeFormatter DateTimeFormatterBuilder)
           (java.time.temporal ChronoField)
           (java.util UUID Map List)))

(set! *warn-on-reflection* true)

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
