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
    query-options    - the options of a URL's query parameters (each honoured or refused by name)
    redact-url       - a URL with its password replaced, for messages
    secret, reveal   - passwords are kept as Secrets (printed as ***) in a database's options
    checked-tls      - TLS options checked and made canonical (merged-options calls it)
    client-ssl-options - checked TLS options -> io.vertx.core.net.ClientSSLOptions
    pool-options     - options map -> io.vertx.sqlclient.PoolOptions
    missing-driver   - given a kind, nil or the artifacts its driver lacks"
  (:require [clojure.string :as str]
            [vireo.impl.log :as log]
            [vireo.jvm :as jvm]
            [vireo.impl.errors :as err]
            [vireo.impl.protocols :as proto]
            [vireo.impl.types :as types]
            [vireo.promise :as p]
            [vireo.sql :as sql])
  (:import (io.vertx.core.net ClientSSLOptions JksOptions PemKeyCertOptions PemTrustOptions PfxOptions
                              TrustOptions)
           (io.vertx.sqlclient Cursor PoolOptions Pool PreparedStatement Row RowSet SqlConnection
                               SqlConnectOptions Tuple)
           (java.util List)
           (java.net URLDecoder)
           (java.nio.charset StandardCharsets)
           (java.security KeyStore)
           (javax.net.ssl TrustManagerFactory)
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
               ;; libpq's environment variables (database-from-env), read
               ;; when one of the first two is set
               :env-vars [["PGHOST" :host :string] ["PGDATABASE" :database :string]
                          ["PGPORT" :port :int] ["PGUSER" :user :string] ["PGPASSWORD" :password :string]
                          ["PGSSLMODE" :ssl-mode :string] ["PGSSLROOTCERT" :ssl-root-cert :string]
                          ["PGSSLCERT" :ssl-cert :string] ["PGSSLKEY" :ssl-key :string]
                          ["PGAPPNAME" :application-name :string]]
               :requires [["io.vertx.pgclient.PgBuilder" "io.vertx" "vertx-pg-client" vertx-version]]}
    :mysql {:ns 'vireo.impl.backend.mysql :label "MySQL/MariaDB"
            :schemes ["mysql" "mariadb"]
            :requires [["io.vertx.mysqlclient.MySQLBuilder" "io.vertx" "vertx-mysql-client" vertx-version]]}
    :sqlite {:ns 'vireo.impl.backend.sqlite :label "SQLite"
             :schemes ["sqlite"]
             :requires [["io.vertx.jdbcclient.JDBCPool" "io.vertx" "vertx-jdbc-client" vertx-version]
                        ["org.sqlite.JDBC" "org.xerial" "sqlite-jdbc" "3.50.3.0"]]}}))

(defn kinds "The known backend kinds." [] (set (keys @registry)))

(defn- find-class
  "The class named `cname`, or nil when the classpath lacks it."
  ^Class [^String cname]
  (try (Class/forName cname false (.getContextClassLoader (Thread/currentThread)))
       (catch ClassNotFoundException _
         (try (Class/forName cname false (clojure.lang.RT/baseLoader))
              (catch ClassNotFoundException _ nil)))))

(defn- class-present? [^String cname]
  (some? (find-class cname)))

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
        (let [b ((jvm/loaded-var (symbol (name ns-sym) "backend")))]
          (swap! loaded assoc kind b)
          b))))

(defn traits "The backend's static facts." [b] (proto/-traits b))

;; ---------------------------------------------------------------- secrets
;; A database's password (and a trust store's) is kept as a Secret in its
;; options: it prints as ***, with prn, pprint, str, tap> viewers and
;; loggers alike, wherever the database is embedded (models, queries,
;; errors). Only the connect options reveal it.
(deftype Secret [^String value]
  Object
  (toString [_] "***")
  (equals [_ o] (and (instance? Secret o) (= value (.-value ^Secret o))))
  (hashCode [_] (hash value)))

(defmethod print-method Secret [_ ^java.io.Writer w] (.write w "#vireo/secret \"***\""))

(def secret-option-keys "Options whose values are secrets." #{:password :ssl-trust-store-password})

(defn secret
  "`v` as a Secret (nil stays nil; a Secret stays itself)."
  [v]
  (cond (nil? v) nil
        (instance? Secret v) v
        :else (Secret. (str v))))

(defn reveal
  "The string a Secret (or a plain value) holds, or nil."
  ^String [v]
  (if (instance? Secret v) (.-value ^Secret v) (some-> v str)))

(defn- hide-secrets [opts]
  (reduce (fn [o k] (if (contains? o k) (update o k secret) o)) opts secret-option-keys))

;; ---------------------------------------------------------------- options
(def pool-option-keys
  "Pool settings Vert.x 5 has, readable back with vireo.core/pool-options."
  #{:max-size :max-wait-queue-size :idle-timeout :connection-timeout :max-lifetime
    :event-loop-size :pool-cleaner-period})

(def ^:private common-option-keys #{:vertx :allow-sync :url :leak-detection-threshold :returning :init-sql
                                    :transaction-timeout :metrics :tracing :slow-query})

;; ---------------------------------------------------------------- observability options
;; :metrics, :tracing and :slow-query (vireo.impl.observe does the work).
;; Micrometer and OpenTelemetry are optional dependencies: the option is
;; refused, naming the Maven coordinates, when the library is missing.
(def observability-libraries
  "option -> [class it needs, group, artifact, version]."
  {:metrics ["io.micrometer.core.instrument.MeterRegistry" "io.micrometer" "micrometer-core" "1.17.2"]
   :tracing ["io.opentelemetry.api.OpenTelemetry" "io.opentelemetry" "opentelemetry-api" "1.68.0"]})

(def ^:private observability-keys
  {:metrics {:registry "a io.micrometer.core.instrument.MeterRegistry (default: Metrics.globalRegistry)"
             :name "the database tag's value (a string; default: the database's description)"}
   :tracing {:open-telemetry "an io.opentelemetry.api.OpenTelemetry (default: GlobalOpenTelemetry)"
             :name "the db.namespace attribute (a string; default: the database's name)"
             :query-parameters "true to add the parameter values as db.query.parameter.<n> attributes (default false)"}
   :slow-query {:threshold-ms "statements at least this long (ms, a positive integer) are logged"
                :parameters "true to log the parameter values (default false: redacted)"}})

(defn- observability-error [k msg]
  (err/error :vireo/interface-error (str k " " msg) {:option k}))

(defn- check-observability
  "Refuses a malformed :metrics / :tracing / :slow-query option by name, and
  :metrics / :tracing without their library on the classpath."
  [opts]
  (doseq [[k known] observability-keys
          :let [v (get opts k)]
          :when (some? v)]
    (when-not (map? v)
      (throw (observability-error k (str "must be a map of " (str/join ", " (map pr-str (sort (keys known))))
                                         ", got " (if (or (string? v) (keyword? v) (number? v) (boolean? v))
                                                    (pr-str v) (.getName (class v)))))))
    (when-let [unknown (seq (remove known (keys v)))]
      (throw (observability-error k (str "has unknown key(s) " (str/join ", " (map pr-str unknown))
                                         "; known: " (str/join "; " (for [[kk why] (sort known)] (str kk " " why)))))))
    (doseq [flag [:query-parameters :parameters]]
      (when (and (contains? v flag) (not (boolean? (get v flag))))
        (throw (observability-error k (str flag " must be true or false, got " (pr-str (get v flag)))))))
    (when (and (contains? v :name) (not (and (string? (:name v)) (seq (:name v)))))
      (throw (observability-error k (str ":name must be a non-empty string, got " (pr-str (:name v))))))
    (when (= k :slow-query)
      (let [ms (:threshold-ms v)]
        (when-not (and (integer? ms) (pos? ms))
          (throw (observability-error k (str ":threshold-ms must be a positive number of milliseconds, got "
                                             (pr-str ms)))))))
    (when-let [[cname g a ver] (observability-libraries k)]
      (when (class-present? cname)
        ;; the object given must be the library's (a typo'd registry is not
        ;; a ClassCastException on the first statement)
        (doseq [[vk vclass] {:registry "io.micrometer.core.instrument.MeterRegistry"
                             :open-telemetry "io.opentelemetry.api.OpenTelemetry"}
                :let [x (get v vk)]
                :when (and (some? x) (contains? known vk))]
          (when-not (instance? (find-class vclass) x)
            (throw (observability-error k (str vk " must be a " vclass ", got a " (.getName (class x))))))))
      (when-not (class-present? cname)
        (throw (err/error :vireo/interface-error
                          (str k " needs " g ":" a ":" ver " on the classpath, which lacks it (" cname
                               "). Add to deps.edn: " g "/" a " {:mvn/version \"" ver "\"}"
                               "; or to a Maven pom: <dependency><groupId>" g "</groupId><artifactId>" a
                               "</artifactId><version>" ver "</version></dependency>")
                          {:option k :missing [(str g ":" a ":" ver)]}))))))

(defn- check-init-sql
  "The :init-sql option: a SQL string or a non-empty vector of them, run on
  every new pooled connection. Returns the option as a vector (or nil)."
  [kind v]
  (when (some? v)
    (let [stmts (if (string? v) [v] v)]
      (when-not (and (sequential? stmts) (seq stmts) (every? #(and (string? %) (not (str/blank? %))) stmts))
        (throw (err/error :vireo/interface-error
                          (str ":init-sql must be a SQL string or a non-empty vector of them, got " (pr-str v))
                          {:backend kind :option :init-sql})))
      (vec stmts))))

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
                             (when (some #{:statement-timeout} unknown)
                               " (SQLite has no server to enforce a statement timeout)")
                             "; known: " (str/join ", " (map pr-str (sort known))))
                        {:backend kind :options (vec unknown)})))
    (check-returning kind dialect (:returning opts))
    ;; the option naming the database (:database, SQLite's :path) is a string
    (let [n (:name-option (traits b))
          v (get opts n)]
      (when-not (or (nil? v) (string? v))
        (throw (err/error :vireo/interface-error
                          (str n " must be a string, got " (pr-str v)
                               (when (map? v) " (options go in the second argument)"))
                          {:backend kind :option n}))))
    (doseq [k [:statement-timeout :transaction-timeout]]
      (when-let [t (get opts k)]
        (when-not (and (integer? t) (pos? t))
          (throw (err/error :vireo/interface-error
                            (str k " must be a positive number of milliseconds, got " (pr-str t))
                            {:backend kind :option k})))))
    (proto/-check-options b opts)))

(declare checked-tls checked-hosts)

(defn- check-password-fn
  "The :password-fn option: a fn of no arguments or a
  java.util.function.Supplier, giving the password (or a future of it) for
  each new connection; not together with :password."
  [kind opts]
  (when-let [f (:password-fn opts)]
    (when-not (or (fn? f) (var? f) (instance? java.util.function.Supplier f))
      (throw (err/error :vireo/interface-error
                        (str ":password-fn must be a function of no arguments or a java.util.function.Supplier, got "
                             (.getName (class f)))
                        {:backend kind :option :password-fn})))
    (when (some? (:password opts))
      (throw (err/error :vireo/interface-error
                        "give either :password or :password-fn (called for each new connection), not both"
                        {:backend kind :option :password-fn})))))

(declare checked-routing)

(defn merged-options
  "The backend's defaults with the checked user options over them (:url
  dropped, :returning a set or absent, :replicas option maps with their
  secrets hidden)."
  [b opts]
  (check-options b opts)
  (check-password-fn (:kind (traits b)) opts)
  (check-observability opts)
  (cond-> (checked-routing b (checked-hosts (:kind (traits b)) opts
                                            (merge (:defaults (traits b))
                                                   (hide-secrets (checked-tls (traits b) (dissoc opts :url))))))
    ;; :returning nil means "detect", like no option at all
    (nil? (:returning opts)) (dissoc :returning)
    (some? (:returning opts)) (update :returning set)
    (contains? opts :init-sql) (assoc :init-sql (check-init-sql (:kind (traits b)) (:init-sql opts)))))

;; ---------------------------------------------------------------- read replicas
(def routing-option-keys
  "The options of a database with read replicas (network backends)."
  #{:replicas :replica-strategy :read-your-writes-ms :replica-retry-ms})

(def replica-strategies "The :replica-strategy values." #{:round-robin :least-busy})

(def ^:private replica-own-keys
  "Options a replica never takes from its primary: the routing options
  themselves, the primary's several hosts, and pipelining (a replica's reads
  go through its pool)."
  (into #{:url :hosts :target-server-type :pipelining :pipelining-max-size} routing-option-keys))

(declare parse-url redact-url)

(defn- replica-spec
  "One :replicas entry as an options map: a URL of the primary's backend, or
  a map of options (secrets hidden either way)."
  [kind x]
  (let [bad (fn [why] (throw (err/error :vireo/interface-error (str ":replicas entries " why) {:backend kind :option :replicas})))
        m (cond
            (string? x) (let [[k url-opts] (parse-url x)]
                          (when-not (= k kind)
                            (bad (str "must be " (name kind) " servers like their primary, got " (pr-str (redact-url x)))))
                          url-opts)
            (map? x) x
            :else (bad (str "are URLs or option maps, got " (.getName (class x)))))]
    (when-let [ks (seq (filter routing-option-keys (keys m)))]
      (bad (str "cannot have routing options of their own: " (str/join ", " (map pr-str ks)))))
    (hide-secrets m)))

(defn- checked-routing
  "`opts` with :replicas made option maps and the routing options checked;
  routing options without :replicas are refused (they would do nothing)."
  [b opts]
  (let [kind (:kind (traits b))
        reps (:replicas opts)
        refuse (fn [k msg] (throw (err/error :vireo/interface-error msg {:backend kind :option k})))
        ms? (fn [k] (let [v (get opts k)]
                      (when (and (some? v) (not (and (integer? v) (pos? v))))
                        (refuse k (str k " must be a positive number of milliseconds, got " (pr-str v))))))]
    (if (nil? reps)
      (do (when-let [ks (seq (filter #(contains? opts %) (disj routing-option-keys :replicas)))]
            (refuse (first ks) (str (str/join ", " (map pr-str ks)) (if (next ks) " need" " needs") " :replicas (the read replicas to route to)")))
          opts)
      (do
        (when-not (and (sequential? reps) (seq reps))
          (refuse :replicas (str ":replicas must be a non-empty vector of URLs or option maps, got " (pr-str reps))))
        (when-let [s (:replica-strategy opts)]
          (when-not (contains? replica-strategies (if (string? s) (keyword s) s))
            (refuse :replica-strategy (str "unknown :replica-strategy " (pr-str s) "; known: "
                                           (str/join ", " (map pr-str (sort replica-strategies)))))))
        (ms? :read-your-writes-ms)
        (ms? :replica-retry-ms)
        (cond-> (assoc opts :replicas (mapv #(replica-spec kind %) reps))
          (string? (:replica-strategy opts)) (update :replica-strategy keyword))))))

(defn replica-options
  "The options of each replica of a database with options `opts`: the
  primary's (credentials, TLS, pool sizes, host and port…) with the
  replica's own over them; never the primary's :hosts or routing options
  (and not its :host/:port when the replica has :hosts), nor its
  observability options (:metrics, :tracing, :slow-query)."
  [opts]
  (let [;; the primary observes its replicas (its reads go to their pools
        ;; without passing their own executor chains)
        base (apply dissoc opts :metrics :tracing :slow-query replica-own-keys)]
    (mapv #(merge (if (contains? % :hosts) (dissoc base :host :port) base) %) (:replicas opts))))

;; ---------------------------------------------------------------- TLS
(def tls-option-keys
  "The TLS options of the network backends."
  #{:ssl-mode :ssl-root-cert :ssl-cert :ssl-key :ssl-trust-store :ssl-trust-store-password})

(def ^:private ssl-mode-aliases
  "MySQL's spellings of the modes (and libpq's), to Vireo's."
  {"disabled" :disable "preferred" :prefer "required" :require "verify-identity" :verify-full})

(defn- ssl-mode-keyword [v]
  (when (or (keyword? v) (string? v))
    (let [s (-> (name v) str/lower-case (str/replace "_" "-"))]
      (or (ssl-mode-aliases s) (keyword s)))))

(defn- file-path
  "The path of TLS file option `k` (a string, File or Path), checked to be a
  readable file."
  ^String [kind k v]
  (let [path (cond (string? v) v
                   (instance? java.io.File v) (str v)
                   (instance? java.nio.file.Path v) (str v)
                   :else (throw (err/error :vireo/interface-error
                                           (str (pr-str k) " must be a file path (a string, File or Path), got "
                                                (pr-str (type v)))
                                           {:backend kind :option k})))
        f (java.io.File. ^String path)]
    (when-not (and (.isFile f) (.canRead f))
      (throw (err/error :vireo/interface-error
                        (str (pr-str k) " " path (if (.exists f) " cannot be read" " does not exist"))
                        {:backend kind :option k :path path})))
    path))

(defn checked-tls
  "The TLS options of `opts` checked, the mode made a keyword among the
  backend's :ssl-modes (MySQL's names disabled/preferred/required/
  verify_identity accepted too), file options made path strings. Throws a
  :vireo/interface-error naming the problem: an unknown mode, a missing or
  unreadable file, a certificate without its key, both a CA file and a trust
  store, a password without a store, TLS files with TLS off."
  [{:keys [kind ssl-modes]} opts]
  (if-not (some #(contains? opts %) tls-option-keys)
    opts
    (let [raw (:ssl-mode opts)
          mode (if (some? raw) (ssl-mode-keyword raw) :disable)
          modes-text (str/join ", " (map pr-str (sort ssl-modes)))]
      (when-not (contains? ssl-modes mode)
        (throw (err/error :vireo/interface-error
                          (str "unknown :ssl-mode " (pr-str raw) " for " (name kind) "; known: " modes-text)
                          {:backend kind :option :ssl-mode})))
      (let [files (into {} (for [k [:ssl-root-cert :ssl-cert :ssl-key :ssl-trust-store]
                                 :let [v (get opts k)] :when (some? v)]
                             [k (file-path kind k v)]))
            refuse (fn [msg] (throw (err/error :vireo/interface-error msg {:backend kind :option :ssl-mode})))]
        (when (not= (contains? files :ssl-cert) (contains? files :ssl-key))
          (refuse "a client certificate needs both :ssl-cert (its PEM certificate) and :ssl-key (its PEM private key)"))
        (when (and (:ssl-root-cert files) (:ssl-trust-store files))
          (refuse "give either :ssl-root-cert (a PEM CA file) or :ssl-trust-store (a PKCS#12/JKS store), not both"))
        (when (and (some? (:ssl-trust-store-password opts)) (not (:ssl-trust-store files)))
          (refuse ":ssl-trust-store-password is given without :ssl-trust-store"))
        (when-let [ts (:ssl-trust-store files)]
          (when-not (re-find #"(?i)\.(p12|pfx|jks)$" ts)
            (refuse (str ":ssl-trust-store " ts " must be a PKCS#12 (.p12, .pfx) or JKS (.jks) file"))))
        (when (and (= mode :disable) (seq files))
          (refuse (str (str/join ", " (map pr-str (sort (keys files))))
                       " given but :ssl-mode is :disable" (when (nil? raw) " (the default)")
                       ": set :ssl-mode (" modes-text ")")))
        (merge opts {:ssl-mode mode} files)))))

(defonce ^:private default-trust
  (delay (doto (TrustManagerFactory/getInstance (TrustManagerFactory/getDefaultAlgorithm))
           (.init ^KeyStore (identity nil)))))

(defn client-ssl-options
  "The Vert.x ClientSSLOptions of checked TLS options, or nil when TLS is off.
  The CA is :ssl-root-cert or :ssl-trust-store; in the verify modes without
  either, the JVM's default trust store (javax.net.ssl.trustStore, else the
  JDK's cacerts); in the other modes without either the server's certificate
  is not verified (libpq's sslmode=require), with a warning logged by
  `warn-fn`. The host name is verified only in :verify-full."
  ^ClientSSLOptions [opts warn-fn]
  (let [mode (:ssl-mode opts)]
    (when (and mode (not= :disable mode))
      (let [o (ClientSSLOptions.)
            verify? (contains? #{:verify-ca :verify-full} mode)]
        (cond
          (:ssl-root-cert opts)
          (.setTrustOptions o (doto (PemTrustOptions.) (.addCertPath ^String (:ssl-root-cert opts))))

          (:ssl-trust-store opts)
          (let [^String path (:ssl-trust-store opts)
                pw (reveal (:ssl-trust-store-password opts))]
            (let [^TrustOptions store (if (re-find #"(?i)\.jks$" path)
                                        (cond-> (doto (JksOptions.) (.setPath path)) pw (.setPassword pw))
                                        (cond-> (doto (PfxOptions.) (.setPath path)) pw (.setPassword pw)))]
              (.setTrustOptions o store)))

          verify? (.setTrustOptions o (TrustOptions/wrap ^TrustManagerFactory @default-trust))

          :else
          (do (.setTrustAll o true)
              (warn-fn (str "TLS (:ssl-mode " mode ") without a CA (:ssl-root-cert or :ssl-trust-store):"
                            " the server's certificate is not verified; give its CA and :ssl-mode :verify-full"))))
        (when-let [^String cert (:ssl-cert opts)]
          (.setKeyCertOptions o (doto (PemKeyCertOptions.)
                                  (.addCertPath cert)
                                  (.addKeyPath ^String (:ssl-key opts)))))
        (.setHostnameVerificationAlgorithm o (if (= mode :verify-full) "HTTPS" ""))
        o))))

;; ---------------------------------------------------------------- URLs
(defn decode-url-part [s] (when s (URLDecoder/decode ^String s StandardCharsets/UTF_8)))

(defn redact-url
  "The URL with the password of its user-info replaced by ***, for messages."
  [url]
  (str/replace (str url) #"^([^:/?#]+://[^:@/?#]*:)[^@/?#]*@" "$1***@"))

(defn url-error
  "A :vireo/interface-error about database URL `url` (printed redacted)."
  [url msg data]
  (err/error :vireo/interface-error (str msg " in database URL " (pr-str (redact-url url)))
             (assoc data :url (redact-url url))))

(defn url-value
  "Parses the text of URL parameter `param` as `kind` (:string :int :bool
  :ssl-mode), or throws naming the parameter."
  [url param kind ^String s]
  (case kind
    :string s
    :int (or (parse-long s)
             (throw (url-error url (str "URL parameter " param "=" s " is not an integer") {:parameter param})))
    :bool (case (str/lower-case s)
            ("true" "1" "yes" "on") true
            ("false" "0" "no" "off") false
            (throw (url-error url (str "URL parameter " param "=" s " is not a boolean (true/false)")
                              {:parameter param})))
    :ssl-mode s))

(defn query-options
  "The options of a URL's query string `query` (\"a=1&b=2\", not decoded),
  by the backend's traits: :url-params maps a parameter name (matched
  without case) to [option-key kind]; :url-params-refused maps a name to the
  reason it is refused. Any other parameter is refused, naming the ones
  known: no URL parameter is ever silently ignored."
  [url query {:keys [label url-params url-params-refused]}]
  (reduce
   (fn [acc part]
     (if (str/blank? part)
       acc
       (let [[k v] (str/split part #"=" 2)
             param (decode-url-part k)
             lc (str/lower-case param)
             v (decode-url-part (or v ""))]
         (if-let [[opt kind] (get url-params lc)]
           (assoc acc opt (url-value url param kind v))
           (if-let [why (get url-params-refused lc)]
             (throw (url-error url (str "URL parameter " param " is not supported by the " label " backend: " why)
                               {:parameter param}))
             (throw (url-error url (str "unknown URL parameter " param " for " label
                                        (if (seq url-params)
                                          (str "; known: " (str/join ", " (sort (keys url-params))))
                                          " (it takes none)"))
                               {:parameter param})))))))
   {}
   (str/split (or query "") #"&")))

(defn server-url-options
  "The options of a server URL's part after the scheme:
  //user:pass@host:port/db?param=value&…, host a name, an IPv4 address or an
  [IPv6] literal. Query parameters are read by `query-options` with the
  backend's `traits` and win over the URL's other parts (like libpq's
  host=… parameter)."
  [rest url traits]
  (let [[_ userinfo hostport db query]
        (or (re-matches #"//(?:([^@/?#]*)@)?([^/?#]*)(?:/([^?#]*))?(?:\?([^#]*))?" rest)
            (throw (url-error url "cannot parse" {})))
        several? (str/includes? hostport ",")
        _ (when (and several? (not (:multi-host traits)))
            (throw (url-error url (str "several hosts (" hostport ") are not supported by the "
                                       (:label traits) " backend yet: give one host")
                              {:hosts hostport})))
        [_ host port] (when-not several?
                        (or (re-matches #"\[([0-9A-Fa-f:.%]+)\](?::(\d*))?" hostport)
                            (re-matches #"([^:\[\]]*)(?::(\d*))?" hostport)
                            (throw (url-error url (str "cannot parse the host and port " (pr-str hostport)) {}))))
        [user password] (when userinfo (str/split userinfo #":" 2))]
    (merge
     (cond-> {}
       several? (assoc :hosts (mapv decode-url-part (str/split hostport #",")))
       (seq host) (assoc :host (decode-url-part host))
       (seq port) (assoc :port (parse-long port))
       (seq db) (assoc :database (decode-url-part db))
       (seq user) (assoc :user (decode-url-part user))
       password (assoc :password (decode-url-part password)))
     (query-options url query traits))))

(defn parse-url
  "Given a database URL, returns [kind options]:
  postgresql://user:pass@host:port/db?…, postgres://…, mysql://…, mariadb://…,
  sqlite:path/to/file.db, sqlite://relative.db, sqlite:///abs/path.db,
  sqlite::memory:. Loads (and needs the driver of) the URL's backend."
  [^String url]
  (let [[_ scheme rest] (re-matches #"(?i)([a-z][a-z0-9+]*):(.*)" (or url ""))
        scheme (some-> scheme str/lower-case)
        kind (some (fn [[k {:keys [schemes]}]] (when (some #{scheme} schemes) k)) @registry)]
    (when-not kind
      (throw (err/error :vireo/interface-error
                        (str "unsupported database URL " (pr-str (redact-url url))
                             "; use postgresql://…, mysql://…, mariadb://… or sqlite:path")
                        {:url (redact-url url)})))
    [kind (proto/-parse-url (backend kind) rest url)]))

;; ---------------------------------------------------------------- several hosts
(def target-server-types
  "The :target-server-type values (libpq's target_session_attrs)."
  #{:any :primary :standby :prefer-standby})

(def ^:private target-aliases
  {"read-write" :primary "read-only" :standby "primary" :primary "standby" :standby
   "prefer-standby" :prefer-standby "any" :any})

(defn- host-port
  "[host port] of one :hosts entry: \"host\", \"host:port\", \"[v6]:port\" or
  {:host … :port …}."
  [kind default-port x]
  (let [bad #(throw (err/error :vireo/interface-error
                               (str ":hosts entries are \"host\", \"host:port\" or {:host … :port …}, got " (pr-str x))
                               {:backend kind :option :hosts}))]
    (cond
      (map? x) (if (seq (str (:host x))) [(str (:host x)) (long (or (:port x) default-port))] (bad))
      (string? x) (if-let [[_ h p] (or (re-matches #"\[([0-9A-Fa-f:.%]+)\](?::(\d+))?" x)
                                       (re-matches #"([^:\[\]]+)(?::(\d+))?" x))]
                    [h (if p (parse-long p) (long default-port))]
                    (bad))
      :else (bad))))

(defn- checked-hosts
  "`opts` (defaults merged) with :hosts made [[host port] …] (and :host/:port
  the first of them, for messages) and :target-server-type canonical.
  `user-opts` are the options as given, to refuse :hosts beside :host."
  [kind user-opts opts]
  (let [hosts (:hosts opts)
        t (:target-server-type opts)
        t (when (some? t)
            (or (when (or (string? t) (keyword? t)) (target-aliases (str/lower-case (name t))))
                (throw (err/error :vireo/interface-error
                                  (str "unknown :target-server-type " (pr-str t) "; known: "
                                       (str/join ", " (map pr-str (sort target-server-types))))
                                  {:backend kind :option :target-server-type}))))]
    (when (and (some? hosts) (or (not (sequential? hosts)) (empty? hosts)))
      (throw (err/error :vireo/interface-error ":hosts must be a non-empty vector" {:backend kind :option :hosts})))
    (let [hs (some->> hosts (mapv #(host-port kind (:port opts) %)))
          [h1 p1] (first hs)]
      ;; :host/:port beside :hosts: only as the first of them (what a database
      ;; made with :hosts carries, re-checked by init!)
      (when (and hs (or (and (contains? user-opts :host) (not= (:host user-opts) h1))
                        (and (contains? user-opts :port) (not= (some-> (:port user-opts) long) p1))))
        (throw (err/error :vireo/interface-error "give :hosts, or :host and :port, not both"
                          {:backend kind :option :hosts})))
      (cond-> opts
        hs (assoc :hosts hs :host (ffirst hs) :port (second (first hs)))
        t (assoc :target-server-type t)))))

(defn host-chooser
  "nil with one host and any server type; else (fn [options]) -> future of a
  copy (by `copy`) of the SqlConnectOptions pointing at the first of :hosts,
  in order, that accepts a connection and is of :target-server-type, as
  (probe options) tells: a future of true for a standby (hot standby /
  read-only), false for a primary. :prefer-standby takes the first standby,
  else the first primary. Called for every new connection, so a pool follows
  a failover: connections to a server that went away are replaced by ones to
  the server that now qualifies. Fails with a :vireo/connection-error
  listing what each host answered."
  [kind opts copy probe]
  (let [hosts (or (:hosts opts) [[(:host opts) (:port opts)]])
        target (:target-server-type opts :any)
        ;; an answer is :primary, :standby, or why the host did not answer
        ok? (fn [answer] (case target
                           :any (keyword? answer)
                           :primary (= answer :primary)
                           (:standby :prefer-standby) (= answer :standby)))
        label (fn [[h port]] (str h ":" port))]
    (when (or (next hosts) (not= :any target))
      (fn [^SqlConnectOptions base]
        (let [at (fn [[h port]] (doto ^SqlConnectOptions (copy base) (.setHost ^String h) (.setPort (int port))))]
          (letfn [(ask [hs answers]
                    (if-let [hp (first hs)]
                      (-> (p/do (probe (at hp)))
                          (p/map (fn [standby?] (if standby? :standby :primary)))
                          (p/catch (fn [e] (or (ex-message (p/unwrap e)) (str e))))
                          (p/then (fn [answer]
                                    (if (ok? answer) (at hp) (ask (rest hs) (conj answers [hp answer]))))))
                      (if-let [primary (when (= target :prefer-standby)
                                         (some (fn [[hp answer]] (when (= answer :primary) hp)) answers))]
                        (at primary)
                        (p/rejected
                         (err/error :vireo/connection-error
                                    (str "could not connect to " (if (= target :any) "any" (str "a " (name target)))
                                         " server: "
                                         (str/join "; " (for [[hp answer] answers]
                                                          (str (label hp) " "
                                                               (case answer
                                                                 :primary "is a primary"
                                                                 :standby "is a standby"
                                                                 (str "did not answer (" answer ")"))))))
                                    {:backend kind :hosts (mapv label hosts) :target-server-type target})))))]
            (ask hosts [])))))))

;; ---------------------------------------------------------------- the environment
(def url-env-var "The environment variable naming a database URL." "VIREO_DATABASE_URL")

(defn env-database
  "Given the environment (a map of variable -> value), returns [:url url] for
  VIREO_DATABASE_URL, else [kind options] of the first backend whose
  environment variables (the registry's :env-vars: libpq's PGHOST,
  PGDATABASE, … for PostgreSQL) are set, else throws naming the variables
  looked at. Empty values count as unset."
  [env]
  (let [value (fn [k] (let [v (get env k)] (when-not (str/blank? v) v)))]
    (if-let [url (value url-env-var)]
      [:url url]
      (or (some (fn [[kind {:keys [env-vars]}]]
                  (when (some #(value (first %)) (take 2 env-vars))
                    [kind (into {}
                                (for [[var k type] env-vars
                                      :let [v (value var)] :when v]
                                  [k (case type
                                       :int (or (parse-long v)
                                                (throw (err/error :vireo/interface-error
                                                                  (str "the environment variable " var "=" v
                                                                       " is not an integer")
                                                                  {:variable var})))
                                       v)]))]))
                (sort-by key @registry))
          (throw (err/error :vireo/interface-error
                            (str "the environment names no database: set " url-env-var
                                 " (a database URL)"
                                 (apply str (for [[_ {:keys [env-vars label]}] (sort-by key @registry)
                                                  :when env-vars]
                                              (str ", or " label "'s " (str/join "/" (map first (take 2 env-vars)))))))
                            {:variables (into [url-env-var]
                                              (for [[_ {:keys [env-vars]}] @registry [var] env-vars] var))}))))))

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
    ;; no acquisition timeout inside Vert.x: Vireo times the wait for a
    ;; connection itself (vireo.impl.db/lease-k), since Vert.x 5.0.7's
    ;; getConnection timeout races with a connection handed over at the same
    ;; moment and can leak that connection (vertx-sql-client#1567)
    (.setConnectionTimeout po (int 0))
    (when-let [v (:max-lifetime opts)]
      (.setMaxLifetime po (int v)) (.setMaxLifetimeUnit po TimeUnit/MILLISECONDS))
    (when-let [v (:event-loop-size opts)] (.setEventLoopSize po (int v)))
    (when-let [v (:pool-cleaner-period opts)] (.setPoolCleanerPeriod po (int v)))
    po))

(defn connect-options!
  "Sets what every network backend shares on `o` (host, port, database,
  user, password, the prepared-statement cache of `cache-size`, startup
  properties, the TLS options of `ssl` (nil: none)); returns o."
  [^SqlConnectOptions o opts cache-size properties ^ClientSSLOptions ssl]
  (.setHost o (str (:host opts)))
  (.setPort o (int (:port opts)))
  (when-let [v (:database opts)] (.setDatabase o (str v)))
  (.setUser o (str (:user opts)))
  (.setPassword o (or (reveal (:password opts)) ""))
  (let [n (long cache-size)]
    (.setCachePreparedStatements o (pos? n))
    (when (pos? n) (.setPreparedStatementCacheMaxSize o (int n))))
  (doseq [[k v] properties] (.addProperty o (name k) (str v)))
  (when ssl (.setSslOptions o ssl))
  o)

(defn password-of
  "Future of the password for a new connection: :password-fn's answer (a
  string, or a future or CompletionStage of one) when given, else :password.
  A failing or non-string answer fails with a :vireo/connection-error that
  names :password-fn."
  [opts]
  (if-let [f (:password-fn opts)]
    (-> (p/do (if (instance? java.util.function.Supplier f) (.get ^java.util.function.Supplier f) (f)))
        (p/map (fn [pw]
                 (if (string? pw)
                   pw
                   (throw (err/error :vireo/connection-error
                                     (str "could not connect to the database server: its :password-fn gave "
                                          (if (nil? pw) "nil" (.getName (class pw))) ", not a string")
                                     {:option :password-fn})))))
        (p/catch (fn [e]
                   (p/rejected
                    (if (err/error-type? e :vireo/connection-error)
                      e
                      (err/error :vireo/connection-error
                                 (str "could not connect to the database server: its :password-fn failed: "
                                      (ex-message e))
                                 {:option :password-fn} e))))))
    (p/resolved (or (reveal (:password opts)) ""))))

(defn init-failure
  "The failure of an :init-sql statement on a new connection, recorded in
  `ref` (an AtomicReference) within the last few seconds, or nil: what a
  connection error of that pool is explained by."
  [^java.util.concurrent.atomic.AtomicReference ref]
  (when-let [[at e] (some-> ref .get)]
    (when (< (- (System/nanoTime) (long at)) 10000000000) e)))

(defn- init-handler
  "The connect handler running the :init-sql statements on each new pooled
  connection, in order, before the pool hands it out. When one fails the
  connection is closed (the pool does not get it; the acquisition fails)
  and the failure is recorded in `failure` (see `init-failure`) and logged."
  [stmts ^java.util.concurrent.atomic.AtomicReference failure describe on-connect]
  (reify io.vertx.core.Handler
    (handle [_ conn]
      (let [^io.vertx.sqlclient.SqlConnection conn conn
            n (count stmts)]
        (letfn [(run [i]
                  (cond
                    (and (= i n) on-connect)
                    ;; the backend's own step (MySQL: learn the connection id)
                    (.onComplete ^io.vertx.core.Future (on-connect conn)
                                 (reify io.vertx.core.Completable
                                   (complete [_ _ e]
                                     (if (nil? e)
                                       (.close conn)
                                       (fail "the backend's own set-up step (after any :init-sql statements)"
                                             {:setup :backend} e)))))
                    (= i n) (.close conn)          ; initialised: the pool may hand it out
                    :else
                    (let [sql (nth stmts i)]
                      (.onComplete (.execute (.query conn ^String sql))
                                   (reify io.vertx.core.Completable
                                     (complete [_ _ e]
                                       (if (nil? e)
                                         (run (inc i))
                                         (fail (str "its :init-sql statement " (pr-str (err/bounded-sql sql)))
                                               {:init-sql (err/bounded-sql sql)} e))))))))
                (fail [what data ^Throwable e]
                  (let [err (err/error :vireo/connection-error
                                       (str "a new connection of " describe " could not be prepared: "
                                            what " failed: " (.getMessage e))
                                       data e)]
                    (when failure (.set failure [(System/nanoTime) err]))
                    (log/log! "vireo.pool" :error nil (ex-message err))
                    ;; close the connection itself: released, it would join the pool unprepared
                    (try (.close (.unwrap (.unwrap ^io.vertx.sqlclient.internal.SqlConnectionInternal conn))
                                 nil (reify io.vertx.core.Completable (complete [_ _ _] nil)))
                         (catch Throwable _ nil))))]
          (run 0))))))

(defn build-client
  "The pool (or pipelining client) `builder` — PgBuilder/pool, MySQLBuilder/client
  … — gives with these PoolOptions and SqlConnectOptions on `vertx`. With
  :password-fn in `opts`, or a `chooser` (see `host-chooser`), every new
  connection is made from a copy of `connect-opts` (by `copy`) carrying the
  password the function gives, pointed at the host the chooser picks."
  [^io.vertx.sqlclient.ClientBuilder builder pool-opts ^SqlConnectOptions connect-opts vertx opts copy chooser]
  (let [b (.with builder ^PoolOptions pool-opts)
        b (if (or (seq (:init-sql opts)) (::on-connect opts))
            (.withConnectHandler b (init-handler (vec (:init-sql opts)) (::init-failure opts)
                                                 (str (:user opts) "@" (:host opts) ":" (:port opts) "/" (:database opts))
                                                 (::on-connect opts)))
            b)
        ^java.util.concurrent.atomic.AtomicLong connects (::connects opts)
        b (if (or (:password-fn opts) chooser connects)
            (.connectingTo b ^java.util.function.Supplier
                           (reify java.util.function.Supplier
                             (get [_]
                               ;; one new connection (live pool state: vireo.impl.db/pool-state)
                               (when connects (.incrementAndGet connects))
                               (if (or (:password-fn opts) chooser)
                                 (p/->vertx
                                  (p/then (password-of opts)
                                          (fn [^String pw]
                                            (let [o (doto ^SqlConnectOptions (copy connect-opts) (.setPassword pw))]
                                              (if chooser (chooser o) o)))))
                                 (io.vertx.core.Future/succeededFuture connect-opts)))))
            (.connectingTo b connect-opts))]
    (-> b
        (.using ^io.vertx.core.Vertx vertx)
        (.build))))

(def default-connection-timeout-ms
  "How long an operation waits for a pooled connection without :connection-timeout."
  30000)

(defn pipelining-pool-options
  "The PoolOptions of a pipelining client: :pipelining-max-size connections
  (default :max-size)."
  ^PoolOptions [opts]
  (let [po (pool-options (assoc opts :max-size (or (:pipelining-max-size opts) (:max-size opts))))]
    ;; the pipelined client's queries wait for a connection inside Vert.x
    ;; (its execute path, which gives back a connection that comes too late)
    (.setConnectionTimeout po (int (or (:connection-timeout opts) default-connection-timeout-ms)))
    (.setConnectionTimeoutUnit po TimeUnit/MILLISECONDS)
    po))

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
  (str (name kind) "://" (:user opts) "@"
       (if-let [hs (:hosts opts)] (str/join "," (map (fn [[h port]] (str h ":" port)) hs)) (str (:host opts) ":" (:port opts)))
       "/" (or (:database opts) "<deferred>")))

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

(defn value-on-connection
  "Future of the first column of the first row of the simple query `sql` on
  the connection `connecting` (a Vert.x future of a SqlConnection) gives,
  closed after."
  [^io.vertx.core.Future connecting ^String sql]
  (p/then (p/from-vertx connecting)
          (fn [^SqlConnection c]
            (-> (p/from-vertx (.execute (.query c sql)))
                (p/map (fn [^RowSet rs] (.getValue ^Row (.next (.iterator rs)) (int 0))))
                (p/finally (fn [_ _] (.close c)))))))

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
