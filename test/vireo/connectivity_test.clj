(ns vireo.connectivity-test
  "Connection settings as a user gives them: URL parameters (each honoured or
  refused by name), TLS options checked before anything connects, typed
  connect failures. TLS against real TLS servers is in
  test-cluster/vireo/cluster/tls_test.clj (bin/test's cluster sub-run); the
  typed read-only error on every backend is in vireo.read-only-test."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.impl.backend :as backend]
            [vireo.impl.db :as db]
            [vireo.test-support :as ts :refer [await! error-of]]))

(set! *warn-on-reflection* true)

(defn- opts-of [d] (db/options d))

(defn- refusal
  "The :vireo/interface-error (f) throws, asserting its type."
  [f]
  (let [e (error-of f)]
    (is (v/error-type? e :vireo/interface-error) (str "an interface error, got " (pr-str e)))
    e))

(deftest url-parameters-are-honoured-test
  (testing "PostgreSQL: libpq's parameter names become options"
    (let [d (v/database (str "postgresql://app:s3cret@db.example.com:6432/shop"
                             "?sslmode=require&application_name=billing&pgbouncer=true"))
          o (update (opts-of d) :password backend/reveal)]
      (is (= {:host "db.example.com" :port 6432 :database "shop" :user "app" :password "s3cret"
              :ssl-mode :require :application-name "billing" :pgbouncer true}
             (select-keys o [:host :port :database :user :password :ssl-mode :application-name :pgbouncer])))
      (is (not (str/includes? (pr-str d) "s3cret")))))
  (testing "parameters win over the URL's parts; names match without case; values are decoded"
    (let [o (opts-of (v/database "postgresql://a@h1:1/d1?host=h2&PORT=2&dbname=d%202&user=b"))]
      (is (= {:host "h2" :port 2 :database "d 2" :user "b"} (select-keys o [:host :port :database :user])))))
  (testing "options given win over the URL"
    (is (= :disable (:ssl-mode (opts-of (v/database "postgresql://h/d?sslmode=require" {:ssl-mode :disable}))))))
  (testing "an IPv6 literal"
    (is (= {:host "::1" :port 5433} (select-keys (opts-of (v/database "postgresql://[::1]:5433/d")) [:host :port]))))
  (testing "MySQL/MariaDB: MySQL's names, MySQL's mode spellings"
    (let [o (opts-of (v/database "mysql://root@h:3307/app?ssl-mode=VERIFY_IDENTITY&charset=utf8mb4&collation=utf8mb4_general_ci"))]
      (is (= {:ssl-mode :verify-full :charset "utf8mb4" :collation "utf8mb4_general_ci" :port 3307}
             (select-keys o [:ssl-mode :charset :collation :port]))))
    (is (= :require (:ssl-mode (opts-of (v/database "mariadb://root@h/app?sslmode=required"))))))
  (testing "SQLite: the pragmas Vireo sets"
    (let [o (opts-of (v/database "sqlite:target/x.db?busy_timeout=1234&foreign_keys=false&synchronous=FULL"))]
      (is (= {:path "target/x.db" :busy-timeout 1234 :foreign-keys false :synchronous "FULL"}
             (select-keys o [:path :busy-timeout :foreign-keys :synchronous]))))))

(deftest url-parameters-are-refused-by-name-test
  (testing "an unknown parameter names itself and the known ones"
    (let [e (refusal #(v/database "postgresql://app:s3cret@h/d?no_such_parameter=1"))]
      (is (str/includes? (ex-message e) "unknown URL parameter no_such_parameter"))
      (is (str/includes? (ex-message e) "sslmode"))
      (is (not (str/includes? (pr-str [(ex-message e) (ex-data e)]) "s3cret")) "the password stays out")))
  (testing "a known but unsupported parameter says why"
    (let [e (refusal #(v/database "postgresql://h/d?connect_timeout=5"))]
      (is (str/includes? (ex-message e) "connect_timeout is not supported"))
      (is (str/includes? (ex-message e) ":connection-timeout")))
    (let [e (refusal #(v/database "mysql://h/d?useSSL=true"))]
      (is (str/includes? (ex-message e) "ssl-mode=REQUIRED"))))
  (testing "a bad value names the parameter"
    (is (str/includes? (ex-message (refusal #(v/database "postgresql://h/d?port=x"))) "port=x is not an integer"))
    (is (str/includes? (ex-message (refusal #(v/database "postgresql://h/d?pgbouncer=perhaps"))) "not a boolean"))
    (is (str/includes? (ex-message (refusal #(v/database "postgresql://h/d?sslmode=sometimes"))) "unknown :ssl-mode")))
  (testing "SQLite takes only its pragmas"
    (is (str/includes? (ex-message (refusal #(v/database "sqlite:x.db?cache=shared"))) "unknown URL parameter cache")))
  (testing "several hosts: PostgreSQL and MySQL take them"
    (let [o (opts-of (v/database "postgresql://u:s3cret@h1:5432,h2,[::1]:5434/d?target_session_attrs=read-write"))]
      (is (= {:hosts [["h1" 5432] ["h2" 5432] ["::1" 5434]] :host "h1" :port 5432 :target-server-type :primary}
             (select-keys o [:hosts :host :port :target-server-type]))))
    (let [o (opts-of (v/database "mysql://u:s3cret@h1:3306,h2/d?target-server-type=primary"))]
      (is (= {:hosts [["h1" 3306] ["h2" 3306]] :host "h1" :port 3306 :target-server-type :primary}
             (select-keys o [:hosts :host :port :target-server-type])))))
  (testing ":hosts and :target-server-type as options"
    (is (= [["a" 1] ["b" 5432]] (:hosts (opts-of (v/postgresql-database {:database "d" :hosts ["a:1" {:host "b"}]})))))
    (is (str/includes? (ex-message (refusal #(v/postgresql-database {:database "d" :hosts ["a"] :host "b"}))) "not both"))
    (is (str/includes? (ex-message (refusal #(v/postgresql-database {:database "d" :target-server-type :leader})))
                       ":prefer-standby"))
    (is (= [["a" 3306]] (:hosts (opts-of (v/mysql-database {:database "d" :hosts ["a"]}))))))
  (testing "an unparseable URL is redacted in the message"
    (let [e (refusal #(v/database "postgresql://u:s3cret@h:notaport/d"))]
      (is (not (str/includes? (pr-str [(ex-message e) (ex-data e)]) "s3cret"))))))

(defn- temp-file ^java.io.File [suffix]
  (doto (java.io.File/createTempFile "vireo-tls" suffix)
    (.deleteOnExit)
    (spit "not really a certificate")))

(deftest tls-options-are-checked-test
  (let [pem (str (temp-file ".pem"))
        p12 (str (temp-file ".p12"))
        txt (str (temp-file ".txt"))]
    (testing "modes are canonical keywords, MySQL's spellings accepted"
      (is (= :verify-full (:ssl-mode (opts-of (v/mysql-database {:database "d" :ssl-mode "VERIFY_IDENTITY"})))))
      (is (= :verify-ca (:ssl-mode (opts-of (v/postgresql-database {:database "d" :ssl-mode "verify-ca"}))))))
    (testing "the modes a backend has"
      (is (str/includes? (ex-message (refusal #(v/mysql-database {:database "d" :ssl-mode :allow})))
                         "unknown :ssl-mode :allow for mysql"))
      (is (str/includes? (ex-message (refusal #(v/postgresql-database {:database "d" :ssl-mode :sometimes})))
                         ":verify-full")))
    (testing "files must exist and be readable"
      (is (str/includes? (ex-message (refusal #(v/postgresql-database {:database "d" :ssl-mode :verify-full
                                                                       :ssl-root-cert "/no/such/ca.pem"})))
                         ":ssl-root-cert /no/such/ca.pem does not exist"))
      (is (= pem (:ssl-root-cert (opts-of (v/postgresql-database {:database "d" :ssl-mode :verify-full
                                                                  :ssl-root-cert (io/file pem)}))))
          "a File is taken as its path"))
    (testing "a client certificate needs its key"
      (is (str/includes? (ex-message (refusal #(v/postgresql-database {:database "d" :ssl-mode :require :ssl-cert pem})))
                         ":ssl-key")))
    (testing "a CA file or a trust store, not both; a password needs a store; stores are PKCS#12 or JKS"
      (is (str/includes? (ex-message (refusal #(v/postgresql-database {:database "d" :ssl-mode :verify-ca
                                                                       :ssl-root-cert pem :ssl-trust-store p12})))
                         "not both"))
      (is (str/includes? (ex-message (refusal #(v/mysql-database {:database "d" :ssl-mode :verify-ca
                                                                  :ssl-trust-store-password "storepass"})))
                         "without :ssl-trust-store"))
      (is (str/includes? (ex-message (refusal #(v/mysql-database {:database "d" :ssl-mode :verify-ca :ssl-trust-store txt})))
                         "PKCS#12")))
    (testing "TLS files with TLS off are refused, not ignored"
      (let [e (refusal #(v/postgresql-database {:database "d" :ssl-root-cert pem}))]
        (is (str/includes? (ex-message e) ":ssl-mode is :disable (the default)"))))
    (testing "the trust store password never appears in an error"
      (let [e (refusal #(v/postgresql-database {:database "d" :ssl-mode :require :ssl-trust-store txt
                                                :ssl-trust-store-password "storepass-secret"}))]
        (is (not (str/includes? (pr-str [(ex-message e) (ex-data e)]) "storepass-secret")))))
    (testing "SQLite has no TLS options"
      (is (str/includes? (ex-message (refusal #(v/sqlite-database ":memory:" {:ssl-mode :require})))
                         "unknown sqlite database option")))))

(deftest connect-failures-are-typed-test
  (doseq [[backend make] [[:postgres #(v/postgresql-database {:host "127.0.0.1" :port 1 :database "d"})]
                          [:mysql #(v/mysql-database {:host "127.0.0.1" :port 1 :database "d"
                                                      :cache-prepared-statements false})]]
          :when (some #{backend} (ts/backends))]
    (testing (str backend ": aio-connect to a port where nothing listens")
      (let [d (make)
            e (error-of #(v/aio-connect d))]
        (try
          (is (v/error-type? e :vireo/connection-error) (pr-str e))
          (is (str/includes? (str (ex-message e)) "could not connect to the database server"))
          (is (str/includes? (str (ex-message e)) "127.0.0.1:1"))
          (finally (await! (v/aio-close d)))))))
  (when (some #{:postgres} (ts/backends))
    (testing "postgres: aio-connect proves the server answers (a wrong database is found there, not at the first query)"
      (let [d (v/database (str/replace (ts/url :postgres) #"/[^/?]*$" "/vireo_no_such_database"))
            e (error-of #(v/aio-connect d))]
        (try
          (is (v/error-type? e :vireo/connection-error) (pr-str e))
          (is (str/includes? (str (ex-message e)) "vireo_no_such_database"))
          (finally (await! (v/aio-close d)))))))
  (when (some #{:mysql} (ts/backends))
    (testing "mysql: an unknown user is refused as a connection error"
      (let [d (v/database (str/replace (ts/url :mysql) #"//[^@/]*@" "//vireo_no_such_user:pw@")
                          {:cache-prepared-statements false})
            e (error-of #(v/aio-connect d))]
        (try
          (is (v/error-type? e :vireo/connection-error) (pr-str e))
          (is (= 1045 (:error-code (ex-data e))))
          (is (not (str/includes? (pr-str (ex-data e)) ":pw")))
          (finally (await! (v/aio-close d))))))))

(deftest database-from-the-environment-test
  (testing "VIREO_DATABASE_URL: any URL"
    (let [d (db/from-env {"VIREO_DATABASE_URL" "sqlite::memory:" "PGHOST" "ignored"} {})]
      (is (= :sqlite (:kind d)))))
  (testing "libpq's variables, as psql reads them; options win"
    (let [d (db/from-env {"PGHOST" "db.example.com" "PGPORT" "6432" "PGDATABASE" "app" "PGUSER" "u"
                          "PGPASSWORD" "pw-from-env" "PGSSLMODE" "require" "PGAPPNAME" "billing" "HOME" "/root"}
                         {:max-size 3 :user "override"})
          o (opts-of d)]
      (is (= :postgres (:kind d)))
      (is (= {:host "db.example.com" :port 6432 :database "app" :user "override" :ssl-mode :require
              :application-name "billing" :max-size 3}
             (select-keys o [:host :port :database :user :ssl-mode :application-name :max-size])))
      (is (not (str/includes? (pr-str d) "pw-from-env")))))
  (testing "PGDATABASE alone is enough (the host defaults)"
    (is (= "127.0.0.1" (:host (opts-of (db/from-env {"PGDATABASE" "app"} {}))))))
  (testing "empty values count as unset; nothing set names the variables"
    (let [e (refusal #(db/from-env {"VIREO_DATABASE_URL" "" "PGHOST" " "} {}))]
      (is (str/includes? (ex-message e) "VIREO_DATABASE_URL"))
      (is (str/includes? (ex-message e) "PGHOST"))))
  (testing "a bad value names its variable"
    (is (str/includes? (ex-message (refusal #(db/from-env {"PGHOST" "h" "PGPORT" "x"} {}))) "PGPORT=x")))
  (testing "vireo.core/database-from-env reads the process's environment"
    (when-not (or (System/getenv "VIREO_DATABASE_URL") (System/getenv "PGHOST") (System/getenv "PGDATABASE"))
      (is (v/error-type? (error-of #(v/database-from-env)) :vireo/interface-error)))))

(deftest password-fn-test
  (testing "checked when the database is made"
    (is (str/includes? (ex-message (refusal #(v/postgresql-database {:database "d" :password-fn "secret"})))
                       ":password-fn must be a function"))
    (is (str/includes? (ex-message (refusal #(v/mysql-database {:database "d" :password "x" :password-fn (fn [] "y")})))
                       "not both"))
    (is (str/includes? (ex-message (refusal #(v/sqlite-database ":memory:" {:password-fn (fn [] "y")})))
                       "unknown sqlite database option")))
  (when (some #{:postgres} (ts/backends))
    (testing "postgres: asked for each new connection (the suite's server trusts, so any answer connects)"
      (let [calls (atom 0)
            d (v/database (ts/url :postgres) {:max-size 2 :password-fn (fn [] (swap! calls inc) "unused")})]
        (try
          (await! (v/aio-execute-sql d "SELECT 1"))
          (is (pos? @calls))
          (finally (await! (v/aio-close d))))))))
