(ns vireo.signals-test
  "The signal registry and sending, without a database."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing use-fixtures]]
            [vireo.core :as v]
            [vireo.doc-examples :as doc-examples]
            [vireo.promise :as p]
            [vireo.signals :as sig]))

(set! *warn-on-reflection* true)

(def ^:private all-signals [sig/pre-save sig/post-save sig/pre-delete sig/post-delete sig/pre-init])

(use-fixtures :each
  (fn [f]
    ;; every case starts with no receiver and leaves none behind
    (sig/with-receivers* (into {} (map (fn [s] [s nil])) all-signals) f)))

(def ^:private Book (v/model 'Book {:fields {:title {:type :char}}}))
(def ^:private Author (v/model 'Author {:fields {:name {:type :char}}}))

(defn- await! [fut] (p/await fut 10000))

(defn- error-of [f]
  (try (let [r (f)] (when (p/future? r) (await! r)) nil)
       (catch Throwable e (p/unwrap e))))

(defn- misuse? [e] (v/error-type? e :vireo/interface-error))

(defn- recorder
  "A receiver that appends [tag model-name instance kw] to `log` and returns `tag`."
  [log tag]
  (fn [model instance kw] (swap! log conj [tag (:name model) instance kw]) tag))

(deftest signals-are-values-test
  (doseq [s all-signals]
    (is (sig/signal? s))
    (is (= [] (sig/receivers s))))
  (is (= [:pre-save :post-save :pre-delete :post-delete :pre-init] (map :name all-signals)))
  (is (not (sig/signal? {:name :pre-save})))
  (let [s (sig/signal :custom)]
    (is (= :custom (:name s)))
    (is (str/includes? (pr-str s) ":custom"))))

(deftest connect-test
  (let [s (sig/signal :t)
        log (atom [])
        a (recorder log :a)
        b (recorder log :b)]
    (testing "connect! returns the receiver and records name and sender"
      (is (identical? a (sig/connect! s a)))
      (is (identical? b (sig/connect! s b {:name :bee :sender Book})))
      (is (= [{:receiver a :name nil :sender nil} {:receiver b :name :bee :sender "Book"}]
             (sig/receivers s))))
    (testing "the key is (name or receiver, sender): a duplicate fails, another sender or name does not"
      (let [e (error-of #(sig/connect! s a))]
        (is (misuse? e))
        (is (str/includes? (ex-message e) "already connected")))
      (let [e (error-of #(sig/connect! s a {:name :bee :sender Book}))]
        (is (misuse? e))
        (is (str/includes? (ex-message e) ":bee"))
        (is (= "Book" (:sender (ex-data e)))))
      (sig/connect! s a {:sender Book})
      (sig/connect! s a {:name :bee})
      (sig/connect! s a {:name :bee :sender Author})
      (is (= 5 (count (sig/receivers s))))
      (is (= 5 (count @(:receivers s))) "a failed connect! changed nothing"))
    (testing "a sender may be given as the model's name"
      (sig/connect! s b {:name :by-name :sender "Author"})
      (is (misuse? (error-of #(sig/connect! s b {:name :by-name :sender 'Author}))))
      (is (= "Author" (:sender (last (sig/receivers s))))))
    (testing "bad arguments"
      (is (misuse? (error-of #(sig/connect! :pre-save a))))
      (is (misuse? (error-of #(sig/connect! s 42))))
      (is (misuse? (error-of #(sig/connect! s a {:nmae :x}))))
      (is (misuse? (error-of #(sig/connect! s a {:sender 42}))))
      (is (misuse? (error-of #(sig/connect! s a [:name :x])))))))

(deftest disconnect-test
  (let [s (sig/signal :t)
        log (atom [])
        a (recorder log :a)
        b (recorder log :b)
        c (recorder log :c)]
    (sig/connect! s a)
    (sig/connect! s a {:sender Book})
    (sig/connect! s b {:name :bee})
    (sig/connect! s c {:name :cee :sender Book})
    (testing "neither receiver nor name"
      (is (misuse? (error-of #(sig/disconnect! s {}))))
      (is (misuse? (error-of #(sig/disconnect! s {:sender Book})))))
    (testing "an unknown key fails and changes nothing"
      (let [e (error-of #(sig/disconnect! s {:name :nope}))]
        (is (misuse? e))
        (is (str/includes? (ex-message e) "no receiver")))
      (is (misuse? (error-of #(sig/disconnect! s {:name :cee})))
          "the name is connected with a sender, not without")
      (is (misuse? (error-of #(sig/disconnect! s {:name :bee :sender Book}))))
      (is (misuse? (error-of #(sig/disconnect! s c))) "c is connected with a sender")
      (is (misuse? (error-of #(sig/disconnect! s b {:name :cee :sender Book})))
          "a receiver given with a name must be the one connected under it")
      (is (= 4 (count (sig/receivers s)))))
    (testing "by receiver (with its sender), by name, by both"
      (is (nil? (sig/disconnect! s a {:sender Book})))
      (is (= [[a nil] [b nil] [c "Book"]] (map (juxt :receiver :sender) (sig/receivers s))))
      (sig/disconnect! s a)
      (sig/disconnect! s {:name :cee :sender Book})
      (is (= [b] (map :receiver (sig/receivers s))))
      (sig/disconnect! s b {:name :bee})
      (is (= [] (sig/receivers s))))
    (testing "by receiver alone also removes its named connections"
      (sig/connect! s a {:name :one})
      (sig/connect! s a {:name :two})
      (sig/connect! s b)
      (sig/disconnect! s a)
      (is (= [b] (map :receiver (sig/receivers s)))))
    (testing "a name can be reconnected after disconnecting"
      (sig/connect! s a {:name :one})
      (sig/disconnect! s {:name :one})
      (sig/connect! s c {:name :one})
      (is (= [b c] (map :receiver (sig/receivers s)))))
    (testing "clear! removes everything"
      (is (nil? (sig/clear! s)))
      (is (= [] (sig/receivers s))))))

(deftest send-order-and-sender-test
  (let [s (sig/signal :t)
        log (atom [])
        a (recorder log :a)
        b (recorder log :b)
        c (recorder log :c)
        book {:id 1 :title "T"}]
    (sig/connect! s a)
    (sig/connect! s b {:sender Book})
    (sig/connect! s c {:sender Author})
    (testing "receivers get (model instance kw) in connection order; results pair with receivers"
      (let [r (await! (sig/send s Book book {:created true}))]
        (is (= [[a :a] [b :b]] r))
        (is (= [[:a "Book" book {:created true}] [:b "Book" book {:created true}]] @log))))
    (testing "a receiver without sender hears every model; a sender only its model"
      (reset! log [])
      (is (= [[a :a] [c :c]] (await! (sig/send s Author {:name "x"} {}))))
      (is (= [:a] (map first (do (reset! log []) (await! (sig/send s (v/model 'Other {:fields {}}) {} {})) @log)))))
    (testing "a model re-bound to another database (assoc) still matches by :name"
      (let [rebound (assoc Book :database :elsewhere :cache (java.util.concurrent.ConcurrentHashMap.))]
        (is (= [[a :a] [b :b]] (await! (sig/send s rebound book {}))))
        (is (sig/has-receivers? s rebound))))
    (testing "has-receivers?"
      (let [t (sig/signal :t2)]
        (is (false? (sig/has-receivers? t Book)))
        (sig/connect! t a {:sender Author})
        (is (false? (sig/has-receivers? t Book)))
        (is (true? (sig/has-receivers? t Author)))))
    (testing "no receivers: an already completed future of []"
      (let [f (sig/send (sig/signal :empty) Book book {})]
        (is (p/future? f))
        (is (.isDone ^java.util.concurrent.CompletableFuture f))
        (is (= [] (await! f)))))
    (testing "the receivers are those connected when send is called"
      (let [t (sig/signal :t3)
            gate (p/promise)
            late (recorder log :late)]
        (sig/connect! t (fn [_ _ _] gate) {:name :wait})
        (let [f (sig/send t Book book {})]
          (sig/connect! t late)
          (p/resolve! gate :opened)
          (is (= [:opened] (map second (await! f)))))))))

(deftest send-is-sequential-test
  (let [s (sig/signal :t)
        events (atom [])
        slow (fn [tag ms]
               (fn [_ _ _]
                 (swap! events conj [:start tag])
                 (p/map (p/delay ms tag) (fn [v] (swap! events conj [:end tag]) v))))]
    (sig/connect! s (slow :first 150))
    (sig/connect! s (slow :second 10))
    (sig/connect! s (fn [_ _ _] (swap! events conj [:start :plain]) (swap! events conj [:end :plain]) :plain))
    (sig/connect! s (fn [_ _ _] (p/resolved nil)) {:name :nil-result})
    (let [f (sig/send s Book {} {})]
      (is (p/future? f))
      (is (= [:first :second :plain nil] (map second (await! f))))
      (is (= [[:start :first] [:end :first] [:start :second] [:end :second]
              [:start :plain] [:end :plain]]
             @events)
          "each receiver starts after the previous one's future completed"))))

(deftest send-failure-test
  (let [s (sig/signal :t)
        log (atom [])
        boom (ex-info "receiver failed" {:type :vireo/error :which :boom})]
    (testing "a synchronous throw fails the future and stops the sending"
      (sig/connect! s (recorder log :a))
      (sig/connect! s (fn [_ _ _] (throw boom)) {:name :thrower})
      (sig/connect! s (recorder log :c))
      (let [f (sig/send s Book {} {})
            e (error-of (constantly f))]
        (is (identical? boom e))
        (is (= [:a] (map first @log)))))
    (testing "a failed future does the same"
      (sig/clear! s)
      (reset! log [])
      (sig/connect! s (fn [_ _ _] (p/map (p/delay 20 nil) (fn [_] (throw boom)))))
      (sig/connect! s (recorder log :after))
      (is (identical? boom (error-of #(sig/send s Book {} {}))))
      (is (= [] @log)))
    (testing "send with something that is not a signal: a failed future"
      (let [f (sig/send :pre-save Book {} {})]
        (is (p/future? f))
        (is (misuse? (error-of (constantly f))))))))

(deftest send-sync-test
  (let [log (atom [])
        a (recorder log :a)
        b (recorder log :b)]
    (sig/connect! sig/pre-init a)
    (sig/connect! sig/pre-init b {:sender Author})
    (is (= [[a :a]] (sig/send-sync sig/pre-init Book {:title "x"} {})))
    (is (= [[a :a] [b :b]] (sig/send-sync sig/pre-init Author {:name "y"} {})))
    (is (= [[:a "Book" {:title "x"} {}] [:a "Author" {:name "y"} {}] [:b "Author" {:name "y"} {}]] @log))
    (is (= [] (sig/send-sync (sig/signal :none) Book {} {})))
    (testing "a throwing receiver propagates and stops the others"
      (let [boom (ex-info "no" {:type :vireo/error})]
        (sig/connect! sig/pre-init (fn [_ _ _] (throw boom)) {:name :boom})
        (sig/connect! sig/pre-init (recorder log :never))
        (reset! log [])
        (is (identical? boom (error-of #(sig/send-sync sig/pre-init Book {} {}))))
        (is (= [:a] (map first @log)))))))

(deftest with-receivers-test
  (let [log (atom [])
        outer (recorder log :outer)
        inner (recorder log :inner)
        other (recorder log :other)]
    (sig/connect! sig/pre-save outer)
    (sig/connect! sig/post-save other)
    (testing "the body sees only the given receivers; the previous ones come back"
      (is (= :done
             (sig/with-receivers [sig/pre-save inner
                                  sig/post-save nil]
               (is (= [inner] (map :receiver (sig/receivers sig/pre-save))))
               (is (= [] (sig/receivers sig/post-save)))
               :done)))
      (is (= [outer] (map :receiver (sig/receivers sig/pre-save))))
      (is (= [other] (map :receiver (sig/receivers sig/post-save)))))
    (testing "a vector of receivers, with options"
      (sig/with-receivers [sig/pre-save [inner [other {:name :o :sender Book}]]]
        (is (= [[inner nil nil] [other :o "Book"]]
               (map (juxt :receiver :name :sender) (sig/receivers sig/pre-save))))))
    (testing "restored after a throw"
      (is (thrown? clojure.lang.ExceptionInfo
                   (sig/with-receivers [sig/pre-save inner] (throw (ex-info "x" {})))))
      (is (= [outer] (map :receiver (sig/receivers sig/pre-save)))))
    (testing "a future body: restored when it completes"
      (let [gate (p/promise)
            f (sig/with-receivers [sig/pre-save inner] gate)]
        (is (= [inner] (map :receiver (sig/receivers sig/pre-save))) "still in place while pending")
        (p/resolve! gate 7)
        (is (= 7 (await! f)))
        (is (= [outer] (map :receiver (sig/receivers sig/pre-save))))))
    (testing "a failing future body: restored too"
      (let [f (sig/with-receivers [sig/pre-save inner] (p/rejected (ex-info "bad" {})))]
        (is (= "bad" (ex-message (error-of (constantly f)))))
        (is (= [outer] (map :receiver (sig/receivers sig/pre-save))))))
    (testing "invalid receivers are refused before anything changes"
      (is (misuse? (error-of #(sig/with-receivers [sig/pre-save [inner inner]] :x))))
      (is (misuse? (error-of #(sig/with-receivers [sig/pre-save [[inner {:bad 1}]]] :x))))
      (is (misuse? (error-of #(sig/with-receivers [:not-a-signal inner] :x))))
      (is (= [outer] (map :receiver (sig/receivers sig/pre-save)))))
    (testing "the function form takes a map"
      (is (= 1 (sig/with-receivers* {sig/post-delete inner}
                 (fn [] (count (sig/receivers sig/post-delete)))))))))

(deftest wrap-save-test
  (let [log (atom [])
        writes (atom 0)
        save (fn [inst] (fn [] (swap! writes inc) (swap! log conj [:write]) (p/resolved (assoc inst :id 9))))]
    (testing "no receivers: the thunk's future is returned as is"
      (let [f (p/resolved {:id 1})]
        (is (identical? f (sig/wrap-save Book {} true (constantly f))))
        (is (identical? f (sig/wrap-delete Book {} (constantly f))))))
    (testing "pre-save, write, post-save with the saved instance and {:created …}"
      (sig/connect! sig/pre-save (recorder log :pre))
      (sig/connect! sig/post-save (recorder log :post))
      (is (= {:title "t" :id 9} (await! (sig/wrap-save Book {:title "t"} true (save {:title "t"})))))
      (is (= [[:pre "Book" {:title "t"} {:created true}]
              [:write]
              [:post "Book" {:title "t" :id 9} {:created true}]]
             @log))
      (reset! log [])
      (await! (sig/wrap-save Book {:id 9 :title "u"} nil (save {:title "u"})))
      (is (= [{:created false} {:created false}] (keep #(nth % 3 nil) @log))))
    (testing "a pre-save failure aborts the write; a post-save failure surfaces after it"
      (reset! writes 0)
      (sig/with-receivers [sig/pre-save (fn [_ _ _] (throw (ex-info "veto" {:type :vireo/error})))]
        (is (= "veto" (ex-message (error-of #(sig/wrap-save Book {} true (save {}))))))
        (is (= 0 @writes)))
      (sig/with-receivers [sig/post-save (fn [_ _ _] (p/rejected (ex-info "late" {})))]
        (is (= "late" (ex-message (error-of #(sig/wrap-save Book {} true (save {}))))))
        (is (= 1 @writes))))
    (testing "a receiver for another model does not fire (and keeps the fast path)"
      (sig/with-receivers [sig/pre-save [[(recorder log :author) {:sender Author}]] sig/post-save nil]
        (let [f (p/resolved :x)]
          (is (identical? f (sig/wrap-save Book {} true (constantly f)))))))
    (testing "wrap-delete: pre-delete, delete, post-delete, with kw {}"
      (reset! log [])
      (sig/with-receivers [sig/pre-delete (recorder log :pre-del) sig/post-delete (recorder log :post-del)]
        (is (= 1 (await! (sig/wrap-delete Book {:id 3} (fn [] (swap! log conj [:delete]) (p/resolved 1))))))
        (is (= [[:pre-del "Book" {:id 3} {}] [:delete] [:post-del "Book" {:id 3} {}]] @log))
        (reset! log [])
        (sig/with-receivers [sig/pre-delete (fn [_ _ _] (throw (ex-info "no delete" {})))]
          (is (= "no delete" (ex-message (error-of #(sig/wrap-delete Book {:id 3} (fn [] (swap! log conj [:delete]) 1)))))))
        (is (= [] @log))))))

(deftest concurrent-connect-test
  (let [s (sig/signal :t)
        n 200
        fs (doall (for [i (range n)] (future (sig/connect! s (fn [_ _ _] i) {:name i}))))]
    (run! deref fs)
    (is (= (set (range n)) (set (map :name (sig/receivers s)))))
    (is (= n (count (await! (sig/send s Book {} {})))))))

(deftest docs-signals-md-examples
  (is (.exists (io/file "docs/signals.md")))
  (is (< 10 (doc-examples/run-file! "docs/signals.md" 'vireo.signals-doc-examples))
      "docs/signals.md examples were found and asserted"))
