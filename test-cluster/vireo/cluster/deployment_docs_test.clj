(ns vireo.cluster.deployment-docs-test
  "docs/deployment.md's examples, executed against the cluster sub-run's TLS
  servers."
  (:require [clojure.test :refer [deftest is]]
            [vireo.doc-examples :as doc-examples]
            [vireo.test-support :as ts]))

(deftest deployment-examples
  (if (System/getenv "VIREO_CLUSTER_DIR")
    (is (< 6 (doc-examples/run-file! "docs/deployment.md" 'vireo.deployment-examples))
        "docs/deployment.md examples were found and asserted")
    (ts/skip! "the cluster servers are not running (bin/test's cluster sub-run starts them)")))
