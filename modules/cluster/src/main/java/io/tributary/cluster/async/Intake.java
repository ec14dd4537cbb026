package io.tributary.cluster.async;

import io.tributary.cluster.Asks;
import io.tributary.cluster.Reply;
import io.tributary.cluster.async.AsyncQueueEntity.Command;
import io.tributary.cluster.async.AsyncQueueEntity.Enqueue;
import io.tributary.cluster.async.AsyncQueueEntity.EventStatus;
import io.tributary.cluster.async.AsyncQueueEntity.GetEvent;
import io.tributary.cluster.async.AsyncQueueEntity.GetStats;
import io.tributary.cluster.async.AsyncQueueEntity.Purge;
import io.tributary.cluster.async.AsyncQueueEntity.QueueStats;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.HashCodeMessageExtractor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * The accepting side of the asynchronous queues, on every node: an Event invoke's payload is stored
 * ({@link EventQueueStore#putPayload}), then the event is queued on one of its function's
 * partitions ({@link AsyncQueueEntity.Enqueue}); {@link #accept} completes once both are durable,
 * which is when the caller may get its 202.
 *
 * <p>The partition is the hash of the request id ({@link StickyPartitions#partitionOf}), so a lookup,
 * a repeat of a client token or a purge finds it by the id alone; {@link #newRequestId} draws ids
 * that land on this node's current partition of the function, so that accepts made together share
 * that partition's group commits. A client token ({@link #acceptOnce}) is claimed in the store
 * before the event is accepted and confirmed after: a repeat within the window answers the first
 * request id, or accepts the event again under that id when the first was never confirmed, which
 * its partition dedupes.
 */
public final class Intake {

  /** How the intake reaches a function's queue partitions: {@link #sharded} on a node; actors a test spawns. */
  interface Partitions {
    <R> CompletionStage<R> ask(String entityId, Function<ActorRef<R>, Command> message, Duration timeout);

    void tell(String entityId, Command command);

    /** The intake is done with partition {@code entityId} for now (its function was deleted). */
    void release(String entityId);

    /**
     * Which of {@code functionName}'s {@code count} partitions have their shard on this node, so
     * answer unless the node itself is in trouble; none when that cannot be told within {@code timeout}.
     */
    default CompletionStage<java.util.Set<Integer>> hostedHere(String functionName, int count, Duration timeout) {
      return CompletableFuture.completedFuture(java.util.Set.of());
    }

    static Partitions sharded(ActorSystem<?> system, ClusterSharding sharding) {
      return new Sharded(system, sharding);
    }
  }

  private final Partitions partitions;
  private final EventQueueStore store;
  private final int count;
  private final Duration acceptTimeout;
  private final Duration idempotencyWindow;
  private final Clock clock;
  private final StickyPartitions sticky;

  public Intake(ActorSystem<?> system, ClusterSharding sharding, EventQueueStore store,
                AsyncQueueEntity.Settings settings, Clock clock) {
    this(Partitions.sharded(system, sharding), store, settings, clock);
  }

  Intake(Partitions partitions, EventQueueStore store, AsyncQueueEntity.Settings settings, Clock clock) {
    this.partitions = partitions;
    this.store = store;
    this.count = settings.partitions();
    this.acceptTimeout = settings.acceptTimeout();
    this.idempotencyWindow = settings.idempotencyWindow();
    this.clock = clock;
    this.sticky = new StickyPartitions(count, settings.inFlight());
  }

  /** The request id of this node's next Event invoke of {@code functionName} ({@link StickyPartitions}). */
  public String newRequestId(String functionName) {
    return sticky.requestId(functionName);
  }

  /** The partitions' stats of {@code functionName}'s queue, added up. */
  public CompletionStage<QueueStats> stats(String functionName) {
    List<CompletableFuture<QueueStats>> asks = new ArrayList<>();
    for (int partition = 0; partition < count; partition++) {
      asks.add(partitions.<QueueStats>ask(AsyncQueueEntity.entityId(functionName, partition), GetStats::new,
          acceptTimeout.multipliedBy(3)).toCompletableFuture());
    }
    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(v -> {
      int depth = 0;
      int inFlight = 0;
      int retrying = 0;
      int forConcurrency = 0;
      int forRetry = 0;
      long oldest = 0;
      long deadLettered = 0;
      long drained = 0;
      Map<String, Long> finished = new TreeMap<>();
      Map<String, Long> throttles = new TreeMap<>();
      for (CompletableFuture<QueueStats> ask : asks) {
        QueueStats s = ask.join();
        depth += s.depth();
        inFlight += s.inFlight();
        retrying += s.retrying();
        deadLettered += s.deadLettered();
        forConcurrency += s.waitingForConcurrency();
        forRetry += s.waitingForRetry();
        drained += s.drained();
        if (s.oldestAcceptedAtMillis() > 0 && (oldest == 0 || s.oldestAcceptedAtMillis() < oldest)) {
          oldest = s.oldestAcceptedAtMillis();
        }
        s.finished().forEach((condition, n) -> finished.merge(condition, n, Long::sum));
        s.throttles().forEach((reason, n) -> throttles.merge(reason, n, Long::sum));
      }
      return new QueueStats(depth, oldest, inFlight, retrying, finished, deadLettered, forConcurrency, forRetry,
          throttles, drained);
    });
  }

  /** Where an event is: {@code queued} while a partition holds it, else how it {@code ended}, else neither. */
  public record Whereabouts(EventStatus queued, EventQueueStore.Outcome ended) {}

  /** Where event {@code requestId} of {@code functionName} is: still queued, or how it ended. */
  public CompletionStage<Whereabouts> lookup(String functionName, String requestId) {
    int partition = sticky.partitionOf(requestId);
    return partitions.<EventStatus>ask(AsyncQueueEntity.entityId(functionName, partition),
            replyTo -> new GetEvent(requestId, replyTo), acceptTimeout.multipliedBy(3))
        .thenCompose(status -> status.queued() ? CompletableFuture.completedFuture(new Whereabouts(status, null))
            : status.ended() != null
                ? CompletableFuture.completedFuture(new Whereabouts(null, status.ended().outcome(functionName)))
            : store.outcome(functionName, partition, requestId, clock.instant())
                .thenApply(outcome -> new Whereabouts(null, outcome.orElse(null))));
  }

  /** Drops what every partition of {@code functionName}'s queue holds. */
  public void purge(String functionName) {
    sticky.forget(functionName);
    for (int partition = 0; partition < count; partition++) {
      String entityId = AsyncQueueEntity.entityId(functionName, partition);
      answeredAt.remove(entityId);
      unansweredUntil.remove(entityId);
      partitions.tell(entityId, Purge.INSTANCE);
      partitions.release(entityId);
    }
  }

  /** Accepts an Event invoke: completes once its payload and its event are durable, or fails. */
  public CompletionStage<Done> accept(String functionName, String qualifier, String requestId, byte[] payload) {
    return accept(functionName, qualifier, requestId, payload, acceptTimeout);
  }

  private CompletionStage<Done> accept(String functionName, String qualifier, String requestId, byte[] payload,
                                       Duration enqueueTimeout) {
    long acceptedAt = clock.millis();
    // By the request id, so that accepting the same request again finds the same partition, which dedupes it.
    String queue = AsyncQueueEntity.entityId(functionName, sticky.partitionOf(requestId));
    return store.putPayload(requestId, payload, acceptTimeout)
        .thenCompose(v -> partitions.<Reply<Boolean>>ask(queue,
            replyTo -> new Enqueue(requestId, qualifier, acceptedAt, replyTo), enqueueTimeout)
            .exceptionallyCompose(failure -> CompletableFuture.failedFuture(
                cause(failure) instanceof java.util.concurrent.TimeoutException
                    ? new Unanswered(queue, cause(failure)) : failure)))
        .thenApply(reply -> {
          if (reply.error() != null) {
            throw reply.error().toException();
          }
          return Done.getInstance();
        });
  }

  /** A partition did not answer an accept in time: its node may be lost and its shards not yet elsewhere. */
  static final class Unanswered extends RuntimeException {
    Unanswered(String queue, Throwable cause) {
      super("queue partition " + queue + " did not answer", cause);
    }
  }

  /**
   * Accepts a new Event invoke under a request id drawn here, and completes with that id. A
   * partition that does not answer within half the accept timeout (its node lost, its shards not yet
   * moved) is passed over for {@code unansweredFor} and the event goes to another partition under
   * a new id, within the other half: Event invokes promise no order, so nothing is given up. Should
   * the first partition take the event after all, it runs twice, which at-least-once allows.
   */
  public CompletionStage<String> acceptNew(String functionName, String qualifier, byte[] payload) {
    int first = sticky.nextPartition(functionName, p -> answers(functionName, p));
    return attempt(functionName, qualifier, payload, first, java.util.Set.of(), acceptTimeout.dividedBy(2));
  }

  /** The tries after the first, each after a look at the partitions here, share the accept timeout's other half. */
  private static final int LATER_TRIES = 2;

  /**
   * One try of {@link #acceptNew} on {@code partition}, within {@code timeout}; a partition that does
   * not answer is passed over, and the next try goes where {@link #next} says.
   */
  private CompletionStage<String> attempt(String functionName, String qualifier, byte[] payload, int partition,
                                          java.util.Set<Integer> tried, Duration timeout) {
    String requestId = sticky.requestIdOn(partition);
    String queue = AsyncQueueEntity.entityId(functionName, partition);
    return accept(functionName, qualifier, requestId, payload, timeout).handle((done, failure) -> {
      if (failure == null) {
        answeredAt.put(queue, clock.millis());
        return CompletableFuture.completedFuture(requestId);
      }
      if (!(cause(failure) instanceof Unanswered)) {
        return CompletableFuture.<String>failedFuture(failure);
      }
      if (unansweredUntil.put(queue, clock.millis() + UNANSWERED_FOR.toMillis()) == null) {
        LOG.warn("Event invokes of {} pass over queue partition {} for {}: it did not answer an accept within {}"
            + " (is its node lost?)", functionName, partition, UNANSWERED_FOR, timeout);
      }
      java.util.Set<Integer> excluded = new java.util.HashSet<>(tried);
      excluded.add(partition);
      if (excluded.size() > LATER_TRIES || excluded.size() >= count) {
        return CompletableFuture.<String>failedFuture(failure);
      }
      Duration lookup = acceptTimeout.dividedBy(20);
      Duration later = acceptTimeout.dividedBy(2).minus(lookup.multipliedBy(LATER_TRIES)).dividedBy(LATER_TRIES);
      return partitions.hostedHere(functionName, count, lookup).thenCompose(here -> {
        int next = next(functionName, excluded, here);
        if (excluded.contains(next)) {
          return CompletableFuture.<String>failedFuture(failure);
        }
        return attempt(functionName, qualifier, payload, next, excluded, later);
      });
    }).thenCompose(stage -> stage);
  }

  /**
   * The partition of a try after one that was not answered, never one {@code excluded}: one whose
   * shard is {@code here} on this node first, as it answers whatever node was lost; then one that
   * answered lately (others of the lost node's may not be known yet), then any not passed over.
   */
  private int next(String functionName, java.util.Set<Integer> excluded, java.util.Set<Integer> here) {
    int next = sticky.nextPartition(functionName,
        p -> !excluded.contains(p) && here.contains(p) && answers(functionName, p));
    if (excluded.contains(next) || !here.contains(next) || !answers(functionName, next)) {
      next = sticky.nextPartition(functionName, p -> !excluded.contains(p) && answeredLately(functionName, p));
    }
    if (excluded.contains(next) || !answers(functionName, next)) {
      next = sticky.nextPartition(functionName, p -> !excluded.contains(p) && answers(functionName, p));
    }
    return next;
  }

  /** How long a partition that did not answer is passed over: about the time a lost node's shards take to move. */
  static final Duration UNANSWERED_FOR = Duration.ofSeconds(30);
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Intake.class);
  private final Map<String, Long> unansweredUntil = new ConcurrentHashMap<>();
  /** When each partition last accepted an event of this node's: how long ago makes it "lately". */
  private final Map<String, Long> answeredAt = new ConcurrentHashMap<>();
  private static final Duration LATELY = Duration.ofSeconds(5);

  private boolean answeredLately(String functionName, int partition) {
    Long at = answeredAt.get(AsyncQueueEntity.entityId(functionName, partition));
    return at != null && at > clock.millis() - LATELY.toMillis() && answers(functionName, partition);
  }

  private boolean answers(String functionName, int partition) {
    String queue = AsyncQueueEntity.entityId(functionName, partition);
    Long until = unansweredUntil.get(queue);
    if (until == null) {
      return true;
    }
    if (until <= clock.millis()) {
      unansweredUntil.remove(queue, until);
      return true;
    }
    return false;
  }

  private static Throwable cause(Throwable failure) {
    Throwable t = failure;
    while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /**
   * An Event invoke with a client token: the first request with the token within the window is
   * accepted as usual; a repeat gets the first request's id and queues nothing, unless the first
   * was never confirmed accepted, in which case it is accepted now under the first id (the queue
   * dedupes it if it was). Completes with the request id to answer.
   */
  public CompletionStage<String> acceptOnce(String functionName, String qualifier, String requestId, byte[] payload,
                                            String token) {
    Duration window = idempotencyWindow;
    return store.claim(functionName, token, requestId, window, acceptTimeout).thenCompose(claim -> {
      if (claim.isPresent() && claim.get().accepted()) {
        return CompletableFuture.completedFuture(claim.get().requestId());
      }
      String id = claim.map(EventQueueStore.Claim::requestId).orElse(requestId);
      return accept(functionName, qualifier, id, payload)
          .thenCompose(done -> store.confirm(functionName, token, id, window, acceptTimeout))
          .thenApply(v -> id);
    });
  }

  /** Through cluster sharding; every answer completes on the actor system's threads ({@link Asks}). */
  private static final class Sharded implements Partitions {
    private final ActorSystem<?> system;
    private final ClusterSharding sharding;
    /** Sharding makes a new reference on every call; the queue of a function's partition keeps one. */
    private final Map<String, EntityRef<Command>> refs = new ConcurrentHashMap<>();

    /** How sharding places entities when {@link AsyncQueueEntity#init} names no extractor. */
    private final HashCodeMessageExtractor<Command> shardIds;

    Sharded(ActorSystem<?> system, ClusterSharding sharding) {
      this.system = system;
      this.sharding = sharding;
      this.shardIds = new HashCodeMessageExtractor<>(ClusterShardingSettings.create(system).numberOfShards());
    }

    private EntityRef<Command> ref(String entityId) {
      return refs.computeIfAbsent(entityId, id -> sharding.entityRefFor(AsyncQueueEntity.TYPE_KEY, id));
    }

    @Override
    public <R> CompletionStage<R> ask(String entityId, Function<ActorRef<R>, Command> message, Duration timeout) {
      return Asks.on(ref(entityId).<R>ask(message::apply, timeout), system.executionContext());
    }

    @Override
    public void tell(String entityId, Command command) {
      ref(entityId).tell(command);
    }

    @Override
    public void release(String entityId) {
      refs.remove(entityId);
    }

    @Override
    public CompletionStage<java.util.Set<Integer>> hostedHere(String functionName, int count, Duration timeout) {
      CompletionStage<ShardRegion.CurrentShardRegionState> state = AskPattern.ask(sharding.shardState(),
          replyTo -> new GetShardRegionState(AsyncQueueEntity.TYPE_KEY, replyTo), timeout, system.scheduler());
      return Asks.on(state, system.executionContext()).handle((current, failure) -> {
        if (failure != null) {
          return java.util.Set.of();
        }
        java.util.Set<String> shards = new java.util.HashSet<>();
        current.getShards().forEach(shard -> shards.add(shard.shardId()));
        java.util.Set<Integer> here = new java.util.HashSet<>();
        for (int partition = 0; partition < count; partition++) {
          if (shards.contains(shardIds.shardId(AsyncQueueEntity.entityId(functionName, partition)))) {
            here.add(partition);
          }
        }
        return here;
      });
    }
  }
}
