(ns vireo.bridge-race-fixture
  "Loaded only by vireo.java-bridge-test: a namespace whose load waits at a
  gate the test opens, with its var interned before the gate and defined
  after it, as an AOT namespace's class interns every var before loading
  its body. Not a test namespace (no _test suffix).")

(declare answer)

;; the test's gate (a promise): the load waits here until the test opens it
@@(resolve 'vireo.java-bridge-test/gate)

(defn answer [] 42)
