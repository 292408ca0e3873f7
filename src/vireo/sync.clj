(ns vireo.sync
  "Synchronous Vireo: every `aio-` operation of `vireo.core` without the
  prefix, blocking the calling thread and returning the value (or throwing
  the typed error, the ex-info itself) instead of a future — peewee's
  `PageBlock.get(...)` under peewee-async's `allow_sync()`.

      (require '[vireo.core :as v] '[vireo.sync :as sync])
      (v/with-allow-sync db
        (sync/create-tables [PageBlock])
        (sync/create PageBlock {:key \"title\" :text \"Peewee\"})
        (:text (sync/get PageBlock {:key \"title\"})))   ;=> \"Peewee\"

  Each function calls its `aio-` counterpart and blocks on its future: the
  same path, options and errors. It is refused with :vireo/sync-not-allowed
  (naming the escape hatch) outside `vireo.core/with-allow-sync` or
  `set-allow-sync!`, and always on a Vert.x event-loop thread. Inside an
  allow-sync block the calls share the block's dedicated connection.
  `atomic`, `transaction` and `connection` are blocks whose body runs on
  the calling thread; they nest with `aio-atomic` either way.

  Instances: `create`, `get`, `get-or-none`, `get-or-create`, `save`, `delete-instance`
  Queries: `execute`, `execute-sql`, `count`, `exists`, `scalar`, `peek`, `first`,
    `stream`, `transduce`
  Relations: `fetch`, `prefetch`, `related`, `add`, `remove`, `clear`
  Schema: `create-table`, `drop-table`, `create-tables`, `drop-tables`, `table-exists`,
    `get-tables`, `sequence-exists`, `create-indexes`, `drop-indexes`, `truncate-table`
  Blocks: `atomic`, `transaction`, `connection` (macros) and `atomic*`,
    `transaction*`, `connection*` (fns); `begin`, `savepoint`, `commit`, `rollback`
  Pool: `connect`, `close`

  The names shadow clojure.core's (get, count, first, …) only inside this
  namespace: require it with an alias."
  (:refer-clojure :exclude [get count first peek remove transduce])
  (:require [vireo.core :as v]
            [vireo.impl.context :as ctx]
            [vireo.impl.errors :as err]
            [vireo.impl.ops :as ops]
            [vireo.impl.query :as q]
            [vireo.impl.sync :as sync]))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- the one mechanism
(defn- db-of
  "The database a sync call on x runs on: x's own (a database, proxy or
  model), a model query's model's, a transaction handle's."
  [x]
  (cond
    (q/query? x) (ops/database-of (:vireo/model x))
    (ctx/level? x) (:db x)
    (instance? vireo.impl.context.ManualTx x) (:db x)
    :else (ops/database-of x)))

(defn- run
  "Runs (f opts) — an aio- call — as sync call `op` on the database of x."
  [op x opts f]
  (sync/run-sync (db-of x) (str "vireo.sync/" op) (if (nil? opts) {} opts) f))

;; ---------------------------------------------------------------- pool
(defn connect
  "Synchronous `aio-connect`: opens the database's pool. Returns nil."
  [db] (run "connect" db {} (fn [_] (v/aio-connect db))))

(defn close
  "Synchronous `aio-close`: closes the database's pool. Returns nil."
  [db] (run "close" db {} (fn [_] (v/aio-close db))))

;; ---------------------------------------------------------------- instances
(defn create
  "Synchronous `aio-create`: the new instance.
      (sync/create PageBlock {:key \"title\"})  ;=> {:id 1 :key \"title\" :text \"\"}"
  ([m values] (create m values {}))
  ([m values opts] (run "create" m opts #(v/aio-create m values %))))

(defn get
  "Synchronous `aio-get`: the matching instance, or throws
  :vireo/does-not-exist. Given a select query: its first row.
      (sync/get PageBlock {:key \"title\"})
      (sync/get (v/where (v/select PageBlock) [:like :key \"t%\"]))"
  ([m-or-query] (get m-or-query {}))
  ([m filter] (if (q/query? m)
                (run "get" m filter #(v/aio-get m %))
                (get m filter {})))
  ([m filter opts] (run "get" m opts #(v/aio-get m filter %))))

(defn get-or-none
  "Synchronous `aio-get-or-none`: the matching instance or nil.
      (sync/get-or-none PageBlock {:key \"missing\"})  ;=> nil"
  ([m-or-query] (get-or-none m-or-query {}))
  ([m filter] (if (q/query? m)
                (run "get-or-none" m filter #(v/aio-get-or-none m %))
                (get-or-none m filter {})))
  ([m filter opts] (run "get-or-none" m opts #(v/aio-get-or-none m filter %))))

(defn get-or-create
  "Synchronous `aio-get-or-create`: [instance created?].
      (sync/get-or-create PageBlock {:key \"k\"} {:defaults {:text \"t\"}})"
  ([m filter] (get-or-create m filter {}))
  ([m filter opts] (run "get-or-create" m opts #(v/aio-get-or-create m filter %))))

(defn save
  "Synchronous `aio-save`: the saved instance.
      (sync/save PageBlock (assoc block :text \"new\"))"
  ([m instance] (save m instance {}))
  ([m instance opts] (run "save" m opts #(v/aio-save m instance %))))

(defn delete-instance
  "Synchronous `aio-delete-instance`: the number of rows deleted.
      (sync/delete-instance PageBlock block {:recursive true})"
  ([m instance] (delete-instance m instance {}))
  ([m instance opts] (run "delete-instance" m opts #(v/aio-delete-instance m instance %))))

;; ---------------------------------------------------------------- queries
(defn execute
  "Synchronous `aio-execute`: a model query's result (rows, a key, a count),
  or plain query data run on a database.
      (sync/execute (v/select PageBlock))
      (sync/execute db {:select [:key] :from :pageblock})"
  ([query] (execute query {}))
  ([target query] (if (q/query? target)
                    (run "execute" target query #(v/aio-execute nil target %))
                    (execute target query {})))
  ([target query opts] (run "execute" (or target query) opts #(v/aio-execute target query %))))

(defn execute-sql
  "Synchronous `aio-execute-sql`: {:rows … :row-count n :last-insert-id id}.
      (sync/execute-sql db \"SELECT 1 AS one\")  ;=> {:rows [{:one 1}] …}"
  ([db sql] (execute-sql db sql [] {}))
  ([db sql params] (execute-sql db sql params {}))
  ([db sql params opts] (run "execute-sql" db opts #(v/aio-execute-sql db sql params %))))

(defn count
  "Synchronous `aio-count`: the number of rows the select yields.
      (sync/count (v/select PageBlock))  ;=> 3"
  ([query] (count query {}))
  ([query opts] (run "count" query opts #(v/aio-count query %))))

(defn exists
  "Synchronous `aio-exists`: true when the select yields a row."
  ([query] (exists query {}))
  ([query opts] (run "exists" query opts #(v/aio-exists query %))))

(defn scalar
  "Synchronous `aio-scalar`: the first column of the first row, or nil.
      (sync/scalar (v/select PageBlock [[:count :*] :n]))  ;=> 3"
  ([query] (scalar query {}))
  ([query opts] (run "scalar" query opts #(v/aio-scalar query %))))

(defn peek
  "Synchronous `aio-peek`: the first row (n = 1) or up to n rows."
  ([query] (peek query 1 {}))
  ([query n] (peek query n {}))
  ([query n opts] (run "peek" query opts #(v/aio-peek query n %))))

(defn first
  "Synchronous `aio-first`: like `peek`, setting the query's LIMIT."
  ([query] (first query 1 {}))
  ([query n] (first query n {}))
  ([query n opts] (run "first" query opts #(v/aio-first query n %))))

(defn stream
  "Synchronous `aio-stream`: reduces the select's rows over a cursor with
  (rf acc row); returns the final accumulator. rf gets no completion call
  (use `transduce` for that).
      (sync/stream (v/select PageBlock) (fn [n _] (inc n)) 0)  ;=> 3"
  ([query rf init] (stream nil query {} rf init))
  ([target query rf init] (if (q/query? target)
                            (stream nil target query rf init)
                            (stream target query {} rf init)))
  ([target query opts rf init]
   (run "stream" (or target query) opts #(v/aio-stream target query % rf init))))

(defn transduce
  "Synchronous `aio-transduce`: streams the select's rows through xform
  into rf, completing it (stateful transducers keep their tail).
      (sync/transduce (comp (map :key) (partition-all 2)) conj [] (v/select PageBlock))
      ;=> [[\"a\" \"b\"] [\"c\"]]"
  ([xform rf init query] (transduce xform rf init nil query {}))
  ([xform rf init target query] (if (q/query? target)
                                  (transduce xform rf init nil target query)
                                  (transduce xform rf init target query {})))
  ([xform rf init target query opts]
   (run "transduce" (or target query) opts #(v/aio-transduce xform rf init target query %))))

;; ---------------------------------------------------------------- relations
(defn fetch
  "Synchronous `aio-fetch`: the instance with relation k loaded.
      (sync/fetch Tweet tweet :user)"
  ([m instance k] (fetch m instance k {}))
  ([m instance k opts] (run "fetch" m opts #(v/aio-fetch m instance k %))))

(defn prefetch
  "Synchronous `aio-prefetch`: the query's instances with each subquery's
  rows linked in (a last options map as `aio-prefetch`'s).
      (sync/prefetch (v/select User) (v/select Tweet))"
  [query & subqueries]
  (run "prefetch" query {} (fn [_] (apply v/aio-prefetch query subqueries))))

(defn related
  "Synchronous `aio-related`: the instances related through a many-to-many
  relation."
  ([m instance k] (related m instance k {}))
  ([m instance k opts] (run "related" m opts #(v/aio-related m instance k %))))

(defn add
  "Synchronous `aio-add`: the number of links created."
  ([m instance k targets] (add m instance k targets {}))
  ([m instance k targets opts] (run "add" m opts #(v/aio-add m instance k targets %))))

(defn remove
  "Synchronous `aio-remove`: the number of links removed."
  ([m instance k targets] (remove m instance k targets {}))
  ([m instance k targets opts] (run "remove" m opts #(v/aio-remove m instance k targets %))))

(defn clear
  "Synchronous `aio-clear`: the number of links removed."
  ([m instance k] (clear m instance k {}))
  ([m instance k opts] (run "clear" m opts #(v/aio-clear m instance k %))))

;; ---------------------------------------------------------------- schema
(defn create-table
  "Synchronous `aio-create-table`. Returns nil.
      (sync/create-table PageBlock {:safe true})"
  ([m] (create-table m {}))
  ([m opts] (run "create-table" m opts #(v/aio-create-table m %))))

(defn drop-table
  "Synchronous `aio-drop-table`. Returns nil."
  ([m] (drop-table m {}))
  ([m opts] (run "drop-table" m opts #(v/aio-drop-table m %))))

(defn- models-db [op models]
  (or (clojure.core/first models)
      (throw (err/error :vireo/interface-error (str "vireo.sync/" op " needs at least one model") {}))))

(defn create-tables
  "Synchronous `aio-create-tables`. Returns nil.
      (sync/create-tables [User Tweet] {:safe true})"
  ([models] (create-tables models {}))
  ([models opts] (run "create-tables" (models-db "create-tables" models) opts #(v/aio-create-tables models %))))

(defn drop-tables
  "Synchronous `aio-drop-tables`. Returns nil."
  ([models] (drop-tables models {}))
  ([models opts] (run "drop-tables" (models-db "drop-tables" models) opts #(v/aio-drop-tables models %))))

(defn table-exists
  "Synchronous `aio-table-exists`: given a model, or a database and a table
  name or model.
      (sync/table-exists PageBlock)  ;=> true"
  ([m] (run "table-exists" m {} (fn [_] (v/aio-table-exists m))))
  ([db table] (table-exists db table {}))
  ([db table opts] (run "table-exists" db opts #(v/aio-table-exists db table %))))

(defn get-tables
  "Synchronous `aio-get-tables`: the sorted table names."
  ([db] (get-tables db {}))
  ([db opts] (run "get-tables" db opts #(v/aio-get-tables db %))))

(defn sequence-exists
  "Synchronous `aio-sequence-exists`."
  ([db sequence-name] (sequence-exists db sequence-name {}))
  ([db sequence-name opts] (run "sequence-exists" db opts #(v/aio-sequence-exists db sequence-name %))))

(defn create-indexes
  "Synchronous `aio-create-indexes`. Returns nil."
  ([m] (create-indexes m {}))
  ([m opts] (run "create-indexes" m opts #(v/aio-create-indexes m %))))

(defn drop-indexes
  "Synchronous `aio-drop-indexes`. Returns nil."
  ([m] (drop-indexes m {}))
  ([m opts] (run "drop-indexes" m opts #(v/aio-drop-indexes m %))))

(defn truncate-table
  "Synchronous `aio-truncate-table`. Returns nil."
  ([m] (truncate-table m {}))
  ([m opts] (run "truncate-table" m opts #(v/aio-truncate-table m %))))

;; ---------------------------------------------------------------- blocks
(defn- block [op aio-fn db opts body]
  (when (and (map? opts) (contains? opts :retry))
    (throw (err/error :vireo/interface-error
                      (str "vireo.sync/" op " does not take :retry (its body runs once, on the calling thread); "
                           "use aio-" op " to retry a transaction")
                      {:option :retry})))
  (let [d (db-of db)]
    (sync/run-block d (str "vireo.sync/" op) (if (nil? opts) {} opts)
                    (fn [opts f] (aio-fn d opts f))
                    body)))

(defn atomic*
  "Synchronous `aio-atomic`: runs (body tx) on the calling thread in a
  transaction (a savepoint when one is open: a sync block nests in an
  `aio-atomic` body and an `aio-atomic` in a sync body) and returns its
  value after COMMIT; if body throws, only this block rolls back and the
  error propagates. Options as `aio-atomic` but :retry. See `atomic`."
  ([db body] (atomic* db {} body))
  ([db opts body] (block "atomic" v/aio-atomic db opts body)))

(defn transaction*
  "Synchronous `aio-transaction` (refuses to nest). See `transaction`."
  ([db body] (transaction* db {} body))
  ([db opts body] (block "transaction" v/aio-transaction db opts body)))

(defn connection*
  "Synchronous `aio-connection`: runs (body conn) on the calling thread with
  one connection pinned for everything inside. See `connection`."
  ([db body] (connection* db {} body))
  ([db opts body] (block "connection" v/aio-connection db opts body)))

(defmacro atomic
  "Synchronous `aio-atomic` as a block (see `atomic*`).
  (atomic [tx db opts?] body…): runs body on this thread in a transaction
  (a savepoint when nested), tx bound to its handle; returns body's value.
  Sync and async operations inside run in it.

      (v/with-allow-sync db
        (sync/atomic [_ db]
          (sync/create PageBlock {:key \"a\"})
          (sync/atomic [_ db {}]                       ; a savepoint
            (sync/create PageBlock {:key \"b\"}))))"
  [[tx db opts] & body]
  `(atomic* ~db ~(or opts {}) (fn [~tx] ~@body)))

(defmacro transaction
  "Synchronous `aio-transaction` as a block (see `transaction*`).
  (transaction [tx db opts?] body…): `atomic` that refuses to nest
  (:vireo/operational-error \"Transaction already opened\")."
  [[tx db opts] & body]
  `(transaction* ~db ~(or opts {}) (fn [~tx] ~@body)))

(defmacro connection
  "Synchronous `aio-connection` as a block (see `connection*`).
  (connection [conn db opts?] body…): runs body on this thread with one
  connection pinned (outside an allow-sync block, whose calls already
  share one)."
  [[conn db opts] & body]
  `(connection* ~db ~(or opts {}) (fn [~conn] ~@body)))

(defn begin
  "Synchronous `aio-begin`: BEGIN on the scope's connection (the allow-sync
  block's, or a `connection` block's); returns the handle for `commit` /
  `rollback`.
      (let [h (sync/begin db)] (sync/create PageBlock {:key \"x\"}) (sync/commit h))"
  ([db] (begin db {}))
  ([db opts] (run "begin" db opts #(v/aio-begin db %))))

(defn savepoint
  "Synchronous `aio-savepoint`: returns the handle for `commit` (RELEASE) /
  `rollback` (ROLLBACK TO)."
  ([db] (savepoint db {}))
  ([db opts] (run "savepoint" db opts #(v/aio-savepoint db %))))

(defn commit
  "Synchronous `aio-commit` of a handle from `begin` or `savepoint`."
  [handle] (run "commit" handle {} (fn [_] (v/aio-commit handle))))

(defn rollback
  "Synchronous `aio-rollback` of a handle from `begin` or `savepoint`."
  [handle] (run "rollback" handle {} (fn [_] (v/aio-rollback handle))))
