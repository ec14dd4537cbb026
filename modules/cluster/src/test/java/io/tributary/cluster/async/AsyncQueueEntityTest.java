package io.tributary.cluster.async;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.tributary.api.Arns;
import io.tributary.api.Destination;
import io.tributary.api.EventInvokeConfig;
import io.tributary.api.Invocation;
import io.tributary.api.InvocationResult;
import io.tributary.api.LambdaError;
import io.tributary.api.LambdaException;
import io.tributary.cluster.ManualClock;
import io.tributary.cluster.Reply;
import io.tributary.cluster.async.AsyncQueueEntity.Command;
import io.tributary.cluster.async.AsyncQueueEntity.Enqueue;
import io.tributary.cluster.async.AsyncQueueEntity.Event;
import io.tributary.cluster.async.AsyncQueueEntity.EventAccepted;
import io.tributary.cluster.async.AsyncQueueEntity.EventFinished;
import io.tributary.cluster.async.AsyncQueueEntity.EventStatus;
import io.tributary.cluster.async.AsyncQueueEntity.EventsCommitted;
import io.tributary.cluster.async.AsyncQueueEntity.GetEvent;
import io.tributary.cluster.async.AsyncQueueEntity.GetStats;
import io.tributary.cluster.async.AsyncQueueEntity.Pending;
import io.tributary.cluster.async.AsyncQueueEntity.QueueStats;
import io.tributary.cluster.async.AsyncQueueEntity.RetryScheduled;
import io.tributary.cluster.async.AsyncQueueEntity.State;
import io.tributary.cluster.delivery.RetrySchedule;
import io.tributary.cluster.invoke.Dispatcher;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A queue partition driven as its node drives it: events accepted through group commits, delivered
 * through a fake Dispatcher whose answers the test gives, retried per the schedule on a clock the
 * test moves, reported to in-memory destinations, finished; and its journal replayed by a restart.
 */
class AsyncQueueEntityTest {

  private static final ActorTestKit testKit = ActorTestKit.create(
      EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load()));
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Arns ARNS = new Arns("us-east-1", "000000000000");
  private static final AtomicInteger FUNCTIONS = new AtomicInteger();
  private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
  private static final String DESTINATION = "arn:aws:sqs:us-east-1:000000000000:outcomes";
  private static final String DLQ = "arn:aws:sqs:us-east-1:000000000000:dlq";
  private static final byte[] PAYLOAD = "{\"order\":7}".getBytes(StandardCharsets.UTF_8);
  /** AWS's function-error delays; a short backoff, as sends are retried on the actor's real-time timers. */
  private static final AsyncQueueEntity.Settings SETTINGS = new AsyncQueueEntity.Settings(4, 8, 2,
      Duration.ofHours(6), new RetrySchedule(List.of(Duration.ofMinutes(1), Duration.ofMinutes(2)),
          Duration.ofMillis(50), Duration.ofSeconds(1)),
      Duration.ofHours(7), 0, Duration.ofSeconds(5), Duration.ofSeconds(3), Duration.ofHours(1), Duration.ofDays(1));

  /** One delivery the partition started: the test answers it as the Dispatcher would. */
  private record Call(String functionName, String qualifier, Invocation invocation,
                      CompletableFuture<Dispatcher.Result> answer) {}

  private final ManualClock clock = new ManualClock(T0);
  private final InMemoryEventQueueStore store = new InMemoryEventQueueStore();
  private final InMemoryDestinations destinations = new InMemoryDestinations();
  private final BlockingQueue<Call> calls = new LinkedBlockingQueue<>();
  private final TestProbe<ClusterSharding.ShardCommand> shard = testKit.createTestProbe();
  private String functionName;
  private String persistenceId;
  private EventSourcedBehaviorTestKit<Command, Event, State> kit;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void setUp() {
    functionName = "orders-" + FUNCTIONS.incrementAndGet();
    persistenceId = "AsyncQueue|" + functionName + "#0";
    AsyncQueueEntity.Deliverer deliverer = (function, qualifier, invocation, queued) -> {
      CompletableFuture<Dispatcher.Result> answer = new CompletableFuture<>();
      calls.add(new Call(function, qualifier, invocation, answer));
      return answer;
    };
    AsyncQueueEntity.Deps deps = new AsyncQueueEntity.Deps(SETTINGS, store, deliverer,
        new Intake(new NoPartitions(), store, SETTINGS, clock), destinations, new AsyncMetrics(), ARNS, clock);
    kit = EventSourcedBehaviorTestKit.create(testKit.system(),
        AsyncQueueEntity.create(functionName + "#0", deps, shard.getRef()),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyState(false));
  }

  @Test
  void anEventIsRetriedAfterAFunctionErrorThenItsRecordGoesToItsDestinationAndItFinishes() throws Exception {
    accept("e1", "live");
    assertEquals(List.of(new EventsCommitted(List.of(), List.of(new EventAccepted("e1", "live", T0.toEpochMilli())))),
        journal(), "one group commit, before the 202");
    assertEquals(Set.of(functionName), store.queues.get(0), "listed for the waker before the 202");

    Call first = nextCall();
    assertEquals(functionName, first.functionName());
    assertEquals("live", first.qualifier());
    assertEquals("e1", first.invocation().requestId());
    assertArrayEquals(PAYLOAD, first.invocation().payload());
    first.answer().complete(ran(InvocationResult.unhandled("Boom", "it broke", null), onSuccess(DESTINATION)));

    RetryScheduled retry = new RetryScheduled("e1", 1, T0.plus(Duration.ofMinutes(1)).toEpochMilli());
    awaitJournaled(retry);
    EventStatus waiting = event("e1");
    assertTrue(waiting.queued());
    assertEquals(1, waiting.attempts());
    assertEquals(retry.retryAtMillis(), waiting.nextAttemptAtMillis());
    kit.runCommand(AsyncQueueEntity.Wake.INSTANCE);
    assertNull(calls.poll(200, TimeUnit.MILLISECONDS), "not tried again before its time");

    assertEquals(List.of(new Pending("e1", "live", T0.toEpochMilli(), 1, retry.retryAtMillis())),
        kit.restart().state().snapshot().pending(), "the retry's time survives a restart");
    assertNull(calls.poll(200, TimeUnit.MILLISECONDS), "nor after a restart");

    clock.advance(Duration.ofMinutes(1));
    destinations.failNext(DESTINATION, new IllegalStateException("connection refused"));
    kit.runCommand(AsyncQueueEntity.Wake.INSTANCE);
    Call second = nextCall();
    assertEquals("e1", second.invocation().requestId());
    second.answer().complete(ran(new InvocationResult("\"done\"".getBytes(StandardCharsets.UTF_8), null, null),
        onSuccess(DESTINATION)));

    EventFinished finished = new EventFinished("e1", "Success", 2, null);
    awaitJournaled(new EventsCommitted(List.of(finished), List.of()));
    List<Destination.Message> records = destinations.to(DESTINATION);
    assertEquals(1, records.size(), "sent again after the failure, and accepted once");
    JsonNode record = JSON.readTree(records.get(0).body());
    assertEquals("Success", record.at("/requestContext/condition").asText());
    assertEquals(2, record.at("/requestContext/approximateInvokeCount").asInt());
    assertEquals(ARNS.functionArn(functionName, "live"), record.at("/requestContext/functionArn").asText());
    assertEquals("done", record.get("responsePayload").asText());

    assertFalse(event("e1").queued());
    awaitOutcomeWritten("e1", "Success");
    QueueStats stats = stats();
    assertEquals(0, stats.depth());
    assertEquals(Map.of("Success", 1L), stats.finished());

    AsyncQueueEntity.Snapshot before = kit.getState().snapshot();
    assertEquals(before, kit.restart().state().snapshot(), "the journal replays to the same state");
    assertEquals(List.of(), before.pending());
    assertNull(calls.poll(200, TimeUnit.MILLISECONDS), "a finished event is never delivered again");
  }

  @Test
  void anEventOutOfRetriesGoesToOnFailureAndItsDeadLetterQueue() throws Exception {
    accept("e1", null);
    EventInvokeConfig noRetries = new EventInvokeConfig(0, null, null, DESTINATION, 0);
    nextCall().answer().complete(ran(InvocationResult.unhandled("Boom", "it broke", null),
        new Dispatcher.AsyncTarget(noRetries, DLQ)));

    awaitJournaled(new EventsCommitted(List.of(new EventFinished("e1", "RetriesExhausted", 1, true)), List.of()));
    JsonNode record = JSON.readTree(destinations.to(DESTINATION).get(0).body());
    assertEquals("RetriesExhausted", record.at("/requestContext/condition").asText());
    assertEquals("Unhandled", record.at("/responseContext/functionError").asText());
    Destination.Message dead = destinations.to(DLQ).get(0);
    assertArrayEquals(PAYLOAD, dead.body());
    assertEquals("it broke", dead.attributes().get("ErrorMessage"));

    QueueStats stats = stats();
    assertEquals(Map.of("RetriesExhausted", 1L), stats.finished());
    assertEquals(1, stats.deadLettered());
    AsyncQueueEntity.Snapshot replayed = kit.restart().state().snapshot();
    assertEquals(1L, replayed.deadLettered());
    assertEquals(Map.of("RetriesExhausted", 1L), replayed.finished());
  }

  @Test
  void aThrottledEventBacksOffInMemoryOnlySoARestartTriesItAtOnce() throws Exception {
    accept("e1", null);
    nextCall().answer().complete(new Dispatcher.Refused(
        LambdaError.of(new LambdaException(429, "TooManyRequestsException", "Rate Exceeded.")), null));
    EventStatus waiting = awaitStatus("e1", s -> !s.running());
    assertEquals(0, waiting.attempts(), "a throttle is not an attempt");
    assertEquals(clock.millis() + 50, waiting.nextAttemptAtMillis());
    assertEquals(1, journal().size(), "nothing journaled for a backoff");

    kit.restart();
    assertEquals("e1", nextCall().invocation().requestId());
  }

  @Test
  void aPurgeDropsQueuedEventsAndWhatTheyOwed() throws Exception {
    accept("e1", null);
    accept("e2", null);
    destinations.failNext(DESTINATION, new IllegalStateException("down"), new IllegalStateException("down"),
        new IllegalStateException("down"));
    Call first = nextCall();
    Call second = nextCall();
    (first.invocation().requestId().equals("e1") ? first : second).answer()
        .complete(ran(new InvocationResult("1".getBytes(StandardCharsets.UTF_8), null, null), onSuccess(DESTINATION)));
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(5), () -> {
      assertTrue(destinations.tried.contains(DESTINATION), "e1's record is owed and failing");
      return null;
    });

    kit.runCommand(AsyncQueueEntity.Purge.INSTANCE);
    awaitJournaled(new EventsCommitted(List.of(new EventFinished("e1", "Dropped", 0, null),
        new EventFinished("e2", "Dropped", 0, null)), List.of()));
    (first.invocation().requestId().equals("e2") ? first : second).answer()
        .complete(ran(new InvocationResult("1".getBytes(StandardCharsets.UTF_8), null, null), onSuccess(null)));
    assertEquals(Map.of("Dropped", 2L), stats().finished());
    assertTrue(destinations.to(DESTINATION).isEmpty());
    Thread.sleep(200);
    assertEquals(2, journal().stream().mapToInt(e -> ((EventsCommitted) e).finished().size()).sum(),
        "neither a late answer nor a late send finishes an event twice: " + journal());
  }

  private void accept(String requestId, String qualifier) {
    store.payloads.put(requestId, PAYLOAD);
    TestProbe<Reply<Boolean>> replyTo = testKit.createTestProbe();
    kit.runCommand(new Enqueue(requestId, qualifier, clock.millis(), replyTo.getRef()));
    assertEquals(Reply.ok(Boolean.TRUE), replyTo.receiveMessage());
  }

  private Call nextCall() throws InterruptedException {
    Call call = calls.poll(5, TimeUnit.SECONDS);
    assertNotNull(call, "a delivery was started");
    return call;
  }

  private static Dispatcher.Ran ran(InvocationResult result, Dispatcher.AsyncTarget async) {
    return new Dispatcher.Ran(result, "3", async);
  }

  private static Dispatcher.AsyncTarget onSuccess(String destination) {
    return new Dispatcher.AsyncTarget(new EventInvokeConfig(null, null, destination, null, 0), null);
  }

  private List<Object> journal() {
    return kit.persistenceTestKit().persistedInStorage(persistenceId);
  }

  private void awaitJournaled(Event event) {
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(5), () -> {
      assertTrue(journal().contains(event), "journaled: " + event + " in " + journal());
      return null;
    });
  }

  private void awaitOutcomeWritten(String requestId, String condition) {
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(condition, store.outcome(functionName, 0, requestId, clock.instant()).toCompletableFuture().join()
          .map(EventQueueStore.Outcome::condition).orElse(null));
      return null;
    });
  }

  private EventStatus event(String requestId) {
    return kit.<EventStatus>runCommand(replyTo -> new GetEvent(requestId, replyTo)).reply();
  }

  private EventStatus awaitStatus(String requestId, Predicate<EventStatus> wanted) {
    return testKit.createTestProbe().awaitAssert(Duration.ofSeconds(5), () -> {
      EventStatus status = event(requestId);
      assertTrue(wanted.test(status), "status of " + requestId + ": " + status);
      return status;
    });
  }

  private QueueStats stats() {
    return kit.<QueueStats>runCommand(GetStats::new).reply();
  }

  /** A clock the test moves: the partition reads all its time from it. */


  /** No function destinations in these tests: their path is {@link OutboxTest}'s. */
  private static final class NoPartitions implements Intake.Partitions {
    @Override
    public <R> CompletionStage<R> ask(String entityId, Function<ActorRef<R>, Command> message, Duration timeout) {
      return CompletableFuture.failedFuture(new UnsupportedOperationException("no partitions here"));
    }

    @Override
    public void tell(String entityId, Command command) {
    }

    @Override
    public void release(String entityId) {
    }
  }
}
