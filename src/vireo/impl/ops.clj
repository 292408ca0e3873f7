(ns ^:no-doc vireo.impl.ops
  "Model operations (create, get, save, delete, DDL) and query execution.
  Hot statements are formatted once per model, dialect and shape into a
  template: the SQL string plus a binder that places the call's parameters,
  so a call only encodes values and executes."
  (:require [vireo.impl.context :as ctx]
            [vireo.impl.db :as db]
            [vireo.impl.errors :as err]
            [vireo.impl.model :as model]
            [vireo.impl.query :as q]
            [vireo.impl.shape :as shape]
            [vireo.impl.stream :as stream]
            [vireo.impl.types :as types]
            [vireo.promise :as p]
            [vireo.signals :as signals]
            [vireo.sql :as sql])
  (:import (io.vertx.sqlclient RowSet Row)
           (java.util.concurrent ConcurrentHashMap)))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- templates
(deftype Slot [^long i])

(defn- slot [i] (Slot. i))

(defn compile-template
  "Formats `query` (whose varying values are (slot i) markers) for `dialect`.
  Returns {:sql s :binder b}: b is a vector of slot indexes or constants, in
  parameter order."
  [dialect query]
  (let [[s & params] (sql/format query {:dialect dialect})]
    {:sql s
     :binder (mapv (fn [p] (if (instance? Slot p) (.i ^Slot p) [::const p])) params)}))

(defn bind
  "Given a template binder and the call's argument vector, returns the
  statement parameters (a java.util.List)."
  ^java.util.List [binder args]
  (let [n (count binder)
        out (object-array n)]
    (dotimes [i n]
      (let [b (nth binder i)]
        (aset out i (if (vector? b) (nth b 1) (nth args b)))))
    (java.util.Arrays/asList out)))

(defn- cached
  "Returns the template for `k` in the model's cache for `dialect`, building
  it with (build) the first time."
  [m dialect k build]
  (let [cache (model/dialect-cache m dialect)]
    (or (.get cache k)
        (let [v (compile-template dialect (build))]
          (or (.putIfAbsent cache k v) v)))))

;; ---------------------------------------------------------------- plumbing
(defn database-of
  "The database a model is bound to, or the database itself (a proxy
  resolves to the database it was initialized with)."
  [x]
  (cond
    (db/database? x) x
    (db/proxy? x) (db/resolve-proxy x)
    (model/model? x) (database-of
                      (or (:database x)
                          (throw (err/error :vireo/interface-error
                                            (str "Model " (:name x) " is not bound to a database; give it :database")
                                            {:model (:name x)}))))
    :else (throw (err/error :vireo/interface-error
                            (str "expected a database or a model, got " (pr-str x)) {}))))

(defn- shape
  "Decoding shape for a model's full column list, per dialect (cached)."
  [m dialect]
  (let [cache (model/dialect-cache m dialect)]
    (or (.get cache ::shape)
        (let [codecs (model/codecs m dialect)
              v (mapv (fn [f] [(:key f) (get-in codecs [(:key f) :decode])]) (:fields m))]
          (or (.putIfAbsent cache ::shape v) v)))))

(defn- all-columns [m] (mapv model/column-ident (:fields m)))

(defn- check-keys [m values what]
  (when-not (map? values)
    (throw (err/error :vireo/interface-error
                      (str what " of " (:name m) " needs a map of field values, got " (pr-str values))
                      {:model (:name m)})))
  (q/check-values! m values what))

;; ---------------------------------------------------------------- expressions over a model
(defn- column-or-self [m x]
  (if-let [f (and (keyword? x) (get-in m [:field-index x]))]
    (model/column-ident f)
    x))

(defn rewrite-expr
  "Rewrites a where expression over model `m`: field keys become their column
  identifiers and literals compared with a field are encoded for the dialect."
  [m dialect expr]
  (cond
    (keyword? expr) (column-or-self m expr)
    (and (vector? expr) (keyword? (first expr)))
    (let [[op & args] expr
          field-arg (some #(when (keyword? %) (get-in m [:field-index %])) args)
          encode (fn [v] (if (and field-arg (not (keyword? v)) (not (vector? v)) (not (map? v)))
                           (model/encode-value m dialect (:key field-arg) v)
                           v))]
      (into [op]
            (map (fn [a]
                   (cond
                     (and (vector? a) (keyword? (first a))) (rewrite-expr m dialect a)
                     (keyword? a) (column-or-self m a)
                     (and (vector? a) (#{:in :not-in} op)) (mapv encode a)
                     (#{:= :<> :!= :< :> :<= :>= :like :not-like :ilike :between} op) (encode a)
                     :else a)))
            args))
    :else expr))

;; ---------------------------------------------------------------- reads
(defn- select-base [m]
  {:select (all-columns m) :from [(model/table-ident m)]})

(defn- get-template
  "Template and args for a get by `filter`: a primary-key value, a map of field
  values (equality; nil means IS NULL) or a where expression vector."
  [m dialect filter]
  (cond
    (map? filter)
    (do (check-keys m filter "aio-get")
        ;; arrays, not transients: this is the hot path of a get by key
        (let [n (count filter)
              ks (object-array n)
              args (object-array (inc n))
              _ (reduce-kv (fn [^long i fk v]
                             (aset ks i (if (nil? v) [fk] fk))
                             (aset args i (model/encode-value m dialect fk v))
                             (inc i))
                           0 filter)
              _ (aset args n (Long/valueOf 1))
              k (clojure.lang.LazilyPersistentVector/createOwning ks)
              tpl (cached m dialect [:get k]
                          (fn []
                            (let [conds (map-indexed
                                         (fn [i [fk v]]
                                           (let [col (model/column-ident (model/field m fk))]
                                             (if (nil? v) [:= col nil] [:= col (slot i)])))
                                         (seq filter))]
                              (assoc (select-base m)
                                     :where (into [:and] conds)
                                     :limit (slot n)))))]
          [tpl (java.util.Arrays/asList args)]))

    (and (vector? filter) (keyword? (first filter)))
    [(compile-template dialect (assoc (select-base m) :where (rewrite-expr m dialect filter) :limit 1)) []]

    (nil? filter)
    (throw (err/error :vireo/interface-error
                      (str "aio-get of " (:name m) " needs a filter: a primary-key value, a map or a where vector")
                      {:model (:name m)}))

    (and (vector? filter) (nil? (:pk-field m)))
    (let [pks (:pk-fields m)]
      (when-not (= (count pks) (count filter))
        (throw (err/error :vireo/interface-error
                          (str "aio-get of " (:name m) " by its composite key needs " (count pks)
                               " values " (mapv :key pks) ", got " (pr-str filter))
                          {:model (:name m)})))
      (get-template m dialect (zipmap (map :key pks) filter)))

    :else
    (let [pk (or (:pk-field m)
                 (throw (err/error :vireo/interface-error
                                   (str (:name m) " has a composite primary key " (:primary-key m)
                                        "; aio-get it by a vector of " (count (:pk-fields m)) " values or a map")
                                   {:model (:name m)})))
          tpl (cached m dialect :get-pk
                      #(assoc (select-base m)
                              :where [:= (model/column-ident pk) (slot 0)]
                              :limit (slot 1)))]
      [tpl [(model/encode-value m dialect (:key pk) filter) 1]])))

(defn- describe-filter [filter] (pr-str filter))

(defn- does-not-exist [m filter]
  (err/error :vireo/does-not-exist
             (str (:name m) " instance matching query does not exist: " (describe-filter filter))
             {:model (:name m) :filter filter}))

(defn- run-get
  "One stage from the driver's result to the instance (or nil, or a
  does-not-exist failure when `required?`)."
  [m filter opts required?]
  (p/do
    (let [d (database-of m)
          dialect (:dialect d)
          [{:keys [sql binder]} args] (get-template m dialect filter)
          sh (shape m dialect)]
      (ctx/execute d sql (bind binder args) opts
                   (fn [rs]
                     (let [row (db/first-row->map rs sh)]
                       (if (and required? (nil? row))
                         (throw (does-not-exist m filter))
                         (model/loaded row))))
                   {:model (:name m)}))))

(defn get-or-none
  "Future of the first instance of `m` matching `filter`, or nil."
  [m filter opts]
  (run-get m filter opts false))

(defn get-one
  "Future of the first instance of `m` matching `filter`; fails with
  :vireo/does-not-exist naming the model and filter when there is none."
  [m filter opts]
  (run-get m filter opts true))

;; ---------------------------------------------------------------- writes
(defn- complete-instance
  "All model fields in declaration order, with the given values."
  [m values]
  (let [fs (:fields m)
        n (count fs)
        kvs (object-array (* 2 n))]
    (dotimes [i n]
      (let [k (:key (nth fs i))]
        (aset kvs (* 2 i) k)
        (aset kvs (inc (* 2 i)) (get values k))))
    (db/kvs->map kvs)))

(defn- with-defaults [m values]
  (reduce (fn [acc f]
            (if (and (contains? f :default) (not (contains? acc (:key f))))
              (assoc acc (:key f) (model/default-value f))
              acc))
          values (:fields m)))

(defn- insert*
  "Future of the inserted instance (all fields, generated key filled in)."
  [m values opts]
  (p/do
    (check-keys m values "aio-create")
    (let [d (database-of m)
          dialect (:dialect d)
          values (with-defaults m values)
          pk (:pk-field m)
          cols (let [out (java.util.ArrayList.)]
                 (doseq [f (:fields m)]
                   (when (and (contains? values (:key f))
                              (not (and (:auto f) (nil? (get values (:key f))))))
                     (.add out f)))
                 (db/owning-vector out))
          want-id? (and pk (nil? (get values (:key pk))))
          returning? (and want-id? (contains? (:returning (sql/dialect dialect)) :insert))
          tpl (cached m dialect [:insert (db/owning-vector (java.util.ArrayList. ^java.util.Collection (map :key cols)))]
                      (fn []
                        (cond-> {:insert-into (model/table-ident m)}
                          (seq cols) (assoc :columns (mapv model/column-ident cols)
                                            :values [(vec (map-indexed (fn [i _] (slot i)) cols))])
                          (empty? cols) (assoc :values :default)
                          returning? (assoc :returning [(model/column-ident pk)]))))
          args (let [n (count cols) out (object-array n)]
                 (dotimes [i n]
                   (let [f (nth cols i)]
                     (aset out i (model/encode-write-value m dialect (:key f) (get values (:key f))))))
                 (java.util.Arrays/asList out))]
      (ctx/execute d (:sql tpl) (bind (:binder tpl) args) opts
                   (fn [^RowSet rs]
                     (let [id (when want-id?
                                (let [decode (get-in (model/codecs m dialect) [(:key pk) :decode])]
                                  (decode (if returning?
                                            (let [it (.iterator rs)] (when (.hasNext it) (.getValue ^Row (.next it) (int 0))))
                                            (db/last-insert-id d rs)))))]
                       (model/loaded (complete-instance m (cond-> values want-id? (assoc (:key pk) id))))))
                   {:model (:name m)}))))

(defn- pk-values
  "The instance's primary-key values (one per key field), or nil when any is
  missing."
  [m instance]
  (let [vs (mapv #(get instance (:key %)) (:pk-fields m))]
    (when (and (seq vs) (every? some? vs)) vs)))

(defn- changed?
  "True when a field's value differs from the loaded one (a foreign key
  compares by key, loaded relation or not)."
  [f v ov]
  (if-let [to (get-in f [:fk :to-field])]
    (not= (if (map? v) (get v to) v) (if (map? ov) (get ov to) ov))
    (not= v ov)))

(defn- pk-filter [m vs] (zipmap (map :key (:pk-fields m)) vs))

(defn- pk-where
  "[:and [:= pk-col (slot i)] …] with slots from `start`."
  [m start]
  (into [:and] (map-indexed (fn [i f] [:= (model/column-ident f) (slot (+ start i))]) (:pk-fields m))))

(defn- encode-pk [m dialect vs]
  (mapv (fn [f v] (model/encode-value m dialect (:key f) v)) (:pk-fields m) vs))

(defn- save*
  "Future of the saved instance: UPDATE by primary key of the fields present
  (or of (:only opts)) when the instance has a key (fails with
  :vireo/does-not-exist if no row has it), INSERT otherwise or with
  {:force-insert true}."
  [m instance {:keys [force-insert only] :as opts}]
  (p/do
    (check-keys m instance "aio-save")
    (let [pk-vs (pk-values m instance)]
      (if (or force-insert (nil? pk-vs))
        (insert* m instance opts)
        (let [d (database-of m)
              dialect (:dialect d)
              only (when only (set (map #(:key (model/field m %)) only)))
              orig (when-not only (model/original instance))
              cols (filterv (fn [f] (and (contains? instance (:key f)) (not (:primary-key f)) (not (:pk-part f))
                                         (or (nil? only) (contains? only (:key f)))
                                         (or (nil? orig) (changed? f (get instance (:key f)) (get orig (:key f))))))
                            (:fields m))]
          (if (empty? cols)
            instance
            (let [tpl (cached m dialect [:update (mapv :key cols)]
                              (fn []
                                {:update (model/table-ident m)
                                 :set (apply array-map
                                             (mapcat (fn [i f] [(model/column-ident f) (slot i)])
                                                     (range) cols))
                                 :where (pk-where m (count cols))}))
                  args (into (mapv (fn [f] (model/encode-write-value m dialect (:key f) (get instance (:key f)))) cols)
                             (encode-pk m dialect pk-vs))]
              (ctx/execute d (:sql tpl) (bind (:binder tpl) args) opts
                           (fn [^RowSet rs]
                             (if (zero? (.rowCount rs))
                               (throw
                                (err/error :vireo/does-not-exist
                                           (str (:name m) " with " (pr-str (pk-filter m pk-vs))
                                                " does not exist, so aio-save updated nothing;"
                                                " pass {:force-insert true} to insert it")
                                           {:model (:name m) :filter (pk-filter m pk-vs)}))
                               (model/loaded instance)))
                           {:model (:name m)}))))))))

(defn delete-by-pk
  "Future of the number of rows deleted (1, or 0 when the row was already gone)."
  [m instance opts]
  (p/do
    (let [pk-vs (pk-values m instance)
          d (database-of m)
          dialect (:dialect d)]
      (when (nil? pk-vs)
        (throw (err/error :vireo/interface-error
                          (str "aio-delete-instance: this " (:name m) " has no " (pr-str (:primary-key m))
                               " (it was never saved)")
                          {:model (:name m)})))
      (let [tpl (cached m dialect :delete-pk
                        #(hash-map :delete-from (model/table-ident m)
                                   :where (pk-where m 0)))]
        (ctx/execute d (:sql tpl) (bind (:binder tpl) (encode-pk m dialect pk-vs)) opts
                     (fn [^RowSet rs] (.rowCount rs))
                     {:model (:name m)})))))

;; signals wrap the single-instance writes (bulk queries send none)
(defn insert
  "Future of the inserted instance (all fields, generated key filled in);
  sends pre-save/post-save with {:created true}."
  [m values opts]
  (signals/wrap-save m values true #(insert* m values opts)))

(defn save
  "Future of the saved instance (see `save*`); sends pre-save/post-save with
  :created true when it inserts."
  [m instance {:keys [force-insert] :as opts}]
  (p/do (check-keys m instance "aio-save")
        (signals/wrap-save m instance (boolean (or force-insert (nil? (pk-values m instance))))
                           #(save* m instance opts))))

(defn get-or-create
  "Future of [instance created?]: the instance matching the equality map
  `filter`, or a new one created from filter + (:defaults opts). A concurrent
  creator winning the race (unique violation) is answered by reading again;
  inside a transaction the insert runs in a savepoint, so that violation
  does not abort the transaction."
  [m filter opts]
  (p/let [found (get-or-none m filter opts)]
    (if found
      [found false]
      (-> (let [d (database-of m)
                defaults (:defaults opts)
                opts (dissoc opts :defaults)
                create #(insert m (merge defaults filter) opts)]
            ;; inside a transaction the insert gets a savepoint (peewee's
            ;; aio_atomic), so a unique violation leaves the transaction usable
            (if (some-> (ctx/current d opts) ctx/tx-open?)
              (ctx/atomic d opts (fn [_] (create)) false)
              (create)))
          (p/map (fn [inst] [inst true]))
          (p/catch :vireo/integrity-error
            (fn [e]
              (p/then (get-or-none m filter opts)
                      (fn [again] (if again [again false] (p/rejected e))))))))))

;; ---------------------------------------------------------------- DDL and generic execution
(defn- run-all
  "Runs statements one after another; future of nil."
  [d queries opts]
  (reduce (fn [fut q]
            (p/then fut (fn [_] (let [[s & params] (db/format-query d q)]
                                  (ctx/execute d s params opts)))))
          (p/resolved nil)
          queries))

(defn create-table [m opts]
  (p/do (let [d (database-of m)]
          (p/map (run-all d (model/create-table-queries m opts) opts) (constantly nil)))))

(defn drop-table [m opts]
  (p/do (let [d (database-of m)]
          (p/map (run-all d (model/drop-table-queries m opts) opts) (constantly nil)))))

(defn- statement-kind [query]
  (cond (some #(contains? query %) [:select :select-distinct :union :union-all :intersect :except]) :select
        (contains? query :insert-into) :insert
        (contains? query :update) :update
        (contains? query :delete-from) :delete
        :else :ddl))

(defn- execute-data
  "Formats plain query data for the database and runs it (see `execute`)."
  [d query opts]
  (let [[s & params] (shape/format-query query (:dialect d))
        kind (statement-kind query)]
    (ctx/execute d s params opts
                 (fn [^RowSet rs]
                   (cond
                     (or (= kind :select) (:returning query)) (db/rows->maps rs nil)
                     (= kind :insert) (let [id (db/last-insert-id d rs)]
                                        (some-> id types/normalise-value))
                     (#{:update :delete} kind) (.rowCount rs)
                     :else nil))
                 nil)))

(defn- returning-cols [m q]
  (when-let [r (:vireo/returning q)]
    (q/returning-fields m (when (sequential? r) r))))

(defn- insert-ids
  "Decodes the keys an insert generated: ids from RETURNING rows, else from
  last-insert-id (consecutive for a multi-row statement) or the values given."
  [m d dialect compiled returning? ^RowSet rs single?]
  (let [pk (:pk-field m)
        rows (:rows compiled)]
    (cond
      returning?
      (let [dec (get-in (model/codecs m dialect) [(:key pk) :decode])
            it (.iterator rs)
            ids (loop [acc (transient [])]
                  (if (.hasNext it)
                    (recur (conj! acc (dec (.getValue ^Row (.next it) (int 0)))))
                    (persistent! acc)))]
        (if single? (first ids) ids))

      (or (nil? pk) (not (:auto pk)) (every? #(some? (get % (:key pk))) rows))
      (let [ids (mapv (fn [r] (if pk (get r (:key pk)) (mapv #(get r (:key %)) (:pk-fields m)))) rows)]
        (if single? (first ids) ids))

      :else
      (let [first-id (some-> (db/last-insert-id d rs) types/normalise-value)
            first-id (when (and first-id (not (zero? (long first-id)))) (long first-id))]
        (if single?
          first-id
          ;; MySQL reports the first id of the batch; SQLite the last
          (when first-id
            (let [n (.rowCount rs)
                  start (if (= :sqlite (:kind d)) (- first-id (dec n)) first-id)]
              (mapv #(+ start %) (range n)))))))))

(defn- execute-model-query
  [q opts]
  (let [m (:vireo/model q)
        d (database-of m)
        dialect (:dialect d)
        shape (or (:vireo/as q) :instances)
        info {:model (:name m)}]
    (case (:vireo/query q)
      (:select :compound)
      (let [c (q/compile-select q dialect opts)
            [s & params] (sql/format (:query c) {:dialect dialect})]
        (ctx/execute d s params opts (q/row-decoder c dialect shape) info))

      :raw
      (ctx/execute d (:vireo/sql q) (:vireo/params q) opts (q/raw-decoder m dialect shape) info)

      :insert
      (let [ret-fields (returning-cols m q)
            pk (:pk-field m)
            want-ids? (and (nil? ret-fields) (not (:vireo/rowcount q)) (nil? (:vireo/from q)))
            returning? (and want-ids? pk (contains? (:returning (sql/dialect dialect)) :insert))
            q (cond-> q
                ret-fields (assoc :vireo/returning (mapv model/column-ident ret-fields))
                returning? (assoc :vireo/returning [(model/column-ident pk)]))
            c (q/compile-insert q dialect)
            [s & params] (sql/format (:query c) {:dialect dialect})]
        (ctx/execute d s params opts
                     (fn [^RowSet rs]
                       (cond
                         ret-fields ((q/instance-decoder m dialect ret-fields) rs)
                         want-ids? (insert-ids m d dialect c returning? rs (:vireo/single q))
                         :else (.rowCount rs)))
                     info))

      (:update :delete)
      (let [ret-fields (returning-cols m q)
            q (cond-> q ret-fields (assoc :vireo/returning (mapv model/column-ident ret-fields)))
            c (if (= :update (:vireo/query q)) (q/compile-update q dialect) (q/compile-delete q dialect))
            [s & params] (sql/format (:query c) {:dialect dialect})]
        (ctx/execute d s params opts
                     (fn [^RowSet rs]
                       (if ret-fields
                         ((q/instance-decoder m dialect ret-fields) rs)
                         (.rowCount rs)))
                     info)))))

(defn execute
  "Runs a model query (see vireo.impl.query) or formats plain query data for
  the database and runs it. Future of, for plain data: select (or any
  :returning) -> vector of row maps; insert -> the generated id (nil when
  none was generated); update/delete -> rows affected; DDL -> nil. Model
  queries: see `vireo.core/aio-execute`."
  [target query opts]
  (p/do
    (if (q/query? query)
      (execute-model-query query opts)
      (execute-data (database-of target) query opts))))

;; ---------------------------------------------------------------- select helpers
(defn- limited
  "The query with LIMIT n unless it already has a smaller one."
  [query n]
  (let [l (:limit query)]
    (if (and (integer? l) (<= (long l) (long n))) query (assoc query :limit n))))

(defn peek-rows
  "Future of up to n rows: the first row (n = 1) or a vector; nil when none."
  [query n opts]
  (p/map (execute nil (limited query n) opts)
         (fn [rows] (cond (empty? rows) nil (= 1 n) (first rows) :else rows))))

(defn first-rows
  "Like peek-rows, but sets the query's LIMIT to n (peewee's first)."
  [query n opts]
  (p/map (execute nil (assoc query :limit n) opts)
         (fn [rows] (cond (empty? rows) nil (= 1 n) (first rows) :else rows))))

(defn scalar
  "Future of the first column of the first row (nil when no row)."
  [query opts]
  (p/map (execute nil (limited (assoc query :vireo/as :vectors) 1) opts)
         (fn [rows] (first (first rows)))))

(defn- wrapped
  "{:select items :from [[compiled-subquery :_wrapped]]} for a model query."
  [query dialect items extra]
  (merge {:select items
          :from [[(:query (q/compile-select query dialect {})) :_wrapped]]}
         extra))

(defn count-rows
  "Future of the number of rows the query yields."
  [query {:keys [clear-limit] :as opts}]
  (p/do
    (let [m (:vireo/model query)
          d (database-of m)
          inner (q/count-query query clear-limit)]
      (p/map (execute-data d (wrapped inner (:dialect d) [[[:count [:inline 1]] :n]] nil) opts)
             (fn [rows] (long (:n (first rows))))))))

(defn exists
  "Future of true when the query yields a row."
  [query opts]
  (p/do
    (let [m (:vireo/model query)
          d (database-of m)]
      (p/map (execute-data d (wrapped (dissoc query :order-by) (:dialect d) [[[:inline 1] :one]] {:limit 1}) opts)
             (fn [rows] (boolean (seq rows)))))))

(defn get-query
  "Future of the first row of a select query; fails with :vireo/does-not-exist."
  [query opts required?]
  (p/do
    (let [m (:vireo/model query)
          d (database-of m)
          query (assoc query :limit 1)]
      (p/map (execute nil query opts)
             (fn [rows]
               (let [r (first rows)]
                 (if (and required? (nil? r))
                   (let [[s & params] (sql/format (:query (q/compile-select query (:dialect d) {}))
                                                  {:dialect (:dialect d)})]
                     (throw (err/error :vireo/does-not-exist
                                       (str (:name m) " instance matching query does not exist:\nSQL: " s
                                            "\nParams: " (pr-str (vec params)))
                                       {:model (:name m) :sql s :params (vec params)})))
                   r)))))))

;; ---------------------------------------------------------------- streaming
(defn stream-reduce
  "Future of the reduction of a select's rows, streamed over a cursor (see
  vireo.impl.stream/reduce-rows). `query` is a model select (rows decoded as
  it says), plain select data (row maps) or a SQL string (opts :params)."
  [target query opts rf init]
  (p/do
    (cond
      (q/query? query)
      (let [m (:vireo/model query)
            d (database-of m)
            dialect (:dialect d)
            c (q/compile-select query dialect opts)
            [s & params] (sql/format (:query c) {:dialect dialect})]
        (stream/reduce-rows d s params opts (q/row-fn c dialect (or (:vireo/as query) :instances)) rf init))

      (string? query)
      (stream/reduce-rows (database-of target) query (vec (:params opts)) (dissoc opts :params) nil rf init)

      :else
      (let [d (database-of target)
            [s & params] (shape/format-query query (:dialect d))]
        (stream/reduce-rows d s params opts nil rf init)))))
