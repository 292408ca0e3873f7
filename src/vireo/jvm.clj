(ns ^:no-doc vireo.jvm
  "Compiles Vireo's few Java sources on first use (not public).

  Layering: a foundation namespace, like vireo.sql. It requires no vireo
  namespace, so every layer may use it: vireo.promise loads its
  vireo.promise.ConveyingFuture through it, without knowing anything of
  vireo.impl.

  The Java sources under src/ (e.g. src/vireo/promise/ConveyingFuture.java)
  are compiled ahead of time: into the jar by build.clj, and into
  target/prep (on the lib's :paths) by `bin/clojure -T:build prep`, which is
  the lib's `:deps/prep-lib` step, so a git dependency is compiled once by
  `clojure -X:deps prep` and then needs no compiler (a JRE will do). Where
  the class is missing (a source checkout not prepared: the repository's own
  REPL and test suite) or older than its source (a prepared checkout whose
  Java source was edited since), it is compiled here on first use with the
  JDK's in-process compiler, reached reflectively so that this namespace
  loads on a JRE without the java.compiler module."
  (:require [clojure.java.io :as io])
  (:import (clojure.lang DynamicClassLoader Reflector RT)
           (java.io File)
           (java.net URL)
           (java.nio.file Files)
           (java.nio.file.attribute FileAttribute)))

(set! *warn-on-reflection* true)

(defn loaded-var
  "The var qualified symbol `sym` names, its namespace loaded first; nil when
  the namespace has no such var. What Vireo's lazy loads (a backend, an
  observability facility, the logging library, the Java facade's functions)
  use instead of `requiring-resolve`, which resolves before it requires: a
  namespace another thread is still loading already has its vars interned
  but not yet bound (an AOT namespace's class interns them all first), so a
  caller racing the first load got an unbound var. The require takes
  Clojure's require lock: it waits for a load in progress, and costs little
  once the namespace is loaded."
  ^clojure.lang.Var [sym]
  (locking RT/REQUIRE_LOCK
    (require (symbol (namespace sym))))
  (resolve sym))

(defn- loadable? [^String class-name]
  (try (Class/forName class-name false (RT/baseLoader)) true
       (catch ClassNotFoundException _ false)))

(defn- file-time
  "The modification time of a file: URL, else nil (a class in a jar is
  never stale: the jar was built from its sources)."
  [^URL u]
  (when (and u (= "file" (.getProtocol u)))
    (.lastModified (io/file (.toURI u)))))

(defn- stale?
  "True when the class file of `class-name` on the classpath is older than
  its Java source beside it on the classpath (both plain files)."
  [^String class-name]
  (let [base (.replace class-name "." "/")
        c (file-time (io/resource (str base ".class")))
        s (file-time (io/resource (str base ".java")))]
    (boolean (and c s (< (long c) (long s))))))

(defn- system-compiler
  "The JDK's javax.tools.JavaCompiler, or nil on a runtime without one."
  []
  (try (Reflector/invokeStaticMethod (Class/forName "javax.tools.ToolProvider") "getSystemJavaCompiler" (object-array 0))
       (catch ClassNotFoundException _ nil)))

(defn- compile-source!
  "Compiles the Java source resource for `class-name` and defines the classes."
  [^String class-name]
  (let [path (str (.replace class-name "." "/") ".java")
        src (or (io/resource path)
                (throw (ex-info (str "Vireo: neither the class " class-name " nor its source " path
                                     " is on the classpath") {:class class-name})))
        compiler (or (system-compiler)
                     (throw (ex-info (str "Vireo: " class-name " is not compiled and this Java runtime has"
                                          " no compiler; use the Vireo jar, prepare the source dependency"
                                          " (clojure -X:deps prep) or use a full JDK") {:class class-name})))
        dir (.toFile (Files/createTempDirectory "vireo-java" (make-array FileAttribute 0)))
        src-file (io/file dir path)
        out (io/file dir "classes")
        err (java.io.ByteArrayOutputStream.)]
    (try
      (io/make-parents src-file)
      (.mkdirs out)
      (spit src-file (slurp src))
      (let [rc (Reflector/invokeInstanceMethod
                compiler "run"
                (object-array [nil nil err
                               (into-array String ["-d" (.getPath out)
                                                   "-cp" (System/getProperty "java.class.path")
                                                   "--release" "17" "-nowarn" "-proc:none"
                                                   (.getPath src-file)])]))]
        (when-not (zero? rc)
          (throw (ex-info (str "Vireo: compiling " path " failed:\n" err) {:class class-name}))))
      (let [loader (DynamicClassLoader. (RT/baseLoader))]
        (doseq [^File f (sort-by #(.length (.getName ^File %)) (filter #(.isFile ^File %) (file-seq out)))]
          (let [rel (subs (.getPath f) (inc (count (.getPath out))))
                cname (-> rel (subs 0 (- (count rel) 6)) (.replace File/separator "."))]
            (.defineClass loader cname (Files/readAllBytes (.toPath f)) nil))))
      (finally
        (doseq [^File f (reverse (file-seq dir))] (.delete f))))))

(defn ensure-class!
  "Makes sure `class-name` can be loaded, compiling it from source if it is
  missing or older than its source."
  [class-name]
  (locking ensure-class!
    (when (or (not (loadable? class-name)) (stale? class-name))
      (compile-source! class-name))))
