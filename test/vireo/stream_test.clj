(ns ^:vireo/per-backend vireo.stream-test
  "Streaming selects (vireo.core/aio-stream, over vireo.impl.stream/reduce-rows)
  on every backend, model selects decoding instances included: order
  and completeness, back-pressure, early stop, cancel and failures leaving no
  cursor, transaction or connection behind, streams inside transactions and
  connection scopes, and a million rows under a 64 MB heap in a second JVM."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.impl.db :as db]
            [vireo.impl.protocols :as proto]
            [vireo.impl.query :as q]
            [vireo.impl.stream :as stream]
            [vireo.promise :as p]
            [vireo.sql :as sql]
            [vireo.stream-main :as sm]
            [vireo.test-support :as ts :refer [await! error-of]])
  (:import (io.vertx.sqlclient Row)
           (java.util.concurrent CancellationException CompletableFuture TimeUnit)))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- fixtures
(defn- item-model []
  (ts/model 'StreamItem {:table "stream_item"
                         :fields {:n {:type :integer} :label {:type :char :max-length 40}}}))

(defn- fill!
  "Inserts rows n = 1..count (label \"x<n>\"), 500 per statement."
  [m count]
  (doseq [chunk (partition-all 500 (range 1 (inc count)))]
    (await! (v/aio-execute m {:insert-into :stream_item :columns [:n :label]
                              :values (mapv (fn [n] [n (str "x" n)]) chunk)}))))

(def ^:private all-sql "SELECT id, n, label FROM stream_item ORDER BY n")

(defn- reduce-rows
  "The public vireo.core/aio-stream of a SQL string (rows as maps); the few
  cases that need a row-fn of the raw Vert.x row call
  vireo.impl.stream/reduce-rows, which aio-stream runs."
  ([d sql rf init] (reduce-rows d sql [] {} rf init))
  ([d sql params opts rf init] (v/aio-stream d sql (assoc opts :params params) rf init)))

(defn- with-db
  "Calls (f d) with a new database of the current backend holding ONE
  connection, so a query after a stream runs on the stream's very session
  (what the leftover checks below rely on); closes it afterwards."
  [f]
  (let [d (ts/new-db ts/*backend* {:max-size 1})]
    (try (f d)
         (finally (await! (v/aio-close d))))))

(defn- one [d sql & params]
  (first (:rows (await! (v/aio-execute-sql d sql (vec params))))))

;; What a stream could leave behind on its session, read on a max-size 1
;; database after the stream (so on the stream's own connection).
(defn- session-state [d]
  (case ts/*backend*
    ;; MariaDB: the session's statement counters (a cursor is closed with
    ;; COM_STMT_RESET, its statement with COM_STMT_CLOSE)
    :mysql (into {} (map (juxt :Variable-name #(parse-long (str (:Value %)))))
                 (:rows (await! (v/aio-execute-sql d "SHOW SESSION STATUS WHERE Variable_name IN ('Com_stmt_close', 'Com_stmt_reset', 'Com_stmt_fetch')"))))
    nil))

(defn- nothing-left-open
  "Asserts that the stream of `sql` left nothing open on the one connection
  of `d` (`before` is (session-state d) taken before the stream)."
  [d sql before]
  (is (zero? (v/checked-out d)) "the connection went back to the pool")
  (case ts/*backend*
    :postgres
    (do (is (zero? (:c (one d "SELECT count(*)::int AS c FROM pg_cursors WHERE name <> ''")))
            "no portal is left open on the session")
        (is (zero? (:c (one d "SELECT count(*)::int AS c FROM pg_prepared_statements WHERE statement = $1" sql)))
            "the stream's prepared statement was closed")
        (is (not= (:t (one d "SELECT txid_current()::text AS t")) (:t (one d "SELECT txid_current()::text AS t")))
            "no transaction is left open: two statements run in two transactions"))
    :mysql
    (let [after (session-state d)]
      (is (= 1 (- (after "Com_stmt_reset") (before "Com_stmt_reset"))) "the cursor was closed")
      (is (= 1 (- (after "Com_stmt_close") (before "Com_stmt_close"))) "the statement was closed")
      (is (zero? (:t (one d "SELECT @@in_transaction AS t"))) "no transaction is left open"))
    :sqlite
    ;; a statement left open keeps a read transaction, which stops a
    ;; TRUNCATE checkpoint run from another connection (busy = 1)
    (let [other (ts/new-db :sqlite {:max-size 1})]
      (try
        (await! (v/aio-execute-sql d "UPDATE stream_item SET label = label WHERE n = 1"))
        (is (= 0 (:busy (one other "PRAGMA wal_checkpoint(TRUNCATE)"))) "no read statement is left open")
        (finally (await! (v/aio-close other)))))))

;; ---------------------------------------------------------------- order and completeness
(deftest rows-in-order-and-complete-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (fill! Item 2500)
      (testing "every row, in order, across batches; rows are maps with kebab-case keys"
        (let [rows (await! (reduce-rows d all-sql [] {:fetch-size 100} conj []))]
          (is (= (range 1 2501) (map :n rows)))
          (is (= {:n 1 :label "x1"} (dissoc (first rows) :id)))
          (is (= #{:id :n :label} (set (keys (peek rows)))))))
      (testing "a fetch size that divides the rows exactly, one of 1, and one larger than the result"
        (doseq [fs [500 1 5000]]
          (is (= 2500 (await! (reduce-rows d all-sql [] {:fetch-size fs} (fn [c _] (inc c)) 0))) (str fs))))
      (testing "parameters, and a row-fn of the raw Vert.x row"
        (let [[s & params] (db/format-query d {:select [:n] :from :stream_item :where [:> :n 2400] :order-by [:n]})]
          (is (= (range 2401 2501)
                 (await! (stream/reduce-rows d s params {:fetch-size 7} (fn [^Row r] (.getValue r (int 0)))
                                             (fn [acc n] (conj acc (long n))) []))))))
      (testing "the default fetch size, and an empty result gives init back"
        (is (= (reduce + (range 1 2501)) (await! (reduce-rows d all-sql (fn [s r] (+ s (:n r))) 0))))
        (is (= :none (await! (reduce-rows d "SELECT n FROM stream_item WHERE n < 0" conj :none)))))
      (testing "a snake_case column label becomes a kebab-case key, as in aio-execute"
        (is (= [{:the-n 1}] (await! (reduce-rows d "SELECT n AS the_n FROM stream_item WHERE n = 1" conj []))))))))

;; ---------------------------------------------------------------- back-pressure
(deftest back-pressure-loop-test
  ;; the loop itself, over a fake source that logs when it is read
  (let [log (atom [])
        rows (vec (range 1 31))
        reads (atom 0)
        src (reify proto/RowSource
              (open! [_] (p/resolved nil))
              (read! [_ n]
                (let [k (swap! reads inc)
                      batch (subvec rows (* (dec k) n) (min 30 (* k n)))]
                  (swap! log conj [:read k])
                  ;; an asynchronous read, like a driver's
                  (p/delay 1 (proto/->Batch batch (< (* k n) 30)))))
              (close! [_] (p/resolved nil)))
        gate (p/promise)
        result (p/promise)
        out (#'stream/reduce-source src 10 identity
                                    (fn [acc r]
                                      (swap! log conj [:row r])
                                      (if (= r 10) (p/then gate (fn [_] (+ acc r))) (+ acc r)))
                                    0 result identity)]
    (Thread/sleep 200)
    (is (= (into [[:read 1]] (map (fn [r] [:row r])) (range 1 11)) @log)
        "while rf's future for the batch's last row is pending, the next batch is not read")
    (p/resolve! gate true)
    (is (= (reduce + rows) (await! out)))
    (is (= (concat [[:read 1]] (map (fn [r] [:row r]) (range 1 11))
                   [[:read 2]] (map (fn [r] [:row r]) (range 11 21))
                   [[:read 3]] (map (fn [r] [:row r]) (range 21 31)))
           @log)
        "each batch is read after the previous one was folded")))

(deftest back-pressure-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (fill! Item 100)
      (when (= ts/*backend* :postgres)
        (await! (v/aio-execute-sql d "DROP SEQUENCE IF EXISTS stream_seq"))
        (await! (v/aio-execute-sql d "CREATE SEQUENCE stream_seq")))
      (try
        (let [gate (p/promise)
              seen (atom [])
              ;; PostgreSQL evaluates nextval() for a row only when the portal
              ;; produces it, and a sequence is visible to other sessions at once
              sql (if (= ts/*backend* :postgres)
                    "SELECT n, nextval('stream_seq') AS s FROM stream_item ORDER BY n"
                    all-sql)
              fut (reduce-rows d sql [] {:fetch-size 10}
                               (fn [acc r]
                                 (swap! seen conj (:n r))
                                 (if (= 15 (:n r)) (p/then gate (fn [_] (inc acc))) (inc acc)))
                               0)]
          (is (ts/wait-until #(= 15 (count @seen)) 10000))
          (Thread/sleep 300)
          (is (= (range 1 16) @seen) "no row is folded while rf's future is pending")
          (when (= ts/*backend* :postgres)
            (is (= 20 (:v (one d "SELECT last_value::int AS v FROM stream_seq")))
                "the server produced two batches of 10 rows, not more"))
          (p/resolve! gate true)
          (is (= 100 (await! fut)))
          (is (= (range 1 101) @seen))
          (when (= ts/*backend* :postgres)
            (is (= 100 (:v (one d "SELECT last_value::int AS v FROM stream_seq"))))))
        (finally
          (when (= ts/*backend* :postgres)
            (await! (v/aio-execute-sql d "DROP SEQUENCE IF EXISTS stream_seq"))))))))

(deftest ^{:backends #{:mysql}} mysql-fetches-on-demand-test
  ;; MariaDB materialises a cursor's result on the server; the client still
  ;; fetches it batch by batch (COM_STMT_FETCH), only as far as it is read
  (let [Item (item-model)]
    (ts/with-tables [Item]
      (fill! Item 1000)
      (with-db
        (fn [d]
          (let [before (session-state d)]
            (is (= 25 (await! (reduce-rows d all-sql [] {:fetch-size 10}
                                           (fn [c _] (if (= c 24) (reduced (inc c)) (inc c))) 0))))
            (is (= 3 (- ((session-state d) "Com_stmt_fetch") (before "Com_stmt_fetch")))
                "25 rows read: three fetches of 10, not the hundred the result has")))))))

;; ---------------------------------------------------------------- ending early
(deftest early-stop-test
  (let [Item (item-model)]
    (ts/with-tables [Item]
      (fill! Item 1000)
      (with-db
        (fn [d]
          (let [before (session-state d)]
            (is (= (range 1 16)
                   (await! (reduce-rows d all-sql [] {:fetch-size 10}
                                        (fn [acc r] (let [acc (conj acc (:n r))] (if (= 15 (count acc)) (reduced acc) acc)))
                                        []))))
            (nothing-left-open d all-sql before))
          (testing "a reduced from rf's future stops too"
            (let [before (session-state d)]
              (is (= 3 (await! (reduce-rows d all-sql [] {:fetch-size 10}
                                            (fn [c _] (p/delay 1 (if (= c 2) (reduced 3) (inc c)))) 0))))
              (nothing-left-open d all-sql before))))))))

(defn- insert-sql []
  (if (= ts/*backend* :postgres)
    "INSERT INTO stream_item (n, label) VALUES ($1, $2)"
    "INSERT INTO stream_item (n, label) VALUES (?, ?)"))

(deftest cancel-test
  (let [Item (item-model)]
    (ts/with-tables [Item]
      (fill! Item 1000)
      (with-db
        (fn [d]
          (testing "cancel while rf's future is pending: the stream ends without waiting for it"
            (let [before (session-state d)
                  never (p/promise)
                  seen (atom 0)
                  fut (reduce-rows d all-sql [] {:fetch-size 10}
                                   (fn [acc r]
                                     (swap! seen inc)
                                     (if (= 15 (:n r))
                                       ;; an operation from rf runs on the stream's connection
                                       (p/then (v/aio-execute-sql d (insert-sql) [5000 "from-rf"]) (fn [_] never))
                                       (inc acc)))
                                   0)]
              (is (ts/wait-until #(= 15 @seen) 10000))
              (is (.cancel ^CompletableFuture fut true))
              (is (instance? CancellationException (error-of (fn [] fut))))
              (is (ts/wait-until #(zero? (v/checked-out d)) 10000) "the connection is returned")
              (nothing-left-open d all-sql before)
              (is (= 15 @seen))
              (is (= (if (= ts/*backend* :postgres) 0 1)
                     (:c (one d "SELECT count(*) AS c FROM stream_item WHERE n = 5000")))
                  "PostgreSQL: the stream's own transaction was rolled back; elsewhere rf's insert was autocommitted")))
          (testing "cancel between rows (rf cancels the stream's own future)"
            (let [before (session-state d)
                  self (p/promise)
                  seen (atom 0)
                  fut (reduce-rows d all-sql [] {:fetch-size 10}
                                   (fn [acc _]
                                     (if (= 25 (swap! seen inc))
                                       ;; rf can run before reduce-rows has returned the future (its rows
                                       ;; ready at once, on this thread): wait for it without blocking
                                       (p/map self (fn [^CompletableFuture f] (.cancel f true) (inc acc)))
                                       (inc acc)))
                                   0)]
              (p/resolve! self fut)
              (is (instance? CancellationException (error-of (fn [] fut))))
              (is (ts/wait-until #(zero? (v/checked-out d)) 10000))
              (nothing-left-open d all-sql before)
              (is (<= 25 @seen 26) "it stopped at the next row")))
          (testing "cancelled while it waited for a connection: it never runs"
            (let [release (p/promise)
                  holder (v/aio-connection d (fn [_] release))
                  seen (atom 0)
                  fut (reduce-rows d all-sql (fn [c _] (swap! seen inc) (inc c)) 0)]
              (Thread/sleep 100)
              (.cancel ^CompletableFuture fut true)
              (p/resolve! release nil)
              (await! holder)
              (is (ts/wait-until #(zero? (v/checked-out d)) 10000))
              (is (zero? @seen)))))))))

;; ---------------------------------------------------------------- a model select, through the public API
(defn- select-sql
  "The SQL aio-stream sends for a model select on d."
  [d query]
  (first (sql/format (:query (q/compile-select query (:dialect d) {})) {:dialect (:dialect d)})))

(deftest model-select-early-stop-and-cancel-test
  (let [Item (item-model)]
    (ts/with-tables [Item]
      (fill! Item 1000)
      (with-db
        (fn [d]
          (let [Item (v/bind-database Item d)
                query (v/order-by (v/select Item) :n)
                sql (select-sql d query)]
            (testing "rows are model instances; a reduced stops the stream"
              (let [before (session-state d)
                    got (await! (v/aio-stream query {:fetch-size 10}
                                              (fn [acc inst] (let [acc (conj acc inst)] (if (= 15 (count acc)) (reduced acc) acc)))
                                              []))]
                (is (= (range 1 16) (map :n got)))
                (is (= {:n 7 :label "x7"} (dissoc (nth got 6) :id)))
                (is (every? #(= #{:id :n :label} (set (keys %))) got))
                (is (every? #(integer? (v/get-id Item %)) got))
                (nothing-left-open d sql before)))
            (testing "an instance streamed can be saved from rf (on the stream's connection)"
              (let [before (session-state d)]
                (is (= "x2!" (await! (v/aio-stream query {:fetch-size 10}
                                                   (fn [_ inst]
                                                     (when (= 2 (:n inst))
                                                       (p/let [saved (v/aio-save Item (update inst :label str "!"))]
                                                         (reduced (:label saved)))))
                                                   nil))))
                (nothing-left-open d sql before)
                (is (= "x2!" (:label (await! (v/aio-get Item {:n 2})))) "committed (PostgreSQL: by the stream's own transaction)")))
            (testing "cancel mid-stream while rf's future is pending"
              (let [before (session-state d)
                    seen (atom [])
                    fut (v/aio-stream query {:fetch-size 10}
                                      (fn [acc inst]
                                        (swap! seen conj (:n inst))
                                        (if (= 15 (:n inst)) (p/promise) (inc acc)))
                                      0)]
                (is (ts/wait-until #(= 15 (count @seen)) 10000))
                (is (.cancel ^CompletableFuture fut true))
                (is (instance? CancellationException (error-of (fn [] fut))))
                (is (ts/wait-until #(zero? (v/checked-out d)) 10000) "the connection is returned")
                (nothing-left-open d sql before)
                (is (= (range 1 16) @seen))))
            (testing "cancel between rows, from rf, on vectors"
              (let [before (session-state d)
                    ;; the stream's own future, once aio-stream returned it: rf may
                    ;; run before that on a loaded machine (every batch already
                    ;; read), so rf waits for it through a future (back-pressure)
                    ;; instead of blocking the calling thread
                    self (p/promise)
                    seen (atom 0)
                    vq (v/as-vectors (v/order-by (v/select Item :n :label) :n))
                    fut (v/aio-stream vq {:fetch-size 10}
                                      (fn [acc row]
                                        (if (= 25 (swap! seen inc))
                                          (p/map self (fn [^CompletableFuture f] (.cancel f true) (conj acc row)))
                                          (conj acc row)))
                                      [])]
                (p/resolve! self fut)
                (is (instance? CancellationException (error-of (fn [] fut))))
                (is (ts/wait-until #(zero? (v/checked-out d)) 10000))
                (nothing-left-open d (select-sql d vq) before)
                (is (<= 25 @seen 26) "it stopped at the next row")))))))))

(deftest failures-test
  (let [Item (item-model)]
    (ts/with-tables [Item]
      (fill! Item 1000)
      (with-db
        (fn [d]
          (testing "rf throwing fails the stream with that very exception and cleans up"
            (let [before (session-state d)
                  boom (ex-info "boom" {:type ::boom})
                  e (error-of #(reduce-rows d all-sql [] {:fetch-size 10}
                                            (fn [c r] (if (= 12 (:n r)) (throw boom) (inc c))) 0))]
              (is (identical? boom e))
              (nothing-left-open d all-sql before)))
          (testing "a failed future from rf, and a throwing row-fn, likewise"
            (let [boom (ex-info "later" {:type ::boom})]
              (is (identical? boom (error-of #(reduce-rows d all-sql [] {:fetch-size 10}
                                                           (fn [c _] (if (= c 3) (p/rejected boom) (inc c))) 0)))))
            (let [boom (ex-info "row" {:type ::boom})]
              (is (identical? boom (error-of #(stream/reduce-rows d all-sql [] {} (fn [_] (throw boom)) conj []))))))
          (testing "a bad statement fails with a Vireo error carrying the SQL"
            (let [e (error-of #(reduce-rows d "SELECT nope FROM stream_item" conj []))]
              (is (v/error-type? e :vireo/error))
              (is (= "SELECT nope FROM stream_item" (:sql (ex-data e))))))
          (testing "a bad fetch size is refused before anything runs"
            (is (v/error-type? (error-of #(reduce-rows d all-sql [] {:fetch-size 0} conj [])) :vireo/interface-error)))
          (is (zero? (v/checked-out d)))
          (testing "the connection still works afterwards"
            (is (= 1000 (await! (reduce-rows d all-sql (fn [c _] (inc c)) 0))))))))))

(deftest statement-cache-untouched-test
  ;; the stream prepares (and closes) a statement of its own: the same SQL
  ;; in the connection's prepared-statement cache keeps working
  (with-db
    (fn [d]
      (let [sql "SELECT 1 AS one"]
        (dotimes [_ 2]
          (is (= [{:one 1}] (:rows (await! (v/aio-execute-sql d sql)))))
          (is (= [{:one 1}] (await! (reduce-rows d sql conj [])))))
        (is (= [{:one 1}] (:rows (await! (v/aio-execute-sql d sql)))))))))

;; ---------------------------------------------------------------- in scopes
(deftest inside-atomic-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (fill! Item 10)
      (let [r (await! (v/aio-atomic d
                        (fn [tx]
                          (p/let [_ (v/aio-create Item {:n 11 :label "uncommitted"})
                                  rows (reduce-rows d all-sql [] {:fetch-size 3}
                                                    (fn [acc r]
                                                      ;; rf can run operations in the scope without deadlocking
                                                      (p/let [again (v/aio-get Item {:n (:n r)})]
                                                        (conj acc [(:n r) (= (:label again) (:label r)) (v/in-transaction? d) (v/checked-out d)])))
                                                    [])
                                  stopped (reduce-rows d all-sql [] {:fetch-size 3 :connection tx} (fn [_ r] (reduced (:n r))) nil)
                                  portals (when (= ts/*backend* :postgres)
                                            (v/aio-execute-sql d "SELECT count(*)::int AS c FROM pg_cursors WHERE name <> ''"))
                                  after (v/aio-create Item {:n 12 :label "after"})]
                            {:rows rows :stopped stopped :portals (some-> portals :rows first :c) :after (:n after)}))))]
        (is (= (map (fn [n] [n true true 1]) (range 1 12)) (:rows r))
            "the transaction's connection (the only one out), sees its uncommitted row; rf's reads see the same rows")
        (is (= 1 (:stopped r)) "an early stop, on the transaction's handle given explicitly")
        (when (= ts/*backend* :postgres)
          (is (= 0 (:portals r)) "no portal is left open in the transaction after an early stop"))
        (is (= 12 (:after r)) "the transaction goes on after the streams")
        (is (= 12 (count (:rows (await! (v/aio-execute-sql d "SELECT n FROM stream_item"))))) "and commits")))))

(deftest concurrent-operations-in-scope-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (fill! Item 20)
      (doseq [[label block] [["aio-atomic" v/aio-atomic] ["aio-connection" v/aio-connection]]]
        (testing label
          (let [others (p/promise)
                r (await! (block d
                                 (fn [_]
                                   ;; started together, not awaited one by one
                                   (let [a (v/aio-create Item {:n 100 :label (str label "-before")})
                                         s (reduce-rows d "SELECT n, label FROM stream_item WHERE n >= 100 ORDER BY id" [] {:fetch-size 1}
                                                        (fn [acc row]
                                                          (p/then others
                                                                  (fn [^CompletableFuture b]
                                                                    (p/delay 5 (conj acc [(:label row) (.isDone b)])))))
                                                        [])
                                         b (v/aio-create Item {:n 101 :label (str label "-after")})]
                                     (p/resolve! others b)
                                     (p/all [a s b])))))]
            (is (= [[(str label "-before") false]]
                   (filter #(str/starts-with? (first %) label) (second r)))
                "the stream saw the row of the operation started before it; the one started after it waited for it")
            (is (= 101 (:n (nth r 2))))))))))

(deftest stream-outside-scope-ops-test
  (let [Item (item-model) d (ts/db)]
    (ts/with-tables [Item]
      (fill! Item 5)
      (testing "outside any scope rf's operations run on the stream's connection (one connection in all)"
        (is (= [[1 1] [2 1] [3 1] [4 1] [5 1]]
               (await! (reduce-rows d all-sql [] {:fetch-size 2}
                                    (fn [acc r] (p/let [x (v/aio-get Item {:n (:n r)})]
                                                  (conj acc [(:n x) (v/checked-out d)])))
                                    []))))
        (is (= (= ts/*backend* :postgres)
               (await! (reduce-rows d all-sql (fn [_ _] (reduced (v/in-transaction? d))) nil)))
            "on PostgreSQL inside the stream's own transaction")))))

;; ---------------------------------------------------------------- a million rows, small heap
(defn- run-child
  "Runs a JVM with `args`; {:exit n :out \"stdout+stderr\"}, killed after 180 s."
  [args]
  (let [proc (-> (ProcessBuilder. ^java.util.List args)
                 (.directory (io/file (System/getProperty "user.dir")))
                 (.redirectErrorStream true)
                 (.start))
        out (future (slurp (.getInputStream proc)))]
    (.close (.getOutputStream proc))
    (if (.waitFor proc 180 TimeUnit/SECONDS)
      {:exit (.exitValue proc) :out (deref out 10000 "")}
      (do (.destroyForcibly proc)
          (.waitFor proc 10 TimeUnit/SECONDS)
          {:exit :timeout :out (deref out 10000 "")}))))

(def ^:private million 1000000)

(def ^:private memory-child
  ;; one child JVM for every available backend of this run
  (delay
    (let [backends (remove ts/backend-unavailable (ts/backends))
          java (str (io/file (System/getProperty "java.home") "bin" "java"))]
      (run-child (into [java "-Xmx64m" "-XX:+UseSerialGC"
                        "-cp" (System/getProperty "java.class.path")
                        "clojure.main" "-m" "vireo.stream-main" (str million)]
                       (mapcat (fn [b] [({:postgres "pg"} b (name b)) (ts/url b)]) backends))))))

(deftest ^:vireo/stress million-rows-small-heap-test
  (let [{:keys [exit out]} @memory-child
        backend ({:postgres "pg"} ts/*backend* (name ts/*backend*))
        [_ rows sum chars insts checked-out status]
        (re-find (re-pattern (str "STREAM-SUMMARY backend=" backend " rows=(\\d+) sum=(\\d+) chars=(\\d+)"
                                  " instances=(\\d+) checked-out=(\\d+) .* status=(\\S+)"))
                 (str out))
        [n s c] (sm/expected million)]
    (is (contains? #{0 1} exit) (str "the child crashed or timed out (" exit "):\n" out))
    (is (= [(str n) (str s) (str c) (str n) "0" "ok"] [rows sum chars insts checked-out status])
        (str "a million model instances (" c " characters of text) streamed by aio-stream in a 64 MB heap:\n" out))))
