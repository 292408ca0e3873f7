(ns ^:no-doc vireo.impl.query
  "Model queries: small builders that return data, and the compiler that turns
  that data into a pure vireo.sql query map for one dialect plus a decoder for
  its result. A model query is a map with :vireo/query (its kind) and
  :vireo/model; the rest are clauses over field keys:

    {:vireo/query :select :vireo/model Beta
     :vireo/items [Beta Alpha]              ; projection (nil: all of Beta)
     :vireo/joins [{:model Alpha :type :inner …}]
     :where […] :order-by […] :limit 10 …}

  Field references: `:text` is a field of the query's model; `:alpha/text`
  or `:alpha.text` is field :text of the model joined (or aliased) as
  `alpha` — its table name, its :as alias or its model name. Literals
  compared with a field are encoded with that field's codec, so a
  LocalDateTime compared with a :datetime field is stored text on SQLite."
  (:refer-clojure :exclude [compile])
  (:require [clojure.string :as str]
            [vireo.impl.errors :as err]
            [vireo.impl.model :as model]
            [vireo.impl.registry :as registry]
            [vireo.impl.results :as results]
            [vireo.impl.template :as tpl]
            [vireo.impl.types :as types]
            [vireo.sql :as sql])
  (:import (io.vertx.sqlclient RowSet)
           (java.util List)))

(set! *warn-on-reflection* true)

;; `get`, not a keyword call: the keyword call site caches one map class
;; and allocates a new lookup thunk whenever the class changes, and query?
;; sees array maps, hash maps and records in turn (the same below in the
;; hot paths that read maps of varying size)
(defn query? [x] (and (map? x) (keyword? (get x :vireo/query))))

(defn- interface-error [msg & [data]]
  (throw (err/error :vireo/interface-error msg (or data {}))))

(defn- check-query [q what]
  (when-not (query? q)
    (interface-error (str what " needs a model query (from select, insert, update, delete …), got " (pr-str q))))
  q)

;; ================================================================ builders
(defn select
  "Given a model and projection items (none: every field), returns a select
  query. Items: field keys, models (all their fields), [expr alias]."
  [m items]
  (when-not (model/model? m) (interface-error (str "select needs a model first, got " (pr-str m))))
  (let [items (vec items)
        items (if (and (some model/model? items) (not-any? #(and (model/model? %) (= (:name m) (:name %))) items))
                (into [m] items)
                items)]
    (cond-> {:vireo/query :select :vireo/model m}
      (seq items) (assoc :vireo/items items))))

(defn- and-where [q k expr]
  (let [old (get q k)]
    (assoc q k (cond (nil? old) expr
                     (nil? expr) old
                     :else [:and old expr]))))

(def ^:private lookups
  {"eq" := "ne" :<> "lt" :< "lte" :<= "gt" :> "gte" :>= "in" :in "not-in" :not-in
   "like" :like "ilike" :ilike "between" :between})

(defn filter->expr
  "Django-style filter map -> where expression: {:text \"x\"} equality (nil
  means IS NULL), {:n__gt 3} a lookup (eq ne lt lte gt gte in not-in like
  ilike between is-null)."
  [m]
  (into [:and]
        (for [[k v] m]
          (let [[_ f op] (re-matches #"(.+?)(?:__([a-z-]+))?" (subs (str k) 1))
                fk (keyword f)]
            (cond
              (nil? op) [:= fk v]
              (= op "is-null") (if v [:= fk nil] [:<> fk nil])
              (= op "between") (if (and (sequential? v) (= 2 (count v)))
                                 [:between fk (first v) (second v)]
                                 (interface-error (str "a __between filter takes [low high], got " (pr-str v))))
              (lookups op) [(lookups op) fk v]
              :else (interface-error (str "unknown filter lookup __" op " in " (pr-str k)
                                          "; known: " (str/join ", " (sort (conj (keys lookups) "is-null"))))))))))

(defn where
  "Adds a condition (ANDed with any present): a where vector, or a filter map."
  [q expr]
  (check-query q "where")
  (and-where q :where (if (map? expr) (filter->expr expr) expr)))

(defn having [q expr] (and-where (check-query q "having") :having expr))

(defn join
  "Adds a join to model `target`. Options: :on (condition; inferred from a
  foreign key between the models otherwise), :type (:inner :left :right
  :full :cross), :as (alias, needed for self-joins), :attr (the key the
  joined instance is put under), :from (the alias to join from)."
  [q target opts]
  (check-query q "join")
  (when-not (model/model? target) (interface-error (str "join needs a model, got " (pr-str target))))
  (update q :vireo/joins (fnil conj []) (assoc opts :model target)))

(defn union-like [kind queries]
  (when (< (count queries) 2) (interface-error (str (name kind) " needs two or more queries")))
  (doseq [q queries] (check-query q (name kind)))
  {:vireo/query :compound :vireo/model (:vireo/model (first queries)) :vireo/op kind
   :vireo/members (vec queries)})

(defn insert [m values]
  {:vireo/query :insert :vireo/model m :vireo/rows [values] :vireo/single true})

(defn insert-many [m rows]
  (when-not (and (sequential? rows) (every? map? rows))
    (interface-error (str "insert-many of " (:name m) " needs a sequence of maps, got " (pr-str rows))))
  {:vireo/query :insert :vireo/model m :vireo/rows (vec rows)})

(defn insert-from [m field-keys select-q]
  (check-query select-q "insert-from")
  {:vireo/query :insert :vireo/model m :vireo/from select-q :vireo/columns (vec field-keys)})

(defn update-query [m values]
  (when-not (and (map? values) (seq values))
    (interface-error (str "update of " (:name m) " needs a non-empty map of field values")))
  {:vireo/query :update :vireo/model m :vireo/set values})

(defn delete-query [m] {:vireo/query :delete :vireo/model m})

(defn raw [m sql-string params]
  {:vireo/query :raw :vireo/model m :vireo/sql sql-string :vireo/params (vec params)})

;; ================================================================ environment
;; An env maps the names a query can use for its models to an entry
;; {:model m :alias "beta" :attr k :parent alias}.

(defn- entry-names [{:keys [model alias]}]
  (distinct [alias (:table model) (:name model) (str/lower-case (:name model))]))

(defn bound-model
  "`m` bound to the database of `root` (relations followed from a model stay
  on its database)."
  [m root]
  (if (identical? (:database m) (:database root)) m (model/with-database m (:database root))))

(defn- find-relation
  "How to join `target` from one of `entries` (latest first): the foreign key
  and direction, or nil."
  [entries target]
  (some (fn [e]
          (let [src (:model e)
                fwd (first (filter #(= (:name target) (get-in % [:fk :target-name])) (model/foreign-keys src)))
                back (first (filter #(= (:name src) (get-in % [:fk :target-name])) (model/foreign-keys target)))]
            (cond fwd {:from e :fk fwd :dir :forward}
                  back {:from e :fk back :dir :backward})))
        (rseq entries)))

(defn- build-env [q]
  (let [root (:vireo/model q)
        root-e {:model root :alias (:table root) :root true}]
    (reduce
     (fn [entries {:keys [model on type as attr from] :as j}]
       (let [model (bound-model model root)
             alias (if as (name as) (:table model))
             _ (when (some #(= alias (:alias %)) entries)
                 (interface-error (str "the query already uses the name " (pr-str alias)
                                       "; give the join of " (:name model) " an :as alias")))
             from-e (when from (or (some #(when (some #{(name from)} (entry-names %)) %) entries)
                                   (interface-error (str "join :from " (pr-str from) " names no model of the query"))))
             rel (when-not (or on (= type :cross))
                   (or (find-relation (if from-e [from-e] entries) model)
                       (interface-error (str "no foreign key between " (:name model) " and "
                                             (str/join ", " (map (comp :name :model) entries))
                                             "; give the join an :on condition"))))
             parent (or from-e (:from rel) (peek entries))]
         (conj entries
               {:model model :alias alias :type (or type :inner) :on on :rel rel
                :parent (:alias parent)
                :attr (or attr
                          (when (= :forward (:dir rel)) (:key (:fk rel)))
                          (keyword (str/lower-case (:name model))))})))
     [root-e]
     (:vireo/joins q))))

(defn- lookup-entry [entries ^String qual]
  (or (some #(when (= qual (:alias %)) %) entries)
      (some #(when (some #{qual} (entry-names %)) %) entries)))

(defn- field-of [m ^String n]
  (or (get-in m [:field-index (keyword n)])
      (get-in m [:field-index (keyword (str/replace n "_" "-"))])
      (some #(when (= n (:column %)) %) (:fields m))))

(defn- resolve-ref
  "keyword -> [entry field] when it names a field of a model of the query."
  [entries k]
  (when (keyword? k)
    (let [ns-part (namespace k) n (name k)]
      (if ns-part
        (when-let [e (lookup-entry entries ns-part)]
          (when-let [f (field-of (:model e) n)] [e f]))
        (let [i (.indexOf n ".")]
          (if (pos? i)
            (when-let [e (lookup-entry entries (subs n 0 i))]
              (when-let [f (field-of (:model e) (subs n (inc i)))] [e f]))
            (let [e (first entries)]
              (when-let [f (get-in (:model e) [:field-index k])] [e f]))))))))

(defn- col-ident [entries [e f]]
  (if (or (nil? entries) (:bare e))
    (sql/ident (:column f))
    (sql/ident (:alias e) (:column f))))

;; ================================================================ expressions
(defn- encode-for
  "v encoded for field k of m (compared with it), or — v a template Slot (a
  query compiled once per shape, vireo.impl.template) — the slot with that
  encoding to apply when it is bound."
  [m dialect k v]
  (if (tpl/slot? v)
    (tpl/encoded v (fn [x] (model/encode-value m dialect k x)))
    (model/encode-value m dialect k v)))

(defn- encode-write-for
  "Like encode-for, for a value written to the field (INSERT/UPDATE)."
  [m dialect k v]
  (if (tpl/slot? v)
    (tpl/encoded v (fn [x] (model/encode-write-value m dialect k x)))
    (model/encode-write-value m dialect k v)))
(declare compile-select)

(def ^:private comparison-ops
  #{:= :<> :!= :< :> :<= :>= :like :not-like :ilike :not-ilike :between :not-between :in :not-in :is :is-not})

(declare rewrite-order-item)

(defn- rewrite
  "Rewrites an expression over the env: field references become qualified
  column identifiers, literals compared with a field are encoded with its
  codec, model queries become compiled subqueries."
  [env dialect x]
  (let [entries (:entries env)]
    (cond
      (keyword? x) (if-let [r (resolve-ref entries x)] (col-ident entries r) x)
      (query? x) (:query (compile-select x dialect {}))
      (and (vector? x) (= :excluded (first x)) (= 2 (count x)))
      (if-let [[_ f] (resolve-ref entries (second x))] [:excluded (sql/ident (:column f))] x)

      (and (vector? x) (= :over (first x)) (= 3 (count x)))
      (let [[_ call spec] x]
        [:over (rewrite env dialect call)
         (if (map? spec)
           (cond-> spec
             (:partition-by spec) (update :partition-by #(mapv (fn [e] (rewrite env dialect e)) %))
             (:order-by spec) (update :order-by #(mapv (fn [i] (rewrite-order-item env dialect i)) %)))
           spec)])

      (and (vector? x) (keyword? (first x)) (not (#{:raw :inline :param :lift} (first x))))
      (let [op (first x)
            args (subvec x 1)
            field (when (comparison-ops op)
                    (some #(when-let [[e f] (resolve-ref entries %)] [(:model e) f]) args))
            encode (fn [v]
                     (if-let [[m f] field]
                       (encode-for m dialect (:key f) v)
                       v))]
        (into [op]
              (map (fn [a]
                     (cond
                       (or (keyword? a) (query? a) (map? a)) (rewrite env dialect a)
                       (and (vector? a) (keyword? (first a))) (rewrite env dialect a)
                       (and (#{:in :not-in} op) (sequential? a)) (mapv encode a)
                       (or (vector? a) (nil? a)) a
                       :else (encode a))))
              args))
      (map? x) (if (query? x) (:query (compile-select x dialect {})) x)
      :else x)))

(defn- rewrite-order-item [env dialect item]
  (if (vector? item)
    (assoc item 0 (rewrite env dialect (nth item 0)))
    (rewrite env dialect item)))

;; ================================================================ select
(defn- all-fields-of [entries e]
  (mapv (fn [f] {:sql (col-ident entries [e f]) :entry e :field f}) (:fields (:model e))))

(defn- projection [env dialect q]
  (let [entries (:entries env)
        items (or (:vireo/items q) [(:vireo/model q)])]
    (vec (mapcat
          (fn [item]
            (cond
              (model/model? item)
              (let [e (or (some #(when (= (:name item) (:name (:model %))) %) entries)
                          (interface-error (str "select of " (:name item) ": that model is not joined in the query")))]
                (all-fields-of entries e))

              (keyword? item)
              (if-let [[e f] (resolve-ref entries item)]
                [{:sql (col-ident entries [e f]) :entry e :field f}]
                [{:sql item :key (keyword (name item))}])

              (and (vector? item) (<= 1 (count item) 2))
              (let [[x alias] item
                    r (when (keyword? x) (resolve-ref entries x))]
                (if (and r (nil? alias))
                  [{:sql (col-ident entries r) :entry (first r) :field (second r)}]
                  [{:sql (if alias [(rewrite env dialect x) alias] [(rewrite env dialect x)])
                    :key alias
                    :field (when r (second r)) :entry (when r (first r))
                    :alias? true}]))

              :else (interface-error (str "a select item is a field key, a model or [expr alias], got " (pr-str item)))))
          items))))

(defn- join-clauses [env dialect]
  (let [entries (:entries env)]
    (reduce
     (fn [acc e]
       (let [{:keys [model alias type on rel]} e
             table (model/table-ident model)
             target (if (= alias (:table model)) table [table (sql/ident alias)])
             parent (some #(when (= (:parent e) (:alias %)) %) entries)
             cond-expr (cond
                         on (rewrite env dialect on)
                         (= type :cross) nil
                         (= :forward (:dir rel))
                         (let [fk (:fk rel)
                               tf (get-in model [:field-index (get-in fk [:fk :to-field])])]
                           [:= (col-ident entries [parent fk]) (col-ident entries [e tf])])
                         :else
                         (let [fk (:fk rel)
                               tf (get-in (:model parent) [:field-index (get-in fk [:fk :to-field])])]
                           [:= (col-ident entries [e fk]) (col-ident entries [parent tf])]))
             k (case type :inner :join :left :left-join :right :right-join :full :full-join :cross :cross-join
                     (interface-error (str "join :type must be :inner :left :right :full or :cross, got " (pr-str type))))]
         (if (= k :cross-join)
           (update acc k (fnil conj []) target)
           (update acc k (fnil into []) [target cond-expr]))))
     {}
     (rest entries))))

(def ^:private passthrough-keys
  [:limit :offset :for :with :with-recursive :window])

(defn- decode-plan
  "Per projected column: [target-alias key decode] (target nil: the root)."
  [dialect cols]
  (mapv (fn [{:keys [entry field key]}]
          (if (and field entry)
            (let [m (:model entry)
                  dec (get-in (model/codecs m dialect) [(:key field) :decode])]
              [(when-not (:root entry) (:alias entry)) (or key (:key field)) dec])
            [nil key types/normalise-value]))
        cols))

(defn compile-select
  "Given a select (or compound) model query, a dialect and options, returns
  {:query vireo.sql-map :cols projection :env env}."
  [q dialect _opts]
  (if (= :compound (:vireo/query q))
    (let [members (mapv #(compile-select % dialect {}) (:vireo/members q))
          first-m (first members)]
      {:query (cond-> {(:vireo/op q) (mapv :query members)}
                (:order-by q) (assoc :order-by (mapv #(rewrite-order-item {:entries nil} dialect %) (:order-by q)))
                (some? (:limit q)) (assoc :limit (:limit q))
                (some? (:offset q)) (assoc :offset (:offset q)))
       :cols (:cols first-m)
       :env (:env first-m)})
    (let [entries (build-env q)
          env {:entries entries}
          cols (projection env dialect q)
          root (first entries)
          table (model/table-ident (:model root))]
      {:query (merge
               {(if (:distinct q) :select-distinct :select) (mapv :sql cols)
                :from [table]}
               (join-clauses env dialect)
               (cond-> {}
                 (some? (:where q)) (assoc :where (rewrite env dialect (:where q)))
                 (some? (:group-by q)) (assoc :group-by (mapv #(rewrite env dialect %) (:group-by q)))
                 (some? (:having q)) (assoc :having (rewrite env dialect (:having q)))
                 (some? (:order-by q)) (assoc :order-by (mapv #(rewrite-order-item env dialect %) (:order-by q))))
               (reduce (fn [acc k]
                         (if-let [ctes (get acc k)]
                           (assoc acc k (mapv (fn [[n body]] [n (if (query? body) (:query (compile-select body dialect {})) body)]) ctes))
                           acc))
                       (select-keys q passthrough-keys)
                       [:with :with-recursive]))
       :cols cols
       :env env})))

;; ================================================================ decoding
(defn- nest-fn
  "For instances of a query with joins: (fn [parts] root-map), where parts
  maps each join alias (nil: the root) to its columns; joined models nest
  under their :attr (nil when the outer join found no row)."
  [entries]
  (let [joined (vec (rest entries))
        root-alias (:alias (first entries))
        templates (into {} (map (fn [e] [(:alias e) (model/instance-template (:model e))])) joined)]
    (fn [parts]
      (letfn [(nest [alias inst]
                (reduce (fn [inst e]
                          (if (and (= alias (:parent e)) (contains? parts (:alias e)))
                            (let [child (get parts (:alias e))
                                  pk (:primary-key (:model e))
                                  empty-row? (if (keyword? pk)
                                               (and (contains? child pk) (nil? (get child pk)))
                                               (every? nil? (vals child)))]
                              (assoc inst (:attr e) (when-not empty-row? (model/loaded (get templates (:alias e)) (nest (:alias e) child)))))
                            inst))
                        inst joined))]
        (nest root-alias (get parts nil {}))))))

(defn row-fn
  "Given a compiled select and a row form (:instances :maps :vectors),
  returns (fn [Row] -> value) (see vireo.impl.results). Keys of unnamed
  expressions come from the column labels (read from the first row)."
  [{:keys [cols env]} dialect form]
  (let [p (results/plan (mapv (fn [[t k dec]] [k dec t]) (decode-plan dialect cols)))
        entries (:entries env)]
    (results/row-builder p form (when (and (= form :instances) (next entries)) (nest-fn entries))
                         (when (= form :instances) (model/instance-template (:model (first entries)))))))

(defn row-decoder
  "Given a compiled select and a row form, returns (fn [RowSet] -> vector)."
  [compiled dialect form]
  (let [build (row-fn compiled dialect form)]
    (fn [rs] (results/rows rs build))))

;; ================================================================ insert / update / delete
(defn- row-values
  "The values of one insert row, defaults applied."
  [m values]
  (when-not (map? values)
    (interface-error (str "an insert row of " (:name m) " must be a map, got " (pr-str values))))
  (model/with-defaults m values))

(defn- relation-keys [m]
  (into (set (keys (:m2m m)))
        (map #(get-in % [:field :fk :backref])) (registry/backrefs m)))

(defn check-values!
  "Every key of `values` must be a field of `m` (loaded relations and
  backref lists are ignored by the caller)."
  [m values _what]
  (let [index (:field-index m)]
    ;; the relation keys are looked up only for a key that is not a field
    (reduce-kv (fn [_ k _]
                 (when-not (or (contains? index k) (contains? (relation-keys m) k))
                   (model/field m k)))
               nil values))
  values)

(defn insert-columns
  "The fields an insert of `rows` writes: every field some row gives a value
  for (an auto key given as nil is left out)."
  [m rows]
  (filterv (fn [f] (some #(and (contains? % (:key f)) (not (and (:auto f) (nil? (get % (:key f)))))) rows))
           (:fields m)))

(defn compile-insert
  "Given an insert model query and a dialect, returns {:query sql-map :cols
  fields-written :rows rows-with-defaults :returning? bool}."
  [q dialect]
  (let [m (:vireo/model q)
        root {:model m :alias (:table m) :root true :bare true}
        env {:entries [root]}
        ret (:vireo/returning q)]
    (if-let [from (:vireo/from q)]
      (let [fs (mapv #(model/field m %) (:vireo/columns q))]
        {:query (cond-> {:insert-into (model/table-ident m)
                         :columns (mapv model/column-ident fs)
                         :select (:query (compile-select from dialect {}))}
                  ret (assoc :returning ret))})
      (let [rows (mapv (fn [r] (check-values! m r "insert") (row-values m (select-keys r (map :key (:fields m))))) (:vireo/rows q))
            cols (insert-columns m rows)
            codecs (model/codecs m dialect)]
        {:query (cond-> {:insert-into (model/table-ident m)}
                  (seq cols) (assoc :columns (mapv model/column-ident cols)
                                    :values (mapv (fn [r]
                                                    (mapv (fn [f]
                                                            (let [v (get r (:key f))]
                                                              (if (and (vector? v) (keyword? (first v)))
                                                                (rewrite env dialect v)
                                                                (model/encode-write-value m dialect (:key f) v))))
                                                          cols))
                                                  rows))
                  (empty? cols) (assoc :values :default)
                  (:on-conflict q) (assoc :on-conflict (mapv #(model/column-ident (model/field m %)) (:on-conflict q)))
                  (:do-nothing q) (assoc :do-nothing true)
                  (:do-update-set q) (assoc :do-update-set
                                            (let [u (:do-update-set q)
                                                  ;; existing-row columns qualified: a bare name is ambiguous on PostgreSQL
                                                  qenv {:entries [(dissoc root :bare)]}]
                                              (if (map? u)
                                                (into {} (map (fn [[k v]] [(model/column-ident (model/field m k))
                                                                           (if (or (vector? v) (keyword? v))
                                                                             (rewrite qenv dialect v)
                                                                             (model/encode-write-value m dialect k v))]))
                                                      u)
                                                (mapv #(model/column-ident (model/field m %)) u))))
                  ret (assoc :returning ret))
         :cols cols
         :rows rows
         :codecs codecs}))))

(defn compile-update [q dialect]
  (let [m (:vireo/model q)
        env {:entries [{:model m :alias (:table m) :root true}]}
        set-env {:entries [{:model m :alias (:table m) :root true :bare true}]}]
    {:query (cond-> {:update (model/table-ident m)
                     :set (into {} (map (fn [[k v]]
                                          (let [f (model/field m k)]
                                            [(model/column-ident f)
                                             (if (and (vector? v) (keyword? (first v)))
                                               (rewrite set-env dialect v)
                                               (encode-write-for m dialect k v))])))
                           (:vireo/set q))}
              (:where q) (assoc :where (rewrite env dialect (:where q)))
              (:vireo/returning q) (assoc :returning (:vireo/returning q)))}))

(defn compile-delete [q dialect]
  (let [m (:vireo/model q)
        env {:entries [{:model m :alias (:table m) :root true}]}]
    {:query (cond-> {:delete-from (model/table-ident m)}
              (:where q) (assoc :where (rewrite env dialect (:where q)))
              (:vireo/returning q) (assoc :returning (:vireo/returning q)))}))

(defn returning-fields
  "Given a model and the field keys of a returning clause (nil: all), returns
  the fields."
  [m ks]
  (if (seq ks) (mapv #(model/field m %) ks) (:fields m)))

(defn instance-decoder
  "RowSet -> vector of rows of `m` holding the given fields, by position:
  instances (the default), or the row `form` the query asked for (:maps,
  :vectors)."
  ([m dialect fields] (instance-decoder m dialect fields :instances))
  ([m dialect fields form]
   (let [build (results/model-builder m dialect fields form)]
     (fn [rs] (results/rows rs build)))))

(defn raw-decoder
  "RowSet of user SQL -> rows of `m`: as instances (loaded, as a select's)
  and maps, columns named like a field's column decode with that field's
  codec under its key, others become kebab-case keys of their label; as
  vectors, values in column order."
  [m dialect form]
  (let [codecs (model/codecs m dialect)
        by-col (into {} (map (fn [f] [(:column f) f])) (:fields m))
        template (when (= form :instances) (model/instance-template m))]
    (fn [^RowSet rs]
      (let [^List names (.columnsNames rs)
            p (results/plan (mapv (fn [label]
                                    (let [label (str label)]
                                      (if-let [f (and (not= form :vectors) (by-col label))]
                                        [(:key f) (get-in codecs [(:key f) :decode]) nil]
                                        [(results/label->key label) nil nil])))
                                  (or names [])))]
        (results/rows rs (results/row-builder p (case form :vectors :vectors :instances :instances :rows) nil template))))))

;; ================================================================ count / exists wrappers
(defn count-query
  "SELECT COUNT(1) FROM (<q without ORDER BY; projecting 1 when simple>) AS _wrapped.
  LIMIT/OFFSET stay unless `clear-limit`."
  [q clear-limit]
  (let [simple? (and (= :select (:vireo/query q))
                     (not (:distinct q)) (nil? (:group-by q)) (nil? (:having q)))
        inner (cond-> (dissoc q :order-by)
                clear-limit (dissoc :limit :offset)
                simple? (assoc :vireo/items [[[:inline 1]]]))]
    inner))
