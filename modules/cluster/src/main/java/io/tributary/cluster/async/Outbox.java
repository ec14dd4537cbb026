package io.tributary.cluster.async;

import io.tributary.api.Arns;
import io.tributary.api.Destination;
import io.tributary.cluster.delivery.InvocationRecord;
import io.tributary.cluster.delivery.RetrySchedule;
import io.tributary.cluster.invoke.Dispatcher;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * A queue partition's destination outbox: what its finished events still owe before they may be
 * journaled as finished. An event that ends owes, per its qualifier's {@code EventInvokeConfig}
 * and the dead-letter target of the version that ran:
 *
 * <ul>
 *   <li>Success: its invocation record to {@code OnSuccess};</li>
 *   <li>RetriesExhausted or EventAgeExceeded: its invocation record to {@code OnFailure}, and the
 *       event itself (with {@code RequestID}, {@code ErrorCode}, {@code ErrorMessage}) to the
 *       dead-letter target;</li>
 *   <li>nothing when its configuration names none of these; it then finishes at once and the
 *       outbox never holds it. A {@code Dropped} event (function or payload gone) never comes here.</li>
 * </ul>
 *
 * <p>A function destination gets its record as an Event invoke ({@link EventInvoker}); any other
 * target goes through the node's {@link Destination.Resolver}. The partition sends each {@link Send}
 * ({@link #send}) and hands back what came of it ({@link #settle}): a failure is sent again after the
 * schedule's backoff, doubling per failure in a row; a refusal for good ({@link Destination.Rejected})
 * settles the send like an acceptance, and the event is only dead-lettered if its dead-letter queue
 * accepted it. Once every send of an event is settled, the event is {@link Done}. The outbox lives in
 * memory: after a crash the event is still queued and delivered again, so its records are sent at
 * least once and never lost. It is used on its partition's thread only.
 */
final class Outbox {

  /** What a dead-letter queue gets for an event whose payload is gone: a message body cannot be empty. */
  private static final byte[] NULL = "null".getBytes(StandardCharsets.UTF_8);

  /** How a function destination gets an invocation record: as an Event invoke of that function ({@link Intake}). */
  @FunctionalInterface
  interface EventInvoker {
    CompletionStage<?> accept(String functionName, String qualifier, String requestId, byte[] payload);
  }

  /** Something a finished event owes: its invocation record to a destination, or itself to its dead-letter queue. */
  record Send(String requestId, String target, boolean deadLetter) {}

  /** What came of one attempt to send. */
  sealed interface Sent permits Accepted, Refused, Failed {}

  /** The target took it durably. */
  record Accepted() implements Sent {}

  /** The target refused it for a reason that sending again will not change. */
  record Refused(String reason) implements Sent {}

  /** It did not get there; sending again may help. */
  record Failed(Throwable cause) implements Sent {}

  /** What the partition does after a send came back ({@link #settle}). */
  sealed interface Next permits Stale, Owing, SendAgain, Done {}

  /** The send is no longer owed (its event was purged, or the send already settled): nothing to do. */
  record Stale() implements Next {}

  /** The event still owes other sends. */
  record Owing() implements Next {}

  /** The send failed for the {@code failures}-th time in a row: send it again after {@code delay}. */
  record SendAgain(Duration delay, int failures) implements Next {}

  /** Every send of the event is settled: it may be finished as {@code condition}. */
  record Done(String condition, int attempts, boolean deadLettered) implements Next {}

  /**
   * A finished event whose {@code sends} are still owed; {@code payload} null until read,
   * {@code response} null when the function never answered.
   */
  private record Outgoing(String condition, int attempts, List<Send> sends, String recordId, String functionArn,
                          byte[] payload, Dispatcher.Ran response, boolean deadLettered) {

    Outgoing without(Send settled, boolean accepted) {
      List<Send> left = new ArrayList<>(sends);
      left.remove(settled);
      return new Outgoing(condition, attempts, List.copyOf(left), recordId, functionArn, payload, response,
          deadLettered || (accepted && settled.deadLetter()));
    }
  }

  private final String functionName;
  private final Arns arns;
  private final EventQueueStore store;
  private final Destination.Resolver destinations;
  private final EventInvoker functions;
  private final RetrySchedule schedule;
  private final Clock clock;
  private final Map<String, Outgoing> held = new HashMap<>();
  /** Failed sends in a row, per event and target. */
  private final Map<Send, Integer> failures = new HashMap<>();

  Outbox(String functionName, Arns arns, EventQueueStore store, Destination.Resolver destinations,
         EventInvoker functions, RetrySchedule schedule, Clock clock) {
    this.functionName = functionName;
    this.arns = arns;
    this.store = store;
    this.destinations = destinations;
    this.functions = functions;
    this.schedule = schedule;
    this.clock = clock;
  }

  /** What event {@code requestId}, ended as {@code condition}, owes under {@code async} (null: the node's defaults). */
  static List<Send> owed(String requestId, String condition, Dispatcher.AsyncTarget async) {
    if (async == null) {
      return List.of();
    }
    List<Send> sends = new ArrayList<>(2);
    boolean success = condition.equals("Success");
    if (async.config() != null) {
      String destination = success ? async.config().onSuccess() : async.config().onFailure();
      if (destination != null) {
        sends.add(new Send(requestId, destination, false));
      }
    }
    if (!success && async.deadLetterTarget() != null) {
      sends.add(new Send(requestId, async.deadLetterTarget(), true));
    }
    return List.copyOf(sends);
  }

  /**
   * Holds event {@code requestId} of {@code qualifier} until what it owes is settled, and answers
   * the sends to start; none when it owes nothing, and then the outbox does not hold it.
   * {@code payload} null when not at hand (read when sent), {@code response} null when the function
   * never answered.
   */
  List<Send> hold(String requestId, String qualifier, String condition, int attempts, Dispatcher.AsyncTarget async,
                  byte[] payload, Dispatcher.Ran response) {
    List<Send> sends = owed(requestId, condition, async);
    if (!sends.isEmpty()) {
      held.put(requestId, new Outgoing(condition, attempts, sends, UUID.randomUUID().toString(),
          arns.functionArn(functionName, qualifier), payload, response, false));
    }
    return sends;
  }

  /** Whether {@code send} is still owed. */
  boolean owes(Send send) {
    Outgoing outgoing = held.get(send.requestId());
    return outgoing != null && outgoing.sends().contains(send);
  }

  /** Sends what {@code send} owes (it must be {@link #owes owed}); completes, never exceptionally, with what came of it. */
  CompletionStage<Sent> send(Send send) {
    Outgoing outgoing = held.get(send.requestId());
    CompletionStage<byte[]> payload = outgoing.payload() != null
        ? CompletableFuture.completedFuture(outgoing.payload())
        : store.payload(send.requestId()).thenApply(found -> found.orElse(null));
    long now = clock.millis();
    return payload.thenCompose(bytes -> deliver(send, outgoing, bytes, now)).handle((done, failure) -> sent(failure));
  }

  private CompletionStage<?> deliver(Send send, Outgoing outgoing, byte[] payload, long now) {
    String id = send.requestId();
    if (send.target().startsWith(arns.functionArn(""))) {
      Arns.FunctionRef target = arns.parseFunction(send.target());
      return functions.accept(target.name(), target.qualifier(), outgoing.recordId(), InvocationRecord.of(id,
          outgoing.functionArn(), outgoing.condition(), outgoing.attempts(), payload, outgoing.response(), now));
    }
    Destination.Message message = send.deadLetter()
        ? new Destination.Message(id, payload == null ? NULL : payload,
            InvocationRecord.deadLetterAttributes(id, outgoing.condition(), outgoing.response()))
        : new Destination.Message(id, InvocationRecord.of(id, outgoing.functionArn(), outgoing.condition(),
            outgoing.attempts(), payload, outgoing.response(), now), Map.of());
    return destinations.resolve(send.target()).send(message);
  }

  private static Sent sent(Throwable failure) {
    Throwable cause = failure instanceof CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    if (cause == null) {
      return new Accepted();
    }
    return cause instanceof Destination.Rejected rejected ? new Refused(rejected.getMessage()) : new Failed(cause);
  }

  /** Takes in what came of {@code send}, and says what to do next. */
  Next settle(Send send, Sent sent) {
    if (!owes(send)) {
      return new Stale();
    }
    if (sent instanceof Failed) {
      int inARow = failures.merge(send, 1, Integer::sum);
      return new SendAgain(schedule.backoff(inARow), inARow);
    }
    failures.remove(send);
    Outgoing left = held.get(send.requestId()).without(send, sent instanceof Accepted);
    if (!left.sends().isEmpty()) {
      held.put(send.requestId(), left);
      return new Owing();
    }
    held.remove(send.requestId());
    return new Done(left.condition(), left.attempts(), left.deadLettered());
  }

  /** Drops everything held (the function was deleted), and answers the events it held. */
  Set<String> clear() {
    Set<String> dropped = Set.copyOf(held.keySet());
    held.clear();
    failures.clear();
    return dropped;
  }
}
