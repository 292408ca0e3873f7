(ns ^:vireo/per-backend vireo.signals-live-test
  "Which operations send signals, against each backend: the single-instance
  writes do; the paths docs/signals.md lists as silent send nothing."
  (:require [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.signals :as sig]
            [vireo.test-support :as ts :refer [await!]]))

(defn- models []
  (let [Shelf (ts/model 'SgShelf {:table "sgshelf" :fields {:name {:type :text}}})
        Book (ts/model 'SgBook {:table "sgbook"
                                :fields [:shelf {:type :foreign-key :model Shelf :backref :books}
                                         :name {:type :text}
                                         :tags {:type :many-to-many :model Shelf :backref :tagged}]})
        Note (ts/model 'SgNote {:table "sgnote"
                                :fields [:shelf {:type :foreign-key :model Shelf :null true :backref :notes}
                                         :name {:type :text}]})]
    [Shelf Book Note]))

(defn- recording
  "Runs (f) with a receiver on every built-in signal recording
  [signal model-name instance-name]; returns the records."
  [f]
  (let [log (atom [])
        rec (fn [tag] (fn [m inst _] (swap! log conj [tag (:name m) (:name inst)]) nil))]
    (sig/with-receivers [sig/pre-save (rec :pre-save) sig/post-save (rec :post-save)
                         sig/pre-delete (rec :pre-delete) sig/post-delete (rec :post-delete)
                         sig/pre-init (rec :pre-init)]
      (f))
    @log))

(deftest silent-paths-test
  (let [[Shelf Book Note] (models)]
    (ts/with-tables [Shelf Book Note (v/through-model Book :tags)]
      (let [[s1 s2] (mapv #(await! (v/aio-create Shelf {:name %})) ["s1" "s2"])
            b1 (await! (v/aio-create Book {:shelf s1 :name "b1"}))
            _b2 (await! (v/aio-create Book {:shelf s1 :name "b2"}))
            _n1 (await! (v/aio-create Note {:shelf s1 :name "n1"}))]
        (testing "single-instance writes send their signals (the control)"
          (is (= [[:pre-save "SgShelf" "s3"] [:post-save "SgShelf" "s3"]
                  [:pre-delete "SgShelf" "s3"] [:post-delete "SgShelf" "s3"]]
                 (recording #(let [s3 (await! (v/aio-create Shelf {:name "s3"}))]
                               (await! (v/aio-delete-instance Shelf s3)))))))
        (testing "aio-add, aio-remove and aio-clear send nothing (the through rows are written in bulk)"
          (is (= [] (recording #(do (await! (v/aio-add Book b1 :tags [s1 s2]))
                                    (await! (v/aio-remove Book b1 :tags s2))
                                    (await! (v/aio-clear Book b1 :tags)))))))
        (testing "rows loaded by queries send no pre-init (nor anything else)"
          (is (= [] (recording #(do (await! (v/aio-get Shelf (:id s1)))
                                    (await! (v/aio-get-or-none Shelf {:name "s2"}))
                                    (await! (v/aio-execute (-> (v/select Book Shelf) (v/join Shelf))))
                                    (await! (v/aio-fetch Book (await! (v/aio-get Book (:id b1))) :shelf))
                                    (await! (v/aio-prefetch (v/select Shelf) (v/select Book)))
                                    (await! (v/aio-get-or-create Shelf {:name "s1"}))
                                    (await! (v/aio-related Book b1 :tags)))))))
        (testing "vireo.core/instance sends pre-init"
          (is (= [[:pre-init "SgShelf" "built"]] (recording #(v/instance Shelf {:name "built"})))))
        (testing "bulk queries send nothing"
          (is (= [] (recording #(do (await! (v/aio-execute (v/insert Shelf {:name "bulk"})))
                                    (await! (v/aio-execute (v/insert-many Shelf [{:name "bulk2"}])))
                                    (await! (v/aio-execute (-> (v/update Shelf {:name "bulk!"}) (v/where {:name "bulk"}))))
                                    (await! (v/aio-execute (-> (v/delete Shelf) (v/where {:name__in ["bulk!" "bulk2"]}))))
                                    (await! (v/aio-execute-sql (ts/db) "DELETE FROM sgshelf WHERE name = 'none'")))))))
        (testing "a recursive delete signals the instance only: dependants deleted or unlinked send nothing"
          (is (= [[:pre-delete "SgShelf" "s1"] [:post-delete "SgShelf" "s1"]]
                 (recording #(await! (v/aio-delete-instance Shelf s1 {:recursive true})))))
          (is (= [] (await! (v/aio-execute (v/select Book)))) "its books were deleted")
          (is (= [nil] (mapv :shelf (await! (v/aio-execute (v/select Note))))) "its note was unlinked"))))))

(deftest single-instance-writes-test
  (let [[Shelf] (models)
        log (atom [])
        rec (fn [tag] (fn [m inst kw] (swap! log conj [tag (:name m) (:name inst) kw]) nil))
        recording (fn [f]
                    (reset! log [])
                    (sig/with-receivers [sig/pre-save (rec :pre-save) sig/post-save (rec :post-save)
                                         sig/pre-delete (rec :pre-delete) sig/post-delete (rec :post-delete)]
                      (f))
                    @log)]
    (ts/with-tables [Shelf]
      (testing "aio-get-or-create sends the save signals, {:created true}, when it creates"
        (is (= [[:pre-save "SgShelf" "g" {:created true}] [:post-save "SgShelf" "g" {:created true}]]
               (recording #(is (true? (second (await! (v/aio-get-or-create Shelf {:name "g"})))))))))
      (testing "inside a transaction too (the insert runs in a savepoint)"
        (is (= [[:pre-save "SgShelf" "t" {:created true}] [:post-save "SgShelf" "t" {:created true}]]
               (recording #(await! (v/aio-atomic (ts/db) (fn [_] (v/aio-get-or-create Shelf {:name "t"}))))))))
      (testing "aio-save sends {:created false} for an update, {:created true} for an insert"
        (let [g (await! (v/aio-get Shelf {:name "g"}))]
          (is (= [[:pre-save "SgShelf" "g2" {:created false}] [:post-save "SgShelf" "g2" {:created false}]
                  [:pre-save "SgShelf" "new" {:created true}] [:post-save "SgShelf" "new" {:created true}]]
                 (recording #(do (await! (v/aio-save Shelf (assoc g :name "g2")))
                                 (await! (v/aio-save Shelf {:name "new"}))))))))
      (testing "a receiver connected through vireo.signals hears the operations (one registry)"
        (let [heard (atom [])
              f (fn [_ inst _] (swap! heard conj (:name inst)))]
          (sig/with-receivers [sig/post-delete nil]
            (sig/connect! sig/post-delete f {:sender Shelf})
            (await! (v/aio-delete-instance Shelf (await! (v/aio-get Shelf {:name "new"}))))
            (sig/disconnect! sig/post-delete f {:sender Shelf}))
          (is (= ["new"] @heard)))))))
