(ns vireo.sql
  "Pure data -> SQL formatter for PostgreSQL, MySQL (meaning MariaDB >= 10.5)
  and SQLite. No I/O, no connections: query maps and expression vectors in,
  `[sql & params]` out. The grammar is documented in docs/sql.md.

  Public vars:
    format            - given a query map (and {:dialect k}), returns [sql & params]
    dialects          - the built-in dialect maps, keyed :postgres :mysql :sqlite
    dialect           - given a dialect keyword, returns its map or throws
    register-dialect! - given a keyword and a dialect map, adds/replaces it
    ident             - given one or more strings, returns a verbatim identifier
    ident?            - given any value, returns true if it is an ident"
  (:refer-clojure :exclude [format ident?])
  (:require [clojure.string :as str])
  (:import (java.util ArrayList)
           (java.util.concurrent ConcurrentHashMap)
           (java.util.function Function)))

(set! *warn-on-reflection* true)

;; ============================================================== errors

(defn- programming-error
  [msg data]
  (ex-info msg (assoc data :type :vireo/programming-error)))

(defn- bad-form!
  "Throws a :vireo/programming-error whose message ends with the offending form."
  [msg form]
  (throw (programming-error (str msg ": " (pr-str form)) {:form form})))

(defn- not-supported!
  [d feature]
  (throw (ex-info (str feature " is not supported by " (:label d))
                  {:type :vireo/not-supported :dialect (:name d) :feature feature})))

;; ============================================================== text SQL cannot carry
;; What is written into the SQL text itself (identifiers, inlined literals,
;; :raw fragments) must be text every database takes: a NUL character ends
;; PostgreSQL's query string (the server drops the connection) and SQLite's
;; statement, and a lone UTF-16 surrogate is no Unicode text (the drivers
;; send it as ?). Both are refused here, naming what holds them. Formatted
;; SQL is cached per query shape, so this costs nothing on repeated queries.

(defn- unsendable
  "nil when string s can be written into SQL text, else why not."
  [^String s]
  (let [n (.length s)]
    (loop [i 0]
      (when (< i n)
        (let [c (.charAt s i)]
          (cond
            (= 0 (int c)) (str "it contains the NUL character (\\u0000) at index " i
                               ", which SQL text cannot carry")
            (not (Character/isSurrogate c)) (recur (inc i))
            (and (Character/isHighSurrogate c) (< (inc i) n) (Character/isLowSurrogate (.charAt s (inc i))))
            (recur (+ i 2))
            :else (str "it contains a lone UTF-16 surrogate (" (clojure.core/format "\\u%04X" (int c))
                       " at index " i "), which is not Unicode text: the drivers would send it as ?")))))))

(defn- escaped
  "pr-str of a string with its NUL and surrogate chars as \\uXXXX (raw,
  they would break the message itself), cut to 100 characters."
  ^String [^String s]
  (let [sb (StringBuilder. "\"")]
    (dotimes [i (min 100 (.length s))]
      (let [c (.charAt s i)]
        (cond (or (= 0 (int c)) (Character/isSurrogate c)) (.append sb (clojure.core/format "\\u%04X" (int c)))
              (or (= c \") (= c \\)) (.append (.append sb \\) c)
              :else (.append sb c))))
    (.append sb "\"")
    (when (> (.length s) 100) (.append sb (str "…(" (.length s) " characters)")))
    (.toString sb)))

(defn- sendable!
  "Returns string s when it can be written into SQL text, else throws a
  :vireo/programming-error naming it (`what`: \"Identifier\", …)."
  ^String [what ^String s]
  (if-let [why (unsendable s)]
    (throw (ex-info (str what " " (escaped s) " cannot be written into SQL: " why)
                    {:type :vireo/programming-error :text s :problem why}))
    s))

;; ============================================================== identifiers

(deftype Ident [parts]
  Object
  (equals [_ o] (and (instance? Ident o) (= parts (.-parts ^Ident o))))
  (hashCode [_] (unchecked-add-int 0x1d3a (hash parts)))
  (toString [_] (str/join "." parts)))

(alter-meta! #'->Ident assoc :private true)

(defmethod print-method Ident [^Ident x ^java.io.Writer w]
  (.write w (str "(vireo.sql/ident " (str/join " " (map pr-str (.-parts x))) ")")))

(defn ident
  "Given one or more non-empty strings, returns an identifier that is quoted
  verbatim (no kebab -> snake conversion, no dot splitting); several strings
  are joined with dots as qualified parts.

    (format {:select [(ident \"Exact Name\")] :from (ident \"t\")})
    ;=> [\"SELECT \\\"Exact Name\\\" FROM \\\"t\\\"\"]
    (ident \"t\" \"c\")  ; renders \"t\".\"c\""
  [part & more]
  (let [parts (into [part] more)]
    (doseq [p parts]
      (when-not (and (string? p) (pos? (count p)))
        (bad-form! "ident parts must be non-empty strings" parts)))
    (Ident. parts)))

(defn ident?
  "Given any value, returns true if it is an identifier made by `ident`.

    (ident? (ident \"x\")) ;=> true
    (ident? :x)          ;=> false"
  [x]
  (instance? Ident x))

(defn- quote-part
  ^String [q ^String s]
  (sendable! "Identifier" s)
  (let [qs (str q)]
    (str qs (.replace s qs (str qs qs)) qs)))

(defn- keyword->sql
  "Given a quote char and a keyword, returns its quoted SQL identifier:
  namespace and dots separate parts, `-` becomes `_`, a final `*` stays bare."
  ^String [q k]
  (let [full (if-let [n (namespace k)] (str n "." (name k)) (name k))
        parts (vec (.split ^String full "\\." -1))
        last-i (dec (count parts))
        sb (StringBuilder.)]
    (dotimes [i (count parts)]
      (let [^String p (nth parts i)]
        (when (pos? i) (.append sb "."))
        (cond
          (.isEmpty p) (bad-form! "Empty identifier part in keyword" k)
          (and (= i last-i) (= "*" p)) (.append sb "*")
          :else (.append sb (quote-part q (.replace p \- \_))))))
    (.toString sb)))

;; keyword -> quoted identifier, one cache per quote character. Keywords
;; come from callers (a keyword made from user input, one per distinct
;; name), so each cache is cleared when it reaches max-cached entries and
;; fills again with the names in use.
(def ^:private ^ConcurrentHashMap ident-caches (ConcurrentHashMap.))
(def ^:private ^:const max-cached 10000)

(defn- cache-put!
  "Puts k -> v in the bounded cache c (cleared when full); returns v."
  [^ConcurrentHashMap c k v]
  (when (>= (.size c) max-cached) (.clear c))
  (.put c k v)
  v)

(def ^:private new-cache
  (reify Function (apply [_ _] (ConcurrentHashMap.))))

;; function-call keyword -> validated SQL function name
(def ^:private ^ConcurrentHashMap fn-names (ConcurrentHashMap.))

(defn- fn-name
  ^String [op]
  (or (.get fn-names op)
      (let [s (-> (subs (str op) 1) (.replace \/ \.) (.replace \- \_) (str/upper-case))]
        (when-not (re-matches #"[A-Z_][A-Z0-9_$]*(\.[A-Z_][A-Z0-9_$]*)*" s)
          (bad-form! "Not a valid SQL function name" op))
        (cache-put! fn-names op s))))

;; ============================================================== dialects

(defn- hex
  ^String [^bytes b]
  (let [sb (StringBuilder. (* 2 (alength b)))]
    (dotimes [i (alength b)]
      (let [x (bit-and (aget b i) 0xff)]
        (.append sb (Character/forDigit (bit-shift-right x 4) 16))
        (.append sb (Character/forDigit (bit-and x 0xf) 16))))
    (.toString sb)))

(defn- ansi-string-literal
  "Given a string, returns it as a standard SQL literal ('' doubles a quote)."
  ^String [^String s]
  (str "'" (.replace s "'" "''") "'"))

(defn- mysql-string-literal
  "Given a string, returns a MySQL/MariaDB literal: backslashes are escaped
  too, because the default sql_mode treats them as escape characters."
  ^String [^String s]
  (str "'" (-> s (.replace "\\" "\\\\") (.replace "'" "''")) "'"))

(defn- sized [base] (fn [n] (str base "(" n ")")))

(defn- numeric [base bare]
  (fn ([] bare)
    ([p] (str base "(" p ")"))
    ([p s] (str base "(" p "," s ")"))))

(defn- any-args [s] (fn [& _] s))

(def dialects
  "The built-in dialects: keyword -> dialect map. `dialect` and `format` look
  dialects up in a registry that starts as this map and grows with
  `register-dialect!` (this var itself never changes). Keys of a dialect map:

    :name :label       keyword, and the backend name used in error messages
    :quote             identifier quote character
    :placeholder       :numbered ($1, $2 …), :positional (?) or (fn [n] sql)
    :returning         statement kinds (#{:insert :update :delete}) the dialect
                       can render RETURNING for (the most its servers have;
                       a database narrows it to what its server can do)
    :ilike :full-join  booleans: ILIKE / FULL JOIN available
    :limit-all         LIMIT literal used when only :offset is given (nil: bare OFFSET)
    :nulls-order       :native (NULLS FIRST/LAST) or :emulate (x IS NULL sort key)
    :compound-member   :parens or :subquery, how ordered/limited UNION members are wrapped
    :default-values    the tail of an INSERT with :values :default
    :truncate          the statement prefix for {:truncate t}
    :drop-cascade      boolean: DROP TABLE … CASCADE available
    :drop-index-on     boolean: DROP INDEX needs ON table
    :alter-table       the ALTER TABLE actions the dialect renders (#{:add-column
                       :drop-column :rename-column :rename-to :alter-column
                       :add-constraint :drop-foreign-key}); optional, nil: none.
                       What a backend lacks, vireo.migrate does by rebuilding
    :alter-column      :separate (ALTER COLUMN c TYPE …, SET/DROP NOT NULL,
                       SET/DROP DEFAULT) or :modify (MODIFY COLUMN with the
                       whole definition)
    :drop-foreign-key  the ALTER TABLE words dropping a named foreign key
    :column-references :inline or :table (hoist REFERENCES to FOREIGN KEY clauses)
    :fk-set-default    boolean: ON DELETE/UPDATE SET DEFAULT available (optional)
    :cte               where a WITH clause may start: statement kinds (:select
                       :set-operation :insert :update :delete) and :set-member
                       (a member of a set operation)
    :cte-dml           boolean: a CTE body may be an INSERT/UPDATE/DELETE
    :row-locks         SELECT … :for keyword -> SQL (:update :share, PG's
                       :no-key-update :key-share, :nowait :skip-locked); nil: none
    :frame-units       window frame units available (#{:rows :range :groups})
    :upsert            :on-conflict (ON CONFLICT … DO …), :on-duplicate-key
                       (ON DUPLICATE KEY UPDATE) or nil (no upsert)
    :upsert-untargeted-update  boolean: DO UPDATE allowed without a conflict target
    :upsert-select-guard       boolean: INSERT … SELECT with an upsert gets WHERE TRUE
                               (SQLite cannot parse `FROM t ON CONFLICT`)
                       (:cte … :upsert-select-guard are optional: a missing
                       one means the feature is not supported)
    :string-literal :bytes-literal  fns rendering inline literals
    :types :cast-types logical type -> SQL string, or fn of the type's arguments

    (get-in dialects [:mysql :types :text]) ;=> \"LONGTEXT\""
  {:postgres
   {:name :postgres :label "postgres" :quote \" :placeholder :numbered
    :returning #{:insert :update :delete} :ilike true :full-join true
    :limit-all nil :nulls-order :native :compound-member :parens
    :default-values "DEFAULT VALUES" :truncate "TRUNCATE TABLE"
    :drop-cascade true :drop-index-on false :column-references :inline :fk-set-default true
    :alter-table #{:add-column :drop-column :rename-column :rename-to :alter-column
                   :add-constraint :drop-foreign-key}
    :alter-column :separate :drop-foreign-key "DROP CONSTRAINT"
    :cte #{:select :set-operation :insert :update :delete :set-member} :cte-dml true
    :row-locks {:update "FOR UPDATE" :no-key-update "FOR NO KEY UPDATE" :share "FOR SHARE"
                :key-share "FOR KEY SHARE" :nowait "NOWAIT" :skip-locked "SKIP LOCKED"}
    :frame-units #{:rows :range :groups}
    :upsert :on-conflict :upsert-untargeted-update false :upsert-select-guard false
    :string-literal ansi-string-literal
    :bytes-literal (fn [b] (str "'\\x" (hex b) "'::bytea"))
    :types {:auto-pk "SERIAL PRIMARY KEY" :big-auto-pk "BIGSERIAL PRIMARY KEY"
            :char (sized "VARCHAR") :text "TEXT"
            :integer "INTEGER" :bigint "BIGINT" :smallint "SMALLINT"
            :boolean "BOOLEAN" :double "DOUBLE PRECISION" :float "REAL"
            :decimal (numeric "NUMERIC" "NUMERIC") :uuid "UUID"
            :datetime "TIMESTAMP" :timestamptz "TIMESTAMPTZ" :date "DATE" :time "TIME"
            :json "JSONB" :bytes "BYTEA"}
    :cast-types {}}

   :mysql
   {:name :mysql :label "mysql (MariaDB)" :quote \` :placeholder :positional
    ;; MariaDB >= 10.5; MySQL and older MariaDB have none (vireo.impl.db detects it)
    :returning #{:insert :delete} :ilike false :full-join false
    :limit-all "18446744073709551615" :nulls-order :emulate :compound-member :parens
    :default-values "() VALUES ()" :truncate "TRUNCATE TABLE"
    :drop-cascade false :drop-index-on true :column-references :table
    :alter-table #{:add-column :drop-column :rename-column :rename-to :alter-column
                   :add-constraint :drop-foreign-key}
    :alter-column :modify :drop-foreign-key "DROP FOREIGN KEY"
    ;; MariaDB 10.11: WITH only before SELECT (INSERT INTO t WITH … SELECT works
    ;; through the :select map), not before a parenthesised UNION member
    :cte #{:select :set-operation} :cte-dml false
    :row-locks {:update "FOR UPDATE" :share "LOCK IN SHARE MODE"
                :nowait "NOWAIT" :skip-locked "SKIP LOCKED"}
    :frame-units #{:rows :range}
    :upsert :on-duplicate-key :upsert-untargeted-update true :upsert-select-guard false
    :string-literal mysql-string-literal
    :bytes-literal (fn [b] (str "X'" (hex b) "'"))
    :types {:auto-pk "INTEGER AUTO_INCREMENT PRIMARY KEY"
            :big-auto-pk "BIGINT AUTO_INCREMENT PRIMARY KEY"
            :char (sized "VARCHAR") :text "LONGTEXT"
            :integer "INTEGER" :bigint "BIGINT" :smallint "SMALLINT"
            :boolean "BOOLEAN" :double "DOUBLE" :float "FLOAT"
            :decimal (numeric "DECIMAL" "DECIMAL(19,4)") :uuid "CHAR(36)"
            :datetime "DATETIME(6)" :timestamptz "DATETIME(6)" :date "DATE" :time "TIME(6)"
            :json "JSON" :bytes "LONGBLOB"}
    ;; CAST accepts fewer type names than column definitions do
    :cast-types {:char (sized "CHAR") :text "CHAR" :integer "SIGNED" :bigint "SIGNED"
                 :smallint "SIGNED" :boolean "SIGNED" :bytes "BINARY"}}

   :sqlite
   {:name :sqlite :label "sqlite" :quote \" :placeholder :positional
    :returning #{:insert :update :delete} :ilike false :full-join true
    :limit-all "-1" :nulls-order :native :compound-member :subquery
    :default-values "DEFAULT VALUES" :truncate "DELETE FROM"
    :drop-cascade false :drop-index-on false :column-references :inline :fk-set-default true
    ;; SQLite's ALTER TABLE: the rest is a table rebuild (vireo.migrate); its
    ;; DROP COLUMN refuses indexed and referencing columns, so it is rebuilt too
    :alter-table #{:add-column :rename-column :rename-to}
    :cte #{:select :set-operation :insert :update :delete :set-member} :cte-dml false
    :row-locks nil
    :frame-units #{:rows :range :groups}
    :upsert :on-conflict :upsert-untargeted-update true :upsert-select-guard true
    :string-literal ansi-string-literal
    :bytes-literal (fn [b] (str "X'" (hex b) "'"))
    :types {:auto-pk "INTEGER PRIMARY KEY" :big-auto-pk "INTEGER PRIMARY KEY"
            :char (sized "VARCHAR") :text "TEXT"
            :integer "INTEGER" :bigint "BIGINT" :smallint "SMALLINT"
            ;; "DOUBLE" (REAL affinity: the same 8-byte double as REAL). A
            ;; REAL column reads back exactly too (vireo.impl.backend.sqlite
            ;; reports it as DOUBLE to Vert.x); DOUBLE stays the name of the
            ;; type in the tables Vireo creates
            :boolean "INTEGER" :double "DOUBLE" :float "REAL"
            :decimal (any-args "TEXT") :uuid "TEXT"
            :datetime "TEXT" :timestamptz "TEXT" :date "TEXT" :time "TEXT"
            :json "TEXT" :bytes "BLOB"}
    :cast-types {}}})

(def ^:private registry (atom dialects))

(def ^:private required-dialect-keys
  [:quote :placeholder :returning :types :string-literal :bytes-literal
   :default-values :truncate :compound-member :nulls-order])

(defn- validate-dialect!
  [k m]
  (when-not (map? m) (bad-form! "Dialect must be a map" m))
  (let [missing (remove #(contains? m %) required-dialect-keys)]
    (when (seq missing)
      (throw (programming-error (str "Dialect " (pr-str k) " is missing keys "
                                     (str/join " " (map pr-str missing)))
                                {:dialect k :missing (vec missing)}))))
  (when-not (char? (:quote m)) (bad-form! "Dialect :quote must be a character" (:quote m)))
  m)

(defn dialect
  "Given a dialect keyword, returns the registered dialect map; throws a
  :vireo/programming-error naming the keyword when it is unknown.

    (:quote (dialect :mysql)) ;=> \\`
    (dialect :oracle)         ; throws \"Unknown SQL dialect :oracle …\""
  [k]
  (or (get @registry k)
      (throw (programming-error
              (str "Unknown SQL dialect " (pr-str k) " (known: "
                   (str/join ", " (map pr-str (sort (keys @registry)))) ")")
              {:dialect k}))))

(defn register-dialect!
  "Given a keyword and a dialect map (see `dialects` for the keys), adds or
  replaces that dialect and returns the stored map. :name is set to the
  keyword; :label becomes (name k) unless the map already names k.

    (register-dialect! :cockroach (assoc (dialect :postgres) :returning #{:insert}))
    (format {:delete-from :t} {:dialect :cockroach}) ;=> [\"DELETE FROM \\\"t\\\"\"]"
  [k m]
  (when-not (keyword? k) (bad-form! "Dialect name must be a keyword" k))
  (validate-dialect! k m)
  (let [m (assoc m
                 :name k
                 :label (if (and (:label m) (= k (:name m))) (:label m) (name k)))]
    (swap! registry assoc k m)
    m))

(defn- placeholder-fn
  [d]
  (let [p (:placeholder d)]
    (cond
      (= p :numbered) (fn [n] (str "$" n))
      (= p :positional) (fn [_] "?")
      (fn? p) p
      :else (bad-form! "Dialect :placeholder must be :numbered, :positional or a fn" p))))

;; ============================================================== render context

;; One Ctx per `format` call: the dialect, the parameters collected so far (in
;; order of appearance), the identifier cache and whether values are inlined
;; (DDL) and whether [:excluded col] may appear (the DO UPDATE part of an
;; upsert). Renderers return strings and append parameters as they go, so every
;; renderer must render its parts strictly in output order.
(deftype Ctx [dialect ^ArrayList params ^ConcurrentHashMap idents inline placeholder excluded])

(alter-meta! #'->Ctx assoc :private true)

(defn- new-ctx
  ^Ctx [d]
  (Ctx. d (ArrayList.) (.computeIfAbsent ident-caches (:quote d) new-cache) false
        (placeholder-fn d) false))

(defn- inline-ctx
  ^Ctx [^Ctx ctx]
  (Ctx. (.-dialect ctx) (.-params ctx) (.-idents ctx) true (.-placeholder ctx) (.-excluded ctx)))

(defn- upsert-ctx
  "Given a ctx, returns one (sharing its parameters) in which [:excluded col]
  is allowed: the DO UPDATE part of an upsert."
  ^Ctx [^Ctx ctx]
  (Ctx. (.-dialect ctx) (.-params ctx) (.-idents ctx) (.-inline ctx) (.-placeholder ctx) true))

(defn- dia [^Ctx ctx] (.-dialect ctx))

(defn- kw-ident
  ^String [^Ctx ctx k]
  (let [^ConcurrentHashMap cache (.-idents ctx)]
    (or (.get cache k)
        (cache-put! cache k (keyword->sql (:quote (.-dialect ctx)) k)))))

(defn- ident-sql
  ^String [^Ctx ctx ^Ident x]
  (let [q (:quote (.-dialect ctx))]
    (str/join "." (map #(quote-part q %) (.-parts x)))))

(defn- name-sql
  "Given a keyword or ident naming a table/column/index, returns it quoted."
  ^String [ctx x]
  (cond
    (keyword? x) (kw-ident ctx x)
    (ident? x) (ident-sql ctx x)
    :else (bad-form! "Expected a keyword or (ident …) naming a table or column" x)))

(defn- alias-sql
  "Given an alias keyword or ident, returns one quoted identifier (no dot split)."
  ^String [^Ctx ctx x]
  (cond
    (keyword? x) (quote-part (:quote (.-dialect ctx)) (.replace (subs (str x) 1) \- \_))
    (ident? x) (ident-sql ctx x)
    :else (bad-form! "An alias must be a keyword or (ident …)" x)))

(defn- column-list
  [ctx cols]
  (let [cols (if (sequential? cols) cols [cols])]
    (when (empty? cols) (bad-form! "Expected at least one column" cols))
    (str "(" (str/join ", " (mapv #(name-sql ctx %) cols)) ")")))

;; ============================================================== literals & params

(defn- literal
  "Given a value, returns it as an inline SQL literal for the ctx's dialect."
  ^String [ctx v]
  (let [d (dia ctx)]
    (cond
      (nil? v) "NULL"
      (string? v) ((:string-literal d) (sendable! "Inline string" v))
      (boolean? v) (if v "TRUE" "FALSE")
      (keyword? v) ((:string-literal d) (sendable! "Inline string" (name v)))
      (or (instance? Long v) (instance? Integer v) (instance? Short v)
          (instance? Byte v) (instance? BigInteger v)
          (instance? clojure.lang.BigInt v)) (str v)
      (instance? BigDecimal v) (.toPlainString ^BigDecimal v)
      (or (instance? Double v) (instance? Float v))
      (let [x (double v)]
        (if (or (Double/isNaN x) (Double/isInfinite x))
          (bad-form! "Cannot inline a non-finite number" v)
          (str v)))
      (or (uuid? v) (char? v) (instance? java.time.temporal.Temporal v))
      ((:string-literal d) (sendable! "Inline string" (str v)))
      (bytes? v) ((:bytes-literal d) v)
      :else (bad-form! "Cannot render this value as a SQL literal" v))))

(defn- param!
  "Given a value, binds it as the next parameter and returns its placeholder
  (or, in an inline ctx such as DDL, returns it as a literal)."
  ^String [^Ctx ctx v]
  (if (.-inline ctx)
    (literal ctx v)
    (let [^ArrayList ps (.-params ctx)]
      (.add ps v)
      ((.-placeholder ctx) (.size ps)))))

;; ============================================================== expressions

(declare render-statement operators)

(defn- op-name [form] (pr-str (nth form 0 nil)))

(defn- arity!
  [form n]
  (when-not (= (count form) (inc n))
    (bad-form! (str "Wrong number of arguments for " (op-name form) " (expected " n ")") form)))

(defn- render-expr*
  "Given any expression, returns its SQL, or nil for an AND/OR left empty."
  [ctx x]
  (cond
    (vector? x) (let [op (nth x 0 nil)]
                  (cond
                    (empty? x) (bad-form! "Empty expression" x)
                    (not (keyword? op)) (bad-form! "Expression operator must be a keyword" x)
                    :else (if-let [f (get operators op)]
                            (f ctx x)
                            (str (fn-name op) "("
                                 (str/join ", " (mapv #(render-expr* ctx %) (subvec x 1)))
                                 ")"))))
    (keyword? x) (kw-ident ctx x)
    (nil? x) "NULL"
    (map? x) (str "(" (render-statement ctx x) ")")
    (ident? x) (ident-sql ctx x)
    :else (param! ctx x)))

(defn- render-expr
  "Like render-expr* but an empty AND/OR is an error (it has no value here)."
  ^String [ctx x]
  (or (render-expr* ctx x)
      (bad-form! "An AND/OR with no conditions is not allowed here" x)))

(def ^:private compound-ops
  #{:= :<> :!= :< :> :<= :>= :is :is-not :and :or :not :in :not-in
    :like :not-like :ilike :not-ilike :between :not-between :+ :- :* :/ :%})

(defn- empty-in? [x]
  (and (#{:in :not-in} (nth x 0)) (= 3 (count x))
       (let [c (nth x 2)] (and (or (sequential? c) (set? c)) (empty? c)))))

(defn- compound?
  "True when x renders as an operator expression that needs parentheses as
  an operand (identifiers, params, calls, casts and subqueries do not)."
  [x]
  (and (vector? x) (contains? compound-ops (nth x 0 nil)) (not (empty-in? x))))

(defn- operand
  ^String [ctx x]
  (let [s (render-expr ctx x)]
    (if (compound? x) (str "(" s ")") s)))

(defn- binary-op [sql-op]
  (fn [ctx form]
    (arity! form 2)
    (str (operand ctx (nth form 1)) " " sql-op " " (operand ctx (nth form 2)))))

(defn- equality-op [sql-op null-test]
  (fn [ctx form]
    (arity! form 2)
    (let [a (nth form 1) b (nth form 2)]
      (cond
        (nil? b) (str (operand ctx a) " " null-test)
        (nil? a) (str (operand ctx b) " " null-test)
        :else (str (operand ctx a) " " sql-op " " (operand ctx b))))))

(defn- is-op [sql-op]
  (fn [ctx form]
    (arity! form 2)
    (let [b (nth form 2)]
      (str (operand ctx (nth form 1)) " " sql-op " "
           (cond (nil? b) "NULL" (true? b) "TRUE" (false? b) "FALSE" :else (operand ctx b))))))

(defn- wrap-compound
  ^String [x ^String s]
  (if (compound? x) (str "(" s ")") s))

(defn- logical-op [sql-op]
  (let [sep (str " " sql-op " ")]
    (fn [ctx form]
      ;; nil members and empty nested AND/OR are dropped; one survivor is
      ;; returned bare, two or more are joined with compound members wrapped
      (let [n (count form)]
        (loop [i 1, x0 nil, s0 nil, ^StringBuilder sb nil]
          (if (< i n)
            (let [x (nth form i)
                  s (when (some? x) (render-expr* ctx x))]
              (cond
                (nil? s) (recur (inc i) x0 s0 sb)
                (nil? s0) (recur (inc i) x s sb)
                :else (let [sb (or sb (.append (StringBuilder.) (wrap-compound x0 s0)))]
                        (.append sb sep)
                        (.append sb (wrap-compound x s))
                        (recur (inc i) x0 s0 sb))))
            (if sb (.toString sb) s0)))))))

(defn- in-op [sql-op empty-sql]
  (fn [ctx form]
    (arity! form 2)
    (let [x (nth form 1) coll (nth form 2)]
      (cond
        (map? coll) (str (operand ctx x) " " sql-op " (" (render-statement ctx coll) ")")
        (not (or (sequential? coll) (set? coll)))
        (bad-form! (str (op-name form) " needs a collection of values or a subquery map") form)
        (empty? coll) empty-sql
        :else (let [lhs (operand ctx x)]
                (str lhs " " sql-op " ("
                     (str/join ", " (mapv #(render-expr ctx %) coll)) ")"))))))

(defn- like-op [sql-op ilike?]
  (let [f (binary-op sql-op)]
    (fn [ctx form]
      (when (and ilike? (not (:ilike (dia ctx))))
        (not-supported! (dia ctx) sql-op))
      (f ctx form))))

(defn- between-op [sql-op]
  (fn [ctx form]
    (arity! form 3)
    (let [x (operand ctx (nth form 1))
          a (operand ctx (nth form 2))]
      (str x " " sql-op " " a " AND " (operand ctx (nth form 3))))))

(defn- arith-op [sql-op]
  (fn [ctx form]
    (let [n (dec (count form))]
      (cond
        (and (= sql-op "-") (= n 1))
        (let [s (operand ctx (nth form 1))]
          (if (str/starts-with? s "-") (str "- " s) (str "-" s)))
        (< n 2) (bad-form! (str "Operator " (op-name form) " needs at least 2 arguments") form)
        :else (str/join (str " " sql-op " ") (mapv #(operand ctx %) (subvec form 1)))))))

(declare resolve-type over-sql)

(defn- case-op
  "Given [:case c1 v1 … :else v], returns CASE WHEN c1 THEN v1 … ELSE v END."
  [ctx form]
  (let [args (subvec form 1)
        n (count args)
        else? (and (<= 2 n) (= :else (nth args (- n 2))))
        pairs (if else? (subvec args 0 (- n 2)) args)]
    (when (or (empty? pairs) (odd? (count pairs)) (some #(= :else %) (take-nth 2 pairs)))
      (bad-form! "Expected [:case cond value … :else value] (at least one pair, :else last)" form))
    (let [sb (StringBuilder. "CASE")]
      (doseq [[c v] (partition 2 pairs)]
        (.append sb " WHEN ")
        (.append sb (render-expr ctx c))
        (.append sb " THEN ")
        (.append sb (render-expr ctx v)))
      (when else?
        (.append sb " ELSE ")
        (.append sb (render-expr ctx (peek args))))
      (.append sb " END")
      (.toString sb))))

(defn- excluded-op
  "Given [:excluded col] inside the DO UPDATE part of an upsert, returns the
  reference to the value proposed for col: EXCLUDED.col, or VALUES(col) on an
  :on-duplicate-key dialect. Elsewhere it throws."
  [^Ctx ctx form]
  (arity! form 1)
  (when-not (.-excluded ctx)
    (bad-form! "[:excluded col] is only allowed in :do-update-set and :do-update-where" form))
  (let [c (nth form 1)
        col (if (or (keyword? c) (ident? c))
              (name-sql ctx c)
              (bad-form! "[:excluded col] takes a column keyword or (ident …)" form))]
    (case (:upsert (dia ctx))
      :on-duplicate-key (str "VALUES(" col ")")
      (str "EXCLUDED." col))))

(def ^:private operators
  "Operator keyword -> (fn [ctx form] sql). Every other keyword is a function call."
  {:= (equality-op "=" "IS NULL")
   :<> (equality-op "<>" "IS NOT NULL")
   :!= (equality-op "<>" "IS NOT NULL")
   :< (binary-op "<") :> (binary-op ">") :<= (binary-op "<=") :>= (binary-op ">=")
   :is (is-op "IS") :is-not (is-op "IS NOT")
   :and (logical-op "AND") :or (logical-op "OR")
   :not (fn [ctx form] (arity! form 1) (str "NOT (" (render-expr ctx (nth form 1)) ")"))
   :in (in-op "IN" "(1 = 0)") :not-in (in-op "NOT IN" "(1 = 1)")
   :like (like-op "LIKE" false) :not-like (like-op "NOT LIKE" false)
   :ilike (like-op "ILIKE" true) :not-ilike (like-op "NOT ILIKE" true)
   :between (between-op "BETWEEN") :not-between (between-op "NOT BETWEEN")
   :+ (arith-op "+") :- (arith-op "-") :* (arith-op "*") :/ (arith-op "/") :% (arith-op "%")
   :inline (fn [ctx form] (arity! form 1) (literal ctx (nth form 1)))
   :raw (fn [_ form]
          (arity! form 1)
          (if (string? (nth form 1)) (sendable! "Raw SQL" (nth form 1)) (bad-form! ":raw takes one SQL string" form)))
   :param (fn [ctx form] (arity! form 1) (param! ctx (nth form 1)))
   :lift (fn [ctx form] (arity! form 1) (param! ctx (nth form 1)))
   :exists (fn [ctx form]
             (arity! form 1)
             (if (map? (nth form 1))
               (str "EXISTS (" (render-statement ctx (nth form 1)) ")")
               (bad-form! ":exists takes a subquery map" form)))
   :cast (fn [ctx form]
           (arity! form 2)
           (let [x (render-expr ctx (nth form 1))]
             (str "CAST(" x " AS " (resolve-type ctx :cast-types (nth form 2)) ")")))
   :case case-op
   :distinct (fn [ctx form] (arity! form 1) (str "DISTINCT " (operand ctx (nth form 1))))
   :over (fn [ctx form] (over-sql ctx form))
   :excluded excluded-op})

;; ============================================================== types

(defn- resolve-type
  "Given a logical type (:text, [:char 40], [:decimal 10 2], [:raw \"CITEXT\"]),
  returns the dialect's SQL type, looking in `table-key` first, then :types."
  ^String [ctx table-key t]
  (let [d (dia ctx)
        [k args] (cond
                   (keyword? t) [t []]
                   (and (vector? t) (keyword? (first t)))
                   [(first t) (loop [a (subvec t 1)]
                                (if (and (seq a) (nil? (peek a))) (recur (pop a)) a))]
                   :else (bad-form! "A column type must be a keyword or [type & args]" t))]
    (if (= k :raw)
      (if (and (= 1 (count args)) (string? (first args)))
        (sendable! "Raw SQL type" (first args))
        (bad-form! "[:raw sql] type takes one string" t))
      (let [entry (or (get (get d table-key) k) (get (:types d) k))]
        (doseq [a args]
          (when-not (and (integer? a) (not (neg? a)))
            (bad-form! "Type arguments must be non-negative integers" t)))
        (cond
          (nil? entry) (throw (programming-error
                               (str "Unknown column type " (pr-str k) " for " (:label d))
                               {:form t :dialect (:name d)}))
          (string? entry) (if (seq args)
                            (bad-form! (str "Type " (pr-str k) " takes no arguments") t)
                            entry)
          :else (try (apply entry args)
                     (catch clojure.lang.ArityException _
                       (bad-form! (str "Wrong number of arguments for type " (pr-str k)) t))))))))

;; ============================================================== clause helpers

(defn- as-items
  "Given a clause value, returns a vector of items: a vector is the list, any
  single keyword/ident/map is a one-item list."
  [v]
  (cond (vector? v) v (sequential? v) (vec v) :else [v]))

(defn- aliased
  "Given an item that may be [x alias] or [x], returns x's SQL with AS alias."
  [ctx item]
  (if (vector? item)
    (case (count item)
      1 (render-expr ctx (nth item 0))
      2 (let [s (render-expr ctx (nth item 0))]
          (str s " AS " (alias-sql ctx (nth item 1))))
      (bad-form! "Expected [expr] or [expr alias]" item))
    (render-expr ctx item)))

(defn- item-list
  [ctx v what]
  (let [items (as-items v)]
    (when (empty? items) (bad-form! (str what " needs at least one item") v))
    (str/join ", " (mapv #(aliased ctx %) items))))

(defn- join-clause [sql-kw]
  (fn [ctx v]
    (when (= sql-kw "FULL JOIN")
      (when-not (:full-join (dia ctx)) (not-supported! (dia ctx) "FULL JOIN")))
    (when-not (and (sequential? v) (even? (count v)))
      (bad-form! (str sql-kw " takes [table condition …] pairs") v))
    (when (seq v)
      (str/join " " (mapv (fn [[t c]]
                            (let [ts (aliased ctx t)]
                              (str sql-kw " " ts
                                   (cond
                                     (and (vector? c) (= :using (first c)))
                                     (str " USING " (column-list ctx (subvec c 1)))
                                     :else (when-let [s (render-expr* ctx c)] (str " ON " s))))))
                          (partition 2 v))))))

(defn- condition-clause [sql-kw]
  (fn [ctx v] (when-let [s (render-expr* ctx v)] (str sql-kw " " s))))

(defn- order-item
  [ctx item]
  (if-not (vector? item)
    (render-expr ctx item)
    (let [[x dir nulls] item]
      (when (or (empty? item) (> (count item) 3)) (bad-form! "Expected [expr direction nulls]" item))
      (when-not (contains? #{nil :asc :desc} dir)
        (bad-form! "ORDER BY direction must be :asc or :desc (wrap calls: [[:lower :x] :asc])" item))
      (when-not (contains? #{nil :nulls-first :nulls-last} nulls)
        (bad-form! "ORDER BY nulls must be :nulls-first or :nulls-last" item))
      (let [dir-sql (case dir :asc " ASC" :desc " DESC" nil "")]
        (if (and nulls (= :emulate (:nulls-order (dia ctx))))
          (let [key-sql (render-expr ctx x)]
            (str "(" key-sql " IS NULL) " (if (= nulls :nulls-first) "DESC" "ASC") ", "
                 (render-expr ctx x) dir-sql))
          (str (render-expr ctx x) dir-sql
               (case nulls :nulls-first " NULLS FIRST" :nulls-last " NULLS LAST" nil "")))))))

(defn- list-clause [sql-kw render-item]
  (fn [ctx v]
    (let [items (as-items v)]
      (when (seq items)
        (str sql-kw " " (str/join ", " (mapv #(render-item ctx %) items)))))))

(defn- limit-offset
  [ctx q]
  (let [l (:limit q) o (:offset q)]
    (cond
      (and (some? l) (some? o))
      (let [ls (render-expr ctx l)] (str "LIMIT " ls " OFFSET " (render-expr ctx o)))
      (some? l) (str "LIMIT " (render-expr ctx l))
      (some? o) (if-let [all (:limit-all (dia ctx))]
                  (str "LIMIT " all " OFFSET " (render-expr ctx o))
                  (str "OFFSET " (render-expr ctx o))))))

(defn- returning-clause [kind]
  (fn [ctx v]
    (let [items (as-items v)]
      (when (seq items)
        (when-not (contains? (:returning (dia ctx)) kind)
          (not-supported! (dia ctx) (str "RETURNING on " (str/upper-case (name kind)))))
        (str "RETURNING " (item-list ctx items "RETURNING"))))))

;; A clause is {:keys #{…} :render (fn [ctx query] sql-or-nil)}; a statement
;; renders its clauses in vector order and joins the non-nil results.
(defn- clause
  "Given a key and (fn [ctx value] sql), returns a clause rendering that key
  when its value is non-nil."
  [k f]
  {:keys #{k} :render (fn [ctx q] (let [v (get q k)] (when (some? v) (f ctx v))))})

(defn- multi-clause [ks f] {:keys (set ks) :render f})

;; ============================================================== windows, row locks, CTEs

(def ^:private frame-units {:rows "ROWS" :range "RANGE" :groups "GROUPS"})

(defn- frame-bound
  "Given a frame bound (:current-row, [:preceding 2] …), returns its SQL."
  ^String [b]
  (cond
    (= b :unbounded-preceding) "UNBOUNDED PRECEDING"
    (= b :current-row) "CURRENT ROW"
    (= b :unbounded-following) "UNBOUNDED FOLLOWING"
    (and (vector? b) (= 2 (count b)) (#{:preceding :following} (nth b 0))
         (integer? (nth b 1)) (not (neg? (nth b 1))))
    (str (nth b 1) (if (= :preceding (nth b 0)) " PRECEDING" " FOLLOWING"))
    :else (bad-form! (str "A frame bound is :unbounded-preceding, :current-row, :unbounded-following,"
                          " [:preceding n] or [:following n] (n a non-negative integer)") b)))

(defn- frame-sql
  "Given a frame [unit start] or [unit start end], returns its SQL
  (ROWS|RANGE|GROUPS start, or … BETWEEN start AND end)."
  [ctx fr]
  (when-not (and (vector? fr) (<= 2 (count fr) 3) (contains? frame-units (nth fr 0)))
    (bad-form! "A window frame is [:rows|:range|:groups start] or [unit start end]" fr))
  (let [d (dia ctx)
        [unit start end] fr]
    (when-not (contains? (:frame-units d) unit)
      (not-supported! d (str (frame-units unit) " frame")))
    (when (= start :unbounded-following)
      (bad-form! "A window frame cannot start at :unbounded-following" fr))
    (when (= end :unbounded-preceding)
      (bad-form! "A window frame cannot end at :unbounded-preceding" fr))
    (str (frame-units unit) " "
         (if (= 3 (count fr))
           (str "BETWEEN " (frame-bound start) " AND " (frame-bound end))
           (frame-bound start)))))

(def ^:private window-spec-keys [:window :partition-by :order-by :frame])

(defn- window-spec
  "Given a window spec map {:window w :partition-by […] :order-by […] :frame […]},
  returns its SQL (without the parentheses); {} gives \"\"."
  ^String [ctx m]
  (let [unknown (remove (set window-spec-keys) (keys m))]
    (when (seq unknown)
      (bad-form! (str "Unknown window key(s) " (str/join " " (map pr-str unknown))) m)))
  (let [{w :window p :partition-by o :order-by fr :frame} m]
    (->> [(when (some? w) (alias-sql ctx w))
          (when (some? p) ((list-clause "PARTITION BY" render-expr) ctx p))
          (when (some? o) ((list-clause "ORDER BY" order-item) ctx o))
          (when (some? fr) (frame-sql ctx fr))]
         (remove nil?)
         (str/join " "))))

(defn- over-sql
  "Given [:over call window], where window is a spec map or the name of a
  :window entry, returns call OVER (spec) or call OVER name."
  [ctx form]
  (arity! form 2)
  (let [f (nth form 1) w (nth form 2)]
    (when-not (and (vector? f) (keyword? (nth f 0 nil)))
      (bad-form! "[:over call window] needs a function call such as [:row-number]" form))
    (let [call (render-expr ctx f)]
      (str call " OVER "
           (cond
             (map? w) (str "(" (window-spec ctx w) ")")
             (or (keyword? w) (ident? w)) (alias-sql ctx w)
             :else (bad-form! "An OVER window is a spec map or a window name" form))))))

(defn- pairs!
  "Given a clause value that must be a non-empty vector of [name x] pairs,
  returns it or throws naming the clause."
  [what v]
  (when-not (and (vector? v) (seq v) (every? #(and (vector? %) (= 2 (count %))) v))
    (bad-form! (str what " takes a non-empty vector of [name definition] pairs") v))
  v)

(defn- window-clause
  "Given :window's [[name spec] …], returns WINDOW name AS (spec), …"
  [ctx v]
  (str "WINDOW "
       (str/join ", " (mapv (fn [[n spec]]
                              (when-not (map? spec)
                                (bad-form! "A :window definition is a spec map" [n spec]))
                              (str (alias-sql ctx n) " AS (" (window-spec ctx spec) ")"))
                            (pairs! ":window" v)))))

(def ^:private lock-features
  "Lock keyword -> the name used when a dialect lacks it."
  {:update "FOR UPDATE" :no-key-update "FOR NO KEY UPDATE" :share "FOR SHARE"
   :key-share "FOR KEY SHARE" :nowait "NOWAIT" :skip-locked "SKIP LOCKED"})

(defn- lock-clause
  "Given :for's value, :update | :share | [strength :nowait|:skip-locked],
  returns the dialect's locking clause."
  [ctx v]
  (let [form (if (keyword? v) [v] v)
        d (dia ctx)]
    (when-not (and (vector? form) (<= 1 (count form) 2)
                   (#{:update :no-key-update :share :key-share} (nth form 0))
                   (every? #{:nowait :skip-locked} (subvec form 1)))
      (bad-form! (str ":for takes :update, :share, :no-key-update or :key-share,"
                      " optionally in a vector with :nowait or :skip-locked") v))
    (str/join " " (mapv #(or (get (:row-locks d) %) (not-supported! d (lock-features %))) form))))

(declare find-spec)

(def ^:private dml-kinds #{:insert :update :delete})

(defn- cte-sql
  "Given one [name body] pair of :with, returns name [(cols)] AS (body)."
  [ctx [n body]]
  (let [head (cond
               (or (keyword? n) (ident? n)) (name-sql ctx n)
               (and (vector? n) (<= 2 (count n))) (str (name-sql ctx (nth n 0)) " "
                                                      (column-list ctx (subvec n 1)))
               :else (bad-form! "A CTE name is a keyword, (ident …) or [name & columns]" n))
        kind (when (map? body) (:kind (find-spec body)))]
    (cond
      (not (or (#{:select :set-operation} kind) (dml-kinds kind)))
      (bad-form! "A CTE body must be a select, set-operation, insert, update or delete map" body)
      (and (dml-kinds kind) (not (:cte-dml (dia ctx))))
      (not-supported! (dia ctx) (str (str/upper-case (name kind)) " in WITH")))
    (str head " AS (" (render-statement ctx body) ")")))

(defn- with-clause
  "Given a statement kind, returns the clause rendering :with / :with-recursive
  (refused unless the dialect's :cte holds that kind)."
  [kind]
  (multi-clause
   [:with :with-recursive]
   (fn [ctx q]
     (let [w (:with q) r (:with-recursive q)]
       (when (and (some? w) (some? r))
         (bad-form! "Use :with or :with-recursive, not both" (select-keys q [:with :with-recursive])))
       (when-let [v (if (some? r) r w)]
         (let [d (dia ctx)]
           (when-not (contains? (:cte d) kind)
             (not-supported! d (str "WITH on " (str/upper-case (.replace (name kind) \- \space)))))
           (str (if (some? r) "WITH RECURSIVE " "WITH ")
                (str/join ", " (mapv #(cte-sql ctx %) (pairs! (if (some? r) ":with-recursive" ":with") v))))))))))

;; ============================================================== SELECT / set operations

(def ^:private select-clauses
  [(with-clause :select)
   (clause :select (fn [ctx v] (str "SELECT " (item-list ctx v "SELECT"))))
   (clause :select-distinct (fn [ctx v] (str "SELECT DISTINCT " (item-list ctx v "SELECT DISTINCT"))))
   (clause :from (fn [ctx v] (str "FROM " (item-list ctx v "FROM"))))
   (clause :join (join-clause "INNER JOIN"))
   (clause :inner-join (join-clause "INNER JOIN"))
   (clause :left-join (join-clause "LEFT JOIN"))
   (clause :right-join (join-clause "RIGHT JOIN"))
   (clause :full-join (join-clause "FULL JOIN"))
   (clause :cross-join (fn [ctx v]
                         (when-let [items (seq (as-items v))]
                           (str/join " " (mapv #(str "CROSS JOIN " (aliased ctx %)) items)))))
   (clause :where (condition-clause "WHERE"))
   (clause :group-by (list-clause "GROUP BY" render-expr))
   (clause :having (condition-clause "HAVING"))
   (clause :window window-clause)
   (clause :order-by (list-clause "ORDER BY" order-item))
   (multi-clause [:limit :offset] limit-offset)
   (clause :for lock-clause)])

(def ^:private set-ops
  {:union "UNION" :union-all "UNION ALL" :intersect "INTERSECT" :except "EXCEPT"})

(defn- set-member
  [ctx q]
  (when-not (map? q) (bad-form! "Set operation members must be query maps" q))
  (let [with? (some #(some? (get q %)) [:with :with-recursive])
        _ (when (and with? (not (contains? (:cte (dia ctx)) :set-member)))
            (not-supported! (dia ctx) "WITH in a set-operation member"))
        sql (render-statement ctx q)]
    (if (or with?
            (some #(some? (get q %)) [:order-by :limit :offset])
            (some #(contains? q %) (keys set-ops)))
      (case (:compound-member (dia ctx))
        :subquery (str "SELECT * FROM (" sql ")")
        (str "(" sql ")"))
      sql)))

(defn- set-op-clause [k]
  (clause k (fn [ctx members]
              (when-not (and (sequential? members) (seq members))
                (bad-form! (str (pr-str k) " takes a vector of query maps") members))
              (str/join (str " " (set-ops k) " ") (mapv #(set-member ctx %) members)))))

(def ^:private set-op-clauses
  (-> [(with-clause :set-operation)]
      (into (map set-op-clause) (keys set-ops))
      (into [(clause :order-by (list-clause "ORDER BY" order-item))
             (multi-clause [:limit :offset] limit-offset)])))

;; ============================================================== INSERT / UPDATE / DELETE

(defn- values-rows
  [ctx columns rows]
  (when-not (and (sequential? rows) (seq rows))
    (bad-form! ":values must be :default or a non-empty vector of rows" rows))
  (cond
    (every? map? rows)
    (let [cols (or (seq columns)
                   (->> rows (mapcat keys) distinct))
          col-sql (column-list ctx (vec cols))]
      (str col-sql " VALUES "
           (str/join ", " (mapv (fn [row]
                                  (str "(" (str/join ", " (mapv #(render-expr ctx (get row %)) cols)) ")"))
                                rows))))

    (every? sequential? rows)
    (let [width (if (seq columns) (count columns) (count (first rows)))]
      (doseq [r rows]
        (when-not (= width (count r))
          (bad-form! (str "Every :values row must have " width " values") r)))
      (str (when (seq columns) (str (column-list ctx columns) " "))
           "VALUES "
           (str/join ", " (mapv (fn [row]
                                  (str "(" (str/join ", " (mapv #(render-expr ctx %) row)) ")"))
                                rows))))

    :else (bad-form! ":values rows must be all vectors or all maps" rows)))

(def ^:private upsert-keys [:on-conflict :do-nothing :do-update-set :do-update-where])

(defn- upsert? [q] (some #(some? (get q %)) upsert-keys))

(defn- guard-upsert-select
  "Given an INSERT's :select map, returns it ready to be followed by an upsert
  clause: on a dialect with :upsert-select-guard (SQLite reads `FROM t ON …`
  as a join), a select without WHERE gets WHERE TRUE and any other query is
  wrapped as SELECT * FROM (…) WHERE TRUE."
  [ctx q select]
  (if-not (and (:upsert-select-guard (dia ctx)) (upsert? q))
    select
    (case (:kind (find-spec select))
      :select (if (some? (:where select)) select (assoc select :where [:raw "TRUE"]))
      {:select [:*] :from [[select :upsert_source]] :where [:raw "TRUE"]})))

(defn- insert-body
  [ctx {:keys [columns values select] :as q}]
  (cond
    (and (some? values) (some? select))
    (bad-form! "INSERT takes :values or :select, not both" {:values values :select select})
    (= :default values)
    (if (seq columns)
      (bad-form! ":values :default takes no :columns" columns)
      (:default-values (dia ctx)))
    (some? values) (values-rows ctx columns values)
    (some? select) (if (map? select)
                     (str (when (seq columns) (str (column-list ctx columns) " "))
                          (render-statement ctx (guard-upsert-select ctx q select)))
                     (bad-form! "INSERT :select must be a query map" select))
    :else (bad-form! "INSERT needs :values or :select" {:columns columns})))

(declare index-column)

(defn- conflict-target
  "Given :on-conflict's value, returns the vector of target columns ([] for
  none: nil, true or an empty vector)."
  [v]
  (let [items (cond (or (nil? v) (true? v)) [] (sequential? v) (vec v) :else [v])]
    (doseq [c items]
      (when-not (or (keyword? c) (ident? c) (vector? c))
        (bad-form! ":on-conflict takes true or a vector of columns (keywords, idents or expression vectors)" v)))
    items))

(defn- upsert-assignments
  "Given an upsert ctx and :do-update-set (columns, or a map col -> expr),
  returns the `col = expr, …` list."
  ^String [ctx v]
  (str/join ", "
            (cond
              (and (map? v) (seq v))
              (mapv (fn [[k x]] (str (name-sql ctx k) " = " (render-expr ctx x))) v)
              (and (sequential? v) (seq v))
              (mapv (fn [k] (str (name-sql ctx k) " = " (render-expr ctx [:excluded k]))) v)
              :else (bad-form! (str ":do-update-set takes a non-empty vector of columns"
                                    " or map of column -> expression") v))))

(defn- noop-column
  "Given an INSERT query and its conflict target, returns the column for
  MariaDB's no-op `col = col` (its stand-in for DO NOTHING): the statement's
  first column, else the target's first; throws when there is none."
  [ctx {:keys [columns values] :as q} targets]
  (let [c (or (first columns)
              (when (and (sequential? values) (every? map? values))
                (first (mapcat keys values)))
              (first (filter #(or (keyword? %) (ident? %)) targets)))]
    (if c
      (name-sql ctx c)
      (throw (programming-error
              (str ":do-nothing on " (:label (dia ctx)) " needs a column to assign"
                   " (give :columns or an :on-conflict column)")
              {:form (select-keys q [:insert-into :on-conflict :do-nothing])})))))

(defn- upsert-clause
  "Given an INSERT query, returns its upsert clause (from :on-conflict
  :do-nothing :do-update-set :do-update-where) in the dialect's :upsert
  syntax, or nil when it has none."
  [ctx q]
  (when (upsert? q)
    (let [{:keys [on-conflict do-nothing do-update-set do-update-where]} q
          d (dia ctx)
          targets (conflict-target on-conflict)
          update? (some? do-update-set)
          where-sql #(when (some? do-update-where)
                       (when-let [w (render-expr* (upsert-ctx ctx) do-update-where)]
                         (str " WHERE " w)))]
      (cond
        (and do-nothing update?)
        (bad-form! "An upsert takes :do-nothing or :do-update-set, not both" (select-keys q upsert-keys))
        (not (or do-nothing update?))
        (bad-form! "An upsert needs :do-nothing true or :do-update-set" (select-keys q upsert-keys))
        (and (some? do-update-where) (not update?))
        (bad-form! ":do-update-where needs :do-update-set" (select-keys q upsert-keys)))
      (case (:upsert d)
        :on-conflict
        (let [target (when (seq targets)
                       (str " (" (str/join ", " (mapv #(index-column ctx %) targets)) ")"))]
          (when (and update? (empty? targets) (not (:upsert-untargeted-update d)))
            (not-supported! d "ON CONFLICT DO UPDATE without a conflict target"))
          (if do-nothing
            (str "ON CONFLICT" target " DO NOTHING")
            (let [sets (upsert-assignments (upsert-ctx ctx) do-update-set)]
              (str "ON CONFLICT" target " DO UPDATE SET " sets (where-sql)))))

        :on-duplicate-key
        (do (when (some? do-update-where)
              (not-supported! d "ON CONFLICT … DO UPDATE … WHERE"))
            (str "ON DUPLICATE KEY UPDATE "
                 (if do-nothing
                   (let [c (noop-column ctx q targets)] (str c " = " c))
                   (upsert-assignments (upsert-ctx ctx) do-update-set))))

        (not-supported! d "ON CONFLICT")))))

(def ^:private insert-clauses
  [(with-clause :insert)
   (clause :insert-into (fn [ctx t] (str "INSERT INTO " (name-sql ctx t))))
   (multi-clause [:columns :values :select] insert-body)
   (multi-clause upsert-keys upsert-clause)
   (clause :returning (returning-clause :insert))])

(defn- set-clause
  [ctx m]
  (when-not (and (map? m) (seq m)) (bad-form! "UPDATE :set must be a non-empty map" m))
  (str "SET " (str/join ", " (mapv (fn [[k v]] (str (name-sql ctx k) " = " (render-expr ctx v))) m))))

(def ^:private update-clauses
  [(with-clause :update)
   (clause :update (fn [ctx t] (str "UPDATE " (name-sql ctx t))))
   (multi-clause [:set] (fn [ctx q] (set-clause ctx (:set q))))
   (clause :where (condition-clause "WHERE"))
   (clause :returning (returning-clause :update))])

(def ^:private delete-clauses
  [(with-clause :delete)
   (clause :delete-from (fn [ctx t] (str "DELETE FROM " (name-sql ctx t))))
   (clause :where (condition-clause "WHERE"))
   (clause :returning (returning-clause :delete))])

;; ============================================================== DDL

(def ^:private fk-actions
  {:cascade "CASCADE" :set-null "SET NULL" :set-default "SET DEFAULT"
   :restrict "RESTRICT" :no-action "NO ACTION"})

(defn- fk-action [sql-kw]
  (fn [ctx c]
    (let [a (get fk-actions (nth c 1 nil))]
      (when-not (and a (= 2 (count c)))
        (bad-form! (str "Expected [" (pr-str (first c)) " "
                        (str/join "|" (map pr-str (keys fk-actions))) "]") c))
      ;; InnoDB accepts SET DEFAULT and silently enforces NO ACTION instead
      (when (and (= :set-default (nth c 1)) (not (:fk-set-default (dia ctx))))
        (not-supported! (dia ctx) (str sql-kw " SET DEFAULT")))
      (str sql-kw " " a))))

(defn- default-sql
  [ctx v]
  (cond
    (and (vector? v) (#{:raw :inline} (first v))) (render-expr ctx v)
    (vector? v) (str "(" (render-expr ctx v) ")")
    :else (literal ctx v)))

(def ^:private column-constraints
  "Column constraint -> SQL string (keyword form) or (fn [ctx [op & args]] sql)."
  {:not-null "NOT NULL" :null "NULL" :unique "UNIQUE" :primary-key "PRIMARY KEY"
   :default (fn [ctx c] (arity! c 1) (str "DEFAULT " (default-sql ctx (nth c 1))))
   :references (fn [ctx c]
                 (when-not (<= 2 (count c) 3) (bad-form! "Expected [:references table column]" c))
                 (str "REFERENCES " (name-sql ctx (nth c 1))
                      (when (= 3 (count c)) (str " " (column-list ctx [(nth c 2)])))))
   :on-delete (fk-action "ON DELETE")
   :on-update (fk-action "ON UPDATE")
   :check (fn [ctx c] (arity! c 1) (str "CHECK (" (render-expr ctx (nth c 1)) ")"))
   :raw (fn [_ c] (arity! c 1) (sendable! "Raw SQL" (str (nth c 1))))})

(def ^:private fk-parts #{:references :on-delete :on-update})

(defn- constraint-sql
  [ctx table c]
  (let [k (if (vector? c) (first c) c)
        entry (get table k)]
    (cond
      (nil? entry) (bad-form! "Unknown constraint" c)
      (string? entry) (if (keyword? c) entry (bad-form! "Constraint takes no arguments" c))
      (vector? c) (entry ctx c)
      :else (bad-form! "Constraint needs arguments" c))))

(defn- fk-part? [c] (and (vector? c) (contains? fk-parts (first c))))

(defn- check-fk-parts!
  [col cs]
  (let [fks (filterv fk-part? cs)]
    (when (and (seq fks) (not= :references (first (first fks))))
      (bad-form! ":on-delete/:on-update must follow [:references …]" col))
    (when (< 1 (count (filter #(= :references (first %)) fks)))
      (bad-form! "Only one [:references …] per column" col))))

(defn- column-def
  "Given a column vector [name type & constraints], returns [column-sql fk-sql-or-nil]."
  [ctx col]
  (when-not (and (vector? col) (<= 2 (count col)))
    (bad-form! "A column is [name type & constraints]" col))
  (let [[n t & cs] col
        hoist? (= :table (:column-references (dia ctx)))
        _ (check-fk-parts! col cs)
        col-name (name-sql ctx n)
        body (->> (if hoist? (remove fk-part? cs) cs)
                  (mapv #(constraint-sql ctx column-constraints %)))
        fks (when hoist? (seq (filter fk-part? cs)))]
    [(str/join " " (into [col-name (resolve-type ctx :types t)] body))
     (when fks
       (str "FOREIGN KEY (" col-name ") "
            (str/join " " (mapv #(constraint-sql ctx column-constraints %) fks))))]))

(declare table-constraints)

(defn- foreign-key-sql
  [ctx c]
  (let [[_ cols refs & actions] c]
    (when-not (and (vector? refs) (= :references (first refs)) (< 2 (count refs)))
      (bad-form! "Expected [:foreign-key cols [:references table & cols] & actions]" c))
    (str/join " " (into [(str "FOREIGN KEY " (column-list ctx cols))
                         (str "REFERENCES " (name-sql ctx (nth refs 1)) " "
                              (column-list ctx (subvec refs 2)))]
                        (mapv #(constraint-sql ctx (select-keys column-constraints [:on-delete :on-update]) %)
                              actions)))))

(def ^:private table-constraints
  "Table constraint op -> (fn [ctx [op & args]] sql)."
  {:primary-key (fn [ctx c] (str "PRIMARY KEY " (column-list ctx (subvec c 1))))
   :unique (fn [ctx c] (str "UNIQUE " (column-list ctx (subvec c 1))))
   :foreign-key foreign-key-sql
   :check (fn [ctx c] (arity! c 1) (str "CHECK (" (render-expr ctx (nth c 1)) ")"))
   :constraint (fn [ctx c]
                 (arity! c 2)
                 (str "CONSTRAINT " (name-sql ctx (nth c 1)) " "
                      (constraint-sql ctx table-constraints (nth c 2))))})

(defn- create-table
  [ctx {:keys [create-table if-not-exists with-columns constraints]}]
  (when-not (and (sequential? with-columns) (seq with-columns))
    (bad-form! ":create-table needs a non-empty :with-columns vector" with-columns))
  (let [t (name-sql ctx create-table)
        cols (mapv #(column-def ctx %) with-columns)
        tcs (mapv (fn [c]
                    (if (vector? c)
                      (constraint-sql ctx table-constraints c)
                      (bad-form! "A table constraint is a vector" c)))
                  (as-items (or constraints [])))]
    (str "CREATE TABLE " (when if-not-exists "IF NOT EXISTS ") t " ("
         (str/join ", " (concat (map first cols) (keep second cols) tcs)) ")")))

(defn- drop-table
  [ctx {:keys [drop-table if-exists cascade]}]
  (when (and cascade (not (:drop-cascade (dia ctx))))
    (not-supported! (dia ctx) "DROP TABLE … CASCADE"))
  (str "DROP TABLE " (when if-exists "IF EXISTS ") (name-sql ctx drop-table)
       (when cascade " CASCADE")))

(defn- index-column
  [ctx c]
  (cond
    (or (keyword? c) (ident? c)) (name-sql ctx c)
    (vector? c) (str "(" (render-expr ctx c) ")")
    :else (bad-form! "An index column is a keyword, (ident …) or an expression vector" c)))

(defn- create-index
  [ctx {:keys [create-index on columns unique if-not-exists]}]
  (when (nil? on) (bad-form! ":create-index needs :on table" create-index))
  (when-not (and (sequential? columns) (seq columns))
    (bad-form! ":create-index needs a non-empty :columns vector" columns))
  (let [n (name-sql ctx create-index)
        t (name-sql ctx on)]
    (str "CREATE " (when unique "UNIQUE ") "INDEX " (when if-not-exists "IF NOT EXISTS ")
         n " ON " t " (" (str/join ", " (mapv #(index-column ctx %) columns)) ")")))

(defn- drop-index
  [ctx {:keys [drop-index on if-exists]}]
  (let [on? (:drop-index-on (dia ctx))]
    (when (and on? (nil? on))
      (throw (programming-error (str "DROP INDEX on " (:label (dia ctx)) " needs :on table")
                                {:form drop-index})))
    (str "DROP INDEX " (when if-exists "IF EXISTS ") (name-sql ctx drop-index)
         (when on? (str " ON " (name-sql ctx on))))))

(def ^:private alter-actions
  [:add-column :drop-column :rename-column :rename-to :alter-column :add-constraint :drop-foreign-key])

(defn- alter-column-separate
  "PostgreSQL's ALTER COLUMN sub-actions for a whole column definition: the
  type (USING an explicit cast), NOT NULL and DEFAULT, set or dropped."
  [ctx col]
  (let [[n t & cs] col
        c (name-sql ctx n)
        typ (resolve-type ctx :types t)
        default (some #(when (and (vector? %) (= :default (first %))) %) cs)]
    (doseq [x cs]
      (when-not (or (#{:null :not-null} x) (identical? x default))
        (bad-form! ":alter-column takes a column's type, :null/:not-null and [:default v] only" col)))
    (str/join ", " [(str "ALTER COLUMN " c " TYPE " typ " USING " c "::" typ)
                    (str "ALTER COLUMN " c (if (some #{:not-null} cs) " SET NOT NULL" " DROP NOT NULL"))
                    (if default
                      (str "ALTER COLUMN " c " SET " (constraint-sql ctx column-constraints default))
                      (str "ALTER COLUMN " c " DROP DEFAULT"))])))

(defn- alter-action
  [ctx q k]
  (let [v (get q k)
        d (dia ctx)]
    (when-not (contains? (:alter-table d) k)
      (not-supported! d (str "ALTER TABLE " (str/upper-case (str/replace (name k) "-" " ")))))
    (case k
      :add-column (let [[col fk] (column-def ctx v)]
                    (str "ADD COLUMN " col (when fk (str ", ADD " fk))))
      :drop-column (str "DROP COLUMN " (name-sql ctx v))
      :rename-column (do (when-not (and (vector? v) (= 2 (count v)))
                           (bad-form! ":rename-column takes [from to]" v))
                         (str "RENAME COLUMN " (name-sql ctx (nth v 0)) " TO " (name-sql ctx (nth v 1))))
      :rename-to (str "RENAME TO " (name-sql ctx v))
      :alter-column (do (when-not (and (vector? v) (<= 2 (count v)))
                          (bad-form! "An :alter-column column is [name type & constraints]" v))
                        (if (= :modify (:alter-column d))
                          (str "MODIFY COLUMN " (first (column-def ctx v)))
                          (alter-column-separate ctx v)))
      :add-constraint (do (when-not (vector? v) (bad-form! "A table constraint is a vector" v))
                          (str "ADD " (constraint-sql ctx table-constraints v)))
      :drop-foreign-key (str (:drop-foreign-key d) " " (name-sql ctx v)))))

(defn- alter-table
  [ctx q]
  (let [present (filterv #(some? (get q %)) alter-actions)]
    (when-not (= 1 (count present))
      (bad-form! (str ":alter-table takes exactly one of " (str/join " " (map pr-str alter-actions))) q))
    (str "ALTER TABLE " (name-sql ctx (:alter-table q)) " " (alter-action ctx q (first present)))))

(defn- ddl [ks f] [(multi-clause ks (fn [ctx q] (f (inline-ctx ctx) q)))])

;; ============================================================== statements

(def ^:private statements
  "Statement kinds, tried in order; the first whose lead key is present (non-nil)
  wins. Every key of the query must belong to one of its clauses."
  [{:kind :insert :lead [:insert-into] :clauses insert-clauses}
   {:kind :update :lead [:update] :clauses update-clauses}
   {:kind :delete :lead [:delete-from] :clauses delete-clauses}
   {:kind :create-table :lead [:create-table]
    :clauses (ddl [:create-table :if-not-exists :with-columns :constraints] create-table)}
   {:kind :drop-table :lead [:drop-table]
    :clauses (ddl [:drop-table :if-exists :cascade] drop-table)}
   {:kind :create-index :lead [:create-index]
    :clauses (ddl [:create-index :on :columns :unique :if-not-exists] create-index)}
   {:kind :drop-index :lead [:drop-index]
    :clauses (ddl [:drop-index :on :if-exists] drop-index)}
   {:kind :alter-table :lead [:alter-table]
    :clauses (ddl (into [:alter-table] alter-actions) alter-table)}
   {:kind :truncate :lead [:truncate]
    :clauses (ddl [:truncate] (fn [ctx q] (str (:truncate (dia ctx)) " " (name-sql ctx (:truncate q)))))}
   {:kind :set-operation :lead (vec (keys set-ops)) :clauses set-op-clauses}
   {:kind :select :lead [:select :select-distinct] :clauses select-clauses}])

(def ^:private lead->spec
  "Lead key -> statement spec with its :priority (index) and :allowed keys."
  (into {} (for [[i s] (map-indexed vector statements)
                 :let [s (assoc s :priority i
                                :allowed (into #{} (mapcat :keys) (:clauses s))
                                :renders (mapv :render (:clauses s)))]
                 k (:lead s)]
             [k s])))

(def ^:private statement-keys (set (keys lead->spec)))

(defn- find-spec
  "Given a query map, returns the spec of the highest-priority lead key present."
  [q]
  (reduce-kv (fn [best k v]
               (let [s (when (some? v) (get lead->spec k))]
                 (if (and s (or (nil? best) (< (long (:priority s)) (long (:priority best)))))
                   s
                   best)))
             nil q))

(defn- render-statement
  "Given a ctx and a query map, returns its SQL (parameters go to the ctx)."
  ^String [ctx q]
  (when-not (map? q) (bad-form! "A query must be a map" q))
  (let [spec (find-spec q)]
    (when-not spec
      (throw (programming-error
              (str "Query map has no statement key (one of "
                   (str/join " " (map pr-str (sort statement-keys))) "): " (pr-str q))
              {:form q})))
    (let [allowed (:allowed spec)
          unknown (reduce-kv (fn [acc k _] (if (contains? allowed k) acc (conj acc k))) [] q)]
      (when (< 1 (count (:lead spec)))
        (let [leads (filterv #(some? (get q %)) (:lead spec))]
          (when (< 1 (count leads))
            (bad-form! (str "Conflicting statement keys " (str/join " " (map pr-str leads))) q))))
      (when (seq unknown)
        (throw (programming-error
                (str "Unknown key(s) " (str/join " " (map pr-str unknown))
                     " in " (name (:kind spec)) " query: " (pr-str q))
                {:form q :unknown (vec unknown)})))
      (let [sb (StringBuilder.)]
        (reduce (fn [_ render]
                  (when-let [^String part (render ctx q)]
                    (when (pos? (.length sb)) (.append sb " "))
                    (.append sb part))
                  nil)
                nil (:renders spec))
        (.toString sb)))))

;; ============================================================== entry point

(defn format
  "Given a query map and optional options {:dialect :postgres|:mysql|:sqlite
  (or a dialect map)}, returns [sql & params]. Values become parameters
  ($1 … on :postgres, ? elsewhere) in order of appearance; identifiers are
  always quoted. Default dialect :postgres. Throws ex-info with :type
  :vireo/programming-error for a malformed query and :vireo/not-supported when
  the dialect lacks a feature.

    (format {:select [:id] :from :pageblock :where [:= :key \"a\"]})
    ;=> [\"SELECT \\\"id\\\" FROM \\\"pageblock\\\" WHERE \\\"key\\\" = $1\" \"a\"]
    (format {:select [:id] :from :pageblock :where [:= :key \"a\"]} {:dialect :mysql})
    ;=> [\"SELECT `id` FROM `pageblock` WHERE `key` = ?\" \"a\"]"
  ([query] (format query nil))
  ([query opts]
   (let [d (let [k (get opts :dialect :postgres)]
             (if (map? k) (validate-dialect! (:name k) k) (dialect k)))
         ctx (new-ctx d)
         sql (render-statement ctx query)]
     (into [sql] (.-params ctx)))))
