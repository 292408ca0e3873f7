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
import io.vireo.exception.CheckViolationException;
import io.vireo.exception.ConnectionErrorException;
import io.vireo.exception.DeadlockException;
import io.vireo.exception.DoesNotExistException;
import io.vireo.exception.ForeignKeyViolationException;
import io.vireo.exception.IntegrityErrorException;
import io.vireo.exception.NotNullViolationException;
import io.vireo.exception.ReadOnlyException;
import io.vireo.exception.SerializationFailureException;
import io.vireo.exception.TimeoutErrorException;
import io.vireo.exception.UniqueViolationException;
import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
import java.util.Collection;
import java.util.List;
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
    assertEquals(List.of(ErrorType.UNIQUE_VIOLATION, ErrorType.INTEGRITY_ERROR, ErrorType.DATABASE_ERROR,
        ErrorType.ERROR), ErrorType.UNIQUE_VIOLATION.lineage());
    assertEquals(List.of(ErrorType.ERROR), ErrorType.ERROR.lineage());
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

  @Test
  void exceptionsCarryWhatTheyAreMadeWith() {
    List<Object> params = List.of(1L, "x");
    Map<String, Object> data = Map.of("table", "t");
    RuntimeException cause = new RuntimeException("driver");
    List<VireoException> made = List.of(
        new VireoException(ErrorType.PROGRAMMING_ERROR, "m", "SELECT ?", params, data, cause),
        new IntegrityErrorException(ErrorType.INTEGRITY_ERROR, "m", "SELECT ?", params, data, cause),
        new UniqueViolationException(ErrorType.UNIQUE_VIOLATION, "m", "SELECT ?", params, data, cause),
        new ForeignKeyViolationException(ErrorType.FOREIGN_KEY_VIOLATION, "m", "SELECT ?", params, data, cause),
        new NotNullViolationException(ErrorType.NOT_NULL_VIOLATION, "m", "SELECT ?", params, data, cause),
        new CheckViolationException(ErrorType.CHECK_VIOLATION, "m", "SELECT ?", params, data, cause),
        new SerializationFailureException(ErrorType.SERIALIZATION_FAILURE, "m", "SELECT ?", params, data, cause),
        new DeadlockException(ErrorType.DEADLOCK, "m", "SELECT ?", params, data, cause),
        new ConnectionErrorException(ErrorType.CONNECTION_ERROR, "m", "SELECT ?", params, data, cause),
        new ReadOnlyException(ErrorType.READ_ONLY, "m", "SELECT ?", params, data, cause),
        new TimeoutErrorException(ErrorType.TIMEOUT, "m", "SELECT ?", params, data, cause),
        new DoesNotExistException(ErrorType.DOES_NOT_EXIST, "m", "SELECT ?", params, data, cause));
    for (VireoException e : made) {
      assertEquals("m", e.getMessage());
      assertEquals("SELECT ?", e.getSql());
      assertEquals(params, e.getParameters());
      assertEquals(data, e.getData());
      assertSame(cause, e.getCause());
      assertEquals(e.getType().lineage(), e.getTypes());
      assertSame(e, VireoException.unwrap(new java.util.concurrent.CompletionException(e)));
    }
    // the class follows the type: each is the one Vireo raises for it
    assertSame(UniqueViolationException.class, made.get(2).getClass());
    assertTrue(made.get(2).isA(ErrorType.INTEGRITY_ERROR));
    // a null type is the root
    assertEquals(ErrorType.ERROR, new VireoException(null, "m", null, null, null, null).getType());
  }
}
