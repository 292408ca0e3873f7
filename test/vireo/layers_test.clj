(ns vireo.layers-test
  "Vireo's layering, checked on the sources (no database):

    vireo.sql, vireo.jvm      foundation: require no vireo namespace
    vireo.promise             foundation: requires (and imports) nothing of vireo.impl
    vireo.impl.*              the middle layer: never requires the public
                              namespaces above it (vireo.core, vireo.signals,
                              vireo.testing) nor the Java facade (vireo.java.*)

  Each .clj file under src/ is read form by form (nothing is evaluated); a
  file's dependencies are the namespaces of its ns form's :require/:use and
  of top-level `require`/`use` calls, and the classes of its :import and of
  top-level `import` calls. Java sources under src/ are checked by package."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]])
  (:import (clojure.lang LispReader$Resolver)
           (java.io File PushbackReader)))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- reading sources
(def ^:private resolver
  "Resolves ::kw and ::alias/kw to placeholders, so files read without their
  aliases being loaded."
  (reify LispReader$Resolver
    (currentNS [_] 'layers-test.reading)
    (resolveClass [_ sym] sym)
    (resolveAlias [_ sym] sym)
    (resolveVar [_ sym] sym)))

(defn- read-forms
  "Every top-level form of a .clj file, unevaluated."
  [^File f]
  (with-open [r (PushbackReader. (io/reader f))]
    (binding [*read-eval* false
              *reader-resolver* resolver
              *default-data-reader-fn* (fn [_tag v] v)]
      (loop [acc []]
        (let [form (read {:eof ::eof :read-cond :allow} r)]
          (if (= ::eof form) acc (recur (conj acc form))))))))

(defn- unquote* [x] (if (and (seq? x) (= 'quote (first x))) (second x) x))

(defn- libspec-nses
  "The namespace symbols named by one :require/:use libspec (a symbol, a
  vector [ns & opts], or a prefix list (prefix ns-or-vector …))."
  [spec]
  (let [spec (unquote* spec)]
    (cond
      (symbol? spec) [spec]
      (vector? spec) (when (symbol? (first spec)) [(first spec)])
      (seq? spec) (let [[prefix & more] spec]
                    (for [s more
                          n (libspec-nses s)]
                      (symbol (str prefix "." n))))
      :else [])))

(defn- import-classes
  "The class names (strings) of one :import spec: a symbol, or a
  list/vector (package Class …)."
  [spec]
  (let [spec (unquote* spec)]
    (cond
      (symbol? spec) [(str spec)]
      (sequential? spec) (let [[pkg & classes] spec] (map #(str pkg "." %) classes))
      :else [])))

(defn- deps-of
  "{:ns sym :requires #{ns-sym} :imports #{class-name}} for one source file."
  [^File f]
  (let [forms (read-forms f)
        ns-form (first (filter #(and (seq? %) (= 'ns (first %))) forms))
        clauses (filter seq? (drop 2 ns-form))
        clause (fn [k] (mapcat rest (filter #(= k (first %)) clauses)))
        calls (fn [op] (mapcat rest (filter #(and (seq? %) (= op (first %))) forms)))
        libspecs (concat (clause :require) (clause :use) (calls 'require) (calls 'use))]
    {:ns (second ns-form)
     :requires (into #{} (comp (remove keyword?) (mapcat libspec-nses)) libspecs)
     :imports (into #{} (mapcat import-classes) (concat (clause :import) (calls 'import)))}))

(defn- sources [ext]
  (->> (file-seq (io/file "src"))
       (filter #(str/ends-with? (.getName ^File %) ext))
       (sort-by #(.getPath ^File %))))

(defn- clj-deps [] (mapv deps-of (sources ".clj")))

(defn- java-deps
  "{:package \"vireo.x\" :file path :refs #{qualified names after import or in code}}"
  []
  (for [^File f (sources ".java")
        :let [text (slurp f)]]
    {:package (second (re-find #"(?m)^\s*package\s+([\w.]+)\s*;" text))
     :file (.getPath f)
     :refs (set (re-seq #"\bvireo\.[\w.]+" text))}))

;; ---------------------------------------------------------------- rules
(defn- under? [prefix sym]
  (let [s (str sym)] (or (= s prefix) (str/starts-with? s (str prefix ".")))))

(defn- vireo-ns? [sym] (under? "vireo" sym))

(def ^:private public-above-impl '[vireo.core vireo.signals vireo.testing vireo.sync])

(defn violations
  "The layering rules broken by `deps` (as from `deps-of`): a vector of strings."
  [{:keys [ns requires imports]}]
  (let [bad (fn [why xs] (map #(str ns " " why " " %) (sort (map str xs))))]
    (vec
     (concat
      (when (#{'vireo.sql 'vireo.jvm} ns)
        (bad "(foundation) requires" (filter vireo-ns? requires)))
      (when (under? "vireo.promise" ns)
        (concat (bad "(foundation) requires" (filter #(under? "vireo.impl" %) requires))
                (bad "(foundation) imports" (filter #(under? "vireo.impl" %) imports))))
      (when (under? "vireo.impl" ns)
        (bad "(impl) requires" (filter (fn [r] (or (some #(= % r) public-above-impl)
                                                    (under? "vireo.java" r)))
                                       requires)))))))

(deftest rules-catch-what-they-should-test
  ;; the checker itself, on made-up namespaces (so the real check below
  ;; cannot pass by looking at nothing)
  (is (= ["vireo.sql (foundation) requires vireo.promise"]
         (violations {:ns 'vireo.sql :requires '#{clojure.string vireo.promise} :imports #{}})))
  (is (= ["vireo.promise (foundation) requires vireo.impl.jvm"
          "vireo.promise (foundation) imports vireo.impl.X"]
         (violations {:ns 'vireo.promise :requires '#{vireo.impl.jvm vireo.jvm}
                      :imports #{"vireo.impl.X" "java.util.List"}})))
  (is (= ["vireo.impl.ops (impl) requires vireo.core"
          "vireo.impl.ops (impl) requires vireo.java.bridge"
          "vireo.impl.ops (impl) requires vireo.signals"
          "vireo.impl.ops (impl) requires vireo.testing"]
         (violations {:ns 'vireo.impl.ops
                      :requires '#{vireo.core vireo.signals vireo.testing vireo.java.bridge
                                   vireo.signals-extra vireo.impl.signals vireo.promise vireo.sql}
                      :imports #{}})))
  (testing "libspec forms: prefix lists, vectors, quoted top-level requires"
    (is (= '#{vireo.impl.a vireo.impl.b vireo.core clojure.string}
           (into #{} (mapcat libspec-nses)
                 '[(vireo.impl [a :as a] b) [vireo.core :as v] (quote clojure.string) :reload])))
    (is (= #{"vireo.impl.ConveyingFuture" "java.io.File"}
           (set (mapcat import-classes '[(quote (vireo.impl ConveyingFuture)) java.io.File]))))))

(deftest layering-test
  (let [all (clj-deps)
        by-ns (into {} (map (juxt :ns identity)) all)]
    (testing "every source file has an ns form, and the layers are all there"
      (is (every? (comp symbol? :ns) all))
      (is (every? by-ns '[vireo.sql vireo.promise vireo.core vireo.signals vireo.impl.ops vireo.impl.db]))
      (is (< 8 (count (filter #(under? "vireo.impl" (:ns %)) all)))))
    (testing "the layering rules (docstring of this namespace)"
      (is (= [] (vec (mapcat violations all)))))
    (testing "Java sources of the promise layer name nothing of vireo.impl"
      (let [promise-java (filter #(under? "vireo.promise" (:package %)) (java-deps))]
        (is (= [] (vec (for [{:keys [file refs]} promise-java
                             r (sort refs)
                             :when (under? "vireo.impl" r)]
                         (str file " names " r)))))))))
