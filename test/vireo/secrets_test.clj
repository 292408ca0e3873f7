(ns vireo.secrets-test
  "A database's password (and a trust store's) never appears in a printed,
  pretty-printed, str'd, tapped or datafied form of the database, of a model
  or query that embeds it, of an error, or in what Vireo logs; an error
  carries a bounded size of the values it was given."
  (:require [clojure.datafy :refer [datafy]]
            [clojure.pprint :refer [pprint]]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [clojure.tools.logging :as log]
            [vireo.core :as v]
            [vireo.impl.db :as db]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(def ^:private pw "s3cret-Pa55word")

(defn- forms
  "Every printed form of x a user or a tool could see."
  [x]
  (let [tapped (promise)
        tap (fn [t] (deliver tapped (pr-str t)))]
    (add-tap tap)
    (try
      (tap> x)
      {:pr-str (pr-str x)
       :str (str x)
       :print-str (print-str x)
       :pprint (with-out-str (pprint x))
       :datafy (with-out-str (pprint (datafy x)))
       :tap (deref tapped 10000 "tap> was not delivered")}
      (finally (remove-tap tap)))))

(defn- no-secret [what x]
  (doseq [[how s] (forms x)]
    (is (not (str/includes? s pw)) (str what " shows the password through " (name how) ": " s))))

(deftest passwords-never-print-test
  (let [pg (v/database (str "postgresql://app:" pw "@127.0.0.1:1/app"))
        my (v/mysql-database {:host "127.0.0.1" :port 1 :database "app" :user "app" :password pw
                              :cache-prepared-statements false})
        sq (v/sqlite-database ":memory:")
        m (v/model "SecretThing" {:database pg :fields {:name {:type :char}}})
        q (v/select m)]
    (testing "the password is kept, and used"
      (is (= pw (str (.-value ^vireo.impl.backend.Secret (:password (db/options pg)))))))
    (testing "databases, a model and a query embedding one"
      (no-secret "a PostgreSQL database" pg)
      (no-secret "a MySQL database" my)
      (no-secret "a model" m)
      (no-secret "a query" q)
      (no-secret "the options" (db/options pg)))
    (testing "a trust store password too"
      (let [store (doto (java.io.File/createTempFile "vireo-secrets" ".p12") (.deleteOnExit))
            d (v/postgresql-database {:database "app" :ssl-mode :require :ssl-trust-store (str store)
                                      :ssl-trust-store-password pw})]
        (no-secret "a database with a trust store" d)))
    (testing "a failed connect: the error, its data, what is logged"
      (let [logged (atom [])]
        (binding [log/*logger-factory* (reify clojure.tools.logging.impl/LoggerFactory
                                         (name [_] "capture")
                                         (get-logger [_ _ns]
                                           (reify clojure.tools.logging.impl/Logger
                                             (enabled? [_ _] true)
                                             (write! [_ l e msg] (swap! logged conj [l (str e) (str msg)])))))]
          (doseq [d [pg my]]
            (let [e (error-of #(v/aio-connect d))]
              (is (v/error-type? e :vireo/connection-error) (pr-str e))
              (no-secret "a connect error" e)
              (no-secret "its data" (ex-data e))
              (await! (v/aio-close d)))))
        (is (not (str/includes? (pr-str @logged) pw)) (pr-str @logged))))
    (testing "a URL that cannot be used: the message and the data"
      (let [e (error-of #(v/database (str "postgresql://app:" pw "@h/d?bogus=1")))]
        (is (v/error-type? e :vireo/interface-error))
        (no-secret "a URL error" e)))
    (await! (v/aio-close sq))))

(deftest error-values-are-bounded-test
  (let [d (v/sqlite-database ":memory:")
        big (apply str (repeat 1000000 "x"))]
    (try
      (await! (v/aio-execute-sql d "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)"))
      (await! (v/aio-execute-sql d "INSERT INTO t (id, v) VALUES (?, ?)" [1 big]))
      (let [e (error-of #(v/aio-execute-sql d "INSERT INTO t (id, v) VALUES (?, ?)" [2 big]))]
        (testing "a driver error: the message and the data carry the start of the value and its size"
          (is (v/error-type? e :vireo/unique-violation) (pr-str (ex-message e)))
          (is (< (count (ex-message e)) 2000) (str (count (ex-message e)) " characters"))
          (is (< (count (pr-str (ex-data e))) 2000))
          (is (str/includes? (ex-message e) "…(1000000 characters)"))
          (is (= 2 (first (:params (ex-data e)))) "small values stay as they are")))
      (testing "a value a field refuses before anything is sent"
        (let [m (v/model "BoundedThing" {:database d :fields {:code {:type :char :max-length 5}}})
              e (error-of #(v/aio-create m {:code big}))]
          (is (v/error-type? e :vireo/data-error) (pr-str (ex-message e)))
          (is (< (count (pr-str (ex-data e))) 2000))))
      (finally (await! (v/aio-close d))))))
