(ns vireo.repl-test
  "docs/repl.md's two servers, started as the doc says, in one child JVM
  (bin/clojure -J-Dclojure.server.repl={…} -M:dev:nrepl):

  - the socket REPL (clojure.core.server): a plain socket sends forms and
    reads the answers;
  - nREPL (the :nrepl alias): a client speaking nREPL's bencode over a socket
    (written here: the test JVM does not carry nREPL) sends an eval.

  Each evaluates (require 'vireo.core) (+ 1 2); the JVM is stopped after.
  nREPL is on Clojars only; where bin/clojure keeps Clojars out (this
  machine) it comes from Debian's libnrepl-clojure, installed on demand by
  bin/ensure-nrepl: when that cannot be done (no root, no apt), the child is
  a plain -M:dev and the nREPL test is skipped with the reason."
  (:require [clojure.java.io :as io]
            [clojure.java.shell :as sh]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing use-fixtures]]
            [vireo.test-support :as ts])
  (:import (java.io File OutputStream PushbackInputStream)
           (java.net InetSocketAddress ServerSocket Socket)
           (java.nio.charset StandardCharsets)
           (java.util.concurrent TimeUnit)))

(set! *warn-on-reflection* true)

(def ^:private start-secs
  "How long a child JVM may take to listen (it may compute its classpath
  first, and 2 busy cores make that slow)."
  240)

;; ---------------------------------------------------------------- child JVMs
(defn- free-port []
  (with-open [s (ServerSocket. 0)] (.getLocalPort s)))

(defn- start!
  "Starts bin/clojure with `args` in the repository root; its output goes to
  a log file. {:proc :log}"
  [args]
  (let [log (File/createTempFile "vireo-repl-test" ".log")
        cmd (into [(.getCanonicalPath (io/file "bin" "clojure"))] args)
        proc (-> (ProcessBuilder. ^java.util.List cmd)
                 (.directory (io/file "."))
                 (.redirectErrorStream true)
                 (.redirectOutput log)
                 (.start))]
    {:proc proc :log log}))

(defn- log-tail [{:keys [^File log]}]
  (let [lines (str/split-lines (slurp log))]
    (str/join "\n" (take-last 30 lines))))

(defn- wait-until
  "Polls (f) every 200 ms until it returns a truthy value (returned), the
  child exits or `secs` pass (nil)."
  [{:keys [^Process proc]} secs f]
  (let [deadline (+ (System/nanoTime) (* secs 1000000000))]
    (loop []
      (or (f)
          (when (and (.isAlive proc) (< (System/nanoTime) deadline))
            (Thread/sleep 200)
            (recur))))))

(defn- stop!
  "Stops the child (SIGTERM: its shutdown hooks run, nREPL deletes
  .nrepl-port), killing it if it does not end. Returns its exit value."
  [{:keys [^Process proc ^File log]}]
  (.destroy proc)
  (when-not (.waitFor proc 30 TimeUnit/SECONDS)
    (.destroyForcibly proc)
    (.waitFor proc))
  (.delete log)
  (.exitValue proc))

(defn- connect ^Socket [port]
  (doto (Socket.)
    (.connect (InetSocketAddress. "127.0.0.1" (int port)) 2000)
    (.setSoTimeout 180000)))

(defn- listening? [port]
  (try (with-open [_ (connect port)] true)
       (catch java.io.IOException _ false)))

;; ---------------------------------------------------------------- nREPL
(defn- bencode
  "Writes x (string, integer, map with string keys, sequential) as bencode."
  [^OutputStream out x]
  (letfn [(bytes! [^String s] (let [b (.getBytes s StandardCharsets/UTF_8)]
                                (.write out (.getBytes (str (alength b) ":") StandardCharsets/US_ASCII))
                                (.write out b)))
          (ascii! [^String s] (.write out (.getBytes s StandardCharsets/US_ASCII)))]
    (cond
      (string? x) (bytes! x)
      (integer? x) (ascii! (str "i" x "e"))
      (map? x) (do (ascii! "d")
                   (doseq [[k v] (sort-by key x)] (bytes! k) (bencode out v))
                   (ascii! "e"))
      (sequential? x) (do (ascii! "l") (doseq [v x] (bencode out v)) (ascii! "e"))
      :else (throw (IllegalArgumentException. (str "bencode: " (pr-str x)))))))

(defn- bdecode
  "Reads one bencode value: byte strings as UTF-8 strings, dictionaries as maps."
  [^PushbackInputStream in]
  (let [read-until (fn [stop] (let [sb (StringBuilder.)]
                                (loop [] (let [c (.read in)]
                                           (cond (neg? c) (throw (java.io.EOFException. "bencode: end of stream"))
                                                 (= c (int stop)) (str sb)
                                                 :else (do (.append sb (char c)) (recur)))))))
        c (.read in)]
    (case (char c)
      \i (Long/parseLong (read-until \e))
      \l (loop [acc []] (let [c (.read in)]
                          (if (= c (int \e)) acc (do (.unread in c) (recur (conj acc (bdecode in)))))))
      \d (loop [acc {}] (let [c (.read in)]
                          (if (= c (int \e)) acc (do (.unread in c) (recur (assoc acc (bdecode in) (bdecode in)))))))
      (do (.unread in c)
          (let [n (Long/parseLong (read-until \:))
                b (.readNBytes in (int n))]
            (when (< (alength b) n) (throw (java.io.EOFException. "bencode: short string")))
            (String. b StandardCharsets/UTF_8))))))

(defn- nrepl-eval
  "Sends an eval of `code` to the nREPL server on `port` and reads the
  answers until :status done; {:values [...] :err \"...\" :ex ...}."
  [port code]
  (with-open [s (connect port)]
    (let [out (java.io.BufferedOutputStream. (.getOutputStream s))
          in (PushbackInputStream. (java.io.BufferedInputStream. (.getInputStream s)))]
      (bencode out {"op" "eval" "code" code "id" "vireo-repl-test"})
      (.flush out)
      (loop [acc {:values [] :err ""}]
        (let [msg (bdecode in)
              acc (cond-> acc
                    (msg "value") (update :values conj (msg "value"))
                    (msg "err") (update :err str (msg "err"))
                    (msg "ex") (assoc :ex (msg "ex")))]
          (if (some #{"done"} (msg "status")) acc (recur acc)))))))

(defn- nrepl-unavailable
  "Why nREPL cannot be resolved here, or nil."
  []
  (when (not= "1" (System/getenv "VIREO_CLOJARS"))   ; with Clojars, nrepl/nrepl comes from there
    (let [{:keys [exit err]} (sh/sh "bash" "bin/ensure-nrepl")]
      (when-not (zero? exit)
        (str "nREPL is not on Maven Central and Debian's libnrepl-clojure could not be installed: "
             (str/trim err))))))

(def ^:private server
  "The child JVM both tests talk to (see `with-server`): {:proc :log
  :socket-port :nrepl (nil, or why nREPL is not there)}."
  nil)

(defn- with-server
  "Starts one child JVM for both tests, as docs/repl.md says: the socket
  REPL's JVM option, and the :nrepl alias when nREPL can be had (else a plain
  -M:dev). nREPL writes .nrepl-port in the repository root: a developer's own
  server's file is put back afterwards."
  [f]
  (let [no-nrepl (nrepl-unavailable)
        port (free-port)
        port-file (io/file ".nrepl-port")
        saved (when (.isFile port-file) (slurp port-file))
        child (start! (into [(str "-J-Dclojure.server.repl={:port " port " :accept clojure.core.server/repl}")]
                            (if no-nrepl ["-M:dev"] ["-M:dev:nrepl" "--port" "0"])))]
    (try
      (alter-var-root #'server (constantly (assoc child :socket-port port :no-nrepl no-nrepl)))
      (f)
      (finally
        (alter-var-root #'server (constantly nil))
        (stop! child)
        (cond
          saved (spit port-file saved)
          ;; the server deletes it at exit; a kill would leave it behind
          (.isFile port-file) (.delete port-file))))))

(use-fixtures :once with-server)

(deftest socket-repl-test
  (let [port (:socket-port server)
        t0 (System/nanoTime)]
    (is (wait-until server start-secs #(listening? port)) (str "no socket REPL on " port ":\n" (log-tail server)))
    (println (format "  socket REPL listening after %.1f s" (/ (- (System/nanoTime) t0) 1e9)))
    ;; and the child's main done starting: a REPL session's init (which
    ;; refers clojure.pprint/pp) racing nREPL loading clojure.pprint on the
    ;; main thread can find the namespace without its vars yet
    (when-not (:no-nrepl server)
      (is (wait-until server start-secs #(some->> (slurp (:log server)) (re-find #"nREPL server started on port")))
          (str "no nREPL server started:\n" (log-tail server))))
    (with-open [s (connect port)]
      (let [out (.getOutputStream s)]
        (.write out (.getBytes "(require 'vireo.core)\n(+ 1 2)\n:repl/quit\n" StandardCharsets/UTF_8))
        (.flush out)
        ;; the server closes the connection after :repl/quit
        (let [answer (slurp (.getInputStream s))]
          (is (re-find #"(?m)=> nil\s*$" answer) answer)
          (is (re-find #"(?m)=> 3\s*$" answer) answer)
          (is (not (re-find #"Exception|Error" answer)) answer))))))

(deftest nrepl-server-test
  (if-let [reason (:no-nrepl server)]
    (ts/skip! reason)
    (let [t0 (System/nanoTime)
          ;; the line CIDER reads the port from
          port (wait-until server start-secs
                           #(some->> (slurp (:log server)) (re-find #"nREPL server started on port (\d+)") second parse-long))]
      (is port (str "no nREPL server started:\n" (log-tail server)))
      (when port
        (println (format "  nREPL listening after %.1f s" (/ (- (System/nanoTime) t0) 1e9)))
        (testing "the port file editors read"
          (is (= (str port) (str/trim (slurp ".nrepl-port")))))
        (let [{:keys [values err ex]} (nrepl-eval port "(require 'vireo.core) (+ 1 2)")]
          (is (= ["nil" "3"] values) (str "err: " err " ex: " ex))
          (is (nil? ex) err))))))
