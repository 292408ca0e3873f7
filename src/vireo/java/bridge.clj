(ns ^:no-doc vireo.java.bridge
  "The Java facade's gen-class namespace: `io.vireo.impl.ClojureBridge`
  implements `io.vireo.spi.Bridge` (java-api/) for the hand-written Java API.
  It requires only vireo.jvm at load time: every call resolves its
  implementation once per name (`resolve-var`), so loading the class loads
  no other Vireo namespace, and the first call loads the rest of Vireo (from
  the jar's AOT classes, like for a Clojure user)."
  (:require [vireo.jvm])
  (:gen-class
   :name io.vireo.impl.ClojureBridge
   :implements [io.vireo.spi.Bridge]))

(set! *warn-on-reflection* true)

(def ^:private ^java.util.concurrent.ConcurrentHashMap fns
  "qualified name -> the function's var, resolved once."
  (java.util.concurrent.ConcurrentHashMap.))

(defn- resolve-var
  "The var of `qualified-name`, its namespace loaded first
  (vireo.jvm/loaded-var: thousands of virtual threads making their first
  blocking call at once must not find a var another thread is still
  loading), resolved once."
  ^clojure.lang.IFn [^String qualified-name]
  (or (.get fns qualified-name)
      (let [v (or (vireo.jvm/loaded-var (symbol qualified-name))
                  (throw (IllegalArgumentException. (str "Vireo bridge: no function " qualified-name))))]
        (.putIfAbsent fns qualified-name v)
        v)))

(defn- call
  ([qualified-name] (.invoke (resolve-var qualified-name)))
  ([qualified-name a] (.invoke (resolve-var qualified-name) a))
  ([qualified-name a b] (.invoke (resolve-var qualified-name) a b))
  ([qualified-name a b c] (.invoke (resolve-var qualified-name) a b c)))

(defn -function
  "The var of a qualified name (an IFn), for the facade to call by arity."
  [_ ^String qualified-name]
  (resolve-var qualified-name))

(defn -invoke [_ ^String qualified-name ^objects args]
  (let [f (resolve-var qualified-name)]
    (case (alength args)
      0 (.invoke f)
      1 (.invoke f (aget args 0))
      2 (.invoke f (aget args 0) (aget args 1))
      3 (.invoke f (aget args 0) (aget args 1) (aget args 2))
      4 (.invoke f (aget args 0) (aget args 1) (aget args 2) (aget args 3))
      (.applyTo f (seq args)))))

(defn -newFuture [_]
  (call "vireo.promise/promise"))

;; ---------------------------------------------------------------- allow-sync
;; A Java try-with-resources block has no body fn to hand to allow-sync*:
;; AllowSync opens the block with push-allow-sync! and close() pops it.

(defn -pushAllowSync [_ database]
  (call "vireo.impl.sync/push-allow-sync!" (call "vireo.impl.ops/database-of" database)))

(defn -popAllowSync [_ token]
  (call "vireo.impl.sync/pop-allow-sync!" token))

;; ---------------------------------------------------------------- errors
(defn- java-value
  "Clojure data -> plain Java collections with string keys (keywords by name)."
  [x]
  (cond
    (keyword? x) (subs (str x) 1)
    (map? x) (let [m (java.util.LinkedHashMap.)]
               (doseq [[k v] x] (.put m (if (keyword? k) (subs (str k) 1) (str k)) (java-value v)))
               m)
    (or (vector? x) (seq? x) (set? x)) (java.util.ArrayList. ^java.util.Collection (mapv java-value x))
    :else x))

(defn type-chain
  "A Vireo error type and its ancestors, most specific first, as a
  java.util.List of strings (the Java facade takes the first one
  io.vireo.exception.ErrorType knows)."
  ^java.util.List [k]
  (call "vireo.impl.errors/error-type" nil) ; loads the hierarchy
  (loop [k k acc []]
    (if (and k (not= k :vireo/error))
      (recur (first (parents k)) (conj acc (subs (str k) 1)))
      (java.util.ArrayList. ^java.util.Collection (conj acc "vireo/error")))))

(def ^:private java-advice
  "The advice Clojure error messages carry (each a var holding the Clojure
  text), and what a Java caller does instead."
  [["vireo.impl.sync/allow-sync-advice"
    "Run it inside try (AllowSync sync = db.allowSync()) { … }, or call db.setAllowSync(true), or use its aio* variant."]
   ["vireo.impl.db/reopen-advice" "call db.aioConnect() to reopen it"]
   ["vireo.impl.db/init-advice" "initialize the database first"]
   ["vireo.impl.db/proxy-advice" "initialize the proxy with a database first"]])

(defn java-message
  "An error message as a Java caller should read it: Clojure advice replaced
  by its Java form."
  ^String [^String msg]
  (reduce (fn [^String m [advice java]]
            (let [^String clj @(resolve-var advice)]
              (.replace m clj ^String java)))
          (or msg "") java-advice))

(defn -errorInfo [_ ^Throwable e]
  (when (instance? clojure.lang.ExceptionInfo e)
    (let [data (ex-data e)
          t (:type data)]
      (when (and (keyword? t) (isa? t :vireo/error))
        (doto (java.util.HashMap.)
          (.put "type" (subs (str t) 1))
          (.put "types" (java.util.ArrayList. ^java.util.Collection (type-chain t)))
          (.put "message" (java-message (ex-message e)))
          (.put "sql" (:sql data))
          (.put "params" (some-> (:params data) java-value))
          (.put "data" (java-value (dissoc data :type))))))))

;; ---------------------------------------------------------------- the models of related instances
;; The Java Instance of a related row needs its model (getId, aioSave, JSON
;; fields…). These read Vireo's own relation data; the private vars they use
;; (through-sides, build-env) are resolved lazily like everything here.

(defn related-model
  "The model of the instances aio-related yields for relation `k` of `m`
  (a many-to-many field's target, or the owner of a many-to-many backref)."
  [m k]
  (nth (call "vireo.impl.relations/through-sides" m k) 3))

(defn backref-model
  "The model whose foreign key declares backref `k` on `m` (the rows a
  prefetch puts under that key), bound to m's database; nil when none does."
  [m k]
  (some (fn [{rm :model f :field}]
          (when (= k (get-in f [:fk :backref]))
            (call "vireo.impl.query/bound-model" rm m)))
        (call "vireo.impl.registry/backrefs" m)))

(defn join-tree
  "The models a select's joined instances nest under, as
  java.util.Map attr-name -> java.util.List [model children-map]; nil for a
  query without joins."
  [q]
  (let [q (if (= :compound (:vireo/query q)) (first (:vireo/members q)) q)]
    (when (seq (:vireo/joins q))
      (let [entries (vec (call "vireo.impl.query/build-env" q))
            tree (fn tree [alias]
                   (let [m (java.util.HashMap.)]
                     (doseq [e (rest entries) :when (= alias (:parent e))]
                       (.put m (subs (str (:attr e)) 1)
                             (java.util.Arrays/asList (object-array [(:model e) (tree (:alias e))]))))
                     m))]
        (tree (:alias (first entries)))))))
