(ns ^:no-doc vireo.impl.datafy
  "Instances for REPL data tools (clojure.datafy, Portal, Morse, Reveal).
  Every instance Vireo decodes or saves carries datafy and nav in its
  metadata (`vireo.impl.model/instance-template`); this namespace gives nav
  its behaviour (`vireo.impl.model/set-instance-nav!`, installed on load).
  Navigating a foreign key fetches the related row only where a sync call on
  its database is allowed (`with-allow-sync`, or `set-allow-sync!` — the
  REPL switch); anywhere else, as on every production path, nav gives the
  key's value and sends nothing. (A model's datafy is
  `vireo.impl.model/model-data`, in the model's metadata.)"
  (:require [vireo.impl.model :as model]
            [vireo.impl.ops :as ops]
            [vireo.impl.sync :as sync]))

(set! *warn-on-reflection* true)

(defn- nav
  "nav on an instance of `m`: a foreign-key field's key navigates to the
  row it references (an instance, itself navigable, or nil when no row has
  that key) where sync calls are allowed, else to the value itself (also
  a related row already there: a join's or a fetch's nested instance)."
  [m _inst k v]
  (let [f (get-in m [:field-index k])]
    (if (and (:fk f) (some? v) (not (map? v)) (sync/allowed? (ops/database-of m)))
      (let [t (model/fk-target m f)]
        (sync/run-sync (ops/database-of t) "nav"
                       {} #(ops/get-or-none t {(get-in f [:fk :to-field]) v} %)))
      v)))

(model/set-instance-nav! nav)

(defn navigable
  "`x` (a map of `m`'s values, nil, or a collection of them) as instances of
  `m` for datafy and nav (`vireo.impl.model/as-instance`)."
  [m x]
  (let [template (model/instance-template m)]
    (cond
      (nil? x) nil
      (map? x) (model/as-instance template x)
      (coll? x) (mapv #(if (map? %) (model/as-instance template %) %) x)
      :else x)))
