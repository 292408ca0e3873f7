(ns ^:vireo/per-backend vireo.testing-test
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await! error-of]]
            [vireo.testing :as vt]))

(defn- item-model []
  (ts/model 'Item {:fields {:name {:type :char :max-length 60 :unique true}}}))

(defn- names [m]
  (set (map :name (:rows (await! (v/aio-execute-sql (:database m) (str "SELECT name FROM " (v/table-name m))))))))

(deftest rollback-case-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (await! (v/aio-create Item {:name "before"}))
      (vt/with-rollback d
        (testing "async operations from this thread and from others all run in the test transaction"
          @(v/aio-create Item {:name "main"})
          @(.get (java.util.concurrent.CompletableFuture/supplyAsync
                  (reify java.util.function.Supplier (get [_] (v/aio-create Item {:name "other-thread"})))))
          (is (= #{"before" "main" "other-thread"} (names Item))))
        (testing "code under test that uses transactions still works: they become savepoints"
          (is (= :ok @(v/aio-transaction d (fn [_] (p/let [_ (v/aio-create Item {:name "in-tx"})] :ok)))))
          (is (= ::failed @(p/catch (v/aio-atomic d (fn [_] (p/let [_ (v/aio-create Item {:name "rolled"})]
                                                              (throw (ex-info "x" {:type ::failed})))))
                                    #(:type (ex-data %)))))
          (is (= #{"before" "main" "other-thread" "in-tx"} (names Item)))
          (is (= [{:id (:id @(v/aio-get Item {:name "in-tx"})) :name "in-tx"} false]
                 @(v/aio-get-or-create Item {:name "in-tx"}))))
        (testing "manual aio-begin is refused with a clear error"
          (let [e (error-of #(v/aio-connection d (fn [_] (v/aio-begin d))))]
            (is (v/error-type? e :vireo/operational-error))
            (is (str/includes? (ex-message e) "test case")))))
      (testing "afterwards the table is as before"
        (is (= #{"before"} (names Item)))))))

(deftest rollback-case-failure-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (is (thrown-with-msg? clojure.lang.ExceptionInfo #"boom"
                            (vt/with-rollback d
                              @(v/aio-create Item {:name "x"})
                              (throw (ex-info "boom" {})))))
      (is (= #{} (names Item)))
      (testing "the database is usable normally afterwards"
        (await! (v/aio-create Item {:name "y"}))
        (is (= #{"y"} (names Item)))))))

(deftest start-rollback-case-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (let [end (vt/start-rollback-case d)]
        (testing "set-up and tear-down as separate calls: what runs between is in the test transaction"
          @(v/aio-create Item {:name "set-up"})
          @(.get (java.util.concurrent.CompletableFuture/supplyAsync
                  (reify java.util.function.Supplier (get [_] (v/aio-create Item {:name "test-body"})))))
          (is (= #{"set-up" "test-body"} (names Item))))
        (testing "a second case on the same database is refused while one runs"
          (let [e (error-of #(vt/start-rollback-case d))]
            (is (v/error-type? e :vireo/interface-error))
            (is (str/includes? (ex-message e) "already running"))))
        (is (nil? (end))))
      (is (= #{} (names Item)) "ending it rolled everything back")
      (testing "the database is usable normally afterwards, and a new case can start"
        (await! (v/aio-create Item {:name "after"}))
        (let [end (vt/start-rollback-case d)]
          @(v/aio-create Item {:name "second"})
          (end))
        (is (= #{"after"} (names Item)))))))

(deftest with-temp-test
  (let [Item (item-model)]
    (ts/with-tables [Item]
      (vt/with-temp [a [Item {:name "t1"}]
                     b [Item {:name "t2"}]]
        (is (pos-int? (:id a)))
        (is (= "t2" (:name b)))
        (is (= #{"t1" "t2"} (names Item))))
      (is (= #{} (names Item)))
      (is (thrown? clojure.lang.ExceptionInfo
                   (vt/with-temp [_ [Item {:name "t3"}]] (throw (ex-info "inside" {})))))
      (is (= #{} (names Item)) "deleted even when the body throws"))))
