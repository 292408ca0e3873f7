(ns ^:no-doc vireo.impl.migrate
  "Schema migrations behind vireo.migrate: steps as data, checked up front;
  each step turned into vireo.sql ALTER TABLE / index / table query maps
  (pure, `step-queries`), or, for what the backend's ALTER TABLE cannot do
  (the dialect's :alter-table set), into the backend's table rebuild
  (traits :migrations :table-rebuild: SQLite's 12 steps); the runner (a
  versions table, a lock, one transaction per migration where DDL is
  transactional); the diff of a model against its live table.

  Nothing here names a backend: what differs is read from the dialect map
  and the backend's traits (:migrations, :introspection)."
  (:require [clojure.string :as str]
            [clojure.walk :as walk]
            [vireo.impl.context :as ctx]
            [vireo.impl.db :as db]
            [vireo.impl.errors :as err]
            [vireo.impl.model :as model]
            [vireo.impl.ops :as ops]
            [vireo.impl.schema :as schema]
            [vireo.promise :as p]
            [vireo.sql :as sql])
  (:import (io.vertx.sqlclient Row RowSet)
           (java.security MessageDigest)
           (java.nio.charset StandardCharsets)))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- errors
(defn- invalid
  "A :vireo/migration-error: the migration data is wrong (`problem` a keyword)."
  [problem msg data]
  (err/error :vireo/migration-error msg (assoc data :problem problem)))

;; ---------------------------------------------------------------- step data
(def ops
  "Step op -> {:required #{keys} :optional #{keys}} (besides :op)."
  {:create-table {:required #{:table :fields} :optional #{:indexes :primary-key :constraints}}
   :drop-table {:required #{:table} :optional #{}}
   :rename-table {:required #{:table :to} :optional #{}}
   :add-column {:required #{:table :column :spec} :optional #{}}
   :drop-column {:required #{:table :column} :optional #{}}
   :rename-column {:required #{:table :column :to} :optional #{}}
   :alter-column {:required #{:table :column :spec} :optional #{}}
   :add-index {:required #{:table :columns} :optional #{:unique :name}}
   :drop-index {:required #{:table} :optional #{:name :columns}}
   :add-foreign-key {:required #{:table :column :references} :optional #{:on-delete :on-update :name}}
   :drop-foreign-key {:required #{:table :column} :optional #{:name}}
   :sql {:required #{:sql} :optional #{:params}}})

(defn- table-name
  "A step's table: a non-empty string, or a model (its table)."
  [t]
  (if (model/model? t) (:table t) t))

(defn- column-name
  "A column given as a string (verbatim) or a keyword (snake_case, as a
  model field's default column)."
  [c]
  (if (keyword? c) (str/replace (name c) "-" "_") c))

(defn- name? [x] (or (and (string? x) (seq x)) (keyword? x)))

(declare step-queries)

(defn- check-step!
  "Throws a :vireo/migration-error naming what is wrong with step `s` (the
  `i`th of migration `id`); returns s."
  [id i s]
  (let [where (str (when id (str "migration " (pr-str id) ", ")) "step " (inc (long i)))]
    (when-not (map? s)
      (throw (invalid :bad-step (str where ": a step is a map like {:op :add-column …}, got " (pr-str s))
                      {:migration id :step s})))
    (let [op (:op s)
          spec (get ops op)]
      (when-not spec
        (throw (invalid :unknown-op (str where ": unknown op " (pr-str op) "; known: "
                                         (str/join ", " (map pr-str (sort (keys ops)))))
                        {:migration id :step s :op op})))
      (let [allowed (into (conj (:required spec) :op) (:optional spec))
            unknown (remove allowed (keys s))
            missing (remove #(some? (get s %)) (:required spec))]
        (when (seq unknown)
          (throw (invalid :unknown-key (str where ": unknown key(s) " (str/join ", " (map pr-str unknown))
                                            " for " (pr-str op) "; it takes " (str/join ", " (map pr-str (sort allowed))))
                          {:migration id :step s :keys (vec unknown)})))
        (when (seq missing)
          (throw (invalid :missing-key (str where ": " (pr-str op) " needs " (str/join ", " (map pr-str missing)))
                          {:migration id :step s :keys (vec missing)}))))
      (let [bad (fn [k what]
                  (throw (invalid :bad-value (str where ": " (pr-str op) " " k " must be " what ", got " (pr-str (get s k)))
                                  {:migration id :step s :key k})))
            t (table-name (:table s))]
        (when (and (contains? s :table) (not (and (string? t) (seq t)))) (bad :table "a table name (a non-empty string) or a model"))
        (doseq [k [:column :to :name] :when (contains? s k)]
          (when-not (name? (get s k)) (bad k "a name (a non-empty string, or a keyword)")))
        (when (contains? s :spec) (when-not (map? (:spec s)) (bad :spec "a field spec map like {:type :text}")))
        (when (contains? s :columns)
          (when-not (and (vector? (:columns s)) (seq (:columns s)) (every? name? (:columns s)))
            (bad :columns "a non-empty vector of column names")))
        (when (= op :drop-index)
          (when-not (or (:name s) (:columns s)) (bad :name "given (or :columns, naming the index as :add-index does)")))
        (when (contains? s :references)
          (let [r (:references s)]
            (when-not (and (vector? r) (= 2 (count r)) (name? (table-name (first r))) (name? (second r)))
              (bad :references "[table column]"))))
        (when (and (= op :sql) (not (and (string? (:sql s)) (seq (:sql s))))) (bad :sql "a SQL string"))
        (when (and (contains? s :params) (not (vector? (:params s)))) (bad :params "a vector"))
        (when (= op :create-table)
          (let [f (:fields s)]
            (when-not (or (map? f) (and (vector? f) (even? (count f))))
              (bad :fields "a vector (or map) of field name / spec pairs, as in a model"))))))
    ;; the column specs and tables, as models are checked (:vireo/model-error naming the field)
    (step-queries s)
    s))

(defn check-steps!
  "Given steps (a vector of step maps), returns them, or throws a
  :vireo/migration-error naming the first problem."
  ([steps] (check-steps! nil steps))
  ([id steps]
   (when-not (sequential? steps)
     (throw (invalid :bad-steps (str (when id (str "migration " (pr-str id) ": "))
                                     ":steps must be a vector of step maps, got " (pr-str steps))
                     {:migration id})))
   (doall (map-indexed #(check-step! id %1 %2) steps))
   (vec steps)))

(def ^:private migration-keys #{:id :steps :doc})

(defn checksum
  "The checksum of a migration's steps: SHA-256 (hex) of their printed form
  with every map's keys sorted (so an EDN file and code give the same)."
  [steps]
  (let [norm (walk/postwalk (fn [x] (cond (model/model? x) (:table x)
                                          (map? x) (into (sorted-map-by #(compare (str %1) (str %2))) x)
                                          :else x))
                            steps)
        md (MessageDigest/getInstance "SHA-256")
        bs (.digest md (.getBytes (pr-str norm) StandardCharsets/UTF_8))]
    (apply str (map #(format "%02x" (bit-and (long %) 0xff)) bs))))

(defn check-migrations!
  "Given migrations ([{:id \"001-…\" :steps [...]}]), returns them with their
  :checksum, or throws a :vireo/migration-error naming the problem: not a
  vector of maps, an unknown key, an id that is not a non-empty string, a
  duplicate id, a bad step."
  [migrations]
  (when-not (sequential? migrations)
    (throw (invalid :bad-migrations (str "migrations must be a vector of {:id \"…\" :steps [...]}, got "
                                         (pr-str migrations)) {})))
  (let [checked (mapv (fn [m]
                        (when-not (map? m)
                          (throw (invalid :bad-migration (str "a migration is a map {:id \"…\" :steps [...]}, got " (pr-str m)) {})))
                        (let [unknown (remove migration-keys (keys m))]
                          (when (seq unknown)
                            (throw (invalid :unknown-key (str "migration " (pr-str (:id m)) ": unknown key(s) "
                                                              (str/join ", " (map pr-str unknown)) "; known: "
                                                              (str/join ", " (map pr-str (sort migration-keys))))
                                            {:migration (:id m) :keys (vec unknown)}))))
                        (when-not (and (string? (:id m)) (seq (:id m)) (<= (count (:id m)) 255))
                          (throw (invalid :bad-id (str "a migration :id must be a non-empty string (at most 255 characters), got "
                                                       (pr-str (:id m))) {:migration (:id m)})))
                        (let [steps (check-steps! (:id m) (:steps m))]
                          (assoc m :steps steps :checksum (checksum steps))))
                      migrations)]
    (when-let [dup (first (for [[id n] (frequencies (map :id checked)) :when (> n 1)] id))]
      (throw (invalid :duplicate-id (str "migration id " (pr-str dup) " is given more than once") {:migration dup})))
    checked))

;; ---------------------------------------------------------------- steps -> query maps (pure)
(defn- field-column
  "The column vector of a column step's :spec (a model field spec)."
  [table col spec]
  (let [k (if (keyword? col) col (keyword col))
        f (model/column-field table k (cond-> spec (string? col) (assoc :column col)))]
    (model/column-def nil f)))

(defn- index-name [table cols]
  (model/short-name (str/join "_" (cons table (map column-name cols)))))

(defn- fk-name [{:keys [table column name]}]
  (if name (column-name name) (model/short-name (str (table-name table) "_" (column-name column) "_fkey"))))

(defn- step-model
  "The model a :create-table step describes."
  [{:keys [table fields indexes primary-key constraints]}]
  (model/make-model (str "(migration table " table ")")
                    (cond-> {:table table :fields fields}
                      indexes (assoc :indexes indexes)
                      primary-key (assoc :primary-key primary-key)
                      constraints (assoc :constraints constraints))))

(defn native?
  "Whether the dialect's ALTER TABLE does step `s` itself (else: a rebuild)."
  [dialect s]
  (let [action (case (:op s)
                 :drop-column :drop-column
                 :alter-column :alter-column
                 :add-foreign-key :add-constraint
                 :drop-foreign-key :drop-foreign-key
                 :add-column :add-column
                 :rename-column :rename-column
                 :rename-table :rename-to
                 nil)]
    (or (nil? action) (contains? (:alter-table (sql/dialect dialect)) action))))

(defn step-queries
  "Given a checked step (a dialect ALTER TABLE can do, see `native?`),
  returns its query maps (or [sql & params] vectors for :sql). Pure."
  [s]
  (let [t (table-name (:table s))
        ti (when t (sql/ident t))
        c (some-> (:column s) column-name)]
    (case (:op s)
      :create-table (model/create-table-queries (step-model (assoc s :table t)) {:safe false})
      :drop-table [{:drop-table ti}]
      :rename-table [{:alter-table ti :rename-to (sql/ident (table-name (:to s)))}]
      :add-column [{:alter-table ti :add-column (field-column t (:column s) (:spec s))}]
      :drop-column [{:alter-table ti :drop-column (sql/ident c)}]
      :rename-column [{:alter-table ti :rename-column [(sql/ident c) (sql/ident (column-name (:to s)))]}]
      :alter-column [{:alter-table ti :alter-column (field-column t (:column s) (:spec s))}]
      :add-index [{:create-index (sql/ident (if (:name s) (column-name (:name s)) (index-name t (:columns s))))
                   :on ti
                   :columns (mapv #(sql/ident (column-name %)) (:columns s))
                   :unique (boolean (:unique s))}]
      :drop-index [{:drop-index (sql/ident (if (:name s) (column-name (:name s)) (index-name t (:columns s))))
                    :on ti}]
      :add-foreign-key (let [[rt rc] (:references s)]
                         [{:alter-table ti
                           :add-constraint [:constraint (sql/ident (fk-name s))
                                            (cond-> [:foreign-key [(sql/ident c)]
                                                     [:references (sql/ident (table-name rt)) (sql/ident (column-name rc))]]
                                              (:on-delete s) (conj [:on-delete (:on-delete s)])
                                              (:on-update s) (conj [:on-update (:on-update s)]))]}])
      :drop-foreign-key [{:alter-table ti :drop-foreign-key (sql/ident (fk-name s))}]
      :sql [(into [(:sql s)] (:params s))])))

;; ---------------------------------------------------------------- running statements
(defn- run!*
  "Runs one statement ([sql & params]) on handle h; future of the RowSet."
  [d h [s & params]]
  (ctx/execute d s (vec params) {:connection h}))

(defn- rows
  "Future of the rows of a statement as vectors of values."
  [d h stmt]
  (p/map (run!* d h stmt)
         (fn [^RowSet rs]
           (let [it (.iterator rs)]
             (loop [acc []]
               (if (.hasNext it)
                 (let [^Row r (.next it)]
                   (recur (conj acc (mapv #(.getValue r (int %)) (range (.size r))))))
                 acc))))))

(defn- run-seq
  "Runs the statements one after another on h; future of nil."
  [d h stmts]
  (reduce (fn [f st] (p/then f (fn [_] (run!* d h st)))) (p/resolved nil) stmts))

(defn- formatted [d q] (if (map? q) (db/format-query d q) q))

;; ---------------------------------------------------------------- the table rebuild
(defn- rebuild-traits [d] (get-in (db/traits d) [:migrations :table-rebuild]))

(defn- skip-quoted
  "The index after the quoted text (string, identifier) opening at i in s."
  ^long [^String s ^long i]
  (let [open (.charAt s i)
        close (char (if (= open \[) \] open))
        n (.length s)]
    (loop [j (inc i)]
      (cond
        (>= j n) n
        (= close (.charAt s j)) (if (and (not= open \[) (< (inc j) n) (= close (.charAt s (inc j))))
                                  (recur (+ j 2))           ; a doubled quote inside
                                  (inc j))
        :else (recur (inc j))))))

(defn- closing-paren
  "The index of the parenthesis closing the one at i in s (quotes skipped)."
  ^long [^String s ^long i]
  (let [n (.length s)]
    (loop [j (inc i) depth 1]
      (if (>= j n)
        n
        (let [c (.charAt s j)]
          (cond
            (#{\' \" \` \[} c) (recur (skip-quoted s j) depth)
            (= c \() (recur (inc j) (inc depth))
            (= c \)) (if (= depth 1) j (recur (inc j) (dec depth)))
            :else (recur (inc j) depth)))))))

(defn- word-char? [^String s ^long i]
  (and (< -1 i (.length s))
       (let [c (.charAt s i)] (or (Character/isLetterOrDigit c) (= c \_)))))

(defn- check-expressions
  "The expressions of the CHECK constraints in a CREATE TABLE statement's
  text (a column's or the table's), in order."
  [^String s]
  (let [n (.length s)]
    (loop [i 0 out []]
      (if (>= i n)
        out
        (let [c (.charAt s i)]
          (cond
            (#{\' \" \` \[} c) (recur (skip-quoted s i) out)
            (and (not (word-char? s (dec i))) (.regionMatches s true i "CHECK" 0 5) (not (word-char? s (+ i 5))))
            (let [p (loop [p (+ i 5)] (if (and (< p n) (Character/isWhitespace (.charAt s p))) (recur (inc p)) p))]
              (if (and (< p n) (= \( (.charAt s p)))
                (let [e (closing-paren s p)]
                  (recur (inc e) (conj out (subs s (inc p) (min e n)))))
                (recur (+ i 5) out)))
            :else (recur (inc i) out)))))))

(defn- names-column?
  "Whether SQL expression e may name column c (quoted or as a word)."
  [^String e ^String c]
  (boolean (re-find (re-pattern (str "(?i)(?<![A-Za-z0-9_])(\\Q\"" c "\"\\E|\\Q" c "\\E)(?![A-Za-z0-9_])")) e)))

(defn- read-table
  "Future of the description of table `t` the rebuild works from."
  [d h t]
  (let [tr (rebuild-traits d)]
    (p/let [[table-sql] (p/map (rows d h [(:table-sql tr) t]) first)
            cols (rows d h [(:columns tr) t])
            fks (rows d h [(:foreign-keys tr) t])
            uniques (rows d h [(:unique tr) t])
            extras (rows d h [(:schema-sql tr) t])
            extras (p/all (mapv (fn [[type n s]]
                                  (if (= "index" type)
                                    (p/map (rows d h [(:index-columns tr) n])
                                           (fn [cs] {:type type :name n :sql s :columns (set (map first cs))}))
                                    (p/resolved {:type type :name n :sql s :columns #{}})))
                                extras))]
      (when-not table-sql
        (throw (err/error :vireo/programming-error (str "no such table: " t " (a rebuild needs it)") {:table t})))
      ;; what the rebuild reads back from the pragmas would lose these: refused, never dropped silently
      (when-let [what (some (fn [[re label]] (when (re-find re (str table-sql)) label))
                            [[#"(?i)\bCOLLATE\b" "COLLATE clause"]
                             [#"(?i)\bGENERATED\s+ALWAYS\b|\bAS\s*\(" "generated column"]])]
        (throw (err/error :vireo/not-supported
                          (str "table " t " has a " what ", which a table rebuild cannot carry over;"
                               " change this table with :sql steps") {:table t})))
      {:table t
       :autoincrement (boolean (re-find #"(?i)\bAUTOINCREMENT\b" (str table-sql)))
       :columns (mapv (fn [[n type notnull dflt pk]]
                        {:name n :type (str type) :not-null (= 1 (long notnull)) :default dflt :pk (long pk)})
                      cols)
       :fks (mapv (fn [rs]
                    (let [[_ _ rt _ _ on-update on-delete] (first rs)]
                      {:columns (mapv #(nth % 3) rs) :table rt :to (mapv #(nth % 4) rs)
                       :on-update on-update :on-delete on-delete}))
                  (vals (group-by first fks)))
       :uniques (mapv #(mapv second %) (vals (group-by first uniques)))
       ;; CHECK constraints, carried over as the table's: each with the columns it may name
       :checks (let [names (mapv (comp str first) cols)]
                 (mapv (fn [e] {:sql e :columns (set (filter #(names-column? e %) names))})
                       (check-expressions (str table-sql))))
       :extras (vec extras)})))

(def ^:private fk-action-words
  {:cascade "CASCADE" :set-null "SET NULL" :set-default "SET DEFAULT" :restrict "RESTRICT" :no-action "NO ACTION"})

(defn- change-table
  "The table description after step s."
  [desc s]
  (let [c (some-> (:column s) column-name)]
    (case (:op s)
      :drop-column
      (do (when-not (some #(= c (:name %)) (:columns desc))
            (throw (err/error :vireo/programming-error (str "no such column: " (:table desc) "." c) {:column c})))
          (when (pos? (long (:pk (first (filter #(= c (:name %)) (:columns desc))))))
            (throw (err/error :vireo/not-supported (str "column " (:table desc) "." c " is (part of) the primary key; it cannot be dropped")
                              {:column c})))
          (when-let [chk (first (filter #(contains? (:columns %) c) (:checks desc)))]
            (throw (err/error :vireo/not-supported
                              (str "column " (:table desc) "." c " is named by the CHECK constraint (" (:sql chk)
                                   "); drop or change that constraint with :sql steps first")
                              {:column c})))
          (-> desc
              (update :columns (fn [cs] (filterv #(not= c (:name %)) cs)))
              (update :fks (fn [fs] (filterv #(not (some #{c} (:columns %))) fs)))
              (update :uniques (fn [us] (filterv #(not (some #{c} %)) us)))
              (update :extras (fn [xs] (filterv #(not (contains? (:columns %) c)) xs)))))
      :alter-column
      (do (when-not (some #(= c (:name %)) (:columns desc))
            (throw (err/error :vireo/programming-error (str "no such column: " (:table desc) "." c) {:column c})))
          (update desc :columns
                  (fn [cs] (mapv #(if (= c (:name %)) (assoc % :def (field-column (:table desc) (:column s) (:spec s))) %) cs))))
      :add-foreign-key
      (let [[rt rc] (:references s)]
        (update desc :fks conj {:columns [c] :table (table-name rt) :to [(column-name rc)]
                                :on-delete (some-> (:on-delete s) fk-action-words)
                                :on-update (some-> (:on-update s) fk-action-words)}))
      :drop-foreign-key
      (let [before (count (:fks desc))
            desc (update desc :fks (fn [fs] (filterv #(not= [c] (:columns %)) fs)))]
        (when (= before (count (:fks desc)))
          (throw (err/error :vireo/programming-error (str "no foreign key on " (:table desc) "." c) {:column c})))
        desc))))

(defn- rebuild-create
  "The CREATE TABLE query map of a table description, named `new-name`."
  [desc new-name]
  (let [pks (sort-by :pk (filter #(pos? (long (:pk %))) (:columns desc)))
        single-pk (when (= 1 (count pks)) (:name (first pks)))]
    {:create-table (sql/ident new-name)
     :with-columns (mapv (fn [{:keys [name type not-null default] d :def}]
                           (if d
                             (cond-> d (= name single-pk) (conj :primary-key))
                             (cond-> [(sql/ident name)
                                      [:raw (str (if (str/blank? type) "" type)
                                                 (when (= name single-pk)
                                                   (str " PRIMARY KEY" (when (:autoincrement desc) " AUTOINCREMENT"))))]]
                               not-null (conj :not-null)
                               (some? default) (conj [:default [:raw (str default)]]))))
                         (:columns desc))
     :constraints (-> []
                      (cond-> (< 1 (count pks)) (conj (into [:primary-key] (map #(sql/ident (:name %)) pks))))
                      (into (map (fn [u] (into [:unique] (map sql/ident u)))) (:uniques desc))
                      (into (map (fn [{e :sql}] [:check [:raw e]])) (:checks desc))
                      (into (map (fn [{:keys [columns table to on-delete on-update]}]
                                   [:constraint (sql/ident (model/short-name (str (:table desc) "_" (str/join "_" columns) "_fkey")))
                                    (cond-> [:foreign-key (mapv sql/ident columns)
                                             (into [:references (sql/ident table)] (map sql/ident to))]
                                      (and on-delete (not= "NO ACTION" on-delete)) (conj [:on-delete (keyword (str/lower-case (str/replace on-delete " " "-")))])
                                      (and on-update (not= "NO ACTION" on-update)) (conj [:on-update (keyword (str/lower-case (str/replace on-update " " "-")))]))]))
                            (:fks desc)))}))

(defn- rebuild-statements
  "SQLite's steps 4 to 9 for table description `before` becoming `after`:
  a new table, the rows copied, the old table dropped, the new one renamed,
  the indexes and triggers made again."
  [d before after]
  (let [t (:table before)
        tmp (str "vireo_new_" t)
        kept (mapv :name (:columns after))
        cols (mapv sql/ident kept)]
    (concat [(formatted d (rebuild-create after tmp))
             (formatted d {:insert-into (sql/ident tmp) :columns cols
                           :select {:select cols :from (sql/ident t)}})
             (formatted d {:drop-table (sql/ident t)})
             (formatted d {:alter-table (sql/ident tmp) :rename-to (sql/ident t)})]
            (map (fn [x] [(:sql x)]) (:extras after)))))

(defn- step-statements
  "Future of the [sql & params] vectors of step s on database d (reading the
  table on handle h when the backend rebuilds it)."
  [d h s]
  (if (native? (:dialect d) s)
    (p/resolved (mapv #(formatted d %) (step-queries s)))
    (if (rebuild-traits d)
      (p/map (read-table d h (table-name (:table s)))
             (fn [desc] (vec (rebuild-statements d desc (change-table desc s)))))
      (p/rejected (err/error :vireo/not-supported
                             (str (pr-str (:op s)) " is not supported by " (db/describe d)) {:step s})))))

;; ---------------------------------------------------------------- applying steps
(defn- foreign-key-check!
  "Fails when the database's foreign-key check (SQLite's step 10) reports a row."
  [d h]
  (if-let [check (:foreign-key-check (rebuild-traits d))]
    (p/map (rows d h [check])
           (fn [found]
             (when (seq found)
               (throw (err/error :vireo/foreign-key-violation
                                 (str "foreign key check failed after the migration: " (count found)
                                      " row(s) violate a foreign key, first " (pr-str (first found)))
                                 {:violations (vec (take 10 found))})))))
    (p/resolved nil)))

(defn- failed
  "The :vireo/migration-failed error for step i of migration id."
  [d id steps i done-sql e transactional?]
  (let [s (nth steps i)]
    (err/error :vireo/migration-failed
               (str (if id (str "migration " (pr-str id)) "migration steps") " failed at step " (inc (long i))
                    " of " (count steps) " " (pr-str (:op s))
                    (when (:table s) (str " on " (table-name (:table s)))) ": " (ex-message e)
                    (if transactional?
                      "; rolled back, nothing was applied"
                      (str "; " (db/describe d) " has no transactional DDL: "
                           (if (zero? (long i)) "no step ran before it"
                               (str "steps 1-" i " were applied and stay"))
                           (when id "; the migration is not recorded as applied"))))
               {:migration id
                :failed-step (inc (long i))
                :step s
                :applied-steps (vec (range 1 (inc (long i))))
                :applied-sql done-sql
                :rolled-back (boolean transactional?)
                :cause-type (err/error-type e)}
               e)))

(defn- apply-steps
  "Runs the steps on handle h one after another, each planned just before it
  runs (a rebuild reads the table as the previous steps left it), with the
  foreign-key check after each when foreign keys are off. Future of the SQL
  run, failing with :vireo/migration-failed."
  [d h id steps transactional? check?]
  (let [done (atom [])]
    (p/catch
     (p/map (reduce (fn [f i]
                      (p/then f (fn [_]
                                  (p/catch
                                   (p/then (p/then (p/do (step-statements d h (nth steps i)))
                                                   (fn [stmts]
                                                     (reduce (fn [f st] (p/then f (fn [_] (p/map (run!* d h st)
                                                                                                (fn [_] (swap! done conj (first st)))))))
                                                             (p/resolved nil) stmts)))
                                           (fn [_] (when check? (foreign-key-check! d h))))
                                   (fn [e] (p/rejected (failed d id steps i @done e transactional?)))))))
                    (p/resolved nil) (range (count steps)))
            (fn [_] @done))
     (fn [e] (p/rejected e)))))

(defn- mig-traits [d] (:migrations (db/traits d)))

(defn- with-foreign-keys-off
  "Runs (f check?) on root handle h with foreign keys off when a step is a
  table rebuild (SQLite's steps 1 and 12, outside the transaction: the
  switch is ignored inside one), restoring them after; check? tells whether
  they were switched off (then the foreign-key check, step 10, runs after
  each step). Future of f's."
  [d h steps f]
  (let [tr (rebuild-traits d)]
    (if (and tr (some #(not (native? (:dialect d) %)) steps))
      (p/let [[[state]] (rows d h [(:foreign-keys-state tr)])
              on? (= 1 (long (or state 0)))
              _ (when on? (run!* d h [(:foreign-keys-off tr)]))]
        (p/handle (p/do (f on?))
                  (fn [v e]
                    (p/then (if on? (run!* d h [(:foreign-keys-on tr)]) (p/resolved nil))
                            (fn [_] (if e (p/rejected e) v))))))
      (f false))))

(defn- in-migration-tx
  "Runs (f handle check?) in one transaction on root handle h where the
  backend has transactional DDL, else (f h false). Future of f's."
  [d h steps f]
  (if (:transactional-ddl (mig-traits d))
    (with-foreign-keys-off d h steps
      (fn [check?] (ctx/atomic d {:connection h} (fn [tx] (f tx check?)) false)))
    (f h false)))

(defn run-steps
  "Given a database, checked steps and options (:connection), applies them:
  in one transaction where DDL is transactional. Future of the SQL run."
  [d steps opts]
  (ctx/with-connection d opts
    (fn [h] (in-migration-tx d h steps
              (fn [th check?] (apply-steps d th nil steps (:transactional-ddl (mig-traits d)) check?))))))

(defn plan
  "Given a database and checked steps, returns a future of the [sql & params]
  vectors the steps would run, without running them (a rebuild reads the
  table as it is now)."
  [d steps opts]
  (ctx/with-connection d opts
    (fn [h] (reduce (fn [f s] (p/then f (fn [acc] (p/map (step-statements d h s) #(into acc %)))))
                    (p/resolved []) steps))))

;; ---------------------------------------------------------------- the runner
(defn- versions-model [table]
  (model/make-model "VireoMigration"
                    {:table table
                     :fields [:id {:type :char :max-length 255 :primary-key true}
                              :checksum {:type :char :max-length 64}
                              :applied-at {:type :char :max-length 40}]}))

(defn- applied
  "Future of {id checksum} of the migrations recorded in the versions table."
  [d h table]
  (p/map (rows d h (formatted d {:select [:id :checksum] :from (sql/ident table)}))
         #(into {} (map (fn [[id cs]] [(str id) (str cs)])) %)))

(defn- check-applied!
  "Throws :vireo/migration-error when a recorded migration's checksum differs
  from the one given now."
  [migrations recorded]
  (doseq [{:keys [id checksum]} migrations
          :let [was (get recorded id)]
          :when (and was (not= was checksum))]
    (throw (invalid :checksum-mismatch
                    (str "migration " (pr-str id) " was applied with other steps (checksum " was
                         ", now " checksum "): an applied migration must not change; add a new one")
                    {:migration id :recorded was :given checksum}))))

(defn- lock-params [spec lock-name timeout-ms]
  (mapv {:name lock-name :timeout-seconds (long (Math/ceil (/ (double timeout-ms) 1000.0)))} (:params spec)))

(defn- with-lock
  "Runs (f) holding the backend's migration lock on root handle h (none:
  the transactions serialise). Future of f's."
  [d h lock-name timeout-ms f]
  (let [{:keys [lock unlock]} (mig-traits d)]
    (if-not lock
      (f)
      (p/then (rows d h (into [(:sql lock)] (lock-params lock lock-name timeout-ms)))
              (fn [[[got]]]
                (when (and (some? got) (not= 1 (long got)))
                  (throw (err/error :vireo/timeout (str "the migration lock " (pr-str lock-name) " was not taken within "
                                                        timeout-ms " ms: another runner holds it")
                                    {:lock lock-name})))
                (p/handle (p/do (f))
                          (fn [v e]
                            (p/then (p/catch (run!* d h (into [(:sql unlock)] (lock-params unlock lock-name timeout-ms)))
                                             (fn [ue] (if e (do (.addSuppressed ^Throwable e ^Throwable ue) nil) (p/rejected ue))))
                                    (fn [_] (if e (p/rejected e) v))))))))))

(defn migrate
  "The runner: given a database, checked migrations and options {:table
  :lock-timeout :dry-run :connection}, applies each migration not yet
  recorded in the versions table, in order, exactly once. Future of
  {:applied [id…] :skipped [id…]} (with :dry-run {:pending [{:id :sql}]}
  and nothing run)."
  [d migrations {:keys [table lock-timeout dry-run] :as opts}]
  (let [vm (versions-model table)
        lock-name (str "vireo.migrate:" table)]
    (ctx/with-connection d (select-keys opts [:connection])
      (fn [h]
        (with-lock d h lock-name lock-timeout
          (fn []
            (p/let [_ (run-seq d h (mapv #(formatted d %) (model/create-table-queries vm {:safe true})))
                    recorded (applied d h table)]
              (check-applied! migrations recorded)
              (let [pending (remove #(contains? recorded (:id %)) migrations)]
                (if dry-run
                  (p/map (p/all (mapv (fn [m] (p/map (plan d (:steps m) {:connection h})
                                                     (fn [stmts] {:id (:id m) :sql (mapv first stmts)})))
                                      pending))
                         (fn [ps] {:pending ps :skipped (mapv :id (filter #(contains? recorded (:id %)) migrations))}))
                  (p/map
                   (reduce
                    (fn [f m]
                      (p/then f
                              (fn [acc]
                                (in-migration-tx d h (:steps m)
                                  (fn [th check?]
                                    ;; read again inside: on SQLite the transaction is the lock
                                    (p/then (applied d th table)
                                            (fn [now]
                                              (if (contains? now (:id m))
                                                (do (check-applied! [m] now) (update acc :skipped conj (:id m)))
                                                (p/then (apply-steps d th (:id m) (:steps m) (:transactional-ddl (mig-traits d)) check?)
                                                        (fn [_]
                                                          (p/map (run!* d th (formatted d {:insert-into (sql/ident table)
                                                                                           :columns [:id :checksum :applied_at]
                                                                                           :values [[(:id m) (:checksum m)
                                                                                                     (str (java.time.Instant/now))]]}))
                                                                 (fn [_] (update acc :applied conj (:id m))))))))))))))
                    (p/resolved {:applied [] :skipped (mapv :id (filter #(contains? recorded (:id %)) migrations))})
                    pending)
                   identity))))))))))

(defn applied-migrations
  "Future of the sorted vector of {:id :checksum :applied-at} recorded in the
  versions table (empty when it does not exist)."
  [d {:keys [table] :as opts}]
  (ctx/with-connection d (select-keys opts [:connection])
    (fn [h]
      (p/then (schema/table-exists d table {:connection h})
              (fn [exists?]
                (if-not exists?
                  []
                  (p/map (rows d h (formatted d {:select [:id :checksum :applied_at] :from (sql/ident table)
                                                 :order-by [:id]}))
                         (fn [rs] (mapv (fn [[id cs at]] {:id (str id) :checksum (str cs) :applied-at (str at)}) rs)))))))))

;; ---------------------------------------------------------------- diff
(defn- ident-name [x] (first (.-parts ^vireo.sql.Ident x)))

(defn- field-spec
  "A model field back as a column spec (a foreign key as its value's type)."
  [f]
  (let [t (if (:fk f) (:value-type f) (:type f))
        t (get {:auto :integer :big-auto :bigint} t t)]
    (cond-> {:type t :null (boolean (:null f))}
      (not= (:column f) (str/replace (name (:key f)) "-" "_")) (assoc :column (:column f))
      (= t :char) (assoc :max-length (:max-length f))
      (= t :decimal) (assoc :precision (:precision f) :scale (:scale f))
      (and (contains? f :default) (not (fn? (:default f))) (some? (:default f))) (assoc :default (:default f)))))

(defn- live-columns
  "Future of the live columns of table t: [{:name :type :null :default}]."
  [d h t]
  (let [q (get-in (db/traits d) [:introspection :columns])]
    (p/map (rows d h [q t])
           (fn [rs] (vec (for [[n type nullable dflt tn] rs
                               :when (= t (str tn))]
                           {:name (str n) :type (str type)
                            :null (let [x nullable] (if (number? x) (= 1 (long x)) (boolean x)))
                            :default dflt}))))))

(defn- type-sql
  "The dialect's SQL for a field's column type, as a create would write it."
  [d f]
  (let [[_ t] (model/column-def nil f)
        [s] (sql/format {:create-table :x :with-columns [[:c t]]} {:dialect (:dialect d)})]
    (-> s (subs (count "CREATE TABLE \"x\" (\"c\" ")) (str/replace #"\)$" "") str/upper-case)))

(defn- same-type?
  "Whether a live column's type (as the backend reports it, mapped by its
  :type-names) is the field's."
  [d f live]
  (let [names (get-in (db/traits d) [:introspection :type-names])
        lt (str/lower-case (:type live))
        base (str/replace lt #"\(.*$" "")
        args (re-find #"\(.*\)$" lt)
        canon (str/upper-case (or (get names lt) (some-> (get names base) (str args)) lt))]
    (= (str/replace (type-sql d f) #"\s+" " ") (str/replace canon #"\s+" " "))))

(defn- live-default
  "A live column's default as the backend reports it, read back:
  [:literal s] for a quoted string or a number or boolean as written (its
  casts and parentheses taken off: PostgreSQL's 'x'::character varying),
  [:expr s] for anything else (a function call), nil for none or NULL."
  [x]
  (when (some? x)
    (let [s (loop [s (str/trim (str x))]
              (if-let [[_ inner] (re-matches #"(?s)(.*)::[A-Za-z][A-Za-z ]*(\(\d+(,\d+)?\))?" s)]
                (recur (str/trim inner))
                s))
          s (loop [s s]
              (if (and (str/starts-with? s "(") (str/ends-with? s ")"))
                (recur (str/trim (subs s 1 (dec (count s)))))
                s))]
      (cond
        (or (= "" s) (= "NULL" (str/upper-case s))) nil
        (re-matches #"(?s)'.*'" s) [:literal (str/replace (subs s 1 (dec (count s))) "''" "'")]
        (re-matches #"(?i)[+-]?[0-9][0-9.eE+-]*|true|false" s) [:literal s]
        :else [:expr s]))))

(defn- same-default?
  "Whether field f's constant default (none when it has no default the
  database holds) is what live column l's reported default reads as."
  [f l]
  (let [d (model/db-default f)
        [kind v] (live-default (:default l))]
    (cond
      (nil? d) (not= kind :literal)
      (not= kind :literal) false
      (string? d) (= d v)
      (boolean? d) (let [v (str/lower-case v)]
                     (cond (#{"true" "1" "t"} v) (true? d)
                           (#{"false" "0" "f"} v) (false? d)
                           :else false))
      (number? d) (try (zero? (.compareTo (bigdec d) (bigdec v))) (catch Exception _ false))
      :else true)))

(defn- action-name
  "An ON DELETE / ON UPDATE action as the backends report it (\"SET NULL\");
  none given, NO ACTION and RESTRICT are the same default (the backends
  differ in which of them they report for a constraint created without one)."
  [a]
  (let [s (some-> a name (str/replace "-" " ") str/trim str/upper-case)]
    (if (or (nil? s) (= s "NO ACTION") (= s "RESTRICT")) "NO ACTION" s)))

(defn- fk-step
  "The :add-foreign-key step of foreign-key field f of table t."
  [t f]
  (let [fk (:fk f)]
    (cond-> {:op :add-foreign-key :table t :column (:column f)
             :references [(:target-table fk) (:target-column fk)]}
      (:on-delete fk) (assoc :on-delete (:on-delete fk))
      (:on-update fk) (assoc :on-update (:on-update fk)))))

(defn- live-foreign-keys
  "Future of table t's single-column foreign keys, by column:
  {column {:name :table :column :on-delete :on-update}} (:name nil on SQLite)."
  [d h t]
  (if-let [q (get-in (db/traits d) [:introspection :foreign-keys])]
    (p/map (rows d h [q t])
           (fn [rs] (into {} (for [[n c rt rc del upd] rs]
                               [(str c) {:name (some-> n str) :table (str rt) :column (some-> rc str)
                                         :on-delete (action-name del) :on-update (action-name upd)}]))))
    (p/resolved {})))

(defn- same-fk?
  "Whether live foreign key l is what field f declares."
  [f l]
  (let [fk (:fk f)]
    (and (= (str (:target-table fk)) (:table l))
         (or (nil? (:column l)) (= (str (:target-column fk)) (:column l)))
         (= (action-name (:on-delete fk)) (:on-delete l))
         (= (action-name (:on-update fk)) (:on-update l)))))

(defn diff
  "Given a model and options (:connection), returns a future of the steps
  that would make its live table match it: the table created when missing;
  else columns added, dropped, or altered (type, nullability, constant
  default), the model's
  indexes added and other indexes dropped, and its foreign keys added,
  dropped, or replaced (another target, ON DELETE or ON UPDATE)."
  [m opts]
  (let [d (ops/database-of m)
        t (:table m)]
    (ctx/with-connection d opts
      (fn [h]
        (p/let [exists? (schema/table-exists d t {:connection h})]
          (if-not exists?
            (into [{:op :create-table :table t
                    :fields (vec (mapcat (fn [f] [(:key f) (cond-> (field-spec f)
                                                              (:auto f) (assoc :type (:type f))
                                                              (:primary-key f) (assoc :primary-key true)
                                                              (:unique f) (assoc :unique true)
                                                              (:index f) (assoc :index true)
                                                              true (dissoc (when (:auto f) :null)))])
                                         (:fields m)))}]
                  (for [f (filter :fk (:fields m))] (fk-step t f)))
            (p/let [live (live-columns d h t)
                    live-fks (live-foreign-keys d h t)
                    indexes (schema/index-names d t {:connection h})
                    fk-names (if-let [q (get-in (db/traits d) [:introspection :foreign-key-names])]
                               (p/map (rows d h [q t]) #(set (map (comp str first) %)))
                               #{})]
              (let [by-name (into {} (map (juxt :name identity)) live)
                    fields (:fields m)
                    model-cols (set (map :column fields))
                    wanted-ix (into {} (map (fn [q] [(ident-name (:create-index q)) q]))
                                    (model/index-queries m {}))
                    fk-fields (into {} (map (juxt :column identity)) (filter :fk fields))
                    ;; live foreign keys that go: not the model's, or not as it declares them
                    stale-fks (for [[c l] live-fks
                                    :let [f (fk-fields c)]
                                    :when (or (nil? f) (not (same-fk? f l)))]
                                (cond-> {:op :drop-foreign-key :table t :column c}
                                  (:name l) (assoc :name (:name l))))
                    stale (set (map :column stale-fks))]
                (vec (concat
                      ;; first: a column may not be dropped or changed under its foreign key
                      stale-fks
                      (for [f fields :when (not (by-name (:column f)))]
                        {:op :add-column :table t :column (:column f) :spec (dissoc (field-spec f) :column)})
                      (for [f fields
                            :let [l (by-name (:column f))]
                            :when (and l (not (:primary-key f))
                                       (or (not= (boolean (:null f)) (:null l)) (not (same-type? d f l))
                                           (not (same-default? f l))))]
                        {:op :alter-column :table t :column (:column f) :spec (dissoc (field-spec f) :column)})
                      (for [l live :when (not (model-cols (:name l)))]
                        {:op :drop-column :table t :column (:name l)})
                      (for [[n q] wanted-ix :when (not (some #{n} indexes))]
                        (cond-> {:op :add-index :table t :name n
                                 :columns (mapv #(ident-name %) (:columns q))}
                          (:unique q) (assoc :unique true)))
                      (for [n indexes :when (and (not (contains? wanted-ix n)) (not (contains? fk-names n)))]
                        {:op :drop-index :table t :name n})
                      ;; last: the columns they name exist by then
                      (for [f (vals fk-fields)
                            :when (or (not (contains? live-fks (:column f))) (stale (:column f)))]
                        (fk-step t f))))))))))))
