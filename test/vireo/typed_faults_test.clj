(ns ^:vireo/per-backend vireo.typed-faults-test
  "Failures that used to reach users untyped are Vireo errors: a session
  killed by the server in the middle of a transaction, and JSON the driver
  could write but never read back (refused on write)."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(defn- vireo-error? [e]
  (and (instance? clojure.lang.ExceptionInfo e) (v/error-type? e :vireo/error)))

(deftest session-killed-mid-transaction-is-typed-test
  (when (not= :sqlite ts/*backend*)
    (let [d (ts/new-db ts/*backend* {:max-size 2})
          admin (ts/new-db ts/*backend* {:max-size 1})
          pg? (= :postgres ts/*backend*)
          my-id (if pg? "SELECT pg_backend_pid() AS id" "SELECT CONNECTION_ID() AS id")
          kill (fn [id] (if pg? (str "SELECT pg_terminate_backend(" id ") AS k") (str "KILL " id)))]
      (try
        (let [failed (atom 0)]
        (dotimes [i 5]
          (testing (str "run " i ": statements queued when the server kills the session fail typed")
            (let [e (error-of
                     #(v/aio-atomic d (fn [_]
                                        (p/let [{[{:keys [id]}] :rows} (v/aio-execute-sql d my-id)
                                                ;; several statements queued on the connection as it dies
                                                queued (doall (for [_ (range 3)] (v/aio-execute-sql d "SELECT 1 AS one")))
                                                _ (v/aio-execute-sql admin (kill id))]
                                          (p/all (concat queued [(v/aio-execute-sql d "SELECT 2 AS two")]))))))]
              (when e
                (swap! failed inc)
                (is (vireo-error? e) (str (class e) ": " (ex-message e)))
                (is (v/error-type? e :vireo/connection-error) (pr-str (ex-data e)))))))
        (is (pos? @failed) "the kill failed some transactions"))
        (testing "the pool recovers: the next transaction works"
          (is (= 1 (long (:one (first (:rows (await! (v/aio-atomic d (fn [_] (v/aio-execute-sql d "SELECT 1 AS one")))))))))))
        (finally
          (await! (v/aio-close d))
          (await! (v/aio-close admin)))))))

(deftest json-the-driver-could-not-read-back-is-refused-test
  (let [m (ts/model "JsonLimit" {:table "vireo_json_limit"
                                 :fields {:id {:type :integer :primary-key true} :doc {:type :json}}})]
    (ts/with-tables [m]
      (testing "a key of 50,001 characters: refused by name, nothing written"
        (let [e (error-of #(v/aio-create m {:id 1 :doc {(keyword (apply str (repeat 50001 "k"))) 1}}))]
          (is (v/error-type? e :vireo/data-error) (pr-str e))
          (is (str/includes? (ex-message e) "could never be read"))
          (is (< (count (ex-message e)) 1000) "the message does not carry the value"))
        (is (nil? (await! (v/aio-get-or-none m 1)))))
      (testing "nesting deeper than the parser reads: refused"
        (is (v/error-type? (error-of #(v/aio-create m {:id 2 :doc (reduce (fn [a _] [a]) 1 (range 1001))}))
                           :vireo/data-error)))
      (testing "at the key limit (and a nesting every backend stores), values round-trip"
        (let [k (keyword (apply str (repeat 50000 "k")))
              deep (reduce (fn [a _] [a]) 1 (range 20))]
          (await! (v/aio-create m {:id 3 :doc {k 1}}))
          (is (= {k 1} (:doc (await! (v/aio-get m 3)))))
          (await! (v/aio-create m {:id 4 :doc {:deep deep}}))
          (is (= deep (:deep (:doc (await! (v/aio-get m 4)))))))))))

(deftest parameters-no-column-takes-are-typed-test
  (let [d (ts/db)]
    (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_param_t"))
    (await! (v/aio-execute-sql d "CREATE TABLE vireo_param_t (id INTEGER PRIMARY KEY, n BIGINT)"))
    (try
      (testing "an integer beyond 64 bits is refused by position, never wrapped around"
        (doseq [big [9223372036854775808N (biginteger "-9223372036854775809")]]
          (let [e (error-of #(v/aio-execute d {:insert-into :vireo_param_t :columns [:id :n] :values [[1 big]]}))]
            (is (v/error-type? e :vireo/data-error) (pr-str e))
            (is (str/includes? (ex-message e) "beyond 64 bits"))))
        (is (= 0 (long (:c (first (:rows (await! (v/aio-execute-sql d "SELECT count(*) AS c FROM vireo_param_t")))))))))
      (testing "a string compared with an integer column fails typed (PostgreSQL's driver refuses to coerce it)"
        (let [e (error-of #(v/aio-execute d {:select [:id] :from :vireo_param_t :where [:= :n "not a number"]}))]
          (if (= :postgres ts/*backend*)
            (is (v/error-type? e :vireo/data-error) (pr-str e))
            ;; MariaDB and SQLite compare them after converting: no error
            (is (nil? e) (pr-str e)))))
      (finally (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_param_t"))))))
