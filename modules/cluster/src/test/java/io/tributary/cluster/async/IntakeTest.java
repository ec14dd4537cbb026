package io.tributary.cluster.async;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.api.LambdaError;
import io.tributary.api.LambdaException;
import io.tributary.cluster.Reply;
import io.tributary.cluster.async.AsyncQueueEntity.Command;
import io.tributary.cluster.async.AsyncQueueEntity.Enqueue;
import io.tributary.cluster.async.AsyncQueueEntity.EventStatus;
import io.tributary.cluster.async.AsyncQueueEntity.GetEvent;
import io.tributary.cluster.async.AsyncQueueEntity.GetStats;
import io.tributary.cluster.async.AsyncQueueEntity.QueueStats;
import io.tributary.cluster.delivery.RetrySchedule;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The accepting side: which partition an event goes to, what is durable first, client tokens, lookups. */
class IntakeTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");
  private static final byte[] PAYLOAD = "{}".getBytes(StandardCharsets.UTF_8);
  private static final AsyncQueueEntity.Settings SETTINGS = new AsyncQueueEntity.Settings(4, 2, 2, Duration.ofHours(6),
      new RetrySchedule(List.of(Duration.ofMinutes(1), Duration.ofMinutes(2)), Duration.ofSeconds(1),
          Duration.ofMinutes(5)),
      Duration.ofHours(7), 0, Duration.ofSeconds(5), Duration.ofSeconds(3), Duration.ofHours(1), Duration.ofDays(1));

  /** A command a fake partition received, and whether the event's payload was stored by then. */
  private record Received(String entityId, Command command, boolean payloadStored) {}

  private final InMemoryEventQueueStore store = new InMemoryEventQueueStore();
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final Map<String, QueueStats> stats = new ConcurrentHashMap<>();
  private final Map<String, EventStatus> statuses = new ConcurrentHashMap<>();
  private volatile Reply<Boolean> enqueueReply = Reply.ok(Boolean.TRUE);
  /** Partitions that never answer, as those of a lost node before its shards move. */
  private final Set<String> silent = ConcurrentHashMap.newKeySet();
  /** Partitions whose shards are on the accepting node. */
  private final Set<Integer> here = ConcurrentHashMap.newKeySet();
  private final Intake intake = new Intake(new FakePartitions(), store, SETTINGS, Clock.fixed(NOW, ZoneOffset.UTC));

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** One actor per partition, answering as a queue partition would from what the test set. */
  private final class FakePartitions implements Intake.Partitions {
    private final Map<String, ActorRef<Command>> refs = new ConcurrentHashMap<>();

    private ActorRef<Command> ref(String entityId) {
      return refs.computeIfAbsent(entityId, id -> testKit.spawn(partition(id)));
    }

    private Behavior<Command> partition(String entityId) {
      return Behaviors.receiveMessage(command -> {
        boolean stored = command instanceof Enqueue e && store.payloads.containsKey(e.requestId());
        received.add(new Received(entityId, command, stored));
        if (command instanceof Enqueue e) {
          if (!silent.contains(entityId)) {
            e.replyTo().tell(enqueueReply);
          }
        } else if (command instanceof GetStats get) {
          get.replyTo().tell(stats.getOrDefault(entityId, new QueueStats(0, 0, 0, 0, Map.of(), 0, 0, 0, Map.of(), 0)));
        } else if (command instanceof GetEvent get) {
          get.replyTo().tell(statuses.getOrDefault(get.requestId(), new EventStatus(false, false, 0, 0, 0, null)));
        }
        return Behaviors.same();
      });
    }

    @Override
    public <R> CompletionStage<R> ask(String entityId, Function<ActorRef<R>, Command> message, Duration timeout) {
      return AskPattern.ask(ref(entityId), message::apply, timeout, testKit.scheduler());
    }

    @Override
    public void tell(String entityId, Command command) {
      ref(entityId).tell(command);
    }

    @Override
    public void release(String entityId) {
    }

    @Override
    public CompletionStage<Set<Integer>> hostedHere(String functionName, int count, Duration timeout) {
      return java.util.concurrent.CompletableFuture.completedFuture(Set.copyOf(here));
    }
  }

  private List<Received> enqueued() {
    return received.stream().filter(r -> r.command() instanceof Enqueue).toList();
  }

  private static int partitionOf(String requestId) {
    return Math.floorMod(requestId.hashCode(), SETTINGS.partitions());
  }

  @Test
  void anEventGoesToItsIdsPartitionOnceItsPayloadIsStored() {
    String id = intake.newRequestId("orders");
    intake.accept("orders", "live", id, PAYLOAD).toCompletableFuture().join();

    Received only = enqueued().get(0);
    assertEquals("orders#" + partitionOf(id), only.entityId());
    assertTrue(only.payloadStored(), "the payload is durable before the event is queued");
    Enqueue enqueue = (Enqueue) only.command();
    assertEquals(id, enqueue.requestId());
    assertEquals("live", enqueue.qualifier());
    assertEquals(NOW.toEpochMilli(), enqueue.acceptedAtMillis());
    assertArrayEquals(PAYLOAD, store.payloads.get(id));
  }

  @Test
  void aNodesAcceptsShareAPartitionForARunThenMoveOn() {
    for (int i = 0; i < 8; i++) {
      intake.accept("orders", null, intake.newRequestId("orders"), PAYLOAD).toCompletableFuture().join();
    }
    List<String> partitions = enqueued().stream().map(Received::entityId).toList();
    for (int run = 0; run < 4; run++) {
      assertEquals(partitions.get(2 * run), partitions.get(2 * run + 1), "a run of in-flight (2) accepts: " + partitions);
    }
    assertEquals(4, Set.copyOf(partitions).size(), "then each partition in turn: " + partitions);
  }

  @Test
  void anEventWhosePartitionDoesNotAnswerIsAcceptedOnAnotherWhichLaterOnesUseAtOnce() {
    silent.add("orders#1");
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < 8; i++) {
      ids.add(intake.acceptNew("orders", null, PAYLOAD).toCompletableFuture().join());
    }
    assertEquals(8, Set.copyOf(ids).size(), "every event accepted, each under its own id");
    assertTrue(ids.stream().noneMatch(id -> partitionOf(id) == 1), "none on the partition that did not answer: " + ids);
    assertEquals(1, enqueued().stream().filter(r -> r.entityId().equals("orders#1")).count(),
        "it was tried once; after that it was passed over: " + enqueued());
    ids.forEach(id -> assertArrayEquals(PAYLOAD, store.payloads.get(id)));
  }

  @Test
  void afterAPartitionDoesNotAnswerTheNextTryGoesToOneOnThisNodeThoughOthersAnsweredLately() {
    for (int i = 0; i < 8; i++) {
      intake.acceptNew("orders", null, PAYLOAD).toCompletableFuture().join();
    }
    // Every partition answered lately; then the node holding 0, 1 and 2 is lost. Partition 3 is here.
    silent.addAll(List.of("orders#0", "orders#1", "orders#2"));
    here.add(3);
    received.clear();
    for (int i = 0; i < 8; i++) {
      String id = intake.acceptNew("orders", null, PAYLOAD).toCompletableFuture().join();
      assertTrue(partitionOf(id) == 3 || !silent.contains("orders#" + partitionOf(id)), id);
    }
    List<String> tried = enqueued().stream().map(Received::entityId).toList();
    for (int i = 0; i < tried.size() - 1; i++) {
      if (silent.contains(tried.get(i))) {
        assertEquals("orders#3", tried.get(i + 1), "a try after one not answered goes to this node's: " + tried);
      }
    }
  }

  @Test
  void anEventWithAClientTokenStaysOnItsIdsPartition() {
    silent.add("orders#" + partitionOf("token-id"));
    CompletionException failed = assertThrows(CompletionException.class, () -> intake.accept("orders", null,
        "token-id", PAYLOAD).toCompletableFuture().join());
    assertInstanceOf(Intake.Unanswered.class, failed.getCause(), "a repeat must find it there, so it is not moved");
  }

  @Test
  void nothingIsQueuedWhenThePayloadCannotBeStored() {
    store.failWrites = true;
    CompletionException failed = assertThrows(CompletionException.class,
        () -> intake.accept("orders", null, intake.newRequestId("orders"), PAYLOAD).toCompletableFuture().join());
    assertInstanceOf(IllegalStateException.class, failed.getCause());
    assertTrue(enqueued().isEmpty());
  }

  @Test
  void aPartitionsRefusalFailsTheAccept() {
    enqueueReply = new Reply<>(null, LambdaError.of(LambdaException.service("could not be listed")));
    CompletionException failed = assertThrows(CompletionException.class,
        () -> intake.accept("orders", null, intake.newRequestId("orders"), PAYLOAD).toCompletableFuture().join());
    assertEquals(500, assertInstanceOf(LambdaException.class, failed.getCause()).status());
  }

  @Test
  void aRepeatedClientTokenGetsTheFirstRequestIdAndQueuesNothing() {
    String first = intake.acceptOnce("orders", null, "first-id", PAYLOAD, "token-1").toCompletableFuture().join();
    String repeat = intake.acceptOnce("orders", null, "second-id", PAYLOAD, "token-1").toCompletableFuture().join();
    String other = intake.acceptOnce("orders", null, "third-id", PAYLOAD, "token-2").toCompletableFuture().join();

    assertEquals("first-id", first);
    assertEquals("first-id", repeat);
    assertEquals("third-id", other);
    assertEquals(List.of("first-id", "third-id"),
        enqueued().stream().map(r -> ((Enqueue) r.command()).requestId()).toList());
    assertEquals(new EventQueueStore.Claim("first-id", true), store.tokens.get("orders/token-1"));
  }

  @Test
  void aTokenNeverConfirmedAcceptsTheEventAgainUnderTheFirstId() {
    store.tokens.put("orders/token-1", new EventQueueStore.Claim("first-id", false));
    String id = intake.acceptOnce("orders", null, "second-id", PAYLOAD, "token-1").toCompletableFuture().join();

    assertEquals("first-id", id);
    Received again = enqueued().get(0);
    assertEquals("orders#" + partitionOf("first-id"), again.entityId(), "where the first went, which dedupes it");
    assertEquals("first-id", ((Enqueue) again.command()).requestId());
    assertTrue(store.tokens.get("orders/token-1").accepted());
  }

  @Test
  void aLookupAsksTheIdsPartitionThenTheStore() {
    EventStatus queued = new EventStatus(true, false, 1, 5, 60_000, null);
    statuses.put("queued", queued);
    statuses.put("unwritten", new EventStatus(false, false, 0, 0, 0,
        new EventQueueStore.Finished("unwritten", "Success", 1, NOW.toEpochMilli())));
    store.recordOutcomes("orders", partitionOf("written"),
        List.of(new EventQueueStore.Finished("written", "RetriesExhausted", 3, NOW.toEpochMilli())));

    assertEquals(new Intake.Whereabouts(queued, null), lookup("queued"));
    assertEquals(new Intake.Whereabouts(null, new EventQueueStore.Outcome("orders", "Success", 1, NOW)),
        lookup("unwritten"));
    assertEquals(new Intake.Whereabouts(null, new EventQueueStore.Outcome("orders", "RetriesExhausted", 3, NOW)),
        lookup("written"));
    assertEquals(new Intake.Whereabouts(null, null), lookup("unknown"));
    assertEquals(List.of("orders#" + partitionOf("queued"), "orders#" + partitionOf("unwritten"),
        "orders#" + partitionOf("written"), "orders#" + partitionOf("unknown")),
        received.stream().map(Received::entityId).toList());
  }

  private Intake.Whereabouts lookup(String requestId) {
    return intake.lookup("orders", requestId).toCompletableFuture().join();
  }

  @Test
  void statsAddThePartitionsUp() {
    stats.put("orders#0", new QueueStats(2, 3_000, 1, 1, Map.of("Success", 5L), 1, 4, 1,
        Map.of("ReservedFunctionConcurrentInvocationLimitExceeded", 2L), 30));
    stats.put("orders#2", new QueueStats(1, 2_000, 1, 0, Map.of("Success", 1L, "Dropped", 2L), 0, 2, 0,
        Map.of("ReservedFunctionConcurrentInvocationLimitExceeded", 1L, "ConcurrentInvocationLimitExceeded", 1L), 12));
    QueueStats total = intake.stats("orders").toCompletableFuture().join();
    assertEquals(new QueueStats(3, 2_000, 2, 1, Map.of("Success", 6L, "Dropped", 2L), 1, 6, 1,
        Map.of("ReservedFunctionConcurrentInvocationLimitExceeded", 3L, "ConcurrentInvocationLimitExceeded", 1L), 42),
        total);
    assertEquals(4, received.size(), "every partition asked");
  }

  @Test
  void aPurgeReachesEveryPartition() {
    intake.purge("orders");
    // Asked after the purge was told, so each partition has had its purge by the time it answers.
    intake.stats("orders").toCompletableFuture().join();
    assertEquals(Set.of("orders#0", "orders#1", "orders#2", "orders#3"), Set.copyOf(received.stream()
        .filter(r -> r.command() == AsyncQueueEntity.Purge.INSTANCE).map(Received::entityId).toList()));
  }
}
