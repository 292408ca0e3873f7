(ns vireo.soak
  "The soak harness: a ledger workload under faults, then a ledger check.

      bin/soak ci                       # 2 minutes per backend (bin/test's soak sub-run)
      bin/soak long                     # PostgreSQL 10 min, MariaDB 5 min, SQLite 5 min
      bin/soak run pg 300               # one backend, any duration (seconds)

  bin/soak starts the servers (its own PostgreSQL / MariaDB, on ports and
  temporary directories of their own) and runs this namespace's -main:

      bin/clojure -M:soak --backend pg --url postgresql://… --seconds 120 \\
                  --server-dir DIR --server-cmd bin/soak

  The workload: accounts with balances; closed-loop writers each run
  transfers in `aio-atomic` {:retry 3} (debit, credit, and a row of the
  transfer under a unique id, in one transaction). Every transfer's outcome
  is recorded: acknowledged (its future completed), failed (with the error),
  ambiguous (the connection was lost during COMMIT: it may or may not have
  committed), cancelled by the harness (a cancel is accepted only
  before COMMIT is sent, so a cancelled transfer is absent), hung (not completed within the bound).

  The faults, on timers with a seeded random source:
  - session kills every few seconds (pg_terminate_backend / KILL), server
    backends only, from a connection of its own
  - a server restart about every minute (bin/soak server restart …: the
    server is stopped hard, stays down a moment, starts again)
  - `.cancel` of random in-flight transfer futures
  - bursts past the pool: a second database object on the same data with a
    small pool and a short :connection-timeout gets several times its pool
    size of transfers at once, each holding its connection a while first:
    the ones that wait too long must fail with :vireo/timeout
  - `vireo.testing/inject-faults!` with a random rule set (COMMIT, ROLLBACK,
    BEGIN, a statement of the body failing; COMMIT delayed) for a few seconds
  - SQLite (no server): 100 concurrent writers by default instead of kills
    and restarts

  The check, after the faults stopped and every operation completed (or was
  declared hung): 0 acknowledged transfers lost, 0 transfers present that
  were never attempted, 0 failed (non-ambiguous) transfers present, the sum
  of balances unchanged and every balance equal to what the transfers
  present say, every error a :vireo/… ex-info, no hang, `checked-out` 0 on
  every database object, no session idle in a transaction, a recovery after
  every restart (the time from the server up to the first acknowledged
  transfer is reported), every fault kind fired. Prints one line per check,
  `soak checks: <backend> N passed, N failed`, and last a machine-readable
  line `SOAK-RESULT {…}` (EDN). Exit status 1 when a check failed."
  (:refer-clojure :exclude [run!])
  (:require [clojure.string :as str]
            [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.testing :as vt])
  (:import (java.io File)
           (java.util Random)
           (java.util.concurrent CancellationException CompletableFuture CompletionException
                                 ConcurrentHashMap ConcurrentLinkedQueue ExecutionException
                                 TimeUnit TimeoutException)
           (java.util.concurrent.atomic AtomicLong)))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- options
(def ^:private defaults
  {:seconds 120
   :accounts 100
   :initial-balance 10000
   :writers nil                 ; default per backend below
   :seed nil
   :kill-every-ms [2000 4000]   ; between session kills
   :restart-first-ms 30000
   :restart-every-ms 60000
   :down-ms [500 2500]          ; how long a restarted server stays down
   :cancel-every-ms [150 500]
   :burst-every-ms [8000 14000]
   :fault-every-ms [3000 7000]
   :fault-for-ms [800 2500]
   :op-bound-ms 120000          ; an operation not done in this time is hung
   :stuck-report-ms 60000
   ;; the fault kinds to run (--faults cancel,burst,… to run some only)
   :faults #{"kill" "restart" "cancel" "burst" "inject"}})

(defn- parse-args [args]
  (loop [m {} [k val & more :as a] args]
    (cond
      (empty? a) m
      (nil? val) (throw (ex-info (str "missing value for " k) {}))
      :else
      (let [key (keyword (str/replace k #"^--" ""))
            num? #{:seconds :accounts :writers :seed}]
        (recur (assoc m key (cond (num? key) (Long/parseLong val)
                                  (= :faults key) (set (remove str/blank? (str/split val #",")))
                                  :else val))
               more)))))

(def ^:private backend-names {"pg" :postgres "postgres" :postgres "postgresql" :postgres
                              "mysql" :mysql "mariadb" :mysql "sqlite" :sqlite})

;; ---------------------------------------------------------------- small helpers
(defn- now-ms ^long [] (System/currentTimeMillis))

(defn- rand-between ^long [^Random rnd [lo hi]]
  (+ (long lo) (long (.nextInt rnd (int (max 1 (- (long hi) (long lo))))))))

(defn- log [& xs]
  (locking *out*
    (println (apply str (format "[soak %s] " (.format (java.time.LocalTime/now)
                                                      (java.time.format.DateTimeFormatter/ofPattern "HH:mm:ss")))
                    xs))
    (flush)))

(defn- root-cause ^Throwable [^Throwable e]
  (p/unwrap e))

(defn- typed? [e]
  (let [e (root-cause e)]
    (and (instance? clojure.lang.ExceptionInfo e) (v/error-type? e :vireo/error))))

(defn- first-word [s]
  (when (string? s) (str/upper-case (first (str/split (str/trim s) #"\s+")))))

(defn- error-kind
  "A short key for counting errors: the Vireo type and the statement's first
  word, or the class and message of an untyped one."
  [e]
  (let [e (root-cause e)]
    (if (typed? e)
      (str (v/error-type e) (some->> (first-word (:sql (ex-data e))) (str " "))
           (when (:injected (ex-data e)) " (injected)"))
      (let [m (str (ex-message e))]
        (str "UNTYPED " (.getName (class e)) ": " (subs m 0 (min 160 (count m))))))))

(defn- count-severe-logs!
  "Counts the SEVERE records logged through java.util.logging (where Vert.x
  logs an exception thrown on an event loop that nobody handled) into the
  map `sink` (class: message -> n); they are also printed as usual."
  [^ConcurrentHashMap sink]
  (.addHandler (java.util.logging.Logger/getLogger "")
               (proxy [java.util.logging.Handler] []
                 (publish [^java.util.logging.LogRecord r]
                   (when (= java.util.logging.Level/SEVERE (.getLevel r))
                     (let [t (.getThrown r)
                           k (str (.getLoggerName r) ": " (.getMessage r)
                                  (when t (str " " (.getName (class t)) ": " (ex-message t))))]
                       (.merge sink k 1 (reify java.util.function.BiFunction
                                          (apply [_ a b] (+ (long a) (long b))))))))
                 (flush [])
                 (close []))))

(defn- ambiguous-commit?
  "The transaction failed at COMMIT without knowing whether the server
  committed: COMMIT was (or may have been) sent and no answer came back. An
  injected fault fails COMMIT before it is sent: not ambiguous."
  [e]
  (let [e (root-cause e)
        d (ex-data e)]
    (and (= "COMMIT" (first-word (:sql d)))
         (not (:injected d))
         (not (v/error-type? e :vireo/integrity-error)))))

;; ---------------------------------------------------------------- state
(defn- new-state [cfg]
  {:cfg cfg
   :rnd (Random. (long (:seed cfg)))
   :ids (AtomicLong. 0)
   :running (atom true)
   :faults-on (atom true)
   ;; id -> outcome keyword (:started :acked :failed :ambiguous :cancelled :hung)
   :outcomes (ConcurrentHashMap.)
   ;; id -> {:fut :started-ms :kind}
   :inflight (ConcurrentHashMap.)
   :cancelled (ConcurrentHashMap.)
   :errors (ConcurrentHashMap.)          ; kind -> AtomicLong
   :error-samples (ConcurrentHashMap.)   ; kind -> first message
   :failed-kinds (ConcurrentHashMap.)    ; id -> error kind (failed and ambiguous)
   :counts (ConcurrentHashMap.)          ; counter name -> AtomicLong
   :recovery-watch (atom nil)            ; {:up-ms t :n restart#} while waiting for the first ack
   :recoveries (ConcurrentLinkedQueue.)  ; {:restart n :recovery-ms ms}
   :restarts (ConcurrentLinkedQueue.)    ; {:n :down-ms :took-ms :up-ms}
   :max-op-ms (AtomicLong. 0)
   :severe-logs (ConcurrentHashMap.)})

(defn- counter ^AtomicLong [st k]
  (.computeIfAbsent ^ConcurrentHashMap (:counts st) k
                    (reify java.util.function.Function (apply [_ _] (AtomicLong. 0)))))

(defn- bump! [st k] (.incrementAndGet (counter st k)))
(defn- add! [st k n] (.addAndGet (counter st k) (long n)))
(defn- count-of [st k] (.get (counter st k)))

(defn- record-error! [st where e]
  (let [kind (error-kind e)
        ^ConcurrentHashMap errors (:errors st)]
    (.incrementAndGet ^AtomicLong (.computeIfAbsent errors kind (reify java.util.function.Function (apply [_ _] (AtomicLong. 0)))))
    (when (nil? (.putIfAbsent ^ConcurrentHashMap (:error-samples st) kind (str where ": " (ex-message (root-cause e)))))
      (when-not (typed? e)
        ;; the first of each untyped kind, with where it came from
        (locking *out*
          (log "untyped error (" where "): " kind)
          (.printStackTrace (root-cause e) (java.io.PrintWriter. *out* true)))))
    kind))

(defn- rnd-int ^long [st ^long n] (locking (:rnd st) (.nextInt ^Random (:rnd st) (int n))))
(defn- rnd-in ^long [st range] (locking (:rnd st) (rand-between (:rnd st) range)))

;; ---------------------------------------------------------------- the workload
(defn- update-balance [d acct delta]
  (v/aio-execute d {:update :soak_account :set {:balance [:+ :balance delta]} :where [:= :id acct]}))

(defn- transfer
  "Future of one transfer in aio-atomic {:retry 3}: debit, credit, the
  transfer's row. `hold-ms` first holds the connection that long (bursts)."
  [d {:keys [id src dst amount hold-ms ordered]}]
  (v/aio-atomic d {:retry 3}
                (fn [_]
                  (p/let [_ (when hold-ms (p/delay hold-ms))
                          ;; in account order, mostly: fewer deadlocks (the rest exercise :retry)
                          [a da b db] (if (or (not ordered) (< (long src) (long dst)))
                                        [src (- amount) dst amount]
                                        [dst amount src (- amount)])
                          _ (update-balance d a da)
                          _ (update-balance d b db)]
                    (v/aio-execute d {:insert-into :soak_transfer :columns [:id :src :dst :amount]
                                      :values [[id src dst amount]]})))))

(defn- new-transfer [st]
  (let [n (long (:accounts (:cfg st)))
        src (inc (rnd-int st n))
        dst (let [x (inc (rnd-int st (dec n)))] (if (>= x src) (inc x) x))]
    {:id (.incrementAndGet ^AtomicLong (:ids st))
     :src src :dst (long dst) :amount (inc (rnd-int st 100))
     :ordered (pos? (rnd-int st 20))}))

(defn- note-ack! [st]
  (when-let [w @(:recovery-watch st)]
    (let [t (now-ms)]
      (when (compare-and-set! (:recovery-watch st) w nil)
        (.add ^ConcurrentLinkedQueue (:recoveries st) {:restart (:n w) :recovery-ms (- t (long (:up-ms w)))
                                                       :outage-ms (- t (long (:stop-ms w)))})))))

(defn- finish!
  "Records the outcome of transfer `id` whose future completed with [v e]."
  [st id kind e]
  (let [^ConcurrentHashMap outcomes (:outcomes st)
        ours? (.containsKey ^ConcurrentHashMap (:cancelled st) id)
        e (when e (root-cause e))]
    (when-let [{:keys [started-ms]} (.remove ^ConcurrentHashMap (:inflight st) id)]
      (let [took (- (now-ms) (long started-ms))
            ^AtomicLong mx (:max-op-ms st)]
        (loop [] (let [m (.get mx)] (when (and (> took m) (not (.compareAndSet mx m took))) (recur))))))
    (cond
      (nil? e) (do (.put outcomes id :acked) (bump! st :acked) (note-ack! st))
      (and (instance? CancellationException e) ours?) (do (.put outcomes id :cancelled) (bump! st :cancelled-outcome))
      :else
      (let [k (record-error! st (name kind) e)]
        (.put ^ConcurrentHashMap (:failed-kinds st) id k)
        (when (and (= kind :burst) (v/error-type? e :vireo/timeout)) (bump! st :burst-timeouts))
        (if (ambiguous-commit? e)
          (do (.put outcomes id :ambiguous) (bump! st :ambiguous))
          (do (.put outcomes id :failed) (bump! st :failed)))))))

(defn- start-transfer!
  "Starts a transfer on database `d`; registers it in flight. Returns [id fut]."
  [st d kind extra]
  (let [t (merge (new-transfer st) extra)
        id (:id t)]
    (.put ^ConcurrentHashMap (:outcomes st) id :started)
    (bump! st :operations)
    (let [fut (try (transfer d t)
                   (catch Throwable e (p/rejected e)))]
      (.put ^ConcurrentHashMap (:inflight st) id {:fut fut :started-ms (now-ms) :kind kind})
      [id fut])))

(defn- writer-loop [st d]
  (let [bound (long (:op-bound-ms (:cfg st)))]
    (while @(:running st)
      (let [[id ^CompletableFuture fut] (start-transfer! st d :worker nil)
            [ok e] (try (.get fut bound TimeUnit/MILLISECONDS) [true nil]
                        (catch TimeoutException _ [false nil])
                        (catch ExecutionException x [true (.getCause x)])
                        (catch CancellationException x [true x])
                        (catch Throwable x [true x]))]
        (if-not ok
          ;; hung: stays in flight (the watchdog and the final check see it)
          (do (.put ^ConcurrentHashMap (:outcomes st) id :hung)
              (log "operation " id " did not complete in " bound " ms")
              ;; should it ever complete, its outcome is recorded then
              (.whenComplete fut (reify java.util.function.BiConsumer
                                   (accept [_ _ e] (finish! st id :worker e)))))
          (do (finish! st id :worker e)
              ;; a failing server: do not spin
              (when (and e (not (instance? CancellationException e))) (Thread/sleep 20))))))))

;; ---------------------------------------------------------------- faults
(defn- every!
  "Runs (f) on a thread of its own, then again after a random pause in
  `range` (ms), while faults are on. Returns the thread."
  [st label range f]
  (doto (Thread. ^Runnable
         (fn []
           (try
             (while @(:faults-on st)
               (Thread/sleep (rnd-in st range))
               (when @(:faults-on st)
                 (try (f)
                      (catch InterruptedException e (throw e))
                      (catch Throwable e
                        (if (instance? InterruptedException (root-cause e))
                          (throw (root-cause e))
                          (do (record-error! st label e)
                              (when-not (typed? e) (log label " failed: " e))))))))
             ;; the end of the faults interrupts the pause
             (catch InterruptedException _ nil)))
         (str "soak-" label))
    (.setDaemon true)
    (.start)))

(defn- await! [fut] (p/await fut 30000))

(defn- kill-sessions! [st admin backend]
  (let [n (inc (rnd-int st 3))]
    (case backend
      :postgres
      (let [rows (:rows (await! (v/aio-execute-sql admin (str "SELECT pg_terminate_backend(pid) AS k FROM"
                                                              " (SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                                                              " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                                                              " ORDER BY random() LIMIT $1) s")
                                                   [n])))]
        (add! st :kills (count (filter :k rows))))
      :mysql
      (let [ids (map :id (:rows (await! (v/aio-execute-sql admin (str "SELECT ID AS id FROM information_schema.PROCESSLIST"
                                                                       " WHERE DB = DATABASE() AND ID <> CONNECTION_ID()"
                                                                       " AND COMMAND NOT IN ('Daemon', 'Binlog Dump')")))))]
        (doseq [id (take n (shuffle ids))]
          (try (await! (v/aio-execute-sql admin (str "KILL " (long id))))
               (bump! st :kills)
               (catch Throwable e (record-error! st "kill" e))))))))

(defn- restart-server! [st n]
  (let [{:keys [server-cmd server-dir backend-arg]} (:cfg st)
        down (rnd-in st (:down-ms (:cfg st)))
        t0 (now-ms)
        logf (File. (str server-dir "/restarts.log"))
        pr (-> (ProcessBuilder. ^java.util.List (vector server-cmd "server" "restart" backend-arg server-dir (str down)))
               (.redirectErrorStream true)
               (.redirectOutput (java.lang.ProcessBuilder$Redirect/appendTo logf))
               (.start))
        rc (.waitFor pr)
        up (now-ms)]
    (if (zero? rc)
      (do (reset! (:recovery-watch st) {:up-ms up :stop-ms t0 :n n})
          (bump! st :restarts)
          (.add ^ConcurrentLinkedQueue (:restarts st) {:n n :down-ms down :took-ms (- up t0) :up-ms up})
          (log "restart " n ": server down " down " ms, up again after " (- up t0) " ms"))
      (do (bump! st :restart-failures)
          (log "restart " n " FAILED (exit " rc "), see " logf)))))

(def ^:private begin-re #"(?i)^\s*(BEGIN|START TRANSACTION)")

(def ^:private fault-sets
  ;; name, rules
  [["commit-fails" [{:sql "COMMIT" :times 2}]]
   ["rollback-fails" [{:sql "ROLLBACK" :times 2}]]
   ["begin-fails" [{:sql begin-re :times 2}]]
   ["update-fails" [{:sql #"^UPDATE" :times 3}]]
   ["insert-fails" [{:sql #"^INSERT" :times 2}]]
   ["commit-delayed" [{:sql "COMMIT" :delay-ms 80 :times 10}]]
   ["commit-and-rollback-fail" [{:sql "COMMIT" :times 1} {:sql "ROLLBACK" :times 1}]]
   ["body-delayed-then-fails" [{:sql #"^UPDATE" :delay-ms 50 :fail true :times 2}]]])

(defn- inject-some! [st d]
  (let [[label rules] (nth fault-sets (rnd-int st (count fault-sets)))]
    (vt/inject-faults! d rules)
    (try (Thread/sleep (rnd-in st (:fault-for-ms (:cfg st))))
         (finally
           (let [hits (vt/fault-hits d)]
             (vt/clear-faults! d)
             (add! st (keyword "injected" label) hits)
             (add! st :injected hits))))))

(defn- burst! [st bd]
  (let [size (long (:burst-size (:cfg st)))
        hold (* 2 (long (:burst-timeout (:cfg st))))]
    (bump! st :bursts)
    (dotimes [_ (* 4 size)]
      (let [[id ^CompletableFuture fut] (start-transfer! st bd :burst {:hold-ms hold})]
        (add! st :burst-ops 1)
        (.whenComplete fut (reify java.util.function.BiConsumer
                             (accept [_ _ e] (finish! st id :burst e))))))))

(defn- cancel-one! [st]
  (let [^ConcurrentHashMap inflight (:inflight st)
        ks (vec (.keySet inflight))]
    (when (seq ks)
      (let [id (nth ks (rnd-int st (count ks)))]
        (when-let [{:keys [^CompletableFuture fut]} (.get inflight id)]
          (.put ^ConcurrentHashMap (:cancelled st) id true)
          (if (.cancel fut true)
            (bump! st :cancellations)
            (.remove ^ConcurrentHashMap (:cancelled st) id)))))))

(defn- watchdog [st]
  (doto (Thread. ^Runnable
         (fn []
           (let [reported (java.util.HashSet.)]
             (while (and @(:running st) (not (Thread/interrupted)))
               (try (Thread/sleep 5000) (catch InterruptedException _ nil))
               (doseq [[id {:keys [started-ms kind]}] (:inflight st)]
                 (when (and (> (- (now-ms) (long started-ms)) (long (:stuck-report-ms (:cfg st))))
                            (.add reported id))
                   (log "watchdog: " (name kind) " transfer " id " in flight for "
                        (- (now-ms) (long started-ms)) " ms"))))))
         "soak-watchdog")
    (.setDaemon true)
    (.start)))

;; ---------------------------------------------------------------- the check
(defn- rows [d sql] (:rows (await! (v/aio-execute-sql d sql))))

(defn- wait-until [pred ms]
  (let [deadline (+ (now-ms) (long ms))]
    (loop []
      (cond (pred) true
            (> (now-ms) deadline) false
            :else (do (Thread/sleep 250) (recur))))))

(defn- every-slot-free?
  "Borrows `n` connections of `d` at once (all of its pool) and gives them
  back: false when the pool cannot hand out that many, a slot lost inside
  the pool (Vireo's checked-out count would not see it)."
  [d n]
  (let [all-in (p/promise)
        k (atom 0)
        blocks (doall (for [_ (range n)]
                        (v/aio-connection d (fn [_]
                                              (when (= n (swap! k inc)) (p/resolve! all-in true))
                                              all-in))))]
    (try (p/await (p/all blocks) 30000) true
         (catch Throwable _ false)
         (finally (p/resolve! all-in false)
                  (doseq [b blocks] (try (p/await b 30000) (catch Throwable _ nil)))))))

(defn- open-transactions [probe backend]
  (case backend
    :postgres (long (:n (first (rows probe (str "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
                                                " AND state LIKE 'idle in transaction%'")))))
    :mysql (long (:n (first (rows probe "SELECT count(*) AS n FROM information_schema.innodb_trx"))))
    0))

(defn- ledger [d]
  (let [ids (into #{} (map (comp long :id)) (rows d "SELECT id FROM soak_transfer"))
        balances (into {} (map (fn [r] [(long (:id r)) (long (:balance r))])) (rows d "SELECT id, balance FROM soak_account"))
        sums (fn [col] (into {} (map (fn [r] [(long (:a r)) (long (:s r))]))
                             (rows d (str "SELECT " col " AS a, SUM(amount) AS s FROM soak_transfer GROUP BY " col))))]
    {:ids ids :balances balances :out (sums "src") :in (sums "dst")}))

(defn- check [checks name ok detail]
  (log (if ok "ok   " "FAIL ") name (when detail (str ": " detail)))
  (conj checks {:name name :ok (boolean ok) :detail detail}))

;; ---------------------------------------------------------------- run
(defn- setup! [d cfg]
  (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS soak_transfer"))
  (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS soak_account"))
  (await! (v/aio-execute-sql d "CREATE TABLE soak_account (id INTEGER PRIMARY KEY, balance BIGINT NOT NULL)"))
  (await! (v/aio-execute-sql d (str "CREATE TABLE soak_transfer (id BIGINT PRIMARY KEY, src INTEGER NOT NULL,"
                                    " dst INTEGER NOT NULL, amount BIGINT NOT NULL)")))
  (await! (v/aio-execute d {:insert-into :soak_account :columns [:id :balance]
                            :values (vec (for [i (range 1 (inc (long (:accounts cfg))))] [i (:initial-balance cfg)]))})))

(defn- join-all [threads ms]
  (let [deadline (+ (now-ms) (long ms))]
    (doseq [^Thread t threads]
      (.join t (max 1 (- deadline (now-ms)))))))

(defn run!
  "Runs the soak with `cfg` (see `defaults` and -main). Returns the summary map."
  [cfg]
  (let [cfg (merge defaults cfg)
        backend (:backend cfg)
        server? (not= backend :sqlite)
        cfg (merge {:writers (if server? 12 100)
                    :max-size (if server? 8 16)
                    :connection-timeout (if server? 5000 30000)
                    :burst-size 3
                    :burst-timeout 250
                    :seed (System/nanoTime)}
                   (into {} (remove (comp nil? val)) cfg))
        st (new-state cfg)
        _ (count-severe-logs! (:severe-logs st))
        url (:url cfg)
        d (v/database url {:max-size (:max-size cfg) :connection-timeout (:connection-timeout cfg)})
        bd (v/database url {:max-size (:burst-size cfg) :connection-timeout (:burst-timeout cfg)})
        admin (when server? (v/database url {:max-size 1 :connection-timeout 2000}))
        seconds (long (:seconds cfg))
        t0 (now-ms)
        end-ms (+ t0 (* 1000 seconds))
        fault-end (- end-ms (min 15000 (quot (* 1000 seconds) 8)))]
    (log "backend " (name backend) ", " seconds " s, " (:writers cfg) " writers, pool " (:max-size cfg)
         ", seed " (:seed cfg) ", url " url)
    (setup! d cfg)
    (let [writers (vec (for [i (range (:writers cfg))]
                         (doto (Thread. ^Runnable (fn [] (try (writer-loop st d)
                                                              (catch Throwable e (log "writer crashed: " e))))
                                        (str "soak-writer-" i))
                           (.setDaemon true) (.start))))
          wd (watchdog st)
          on? (fn [k] (contains? (:faults cfg) k))
          fault-threads
          (cond-> []
            (on? "cancel") (conj (every! st "cancel" (:cancel-every-ms cfg) #(cancel-one! st)))
            (on? "burst") (conj (every! st "burst" (:burst-every-ms cfg) #(burst! st bd)))
            (on? "inject") (conj (every! st "inject" (:fault-every-ms cfg) #(inject-some! st d)))
            (and server? (on? "kill")) (conj (every! st "kill" (:kill-every-ms cfg) #(kill-sessions! st admin backend)))
            (and server? (on? "restart"))
            (conj (doto (Thread. ^Runnable
                                 (fn []
                                   (loop [n 1 at (+ t0 (long (:restart-first-ms cfg)))]
                                     (when (and @(:faults-on st) (< (+ at 10000) fault-end))
                                       (while (and @(:faults-on st) (< (now-ms) at)) (Thread/sleep 100))
                                       (when @(:faults-on st)
                                         (try (restart-server! st n)
                                              (catch Throwable e (log "restart failed: " e) (bump! st :restart-failures)))
                                         (recur (inc n) (+ at (rnd-in st [(- (long (:restart-every-ms cfg)) 5000)
                                                                           (+ (long (:restart-every-ms cfg)) 5000)])))))))
                                        "soak-restarts")
                            (.setDaemon true) (.start))))]
      ;; progress
      (loop []
        (let [left (- end-ms (now-ms))]
          (when (pos? left)
            (Thread/sleep (min 10000 left))
            (when (>= (now-ms) fault-end) (reset! (:faults-on st) false))
            (log (quot (- (now-ms) t0) 1000) " s: " (count-of st :operations) " transfers, "
                 (count-of st :acked) " acknowledged, " (count-of st :failed) " failed, "
                 (count-of st :ambiguous) " ambiguous, " (count-of st :cancelled-outcome) " cancelled, "
                 (.size ^ConcurrentHashMap (:inflight st)) " in flight")
            (recur))))
      (reset! (:faults-on st) false)
      (log "faults stopped; waiting for the fault threads (a restart in progress finishes)")
      (doseq [^Thread t fault-threads :when (not= "soak-restarts" (.getName t))] (.interrupt t))
      (join-all fault-threads 120000)
      (vt/clear-faults! d)
      (reset! (:running st) false)
      (log "writers stopped; waiting for every operation to complete")
      (join-all writers (+ 10000 (long (:op-bound-ms cfg))))
      (wait-until #(.isEmpty ^ConcurrentHashMap (:inflight st)) (:op-bound-ms cfg))
      (.interrupt ^Thread wd)
      (let [hung (into {} (map (fn [[id {:keys [kind started-ms]}]] [id {:kind kind :ms (- (now-ms) (long started-ms))}]))
                       (:inflight st))
            ;; a fresh database object for the check: nothing of the workload's pools in the way
            cd (v/database url {:max-size 2 :connection-timeout 10000})
            slots-free [(every-slot-free? d (:max-size cfg)) (every-slot-free? bd (:burst-size cfg))]
            checked-out-zero (wait-until #(and (zero? (v/checked-out d)) (zero? (v/checked-out bd))) 30000)
            checked-out [(v/checked-out d) (v/checked-out bd)]
            idle-tx-zero (wait-until #(zero? (open-transactions cd backend)) 15000)
            idle-tx (open-transactions cd backend)
            {:keys [ids balances out in]} (ledger cd)
            outcomes (into {} (:outcomes st))
            by (group-by val outcomes)
            idset (fn [k] (set (map key (get by k))))
            acked (idset :acked)
            failed (idset :failed)
            ambiguous (idset :ambiguous)
            cancelled (idset :cancelled)
            lost (remove ids acked)
            phantom (remove #(contains? outcomes %) ids)
            failed-present (filter ids failed)
            n (long (:accounts cfg))
            initial (long (:initial-balance cfg))
            total (reduce + 0 (vals balances))
            mismatched (for [a (range 1 (inc n))
                             :let [want (+ initial (long (get in a 0)) (- (long (get out a 0))))]
                             :when (not= want (get balances a))]
                         [a (get balances a) want])
            untyped (into {} (filter #(str/starts-with? (key %) "UNTYPED")) (into {} (map (fn [[k ^AtomicLong c]] [k (.get c)])) (:errors st)))
            recoveries (vec (:recoveries st))
            restarts (vec (:restarts st))
            max-recovery (when (seq recoveries) (apply max (map :recovery-ms recoveries)))
            after (try (await! (transfer cd (assoc (new-transfer st) :id (.incrementAndGet ^AtomicLong (:ids st)))))
                       :ok (catch Throwable e (str (error-kind e))))
            injected (into (sorted-map) (keep (fn [[k ^AtomicLong c]]
                                                (when (= "injected" (namespace k)) [(name k) (.get c)])))
                           (:counts st))
            faults (cond-> {:cancellations (count-of st :cancellations)
                            :bursts (count-of st :bursts)
                            :burst-ops (count-of st :burst-ops)
                            :burst-timeouts (count-of st :burst-timeouts)
                            :injected-hits (count-of st :injected)
                            :injected injected}
                     server? (assoc :kills (count-of st :kills)
                                    :restarts (count-of st :restarts)
                                    :restart-failures (count-of st :restart-failures)))
            checks (-> []
                       (check "transfers were acknowledged" (pos? (count acked)) (str (count acked) " of " (count outcomes)))
                       (check "lost: every acknowledged transfer is present" (empty? lost)
                              (str (count lost) " lost" (when (seq lost) (str ", e.g. " (vec (take 10 lost))))))
                       (check "phantom: no transfer present that was not attempted" (empty? phantom)
                              (str (count phantom) (when (seq phantom) (str ", e.g. " (vec (take 10 phantom))))))
                       (check "failed transfers (not ambiguous) are absent" (empty? failed-present)
                              (str (count failed-present) " of " (count failed) " present"
                                   (when (seq failed-present)
                                     (str ", their errors: " (frequencies (map #(get (:failed-kinds st) %) failed-present))))))
                       ;; a cancel is accepted only before COMMIT is sent (after it,
                       ;; .cancel returns false and the transfer is acknowledged or fails)
                       (check "cancelled transfers are absent" (not-any? ids cancelled)
                              (str (count (filter ids cancelled)) " of " (count cancelled) " present"))
                       (check "sum of balances unchanged" (and (= n (count balances)) (= (* n initial) total))
                              (str total " (expected " (* n initial) ")"))
                       (check "every balance matches the transfers present" (empty? mismatched)
                              (str (count mismatched) " accounts differ" (when (seq mismatched) (str ", e.g. " (vec (take 5 mismatched))))))
                       (check "every error is a typed :vireo/... ex-info" (empty? untyped) (pr-str untyped))
                       (check "no hang: every operation completed" (empty? hung)
                              (str (count hung) " hung, max operation " (.get ^AtomicLong (:max-op-ms st)) " ms"
                                   (when (seq hung) (str ": " (vec (take 5 hung))))))
                       (check "checked-out is 0 on every database object" checked-out-zero (pr-str checked-out))
                       (check "every pool can still lend all its connections at once" (every? true? slots-free)
                              (pr-str slots-free))
                       (check (if server? "no session idle in transaction" "no transaction left open") idle-tx-zero (str idle-tx))
                       (check "a transfer commits after the soak" (= :ok after) (str after))
                       (cond-> (contains? (:faults cfg) "burst")
                         (check "bursts past the pool failed with :vireo/timeout" (pos? (count-of st :burst-timeouts))
                                (str (count-of st :burst-timeouts) " timeouts in " (count-of st :bursts) " bursts")))
                       (check "every fault kind was injected"
                              (every? (fn [[k c]] (or (not (contains? (:faults cfg) k)) (pos? (count-of st c))))
                                      (cond-> [["cancel" :cancellations] ["inject" :injected] ["burst" :bursts]]
                                        server? (conj ["kill" :kills] ["restart" :restarts])))
                              (pr-str (dissoc faults :injected)))
                       (cond-> (and server? (contains? (:faults cfg) "restart"))
                         (check "the pool recovered after every restart"
                                (and (zero? (count-of st :restart-failures)) (= (count restarts) (count recoveries)))
                                (str (count recoveries) " of " (count restarts) " restarts recovered, max "
                                     max-recovery " ms"))))
            passed (count (filter :ok checks))
            failed-n (count (remove :ok checks))
            summary {:backend backend
                     :seconds seconds
                     :writers (:writers cfg)
                     :seed (:seed cfg)
                     :operations (count-of st :operations)
                     :acked (count acked)
                     :failed (count failed)
                     :ambiguous (count ambiguous)
                     :ambiguous-present (count (filter ids ambiguous))
                     :cancelled (count cancelled)
                     :cancelled-present (count (filter ids cancelled))
                     :faults faults
                     :lost (count lost)
                     :phantom (count phantom)
                     :failed-present (count failed-present)
                     :untyped (reduce + 0 (vals untyped))
                     :hung (count hung)
                     :max-op-ms (.get ^AtomicLong (:max-op-ms st))
                     :checked-out checked-out
                     :idle-in-transaction idle-tx
                     :recovery-ms (mapv :recovery-ms recoveries)
                     :max-recovery-ms max-recovery
                     ;; from the stop of the server to the first acknowledged transfer after it
                     :outage-ms (mapv :outage-ms recoveries)
                     :errors (into (sorted-map) (map (fn [[k ^AtomicLong c]] [k (.get c)])) (:errors st))
                     ;; not failures of Vireo's futures, but worth knowing (reported, not checked)
                     :severe-logs (into (sorted-map) (:severe-logs st))
                     :passed passed
                     :failed-checks (vec (keep #(when-not (:ok %) (:name %)) checks))}]
        (log "errors seen, by kind: ")
        (doseq [[k c] (:errors summary)]
          (log "  " c " × " k "   (e.g. " (get (:error-samples st) k) ")"))
        (doseq [db [d bd admin cd] :when db]
          (try (await! (v/aio-close db)) (catch Throwable _ nil)))
        (when (seq (:severe-logs summary))
          (log "SEVERE log records (not checked): " (pr-str (:severe-logs summary))))
        (println (str "soak checks: " (name backend) " " passed " passed, " failed-n " failed"))
        (println (str "SOAK-RESULT " (pr-str summary)))
        (flush)
        summary))))

(defn -main [& args]
  (let [opts (parse-args args)
        backend (or (backend-names (str (:backend opts)))
                    (throw (ex-info (str "--backend pg|mysql|sqlite, got " (:backend opts)) {})))
        cfg (assoc opts :backend backend :backend-arg (:backend opts)
                   :server-cmd (or (:server-cmd opts) "bin/soak"))
        summary (try (run! cfg)
                     (catch Throwable e
                       (log "the soak harness failed: " e)
                       (.printStackTrace e)
                       nil))]
    (shutdown-agents)
    (System/exit (if (and summary (empty? (:failed-checks summary))) 0 1))))
