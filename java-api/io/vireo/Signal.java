package io.vireo;

import clojure.lang.AFunction;
import clojure.lang.Keyword;
import clojure.lang.RT;
import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * Model signals, peewee-async's {@code aio_pre_save}, {@code aio_post_save},
 * {@code aio_pre_delete} and {@code aio_post_delete}: Java receivers
 * connected here hear the same events as Clojure's {@code vireo.signals}
 * receivers (docs/signals.md says which operations send which).
 *
 * <pre>{@code
 * try (SignalConnection audit = Signal.POST_SAVE.connect(Book, (model, book, created) -> {
 *   log.add(book.getString("title"));
 *   return null;                       // or a CompletionStage to wait for
 * })) {
 *   Book.aioCreate(Map.of(…)).join();
 * }
 * }</pre>
 *
 * <p>Receivers run one after another, in connection order, each after the
 * stage the previous one returned completed. A receiver that throws, or
 * whose stage fails, fails the operation with that exception, unchanged (a
 * pre-save receiver thereby prevents the write).
 */
public enum Signal {
  /** Sent by aioSave / aioCreate (and aioGetOrCreate when creating) before the row is written. */
  PRE_SAVE("pre-save"),
  /** Sent after aioSave / aioCreate wrote the row, with the saved instance. */
  POST_SAVE("post-save"),
  /** Sent by aioDeleteInstance before the DELETE. */
  PRE_DELETE("pre-delete"),
  /** Sent by aioDeleteInstance after the DELETE. */
  POST_DELETE("post-delete");

  private static final Keyword CREATED = Keyword.intern("created");

  private final String clojureName;

  Signal(String clojureName) {
    this.clojureName = clojureName;
  }

  /**
   * Connects a receiver for the instances of one model (matched by model
   * name, so the model bound to another database matches too).
   *
   * @param sender the model
   * @param receiver the receiver
   * @return the connection, to {@link SignalConnection#disconnect()} (or close)
   */
  public SignalConnection connect(Model<?> sender, SignalReceiver receiver) {
    Objects.requireNonNull(sender, "Vireo: connect needs a sender model (or use connect(receiver))");
    return connect0(sender.toClojure(), receiver);
  }

  /**
   * Connects a receiver for the instances of every model.
   *
   * @param receiver the receiver
   * @return the connection, to {@link SignalConnection#disconnect()} (or close)
   */
  public SignalConnection connect(SignalReceiver receiver) {
    return connect0(null, receiver);
  }

  private SignalConnection connect0(Object sender, SignalReceiver receiver) {
    Objects.requireNonNull(receiver, "Vireo: connect needs a receiver");
    AFunction f = new AFunction() {
      @Override
      public Object invoke(Object model, Object instance, Object kw) {
        Model<Instance> m = Model.wrap(model);
        CompletionStage<?> st = receiver.receive(m, m.instanceOf(instance), RT.booleanCast(RT.get(kw, CREATED)));
        return st == null ? null : Clj.toClojureFuture(st);
      }
    };
    Object name = Clj.call("vireo.java.bridge/connect-signal", clojureName, sender, f);
    return new SignalConnection(clojureName, sender, name);
  }
}
