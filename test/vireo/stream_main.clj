(ns vireo.stream-main
  "The memory half of `vireo.stream-test`: a main run in a second JVM with a
  small heap (the test starts it with -Xmx64m) that streams n generated rows
  on each backend given, through the public API — `vireo.core/aio-stream`
  over a model select, every row decoded into a model instance:

      java -Xmx64m -cp <the test classpath> clojure.main -m vireo.stream-main <n> <backend> <url> [<backend> <url> ...]

  The model is StreamGen {:i bigint primary key, :payload text} on table
  stream_gen; the select names a recursive CTE `stream_gen (i, payload)`
  (`with-cte`) that shadows the table, so the server generates the rows and
  nothing has to be inserted first. Every row is {:i i :payload <100
  characters followed by i>}, so the rows' text alone is over 100 MB for a
  million rows: more than the whole heap. Had anything buffered the result
  (the driver, the pool, Vireo) the child would die of OutOfMemoryError;
  streamed, it folds the instances into a count, the sum of :i and the
  number of characters, and prints one line per backend

      STREAM-SUMMARY backend=pg rows=1000000 sum=500000500000 chars=105888896 instances=1000000 checked-out=0 secs=3.5 status=ok

  `instances` counts the rows that are instances of StreamGen (exactly the
  keys :i and :payload, a Long and a String, and the loaded-instance
  metadata aio-save relies on). status=ok only when every number is exactly
  right and no connection is left checked out. Exit 0 when every backend is
  ok, 1 otherwise, 3 on a crash.

  On MariaDB the stream runs in a connection scope that first lifts
  max_recursive_iterations (1000 by default) for its session: inside the
  scope the stream runs on that connection."
  (:require [clojure.string :as str]
            [vireo.core :as v]
            [vireo.impl.model :as model]
            [vireo.promise :as p]))

(set! *warn-on-reflection* true)

(def ^:private payload-sql
  ;; 100 characters then i, per backend
  {"pg" "repeat('x', 100) || g"
   "mysql" "CONCAT(REPEAT('x', 100), g)"
   "sqlite" "hex(zeroblob(50)) || g"})

(defn expected
  "[rows sum chars] for n generated rows."
  [n]
  [n (quot (* n (inc n)) 2)
   (reduce + (map (fn [i] (+ 100 (count (str i)))) (range 1 (inc n))))])

(defn gen-model
  "The StreamGen model on database d."
  [d]
  (v/model 'StreamGen {:database d :table "stream_gen"
                       :fields [:i {:type :bigint :primary-key true}
                                :payload {:type :text}]}))

(defn gen-select
  "A model select of StreamGen whose rows are n generated rows."
  [Gen backend n]
  (-> (v/select Gen)
      (v/with-cte [[[:s :g] {:union-all [{:select [[[:inline 1]]]}
                                         {:select [[[:+ :g [:inline 1]]]] :from :s :where [:< :g [:inline n]]}]}]
                   [[:stream_gen :i :payload] {:select [:g [[:raw (payload-sql backend)]]] :from :s}]]
                  {:recursive true})))

(defn- gen-instance? [x]
  (and (map? x) (= 2 (count x))
       (instance? Long (:i x)) (instance? String (:payload x))
       (= x (model/original x))))

(defn- fold [[rows sum chars insts] inst]
  [(inc rows) (+ sum (long (:i inst))) (+ chars (.length ^String (:payload inst)))
   (if (gen-instance? inst) (inc insts) insts)])

(defn stream-rows
  "Future of [rows sum chars instances] streamed from n generated rows."
  [d backend n]
  (let [q (gen-select (gen-model d) backend n)
        run #(v/aio-stream q {:fetch-size 1000} fold [0 0 0 0])]
    (if (= backend "mysql")
      (v/aio-connection d (fn [_]
                            (p/let [_ (v/aio-execute-sql d "SET SESSION max_recursive_iterations = 100000000")]
                              (run))))
      (run))))

(defn- run-backend [n backend url]
  (try
    (let [d (v/database url {:max-size 2})]
      (try
        (let [t0 (System/nanoTime)
              [rows sum chars insts] (p/await (stream-rows d backend n) 120000)
              secs (/ (- (System/nanoTime) t0) 1e9)
              ok? (and (= (expected n) [rows sum chars]) (= n insts) (zero? (v/checked-out d)))]
          (println (format "STREAM-SUMMARY backend=%s rows=%d sum=%d chars=%d instances=%d checked-out=%d secs=%.1f max-heap-mb=%d status=%s"
                           backend rows sum chars insts (v/checked-out d) secs
                           (quot (.maxMemory (Runtime/getRuntime)) (* 1024 1024))
                           (if ok? "ok" "fail")))
          ok?)
        (finally (p/await (v/aio-close d) 30000))))
    (catch Throwable e
      (println "STREAM-ERROR" backend (str/replace (str e) "\n" " "))
      (.printStackTrace e)
      false)))

(defn -main
  "args: n backend url [backend url ...]"
  [n & backend-urls]
  (let [n (parse-long n)
        code (try
               (if (every? true? (mapv (fn [[b u]] (run-backend n b u)) (partition 2 backend-urls))) 0 1)
               (catch Throwable e
                 (println "STREAM-ERROR" (str/replace (str e) "\n" " "))
                 (.printStackTrace e)
                 3))]
    (flush)
    (shutdown-agents)
    (System/exit code)))
