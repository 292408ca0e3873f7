(ns vireo.java-bridge-test
  "The Java facade's bridge (vireo.java.bridge) resolving a function whose
  namespace another thread is still loading."
  (:require [clojure.test :refer [deftest is]]
            [vireo.java.bridge]
            [vireo.test-support :as ts]))

(def gate
  "Opened by the test once the second caller is waiting; the fixture's load waits for it."
  (promise))

(deftest resolving-while-another-thread-loads-the-namespace-test
  ;; thread A's call loads the fixture and waits in its load at the gate, its
  ;; var interned but unbound; thread B's call of the same function must wait
  ;; for the load (it used to get the unbound var: "Attempting to call unbound
  ;; fn", thousands of Java virtual threads making their first blocking call)
  (let [resolve-var #'vireo.java.bridge/resolve-var
        fixture 'vireo.bridge-race-fixture
        a (future ((resolve-var "vireo.bridge-race-fixture/answer")))
        interned #(some-> (find-ns fixture) (ns-resolve 'answer))]
    (is (ts/wait-until interned 60000) "thread A never started loading the fixture")
    (is (not (bound? (interned))) "the fixture's var is bound before its gate opened")
    (let [b-thread (promise)
          b (future (deliver b-thread (Thread/currentThread))
                    (try ((resolve-var "vireo.bridge-race-fixture/answer"))
                         (catch Throwable t t)))]
      ;; B waits for the load (blocked on the require lock), or, without the
      ;; fix, has already failed
      (is (ts/wait-until #(or (realized? b) (= Thread$State/BLOCKED (.getState ^Thread @b-thread))) 60000))
      (deliver gate true)
      (is (= 42 (deref a 60000 :timeout)))
      (is (= 42 (deref b 60000 :timeout))))))
