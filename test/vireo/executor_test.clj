(ns ^:vireo/per-backend vireo.executor-test
  "The executor chain's seam (vireo.impl.context/add-decorator!): a
  decorator implementing vireo.impl.protocols/Executor sees every statement
  a database sends — queries, transaction control, streams — and learns each
  one's outcome with vireo.impl.executor/observe!, failures included; it
  runs inside the logging and counting decorators."
  (:require [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.impl.context :as ctx]
            [vireo.impl.executor :as ex]
            [vireo.impl.protocols :as proto]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await! error-of]])
  (:import (java.util.function BiConsumer)
           (vireo.impl.executor Statement)))

(deftype Recorder [next log]
  proto/Executor
  (-execute! [_ st]
    (let [^Statement st st
          entry {:sql (.-sql st) :kind (.-kind st)}]
      (ex/observe! st (reify BiConsumer
                        (accept [_ _ e]
                          (swap! log conj (assoc entry :outcome (if e :failed :ok))))))
      (proto/-execute! next st))))

(deftest decorator-sees-every-statement-test
  (let [log (atom [])
        d (ts/new-db ts/*backend*)
        Item (v/model 'ExItem {:database d :table "ex_item" :fields {:name {:type :char :max-length 20 :unique true}}})]
    (try
      (v/with-allow-sync d (v/drop-table! Item {:safe true}) (v/create-table! Item))
      (ctx/add-decorator! d (fn [next] (->Recorder next log)))
      (testing "a query: one entry, its outcome"
        (await! (v/aio-create Item {:name "a"}))
        (is (ts/wait-until #(= 1 (count @log)) 5000))
        (is (= [:query :ok] ((juxt :kind :outcome) (first @log))))
        (is (re-find #"(?i)^INSERT" (:sql (first @log)))))
      (testing "a transaction: BEGIN and COMMIT as control statements, around its queries"
        (reset! log [])
        (await! (v/aio-atomic d (fn [_] (v/aio-create Item {:name "b"}))))
        (let [kinds (mapv :kind @log)]
          (is (= :control (first kinds)))
          (is (= :query (second kinds)))
          (is (= :control (peek kinds)))
          (is (re-find #"(?i)COMMIT" (:sql (peek @log))))))
      (testing "a failure is observed as one"
        (reset! log [])
        (is (v/error-type? (error-of #(v/aio-create Item {:name "a"})) :vireo/unique-violation))
        (is (= [[:query :failed]] (mapv (juxt :kind :outcome) @log))))
      (testing "a stream is one statement"
        (reset! log [])
        (is (= 2 (await! (v/aio-stream (v/select Item) (fn [n _] (inc n)) 0))))
        (is (some #(= [:stream :ok] ((juxt :kind :outcome) %)) @log)))
      (testing "statements are still counted (the decorator runs inside counting)"
        (is (= 1 (second (await! (v/with-call-count (v/aio-get Item {:name "a"})))))))
      (finally
        (v/with-allow-sync d (v/drop-table! Item {:safe true}))
        (await! (v/aio-close d))))))
