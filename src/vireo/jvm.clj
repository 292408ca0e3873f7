(ns ^:no-doc vireo.jvm
  "Compiles Vireo's few Java sources on first use (not public).

  Layering: a foundation namespace, like vireo.sql. It requires no vireo
  namespace, so every layer may use it: vireo.promise loads its
  vireo.promise.ConveyingFuture through it, without knowing anything of
  vireo.impl.

  The Java sources under src/ (e.g. src/vireo/promise/ConveyingFuture.java)
  are compiled into the jar by build.clj. Running from source (the REPL, the
  test suite, a git dependency) they are compiled on first use with the JDK's
  in-process compiler and defined in Clojure's dynamic class loader, so no
  build step is needed before `require`."
  (:require [clojure.java.io :as io])
  (:import (clojure.lang DynamicClassLoader RT)
           (java.io File)
           (java.nio.file Files)
           (java.nio.file.attribute FileAttribute)
           (javax.tools ToolProvider)))

(set! *warn-on-reflection* true)

(defn- loadable? [^String class-name]
  (try (Class/forName class-name false (RT/baseLoader)) true
       (catch ClassNotFoundException _ false)))

(defn- compile-source!
  "Compiles the Java source resource for `class-name` and defines the classes."
  [^String class-name]
  (let [path (str (.replace class-name "." "/") ".java")
        src (or (io/resource path)
                (throw (ex-info (str "Vireo: neither the class " class-name " nor its source " path
                                     " is on the classpath") {:class class-name})))
        ^javax.tools.JavaCompiler compiler (or (ToolProvider/getSystemJavaCompiler)
                     (throw (ex-info (str "Vireo: " class-name " is not compiled and this Java runtime has"
                                          " no compiler; use the Vireo jar or a full JDK") {:class class-name})))
        dir (.toFile (Files/createTempDirectory "vireo-java" (make-array FileAttribute 0)))
        src-file (io/file dir path)
        out (io/file dir "classes")
        err (java.io.ByteArrayOutputStream.)]
    (try
      (io/make-parents src-file)
      (.mkdirs out)
      (spit src-file (slurp src))
      (let [rc (.run compiler nil nil err
                     (into-array String ["-d" (.getPath out)
                                         "-cp" (System/getProperty "java.class.path")
                                         "--release" "17" "-nowarn" "-proc:none"
                                         (.getPath src-file)]))]
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
  "Makes sure `class-name` can be loaded, compiling it from source if needed."
  [class-name]
  (locking ensure-class!
    (when-not (loadable? class-name)
      (compile-source! class-name))))
