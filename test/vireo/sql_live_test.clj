(ns ^:vireo/per-backend vireo.sql-live-test
  "The vireo.sql grammar extensions run for real on each backend: CTEs,
  window functions, row locking, upserts, CASE and COUNT(DISTINCT …). The
  exact SQL text is asserted in vireo.sql-test; here the backends must
  accept it and return the expected rows."
  (:require [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(defn- backend [] ts/*backend*)

(defn- exec! [q] (await! (v/aio-execute (ts/db) q)))

(defn- drop! [table] (exec! {:drop-table table :if-exists true}))

(defn- with-table*
  "Creates table `t` (dropping a leftover first) with `columns`, runs f,
  drops the table."
  [t columns f]
  (drop! t)
  (exec! {:create-table t :with-columns columns})
  (try (f) (finally (drop! t))))

(defmacro ^:private with-table [t columns & body]
  `(with-table* ~t ~columns (fn [] ~@body)))

(def ^:private item-columns
  [[:id :auto-pk] [:k [:char 20] :not-null :unique] [:grp :text] [:n :integer]])

(defn- seed-items!
  "Rows (k grp n): a x 1, b x 2, c x 3, d y 10, e y 20."
  []
  (exec! {:insert-into :sqllive_item :columns [:k :grp :n]
          :values [["a" "x" 1] ["b" "x" 2] ["c" "x" 3] ["d" "y" 10] ["e" "y" 20]]}))

(defn- not-supported [e] [(v/error-type e) (ex-message e)])

;; ---------------------------------------------------------------- CTEs

(deftest recursive-cte-test
  (testing "WITH RECURSIVE yields 1..5"
    (is (= [1 2 3 4 5]
           (mapv (comp long :n)
                 (exec! {:with-recursive [[[:sqllive_r :n]
                                           {:union-all [{:select [[[:inline 1]]]}
                                                        {:select [[[:+ :n [:inline 1]]]] :from :sqllive_r
                                                         :where [:< :n 5]}]}]]
                         :select [:n] :from :sqllive_r :order-by [:n]}))))))

(deftest cte-test
  (with-table :sqllive_item item-columns
    (seed-items!)
    (testing "two CTEs, the second reading the first, with a column list"
      (is (= [{:g "x" :total 6} {:g "y" :total 30}]
             (mapv #(update % :total long)
                   (exec! {:with [[:sqllive_small {:select [:grp :n] :from :sqllive_item :where [:< :n 100]}]
                                  [[:sqllive_sums :g :total] {:select [:grp [[:sum :n]]] :from :sqllive_small
                                                              :group-by [:grp]}]]
                           :select [:g :total] :from :sqllive_sums :order-by [:g]})))))
    (testing "WITH on a set operation"
      (is (= ["a" "e"]
             (mapv :k (exec! {:with [[:sqllive_c {:select [:k :n] :from :sqllive_item}]]
                              :union [{:select [:k] :from :sqllive_c :where [:= :n 1]}
                                      {:select [:k] :from :sqllive_c :where [:= :n 20]}]
                              :order-by [:k]})))))
    (testing "INSERT … SELECT whose select carries the WITH (every backend)"
      (exec! {:insert-into :sqllive_item :columns [:k :grp :n]
              :select {:with [[:sqllive_c {:select [[[:inline "f"] :k] [[:inline "z"] :grp] [[:inline 7] :n]]}]]
                       :select [:k :grp :n] :from :sqllive_c}})
      (is (= [{:k "f" :n 7}] (exec! {:select [:k :n] :from :sqllive_item :where [:= :grp "z"]}))))
    (let [upd {:with [[:sqllive_c {:select [:k] :from :sqllive_item :where [:= :grp "y"]}]]
               :update :sqllive_item :set {:n [:+ :n 1]} :where [:in :k {:select [:k] :from :sqllive_c}]}
          del {:with [[:sqllive_c {:select [:k] :from :sqllive_item :where [:= :grp "z"]}]]
               :delete-from :sqllive_item :where [:in :k {:select [:k] :from :sqllive_c}]}]
      (if (= :mysql (backend))
        (testing "MariaDB refuses WITH before UPDATE / DELETE"
          (is (= [:vireo/not-supported "WITH on UPDATE is not supported by mysql (MariaDB)"]
                 (not-supported (error-of #(v/aio-execute (ts/db) upd)))))
          (is (= [:vireo/not-supported "WITH on DELETE is not supported by mysql (MariaDB)"]
                 (not-supported (error-of #(v/aio-execute (ts/db) del))))))
        (testing "WITH on UPDATE and DELETE"
          (is (= 2 (exec! upd)))
          (is (= [11 21] (mapv (comp long :n) (exec! {:select [:n] :from :sqllive_item :where [:= :grp "y"]
                                                      :order-by [:n]}))))
          (is (= 1 (exec! del)))
          (is (= 5 (count (exec! {:select [:k] :from :sqllive_item})))))))))

;; ---------------------------------------------------------------- window functions

(deftest window-functions-test
  (with-table :sqllive_item item-columns
    (seed-items!)
    (testing "row_number over partitions, an aggregate over (), a named window, a frame"
      (let [rows (exec! {:select [:k
                                  [[:over [:row-number] {:partition-by [:grp] :order-by [[:n :desc]]}] :rn]
                                  [[:over [:sum :n] {}] :total]
                                  [[:over [:rank] :sqllive_w] :rnk]
                                  [[:over [:sum :n] {:window :sqllive_w
                                                     :frame [:rows :unbounded-preceding :current-row]}] :running]
                                  [[:over [:count :*] {:partition-by [:grp]}] :in-group]]
                         :from :sqllive_item
                         :window [[:sqllive_w {:partition-by [:grp] :order-by [:n]}]]
                         :order-by [:k]})]
        (is (= [{:k "a" :rn 3 :total 36 :rnk 1 :running 1 :in-group 3}
                {:k "b" :rn 2 :total 36 :rnk 2 :running 3 :in-group 3}
                {:k "c" :rn 1 :total 36 :rnk 3 :running 6 :in-group 3}
                {:k "d" :rn 2 :total 36 :rnk 1 :running 10 :in-group 2}
                {:k "e" :rn 1 :total 36 :rnk 2 :running 30 :in-group 2}]
               (mapv (fn [r] (reduce #(update %1 %2 long) r [:rn :total :rnk :running :in-group])) rows)))))
    (testing "a sliding ROWS frame"
      (is (= [1 3 5 13 30]
             (mapv (comp long :s)
                   (exec! {:select [[[:over [:sum :n] {:order-by [:n] :frame [:rows [:preceding 1] :current-row]}] :s]]
                           :from :sqllive_item :order-by [:n]})))))
    (testing "GROUPS frames: postgres and sqlite; refused on MariaDB"
      (let [q {:select [[[:over [:sum :n] {:order-by [:n] :frame [:groups [:preceding 1] [:following 1]]}] :s]]
               :from :sqllive_item :order-by [:n]}]
        (if (= :mysql (backend))
          (is (= [:vireo/not-supported "GROUPS frame is not supported by mysql (MariaDB)"]
                 (not-supported (error-of #(v/aio-execute (ts/db) q)))))
          (is (= [3 6 15 33 30] (mapv (comp long :s) (exec! q)))))))))

;; ---------------------------------------------------------------- row locking

(deftest row-locking-test
  (with-table :sqllive_item item-columns
    (seed-items!)
    (let [d (ts/db)
          lock-a {:select [:k :n] :from :sqllive_item :where [:= :k "a"] :for :update}]
      (if (= :sqlite (backend))
        (testing "SQLite refuses FOR UPDATE / FOR SHARE"
          (is (= [:vireo/not-supported "FOR UPDATE is not supported by sqlite"]
                 (not-supported (error-of #(v/aio-atomic d (fn [_] (v/aio-execute d lock-a)))))))
          (is (= [:vireo/not-supported "FOR SHARE is not supported by sqlite"]
                 (not-supported (error-of #(v/aio-execute d (assoc lock-a :for :share)))))))
        (do
          (testing "FOR UPDATE inside a transaction, then an update of the locked row"
            (is (= [{:k "a" :n 1}]
                   (await! (v/aio-atomic d (fn [_]
                                             (p/let [rows (v/aio-execute d lock-a)
                                                     _ (v/aio-execute d {:update :sqllive_item :set {:n 100}
                                                                         :where [:= :k "a"]})]
                                               rows))))))
            (is (= [{:n 100}] (exec! {:select [:n] :from :sqllive_item :where [:= :k "a"]}))))
          (testing "share lock, NOWAIT and SKIP LOCKED are accepted"
            (is (= 5 (count (await! (v/aio-atomic d (fn [_] (v/aio-execute d {:select [:k] :from :sqllive_item
                                                                              :for [:share :nowait]})))))))
            (is (= 1 (count (await! (v/aio-atomic d (fn [_] (v/aio-execute d (assoc lock-a :for [:update :skip-locked])))))))))
          (testing "while one transaction holds row a, another skips it (SKIP LOCKED) or fails at once (NOWAIT)"
            ;; a second database, so the other transaction has its own
            ;; connection; its pool is opened here, not lazily inside the
            ;; first transaction's callbacks, where Vert.x would warn about a
            ;; new instance created on an event-loop thread
            (let [d2 (ts/new-db (backend))
                  _ (await! (v/aio-execute-sql d2 "SELECT 1"))]
              (try
                (let [[skipped nowait-error]
                      (await! (v/aio-atomic
                               d (fn [_]
                                   (p/let [_ (v/aio-execute d lock-a)
                                           skipped (v/aio-atomic
                                                    d2 (fn [_] (v/aio-execute d2 {:select [:k] :from :sqllive_item
                                                                                  :order-by [:k]
                                                                                  :for [:update :skip-locked]})))
                                           nowait-error (p/catch (v/aio-atomic
                                                                  d2 (fn [_] (v/aio-execute d2 (assoc lock-a :for [:update :nowait]))))
                                                                 (fn [e] e))]
                                     [skipped nowait-error]))))]
                  (is (= ["b" "c" "d" "e"] (mapv :k skipped)))
                  (is (instance? Throwable nowait-error) "NOWAIT fails instead of waiting"))
                (finally (await! (v/aio-close d2)))))))))))

;; ---------------------------------------------------------------- upsert

(def ^:private upsert-columns
  [[:id :auto-pk] [:k [:char 20] :not-null :unique] [:text :text] [:n :integer]])

(defn- up-rows []
  (exec! {:select [:k :text :n] :from :sqllive_up :order-by [:k]}))

(deftest upsert-test
  (with-table :sqllive_up upsert-columns
    (exec! {:insert-into :sqllive_up :columns [:k :text :n] :values [["a" "one" 1]]})
    (testing "DO UPDATE SET from the proposed row updates the existing row and leaves one row"
      (exec! {:insert-into :sqllive_up :columns [:k :text :n] :values [["a" "two" 5]]
              :on-conflict [:k] :do-update-set [:text]})
      (is (= [{:k "a" :text "two" :n 1}] (up-rows))))
    (testing "DO UPDATE SET a map of expressions with [:excluded col], qualified existing columns"
      (exec! {:insert-into :sqllive_up :columns [:k :text :n] :values [["a" "ignored" 5]]
              :on-conflict [:k] :do-update-set {:n [:+ :sqllive_up.n [:excluded :n]]}})
      (is (= [{:k "a" :text "two" :n 6}] (up-rows))))
    (testing "DO NOTHING leaves the old value (MariaDB: a no-op assignment)"
      (exec! {:insert-into :sqllive_up :columns [:k :text :n] :values [["a" "three" 0]]
              :on-conflict [:k] :do-nothing true})
      (exec! {:insert-into :sqllive_up :columns [:k :text :n] :values [["a" "four" 0]] :do-nothing true})
      (is (= [{:k "a" :text "two" :n 6}] (up-rows))))
    (testing "DO NOTHING with :returning: no row on postgres/sqlite, the existing row on MariaDB"
      (is (= (if (= :mysql (backend)) [{:k "a" :text "two"}] [])
             (exec! {:insert-into :sqllive_up :columns [:k :text :n] :values [["a" "five" 0]]
                     :on-conflict [:k] :do-nothing true :returning [:k :text]}))))
    (testing "several rows: new ones are inserted, conflicting ones updated"
      (exec! {:insert-into :sqllive_up :columns [:k :text :n] :values [["a" "five" 0] ["b" "new" 2]]
              :on-conflict [:k] :do-update-set [:text]})
      (is (= [{:k "a" :text "five" :n 6} {:k "b" :text "new" :n 2}] (up-rows))))
    (testing ":returning after the conflict clause yields the updated row"
      (is (= [{:k "b" :text "returned"}]
             (exec! {:insert-into :sqllive_up :columns [:k :text :n] :values [["b" "returned" 0]]
                     :on-conflict [:k] :do-update-set [:text] :returning [:k :text]}))))
    (testing "INSERT … SELECT with an upsert (SQLite needs its WHERE TRUE guard)"
      (exec! {:insert-into :sqllive_up :columns [:k :text :n]
              :select {:select [:k [[:inline "selected"]] :n] :from :sqllive_up}
              :on-conflict [:k] :do-update-set [:text]})
      (is (= [{:k "a" :text "selected" :n 6} {:k "b" :text "selected" :n 2}] (up-rows))))
    (let [guarded {:insert-into :sqllive_up :columns [:k :text :n] :values [["a" "guarded" 0]]
                   :on-conflict [:k] :do-update-set [:text] :do-update-where [:> :sqllive_up.n 5]}]
      (if (= :mysql (backend))
        (testing "MariaDB refuses DO UPDATE … WHERE"
          (is (= [:vireo/not-supported "ON CONFLICT … DO UPDATE … WHERE is not supported by mysql (MariaDB)"]
                 (not-supported (error-of #(v/aio-execute (ts/db) guarded))))))
        (testing "DO UPDATE … WHERE updates only rows that match"
          (exec! guarded)
          (exec! (assoc guarded :values [["b" "guarded" 0]]))
          (is (= [{:k "a" :text "guarded" :n 6} {:k "b" :text "selected" :n 2}] (up-rows))))))
    (when (= :postgres (backend))
      (testing "PostgreSQL needs a conflict target for DO UPDATE"
        (is (= [:vireo/not-supported "ON CONFLICT DO UPDATE without a conflict target is not supported by postgres"]
               (not-supported (error-of #(v/aio-execute (ts/db) {:insert-into :sqllive_up :columns [:k :text]
                                                                 :values [["a" "x"]] :do-update-set [:text]})))))))
    (testing "an upsert does not hide other errors (NOT NULL still fails)"
      (is (some? (error-of #(v/aio-execute (ts/db) {:insert-into :sqllive_up :columns [:k :text]
                                                    :values [[nil "x"]] :on-conflict [:k] :do-nothing true}))))
      (is (= 2 (count (up-rows)))))))

;; ---------------------------------------------------------------- CASE / DISTINCT

(deftest case-and-count-distinct-test
  (with-table :sqllive_item item-columns
    (seed-items!)
    (is (= [{:k "a" :size "small"} {:k "b" :size "small"} {:k "c" :size "medium"}
            {:k "d" :size "large"} {:k "e" :size "large"}]
           (exec! {:select [:k [[:case [:< :n 3] [:inline "small"] [:< :n 10] [:inline "medium"]
                                 :else [:inline "large"]] :size]]
                   :from :sqllive_item :order-by [:k]})))
    (is (= [{:k "a" :big nil} {:k "e" :big "yes"}]
           (exec! {:select [:k [[:case [:> :n 10] [:inline "yes"]] :big]]
                   :from :sqllive_item :where [:in :k ["a" "e"]] :order-by [:k]})))
    (is (= [{:groups 2 :rows 5}]
           (mapv #(-> % (update :groups long) (update :rows long))
                 (exec! {:select [[[:count [:distinct :grp]] :groups] [[:count :*] :rows]] :from :sqllive_item}))))))
