(ns vireo.cluster.tls-test
  "TLS against real servers with TLS on (bin/cluster-servers: a test CA, a
  server certificate for DNS:localhost only, a client certificate for
  certuser, an unrelated CA): every mode connects or refuses as it should,
  on PostgreSQL and MariaDB. Run by bin/test's cluster sub-run, which starts
  the servers and exports VIREO_CLUSTER_*."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(defn- env [k] (System/getenv k))
(defn- tls-file [f] (str (io/file (env "VIREO_CLUSTER_TLS") f)))
(defn- pg-port [] (parse-long (env "VIREO_CLUSTER_PG_PORT")))
(defn- my-port [] (parse-long (env "VIREO_CLUSTER_MY_PORT")))

(defn- servers? []
  (or (some? (env "VIREO_CLUSTER_DIR"))
      (ts/skip! "the cluster servers are not running (bin/test's cluster sub-run starts them)")))

(defn- answer
  "The first value of `sql` on a new database of `make`'s options, closed after."
  [d sql]
  (try (val (first (first (:rows (await! (v/aio-execute-sql d sql))))))
       (finally (await! (v/aio-close d)))))

(defn- pg [opts]
  (v/postgresql-database (merge {:host "localhost" :port (pg-port) :database "vireo_tls" :user "postgres" :max-size 1}
                                opts)))

(def ^:private pg-ssl? "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")

(defn- refused-tls?
  "True when making a connection with `d` fails as a typed connection error
  that says the TLS handshake failed."
  [d]
  (let [e (try (error-of #(v/aio-connect d)) (finally (await! (v/aio-close d))))]
    (is (v/error-type? e :vireo/connection-error) (pr-str e))
    (is (str/includes? (str (ex-message e)) "TLS handshake failed") (str (ex-message e)))
    (v/error-type? e :vireo/connection-error)))

(deftest postgres-tls-modes-test
  (when (servers?)
    (testing "the server takes the user postgres over TLS only: :disable is refused, typed"
      (let [d (pg {:ssl-mode :disable})
            e (try (error-of #(v/aio-connect d)) (finally (await! (v/aio-close d))))]
        (is (v/error-type? e :vireo/connection-error) (pr-str e))
        (is (str/includes? (str (ex-message e)) "no encryption"))))
    (testing ":allow, :prefer and :require encrypt (the last two without a CA: not verified, a warning logged)"
      (is (true? (answer (pg {:ssl-mode :allow}) pg-ssl?)))
      (is (true? (answer (pg {:ssl-mode :prefer}) pg-ssl?)))
      (is (true? (answer (pg {:ssl-mode :require}) pg-ssl?))))
    (testing ":allow and :prefer fall back as libpq's do for a user allowed without TLS"
      (is (false? (answer (pg {:ssl-mode :allow :user "plainuser"}) pg-ssl?)) ":allow tries without TLS first")
      (is (true? (answer (pg {:ssl-mode :prefer :user "plainuser"}) pg-ssl?)) ":prefer tries TLS first")
      (is (false? (answer (pg {:ssl-mode :disable :user "plainuser"}) pg-ssl?))))
    (testing ":verify-ca checks the CA, not the host name"
      (is (true? (answer (pg {:host "127.0.0.1" :ssl-mode :verify-ca :ssl-root-cert (tls-file "ca.crt")}) pg-ssl?)))
      (is (refused-tls? (pg {:ssl-mode :verify-ca :ssl-root-cert (tls-file "other-ca.crt")}))
          "another CA is refused"))
    (testing ":verify-full checks the host name too: the certificate is for localhost only"
      (is (true? (answer (pg {:ssl-mode :verify-full :ssl-root-cert (tls-file "ca.crt")}) pg-ssl?)))
      (is (refused-tls? (pg {:host "127.0.0.1" :ssl-mode :verify-full :ssl-root-cert (tls-file "ca.crt")}))))
    (testing "without a CA the verify modes use the JVM's trust store, which does not know the test CA"
      (is (refused-tls? (pg {:ssl-mode :verify-full}))))
    (testing "a PKCS#12 trust store with its password"
      (is (true? (answer (pg {:ssl-mode :verify-full :ssl-trust-store (tls-file "ca.p12")
                              :ssl-trust-store-password "storepass"})
                         pg-ssl?))))
    (testing "a client certificate authenticates certuser; without it the server refuses"
      (is (= "certuser" (answer (pg {:user "certuser" :ssl-mode :verify-full :ssl-root-cert (tls-file "ca.crt")
                                     :ssl-cert (tls-file "client.crt") :ssl-key (tls-file "client.key")})
                                "SELECT current_user")))
      (let [d (pg {:user "certuser" :ssl-mode :verify-full :ssl-root-cert (tls-file "ca.crt")})
            e (try (error-of #(v/aio-connect d)) (finally (await! (v/aio-close d))))]
        (is (v/error-type? e :vireo/connection-error) (pr-str e))))
    (testing "the URL form, with libpq's parameter names"
      (let [d (v/database (str "postgresql://postgres@localhost:" (pg-port) "/vireo_tls?sslmode=verify-full"
                               "&sslrootcert=" (tls-file "ca.crt") "&application_name=vireo-tls-test"))]
        (is (= "vireo-tls-test" (answer d "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()")))))))

(defn- my [opts]
  (v/mysql-database (merge {:host "localhost" :port (my-port) :database "vireo_tls" :user "tlsonly" :max-size 1}
                           opts)))

(def ^:private my-tls-version
  "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_version'")

(deftest mariadb-tls-modes-test
  (when (servers?)
    (testing "a user that REQUIREs SSL is refused without TLS, typed"
      (let [d (my {:ssl-mode :disable})
            e (try (error-of #(v/aio-connect d)) (finally (await! (v/aio-close d))))]
        (is (v/error-type? e :vireo/connection-error) (pr-str e))
        (is (= 1045 (:error-code (ex-data e))))))
    (testing ":prefer and :require encrypt"
      (is (str/starts-with? (str (answer (my {:ssl-mode :prefer}) my-tls-version)) "TLS"))
      (is (str/starts-with? (str (answer (my {:ssl-mode "REQUIRED"}) my-tls-version)) "TLS")))
    (testing "a user without REQUIRE SSL and TLS off"
      (is (= "" (str (answer (my {:user "plain" :ssl-mode :disable}) my-tls-version)))))
    (testing ":verify-ca checks the CA only"
      (is (str/starts-with? (str (answer (my {:host "127.0.0.1" :ssl-mode :verify-ca :ssl-root-cert (tls-file "ca.crt")})
                                         my-tls-version))
                            "TLS"))
      (is (refused-tls? (my {:ssl-mode :verify-ca :ssl-root-cert (tls-file "other-ca.crt")}))))
    (testing ":verify-full (VERIFY_IDENTITY) checks the host name"
      (is (str/starts-with? (str (answer (my {:ssl-mode :verify-full :ssl-root-cert (tls-file "ca.crt")}) my-tls-version))
                            "TLS"))
      (is (refused-tls? (my {:host "127.0.0.1" :ssl-mode :verify-full :ssl-root-cert (tls-file "ca.crt")}))))
    (testing "a PKCS#12 trust store"
      (is (str/starts-with? (str (answer (my {:ssl-mode :verify-full :ssl-trust-store (tls-file "ca.p12")
                                              :ssl-trust-store-password "storepass"})
                                         my-tls-version))
                            "TLS")))
    (testing "the URL form, with MySQL's names"
      (is (str/starts-with? (str (answer (v/database (str "mysql://tlsonly@localhost:" (my-port) "/vireo_tls"
                                                          "?ssl-mode=VERIFY_IDENTITY&ssl-ca=" (tls-file "ca.crt")))
                                         my-tls-version))
                            "TLS")))))

(deftest mariadb-read-only-server-test
  (when (servers?)
    (let [admin (my {:user "plain" :ssl-mode :require})
          app (my {:user "app" :ssl-mode :require})]
      (try
        (await! (v/aio-execute-sql app "CREATE TABLE IF NOT EXISTS ro_t (id INT PRIMARY KEY)"))
        (await! (v/aio-execute-sql admin "SET GLOBAL read_only = 1"))
        (testing "a write on a read_only server is a typed :vireo/read-only error (1290)"
          (let [e (error-of #(v/aio-execute-sql app "INSERT INTO ro_t (id) VALUES (1)"))]
            (is (v/error-type? e :vireo/read-only) (pr-str e))
            (is (= 1290 (:error-code (ex-data e))))))
        (finally
          (await! (v/aio-execute-sql admin "SET GLOBAL read_only = 0"))
          (await! (v/aio-execute-sql app "DROP TABLE IF EXISTS ro_t"))
          (await! (v/aio-close admin))
          (await! (v/aio-close app)))))))
