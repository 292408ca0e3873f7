(ns ^:no-doc vireo.impl.faults
  "Fault injection for tests (vireo.testing/inject-faults!): a hook each
  statement of a database asks just before it is sent, failing or delaying
  the statements a rule matches — a COMMIT that never reaches the server, a
  slow BEGIN — so a test can check what Vireo does with the transaction and
  its connection afterwards. Without rules the statement path only reads a
  nil reference."
  (:require [clojure.string :as str]
            [vireo.impl.errors :as err]
            [vireo.impl.executor :as ex]
            [vireo.promise :as p])
  (:import (java.util.concurrent.atomic AtomicLong AtomicReference)
           (java.util.regex Pattern)
           (vireo.impl.executor Statement)))

(set! *warn-on-reflection* true)

;; a rule, checked: match (fn [sql] bool), fail nil or a Throwable, delay-ms
;; nil or ms, left AtomicLong of the hits it still has (-1: no limit)
(defrecord Rule [match fail delay-ms ^AtomicLong left])

(def ^:private rule-keys #{:sql :fail :delay-ms :times})

(defn- matcher [sql]
  (cond
    (string? sql) (let [want (str/trim sql)] (fn [^String s] (.equalsIgnoreCase want (str/trim s))))
    (instance? Pattern sql) (fn [s] (boolean (re-find sql s)))
    (fn? sql) (fn [s] (boolean (sql s)))
    :else (throw (err/error :vireo/interface-error
                            (str "a fault's :sql is a SQL string (matched exactly, case and surrounding"
                                 " space aside), a regex or a predicate of the SQL, got " (pr-str sql))
                            {:option :sql}))))

(defn- rule [m]
  (when-not (map? m)
    (throw (err/error :vireo/interface-error (str "a fault is a map such as {:sql \"COMMIT\"}, got " (pr-str m)) {})))
  (when-let [ks (seq (remove rule-keys (keys m)))]
    (throw (err/error :vireo/interface-error
                      (str "unknown fault key(s) " (str/join ", " (map pr-str ks)) "; known: :sql, :fail, :delay-ms, :times")
                      {})))
  (when-not (contains? m :sql)
    (throw (err/error :vireo/interface-error "a fault needs :sql: the statement(s) it applies to" {})))
  (let [{:keys [sql fail delay-ms times]} m]
    (when (and (some? delay-ms) (not (and (integer? delay-ms) (not (neg? delay-ms)))))
      (throw (err/error :vireo/interface-error (str "a fault's :delay-ms is a number of milliseconds, got " (pr-str delay-ms)) {})))
    (when (and (some? times) (not (and (integer? times) (pos? times))))
      (throw (err/error :vireo/interface-error (str "a fault's :times is a positive integer, got " (pr-str times)) {})))
    (when-not (or (nil? fail) (boolean? fail) (instance? Throwable fail))
      (throw (err/error :vireo/interface-error (str "a fault's :fail is true or the Throwable to fail with, got " (pr-str fail)) {})))
    (->Rule (matcher sql)
            ;; no delay and no :fail: fail
            (if (or (true? fail) (and (nil? fail) (nil? delay-ms))) ::default (when (instance? Throwable fail) fail))
            delay-ms
            (AtomicLong. (long (or times -1))))))

(defn- take-hit!
  "True when `r` applies once more (counting it down)."
  [^Rule r]
  (let [^AtomicLong left (.-left r)]
    (loop []
      (let [n (.get left)]
        (cond (neg? n) true
              (zero? n) false
              (.compareAndSet left n (dec n)) true
              :else (recur))))))

(defn- injected [^Statement st]
  (err/error :vireo/operational-error (str "injected fault: " (.-sql st) " was not sent") {:injected true}))

;; The hook a database's statements ask before they are sent (its :faults
;; AtomicReference, read by vireo.impl.executor's Statement): true when it
;; took the statement over — failed it, or will send it after a delay. It
;; sits where the statement meets the driver, below the connection levels,
;; so a delayed statement keeps its place in its transaction's queue.
(deftype Hook [rules ^AtomicLong hits]
  clojure.lang.IFn
  (invoke [_ st]
    (let [^Statement st st
          sql (.-sql st)]
      (if-let [^Rule r (some (fn [^Rule r] (when (and ((.-match r) sql) (take-hit! r)) r)) rules)]
        (let [go (fn []
                   (if-let [f (.-fail r)]
                     ;; as if the driver failed it: the level's queue moves on first
                     (.complete ^io.vertx.core.Completable st nil (if (identical? f ::default) (injected st) f))
                     (ex/send-now! st)))]
          (.incrementAndGet hits)
          (if-let [ms (.-delay-ms r)]
            (p/then (p/delay ms) (fn [_] (go)))
            (go))
          true)
        false))))

(defn inject!
  "Fails or delays the statements of database `d` the rules match, from now
  on (replacing rules given before); see vireo.testing/inject-faults!."
  [d rules]
  (let [rs (mapv rule (if (map? rules) [rules] rules))]
    (.set ^AtomicReference (:faults d) (when (seq rs) (Hook. rs (AtomicLong.))))
    d))

(defn clear!
  "Removes database `d`'s rules (what was injected stays counted in `hits`
  until rules are given again)."
  [d]
  (let [^AtomicReference ref (:faults d)
        h (.get ref)]
    (when h (.set ref (Hook. [] (.-hits ^Hook h)))))
  d)

(defn hits
  "How many statements of `d` the rules have failed or delayed since they were given."
  [d]
  (if-let [^Hook h (.get ^AtomicReference (:faults d))] (.get ^AtomicLong (.-hits h)) 0))
