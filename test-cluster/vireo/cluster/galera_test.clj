(ns vireo.cluster.galera-test
  "MariaDB Galera, multi-primary (bin/galera-servers: two nodes): a write on
  one node is read on the other with wsrep_sync_wait set on every
  connection by :init-sql, and two transactions changing the same row on
  different nodes make a certification conflict — a typed, retryable
  :vireo/deadlock that aio-atomic {:retry n} runs again to success. Runs
  when the cluster sub-run started the nodes (VIREO_TEST_GALERA=1)."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(defn- ports [] (some->> (System/getenv "VIREO_GALERA_PORTS") (re-seq #"\d+") (mapv parse-long)))

(defn- node [port]
  (v/mysql-database {:host "127.0.0.1" :port port :database "vireo_galera" :user "app" :max-size 3
                     :init-sql ["SET SESSION wsrep_sync_wait = 1"]}))

(defn- balance [d]
  (long (:balance (first (:rows (await! (v/aio-execute-sql d "SELECT balance FROM galera_account WHERE id = 1")))))))

(deftest galera-test
  (if-not (ports)
    (ts/skip! "no Galera cluster (VIREO_TEST_GALERA=1 makes the cluster sub-run start one)")
    (let [[p1 p2] (ports)
          n1 (node p1)
          n2 (node p2)]
      (try
        (await! (v/aio-execute-sql n1 "DROP TABLE IF EXISTS galera_account"))
        (await! (v/aio-execute-sql n1 "CREATE TABLE galera_account (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)"))
        (await! (v/aio-execute-sql n1 "INSERT INTO galera_account (id, balance) VALUES (1, 100)"))
        (testing "a write on node 1 is read on node 2 (causal reads: wsrep_sync_wait from :init-sql)"
          (is (= 100 (balance n2)))
          (await! (v/aio-execute-sql n2 "UPDATE galera_account SET balance = 110 WHERE id = 1"))
          (is (= 110 (balance n1))))
        (letfn [(conflict [opts attempts]
                  ;; T1 on node 1 changes the row; before it commits, T2 on
                  ;; node 2 changes and commits the same row (first attempt
                  ;; only): T1's COMMIT then fails Galera's certification
                  (v/aio-atomic n1 opts
                                (fn [_]
                                  (let [n (swap! attempts inc)]
                                    (p/let [_ (v/aio-execute-sql n1 "UPDATE galera_account SET balance = balance + 1 WHERE id = 1")
                                            _ (when (= 1 n)
                                                (v/aio-atomic n2 (fn [_] (v/aio-execute-sql
                                                                          n2 "UPDATE galera_account SET balance = balance + 10 WHERE id = 1"))))]
                                      nil)))))]
          (testing "a certification conflict is a typed, retryable deadlock"
            (let [attempts (atom 0)
                  before (balance n1)
                  e (error-of #(conflict {} attempts))]
              (is (v/error-type? e :vireo/deadlock) (pr-str e))
              (is (str/includes? (str (ex-message e)) "Deadlock"))
              (is (ts/wait-until #(= (+ before 10) (balance n1)) 10000) "T2's change stands, T1's is gone")))
          (testing "aio-atomic {:retry 2} runs it again and both changes stand"
            (let [attempts (atom 0)
                  before (balance n1)]
              (await! (conflict {:retry 2} attempts))
              (is (= 2 @attempts))
              (is (= (+ before 11) (balance n1)))
              (is (= (+ before 11) (balance n2))))))
        (finally
          (await! (v/aio-execute-sql n1 "DROP TABLE IF EXISTS galera_account"))
          (await! (v/aio-close n1))
          (await! (v/aio-close n2)))))))
