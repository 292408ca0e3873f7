(ns ^:vireo/per-backend vireo.call-count-test
  "Query counting (toucan2's with-call-count): the statements operations
  send, counted per block, also across async callbacks; transaction control
  is not counted."
  (:require [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.impl.db :as db]
            [vireo.impl.executor :as ex]
            [vireo.impl.stream :as stream]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(defmacro ^:private with-call-count
  "(with-call-count [n] body…): body runs with statements counted; (n) is
  the count so far. (What vireo.core/with-call-count expands to.)"
  [[n] & body]
  `(let [c# (ex/call-counter)
         ~n (fn [] (ex/call-count c#))]
     (ex/with-call-counter* c# (fn [] ~@body))))

(defn- item-model []
  (ts/model 'CountItem {:table "count_item"
                        :fields {:name {:type :char :max-length 60 :unique true}}}))

(deftest single-operations-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (with-call-count [n]
        (is (zero? (n)))
        (let [a (await! (v/aio-create Item {:name "a"}))]
          (is (= 1 (n)))
          (await! (v/aio-get Item (:id a)))
          (await! (v/aio-get-or-none Item {:name "zz"}))
          (is (= 3 (n)))
          (await! (v/aio-save Item (assoc a :name "a2")))
          (await! (v/aio-execute Item {:select [:name] :from :count_item}))
          (await! (v/aio-execute-sql d "SELECT 1 AS one"))
          (is (= 6 (n)))
          (testing "a statement that fails was sent: it counts"
            (is (v/error-type? (error-of #(v/aio-create Item {:name "a2"})) :vireo/integrity-error))
            (is (v/error-type? (error-of #(v/aio-get Item {:name "nobody"})) :vireo/does-not-exist))
            (is (= 8 (n))))
          (testing "get-or-create: one read when the row exists, read and insert when not"
            (let [before (n)]
              (await! (v/aio-get-or-create Item {:name "a2"}))
              (is (= 1 (- (n) before)))
              (await! (v/aio-get-or-create Item {:name "b"}))
              (is (= 3 (- (n) before)))))
          (await! (v/aio-delete-instance Item a))
          (is (= 12 (n))))))))

(deftest transactions-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (testing "an aio-atomic with two creates is two statements (BEGIN and COMMIT are not counted)"
        (with-call-count [n]
          (await! (v/aio-atomic d (fn [_] (p/let [_ (v/aio-create Item {:name "t1"})]
                                            (v/aio-create Item {:name "t2"})))))
          (is (= 2 (n)))))
      (testing "savepoints are not counted either, nor the rollback of a failed block"
        (with-call-count [n]
          (await! (v/aio-atomic d
                    (fn [_]
                      (p/let [_ (v/aio-create Item {:name "t3"})
                              _ (p/catch (v/aio-atomic d (fn [_] (p/let [_ (v/aio-create Item {:name "t4"})]
                                                                   (throw (ex-info "inner" {})))))
                                         (constantly nil))]
                        (v/aio-atomic d (fn [_] (v/aio-get Item {:name "t3"})))))))
          (is (= 3 (n)))))
      (testing "aio-begin / aio-commit in a connection scope"
        (with-call-count [n]
          (await! (v/aio-connection d (fn [_]
                                        (p/let [tx (v/aio-begin d)
                                                _ (v/aio-create Item {:name "t5"})
                                                _ (v/aio-commit tx)]
                                          (v/aio-execute-sql d "SELECT 1 AS one")))))
          (is (= 2 (n))))))))

(deftest concurrent-and-nested-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (await! (v/aio-create Item {:name "c"}))
      (testing "operations started together, on the pool and in a transaction"
        (with-call-count [n]
          (await! (p/all (repeatedly 3 #(v/aio-get Item {:name "c"}))))
          (is (= 3 (n)))
          (await! (v/aio-atomic d (fn [_] (p/all (repeatedly 4 #(v/aio-get Item {:name "c"}))))))
          (is (= 7 (n)))))
      (testing "a nested block counts its own; the enclosing one counts those too"
        (with-call-count [outer]
          (await! (v/aio-get Item {:name "c"}))
          (with-call-count [inner]
            (await! (v/aio-get Item {:name "c"}))
            (await! (v/aio-get Item {:name "c"}))
            (is (= 2 (inner))))
          (is (= 3 (outer)))))
      (testing "the count is the block's: operations after it, or in other threads, are not in it"
        (let [seen (with-call-count [n] (await! (v/aio-get Item {:name "c"})) n)]
          (await! (v/aio-get Item {:name "c"}))
          @(future (await! (v/aio-get Item {:name "c"})))
          (is (= 1 (seen)))))
      (testing "call-count*: for async code, a future of [value count]"
        (is (= [:ok 2] (await! (ex/call-count*
                                #(p/let [_ (v/aio-get Item {:name "c"})
                                         ;; started from a callback on an event loop: still counted
                                         _ (v/aio-get Item {:name "c"})]
                                   :ok))))))
      (testing "synchronous calls"
        (with-call-count [n]
          (v/with-allow-sync d
            (v/execute-sql! d "SELECT 1 AS one")
            (v/execute! d {:select [:name] :from :count_item}))
          (is (= 2 (n))))))))

(deftest stream-counts-once-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (doseq [i (range 5)] (await! (v/aio-create Item {:name (str "s" i)})))
      (with-call-count [n]
        (is (= 5 (await! (stream/reduce-rows d "SELECT name FROM count_item" [] {:fetch-size 2} nil
                                             (fn [c _] (inc c)) 0))))
        (is (= 1 (n)) "a stream is one statement, however many batches it reads")
        (await! (stream/reduce-rows d "SELECT name FROM count_item" [] {:fetch-size 2} nil
                                    (fn [c r] (p/let [_ (v/aio-get Item {:name (:name r)})] (inc c))) 0))
        (is (= 7 (n)) "plus what rf runs: one get per row")))))
