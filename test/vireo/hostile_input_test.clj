(ns ^:vireo/per-backend vireo.hostile-input-test
  "Input no database stores faithfully is refused, typed, before anything is
  sent, on every backend (issue 13, items 3 and 5):

  - an unknown column is a :vireo/programming-error everywhere; on SQLite a
    double-quoted name it cannot resolve would otherwise be taken for a
    string literal (SQLite's \"double-quoted string\" misfeature), so a
    select returned the name as text and a filter on it matched every row
  - a string holding a lone UTF-16 surrogate (which every driver sends as
    ?) is a :vireo/data-error naming the field or the parameter
  - a NUL character or a lone surrogate in an identifier, an inlined string
    or raw SQL (PostgreSQL drops the connection on a NUL in the query text)
    is a :vireo/programming-error naming it"
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.sql :as sql]
            [vireo.test-support :as ts :refer [await! error-of]]))

(defn- word-model []
  (ts/model 'HostileWord {:table "hostile_word"
                          :fields {:name {:type :text}
                                   :n {:type :integer :default 0}
                                   :doc {:type :json :null true}}}))

(defn- names [d]
  (mapv :name (await! (v/aio-execute d {:select [:name] :from :hostile_word :order-by [:id]}))))

(defn- programming-error? [e] (v/error-type? e :vireo/programming-error))

;; ---------------------------------------------------------------- item 3: unknown identifiers
(deftest unknown-column-is-a-programming-error-test
  (let [W (word-model) d (ts/db)]
    (ts/with-tables [W]
      (await! (v/aio-create W {:name "alpha"}))
      (await! (v/aio-create W {:name "beta"}))
      (testing "selecting an unknown column fails (SQLite returned the name as text)"
        (let [e (error-of #(v/aio-execute d {:select [:nmae] :from :hostile_word}))]
          (is (programming-error? e) (pr-str e))
          (is (str/includes? (ex-message e) "nmae"))))
      (testing "a filter on an unknown column fails (SQLite matched every row)"
        (is (programming-error? (error-of #(v/aio-execute d {:select [:id] :from :hostile_word
                                                             :where [:= :nmae "nmae"]}))))
        (is (programming-error? (error-of #(v/aio-execute d {:select [:id] :from :hostile_word
                                                             :order-by [:nmae]})))))
      (testing "an UPDATE or DELETE filtered on an unknown column fails and changes nothing"
        (is (programming-error? (error-of #(v/aio-execute d {:update :hostile_word :set {:name "gone"}
                                                             :where [:= :nmae "nmae"]}))))
        (is (programming-error? (error-of #(v/aio-execute d {:delete-from :hostile_word
                                                             :where [:= :nmae "nmae"]}))))
        (is (= ["alpha" "beta"] (names d))))
      (testing "raw SQL with a double-quoted unknown name fails too (MariaDB reads \"…\" as a string)"
        (when-not (= :mysql ts/*backend*)
          (is (programming-error? (error-of #(v/aio-execute-sql d "SELECT \"nmae\" FROM hostile_word"))))
          (is (programming-error? (error-of #(v/aio-execute-sql d "DELETE FROM hostile_word WHERE \"nmae\" = 'nmae'"))))
          (is (= ["alpha" "beta"] (names d)))))
      (testing "quoted names that exist still work, with quotes and backquotes inside them"
        (let [col "q \"dq\" `bt` 'sq'"]
          (await! (v/aio-execute d {:create-table :hostile_quoted :if-not-exists true
                                    :with-columns [[(sql/ident col) :text]]}))
          (try
            (await! (v/aio-execute d {:insert-into :hostile_quoted :values [{(sql/ident col) "x\"y`z"}]}))
            (is (= [{:v "x\"y`z"}]
                   (await! (v/aio-execute d {:select [[(sql/ident col) :v]] :from :hostile_quoted
                                             :where [:= (sql/ident col) "x\"y`z"]}))))
            (finally (await! (v/aio-execute d {:drop-table :hostile_quoted :if-exists true})))))))))

;; ---------------------------------------------------------------- item 5: lone surrogates
(def ^:private lone-high "ab\uD800cd")
(def ^:private lone-low "\uDC00")
(def ^:private pair "emoji 😀 𝔘")

(defn- surrogate-error? [e]
  (and (v/error-type? e :vireo/data-error)
       (str/includes? (ex-message e) "lone UTF-16 surrogate")))

(deftest lone-surrogates-are-refused-test
  (let [W (word-model) d (ts/db)]
    (ts/with-tables [W]
      (let [kept (await! (v/aio-create W {:name pair :doc {:k pair}}))]
        (testing "a complete surrogate pair is text: it round-trips"
          (is (= pair (:name (await! (v/aio-get W (:id kept))))))
          (is (= {:k pair} (:doc (await! (v/aio-get W (:id kept)))))))
        (testing "a text field refuses a lone surrogate, naming the model and field and where it is"
          (doseq [s [lone-high lone-low (str pair "\uD83D")]]
            (let [e (error-of #(v/aio-create W {:name s}))]
              (is (surrogate-error? e) (pr-str e))
              (is (= :name (:field (ex-data e))))
              (is (= "HostileWord" (:model (ex-data e))))))
          (is (str/includes? (ex-message (error-of #(v/aio-create W {:name lone-high})))
                             "\\uD800 at index 2")))
        (testing "a JSON field refuses one in a value or a key"
          (is (surrogate-error? (error-of #(v/aio-create W {:name "j" :doc {:k lone-high}}))))
          (is (surrogate-error? (error-of #(v/aio-create W {:name "j" :doc {(keyword lone-low) 1}})))))
        (testing "filters and updates refuse it too"
          (is (surrogate-error? (error-of #(v/aio-get W {:name lone-high}))))
          (is (surrogate-error? (error-of #(v/aio-save W (assoc kept :name lone-high)))))
          (is (surrogate-error? (error-of #(v/aio-execute (v/update W {:name lone-high}))))))
        (testing "query data names the parameter"
          (let [e (error-of #(v/aio-execute d {:select [:id] :from :hostile_word
                                               :where [:and [:= :n 0] [:= :name lone-high]]}))]
            (is (surrogate-error? e) (pr-str e))
            (is (= 2 (:param-index (ex-data e))))
            (is (str/includes? (ex-message e) "parameter 2"))))
        (testing "a model query value that no field encodes is refused when bound"
          (is (surrogate-error? (error-of #(v/aio-execute (v/where (v/select W) [:= [:lower :name] lone-low]))))))
        (testing "a raw SQL parameter too, by its position"
          (let [e (error-of #(v/aio-execute-sql d "INSERT INTO hostile_word (name, n) VALUES (?, ?)" [lone-high 1]))]
            (is (surrogate-error? e) (pr-str e))
            (is (= 1 (:param-index (ex-data e))))))
        (testing "nothing was stored"
          (is (= [pair] (names d))))))))

;; ---------------------------------------------------------------- item 5: NUL and surrogates in SQL text
(defn- refused-text? [e what]
  (and (programming-error? e)
       (str/starts-with? (ex-message e) what)
       (str/includes? (ex-message e) "cannot be written into SQL")))

(deftest nul-in-sql-text-is-refused-test
  (let [W (word-model) d (ts/db)]
    (ts/with-tables [W]
      (await! (v/aio-create W {:name "alpha"}))
      (testing "an identifier holding NUL or a lone surrogate: a keyword, an ident, an alias"
        (let [e (error-of #(v/aio-execute d {:select [(keyword "na\u0000me")] :from :hostile_word}))]
          (is (refused-text? e "Identifier") (pr-str e))
          (is (str/includes? (ex-message e) "\"na\\u0000me\""))
          (is (str/includes? (ex-message e) "NUL character (\\u0000) at index 2")))
        (is (refused-text? (error-of #(v/aio-execute d {:select [(sql/ident "name\uD800")] :from :hostile_word})) "Identifier"))
        (is (refused-text? (error-of #(v/aio-execute d {:select [[:name (keyword "al\u0000ias")]] :from :hostile_word})) "Identifier")))
      (testing "a model whose table or column name holds NUL cannot create or query its table"
        (let [Bad (ts/model 'HostileNul {:table "hostile_nul" :fields {:x {:type :text :column "x\u0000y"}}})]
          (is (refused-text? (error-of #(v/aio-create-tables [Bad])) "Identifier"))
          (is (refused-text? (error-of #(v/aio-execute (v/select Bad))) "Identifier"))))
      (testing "an inlined string, a DDL default and raw SQL holding NUL"
        (is (refused-text? (error-of #(v/aio-execute d {:select [[[:inline "a\u0000b"] :v]]})) "Inline string"))
        (is (refused-text? (error-of #(v/aio-execute d {:select [[:name :v]] :from :hostile_word
                                                        :where [:= :name [:raw "'a\u0000'"]]}))
                           "Raw SQL"))
        (is (refused-text? (error-of #(v/aio-execute d {:create-table :hostile_nul_default
                                                        :with-columns [[:x :text [:default "a\u0000"]]]}))
                           "Inline string")))
      (testing "nothing reached the server: the database still answers and nothing leaked"
        (is (= ["alpha"] (names d)))
        (is (zero? (v/checked-out d)))))))
