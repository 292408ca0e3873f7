(ns vireo.cluster.credentials-test
  ":password-fn (Java passwordSupplier): asked for each new connection, so a
  rotated password is used by the next connection without re-creating the
  database; a failing supplier is a typed connection error. Against the
  cluster MariaDB, where a user's password can be changed."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(defn- my [opts]
  (v/mysql-database (merge {:host "127.0.0.1" :port (parse-long (System/getenv "VIREO_CLUSTER_MY_PORT"))
                            :database "vireo_tls" :ssl-mode :require :max-size 1}
                           opts)))

(defn- who [d] (val (first (first (:rows (await! (v/aio-execute-sql d "SELECT CURRENT_USER() AS u")))))))

(deftest rotating-password-test
  (if-not (System/getenv "VIREO_CLUSTER_MY_PORT")
    (ts/skip! "the cluster servers are not running (bin/test's cluster sub-run starts them)")
    (let [admin (my {:user "plain"})
          password (atom "pw-one")
          calls (atom 0)
          d (my {:user "rot" :password-fn (fn [] (swap! calls inc) (p/resolved @password))})]
      (try
        (await! (v/aio-execute-sql admin "DROP USER IF EXISTS rot@'%'"))
        (await! (v/aio-execute-sql admin "CREATE USER rot@'%' IDENTIFIED BY 'pw-one'"))
        (await! (v/aio-execute-sql admin "GRANT ALL ON vireo_tls.* TO rot@'%'"))
        (testing "the supplier gives the password of each new connection"
          (is (= "rot@%" (who d)))
          (is (pos? @calls)))
        (testing "a rotated password is used by the next connection"
          (await! (v/aio-execute-sql admin "ALTER USER rot@'%' IDENTIFIED BY 'pw-two'"))
          (reset! password "pw-two")
          (await! (v/aio-close d))
          (let [before @calls]
            (await! (v/aio-connect d))
            (is (= "rot@%" (who d)))
            (is (> @calls before))))
        (testing "a wrong password is a typed connection error"
          (reset! password "not-it")
          (await! (v/aio-close d))
          (let [e (error-of #(v/aio-connect d))]
            (is (v/error-type? e :vireo/connection-error) (pr-str e))
            (is (not (str/includes? (pr-str (ex-data e)) "not-it")))))
        (testing "a java.util.function.Supplier of a CompletionStage works too"
          (let [s (my {:user "rot" :password-fn (reify java.util.function.Supplier
                                                  (get [_] (java.util.concurrent.CompletableFuture/completedFuture "pw-two")))})]
            (try (is (= "rot@%" (who s)))
                 (finally (await! (v/aio-close s))))))
        (testing "a supplier that fails, or gives no string, fails the connection, typed and named"
          (doseq [[f fragment] [[(fn [] (throw (ex-info "the vault is down" {}))) ":password-fn failed: the vault is down"]
                                [(fn [] (p/rejected (ex-info "token expired" {}))) ":password-fn failed: token expired"]
                                [(fn [] nil) ":password-fn gave nil"]]]
            (let [bad (my {:user "rot" :password-fn f})
                  e (try (error-of #(v/aio-connect bad)) (finally (await! (v/aio-close bad))))]
              (is (v/error-type? e :vireo/connection-error) (pr-str e))
              (is (str/includes? (str (ex-message e)) fragment) (str (ex-message e))))))
        (finally
          (await! (v/aio-close d))
          (await! (v/aio-execute-sql admin "DROP USER IF EXISTS rot@'%'"))
          (await! (v/aio-close admin)))))))
