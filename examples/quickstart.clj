(ns quickstart
  "The seed example: a PageBlock created, read and saved, asynchronously.

      bin/clojure -M:quickstart                         ; SQLite file vireo-quickstart.db
      bin/clojure -M:quickstart postgresql://postgres@127.0.0.1:5432/test
      VIREO_DATABASE_URL=postgresql://… bin/clojure -M:quickstart"
  (:require [vireo.core :as vireo]
            [vireo.promise :as p]))

(defn run
  "Runs the quickstart on `db`, printing the Was:/New: lines. Closes nothing."
  [db]
  (vireo/defmodel PageBlock
    {:database db
     :fields {:key  {:type :char :max-length 40 :unique true}
              :text {:type :text :default ""}}})
  (vireo/with-allow-sync db (vireo/create-table! PageBlock {:safe true}))   ; sync, on purpose
  @(p/let [;; re-runs find the row of the last run: start from a clean slate
           old   (vireo/aio-get-or-none PageBlock {:key "title"})
           _     (when old (vireo/aio-delete-instance PageBlock old))
           _     (vireo/aio-create PageBlock {:key "title" :text "Peewee is AWESOME with async!"})
           title (vireo/aio-get PageBlock {:key "title"})]
     (println "Was:" (:text title))
     (p/let [title (vireo/aio-save PageBlock (assoc title :text "Peewee is SUPER awesome with async!"))]
       (println "New:" (:text title)))))

(defn -main [& args]
  (let [url (or (first args) (System/getenv "VIREO_DATABASE_URL"))
        db (if url (vireo/database url) (vireo/sqlite-database "vireo-quickstart.db"))]
    (try
      (run db)
      (finally
        @(vireo/aio-close db)))   ; closes the pool (the JVM would exit without it too)
    (shutdown-agents)))
