(ns vireo.signals
  "Model signals: peewee-async's `aio_pre_save`, `aio_post_save`,
  `aio_pre_delete`, `aio_post_delete` and `pre_init`, for Clojure.

  A signal is a value holding an ordered list of receivers. A receiver is a
  function (model instance kw) returning a value or a CompletableFuture;
  `send` runs the matching receivers one after another, in connection order,
  each after the previous one's future completed. A receiver connected with a
  :sender only hears about that model (compared by model :name, so a model
  re-bound to another database still matches). The registry is global and
  thread-safe. See docs/signals.md for which operations send which signal
  and which send none (bulk queries, the dependants of a recursive delete,
  many-to-many links, rows loaded by queries).

  Public vars:
    pre-save        - sent by aio-save / aio-create before the row is written; kw {:created bool}
    post-save       - sent after the row is written; kw {:created bool}
    pre-delete      - sent by aio-delete-instance before the DELETE; kw {}
    post-delete     - sent after the DELETE; kw {}
    pre-init        - sent synchronously when vireo.core/instance builds an instance
    signal          - given a name, returns a new signal (for your own events)
    signal?         - given any value, returns true if it is a signal
    connect!        - given a signal, a receiver and options, registers the receiver
    disconnect!     - given a signal and a receiver or {:name :sender}, removes it
    clear!          - given a signal, removes all its receivers
    receivers       - given a signal, returns its connections in order
    has-receivers?  - given a signal and a model, returns true if a receiver matches
    send            - given a signal, model, instance and kw map, returns a future of [[receiver result] …]
    send-sync       - like send, but calls the receivers synchronously and returns the vector
    with-receivers  - macro: runs a body with given signals holding only given receivers
    with-receivers* - the function behind with-receivers
    wrap-save       - given a model, instance, created? and a thunk, sends pre-save, runs it, sends post-save
    wrap-delete     - given a model, instance and a thunk, sends pre-delete, runs it, sends post-delete"
  (:refer-clojure :exclude [send])
  (:require [clojure.string :as str]
            [vireo.impl.errors :as err]
            [vireo.promise :as p]))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- signals
;; name       keyword naming the signal (for messages)
;; receivers  atom of a vector of connections, in connection order:
;;            {:key [id sender] :receiver f :name name-or-nil :sender model-name-or-nil}
;;            where id is the :name given to connect!, or the receiver itself
(defrecord Signal [name receivers])

(defmethod print-method Signal [s ^java.io.Writer w]
  (.write w (str "#vireo/signal " (:name s) " (" (count @(:receivers s)) " receivers)")))

(defn signal
  "Given a name (keyword), returns a new signal with no receivers."
  [signal-name]
  (->Signal signal-name (atom [])))

(defn signal?
  "Given any value, returns true if it is a signal."
  [x]
  (instance? Signal x))

(def pre-save
  "Sent by aio-save (and aio-create, aio-get-or-create when creating) before
  the row is written, with kw {:created bool}. A failure aborts the save."
  (signal :pre-save))

(def post-save
  "Sent after aio-save / aio-create wrote the row, with the saved instance and
  kw {:created bool}. A failure fails the operation (the row stays written
  unless an enclosing transaction rolls back)."
  (signal :post-save))

(def pre-delete
  "Sent by aio-delete-instance before the DELETE, kw {}, for the instance
  given only (not the dependants a recursive delete removes). A failure
  aborts it."
  (signal :pre-delete))

(def post-delete
  "Sent by aio-delete-instance after the DELETE, kw {}."
  (signal :post-delete))

(def pre-init
  "Sent synchronously (`send-sync`) when vireo.core/instance builds an
  instance, after its field values are set; kw {}. Rows loaded by queries
  (aio-get, selects, fetch, prefetch, related) do not send it."
  (signal :pre-init))

;; ---------------------------------------------------------------- connecting
(defn- misuse [msg data]
  (err/error :vireo/interface-error msg data))

(defn- check-signal [s what]
  (when-not (signal? s)
    (throw (misuse (str what " needs a signal (e.g. vireo.signals/pre-save), got " (pr-str s)) {}))))

(defn- sender-name
  "A :sender option -> the model name it stands for (or nil)."
  [sender]
  (cond
    (nil? sender) nil
    (and (map? sender) (string? (:name sender))) (:name sender)
    (string? sender) sender
    (symbol? sender) (name sender)
    :else (throw (misuse (str ":sender must be a model (or a model name), got " (pr-str sender))
                         {:sender sender}))))

(defn- check-opts [what opts]
  (when-not (or (nil? opts) (map? opts))
    (throw (misuse (str what " options must be a map like {:name :n :sender Model}, got " (pr-str opts)) {})))
  (let [unknown (remove #{:name :sender} (keys opts))]
    (when (seq unknown)
      (throw (misuse (str what ": unknown option(s) " (str/join ", " (map pr-str unknown))
                          "; known: :name, :sender")
                     {})))))

(defn- describe-key [{:keys [name receiver sender]}]
  (str (if name (str "name " (pr-str name)) (str "receiver " (pr-str receiver)))
       (if sender (str " and sender " sender) " and no sender")))

(defn connect!
  "Given a signal, a receiver (a function of model, instance and kw map,
  returning a value or a future) and options {:name n :sender Model},
  appends the receiver to the signal and returns it. The connection's key is
  [(or name receiver) sender]; connecting a second receiver with the same key
  fails with :vireo/interface-error. :sender limits the receiver to
  instances of that model (matched by the model's :name).

      (connect! post-save (fn [model instance {:keys [created]}] …) {:sender Book})"
  ([s f] (connect! s f nil))
  ([s f opts]
   (check-signal s "connect!")
   (when-not (ifn? f)
     (throw (misuse (str "connect! needs a receiver function, got " (pr-str f)) {})))
   (check-opts "connect!" opts)
   (let [nm (:name opts)
         sender (sender-name (:sender opts))
         conn {:key [(if (some? nm) nm f) sender] :receiver f :name nm :sender sender}]
     (swap! (:receivers s)
            (fn [rs]
              (when (some #(= (:key conn) (:key %)) rs)
                (throw (misuse (str "a receiver with " (describe-key conn) " is already connected to "
                                    (:name s) "; disconnect it first or give another :name")
                               {:signal (:name s) :name nm :sender sender})))
              (conj rs conn)))
     f)))

(defn disconnect!
  "Given a signal and either a receiver function, an options map {:name n
  :sender Model}, or both, removes that connection and returns nil. By
  :name, the connection with that name and sender; by receiver alone, every
  connection of that receiver with that sender (named or not). Fails with
  :vireo/interface-error when neither a receiver nor a :name is given, or
  when nothing matches.

      (disconnect! post-save {:name :audit :sender Book})
      (disconnect! post-save audit-fn)"
  ([s f-or-opts]
   (if (map? f-or-opts) (disconnect! s nil f-or-opts) (disconnect! s f-or-opts nil)))
  ([s f opts]
   (check-signal s "disconnect!")
   (check-opts "disconnect!" opts)
   (let [nm (:name opts)
         sender (sender-name (:sender opts))]
     (when (and (nil? f) (nil? nm))
       (throw (misuse "disconnect! needs a receiver or a :name" {:signal (:name s)})))
     (let [match? (if (some? nm)
                    (fn [c] (and (= [nm sender] (:key c)) (or (nil? f) (= f (:receiver c)))))
                    (fn [c] (and (= f (:receiver c)) (= sender (:sender c)))))]
       (swap! (:receivers s)
              (fn [rs]
                (when-not (some match? rs)
                  (throw (misuse (str "no receiver with "
                                      (describe-key {:name nm :receiver f :sender sender})
                                      " is connected to " (:name s))
                                 {:signal (:name s) :name nm :sender sender})))
                (into [] (remove match?) rs)))
       nil))))

(defn clear!
  "Given a signal, removes all its receivers; returns nil."
  [s]
  (check-signal s "clear!")
  (reset! (:receivers s) [])
  nil)

(defn receivers
  "Given a signal, returns its connections in connection order: a vector of
  {:receiver f :name n :sender model-name} (nil where not given)."
  [s]
  (check-signal s "receivers")
  (mapv #(select-keys % [:receiver :name :sender]) @(:receivers s)))

;; ---------------------------------------------------------------- sending
(defn- matching
  "The connections of `s` that hear about an instance of `model`, in order."
  [s model]
  (let [rs @(:receivers s)]
    (if (empty? rs)
      rs
      (let [model-name (:name model)]
        (filterv (fn [c] (let [snd (:sender c)] (or (nil? snd) (= snd model-name)))) rs)))))

(defn has-receivers?
  "Given a signal and a model, returns true if at least one receiver would
  hear about an instance of that model."
  [s model]
  (boolean (some (fn [c] (let [snd (:sender c)] (or (nil? snd) (= snd (:name model)))))
                 @(:receivers s))))

(defn send
  "Given a signal, a model, an instance and a kw map, calls each matching
  receiver as (receiver model instance kw), strictly one after another in
  connection order (the next starts when the previous one's value or future
  is ready). Returns a future of the vector of [receiver result]. The first
  receiver that throws or whose future fails fails the returned future with
  that error, and the remaining receivers are not called. The receivers are
  the ones connected when `send` is called."
  [s model instance kw]
  (p/do
    (check-signal s "send")
    (let [cs (matching s model)]
      (if (empty? cs)
        (p/resolved [])
        (reduce (fn [acc c]
                  (p/then acc
                          (fn [results]
                            (let [f (:receiver c)]
                              (p/map (p/->future (f model instance kw))
                                     (fn [r] (conj results [f r])))))))
                (p/resolved [])
                cs)))))

(defn send-sync
  "Given a signal, a model, an instance and a kw map, calls each matching
  receiver as (receiver model instance kw) synchronously, in connection
  order, and returns the vector of [receiver result] (results are not
  awaited). A receiver's exception propagates and stops the sending."
  [s model instance kw]
  (check-signal s "send-sync")
  (let [cs (matching s model)]
    (if (empty? cs)
      []
      (mapv (fn [c] (let [f (:receiver c)] [f (f model instance kw)])) cs))))

;; ---------------------------------------------------------------- isolation
(defn- ->connection [s r]
  (let [[f opts] (if (vector? r) r [r nil])
        tmp (signal (:name s))]
    (connect! tmp f opts)
    (first @(:receivers tmp))))

(defn- spec->connections
  "A with-receivers value -> the vector of connections (checked like connect!)."
  [s v]
  (let [rs (cond (nil? v) [] (vector? v) v :else [v])
        conns (mapv #(->connection s %) rs)
        keys (map :key conns)]
    (when-not (apply distinct? ::none keys)
      (throw (misuse (str "with-receivers: two receivers of " (:name s) " have the same key") {})))
    conns))

(defn with-receivers*
  "Given a map (or vector of pairs) signal -> receivers and a function of no
  arguments, runs (f) with each listed signal holding only those receivers,
  then restores every listed signal's previous receivers. Receivers are a
  receiver function, a vector of receivers, or nil (none); a receiver is a
  function or [function {:name n :sender Model}]. When (f) returns a future,
  the receivers are restored once it completes and the returned future
  completes after that. Returns f's result. The registry is global: other
  threads sending these signals meanwhile see the temporary receivers."
  [bindings f]
  (let [pairs (if (map? bindings) (seq bindings) (partition 2 bindings))
        _ (doseq [[s _] pairs] (check-signal s "with-receivers"))
        fresh (mapv (fn [[s v]] [s (spec->connections s v)]) pairs)
        saved (mapv (fn [[s _]] [s @(:receivers s)]) pairs)
        restore! (fn [] (doseq [[s rs] (rseq saved)] (reset! (:receivers s) rs)))]
    (doseq [[s cs] fresh] (reset! (:receivers s) cs))
    (let [r (try (f) (catch Throwable t (restore!) (throw t)))]
      (if (p/future? r)
        (p/finally (p/->future r) (fn [_ _] (restore!)))
        (do (restore!) r)))))

(defmacro with-receivers
  "Runs body with the given signals holding only the given receivers (the
  previous ones are restored afterwards; see `with-receivers*`):

      (with-receivers [pre-save  (fn [m i kw] …)
                       post-save [[audit {:sender Book}] notify]
                       pre-delete nil]
        @(vireo/aio-save Book {…}))"
  [bindings & body]
  (when-not (and (vector? bindings) (even? (count bindings)))
    (throw (IllegalArgumentException. "with-receivers needs a vector of signal/receivers pairs")))
  `(with-receivers* ~bindings (fn [] ~@body)))

;; ---------------------------------------------------------------- wiring helpers (used by vireo.impl.ops)
(defn wrap-save
  "Given a model, the instance being saved, created? and a thunk returning
  the future of the saved instance, returns a future of the saved instance:
  sends pre-save (model, instance, {:created created?}), then runs the
  thunk, then sends post-save with the saved instance. With no matching
  receiver on either signal it just calls the thunk."
  [model instance created? thunk]
  (if-not (or (has-receivers? pre-save model) (has-receivers? post-save model))
    (thunk)
    (let [kw {:created (boolean created?)}]
      (p/let [_ (send pre-save model instance kw)
              saved (thunk)
              _ (send post-save model saved kw)]
        saved))))

(defn wrap-delete
  "Given a model, the instance being deleted and a thunk returning the future
  of the delete's result, returns a future of that result: sends pre-delete
  (model, instance, {}), then runs the thunk, then sends post-delete. With no
  matching receiver on either signal it just calls the thunk."
  [model instance thunk]
  (if-not (or (has-receivers? pre-delete model) (has-receivers? post-delete model))
    (thunk)
    (p/let [_ (send pre-delete model instance {})
            result (thunk)
            _ (send post-delete model instance {})]
      result)))
