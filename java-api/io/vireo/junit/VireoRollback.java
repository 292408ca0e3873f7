package io.vireo.junit;

import io.vireo.Database;
import io.vireo.RollbackCase;
import java.util.Objects;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit 5 extension running each test in a rolled-back transaction (a
 * {@link RollbackCase}): it starts before the class's {@code @BeforeEach}
 * methods and rolls back after its {@code @AfterEach} methods, so rows those
 * create are undone too. Register it with the database to use:
 *
 * <pre>{@code
 * class AccountTest {
 *   static final Database db = Database.fromUrl("postgresql://…");
 *
 *   @RegisterExtension
 *   static final VireoRollback rollback = VireoRollback.of(() -> db);
 *
 *   @Test
 *   void registers() {
 *     Accounts.aioCreate(Map.of("email", "a@b.c")).join();   // undone after the test
 *   }
 * }
 * }</pre>
 *
 * <p>Needs {@code org.junit.jupiter:junit-jupiter-api} (5.x) on the test
 * classpath, which every JUnit 5 project has; Vireo does not depend on it
 * otherwise. Tests of one database must not run in parallel with each other
 * (one case at a time per database; a second one fails with an
 * {@code VireoException} of type {@code INTERFACE_ERROR}).
 */
public final class VireoRollback implements BeforeEachCallback, AfterEachCallback {
  private final Supplier<Database> database;
  private final ExtensionContext.Namespace namespace;

  private VireoRollback(Supplier<Database> database) {
    this.database = database;
    this.namespace = ExtensionContext.Namespace.create(VireoRollback.class, this);
  }

  /**
   * The extension for the database {@code database} gives, asked before each
   * test (so a database made in {@code @BeforeAll} can be used).
   *
   * @param database gives the database whose operations each test's case captures
   * @return the extension, to register with {@code @RegisterExtension}
   */
  public static VireoRollback of(Supplier<Database> database) {
    return new VireoRollback(Objects.requireNonNull(database, "Vireo: VireoRollback.of needs a database"));
  }

  /**
   * The extension for {@code database}.
   *
   * @param database the database whose operations each test's case captures
   * @return the extension, to register with {@code @RegisterExtension}
   */
  public static VireoRollback of(Database database) {
    Objects.requireNonNull(database, "Vireo: VireoRollback.of needs a database");
    return new VireoRollback(() -> database);
  }

  /**
   * Starts the test's rollback case.
   *
   * @param context the test's context
   */
  @Override
  public void beforeEach(ExtensionContext context) {
    Database db = Objects.requireNonNull(database.get(), "Vireo: VireoRollback's database supplier gave null");
    context.getStore(namespace).put(RollbackCase.class, RollbackCase.start(db));
  }

  /**
   * Rolls the test's case back.
   *
   * @param context the test's context
   */
  @Override
  public void afterEach(ExtensionContext context) {
    RollbackCase c = context.getStore(namespace).remove(RollbackCase.class, RollbackCase.class);
    if (c != null) {
      c.close();
    }
  }
}
