(ns ^:no-doc vireo.java.bridge
  "The Java facade's only AOT-compiled namespace: `io.vireo.impl.ClojureBridge`
  implements `io.vireo.spi.Bridge` (java-api/) for the hand-written Java API.
  It requires nothing at load time: every call resolves its implementation
  with `requiring-resolve`, so AOT compiles this namespace alone and the rest
  of Vireo loads from source at first use, like for a Clojure user."
  (:gen-class
   :name io.vireo.impl.ClojureBridge
   :implements [io.vireo.spi.Bridge]))

(set! *warn-on-reflection* true)

(def ^:private ^java.util.concurrent.ConcurrentHashMap fns
  "qualified name -> the function's var, resolved once."
  (java.util.concurrent.ConcurrentHashMap.))

(defn- resolve-var ^clojure.lang.IFn [^String qualified-name]
  (or (.get fns qualified-name)
      (let [v (or (requiring-resolve (symbol qualified-name))
                  (throw (IllegalArgumentException. (str "Vireo bridge: no function " qualified-name))))]
        (.putIfAbsent fns qualified-name v)
        v)))

(defn- call [qualified-name & args]
  (.applyTo (resolve-var qualified-name) (seq args)))

(defn -invoke [_ ^String qualified-name ^objects args]
  (.applyTo (resolve-var qualified-name) (seq args)))

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

(defn- type-chain [k]
  (loop [k k acc []]
    (if (and k (not= k :vireo/error))
      (recur (first (parents k)) (conj acc (subs (str k) 1)))
      (conj acc "vireo/error"))))

(defn -errorInfo [_ ^Throwable e]
  (when (instance? clojure.lang.ExceptionInfo e)
    (let [data (ex-data e)
          t (:type data)]
      (when (and (keyword? t) (isa? t :vireo/error))
        (doto (java.util.HashMap.)
          (.put "type" (subs (str t) 1))
          (.put "types" (java.util.ArrayList. ^java.util.Collection (type-chain t)))
          (.put "message" (ex-message e))
          (.put "sql" (:sql data))
          (.put "params" (some-> (:params data) java-value))
          (.put "data" (java-value (dissoc data :type))))))))
