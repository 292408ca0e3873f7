package io.vireo.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every public method (and constructor) of the public classes of io.vireo,
 * io.vireo.exception and io.vireo.junit is called somewhere in the tests of
 * test-java/io/vireo/test: a method {@code name} as {@code .name(} or
 * {@code ::name}, a constructor as {@code new Class(} or {@code new Class<}.
 * A name the tests never write is an API nothing checks.
 */
class ApiCoverageTest {
  static final List<String> PACKAGES = List.of("io/vireo", "io/vireo/exception", "io/vireo/junit");

  /**
   * Methods that cannot be called meaningfully from a test, each with the
   * reason. Keyed by Class#method.
   */
  static final Map<String, String> ALLOWED = Map.of(
      "VireoRollback#beforeEach", "JUnit calls it around every test of RollbackExtensionTest, never a test itself",
      "VireoRollback#afterEach", "JUnit calls it around every test of RollbackExtensionTest, never a test itself",
      "SignalReceiver#receive", "a callback: the tests pass lambdas and Vireo calls them (their effects are asserted)",
      "Receiver#receive", "CustomSignal's callback: the tests pass lambdas and Vireo calls them (their effects are asserted)");

  /** The test sources the search reads (this file excluded: it names every method). */
  static String testSources() throws IOException {
    StringBuilder all = new StringBuilder();
    try (Stream<Path> files = Files.list(Path.of("test-java/io/vireo/test"))) {
      for (Path f : files.sorted().toList()) {
        if (f.toString().endsWith(".java") && !f.getFileName().toString().equals("ApiCoverageTest.java")) {
          all.append(Files.readString(f, StandardCharsets.UTF_8)).append('\n');
        }
      }
    }
    return all.toString();
  }

  /** The public top-level classes of the packages, and their public nested ones. */
  static List<Class<?>> publicClasses() throws IOException, ClassNotFoundException {
    List<Class<?>> classes = new ArrayList<>();
    for (String pkg : PACKAGES) {
      try (Stream<Path> files = Files.list(Path.of("java-api", pkg))) {
        for (Path f : files.sorted().toList()) {
          String file = f.getFileName().toString();
          if (!file.endsWith(".java") || file.equals("package-info.java")) {
            continue;
          }
          Class<?> c = Class.forName(pkg.replace('/', '.') + "." + file.substring(0, file.length() - 5));
          if (Modifier.isPublic(c.getModifiers())) {
            classes.add(c);
            for (Class<?> nested : c.getDeclaredClasses()) {
              if (Modifier.isPublic(nested.getModifiers())) {
                classes.add(nested);
              }
            }
          }
        }
      }
    }
    return classes;
  }

  /** Class#method (or Class#new) for each public name the tests never call. */
  static Set<String> gaps(String sources) throws IOException, ClassNotFoundException {
    Set<String> gaps = new TreeSet<>();
    for (Class<?> c : publicClasses()) {
      String simple = c.getSimpleName();
      for (Method m : c.getDeclaredMethods()) {
        if (!Modifier.isPublic(m.getModifiers()) || m.isSynthetic() || m.isBridge()) {
          continue;
        }
        String name = m.getName();
        // an enum's values() and valueOf(String) are the compiler's, not Vireo's
        if (c.isEnum() && (name.equals("values") || name.equals("valueOf"))) {
          continue;
        }
        String key = simple + "#" + name;
        if (!ALLOWED.containsKey(key) && !sources.contains("." + name + "(") && !sources.contains("::" + name)) {
          gaps.add(key);
        }
      }
      if (!c.isInterface() && !c.isEnum() && !Modifier.isAbstract(c.getModifiers())) {
        for (Constructor<?> k : c.getDeclaredConstructors()) {
          if (Modifier.isPublic(k.getModifiers())
              && !sources.contains("new " + simple + "(") && !sources.contains("new " + simple + "<")) {
            gaps.add(simple + "#new");
          }
        }
      }
    }
    return gaps;
  }

  @Test
  void everyPublicMethodIsCalledByATest() throws IOException, ClassNotFoundException {
    assertTrue(publicClasses().size() > 50, "the public classes were found");
    assertEquals(new TreeSet<String>(), gaps(testSources()), "public API no test in test-java/io/vireo/test calls");
  }

  @Test
  void theSearchFindsAGap() throws IOException, ClassNotFoundException {
    // the same search over sources that call nothing reports every method
    Set<String> all = gaps("");
    assertTrue(all.contains("Model#aioCreate"), all.toString());
    assertTrue(all.contains("SqliteDatabase#new"), all.toString());
    assertTrue(all.contains("ErrorType#fromName"), all.toString());
    assertTrue(all.contains("VireoRollback#of"), all.toString());
  }

  @Test
  void everyAllowedMethodExists() throws IOException, ClassNotFoundException {
    Set<String> declared = new TreeSet<>();
    for (Class<?> c : publicClasses()) {
      for (Method m : c.getDeclaredMethods()) {
        declared.add(c.getSimpleName() + "#" + m.getName());
      }
    }
    for (String allowed : ALLOWED.keySet()) {
      assertTrue(declared.contains(allowed), allowed + " is allowed but no such public method exists");
    }
  }
}
