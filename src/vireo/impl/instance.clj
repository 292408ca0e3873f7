(ns ^:no-doc vireo.impl.instance
  "Single-instance operations with their model signals (not public): building
  an instance (pre-init), create, save, get-or-create (pre-save/post-save)
  and delete-instance (pre-delete/post-delete).

  Layering: this is the one place that sends the model signals, over
  vireo.impl.ops (the statements, which send none) and vireo.impl.relations
  (recursive deletes); vireo.core only delegates here. Bulk queries, the
  dependants of a recursive delete, many-to-many links and rows loaded by
  queries send no signal (docs/signals.md)."
  (:require [vireo.impl.context :as ctx]
            [vireo.impl.model :as model]
            [vireo.impl.ops :as ops]
            [vireo.impl.relations :as rel]
            [vireo.impl.signals :as signals]
            [vireo.promise :as p]))

(set! *warn-on-reflection* true)

(defn build
  "The instance of `m` for `values`: the values with the model's defaults
  filled in (no I/O), after sending pre-init synchronously."
  [m values]
  (let [inst (model/with-defaults m values)]
    (signals/send-sync signals/pre-init m inst {})
    inst))

(defn create
  "Future of the inserted instance (all fields, generated key filled in);
  sends pre-save/post-save with {:created true}."
  [m values opts]
  (if (signals/save-receivers? m)
    (signals/wrap-save m values true #(ops/insert m values opts))
    (ops/insert m values opts)))

(defn save
  "Future of the saved instance (see vireo.impl.ops/save); sends
  pre-save/post-save, with :created true when it inserts (no primary key,
  or {:force-insert true}). Bad keys fail before any signal."
  [m instance {:keys [force-insert] :as opts}]
  (p/do (ops/check-keys m instance "aio-save")
        (if (signals/save-receivers? m)
          (signals/wrap-save m instance (boolean (or force-insert (nil? (ops/pk-values m instance))))
                             #(ops/save m instance opts))
          (ops/save m instance opts))))

(defn get-or-create
  "Future of [instance created?]: the instance matching the equality map
  `filter`, or a new one created from filter + (:defaults opts), with the
  save signals of `create`. A concurrent creator winning the race (unique
  violation) is answered by reading again; inside a transaction the insert
  runs in a savepoint, so that violation does not abort the transaction.
  Its reads go to the primary (on a database with read replicas, a lagging
  replica would miss the row a concurrent creator just wrote)."
  [m filter opts]
  (p/let [opts (if (or (:connection opts) (:route opts)) opts (assoc opts :route :primary))
          found (ops/get-or-none m filter opts)]
    (if found
      [found false]
      (-> (let [d (ops/database-of m)
                defaults (:defaults opts)
                opts (dissoc opts :defaults)
                create! #(create m (merge defaults filter) opts)]
            ;; inside a transaction the insert gets a savepoint (peewee's
            ;; aio_atomic), so a unique violation leaves the transaction usable
            (if (some-> (ctx/current d opts) ctx/tx-open?)
              (ctx/atomic d opts (fn [_] (create!)) false)
              (create!)))
          (p/map (fn [inst] [inst true]))
          (p/catch :vireo/integrity-error
            (fn [e]
              (p/then (ops/get-or-none m filter opts)
                      (fn [again] (if again [again false] (p/rejected e))))))))))

(defn delete-instance
  "Future of the number of rows deleted for the instance itself (see
  vireo.impl.relations/delete-instance for :recursive); sends
  pre-delete/post-delete for that instance only."
  [m instance opts]
  (if (signals/delete-receivers? m)
    (signals/wrap-delete m instance #(rel/delete-instance m instance opts))
    (rel/delete-instance m instance opts)))
