(ns ^:vireo/per-backend vireo.doubles-test
  "Doubles on every backend (see docs/types.md, \":double and :float\"):

  - a double column gives back exactly the 64-bit value written, through
    aio-create/aio-get, raw SQL, query data and a stream. On SQLite that
    includes columns declared REAL and FLOAT, and expressions: sqlite-jdbc
    reports them as the JDBC types REAL/FLOAT, which the Vert.x JDBC client
    read as a 32-bit Float (Math/PI came back 3.1415927, 1e308 Infinity)
  - NaN given as a parameter that no field encodes (raw SQL, query data, a
    stream's :params) is refused on SQLite, typed and by position, before
    anything is sent: SQLite has no NaN and would bind it as NULL. Nothing
    is written. PostgreSQL stores NaN; MariaDB returns it from SELECT ? and
    refuses it in a DOUBLE column (a typed data error from the server)
  - ±Infinity round-trips on PostgreSQL and SQLite; MariaDB refuses it in a
    column, typed"
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.test-support :as ts :refer [await! error-of]]))

(defn- pg? [] (= :postgres ts/*backend*))
(defn- sqlite? [] (= :sqlite ts/*backend*))
(defn- mysql? [] (= :mysql ts/*backend*))

(defn- ph "The i-th placeholder of raw SQL (from 1)." [i] (if (pg?) (str "$" i) "?"))

(def ^:private values
  [0.1 1e308 Math/PI -0.0 Double/MIN_VALUE 1e-300 (- Double/MAX_VALUE) (/ 1.0 3) 16777217.0 0.30000000000000004])

(defn- expected
  "What a double column gives back for x: x itself, bit for bit, except
  -0.0 outside PostgreSQL (SQLite stores a REAL without a fraction as an
  integer, MariaDB drops the sign): 0.0."
  [x]
  (if (and (zero? (double x)) (not (pg?))) 0.0 x))

(defn- exactly?
  "got is a Double with the bits of (expected want)."
  [want got]
  (and (instance? Double got)
       (== (Double/doubleToRawLongBits (expected want)) (Double/doubleToRawLongBits got))))

(defn- declared-types
  "The column types that hold a 64-bit double on this backend."
  []
  (case ts/*backend*
    :sqlite ["REAL" "FLOAT" "DOUBLE" "DOUBLE PRECISION"]
    :postgres ["DOUBLE PRECISION"]
    ;; MariaDB's REAL is DOUBLE (unless sql_mode REAL_AS_FLOAT)
    :mysql ["DOUBLE" "REAL"]))

(defn- with-table*
  "Creates table vireo_dbl (id BIGINT PRIMARY KEY, x <col-type>), runs (f
  model) with a model of it, drops it."
  [col-type f]
  (let [d (ts/db)
        M (ts/model 'DblRow {:table "vireo_dbl"
                             :fields [:id {:type :bigint :primary-key true}
                                      :x {:type :double :null true}]})]
    (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_dbl"))
    (await! (v/aio-execute-sql d (str "CREATE TABLE vireo_dbl (id BIGINT PRIMARY KEY, x " col-type ")")))
    (try (f M)
         (finally (await! (v/aio-execute-sql d "DROP TABLE IF EXISTS vireo_dbl"))))))

(defn- row-count [d]
  (long (:c (first (:rows (await! (v/aio-execute-sql d "SELECT count(*) AS c FROM vireo_dbl")))))))

(defn- raw-x [d id]
  (:x (first (:rows (await! (v/aio-execute-sql d (str "SELECT x FROM vireo_dbl WHERE id = " (ph 1)) [id]))))))

;; ---------------------------------------------------------------- exact round trips
(deftest double-columns-round-trip-exactly-test
  (let [d (ts/db)]
    (doseq [col-type (declared-types)]
      (testing (str "a column declared " col-type)
        (with-table* col-type
          (fn [M]
            (testing "aio-create, then aio-get"
              (doseq [[i x] (map-indexed vector values)]
                (await! (v/aio-create M {:id i :x x}))
                (let [got (:x (await! (v/aio-get M i)))]
                  (is (exactly? x got) (str x " came back " (pr-str got))))))
            (testing "raw SQL: the column, and an expression over it (no declared type)"
              (doseq [[i x] (map-indexed vector values)
                      :let [id (+ 100 i)]]
                (await! (v/aio-execute-sql d (str "INSERT INTO vireo_dbl (id, x) VALUES (" (ph 1) ", " (ph 2) ")") [id x]))
                (let [got (raw-x d id)]
                  (is (exactly? x got) (str x " came back " (pr-str got))))
                (let [got (:y (first (:rows (await! (v/aio-execute-sql
                                                     d (str "SELECT x * 1 AS y FROM vireo_dbl WHERE id = " (ph 1)) [id])))))]
                  (is (== (double (expected x)) (double got)) (str x " * 1 came back " (pr-str got)))
                  (is (instance? Double got)))))
            (testing "query data: written, read back, found by its value"
              (doseq [[i x] (map-indexed vector values)
                      :let [id (+ 200 i)]]
                (await! (v/aio-execute d {:insert-into :vireo_dbl :columns [:id :x] :values [[id x]]}))
                (let [got (:x (first (await! (v/aio-execute d {:select [:x] :from :vireo_dbl :where [:= :id id]}))))]
                  (is (exactly? x got) (str x " came back " (pr-str got))))
                (is (= [id] (mapv (comp long :id)
                                  (await! (v/aio-execute d {:select [:id] :from :vireo_dbl
                                                            :where [:and [:= :x x] [:>= :id 200]]}))))
                    (str x " is found by its value"))))
            (testing "a stream reads them exactly too"
              (let [got (await! (v/aio-stream d {:select [:id :x] :from :vireo_dbl :where [:>= :id 200] :order-by [:id]}
                                              (fn [acc row] (conj acc (:x row))) []))]
                (is (= (count values) (count got)))
                (doseq [[x g] (map vector values got)]
                  (is (exactly? x g) (str x " streamed back " (pr-str g))))))))))))

(deftest minus-zero-keeps-its-sign-only-on-postgresql-test
  (with-table* (first (declared-types))
    (fn [M]
      (await! (v/aio-create M {:id 1 :x -0.0}))
      (let [got (:x (await! (v/aio-get M 1)))]
        (if (pg?)
          (is (= "-0.0" (str got)))
          ;; SQLite writes a REAL without a fraction as an integer; MariaDB drops the sign
          (is (= "0.0" (str got))))))))

;; ---------------------------------------------------------------- NaN
(defn- nan-refusal?
  "e is SQLite's typed refusal of a NaN parameter at position `index`."
  [e index]
  (and (v/error-type? e :vireo/data-error)
       (= index (:param-index (ex-data e)))
       (str/includes? (ex-message e) (str "parameter " index " (NaN)"))
       (str/includes? (ex-message e) "SQLite has no NaN")))

(deftest nan-parameters-test
  (let [d (ts/db)]
    (with-table* (first (declared-types))
      (fn [M]
        (doseq [nan [Double/NaN (Float/valueOf Float/NaN)]]
          (testing (str "NaN as a " (.getSimpleName (class nan)))
            (cond
              (sqlite?)
              (do
                (testing "raw SQL: refused by position before anything is sent"
                  (let [e (error-of #(v/aio-execute-sql d "INSERT INTO vireo_dbl (id, x) VALUES (?, ?)" [1 nan]))]
                    (is (nan-refusal? e 2) (pr-str e)))
                  (is (nan-refusal? (error-of #(v/aio-execute-sql d "SELECT ? AS y" [nan])) 1)))
                (testing "query data: in an insert and in a where clause"
                  (is (nan-refusal? (error-of #(v/aio-execute d {:insert-into :vireo_dbl :columns [:id :x]
                                                                 :values [[2 nan]]}))
                                    2))
                  (is (nan-refusal? (error-of #(v/aio-execute d {:select [:id] :from :vireo_dbl :where [:= :x nan]}))
                                    1)))
                (testing "a stream's parameters and a model's raw query"
                  (is (nan-refusal? (error-of #(v/aio-stream d "SELECT id FROM vireo_dbl WHERE x = ?" {:params [nan]}
                                                             conj []))
                                    1))
                  (is (nan-refusal? (error-of #(v/aio-execute (v/raw M "SELECT * FROM vireo_dbl WHERE x = ?" [nan])))
                                    1)))
                (testing "a model query: the field's codec refuses it, naming the field"
                  (let [e (error-of #(v/aio-create M {:id 3 :x nan}))]
                    (is (v/error-type? e :vireo/data-error) (pr-str e))
                    (is (= :x (:field (ex-data e))))))
                (testing "nothing was written"
                  (is (zero? (row-count d)))))

              (pg?)
              (testing "PostgreSQL stores NaN and gives it back"
                (await! (v/aio-execute-sql d "INSERT INTO vireo_dbl (id, x) VALUES ($1, $2)" [1 nan]))
                (await! (v/aio-execute d {:insert-into :vireo_dbl :columns [:id :x] :values [[2 nan]]}))
                (is (Double/isNaN (double (raw-x d 1))))
                (is (Double/isNaN (double (:x (await! (v/aio-get M 2))))))
                (testing "and NaN equals NaN there"
                  (is (= [1 2] (mapv (comp long :id) (await! (v/aio-execute d {:select [:id] :from :vireo_dbl
                                                                               :where [:= :x nan] :order-by [:id]}))))))
                (await! (v/aio-execute-sql d "DELETE FROM vireo_dbl")))

              (mysql?)
              (testing "MariaDB returns NaN from SELECT ?, refuses it in a DOUBLE column (typed, from the server)"
                (is (Double/isNaN (double (:y (first (:rows (await! (v/aio-execute-sql d "SELECT ? AS y" [nan]))))))))
                (let [e (error-of #(v/aio-execute-sql d "INSERT INTO vireo_dbl (id, x) VALUES (?, ?)" [1 nan]))]
                  (is (v/error-type? e :vireo/data-error) (pr-str e)))
                (let [e (error-of #(v/aio-execute d {:insert-into :vireo_dbl :columns [:id :x] :values [[2 nan]]}))]
                  (is (v/error-type? e :vireo/data-error) (pr-str e)))
                (is (zero? (row-count d)))))))))))

;; ---------------------------------------------------------------- Infinity
(deftest infinities-test
  (let [d (ts/db)]
    (with-table* (first (declared-types))
      (fn [M]
        (doseq [[i inf] (map-indexed vector [Double/POSITIVE_INFINITY Double/NEGATIVE_INFINITY
                                             (Float/valueOf Float/POSITIVE_INFINITY)])
                :let [want (double inf)]]
          (testing (pr-str inf)
            (if (mysql?)
              (testing "MariaDB cannot store it: refused, typed (the field's codec; the server for raw SQL)"
                (is (v/error-type? (error-of #(v/aio-create M {:id i :x inf})) :vireo/data-error))
                (is (v/error-type? (error-of #(v/aio-execute-sql d "INSERT INTO vireo_dbl (id, x) VALUES (?, ?)" [i inf]))
                                   :vireo/data-error))
                (is (zero? (row-count d))))
              (testing "PostgreSQL and SQLite store it and give it back"
                (await! (v/aio-create M {:id i :x inf}))
                (is (= want (:x (await! (v/aio-get M i)))))
                (await! (v/aio-execute-sql d (str "INSERT INTO vireo_dbl (id, x) VALUES (" (ph 1) ", " (ph 2) ")")
                                           [(+ 10 i) inf]))
                (is (= want (raw-x d (+ 10 i))))
                (await! (v/aio-execute d {:insert-into :vireo_dbl :columns [:id :x] :values [[(+ 20 i) inf]]}))
                (is (= [(+ 20 i)] (mapv (comp long :id) (await! (v/aio-execute d {:select [:id] :from :vireo_dbl
                                                                                   :where [:and [:= :x inf] [:= :id (+ 20 i)]]})))))))))))))
