package io.vireo;

import clojure.lang.Keyword;
import clojure.lang.RT;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

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
  POST_DELETE("post-delete"),
  /**
   * Sent synchronously when {@link Model#instance} builds an instance, after
   * its values are set ({@code created} is false; a returned stage is not
   * awaited). Rows loaded by queries do not send it.
   */
  PRE_INIT("pre-init");

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
    return SignalSupport.connect(signal(), sender, receiver(receiver));
  }

  private Object signal() {
    return SignalSupport.builtIn(clojureName);
  }

  private static SignalSupport.JavaReceiver receiver(SignalReceiver javaReceiver) {
    Objects.requireNonNull(javaReceiver, "Vireo: connect needs a receiver");
    return new SignalSupport.JavaReceiver(javaReceiver) {
      @Override
      public Object invoke(Object model, Object instance, Object kw) {
        Model<Instance> m = Model.wrap(model);
        CompletionStage<?> st = javaReceiver.receive(m, m.instanceOf(instance), RT.booleanCast(RT.get(kw, CREATED)));
        return st == null ? null : Clj.toClojureFuture(st);
      }
    };
  }

  /**
   * Returns this signal's connections, in order: maps of {@code "receiver"}
   * (the {@link SignalReceiver}, or a Clojure receiver's function),
   * {@code "name"} and {@code "sender"} (the model's name, or null for every model).
   *
   * @return the connections
   */
  public List<Map<String, Object>> receivers() {
    return SignalSupport.receivers(signal());
  }

  /**
   * Tells whether a receiver would hear about an instance of {@code model}.
   *
   * @param model the model
   * @return true when one would
   */
  public boolean hasReceivers(Model<?> model) {
    return SignalSupport.hasReceivers(signal(), model);
  }

  /**
   * Runs {@code body} with this signal holding only {@code receivers} (none
   * for an empty list), then restores its receivers (Clojure's
   * {@code with-receivers}). The registry is global: other threads sending
   * the signal meanwhile see the temporary receivers. Nest calls for several signals.
   *
   * @param receivers the receivers to hear the signal meanwhile
   * @param body the code to run
   * @param <T> its result type
   * @return what the body returns
   */
  public <T> T withReceivers(List<SignalReceiver> receivers, Supplier<T> body) {
    return SignalSupport.withReceivers(signal(), receivers.stream().map(Signal::receiver).toList(), body);
  }

  /**
   * Like {@link #withReceivers}, for a body returning a stage: the receivers
   * are restored when it completes.
   *
   * @param receivers the receivers to hear the signal meanwhile
   * @param body the code to run, returning a stage
   * @param <T> the stage's value type
   * @return a future of the stage's value, completing after the receivers are restored
   */
  public <T> CompletableFuture<T> aioWithReceivers(List<SignalReceiver> receivers,
      Supplier<? extends CompletionStage<T>> body) {
    return SignalSupport.aioWithReceivers(signal(), receivers.stream().map(Signal::receiver).toList(), body);
  }
}
