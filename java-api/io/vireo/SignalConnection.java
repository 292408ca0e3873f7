package io.vireo;

/**
 * A receiver connected with {@link Signal#connect(Model, SignalReceiver)}:
 * {@link #disconnect()} (or {@link #close()}, for try-with-resources)
 * removes it.
 */
public final class SignalConnection implements AutoCloseable {
  private final Object signal;
  private final Object sender;
  private final Object name;
  private boolean connected = true;

  /** signal: the Clojure signal value; name: the connection's name (sender: a Clojure model or null). */
  SignalConnection(Object signal, Object sender, Object name) {
    this.signal = signal;
    this.sender = sender;
    this.name = name;
  }

  /**
   * Tells whether the receiver is still connected.
   *
   * @return false after {@link #disconnect()}
   */
  public synchronized boolean isConnected() {
    return connected;
  }

  /**
   * Disconnects the receiver (idempotent): operations started afterwards
   * do not call it.
   */
  public synchronized void disconnect() {
    if (connected) {
      Clj.call("vireo.signals/disconnect!", signal,
          sender == null ? Clj.opts("name", name) : Clj.opts("name", name, "sender", sender));
      connected = false;
    }
  }

  /** Same as {@link #disconnect()}. */
  @Override
  public void close() {
    disconnect();
  }
}
