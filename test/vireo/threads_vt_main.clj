(ns vireo.threads-vt-main
  "The thread workload of `vireo.threads-test`, and a main that runs it on
  virtual threads in a second JVM (Vireo builds for JDK 17; virtual threads
  need 21+):

      java -cp <the test classpath> clojure.main -m vireo.threads-vt-main <n> <backend> <url> [<backend> <url> ...]

  For each backend in turn (one JVM start-up for all of them) it starts n
  virtual threads, each doing blocking derefs of aio-create / aio-get /
  aio-atomic (with a nested savepoint that fails and is caught, and a whole
  transaction that fails), on its own table `vireo_vt_item` (dropped
  afterwards), and prints one line per backend

      VT-SUMMARY java=… backend=… tasks=200 ok=200 virtual=200 rows=400 checked-out=0 status=ok

  status=ok only when every task saw the right results and ran on a virtual
  thread, the table holds exactly the committed rows and no connection is
  left checked out. Exit 0 when every backend is ok (1 otherwise, 2 without
  virtual threads, 3 on a crash).

  This namespace must load on JDK 17 too (the platform-thread test runs the
  same workload in the suite's JVM): 21-only API (Thread.isVirtual,
  Executors/newVirtualThreadPerTaskExecutor) is only reached reflectively."
  (:require [clojure.string :as str]
            [vireo.core :as v]
            [vireo.promise :as p])
  (:import (java.util.concurrent Callable ExecutionException ExecutorService Executors Future
                                 TimeUnit TimeoutException)))

(set! *warn-on-reflection* true)

(defn item-model
  "The workload's model on database `d`, stored in `table`."
  [d table]
  (v/model 'ThreadItem {:database d :table table
                        :fields {:name {:type :char :max-length 60 :unique true}
                                 :n {:type :integer}}}))

(defn virtual-executor
  "Executors/newVirtualThreadPerTaskExecutor (JDK 21+, looked up reflectively),
  or nil on an older JDK."
  ^ExecutorService []
  (try (.invoke (.getMethod Executors "newVirtualThreadPerTaskExecutor" (make-array Class 0))
                nil (object-array 0))
       (catch NoSuchMethodException _ nil)))

(defn virtual-thread?
  "Thread.isVirtual (JDK 21+, reflectively); false on an older JDK."
  [^Thread t]
  (try (boolean (clojure.lang.Reflector/invokeInstanceMethod t "isVirtual" (object-array 0)))
       (catch IllegalArgumentException _ false)))

(defn deref!
  "Blocking deref of a future, bounded by `deadline` (System/currentTimeMillis):
  the value, or the failure's unwrapped cause thrown; a timeout throws."
  [^Future f ^long deadline]
  (try (.get f (max 1 (- deadline (System/currentTimeMillis))) TimeUnit/MILLISECONDS)
       (catch ExecutionException e (throw (p/unwrap e)))
       (catch TimeoutException _ (throw (ex-info "vireo.threads-vt-main: timed out" {:type ::timeout})))))

(defn task
  "One thread's work, every step a blocking deref on the calling thread.
  Returns what it saw."
  [d Item i]
  (let [deadline (+ (System/currentTimeMillis) 30000)
        get! #(deref! % deadline)]
    (try
      (let [created (get! (v/aio-create Item {:name (str "c" i) :n i}))
            got (get! (v/aio-get Item {:name (str "c" i)}))
            atomic (get! (v/aio-atomic d
                           (fn [_]
                             (p/let [_ (v/aio-create Item {:name (str "a" i) :n i})
                                     inner (p/catch (v/aio-atomic d (fn [_]
                                                                      (p/let [_ (v/aio-create Item {:name (str "x" i) :n i})]
                                                                        (throw (ex-info "inner" {:type ::inner})))))
                                                    ::inner (constantly :inner-rolled-back))
                                     a (v/aio-get Item {:name (str "a" i)})]
                               [inner (v/in-transaction? d) (:n a)]))))
            failed (try (get! (v/aio-atomic d (fn [_] (p/let [_ (v/aio-create Item {:name (str "f" i) :n i})]
                                                        (throw (ex-info "outer" {:type ::outer}))))))
                        :not-thrown
                        (catch clojure.lang.ExceptionInfo e (:type (ex-data e))))]
        {:i i :virtual? (virtual-thread? (Thread/currentThread))
         :created created :got got :atomic atomic :failed failed
         :context-leaked? (v/in-transaction? d)})
      (catch Throwable e
        {:i i :error (str (.getName (class e)) ": " (ex-message e))}))))

(defn problem
  "nil when task i's result is right, else a description."
  [{:keys [i created] :as r}]
  (let [want {:created {:name (str "c" i) :n i} :got created :atomic [:inner-rolled-back true i]
              :failed ::outer :context-leaked? false}
        have (-> (select-keys r (keys want)) (update :created dissoc :id))]
    (when-not (and (nil? (:error r)) (integer? (:id created)) (= want have))
      {:i i :want want :have (if (:error r) (select-keys r [:error]) have)})))

(defn expected-names [n]
  (into #{} (mapcat (fn [i] [(str "c" i) (str "a" i)])) (range n)))

(defn run-workload
  "Runs (task d Item i) for every i < n through (spawn f), which starts f on
  some thread and returns a java.util.concurrent.Future; waits (at most 60 s
  in all) for every result. Returns a summary map."
  [d Item n spawn]
  (let [deadline (+ (System/currentTimeMillis) 60000)
        futs (mapv (fn [i] (spawn (fn [] (task d Item i)))) (range n))
        results (mapv (fn [f] (try (deref! f deadline)
                                   (catch Throwable e {:error (str e)})))
                      futs)
        bad (keep problem results)
        names (->> (deref! (v/aio-execute-sql d (str "SELECT name FROM " (v/table-name Item)))
                           (+ (System/currentTimeMillis) 30000))
                   :rows (map :name) set)]
    {:tasks n
     :ok (- n (count bad))
     :virtual (count (filter :virtual? results))
     :rows (count names)
     :rows-right? (= names (expected-names n))
     :checked-out (v/checked-out d)
     :bad (vec (take 3 bad))}))

(defn- run-backend
  "Runs the workload on one backend; prints its summary line; true when right."
  [^ExecutorService ex n backend url]
  (try
    (let [d (v/database url {:max-size 5})
          Item (item-model d "vireo_vt_item")]
      (try
        (v/with-allow-sync d (v/drop-table! Item {:safe true}) (v/create-table! Item))
        (let [{:keys [ok virtual rows rows-right? checked-out bad]}
              (run-workload d Item n (fn [f] (.submit ex ^Callable f)))
              right? (and (= n ok virtual) rows-right? (zero? checked-out))]
          (println (str "VT-SUMMARY java=" (System/getProperty "java.version") " backend=" backend
                        " tasks=" n " ok=" ok " virtual=" virtual " rows=" rows
                        " checked-out=" checked-out " status=" (if right? "ok" "fail")))
          (doseq [b bad] (println "VT-BAD" backend (pr-str b)))
          (when-not rows-right? (println "VT-BAD" backend "the table does not hold exactly the committed rows"))
          right?)
        (finally
          (try (v/with-allow-sync d (v/drop-table! Item {:safe true}))
               (finally (p/await (v/aio-close d) 30000))))))
    (catch Throwable e
      (println "VT-ERROR" backend (str/replace (str e) "\n" " "))
      (.printStackTrace e)
      false)))

(defn -main
  "args: n backend url [backend url ...]"
  [n & backend-urls]
  (let [n (parse-long n)
        code (try
               (if-let [ex (virtual-executor)]
                 (try
                   (if (every? true? (mapv (fn [[b u]] (run-backend ex n b u)) (partition 2 backend-urls)))
                     0 1)
                   (finally (.shutdownNow ex)))
                 (do (println "VT-ERROR no virtual threads in Java" (System/getProperty "java.version"))
                     2))
               (catch Throwable e
                 (println "VT-ERROR" (str/replace (str e) "\n" " "))
                 (.printStackTrace e)
                 3))]
    (flush)
    (shutdown-agents)
    (System/exit code)))
