(ns ^:no-doc vireo.impl.vertx
  "The one Vert.x instance Vireo shares between the databases it creates.

  A database given no `:vertx` option runs its pool on this instance. It is
  created lazily, when the first such pool opens (`acquire!`), and counted:
  each open pool holds it once and gives it back when it closes
  (`release!`). When the last one closes, the instance closes, and the next
  pool to open gets a fresh one. A database given the application's own
  Vert.x (`:vertx`) never touches it.

  All of its threads (event loops, the worker and internal blocking pools the
  SQLite/JDBC client runs on) are daemon threads (`VertxOptions
  .setUseDaemonThread`), so a program that never closes its databases still
  exits when its main thread ends. A JVM shutdown hook then closes the
  instance if it is still open (pools close their connections cleanly),
  waiting at most `shutdown-timeout-ms`, so exit never hangs on it.

  `shared` and `users` show the state (for tests and debugging)."
  (:require [vireo.impl.log :as log]
            [vireo.promise :as p])
  (:import (io.vertx.core Vertx VertxOptions)
           (java.util.concurrent TimeUnit TimeoutException)))

(set! *warn-on-reflection* true)

(def shutdown-timeout-ms
  "How long the JVM shutdown hook waits for the shared instance to close."
  5000)

;; {:vertx Vertx-or-nil :users n}; changed only under `lock`, read freely.
;; defonce: reloading this namespace at the REPL keeps the running instance.
(defonce ^:private state (atom {:vertx nil :users 0}))
(defonce ^:private lock (Object.))
(defonce ^:private hook-installed (atom false))

(defn shared
  "The shared Vert.x instance while one is open, else nil."
  ^Vertx []
  (:vertx @state))

(defn users
  "How many open pools hold the shared instance right now."
  ^long []
  (long (:users @state)))

(defn- close-at-exit
  "The shutdown hook's work: closes the shared instance if one is still open,
  waiting at most shutdown-timeout-ms."
  []
  (when-let [^Vertx vx (locking lock
                         (let [vx (:vertx @state)]
                           (reset! state {:vertx nil :users 0})
                           vx))]
    (try
      (.await (.close vx) shutdown-timeout-ms TimeUnit/MILLISECONDS)
      (catch TimeoutException _
        (log/log! "vireo.impl.vertx" :warn nil (str "vireo: the shared Vert.x instance did not close within " shutdown-timeout-ms " ms at JVM exit")))
      (catch Throwable e
        (log/log! "vireo.impl.vertx" :warn e "vireo: closing the shared Vert.x instance at JVM exit failed")))))

(defn- install-hook!
  "Registers the shutdown hook once per JVM. Too late (the JVM is already
  shutting down) is not an error: nothing is left to close then."
  []
  (when (compare-and-set! hook-installed false true)
    (try
      (.addShutdownHook (Runtime/getRuntime)
                        (Thread. ^Runnable close-at-exit "vireo-vertx-shutdown"))
      (catch IllegalStateException _ nil))))

(defn- create ^Vertx []
  (Vertx/vertx (doto (VertxOptions.) (.setUseDaemonThread true))))

(defn acquire!
  "Returns the shared Vert.x instance, creating it if none is open, and
  counts one more user of it. Every call is paired with one `release!` of the
  instance it returned."
  ^Vertx []
  (locking lock
    (let [{:keys [vertx users]} @state
          vx (or vertx (create))]
      (when-not vertx (install-hook!))
      (reset! state {:vertx vx :users (inc (long users))})
      vx)))

(defn release!
  "Gives back the instance `vx` returned by `acquire!`. When it was its last
  user, the instance is closed (the next `acquire!` creates a fresh one).
  An instance that is no longer the shared one (closed at JVM exit) is left
  alone. Returns a future of nil, completed once a closing instance has
  closed."
  [^Vertx vx]
  (let [closing (locking lock
                  (let [{:keys [vertx users]} @state]
                    (when (identical? vx vertx)
                      (if (<= (long users) 1)
                        (do (reset! state {:vertx nil :users 0}) vx)
                        (do (swap! state update :users dec) nil)))))]
    (if closing
      (p/from-vertx (.close ^Vertx closing))
      (p/resolved nil))))
