package io.vireo;

import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import vireo.promise.ConveyingFuture;

/**
 * The future the Java facade returns: Vireo's context-conveying future whose
 * {@code join()}/{@code get()} on a Vert.x event-loop thread throw
 * {@link VireoException} ({@link ErrorType#BLOCKING_ON_EVENT_LOOP}) with advice for Java callers. Every
 * stage chained on it is one again.
 */
class JavaFuture<T> extends ConveyingFuture<T> {

  @Override
  public <U> CompletableFuture<U> newIncompleteFuture() {
    return new JavaFuture<U>();
  }

  @Override
  protected RuntimeException blockingOnEventLoop(String thread) {
    return new VireoException(ErrorType.BLOCKING_ON_EVENT_LOOP,
        "Vireo: join()/get() of an unfinished future on the Vert.x event-loop thread " + thread
            + " would deadlock it (the loop could never deliver the result); compose with"
            + " thenCompose/thenApply/whenComplete instead, or block on a worker thread"
            + " (vertx.executeBlocking, your own executor)",
        null, null, Map.of("thread", thread), null);
  }
}
