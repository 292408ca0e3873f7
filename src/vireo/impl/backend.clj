(ns ^:no-doc vireo.impl.backend
  "The backend registry: which backends exist, the URL schemes and driver
  artifacts of each, and loading one on demand. A backend is an
  implementation of vireo.impl.protocols/Backend in its own namespace
  (vireo.impl.backend.postgres, .mysql, .sqlite); that namespace is loaded —
  and its driver classes needed — only when a database of that backend is
  created, so a PostgreSQL-only application needs neither sqlite-jdbc nor the
  MySQL client. A backend whose driver is missing fails with an error naming
  the Maven coordinates to add.

  Also here, because every backend shares them: option checking against the
  backend's declared option keys, server-URL parsing and Vert.x PoolOptions.

  Public vars:
    backend          - given a kind (:postgres :mysql :sqlite), the loaded Backend (or a clear error)
    kinds            - the known backend kinds
    traits           - given a Backend, its static facts (see protocols/-traits)
    check-options    - throws for an option the backend does not know or refuses
    merged-options   - defaults + checked user options
    parse-url        - given a URL, [kind options]
    server-url-options - the options of a postgresql://… / mysql://… style URL
    pool-options     - options map -> io.vertx.sqlclient.PoolOptions
    missing-driver   - given a kind, nil or the artifacts its driver lacks"
  (:require [clojure.string :as str]
            [vireo.impl.errors :as err]
            [vireo.impl.protocols :as proto]
            [vireo.impl.types :as types]
            [vireo.promise :as p]
            [vireo.sql :as sql])
  (:import (io.vertx.sqlclient Cursor PoolOptions Pool PreparedStatement Row RowSet SqlConnection
                               SqlConnectOptions Tuple)
           (java.util List)
           (java.net URLDecoder)
           (java.nio.charset StandardCharsets)
           (java.util.concurrent TimeUnit)))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- the registry
(def vertx-version
  "The Vert.x version every io.vertx module is pinned to (deps.edn and the
  pom say the same; a test keeps them equal)."
  "5.0.7")

(def ^:private registry
  "kind -> how to load it: its namespace, URL schemes, and the classes its
  driver must provide with the Maven artifact that provides each."
  (atom
   {:postgres {:ns 'vireo.impl.backend.postgres :label "PostgreSQL"
               :schemes ["postgresql" "postgres"]
               :requires [["io.vertx.pgclient.PgBuilder" "io.vertx" "vertx-pg-client" vertx-version]]}
    :mysql {:ns 'vireo.impl.backend.mysql :label "MySQL/MariaDB"
            :schemes ["mysql" "mariadb"]
            :requires [["io.vertx.mysqlclient.MySQLBuilder" "io.vertx" "vertx-mysql-client" vertx-version]]}
    :sqlite {:ns 'vireo.impl.backend.sqlite :label "SQLite"
             :schemes ["sqlite"]
             :requires [["io.vertx.jdbcclient.JDBCPool" "io.vertx" "vertx-jdbc-client" vertx-version]
                        ["org.sqlite.JDBC" "org.xerial" "sqlite-jdbc" "3.50.3.0"]]}}))

(defn kinds "The known backend kinds." [] (set (keys @registry)))

(defn- class-present? [^String cname]
  (try (Class/forName cname false (.getContextClassLoader (Thread/currentThread))) true
       (catch ClassNotFoundException _
         (try (Class/forName cname false (clojure.lang.RT/baseLoader)) true
              (catch ClassNotFoundException _ false)))))

(defn missing-driver
  "Given a backend kind, nil when its driver classes are on the classpath,
  else the [group artifact version] triples to add."
  [kind]
  (seq (for [[cname g a v] (:requires (get @registry kind))
             :when (not (class-present? cname))]
         [g a v])))

(defn- missing-driver-error [kind missing]
  (let [{:keys [label]} (get @registry kind)]
    (err/error :vireo/interface-error
               (str "the " label " backend needs its driver on the classpath, which lacks "
                    (str/join " and " (map (fn [[g a v]] (str g ":" a ":" v)) missing))
                    ". Add to deps.edn: "
                    (str/join " " (map (fn [[g a v]] (str g "/" a " {:mvn/version \"" v "\"}")) missing))
                    "; or to a Maven pom: "
                    (str/join " " (map (fn [[g a v]] (str "<dependency><groupId>" g "</groupId><artifactId>" a
                                                          "</artifactId><version>" v "</version></dependency>"))
                                       missing)))
               {:backend kind :missing (mapv (fn [[g a v]] (str g ":" a ":" v)) missing)})))

(def ^:private loaded (atom {}))

(defn backend
  "Given a backend kind, returns its Backend, loading its namespace the
  first time. Throws a :vireo/interface-error for an unknown kind, or one
  naming the Maven coordinates of a missing driver."
  [kind]
  (or (get @loaded kind)
      (let [{ns-sym :ns :as entry} (get @registry kind)]
        (when-not entry
          (throw (err/error :vireo/interface-error
                            (str "unknown backend " (pr-str kind) "; known: "
                                 (str/join ", " (map pr-str (sort (kinds)))))
                            {:backend kind})))
        (when-let [missing (missing-driver kind)]
          (throw (missing-driver-error kind missing)))
        (let [b ((requiring-resolve (symbol (name ns-sym) "backend")))]
          (swap! loaded assoc kind b)
          b))))

(defn traits "The backend's static facts." [b] (proto/-traits b))

;; ---------------------------------------------------------------- options
(def pool-option-keys
  "Pool settings Vert.x 5 has, readable back with vireo.core/pool-options."
  #{:max-size :max-wait-queue-size :idle-timeout :connection-timeout :max-lifetime
    :event-loop-size :pool-cleaner-period})

(def ^:private common-option-keys #{:vertx :allow-sync :url :leak-detection-threshold :returning})

(defn- check-returning
  "The :returning option (the statement kinds RETURNING may be used on,
  instead of what aio-connect detects): nil, or a set within what the
  backend's dialect can render."
  [kind dialect v]
  (when (some? v)
    (let [most (:returning (sql/dialect dialect))]
      (when-not (and (or (set? v) (sequential? v)) (every? #{:insert :update :delete} v))
        (throw (err/error :vireo/interface-error
                          (str ":returning must be a set of statement kinds among :insert :update :delete"
                               " (#{} switches RETURNING off), got " (pr-str v))
                          {:backend kind :returning v})))
      (when-let [extra (seq (remove most v))]
        (throw (err/error :vireo/interface-error
                          (str ":returning " (pr-str (set v)) ": " (name kind) " has no RETURNING on "
                               (str/join ", " (map (comp str/upper-case name) (sort extra)))
                               " (at most " (pr-str most) ")")
                          {:backend kind :returning v}))))))

(defn check-options
  "Throws a clear :vireo/interface-error for an option backend `b` does not
  know (so a typo or an unsupported setting such as a min size never goes
  silently ignored), or refuses."
  [b opts]
  (let [{:keys [kind option-keys dialect]} (traits b)
        known (into (into common-option-keys pool-option-keys) option-keys)
        unknown (remove known (keys opts))]
    (when (seq unknown)
      (throw (err/error :vireo/interface-error
                        (str "unknown " (name kind) " database option(s) "
                             (str/join ", " (map pr-str unknown))
                             (when (some #{:min-size :min-idle} unknown)
                               " (Vert.x pools have no minimum size: connections are opened on demand)")
                             "; known: " (str/join ", " (map pr-str (sort known))))
                        {:backend kind :options (vec unknown)})))
    (check-returning kind dialect (:returning opts))
    (proto/-check-options b opts)))

(defn merged-options
  "The backend's defaults with the checked user options over them (:url
  dropped, :returning a set or absent)."
  [b opts]
  (check-options b opts)
  (cond-> (merge (:defaults (traits b)) (dissoc opts :url))
    ;; :returning nil means "detect", like no option at all
    (nil? (:returning opts)) (dissoc :returning)
    (some? (:returning opts)) (update :returning set)))

;; ---------------------------------------------------------------- URLs
(defn decode-url-part [s] (when s (URLDecoder/decode ^String s StandardCharsets/UTF_8)))

(defn server-url-options
  "The options of a server URL's part after the scheme:
  //user:pass@host:port/db. Query parameters are ignored."
  [rest url]
  (let [[_ userinfo host port db _query]
        (or (re-matches #"//(?:([^@/]*)@)?([^:/?]*)(?::(\d+))?(?:/([^?]*))?(?:\?(.*))?" rest)
            (throw (err/error :vireo/interface-error (str "cannot parse database URL " (pr-str url)) {:url url})))
        [user password] (when userinfo (str/split userinfo #":" 2))]
    (cond-> {}
      (seq host) (assoc :host host)
      port (assoc :port (parse-long port))
      (seq db) (assoc :database (decode-url-part db))
      (seq user) (assoc :user (decode-url-part user))
      password (assoc :password (decode-url-part password)))))

(defn parse-url
  "Given a database URL, returns [kind options]:
  postgresql://user:pass@host:port/db, postgres://…, mysql://…, mariadb://…,
  sqlite:path/to/file.db, sqlite://relative.db, sqlite:///abs/path.db,
  sqlite::memory:. Loads (and needs the driver of) the URL's backend."
  [^String url]
  (let [[_ scheme rest] (re-matches #"(?i)([a-z][a-z0-9+]*):(.*)" (or url ""))
        scheme (some-> scheme str/lower-case)
        kind (some (fn [[k {:keys [schemes]}]] (when (some #{scheme} schemes) k)) @registry)]
    (when-not kind
      (throw (err/error :vireo/interface-error
                        (str "unsupported database URL " (pr-str url)
                             "; use postgresql://…, mysql://…, mariadb://… or sqlite:path")
                        {:url url})))
    [kind (proto/-parse-url (backend kind) rest url)]))

;; ---------------------------------------------------------------- pools
(defn pool-options
  "The Vert.x PoolOptions of an options map (:max-size, :max-wait-queue-size,
  :idle-timeout, :connection-timeout, :max-lifetime in ms, :event-loop-size,
  :pool-cleaner-period)."
  ^PoolOptions [opts]
  (let [po (PoolOptions.)]
    (when-let [v (:max-size opts)] (.setMaxSize po (int v)))
    (when-let [v (:max-wait-queue-size opts)] (.setMaxWaitQueueSize po (int v)))
    (when-let [v (:idle-timeout opts)]
      (.setIdleTimeout po (int v)) (.setIdleTimeoutUnit po TimeUnit/MILLISECONDS))
    (when-let [v (:connection-timeout opts)]
      (.setConnectionTimeout po (int v)) (.setConnectionTimeoutUnit po TimeUnit/MILLISECONDS))
    (when-let [v (:max-lifetime opts)]
      (.setMaxLifetime po (int v)) (.setMaxLifetimeUnit po TimeUnit/MILLISECONDS))
    (when-let [v (:event-loop-size opts)] (.setEventLoopSize po (int v)))
    (when-let [v (:pool-cleaner-period opts)] (.setPoolCleanerPeriod po (int v)))
    po))

(defn connect-options!
  "Sets what every network backend shares on `o` (host, port, database,
  user, password, the prepared-statement cache of `cache-size`, startup
  properties); returns o."
  [^SqlConnectOptions o opts cache-size properties]
  (.setHost o (str (:host opts)))
  (.setPort o (int (:port opts)))
  (when-let [v (:database opts)] (.setDatabase o (str v)))
  (.setUser o (str (:user opts)))
  (.setPassword o (str (or (:password opts) "")))
  (let [n (long cache-size)]
    (.setCachePreparedStatements o (pos? n))
    (when (pos? n) (.setPreparedStatementCacheMaxSize o (int n))))
  (doseq [[k v] properties] (.addProperty o (name k) (str v)))
  o)

(defn build-client
  "The pool (or pipelining client) `builder` — PgBuilder/pool, MySQLBuilder/client
  … — gives with these PoolOptions and SqlConnectOptions on `vertx`."
  [^io.vertx.sqlclient.ClientBuilder builder pool-opts ^SqlConnectOptions connect-opts vertx]
  (-> builder
      (.with ^PoolOptions pool-opts)
      (.connectingTo connect-opts)
      (.using ^io.vertx.core.Vertx vertx)
      (.build)))

(defn pipelining-pool-options
  "The PoolOptions of a pipelining client: :pipelining-max-size connections
  (default :max-size)."
  ^PoolOptions [opts]
  (pool-options (assoc opts :max-size (or (:pipelining-max-size opts) (:max-size opts)))))

(defn install
  "What a backend namespace's `backend` fn does: registers the backend's
  codec profile (its :codecs trait) and its driver's error mapping, and
  returns the Backend."
  [b error-info]
  (let [{:keys [kind dialect codecs]} (proto/-traits b)]
    (types/register-profile! dialect codecs)
    (err/register-driver-errors! kind error-info)
    b))

(defn server-description
  "user@host:port/db of server options (no password), for messages."
  [kind opts]
  (str (name kind) "://" (:user opts) "@" (:host opts) ":" (:port opts) "/" (or (:database opts) "<deferred>")))

;; ---------------------------------------------------------------- capabilities
(def all-returning
  "Every statement kind that may carry RETURNING."
  #{:insert :update :delete})

(defn version-numbers
  "\"10.11.19-MariaDB-0+deb12u1\" -> [10 11 19]; MariaDB's replication
  prefix \"5.5.5-\" is skipped. nil when there is no number."
  [s]
  (let [s (str/replace (str s) #"^5\.5\.5-" "")]
    (when-let [[_ a b c] (re-find #"^(\d+)(?:\.(\d+))?(?:\.(\d+))?" s)]
      (mapv #(if % (parse-long %) 0) [a b c]))))

(defn at-least? [v want] (boolean (and v (not (neg? (compare v want))))))

(defn first-row
  "Future of (f row) for the first row of the simple query `sql` on `pool`,
  driver failures mapped."
  [^Pool pool ^String sql f]
  (-> (p/from-vertx (.execute (.query pool sql)))
      (p/map (fn [^RowSet rs] (f ^Row (.next (.iterator rs)))))
      (p/catch (fn [e] (p/rejected (err/map-error e sql [] {}))))))

(defn server-capabilities
  "Given a backend kind and the server's version string (MySQL/MariaDB:
  SELECT VERSION(); SQLite: sqlite_version(); PostgreSQL: ignored), returns
  {:returning #{kinds} :server \"name version\"}."
  [kind version]
  (proto/-server-capabilities (backend kind) version))

;; ---------------------------------------------------------------- shared by the backends
(def isolation-sql
  "Isolation level keyword -> its SQL words."
  {:read-uncommitted "READ UNCOMMITTED" :read-committed "READ COMMITTED"
   :repeatable-read "REPEATABLE READ" :serializable "SERIALIZABLE"})

(defn both
  "Future of nil after (a) and then (b) both ran, failing with the first
  failure (the second one suppressed)."
  [a b]
  (p/handle (p/do (a))
            (fn [_ ae]
              (p/handle (p/do (b))
                        (fn [_ be]
                          (cond (and ae be) (do (.addSuppressed ^Throwable ae ^Throwable be) (p/rejected ae))
                                (or ae be) (p/rejected (or ae be))
                                :else nil))))))

(defn cursor-source
  "A RowSource over a Vert.x prepared statement and cursor (PostgreSQL: a
  named portal read with Execute(max rows); MySQL: a read-only cursor,
  COM_STMT_EXECUTE then COM_STMT_FETCH)."
  [^SqlConnection conn ^String sql ^List params]
  (let [ps (atom nil)
        cursor (atom nil)]
    (reify proto/RowSource
      (open! [_]
        (p/map (p/from-vertx (.prepare conn sql))
               (fn [^PreparedStatement s]
                 (reset! ps s)
                 (reset! cursor (.cursor s (Tuple/from params)))
                 nil)))
      (read! [_ n]
        (let [^Cursor c @cursor]
          (p/map (p/from-vertx (.read c (int n)))
                 (fn [^RowSet rs] (proto/->Batch rs (.hasMore c))))))
      (close! [_]
        (let [[^Cursor c] (reset-vals! cursor nil)
              [^PreparedStatement s] (reset-vals! ps nil)]
          (both #(when c (p/from-vertx (.close c)))
                #(when s (p/from-vertx (.close s)))))))))
