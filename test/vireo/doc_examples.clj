(ns vireo.doc-examples
  "Executes the ```clojure blocks of a Markdown file: every form is
  evaluated in order in a fresh namespace; a `;; => x` comment after a form
  asserts its value, `;; throws x` asserts it throws (`x` is an ex-info
  `:type`, or a class name). A block fenced ```clojure 1.12 holds forms
  only Clojure 1.12 and later accept: it runs there, and is skipped on an
  older Clojure (the matrix sub-run's 1.11 leg). Used by the tests of
  docs/*.md, so the docs cannot drift from the code."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [is]])
  (:import (clojure.lang LineNumberingPushbackReader)
           (java.io StringReader)))

(defn- runs-here?
  "True when a block's fence info (after ```clojure) lets it run on this
  Clojure: none, or a minimum version such as `1.12` (a block of forms
  only that version and later accept, run there and skipped before)."
  [info]
  (or (str/blank? info)
      (let [[major minor] (map #(Long/parseLong %) (str/split (str/trim info) #"\."))]
        (>= (compare [(:major *clojure-version*) (:minor *clojure-version*)] [major minor]) 0))))

(defn clojure-blocks
  "The code of the ```clojure blocks that run on this Clojure (a block
  fenced ```clojure 1.12 runs on Clojure 1.12 and later only)."
  [text]
  (keep (fn [[_ info code]] (when (runs-here? info) code))
        (re-seq #"(?s)```clojure([ \d.]*)\n(.*?)```" text)))

(defn- read-expectation
  "After a form: skips whitespace and plain comments; returns [:= x],
  [:throws x] or nil."
  [^LineNumberingPushbackReader rdr]
  (loop []
    (let [c (.read rdr)]
      (cond
        (= c -1) nil
        (Character/isWhitespace (char c)) (recur)
        (= (char c) \;) (let [line (str ";" (.readLine rdr))]
                          (cond
                            (str/starts-with? line ";; =>") [:= (read-string (subs line 5))]
                            (str/starts-with? line ";; throws") [:throws (read-string (subs line 9))]
                            :else (recur)))
        :else (do (.unread rdr c) nil)))))

(defn examples
  "The [form expectation] pairs of one block."
  [block]
  (let [rdr (LineNumberingPushbackReader. (StringReader. block))]
    (loop [acc []]
      (let [form (read {:eof ::eof} rdr)]
        (if (= ::eof form)
          acc
          (recur (conj acc [form (read-expectation rdr)])))))))

(defn- thrown [f]
  (try (f) nil (catch Throwable t t)))

(defn- unwrap [^Throwable t]
  (if (and (instance? java.util.concurrent.CompletionException t) (.getCause t)) (.getCause t)
      (if (and (instance? java.util.concurrent.ExecutionException t) (.getCause t)) (.getCause t) t)))

(defn run-file!
  "Evaluates the examples of `path` in a new namespace `ns-sym`, asserting
  each expectation. Returns the number of assertions made."
  [path ns-sym]
  (let [text (slurp (io/file path))
        doc-ns (create-ns ns-sym)
        n (atom 0)]
    (binding [*ns* doc-ns]
      (refer-clojure)
      (doseq [block (clojure-blocks text)
              [form [kind expected]] (examples block)]
        (case kind
          := (do (swap! n inc)
                 (is (= expected (eval form)) (str path ": " (pr-str form))))
          :throws (do (swap! n inc)
                      (let [ex (some-> (thrown #(eval form)) unwrap)]
                        (is (some? ex) (str path ": expected a throw: " (pr-str form)))
                        (when ex
                          (if (keyword? expected)
                            (is (isa? (:type (ex-data ex)) expected) (str path ": " (pr-str form) " threw " (pr-str (ex-data ex))))
                            (is (instance? (resolve expected) ex) (str path ": " (pr-str form)))))))
          (eval form))))
    (remove-ns ns-sym)
    @n))
