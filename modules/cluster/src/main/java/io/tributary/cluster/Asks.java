package io.tributary.cluster;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * Pekko's ask answers with Scala's CompletableFuture, whose non-async callbacks (thenApply, handle,
 * whenComplete…) run on the common pool; on 2 cores that pool has parallelism 1, so the JDK starts a
 * new thread for every callback. Every ask result goes through {@link #on} before anything is
 * chained to it.
 */
public final class Asks {

  private Asks() {}

  /** The same outcome as a plain CompletableFuture, completed on {@code executor} (an actor system's). */
  public static <T> CompletionStage<T> on(CompletionStage<T> askResult, Executor executor) {
    return askResult.thenApplyAsync(value -> value, executor);
  }
}
