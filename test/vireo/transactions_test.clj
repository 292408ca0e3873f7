(ns ^:vireo/per-backend vireo.transactions-test
  "Connection context and transactions (peewee-async §4–5), on every backend."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await! error-of]])
  (:import (java.util.concurrent CompletableFuture)
           (java.util.function Function BiFunction)))

(defn- item-model []
  (ts/model 'Item {:fields {:name {:type :char :max-length 60 :unique true}}}))

(defn- names [m]
  (set (map :name (:rows (await! (v/aio-execute-sql (:database m) (str "SELECT name FROM " (v/table-name m))))))))

(defn- boom [] (ex-info "boom" {:type ::boom}))

(deftest atomic-commits-and-rolls-back-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (testing "success commits and yields the body's value"
        (is (= :done (await! (v/aio-atomic d (fn [_] (p/let [_ (v/aio-create Item {:name "a"})] :done))))))
        (is (= #{"a"} (names Item))))
      (testing "a failure rolls back and propagates the original exception"
        (let [e (error-of #(v/aio-atomic d (fn [_] (p/let [_ (v/aio-create Item {:name "b"})] (throw (boom))))))]
          (is (= ::boom (:type (ex-data e))))
          (is (= #{"a"} (names Item)))))
      (testing "a synchronous throw in the body is a rollback too"
        (is (= ::boom (:type (ex-data (error-of #(v/aio-atomic d (fn [_] (throw (boom))))))))))
      (testing "a database error inside propagates typed and the block is rolled back"
        (let [e (error-of #(v/aio-atomic d (fn [_] (p/let [_ (v/aio-create Item {:name "c"})
                                                           _ (v/aio-create Item {:name "a"})]
                                                     :never))))]
          (is (v/error-type? e :vireo/unique-violation))
          (is (= #{"a"} (names Item)))))
      (is (not (v/in-transaction? d)) "the context is cleared afterwards"))))

(deftest nested-atomic-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (testing "an inner failure caught by the outer body rolls back only the inner block"
        (await! (v/aio-atomic d
                  (fn [_]
                    (p/let [_ (v/aio-create Item {:name "outer-1"})
                            r (-> (v/aio-atomic d (fn [_] (p/let [_ (v/aio-create Item {:name "inner"})]
                                                            (throw (boom)))))
                                  (p/catch (fn [e] (:type (ex-data e)))))
                            _ (v/aio-create Item {:name "outer-2"})]
                      (is (= ::boom r))
                      (is (v/in-transaction? d))))))
        (is (= #{"outer-1" "outer-2"} (names Item))))
      (testing "three levels deep; siblings each get their own savepoint"
        (await! (v/aio-atomic d
                  (fn [_]
                    (p/let [_ (v/aio-atomic d (fn [_] (v/aio-create Item {:name "s1"})))
                            _ (p/catch (v/aio-atomic d (fn [_]
                                                         (p/let [_ (v/aio-create Item {:name "s2"})
                                                                 _ (v/aio-atomic d (fn [_] (v/aio-create Item {:name "s2-deep"})))]
                                                           (throw (boom)))))
                                       (fn [_] nil))
                            _ (v/aio-atomic d (fn [_] (p/let [_ (v/aio-atomic d (fn [_] (v/aio-create Item {:name "s3-deep"})))]
                                                        (v/aio-create Item {:name "s3"}))))]
                      nil))))
        (is (= #{"outer-1" "outer-2" "s1" "s3" "s3-deep"} (names Item))))
      (testing "an uncaught inner failure rolls back the whole transaction"
        (is (= ::boom (:type (ex-data (error-of #(v/aio-atomic d (fn [_]
                                                                   (p/let [_ (v/aio-create Item {:name "x1"})]
                                                                     (v/aio-atomic d (fn [_] (throw (boom)))))))))))))
        (is (not (contains? (names Item) "x1"))))))

(deftest transaction-refuses-to-nest-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (let [e (error-of #(v/aio-atomic d (fn [_] (p/let [_ (v/aio-create Item {:name "t"})]
                                                   (v/aio-transaction d (fn [_] (v/aio-create Item {:name "never"})))))))]
        (is (v/error-type? e :vireo/operational-error))
        (is (str/includes? (ex-message e) "Transaction already opened"))
        (is (= #{} (names Item)) "the enclosing block saw the error and rolled back"))
      (testing "aio-atomic inside aio-transaction is a savepoint"
        (await! (v/aio-transaction d (fn [_] (p/let [_ (v/aio-create Item {:name "t1"})
                                                     _ (p/catch (v/aio-atomic d (fn [_] (p/let [_ (v/aio-create Item {:name "t2"})]
                                                                                            (throw (boom)))))
                                                                (fn [_] nil))]
                                               nil))))
        (is (= #{"t1"} (names Item)))))))

(deftest connection-scope-test
  (let [d (ts/db)]
    (testing "nested scopes reuse the same connection; only the outermost releases it"
      (let [[a b inside] (await! (v/aio-connection d
                                   (fn [a]
                                     (v/aio-connection d
                                       (fn [b] [a b (v/checked-out d)])))))]
        (is (identical? (:conn a) (:conn b)))
        (is (= 1 inside))
        (is (zero? (v/checked-out d)))))
    (testing "tasks started outside any scope each get their own connection; five lookups on a pool of 5"
      (let [d5 (ts/new-db ts/*backend* {:max-size 5})
            gate (p/promise) arrived (atom 0)]
        (try
          (let [conns (await! (p/all (repeatedly 5 #(v/aio-connection d5 (fn [c]
                                                                           (when (= 5 (swap! arrived inc)) (p/resolve! gate nil))
                                                                           (p/then gate (fn [_] (:conn c))))))))]
            (is (= 5 (count (distinct conns)))))
          (is (= (repeat 10 [{:one 1}])
                 (map :rows (await! (p/all (repeatedly 10 #(v/aio-execute-sql d5 "SELECT 1 AS one")))))))
          (is (zero? (v/checked-out d5)))
          (finally (await! (v/aio-close d5))))))))

(deftest plain-completable-future-chaining-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (testing "stages chained with thenCompose/thenApply/handle inside aio-atomic run in the transaction"
        (let [e (error-of
                 #(v/aio-atomic d
                    (fn [_]
                      (-> ^CompletableFuture (v/aio-create Item {:name "cf-1"})
                          (.thenCompose (reify Function (apply [_ _] (v/aio-create Item {:name "cf-2"}))))
                          (.thenApply (reify Function (apply [_ _] (v/aio-create Item {:name "cf-3"}))))
                          (.thenCompose (reify Function (apply [_ f] f)))
                          (.handle (reify BiFunction (apply [_ v e] (v/aio-create Item {:name "cf-4"}))))
                          (.thenCompose (reify Function (apply [_ f] f)))
                          (.thenApply (reify Function (apply [_ _]
                                                        (is (v/in-transaction? d) "the context is visible here")
                                                        (throw (boom)))))))))]
          (is (= ::boom (:type (ex-data (p/unwrap e)))))
          (is (= #{} (names Item)) "every chained insert was rolled back with the transaction")))
      (testing "and committed with it"
        (await! (v/aio-atomic d (fn [_] (.thenCompose ^CompletableFuture (v/aio-create Item {:name "c1"})
                                                      (reify Function (apply [_ _] (v/aio-create Item {:name "c2"})))))))
        (is (= #{"c1" "c2"} (names Item)))))))

(deftest explicit-handle-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (testing "an explicit handle works where no context is bound (another thread), and wins"
        (let [e (error-of #(v/aio-atomic d
                             (fn [tx]
                               (p/let [_ (p/->future (CompletableFuture/supplyAsync
                                                      (reify java.util.function.Supplier
                                                        (get [_] (await! (v/aio-create Item {:name "h1"} {:connection tx}))))))]
                                 (throw (boom))))))]
          (is (= ::boom (:type (ex-data (p/unwrap e)))))
          (is (= #{} (names Item)))))
      (testing "a handle of another database is refused"
        (let [other (ts/new-db ts/*backend*)]
          (try
            (let [e (error-of #(v/aio-atomic d (fn [tx] (v/aio-execute-sql other "SELECT 1" [] {:connection tx}))))]
              (is (v/error-type? e :vireo/interface-error))
              (is (str/includes? (ex-message e) "belongs to")))
            (finally (await! (v/aio-close other))))))
      (testing "an enclosing handle used inside a nested block is refused (it would wait for the block)"
        (let [e (error-of #(v/aio-atomic d (fn [outer] (v/aio-atomic d (fn [_] (v/aio-create Item {:name "z"} {:connection outer}))))))]
          (is (v/error-type? e :vireo/interface-error))
          (is (str/includes? (ex-message e) "nested block")))))))

(deftest fan-out-inside-transaction-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (testing "three concurrent inserts inside a block that rolls back leave 0 rows"
        (is (= ::boom (:type (ex-data (p/unwrap (error-of #(v/aio-atomic d (fn [_]
                                                                             (p/let [_ (p/all (for [i (range 3)] (v/aio-create Item {:name (str "p" i)})))]
                                                                               (throw (boom)))))))))))
        (is (= #{} (names Item))))
      (testing "and commit together"
        (await! (v/aio-atomic d (fn [_] (p/all (for [i (range 3)] (v/aio-create Item {:name (str "p" i)}))))))
        (is (= #{"p0" "p1" "p2"} (names Item))))
      (testing "concurrent nested blocks run one after another, each with its own savepoint"
        (await! (v/aio-atomic d (fn [_]
                                  (p/all (for [i (range 3)]
                                           (p/catch (v/aio-atomic d (fn [_] (p/let [_ (v/aio-create Item {:name (str "n" i)})]
                                                                              (when (= i 1) (throw (boom)))
                                                                              i)))
                                                    (fn [_] :failed)))))))
        (is (= #{"p0" "p1" "p2" "n0" "n2"} (names Item)))))))

(deftest concurrent-tasks-test
  ;; peewee-async §5: three tasks, each in its own transaction with nested
  ;; blocks; the second fails inside its nested block and catches it.
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (await! (p/all (for [t (range 3)]
                       (v/aio-atomic d
                         (fn [_]
                           (p/let [_ (v/aio-create Item {:name (str "task" t "-outer")})
                                   _ (p/catch (v/aio-atomic d (fn [_]
                                                                (p/let [_ (v/aio-create Item {:name (str "task" t "-inner")})]
                                                                  (when (= t 1) (throw (boom))))))
                                              (fn [_] nil))]
                             (v/aio-create Item {:name (str "task" t "-after")})))))))
      (is (= #{"task0-outer" "task0-inner" "task0-after"
               "task1-outer" "task1-after"
               "task2-outer" "task2-inner" "task2-after"}
             (names Item))))))

(deftest manual-control-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (testing "aio-begin outside a connection scope is a clear error"
        (let [e (error-of #(v/aio-begin d))]
          (is (v/error-type? e :vireo/operational-error))
          (is (str/includes? (ex-message e) "aio-connection"))))
      (testing "begin / savepoint / rollback-to / commit"
        (await! (v/aio-connection d
                  (fn [_]
                    (p/let [tx (v/aio-begin d)
                            _ (v/aio-create Item {:name "m1"})
                            sp (v/aio-savepoint d)
                            _ (v/aio-create Item {:name "m2"})
                            _ (v/aio-rollback sp)
                            _ (is (v/in-transaction? d))
                            _ (v/aio-commit tx)]
                      (is (not (v/in-transaction? d)))))))
        (is (= #{"m1"} (names Item))))
      (testing "aio-atomic inside a manual transaction becomes a savepoint, so a manual rollback undoes it"
        (await! (v/aio-connection d
                  (fn [_]
                    (p/let [tx (v/aio-begin d)
                            _ (v/aio-atomic d (fn [_] (v/aio-create Item {:name "m3"})))
                            e (p/catch (v/aio-transaction d (fn [_] nil)) identity)
                            _ (is (str/includes? (ex-message e) "already opened"))
                            _ (v/aio-rollback tx)]
                      nil))))
        (is (= #{"m1"} (names Item))))
      (testing "a scope ending with a manual transaction still open rolls it back"
        (await! (v/aio-connection d (fn [_] (p/let [_ (v/aio-begin d)] (v/aio-create Item {:name "m4"})))))
        (is (= #{"m1"} (names Item)))
        (is (zero? (v/checked-out d))))
      (testing "aio-savepoint needs an open transaction"
        (is (v/error-type? (error-of #(v/aio-connection d (fn [_] (v/aio-savepoint d)))) :vireo/operational-error)))
      (testing "aio-begin refuses :retry (it cannot run the transaction again) before sending BEGIN"
        (let [e (error-of #(v/aio-connection d (fn [_] (v/aio-begin d {:retry 2}))))]
          (is (v/error-type? e :vireo/interface-error))
          (is (str/includes? (ex-message e) ":retry")))
        (is (zero? (v/checked-out d)))))))

(deftest isolation-and-read-only-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (testing "a read-only transaction refuses writes"
        (let [e (error-of #(v/aio-atomic d {:read-only true} (fn [_] (v/aio-create Item {:name "ro"}))))]
          (is (v/error-type? e :vireo/database-error) (pr-str e))
          (is (= #{} (names Item)))))
      (testing "after it, the connection writes again (read-only does not leak)"
        (dotimes [i 6] (await! (v/aio-atomic d (fn [_] (v/aio-create Item {:name (str "w" i)})))))
        (is (= 6 (count (names Item)))))
      (when (= ts/*backend* :postgres)
        (testing "the isolation level reaches the server"
          (doseq [[level shown] {:serializable "serializable" :read-committed "read committed"
                                 :repeatable-read "repeatable read"}]
            (is (= shown (await! (v/aio-atomic d {:isolation level}
                                   (fn [_] (p/map (v/aio-execute-sql d "SHOW transaction_isolation")
                                                  #(-> % :rows first :transaction-isolation))))))))))
      (when (#{:postgres :mysql} ts/*backend*)
        (testing "read committed sees a concurrent commit, repeatable read does not"
          (let [outside (fn [] ;; a plain thread: no Vireo context, so its own pooled connection
                          (p/->future (CompletableFuture/supplyAsync
                                       (reify java.util.function.Supplier
                                         (get [_] (await! (v/aio-create Item {:name (str (gensym "c"))})))))))
                count-rows #(p/map (v/aio-execute-sql d (str "SELECT count(*) AS n FROM " (v/table-name Item)))
                                   (comp :n first :rows))
                grows? (fn [level]
                         (await! (v/aio-atomic d {:isolation level}
                                   (fn [_] (p/let [before (count-rows)
                                                   _ (outside)
                                                   after (count-rows)]
                                             (> after before))))))]
            (is (true? (grows? :read-committed)))
            (is (false? (grows? :repeatable-read))))))
      (testing "every level is accepted (SQLite is always serializable)"
        (doseq [level [:read-uncommitted :read-committed :repeatable-read :serializable]]
          (is (= level (await! (v/aio-atomic d {:isolation level} (fn [_] level)))))))
      (testing "options are checked"
        (is (v/error-type? (error-of #(v/aio-atomic d {:isolation :chaos} (fn [_] nil))) :vireo/interface-error))
        (is (v/error-type? (error-of #(v/aio-atomic d (fn [_] (v/aio-atomic d {:isolation :serializable} (fn [_] nil)))))
                           :vireo/interface-error))))))

(deftest ^{:backends #{:postgres :sqlite}} commit-failure-test
  ;; A deferred constraint fails at COMMIT: the error surfaces, nothing of the
  ;; block persists and the connection goes back clean.
  (let [d (ts/db)
        ddl (case ts/*backend*
              :postgres ["CREATE TABLE parent_t (id INTEGER PRIMARY KEY)"
                         "CREATE TABLE child_t (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent_t (id) DEFERRABLE INITIALLY DEFERRED)"]
              :sqlite ["CREATE TABLE parent_t (id INTEGER PRIMARY KEY)"
                       "CREATE TABLE child_t (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent_t (id) DEFERRABLE INITIALLY DEFERRED)"])]
    (v/with-allow-sync d
      (v/execute-sql! d "DROP TABLE IF EXISTS child_t")
      (v/execute-sql! d "DROP TABLE IF EXISTS parent_t")
      (doseq [s ddl] (v/execute-sql! d s)))
    (try
      (let [e (error-of #(v/aio-atomic d (fn [_] (p/let [_ (v/aio-execute-sql d "INSERT INTO parent_t (id) VALUES (1)")]
                                                   (v/aio-execute-sql d "INSERT INTO child_t (id, parent_id) VALUES (1, 42)")))))]
        (is (v/error-type? e :vireo/foreign-key-violation) (pr-str e))
        (is (= [{:n 0}] (:rows (await! (v/aio-execute-sql d "SELECT count(*) AS n FROM parent_t")))))
        (testing "the pool's connections are clean: a new transaction works"
          (await! (v/aio-atomic d (fn [_] (v/aio-execute-sql d "INSERT INTO parent_t (id) VALUES (2)"))))
          (is (= [{:n 1}] (:rows (await! (v/aio-execute-sql d "SELECT count(*) AS n FROM parent_t")))))))
      (finally
        (v/with-allow-sync d
          (v/execute-sql! d "DROP TABLE IF EXISTS child_t")
          (v/execute-sql! d "DROP TABLE IF EXISTS parent_t"))))))

(deftest ^{:backends #{:postgres}} aborted-transaction-savepoint-test
  ;; On PostgreSQL an error aborts the transaction; rolling back to the nested
  ;; block's savepoint lets the outer block continue and commit.
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (await! (v/aio-atomic d (fn [_]
                                (p/let [_ (v/aio-create Item {:name "keep"})
                                        _ (p/catch (v/aio-atomic d (fn [_] (v/aio-create Item {:name "keep"})))
                                                   (fn [_] nil))]
                                  (v/aio-create Item {:name "after"})))))
      (is (= #{"keep" "after"} (names Item))))))

(deftest late-operation-test
  (let [Item (item-model) d (ts/db)
        late (promise)]
    (ts/with-tables [Item]
      (testing "an operation a block's callback starts after the block ended fails instead of escaping"
        (await! (v/aio-atomic d (fn [_]
                                  ;; registered inside the block, runs 100 ms after it committed
                                  (deliver late (p/then (p/delay 100) (fn [_] (v/aio-create Item {:name "escaped"}))))
                                  (v/aio-create Item {:name "in"}))))
        (let [e (error-of (fn [] @late))]
          (is (v/error-type? e :vireo/interface-error))
          (is (str/includes? (str (ex-message e)) "already ended")))
        (is (= #{"in"} (names Item)))))))

(deftest pool-closed-mid-transaction-test
  ;; A writer inserts row 1, the pool is closed and reconnected, the writer
  ;; inserts row 2 and commits: 0 or 2 rows, never 1; nothing leaks.
  (let [d (ts/new-db ts/*backend*)
        Item (v/bind-database (item-model) d)]
    (try
      (v/with-allow-sync d (v/drop-table! Item {:safe true}) (v/create-table! Item))
      (let [result (error-of #(v/aio-atomic d (fn [_]
                                                (p/let [_ (v/aio-create Item {:name "row1"})
                                                        _ (v/aio-close d)
                                                        _ (v/aio-connect d)]
                                                  (v/aio-create Item {:name "row2"})))))]
        (is (contains? #{0 2} (count (names Item))) (str "result: " (pr-str result))))
      (is (zero? (v/checked-out d)))
      (finally
        (v/with-allow-sync d (v/drop-table! Item {:safe true}))
        (await! (v/aio-close d))))))
