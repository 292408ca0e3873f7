(ns vireo.bench.jdbc
  "The `jdbc-hikari` system: pgjdbc over a HikariCP pool of `pool-size`
  connections, one platform thread per client (what a Java user would pick
  instead of an async client). Prepared statements come from pgjdbc's
  per-connection statement cache (server-side prepared after pgjdbc's
  prepareThreshold uses), results are read into arrays like vertx-raw's."
  (:require [vireo.bench.pg :as pg]
            [vireo.bench.workloads :as w])
  (:import (com.zaxxer.hikari HikariConfig HikariDataSource)
           (java.sql Connection PreparedStatement ResultSet)
           (java.util ArrayList)))

(set! *warn-on-reflection* true)

(def sql
  {:get-by-id  "SELECT id, key, text FROM page_block WHERE id = ?"
   :get-by-key "SELECT id, key, text FROM page_block WHERE key = ?"
   :insert     "INSERT INTO page_block (key, text) VALUES (?, ?) RETURNING id"
   :update     "UPDATE page_block SET text = ? WHERE id = ?"
   :page       "SELECT id, key, text FROM page_block ORDER BY id LIMIT ? OFFSET ?"})

(defn- row->array ^objects [^ResultSet rs]
  (doto (object-array 3)
    (aset 0 (Integer/valueOf (.getInt rs 1)))
    (aset 1 (.getString rs 2))
    (aset 2 (.getString rs 3))))

(defn- first-row [^PreparedStatement ps]
  (with-open [rs (.executeQuery ps)]
    (when (.next rs) (row->array rs))))

(defn- returned-id [^PreparedStatement ps]
  (with-open [rs (.executeQuery ps)]
    (.next rs)
    (.getInt rs 1)))

(defn- get-by-id [^Connection c ^long id]
  (with-open [ps (.prepareStatement c ^String (sql :get-by-id))]
    (.setInt ps 1 (int id))
    (first-row ps)))

(defn- update-text [^Connection c ^long id ^String text]
  (with-open [ps (.prepareStatement c ^String (sql :update))]
    (.setString ps 1 text)
    (.setInt ps 2 (int id))
    (.executeUpdate ps)))

(defn- insert [^Connection c ^String k ^String text]
  (with-open [ps (.prepareStatement c ^String (sql :insert))]
    (.setString ps 1 k)
    (.setString ps 2 text)
    (returned-id ps)))

(defn open
  "Given {:url :pool-size}, returns a system instance (see vireo.bench.systems)."
  [{:keys [url pool-size]}]
  (let [{:keys [user password]} (pg/parse-url url)
        ds (HikariDataSource.
            (doto (HikariConfig.)
              (.setJdbcUrl (pg/jdbc-url url))
              (.setUsername user)
              (.setPassword password)
              (.setMaximumPoolSize (int pool-size))
              (.setMinimumIdle (int pool-size))
              (.setAutoCommit true)
              (.setPoolName "vireo-bench-hikari")
              (.addDataSourceProperty "ApplicationName" "vireo-bench-jdbc")))
        with-conn (fn [f] (with-open [c (.getConnection ds)] (f c)))]
    {:kind :blocking
     :ops {"W1" (fn [_ _] (with-conn #(get-by-id % (w/random-id))))
           "W2" (fn [_ _] (with-conn (fn [^Connection c]
                                       (with-open [ps (.prepareStatement c ^String (sql :get-by-key))]
                                         (.setString ps 1 (w/random-key))
                                         (first-row ps)))))
           "W3" (fn [client n] (with-conn #(insert % (w/fresh-key "c" client n) (w/text-for n))))
           "W4" (fn [_ n] (with-conn #(update-text % (w/random-id) (w/text-for n))))
           "W5" (fn [_ _] (with-conn (fn [^Connection c]
                                       (with-open [ps (.prepareStatement c ^String (sql :page))]
                                         (.setInt ps 1 50)
                                         (.setInt ps 2 (int (w/random-offset)))
                                         (with-open [rs (.executeQuery ps)]
                                           (let [out (ArrayList. 50)]
                                             (while (.next rs) (.add out (row->array rs)))
                                             out))))))
           "W6" (fn [client n]
                  (let [id (w/random-id) text (w/text-for n) k (w/fresh-key "t" client n)]
                    (with-conn (fn [^Connection c]
                                 (.setAutoCommit c false)
                                 (try
                                   (get-by-id c id)
                                   (update-text c id text)
                                   (let [new-id (insert c k text)]
                                     (.commit c)
                                     new-id)
                                   (catch Throwable t
                                     (try (.rollback c) (catch Throwable _))
                                     (throw t))
                                   (finally (.setAutoCommit c true)))))))}
     :na {}
     :info {:threads "one platform thread per client" :pool-size pool-size}
     :close (fn [] (.close ds))}))
