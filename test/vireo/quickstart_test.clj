(ns ^:vireo/per-backend vireo.quickstart-test
  "The README's quickstart, run on every backend, and the command itself."
  (:require [clojure.java.io :as io]
            [clojure.java.shell :as sh]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [quickstart]
            [vireo.core :as v]
            [vireo.test-support :as ts]))

(def ^:private expected
  ["Was: Peewee is AWESOME with async!"
   "New: Peewee is SUPER awesome with async!"])

(defn- drop-pageblock! []
  (v/with-allow-sync (ts/db) (v/execute! (ts/db) {:drop-table :pageblock :if-exists true})))

(defn- output-of
  "What (f) prints, from any thread: the quickstart prints from the Vert.x
  event loop, where a `binding` of *out* does not reach, so swap the root."
  [f]
  (let [sw (java.io.StringWriter.)
        old *out*]
    (alter-var-root #'*out* (constantly sw))
    (try (binding [*out* sw] (f))
         (finally (alter-var-root #'*out* (constantly old))))
    (str sw)))

(deftest quickstart-runs-twice-test
  (drop-pageblock!)
  (try
    (testing "first run, then a re-run that finds the row of the first"
      (is (= expected (str/split-lines (output-of #(quickstart/run (ts/db))))))
      (is (= expected (str/split-lines (output-of #(quickstart/run (ts/db)))))))
    (finally (drop-pageblock!))))

(deftest ^{:backends #{:sqlite}} quickstart-command-test
  ;; The command a newcomer types: a fresh JVM that must print both lines and
  ;; exit by itself (every Vert.x thread closed). Once, on SQLite's default.
  (let [{:keys [exit out err]} (sh/sh "timeout" "120" (.getCanonicalPath (io/file "bin" "clojure")) "-M:quickstart"
                                      :env (-> (into {} (System/getenv))
                                               (dissoc "VIREO_DATABASE_URL")))]
    (is (= 0 exit) err)
    (is (= expected (filterv #(re-find #"^(Was|New):" %) (str/split-lines out))) out)))
