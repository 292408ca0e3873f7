(ns ^:vireo/per-backend vireo.sql-fuzz-test
  "A generative fuzz of vireo.sql (test.check): query data — selects with
  where/order/limit/joins, inserts, updates, deletes — built from hostile
  values (quotes, backslashes, NUL, lone surrogates, huge numbers, NaN,
  unicode, SQL injection attempts) and hostile identifiers.

  - `format-fuzz-test` (pure, once per run, every dialect): `vireo.sql/format`
    never throws anything but a typed :vireo/… ex-info; when it returns, every
    value is a parameter (no value's text is in the SQL), every [:inline …]
    string is in the SQL as a correctly escaped literal, and the SQL text
    holds no NUL and no lone surrogate.
  - `live-fuzz-test` (every backend): the same kinds of query data run on a
    scratch table beside a canary table: every failure is typed, values
    that succeed round-trip exactly, an UPDATE/DELETE changes at most the
    row it names, the table always equals the model kept beside it, and the
    canary is still there, unchanged (no injected SQL ever ran).

  Cases: VIREO_FUZZ_CASES (default 200 per property), seed VIREO_FUZZ_SEED
  (default fixed, logged), e.g.
  VIREO_FUZZ_CASES=10000 bin/test vireo.sql-fuzz-test"
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [clojure.test.check :as tc]
            [clojure.test.check.generators :as gen]
            [clojure.test.check.properties :as prop]
            [clojure.walk :as walk]
            [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.sql :as sql]
            [vireo.test-support :as ts :refer [await!]]))

(set! *warn-on-reflection* true)

(def ^:private cases
  (Long/parseLong (or (System/getenv "VIREO_FUZZ_CASES") "200")))

(def ^:private seed
  (Long/parseLong (or (System/getenv "VIREO_FUZZ_SEED") "20261203")))

;; ---------------------------------------------------------------- hostile text
(def ^:private fragments
  ["'" "''" "\"" "`" "\\" "\\'" "\\\\" ";" "--" "/*" "*/" "%" "_" "$1" "?" ":x" "\n" "\r\n" "\t" " "
   "'); DROP TABLE fuzz_canary; --" "\" OR 1=1 --" "' OR '1'='1" "1; DELETE FROM fuzz_canary"
   "`; DROP TABLE fuzz_canary; #" "\\'; DELETE FROM fuzz_canary; -- " "' UNION SELECT note FROM fuzz_canary --"
   "ä" "ß" "☃" "😀" "𝕏" "中文" "עברית" "e\u0301" "\u200b" "\uFEFF" "NULL" "null" "0x41" "1e309"])

(def ^:private poison ["\u0000" "\uD800" "\uDFFF" "a\u0000b" "\uDBFF\u0041"])

(defn- lone-surrogate? [^String s]
  (let [n (.length s)]
    (loop [i 0]
      (when (< i n)
        (let [c (.charAt s i)]
          (cond (not (Character/isSurrogate c)) (recur (inc i))
                (and (Character/isHighSurrogate c) (< (inc i) n) (Character/isLowSurrogate (.charAt s (inc i)))) (recur (+ i 2))
                :else true))))))

(defn- poisoned? [s] (boolean (or (str/includes? s "\u0000") (lone-surrogate? s))))

(def ^:private gen-code-points
  ;; any code point, surrogates (lone, as chars) and NUL included
  (gen/fmap (fn [cps] (let [sb (StringBuilder.)] (doseq [cp cps] (.appendCodePoint sb (int cp))) (str sb)))
            (gen/vector (gen/frequency [[6 (gen/choose 32 126)] [2 (gen/choose 0 0x2FF)] [2 (gen/choose 0x300 0xFFFF)]
                                        [1 (gen/choose 0x10000 0x10FFFF)]])
                        0 12)))

(def ^:private gen-text
  "Hostile text, NUL and lone surrogates included now and then."
  (gen/frequency
   [[10 (gen/fmap str/join (gen/vector (gen/frequency [[6 (gen/elements fragments)] [3 gen/string-alphanumeric]
                                                       [1 (gen/elements poison)]])
                                       0 8))]
    [3 gen-code-points]
    [1 (gen/fmap #(apply str (repeat % "'\\\"`")) (gen/choose 500 3000))]
    [1 (gen/return "")]]))

(def ^:private gen-clean-text (gen/such-that (complement poisoned?) gen-text 100))

;; ---------------------------------------------------------------- values
(def ^:private gen-long
  (gen/frequency [[4 gen/large-integer] [1 (gen/elements [Long/MIN_VALUE Long/MAX_VALUE 0 -1 (long Integer/MAX_VALUE) 2147483648])]]))

(def ^:private gen-huge
  (gen/one-of [(gen/fmap #(+ (bigint Long/MAX_VALUE) 1 (bigint (Math/abs (long %)))) gen/large-integer)
               (gen/fmap #(* (bigint %) 1000000000000000000000000N) gen/large-integer)
               (gen/fmap #(.toBigInteger (bigint %)) gen/large-integer)
               (gen/fmap #(BigDecimal. (str % ".123456789012345678901234567890")) gen/large-integer)]))

(def ^:private gen-double
  (gen/frequency [[4 (gen/double* {:infinite? false :NaN? false})]
                  [1 (gen/elements [-0.0 Double/MAX_VALUE Double/MIN_VALUE (- Double/MAX_VALUE) 1e-300])]]))

(def ^:private gen-odd-double (gen/elements [Double/NaN Double/POSITIVE_INFINITY Double/NEGATIVE_INFINITY]))

(def ^:private gen-value
  (gen/frequency [[8 gen-text] [3 gen-long] [2 gen-huge] [2 gen-double] [1 gen-odd-double] [1 gen/boolean]
                  [1 gen/uuid] [1 (gen/fmap #(java.time.LocalDate/ofEpochDay %) (gen/choose -100000 100000))]
                  [1 gen/bytes]]))

;; A value placed in query data is wrapped while the query is generated, so
;; that the property knows every value (and every inlined one) it placed.
(defrecord Val [v])
(defrecord Inline [v])

(defn- unwrap-query
  "[query values inlines]: the query with its Val/Inline wrappers replaced."
  [q]
  (let [vals (volatile! []) inlines (volatile! [])]
    [(walk/postwalk (fn [x]
                      (cond (instance? Val x) (do (vswap! vals conj (:v x)) (:v x))
                            (instance? Inline x) (do (vswap! inlines conj (:v x)) [:inline (:v x)])
                            :else x))
                    q)
     @vals @inlines]))

(def ^:private marker "⟪")

(def ^:private gen-val
  ;; strings carry a marker no identifier holds, to find them in SQL text
  (gen/fmap (fn [x] (->Val (if (string? x) (str marker x) x))) gen-value))

(def ^:private gen-inline
  (gen/fmap ->Inline (gen/frequency [[6 gen-text] [2 gen-long] [1 gen-double] [1 gen-odd-double] [1 gen/boolean]])))

;; ---------------------------------------------------------------- identifiers
(def ^:private ident-pool
  ["id" "name" "a b" "we\"ird" "it's" "back`tick" "semi;colon" "dash-ed" "dot.ted" "Ünïcödé" "名前" "emoji😀"
   "x\"; DROP TABLE fuzz_canary; --" "a`; DROP TABLE fuzz_canary; #" "select" "from" "where" "$1" "?" "--c"
   "/*c*/" "\\" "'" "\"\"" "``"])

(def ^:private gen-ident-text
  (gen/frequency [[12 (gen/elements ident-pool)] [4 (gen/not-empty gen/string-alphanumeric)]
                  [1 (gen/elements ["nu\u0000l" "lone\uD800" "\uDC00x"])] [2 (gen/not-empty gen-code-points)]]))

(def ^:private gen-ident
  (gen/one-of [(gen/fmap keyword gen-ident-text) (gen/fmap sql/ident gen-ident-text)]))

;; ---------------------------------------------------------------- query data
(def ^:private gen-pred
  (gen/one-of
   [(gen/tuple (gen/elements [:= :<> :!= :< :> :<= :>=]) gen-ident gen-val)
    (gen/fmap (fn [[c vs]] [:in c vs]) (gen/tuple gen-ident (gen/vector gen-val 1 4)))
    (gen/fmap (fn [[c vs]] [:not-in c vs]) (gen/tuple gen-ident (gen/vector gen-val 1 4)))
    (gen/fmap (fn [[c x]] [:like c x]) (gen/tuple gen-ident gen-val))
    (gen/fmap (fn [[c a b]] [:between c a b]) (gen/tuple gen-ident gen-val gen-val))
    (gen/fmap (fn [c] [:is c nil]) gen-ident)
    (gen/fmap (fn [[c x]] [:= c x]) (gen/tuple gen-ident gen-inline))
    (gen/fmap (fn [[c x]] [:= [:lower c] x]) (gen/tuple gen-ident gen-val))]))

(def ^:private gen-where
  (gen/recursive-gen (fn [inner]
                       (gen/one-of [(gen/fmap #(into [:and] %) (gen/vector inner 1 3))
                                    (gen/fmap #(into [:or] %) (gen/vector inner 1 3))
                                    (gen/fmap (fn [x] [:not x]) inner)]))
                     gen-pred))

(def ^:private gen-select-item
  (gen/one-of [gen-ident
               (gen/tuple gen-ident gen-ident)
               (gen/fmap (fn [a] [[:count :*] a]) gen-ident)
               (gen/fmap (fn [[x a]] [x a]) (gen/tuple gen-val gen-ident))]))

(def ^:private gen-limit
  (gen/frequency [[4 (gen/fmap ->Val (gen/choose 0 1000))] [1 gen-val]]))

(def ^:private gen-select
  (gen/let [items (gen/vector gen-select-item 1 4)
            table gen-ident
            alias (gen/one-of [(gen/return nil) gen-ident])
            join (gen/one-of [(gen/return nil) (gen/tuple (gen/elements [:join :left-join]) gen-ident gen-ident gen-ident)])
            where (gen/one-of [(gen/return nil) gen-where])
            order (gen/vector (gen/one-of [gen-ident (gen/tuple gen-ident (gen/elements [:asc :desc]))]) 0 2)
            limit (gen/one-of [(gen/return nil) gen-limit])
            offset (gen/one-of [(gen/return nil) gen-limit])]
    (cond-> {:select items :from (if alias [[table alias]] table)}
      join (assoc (first join) [(nth join 1) [:= (nth join 2) (nth join 3)]])
      where (assoc :where where)
      (seq order) (assoc :order-by order)
      limit (assoc :limit limit)
      offset (assoc :offset offset))))

(def ^:private gen-insert
  (gen/let [table gen-ident
            cols (gen/vector gen-ident 1 4)
            rows (gen/vector (gen/vector gen-val (count cols)) 1 3)]
    {:insert-into table :columns cols :values rows}))

(def ^:private gen-update
  (gen/let [table gen-ident
            sets (gen/vector (gen/tuple gen-ident gen-val) 1 3)
            where (gen/one-of [(gen/return nil) gen-where])]
    (cond-> {:update table :set (into {} sets)} where (assoc :where where))))

(def ^:private gen-delete
  (gen/let [table gen-ident where gen-where]
    {:delete-from table :where where}))

(def ^:private gen-query (gen/one-of [gen-select gen-select gen-insert gen-update gen-delete]))

;; ---------------------------------------------------------------- the pure property
(defn- vireo-error? [e]
  (and (instance? clojure.lang.ExceptionInfo e) (isa? (:type (ex-data e)) :vireo/error)))

(defn- same-value? [a b]
  (or (identical? a b)
      (and (not (bytes? a)) (= (class a) (class b)) (= a b))
      (and (number? a) (number? b) (Double/isNaN (double a)) (Double/isNaN (double b)))))

(defn- literal
  "The SQL literal [:inline s] must render for string s."
  [dialect ^String s]
  (str "'" (cond-> s (= dialect :mysql) (str/replace "\\" "\\\\") true (str/replace "'" "''")) "'"))

(defn- format-problem
  "nil when formatting q (with its values and inlined values) on `dialect`
  behaves, else what went wrong."
  [q vals inlines dialect]
  (let [r (try [:ok (sql/format q {:dialect dialect})]
               (catch Throwable e [:error e]))]
    (if (= :error (first r))
      (let [e (second r)]
        (when-not (vireo-error? e)
          {:untyped (str (class e) ": " (ex-message e))}))
      (let [[sql-text & params] (second r)]
        (cond
          (not (string? sql-text)) {:not-sql sql-text}
          (poisoned? sql-text) {:poisoned-sql sql-text}
          (str/includes? sql-text marker) {:value-inlined sql-text}
          (not (every? (fn [x] (some #(same-value? x %) params)) vals))
          {:value-not-a-parameter (remove (fn [x] (some #(same-value? x %) params)) vals) :sql sql-text}
          (not (every? #(str/includes? sql-text (literal dialect %)) (filter string? inlines)))
          {:inline-not-escaped (remove #(str/includes? sql-text (literal dialect %)) (filter string? inlines)) :sql sql-text})))))

(defn- report [label result]
  (println (format "  %s: %d cases, seed %d%s" label (long (:num-tests result 0))
                   (long (:seed result)) (if (:pass? result) "" " — FAILED")))
  result)

(declare note!)

(deftest ^{:backends #{(first (ts/backends))}} format-fuzz-test
  (let [problems (atom {})
        result (report "vireo.sql/format fuzz, every dialect"
                       (tc/quick-check cases
                                       (prop/for-all [q gen-query]
                                         (let [[q vals inlines] (unwrap-query q)]
                                           (doseq [d [:postgres :mysql :sqlite]]
                                             (when-let [p (format-problem q vals inlines d)]
                                               (note! problems (str (name d) " " (name (ffirst p))
                                                                    (when (:untyped p) (str " " (first (str/split (:untyped p) #":")))))
                                                      {:query q :problem p})))
                                           true))
                                       :seed seed :max-size 60))]
    (is (:pass? result) (pr-str result))
    (is (empty? @problems)
        (str "problems by kind:\n"
             (str/join "\n" (for [[k {:keys [count example]}] (sort-by key @problems)]
                              (str "  " count " × " k "\n      e.g. " (pr-str example))))))))

;; ---------------------------------------------------------------- live
(def ^:private canary-note "alive: '\"`\\ ☃")

(defn- exec [q] (v/aio-execute (ts/db) q))

(defn- outcome
  "[:ok value] or [:error e] of running query data (awaited)."
  [q]
  (try [:ok (await! (exec q))]
       (catch Throwable e [:error (v/error-type e) e])))

(defn- typed-or-ok [[k _ e]]
  (or (= :ok k) (vireo-error? (p/unwrap e))))

(defn- norm-num [x]
  (cond (nil? x) nil
        (instance? java.math.BigDecimal x) (.stripTrailingZeros ^java.math.BigDecimal x)
        (integer? x) (bigint x)
        :else x))

(defn- same-stored? [want got]
  (cond (and (string? want) (string? got)) (= want got)
        (and (float? want) (number? got)) (or (== (double want) (double got))
                                              (and (Double/isNaN (double want)) (Double/isNaN (double got))))
        (and (number? want) (number? got)) (= (norm-num want) (norm-num got))
        :else (= want got)))

(defn- row-of [id]
  (first (await! (exec {:select [:id :s :n :x] :from :fuzz_item :where [:= :id id]}))))

(defn- canary-ok? []
  (= [{:id 1 :note canary-note}]
     (mapv #(update % :id long) (await! (exec {:select [:id :note] :from :fuzz_canary})))))

(def ^:private live-columns
  ;; the value columns of the scratch table and what each is given
  {:s gen-text
   :n (gen/frequency [[5 gen-long] [1 gen-huge]])
   :x (gen/frequency [[5 gen-double] [1 gen-odd-double]])})

(def ^:private gen-live-pred
  ;; predicates on the scratch table's real columns, with hostile values
  (let [col (gen/elements [:s :n :x :id])
        val (gen/one-of [gen-value gen-text])]
    (gen/one-of
     [(gen/tuple (gen/elements [:= :<> :< :> :<= :>=]) col val)
      (gen/fmap (fn [[c vs]] [:in c vs]) (gen/tuple col (gen/vector val 1 4)))
      (gen/fmap (fn [[c x]] [:like c x]) (gen/tuple (gen/return :s) gen-text))
      (gen/fmap (fn [[c a b]] [:between c a b]) (gen/tuple col val val))
      (gen/fmap (fn [c] [:is c nil]) col)
      (gen/fmap (fn [[c x]] [:= c [:inline x]]) (gen/tuple (gen/return :s) gen-text))])))

(def ^:private gen-live-where
  (gen/recursive-gen (fn [inner] (gen/one-of [(gen/fmap #(into [:and] %) (gen/vector inner 1 3))
                                              (gen/fmap #(into [:or] %) (gen/vector inner 1 3))
                                              (gen/fmap (fn [x] [:not x]) inner)]))
                     gen-live-pred))

(def ^:private gen-live-case
  (gen/hash-map :s (:s live-columns) :n (:n live-columns) :x (:x live-columns)
                :s2 gen-text
                :update-where gen-live-where
                :select-where gen-live-where
                :delete? gen/boolean
                :delete-where gen-live-where
                :alias gen-ident-text
                :table-alias gen-ident-text
                :order (gen/elements [:s :n :x :id])
                :limit (gen/one-of [(gen/choose 0 50) gen-long gen-value])))

(defn- in-type?
  "Is the value of that column one the column's type holds (text without NUL
  or a lone surrogate, a long, a finite double)? Those must round-trip
  exactly; others may be refused (typed), or changed the way the database
  changes them (a decimal rounded into a BIGINT), which is only reported."
  [col value]
  (case col
    :s (and (string? value) (not (poisoned? value)))
    :n (instance? Long value)
    :x (and (instance? Double value) (Double/isFinite value))))

(defn- acceptable-change?
  "For a value outside its column's type that the database accepted: is what
  it stored a change the database documents (a decimal rounded into an
  integer column; SQLite keeping an integer too large for 64 bits as a
  float), not a corruption (an integer wrapped around to another)?"
  [want got]
  (cond
    (nil? got) false
    (and (integer? want) (integer? got)) false          ; a different integer: wrapped
    (and (integer? want) (float? got)) true             ; SQLite: REAL for an integer beyond 64 bits
    (and (decimal? want) (integer? got)) (< (.abs (.subtract (bigdec want) (bigdec got))) 1M)
    (and (decimal? want) (float? got)) true
    :else false))

(defn- kind-of
  "A short key grouping problems of one kind."
  [label e]
  (let [m (str (ex-message e))]
    (str (name label) ": " (.getName (class e)) ": "
         (-> (subs m 0 (min 70 (count m))) (str/replace #"\[.*" "[…")))))

(defn- live-case!
  "Runs one generated case on row `id`; keeps `model` (id -> row) in step
  with what the table holds. Calls (problem! kind detail) for each problem
  and (changed! col want got) for a value the database stored differently."
  [model id {:keys [s n x s2 update-where select-where delete? delete-where alias table-alias order limit] :as c}
   problem! changed!]
  (let [check-typed (fn [label q r]
                      (when-not (typed-or-ok r)
                        (problem! (kind-of label (nth r 2)) {:query q :error (ex-message (nth r 2)) :case c}))
                      r)
        run (fn [label q] (check-typed label q (outcome q)))
        check-row (fn [label]
                    (let [want (get @model id)
                          got (row-of id)]
                      (cond (and (nil? want) (nil? got)) nil
                            (or (nil? want) (nil? got)) (problem! (str (name label) ": row present/absent unlike the model")
                                                                  {:model want :table got :case c})
                            :else
                            (doseq [col [:s :n :x]
                                    :when (not (same-stored? (get want col) (get got col)))]
                              (if (or (in-type? col (get want col))
                                      (not (acceptable-change? (get want col) (get got col))))
                                (problem! (str (name label) ": " (name col) " did not round-trip"
                                               (when-not (in-type? col (get want col))
                                                 (str " (" (.getSimpleName (class (get want col))) " stored as "
                                                      (or (some-> (get got col) class .getSimpleName) "NULL") ")")))
                                          {:model want :table got :case c})
                                (do (changed! col (get want col) (get got col))
                                    ;; the model follows what the database made of it
                                    (swap! model assoc-in [id col] (get got col))))))))]
    ;; insert
    (let [r (run :insert {:insert-into :fuzz_item :columns [:id :s :n :x] :values [[id s n x]]})]
      (when (= :ok (first r)) (swap! model assoc id {:s s :n n :x x}))
      (when (and (not= :ok (first r)) (in-type? :s s) (in-type? :n n) (in-type? :x x))
        ;; plain text, a long and a finite double always fit these columns
        (problem! (kind-of :insert-refused (nth r 2)) {:error (ex-message (nth r 2)) :case c}))
      (check-row :after-insert))
    ;; update of that row only, filtered by a hostile predicate
    (let [r (run :update {:update :fuzz_item :set {:s s2} :where [:and [:= :id id] update-where]})]
      (when (= :ok (first r))
        (let [changed (long (second r))]
          (when (> changed 1) (problem! "update: changed more than the row it names" {:changed changed :case c}))
          (when (and (= 1 changed) (get @model id)) (swap! model assoc-in [id :s] s2))))
      (check-row :after-update))
    ;; a select with hostile aliases, order and limit
    (let [r (run :select-alias {:select [[:s (sql/ident alias)]]
                                :from [[:fuzz_item (sql/ident table-alias)]]
                                :where [:= :id id] :order-by [[order :desc]] :limit limit})]
      (when (and (= :ok (first r)) (instance? Long limit) (pos? (long limit)) (get @model id))
        (let [rows (second r)]
          (when-not (and (= 1 (count rows)) (some #(same-stored? (get-in @model [id :s]) %) (vals (first rows))))
            (problem! "select-alias: not the row's value" {:rows rows :case c})))))
    ;; a select over the table with a hostile predicate: nothing but rows of the model
    (let [r (run :select {:select [:id] :from :fuzz_item :where select-where})]
      (when (= :ok (first r))
        (let [ids (set (map (comp long :id) (second r)))]
          (when-not (every? #(contains? @model %) ids)
            (problem! "select: rows the model does not have" {:ids ids :case c})))))
    ;; a delete of that row only
    (when delete?
      (let [r (run :delete {:delete-from :fuzz_item :where [:and [:= :id id] delete-where]})]
        (when (= :ok (first r))
          (let [gone (long (second r))]
            (when (> gone 1) (problem! "delete: removed more than the row it names" {:removed gone :case c}))
            (when (= 1 gone) (swap! model dissoc id))))
        (check-row :after-delete)))
    (when-not (canary-ok?) (problem! "the canary changed" {:case c}))))

(defn- table-vs-model
  "nil when the table holds exactly the model's rows, else a short diff."
  [model]
  (let [rows (await! (exec {:select [:id :s :n :x] :from :fuzz_item}))
        by-id (into {} (map (fn [r] [(long (:id r)) r])) rows)
        missing (remove by-id (keys model))
        extra (remove #(contains? model %) (keys by-id))
        differ (for [[id want] model
                     :let [got (by-id id)]
                     :when (and got (not (every? #(same-stored? (get want %) (get got %)) [:s :n :x])))]
                 id)]
    (when (or (seq missing) (seq extra) (seq differ))
      {:missing (take 5 missing) :extra (take 5 extra) :differ (count differ)
       :e.g. (when-let [id (first differ)] {:model (get model id) :table (by-id id)})})))

(defn- note!
  "Adds one occurrence of `kind` to the atom `acc` (kind -> {:count :example}),
  keeping the shortest example."
  [acc kind example]
  (swap! acc update kind (fn [{:keys [count] ex :example}]
                           {:count (inc (or count 0))
                            :example (if (and ex (<= (clojure.core/count (pr-str ex)) (clojure.core/count (pr-str example)))) ex example)})))

(deftest live-fuzz-test
  (let [d (ts/db)
        b ts/*backend*
        double-type (if (= b :sqlite) "REAL" "DOUBLE PRECISION")
        text-type (if (= b :mysql) "LONGTEXT" "TEXT")]
    (doseq [t ["fuzz_item" "fuzz_canary"]] (await! (v/aio-execute-sql d (str "DROP TABLE IF EXISTS " t))))
    (await! (v/aio-execute-sql d (str "CREATE TABLE fuzz_item (id BIGINT PRIMARY KEY, s " text-type ", n BIGINT, x " double-type ")")))
    (await! (v/aio-execute-sql d (str "CREATE TABLE fuzz_canary (id INTEGER PRIMARY KEY, note " text-type ")")))
    (await! (exec {:insert-into :fuzz_canary :columns [:id :note] :values [[1 canary-note]]}))
    (try
      (let [model (atom {})
            ids (java.util.concurrent.atomic.AtomicLong. 0)
            problems (atom {})
            changes (atom {})
            ;; every case runs (no stop at the first problem): the problems
            ;; found are grouped by kind, each with its smallest example
            result (report (str "live fuzz [" (name b) "]")
                           (tc/quick-check cases
                                           (prop/for-all [c gen-live-case]
                                             (live-case! model (.incrementAndGet ids) c
                                                         (fn [kind detail] (note! problems kind detail))
                                                         (fn [col want got]
                                                           (note! changes (str (name col) ": " (.getSimpleName (class want))
                                                                               " stored as " (some-> got class .getSimpleName))
                                                                  [want got])))
                                             true)
                                           :seed seed :max-size 40))]
        (is (:pass? result) (pr-str result))
        (doseq [[k {:keys [count example]}] (sort-by key @changes)]
          (println (format "  [%s] stored differently (not a failure), %d× %s, e.g. %s" (name b) count k (pr-str example))))
        (is (empty? @problems)
            (str "problems by kind:\n"
                 (str/join "\n" (for [[k {:keys [count example]}] (sort-by key @problems)]
                                  (str "  " count " × " k "\n      e.g. " (pr-str example))))))
        (testing "afterwards the table is what the model says and the canary is unchanged"
          (is (nil? (table-vs-model @model)))
          (is (canary-ok?))))
      (finally
        (doseq [t ["fuzz_item" "fuzz_canary"]] (await! (v/aio-execute-sql d (str "DROP TABLE IF EXISTS " t))))))))
