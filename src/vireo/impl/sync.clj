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

(def allow-sync-advice
  "What the sync-not-allowed message tells a Clojure caller to do (the Java
  facade says it in Java instead: vireo.java.bridge)."
  "Wrap it in (vireo.core/with-allow-sync db …) or call (vireo.core/set-allow-sync! db true), or use the aio- variant.")

(defn- sync-not-allowed [d op]
  (err/error :vireo/sync-not-allowed
             (str "Error, sync query is not allowed: " op " on " (db/describe d)
                  " would block the calling thread. " allow-sync-advice)
             {:op op :database (db/describe d)}))

(defn- sync-opts
  "The opts sync call `op` on `d` runs its async operation with, when it is
  allowed on this thread; else throws :vireo/sync-not-allowed. Inside an
  allow-sync block an operation with no scope of its own (no :connection,
  no transaction or connection block of the task) runs on the block's
  dedicated connection, acquired on first use."
  [d op opts]
  (when (Context/isOnEventLoopThread)
    (throw (err/error :vireo/sync-not-allowed
                      (str "sync query " op " refused on a Vert.x event-loop thread: blocking it would stall "
                           "every connection served by that loop; use the aio- variant")
                      {:op op :reason :event-loop})))
  (let [slot (get *sync* d)]
    (cond
      (and slot (identical? (:thread slot) (Thread/currentThread)))
      (if (or (not (map? opts)) (:connection opts) (get ctx/*contexts* d))
        opts
        (let [level-atom (:level slot)
              level (or @level-atom
                        (let [l (ctx/new-root d (p/await (db/acquire d)))] (reset! level-atom l) l))]
          (assoc opts :connection level)))

      @(:allow-sync d) opts

      :else (throw (sync-not-allowed d op)))))

(defn await-op
  "Blocks on the future `fut` of a sync call and returns its value, or throws
  its error: the typed ex-info itself (no ExecutionException around it),
  pointing at the caller's frame when it was raised on another thread (the
  frames where it was raised kept as a suppressed throwable, see
  vireo.impl.errors/at-caller)."
  [fut]
  (try (p/await fut)
       (catch InterruptedException e (throw e))
       (catch Throwable t (throw (err/at-caller t)))))

(defn run-sync
  "The one mechanism of every synchronous call: runs the async operation
  `(f opts)` (its aio- function, returning a future) for the sync call `op`
  on database `d` when allowed (else :vireo/sync-not-allowed, naming the
  escape hatch; always refused on an event-loop thread), blocking the
  calling thread and returning its value or throwing its error (see
  `await-op`). Inside an allow-sync block f receives opts with the block's
  dedicated connection as :connection when the task has no scope of its
  own."
  [d op opts f]
  (await-op (f (sync-opts d op opts))))

(defn run-block
  "A block run synchronously, its body on the calling thread: `start` is
  the block's aio- function as (start opts body-fn), which calls
  (body-fn handle) when the block's body should run and returns the block's
  future. `body` — (body handle), an ordinary blocking function — runs on
  this thread with the dynamic bindings the async body would have had (the
  block's level as the task's connection context, its cancellation scope),
  so sync and async operations inside it run in the block, and blocks nest
  either way. The block's outcome (commit or rollback) is awaited; returns
  body's value or throws its error."
  [d op opts start body]
  (let [opts (sync-opts d op opts)
        entered (p/promise)
        done (p/promise)
        result (start opts (fn [h]
                             (p/resolve! entered [h (clojure.lang.Var/getThreadBindingFrame)])
                             done))]
    (p/handle result (fn [_ e]
                       (p/reject! entered (or e (err/error :vireo/internal-error
                                                           (str op " ended before its body ran") {})))))
    (let [[h frame] (try (await-op entered)
                         (catch InterruptedException e
                           ;; the body will not run: end the block (rolled back)
                           (p/reject! done e)
                           (.cancel ^java.util.concurrent.CompletableFuture result true)
                           (throw e)))
          prev (clojure.lang.Var/getThreadBindingFrame)]
      (clojure.lang.Var/resetThreadBindingFrame frame)
      (try
        (p/resolve! done (body h))
        (catch Throwable t (p/reject! done t))
        (finally (clojure.lang.Var/resetThreadBindingFrame prev)))
      (await-op result))))
