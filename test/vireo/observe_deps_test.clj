(ns vireo.observe-deps-test
  "Micrometer and OpenTelemetry are optional: Vireo loads and works without
  them on the classpath (a child JVM's), the :metrics and :tracing options
  then fail with an error naming the Maven coordinates, and deps.edn and
  that error agree on them."
  (:require [clojure.edn :as edn]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.impl.backend :as backend]
            [vireo.test-support :as ts]))

(set! *warn-on-reflection* true)

(def ^:private probe
  "(do (require 'vireo.core) (require 'vireo.promise)
     (let [url URL
           await (resolve 'vireo.promise/await)
           attempt (fn [opts]
                     (try (let [d ((resolve 'vireo.core/database) url opts)]
                            (try (await ((resolve 'vireo.core/aio-execute-sql) d \"SELECT 1\") 30000)
                                 (select-keys ((resolve 'vireo.core/pool-state) d) [:acquired :open])
                                 (finally (await ((resolve 'vireo.core/aio-close) d)))))
                          (catch Throwable e {:type (:type (ex-data e)) :message (ex-message e)
                                              :missing (:missing (ex-data e))})))
           result {:plain (attempt {})
                   :slow (attempt {:slow-query {:threshold-ms 1000}})
                   :metrics (attempt {:metrics {}})
                   :tracing (attempt {:tracing {}})}]
       (println \"VIREO-RESULT\")
       (prn {:result result
             :classes (vec (for [c [\"io.micrometer.core.instrument.MeterRegistry\" \"io.opentelemetry.api.OpenTelemetry\"]]
                             (try (Class/forName c) c (catch ClassNotFoundException _ nil))))
             :loaded (filterv #(find-ns %) '[vireo.impl.observe.micrometer vireo.impl.observe.otel])})
       (shutdown-agents)
       (System/exit 0)))")

(deftest without-micrometer-and-opentelemetry-test
  (.mkdirs ^java.io.File ts/sqlite-dir)
  (let [url (str "sqlite:" (.getPath (io/file ts/sqlite-dir "observe-deps-test.db")))
        r (ts/run-child (ts/classpath-without [#"micrometer|opentelemetry|prometheus"]) (str/replace probe "URL" (pr-str url)))
        {:keys [result classes loaded]} (some->> (str/split-lines (:out r)) (drop-while #(not= % "VIREO-RESULT"))
                                                 second edn/read-string)]
    (is (= 0 (:exit r)) (:out r))
    (is (= [nil nil] classes) "the child's classpath has neither library")
    (testing "Vireo works without them, the slow-query log too"
      (is (= {:acquired 1 :open true} (:plain result)))
      (is (= {:acquired 1 :open true} (:slow result))))
    (testing "the options that need them name the coordinates"
      (let [e (:metrics result)]
        (is (= :vireo/interface-error (:type e)))
        (is (str/includes? (str (:message e)) "io.micrometer/micrometer-core {:mvn/version \"1.17.2\"}"))
        (is (= ["io.micrometer:micrometer-core:1.17.2"] (:missing e))))
      (let [e (:tracing result)]
        (is (= :vireo/interface-error (:type e)))
        (is (str/includes? (str (:message e)) "<artifactId>opentelemetry-api</artifactId>"))
        (is (= ["io.opentelemetry:opentelemetry-api:1.68.0"] (:missing e)))))
    (is (= [] loaded) "their namespaces are never loaded")))

(deftest coordinates-agree-test
  (let [edn (edn/read-string (slurp "deps.edn"))]
    (doseq [[option alias] {:metrics :metrics :tracing :tracing}
            :let [[_ g a v] (get backend/observability-libraries option)]]
      (is (= {(symbol g a) {:mvn/version v}} (get-in edn [:aliases alias :extra-deps]))
          (str "the " alias " alias adds what the " option " error names"))
      (is (= v (get-in edn [:aliases :test :extra-deps (symbol g a) :mvn/version])) "the tests use that version")
      (is (not (contains? (:deps edn) (symbol g a))) "not one of Vireo's own dependencies"))))
