package io.vireo;

import clojure.lang.AFunction;
import clojure.lang.IDeref;
import clojure.lang.RT;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/** What {@link Signal} and {@link CustomSignal} share: receivers, isolation, over vireo.signals. */
final class SignalSupport {
  private SignalSupport() {}

  /** A Java receiver as the Clojure function vireo.signals calls; knows the Java object. */
  abstract static class JavaReceiver extends AFunction {
    private static final long serialVersionUID = 1L;
    final transient Object receiver;

    JavaReceiver(Object receiver) {
      this.receiver = java.util.Objects.requireNonNull(receiver, "Vireo: a signal receiver is null");
    }
  }

  /** The signal value of a public var of vireo.signals ("pre-save" …). */
  static Object builtIn(String name) {
    return ((IDeref) Clj.fn("vireo.signals/" + name)).deref();
  }

  static SignalConnection connect(Object signal, Object sender, JavaReceiver f) {
    Object name = Clj.keyword("vireo.java/receiver-" + java.util.UUID.randomUUID());
    Clj.call("vireo.signals/connect!", signal, f,
        sender == null ? Clj.opts("name", name) : Clj.opts("name", name, "sender", sender));
    return new SignalConnection(signal, sender, name);
  }

  static List<Map<String, Object>> receivers(Object signal) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Object c : Clj.list(Clj.call("vireo.signals/receivers", signal))) {
      Map<String, Object> m = new LinkedHashMap<>();
      Object f = Clj.get(c, "receiver");
      m.put("receiver", f instanceof JavaReceiver ? ((JavaReceiver) f).receiver : f);
      m.put("name", Clj.toJava(Clj.get(c, "name")));
      m.put("sender", Clj.toJava(Clj.get(c, "sender")));
      out.add(m);
    }
    return out;
  }

  static boolean hasReceivers(Object signal, Model<?> model) {
    java.util.Objects.requireNonNull(model, "Vireo: hasReceivers needs a model");
    return RT.booleanCast(Clj.call("vireo.signals/has-receivers?", signal, model.toClojure()));
  }

  private static Object bindings(Object signal, List<? extends JavaReceiver> fs) {
    return Clj.mapOf(new Object[] {signal, Clj.vec(fs.toArray())});
  }

  static <T> T withReceivers(Object signal, List<? extends JavaReceiver> fs, Supplier<T> body) {
    java.util.Objects.requireNonNull(body, "Vireo: withReceivers needs a body");
    AFunction f = new AFunction() {
      @Override
      public Object invoke() {
        return body.get();
      }
    };
    return Database.cast(Clj.call("vireo.signals/with-receivers*", bindings(signal, fs), f));
  }

  static <T> CompletableFuture<T> aioWithReceivers(Object signal, List<? extends JavaReceiver> fs,
      Supplier<? extends CompletionStage<T>> body) {
    return Clj.guard(() -> {
      java.util.Objects.requireNonNull(body, "Vireo: aioWithReceivers needs a body");
      AFunction f = new AFunction() {
        @Override
        public Object invoke() {
          return Clj.toClojureFuture(body.get());
        }
      };
      return Clj.aio(Database::cast, "vireo.signals/with-receivers*", bindings(signal, fs), f);
    });
  }

  /** The results of a send's [receiver result] pairs. */
  static List<Object> results(Object pairs) {
    List<Object> out = new ArrayList<>();
    for (Object p : Clj.list(pairs)) {
      out.add(Clj.toJava(RT.nth(p, 1)));
    }
    return out;
  }
}
