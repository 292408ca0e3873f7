(ns ^:vireo/per-backend vireo.threads-test
  "Any thread: the same semantics from platform threads, virtual threads
  (blocking deref, JDK 21+, in a second JVM) and Vert.x event-loop callbacks
  (composition, never blocking); no wrong-thread errors."
  (:require [clojure.java.io :as io]
            [clojure.java.shell :as sh]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.promise :as p]
            [vireo.test-support :as ts :refer [await! error-of]]
            [vireo.threads-vt-main :as vt])
  (:import (io.vertx.core Context Handler Vertx)
           (java.io File)
           (java.util.concurrent Callable CompletableFuture Executors TimeUnit)))

(set! *warn-on-reflection* true)

(defn- names [m]
  (set (map :name (:rows (await! (v/aio-execute-sql (:database m) (str "SELECT name FROM " (v/table-name m))))))))

;; ------------------------------------------------------------ platform threads

(deftest platform-threads-test
  (let [d (ts/db)
        Item (vt/item-model d "thread_item")
        pool (Executors/newFixedThreadPool 8)
        n (atom 0)
        ;; every other task on the fixed pool, the rest on clojure.core futures
        spawn (fn [f] (if (even? (swap! n inc)) (.submit pool ^Callable f) (future-call f)))]
    (try
      (ts/with-tables [Item]
        ;; each task: blocking derefs of aio-create, aio-get, an aio-atomic whose
        ;; nested savepoint fails and is caught, an aio-atomic that fails
        (testing "40 concurrent tasks: 20 on a fixed pool of 8 threads, 20 clojure.core futures"
          (is (= {:tasks 40 :ok 40 :virtual 0 :rows 80 :rows-right? true :checked-out 0 :bad []}
                 (vt/run-workload d Item 40 spawn))))
        (is (= 40 @n))
        (is (not (v/in-transaction? d)) "no context leaked onto the test thread"))
      (finally
        (.shutdownNow pool)
        (.awaitTermination pool 10 TimeUnit/SECONDS)))))

;; ------------------------------------------------------------ event loops

(defn- on-event-loop
  "Runs (f) in vertx.runOnContext; a Clojure promise of {:value v} or
  {:error e}, from f's future (or synchronous throw)."
  [^Vertx vx f]
  (let [out (promise)]
    (.runOnContext vx (reify Handler
                        (handle [_ _]
                          (try (p/handle (p/->future (f)) (fn [v e] (deliver out (if e {:error e} {:value v}))))
                               (catch Throwable e (deliver out {:error e}))))))
    out))

(defn- outcome [out]
  (let [r (deref out 30000 ::timeout)]
    (if (= ::timeout r) {:error (ex-info "timed out after 30 s: the event loop never delivered" {})} r)))

(defn- composed-scenario
  "Non-blocking, from an event-loop callback: aio-create, aio-get, an
  aio-atomic whose nested savepoint fails and is caught, an aio-atomic that
  fails; every name prefixed with `pre`."
  [d Item pre]
  (let [on-loop? (Context/isOnEventLoopThread)
        nm #(str pre %)]
    (p/let [c (v/aio-create Item {:name (nm "c") :n 1})
            g (p/then (v/aio-get Item {:name (nm "c")}) identity)
            atomic (v/aio-atomic d
                     (fn [_]
                       (p/let [_ (v/aio-create Item {:name (nm "a") :n 2})
                               inner (p/catch (v/aio-atomic d (fn [_]
                                                                (p/let [_ (v/aio-create Item {:name (nm "x") :n 3})]
                                                                  (throw (ex-info "inner" {:type ::inner})))))
                                              ::inner (constantly :inner-rolled-back))
                               a (v/aio-get Item {:name (nm "a")})]
                         [inner (v/in-transaction? d) (:n a)])))
            failed (p/catch (v/aio-atomic d (fn [_] (p/let [_ (v/aio-create Item {:name (nm "f") :n 4})]
                                                      (throw (ex-info "outer" {:type ::outer})))))
                            (fn [e] (:type (ex-data e))))]
      {:on-loop? on-loop? :created (dissoc c :id) :got-same? (= c g) :atomic atomic :failed failed
       :context-leaked? (v/in-transaction? d)})))

(def ^:private composed-expected
  {:on-loop? true :created {:name "c" :n 1} :got-same? true :atomic [:inner-rolled-back true 2]
   :failed ::outer :context-leaked? false})

(defn- blocking-probe
  "On an event loop: deref/join/p/await of an unfinished Vireo future, and
  deref of a finished one."
  [d Item backend]
  ;; a slow statement first, so the future is surely unfinished when it is
  ;; dereferenced (a get alone can finish on a driver thread before this
  ;; loop looks, on SQLite's in-process JDBC)
  (let [slow (case backend
               :postgres "SELECT pg_sleep(0.3)"
               :mysql "SELECT SLEEP(0.3)"
               :sqlite "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) SELECT count(*) FROM c")
        f (p/then (v/aio-execute-sql d slow) (fn [_] (v/aio-get-or-none Item {:name "own-c"})))
        done-before? (.isDone ^CompletableFuture f)
        err #(try (%) :no-error (catch Throwable e e))]
    (p/resolved {:f f
                 :done-before? done-before?
                 :deref (err #(deref f))
                 :deref-timeout (err #(deref f 1000 ::timeout))
                 :join (err #(.join ^CompletableFuture f))
                 :await (err #(p/await f 1000))
                 :deref-finished (deref (p/resolved :finished))})))

(deftest event-loop-callbacks-test
  (let [d (ts/db)
        Item (vt/item-model d "thread_item")
        vx (Vertx/vertx)
        ;; a database running on the callbacks' own Vert.x instance
        own (ts/new-db ts/*backend* {:vertx vx})
        OwnItem (v/bind-database Item own)]
    (try
      (ts/with-tables [Item]
        (testing "composing from a callback of another Vert.x instance than the database's"
          (let [{:keys [value error]} (outcome (on-event-loop vx #(composed-scenario d Item "")))]
            (is (nil? (some-> error ex-message)))
            (is (= composed-expected value))))
        (testing "composing from a callback of the database's own Vert.x instance"
          (let [{:keys [value error]} (outcome (on-event-loop vx #(composed-scenario own OwnItem "own-")))]
            (is (nil? (some-> error ex-message)))
            (is (= (assoc composed-expected :created {:name "own-c" :n 1}) value))))
        (is (= #{"c" "a" "own-c" "own-a"} (names Item)) "the savepoint and the failed block rolled back")
        (testing "a blocking deref of an unfinished Vireo future on an event loop fails instead of deadlocking"
          (let [{:keys [value error]} (outcome (let [b ts/*backend*] (on-event-loop vx #(blocking-probe own OwnItem b))))
                {:keys [f done-before?]} value]
            (is (nil? (some-> error ex-message)))
            (is (false? done-before?) "the probe's future was still running (on this very loop)")
            (doseq [k [:deref :deref-timeout :join]]
              (is (instance? IllegalStateException (k value)) (str k ": " (pr-str (k value))))
              (is (str/includes? (str (ex-message (k value))) "event-loop") (str k)))
            (is (= :vireo/blocking-on-event-loop (:type (ex-data (:await value)))))
            (is (= :finished (:deref-finished value)) "a finished future derefs fine on an event loop")
            (testing "and the loop was not stalled: the future completes"
              (is (= {:name "own-c" :n 1} (dissoc (await! f) :id))))))
        (is (zero? (v/checked-out own)))
        (is (not (v/in-transaction? d))))
      (finally
        (await! (v/aio-close own))
        (await! (p/from-vertx (.close vx)))))))

(deftest event-loop-continuation-after-block-test
  ;; The smallest form of the composed scenario above: on an event loop, an
  ;; operation chained (with no Vireo context of its own) after a block has
  ;; ended must run on the pool, like it does from any other thread.
  (let [d (ts/db)
        vx (Vertx/vertx)
        after-block (fn [block]
                      (outcome (on-event-loop vx #(p/let [_ (block d (fn [_] (v/aio-execute-sql d "SELECT 1 AS one")))]
                                                    (v/aio-execute-sql d "SELECT 2 AS two")))))]
    (try
      (doseq [[label block] {"aio-atomic" v/aio-atomic "aio-connection" v/aio-connection}]
        (testing (str "after " label)
          (let [{:keys [value error]} (after-block block)]
            (is (nil? (some-> error ex-message)) "the continuation must not inherit the ended block's context")
            (is (= [{:two 2}] (:rows value))))))
      (is (zero? (v/checked-out d)))
      (finally
        (await! (p/from-vertx (.close vx)))))))

;; ------------------------------------------------------------ virtual threads

(defn- java-major
  "The feature version a `java` binary reports (8 for 1.8), or nil."
  [java]
  (try
    (let [{:keys [err exit]} (sh/sh java "-version")
          [_ v] (re-find #"version \"([^\"]+)\"" (str err))]
      (when (and (zero? exit) v)
        (let [[a b] (map parse-long (re-seq #"\d+" v))]
          (if (= a 1) b a))))
    (catch Exception _ nil)))

(def ^:private vt-java
  "The java binary of the highest JDK >= 21 found (JAVA_HOME, this JVM,
  /usr/lib/jvm/*), or nil."
  (delay
    (let [candidates (->> (concat [(System/getenv "JAVA_HOME") (System/getProperty "java.home")]
                                  (map str (.listFiles (io/file "/usr/lib/jvm"))))
                          (remove nil?)
                          (map #(io/file % "bin" "java"))
                          (filter #(.canExecute ^File %))
                          (map #(.getCanonicalPath ^File %))
                          distinct)]
      (->> candidates
           (keep (fn [j] (when-let [m (java-major j)] (when (>= m 21) [m j]))))
           (sort-by first >)
           first second))))

(defn- run-child
  "Runs a JVM with `args`; {:exit n :out \"stdout+stderr\"}, killed after 90 s."
  [args]
  (let [proc (-> (ProcessBuilder. ^java.util.List args)
                 (.directory (io/file (System/getProperty "user.dir")))
                 (.redirectErrorStream true)
                 (.start))
        out (future (slurp (.getInputStream proc)))]
    (.close (.getOutputStream proc))
    (if (.waitFor proc 90 TimeUnit/SECONDS)
      {:exit (.exitValue proc) :out (deref out 10000 "")}
      (do (.destroyForcibly proc)
          (.waitFor proc 10 TimeUnit/SECONDS)
          {:exit :timeout :out (deref out 10000 "")}))))

(def ^:private vt-child
  "One child JVM for every available backend of this run (a JVM start-up
  costs seconds): {:java path :exit n :out text}, or nil without a JDK >= 21."
  (delay
    (when-let [java @vt-java]
      (let [backends (remove ts/backend-unavailable (ts/backends))]
        (assoc (run-child (into [java "--enable-native-access=ALL-UNNAMED"
                                 ;; a short-lived JVM: C1 and the serial GC start it faster
                                 "-XX:TieredStopAtLevel=1" "-XX:+UseSerialGC"
                                 "-cp" (System/getProperty "java.class.path")
                                 "clojure.main" "-m" "vireo.threads-vt-main" "200"]
                                (mapcat (fn [b] [(name b) (ts/url b)]) backends)))
               :java java)))))

(deftest virtual-threads-test
  (if-let [{:keys [java exit out]} @vt-child]
    (let [d (ts/db)
          backend (name ts/*backend*)
          [_ jv tasks ok virtual rows checked-out status]
          (re-find (re-pattern (str "VT-SUMMARY java=(\\S+) backend=" backend " tasks=(\\d+) ok=(\\d+) virtual=(\\d+)"
                                    " rows=(\\d+) checked-out=(\\d+) status=(\\S+)"))
                   (str out))]
      (is (contains? #{0 1} exit) (str java " crashed or timed out (" exit "):\n" out))
      (is (some->> jv (re-find #"^\d+") parse-long (<= 21)) (str "child Java: " jv))
      (is (= ["200" "200" "200" "400" "0" "ok"] [tasks ok virtual rows checked-out status])
          (str "200 virtual threads, all right, 400 committed rows, no connection left:\n" out))
      (is (some? (error-of #(v/aio-execute-sql d "SELECT count(*) FROM vireo_vt_item")))
          "the child dropped its table"))
    (ts/skip! "no JDK >= 21 for virtual threads")))
