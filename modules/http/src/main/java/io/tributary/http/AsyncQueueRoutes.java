package io.tributary.http;

import com.fasterxml.jackson.annotation.JsonInclude.Include;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.tributary.api.Arns;
import io.tributary.api.LambdaException;
import io.tributary.cluster.async.Intake;
import io.tributary.cluster.function.FunctionEntity;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * {@code GET /tributary/functions/{fn}/async-queue} (Tributary's own, SigV4-signed like the rest):
 * a function's asynchronous queue over all its partitions: events waiting, the oldest one's age,
 * deliveries running, events waiting for concurrency and for a retry time, the drain rate,
 * throttles by reason, and how many ended in each condition. And
 * {@code GET /tributary/functions/{fn}/async-events/{requestId}}: one event, queued or finished.
 */
final class AsyncQueueRoutes {

  /**
   * {@code drainRate}: events finished per second over the last 10 s; {@code throttles}: deliveries
   * refused as throttled, by reason, since the partitions started.
   */
  record AsyncQueue(String functionName, long approximateDepth, long oldestEventAgeSeconds, long inFlight,
                    long retrying, long waitingForConcurrency, long waitingForRetry, double drainRate,
                    Map<String, Long> throttles, long deadLettered, Map<String, Long> outcomes) {}

  /** One event: queued (Status, Attempts, AcceptedAt, NextAttemptAt) or finished (Status, Condition, Attempts, FinishedAt). */
  @JsonInclude(Include.NON_NULL)
  record AsyncEvent(String requestId, String functionName, String status, String condition, Integer attempts,
                    String acceptedAt, String nextAttemptAt, String finishedAt) {}

  private final FunctionAsk asker;
  private final Intake intake;
  private final Arns arns;
  private final Clock clock;

  AsyncQueueRoutes(FunctionAsk asker, Intake intake, Arns arns, Clock clock) {
    this.asker = asker;
    this.intake = intake;
    this.arns = arns;
    this.clock = clock;
  }

  List<Operation> operations() {
    return List.of(
        Operation.get("GetAsyncQueue", "/tributary/functions/{FunctionName}/async-queue",
            call -> queue(call.variable(0))),
        Operation.get("GetAsyncEvent", "/tributary/functions/{FunctionName}/async-events/{RequestId}",
            call -> event(call.variable(0), call.variable(1))));
  }

  /** One event by its request id: queued (with its attempts and next try) or finished (how, when). */
  private CompletionStage<HttpResponse> event(String reference, String requestId) {
    String name = FunctionRoutes.ref(arns, reference, null).name();
    return intake.lookup(name, requestId).thenApply(where -> {
      if (where.queued() != null) {
        var q = where.queued();
        return Responses.json(200, new AsyncEvent(requestId, name,
            q.running() ? "Running" : q.attempts() > 0 ? "Retrying" : "Queued", null, q.attempts(),
            Instant.ofEpochMilli(q.acceptedAtMillis()).toString(),
            !q.running() && q.nextAttemptAtMillis() > clock.millis()
                ? Instant.ofEpochMilli(q.nextAttemptAtMillis()).toString() : null, null));
      }
      if (where.ended() != null) {
        return Responses.json(200, new AsyncEvent(requestId, name, "Finished", where.ended().condition(),
            where.ended().attempts(), null, null, where.ended().finishedAt().toString()));
      }
      throw LambdaException.notFound("No event " + requestId + " of function " + name
          + ": not accepted for it, or finished longer ago than tributary.async.outcome-retention.");
    });
  }

  private CompletionStage<HttpResponse> queue(String reference) {
    String name = FunctionRoutes.ref(arns, reference, null).name();
    return asker.<FunctionEntity.FunctionView>ask(name, r -> new FunctionEntity.Get(null, r))
        .thenCompose(exists -> intake.stats(name))
        .thenApply(stats -> Responses.json(200, new AsyncQueue(name, stats.depth(),
            stats.oldestAcceptedAtMillis() == 0 ? 0
                : Math.max(0, (clock.millis() - stats.oldestAcceptedAtMillis()) / 1000),
            stats.inFlight(), stats.retrying(), stats.waitingForConcurrency(), stats.waitingForRetry(),
            stats.drainRate(), stats.throttles(), stats.deadLettered(),
            stats.finished())));
  }
}
