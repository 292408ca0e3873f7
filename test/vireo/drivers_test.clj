(ns vireo.drivers-test
  "Drivers are optional: each backend's driver is loaded only when a database
  of that backend is created, a missing one fails with an error naming the
  Maven coordinates to add, and deps.edn, the poms and the error agree on
  those coordinates. The classpath without a driver is a child JVM's."
  (:require [clojure.edn :as edn]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.impl.backend :as backend]
            [vireo.test-support :as ts]))

(set! *warn-on-reflection* true)

(def ^:private driver-jars
  "Classpath entries of each backend's driver."
  {:postgres [#"vertx-pg-client"]
   :mysql [#"vertx-mysql-client"]
   :sqlite [#"vertx-jdbc-client" #"sqlite-jdbc"]})

(defn- classpath-without
  "The test classpath without the jars of the drivers of `kinds`."
  [kinds]
  (ts/classpath-without (mapcat driver-jars kinds)))

(defn- result-of
  "The EDN the child printed after the marker line."
  [{:keys [out]}]
  (some->> (str/split-lines out) (drop-while #(not= % "VIREO-RESULT")) second edn/read-string))

(def ^:private probe
  "Creates a database of each backend named in the child's first form and
  reports, per backend, :ok (after a SELECT 1) or the
  error's type, message and data, plus which backend namespaces loaded."
  "(do (require 'vireo.core) (require 'vireo.promise)
     (let [urls URLS
           result (into {} (for [[k url] urls]
                             [k (try (let [d ((resolve 'vireo.core/database) url)]
                                       (try ((resolve 'vireo.promise/await) ((resolve 'vireo.core/aio-execute-sql) d \"SELECT 1\") 30000)
                                            :ok
                                            (finally ((resolve 'vireo.promise/await) ((resolve 'vireo.core/aio-close) d)))))
                                     (catch Throwable e {:type (:type (ex-data e)) :message (ex-message e)
                                                         :missing (:missing (ex-data e))}))]))
           loaded (filterv #(find-ns %) '[vireo.impl.backend.postgres vireo.impl.backend.mysql vireo.impl.backend.sqlite])]
       (println \"VIREO-RESULT\")
       (prn {:result result :loaded loaded})
       (shutdown-agents)
       (System/exit 0)))")

(deftest missing-drivers-test
  (let [sqlite-url (str "sqlite:" (.getPath (io/file ts/sqlite-dir "drivers-test.db")))]
    (.mkdirs ^java.io.File ts/sqlite-dir)
    (testing "without the SQLite and MySQL drivers: PostgreSQL works, the others name their coordinates"
      (let [urls (cond-> {:sqlite sqlite-url :mysql "mysql://root@127.0.0.1:3306/none"}
                   (some #{:postgres} (ts/backends)) (assoc :postgres (ts/url :postgres)))
            r (ts/run-child (classpath-without [:sqlite :mysql]) (str/replace probe "URLS" (pr-str urls)))
            {:keys [result loaded]} (result-of r)]
        (is (= 0 (:exit r)) (:out r))
        (when (:postgres urls)
          (is (= :ok (:postgres result)) "the PostgreSQL driver alone is enough for PostgreSQL"))
        (let [e (:sqlite result)]
          (is (= :vireo/interface-error (:type e)))
          (is (str/includes? (str (:message e)) "SQLite backend needs its driver"))
          (is (str/includes? (str (:message e)) "org.xerial/sqlite-jdbc {:mvn/version \"3.50.3.0\"}"))
          (is (str/includes? (str (:message e)) "io.vertx/vertx-jdbc-client {:mvn/version \"5.0.7\"}"))
          (is (str/includes? (str (:message e)) "<artifactId>sqlite-jdbc</artifactId>"))
          (is (= ["io.vertx:vertx-jdbc-client:5.0.7" "org.xerial:sqlite-jdbc:3.50.3.0"] (:missing e))))
        (let [e (:mysql result)]
          (is (= :vireo/interface-error (:type e)))
          (is (= ["io.vertx:vertx-mysql-client:5.0.7"] (:missing e))))
        (is (not-any? #{'vireo.impl.backend.sqlite 'vireo.impl.backend.mysql} loaded)
            "a backend whose driver is missing is never loaded")))
    (testing "only the SQLite driver: the quickstart's default works, PostgreSQL names its artifact"
      (let [r (ts/run-child (classpath-without [:postgres :mysql])
                         (str/replace probe "URLS" (pr-str {:sqlite sqlite-url :postgres "postgresql://postgres@127.0.0.1:5432/none"})))
            {:keys [result loaded]} (result-of r)]
        (is (= 0 (:exit r)) (:out r))
        (is (= :ok (:sqlite result)))
        (is (= :vireo/interface-error (:type (:postgres result))))
        (is (str/includes? (str (:message (:postgres result))) "io.vertx/vertx-pg-client {:mvn/version \"5.0.7\"}"))
        (is (= ["io.vertx:vertx-pg-client:5.0.7"] (:missing (:postgres result))))
        (is (= '[vireo.impl.backend.sqlite] loaded))))))

(deftest driver-coordinates-agree-test
  (let [edn (edn/read-string (slurp "deps.edn"))
        drivers (get-in edn [:aliases :drivers :extra-deps])
        per-alias (merge (get-in edn [:aliases :postgres :extra-deps])
                         (get-in edn [:aliases :mysql :extra-deps])
                         (get-in edn [:aliases :sqlite :extra-deps]))
        required (for [k (backend/kinds) [_ g a v] (:requires (get @@#'backend/registry k))]
                   [(symbol g a) v])]
    (testing "deps.edn: the :drivers alias is the union of the per-backend aliases"
      (is (= drivers per-alias)))
    (testing "what a missing-driver error names is what deps.edn adds"
      (is (= (set (map (fn [[lib {v :mvn/version}]] [lib v]) drivers)) (set required))))
    (testing "Vireo's own :deps hold no driver"
      (is (empty? (filter (set (keys drivers)) (keys (:deps edn))))))
    (testing "every io.vertx module is pinned to the one version"
      (let [vertx (for [m (concat [(:deps edn)] (map :extra-deps (vals (:aliases edn))))
                        [lib {v :mvn/version}] m
                        :when (= "io.vertx" (namespace lib))]
                    v)]
        (is (seq vertx))
        (is (every? #{backend/vertx-version} vertx))))
    (testing "the Maven examples declare the same driver versions"
      (doseq [pom ["examples/java-quickstart/pom.xml" "test-java/pom.xml"]
              :let [xml (slurp pom)]
              [lib v] required]
        (is (re-find (re-pattern (str "<artifactId>" (name lib) "</artifactId>\\s*<version>"
                                      (java.util.regex.Pattern/quote v) "</version>"))
                     xml)
            (str pom " declares " lib " " v))))))
