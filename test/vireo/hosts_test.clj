(ns ^:vireo/per-backend vireo.hosts-test
  "Several hosts with a target server type on every server backend: a
  host that does not answer is skipped, the server type is checked for each
  new connection, and when no host qualifies the connection error says what
  each one answered. (The cluster sub-run's failover test follows a real
  PostgreSQL promotion.)"
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.impl.db :as db]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(defn- live []
  (let [o (db/options (ts/new-db ts/*backend*))]
    (str (:host o) ":" (:port o))))

(defn- several [target]
  (let [o (db/options (ts/new-db ts/*backend*))]
    (db/make-database ts/*backend* (assoc (select-keys o [:database :user :password])
                                          :hosts ["127.0.0.1:1" (live)] :target-server-type target :max-size 2))))

(deftest several-hosts-test
  (if (= :sqlite ts/*backend*)
    (is (v/error-type? (error-of #(ts/new-db :sqlite {:hosts ["a"]})) :vireo/interface-error))
    (do
      (doseq [target [:any :primary :prefer-standby]]
        (testing (str target ": the host that does not answer is skipped")
          (let [d (several target)]
            (try
              (await! (v/aio-connect d))
              (is (= 1 (long (:one (first (:rows (await! (v/aio-execute-sql d "SELECT 1 AS one"))))))))
              (finally (await! (v/aio-close d)))))))
      (testing ":standby with no standby among the hosts: a connection error saying what each answered"
        (let [d (several :standby)]
          (try
            (let [e (error-of #(v/aio-execute-sql d "SELECT 1"))]
              (is (v/error-type? e :vireo/connection-error) (pr-str e))
              (is (str/includes? (ex-message e) "127.0.0.1:1 did not answer") (ex-message e))
              (is (str/includes? (ex-message e) (str (live) " is a primary")) (ex-message e)))
            (finally (await! (v/aio-close d)))))))))
