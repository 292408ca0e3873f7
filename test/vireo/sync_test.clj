(ns ^:vireo/per-backend vireo.sync-test
  "vireo.sync, the synchronous mirror of every aio- operation, against real
  databases on every backend: each call's result, the allow-sync and
  event-loop guards, typed errors thrown as themselves, and sync blocks
  nesting with async ones on the same connection context."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.sync :as sync]
            [vireo.test-support :as ts :refer [await! error-of]])
  (:import (java.util.concurrent CompletableFuture)
           (java.util.function Supplier)))

(defn- page-block []
  (ts/model 'SyncBlock {:table "sync_block"
                        :fields {:key {:type :char :max-length 40 :unique true}
                                 :text {:type :text :default ""}}}))

(defn- keys-in [m]
  (await! (v/aio-execute (v/as-vectors (v/order-by (v/select m :key) :key)))))

(deftest every-aio-var-has-a-mirror-test
  (let [aio (->> (ns-publics 'vireo.core) keys (map name) (filter #(str/starts-with? % "aio-")))
        missing (remove #(ns-resolve 'vireo.sync (symbol (subs % 4))) aio)]
    (is (< 30 (count aio)))
    (is (empty? missing) (str "vireo.core's aio- vars without a vireo.sync mirror: " (vec missing)))
    (testing "each mirror has a docstring naming its aio- counterpart"
      (doseq [n aio
              :let [mirror (ns-resolve 'vireo.sync (symbol (subs n 4)))
                    doc (or (:doc (meta mirror))
                            (:doc (meta (ns-resolve 'vireo.sync (symbol (str (subs n 4) "*"))))))]]
        (is (and doc (str/includes? doc n)) (str "vireo.sync/" (subs n 4) " should document " n))))))

(deftest guards-test
  (let [SyncBlock (page-block)
        d (ts/db)]
    (ts/with-tables [SyncBlock]
      (testing "outside allow-sync each call is refused, naming the call and the escape hatch"
        (doseq [[op f] {"get" #(sync/get SyncBlock 1)
                        "create" #(sync/create SyncBlock {:key "x"})
                        "count" #(sync/count (v/select SyncBlock))
                        "execute-sql" #(sync/execute-sql d "SELECT 1")
                        "atomic" #(sync/atomic [_ d] :never)
                        "connection" #(sync/connection [_ d] :never)}]
          (let [e (error-of f)]
            (is (v/error-type? e :vireo/sync-not-allowed) op)
            (is (str/includes? (ex-message e) (str "vireo.sync/" op)))
            (is (str/includes? (ex-message e) "with-allow-sync"))))
        (is (= [] (keys-in SyncBlock)) "nothing ran"))
      (testing "refused on a Vert.x event loop, even inside allow-sync"
        (let [vx (io.vertx.core.Vertx/vertx)
              result (promise)]
          (try
            (v/with-allow-sync d
              (.runOnContext vx (reify io.vertx.core.Handler
                                  (handle [_ _] (deliver result (error-of #(sync/get-or-none SyncBlock 1)))))))
            (is (v/error-type? (deref result 10000 nil) :vireo/sync-not-allowed))
            (is (str/includes? (ex-message (deref result 10000 nil)) "event-loop"))
            (finally (.await (.close vx))))))
      (testing "not conveyed to another thread"
        (v/with-allow-sync d
          (is (v/error-type? @(future (error-of #(sync/count (v/select SyncBlock)))) :vireo/sync-not-allowed))))
      (testing "set-allow-sync! allows them on any thread but event loops"
        (try (v/set-allow-sync! d true)
             (is (= 0 @(future (sync/count (v/select SyncBlock)))))
             (finally (v/set-allow-sync! d false))))
      (is (zero? (v/checked-out d))))))

(deftest instance-and-query-operations-test
  (let [SyncBlock (page-block)
        d (ts/db)]
    (ts/with-tables [SyncBlock]
      (v/with-allow-sync d
        (testing "create, get, get-or-none, get-or-create, save"
          (let [a (sync/create SyncBlock {:key "a" :text "first"})]
            (is (= {:key "a" :text "first"} (select-keys a [:key :text])))
            (is (= a (sync/get SyncBlock (:id a))))
            (is (= a (sync/get SyncBlock {:key "a"})))
            (is (= a (sync/get (v/where (v/select SyncBlock) {:key "a"}))))
            (is (nil? (sync/get-or-none SyncBlock {:key "zz"})))
            (is (nil? (sync/get-or-none (v/where (v/select SyncBlock) {:key "zz"}))))
            (let [[b created?] (sync/get-or-create SyncBlock {:key "b"} {:defaults {:text "second"}})]
              (is created?)
              (is (= "second" (:text b)))
              (is (= [b false] (sync/get-or-create SyncBlock {:key "b"}))))
            (is (= "changed" (:text (sync/save SyncBlock (assoc a :text "changed")))))
            (is (= "changed" (:text (sync/get SyncBlock (:id a)))))))
        (testing "a typed error is thrown as itself, pointing at the caller's frame"
          (let [e (error-of #(sync/get SyncBlock {:key "missing"}))]
            (is (instance? clojure.lang.ExceptionInfo e))
            (is (v/error-type? e :vireo/does-not-exist))
            (is (str/includes? (ex-message e) "SyncBlock"))
            (is (str/includes? (.getClassName ^StackTraceElement (first (.getStackTrace ^Throwable e))) "sync_test")
                "its stack starts at the test's own frame (it was raised on an event loop)")
            (let [raised (first (filter #(= "vireo: raised at" (.getMessage ^Throwable %)) (.getSuppressed ^Throwable e)))]
              (is (some? raised) "where it was raised is kept, as a suppressed throwable")
              (is (not-any? #(str/includes? (.getClassName ^StackTraceElement %) "sync_test")
                            (.getStackTrace ^Throwable raised))
                  "that is the other thread's stack")))
          (testing "an error raised on the calling thread is not decorated"
            (let [e (error-of #(sync/create SyncBlock {:key "c"} {:bogus 1}))]
              (is (v/error-type? e :vireo/interface-error))
              (is (str/includes? (ex-message e) ":bogus"))
              (is (empty? (.getSuppressed ^Throwable e))))))
        (testing "execute of every query kind"
          (let [id (sync/execute (v/insert SyncBlock {:key "c"}))]
            (is (= "c" (:key (sync/get SyncBlock id))) "insert yields the new key"))
          (is (= 2 (count (sync/execute (v/insert-many SyncBlock [{:key "d"} {:key "e"}])))))
          (is (= 2 (sync/execute (v/where (v/update SyncBlock {:text "de"}) {:key__in ["d" "e"]}))))
          (is (= ["a" "b" "c" "d" "e"] (mapv :key (sync/execute (v/order-by (v/select SyncBlock) :key)))))
          (is (= [["d" "de"] ["e" "de"]]
                 (sync/execute (v/as-vectors (v/order-by (v/where (v/select SyncBlock :key :text) {:text "de"}) :key)))))
          (is (= 1 (sync/execute (v/where (v/delete SyncBlock) {:key "e"}))))
          (is (= [{:key "a"}] (sync/execute d {:select [:key] :from :sync_block :where [:= :key "a"]})))
          (is (= [1] (mapv :one (:rows (sync/execute-sql d "SELECT 1 AS one"))))))
        (testing "count, exists, scalar, peek, first"
          (is (= 4 (sync/count (v/select SyncBlock))))
          (is (= 2 (sync/count (v/limit (v/select SyncBlock) 2))))
          (is (= 4 (sync/count (v/limit (v/select SyncBlock) 2) {:clear-limit true})))
          (is (true? (sync/exists (v/where (v/select SyncBlock) {:key "a"}))))
          (is (false? (sync/exists (v/where (v/select SyncBlock) {:key "zz"}))))
          (is (= 4 (long (sync/scalar (v/select SyncBlock [[:count :*] :n])))))
          (is (= "a" (:key (sync/peek (v/order-by (v/select SyncBlock) :key)))))
          (is (= ["a" "b"] (mapv :key (sync/peek (v/order-by (v/select SyncBlock) :key) 2))))
          (is (= ["a" "b" "c"] (mapv :key (sync/first (v/order-by (v/select SyncBlock) :key) 3)))))
        (testing "stream and transduce"
          (is (= 4 (sync/stream (v/select SyncBlock) (fn [n _] (inc n)) 0)))
          (is (= [["a" "b" "c"] ["d"]]
                 (sync/transduce (comp (map :key) (partition-all 3)) conj []
                                 (v/order-by (v/select SyncBlock) :key))))
          (is (= [["a" "b"]]
                 (sync/transduce (comp (map :key) (partition-all 2) (take 1)) conj []
                                 (v/order-by (v/select SyncBlock) :key)))
              "a reduced stream is completed too"))
        (testing "delete-instance, truncate-table"
          (is (= 1 (sync/delete-instance SyncBlock (sync/get SyncBlock {:key "a"}))))
          (is (nil? (sync/truncate-table SyncBlock)))
          (is (= 0 (sync/count (v/select SyncBlock))))))
      (is (zero? (v/checked-out d))))))

(deftest schema-and-relations-test
  (let [d (ts/db)
        Tag (ts/model 'SyncTag {:table "sync_tag" :fields {:name {:type :char :max-length 20 :index true}}})
        Post (ts/model 'SyncPost {:table "sync_post"
                                  :fields {:title {:type :text}
                                           :tag {:type :foreign-key :model Tag :null true :backref :posts}
                                           :tags {:type :many-to-many :model Tag :backref :tagged}}})]
    (v/with-allow-sync d
      (try
        (sync/drop-tables [Post Tag] {:safe true})
        (testing "create-tables, table-exists, get-tables, sequence-exists, indexes"
          (is (nil? (sync/create-tables [Post Tag])))
          (is (true? (sync/table-exists Tag)))
          (is (true? (sync/table-exists d "sync_post")))
          (is (true? (sync/table-exists d (v/through-model Post :tags) {})))
          (is (every? (set (sync/get-tables d)) ["sync_tag" "sync_post"]))
          (is (= (= :postgres ts/*backend*) (sync/sequence-exists d "sync_tag_id_seq")))
          (is (nil? (sync/drop-indexes Tag {:safe true})))
          (is (nil? (sync/create-indexes Tag {:safe true}))))
        (let [clj (sync/create Tag {:name "clj"})
              db-tag (sync/create Tag {:name "db"})
              post (sync/create Post {:title "hello" :tag (:id clj)})]
          (testing "fetch and prefetch"
            (is (= clj (:tag (sync/fetch Post post :tag))))
            (is (= [["clj" ["hello"]] ["db" []]]
                   (mapv (fn [t] [(:name t) (mapv :title (:posts t))])
                         (sync/prefetch (v/order-by (v/select Tag) :name) (v/select Post))))))
          (testing "many-to-many: add, related, remove, clear"
            (is (= 2 (sync/add Post post :tags [clj db-tag])))
            (is (= ["clj" "db"] (mapv :name (sync/related Post post :tags))))
            (is (= ["hello"] (mapv :title (sync/related Tag clj :tagged))))
            (is (= 1 (sync/remove Post post :tags [db-tag])))
            (is (= 1 (sync/clear Post post :tags)))
            (is (= [] (sync/related Post post :tags)))))
        (testing "create-table and drop-table"
          (is (nil? (sync/drop-table (v/through-model Post :tags))))
          (is (false? (sync/table-exists (v/through-model Post :tags))))
          (is (nil? (sync/create-table (v/through-model Post :tags) {:safe true})))
          (is (true? (sync/table-exists (v/through-model Post :tags)))))
        (testing "create-tables needs a model"
          (is (v/error-type? (error-of #(sync/create-tables [])) :vireo/interface-error)))
        (finally (sync/drop-tables [Post Tag] {:safe true}))))
    (is (zero? (v/checked-out d)))))

(defn- on-worker
  "Runs (f) on a pool thread (not an event loop) with the caller's bindings
  — the task's transaction among them; future of its value."
  [f]
  (let [g (bound-fn [] (f))]
    (CompletableFuture/supplyAsync (reify Supplier (get [_] (g))))))

(deftest blocks-test
  (let [SyncBlock (page-block)
        d (ts/db)]
    (ts/with-tables [SyncBlock]
      (testing "a sync atomic commits its body's sync and async writes"
        (v/with-allow-sync d
          (is (= :done (sync/atomic [tx d]
                         (is (v/in-transaction? d))
                         (is (v/in-transaction? d {:connection tx}))
                         (sync/create SyncBlock {:key "a"})
                         (await! (v/aio-create SyncBlock {:key "b"}))
                         :done))))
        (is (= [["a"] ["b"]] (keys-in SyncBlock))))
      (testing "a body that throws rolls the whole block back; the error propagates as itself"
        (v/with-allow-sync d
          (let [e (error-of #(sync/atomic [_ d]
                               (sync/create SyncBlock {:key "c"})
                               (sync/create SyncBlock {:key "a"})))]
            (is (v/error-type? e :vireo/integrity-error))))
        (is (= [["a"] ["b"]] (keys-in SyncBlock))))
      (testing "an aio-atomic inside a sync atomic is a savepoint: its failure rolls back only it"
        (v/with-allow-sync d
          (sync/atomic [_ d]
            (sync/create SyncBlock {:key "c"})
            (is (= "inner" (ex-message (error-of #(v/aio-atomic d (fn [_]
                                                                     (p/then (v/aio-create SyncBlock {:key "lost"})
                                                                             (fn [_] (throw (ex-info "inner" {}))))))))))
            (await! (v/aio-atomic d (fn [_] (v/aio-create SyncBlock {:key "d"}))))))
        (is (= [["a"] ["b"] ["c"] ["d"]] (keys-in SyncBlock))))
      (testing "a sync atomic nested in a sync atomic: inner rollback, then the whole"
        (v/with-allow-sync d
          (sync/atomic [_ d]
            (sync/create SyncBlock {:key "e"})
            (is (= "inner" (ex-message (error-of #(sync/atomic [_ d]
                                                    (sync/create SyncBlock {:key "lost"})
                                                    (throw (ex-info "inner" {}))))))))
          (is (= "outer" (ex-message (error-of #(sync/atomic [_ d]
                                                  (sync/atomic [_ d] (sync/create SyncBlock {:key "f"}))
                                                  (throw (ex-info "outer" {}))))))))
        (is (= [["a"] ["b"] ["c"] ["d"] ["e"]] (keys-in SyncBlock))))
      (testing "a sync atomic inside an aio-atomic body (on a worker thread) uses its transaction"
        (try
          (v/set-allow-sync! d true)
          (await! (v/aio-atomic d (fn [_]
                                    (on-worker
                                     (fn []
                                       (sync/create SyncBlock {:key "g"})
                                       (error-of #(sync/atomic [_ d]
                                                    (sync/create SyncBlock {:key "lost"})
                                                    (throw (ex-info "inner" {}))))
                                       (sync/atomic [_ d] (sync/create SyncBlock {:key "h"})))))))
          (is (= [["a"] ["b"] ["c"] ["d"] ["e"] ["g"] ["h"]] (keys-in SyncBlock)))
          (testing "and the outer block's failure rolls back the sync block's committed savepoint"
            (is (= "outer" (ex-message (error-of #(v/aio-atomic d (fn [_]
                                                                    (p/then (on-worker (fn [] (sync/atomic [_ d] (sync/create SyncBlock {:key "i"}))))
                                                                            (fn [_] (throw (ex-info "outer" {})))))))))))
          (is (= [["a"] ["b"] ["c"] ["d"] ["e"] ["g"] ["h"]] (keys-in SyncBlock)))
          (finally (v/set-allow-sync! d false))))
      (testing "transaction refuses to nest; :retry is refused by name"
        (v/with-allow-sync d
          (sync/transaction [_ d]
            (is (v/error-type? (error-of #(sync/transaction [_ d] :never)) :vireo/operational-error)))
          (let [e (error-of #(sync/atomic [_ d {:retry 2}] :never))]
            (is (v/error-type? e :vireo/interface-error))
            (is (str/includes? (ex-message e) ":retry")))
          (is (v/error-type? (error-of #(sync/atomic [_ d {:bogus 1}] :never)) :vireo/interface-error))))
      (testing "isolation options reach the transaction"
        (v/with-allow-sync d
          (is (= 7 (count (sync/atomic [_ d {:isolation :serializable}]
                            (sync/execute (v/select SyncBlock))))))))
      (testing "connection pins one connection; begin/savepoint/commit/rollback by hand"
        (try
          (v/set-allow-sync! d true)
          (sync/connection [_ d]
            (let [h (sync/begin d)]
              (sync/create SyncBlock {:key "j"})
              (let [sp (sync/savepoint d)]
                (sync/create SyncBlock {:key "lost"})
                (is (nil? (sync/rollback sp))))
              (is (nil? (sync/commit h)))))
          (sync/connection [_ d]
            (let [h (sync/begin d)]
              (sync/create SyncBlock {:key "lost"})
              (sync/rollback h)))
          (is (= [["a"] ["b"] ["c"] ["d"] ["e"] ["g"] ["h"] ["j"]] (keys-in SyncBlock)))
          (finally (v/set-allow-sync! d false))))
      (testing "the allow-sync block's dedicated connection carries a manual transaction"
        (v/with-allow-sync d
          (let [h (sync/begin d)]
            (sync/create SyncBlock {:key "k"})
            (is (v/in-transaction? d {:connection (:level h)}))
            (sync/rollback h)))
        (is (nil? (await! (v/aio-get-or-none SyncBlock {:key "k"})))))
      (is (zero? (v/checked-out d))))))
