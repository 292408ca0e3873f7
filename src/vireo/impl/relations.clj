(ns ^:no-doc vireo.impl.relations
  "Relations between models, asynchronously: fetching a foreign key,
  prefetching backrefs and foreign keys level by level, many-to-many through
  tables (add / remove / clear / related), recursive deletes and
  dependency-ordered table creation."
  (:require [clojure.string :as str]
            [vireo.impl.context :as ctx]
            [vireo.impl.db :as db]
            [vireo.impl.errors :as err]
            [vireo.impl.model :as model]
            [vireo.impl.ops :as ops]
            [vireo.impl.query :as q]
            [vireo.impl.registry :as registry]
            [vireo.promise :as p]
            [vireo.sql :as sql]))

(set! *warn-on-reflection* true)

(defn- interface-error [msg data] (err/error :vireo/interface-error msg data))

;; ---------------------------------------------------------------- fetch
(defn fetch
  "Future of the instance with its foreign key `k` loaded: the raw key is
  replaced by the referenced instance (nil for a NULL nullable key). A
  relation already loaded (by a join, prefetch or earlier fetch) costs no
  query."
  [m instance k opts]
  (p/do
    (let [f (model/field m k)]
      (when-not (:fk f)
        (throw (interface-error (str "aio-fetch expects a foreign-key field; " (:name m) " " k " is a " (name (:type f)))
                                {:model (:name m) :field k})))
      (let [v (get instance k)
            target (model/fk-target m f)]
        (cond
          (map? v) instance
          (nil? v) (if (:null f)
                     instance
                     (throw (err/error :vireo/does-not-exist
                                       (str (:name m) " " k " is NULL but not nullable: no " (:name target) " to fetch")
                                       {:model (:name target)})))
          :else (p/map (ops/get-one target {(get-in f [:fk :to-field]) v} opts)
                       #(assoc instance k %)))))))

;; ---------------------------------------------------------------- prefetch
(defn- relation
  "How level `child` relates to one of `levels` (latest first)."
  [levels child-m]
  (some (fn [[i lv]]
          (let [pm (:model lv)
                back (first (filter #(= (:name pm) (get-in % [:fk :target-name])) (model/foreign-keys child-m)))
                fwd (first (filter #(= (:name child-m) (get-in % [:fk :target-name])) (model/foreign-keys pm)))]
            (cond back {:parent i :fk back :dir :backward}
                  fwd {:parent i :fk fwd :dir :forward})))
        (rseq (vec (map-indexed vector levels)))))

(defn- restrict
  "The child query restricted to the rows its parent level selected."
  [child-q {:keys [fk dir]} parent-q strategy]
  (let [pm (:vireo/model parent-q)
        cm (:vireo/model child-q)
        [parent-key child-key] (if (= dir :backward)
                                 [(get-in fk [:fk :to-field]) (:key fk)]
                                 [(:key fk) (get-in fk [:fk :to-field])])
        parent-keys (assoc (dissoc parent-q :order-by) :vireo/items [[parent-key :k]] :vireo/as :vectors)]
    (case strategy
      :join (assoc child-q ::join-keys {:query (assoc parent-keys :distinct true) :child-key child-key})
      ;; the parent keys wrapped once more: MariaDB refuses LIMIT directly inside IN (…)
      (q/where child-q [:in child-key {::wrapped-keys parent-keys}]))
    ))

(defn- level-sql
  "Compiles a (restricted) level query, parents included: [sql-map compiled]."
  [query dialect]
  (let [wrap (fn wrap [x]
               (cond
                 (and (map? x) (::wrapped-keys x))
                 {:select [(sql/ident "_p" "k")]
                  :from [[(first (level-sql (::wrapped-keys x) dialect)) (sql/ident "_p")]]}
                 (vector? x) (mapv wrap x)
                 :else x))
        jk (::join-keys query)
        query (cond-> (dissoc query ::join-keys)
                (:where query) (update :where wrap))
        c (q/compile-select query dialect {})
        sql-map (if jk
                  (let [root (first (:entries (:env c)))
                        ck (model/field (:vireo/model query) (:child-key jk))]
                    (update (:query c) :join (fnil into [])
                            [[(first (level-sql (:query jk) dialect)) (sql/ident "_p")]
                             [:= (sql/ident (:alias root) (:column ck)) (sql/ident "_p" "k")]]))
                  (:query c))]
    [sql-map c]))

(defn- compile-level
  "Compiles a level query: [sql params decoder]."
  [query dialect]
  (let [[sql-map c] (level-sql query dialect)
        [s & params] (sql/format sql-map {:dialect dialect})]
    [s params (q/row-decoder c dialect :instances)]))

(defn prefetch
  "Future of the root query's instances with every subquery's rows linked in:
  a level whose model has a foreign key to an earlier level's model fills
  that level's backref (a vector, in the subquery's order); a level whose
  model an earlier level references replaces that level's raw key with the
  instance. One query per level. Options: :strategy :where (IN subquery,
  default) or :join (join on the DISTINCT parent keys)."
  [root-q subqueries {:keys [strategy] :or {strategy :where} :as opts}]
  (p/do
    (when-not (#{:where :join} strategy)
      (throw (interface-error (str "prefetch :strategy must be :where or :join, got " (pr-str strategy)) {})))
    (let [root-m (:vireo/model root-q)
          d (ops/database-of root-m)
          dialect (:dialect d)
          levels (reduce (fn [levels sq]
                           (let [sm (q/bound-model (:vireo/model sq) root-m)
                                 sq (assoc sq :vireo/model sm)
                                 rel (or (relation levels sm)
                                         (throw (interface-error
                                                 (str "prefetch: " (:name sm) " has no foreign key to or from "
                                                      (str/join ", " (map (comp :name :model) levels)))
                                                 {:model (:name sm)})))]
                             (conj levels {:model sm :rel rel
                                           :query (restrict sq rel (:query (nth levels (:parent rel))) strategy)})))
                         [{:model root-m :query root-q}]
                         subqueries)
          opts (dissoc opts :strategy)]
      (p/let [results (reduce (fn [acc lv]
                                (p/then acc (fn [rows]
                                              (let [[s params dec] (compile-level (:query lv) dialect)]
                                                (p/map (ctx/execute d s params opts dec {:model (:name (:model lv))})
                                                       #(conj rows %))))))
                              (p/resolved [])
                              levels)]
        ;; link deepest first, so each level is complete when attached
        (let [linked (reduce
                      (fn [rs i]
                        (let [{:keys [rel]} (nth levels i)
                              {:keys [parent fk dir]} rel
                              children (nth rs i)]
                          (assoc rs parent
                                 (if (= dir :backward)
                                   (let [by-parent (group-by (:key fk) children)
                                         pk (get-in fk [:fk :to-field])
                                         br (get-in fk [:fk :backref])]
                                     (mapv #(assoc % br (get by-parent (get % pk) [])) (nth rs parent)))
                                   (let [to (get-in fk [:fk :to-field])
                                         by-key (into {} (map (juxt to identity)) children)
                                         k (:key fk)]
                                     (mapv #(let [v (get % k)]
                                              (if (or (nil? v) (map? v)) % (assoc % k (get by-key v v))))
                                           (nth rs parent)))))))
                      results
                      (range (dec (count levels)) 0 -1))]
          (first linked))))))

;; ---------------------------------------------------------------- many-to-many
(defn- explicit-through
  "The model given as :through (a model, or a var or fn returning one), or
  nil when the through model is generated."
  [m k spec]
  (when-let [t (:through spec)]
    (let [tm (cond
               (model/model? t) t
               (and (var? t) (bound? t)) @t
               (var? t) (throw (interface-error (str (:name m) " " k ": its :through " (pr-str t) " is not defined yet")
                                                {:model (:name m) :field k}))
               :else (t))]
      (when-not (model/model? tm)
        (throw (interface-error (str (:name m) " " k ": :through must give a model, got " (pr-str tm))
                                {:model (:name m) :field k})))
      tm)))

(defn through-model
  "The through model of many-to-many field `k` of `m`: the one given as
  :through (a model, or a var or no-argument fn returning one, so it can be
  defined after `m`), or <Model><Field>Through (table <table>_<target
  table>_through) with a foreign key to each side and a unique index on the
  pair."
  [m k]
  (let [spec (or (get-in m [:m2m k])
                 (throw (interface-error (str (:name m) " has no many-to-many field " k) {:model (:name m)})))
        target (let [t (:model spec)] (if (= :self t) m t))]
    (q/bound-model
     (or (explicit-through m k spec)
        (registry/through-model
         m k target
         (fn []
           (let [[a b] (if (= (:name m) (:name target))
                         [:from (keyword (str "to-" (str/lower-case (:name target))))]
                         [(keyword (str/lower-case (:name m))) (keyword (str/lower-case (:name target)))])]
             (model/make-model
              (str (:name m) (str/capitalize (name k)) "Through")
              {:table (model/short-name (str (:table m) "_" (:table target) "_through"))
               :database (:database m)
               :fields [a {:type :foreign-key :model (model/with-own-cache (assoc m :m2m {})) :on-delete :cascade :index false
                           :backref (keyword (str (name k) "-through"))}
                        b {:type :foreign-key :model target :on-delete :cascade}]
               :indexes [{:fields [a b] :unique true}]})))))
     m)))

(defn- through-sides
  "[through-model source-fk target-fk target-model] for relation `k` of `m`,
  from m's own many-to-many fields or a backref registered by another model."
  [m k]
  (if (get-in m [:m2m k])
    (let [tm (through-model m k)
          target (let [t (get-in m [:m2m k :model])] (if (= :self t) m t))
          fks (model/foreign-keys tm)
          src (first (filter #(= (:name m) (get-in % [:fk :target-name])) fks))
          tgt (first (remove #(= src %) (filter #(= (:name target) (get-in % [:fk :target-name])) fks)))]
      (when-not (and src tgt)
        (throw (interface-error (str "the through model " (:name tm) " of " (:name m) " " k " needs a foreign key to "
                                     (:name m) " and " (if (= (:name m) (:name target)) "another one to it" (str "one to " (:name target)))
                                     "; its foreign keys: " (pr-str (mapv :key fks)))
                                {:model (:name m) :field k :through (:name tm)})))
      [(q/bound-model tm m) src tgt (q/bound-model target m)])
    (if-let [{:keys [owner key]} (registry/m2m-backref (:name m) k)]
      (let [[tm src tgt _] (through-sides owner key)]
        [(q/bound-model tm m) tgt src (q/bound-model owner m)])
      (throw (interface-error (str (:name m) " has no many-to-many relation " k) {:model (:name m) :field k})))))

(defn- own-key [m instance]
  (or (get instance (:primary-key m))
      (throw (interface-error (str "this " (:name m) " has no " (:primary-key m) " (it was never saved)") {:model (:name m)}))))

(defn- target-keys [target xs]
  (mapv #(if (map? %) (own-key target %) %) (if (sequential? xs) xs [xs])))

(defn related
  "Future of the instances related to `instance` through many-to-many `k`."
  [m instance k opts]
  (p/do
    (let [[tm src tgt target] (through-sides m k)]
      (ops/execute nil
                   (-> (q/select target nil)
                       (q/join tm {:as :_through
                                   :on [:= (keyword "_through" (name (:key tgt))) (:primary-key target)]})
                       (q/where [:= (keyword "_through" (name (:key src))) (own-key m instance)])
                       (assoc :order-by [(:primary-key target)]))
                   opts))))

(defn add
  "Future of the number of links created between `instance` and `targets`
  (instances or keys); links that exist already are left alone."
  [m instance k targets opts]
  (p/do
    (let [[tm src tgt target] (through-sides m k)
          id (own-key m instance)
          ids (vec (distinct (target-keys target targets)))
          d (ops/database-of tm)]
      (if (empty? ids)
        0
        (ctx/atomic d opts
                    (fn [_]
                      (p/let [existing (ops/execute nil (-> (q/select tm [(:key tgt)])
                                                            (q/where [:and [:= (:key src) id] [:in (:key tgt) ids]])
                                                            (assoc :vireo/as :vectors))
                                                    {})
                              have (set (map first existing))
                              missing (vec (remove have ids))]
                        (if (empty? missing)
                          0
                          (p/map (ops/execute nil (assoc (q/insert-many tm (mapv #(hash-map (:key src) id (:key tgt) %) missing))
                                                         :vireo/rowcount true)
                                              {})
                                 (fn [_] (count missing))))))
                    false)))))

(defn remove-links
  "Future of the number of links removed."
  [m instance k targets opts]
  (p/do
    (let [[tm src tgt target] (through-sides m k)
          ids (target-keys target targets)]
      (if (empty? ids)
        0
        (ops/execute nil (q/where (q/delete-query tm) [:and [:= (:key src) (own-key m instance)] [:in (:key tgt) ids]]) opts)))))

(defn clear
  "Future of the number of links removed: every link of `instance`."
  [m instance k opts]
  (p/do
    (let [[tm src _ _] (through-sides m k)]
      (ops/execute nil (q/where (q/delete-query tm) [:= (:key src) (own-key m instance)]) opts))))

;; ---------------------------------------------------------------- recursive delete
(defn- dependents
  "Statements that clear the rows depending on the rows of `m` matching
  `where` (a where over m's table), deepest first: nullable keys set to NULL
  (unless delete-nullable), other dependants deleted."
  [m where delete-nullable path]
  (vec
   (mapcat
    (fn [{r :model f :field}]
      (let [r (q/bound-model r m)
            to (model/field m (get-in f [:fk :to-field]))
            cond-expr [:in (model/column-ident f)
                       {:select [(sql/ident (:table m) (:column to))]
                        :from [(model/table-ident m)]
                        :where where}]]
        (cond
          (and (:null f) (not delete-nullable))
          [{:update (model/table-ident r) :set {(model/column-ident f) nil} :where cond-expr}]
          (contains? path (:name r))
          ;; a cycle (e.g. a self reference): the database's ON DELETE decides
          []
          :else
          (conj (dependents r cond-expr delete-nullable (conj path (:name r)))
                {:delete-from (model/table-ident r) :where cond-expr}))))
    (registry/backrefs m))))

(defn delete-instance
  "Future of rows deleted for the instance itself. With :recursive, first
  deletes (or, for nullable keys, unlinks) every row that depends on it, in
  one transaction so nothing is half-deleted."
  [m instance {:keys [recursive delete-nullable] :as opts}]
  (if-not recursive
    (ops/delete-by-pk m instance opts)
    (p/do
      (let [d (ops/database-of m)
            pk-where (into [:and] (for [f (:pk-fields m)]
                                    [:= (sql/ident (:table m) (:column f))
                                     (model/encode-value m (:dialect d) (:key f)
                                                         (or (get instance (:key f))
                                                             (throw (interface-error (str "aio-delete-instance: this " (:name m) " was never saved")
                                                                                     {:model (:name m)}))))]))
            stmts (dependents m pk-where delete-nullable #{(:name m)})
            opts (dissoc opts :recursive :delete-nullable)]
        (ctx/atomic d opts
                    (fn [_]
                      (p/then (reduce (fn [acc s] (p/then acc (fn [_] (ops/execute d s {}))))
                                      (p/resolved nil) stmts)
                              (fn [_] (ops/delete-by-pk m instance {}))))
                    false)))))

;; ---------------------------------------------------------------- tables in dependency order
(defn- distinct-by-name [models]
  (second (reduce (fn [[seen acc] m] (if (seen (:name m)) [seen acc] [(conj seen (:name m)) (conj acc m)]))
                  [#{} []] models)))

(defn- with-through-models
  "The models plus the through models of their many-to-many fields
  (generated or given as :through)."
  [models]
  (distinct-by-name (concat models (for [m models k (keys (:m2m m))]
                                     (through-model m k)))))

(defn sort-models
  "The models (plus the generated through models of their many-to-many
  fields) ordered so that every model comes after the models it references."
  [models]
  (let [models (with-through-models models)
        by-name (into {} (map (juxt :name identity)) models)
        deps (fn [m] (->> (model/foreign-keys m)
                          (map #(get-in % [:fk :target-name]))
                          (filter by-name)
                          (remove #{(:name m)})))]
    (loop [done [] seen #{} todo models]
      (if (empty? todo)
        done
        (let [ready (filter #(every? seen (deps %)) todo)]
          (if (empty? ready)
            ;; a cycle: keep declaration order for the rest
            (into done todo)
            (let [ready-names (set (map :name ready))]
              (recur (into done ready) (into seen ready-names) (remove #(ready-names (:name %)) todo)))))))))

(defn create-tables
  "Future of nil: creates the tables of `models` in dependency order."
  [models opts]
  (reduce (fn [acc m] (p/then acc (fn [_] (ops/create-table m opts))))
          (p/resolved nil) (sort-models models)))

(defn drop-tables
  "Future of nil: drops the tables of `models` dependants first."
  [models opts]
  (reduce (fn [acc m] (p/then acc (fn [_] (ops/drop-table m opts))))
          (p/resolved nil) (reverse (sort-models models))))
