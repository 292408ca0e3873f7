(ns ^:vireo/per-backend vireo.tx-faults-test
  "No connection goes back to the pool in an unknown state: a failure
  injected at every step of a transaction (vireo.testing/inject-faults!:
  BEGIN, a statement of the body, COMMIT, ROLLBACK, COMMIT and the ROLLBACK
  after it) fails the transaction with a typed error, and then every pooled
  connection, borrowed all at once, sees nothing uncommitted and no open
  transaction. Also: waiting for a pooled connection past
  :connection-timeout is :vireo/timeout for transactions and scopes too."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await! error-of]]
            [vireo.testing :as vt]))

(set! *warn-on-reflection* true)

(def ^:private pool-size 3)

(def ^:private begin #"(?i)^\s*(BEGIN|START TRANSACTION)")

(defn- all-connections
  "`sql`'s first row on every pooled connection of `d` (borrowed at once)."
  [d sql]
  (mapv #(first (:rows %)) (ts/on-every-connection d pool-size sql)))

(defn- open-transactions
  "Sessions of this database's server with a transaction open, seen from
  another connection (PostgreSQL and MariaDB), else nil."
  [probe]
  (case ts/*backend*
    :postgres (:n (first (:rows (await! (v/aio-execute-sql probe (str "SELECT count(*) AS n FROM pg_stat_activity"
                                                                     " WHERE datname = current_database()"
                                                                     " AND state LIKE 'idle in transaction%'"))))))
    :mysql (:n (first (:rows (await! (v/aio-execute-sql probe "SELECT count(*) AS n FROM information_schema.innodb_trx")))))
    nil))

(def ^:private steps
  ;; label, rules, does the body fail by itself
  [["BEGIN fails" [{:sql begin :times 1}] false]
   ["a statement of the body fails" [{:sql #"^INSERT" :times 1}] false]
   ["COMMIT fails (never sent)" [{:sql "COMMIT" :times 1}] false]
   ["the ROLLBACK of a failed body fails" [{:sql "ROLLBACK" :times 1}] true]
   ["COMMIT fails and so does the ROLLBACK after it" [{:sql "COMMIT" :times 1} {:sql "ROLLBACK" :times 1}] false]])

(deftest a-failure-at-every-step-leaves-no-transaction-open-test
  (let [d (ts/new-db ts/*backend* {:max-size pool-size})
        probe (ts/new-db ts/*backend* {:max-size 1})]
    (try
      (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_txf"))
      (await! (v/aio-execute-sql d "CREATE TABLE vireo_txf (id INTEGER PRIMARY KEY)"))
      (doseq [[label rules body-fails?] steps
              nested? [false true]]
        (testing (str label (when nested? ", inside aio-connection"))
          (vt/inject-faults! d rules)
          (let [tx #(v/aio-atomic d (fn [_]
                                      (p/then (v/aio-execute-sql d "INSERT INTO vireo_txf (id) VALUES (1)")
                                              (fn [_] (when body-fails? (throw (ex-info "the body fails" {})))))))
                e (error-of (if nested? #(v/aio-connection d (fn [_] (tx))) tx))]
            (vt/clear-faults! d)
            (is (some? e) "the transaction fails")
            (is (or (v/error-type? e :vireo/error) (= "the body fails" (ex-message e))) (pr-str e))
            (is (pos? (vt/fault-hits d)) "the fault was injected"))
          (is (zero? (v/checked-out d)))
          (is (= (repeat pool-size 0) (map (comp long :n) (all-connections d "SELECT count(*) AS n FROM vireo_txf")))
              "no pooled connection sees the uncommitted row")
          (when-let [n (open-transactions probe)]
            (is (ts/wait-until #(zero? (long (open-transactions probe))) 10000)
                (str n " sessions left in a transaction")))))
      (testing "after all that, transactions work and commit"
        (await! (v/aio-atomic d (fn [_] (v/aio-execute-sql d "INSERT INTO vireo_txf (id) VALUES (2)"))))
        (is (= (repeat pool-size 1) (map (comp long :n) (all-connections d "SELECT count(*) AS n FROM vireo_txf")))))
      (finally
        (vt/clear-faults! d)
        (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_txf"))
        (await! (v/aio-close d))
        (await! (v/aio-close probe))))))

(deftest manual-transaction-whose-commit-fails-test
  (let [d (ts/new-db ts/*backend* {:max-size 1})]
    (try
      (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_txf_m"))
      (await! (v/aio-execute-sql d "CREATE TABLE vireo_txf_m (id INTEGER PRIMARY KEY)"))
      (let [e (error-of #(v/aio-connection d (fn [_]
                                               (p/let [h (v/aio-begin d)
                                                       _ (v/aio-execute-sql d "INSERT INTO vireo_txf_m (id) VALUES (1)")
                                                       _ (vt/inject-faults! d [{:sql "COMMIT" :times 1}])]
                                                 (v/aio-commit h)))))]
        (vt/clear-faults! d)
        (is (v/error-type? e :vireo/operational-error) (pr-str e))
        (is (:injected (ex-data e))))
      (is (= 0 (long (:n (first (:rows (await! (v/aio-execute-sql d "SELECT count(*) AS n FROM vireo_txf_m"))))))))
      (finally
        (vt/clear-faults! d)
        (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_txf_m"))
        (await! (v/aio-close d))))))

(deftest delayed-statements-keep-their-transaction-test
  (let [d (ts/new-db ts/*backend* {:max-size 2})]
    (try
      (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_txf_d"))
      (await! (v/aio-execute-sql d "CREATE TABLE vireo_txf_d (id INTEGER PRIMARY KEY)"))
      (vt/with-faults d [{:sql begin :delay-ms 20} {:sql #"^INSERT" :delay-ms 20 :times 1}]
        (await! (v/aio-atomic d (fn [_] (p/do (v/aio-execute-sql d "INSERT INTO vireo_txf_d (id) VALUES (1)")
                                              (v/aio-execute-sql d "INSERT INTO vireo_txf_d (id) VALUES (2)")))))
        (is (= 2 (vt/fault-hits d)) "BEGIN and one INSERT were delayed"))
      (is (= 2 (long (:n (first (:rows (await! (v/aio-execute-sql d "SELECT count(*) AS n FROM vireo_txf_d"))))))))
      (testing "bad rules are refused by name"
        (doseq [[rules needle] [[[{:sql "COMMIT" :when :after}] "unknown fault key(s) :when"]
                                [[{:fail true}] "needs :sql"]
                                [[{:sql 42}] ":sql is a SQL string"]
                                [[{:sql "COMMIT" :times 0}] ":times is a positive integer"]]]
          (is (str/includes? (str (ex-message (error-of #(vt/inject-faults! d rules)))) needle))))
      (finally
        (vt/clear-faults! d)
        (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_txf_d"))
        (await! (v/aio-close d))))))

(deftest waiting-for-a-connection-times-out-typed-test
  (let [d (ts/new-db ts/*backend* {:max-size 1 :connection-timeout 300})
        release (p/promise)]
    (try
      (await! (v/aio-connect d))
      (let [holder (v/aio-connection d (fn [_] release))]
        (doseq [[label f] [["a statement" #(v/aio-execute-sql d "SELECT 1")]
                           ["aio-atomic" #(v/aio-atomic d (fn [_] (v/aio-execute-sql d "SELECT 1")))]
                           ["aio-connection" #(v/aio-connection d (fn [_] nil))]]]
          (testing label
            (let [e (error-of f)]
              (is (v/error-type? e :vireo/timeout) (pr-str e))
              (is (str/includes? (str (ex-message e)) ":connection-timeout")))))
        (p/resolve! release nil)
        (await! holder))
      (finally
        (p/resolve! release nil)
        (await! (v/aio-close d))))))
