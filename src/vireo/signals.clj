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
    wrap-delete     - given a model, instance and a thunk, sends pre-delete, runs it, sends post-delete

  This namespace is the public face of vireo.impl.signals, which holds the
  registry and does the sending for the operations (vireo.impl.instance):
  the signals here are the very values the operations send."
  (:refer-clojure :exclude [send])
  (:require [vireo.impl.signals :as impl]))

(set! *warn-on-reflection* true)

;; Every var delegates to vireo.impl.signals (see the ns docstring).

;; ---------------------------------------------------------------- signals
(defn signal
  "Given a name (keyword), returns a new signal with no receivers."
  [signal-name]
  (impl/signal signal-name))

(defn signal?
  "Given any value, returns true if it is a signal."
  [x]
  (impl/signal? x))

(def pre-save
  "Sent by aio-save (and aio-create, aio-get-or-create when creating) before
  the row is written, with kw {:created bool}. A failure aborts the save."
  impl/pre-save)

(def post-save
  "Sent after aio-save / aio-create wrote the row, with the saved instance and
  kw {:created bool}. A failure fails the operation (the row stays written
  unless an enclosing transaction rolls back)."
  impl/post-save)

(def pre-delete
  "Sent by aio-delete-instance before the DELETE, kw {}, for the instance
  given only (not the dependants a recursive delete removes). A failure
  aborts it."
  impl/pre-delete)

(def post-delete
  "Sent by aio-delete-instance after the DELETE, kw {}."
  impl/post-delete)

(def pre-init
  "Sent synchronously (`send-sync`) when vireo.core/instance builds an
  instance, after its field values are set; kw {}. Rows loaded by queries
  (aio-get, selects, fetch, prefetch, related) do not send it."
  impl/pre-init)

;; ---------------------------------------------------------------- connecting
(defn connect!
  "Given a signal, a receiver (a function of model, instance and kw map,
  returning a value or a future) and options {:name n :sender Model},
  appends the receiver to the signal and returns it. The connection's key is
  [(or name receiver) sender]; connecting a second receiver with the same key
  fails with :vireo/interface-error. :sender limits the receiver to
  instances of that model (matched by the model's :name).

      (connect! post-save (fn [model instance {:keys [created]}] …) {:sender Book})"
  ([s f] (impl/connect! s f))
  ([s f opts] (impl/connect! s f opts)))

(defn disconnect!
  "Given a signal and either a receiver function, an options map {:name n
  :sender Model}, or both, removes that connection and returns nil. By
  :name, the connection with that name and sender; by receiver alone, every
  connection of that receiver with that sender (named or not). Fails with
  :vireo/interface-error when neither a receiver nor a :name is given, or
  when nothing matches.

      (disconnect! post-save {:name :audit :sender Book})
      (disconnect! post-save audit-fn)"
  ([s f-or-opts] (impl/disconnect! s f-or-opts))
  ([s f opts] (impl/disconnect! s f opts)))

(defn clear!
  "Given a signal, removes all its receivers; returns nil."
  [s]
  (impl/clear! s))

(defn receivers
  "Given a signal, returns its connections in connection order: a vector of
  {:receiver f :name n :sender model-name} (nil where not given)."
  [s]
  (impl/receivers s))

;; ---------------------------------------------------------------- sending
(defn has-receivers?
  "Given a signal and a model, returns true if at least one receiver would
  hear about an instance of that model."
  [s model]
  (impl/has-receivers? s model))

(defn send
  "Given a signal, a model, an instance and a kw map, calls each matching
  receiver as (receiver model instance kw), strictly one after another in
  connection order (the next starts when the previous one's value or future
  is ready). Returns a future of the vector of [receiver result]. The first
  receiver that throws or whose future fails fails the returned future with
  that error, and the remaining receivers are not called. The receivers are
  the ones connected when `send` is called."
  [s model instance kw]
  (impl/send s model instance kw))

(defn send-sync
  "Given a signal, a model, an instance and a kw map, calls each matching
  receiver as (receiver model instance kw) synchronously, in connection
  order, and returns the vector of [receiver result] (results are not
  awaited). A receiver's exception propagates and stops the sending."
  [s model instance kw]
  (impl/send-sync s model instance kw))

;; ---------------------------------------------------------------- isolation
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
  (impl/with-receivers* bindings f))

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

;; ---------------------------------------------------------------- wiring helpers
;; (the operations, vireo.impl.instance, use vireo.impl.signals' own)
(defn wrap-save
  "Given a model, the instance being saved, created? and a thunk returning
  the future of the saved instance, returns a future of the saved instance:
  sends pre-save (model, instance, {:created created?}), then runs the
  thunk, then sends post-save with the saved instance. With no matching
  receiver on either signal it just calls the thunk."
  [model instance created? thunk]
  (impl/wrap-save model instance created? thunk))

(defn wrap-delete
  "Given a model, the instance being deleted and a thunk returning the future
  of the delete's result, returns a future of that result: sends pre-delete
  (model, instance, {}), then runs the thunk, then sends post-delete. With no
  matching receiver on either signal it just calls the thunk."
  [model instance thunk]
  (impl/wrap-delete model instance thunk))
