(ns ^:no-doc vireo.impl.sync
  "The allow-sync guard. Synchronous calls block the calling thread on the
  async path; inside a `with-allow-sync` block they share one dedicated
  connection (a root connection level), handed back when the outermost block
  for that database ends."
  (:require [vireo.impl.context :as ctx]
            [vireo.impl.db :as db]
            [vireo.impl.errors :as err]
            [vireo.promise :as p])
  (:import (io.vertx.core Context)))

(set! *warn-on-reflection* true)

(def ^:dynamic *sync*
  "Database -> {:thread t :level (atom level-or-nil)} for the enclosing
  allow-sync blocks. Sync calls are allowed only on the thread that opened
  the block (a binding conveyed by `future` or by Vireo's futures does not
  count), and never on an event loop."
  {})

(defn push-allow-sync!
  "Allows sync queries on `d` for this thread until `pop-allow-sync!` with the
  token returned (blocks nest; an inner block for the same database on the
  same thread reuses the outer one's connection). For callers without a body
  fn, such as the Java facade's try-with-resources `allowSync()`."
  [d]
  (when-not (db/database? d)
    (throw (err/error :vireo/interface-error (str "with-allow-sync needs a database, got " (pr-str d)) {})))
  (let [thread (Thread/currentThread)]
    (if (and (contains? *sync* d) (identical? (:thread (get *sync* d)) thread))
      {:thread thread :nested true}
      (let [slot {:thread thread :level (atom nil)}]
        (push-thread-bindings {#'*sync* (assoc *sync* d slot)})
        {:thread thread :slot slot :frame (clojure.lang.Var/getThreadBindingFrame)}))))

(defn pop-allow-sync!
  "Ends the block `push-allow-sync!` opened (on the same thread, innermost
  first); the outermost block for a database hands its dedicated connection
  back."
  [{:keys [thread nested slot frame]}]
  (when-not (identical? thread (Thread/currentThread))
    (throw (IllegalStateException. "allow-sync: close the block on the thread that opened it")))
  (when-not nested
    (when-not (identical? frame (clojure.lang.Var/getThreadBindingFrame))
      (throw (IllegalStateException. "allow-sync: blocks must be closed in reverse order of opening")))
    (pop-thread-bindings)
    (when-let [level @(:level slot)]
      (p/await (ctx/release-root! level)))))

(defn allow-sync*
  "Runs (f) with sync queries allowed on `d` for this thread. The outermost
  block for a database closes the dedicated connection its sync calls used.
  Exceptions propagate; the binding is restored in every case."
  [d f]
  (let [token (push-allow-sync! d)]
    (try (f)
         (finally (pop-allow-sync! token)))))

(defn set-allow-sync! [d flag] (reset! (:allow-sync d) (boolean flag)) d)

(defn allowed?
  "True when a sync call on `d` would run here: this thread opened a
  `with-allow-sync` block for it, or `set-allow-sync!` allowed it, and this
  is not an event loop."
  [d]
  (and (not (Context/isOnEventLoopThread))
       (or (identical? (:thread (get *sync* d)) (Thread/currentThread))
           (boolean @(:allow-sync d)))))

(defn run-sync
  "Runs the async operation `(f opts)` synchronously for the sync call `op`
  when allowed, blocking the calling thread and returning its value (or
  throwing its error). Inside an allow-sync block f receives opts with the
  block's dedicated connection as :connection."
  [d op opts f]
  (when (Context/isOnEventLoopThread)
    (throw (err/error :vireo/sync-not-allowed
                      (str "sync query " op " refused on a Vert.x event-loop thread: blocking it would stall "
                           "every connection served by that loop; use the aio- variant")
                      {:op op :reason :event-loop})))
  (let [slot (get *sync* d)]
    (try
      (cond
        (and slot (identical? (:thread slot) (Thread/currentThread)))
        (let [level-atom (:level slot)
              level (or @level-atom
                        (let [l (ctx/new-root d (p/await (db/acquire d)))] (reset! level-atom l) l))]
          (p/await (f (update opts :connection #(or % level)))))

        @(:allow-sync d)
        (p/await (f opts))

        :else
        (throw (err/error :vireo/sync-not-allowed
                          (str "Error, sync query is not allowed: " op " on " (db/describe d)
                               " would block the calling thread. Wrap it in (vireo.core/with-allow-sync db …)"
                               " or call (vireo.core/set-allow-sync! db true), or use the aio- variant.")
                          {:op op :database (db/describe d)})))
      ;; the failure completed on another thread: point it at this caller
      (catch clojure.lang.ExceptionInfo e (throw (err/at-caller e))))))
