(ns ^:no-doc vireo.impl.signals
  "The signal machinery behind the public `vireo.signals` (not public): the
  Signal value and its registry of receivers, the built-in signals,
  connecting, sending, temporary receivers, and the wiring helpers
  `wrap-save` / `wrap-delete` that vireo.impl.instance puts around the
  single-instance writes.

  Layering: part of vireo.impl, so the operations can send signals without
  requiring the public namespace above them. `vireo.signals` is a thin
  public layer over this one: its pre-save, post-save, … are these very
  Signal values, so receivers users connect there are the ones sent here.
  See vireo.signals for the documented behaviour of every function."
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
  "A new signal named `signal-name`, with no receivers (vireo.signals/signal)."
  [signal-name]
  (->Signal signal-name (atom [])))

(defn signal?
  "True when x is a signal (vireo.signals/signal?)."
  [x]
  (instance? Signal x))

(def pre-save
  "The built-in pre-save signal: vireo.signals/pre-save is this value."
  (signal :pre-save))

(def post-save
  "The built-in post-save signal: vireo.signals/post-save is this value."
  (signal :post-save))

(def pre-delete
  "The built-in pre-delete signal: vireo.signals/pre-delete is this value."
  (signal :pre-delete))

(def post-delete
  "The built-in post-delete signal: vireo.signals/post-delete is this value."
  (signal :post-delete))

(def pre-init
  "The built-in pre-init signal: vireo.signals/pre-init is this value."
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
  "Appends receiver f to signal s under the key [(or name f) sender];
  see vireo.signals/connect!."
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
  "Removes the matching connection(s) of signal s; see
  vireo.signals/disconnect!."
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
  "Removes all receivers of signal s; nil."
  [s]
  (check-signal s "clear!")
  (reset! (:receivers s) [])
  nil)

(defn receivers
  "The connections of signal s in order, as {:receiver :name :sender} maps."
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
  "True when at least one receiver of signal s hears about an instance
  of `model` (a receiver without :sender, or with the model's :name)."
  [s model]
  ;; no closure when nothing is connected: this runs on every save
  (let [rs @(:receivers s)]
    (boolean (and (seq rs)
                  (some (fn [c] (let [snd (:sender c)] (or (nil? snd) (= snd (:name model))))) rs)))))

(defn save-receivers?
  "True when pre-save or post-save has a receiver for `model`."
  [model]
  (or (has-receivers? pre-save model) (has-receivers? post-save model)))

(defn delete-receivers?
  "True when pre-delete or post-delete has a receiver for `model`."
  [model]
  (or (has-receivers? pre-delete model) (has-receivers? post-delete model)))

(defn send
  "Future of [[receiver result] …]: calls the receivers of s matching
  `model` one after another in connection order, each after the previous
  one's value or future; the first failure fails the future and stops the
  sending. See vireo.signals/send."
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
  "[[receiver result] …]: calls the receivers of s matching `model`
  synchronously, in order; a throw propagates. See vireo.signals/send-sync."
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
  "Runs (f) with the listed signals holding only the listed receivers,
  restoring the previous ones afterwards (after f's future, if it returns
  one). See vireo.signals/with-receivers*."
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

;; ---------------------------------------------------------------- wiring helpers (used by vireo.impl.instance)
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
