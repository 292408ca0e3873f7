(ns vireo.kondo-config-test
  "The clj-kondo configuration Vireo exports
  (resources/clj-kondo.exports/<group>/<artifact>/, under the build's
  coordinates) is data: no clj-kondo binary is needed to check it.

  - it has the shape clj-kondo's configuration documents: :lint-as maps a
    qualified macro to an existing clojure.core macro or special form, :hooks
    maps :macroexpand / :analyze-call entries to hook vars defined in a
    namespace file clj-kondo finds under the export directory;
  - every public macro of a namespace under src/ (found by loading them and
    looking for :macro on their public vars) has exactly one entry, and every
    entry names such a macro: a new macro without one fails here;
  - each :macroexpand hook, given a sample call, expands into code that
    compiles against Vireo and names no namespace but clojure.core and the
    macro's own (the linted code requires nothing else), and the real macro
    accepts the same call;
  - the repository lints itself with it (.clj-kondo/config.edn)."
  (:require [clojure.edn :as edn]
            [clojure.java.io :as io]
            [clojure.set :as set]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]])
  (:import (java.io File PushbackReader)))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- where
(def ^:private lib
  "The build's coordinates, from build.clj's (def lib 'group/artifact)."
  (let [[_ group artifact] (re-find #"\(def lib '([\w.\-]+)/([\w.\-]+)\)" (slurp "build.clj"))]
    (assert group "build.clj defines no lib")
    {:group group :artifact artifact}))

(def ^:private export-dir
  (io/file "resources" "clj-kondo.exports" (:group lib) (:artifact lib)))

(defn- config []
  (edn/read-string (slurp (io/file export-dir "config.edn"))))

;; ---------------------------------------------------------------- the format
(def ^:private config-keys
  "Top-level keys of clj-kondo's configuration a library's exported config
  uses (clj-kondo's doc/config.md, doc/hooks.md)."
  #{:lint-as :hooks :linters :config-paths :ns-groups :config-in-ns})

(def ^:private hook-kinds
  "The kinds of hooks clj-kondo knows (doc/hooks.md)."
  #{:analyze-call :macroexpand})

(defn- core-form?
  "True when `sym` is clojure.core/<a special form or a macro or fn of clojure.core>."
  [sym]
  (and (qualified-symbol? sym)
       (= "clojure.core" (namespace sym))
       (or (special-symbol? (symbol (name sym)))
           (some? (ns-resolve 'clojure.core (symbol (name sym)))))))

(defn- hook-file
  "The file clj-kondo loads hook namespace `ns-sym` from: under the config
  directory, its munged path with .clj_kondo, .clj or .cljc (clj-kondo's
  order)."
  ^File [ns-sym]
  (let [base (str/replace (namespace-munge (name ns-sym)) "." "/")]
    (some #(let [f (io/file export-dir (str base %))] (when (.isFile f) f))
          [".clj_kondo" ".clj" ".cljc"])))

(defn- file-ns [^File f]
  (with-open [r (PushbackReader. (io/reader f))]
    (let [form (binding [*read-eval* false] (read r))]
      (when (and (seq? form) (= 'ns (first form))) (second form)))))

(defn- entries
  "{macro [kind target]} of every entry: [:lint-as core-sym] or [hook-kind hook-sym]."
  [cfg]
  (concat (for [[m t] (:lint-as cfg)] [m [:lint-as t]])
          (for [[kind m->t] (:hooks cfg), [m t] m->t] [m [kind t]])))

(deftest export-location-test
  (testing "the config sits under the group/artifact the build publishes"
    (is (= "io.vireo" (:group lib)))
    (is (= "vireo" (:artifact lib)))
    (is (.isFile (io/file export-dir "config.edn")) (str export-dir))))

(deftest config-shape-test
  (let [cfg (config)]
    (is (map? cfg))
    (is (set/subset? (set (keys cfg)) config-keys) (str "unknown keys: " (set/difference (set (keys cfg)) config-keys)))
    (testing ":lint-as: a qualified macro -> an existing clojure.core form"
      (is (map? (:lint-as cfg)))
      (doseq [[m t] (:lint-as cfg)]
        (is (qualified-symbol? m) (pr-str m))
        (is (core-form? t) (str m " is linted as " t ", which is not a clojure.core form"))))
    (testing ":hooks: {kind {qualified macro -> hook var}}, the hook in a namespace file under the export"
      (is (map? (:hooks cfg)))
      (is (set/subset? (set (keys (:hooks cfg))) hook-kinds) (pr-str (keys (:hooks cfg))))
      (doseq [[kind m->t] (:hooks cfg)
              :let [_ (is (map? m->t) (pr-str kind))]
              [m t] m->t]
        (is (qualified-symbol? m) (pr-str m))
        ;; a string hook needs :allow-string-hooks, which a user's config must grant
        (is (qualified-symbol? t) (str m ": the hook is not a qualified symbol: " (pr-str t)))
        (let [f (hook-file (symbol (namespace t)))]
          (is f (str "no file for hook namespace " (namespace t) " under " export-dir))
          (when f
            (is (= (symbol (namespace t)) (file-ns f)) (str f " declares another namespace"))
            (load-file (.getPath f))
            (let [v (resolve t)]
              (is (var? v) (str t " is not defined in " f))
              (when (= kind :macroexpand)
                (is (:macro (meta v)) (str t " must be a macro (clj-kondo's :macroexpand)"))))))))
    (testing "one entry per macro"
      (let [ms (map first (entries cfg))]
        (is (= (count ms) (count (set ms))) (pr-str (for [[m n] (frequencies ms) :when (> n 1)] m)))))))

;; ---------------------------------------------------------------- coverage
(defn- src-nses
  "The namespaces of the .clj files under src/, sorted."
  []
  (->> (file-seq (io/file "src"))
       (filter #(str/ends-with? (.getName ^File %) ".clj"))
       (keep file-ns)
       distinct sort))

(defn- public-macros
  "Every public macro of the namespaces under src/ (loading them)."
  []
  (set (for [n (src-nses)
             :let [_ (require n)]
             [sym v] (ns-publics n)
             :when (:macro (meta v))]
         (symbol (name n) (name sym)))))

(deftest every-public-macro-is-covered-test
  (let [macros (public-macros)
        covered (set (map first (entries (config))))]
    (is (seq macros))
    (is (empty? (set/difference macros covered))
        (str "public macros without an entry in " export-dir "/config.edn (:lint-as a core form,"
             " or a :macroexpand hook in hooks/vireo.clj_kondo): " (sort (set/difference macros covered))))
    (is (empty? (set/difference covered macros))
        (str "entries for what is not a public macro under src/: " (sort (set/difference covered macros))))))

;; ---------------------------------------------------------------- the hooks' expansions
(def ^:private samples
  "A call of each macro that has a :macroexpand hook; locals: db, rules, Model."
  '{vireo.core/with-atomic [(vireo.core/with-atomic [tx db] (vireo.core/in-transaction? tx))
                            (vireo.core/with-atomic [tx db {:isolation :serializable}] tx)]
    vireo.core/with-allow-sync [(vireo.core/with-allow-sync db (vireo.core/create-table! Model) 1)]
    vireo.sync/atomic [(vireo.sync/atomic [tx db] (vireo.sync/create Model {:k tx}))
                       (vireo.sync/atomic [_ db {:isolation :serializable}] 1)]
    vireo.sync/transaction [(vireo.sync/transaction [tx db] tx)]
    vireo.sync/connection [(vireo.sync/connection [conn db {}] (vireo.sync/get Model 1 {:connection conn}))]
    vireo.core/with-route [(vireo.core/with-route :primary (vireo.core/aio-get Model {:id 1}))]
    vireo.signals/with-receivers [(vireo.signals/with-receivers [vireo.signals/pre-save (fn [_ _ _] nil)
                                                                 vireo.signals/post-delete nil]
                                    (vireo.core/aio-get Model {:id 1}))]
    vireo.testing/with-rollback [(vireo.testing/with-rollback db (vireo.core/aio-get Model {:id 1}))]
    vireo.testing/with-temp [(vireo.testing/with-temp [a [Model {:k "a"}] {:keys [k]} [Model {:k "b"}]]
                               [a k])]
    vireo.testing/with-faults [(vireo.testing/with-faults db rules (vireo.core/aio-get Model {:id 1}))]})

(defn- expand [macro-var form]
  (apply @macro-var form {} (rest form)))

(defn- qualified-symbols [form]
  (set (filter qualified-symbol? (tree-seq coll? seq form))))

(deftest hook-expansions-test
  (let [hooks (get-in (config) [:hooks :macroexpand])]
    (is (= (set (keys hooks)) (set (keys samples)))
        "each :macroexpand hook has a sample call here (and no sample is left over)")
    (doseq [[m t] hooks
            :let [f (hook-file (symbol (namespace t)))
                  _ (some-> f .getPath load-file)
                  _ (require (symbol (namespace m)))
                  hook (resolve t)]
            :when (is hook (str t))
            form (get samples m)]
      (testing (pr-str form)
        (let [expansion (expand hook form)
              ;; what the expansion adds to the call's own symbols
              foreign (->> (set/difference (qualified-symbols expansion) (qualified-symbols form))
                           (remove #(#{"clojure.core" (namespace m)} (namespace %))))]
          (is (empty? foreign)
              (str m "'s hook expands to namespaces the linted code may not require: " (vec foreign)))
          (is (fn? (binding [*ns* (the-ns 'vireo.kondo-config-test)]
                     (eval `(fn [~'db ~'rules ~'Model] ~expansion))))
              "the expansion compiles against Vireo")
          (is (some? (macroexpand-1 form)) (str "the real " m " accepts it too")))))))

;; ---------------------------------------------------------------- the repository itself
(deftest repository-lints-with-it-test
  (let [f (io/file ".clj-kondo" "config.edn")]
    (is (.isFile f))
    (when (.isFile f)
      (let [paths (:config-paths (edn/read-string (slurp f)))]
        (is (some #(= (.getCanonicalFile ^File export-dir) (.getCanonicalFile (io/file ".clj-kondo" (str %)))) paths)
            (str ".clj-kondo/config.edn's :config-paths should name " export-dir " (relative to .clj-kondo): " (pr-str paths)))))))
