// The Vireo quickstart as a Gradle build (the same project as pom.xml).
// Untested here: Gradle is not installed on the machines that run Vireo's
// tests, which run the Maven build (see README.md).
rootProject.name = "vireo-java-quickstart"
