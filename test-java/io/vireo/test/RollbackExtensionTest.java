package io.vireo.test;

import io.vireo.exception.ErrorType;
import io.vireo.exception.UniqueViolationException;
import io.vireo.exception.VireoException;
import static io.vireo.test.Errors.assertVireo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vireo.Database;
import io.vireo.Field;
import io.vireo.Instance;
import io.vireo.Model;
import io.vireo.RollbackCase;
import io.vireo.TempRows;
import io.vireo.junit.VireoRollback;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The JUnit 5 extension and RollbackCase, per backend: each test runs in a
 * rolled-back transaction that also covers the class's @BeforeEach.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class RollbackContract {
  Database db;
  Model<Instance> item;

  @RegisterExtension
  final VireoRollback rollback = VireoRollback.of(() -> db);

  abstract Database open();

  @BeforeAll
  void setUp() {
    db = open();
    item = Model.builder("JavaRollbackItem").database(db).table("java_rollback_item")
        .field("name", Field.charField(40).unique())
        .build();
    item.aioDropTable(true).join();
    item.aioCreateTable(false).join();
    item.aioCreate(Map.of("name", "committed")).join(); // before any case: stays
  }

  @AfterAll
  void tearDown() {
    if (db != null) {
      try {
        assertEquals(Set.of("committed"), names(), "every test's rows were rolled back");
      } finally {
        item.aioDropTable(true).join();
        db.aioClose().join();
      }
    }
  }

  @BeforeEach
  void fixture() {
    item.aioCreate(Map.of("name", "fixture")).join(); // inside the test's case
  }

  Set<String> names() {
    return item.select().aioExecute().join().stream()
        .map(i -> (String) i.get("name")).collect(Collectors.toSet());
  }

  @Test
  @Order(1)
  void aTestSeesItsFixtureAndItsOwnRows() {
    item.aioCreate(Map.of("name", "first")).join();
    // from another thread too: the case captures every operation on the database
    CompletableFuture.supplyAsync(() -> item.aioCreate(Map.of("name", "other-thread")).join()).join();
    assertEquals(Set.of("committed", "fixture", "first", "other-thread"), names());
  }

  @Test
  @Order(2)
  void theNextTestStartsFromTheCommittedRowsAgain() {
    assertEquals(Set.of("committed", "fixture"), names());
  }

  @Test
  @Order(3)
  void transactionsInsideBecomeSavepoints() {
    db.aioAtomic(tx -> item.aioCreate(Map.of("name", "in-tx"))).join();
    assertThrows(RuntimeException.class,
        () -> db.aioAtomic(tx -> item.aioCreate(Map.of("name", "fixture"))).join()); // unique: that savepoint rolls back
    assertEquals(Set.of("committed", "fixture", "in-tx"), names());
  }

  @Test
  @Order(4)
  void aSecondCaseOnTheSameDatabaseIsRefused() {
    VireoException e = assertVireo(ErrorType.INTERFACE_ERROR, () -> RollbackCase.start(db));
    assertTrue(e.getMessage().contains("already running"), e.getMessage());
  }
}

/** RollbackCase without the extension. */
abstract class RollbackCaseContract {
  abstract Database open();

  @Test
  void callRollsBackAlsoWhenTheBodyThrows() throws Exception {
    Database db = open();
    Model<Instance> item = Model.builder("JavaRollbackCall").database(db).table("java_rollback_call")
        .field("name", Field.charField(40))
        .build();
    try {
      item.aioDropTable(true).join();
      item.aioCreateTable(false).join();
      assertEquals(1L, RollbackCase.call(db, () -> {
        item.aioCreate(Map.of("name", "a")).join();
        return item.select().aioCount().join();
      }));
      IllegalStateException boom = assertThrows(IllegalStateException.class, () -> RollbackCase.call(db, () -> {
        item.aioCreate(Map.of("name", "b")).join();
        throw new IllegalStateException("boom");
      }));
      assertEquals("boom", boom.getMessage());
      try (RollbackCase c = RollbackCase.start(db)) {
        item.aioCreate(Map.of("name", "c")).join();
        c.close();
        c.close(); // idempotent
      }
      assertEquals(0L, item.select().aioCount().join());
    } finally {
      item.aioDropTable(true).join();
      db.aioClose().join();
    }
  }
}

/** TempRows: committed rows deleted on close, in reverse order, also after a failure. */
abstract class TempRowsContract {
  abstract Database open();

  @Test
  void rowsAreDeletedOnClose() {
    Database db = open();
    Model<Instance> parent = Model.builder("JavaTempParent").database(db).table("java_temp_parent")
        .field("name", Field.charField(40).unique())
        .build();
    Model<Instance> child = Model.builder("JavaTempChild").database(db).table("java_temp_child")
        .field("parent", Field.foreignKey(parent))
        .build();
    try {
      db.aioDropTables(true, child, parent).join();
      db.aioCreateTables(false, parent, child).join();
      try (TempRows temp = TempRows.open()) {
        io.vireo.Instance p = temp.insert(parent, Map.of("name", "p"));
        temp.insert(child, Map.of("parent", p.get("id")));
        assertEquals(2, temp.rows().size());
        assertEquals(1L, child.select().aioCount().join());
      } // the child goes first: the parent's delete would violate its foreign key otherwise
      assertEquals(0L, parent.select().aioCount().join());
      assertEquals(0L, child.select().aioCount().join());
      TempRows temp = TempRows.open();
      temp.insert(parent, Map.of("name", "dup"));
      assertThrows(io.vireo.exception.UniqueViolationException.class, () -> temp.insert(parent, Map.of("name", "dup")));
      temp.close();
      assertEquals(0L, parent.select().aioCount().join(), "the row inserted before the failure is deleted");
      assertThrows(IllegalStateException.class, () -> temp.insert(parent, Map.of("name", "late")));
    } finally {
      db.aioDropTables(true, child, parent).join();
      db.aioClose().join();
    }
  }
}

class SqliteTempRowsTest extends TempRowsContract {
  @Override
  Database open() {
    return Backends.sqlite("temp-rows");
  }
}

class PostgresTempRowsTest extends TempRowsContract {
  @Override
  Database open() {
    return Backends.pg();
  }
}

class MysqlTempRowsTest extends TempRowsContract {
  @Override
  Database open() {
    return Backends.mysql();
  }
}

class SqliteRollbackTest extends RollbackContract {
  @Override
  Database open() {
    return Backends.sqlite("rollback");
  }
}

class PostgresRollbackTest extends RollbackContract {
  @Override
  Database open() {
    return Backends.pg();
  }
}

class MysqlRollbackTest extends RollbackContract {
  @Override
  Database open() {
    return Backends.mysql();
  }
}

class SqliteRollbackCaseTest extends RollbackCaseContract {
  @Override
  Database open() {
    return Backends.sqlite("rollback-call");
  }
}

class PostgresRollbackCaseTest extends RollbackCaseContract {
  @Override
  Database open() {
    return Backends.pg();
  }
}

class MysqlRollbackCaseTest extends RollbackCaseContract {
  @Override
  Database open() {
    return Backends.mysql();
  }
}
