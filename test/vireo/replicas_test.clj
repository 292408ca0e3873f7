(ns ^:vireo/per-backend vireo.replicas-test
  "Read replicas (the :replicas option), on every server backend: reads
  outside any scope go to a replica, everything else to the primary, with
  the read-your-writes window, the :route overrides, the strategies and the
  fallback when a replica fails. The \"replica\" here is a second database
  on the same server holding different rows, so which server answered is
  visible in every result; the cluster sub-run repeats the essentials on a
  real hot standby (test-cluster/vireo/cluster/replicas_test.clj)."
  (:require [clojure.pprint :as pp]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(def ^:private replica-db "vireo_replica")
(def ^:private replica-db-2 "vireo_replica2")

(defn- server? [] (not= :sqlite ts/*backend*))

(defn- url-with-db
  "The suite's URL of this backend with another database name."
  [name]
  (str/replace (ts/url ts/*backend*) #"/[^/?]+(\?.*)?$" (str "/" name "$1")))

(defn- ensure-database! [name]
  (await! (v/aio-execute-sql (ts/db) (str "CREATE DATABASE " (when (= :mysql ts/*backend*) "IF NOT EXISTS ") name)))
  nil)

(defn- create-replica-dbs! []
  (doseq [n [replica-db replica-db-2]]
    (if (= :postgres ts/*backend*)
      (when (empty? (:rows (await! (v/aio-execute-sql (ts/db) "SELECT 1 FROM pg_database WHERE datname = $1" [n]))))
        (ensure-database! n))
      (ensure-database! n))))

(defn- seed!
  "A table `vireo_rep_t` holding one row naming the database it is in."
  [d label]
  (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_rep_t"))
  (await! (v/aio-execute-sql d "CREATE TABLE vireo_rep_t (id INTEGER PRIMARY KEY, src VARCHAR(40))"))
  (await! (v/aio-execute-sql d (str "INSERT INTO vireo_rep_t (id, src) VALUES (1, '" label "')"))))

(defn- with-replicated*
  "Calls (f primary) with a database whose replicas are `replica-opts`
  (vectors of option maps/URLs) over freshly seeded tables: the primary's
  row says \"primary\", each replica's its database name."
  [opts f]
  (create-replica-dbs!)
  (let [plain [(v/database (url-with-db replica-db) {:max-size 2})
               (v/database (url-with-db replica-db-2) {:max-size 2})]]
    (try
      (seed! (ts/db) "primary")
      (seed! (first plain) replica-db)
      (seed! (second plain) replica-db-2)
      (let [d (v/database (ts/url ts/*backend*) (merge {:max-size 3} opts))]
        (try (f d)
             (finally (await! (v/aio-close d)))))
      (finally
        (await! (v/aio-execute-sql (ts/db) "DROP TABLE IF EXISTS vireo_rep_t"))
        (doseq [p plain] (await! (v/aio-close p)))))))

(defmacro ^:private with-replicated [[d opts] & body]
  `(with-replicated* ~opts (fn [~d] ~@body)))

(def ^:private Rep
  {:table "vireo_rep_t" :fields {:id {:type :integer :primary-key true} :src {:type :char :max-length 40}}})

(defn- src-f
  "Future of the row's src."
  [d]
  (p/map (v/aio-execute-sql d "SELECT src FROM vireo_rep_t WHERE id = 1") #(:src (first (:rows %)))))

(defn- src
  "Which server answered a read of the one row (the row's src)."
  ([d] (src d {}))
  ([d opts] (:src (first (:rows (await! (v/aio-execute-sql d "SELECT src FROM vireo_rep_t WHERE id = 1" [] opts)))))))

(deftest reads-go-to-replicas-writes-to-the-primary-test
  (if-not (server?)
    (testing "SQLite has no replicas: the option is refused by name"
      (let [e (error-of #(v/sqlite-database ":memory:" {:replicas ["sqlite:other.db"]}))]
        (is (v/error-type? e :vireo/interface-error))
        (is (str/includes? (ex-message e) ":replicas"))))
    (with-replicated [d {:replicas [{:database replica-db}]}]
      (let [m (v/model "RepRow" (assoc Rep :database d))]
        (testing "a read outside any scope is answered by the replica: SQL, model get, select, count"
          (is (= replica-db (src d)))
          (is (= replica-db (:src (await! (v/aio-get m 1)))))
          (is (= [replica-db] (mapv :src (await! (v/aio-execute (v/select m))))))
          (is (= 1 (await! (v/aio-count (v/where (v/select m) [:= :src replica-db]))))))
        (testing "a write goes to the primary (the replica does not see it)"
          (await! (v/aio-create m {:id 2 :src "written"}))
          (is (= "written" (:src (await! (v/aio-get m 2 {:route :primary})))))
          (is (nil? (await! (v/aio-get-or-none m 2)))))
        (testing "inside a transaction or a connection scope everything runs on the primary"
          (is (= "primary" (await! (v/aio-atomic d (fn [_] (src-f d))))))
          (is (= "primary" (await! (v/aio-connection d (fn [_] (src-f d))))))
          (is (= "primary" (:src (await! (v/aio-atomic d (fn [_] (v/aio-get m 1))))))))
        (testing "a locking read goes to the primary"
          (is (= "primary" (:src (first (:rows (await! (v/aio-execute-sql d "SELECT src FROM vireo_rep_t WHERE id = 1 FOR UPDATE"))))))))
        (testing "{:route :primary}, with-route"
          (is (= "primary" (src d {:route :primary})))
          (is (= "primary" (v/with-route :primary (src d))))
          (is (= replica-db (v/with-route :replica (src d)))))
        (testing "a bad :route is refused by name; :replica inside a scope or with a handle is refused"
          (is (str/includes? (ex-message (error-of #(src d {:route :replicas}))) ":route must be :primary or :replica"))
          (let [e (error-of #(v/aio-atomic d (fn [_] (v/aio-execute-sql d "SELECT 1" [] {:route :replica}))))]
            (is (v/error-type? e :vireo/interface-error))
            (is (str/includes? (ex-message e) ":route :replica inside a transaction")))
          (let [e (error-of #(v/aio-connection d (fn [c] (v/aio-execute-sql d "SELECT 1" [] {:connection c :route :replica}))))]
            (is (str/includes? (ex-message e) ":connection handle"))))
        (testing "replicas and their state"
          (is (= [{:up true :in-flight 0}] (mapv #(select-keys % [:up :in-flight]) (v/replicas d))))
          (is (str/includes? (:server (first (v/replicas d))) replica-db)))))))

(deftest round-robin-test
  (when (server?)
    (with-replicated [d {:replicas [{:database replica-db} {:database replica-db-2}]}]
      (testing "reads alternate over the replicas"
        (let [seen (mapv (fn [_] (src d)) (range 6))]
          (is (= #{replica-db replica-db-2} (set seen)))
          (is (every? (fn [[a b]] (not= a b)) (partition 2 1 seen)) (pr-str seen)))))))

(deftest read-your-writes-test
  (when (server?)
    (with-replicated [d {:replicas [{:database replica-db}] :read-your-writes-ms 600000}]
      (let [m (v/model "RepRow" (assoc Rep :database d))]
        (testing "before any write, reads go to the replica"
          (is (= replica-db (src d))))
        (testing "after a write, reads stay on the primary for the window"
          (await! (v/aio-create m {:id 3 :src "mine"}))
          (is (= "mine" (:src (await! (v/aio-get m 3)))))
          (is (= "primary" (src d))))
        (testing "{:route :replica} reads a replica within the window"
          (is (= replica-db (src d {:route :replica}))))))
    (testing "a committed transaction starts the window too"
      (with-replicated [d {:replicas [{:database replica-db}] :read-your-writes-ms 600000}]
        (is (= replica-db (src d)))
        (await! (v/aio-atomic d (fn [_] (v/aio-execute-sql d "UPDATE vireo_rep_t SET src = 'tx' WHERE id = 1"))))
        (is (= "tx" (src d)))))
    (testing "with-own-writes: only the block's own writes pin its reads"
      (with-replicated [d {:replicas [{:database replica-db}] :read-your-writes-ms 600000}]
        (v/with-own-writes
          (await! (v/aio-execute-sql d "UPDATE vireo_rep_t SET src = 'own' WHERE id = 1"))
          (is (= "own" (src d)) "the block reads its write"))
        (is (= replica-db (src d)) "outside the block the write pins nothing")
        (v/with-own-writes
          (is (= replica-db (src d)) "another block has written nothing"))))
    (testing "the window ends: reads go back to the replica"
      (with-replicated [d {:replicas [{:database replica-db}] :read-your-writes-ms 200}]
        (await! (v/aio-execute-sql d "UPDATE vireo_rep_t SET src = 'w' WHERE id = 1"))
        (is (ts/wait-until #(= replica-db (src d)) 10000))))))

(deftest least-busy-test
  (when (server?)
    (with-replicated [d {:replicas [{:database replica-db} {:database replica-db-2}] :replica-strategy :least-busy}]
      ;; a read that waits for a lock held elsewhere keeps one replica busy
      ;; (PostgreSQL's advisory locks are per database: one holder on each)
      (let [pg? (= :postgres ts/*backend*)
            holders (mapv #(v/database (url-with-db %) {:max-size 1}) (if pg? [replica-db replica-db-2] [replica-db]))
            lock (if pg? "SELECT pg_advisory_lock(4242)::text AS l" "SELECT GET_LOCK('vireo_lb', 60) AS l")
            unlock (if pg? "SELECT pg_advisory_unlock(4242) AS l" "SELECT RELEASE_LOCK('vireo_lb') AS l")
            blocked (if pg? "SELECT pg_advisory_lock_shared(4242)::text AS l, current_database() AS db"
                        "SELECT GET_LOCK('vireo_lb', 60) AS l, DATABASE() AS db")]
        (try
          ;; a pool of one: the lock stays with the pooled connection until unlock
          (doseq [h holders] (await! (v/aio-execute-sql h lock)))
          (let [slow (v/aio-execute-sql d blocked)
                busy (first (keep-indexed (fn [i r] (when (= 1 (:in-flight r)) i)) (v/replicas d)))]
            (is (some? busy) (pr-str (v/replicas d)))
            (testing "the other replica serves every read meanwhile"
              (is (= (repeat 4 (if (= busy 0) replica-db-2 replica-db)) (map (fn [_] (src d)) (range 4)))))
            (doseq [h holders] (await! (v/aio-execute-sql h unlock)))
            (is (= (if (= busy 0) replica-db replica-db-2) (:db (first (:rows (await! slow))))))
            (is (= [0 0] (mapv :in-flight (v/replicas d)))))
          (finally (doseq [h holders] (await! (v/aio-close h)))))))))

(deftest replica-down-falls-back-to-the-primary-test
  (when (server?)
    (with-replicated [d {:replicas [{:host "127.0.0.1" :port 1 :database replica-db}] :replica-retry-ms 600000}]
      (testing "aio-connect works with the replica unreachable; reads go to the primary"
        (await! (v/aio-connect d))
        (is (= "primary" (src d)))
        (is (= [false] (mapv :up (v/replicas d))))))
    (with-replicated [d {:replicas [{:host "127.0.0.1" :port 1 :database replica-db} {:database replica-db-2}]
                         :replica-retry-ms 600000}]
      (testing "a replica that stops answering is skipped: the others serve"
        (is (= (repeat 4 replica-db-2) (map (fn [_] (src d)) (range 4))))
        (is (= [false true] (mapv :up (v/replicas d))))))
    (with-replicated [d {:replicas [{:database replica-db}]}]
      (testing "an error of the read itself is the replica's, typed, naming that server"
        (let [e (error-of #(v/aio-execute-sql d "SELECT no_such_column FROM vireo_rep_t"))]
          (is (v/error-type? e :vireo/programming-error) (pr-str e))
          (is (str/includes? (str (:database (ex-data e))) replica-db))
          (is (= [true] (mapv :up (v/replicas d)))))))))

(deftest options-test
  (when (server?)
    (let [scheme (if (= :postgres ts/*backend*) "postgresql" "mysql")]
      (testing "bad routing options are refused by name"
        (doseq [[opts needle] [[{:read-your-writes-ms 10} ":read-your-writes-ms needs :replicas"]
                               [{:replicas []} ":replicas must be a non-empty vector"]
                               [{:replicas [{:database "x"}] :replica-strategy :random} "unknown :replica-strategy :random"]
                               [{:replicas [{:database "x"}] :read-your-writes-ms -1} ":read-your-writes-ms must be a positive"]
                               [{:replicas [{:database "x" :replicas []}]} "cannot have routing options"]
                               [{:replicas ["sqlite:x.db"]} "like their primary"]
                               [{:replicas [42]} "are URLs or option maps"]
                               [{:replicas [{:database "x" :no-such-option 1}]} ":no-such-option"]]]
          (let [e (error-of #(v/database (ts/url ts/*backend*) opts))]
            (is (v/error-type? e :vireo/interface-error) (pr-str opts))
            (is (str/includes? (str (ex-message e)) needle) (str (ex-message e))))))
      (testing "a replica URL's password never shows"
        (let [d (v/database (ts/url ts/*backend*) {:replicas [(str scheme "://app:s3cr3t-pw@127.0.0.1/" replica-db)]})]
          (doseq [form [(pr-str d) (with-out-str (pp/pprint d)) (pr-str (v/replicas d)) (pr-str (into {} d))]]
            (is (not (str/includes? form "s3cr3t-pw")) form)))))))

(deftest operation-options-test
  (let [d (ts/db)
        m (ts/model "OptRow" {:table "vireo_opt_row" :fields {:id {:type :integer :primary-key true}}})]
    (ts/with-tables [m]
      (testing "an unknown per-operation option is refused by name, never ignored"
        (doseq [[f label] [[#(v/aio-get m 1 {:database "other"}) "aio-get"]
                           [#(v/aio-execute (v/select m) {:datbase 1}) "aio-execute"]
                           [#(v/aio-execute-sql d "SELECT 1" [] {:timeout-ms 5}) "aio-execute-sql"]
                           [#(v/aio-create m {:id 1} {:defaults {}}) "aio-create"]
                           [#(v/aio-count (v/select m) {:clear-limits true}) "aio-count"]
                           [#(v/aio-stream (v/select m) {:fetch 10} (fn [n _] (inc n)) 0) "aio-stream"]]]
          (let [e (error-of f)]
            (is (v/error-type? e :vireo/interface-error) label)
            (is (re-find #"unknown option\(s\) :\S+ for " (str (ex-message e))) (ex-message e))
            (is (str/includes? (str (ex-message e)) label)))))
      (testing "options an operation takes still work"
        (is (= [{:id 1} true] (update (await! (v/aio-get-or-create m {:id 1} {:defaults {}})) 0 #(into {} %))))
        (is (= 1 (await! (v/aio-count (v/select m) {:clear-limit true}))))
        (is (= 1 (await! (v/aio-stream (v/select m) {:fetch-size 10} (fn [n _] (inc n)) 0))))
        (is (= 1 (:id (await! (v/aio-get m 1 {:route :primary}))))))
      (testing "writes and transactions refuse {:route :replica}"
        (is (str/includes? (ex-message (error-of #(v/aio-create m {:id 2} {:route :replica}))) "aio-create writes"))
        (is (str/includes? (ex-message (error-of #(v/aio-atomic d {:route :replica} (fn [_] nil))))
                           "a transaction runs on the primary"))
        (is (str/includes? (ex-message (error-of #(v/aio-stream (v/select m) {:route :replica} (fn [n _] (inc n)) 0)))
                           "aio-stream reads from the primary"))))))
