(ns ^:vireo/per-backend vireo.init-sql-test
  "`:init-sql`: statements run on every new pooled connection before it is
  used (session settings such as MariaDB's wsrep_sync_wait or a
  PostgreSQL GUC), on every backend; a failing one fails the acquisition
  with an error naming the statement, and no unprepared connection is used."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(def ^:private pool-size 3)

(defn- setting
  "[init statement, query reading it back as :v, expected value]."
  []
  (case ts/*backend*
    :postgres ["SET vireo.init = '42'" "SELECT current_setting('vireo.init') AS v" "42"]
    :mysql ["SET @vireo_init = 42" "SELECT @vireo_init AS v" 42]
    :sqlite ["PRAGMA cache_size = -4242" "PRAGMA cache_size" -4242]))

(defn- value [rows] (let [r (first rows)] (or (:v r) (:cache-size r))))

(defn- all-connections
  "`sql`'s value on every pooled connection of `d` (borrowed at once)."
  [d sql]
  (mapv #(value (:rows %)) (ts/on-every-connection d pool-size sql)))

(deftest every-pooled-connection-is-prepared-test
  (let [[init read want] (setting)
        d (ts/new-db ts/*backend* {:max-size pool-size :init-sql [init]})]
    (try
      (testing "a statement on the pool, a transaction, every connection at once"
        (is (= want (value (:rows (await! (v/aio-execute-sql d read))))))
        (is (= want (value (:rows (await! (v/aio-atomic d (fn [_] (v/aio-execute-sql d read))))))))
        (is (= (repeat pool-size want) (all-connections d read))))
      (finally (await! (v/aio-close d))))))

(deftest a-failing-init-statement-fails-the-acquisition-test
  (let [d (ts/new-db ts/*backend* {:max-size 1 :connection-timeout 10000
                                   :init-sql ["SELECT 1" "SELECT * FROM vireo_no_such_init_table"]})]
    (try
      (doseq [[label f] [["a statement on the pool" #(v/aio-execute-sql d "SELECT 1")]
                         ["aio-atomic" #(v/aio-atomic d (fn [_] (v/aio-execute-sql d "SELECT 1")))]]]
        (testing label
          (let [e (error-of f)]
            (is (v/error-type? e :vireo/error) (pr-str e))
            (is (str/includes? (str (ex-message e)) "vireo_no_such_init_table") (ex-message e))
            (is (str/includes? (str (ex-message e)) "could not be prepared") (ex-message e)))))
      (is (zero? (v/checked-out d)))
      (finally (await! (v/aio-close d))))))

(deftest init-sql-option-is-checked-test
  (doseq [bad [42 [] [""] ["SELECT 1" :x]]]
    (let [e (error-of #(ts/new-db ts/*backend* {:init-sql bad}))]
      (is (v/error-type? e :vireo/interface-error) (pr-str bad))
      (is (str/includes? (str (ex-message e)) ":init-sql must be")))))
