(ns vireo.vertx-exit-main
  "The child JVM of `vireo.vertx-test`:

      java -cp <the test classpath> clojure.main -m vireo.vertx-exit-main <backend> <url> [<backend> <url> ...]

  Alone in its JVM, so the shared Vert.x instance is used by its databases
  only. For each backend in turn it

  1. runs the shared instance's life cycle (two databases on one instance,
     closing one, then both, then a reopen on a fresh instance) and prints
     `VERTX-SHARED backend=<b> <edn map of what it saw>`, and the life
     cycle of a database on the application's own Vert.x (`:vertx`):
     `VERTX-OWN backend=<b> <edn map>`;
  then, for each backend again,
  2. opens a database, runs a query, prints
     `VERTX-FORGOT backend=<b> <rows>` and leaves it open.
  A failure prints `VERTX-ERROR backend=<b> <exception>` instead.

  Then it prints `VERTX-MAIN-END` and returns from -main: no close, no
  System/exit, no shutdown-agents. The JVM must exit by itself (status 0),
  because every thread of the shared Vert.x instance is a daemon thread."
  (:require [vireo.core :as v]
            [vireo.impl.vertx :as vx]
            [vireo.promise :as p])
  (:import (io.vertx.core Handler Vertx)
           (java.util.concurrent Callable RejectedExecutionException)))

(set! *warn-on-reflection* true)

(defn- await! [f] (p/await f 30000))

(defn- db-vertx
  "The Vert.x instance a database's open pool runs on (nil when not open)."
  [d]
  (:vertx @(:state d)))

(defn- one [d] (:rows (await! (v/aio-execute-sql d "SELECT 1 AS one"))))

(defn running?
  "True while `vx` runs tasks; false once it is closed."
  [^Vertx vx]
  (try (= :ran (.await (.executeBlocking vx ^Callable (fn [] :ran))))
       (catch RejectedExecutionException _ false)))

(defn daemon-threads?
  "[event loop daemon? worker daemon?] for threads of `vx`."
  [^Vertx vx]
  (let [on-loop (promise)]
    (.runOnContext vx (reify Handler (handle [_ _] (deliver on-loop (.isDaemon (Thread/currentThread))))))
    [(deref on-loop 30000 :timeout)
     (.await (.executeBlocking vx ^Callable (fn [] (.isDaemon (Thread/currentThread)))))]))

(defn shared-life-cycle
  "What the shared instance does across two databases of `url`."
  [url]
  (let [before [(some? (vx/shared)) (vx/users)]
        d1 (v/database url {:max-size 2})
        d2 (v/database url {:max-size 2})
        _ (await! (v/aio-connect d1))  ; MySQL: reads max_prepared_stmt_count first
        rows2 (one d2)                  ; opened lazily by its first query
        i1 (vx/shared)
        both [(identical? i1 (db-vertx d1)) (identical? i1 (db-vertx d2)) (vx/users)]
        daemon (daemon-threads? i1)
        _ (await! (v/aio-close d1))
        after-one [(one d2) (identical? i1 (vx/shared)) (vx/users) (running? i1)]
        _ (await! (v/aio-close d1))
        twice [(vx/users) (running? i1)]
        ;; the last close, twice at once: released once, the instance closes
        _ (await! (p/all [(v/aio-close d2) (v/aio-close d2)]))
        after-both [(some? (vx/shared)) (vx/users) (running? i1)]
        _ (await! (v/aio-connect d1))
        i2 (vx/shared)
        reopened [(one d1) (some? i2) (identical? i1 i2) (identical? i2 (db-vertx d1)) (vx/users) (running? i2)]
        _ (await! (v/aio-close d1))
        closed-again [(some? (vx/shared)) (vx/users) (running? i2)]]
    {:before before :rows2 rows2 :both both :daemon daemon :after-one after-one :twice twice
     :after-both after-both :reopened reopened :closed-again closed-again}))

(defn user-vertx-life-cycle
  "What a database given the application's own Vert.x (`:vertx`) does to the
  shared instance (nothing) and to that Vert.x (never closed)."
  [url]
  (let [app (Vertx/vertx)]
    (try
      (let [d (v/database url {:max-size 2 :vertx app})
            _ (await! (v/aio-connect d))
            open [(one d) (identical? app (db-vertx d)) (some? (vx/shared)) (vx/users)]
            _ (await! (v/aio-close d))
            closed [(running? app) (some? (vx/shared)) (vx/users)]
            _ (await! (v/aio-connect d))  ; reopened: still on the application's Vert.x
            again [(one d) (identical? app (db-vertx d)) (some? (vx/shared))]
            _ (await! (v/aio-close d))]
        {:open open :closed closed :again again :finally (running? app)})
      (finally (.await (.close app))))))

(defonce ^:private forgotten (atom []))

(defn- report [tag backend f]
  (try (println (str tag " backend=" backend " " (pr-str (f))))
       (catch Throwable e
         (println (str "VERTX-ERROR backend=" backend " " (.getName (class e)) ": " (ex-message e))))))

(defn -main [& backend-urls]
  (let [pairs (partition 2 backend-urls)]
    ;; every life cycle first: no other database is open during one
    (doseq [[backend url] pairs]
      (report "VERTX-SHARED" backend #(shared-life-cycle url))
      (report "VERTX-OWN" backend #(user-vertx-life-cycle url)))
    (doseq [[backend url] pairs]
      (report "VERTX-FORGOT" backend #(let [d (v/database url {:max-size 2})]
                                         (swap! forgotten conj d)
                                         (one d)))))
  (println "VERTX-MAIN-END")
  (flush))
