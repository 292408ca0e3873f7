package io.vireo;

import clojure.lang.AFunction;
import clojure.lang.Reduced;
import clojure.lang.Var;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.function.Function;

/**
 * The rows of a select (a model query, plain query data or a SQL string)
 * as a {@link Flow.Publisher}, streamed over a server-side cursor with
 * back-pressure: the one place the facade turns Vireo's streams
 * ({@code aio-stream}) into Reactive Streams. Made by
 * {@link SelectQuery#publisher()}, {@link Database#publisher(String, Object...)}
 * and {@link Database#publisher(Query)}.
 *
 * <p>It is cold: each subscription runs the query anew, starting at its first
 * {@code request(n)} with the Vireo scope (transaction, connection) that was
 * current where the publisher was made. A row is handed to {@code onNext}
 * only against demand; without demand the stream waits and the next batch is
 * not fetched. {@code cancel()} stops it: the cursor is closed and the
 * connection returned. A failure (the query's, or an exception thrown by
 * {@code onNext}) is passed to {@code onError} as Vireo's exception (or that
 * exception). Signals are delivered on Vireo's threads (a Vert.x event loop):
 * a subscriber must not block there.
 *
 * @param <T> the row type
 */
final class RowPublisher<T> implements Flow.Publisher<T> {
  private final Object target;
  private final Object query;
  private final Object opts;
  private final Function<Object, T> conv;
  private final Object frame;

  RowPublisher(Object target, Object query, Object opts, Function<Object, T> conv) {
    this.target = target;
    this.query = query;
    this.opts = opts;
    this.conv = conv;
    this.frame = Var.getThreadBindingFrame();
  }

  @Override
  public void subscribe(Flow.Subscriber<? super T> subscriber) {
    Objects.requireNonNull(subscriber, "Vireo: subscribe needs a subscriber");
    Subscription s = new Subscription(subscriber);
    try {
      subscriber.onSubscribe(s);
    } catch (Throwable t) {
      s.cancel();
      throw t;
    }
  }

  private final class Subscription extends AFunction implements Flow.Subscription {
    private static final long serialVersionUID = 1L;
    private final Flow.Subscriber<? super T> subscriber;
    // guarded by this
    private long demand;
    private boolean started;
    private boolean cancelled;
    private boolean terminated;
    private CompletableFuture<Object> pending; // the stream waits on it for demand
    private Object pendingRow;
    private Object pendingAcc;
    private CompletableFuture<Object> stream;
    private boolean emitting; // inside onNext: a cancel() there stops the stream when onNext returns

    Subscription(Flow.Subscriber<? super T> subscriber) {
      this.subscriber = subscriber;
    }

    @Override
    public void request(long n) {
      boolean start = false;
      CompletableFuture<Object> resume = null;
      Object row = null;
      Object acc = null;
      synchronized (this) {
        if (cancelled || terminated) {
          return;
        }
        if (n <= 0) {
          cancelled = true;
          terminated = true;
          resume = pending;
          acc = pendingAcc;
          pending = null;
        } else {
          demand = demand + n < 0 ? Long.MAX_VALUE : demand + n; // at most Long.MAX_VALUE: unbounded
          if (!started) {
            started = true;
            start = true;
          } else if (pending != null) {
            demand--;
            resume = pending;
            row = pendingRow;
            acc = pendingAcc;
            pending = null;
            pendingRow = null;
          }
        }
      }
      if (n <= 0) {
        if (resume != null) {
          resume.complete(new Reduced(acc));
        } else {
          cancelStream();
        }
        subscriber.onError(new IllegalArgumentException(
            "Vireo: request(n) needs n > 0 (Reactive Streams rule 3.9), got " + n));
        return;
      }
      if (start) {
        start();
      } else if (resume != null) {
        emit(resume, row, acc);
      }
    }

    /** Hands a row waiting for demand to the subscriber, then lets the stream go on. */
    private void emit(CompletableFuture<Object> resume, Object row, Object acc) {
      try {
        next(row);
      } catch (Throwable t) {
        resume.completeExceptionally(t);
        return;
      }
      resume.complete(afterNext(acc));
    }

    private void next(Object row) {
      synchronized (this) {
        emitting = true;
      }
      try {
        subscriber.onNext(conv.apply(row));
      } finally {
        synchronized (this) {
          emitting = false;
        }
      }
    }

    /** The accumulator to go on with, or a stop when the subscriber cancelled in onNext. */
    private synchronized Object afterNext(Object acc) {
      return cancelled ? new Reduced(acc) : acc;
    }

    @Override
    public void cancel() {
      CompletableFuture<Object> resume;
      Object acc;
      synchronized (this) {
        if (cancelled) {
          return;
        }
        cancelled = true;
        if (emitting) {
          return; // the stream stops as onNext returns
        }
        resume = pending;
        acc = pendingAcc;
        pending = null;
        pendingRow = null;
      }
      if (resume != null) {
        resume.complete(new Reduced(acc)); // the stream stops: cursor closed, connection returned
      } else {
        cancelStream();
      }
    }

    /** Cancels the running stream (a fetch in flight): its statement and cursor are closed. */
    private void cancelStream() {
      CompletableFuture<Object> s;
      synchronized (this) {
        s = stream;
      }
      if (s != null) {
        s.cancel(true);
      }
    }

    private void start() {
      Object prev = Var.getThreadBindingFrame();
      Var.resetThreadBindingFrame(frame);
      CompletableFuture<Object> s;
      try {
        s = Clj.aio(v -> v, "aio-stream", Clj.array(target, query, opts, this, 0L));
      } finally {
        Var.resetThreadBindingFrame(prev);
      }
      boolean cancelNow;
      synchronized (this) {
        stream = s;
        cancelNow = cancelled && pending == null;
      }
      if (cancelNow) {
        s.cancel(true);
      }
      s.whenComplete((v, e) -> {
        synchronized (this) {
          if (terminated) {
            return;
          }
          terminated = true;
          if (cancelled) {
            return;
          }
        }
        if (e == null) {
          subscriber.onComplete();
        } else {
          subscriber.onError(Clj.mapError(e));
        }
      });
    }

    /** The stream's reducing function: (acc, row) -> acc after onNext, or a future waiting for demand. */
    @Override
    public Object invoke(Object acc, Object row) {
      synchronized (this) {
        if (cancelled) {
          return new Reduced(acc);
        }
        if (demand == 0) {
          CompletableFuture<Object> wait = Clj.bridge().newFuture();
          pending = wait;
          pendingRow = row;
          pendingAcc = acc;
          return wait;
        }
        demand--;
      }
      next(row);
      return afterNext(acc);
    }
  }
}
