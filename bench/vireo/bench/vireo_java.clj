(ns vireo.bench.vireo-java
  "The `vireo-java` system: W1–W6 through Vireo's Java facade (io.vireo),
  called from Clojure by plain interop, as a Java application would.

  The facade's classes come from the classpath when it has them (e.g. the
  installed jar); otherwise they are compiled here, once per JVM, from the
  current java-api/ and bridge sources into a fresh temporary directory
  (javac, then AOT of the gen-class bridge), so a run never measures stale
  classes left by an earlier build."
  (:require [clojure.java.io :as io]
            [vireo.bench.workloads :as w])
  (:import (clojure.lang RT)
           (java.io File)
           (javax.tools ToolProvider)))


(defn- loadable? [^String c]
  (try (Class/forName c false (RT/baseLoader)) true (catch ClassNotFoundException _ false)))

(defn- compile-facade! []
  (let [out (.toFile (java.nio.file.Files/createTempDirectory "vireo-bench-facade" (make-array java.nio.file.attribute.FileAttribute 0)))
        sources (->> (file-seq (io/file "java-api")) (filter #(.endsWith (.getName ^File %) ".java"))
                     ;; the JUnit extension needs JUnit, which the harness does not use
                     (remove #(.contains (.getPath ^File %) "io/vireo/junit"))
                     (map str))
        ^javax.tools.JavaCompiler javac (or (ToolProvider/getSystemJavaCompiler)
                                            (throw (ex-info "vireo-java: this Java runtime has no compiler" {})))
        err (java.io.ByteArrayOutputStream.)]
    (.addShutdownHook (Runtime/getRuntime)
                      (Thread. ^Runnable (fn [] (doseq [^File f (reverse (file-seq out))] (.delete f)))))
    ;; the JVM's class path drops a directory that did not exist when it
    ;; started: load from it through a class loader of our own, made the
    ;; thread's context loader (Clojure's base loader) for what follows
    (let [loader (doto (clojure.lang.DynamicClassLoader. (RT/baseLoader)) (.addURL (.toURL (.toURI out))))]
      (.setContextClassLoader (Thread/currentThread) loader))
    (when-not (zero? (.run javac nil nil err (into-array String (concat ["-d" (str out) "-cp" (System/getProperty "java.class.path")
                                                                        "--release" "17" "-nowarn"]
                                                                       sources))))
      (throw (ex-info (str "vireo-java: javac of java-api failed: " err) {})))
    (binding [*compile-path* (str out) *compile-files* true]
      (compile 'vireo.java.bridge))))

(defonce ^:private ready
  (delay (when-not (loadable? "io.vireo.impl.ClojureBridge") (compile-facade!)) true))

(defn open
  "Given {:url :pool-size}, returns the system instance (see vireo.bench.systems)."
  [cfg]
  @ready
  ((requiring-resolve 'vireo.bench.vireo-java-impl/open) cfg))
