(ns vireo.test-support
  "Backends for the integration suite. bin/test exports the URLs; a namespace
  marked `^:vireo/per-backend` runs once per backend with `*backend*` bound,
  and after every case the runner checks that no connection leaked."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :as t]
            [clojure.tools.logging.impl]
            [vireo.core :as v]
            [vireo.promise :as p]))

(set! *warn-on-reflection* true)

(def ^:dynamic *backend* nil)

(def ^:private aliases {"pg" :postgres "postgres" :postgres "postgresql" :postgres
                        "mysql" :mysql "mariadb" :mysql "sqlite" :sqlite})

(defn backends
  "The backends to run, from VIREO_TEST_BACKENDS (default pg,mysql,sqlite)."
  []
  (let [s (or (System/getenv "VIREO_TEST_BACKENDS") "pg,mysql,sqlite")]
    (->> (str/split s #"[,\s]+")
         (remove str/blank?)
         (map #(or (aliases (str/lower-case %))
                   (throw (ex-info (str "unknown backend in VIREO_TEST_BACKENDS: " %) {}))))
         distinct vec)))

(def sqlite-dir (io/file "target" "test-sqlite"))

(defn url
  "The database URL the suite uses for a backend."
  [backend]
  (case backend
    :postgres (or (System/getenv "VIREO_TEST_PG_URL") "postgresql://postgres@127.0.0.1:5432/vireo_test")
    :mysql (or (System/getenv "VIREO_TEST_MYSQL_URL") "mysql://root@127.0.0.1:3306/vireo_test")
    :sqlite (str "sqlite:" (or (System/getenv "VIREO_TEST_SQLITE_PATH")
                               (.getPath (io/file sqlite-dir "vireo_test.db"))))))

(defn new-db
  "A new database for the backend (the caller closes it)."
  ([backend] (new-db backend {}))
  ([backend opts] (v/database (url backend) (merge {:max-size 5} opts))))

(def skip-reason
  "The reason the running test case called `skip!`, or nil. The runner resets
  it before each case and counts a case that set it (and did not fail) as
  skipped."
  (atom nil))

(defn skip!
  "Marks the running test case as skipped (not passed) with a reason; the
  caller then returns without asserting anything more."
  [reason]
  (reset! skip-reason (str reason))
  nil)

(defonce ^:private shared (atom {}))

(defn db
  "The shared database of the current backend for this run."
  []
  (assert *backend* "vireo.test-support/db needs *backend* bound (a ^:vireo/per-backend namespace)")
  (or (get @shared *backend*)
      (get (swap! shared (fn [m] (if (get m *backend*) m (assoc m *backend* (new-db *backend*)))))
           *backend*)))

(defonce ^:private availability (atom {}))

(defn backend-unavailable
  "nil when the backend answers `SELECT 1`, else the reason (checked once)."
  [backend]
  (when-not (contains? @availability backend)
    (when (= backend :sqlite) (.mkdirs ^java.io.File sqlite-dir))
    (let [d (new-db backend {:connection-timeout 5000})
          reason (try (p/await (v/aio-execute-sql d "SELECT 1") 15000) nil
                      (catch Throwable e (str (url backend) ": " (ex-message e)))
                      (finally (p/await (v/aio-close d))))]
      (swap! availability assoc backend reason)))
  (get @availability backend))

(defn around-case
  "Runner hook: binds *backend*; after each case asserts no leaked connection."
  [backend f phase]
  (binding [*backend* backend]
    (f)
    (when (= phase :case)
      (when-let [d (get @shared backend)]
        (t/is (zero? (v/checked-out d)) "no connection is left checked out")))))

(defn model
  "A test model bound to the current backend's shared database, registered
  (like defmodel) so its backrefs and many-to-many backrefs are known."
  [model-name definition]
  (v/register-model! (v/model model-name (assoc definition :database (db)))))

(defn with-tables*
  "Creates the models' tables (dropping leftovers first), runs f, drops them."
  [models f]
  (let [d (db)]
    (v/with-allow-sync d
      (doseq [m (reverse models)] (v/drop-table! m {:safe true}))
      (doseq [m models] (v/create-table! m)))
    (try (f)
         (finally
           (v/with-allow-sync d
             (doseq [m (reverse models)] (v/drop-table! m {:safe true})))))))

(defmacro with-tables [models & body]
  `(with-tables* ~models (fn [] ~@body)))

(defn await!
  "Awaits a future with a generous timeout, so a hang fails instead of
  stalling the suite."
  [fut] (p/await fut 30000))

(defn error-of
  "Runs (f), awaiting a future it returns; returns the exception thrown or
  nil."
  [f]
  (try (let [r (f)] (when (p/future? r) (await! r)) nil)
       (catch Throwable e e)))

(defn on-every-connection
  "Borrows `n` connections of `d` at once — with a pool of `n`, every
  pooled connection is one of them — and runs `sql` on each. The vector of
  their results (aio-execute-sql maps)."
  [d n sql]
  (let [all-in (p/promise)
        borrowed (atom 0)
        blocks (doall (for [_ (range n)]
                        (v/aio-connection d (fn [_]
                                              (when (= n (swap! borrowed inc)) (p/resolve! all-in true))
                                              (p/then all-in (fn [_] (v/aio-execute-sql d sql)))))))]
    (mapv await! blocks)))

(defn wait-until
  "Polls (pred) every 250 ms until it holds or `ms` pass; true when it held.
  `ms` is a generous bound (a loaded machine is slow, not wrong): when the
  wait took over a second, the time it took is printed, so a slowdown shows
  without failing. (250 ms because MariaDB refreshes
  information_schema.innodb_trx only when it was not read for 100 ms.)"
  [pred ms]
  (let [start (System/currentTimeMillis)
        deadline (+ start ms)
        report #(let [took (- (System/currentTimeMillis) start)]
                  (when (> took 1000)
                    (println (format "  (waited %.1f s of at most %.0f s for a condition: %s)"
                                     (/ took 1e3) (/ ms 1e3) (if % "it held" "it did not hold"))))
                  %)]
    (loop []
      (cond (pred) (report true)
            (> (System/currentTimeMillis) deadline) (report false)
            :else (do (Thread/sleep 250) (recur))))))

(defn capturing-logger-factory
  "A clojure.tools.logging factory that records [logger-name level throwable
  message] into the atom `sink` for `logger-name` at `level` and drops the rest."
  [sink logger-name level]
  (reify clojure.tools.logging.impl/LoggerFactory
    (name [_] "capture")
    (get-logger [_ ns]
      (reify clojure.tools.logging.impl/Logger
        (enabled? [_ l] (and (= logger-name (str ns)) (= level l)))
        (write! [_ l e msg] (swap! sink conj [(str ns) l e msg]))))))

;; ---------------------------------------------------------------- child JVMs
(defn classpath-without
  "This JVM's classpath without the entries any of the regexes `res` finds
  (a child JVM lacking an optional library)."
  [res]
  (->> (str/split (System/getProperty "java.class.path") #":")
       (remove (fn [entry] (some #(re-find % entry) res)))
       (str/join ":")))

(defn run-child
  "Runs `code` in a child JVM on classpath `cp`; {:exit n :out s} (waits
  for it to end, 180 s at most: then {:exit :timeout})."
  [cp code]
  (let [java (str (io/file (System/getProperty "java.home") "bin" "java"))
        ^java.util.List args [java "-cp" cp "clojure.main" "-e" code]
        proc (-> (ProcessBuilder. args) (.redirectErrorStream true) (.start))
        out (future (slurp (.getInputStream proc)))]
    (if (.waitFor proc 180 java.util.concurrent.TimeUnit/SECONDS)
      {:exit (.exitValue proc) :out @out}
      (do (.destroyForcibly proc) {:exit :timeout :out (deref out 5000 "")}))))
