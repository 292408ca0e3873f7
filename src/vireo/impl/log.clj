(ns ^:no-doc vireo.impl.log
  "Vireo's one way to log, through clojure.tools.logging, which is loaded on
  the first message or logger asked for rather than when Vireo loads: it is
  compiled from source (its jar has no classes) and brings clojure.pprint,
  about 0.35 s of a cold `(require 'vireo.core)` — the first database does
  not log before its first statement.

  tools.logging's `*logger-factory*` is read on every call, so binding it
  (or `alter-var-root`) redirects Vireo's messages as it redirects anyone's.

  Public vars:
    log!      - logs a message (and throwable) at a level on a named logger
    logger    - the logger of a name under the current factory, cached per factory
    enabled?  - whether a logger logs a level
    log*      - logs on a logger already found (its level checked by the caller)"
  (:require [vireo.jvm :as jvm])
  (:import (clojure.lang Var)))

(set! *warn-on-reflection* true)

(def ^:private api
  "tools.logging's vars, resolved (and the library loaded) on first use."
  (delay {:factory (jvm/loaded-var 'clojure.tools.logging/*logger-factory*)
          :get-logger (jvm/loaded-var 'clojure.tools.logging.impl/get-logger)
          :enabled? (jvm/loaded-var 'clojure.tools.logging.impl/enabled?)
          :log* (jvm/loaded-var 'clojure.tools.logging/log*)}))

(defn- factory [] (.deref ^Var (:factory @api)))

(defn enabled?
  "True when `logger` logs `level` (:trace :debug :info :warn :error :fatal)."
  [logger level]
  ((:enabled? @api) logger level))

(defn log*
  "Logs `message` (and `throwable`, or nil) at `level` on `logger`, as
  tools.logging's log* does (its agent rules inside transactions included)."
  [logger level throwable message]
  ((:log* @api) logger level throwable message))

;; [factory name->logger]: looking a logger up (e.g. JUL's LogManager) on
;; every statement costs more than the rest of the hot path, so the loggers
;; are kept per factory (the names are Vireo's few constants)
(def ^:private loggers (atom [nil {}]))

(defn logger
  "The logger named `logger-name` under the current logger factory."
  [^String logger-name]
  (let [f (factory)
        [cached by-name] @loggers]
    (or (when (identical? cached f) (get by-name logger-name))
        (let [l ((:get-logger @api) f logger-name)]
          (swap! loggers (fn [[cf m]] (if (identical? cf f) [cf (assoc m logger-name l)] [f {logger-name l}])))
          l))))

(defn log!
  "Logs `message` (and `throwable`, or nil) at `level` on the logger named
  `logger-name`, when that logger logs the level."
  [logger-name level throwable message]
  (let [l (logger logger-name)]
    (when (enabled? l level)
      (log* l level throwable message))))
