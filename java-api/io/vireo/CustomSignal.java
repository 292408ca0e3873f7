package io.vireo;

import clojure.lang.RT;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * A signal of your own (Clojure's {@code vireo.signals/signal}): receivers
 * connect to it like to the model {@link Signal}s, and your code sends it
 * with {@link #aioSend} (receivers one after another, each after the stage the
 * previous one returned) or {@link #sendSync}. Java and Clojure receivers of
 * the same signal ({@link #toClojure()}) hear the same sends.
 *
 * <pre>{@code
 * CustomSignal published = CustomSignal.create("published");
 * try (SignalConnection c = published.connect(Book, (model, book, kw) -> {
 *   System.out.println(book.getString("title") + " published by " + kw.get("by"));
 *   return null;
 * })) {
 *   published.aioSend(Book, book, Map.of("by", "ann")).join();
 * }
 * }</pre>
 */
public final class CustomSignal {
  /** A receiver of a {@link CustomSignal}. */
  @FunctionalInterface
  public interface Receiver {
    /**
     * Called for each send the receiver matches.
     *
     * @param model the model sent with
     * @param instance the instance sent (null when none was)
     * @param kw the sender's arguments, by name
     * @return {@code null}, a value, or a stage the sending waits for
     */
    Object receive(Model<Instance> model, Instance instance, Map<String, Object> kw);
  }

  private final Object signal;

  private CustomSignal(Object signal) {
    this.signal = signal;
  }

  /**
   * Returns a new signal with no receivers.
   *
   * @param name its name (for messages)
   * @return the signal
   */
  public static CustomSignal create(String name) {
    Objects.requireNonNull(name, "Vireo: a signal needs a name");
    return new CustomSignal(Clj.call("vireo.signals/signal", Clj.keyword(name)));
  }

  /**
   * Wraps a signal made in Clojure ({@code vireo.signals/signal}).
   *
   * @param clojureSignal the signal
   * @return the Java view of it
   * @throws IllegalArgumentException when it is not a signal
   */
  public static CustomSignal of(Object clojureSignal) {
    if (!RT.booleanCast(Clj.call("vireo.signals/signal?", clojureSignal))) {
      throw new IllegalArgumentException("Vireo: not a signal: "
          + (clojureSignal == null ? "null" : clojureSignal.getClass().getName()));
    }
    return new CustomSignal(clojureSignal);
  }

  private static SignalSupport.JavaReceiver receiver(Receiver javaReceiver) {
    Objects.requireNonNull(javaReceiver, "Vireo: connect needs a receiver");
    return new SignalSupport.JavaReceiver(javaReceiver) {
      @Override
      @SuppressWarnings("unchecked")
      public Object invoke(Object model, Object instance, Object kw) {
        Model<Instance> m = model == null ? null : Model.wrap(model);
        Object r = javaReceiver.receive(m, m == null || instance == null ? null : m.instanceOf(instance),
            (Map<String, Object>) Clj.toJava(kw));
        return r instanceof CompletionStage ? Clj.toClojureFuture((CompletionStage<?>) r) : r;
      }
    };
  }

  /**
   * Connects a receiver for sends about one model (matched by name).
   *
   * @param sender the model
   * @param receiver the receiver
   * @return the connection, to close
   */
  public SignalConnection connect(Model<?> sender, Receiver receiver) {
    Objects.requireNonNull(sender, "Vireo: connect needs a sender model (or use connect(receiver))");
    return SignalSupport.connect(signal, sender.toClojure(), receiver(receiver));
  }

  /**
   * Connects a receiver for every send.
   *
   * @param receiver the receiver
   * @return the connection, to close
   */
  public SignalConnection connect(Receiver receiver) {
    return SignalSupport.connect(signal, null, receiver(receiver));
  }

  private static Object kw(Map<String, ?> kw) {
    return kw == null ? clojure.lang.PersistentArrayMap.EMPTY : Clj.map(kw);
  }

  /**
   * Sends the signal: calls each matching receiver, one after another in
   * connection order, each after the previous one's stage completed.
   *
   * @param model the model the send is about
   * @param instance the instance (or null)
   * @param kw arguments for the receivers (or null)
   * @return a future of the receivers' results, in order; fails with the
   *     first receiver's failure (the later ones are not called)
   */
  public CompletableFuture<List<Object>> aioSend(Model<?> model, Instance instance, Map<String, ?> kw) {
    return Clj.guard(() -> {
      Objects.requireNonNull(model, "Vireo: aioSend needs a model");
      return Clj.aio(SignalSupport::results, "vireo.signals/send", Clj.array(signal, model.toClojure(),
          instance == null ? null : Clj.toClj(instance), kw(kw)));
    });
  }

  /**
   * Sends the signal synchronously: calls each matching receiver on this
   * thread, in order (stages they return are not awaited). Not a database
   * call: allowed anywhere.
   *
   * @param model the model the send is about
   * @param instance the instance (or null)
   * @param kw arguments for the receivers (or null)
   * @return the receivers' results, in order
   */
  public List<Object> sendSync(Model<?> model, Instance instance, Map<String, ?> kw) {
    Objects.requireNonNull(model, "Vireo: sendSync needs a model");
    return SignalSupport.results(Clj.call("vireo.signals/send-sync", Clj.array(signal, model.toClojure(),
        instance == null ? null : Clj.toClj(instance), kw(kw))));
  }

  /**
   * Returns the connections, in order (see {@link Signal#receivers()}).
   *
   * @return the connections
   */
  public List<Map<String, Object>> receivers() {
    return SignalSupport.receivers(signal);
  }

  /**
   * Tells whether a receiver would hear a send about {@code model}.
   *
   * @param model the model
   * @return true when one would
   */
  public boolean hasReceivers(Model<?> model) {
    return SignalSupport.hasReceivers(signal, model);
  }

  /**
   * Runs {@code body} with only {@code receivers} connected (see {@link Signal#withReceivers}).
   *
   * @param receivers the receivers meanwhile
   * @param body the code
   * @param <T> its result type
   * @return what the body returns
   */
  public <T> T withReceivers(List<Receiver> receivers, Supplier<T> body) {
    return SignalSupport.withReceivers(signal, receivers.stream().map(CustomSignal::receiver).toList(), body);
  }

  /**
   * Like {@link #withReceivers}, for a body returning a stage (see {@link Signal#aioWithReceivers}).
   *
   * @param receivers the receivers meanwhile
   * @param body the code, returning a stage
   * @param <T> the stage's value type
   * @return a future of the stage's value
   */
  public <T> CompletableFuture<T> aioWithReceivers(List<Receiver> receivers,
      Supplier<? extends CompletionStage<T>> body) {
    return SignalSupport.aioWithReceivers(signal, receivers.stream().map(CustomSignal::receiver).toList(), body);
  }

  /**
   * Returns the Clojure signal.
   *
   * @return the signal value
   */
  public Object toClojure() {
    return signal;
  }
}
