(ns ^:vireo/per-backend vireo.statement-cache-test
  "The prepared-statement cache is bounded and can be switched off: MySQL's
  max_prepared_stmt_count is respected, :pgbouncer turns named statements off."
  (:require [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.test-support :as ts :refer [await!]]))

(defn- with-db [opts f]
  (let [d (ts/new-db ts/*backend* opts)]
    (try (f d) (finally (await! (v/aio-close d))))))

(deftest ^{:backends #{:postgres}} pg-named-statements-test
  (testing "by default statements are prepared once per connection and kept"
    (with-db {:max-size 1}
      (fn [d]
        (is (= 256 (:statement-cache-size (v/pool-options d))))
        (await! (v/aio-connection d (fn [_]
                                      (vireo.promise/let [_ (v/aio-execute-sql d "SELECT $1::int + 1" [1])
                                                          r (v/aio-execute-sql d "SELECT count(*) AS n FROM pg_prepared_statements" [])]
                                        (is (pos? (:n (first (:rows r))))))))))))
  (testing ":pgbouncer true (transaction-mode poolers) keeps no named statement"
    (with-db {:max-size 1 :pgbouncer true}
      (fn [d]
        (is (= 0 (:statement-cache-size (v/pool-options d))))
        (await! (v/aio-connection d (fn [_]
                                      (vireo.promise/let [_ (v/aio-execute-sql d "SELECT $1::int + 1" [1])
                                                          r (v/aio-execute-sql d "SELECT count(*) AS n FROM pg_prepared_statements" [])]
                                        (is (zero? (:n (first (:rows r))))))))))))
  (testing ":cache-prepared-statements false does the same"
    (with-db {:cache-prepared-statements false}
      (fn [d] (is (= 0 (:statement-cache-size (v/pool-options d))))))))

(deftest ^{:backends #{:mysql}} mysql-max-prepared-stmt-count-test
  (testing "without a connection Vireo assumes MySQL's default (16382) and keeps the pool within half of it"
    (with-db {:max-size 64}
      (fn [d] (is (= 127 (:statement-cache-size (v/pool-options d)))))))
  (testing "aio-connect reads the server's limit"
    ;; raised, never lowered: lowering it under the statements other pools
    ;; hold would make every prepare on the server fail
    (let [admin (ts/db)
          old (long (:v (first (:rows (await! (v/aio-execute-sql admin "SELECT @@GLOBAL.max_prepared_stmt_count AS v"))))))]
      (try
        (await! (v/aio-execute-sql admin (str "SET GLOBAL max_prepared_stmt_count = " (+ old 13618))))
        (with-db {:max-size 100 :prepared-statement-cache-max-size 10000}
          (fn [d]
            (is (= (quot (quot 16382 2) 100) (:statement-cache-size (v/pool-options d))) "before: MySQL's default assumed")
            (await! (v/aio-connect d))
            (is (= (quot (quot (+ old 13618) 2) 100) (:statement-cache-size (v/pool-options d))) "after: the server's value")
            (is (= [{:x 2}] (:rows (await! (v/aio-execute-sql d "SELECT ? + 1 AS x" [1])))))))
        (finally
          (await! (v/aio-execute-sql admin (str "SET GLOBAL max_prepared_stmt_count = " old))))))))
