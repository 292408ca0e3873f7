(ns vireo.bench.pg
  "PostgreSQL plumbing shared by the harness: URL conversion, the
  reachability check and the README's re-create-and-seed, all over a plain
  pgjdbc connection (never one of the measured pools)."
  (:require [clojure.string]
            [vireo.bench.workloads :as w])
  (:import (java.net URI)
           (java.sql Connection DriverManager Statement)
           (java.util Properties)))

(set! *warn-on-reflection* true)

(def default-url "postgresql://postgres@127.0.0.1:5432/vireo_test")

(defn parse-url
  "Given postgresql://user[:password]@host[:port]/database, returns
  {:host :port :database :user :password}."
  [^String url]
  (let [u (URI. (.replaceFirst url "^postgres(ql)?://" "postgresql://"))
        [user password] (some-> (.getUserInfo u) (.split ":" 2) vec)]
    {:host (or (.getHost u) "127.0.0.1")
     :port (if (pos? (.getPort u)) (.getPort u) 5432)
     :database (subs (or (.getPath u) "/") 1)
     :user (or user "postgres")
     :password (or password "")}))

(defn jdbc-url
  "The pgjdbc URL for a postgresql:// URL (credentials travel separately)."
  [url]
  (let [{:keys [host port database]} (parse-url url)]
    (str "jdbc:postgresql://" host ":" port "/" database)))

(defn connect
  "A new pgjdbc connection (autocommit) to `url`."
  ^Connection [url & {:keys [login-timeout-s] :or {login-timeout-s 10}}]
  (let [{:keys [user password]} (parse-url url)
        props (doto (Properties.)
                (.setProperty "user" (str user))
                (.setProperty "password" (str password))
                (.setProperty "loginTimeout" (str login-timeout-s))
                (.setProperty "connectTimeout" (str login-timeout-s))
                (.setProperty "ApplicationName" "vireo-bench-admin"))]
    (DriverManager/getConnection (jdbc-url url) props)))

(defn unreachable
  "nil when PostgreSQL at `url` answers SELECT 1 within a few seconds, else a
  one-line reason."
  [url]
  (try
    (with-open [c (connect url :login-timeout-s 3)
                s (.createStatement c)]
      (.execute s "SELECT 1")
      nil)
    (catch Throwable t
      (str (.getName (class t)) ": " (ex-message t)))))

(defn seed!
  "Re-creates and re-seeds page_block (10,000 rows, VACUUM ANALYZE,
  CHECKPOINT). Returns the milliseconds it took."
  [url]
  (let [t0 (System/nanoTime)]
    (with-open [c (connect url)
                s (.createStatement c)]
      (.execute s "SET client_min_messages = warning")
      ;; a stuck client of the previous cell must fail the seed, not hang it
      (.execute s "SET lock_timeout = '30s'")
      (doseq [^String sql w/seed-sql]
        (.execute s sql)))
    (/ (- (System/nanoTime) t0) 1e6)))

(defn other-sessions
  "The number of sessions connected to the database of `url` that are not the
  harness's own (application_name vireo-bench-*), or nil if it cannot tell."
  [url]
  (try
    (with-open [c (connect url)
                s (.createStatement c)
                rs (.executeQuery s (str "SELECT count(*) FROM pg_stat_activity "
                                         "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                                         "AND coalesce(application_name, '') NOT LIKE 'vireo-bench%'"))]
      (.next rs)
      (.getLong rs 1))
    (catch Throwable _ nil)))

(defn load-average
  "The 1-minute load average (/proc/loadavg), or nil."
  []
  (try (parse-double (first (clojure.string/split (String. (java.nio.file.Files/readAllBytes (java.nio.file.Path/of "/proc/loadavg" (make-array String 0)))) #"\s+")))
       (catch Throwable _ nil)))
