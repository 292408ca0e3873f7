(ns ^:vireo/per-backend vireo.core-test
  "The public API against real databases; every test runs on each backend."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [clojure.tools.logging :as log]
            [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await! error-of]])
  (:import (java.time LocalDateTime)
           (java.util UUID)))

(defn- page-block []
  (ts/model 'PageBlock {:fields {:key {:type :char :max-length 40 :unique true}
                                 :text {:type :text :default ""}}}))

(deftest create-get-save-delete-test
  (let [PageBlock (page-block)]
    (ts/with-tables [PageBlock]
      (let [created (await! (v/aio-create PageBlock {:key "title" :text "Peewee is AWESOME with async!"}))]
        (testing "aio-create yields every field with the generated id"
          (is (= [:id :key :text] (keys created)))
          (is (pos-int? (:id created)))
          (is (= "title" (:key created))))
        (testing "aio-get by a field map, by primary key and by a where vector"
          (is (= created (await! (v/aio-get PageBlock {:key "title"}))))
          (is (= created (await! (v/aio-get PageBlock (:id created)))))
          (is (= created (await! (v/aio-get PageBlock [:= :key "title"])))))
        (testing "aio-save updates by primary key and yields the instance"
          (let [saved (await! (v/aio-save PageBlock (assoc created :text "Peewee is SUPER awesome with async!")))]
            (is (= "Peewee is SUPER awesome with async!" (:text saved)))
            (is (= saved (await! (v/aio-get PageBlock (:id created)))))))
        (testing "aio-save of a new map inserts and fills the id"
          (let [s (await! (v/aio-save PageBlock {:key "second"}))]
            (is (pos-int? (:id s)))
            (is (not= (:id created) (:id s)))
            (is (= "" (:text s)) "the :default applies")
            (is (= s (await! (v/aio-get PageBlock {:key "second"}))))))
        (testing "aio-delete-instance deletes one row; get-or-none then yields nil"
          (is (= 1 (await! (v/aio-delete-instance PageBlock created))))
          (is (nil? (await! (v/aio-get-or-none PageBlock {:key "title"}))))
          (is (= 0 (await! (v/aio-delete-instance PageBlock created)))))))))

(deftest does-not-exist-test
  (let [PageBlock (page-block)]
    (ts/with-tables [PageBlock]
      (let [e (error-of #(v/aio-get PageBlock {:key "missing"}))]
        (is (v/error-type? e :vireo/does-not-exist))
        (is (= :vireo/does-not-exist (v/error-type e)))
        (is (str/includes? (ex-message e) "PageBlock"))
        (is (str/includes? (ex-message e) "missing"))
        (is (= "PageBlock" (:model (ex-data e)))))
      (testing "saving an instance whose row is gone fails instead of silently writing nothing"
        (let [e (error-of #(v/aio-save PageBlock {:id 4242 :key "ghost" :text ""}))]
          (is (v/error-type? e :vireo/does-not-exist))
          (is (str/includes? (ex-message e) "force-insert"))
          (is (nil? (await! (v/aio-get-or-none PageBlock 4242))))))
      (testing ":force-insert inserts with the given key"
        (let [s (await! (v/aio-save PageBlock {:id 4242 :key "ghost" :text ""} {:force-insert true}))]
          (is (= 4242 (:id s)))
          (is (= s (await! (v/aio-get PageBlock 4242)))))))))

(deftest get-or-create-test
  (let [PageBlock (page-block)]
    (ts/with-tables [PageBlock]
      (let [[a created-a] (await! (v/aio-get-or-create PageBlock {:key "k"} {:defaults {:text "first"}}))
            [b created-b] (await! (v/aio-get-or-create PageBlock {:key "k"} {:defaults {:text "second"}}))]
        (is (true? created-a))
        (is (false? created-b))
        (is (= a b))
        (is (= "first" (:text b)))))))

(deftest integrity-errors-test
  (let [PageBlock (page-block)]
    (ts/with-tables [PageBlock]
      (await! (v/aio-create PageBlock {:key "dup"}))
      (let [e (error-of #(v/aio-create PageBlock {:key "dup"}))]
        (testing "a unique violation is typed, carries the SQL and params, and keeps the driver cause"
          (is (v/error-type? e :vireo/unique-violation))
          (is (v/error-type? e :vireo/integrity-error))
          (is (str/includes? (:sql (ex-data e)) "INSERT INTO"))
          (is (= ["dup" ""] (:params (ex-data e))))
          (is (= "PageBlock" (:model (ex-data e))))
          (is (some? (ex-cause e)))))
      (testing "a NOT NULL violation is typed"
        (let [e (error-of #(v/aio-execute PageBlock {:insert-into :pageblock :columns [:key :text]
                                                     :values [["x" nil]]}))]
          (is (v/error-type? e :vireo/not-null-violation) (pr-str (ex-data e)))))
      (testing "nothing was half-written"
        (is (= [{:n 1}] (await! (v/aio-execute PageBlock {:select [[[:count :*] :n]] :from :pageblock}))))))))

(deftest programming-error-test
  (let [e (error-of #(v/aio-execute-sql (ts/db) "SELECT * FROM no_such_table_here"))]
    (is (v/error-type? e :vireo/programming-error) (pr-str (ex-data e)))
    (is (= "SELECT * FROM no_such_table_here" (:sql (ex-data e))))))

(deftest bad-value-test
  (let [PageBlock (page-block)]
    (ts/with-tables [PageBlock]
      (testing "a value of the wrong type is refused before any SQL, naming the field"
        (let [e (error-of #(v/aio-create PageBlock {:key 42}))]
          (is (v/error-type? e :vireo/data-error))
          (is (str/includes? (ex-message e) ":key"))))
      (testing "an unknown field is refused, naming it"
        (let [e (error-of #(v/aio-create PageBlock {:key "a" :txet "typo"}))]
          (is (v/error-type? e :vireo/model-error))
          (is (str/includes? (ex-message e) ":txet"))))
      (is (= [] (:rows (await! (v/aio-execute-sql (ts/db) "SELECT * FROM pageblock"))))))))

(deftest field-types-round-trip-test
  (let [Thing (ts/model 'Thing {:fields [:name {:type :char :max-length 100}
                                         :n {:type :integer :null true}
                                         :big {:type :bigint :null true}
                                         :flag {:type :boolean :null true}
                                         :ratio {:type :double :null true}
                                         :price {:type :decimal :precision 12 :scale 4 :null true}
                                         :uid {:type :uuid :null true}
                                         :at {:type :datetime :null true}]})
        uid (UUID/randomUUID)
        at (LocalDateTime/of 2024 2 29 13 45 7 123456000)
        full {:name "héllo 😀 \"quoted\" ; -- not a comment" :n -2147483648 :big Long/MAX_VALUE :flag true
              :ratio 0.12345678901234568 :price 12345678.1234M :uid uid :at at}]
    (ts/with-tables [Thing]
      (let [a (await! (v/aio-create Thing full))
            b (await! (v/aio-create Thing {:name "nulls"}))]
        (is (= (assoc full :id (:id a)) (await! (v/aio-get Thing (:id a)))))
        (is (= {:id (:id b) :name "nulls" :n nil :big nil :flag nil :ratio nil :price nil :uid nil :at nil}
               (await! (v/aio-get Thing (:id b)))))
        (testing "filters encode values through the field type"
          (is (= (:id a) (:id (await! (v/aio-get Thing {:uid (str uid)})))))
          (is (= (:id a) (:id (await! (v/aio-get Thing [:= :at at])))))
          (is (= (:id b) (:id (await! (v/aio-get Thing {:flag nil}))))))
        (testing "false is not nil"
          (let [c (await! (v/aio-create Thing {:name "f" :flag false}))]
            (is (false? (:flag (await! (v/aio-get Thing (:id c))))))))))))

(deftest execute-query-data-test
  (let [PageBlock (page-block)]
    (ts/with-tables [PageBlock]
      (doseq [k ["a" "b" "c"]] (await! (v/aio-create PageBlock {:key k :text (str "text " k)})))
      (is (= [{:key "b"} {:key "a"}]
             (await! (v/aio-execute (ts/db) {:select [:key] :from :pageblock
                                             :where [:in :key ["a" "b"]] :order-by [[:key :desc]]}))))
      (is (= 2 (await! (v/aio-execute (ts/db) {:update :pageblock :set {:text "x"} :where [:<> :key "c"]}))))
      (is (= 1 (await! (v/aio-execute (ts/db) {:delete-from :pageblock :where [:= :key "c"]}))))
      (is (= #{"a" "b"} (set (map :key (:rows (await! (v/aio-execute-sql (ts/db) "SELECT * FROM pageblock"
                                                                           [] {}))))))
          "raw SQL rows are maps with keyword keys"))))

(deftest hostile-values-test
  (let [PageBlock (page-block)
        nasty ["'; DROP TABLE pageblock; --" "\" OR 1=1 --" "back\\slash" "nul\u0000byte?" "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"]]
    (ts/with-tables [PageBlock]
      (doseq [[i s] (map-indexed vector nasty)
              :let [s (if (and (= ts/*backend* :postgres) (str/includes? s "\u0000")) "no-nul" s)]]
        (let [c (await! (v/aio-create PageBlock {:key (str "k" i) :text s}))]
          (is (= s (:text (await! (v/aio-get PageBlock {:text s})))))
          (is (= c (await! (v/aio-get PageBlock (:id c)))))))
      (is (= (count nasty) (count (:rows (await! (v/aio-execute-sql (ts/db) "SELECT * FROM pageblock")))))))))

(deftest allow-sync-test
  (let [PageBlock (page-block)
        d (ts/db)]
    (ts/with-tables [PageBlock]
      (testing "a sync query outside allow-sync fails, naming the escape hatch and the call"
        (let [e (error-of #(v/execute-sql! d "SELECT 1"))]
          (is (v/error-type? e :vireo/sync-not-allowed))
          (is (str/includes? (ex-message e) "with-allow-sync"))
          (is (str/includes? (ex-message e) "execute-sql!"))))
      (testing "inside: sync calls share one dedicated connection, released at the end"
        (v/with-allow-sync d
          (v/execute! d {:insert-into :pageblock :columns [:key :text] :values [["sync" "written"]]})
          (is (= 1 (v/checked-out d)))
          (v/with-allow-sync d
            (is (= [{:key "sync"}] (v/execute! d {:select [:key] :from :pageblock}))))
          (is (= 1 (v/checked-out d)) "the inner block does not release"))
        (is (zero? (v/checked-out d))))
      (testing "a sync write is visible to async reads"
        (is (= "written" (:text (await! (v/aio-get PageBlock {:key "sync"}))))))
      (testing "the binding is restored after an exception, which propagates"
        (is (thrown-with-msg? clojure.lang.ExceptionInfo #"boom"
                              (v/with-allow-sync d (throw (ex-info "boom" {})))))
        (is (v/error-type? (error-of #(v/execute-sql! d "SELECT 1")) :vireo/sync-not-allowed))
        (is (zero? (v/checked-out d))))
      (testing "not conveyed to other threads"
        (v/with-allow-sync d
          (is (v/error-type? @(future (error-of #(v/execute-sql! d "SELECT 1"))) :vireo/sync-not-allowed))))
      (testing "refused on a Vert.x event-loop thread even inside allow-sync"
        (let [vx (io.vertx.core.Vertx/vertx)
              result (promise)]
          (try
            (v/with-allow-sync d
              (.runOnContext vx (reify io.vertx.core.Handler
                                  (handle [_ _] (deliver result (error-of #(v/execute-sql! d "SELECT 1")))))))
            (is (v/error-type? (deref result 5000 nil) :vireo/sync-not-allowed))
            (is (str/includes? (ex-message (deref result 5000 nil)) "event-loop"))
            (finally (.await (.close vx))))))
      (testing "set-allow-sync! changes the database default"
        (try (v/set-allow-sync! d true)
             (is (= 1 (count (:rows (v/execute-sql! d "SELECT 1 AS one")))))
             (finally (v/set-allow-sync! d false)))
        (is (zero? (v/checked-out d)))))))

(deftest pool-lifecycle-test
  (let [d (ts/new-db ts/*backend*)]
    (try
      (is (not (v/connected? d)) "no pool before first use")
      (is (= [{:one 1}] (:rows (await! (v/aio-execute-sql d "SELECT 1 AS one")))))
      (is (v/connected? d) "created lazily")
      (await! (p/all [(v/aio-connect d) (v/aio-connect d)]))
      (is (v/connected? d))
      (await! (v/aio-close d))
      (await! (v/aio-close d))
      (is (not (v/connected? d)))
      (testing "after aio-close queries fail clearly until aio-connect"
        (let [e (error-of #(v/aio-execute-sql d "SELECT 1"))]
          (is (v/error-type? e :vireo/pool-closed))
          (is (str/includes? (ex-message e) "aio-connect"))))
      (await! (v/aio-connect d))
      (is (= [{:one 1}] (:rows (await! (v/aio-execute-sql d "SELECT 1 AS one")))))
      (finally (await! (v/aio-close d))))))

(deftest user-vertx-is-not-closed-test
  (let [vx (io.vertx.core.Vertx/vertx)
        d (ts/new-db ts/*backend* {:vertx vx})]
    (try
      (is (= [{:one 1}] (:rows (await! (v/aio-execute-sql d "SELECT 1 AS one")))))
      (await! (v/aio-close d))
      (testing "the application's Vert.x still runs"
        (is (= 7 (.await (.executeBlocking vx ^java.util.concurrent.Callable (fn [] 7))))))
      (finally (.await (.close vx))))))

(deftest sql-logging-test
  (let [logged (atom [])]
    (binding [log/*logger-factory* (ts/capturing-logger-factory logged "vireo.sql" :debug)]
      (await! (v/aio-execute-sql (ts/db) "SELECT 1 AS one" [])))
    (is (= [["vireo.sql" :debug nil (pr-str ["SELECT 1 AS one" []])]] @logged))))

(deftest ^{:backends #{:sqlite}} sqlite-connection-pragmas-test
  (testing "every pooled connection has WAL, a busy timeout and foreign keys on"
    (let [d (ts/db)
          gate (p/promise)
          arrived (atom 0)
          pragma #(first (vals (first (:rows (await! (v/aio-execute-sql d (str "PRAGMA " %))))))) ; pool
          results (await! (p/all (repeatedly 4 (fn []
                                                 (v/aio-connection d
                                                   (fn [c]
                                                     (when (= 4 (swap! arrived inc)) (p/resolve! gate true))
                                                     ;; hold the connection until all four are out
                                                     (p/let [_ gate
                                                             jm (v/aio-execute-sql d "PRAGMA journal_mode")
                                                             fk (v/aio-execute-sql d "PRAGMA foreign_keys")
                                                             bt (v/aio-execute-sql d "PRAGMA busy_timeout")]
                                                       [(:conn c) (:rows jm) (:rows fk) (:rows bt)])))))))]
      (is (= 4 (count (distinct (map first results)))) "four distinct pooled connections")
      (doseq [[_ jm fk bt] results]
        (is (= [{:journal-mode "wal"}] jm))
        (is (= [{:foreign-keys 1}] fk))
        (is (= [{:timeout 5000}] bt)))
      (is (= 1 (pragma "foreign_keys"))))))
