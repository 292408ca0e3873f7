// The Vireo quickstart as a Gradle build, equivalent to pom.xml:
//   gradle run                                                      (SQLite file vireo-quickstart.db)
//   gradle run --args=postgresql://postgres@127.0.0.1:5432/test
//   gradle run --args=mysql://root@127.0.0.1:3306/test                (MySQL or MariaDB)
// Untested here (Gradle is not installed where Vireo's tests run; they run the
// Maven build). Needs Gradle 7.3 or newer (Java 17).
plugins {
    application
}

group = "com.example"
version = "1.0-SNAPSHOT"

// -Pvireo.version=… picks another Vireo version
val vireoVersion: String = (findProperty("vireo.version") as String?) ?: "0.1.0-SNAPSHOT"

repositories {
    // io.vireo:vireo until it is published: install it from a checkout with
    // `bin/clojure -T:build install` (it goes to ~/.m2)
    mavenLocal()
    mavenCentral()
}

dependencies {
    implementation("io.vireo:vireo:$vireoVersion")
    // Each backend's driver is an optional dependency of Vireo: add the ones
    // you use. Vireo loads them by name, so they are runtime dependencies.
    // PostgreSQL:
    runtimeOnly("io.vertx:vertx-pg-client:5.0.7")
    // MySQL / MariaDB:
    runtimeOnly("io.vertx:vertx-mysql-client:5.0.7")
    // SQLite (the quickstart's default):
    runtimeOnly("io.vertx:vertx-jdbc-client:5.0.7")
    runtimeOnly("org.xerial:sqlite-jdbc:3.50.3.0")
}

tasks.withType<JavaCompile>().configureEach {
    options.release.set(17)
    options.encoding = "UTF-8"
}

application {
    mainClass.set("quickstart.Quickstart")
}
