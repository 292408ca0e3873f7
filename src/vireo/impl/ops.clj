(ns ^:no-doc vireo.impl.ops
  "Model operations (create, get, save, delete, DDL) and query execution.
  Hot statements are formatted once per model, dialect and shape into a
  template (vireo.impl.template): the SQL string plus a binder that places
  the call's parameters, so a call only encodes values and executes."
  (:require [clojure.string :as str]
            [vireo.impl.context :as ctx]
            [vireo.impl.db :as db]
            [vireo.impl.errors :as err]
            [vireo.impl.model :as model]
            [vireo.impl.query :as q]
            [vireo.impl.results :as results]
            [vireo.impl.stream :as stream]
            [vireo.impl.template :as tpl]
            [vireo.impl.types :as types]
            [vireo.promise :as p]
            [vireo.sql :as sql])
  (:import (io.vertx.sqlclient RowSet Row)
           (java.util.concurrent ConcurrentHashMap)))

(set! *warn-on-reflection* true)

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

(defn- all-columns [m] (mapv model/column-ident (:fields m)))

(defn check-keys
  "Throws a typed error unless `values` is a map whose keys are fields of m
  (or its loaded relations); `what` names the operation in the message."
  [m values what]
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

;; LIMIT 1's parameter
(def ^:private one (Long/valueOf 1))

;; a template and the statement parameters bound for one call
(deftype Bound [tpl ^java.util.List params])

(defn- get-template
  "The template and parameters (a Bound) for a get by `filter`: a primary-key value, a map of field
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
              tpl (tpl/cached m dialect [:get k]
                          (fn []
                            (let [conds (map-indexed
                                         (fn [i [fk v]]
                                           (let [col (model/column-ident (model/field m fk))]
                                             (if (nil? v) [:= col nil] [:= col (tpl/slot i)])))
                                         (seq filter))]
                              (assoc (select-base m)
                                     :where (into [:and] conds)
                                     :limit (tpl/slot n)))))]
          (Bound. tpl (tpl/bind tpl (java.util.Arrays/asList args)))))

    (and (vector? filter) (keyword? (first filter)))
    (let [t (tpl/compile-template dialect (assoc (select-base m) :where (rewrite-expr m dialect filter) :limit 1))]
      (Bound. t (tpl/bind t [])))

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
          tpl (tpl/cached m dialect :get-pk
                      #(assoc (select-base m)
                              :where [:= (model/column-ident pk) (tpl/slot 0)]
                              :limit (tpl/slot 1)))]
      ;; the key and the limit, in that order: no binder walk
      (Bound. tpl (tpl/params-2 (model/encode-value m dialect (:key pk) filter) one)))))

(defn- describe-filter [filter] (pr-str filter))

(defn- does-not-exist [m filter sql params]
  (err/error :vireo/does-not-exist
             (str (:name m) " instance matching query does not exist: " (describe-filter filter)
                  "\nSQL: " sql "\nParams: " (pr-str (err/bounded-params params)))
             {:model (:name m) :filter filter :sql sql :params (err/bounded-params params)}))

(defn- get-decoder
  "RowSet -> the first row as an instance, or nil — or, when `required?`, a
  :vireo/does-not-exist naming the model, filter, SQL and parameters."
  [m filter sql params build required?]
  (fn [rs]
    (let [inst (results/first-row rs build)]
      (if (and required? (nil? inst))
        (throw (does-not-exist m filter sql params))
        inst))))

;; A get by primary key, the hottest read, compiled once per model object
;; and dialect: its SQL, the key's encoder, the row builder (its instances
;; carry the model object, database included) and the error info, found
;; with one cache lookup per call. A model object without a cache of its
;; own (assoc'ed from another) gets a plan per call, its SQL still cached.
(deftype GetPkPlan [^String sql encode build info])

(defn- object-plan
  "The plan under `k` in `m`'s object cache for `dialect`, made by (make)
  once; made per call for a model object without a cache of its own."
  [m dialect k make]
  (if-let [^ConcurrentHashMap cache (model/object-dialect-cache m dialect)]
    (or (.get cache k)
        (let [plan (make)] (or (.putIfAbsent cache k plan) plan)))
    (make)))

(defn- get-pk-plan ^GetPkPlan [m dialect]
  (object-plan m dialect ::get-pk-plan
               #(let [pk (:pk-field m)
                      t (tpl/cached m dialect :get-pk
                                    (fn [] (assoc (select-base m)
                                                  :where [:= (model/column-ident pk) (tpl/slot 0)]
                                                  :limit (tpl/slot 1))))]
                  (GetPkPlan. (:sql t) (model/field-encoder m dialect (:key pk) :encode)
                              (results/model-builder m dialect) (model/info m)))))

;; A get by one field's value ({:key "x"}), the other hot read: a plan per
;; model object, dialect and field (the same SQL the general map path formats,
;; compiled once per model definition and dialect).
(defn- get-by-plan ^GetPkPlan [m dialect k]
  (let [^ConcurrentHashMap by (object-plan m dialect ::get-by #(ConcurrentHashMap.))]
    (or (.get by k)
        (let [f (model/field m k)
              t (tpl/cached m dialect [::get-by k]
                            #(assoc (select-base m)
                                    :where [:and [:= (model/column-ident f) (tpl/slot 0)]]
                                    :limit (tpl/slot 1)))
              plan (GetPkPlan. (:sql t) (model/field-encoder m dialect k :encode)
                               (results/model-builder m dialect) (model/info m))]
          (or (.putIfAbsent by k plan) plan)))))

(defn- one-field-entry
  "The entry of a filter map of one field with a non-nil value, else nil."
  [m filter]
  (when (and (map? filter) (== 1 (count filter)))
    (let [e (first filter)]
      (when (and (some? (val e)) (contains? (:field-index m) (key e)))
        e))))

(defn- by-pk?
  "True when `filter` is a primary-key value (not a map, a where vector, a
  composite key's vector or nil) of a model with a single-field key."
  [m filter]
  (and (some? filter) (not (map? filter)) (not (vector? filter)) (some? (:pk-field m))))

(defn- run-get
  "One stage from the driver's result to the instance (or nil, or a
  does-not-exist failure when `required?`)."
  [m filter opts required?]
  (p/do
    (let [d (database-of m)
          dialect (:dialect d)]
      (if-let [^GetPkPlan pl (cond (by-pk? m filter) (get-pk-plan m dialect)
                                   (one-field-entry m filter) (get-by-plan m dialect (key (first filter))))]
        (let [sql (.-sql pl)
              v (if (map? filter) (val (first filter)) filter)
              params (tpl/params-2 ((.-encode pl) v) one)]
          (ctx/execute d sql params opts (get-decoder m filter sql params (.-build pl) required?) (.-info pl)))
        (let [^Bound b (get-template m dialect filter)
              sql (:sql (.-tpl b))
              params (.-params b)]
          (ctx/execute d sql params opts
                       (get-decoder m filter sql params (results/model-builder m dialect) required?)
                       (model/info m)))))))

(defn get-or-none
  "Future of the first instance of `m` matching `filter`, or nil."
  [m filter opts]
  (run-get m filter opts false))

(defn get-one
  "Future of the first instance of `m` matching `filter`; fails with
  :vireo/does-not-exist naming the model and filter when there is none."
  [m filter opts]
  (run-get m filter opts true))

;; ---------------------------------------------------------------- capabilities
(defn- with-caps
  "Calls (f caps) with the database's capabilities (vireo.impl.db/capabilities):
  at once when they are known, else when the detection answers."
  [d f]
  (if-let [c (db/capabilities-now d)]
    (f c)
    (p/then (db/capabilities d) f)))

(defn- refuse-returning
  "Throws :vireo/not-supported for RETURNING on `kind` (:insert :update :delete)."
  [d caps kind]
  (let [feature (str "RETURNING on " (str/upper-case (name kind)))]
    (throw (err/error :vireo/not-supported
                      (str feature " is not supported by " (db/describe d) " (" (db/describe-returning caps) ")")
                      {:backend (:kind d) :database (db/describe d) :feature feature}))))

(defn- can-return?
  "Whether a statement of `kind` (:insert :update :delete) may carry
  RETURNING on the database with capabilities `caps`: read from its
  effective dialect, which the detection (or the :returning option) decided
  once, when the pool opened. Every RETURNING choice goes through here."
  [caps kind]
  (contains? (:returning (:dialect caps)) kind))

;; ---------------------------------------------------------------- writes
(defn- complete-instance
  "The loaded instance of all model fields in declaration order, with the
  given values (and the generated key `id` under `id-key`, when id-key is
  given)."
  [m values id-key id]
  (let [fs (:fields m)
        n (count fs)
        kvs (object-array (* 2 n))]
    (dotimes [i n]
      (let [k (get (nth fs i) :key)]
        (aset kvs (* 2 i) k)
        (aset kvs (inc (* 2 i)) (if (and id-key (identical? k id-key)) id (get values k)))))
    (model/row-instance (model/instance-template m) kvs)))

(declare insert-with-caps)

(defn- insert*
  "Future of the inserted instance (all fields, generated key filled in):
  the key from RETURNING where the database has it on INSERT, else from the
  driver's last insert id."
  [m values opts]
  (p/do
    (check-keys m values "aio-create")
    (let [d (database-of m)]
      (if-let [caps (db/capabilities-now d)]
        (insert-with-caps m d caps values opts)
        (p/then (db/capabilities d) (fn [caps] (insert-with-caps m d caps values opts)))))))

(defn- given?
  "True when an insert of `values` writes field f (an auto key only when it
  has a value)."
  [f values]
  ;; `get`: fields are array or hash maps by their size (see vireo.impl.query/query?)
  (let [k (get f :key)]
    (and (contains? values k) (not (and (get f :auto) (nil? (get values k)))))))

(defn- insert-template
  "The template of an INSERT of the fields of `m` for which (given-at? i)
  holds, with RETURNING of the key when `returning?`."
  [m dialect given-at? returning?]
  (let [cols (into [] (keep-indexed (fn [i f] (when (given-at? i) f))) (:fields m))]
    (assoc (tpl/compile-template
            dialect
            (cond-> {:insert-into (model/table-ident m)}
              (seq cols) (assoc :columns (mapv model/column-ident cols)
                                :values [(vec (map-indexed (fn [i _] (tpl/slot i)) cols))])
              (empty? cols) (assoc :values :default)
              returning? (assoc :returning [(model/column-ident (:pk-field m))])))
           ;; per column: its key and its write encoder, looked up once
           :keys (object-array (map :key cols))
           :encoders (object-array (map #(model/field-encoder m dialect (:key %) :write) cols)))))

(defn- given-fields
  "The fields given as a bit set: a long when the model has fewer than 63
  fields (the hot path: no allocation), else a BigInteger."
  [fs values]
  (let [nf (count fs)]
    (if (< nf 63)
      (loop [i 0 mask 0]
        (if (< i nf) (recur (inc i) (if (given? (nth fs i) values) (bit-or mask (bit-shift-left 1 i)) mask)) mask))
      (reduce (fn [^java.math.BigInteger b i] (if (given? (nth fs i) values) (.setBit b (int i)) b))
              java.math.BigInteger/ZERO (range nf)))))

(defn- given-at?
  "(fn [i] field i is given) for a bit set from `given-fields`."
  [mask]
  (if (instance? Long mask)
    (let [m (long mask)] (fn [i] (bit-test m i)))
    (fn [i] (.testBit ^java.math.BigInteger mask (int i)))))

(defn- insert-with-caps [m d caps values opts]
  (let [dialect (:dialect d)
        values (model/with-defaults m values)
        pk (:pk-field m)
        fs (:fields m)
        nf (count fs)
        want-id? (and pk (nil? (get values (:key pk))))
        returning? (and want-id? (can-return? caps :insert))
        mask (given-fields fs values)
        ;; the template's key: the fields given and whether it returns the key
        k (if (instance? Long mask)
            (Long/valueOf (bit-or (bit-shift-left (long mask) 1) (if returning? 1 0)))
            [returning? mask])
        cache (model/dialect-cache m dialect)
        tpl (or (.get cache k)
                (let [t (insert-template m dialect (given-at? mask) returning?)]
                  (or (.putIfAbsent cache k t) t)))
        args (let [^objects ks (:keys tpl)
                   ^objects encs (:encoders tpl)
                   n (alength ks)
                   out (object-array n)]
               (dotimes [j n]
                 (aset out j ((aget encs j) (get values (aget ks j)))))
               (java.util.Arrays/asList out))]
    (ctx/execute d (:sql tpl) (tpl/bind-template tpl args) opts
                 (fn [^RowSet rs]
                   (let [id (when want-id?
                              (let [decode (:decode (get (model/codecs m dialect) (:key pk)))]
                                (decode (if returning?
                                          (let [it (.iterator rs)] (when (.hasNext it) (.getValue ^Row (.next it) (int 0))))
                                          (db/last-insert-id d rs)))))]
                     (complete-instance m values (when want-id? (:key pk)) id)))
                 (model/info m))))

(defn pk-values
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
  "[:and [:= pk-col (tpl/slot i)] …] with slots from `start`."
  [m start]
  (into [:and] (map-indexed (fn [i f] [:= (model/column-ident f) (tpl/slot (+ start i))]) (:pk-fields m))))

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
            (let [tpl (tpl/cached m dialect [:update (mapv :key cols)]
                              (fn []
                                {:update (model/table-ident m)
                                 :set (apply array-map
                                             (mapcat (fn [i f] [(model/column-ident f) (tpl/slot i)])
                                                     (range) cols))
                                 :where (pk-where m (count cols))}))
                  args (into (mapv (fn [f] (model/encode-write-value m dialect (:key f) (get instance (:key f)))) cols)
                             (encode-pk m dialect pk-vs))]
              (ctx/execute d (:sql tpl) (tpl/bind tpl args) opts
                           (fn [^RowSet rs]
                             (if (zero? (.rowCount rs))
                               (throw
                                (err/error :vireo/does-not-exist
                                           (str (:name m) " with " (pr-str (pk-filter m pk-vs))
                                                " does not exist, so aio-save updated nothing;"
                                                " pass {:force-insert true} to insert it")
                                           {:model (:name m) :filter (pk-filter m pk-vs)}))
                               (model/loaded (model/instance-template m) instance)))
                           (model/info m)))))))))

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
      (let [tpl (tpl/cached m dialect :delete-pk
                        #(hash-map :delete-from (model/table-ident m)
                                   :where (pk-where m 0)))]
        (ctx/execute d (:sql tpl) (tpl/bind tpl (encode-pk m dialect pk-vs)) opts
                     (fn [^RowSet rs] (.rowCount rs))
                     (model/info m))))))

;; no signals here: vireo.impl.instance sends them around insert and save
(defn insert
  "Future of the inserted instance (all fields, generated key filled in)."
  [m values opts]
  (insert* m values opts))

(defn save
  "Future of the saved instance (see `save*`)."
  [m instance opts]
  (save* m instance opts))

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
          (model/check-identifier-lengths! m (:identifier-limit (db/traits d)))
          (p/map (run-all d (model/create-table-queries m opts) opts) (constantly nil)))))

(defn drop-table [m opts]
  (p/do (let [d (database-of m)]
          (model/check-identifier-lengths! m (:identifier-limit (db/traits d)))
          (p/map (run-all d (model/drop-table-queries m opts) opts) (constantly nil)))))

(defn- statement-kind [query]
  (cond (or (contains? query :select) (contains? query :select-distinct) (contains? query :union)
            (contains? query :union-all) (contains? query :intersect) (contains? query :except)) :select
        (contains? query :insert-into) :insert
        (contains? query :update) :update
        (contains? query :delete-from) :delete
        :else :ddl))

(declare execute-data*)

(defn execute-sql
  "Runs a SQL string with parameters on database `d` (the operation's scope
  as ever). Future of {:rows [row maps] :row-count n :last-insert-id id}."
  [d sql params opts]
  ;; raw parameters pass no field codec: refuse here what no driver sends
  ;; faithfully (lone surrogates, integers beyond 64 bits, SQLite's NaN)
  (tpl/checked-params (:dialect d) params)
  (ctx/execute d sql params opts
               (fn [^RowSet rs]
                 {:rows (results/row-maps rs)
                  :row-count (.rowCount rs)
                  :last-insert-id (db/last-insert-id d rs)})
               nil))

(defn- execute-data
  "Formats plain query data for the database and runs it (see `execute`).
  A :returning the database cannot do is refused (its dialect may have it:
  MariaDB < 10.5, MySQL, the :returning option)."
  [d query opts]
  (let [kind (statement-kind query)]
    (if (and (#{:insert :update :delete} kind)
             (let [r (:returning query)] (and (some? r) (not (and (sequential? r) (empty? r))))))
      (with-caps d (fn [caps]
                     (if (can-return? caps kind)
                       (execute-data* d query opts kind)
                       (refuse-returning d caps kind))))
      (execute-data* d query opts kind))))

(defn- row-count [^RowSet rs] (.rowCount rs))
(defn- no-result [_] nil)

(defn- execute-data* [d query opts kind]
  (let [^vireo.impl.template.Formatted f (tpl/format-statement query (:dialect d))
        decode (cond
                 (or (identical? kind :select) (:returning query)) results/row-maps
                 (identical? kind :insert) (fn [rs] (some-> (db/last-insert-id d rs) types/normalise-value))
                 (or (identical? kind :update) (identical? kind :delete)) row-count
                 :else no-result)]
    (ctx/execute d (.-sql f) (.-params f) opts decode nil)))

(defn- returning-cols [m q]
  (when-let [r (:vireo/returning q)]
    (q/returning-fields m (when (sequential? r) r))))

;; ---------------------------------------------------------------- inserts
(defn- param-limit
  "The bind parameters one statement may carry (the backend's :param-limit)."
  [d] (:param-limit (db/traits d)))

(defn- insert-statements
  "Given a formatted-ready insert query map (from compile-insert, RETURNING
  added), returns [[sql params n-rows] …]: one statement when its parameters
  fit the backend's limit, else the rows split into chunks that do, each
  one multi-row statement. A query without value rows (DEFAULT VALUES) for
  n rows is n statements."
  [d query n-rows]
  (let [dialect (:dialect d)
        values (:values query)
        fmt (fn [q n] (let [[s & ps] (sql/format q {:dialect dialect})] [s (vec ps) n]))]
    (if-not (and (vector? values) (seq values))
      (vec (repeat (max 1 n-rows) (fmt query 1)))
      (let [limit (long (param-limit d))
            one (count (nth (fmt (assoc query :values [(first values)]) 1) 1))
            per (if (pos? one) (max 1 (dec (quot limit one))) (count values))
            split (fn split [rows]
                    (let [[_ ps _ :as st] (fmt (assoc query :values rows) (count rows))]
                      (if (and (> (count ps) limit) (> (count rows) 1))
                        (let [h (quot (count rows) 2)]
                          (into (split (subvec rows 0 h)) (split (subvec rows h))))
                        [st])))]
        (into [] (mapcat split) (map vec (partition-all per values)))))))

(defn- run-statements
  "Runs statements [sql params n-rows] one after another; (f rowset n-rows)
  decodes each result. More than one statement run inside one transaction
  (a savepoint when one is open), so they succeed or fail together. Future of
  the vector of decoded results."
  [d stmts opts f info]
  (let [run (fn [opts]
              (reduce (fn [fut [s ps n]]
                        (p/then fut (fn [acc] (ctx/execute d s ps opts (fn [rs] (conj acc (f rs n))) info))))
                      (p/resolved [])
                      stmts))]
    (if (= 1 (count stmts))
      (run opts)
      (ctx/atomic d (select-keys opts [:connection]) (fn [tx] (run (assoc opts :connection tx))) false))))

(defn- returned-ids
  "The first column of every RETURNING row, decoded by the key's codec."
  [m dialect ^RowSet rs]
  (let [dec (get-in (model/codecs m dialect) [(:key (:pk-field m)) :decode])
        it (.iterator rs)]
    (loop [acc (transient [])]
      (if (.hasNext it)
        (recur (conj! acc (dec (.getValue ^Row (.next it) (int 0)))))
        (persistent! acc)))))

(defn- last-insert-ids
  "The n keys a plain multi-row INSERT generated, from the driver's last
  insert id: the batch's first (MariaDB/MySQL: the rest follow by
  @@auto_increment_increment) or its last (SQLite: rowids are consecutive),
  as the backend's :insert-id trait says."
  [d caps ^RowSet rs n]
  (let [id (some-> (db/last-insert-id d rs) types/normalise-value)
        id (when (and id (not (zero? (long id)))) (long id))]
    (if (nil? id)
      (vec (repeat n nil))
      (let [step (long (or (:auto-increment-increment caps) 1))
            start (if (= :last (:insert-id (db/traits d))) (- id (* step (dec (long n)))) id)]
        (mapv #(+ start (* step (long %))) (range n))))))

(defn- given-keys [m rows]
  (mapv (fn [r] (if-let [pk (:pk-field m)] (get r (:key pk)) (mapv #(get r (:key %)) (:pk-fields m)))) rows))

(defn- upsert? [q] (boolean (or (:do-nothing q) (:do-update-set q))))

(defn- refuse-upsert-keys [m d caps q]
  (throw (err/error :vireo/not-supported
                    (str (if (:vireo/single q) "insert" "insert-many") " of " (:name m)
                         " with an on-conflict clause cannot give back the keys it wrote on " (db/describe d)
                         " (" (db/describe-returning caps) "; without RETURNING the keys of rows it"
                         (if (:vireo/single q) " updated" " skipped or updated") " are unknown);"
                         " use as-rowcount for the number of rows instead")
                    {:backend (:kind d) :database (db/describe d) :model (:name m)
                     :feature "keys of an upsert without RETURNING"})))

(defn- run-insert-group
  "Compiles the insert query `q` (its rows, or INSERT … SELECT) with
  RETURNING of `ret-cols` (nil: none), runs it in chunks, and decodes each
  statement with (f rowset n-rows). Future of [compiled results]."
  [d q ret-cols opts f info]
  (let [c (q/compile-insert q (:dialect d))
        query (cond-> (:query c) ret-cols (assoc :returning ret-cols))
        stmts (if (:vireo/from q)
                (let [[s & ps] (sql/format query {:dialect (:dialect d)})] [[s (vec ps) nil]])
                (insert-statements d query (count (:vireo/rows q))))]
    (p/map (run-statements d stmts opts f info) (fn [results] [c results]))))

(defn- run-insert
  "An insert model query on `d` with capabilities `caps`. Future of: with
  `returning`, the instances written; with as-rowcount or insert-from, the
  rows inserted; else the keys (one, or a vector in row order)."
  [m d caps q opts info]
  (let [dialect (:dialect d)
        ret-fields (returning-cols m q)
        has-ret? (can-return? caps :insert)
        single? (:vireo/single q)
        pk (:pk-field m)
        rows (:vireo/rows q)]
    (cond
      ret-fields
      (if has-ret?
        (p/map (run-insert-group d q (mapv model/column-ident ret-fields) opts
                                 (let [dec (q/instance-decoder m dialect ret-fields (or (:vireo/as q) :instances))]
                                   (fn [rs _] (dec rs)))
                                 info)
               (fn [[_ results]] (into [] cat results)))
        (refuse-returning d caps :insert))

      (or (:vireo/rowcount q) (:vireo/from q))
      (p/map (run-insert-group d q nil opts (fn [^RowSet rs _] (.rowCount rs)) info)
             (fn [[_ results]] (reduce + 0 results)))

      ;; keys that are not generated: the values given
      (or (nil? pk) (not (:auto pk)))
      (if (and (upsert? q) pk has-ret?)
        (p/map (run-insert-group d q [(model/column-ident pk)] opts (fn [rs _] (returned-ids m dialect rs)) info)
               (fn [[_ results]] (let [ids (into [] cat results)] (if single? (first ids) ids))))
        (p/map (run-insert-group d q nil opts (fn [_ _] nil) info)
               (fn [[c _]] (let [ids (given-keys m (:rows c))] (if single? (first ids) ids)))))

      ;; an upsert: the keys of the rows written, as the database returns them
      (upsert? q)
      (cond
        has-ret?
        (p/map (run-insert-group d q [(model/column-ident pk)] opts (fn [rs _] (returned-ids m dialect rs)) info)
               (fn [[_ results]] (let [ids (into [] cat results)] (if single? (first ids) ids))))
        ;; one row: MariaDB's insert id is the new or updated row's (0 for a
        ;; no-op); SQLite's is stale unless the row was inserted (the
        ;; backend's :upsert-insert-id trait)
        (and single? (or (= :always (:upsert-insert-id (db/traits d))) (not (:do-update-set q))))
        (p/map (run-insert-group d q nil opts
                                 (fn [^RowSet rs n]
                                   (when (pos? (.rowCount rs)) (first (last-insert-ids d caps rs n))))
                                 info)
               (fn [[_ [id]]] id))
        :else (refuse-upsert-keys m d caps q))

      ;; generated keys, in row order: rows giving their key go first (their
      ;; keys are known), the others after, in their own statements, so the
      ;; keys generated are increasing in row order (RETURNING's order is not
      ;; promised: they are sorted)
      :else
      (let [given? (fn [r] (some? (get r (:key pk))))
            idx-given (filterv #(given? (nth rows %)) (range (count rows)))
            idx-auto (filterv #(not (given? (nth rows %))) (range (count rows)))
            gen (fn [^RowSet rs n] (if has-ret? (vec (sort (returned-ids m dialect rs))) (last-insert-ids d caps rs n)))
            ret (when has-ret? [(model/column-ident pk)])]
        (if (or (empty? idx-given) (empty? idx-auto))
          (p/map (run-insert-group d q (when (seq idx-auto) ret) opts (if (seq idx-auto) gen (fn [_ _] nil)) info)
                 (fn [[c results]]
                   (let [ids (if (seq idx-auto) (into [] cat results) (given-keys m (:rows c)))]
                     (if single? (first ids) ids))))
          ;; both kinds: two groups in one transaction
          (let [qg (assoc q :vireo/rows (mapv rows idx-given))
                qa (assoc q :vireo/rows (mapv rows idx-auto))
                both (fn [opts]
                       (p/let [[cg _] (run-insert-group d qg nil opts (fn [_ _] nil) info)
                               [_ ra] (run-insert-group d qa ret opts gen info)]
                         (let [out (object-array (count rows))]
                           (doseq [[i k] (map vector idx-given (given-keys m (:rows cg)))] (aset out (int i) k))
                           (doseq [[i k] (map vector idx-auto (into [] cat ra))] (aset out (int i) k))
                           (vec out))))]
            (ctx/atomic d (select-keys opts [:connection]) (fn [tx] (both (assoc opts :connection tx))) false)))))))

;; Model queries (select, compound, update, delete) are compiled once per
;; shape and dialect, like query data (vireo.impl.template/cached-shape):
;; the query with its values as slots — the models in it kept whole — is
;; compiled to a template and a result decoder; a value compared with (or
;; written to) a field is encoded by its codec when bound. A shape the
;; compiler cannot take with slots is compiled per call.
(def ^:private ^ConcurrentHashMap compiled-queries (ConcurrentHashMap.))

(defn- compiled-cache ^ConcurrentHashMap [dialect]
  (or (.get compiled-queries dialect)
      (let [c (tpl/shape-cache)] (or (.putIfAbsent compiled-queries dialect c) c))))

;; a template, and how the statement's result is decoded
(deftype Compiled [tpl decode])

(defn- compile-or-direct
  "(compile shape), or ::direct when the shape cannot be compiled as a template."
  [shape compile]
  (try (compile shape) (catch clojure.lang.ExceptionInfo _ ::direct)))

(defn- run-compiled
  "Runs model query `q` compiled by (compile q-or-shape) -> Compiled, from
  the cache of its shape."
  [d dialect q opts info compile]
  (let [vals (java.util.ArrayList. 4)
        c (tpl/cached-shape (compiled-cache dialect) q vals compile-or-direct compile)
        ;; compiled with the values themselves, the binder holds only constants
        ^Compiled c (if (identical? c ::direct) (compile q) c)
        t (.-tpl c)
        params (tpl/bind t vals)]
    (ctx/execute d (:sql t) params opts (.-decode c) info)))

(defn- compile-select-query [q dialect]
  (let [c (q/compile-select q dialect {})]
    (Compiled. (tpl/compile-template dialect (:query c))
               (q/row-decoder c dialect (or (:vireo/as q) :instances)))))

(defn- check-row-form
  "Refuses, by name, what a write query `q` of `m` cannot honour: a row form
  (as-maps, as-vectors, as-instances) without `returning` (it yields keys
  or counts, not rows), and as-rowcount together with `returning`."
  [m q]
  (let [kind (name (:vireo/query q))
        ret? (some? (:vireo/returning q))]
    (when (and (contains? q :vireo/as) (not ret?))
      (throw (err/error :vireo/interface-error
                        (str "as-" (name (:vireo/as q)) " on an " kind " of " (:name m)
                             " without returning: it yields "
                             (if (and (= kind "insert") (not (:vireo/rowcount q)) (not (:vireo/from q)))
                               "the keys written" "the number of rows")
                             ", not rows; add (returning …) for rows")
                        {:model (:name m) :option (keyword (str "as-" (name (:vireo/as q))))})))
    (when (and ret? (:vireo/rowcount q))
      (throw (err/error :vireo/interface-error
                        (str "as-rowcount and returning on the same " kind " of " (:name m)
                             ": it yields either rows or their number; keep one")
                        {:model (:name m) :option :as-rowcount})))))

(defn- execute-model-query
  [q opts]
  (let [m (:vireo/model q)
        d (database-of m)
        dialect (:dialect d)
        shape (or (:vireo/as q) :instances)
        info (model/info m)]
    (case (:vireo/query q)
      (:select :compound)
      (run-compiled d dialect q opts info #(compile-select-query % dialect))

      :raw
      (ctx/execute d (:vireo/sql q) (tpl/checked-params dialect (:vireo/params q)) opts
                   (q/raw-decoder m dialect shape) info)

      :insert
      (do (check-row-form m q)
          (with-caps d (fn [caps] (run-insert m d caps q opts info))))

      (:update :delete)
      (let [_ (check-row-form m q)
            kind (:vireo/query q)
            ret-fields (returning-cols m q)
            q (cond-> q ret-fields (assoc :vireo/returning (mapv model/column-ident ret-fields)))
            compile (fn [q]
                      (let [c (if (= :update kind) (q/compile-update q dialect) (q/compile-delete q dialect))]
                        (Compiled. (tpl/compile-template dialect (:query c))
                                   (if ret-fields (q/instance-decoder m dialect ret-fields shape) row-count))))
            run #(run-compiled d dialect q opts info compile)]
        (if ret-fields
          (with-caps d (fn [caps] (if (can-return? caps kind) (run) (refuse-returning d caps kind))))
          (run))))))

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
                                       {:model (:name m) :sql s :params (err/bounded-params params)})))
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
        (stream/reduce-rows d s (tpl/checked-params dialect params) opts
                            (q/row-fn c dialect (or (:vireo/as query) :instances)) rf init))

      (string? query)
      (let [d (database-of target)]
        (stream/reduce-rows d query (tpl/checked-params (:dialect d) (vec (:params opts))) (dissoc opts :params)
                            nil rf init))

      :else
      (let [d (database-of target)
            ^vireo.impl.template.Formatted f (tpl/format-statement query (:dialect d))]
        (stream/reduce-rows d (.-sql f) (.-params f) opts nil rf init)))))
