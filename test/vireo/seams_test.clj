(ns vireo.seams-test
  "The backend seam stays a seam: no namespace under src/vireo/impl but the
  backend registry (vireo.impl.backend) and the backends themselves
  (vireo.impl.backend.*) names a backend, so nothing else can branch on one.
  Read with the Clojure reader: docstrings and comments do not count."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]])
  (:import (java.io PushbackReader)))

(def ^:private backend-kinds #{:postgres :mysql :sqlite})

(defn- forms [f]
  (with-open [r (PushbackReader. (io/reader f))]
    (binding [*read-eval* false]
      (doall (take-while #(not= % ::eof)
                         (repeatedly #(read {:eof ::eof :read-cond :allow} r)))))))

(defn- backend-keywords
  "The backend keywords read in file f."
  [f]
  (->> (forms f) (tree-seq coll? seq) (filter backend-kinds) distinct sort vec))

(defn- impl-files []
  (->> (file-seq (io/file "src/vireo/impl"))
       (filter #(str/ends-with? (.getName ^java.io.File %) ".clj"))
       (remove #(str/includes? (.getPath ^java.io.File %) "/impl/backend/"))
       (remove #(= "backend.clj" (.getName ^java.io.File %)))))

(deftest no-backend-branch-outside-backends-test
  (testing "the files looked at exist (the test would pass reading nothing otherwise)"
    (is (< 10 (count (impl-files)))))
  (testing "the backends' own namespaces do name them (the reader sees keywords)"
    (is (= [:postgres] (backend-keywords (io/file "src/vireo/impl/backend/postgres.clj")))))
  (doseq [f (impl-files)]
    (is (= [] (backend-keywords f)) (str (.getPath ^java.io.File f) " names a backend"))))
