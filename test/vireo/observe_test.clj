(ns ^:vireo/per-backend vireo.observe-test
  "Observability on every backend: Micrometer meters (a SimpleMeterRegistry)
  and OpenTelemetry spans (the SDK's in-memory exporter) of a W6-style
  transfer transaction, their tags, parents and error status; no parameter
  value or password in any tag, attribute or log line; span parents right
  when 100 operations interleave; the slow-query log; the live pool state;
  the options refused by name."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [clojure.tools.logging :as log]
            [vireo.core :as v]
            [vireo.impl.observe]
            [vireo.promise :as p]
            [vireo.testing :as vt]
            [vireo.test-support :as ts :refer [await! error-of]])
  (:import (io.micrometer.core.instrument Meter MeterRegistry Tag Timer Counter)
           (io.micrometer.core.instrument.simple SimpleMeterRegistry)
           (io.opentelemetry.api.trace Span StatusCode)
           (io.opentelemetry.context Context)
           (io.opentelemetry.sdk OpenTelemetrySdk)
           (io.opentelemetry.sdk.testing.exporter InMemorySpanExporter)
           (io.opentelemetry.sdk.trace SdkTracerProvider)
           (io.opentelemetry.sdk.trace.data SpanData)
           (io.opentelemetry.sdk.trace.export SimpleSpanProcessor)))

(set! *warn-on-reflection* true)

(def ^:private secret-value "v4lue-NEVER-in-telemetry")

(defn- otel []
  (let [exporter (InMemorySpanExporter/create)
        provider (-> (SdkTracerProvider/builder)
                     (.addSpanProcessor (SimpleSpanProcessor/create exporter))
                     (.build))]
    [(-> (OpenTelemetrySdk/builder) (.setTracerProvider provider) (.build)) exporter]))

(defn- account-model [d]
  (v/model 'ObsAccount {:table "obs_account" :database d
                        :fields {:id {:type :integer :primary-key true}
                                 :owner {:type :char :unique true}
                                 :balance {:type :integer}}}))

(defn- with-observed-db
  "Calls (f d registry exporter Account) with a database of the backend
  with metrics and tracing on, and its table made."
  [opts f]
  (let [reg (SimpleMeterRegistry.)
        [o exporter] (otel)
        d (ts/new-db ts/*backend* (merge {:metrics {:registry reg :name "obs"}
                                          :tracing {:open-telemetry o}}
                                         opts))
        Account (account-model d)]
    (try
      (v/with-allow-sync d
        (v/drop-table! Account {:safe true})
        (v/create-table! Account))
      (f d reg exporter Account)
      (finally
        (v/with-allow-sync d (v/drop-table! Account {:safe true}))
        (await! (v/aio-close d))))))

(defn- tags-of [^Meter m] (into {} (map (fn [^Tag t] [(.getKey t) (.getValue t)])) (.getTags (.getId m))))

(defn- meters [^MeterRegistry reg name]
  (filter #(= name (.getName (.getId ^Meter %))) (.getMeters reg)))

(defn- timer-count [reg name tags]
  (reduce + (for [m (meters reg name) :when (= tags (select-keys (tags-of m) (keys tags)))]
              (.count ^Timer m))))

(defn- attrs [^SpanData s]
  (into {} (map (fn [[k v]] [(.getKey ^io.opentelemetry.api.common.AttributeKey k) v])) (.asMap (.getAttributes s))))

(defn- transfer
  "W6: read two accounts and move `amount` between them, in one transaction."
  [d Account from to amount]
  (v/aio-atomic d (fn [_]
                    (p/let [a (v/aio-get Account {:id from})
                            b (v/aio-get Account {:id to})
                            _ (v/aio-save Account (update a :balance - amount))]
                      (v/aio-save Account (update b :balance + amount))))))

(deftest transaction-metrics-and-spans-test
  (with-observed-db {}
    (fn [d ^MeterRegistry reg ^InMemorySpanExporter exporter Account]
      (await! (v/aio-create Account {:id 1 :owner secret-value :balance 100}))
      (await! (v/aio-create Account {:id 2 :owner "bob" :balance 0}))
      (.reset exporter)
      (let [tracer (.getTracer ^io.opentelemetry.api.OpenTelemetry (:open-telemetry (:tracing (vireo.impl.db/options d))) "test")
            parent (.startSpan (.spanBuilder tracer "request"))]
        (with-open [_ (.makeCurrent parent)]
          (await! (transfer d Account 1 2 30)))
        ;; a failing transaction: the second account takes the first's owner
        (let [e (with-open [_ (.makeCurrent parent)]
                  (error-of #(v/aio-atomic d (fn [_] (v/aio-save Account {:id 2 :owner secret-value :balance 0})))))]
          (is (v/error-type? e :vireo/unique-violation)))
        (.end parent)
        (testing "meters"
          (is (= 2 (timer-count reg "vireo.statement" {"operation" "aio-get" "model" "ObsAccount" "outcome" "ok"
                                                        "statement" "select" "database" "obs"
                                                        "backend" (name ts/*backend*)}))
              "one timer sample per aio-get, tagged by operation, model, statement kind, outcome")
          (is (= 2 (timer-count reg "vireo.statement" {"operation" "aio-save" "statement" "update" "outcome" "ok"})))
          (is (= 1 (timer-count reg "vireo.statement" {"operation" "aio-save" "outcome" "vireo/unique-violation"})))
          (is (= 1 (timer-count reg "vireo.transaction" {"outcome" "commit"})))
          (is (= 1 (timer-count reg "vireo.transaction" {"outcome" "rollback"})))
          (is (some #(= "vireo/unique-violation" (get (tags-of %) "type")) (meters reg "vireo.errors")))
          (is (pos? (.value (.gauge (.find reg "vireo.pool.size")))) "pool gauges"))
        (testing "spans: the transactions are children of the caller's span, statements of their transaction"
          (let [spans (vec (.getFinishedSpanItems exporter))
                txs (filter #(= "transaction" (.getName ^SpanData %)) spans)
                [ok failed] (sort-by #(.getStartEpochNanos ^SpanData %) txs)
                children-of (fn [^SpanData tx] (filter #(= (.getSpanId tx) (.getParentSpanId ^SpanData %)) spans))]
            (is (= 2 (count txs)))
            (is (every? #(= (.getSpanId (.getSpanContext parent)) (.getParentSpanId ^SpanData %)) txs))
            (is (= ["SELECT obs_account" "SELECT obs_account" "UPDATE obs_account" "UPDATE obs_account"]
                   (mapv #(.getName ^SpanData %) (sort-by #(.getStartEpochNanos ^SpanData %) (children-of ok)))))
            (let [s (first (children-of ok))
                  a (attrs s)]
              (is (= (case ts/*backend* :postgres "postgresql" :sqlite "sqlite" (get a "db.system.name"))
                     (get a "db.system.name")))
              (is (contains? #{"postgresql" "mysql" "mariadb" "sqlite"} (get a "db.system.name")))
              (is (= "SELECT" (get a "db.operation.name")))
              (is (= "obs_account" (get a "db.collection.name")))
              (is (str/includes? (get a "db.query.text") "obs_account"))
              (is (= "aio-get" (get a "vireo.operation")))
              (is (= "ObsAccount" (get a "vireo.model")))
              (when-not (= :sqlite ts/*backend*)
                (is (= "127.0.0.1" (get a "server.address")))
                (is (integer? (get a "server.port")))))
            (is (= StatusCode/UNSET (.getStatusCode (.getStatus ^SpanData ok))) "a committed transaction: no error")
            (is (= StatusCode/ERROR (.getStatusCode (.getStatus ^SpanData failed))))
            (is (= "vireo/unique-violation" (get (attrs failed) "error.type")))
            (let [[st] (children-of failed)]
              (is (= StatusCode/ERROR (.getStatusCode (.getStatus ^SpanData st))) "the failed statement's span")
              (is (= "vireo/unique-violation" (get (attrs st) "error.type"))))
            (testing "no parameter value in any attribute or tag"
              (is (not-any? #(str/includes? (str (attrs %) (.getName ^SpanData %) (.getStatus ^SpanData %)) secret-value) spans))
              (is (not-any? #(str/includes? (str (tags-of %)) secret-value) (.getMeters reg))))))))))

(deftest no-password-anywhere-test
  (if (= :sqlite ts/*backend*)
    (ts/skip! "SQLite has no password")
    (let [reg (SimpleMeterRegistry.)
          [o ^InMemorySpanExporter exporter] (otel)
          logged (atom [])
          factory (ts/capturing-logger-factory logged "vireo.slow" :warn)
          old log/*logger-factory*
          d (v/database (ts/url ts/*backend*) {:password "pw-SECRET-4711" :connection-timeout 5000
                                               :metrics {:registry reg} :tracing {:open-telemetry o}
                                               :slow-query {:threshold-ms 1 :parameters true}})]
      (alter-var-root #'log/*logger-factory* (constantly factory))
      (try
        ;; the server may accept the password (trust) or refuse it: either way
        ;; the statement is timed, traced and (slow or failing) logged
        (error-of #(v/aio-execute-sql d "SELECT 1 WHERE 1 = ?" [1]))
        (finally (alter-var-root #'log/*logger-factory* (constantly old))))
      (let [spans (.getFinishedSpanItems exporter)]
        (is (seq (.getMeters reg)))
        (is (= 1 (count spans)))
        (is (not-any? #(str/includes? (str (tags-of %)) "pw-SECRET-4711") (.getMeters reg)))
        (is (not-any? #(str/includes? (str (attrs %) (.getStatus ^SpanData %)) "pw-SECRET-4711") spans))
        (is (not-any? #(str/includes? (str %) "pw-SECRET-4711") @logged)))
      (await! (v/aio-close d)))))

(deftest interleaved-spans-test
  (with-observed-db {:max-size 4}
    (fn [d _ ^InMemorySpanExporter exporter Account]
      (await! (v/aio-execute (v/insert-many Account (for [i (range 1 201)] {:id i :owner (str "o" i) :balance 10}))))
      (.reset exporter)
      (let [tracer (.getTracer ^io.opentelemetry.api.OpenTelemetry (:open-telemetry (:tracing (vireo.impl.db/options d))) "test")
            parents (vec (for [i (range 100)] (.startSpan (.spanBuilder tracer (str "request-" i)))))
            ;; 100 requests at once, each a get then a W6 transfer: their
            ;; statements interleave on the pool's connections and threads,
            ;; the transfer's later statements sent from callbacks
            futs (doall (for [[i ^Span s] (map-indexed vector parents)]
                          (with-open [_ (.makeCurrent s)]
                            [(v/aio-get Account {:id (inc (* 2 i))})
                             (transfer d Account (inc (* 2 i)) (+ 2 (* 2 i)) 1)
                             ;; started from the application's callback, on an event loop
                             (p/then (v/aio-exists (v/select Account))
                                     (fn [_] (v/aio-count (v/select Account))))])))]
        (run! await! (apply concat futs))
        (run! #(.end ^Span %) parents)
        (let [spans (vec (.getFinishedSpanItems exporter))
              by-parent (group-by #(.getParentSpanId ^SpanData %) spans)
              names-under (fn [id] (sort (map #(.getName ^SpanData %) (get by-parent id))))]
          (is (= 900 (count spans)) "100 requests, 100 gets, 100 transactions, 400 statements in them, 200 more")
          (is (every? (fn [^Span s]
                        (let [id (.getSpanId (.getSpanContext s))
                              [tx] (filter #(= "transaction" (.getName ^SpanData %)) (get by-parent id))]
                          (and (= ["SELECT obs_account" "SELECT obs_account" "SELECT obs_account" "transaction"] (names-under id))
                               (= ["SELECT obs_account" "SELECT obs_account" "UPDATE obs_account" "UPDATE obs_account"]
                                  (names-under (.getSpanId ^SpanData tx))))))
                      parents)
              "each request's statements and transaction are its children — also the count sent from its callback —, the transaction's four statements its own")
          (is (every? (fn [^Span s] (= #{(.getTraceId (.getSpanContext s))}
                                       (set (map #(.getTraceId ^SpanData %) (get by-parent (.getSpanId (.getSpanContext s)))))))
                      parents)))))))

(deftest slow-query-log-test
  (let [logged (atom [])
        factory (ts/capturing-logger-factory logged "vireo.slow" :warn)
        d (ts/new-db ts/*backend* {:slow-query {:threshold-ms 1}})
        Account (account-model d)
        old log/*logger-factory*]
    (try
      (v/with-allow-sync d
        (v/drop-table! Account {:safe true})
        (v/create-table! Account))
      (alter-var-root #'log/*logger-factory* (constantly factory))
      ;; a statement sure to last 1 ms or more: one that waits on the server
      (await! (v/aio-create Account {:id 1 :owner secret-value :balance 5}))
      (await! (v/aio-execute-sql d (case ts/*backend*
                                     :postgres "SELECT pg_sleep(0.01), 1"
                                     :mysql "SELECT SLEEP(0.01), 1"
                                     :sqlite "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) SELECT count(*) FROM c")
                                 []))
      (alter-var-root #'log/*logger-factory* (constantly old))
      (let [lines (map #(nth % 3) @logged)]
        (is (some #(and (str/includes? % "operation=aio-execute-sql") (str/includes? % "sql=")
                        (str/includes? % " ms")) lines))
        (is (every? #(not (str/includes? % secret-value)) lines) "parameters redacted")
        (is (every? #(= :warn (second %)) @logged)))
      (finally
        (alter-var-root #'log/*logger-factory* (constantly old))
        (v/with-allow-sync d (v/drop-table! Account {:safe true}))
        (await! (v/aio-close d))))))

(deftest pool-state-test
  (let [d (ts/new-db ts/*backend* {:max-size 2})]
    (try
      (await! (v/aio-execute-sql d "SELECT 1"))
      (let [release (p/promise) holding (atom 0) both (p/promise)
            hold #(v/aio-connection d (fn [_] (when (= 2 (swap! holding inc)) (p/resolve! both nil)) release))
            held [(hold) (hold)]
            _ (await! both)
            waiter (v/aio-execute-sql d "SELECT 1")]
        (is (ts/wait-until #(= 1 (:waiting (v/pool-state d))) 10000) "the third acquirer waits")
        (let [s (v/pool-state d)]
          (is (= {:size 2 :in-use 2 :idle 0 :waiting 1 :checked-out 2 :max-size 2 :open true}
                 (select-keys s [:size :in-use :idle :waiting :checked-out :max-size :open])))
          (is (= (:size s) (:size (v/pool-options d))) "pool-options reads the live pool"))
        (p/resolve! release nil)
        (run! await! held)
        (await! waiter)
        (let [s (v/pool-state d)]
          (is (= 0 (:in-use s)))
          (is (= 0 (:waiting s)))
          (is (= 2 (:idle s)))
          (is (<= 4 (:acquired s)))
          (is (= 2 (:connections-opened s)))
          (is (= 0 (:connections-failed s)))
          (is (every? number? (vals (:acquire-ms s))))
          (is (<= (:p50 (:acquire-ms s)) (:p99 (:acquire-ms s)) (:max (:acquire-ms s))))))
      (finally (await! (v/aio-close d))))))

(deftest retry-metrics-test
  (with-observed-db {}
    (fn [d ^MeterRegistry reg _ Account]
      (await! (v/aio-create Account {:id 1 :owner "a" :balance 1}))
      ;; the first COMMIT fails as a serialization failure would: {:retry 1} runs the block again
      (vt/with-faults d [{:sql "COMMIT" :times 1
                          :fail (ex-info "could not serialize access" {:type :vireo/serialization-failure})}]
        (await! (v/aio-atomic d {:retry 1} (fn [_] (v/aio-get Account {:id 1})))))
      (is (= 1 (timer-count reg "vireo.transaction" {"outcome" "retry"})))
      (is (= 1 (timer-count reg "vireo.transaction" {"outcome" "commit"})))
      (is (= 0 (timer-count reg "vireo.transaction" {"outcome" "rollback"})))
      (is (= 1.0 (.count ^Counter (.counter (.find reg "vireo.transaction.retries")))))
      (is (= 2 (timer-count reg "vireo.statement" {"operation" "aio-get" "outcome" "ok"})) "the body ran twice"))))

(deftest replica-pool-state-test
  (if (= :sqlite ts/*backend*)
    (is (nil? (:replicas (v/pool-state (ts/db)))) "no replicas, no :replicas")
    (let [dbname (second (re-find #"/([^/?]+)(\?.*)?$" (ts/url ts/*backend*)))
          reg (SimpleMeterRegistry.)
          d (ts/new-db ts/*backend* {:replicas [{:database dbname}] :metrics {:registry reg :name "rep"}})]
      (try
        (await! (v/aio-connect d))
        (await! (v/aio-execute-sql d "SELECT 1"))
        (let [{:keys [replicas acquired]} (v/pool-state d)
              [r] replicas]
          (is (= 1 (count replicas)) "one state per replica")
          (is (= 1 (:acquired r)) "the read went to the replica")
          (is (= 0 (:in-use r)))
          (is (<= 1 (:size r)))
          (is (integer? acquired))
          (testing "the pool meters of each pool, tagged primary or by the replica"
            (let [acq (into {} (for [m (meters reg "vireo.pool.acquired")]
                                 [(get (tags-of m) "pool") (.count ^io.micrometer.core.instrument.FunctionCounter m)]))]
              (is (= 2 (count acq)))
              (is (= 1.0 (get acq (first (remove #{"primary"} (keys acq))))))
              (is (contains? acq "primary")))))
        (finally (await! (v/aio-close d)))))))

(deftest options-refused-by-name-test
  (doseq [[opts what] [[{:metrics {:registri 1}} ":registri"]
                       [{:metrics true} "must be a map"]
                       [{:slow-query {:threshold-ms 0}} ":threshold-ms"]
                       [{:slow-query {}} ":threshold-ms"]
                       [{:tracing {:query-parameters "yes"}} ":query-parameters"]
                       [{:metrics {:registry "prometheus"}} ":registry must be a io.micrometer.core.instrument.MeterRegistry"]
                       [{:tracing {:open-telemetry {}}} ":open-telemetry must be a io.opentelemetry.api.OpenTelemetry"]
                       [{:metrics {:name ""}} ":name must be a non-empty string"]]]
    (let [e (error-of #(ts/new-db ts/*backend* opts))]
      (is (v/error-type? e :vireo/interface-error) (pr-str opts))
      (is (str/includes? (str (ex-message e)) what) (ex-message e)))))
