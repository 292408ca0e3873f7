(ns ^:vireo/per-backend vireo.sqlite-concurrency-test
  "Concurrent writers with pools larger than the Vert.x worker pool (issue
  13, item 4). On SQLite every statement of a connection runs on a Vert.x
  worker thread, and a BEGIN IMMEDIATE waiting for the write lock holds
  its thread; with more than 20 connections the waiting writers used to
  take every worker, so the one holding the lock never ran its COMMIT and
  about half failed with SQLITE_BUSY after the busy timeout. Each open
  SQLite connection now adds a worker thread for as long as it is open.
  The pool-size cases run on every backend (the same outcome is expected
  everywhere); several database objects on one file are SQLite's case."
  (:require [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.impl.vertx :as vx]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await!]])
  (:import (io.vertx.core.internal VertxInternal)
           (java.util.concurrent ThreadPoolExecutor)))

(defn- writer-model []
  (ts/model 'ConcWriter {:table "conc_writer" :fields {:n {:type :integer}}}))

(defn- count-rows [d]
  (-> (await! (v/aio-execute-sql d "SELECT count(*) AS n FROM conc_writer")) :rows first :n))

(defn- one-insert-transactions
  "Starts `n` transactions at once, each inserting one row, spread over the
  databases `dbs`; returns the errors of those that failed."
  [dbs n]
  (let [W (writer-model)]
    (->> (for [i (range n)]
           (let [d (nth dbs (mod i (count dbs)))]
             (p/handle (v/aio-atomic d (fn [_] (v/aio-create (v/bind-database W d) {:n i})))
                       (fn [_ e] e))))
         doall p/all await! (remove nil?))))

(defn- worker-core-size
  "The core size of the shared Vert.x instance's worker pool."
  ^long []
  (.getCorePoolSize ^ThreadPoolExecutor (.executor (.workerPool ^VertxInternal (vx/shared)))))

(deftest pools-above-the-worker-pool-test
  (let [W (writer-model)]
    (ts/with-tables [W]
      (doseq [size [21 40]]
        (testing (str "a pool of " size " connections, 40 one-insert transactions at once: all commit")
          (let [d (ts/new-db ts/*backend* {:max-size size})]
            (try
              (let [before (count-rows d)
                    errors (one-insert-transactions [d] 40)]
                (is (= [] (map ex-message errors)))
                (is (= (+ before 40) (count-rows d))))
              (finally (await! (v/aio-close d))))))))))

(deftest ^{:backends #{:sqlite}} several-databases-on-one-file-test
  (let [W (writer-model)]
    (ts/with-tables [W]
      (let [base (worker-core-size)
            dbs (vec (repeatedly 4 #(ts/new-db :sqlite {:max-size 25})))]
        (try
          (testing "four database objects on one file, 25 connections each, 705 transactions at once: all commit"
            (let [errors (one-insert-transactions dbs 705)]
              (is (= [] (map ex-message errors)))
              (is (= 705 (count-rows (first dbs))))))
          (testing "while their connections are open, the worker pool has a thread for each"
            (let [open (reduce + (map #(.size ^io.vertx.sqlclient.Pool (:pool @(:state %))) dbs))]
              (is (pos? open))
              (is (<= (+ base open) (worker-core-size)))))
          (finally (doseq [d dbs] (await! (v/aio-close d)))))
        (testing "closing them gives the threads back"
          (is (ts/wait-until #(= base (worker-core-size)) 10000)
              (str "worker pool core size " (worker-core-size) ", was " base)))))))
