package io.vireo.test;

import static io.vireo.test.Errors.assertVireo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import clojure.java.api.Clojure;
import clojure.lang.IFn;
import clojure.lang.Keyword;
import io.vireo.Database;
import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** io.vireo.exception against the one Clojure hierarchy, and messages that speak Java. */
class ErrorTypeTest {

  private static String name(Object keyword) {
    return ((Keyword) keyword).toString().substring(1);
  }

  @Test
  void theEnumIsTheClojureHierarchy() {
    IFn require = Clojure.var("clojure.core", "require");
    require.invoke(Clojure.read("vireo.impl.errors"));
    Object root = Clojure.read(":vireo/error");
    Map<String, String> clojure = new TreeMap<>();
    clojure.put(name(root), null);
    Collection<?> all = (Collection<?>) Clojure.var("clojure.core", "descendants").invoke(root);
    IFn parents = Clojure.var("clojure.core", "parents");
    for (Object k : all) {
      Collection<?> ps = (Collection<?>) parents.invoke(k);
      assertEquals(1, ps.size(), () -> k + " has one parent");
      clojure.put(name(k), name(ps.iterator().next()));
    }
    Map<String, String> java = new TreeMap<>();
    for (ErrorType t : ErrorType.values()) {
      java.put(t.typeName(), t.parent() == null ? null : t.parent().typeName());
      assertSame(t, ErrorType.fromName(t.typeName()));
    }
    assertEquals(clojure, java);
    assertSame(ErrorType.UNIQUE_VIOLATION, ErrorType.fromName("unique-violation"));
    assertNull(ErrorType.fromName("vireo/no-such-type"));
    assertTrue(ErrorType.DEADLOCK.isA(ErrorType.DATABASE_ERROR));
    assertFalse(ErrorType.DEADLOCK.isA(ErrorType.INTEGRITY_ERROR));
  }

  @Test
  void messagesSpeakJavaToJavaCallers() {
    Database db = Backends.sqlite("java_error_messages");
    try {
      VireoException sync = assertVireo(ErrorType.SYNC_NOT_ALLOWED, () -> db.executeSql("SELECT 1"));
      assertTrue(sync.getMessage().contains("db.allowSync()"), sync.getMessage());
      assertFalse(sync.getMessage().contains("vireo.core/"), sync.getMessage());
      db.aioExecuteSql("SELECT 1").join(); // opens the pool
      db.aioClose().join();
      VireoException closed = assertVireo(ErrorType.POOL_CLOSED, db.aioExecuteSql("SELECT 1").handle((v, e) -> e).join());
      assertTrue(closed.getMessage().contains("db.aioConnect()"), closed.getMessage());
      assertFalse(closed.getMessage().contains("vireo.core/"), closed.getMessage());
      // the cause keeps the Clojure error, in Clojure's words
      assertTrue(closed.getCause().getMessage().contains("vireo.core/aio-connect"), closed.getCause().getMessage());
    } finally {
      db.aioClose().join();
    }
  }
}
