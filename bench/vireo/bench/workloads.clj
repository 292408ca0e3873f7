(ns vireo.bench.workloads
  "The W1–W6 workloads (see the shared bench README): ids, descriptions, the
  table and its seed, and the cheap per-operation inputs every system shares
  (random ids, seeded keys, fresh keys, texts), so no system pays for input
  generation more than another."
  (:import (java.util.concurrent ThreadLocalRandom)))

(set! *warn-on-reflection* true)

(def all-workloads ["W1" "W2" "W3" "W4" "W5" "W6"])

(def descriptions
  {"W1" "select one row by random primary key"
   "W2" "select one row by random unique key"
   "W3" "insert one row with a fresh key, return its id"
   "W4" "update one random row's text by primary key"
   "W5" "50 rows ORDER BY id LIMIT 50 OFFSET random(0..9950)"
   "W6" "transaction: select by pk, update that row, insert one row, commit"})

(def ^:const ^long seed-rows 10000)

(def seed-sql
  "The README's seed, one statement per element (VACUUM cannot run inside a
  transaction, so each runs on its own in autocommit mode)."
  ["DROP TABLE IF EXISTS page_block"
   "CREATE TABLE page_block (id serial PRIMARY KEY, key varchar(40) NOT NULL UNIQUE, text text NOT NULL DEFAULT '')"
   (str "INSERT INTO page_block (key, text) SELECT 'key-' || lpad(i::text, 5, '0'), "
        "'seed text for block number ' || i FROM generate_series(1, " seed-rows ") AS i")
   "VACUUM ANALYZE page_block"
   "CHECKPOINT"])

(def ^"[Ljava.lang.String;" seeded-keys
  "Index i (0-based) holds the key of the seeded row with id i+1."
  (into-array String (map #(format "key-%05d" (long %)) (range 1 (inc seed-rows)))))

(def ^"[Ljava.lang.String;" texts
  "A small pool of texts for updates and inserts (picked by sequence number)."
  (into-array String (map #(str "benchmark text " % " " (apply str (repeat (mod % 7) "lorem ")))
                          (range 64))))

(defn random-id
  "A random seeded primary key, 1..10000."
  ^long [] (inc (.nextInt (ThreadLocalRandom/current) (int seed-rows))))

(defn random-key
  "A random seeded unique key."
  ^String [] (aget seeded-keys (.nextInt (ThreadLocalRandom/current) (int seed-rows))))

(defn random-offset
  "A random W5 offset, 0..9950."
  ^long [] (.nextInt (ThreadLocalRandom/current) (int (- seed-rows 49))))

(defn text-for
  "A text for operation number n."
  ^String [^long n] (aget texts (int (bit-and n 63))))

(defn fresh-key
  "A key unique within a (re-seeded) block: prefix, client index, sequence."
  ^String [^String prefix ^long client ^long n]
  (str prefix client "-" n))
