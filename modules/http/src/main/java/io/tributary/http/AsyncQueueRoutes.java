package io.tributary.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.api.Arns;
import io.tributary.cluster.async.Intake;
import io.tributary.cluster.function.FunctionEntity;
import java.time.Clock;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /tributary/functions/{fn}/async-queue} (Tributary's own, SigV4-signed like the rest):
 * a function's asynchronous queue over all its partitions: events waiting, the oldest one's age,
 * deliveries running, events waiting for a retry, and how many ended in each condition. And
 * {@code GET /tributary/functions/{fn}/async-events/{requestId}}: one event, queued or finished.
 */
final class AsyncQueueRoutes extends AllDirectives {

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

  Route route() {
    return concat(
        path(segment("tributary").slash("functions").slash(segment()).slash("async-queue"),
            fn -> get(() -> completeWithFuture(queue(fn)))),
        path(segment("tributary").slash("functions").slash(segment()).slash("async-events").slash(segment()),
            (fn, requestId) -> get(() -> completeWithFuture(event(fn, requestId)))));
  }

  /** One event by its request id: queued (with its attempts and next try) or finished (how, when). */
  private CompletionStage<HttpResponse> event(String reference, String requestId) {
    String name = FunctionRoutes.ref(arns, reference, null).name();
    return intake.lookup(name, requestId).thenApply(where -> {
      ObjectNode o = JsonBody.MAPPER.createObjectNode();
      o.put("RequestId", requestId);
      o.put("FunctionName", name);
      if (where.queued() != null) {
        var q = where.queued();
        o.put("Status", q.running() ? "Running" : q.attempts() > 0 ? "Retrying" : "Queued");
        o.put("Attempts", q.attempts());
        o.put("AcceptedAt", java.time.Instant.ofEpochMilli(q.acceptedAtMillis()).toString());
        if (!q.running() && q.nextAttemptAtMillis() > clock.millis()) {
          o.put("NextAttemptAt", java.time.Instant.ofEpochMilli(q.nextAttemptAtMillis()).toString());
        }
      } else if (where.ended() != null) {
        o.put("Status", "Finished");
        o.put("Condition", where.ended().condition());
        o.put("Attempts", where.ended().attempts());
        o.put("FinishedAt", where.ended().finishedAt().toString());
      } else {
        throw io.tributary.api.LambdaException.notFound("No event " + requestId + " of function " + name
            + ": not accepted for it, or finished longer ago than tributary.async.outcome-retention.");
      }
      return Responses.json(200, o);
    });
  }

  private CompletionStage<HttpResponse> queue(String reference) {
    String name = FunctionRoutes.ref(arns, reference, null).name();
    return asker.<FunctionEntity.FunctionView>ask(name, r -> new FunctionEntity.Get(null, r))
        .thenCompose(exists -> intake.stats(name))
        .thenApply(stats -> {
          ObjectNode o = JsonBody.MAPPER.createObjectNode();
          o.put("FunctionName", name);
          o.put("ApproximateDepth", stats.depth());
          o.put("OldestEventAgeSeconds", stats.oldestAcceptedAtMillis() == 0 ? 0
              : Math.max(0, (clock.millis() - stats.oldestAcceptedAtMillis()) / 1000));
          o.put("InFlight", stats.inFlight());
          o.put("Retrying", stats.retrying());
          o.put("DeadLettered", stats.deadLettered());
          ObjectNode outcomes = o.putObject("Outcomes");
          stats.finished().forEach(outcomes::put);
          return Responses.json(200, o);
        });
  }
}
