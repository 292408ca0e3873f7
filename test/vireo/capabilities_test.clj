(ns ^:vireo/per-backend vireo.capabilities-test
  "vireo.core/capabilities: what the server can do, as detected when the
  pool opens (or forced by the :returning option), on every backend."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(defn- one-value [d sql]
  (str (val (first (first (:rows (await! (v/aio-execute-sql d sql))))))))

(deftest capabilities-test
  (let [d (ts/new-db ts/*backend*)]
    (try
      (testing "detected from the server: the version it reports decides RETURNING"
        (let [caps (await! (v/capabilities d))]
          (is (= #{:server :returning :returning-source} (set (keys caps))))
          (is (= :detected (:returning-source caps)))
          (case ts/*backend*
            :postgres (let [version (re-find #"^[\d.]+" (one-value d "SHOW server_version"))]
                        (is (= {:server (str "PostgreSQL " version) :returning #{:insert :update :delete}}
                               (dissoc caps :returning-source))))
            :mysql (let [version (one-value d "SELECT VERSION()")
                         [_ a b c] (re-find #"^(\d+)\.(\d+)\.(\d+)" version)]
                     (is (str/includes? version "MariaDB") "the suite runs on MariaDB")
                     (is (= (str "MariaDB " a "." b "." c) (:server caps)))
                     (is (= (if (neg? (compare [(parse-long a) (parse-long b)] [10 5])) #{} #{:insert :delete})
                            (:returning caps))))
            :sqlite (let [version (one-value d "SELECT sqlite_version()")]
                      (is (= (str "SQLite " version) (:server caps)))
                      (is (= #{:insert :update :delete} (:returning caps)) version)))
          (is (v/connected? d) "capabilities opened the pool")
          (is (= caps (await! (v/capabilities d))) "asking again gives the same answer")))
      (testing "after aio-close it fails with :vireo/pool-closed; aio-connect brings it back"
        (await! (v/aio-close d))
        (is (v/error-type? (error-of #(v/capabilities d)) :vireo/pool-closed))
        (await! (v/aio-connect d))
        (is (= :detected (:returning-source (await! (v/capabilities d))))))
      (finally (await! (v/aio-close d)))))
  (testing "the :returning option forces the set, and says so"
    (let [forced (if (= ts/*backend* :postgres) #{:insert} #{})
          d (ts/new-db ts/*backend* {:returning forced})]
      (try
        (let [caps (await! (v/capabilities d))]
          (is (= forced (:returning caps)))
          (is (= :option (:returning-source caps)))
          (is (string? (:server caps))))
        (finally (await! (v/aio-close d))))))
  (testing "a model (for its database) works as the argument too"
    (let [M (ts/model 'CapsModel {:fields {:v {:type :integer}}})]
      (is (= (await! (v/capabilities (ts/db))) (await! (v/capabilities M)))))))
