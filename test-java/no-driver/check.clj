;; Run by test-java/run as `java -cp <jar + its non-optional deps> clojure.main check.clj`:
;; Vireo's jar with no backend driver on the classpath. Prints one line per check
;; and "no-driver: N passed, N failed" last; exits 1 when a check failed.
;;
;; - Vireo loads from its AOT classes (nothing is compiled at load time),
;;   through the Java facade and through vireo.core, without any driver;
;; - a database of each backend then fails with Vireo's typed error naming the
;;   driver's Maven coordinates (vireo.impl.backend/missing-driver), not a
;;   NoClassDefFoundError, and no backend namespace was loaded;
;; - vireo.promise.ConveyingFuture (javac-compiled into the jar) is the jar's
;;   class and works; the SQL logger (clojure.tools.logging, loaded from source)
;;   works from AOT code.
(def results (atom {:pass 0 :fail 0}))

(defmacro check [what & body]
  `(let [r# (try (do ~@body) (catch Throwable t# t#))]
     (if (true? r#)
       (do (swap! results update :pass inc) (println "no-driver: ok  " ~what))
       (do (swap! results update :fail inc)
           (println "no-driver: FAIL" ~what)
           (if (instance? Throwable r#)
             (.printStackTrace ^Throwable r# System/out)
             (println "  got" (pr-str r#)))))))

(def sqlite-missing ["io.vertx:vertx-jdbc-client:5.0.7" "org.xerial:sqlite-jdbc:3.50.3.0"])

(defn- names-coordinates? [^String msg coords]
  (every? #(.contains msg ^String %) coords))

;; 1. the Java facade first: it loads Vireo by itself, as for a Java user
(check "Java: new SqliteDatabase(…) throws an INTERFACE_ERROR naming the SQLite driver's coordinates"
  (try (io.vireo.SqliteDatabase. "/nonexistent/vireo-no-driver.db")
       :no-exception
       (catch io.vireo.exception.VireoException e
         (or (and (= io.vireo.exception.ErrorType/INTERFACE_ERROR (.getType e))
                  (names-coordinates? (.getMessage e) sqlite-missing))
             (.getMessage e)))))

(require 'vireo.core 'vireo.promise 'vireo.impl.executor)

(defn- sqlite-error []
  (try ((resolve 'vireo.core/sqlite-database) "/nonexistent/vireo-no-driver.db") :no-exception
       (catch clojure.lang.ExceptionInfo e e)))

(check "Clojure: sqlite-database throws :vireo/interface-error with :missing the SQLite driver's coordinates"
  (let [e (sqlite-error)
        d (ex-data e)]
    (or (and (= :vireo/interface-error (:type d))
             (= sqlite-missing (:missing d))
             (names-coordinates? (ex-message e) sqlite-missing))
        [d (ex-message e)])))

(check "Clojure: postgresql-database throws :vireo/interface-error naming io.vertx:vertx-pg-client:5.0.7"
  (let [e (try ((resolve 'vireo.core/postgresql-database) "postgresql://postgres@127.0.0.1:5432/x") :no-exception
               (catch clojure.lang.ExceptionInfo e e))]
    (or (= {:type :vireo/interface-error :missing ["io.vertx:vertx-pg-client:5.0.7"]}
           (select-keys (ex-data e) [:type :missing]))
        e)))

(check "Clojure: mysql-database throws :vireo/interface-error naming io.vertx:vertx-mysql-client:5.0.7"
  (let [e (try ((resolve 'vireo.core/mysql-database) "mysql://root@127.0.0.1:3306/x") :no-exception
               (catch clojure.lang.ExceptionInfo e e))]
    (or (= {:type :vireo/interface-error :missing ["io.vertx:vertx-mysql-client:5.0.7"]}
           (select-keys (ex-data e) [:type :missing]))
        e)))

(check "no backend namespace was loaded"
  (let [loaded (filter find-ns '[vireo.impl.backend.postgres vireo.impl.backend.mysql vireo.impl.backend.sqlite])]
    (or (empty? loaded) (vec loaded))))

(check "every loaded vireo namespace came from the jar's AOT classes (none compiled at load time)"
  (let [compiled (for [n (all-ns)
                       :when (.startsWith (name (ns-name n)) "vireo")
                       [_ v] (ns-interns n)
                       :let [f (when (bound? v) @v)]
                       :when (instance? clojure.lang.AFunction f)
                       :when (instance? clojure.lang.DynamicClassLoader (.getClassLoader (class f)))]
                   (symbol v))]
    (or (empty? compiled) (vec (take 5 compiled)))))

(check "vireo.promise.ConveyingFuture is the jar's class, and a promise chain completes"
  (let [p ((resolve 'vireo.promise/then) ((resolve 'vireo.promise/resolved) 41) inc)]
    (or (and (= "vireo.promise.ConveyingFuture" (.getName (class p)))
             (not (instance? clojure.lang.DynamicClassLoader (.getClassLoader (class p))))
             (= 42 (.get ^java.util.concurrent.Future p 10 java.util.concurrent.TimeUnit/SECONDS)))
        [(class p) (.getClassLoader (class p))])))

(check "the SQL logger (clojure.tools.logging protocols, loaded from source) works from AOT code"
  (do ((resolve 'vireo.impl.executor/log-statement) "SELECT 1" [])
      true))

(let [{:keys [pass fail]} @results]
  (println (str "no-driver: " pass " passed, " fail " failed"))
  (shutdown-agents)
  (System/exit (if (zero? fail) 0 1)))
