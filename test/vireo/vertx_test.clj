(ns ^:vireo/per-backend vireo.vertx-test
  "One Vert.x instance per JVM for the databases Vireo creates
  (vireo.impl.vertx): shared, with daemon threads, closed with its last
  database; a program that never closes its databases still exits, from
  Clojure and through the Java facade (child JVMs); an application's own
  :vertx is never closed."
  (:require [clojure.edn :as edn]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.impl.vertx :as vx]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await! error-of]]
            [vireo.vertx-exit-main :as exit-main])
  (:import (io.vertx.core Vertx)
           (java.io File)
           (java.nio.file Files)
           (java.nio.file.attribute FileAttribute)
           (java.util.concurrent TimeUnit)
           (javax.tools ToolProvider)))

(set! *warn-on-reflection* true)

(defn- db-vertx
  "The Vert.x instance a database's open pool runs on (nil when not open)."
  [d]
  (:vertx @(:state d)))

(defn- one [d] (:rows (await! (v/aio-execute-sql d "SELECT 1 AS one"))))

;; ------------------------------------------------------------ in this JVM

(deftest shared-instance-test
  (let [d1 (ts/new-db ts/*backend* {:max-size 2})
        d2 (ts/new-db ts/*backend* {:max-size 2})]
    (try
      (await! (v/aio-connect d1))
      (is (= [{:one 1}] (one d2)) "d2 opens lazily")
      (let [shared (vx/shared)]
        (testing "both databases run on the one shared instance"
          (is (some? shared))
          (is (identical? shared (db-vertx d1)))
          (is (identical? shared (db-vertx d2)))
          (is (pos? (vx/users))))
        (testing "its event loops and workers are daemon threads"
          (is (= [true true] (exit-main/daemon-threads? shared))))
        (await! (v/aio-close d1))
        (await! (v/aio-close d1))
        (testing "closing one leaves the other working on the same instance"
          (is (not (v/connected? d1)))
          (is (= [{:one 1}] (one d2)))
          (is (identical? shared (vx/shared)))
          (is (exit-main/running? shared)))
        (testing "a reopened database acquires the shared instance again"
          (await! (v/aio-connect d1))
          (is (identical? shared (db-vertx d1)))
          (is (= [{:one 1}] (one d1)))))
      (finally
        (await! (v/aio-close d1))
        (await! (v/aio-close d2))))))

(deftest user-vertx-is-never-closed-test
  (let [app (Vertx/vertx)
        d (ts/new-db ts/*backend* {:max-size 2 :vertx app})]
    (try
      (await! (v/aio-connect d))
      (is (= [{:one 1}] (one d)))
      (is (identical? app (db-vertx d)) "the pool runs on the application's Vert.x")
      (is (not (identical? app (vx/shared))))
      (await! (v/aio-close d))
      (is (exit-main/running? app) "aio-close leaves it running")
      (await! (v/aio-connect d))
      (is (identical? app (db-vertx d)) "reopened on it again")
      (await! (v/aio-close d))
      (is (exit-main/running? app))
      (finally
        (await! (v/aio-close d))
        (.await (.close app))))))

(deftest pool-failure-releases-the-shared-instance-test
  ;; a deferred database (no name yet) refuses to open its pool: the shared
  ;; instance connect acquired for it (MySQL's statement-limit read) is given back
  (let [d (case ts/*backend*
            :postgres (v/postgresql-database {})
            :mysql (v/mysql-database {})
            :sqlite (v/sqlite-database nil))
        users (vx/users)]
    (is (v/error-type? (error-of #(v/aio-connect d)) :vireo/interface-error))
    (is (= users (vx/users)))
    (is (not (v/connected? d)))))

;; ------------------------------------------------------------ child JVMs

(def ^:private child-timeout-s
  "How long a child JVM may take to exit (loading Vireo from source on a
  busy machine is slow); one that has not exited by then fails the test."
  240)

(defn- run-child
  "Runs `args` as a process; {:exit n :out \"stdout+stderr\"}, or :exit
  :timeout (and the process killed) when it did not exit by itself."
  [args]
  (let [proc (-> (ProcessBuilder. ^java.util.List (vec args))
                 (.directory (io/file (System/getProperty "user.dir")))
                 (.redirectErrorStream true)
                 (.start))
        out (future (slurp (.getInputStream proc)))]
    (.close (.getOutputStream proc))
    (if (.waitFor proc child-timeout-s TimeUnit/SECONDS)
      {:exit (.exitValue proc) :out (deref out 10000 "")}
      (do (.destroyForcibly proc)
          (.waitFor proc 10 TimeUnit/SECONDS)
          {:exit :timeout :out (deref out 10000 "")}))))

(defn- java-bin []
  (.getPath (io/file (System/getProperty "java.home") "bin" "java")))

(defn- backend-args
  "backend url … for every backend of this run that is available."
  []
  (mapcat (fn [b] [(name b) (ts/url b)]) (remove ts/backend-unavailable (ts/backends))))

(def ^:private clojure-child
  "The Clojure program (vireo.vertx-exit-main), run once for every backend."
  (delay (run-child (concat [(java-bin) "-XX:TieredStopAtLevel=1" "-XX:+UseSerialGC"
                             "-cp" (System/getProperty "java.class.path")
                             "clojure.main" "-m" "vireo.vertx-exit-main"]
                            (backend-args)))))

(defn- delete-tree [^File dir]
  (doseq [^File f (reverse (file-seq dir))] (.delete f)))

(defn- compile-java-program!
  "Compiles the Java facade (java-api/, javac; vireo.java.bridge, AOT in a
  child JVM, as build.clj does for the jar) and ForgetCloseMain into `out`.
  nil when done, else the problem."
  [^File out]
  (let [^javax.tools.JavaCompiler javac (ToolProvider/getSystemJavaCompiler)
        sources (->> (concat (file-seq (io/file "java-api")) [(io/file "test/vireo/exittest/ForgetCloseMain.java")])
                     (filter #(str/ends-with? (.getName ^File %) ".java"))
                     ;; the JUnit extension needs JUnit, which this program does not use
                     (remove #(str/includes? (.getPath ^File %) "io/vireo/junit"))
                     (map str))
        err (java.io.ByteArrayOutputStream.)
        cp (str out File/pathSeparator (System/getProperty "java.class.path"))]
    (cond
      (nil? javac) "this Java runtime has no compiler"
      (not (zero? (.run javac nil nil err (into-array String (concat ["-d" (str out) "-cp" (System/getProperty "java.class.path")
                                                                      "--release" "17" "-nowarn" "-proc:none"]
                                                                     sources)))))
      (str "javac failed:\n" err)
      :else (let [{:keys [exit out]} (run-child [(java-bin) "-XX:TieredStopAtLevel=1" "-XX:+UseSerialGC" "-cp" cp
                                                 "clojure.main" "-e"
                                                 (pr-str `(binding [*compile-path* ~(str out)]
                                                            (compile 'vireo.java.bridge)))])]
              (when-not (= 0 exit) (str "AOT of vireo.java.bridge failed (" exit "):\n" out))))))

(def ^:private java-child
  "The Java program (vireo.exittest.ForgetCloseMain) over the freshly
  compiled facade, run once for every backend."
  (delay
    (let [out (.toFile (Files/createTempDirectory "vireo-exit-test" (make-array FileAttribute 0)))]
      (try
        (if-let [problem (compile-java-program! out)]
          {:exit :not-run :out problem}
          (run-child (concat [(java-bin) "-XX:TieredStopAtLevel=1" "-XX:+UseSerialGC"
                              "-cp" (str out File/pathSeparator (System/getProperty "java.class.path"))
                              "vireo.exittest.ForgetCloseMain"]
                             (backend-args))))
        (finally (delete-tree out))))))

(defn- line-of
  "The rest of the first line of `out` starting with `tag backend=<backend> `."
  [out tag backend]
  (some->> (re-find (re-pattern (str "(?m)^" tag " backend=" backend " (.*)$")) (str out)) second))

(deftest clojure-program-exits-without-closing-test
  (let [{:keys [exit out]} @clojure-child
        backend (name ts/*backend*)]
    (is (= 0 exit) (str "the child JVM must exit by itself, status 0 (" exit "):\n" out))
    (is (str/includes? (str out) "VERTX-MAIN-END") out)
    (testing "alone in its JVM: one shared instance, closed with its last database, fresh afterwards"
      (is (= {:before [false 0]
              :rows2 [{:one 1}]
              :both [true true 2]                          ; d1, d2 on the shared instance, 2 users
              :daemon [true true]                          ; event loop, worker
              :after-one [[{:one 1}] true 1 true]          ; d2 works, same instance, 1 user, running
              :twice [1 true]                              ; closing d1 again changes nothing
              :after-both [false 0 false]                  ; no instance, 0 users, the old one closed
              :reopened [[{:one 1}] true false true 1 true] ; works, a fresh instance, held once
              :closed-again [false 0 false]}
             (some-> (line-of out "VERTX-SHARED" backend) edn/read-string))
          out))
    (testing "a database on the application's Vert.x leaves the shared instance alone and never closes it"
      (is (= {:open [[{:one 1}] true false 0]
              :closed [true false 0]
              :again [[{:one 1}] true false]
              :finally true}
             (some-> (line-of out "VERTX-OWN" backend) edn/read-string))
          out))
    (is (= "[{:one 1}]" (line-of out "VERTX-FORGOT" backend)) out)
    (is (not (str/includes? (str out) "VERTX-ERROR")) out)))

(deftest java-program-exits-without-close-test
  (let [{:keys [exit out]} @java-child
        backend (name ts/*backend*)]
    (is (= 0 exit) (str "the Java child JVM must exit by itself, status 0 (" exit "):\n" out))
    (is (= "rows=[{one=1}]" (line-of out "JAVA-FORGOT" backend)) out)
    (is (str/includes? (str out) "JAVA-MAIN-END") out)))
