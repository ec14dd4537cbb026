package io.tributary.cluster.mapping;

import io.tributary.api.EventSource;
import io.tributary.api.EventSourceMapping;
import io.tributary.api.Invocation;
import io.tributary.api.LambdaException;
import io.tributary.cluster.invoke.Dispatcher;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Invokes a mapping's function with a batch and says what came of it, the same way for both loops
 * ({@link QueueLoop}, {@link ShardLoop}). The invoke goes through the node's Dispatcher, synchronous
 * and never forwarded, so the function's concurrency limits apply; its {@link Dispatcher.Result}
 * becomes an {@link Outcome}:
 * <ul>
 *   <li>{@code Ran} without a function error: {@link Outcome.Processed}, with the items a partial
 *       batch response ({@code ReportBatchItemFailures}) names as failed, and under a tumbling window
 *       the {@code state} object of the response, the window's new state;</li>
 *   <li>{@code Ran} with a function error, a window's response without a state, or a malformed
 *       partial batch response: {@link Outcome.FunctionFailed} (a stream bisects or retries it);</li>
 *   <li>{@code Refused} (throttled, unknown function or qualifier), {@code Forward} (no slot here),
 *       a failed or timed-out call: {@link Outcome.NotRun}, only retried later; a refusal with 404
 *       says the function is {@code gone}.</li>
 * </ul>
 * A tumbling window's batch carries the window and its state in its event; the window's final
 * invoke ({@link #finalInvoke}) has no records and needs no state back.
 */
final class BatchInvoker {

  /** AWS's longest function timeout and a margin: an invoke always ends within it. */
  static final Duration INVOKE_TIMEOUT = Duration.ofSeconds(910);

  /**
   * How the function is invoked: in production the node's {@link Dispatcher.Invoker}, synchronous
   * and never forwarded. The answer may complete on any thread.
   */
  @FunctionalInterface
  interface Invoke {
    CompletionStage<Dispatcher.Result> invoke(String functionName, String qualifier, Invocation invocation);
  }

  /** What came of an invoke; never a failed future. */
  sealed interface Outcome {

    /**
     * The function processed the batch, but for {@code failedItems} (item ids, from a partial batch
     * response); {@code state}: a tumbling window's new state (null without a window, and after a
     * final invoke).
     */
    record Processed(Set<String> failedItems, String state, Dispatcher.Ran ran) implements Outcome {}

    /** The function ran and failed: an error, or a response a mapping cannot use. */
    record FunctionFailed(String problem, Dispatcher.Ran ran) implements Outcome {}

    /**
     * The function did not run: a throttle, a refusal, no slot on this node, a failed call;
     * {@code gone}: the function (or the qualifier the mapping names) does not exist.
     */
    record NotRun(String problem, boolean gone) implements Outcome {}
  }

  private final EventSourceMapping mapping;
  private final Invoke invoke;

  BatchInvoker(EventSourceMapping mapping, Invoke invoke) {
    this.mapping = mapping;
    this.invoke = invoke;
  }

  /** Invokes the function with {@code batch}, in {@code window} when the lane has one (else null). */
  CompletableFuture<Outcome> invoke(EventSource.Batch batch, TumblingWindow window) {
    byte[] event = window == null ? batch.event()
        : window.event(batch.event(), batch.shard(), mapping.eventSourceArn(), false, false);
    return call(batch, event);
  }

  /**
   * The final invoke of {@code window} on shard {@code shardId}: no records, the window's state,
   * {@code isFinalInvokeForWindow}, and {@code isWindowTerminatedEarly} when {@code early}.
   */
  CompletableFuture<Outcome> finalInvoke(TumblingWindow window, String shardId, boolean early) {
    return call(null, window.event(null, shardId, mapping.eventSourceArn(), true, early));
  }

  private CompletableFuture<Outcome> call(EventSource.Batch batch, byte[] event) {
    Invocation invocation = new Invocation(UUID.randomUUID().toString(), mapping.functionArn(), event, null, null,
        false);
    return invoke.invoke(mapping.functionName(), mapping.qualifier(), invocation).toCompletableFuture()
        .orTimeout(INVOKE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .handle((result, failure) -> failure != null
            ? new Outcome.NotRun("Function call failed: " + failure, false) : outcome(batch, result));
  }

  /** {@code batch} null: a window's final invoke. */
  Outcome outcome(EventSource.Batch batch, Dispatcher.Result result) {
    if (result instanceof Dispatcher.Refused refused) {
      LambdaException error = refused.error().toException();
      return new Outcome.NotRun(error.errorType() + ": " + error.getMessage(), error.status() == 404);
    }
    if (!(result instanceof Dispatcher.Ran ran)) {
      return new Outcome.NotRun("Function call failed: the invoke was not run on this node", false);
    }
    if (ran.result().functionError() != null) {
      return new Outcome.FunctionFailed("Function call failed (" + ran.result().functionError() + ")", ran);
    }
    String state = null;
    if (batch != null && mapping.tumblingWindow() > 0) {
      state = TumblingWindow.stateOf(ran.result().payload());
      if (state == null) {
        return new Outcome.FunctionFailed("Function call failed (with a tumbling window its response must hold a"
            + " state object: {\"state\": {...}})", ran);
      }
    }
    if (batch == null || !mapping.reportsItemFailures()) {
      return new Outcome.Processed(Set.of(), state, ran);
    }
    String windowState = state;
    return PartialBatchResponse.failedItems(ran.result().payload(), batch.itemIds())
        .<Outcome>map(failed -> new Outcome.Processed(failed, windowState, ran))
        .orElseGet(() -> new Outcome.FunctionFailed("Function call failed (its batchItemFailures response is"
            + " malformed)", ran));
  }
}
