(ns ^:vireo/per-backend vireo.caller-frame-test
  "Errors Vireo throws at its caller point at the caller's frame (the REPL's
  \"Execution error … at\" line and an editor's jump take the top frame), not
  at vireo.impl.errors/error; errors raised in callbacks keep their frames.
  On every backend."
  (:require [clojure.main :as main]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.test-support :as ts :refer [await!]]))

(set! *warn-on-reflection* true)

(defn- top-class ^String [^Throwable e]
  (.getClassName ^StackTraceElement (first (.getStackTrace e))))

(defn- thrown [f] (try (f) nil (catch Throwable e e)))

(deftest validation-error-points-at-the-caller-test
  (let [Pet (ts/model 'CfPet {:table "cf_pet" :fields [:name {:type :char :max-length 20}]})]
    (testing "a bad model definition (raised inside clojure.core/mapv in Vireo)"
      (let [e (thrown #(v/model 'CfBad {:table "cf_bad" :fields [:a {:type :nope}]}))]
        (is (v/error-type? e :vireo/error) (str e))
        (is (str/starts-with? (top-class e) "vireo.caller_frame_test$")
            (str "top frame: " (first (.getStackTrace ^Throwable e))))
        (testing "as clojure.main reports it at the REPL"
          (is (str/starts-with? (str (:clojure.error/symbol (main/ex-triage (Throwable->map e)))) "vireo.caller-frame-test/")
              (pr-str (main/ex-triage (Throwable->map e)))))))
    (testing "an unknown database option"
      (let [e (thrown #(v/database (ts/url ts/*backend*) {:no-such-option 1}))]
        (is (v/error-type? e :vireo/error) (str e))
        (is (str/starts-with? (top-class e) "vireo.caller_frame_test$") (str (first (.getStackTrace ^Throwable e))))))
    (testing "a sync call refused outside with-allow-sync"
      (let [e (thrown #(v/execute! (v/select Pet)))]
        (is (v/error-type? e :vireo/sync-not-allowed) (str e))
        (is (str/starts-with? (top-class e) "vireo.caller_frame_test$") (str (first (.getStackTrace ^Throwable e))))))))

(deftest sync-failure-points-at-the-caller-test
  (let [d (ts/db)
        Pet (ts/model 'CfPet2 {:table "cf_pet2" :fields [:name {:type :char :max-length 20 :unique true}]})]
    (ts/with-tables [Pet]
      (await! (v/aio-create Pet {:name "rex"}))
      (testing "a database error completed on another thread, thrown by a sync call"
        (let [e (thrown #(v/with-allow-sync d (v/execute-sql! d "INSERT INTO cf_pet2 (name) VALUES ('rex')")))
              raised (some #(when (= "vireo: raised at" (.getMessage ^Throwable %)) %) (.getSuppressed ^Throwable e))]
          (is (v/error-type? e :vireo/unique-violation) (str e))
          (is (str/starts-with? (top-class e) "vireo.caller_frame_test$") (str (first (.getStackTrace ^Throwable e))))
          (is (some? raised) "the frames where it was raised are kept, as a suppressed throwable")
          (is (not-any? #(str/starts-with? (.getClassName ^StackTraceElement %) "vireo.caller_frame_test")
                        (.getStackTrace ^Throwable raised))
              "those are the other thread's frames")))
      (testing "an error raised in a callback keeps its frames (no caller on that stack)"
        (let [e (try (await! (v/aio-execute-sql d "INSERT INTO cf_pet2 (name) VALUES ('rex')")) nil
                     (catch Throwable e e))]
          (is (v/error-type? e :vireo/unique-violation) (str e))
          (is (not (str/starts-with? (top-class e) "vireo.caller_frame_test$"))
              "an aio- failure is not rewritten: it completed a future, nobody called it"))))))

(deftest every-public-namespace-is-vireo-s-own-frame-test
  ;; a new public namespace missing from the list would become "the caller"
  (let [prefixes @#'vireo.impl.errors/internal-prefixes]
    (doseq [^java.io.File f (.listFiles (java.io.File. "src/vireo"))
            :when (str/ends-with? (.getName f) ".clj")
            :let [class-prefix (str "vireo." (str/replace (subs (.getName f) 0 (- (count (.getName f)) 4)) "-" "_") "$")]]
      (is (some #(str/starts-with? class-prefix %) prefixes)
          (str class-prefix " is not among vireo.impl.errors/internal-prefixes")))))
