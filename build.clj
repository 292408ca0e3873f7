(ns build
  "Builds Vireo's jar: `bin/clojure -T:build jar`, `install` (into ~/.m2), `clean`.

  The jar holds the Clojure sources, the compiled Java API (java-api/) and
  AOT classes for the gen-class facade namespaces only (src/vireo/java/);
  everything else stays source so users' Clojure compiles it with theirs.
  The Java API compiles first (javac, warnings and missing Javadoc are
  errors), so it reaches the gen-class bridge by name only."
  (:require [clojure.edn]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.tools.build.api :as b]))

(def lib 'io.vireo/vireo)
(def version (-> (slurp "resources/vireo/version.properties")
                 (->> (re-find #"version=(\S+)"))
                 second))
(def class-dir "target/classes")
(def jar-file (format "target/%s-%s.jar" (name lib) version))
(def sources-jar-file (format "target/%s-%s-sources.jar" (name lib) version))

;; Maven Central requires <url>, <scm>, <developers>, <description> and a licence.
;; The project has no public home yet, and an invented address in a pom would
;; mislead: a release build sets VIREO_PROJECT_URL (e.g. the repository's
;; https address) and gets <url>/<scm>; without it they are left out.
(def project-url (not-empty (System/getenv "VIREO_PROJECT_URL")))

;; The project basis (not the build tool's): reads ./deps.edn, so Clojars stays off.
(def basis (delay (b/create-basis {:project "deps.edn" :user nil})))

(defn- facade-nses
  "The gen-class namespaces under src/vireo/java (the only AOT-compiled ones)."
  []
  (let [dir (io/file "src/vireo/java")]
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
  (b/delete {:path sources-jar-file}))

(defn javac [_]
  (b/javac {:src-dirs ["java-api" "src"]
            :class-dir class-dir
            :basis @basis
            ;; -classfile: Vert.x class files name codegen annotations that are not on the classpath
            :javac-opts ["--release" "17" "-Xlint:all,-classfile" "-Werror"
                         ;; every public type and method of the Java API has Javadoc
                         "-Xdoclint:all/protected" "-Xdoclint/package:io.vireo,io.vireo.spi"]}))

(defn compile-facade [_]
  (when-let [nses (seq (facade-nses))]
    (b/compile-clj {:basis @basis
                    :src-dirs ["src"]
                    :class-dir class-dir
                    :ns-compile nses
                    ;; compile-clj is transitive: keep only the facade's classes
                    ;; (path prefixes, so gen-class :name packages are listed too)
                    :filter-nses (into nses '[io.vireo])})))

(defn- driver-deps
  "The backends' drivers: the :drivers alias of deps.edn, as [lib version]."
  []
  (let [edn (clojure.edn/read-string (slurp "deps.edn"))]
    (sort-by (comp str first) (for [[lib {v :mvn/version}] (get-in edn [:aliases :drivers :extra-deps])] [lib v]))))

(defn- add-optional-drivers!
  "Adds every backend driver to the written pom as an <optional> dependency:
  Maven users see which artifact each backend needs, and get none they did
  not ask for (a PostgreSQL-only application carries no sqlite-jdbc)."
  [pom-file]
  (let [xml (slurp pom-file)
        deps (apply str (for [[lib v] (driver-deps)]
                          (str "\n    <dependency>\n      <groupId>" (namespace lib) "</groupId>\n      <artifactId>"
                               (name lib) "</artifactId>\n      <version>" v "</version>\n      <optional>true</optional>\n    </dependency>")))]
    (when-not (str/includes? xml "</dependencies>")
      (throw (ex-info (str "no <dependencies> in " pom-file) {})))
    (spit pom-file (str/replace-first xml "</dependencies>" (str deps "\n  </dependencies>")))))

(defn jar [_]
  (clean nil)
  (javac nil)
  (compile-facade nil)
  (b/write-pom {:class-dir class-dir
                :lib lib
                :version version
                :basis @basis
                :src-dirs ["src"]
                :resource-dirs ["resources"]
                ;; {"clojars" nil} from deps.edn would become an invalid <repository>
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
  (add-optional-drivers! (str class-dir "/META-INF/maven/" (namespace lib) "/" (name lib) "/pom.xml"))
  (b/copy-dir {:src-dirs ["src" "resources"] :target-dir class-dir})
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
  (println "Wrote" jar-file "and" sources-jar-file)
  jar-file)

(defn install [_]
  (jar nil)
  (b/install {:basis @basis :lib lib :version version :jar-file jar-file :class-dir class-dir})
  ;; b/install copies the jar and pom only: the sources jar goes beside them
  (b/copy-file {:src sources-jar-file
                :target (format "%s/.m2/repository/%s/%s/%s/%s-%s-sources.jar" (System/getProperty "user.home")
                                (str/replace (namespace lib) "." "/") (name lib) version (name lib) version)})
  (println "Installed" lib version "into the local Maven repository"))
