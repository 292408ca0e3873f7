(ns vireo.stream-main
  "The memory half of `vireo.stream-test`: a main run in a second JVM with a
  small heap (the test starts it with -Xmx64m) that streams n generated rows
  on each backend given:

      java -Xmx64m -cp <the test classpath> clojure.main -m vireo.stream-main <n> <backend> <url> [<backend> <url> ...]

  Every row is [i, a text of 100 characters followed by i], so the rows'
  text alone is over 100 MB for a million rows: more than the whole heap.
  Had anything buffered the result (the driver, the pool, Vireo) the child
  would die of OutOfMemoryError; streamed, it folds the rows into a count,
  the sum of i and the number of characters, and prints one line per backend

      STREAM-SUMMARY backend=pg rows=1000000 sum=500000500000 chars=105888896 checked-out=0 secs=3.5 status=ok

  status=ok only when the count, the sum and the characters are exactly
  right and no connection is left checked out. Exit 0 when every backend is
  ok, 1 otherwise, 3 on a crash.

  Generated rows: generate_series on PostgreSQL, a recursive CTE on MariaDB
  (in a connection scope that lifts max_recursive_iterations, 1000 by
  default, for its session — the stream then runs on that connection) and
  on SQLite."
  (:require [clojure.string :as str]
            [vireo.core :as v]
            [vireo.impl.stream :as stream]
            [vireo.promise :as p])
  (:import (io.vertx.sqlclient Row)))

(set! *warn-on-reflection* true)

(def ^:private generate
  {"pg" "SELECT g AS i, repeat('x', 100) || g AS payload FROM generate_series(1, $1::int) g"
   "mysql" (str "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ?)"
                " SELECT g AS i, CONCAT(REPEAT('x', 100), g) AS payload FROM s")
   "sqlite" (str "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ?)"
                 " SELECT g AS i, hex(zeroblob(50)) || g AS payload FROM s")})

(defn expected
  "[rows sum chars] for n generated rows."
  [n]
  [n (quot (* n (inc n)) 2)
   (reduce + (map (fn [i] (+ 100 (count (str i)))) (range 1 (inc n))))])

(defn- row-fn [^Row r]
  ;; no map per row: keep the garbage per row small, the point is the batches
  [(.getLong r (int 0)) (.length ^String (.getString r (int 1)))])

(defn- fold [[rows sum chars] [i len]]
  [(inc rows) (+ sum i) (+ chars len)])

(defn stream-rows
  "Future of [rows sum chars] streamed from n generated rows."
  [d backend n]
  (let [sql (generate backend)]
    (if (= backend "mysql")
      (v/aio-connection d (fn [_]
                            (p/let [_ (v/aio-execute-sql d "SET SESSION max_recursive_iterations = 100000000")]
                              (stream/reduce-rows d sql [n] {:fetch-size 1000} row-fn fold [0 0 0]))))
      (stream/reduce-rows d sql [n] {:fetch-size 1000} row-fn fold [0 0 0]))))

(defn- run-backend [n backend url]
  (try
    (let [d (v/database url {:max-size 2})]
      (try
        (let [t0 (System/nanoTime)
              [rows sum chars :as got] (p/await (stream-rows d backend n) 120000)
              secs (/ (- (System/nanoTime) t0) 1e9)
              ok? (and (= (expected n) got) (zero? (v/checked-out d)))]
          (println (format "STREAM-SUMMARY backend=%s rows=%d sum=%d chars=%d checked-out=%d secs=%.1f max-heap-mb=%d status=%s"
                           backend rows sum chars (v/checked-out d) secs
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
