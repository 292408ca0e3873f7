(ns ^:vireo/per-backend vireo.get-or-create-test
  "aio-get-or-create racing another creator of the same unique key, and
  function defaults, against each backend."
  (:require [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.signals :as sig]
            [vireo.test-support :as ts :refer [await! error-of]]))

(deftest get-or-create-race-test
  (let [Key (ts/model 'GocKey {:table "gockey" :fields [:k {:type :char :max-length 20 :unique true}
                                                       :by {:type :text}]})]
    (ts/with-tables [Key]
      (testing "two concurrent aio-get-or-create of one key: one creates, the other returns [existing false]"
        ;; both callers miss the row before either inserts: each pre-save (sent
        ;; after the lookup, before the INSERT) waits until both have arrived
        (let [arrived (atom 0)
              both (p/promise)
              gate (fn [_ _ _]
                     (when (= 2 (swap! arrived inc)) (p/resolve! both true))
                     both)
              [r1 r2] (sig/with-receivers [sig/pre-save [[gate {:sender Key}]]]
                        (let [f1 (v/aio-get-or-create Key {:k "same"} {:defaults {:by "first"}})
                              f2 (v/aio-get-or-create Key {:k "same"} {:defaults {:by "second"}})]
                          [(await! f1) (await! f2)]))]
          (is (= 2 @arrived) "both callers reached the insert")
          (is (= #{true false} (set (map second [r1 r2]))) "exactly one created")
          (is (= (first r1) (first r2)) "the loser returns the winner's row")
          (is (= [(first r1)] (await! (v/aio-execute (v/select Key)))) "one row was written")))
      (testing "a unique violation on another column is not mistaken for the race"
        (let [Two (ts/model 'GocTwo {:table "goctwo" :fields [:a {:type :integer :unique true} :b {:type :integer :unique true}]})]
          (ts/with-tables [Two]
            (await! (v/aio-create Two {:a 1 :b 1}))
            (is (v/error-type? (error-of #(v/aio-get-or-create Two {:a 2} {:defaults {:b 1}})) :vireo/unique-violation))))))))

(deftest function-default-test
  (let [n (atom 0)
        Ticket (ts/model 'GocTicket {:table "gocticket"
                                     :fields [:code {:type :char :max-length 20 :default #(str "T-" (swap! n inc))}
                                              :state {:type :text :default "open"}]})]
    (ts/with-tables [Ticket]
      (testing "called once per row by aio-create, insert, insert-many and aio-get-or-create"
        (is (= "T-1" (:code (await! (v/aio-create Ticket {})))))
        (await! (v/aio-execute (v/insert Ticket {})))
        (await! (v/aio-execute (v/insert-many Ticket [{} {:code "given"} {}])))
        (is (= [{:code "T-5" :state "new"} true] (update (await! (v/aio-get-or-create Ticket {:state "new"})) 0 dissoc :id)))
        (is (= 5 @n) "a given value is not replaced by calling the default")
        (is (= ["T-1" "T-2" "T-3" "given" "T-4" "T-5"]
               (mapv :code (await! (v/aio-execute (v/order-by (v/select Ticket) :id)))))))
      (testing "a function default is not the column's DEFAULT: a plain SQL insert without it fails"
        (is (v/error-type? (error-of #(v/aio-execute-sql (ts/db) "INSERT INTO gocticket (state) VALUES ('x')"))
                           :vireo/not-null-violation))
        (is (= "open" (:state (await! (v/aio-get Ticket {:code "T-1"}))))
            "a constant default is both")))))
