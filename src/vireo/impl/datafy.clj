(ns ^:no-doc vireo.impl.datafy
  "Instances for REPL data tools (clojure.datafy, Portal, Morse, Reveal): an
  instance made navigable carries `clojure.core.protocols/nav` in its
  metadata. Navigating a foreign key fetches the related row only where a
  sync call on its database is allowed (`with-allow-sync`, or
  `set-allow-sync!` — the REPL switch); anywhere else, as on every
  production path, nav gives the key's value and sends nothing. (A model's
  datafy is `vireo.impl.model/model-data`, in the model's metadata.)"
  (:require [vireo.impl.model :as model]
            [vireo.impl.ops :as ops]
            [vireo.impl.sync :as sync]))

(set! *warn-on-reflection* true)

(declare navigable)

(defn- nav-fn
  "The nav of `m`'s instances: a foreign-key field's value navigates to the
  row it references (an instance, itself navigable, or nil when no row
  has that key) where sync calls are allowed, else to the value itself."
  [m]
  (fn [_inst k v]
    (let [f (get-in m [:field-index k])]
      (if (and (:fk f) (some? v) (sync/allowed? (ops/database-of m)))
        (let [t (model/fk-target m f)]
          (navigable t (sync/run-sync (ops/database-of t) "nav"
                                      {} #(ops/get-or-none t {(get-in f [:fk :to-field]) v} %))))
        v))))

(defn navigable
  "`x` (an instance of `m`, nil, or a collection of instances) with nav
  metadata on each instance; other metadata (what aio-save compares) kept."
  [m x]
  (cond
    (nil? x) nil
    (map? x) (vary-meta x assoc `clojure.core.protocols/nav (nav-fn m))
    (coll? x) (let [nav (nav-fn m)]
                (mapv #(if (map? %) (vary-meta % assoc `clojure.core.protocols/nav nav) %) x))
    :else x))
