(ns vireo.model-test
  "Model definitions are data, checked when defined (no database)."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [vireo.core :as v]
            [vireo.sql :as sql]
            [vireo.impl.db]
            [vireo.impl.model :as model]))

(defn- definition-error [name definition]
  (try (v/model name definition) nil
       (catch clojure.lang.ExceptionInfo e e)))

(v/defmodel PageBlock
  {:fields {:key {:type :char :max-length 40 :unique true}
            :text {:type :text :default ""}}})

(deftest defaults-test
  (is (v/model? PageBlock))
  (is (= "pageblock" (v/table-name PageBlock)) "peewee's rule: the lower-cased model name")
  (is (= [:id :key :text] (map :key (v/fields PageBlock))) "an implicit auto-increment id comes first")
  (is (= :id (:primary-key PageBlock)))
  (testing "columns are snake_case of the kebab-case key unless :column says otherwise"
    (let [m (v/model 'Person {:fields {:first-name {:type :char} :last-name {:type :char :column "surname"}}})]
      (is (= {:first-name "first_name" :last-name "surname"}
             (into {} (map (juxt :key :column)) (rest (v/fields m)))))))
  (is (= "page_block" (v/table-name (v/model 'PageBlock {:table "page_block" :fields {}}))))
  (is (= 255 (:max-length (model/field (v/model 'A {:fields {:s {:type :char}}}) :s))) "peewee's default length"))

(deftest ddl-test
  (is (= [["CREATE TABLE IF NOT EXISTS \"pageblock\" (\"id\" SERIAL PRIMARY KEY, \"key\" VARCHAR(40) NOT NULL, \"text\" TEXT NOT NULL DEFAULT '')"]
          ["CREATE UNIQUE INDEX IF NOT EXISTS \"pageblock_key\" ON \"pageblock\" (\"key\")"]]
         (map #(sql/format % {:dialect :postgres}) (model/create-table-queries PageBlock {:safe true}))))
  (is (= [["CREATE TABLE `pageblock` (`id` INTEGER AUTO_INCREMENT PRIMARY KEY, `key` VARCHAR(40) NOT NULL, `text` LONGTEXT NOT NULL DEFAULT '')"]
          ["CREATE UNIQUE INDEX `pageblock_key` ON `pageblock` (`key`)"]]
         (map #(sql/format % {:dialect :mysql}) (model/create-table-queries PageBlock {})))))

(deftest bad-definitions-test
  (testing "each bad definition names the model, the field and the problem"
    (doseq [[definition field fragment]
            [[{:fields {:key {:type :chra}}} ":key" "unknown type :chra"]
             [{:fields {:key {:type :char :max-lenght 40}}} ":key" "unknown option(s) :max-lenght"]
             [{:fields {:key {:type :char :max-length 0}}} ":key" ":max-length must be a positive integer"]
             [{:fields {:key {:type :text :max-length 10}}} ":key" ":max-length applies only to :char"]
             [{:fields {:n {:type :integer :default "seven"}}} ":n" "bad :default"]
             [{:fields {:a {:type :integer :primary-key true} :b {:type :integer :primary-key true}}} ":b" "more than one primary key"]
             [{:fields [:a {:type :text} :a {:type :char}]} ":a" "defined more than once"]
             [{:fields {:a {:type :text :column "x"} :b {:type :text :column "x"}}} nil "two fields use the column \"x\""]
             [{:fields {:id {:type :integer}}} ":id" "not as :primary-key"]
             [{:fields {:a :text}} ":a" "must be a map"]
             [{:feilds {}} nil "unknown option(s) :feilds"]
             [{:fields {} :table ""} nil ":table must be a non-empty string"]]]
      (let [e (definition-error 'Broken definition)]
        (is (some? e) (pr-str definition))
        (when e
          (is (= :vireo/model-error (:type (ex-data e))))
          (is (str/starts-with? (ex-message e) "Model Broken") (ex-message e))
          (when field (is (str/includes? (ex-message e) field) (ex-message e)))
          (is (str/includes? (ex-message e) fragment) (ex-message e)))))))

(deftest database-options-test
  (testing "an unsupported pool setting is a clear error, not silently ignored"
    (let [e (try (v/postgresql-database {:database "x" :min-size 2}) (catch Exception e e))]
      (is (= :vireo/interface-error (v/error-type e)))
      (is (str/includes? (ex-message e) ":min-size"))
      (is (str/includes? (ex-message e) "no minimum size"))))
  (testing "the option naming the database is a string (a File or Path for SQLite's path)"
    (let [e (try (v/sqlite-database {}) (catch Exception e e))]
      (is (= :vireo/interface-error (v/error-type e)))
      (is (str/includes? (ex-message e) ":path must be a string, got {}") (ex-message e))
      (is (str/includes? (ex-message e) "second argument") (ex-message e)))
    (let [e (try (v/postgresql-database {:database 42}) (catch Exception e e))]
      (is (= :vireo/interface-error (v/error-type e)))
      (is (str/includes? (ex-message e) ":database must be a string, got 42") (ex-message e)))
    (is (= "x/y.db" (:path (vireo.impl.db/options (v/sqlite-database (java.io.File. "x/y.db"))))))
    (is (= "x/y.db" (:path (vireo.impl.db/options (v/sqlite-database (java.nio.file.Path/of "x/y.db" (make-array String 0))))))))
  (testing "URLs"
    ;; the password is kept as a secret (printed as ***): reveal reads it back
    (is (= {:host "db.local" :port 5433 :database "app" :user "me" :password "p@ss"}
           (-> (vireo.impl.db/options (v/database "postgresql://me:p%40ss@db.local:5433/app"))
               (select-keys [:host :port :database :user :password])
               (update :password vireo.impl.backend/reveal))))
    (is (= :mysql (:kind (v/database "mariadb://root@127.0.0.1/test"))))
    (is (= "x/y.db" (:path (vireo.impl.db/options (v/database "sqlite:x/y.db")))))
    (is (= "/abs/y.db" (:path (vireo.impl.db/options (v/database "sqlite:///abs/y.db")))))
    (is (= :vireo/interface-error (v/error-type (try (v/database "oracle://x") (catch Exception e e))))))
  (testing "pool settings are readable back"
    (is (= {:max-size 16 :idle-timeout 1000}
           (select-keys (v/pool-options (v/postgresql-database {:database "x" :max-size 16 :idle-timeout 1000}))
                        [:max-size :idle-timeout])))))
