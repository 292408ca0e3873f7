package io.vireo;

import clojure.lang.IPersistentMap;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What a model's rows are in Java, in one place: {@link Instance}s (a
 * dynamic {@code Model<Instance>}) or the user's record or POJO class (a typed
 * model). Reads a row's Clojure data as {@code R}, and gives an {@code R}'s
 * values back to the Clojure operations.
 *
 * @param <R> the row type
 */
abstract class RowType<R> {
  private final Class<R> type;

  private RowType(Class<R> type) {
    this.type = type;
  }

  final Class<R> type() {
    return type;
  }

  /** A row's data (a Clojure map) as {@code R}; {@code null} stays null. */
  abstract @Nullable R read(Model<?> model, @Nullable Object data, @Nullable Nesting nesting);

  /** The instance data an operation on {@code row} takes. */
  abstract IPersistentMap write(Model<?> model, R row);

  /** The values an INSERT of {@code row} takes ({@link #write} but where a record says otherwise). */
  IPersistentMap writeNew(Model<?> model, R row) {
    return write(model, row);
  }

  /** After a save or fetch of {@code row}: the row holding {@code data} (an Instance in place, a new record). */
  abstract R updated(Model<?> model, R row, Object data);

  final List<R> readAll(Model<?> model, @Nullable Object rows, @Nullable Nesting nesting) {
    List<R> l = new ArrayList<>(rows instanceof clojure.lang.Counted ? ((clojure.lang.Counted) rows).count() : 10);
    if (rows != null) {
      for (Object x : (Iterable<?>) rows) {
        l.add(read(model, x, nesting));
      }
    }
    return l;
  }

  /** The rows of a dynamic model. */
  static final RowType<Instance> INSTANCE = new RowType<>(Instance.class) {
    @Override
    @Nullable Instance read(Model<?> model, @Nullable Object data, @Nullable Nesting nesting) {
      return data == null ? null : new Instance(model.dynamic(), data, nesting);
    }

    @Override
    IPersistentMap write(Model<?> model, Instance row) {
      return Model.instanceData(row);
    }

    @Override
    Instance updated(Model<?> model, Instance row, Object data) {
      row.replace(data);
      return row;
    }
  };

  /** The rows of a model typed by a record or POJO class ({@code Instance.class}: dynamic). */
  @SuppressWarnings("unchecked")
  static <R> RowType<R> of(Class<R> type) {
    java.util.Objects.requireNonNull(type, "Vireo: the row class is null");
    if (type == Instance.class) {
      return (RowType<R>) INSTANCE;
    }
    return new RowType<>(type) {
      @Override
      @Nullable R read(Model<?> model, @Nullable Object data, @Nullable Nesting nesting) {
        return data == null ? null : Records.fromInstance(new Instance(model.dynamic(), data, nesting), type);
      }

      @Override
      IPersistentMap write(Model<?> model, R row) {
        java.util.Objects.requireNonNull(row, "Vireo: the row is null");
        // a null primary key is left to the database (an insert)
        return model.values(Records.toMap(row), true);
      }

      @Override
      IPersistentMap writeNew(Model<?> model, R row) {
        // a record cannot leave a component out: null where the field has a
        // default means the default, as a null primary key means a generated one
        return model.withoutNullDefaults(write(model, row));
      }

      @Override
      R updated(Model<?> model, R row, Object data) {
        return Records.fromInstance(new Instance(model.dynamic(), data, null), type);
      }
    };
  }
}
