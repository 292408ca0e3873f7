(ns vireo.docs-test
  "The Clojure guide's examples are executed (on SQLite), so docs stay true."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.doc-examples :as doc-examples]))

(deftest guide-examples
  (.mkdirs (io/file "target"))
  (doseq [db ["target/guide.db" "target/guide-lifecycle.db"] suffix ["" "-wal" "-shm"]] (io/delete-file (str db suffix) true))
  (is (< 30 (doc-examples/run-file! "docs/guide.md" 'vireo.guide-examples))
      "docs/guide.md examples were found and asserted"))

(deftest transactions-examples
  (.mkdirs (io/file "target"))
  (doseq [suffix ["" "-wal" "-shm"]] (io/delete-file (str "target/transactions-doc.db" suffix) true))
  (is (< 20 (doc-examples/run-file! "docs/transactions.md" 'vireo.transactions-examples))
      "docs/transactions.md examples were found and asserted"))

(deftest models-examples
  (.mkdirs (io/file "target"))
  (doseq [suffix ["" "-wal" "-shm"]] (io/delete-file (str "target/models-doc.db" suffix) true))
  (is (< 30 (doc-examples/run-file! "docs/models.md" 'vireo.models-examples))
      "docs/models.md examples were found and asserted"))

(deftest queries-examples
  (.mkdirs (io/file "target"))
  (doseq [suffix ["" "-wal" "-shm"]] (io/delete-file (str "target/queries-doc.db" suffix) true))
  (is (< 40 (doc-examples/run-file! "docs/queries.md" 'vireo.queries-examples))
      "docs/queries.md examples were found and asserted"))

(deftest observability-examples
  (.mkdirs (io/file "target" "java-test"))
  (doseq [suffix ["" "-wal" "-shm"]] (io/delete-file (str "target/observability-doc.db" suffix) true))
  (is (< 15 (doc-examples/run-file! "docs/observability.md" 'vireo.observability-examples))
      "docs/observability.md examples were found and asserted"))

(deftest migrations-examples
  (.mkdirs (io/file "target"))
  (doseq [suffix ["" "-wal" "-shm"]] (io/delete-file (str "target/migrations-doc.db" suffix) true))
  (is (< 15 (doc-examples/run-file! "docs/migrations.md" 'vireo.migrations-examples))
      "docs/migrations.md examples were found and asserted"))

(deftest readme-snippet-reruns
  ;; the README's quickstart, pasted twice into one REPL (as after running
  ;; the quickstart): the second paste finds the first one's row
  (.mkdirs (io/file "target"))
  (doseq [suffix ["" "-wal" "-shm"]] (io/delete-file (str "target/readme.db" suffix) true))
  (let [block (first (filter #(str/includes? % "defmodel PageBlock")
                             (doc-examples/clojure-blocks (slurp "README.md"))))
        code (str/replace block "\"vireo-quickstart.db\"" "\"target/readme.db\"")
        ns-sym 'vireo.readme-snippet]
    (is (str/includes? code "target/readme.db") "the README's snippet opens a SQLite file")
    (try
      (binding [*ns* (create-ns ns-sym)]
        (refer-clojure)
        (dotimes [_ 2]
          (let [out (with-out-str (load-string code))]
            (is (str/includes? out "Was: Peewee is AWESOME with async!") out)
            (is (str/includes? out "New: Peewee is SUPER awesome with async!") out)
            ;; each paste opens its own pool on the same file
            @((resolve 'vireo.core/aio-close) @(resolve (symbol (name ns-sym) "db"))))))
      (finally (remove-ns ns-sym)))))

(deftest version-fenced-blocks-test
  (testing "a block fenced ```clojure <version> runs from that Clojure on, and is skipped before"
    (let [text (str "```clojure\n(plain)\n```\n"
                    "```clojure 1.11\n(from-1-11)\n```\n"
                    "```clojure 99.0\n(from-99)\n```\n")]
      (is (= ["(plain)\n" "(from-1-11)\n"] (vec (doc-examples/clojure-blocks text)))))))
