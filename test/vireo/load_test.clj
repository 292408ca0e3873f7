(ns vireo.load-test
  "What `(require 'vireo.core)` loads, in a fresh child JVM: no backend, no
  observability integration, no migration code, no Java bridge, and not
  clojure.tools.logging (compiled from source with clojure.pprint, a third
  of a cold require from the jar): each loads when first needed. The first
  statement of a database loads tools.logging, and its DEBUG log on
  vireo.sql still reaches the factory in force."
  (:require [clojure.edn :as edn]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.test-support :as ts]))

(set! *warn-on-reflection* true)

(def ^:private lazy-nses
  "Namespaces `(require 'vireo.core)` must not load."
  '[clojure.tools.logging clojure.pprint
    vireo.impl.backend.postgres vireo.impl.backend.mysql vireo.impl.backend.sqlite
    vireo.impl.observe.micrometer vireo.impl.observe.otel
    vireo.migrate vireo.impl.migrate vireo.java.bridge])

(def ^:private probe
  "Top-level forms, each compiled after the one before has run: the
  capturing logger factory can only be compiled once tools.logging loaded."
  "(require 'vireo.core)
   (def lazy LAZY)
   (def after-require (filterv find-ns lazy))
   (def await (resolve 'vireo.promise/await))
   (def d ((resolve 'vireo.core/database) URL))
   (await ((resolve 'vireo.core/aio-execute-sql) d \"SELECT 1\") 30000)
   (def after-statement (filterv find-ns lazy))
   (def logged (atom []))
   (binding [clojure.tools.logging/*logger-factory*
             (reify clojure.tools.logging.impl/LoggerFactory
               (name [_] \"capture\")
               (get-logger [_ n]
                 (reify clojure.tools.logging.impl/Logger
                   (enabled? [_ l] (and (= \"vireo.sql\" (str n)) (= :debug l)))
                   (write! [_ l _ msg] (swap! logged conj [(str n) l msg])))))]
     (await ((resolve 'vireo.core/aio-execute-sql) d \"SELECT 2\") 30000))
   (await ((resolve 'vireo.core/aio-close) d) 30000)
   (println \"VIREO-RESULT\")
   (prn {:after-require after-require :after-statement after-statement :logged @logged})
   (shutdown-agents)
   (System/exit 0)")

(deftest require-loads-only-what-it-needs-test
  (.mkdirs ^java.io.File ts/sqlite-dir)
  (let [url (str "sqlite:" (.getPath (io/file ts/sqlite-dir "load-test.db")))
        r (ts/run-child (System/getProperty "java.class.path")
                        (-> probe (str/replace "LAZY" (pr-str (list 'quote lazy-nses))) (str/replace "URL" (pr-str url))))
        {:keys [after-require after-statement logged]}
        (some->> (str/split-lines (:out r)) (drop-while #(not= % "VIREO-RESULT")) second edn/read-string)]
    (is (= 0 (:exit r)) (:out r))
    (is (= [] after-require) "(require 'vireo.core) loads none of them")
    (testing "a SQLite database's first statement loads its backend and tools.logging, nothing else"
      (is (= '[clojure.tools.logging clojure.pprint vireo.impl.backend.sqlite] after-statement)))
    (testing "the statement log goes to the factory bound when it is sent"
      (is (= [["vireo.sql" :debug (pr-str ["SELECT 2" []])]] logged)))))
