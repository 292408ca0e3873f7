(ns build
  "Builds Vireo's jar: `bin/clojure -T:build jar`, `install` (into ~/.m2), `clean`;
  `prep` compiles the Java classes under src/ into target/prep (deps.edn's
  :deps/prep-lib: what `clojure -X:deps prep` runs for a git dependency).

  The jar holds the compiled Java API (java-api/), the Java sources under
  src/ compiled (vireo.promise.ConveyingFuture, vireo.impl.InstanceMeta), AOT classes of every
  namespace under src/vireo (so neither a Java nor a Clojure user waits for
  Clojure to compile Vireo on first use), and the Clojure sources beside
  them (Clojure loads a namespace's class when it is newer than its source;
  REPL users still see the source). AOT classes of other libraries'
  namespaces (clojure.tools.logging…) stay out: only vireo/ and io/vireo/.
  The Java API compiles first (javac, warnings and missing Javadoc are
  errors), so it reaches the gen-class bridge by name only.

  Beside it, as Maven Central asks: a sources jar (java-api/, src/,
  resources/) and a javadoc jar (the Java API's Javadoc, built with doclint
  and no warnings allowed); `install` puts both beside the jar in ~/.m2 with
  their classifiers."
  (:require [clojure.edn]
            [clojure.java.basis :as java-basis]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.tools.build.api :as b]
            [clojure.tools.namespace.find :as find]
            [clojure.tools.namespace.parse :as parse]))

(def lib 'io.vireo/vireo)
(def version (-> (slurp "resources/vireo/version.properties")
                 (->> (re-find #"version=(\S+)"))
                 second))
(def class-dir "target/classes")
(def jar-file (format "target/%s-%s.jar" (name lib) version))
(def sources-jar-file (format "target/%s-%s-sources.jar" (name lib) version))
(def javadoc-jar-file (format "target/%s-%s-javadoc.jar" (name lib) version))
(def javadoc-dir "target/javadoc")

;; Maven Central requires <url>, <scm>, <developers>, <description> and a licence.
;; The project has no public home yet, and an invented address in a pom would
;; mislead: a release build sets VIREO_PROJECT_URL (e.g. the repository's
;; https address) and gets <url>/<scm>; without it they are left out.
(def project-url (not-empty (System/getenv "VIREO_PROJECT_URL")))

;; The repositories the launcher resolved this build tool from: Central and
;; Clojars with the official CLI; where bin/clojure takes Clojars out (a
;; machine that cannot reach it, see docs/building.md), the project basis
;; below must not ask Clojars either. tools.build's create-basis reads only
;; tools.deps' root deps.edn (Clojars in it), so they are passed as :extra.
(def launcher-repos (:mvn/repos (java-basis/current-basis)))

;; The project basis (not the build tool's): ./deps.edn, with the launcher's repositories.
(def basis (delay (b/create-basis {:project "deps.edn" :user nil
                                   :extra {:mvn/repos launcher-repos}})))

;; What AOT compiles against: the project basis plus every backend driver, so
;; vireo.impl.backend.postgres|mysql|sqlite (which import their driver's
;; classes) compile. Only the pom's dependencies come from `basis`: the
;; drivers stay <optional> there (add-optional-deps!). A backend
;; namespace's classes still load only when a database of that backend is
;; created (vireo.impl.backend/backend), so the drivers stay optional at run time.
;; Micrometer and the OpenTelemetry API likewise (:metrics, :tracing): only
;; vireo.impl.observe.micrometer|otel import them, loaded for a database
;; given that option.
(def aot-basis (delay (b/create-basis {:project "deps.edn" :user nil :aliases [:drivers :metrics :tracing]
                                       :extra {:mvn/repos launcher-repos}})))

(defn- vireo-nses
  "Every namespace under src/vireo, as symbols, sorted."
  []
  (let [dir (io/file "src/vireo")]
    (when (.isDirectory dir)
      (->> (file-seq dir)
           (filter #(str/ends-with? (.getName ^java.io.File %) ".clj"))
           (map #(-> (.getPath ^java.io.File %)
                     (str/replace #"^src/" "")
                     (str/replace #"\.clj$" "")
                     (str/replace "/" ".")
                     (str/replace "_" "-")
                     symbol))
           sort vec))))

(defn clean [_]
  (b/delete {:path "target/classes"})
  (b/delete {:path jar-file})
  (b/delete {:path "target/sources"})
  (b/delete {:path sources-jar-file})
  (b/delete {:path javadoc-dir})
  (b/delete {:path javadoc-jar-file}))

;; What the Java API compiles against: the project basis plus JUnit's API,
;; which io.vireo.junit (the JUnit 5 extension) implements. It stays an
;; <optional> dependency of the pom: only a user of that extension needs it,
;; and every JUnit 5 project has it.
(def javac-basis (delay (b/create-basis {:project "deps.edn" :user nil :aliases [:junit]
                                         :extra {:mvn/repos launcher-repos}})))

(def prep-dir
  "Where `prep` puts the compiled Java classes of src/: on deps.edn's :paths."
  "target/prep")

(defn prep
  "Compiles the Java sources under src/ (vireo.promise.ConveyingFuture,
  vireo.impl.InstanceMeta) into
  target/prep, the :ensure directory of deps.edn's :deps/prep-lib, so that a
  git or :local/root dependency on Vireo loads the class instead of compiling
  it at run time (which needs a JDK). Run by `clojure -X:deps prep` in the
  depending project (against the project basis: the class extends Clojure
  and uses Vert.x); the directory appears only complete."
  [_]
  (let [tmp (str prep-dir ".tmp")]
    (b/delete {:path tmp})
    (b/javac {:src-dirs ["src"]
              :class-dir tmp
              :basis @basis
              :javac-opts ["--release" "17" "-proc:none" "-Xlint:all,-classfile" "-Werror"]})
    (b/delete {:path prep-dir})
    (.renameTo (io/file tmp) (io/file prep-dir))
    (println "Prepared" prep-dir)))

(defn javac [_]
  (b/javac {:src-dirs ["java-api" "src"]
            :class-dir class-dir
            :basis @javac-basis
            ;; -classfile: Vert.x class files name codegen annotations that are not on the classpath
            ;; -proc:none: no annotation processing (JSpecify's annotations claim no processor)
            :javac-opts ["--release" "17" "-proc:none" "-Xlint:all,-classfile" "-Werror"
                         ;; every public type and method of the Java API has Javadoc
                         "-Xdoclint:all/protected" "-Xdoclint/package:io.vireo,io.vireo.exception,io.vireo.spi,io.vireo.junit"]}))

(defn javadoc
  "The Javadoc of the Java API (java-api/: io.vireo and its subpackages) into
  javadoc-dir, with the JDK's documentation tool in this JVM: doclint on,
  and any warning is an error, as for javac. Every group but `missing`:
  javac checks that one already for the public and protected API
  (-Xdoclint:all/protected), and javadoc, which takes no access qualifier
  there, would also ask comments of the private fields of exceptions'
  serialized form. Needs the compiled classes (javac) for the classes of
  src/ the API names."
  [_]
  (b/delete {:path javadoc-dir})
  (let [cp (str/join java.io.File/pathSeparator (cons class-dir (:classpath-roots @javac-basis)))
        tool (javax.tools.ToolProvider/getSystemDocumentationTool)
        args ["-d" javadoc-dir "-sourcepath" "java-api" "-subpackages" "io.vireo" "-classpath" cp
              "--release" "17" "-encoding" "UTF-8" "-docencoding" "UTF-8" "-charset" "UTF-8"
              "-Xdoclint:all,-missing" "-Werror" "-quiet" "-notimestamp"
              "-doctitle" (str "Vireo " version " Java API") "-windowtitle" (str "Vireo " version)]
        exit (.run ^javax.tools.Tool tool nil nil nil ^"[Ljava.lang.String;" (into-array String args))]
    (when-not (zero? exit)
      (throw (ex-info (str "javadoc failed (exit " exit "): see the messages above") {:exit exit})))))

(defn- stray-classes
  "The class files under `dir` outside vireo/ and io/vireo/."
  [dir]
  (let [root (.toPath (io/file dir))]
    (->> (file-seq (io/file dir))
         (filter #(str/ends-with? (.getName ^java.io.File %) ".class"))
         (map #(str/replace (str (.relativize root (.toPath ^java.io.File %))) java.io.File/separatorChar \/))
         (remove #(or (str/starts-with? % "vireo/") (str/starts-with? % "io/vireo/")))
         sort)))

(defn- foreign-requires
  "The namespaces outside vireo that Vireo's ns forms require, sorted."
  []
  (->> (find/find-ns-decls-in-dir (io/file "src") find/clj)
       (mapcat parse/deps-from-ns-decl)
       (remove #(str/starts-with? (name %) "vireo"))
       distinct sort vec))

(defn- compile-script
  "The forms the AOT JVM runs: load the libraries Vireo requires, take
  :protocol off the protocol functions of those loaded from source, compile
  `nses` into `dir`.

  Why: a call such as (clojure.tools.logging.impl/enabled? logger :debug)
  compiles to an `instanceof` on the protocol's interface. For a library
  loaded from source (tools.logging ships no classes) that interface is
  generated at run time in Clojure's dynamic class loader, which the class
  loader of Vireo's AOT classes cannot see: the call would throw
  NoClassDefFoundError. Without :protocol on the var the call compiles to an
  ordinary call of the protocol function (which dispatches itself). Clojure's
  own protocols (AOT classes in its jar) keep the fast path."
  [nses dir]
  (let [foreign (foreign-requires)]
    [`(require ~@(map #(list 'quote %) foreign))
     `(doseq [n# (all-ns)
              :when (not (.startsWith (name (ns-name n#)) "vireo"))
              v# (vals (ns-interns n#))
              :let [p# (:protocol (meta v#))]
              :when p#
              :let [^Class iface# (:on-interface @p#)]
              :when (and iface# (not (try (Class/forName (.getName iface#) false (ClassLoader/getSystemClassLoader))
                                          true
                                          (catch ClassNotFoundException _# false))))]
        (alter-meta! v# dissoc :protocol))
     `(binding [*compile-path* ~dir]
        ~@(map (fn [n] `(compile '~n)) nses))
     `(shutdown-agents)
     `(System/exit 0)]))

(defn compile-clojure
  "AOT-compiles every namespace under src/vireo into class-dir, against
  aot-basis; keeps only Vireo's classes (vireo/… and io/vireo/…: AOT is
  transitive, and clojure.tools.logging's or another library's classes have
  no place in Vireo's jar)."
  [_]
  (let [nses (vireo-nses)
        work (.toFile (java.nio.file.Files/createTempDirectory "vireo-aot" (make-array java.nio.file.attribute.FileAttribute 0)))
        out (io/file work "classes")
        script (io/file work "compile.clj")]
    (.mkdirs out)
    (spit script (str/join "\n" (map pr-str (compile-script nses (.getPath out)))))
    (let [{:keys [exit]} (b/process (b/java-command {:basis @aot-basis
                                                     :cp [(.getPath out) class-dir]
                                                     :main 'clojure.main
                                                     :main-args [(.getPath script)]}))]
      (when-not (zero? exit)
        (throw (ex-info (str "AOT compilation failed (exit " exit "), working dir kept: " work) {}))))
    (b/copy-dir {:src-dirs [(.getPath out)] :target-dir class-dir :include "vireo/**"})
    (b/copy-dir {:src-dirs [(.getPath out)] :target-dir class-dir :include "io/vireo/**"})
    (b/delete {:path (.getPath work)})
    (when-let [stray (seq (stray-classes class-dir))]
      (throw (ex-info (str "classes of other libraries in " class-dir ": " (str/join ", " (take 10 stray)))
                      {:classes stray})))
    (doseq [n nses
            :let [init (str class-dir "/" (-> (name n) (str/replace "-" "_") (str/replace "." "/")) "__init.class")]]
      (when-not (.isFile (io/file init))
        (throw (ex-info (str "AOT did not compile " n " (no " init ")") {:ns n}))))))

(def ^:private optional-aliases
  "The deps.edn aliases whose libraries the pom lists as <optional>: each
  backend's driver (:drivers), Micrometer and the OpenTelemetry API (the
  :metrics and :tracing database options, docs/observability.md) and JUnit
  5's API (the io.vireo.junit extension). Vireo loads each only when it is
  used: a missing one is named, with its coordinates, when asked for."
  [:drivers :metrics :tracing :junit])

(defn- optional-deps
  "The libraries of `optional-aliases`, as [lib version], sorted."
  []
  (let [edn (clojure.edn/read-string (slurp "deps.edn"))]
    (sort-by (comp str first) (distinct (for [alias optional-aliases
                                              [lib {v :mvn/version}] (get-in edn [:aliases alias :extra-deps])]
                                          [lib v])))))

(defn- add-optional-deps!
  "Adds the optional libraries (`optional-deps`) to the written pom as
  <optional> dependencies: Maven users see which artifact each backend (or
  integration) needs, and get none they did not ask for (a PostgreSQL-only
  application carries no sqlite-jdbc)."
  [pom-file]
  (let [xml (slurp pom-file)
        deps (apply str (for [[lib v] (optional-deps)]
                          (str "\n    <dependency>\n      <groupId>" (namespace lib) "</groupId>\n      <artifactId>"
                               (name lib) "</artifactId>\n      <version>" v "</version>\n      <optional>true</optional>\n    </dependency>")))]
    (when-not (str/includes? xml "</dependencies>")
      (throw (ex-info (str "no <dependencies> in " pom-file) {})))
    (spit pom-file (str/replace-first xml "</dependencies>" (str deps "\n  </dependencies>")))))

(defn jar [_]
  (clean nil)
  (javac nil)
  (compile-clojure nil)
  (b/write-pom {:class-dir class-dir
                :lib lib
                :version version
                :basis @basis
                :src-dirs ["src"]
                :resource-dirs ["resources"]
                ;; the repositories are the build machine's business, not the pom's
                ;; ({"clojars" nil} would become an invalid <repository>)
                :repos {}
                :scm (when project-url
                       {:url project-url
                      :connection (str "scm:git:" project-url ".git")
                      :developerConnection (str "scm:git:" project-url ".git")
                      :tag (if (str/ends-with? version "-SNAPSHOT") "HEAD" (str "v" version))})
                :pom-data (filterv some?
                           [[:description "peewee-async's programming model for Clojure and Java, over Vert.x 5 SQL clients: models as data, AioModel-style operations returning CompletableFutures, PostgreSQL, MySQL/MariaDB and SQLite"]
                           (when project-url [:url project-url])
                           [:licenses
                            [:license
                             [:name "Eclipse Public License 2.0"]
                             [:url "https://www.eclipse.org/legal/epl-2.0/"]]]
                           [:developers
                            [:developer
                             [:name "The Vireo maintainers"]]]])})
  (add-optional-deps! (str class-dir "/META-INF/maven/" (namespace lib) "/" (name lib) "/pom.xml"))
  ;; the sources keep their own times (copy-dir copies attributes), older
  ;; than the classes just compiled: Clojure loads the classes
  (b/copy-dir {:src-dirs ["src" "resources"] :target-dir class-dir})
  (doseq [n (vireo-nses)
          :let [base (str class-dir "/" (-> (name n) (str/replace "-" "_") (str/replace "." "/")))
                clj (io/file (str base ".clj")) init (io/file (str base "__init.class"))]]
    (when-not (> (.lastModified init) (.lastModified clj))
      (throw (ex-info (str clj " is newer than its AOT class (a clock in the future?): Clojure would"
                           " compile it again on every load") {:ns n}))))
  (b/copy-file {:src "LICENSE" :target (str class-dir "/META-INF/LICENSE")})
  (b/jar {:class-dir class-dir
          :jar-file jar-file
          :manifest {"Automatic-Module-Name" "io.vireo"
                     "Implementation-Version" version}})
  ;; the sources jar Central asks for: the Java API and the Clojure sources
  (b/delete {:path "target/sources"})
  (b/copy-dir {:src-dirs ["java-api" "src" "resources"] :target-dir "target/sources"})
  (b/copy-file {:src "LICENSE" :target "target/sources/META-INF/LICENSE"})
  (b/jar {:class-dir "target/sources" :jar-file sources-jar-file})
  ;; the javadoc jar Central asks for too: the Java API's (the Clojure API is
  ;; documented by its docstrings, in the sources)
  (javadoc nil)
  (b/copy-file {:src "LICENSE" :target (str javadoc-dir "/META-INF/LICENSE")})
  (b/jar {:class-dir javadoc-dir :jar-file javadoc-jar-file})
  (println "Wrote" (str jar-file ",") sources-jar-file "and" javadoc-jar-file)
  jar-file)

(defn install [_]
  (jar nil)
  (b/install {:basis @basis :lib lib :version version :jar-file jar-file :class-dir class-dir})
  ;; b/install copies the jar and pom only: the sources and javadoc jars go
  ;; beside them, with their classifiers
  (doseq [[file classifier] [[sources-jar-file "sources"] [javadoc-jar-file "javadoc"]]]
    (b/copy-file {:src file
                  :target (format "%s/.m2/repository/%s/%s/%s/%s-%s-%s.jar" (System/getProperty "user.home")
                                  (str/replace (namespace lib) "." "/") (name lib) version (name lib) version
                                  classifier)}))
  (println "Installed" lib version "into the local Maven repository"))
