(ns vireo.docs-test
  "The Clojure guide's examples are executed (on SQLite), so docs stay true."
  (:require [clojure.java.io :as io]
            [clojure.test :refer [deftest is]]
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
