package io.vireo;

import clojure.lang.PersistentVector;
import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a {@link Model} from Java, over the same definition data a Clojure
 * {@code defmodel} takes. Fields keep the order they are added in; without a
 * primary-key field an auto-increment {@code id} comes first.
 *
 * <pre>{@code
 * Model PageBlock = Model.builder("PageBlock")
 *     .database(db)
 *     .field("key", Field.charField(40).unique())
 *     .field("text", Field.text().defaultValue(""))
 *     .build();
 * }</pre>
 */
public final class ModelBuilder {
  private final String name;
  private final List<Object> fields = new ArrayList<>();
  private final List<Object> indexes = new ArrayList<>();
  private Object database;
  private String table;
  private Object primaryKey;

  ModelBuilder(String name) {
    this.name = name;
  }

  /**
   * Sets the database the model's operations run on.
   *
   * @param database the database
   * @return this builder
   */
  public ModelBuilder database(Database database) {
    this.database = database.toClojure();
    return this;
  }

  /**
   * Sets the table name (default: the lower-cased model name).
   *
   * @param table the table
   * @return this builder
   */
  public ModelBuilder table(String table) {
    this.table = table;
    return this;
  }

  /**
   * Adds a field. Its name is the name instances, filters and queries use.
   *
   * @param name the field name
   * @param field its specification
   * @return this builder
   */
  public ModelBuilder field(String name, Field field) {
    fields.add(Clj.key(name));
    fields.add(field.toClojure());
    return this;
  }

  /**
   * Declares a composite primary key over two or more fields.
   *
   * @param fieldNames the key's fields, in order
   * @return this builder
   */
  public ModelBuilder primaryKey(String... fieldNames) {
    this.primaryKey = Clj.refs(fieldNames);
    return this;
  }

  /**
   * Adds a multi-column index.
   *
   * @param unique true for a unique index
   * @param fieldNames the indexed fields, in order
   * @return this builder
   */
  public ModelBuilder index(boolean unique, String... fieldNames) {
    indexes.add(Clj.opts("fields", Clj.refs(fieldNames), "unique", unique ? Boolean.TRUE : null));
    return this;
  }

  /**
   * Builds the model, checking the definition, and registers it like a
   * Clojure {@code defmodel} ({@code vireo.core/register-model!}): the models
   * it references learn its backrefs and many-to-many backrefs, and a later
   * model of the same name replaces it there.
   *
   * @return the model
   * @throws VireoException ({@link ErrorType#MODEL_ERROR}) for a bad definition, naming the model and field
   */
  public Model build() {
    Object def = Clj.opts(
        "fields", PersistentVector.create(fields),
        "database", database,
        "table", table,
        "primary-key", primaryKey,
        "indexes", indexes.isEmpty() ? null : PersistentVector.create(indexes));
    // registered like a Clojure defmodel: backrefs and many-to-many backrefs
    // of this model become known to the models it references
    return new Model(Clj.call("register-model!", Clj.call("model", name, def)));
  }
}
