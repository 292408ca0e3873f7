(ns ^:vireo/per-backend vireo.faults-test
  "What users of every async ORM trip over: typed concurrency errors and
  retries, cancellation, killed connections, SQLite under write load."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await! error-of]])
  (:import (java.util.concurrent CompletableFuture)))

(defn- item-model []
  (ts/model 'Item {:fields {:name {:type :char :max-length 60 :unique true}
                            :n {:type :integer :default 0}}}))

(defn- count-rows [d table]
  (-> (await! (v/aio-execute-sql d (str "SELECT count(*) AS n FROM " table))) :rows first :n))

(deftest ^{:backends #{:postgres :mysql}} deadlock-and-retry-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (let [a (await! (v/aio-create Item {:name "a"}))
            b (await! (v/aio-create Item {:name "b"}))
            bump (fn [x] (v/aio-execute d {:update :item :set {:n [:+ :n 1]} :where [:= :id (:id x)]}))
            ;; two transactions lock a then b, and b then a
            crossing (fn [opts]
                       (let [both-locked (p/promise) locked (atom 0)
                             arrive #(when (= 2 (swap! locked inc)) (p/resolve! both-locked nil))
                             tx (fn [first-row second-row]
                                  (v/aio-atomic d opts
                                    (fn [_] (p/let [_ (bump first-row)
                                                    _ (arrive)
                                                    _ (p/timeout (p/then both-locked identity) 10000)]
                                              (bump second-row)))))]
                         (p/all [(p/handle (tx a b) (fn [_ e] e)) (p/handle (tx b a) (fn [_ e] e))])))]
        (testing "a deadlock fails one transaction with :vireo/deadlock"
          (let [errors (remove nil? (await! (crossing {})))]
            (is (= 1 (count errors)))
            (is (v/error-type? (first errors) :vireo/deadlock) (pr-str (ex-data (first errors))))
            (is (v/error-type? (first errors) :vireo/operational-error))))
        (testing "with :retry the loser runs again and both commit"
          (let [before (reduce + (map :n (await! (v/aio-execute d {:select [:n] :from :item}))))]
            (is (= [nil nil] (await! (crossing {:retry 2}))))
            (is (= (+ before 4) (reduce + (map :n (await! (v/aio-execute d {:select [:n] :from :item}))))))))))))

(deftest ^{:backends #{:postgres}} serialization-failure-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (let [both-read (p/promise) reads (atom 0)
            writer (fn [nm]
                     (v/aio-atomic d {:isolation :serializable}
                       (fn [_] (p/let [_ (v/aio-execute d {:select [[[:count :*] :c]] :from :item})
                                       _ (when (= 2 (swap! reads inc)) (p/resolve! both-read nil))
                                       _ (p/timeout (p/then both-read identity) 10000)]
                                 (v/aio-create Item {:name nm})))))
            outcomes (await! (p/all [(p/handle (writer "x") (fn [_ e] e)) (p/handle (writer "y") (fn [_ e] e))]))]
        (is (= 1 (count (remove nil? outcomes))))
        (is (v/error-type? (first (remove nil? outcomes)) :vireo/serialization-failure))
        (is (= 1 (count-rows d "item")))))))

(deftest random-cancellation-test
  ;; Cancel a thousand operations at random points (acquire, BEGIN, query,
  ;; COMMIT): afterwards nothing is checked out, no session of ours sits idle
  ;; in a transaction, and every transaction is all-or-nothing.
  ;; Its own table: cancelled operations may still be in flight when the test
  ;; ends (cancelling a future does not stop the statement it stands for).
  (let [Item (ts/model 'CancelItem {:fields {:name {:type :char :max-length 60 :unique true}}})
        d (ts/db) rng (java.util.Random. 42)]
    (ts/with-tables [Item]
      (let [futs (doall
                  (for [i (range 1000)]
                    (let [f (case (mod i 3)
                              0 (v/aio-create Item {:name (str "c" i)})
                              1 (v/aio-atomic d (fn [_] (p/let [_ (v/aio-create Item {:name (str "t" i "-1")})]
                                                          (v/aio-create Item {:name (str "t" i "-2")}))))
                              2 (v/aio-connection d (fn [_] (v/aio-execute-sql d "SELECT 1"))))]
                      (p/then (p/delay (.nextInt rng 8)) (fn [_] (.cancel ^CompletableFuture f true))))))]
        (await! (p/all futs))
        ;; a generous bound: 1000 cancelled operations drain slowly on a loaded machine
        (is (ts/wait-until #(zero? (v/checked-out d)) 120000) "every connection went back")
        (testing "transactions are all-or-nothing"
          (let [names (set (map :name (await! (v/aio-execute d {:select [:name] :from :cancelitem}))))]
            (doseq [i (range 1 1000 3)]
              (is (= (contains? names (str "t" i "-1")) (contains? names (str "t" i "-2"))) (str "transaction " i)))))
        (testing "no session of ours is left idle in a transaction"
          (case ts/*backend*
            :postgres (is (= [{:n 0}] (:rows (await! (v/aio-execute-sql d "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'")))))
            ;; innodb_trx is a cache refreshed at most every 100 ms: poll
            :mysql (is (ts/wait-until #(= [{:n 0}] (:rows (await! (v/aio-execute-sql d "SELECT count(*) AS n FROM information_schema.innodb_trx"))))
                                   60000))
            :sqlite (is (some? (await! (v/aio-atomic d (fn [_] (v/aio-create Item {:name "write-lock-free"}))))))))))))

(deftest ^{:backends #{:postgres :mysql}} killed-connection-test
  (let [d (ts/new-db ts/*backend* {:max-size 2})
        id-sql (case ts/*backend* :postgres "SELECT pg_backend_pid() AS id" :mysql "SELECT CONNECTION_ID() AS id")
        kill-sql (case ts/*backend* :postgres "SELECT pg_terminate_backend(%d)" :mysql "KILL %d")]
    (try
      (testing "the server kills this pool's two connections (and only them)"
        (let [gate (p/promise) n (atom 0)
              ids (await! (p/all (repeatedly 2 #(v/aio-connection d (fn [_]
                                                                       (when (= 2 (swap! n inc)) (p/resolve! gate nil))
                                                                       (p/let [_ gate
                                                                               r (v/aio-execute-sql d id-sql)]
                                                                         (-> r :rows first :id)))))))]
          (is (= 2 (count (distinct ids))))
          (doseq [id ids]
            (await! (p/handle (v/aio-execute-sql (ts/db) (format kill-sql (long id))) (fn [_ _] nil))))
          (is (ts/wait-until #(zero? (-> (await! (v/aio-execute-sql
                                                  (ts/db)
                                                  (format (case ts/*backend*
                                                            :postgres "SELECT count(*) AS n FROM pg_stat_activity WHERE pid IN (%s)"
                                                            :mysql "SELECT count(*) AS n FROM information_schema.processlist WHERE id IN (%s)")
                                                          (str/join "," (map long ids)))))
                                         :rows first :n long))
                             60000)
              "the server ended both sessions")
          (is (ts/wait-until #(zero? (.size ^io.vertx.sqlclient.Pool (:pool @(:state d)))) 60000)
              "the pool saw both connections close")))
      (testing "a connection killed by the server is detected and replaced: the next operations succeed"
        (is (= (repeat 4 [{:one 1}]) (map :rows (await! (p/all (repeatedly 4 #(v/aio-execute-sql d "SELECT 1 AS one")))))))
        (is (zero? (v/checked-out d))))
      (finally (await! (v/aio-close d))))))

(deftest ^{:backends #{:sqlite}} sqlite-concurrent-writers-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (testing "100 concurrent writers, half of them in transactions, never see 'database is locked'"
        (let [outcomes (await! (p/all (for [i (range 100)]
                                        (p/handle (if (even? i)
                                                    (v/aio-create Item {:name (str "w" i)})
                                                    (v/aio-atomic d (fn [_] (p/let [x (v/aio-create Item {:name (str "w" i)})]
                                                                              (v/aio-save Item (assoc x :n i))))))
                                                  (fn [_ e] e)))))]
          (is (= [] (remove nil? outcomes)))
          (is (= 100 (count-rows d "item"))))))))

(defn- kill-self-sql []
  (case ts/*backend*
    :postgres "SELECT pg_terminate_backend(pg_backend_pid())"
    :mysql "KILL CONNECTION_ID()"))

(deftest ^{:backends #{:postgres :mysql}} begin-and-rollback-failure-test
  ;; each case on its own pool, so a dead connection one case leaves behind
  ;; cannot reach the next
  (testing "BEGIN fails (the connection died): the error surfaces, the body never runs, the connection goes back"
    (let [d (ts/new-db ts/*backend* {:max-size 1})
          ran (atom false)]
      (try
        (let [e (error-of #(v/aio-connection d
                             (fn [_]
                               (p/let [_ (p/handle (v/aio-execute-sql d (kill-self-sql)) (fn [_ _] nil))]
                                 (v/aio-atomic d (fn [_] (reset! ran true)))))))]
          (is (v/error-type? e :vireo/connection-error) (pr-str e))
          (is (false? @ran))
          (is (zero? (v/checked-out d)))
          (is (not (v/in-transaction? d))))
        (finally (await! (v/aio-close d))))))
  (testing "ROLLBACK fails: the rollback error surfaces with the original attached as suppressed"
    (let [d (ts/new-db ts/*backend* {:max-size 1})]
      (try
        (let [e (error-of #(v/aio-atomic d
                             (fn [_]
                               (p/let [_ (p/handle (v/aio-execute-sql d (kill-self-sql)) (fn [_ _] nil))]
                                 (throw (ex-info "original" {:type ::original}))))))]
          (is (v/error-type? e :vireo/connection-error) (pr-str e))
          (is (some #(= ::original (:type (ex-data %))) (.getSuppressed ^Throwable (p/unwrap e))) (pr-str e))
          (is (zero? (v/checked-out d))))
        (finally (await! (v/aio-close d)))))))

(deftest ^{:backends #{:postgres :mysql}} max-lifetime-test
  (let [d (ts/new-db ts/*backend* {:max-size 1 :max-lifetime 300 :pool-cleaner-period 100})
        id-sql (case ts/*backend* :postgres "SELECT pg_backend_pid() AS id" :mysql "SELECT CONNECTION_ID() AS id")
        session #(-> (await! (v/aio-execute-sql d id-sql)) :rows first :id)]
    (try
      (let [first-id (session)]
        (is (= first-id (session)) "one pooled connection is reused")
        (is (ts/wait-until #(not= first-id (session)) 60000) "after :max-lifetime the connection is replaced"))
      (finally (await! (v/aio-close d))))))
