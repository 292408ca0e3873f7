(ns ^:no-doc vireo.impl.types
  "Value codecs per field type and dialect: encode (Clojure value -> statement
  parameter) and decode (driver column value -> Clojure value), plus JSON and
  the text forms SQLite stores temporal values in. Pure functions, no I/O.

  The rule the encoders follow: a value the field can hold is converted so
  that every backend stores (and compares) the same thing; a value it cannot
  hold faithfully on this dialect is refused with a :vireo/data-error before
  any SQL is sent, never silently altered by a driver (Vert.x's PostgreSQL
  client wraps an out-of-range integer, SQLite turns NaN into NULL, …).
  docs/types.md lists the behaviour per type and backend."
  (:require [vireo.impl.errors :as err])
  (:import (io.vertx.core.buffer Buffer)
           (io.vertx.core.json Json JsonArray JsonObject)
           (io.vertx.sqlclient Tuple)
           (io.vertx.sqlclient.data Numeric)
           (java.math BigDecimal BigInteger MathContext RoundingMode)
           (java.time Duration Instant LocalDate LocalDateTime LocalTime OffsetDateTime ZoneOffset ZonedDateTime)
           (java.time.format DateTimeFormatter DateTimeFormatterBuilder)
           (java.time.temporal ChronoField TemporalAccessor)
           (java.util UUID Map List)))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- errors
(defn- preview
  "pr-str of a value, cut to a readable length (a refused value may be a
  megabyte of text)."
  ^String [v]
  (let [s (pr-str v)]
    (if (> (count s) 120) (str (subs s 0 100) "…(" (count s) " characters)") s)))

(defn- bad-value [type v expected]
  (throw (err/error :vireo/data-error
                    (str "a " (name type) " field expects " expected ", got "
                         (if (nil? v) "nil" (str (preview v) " (" (.getName (class v)) ")")))
                    {:field-type type :value (err/bounded v)})))

(defn- refused
  "A value of the right kind that this field or backend cannot hold."
  [type v why]
  (throw (err/error :vireo/data-error
                    (str "a " (name type) " field cannot hold " (preview v) ": " why)
                    {:field-type type :value (err/bounded v)})))

;; ---------------------------------------------------------------- text every driver sends faithfully
;; A string holding half of a UTF-16 surrogate pair is no Unicode text: the
;; drivers encode it to UTF-8 as "?" and the database stores that, silently,
;; on every backend. Such strings are refused before anything is sent.

(defn lone-surrogate-index
  "The index of the first lone UTF-16 surrogate in `s` (a high surrogate
  not followed by a low one, or a low one alone), or -1. One pass over the
  chars, nothing allocated."
  ^long [^String s]
  (let [n (.length s)]
    (loop [i 0]
      (if (< i n)
        (let [c (.charAt s i)]
          (if (Character/isSurrogate c)
            (if (and (Character/isHighSurrogate c) (< (inc i) n) (Character/isLowSurrogate (.charAt s (inc i))))
              (recur (+ i 2))
              i)
            (recur (inc i))))
        -1))))

(defn- hex4 ^String [c] (format "\\u%04X" (int c)))

(defn lone-surrogate-problem
  "nil when string `s` has no lone UTF-16 surrogate, else a sentence saying
  where it is and why it cannot be sent (for error messages)."
  [^String s]
  (let [i (lone-surrogate-index s)]
    (when-not (neg? i)
      (str "it contains a lone UTF-16 surrogate (" (hex4 (.charAt s i)) " at index " i
           "), which is not Unicode text: the drivers would send it as ?"))))

(defn safe-preview
  "A string's pr-str, cut to a readable length, with its lone surrogates and
  NUL characters written as \\uXXXX (written raw into a message or a log
  line, they would themselves become ? or cut it)."
  ^String [^String s]
  (let [sb (StringBuilder.)
        n (min (.length s) 100)]
    (loop [i 0]
      (when (< i n)
        (let [c (.charAt s i)]
          (cond
            (and (Character/isHighSurrogate c) (< (inc i) (.length s)) (Character/isLowSurrogate (.charAt s (inc i))))
            (do (.append sb c) (.append sb (.charAt s (inc i))) (recur (+ i 2)))
            (or (Character/isSurrogate c) (= 0 (int c))) (do (.append sb (hex4 c)) (recur (inc i)))
            (= c \") (do (.append sb "\\\"") (recur (inc i)))
            (= c \\) (do (.append sb "\\\\") (recur (inc i)))
            :else (do (.append sb c) (recur (inc i)))))))
    (str "\"" sb "\"" (when (> (.length s) n) (str "…(" (.length s) " characters)")))))

(defn- checked-text
  "`s` itself, or a :vireo/data-error when it holds a lone surrogate."
  ^String [type ^String s]
  (if-let [why (lone-surrogate-problem s)]
    (throw (err/error :vireo/data-error
                      (str "a " (name type) " field cannot hold " (safe-preview s) ": " why)
                      {:field-type type :value (err/bounded s)}))
    s))

;; ---------------------------------------------------------------- JSON
(def ^:private ^com.fasterxml.jackson.core.StreamReadConstraints json-limits
  ;; what the JSON parser reading a value back accepts (Jackson's defaults):
  ;; a value beyond them would be written and then never read again
  (com.fasterxml.jackson.core.StreamReadConstraints/defaults))

(defn- json-too-big [what n limit]
  (throw (err/error :vireo/data-error
                    (str "a json value cannot hold " what " (" n "): the JSON parser reading it back"
                         " refuses more than " limit ", so the row could never be read")
                    {:field-type :json :limit limit})))

(defn- json-key ^String [k]
  (let [^String s (checked-text :json (cond (keyword? k) (subs (str k) 1) (string? k) k :else (str k)))]
    (when (> (.length s) (.getMaxNameLength json-limits))
      (json-too-big "a key of that many characters" (.length s) (.getMaxNameLength json-limits)))
    s))

(declare ->java-json-scalar)

(defn- ->java-json
  "Clojure data -> the java.util / java.lang values Vert.x's Json encodes:
  maps (keyword keys become their name, with namespace), vectors, lists and
  sets (-> arrays), strings, keywords and symbols (-> strings), numbers,
  booleans and nil. Anything else — NaN or Infinity, which JSON has no form
  for, and what the parser would refuse to read back (a key, a string or a
  nesting depth beyond its limits) — is refused."
  ([x] (->java-json x 0))
  ([x ^long depth]
   (cond
     (string? x) (let [^String s (checked-text :json x)]
                   (when (> (.length s) (.getMaxStringLength json-limits))
                     (json-too-big "a string of that many characters" (.length s) (.getMaxStringLength json-limits)))
                   s)
     (or (nil? x) (boolean? x) (instance? Long x)) x
     (or (map? x) (sequential? x) (set? x))
     (let [depth (inc depth)]
       (when (> depth (.getMaxNestingDepth json-limits))
         (json-too-big "that many levels of nesting" depth (.getMaxNestingDepth json-limits)))
       (if (map? x)
         (let [m (java.util.LinkedHashMap.)]
           (doseq [[k v] x]
             (.put m (json-key k) (->java-json v depth)))
           m)
         (let [l (java.util.ArrayList.)]
           (doseq [v x] (.add l (->java-json v depth)))
           l)))
     :else (->java-json-scalar x))))

(defn- ->java-json-scalar [x]
  (cond
    (or (instance? Double x) (instance? Float x))
    (if (Double/isFinite (.doubleValue ^Number x))
      x
      (refused :json x "JSON has no NaN or Infinity"))
    (or (instance? Integer x) (instance? Short x) (instance? Byte x)) x
    (or (instance? BigInteger x) (instance? BigDecimal x) (instance? clojure.lang.BigInt x))
    (let [n (if (instance? clojure.lang.BigInt x) (.toBigInteger ^clojure.lang.BigInt x) x)
          digits (.length (str n))]
      (when (> digits (.getMaxNumberLength json-limits))
        (json-too-big "a number of that many digits" digits (.getMaxNumberLength json-limits)))
      n)
    (ratio? x) (double x)
    (keyword? x) (checked-text :json (subs (str x) 1))
    (or (symbol? x) (char? x)) (checked-text :json (str x))
    :else (bad-value :json x "only JSON data at any depth (maps, vectors, strings, numbers, booleans, nil)")))

(defn- <-java-json [x]
  (cond
    (or (string? x) (nil? x) (boolean? x) (instance? Long x) (instance? Double x)) x
    (instance? JsonObject x) (<-java-json (.getMap ^JsonObject x))
    (instance? JsonArray x) (<-java-json (.getList ^JsonArray x))
    (instance? Map x) (persistent! (reduce (fn [m [k v]] (assoc! m (keyword k) (<-java-json v)))
                                           (transient {}) x))
    (instance? List x) (mapv <-java-json x)
    (or (instance? Integer x) (instance? Short x) (instance? Byte x)) (long x)
    (instance? Float x) (Double/parseDouble (str x))
    (identical? x Tuple/JSON_NULL) nil
    :else x))

(defn json-encode ^String [x] (Json/encode (->java-json x)))
(defn json-decode [x]
  (cond (string? x) (<-java-json (Json/decodeValue ^String x))
        (instance? Buffer x) (<-java-json (Json/decodeValue ^Buffer x))
        :else (<-java-json x)))

;; ---------------------------------------------------------------- temporal text (SQLite)
;; Always six fraction digits and four year digits, so the stored text sorts
;; and compares like the value.
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
(defn- ->long [type v]
  (cond (instance? Long v) v
        (or (instance? Integer v) (instance? Short v) (instance? Byte v)) (long v)
        (instance? BigInteger v) (if (< (.bitLength ^BigInteger v) 64) (.longValue ^BigInteger v)
                                     (refused type v "it is not within 64 bits"))
        (instance? clojure.lang.BigInt v) (if (< (.bitLength (.toBigInteger ^clojure.lang.BigInt v)) 64) (long v)
                                              (refused type v "it is not within 64 bits"))
        :else (bad-value type v "an integer")))

(defn- ranged
  "An integer encoder refusing values outside [lo, hi]: Vert.x's PostgreSQL
  client would otherwise wrap them silently (2147483648 -> -2147483648), in
  stored rows and in where clauses alike."
  [type ^long lo ^long hi what]
  (fn [v]
    (let [x (->long type v)
          n (long x)]
      (if (and (<= lo n) (<= n hi))
        x
        (refused type v (str "it is outside the " what " range [" lo ", " hi "]"))))))

(defn- ->double ^double [type v]
  (cond (instance? Double v) (.doubleValue ^Double v)
        (number? v) (double v)
        :else (bad-value type v "a number")))

(defn- non-finite-check
  "Given a codec profile, returns nil when it stores every double, else a fn
  [type d v] that throws for the values it cannot store."
  [profile]
  (let [{:keys [reject why]} (:non-finite profile)]
    (case reject
      :all (fn [type d v]
             (when-not (Double/isFinite d)
               (refused type v why)))
      :nan (fn [type d v]
             (when (Double/isNaN d)
               (refused type v why)))
      nil)))

;; ---------------------------------------------------------------- codec profiles
;; How a backend represents values is data, a *codec profile*, registered by
;; the backend's namespace (vireo.impl.backend.*) under its dialect keyword:
;;   :auto-64bit       :auto keys are 64-bit (SQLite's rowid)
;;   :text-nul         false when text cannot hold U+0000 (PostgreSQL)
;;   :boolean          :native | :integer (0/1)
;;   :non-finite       nil (doubles stored as they are) or {:reject :all|:nan :why "…"}
;;   :param-non-finite nil (the driver sends every double as it is) or
;;                     {:reject :all|:nan :why "…"}: the doubles no statement
;;                     parameter may be, wherever it goes (a column, a
;;                     comparison, a SELECT list), because the driver itself
;;                     changes them (SQLite binds NaN as NULL); checked for the
;;                     parameters no field codec encodes (vireo.impl.template)
;;   :decimal          :native | :text
;;   :uuid             :native | :text
;;   :temporal         :native | :text  (datetime, date, time as sortable text)
;;   :timestamptz      :offset (OffsetDateTime) | :local-utc (UTC LocalDateTime) | :text
;;   :json             :native (Vert.x JSON values) | :text
;;   :bytes            :buffer (Vert.x Buffer) | :array (byte[])
(defonce ^:private profiles (atom {}))

(def validation-profile
  "The profile a value is checked against when no backend is involved yet
  (a model's constant :default): everything native and unrestricted."
  {:boolean :native :decimal :native :uuid :native :temporal :native :timestamptz :offset
   :json :native :bytes :buffer :text-nul true :auto-64bit false})

(defn register-profile!
  "Registers the codec profile of a dialect keyword (see above)."
  [dialect profile]
  (swap! profiles assoc dialect profile)
  nil)

(defn profile
  "The codec profile of a dialect keyword, or a profile map itself."
  [dialect]
  (if (map? dialect)
    dialect
    (or (get @profiles dialect)
        (throw (err/error :vireo/interface-error
                          (str "no value codecs for dialect " (pr-str dialect)
                               ": its backend is not loaded (create a database of it first)")
                          {:dialect dialect})))))

(defn param-double-problem
  "Given a dialect keyword (or a profile), returns nil when its driver sends
  every double as it is, else a fn [d] -> nil, or the reason double d
  cannot be sent as a statement parameter (the profile's :param-non-finite).
  A dialect whose backend is not loaded has no restriction: nothing can be
  sent to it yet (and formatting for it stays possible, as before)."
  [dialect]
  (let [pf (if (map? dialect) dialect (get @profiles dialect))
        {:keys [reject why]} (:param-non-finite pf)]
    (case reject
      :all (fn [^double d] (when-not (Double/isFinite d) why))
      :nan (fn [^double d] (when (Double/isNaN d) why))
      nil)))

(defn- micros
  "Truncates nanoseconds to microseconds, the precision of every backend's
  temporal types (PostgreSQL would round, MariaDB and the SQLite text
  truncate)."
  ^long [^long nano]
  (* 1000 (quot nano 1000)))

(defn- ->ldt ^LocalDateTime [type v]
  (if (instance? LocalDateTime v)
    (let [^LocalDateTime t v
          y (.getYear t)
          n (.getNano t)]
      (when-not (and (<= 1 y) (<= y 9999))
        (refused type v "the year must be within 1..9999"))
      (if (zero? (rem n 1000)) t (.withNano t (int (micros n)))))
    (bad-value type v "a java.time.LocalDateTime")))

(defn- ->odt
  "UTC OffsetDateTime, truncated to microseconds, year 1..9999."
  ^OffsetDateTime [type v]
  (let [^OffsetDateTime t
        (cond (instance? OffsetDateTime v) (.withOffsetSameInstant ^OffsetDateTime v ZoneOffset/UTC)
              (instance? Instant v) (.atOffset ^Instant v ZoneOffset/UTC)
              (instance? ZonedDateTime v) (.withOffsetSameInstant (.toOffsetDateTime ^ZonedDateTime v) ZoneOffset/UTC)
              (instance? java.util.Date v) (.atOffset (.toInstant ^java.util.Date v) ZoneOffset/UTC)
              :else (bad-value type v "an OffsetDateTime, Instant, ZonedDateTime or java.util.Date"))
        y (.getYear t)
        n (.getNano t)]
    (when-not (and (<= 1 y) (<= y 9999))
      (refused type v "the year (in UTC) must be within 1..9999"))
    (if (zero? (rem n 1000)) t (.withNano t (int (micros n))))))

(defn- ->date ^LocalDate [type v]
  (if (instance? LocalDate v)
    (let [y (.getYear ^LocalDate v)]
      (if (and (<= 1 y) (<= y 9999)) v (refused type v "the year must be within 1..9999")))
    (bad-value type v "a java.time.LocalDate")))

(defn- ->time ^LocalTime [type v]
  (if (instance? LocalTime v)
    (let [n (.getNano ^LocalTime v)]
      (if (zero? (rem n 1000)) v (.withNano ^LocalTime v (int (micros n)))))
    (bad-value type v "a java.time.LocalTime")))

(defn- ->bigdec ^BigDecimal [type v]
  (cond (instance? BigDecimal v) v
        (instance? Long v) (BigDecimal/valueOf (long v))
        (or (instance? Double v) (instance? Float v))
        (let [d (.doubleValue ^Number v)]
          (if (Double/isFinite d) (BigDecimal/valueOf d) (refused type v "it is not a finite number")))
        (ratio? v) (.divide (BigDecimal. (.numerator ^clojure.lang.Ratio v))
                            (BigDecimal. (.denominator ^clojure.lang.Ratio v))
                            MathContext/DECIMAL128)
        (integer? v) (bigdec v)
        (number? v) (BigDecimal/valueOf (double v))
        :else (bad-value type v "a BigDecimal or number")))

(defn- field-spec
  "[type field-map-or-nil] from a type keyword or a normalised field map."
  [type-or-field]
  (if (map? type-or-field)
    [(:type type-or-field) type-or-field]
    [type-or-field nil]))

(defn encoder
  "Given a dialect keyword and a field type keyword — or a normalised field
  map (vireo.impl.model) — returns a fn value -> statement parameter; nil
  always encodes to nil (NULL). Throws a :vireo/data-error for a value of the
  wrong kind, and for one this dialect cannot store faithfully.

  `mode` matters only with a field map. :filter (the default) is for values
  compared with the column in a where clause: it checks no declared limit (a
  LIKE pattern or a range bound may rightly exceed them) and brings a
  decimal to the column's scale only when that is exact, so SQLite's text
  comparison finds it. :write is for values stored by INSERT and UPDATE: it
  also enforces the field's declared limits — a :char's :max-length (in
  code points, as the databases count) and a :decimal's :precision, after
  rounding the value HALF_UP to its :scale as PostgreSQL and MariaDB do."
  ([dialect type-or-field] (encoder dialect type-or-field :filter))
  ([dialect type-or-field mode]
   (let [[type field] (field-spec type-or-field)
         pf (profile dialect)
         write? (= mode :write)
         f (case type
             (:auto :integer)
             (if (and (= type :auto) (:auto-64bit pf))
               #(->long type %)                      ; INTEGER PRIMARY KEY: the 64-bit rowid
               (ranged type Integer/MIN_VALUE Integer/MAX_VALUE "32-bit integer"))
             :smallint (ranged type Short/MIN_VALUE Short/MAX_VALUE "16-bit smallint")
             (:big-auto :bigint) #(->long type %)

             (:char :text)
             (let [max-len (when (and write? (= type :char)) (some-> (:max-length field) long))
                   nul? (false? (:text-nul pf))]
               (fn [v]
                 (if (string? v)
                   (let [^String s v]
                     (when (and max-len (> (.length s) (long max-len))
                                (> (.codePointCount s 0 (.length s)) (long max-len)))
                       (refused type v (str "it is " (.codePointCount s 0 (.length s))
                                            " characters long, over the field's max-length " max-len)))
                     (when (and nul? (>= (.indexOf s (int 0)) 0))
                       (refused type v "PostgreSQL text cannot contain the NUL character (\\u0000)"))
                     (checked-text type s))
                   (bad-value type v "a string"))))

             :boolean (if (= :integer (:boolean pf))
                        #(if (boolean? %) (if % 1 0) (bad-value type % "true or false"))
                        #(if (boolean? %) % (bad-value type % "true or false")))

             :double (if-let [check (non-finite-check pf)]
                       (fn [v] (let [d (->double type v)] (check type d v) d))
                       (fn [v] (->double type v)))

             ;; single precision everywhere: the value is rounded to a float here,
             ;; so MariaDB's FLOAT column compares equal to the parameter, and
             ;; SQLite (whose REAL is 8 bytes) stores what the others store
             :float (let [check (non-finite-check pf)]
                      (fn [v]
                        (let [d (->double type v)
                              f (unchecked-float d)]
                          (when (and (Float/isInfinite f) (Double/isFinite d))
                            (refused type v "it is outside the float (single precision) range"))
                          (let [r (double f)]
                            (when check (check type r v))
                            r))))

             :decimal
             (let [scale (when field (:scale field))
                   precision (when field (:precision field))
                   text? (= :text (:decimal pf))
                   out (if text? #(.toPlainString ^BigDecimal %) identity)]
               (cond
                 (nil? scale) #(out (->bigdec type %))
                 write?
                 (let [s (int scale)
                       int-digits (- (long precision) (long scale))]
                   (fn [v]
                     (let [bd (.setScale (->bigdec type v) s RoundingMode/HALF_UP)]
                       (when (> (- (.precision bd) (.scale bd)) int-digits)
                         (refused type v (str "it does not fit precision " precision ", scale " scale
                                              " (at most " int-digits " digits before the point)")))
                       (out bd))))
                 text?
                 (let [s (int scale)]
                   (fn [v]
                     (let [bd (->bigdec type v)
                           bd (if (<= (.scale bd) s)
                                (.setScale bd s)
                                (let [st (.stripTrailingZeros bd)]
                                  (if (<= (.scale st) s) (.setScale st s) bd)))]
                       (.toPlainString ^BigDecimal bd))))
                 :else #(->bigdec type %)))

             :uuid (let [->uuid #(cond (instance? UUID %) %
                                       (string? %) (try (UUID/fromString %)
                                                        (catch IllegalArgumentException _
                                                          (bad-value type % "a UUID")))
                                       :else (bad-value type % "a UUID"))]
                     (if (= :native (:uuid pf)) ->uuid #(str (->uuid %))))

             :datetime (if (= :text (:temporal pf))
                         #(.format datetime-text (->ldt type %))
                         #(->ldt type %))
             :timestamptz (case (:timestamptz pf)
                            :offset #(->odt type %)
                            :local-utc #(.toLocalDateTime (->odt type %))
                            #(str (.format datetime-text (->odt type %)) "Z"))
             :date (if (= :text (:temporal pf))
                     #(str (->date type %))
                     #(->date type %))
             :time (if (= :text (:temporal pf))
                     #(.format time-text (->time type %))
                     #(->time type %))

             :json (if (= :native (:json pf))
                     ;; Vert.x binds a String, Number or Boolean to a jsonb
                     ;; parameter as that JSON scalar
                     #(let [j (->java-json %)]
                        (cond (instance? Map j) (JsonObject. ^Map j)
                              (instance? List j) (JsonArray. ^List j)
                              :else j))
                     #(json-encode %))

             :bytes (if (= :array (:bytes pf))
                      #(if (bytes? %) % (bad-value type % "a byte array"))
                      #(if (bytes? %) (Buffer/buffer ^bytes %) (bad-value type % "a byte array"))))]
     (fn [v] (if (nil? v) nil (f v))))))

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

(defn- ->utc ^OffsetDateTime [^TemporalAccessor t]
  (if (.isSupported t ChronoField/OFFSET_SECONDS)
    (.withOffsetSameInstant (OffsetDateTime/from t) ZoneOffset/UTC)
    (.atOffset (LocalDateTime/from t) ZoneOffset/UTC)))

(defn decoder
  "Given a dialect keyword and a field type (or a normalised field map),
  returns a fn column-value -> Clojure value."
  [dialect type-or-field]
  (let [[type _] (field-spec type-or-field)
        f (case type
            (:auto :big-auto :integer :bigint :smallint)
            #(if (instance? Long %) % (long (if (instance? Numeric %) (.longValue ^Numeric %) %)))
            (:char :text) #(if (string? %) % (str %))
            :boolean #(if (boolean? %) % (not (zero? (long (if (instance? Numeric %) (.longValue ^Numeric %) %)))))
            ;; a Float (PostgreSQL's REAL, MariaDB's FLOAT) becomes the Double
            ;; of its shortest decimal form: 0.1f -> 0.1, not 0.10000000149011612
            :double #(if (instance? Double %) %
                         (if (instance? Float %) (Double/parseDouble (str %))
                             (.doubleValue ^Number %)))
            ;; a :float field holds single-precision values: SQLite reads its
            ;; REAL column as the Double of the float the encoder stored
            ;; (0.10000000149011612), which becomes the float's shortest decimal
            ;; form too, as on the other backends; a double that is no float
            ;; (written by other means) is kept whole
            :float #(cond (instance? Float %) (Double/parseDouble (str %))
                          (instance? Double %)
                          (let [d (.doubleValue ^Double %)
                                f (unchecked-float d)]
                            (if (== d (double f)) (Double/parseDouble (Float/toString f)) %))
                          :else (.doubleValue ^Number %))
            :decimal #(cond (instance? BigDecimal %) %
                            (instance? Numeric %) (.bigDecimalValue ^Numeric %)
                            (string? %) (BigDecimal. ^String %)
                            (integer? %) (bigdec %)
                            :else (BigDecimal. (str %)))
            :uuid #(if (instance? UUID %) % (UUID/fromString (str %)))
            :datetime #(if (instance? LocalDateTime %) % (LocalDateTime/parse (str %) datetime-parse))
            :timestamptz #(cond (instance? OffsetDateTime %) (.withOffsetSameInstant ^OffsetDateTime % ZoneOffset/UTC)
                                (instance? LocalDateTime %) (.atOffset ^LocalDateTime % ZoneOffset/UTC)
                                :else (->utc (.parse datetime-parse (str %))))
            :date #(if (instance? LocalDate %) % (LocalDate/parse (str %)))
            ;; MariaDB's TIME is an interval: the driver gives a Duration
            :time #(cond (instance? LocalTime %) %
                         (instance? Duration %) (LocalTime/ofNanoOfDay (.toNanos ^Duration %))
                         :else (LocalTime/parse (str %)))
            ;; jsonb arrives parsed (scalars as String/Number/Boolean);
            ;; elsewhere JSON is text
            :json (if (= :native (:json (profile dialect))) <-java-json json-decode)
            :bytes ->bytes)]
    (fn [v] (if (nil? v) nil (f v)))))
