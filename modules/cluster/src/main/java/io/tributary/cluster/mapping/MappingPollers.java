package io.tributary.cluster.mapping;

import io.tributary.api.EventSource;
import io.tributary.api.EventSourceMapping;
import io.tributary.cluster.ClusterMessage;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * One per node: runs a {@link QueuePoller} for every enabled mapping in the registry ({@link EventSourceMappingEntity.Registry}),
 * which it reads every {@code refresh}, and stops those whose mapping was disabled, changed or
 * deleted (a changed one starts again with its new settings). Every node runs pollers for every
 * mapping; the source decides who reads what (a Kafka consumer group spreads the partitions), so a
 * node that dies only hands its share to the others, and no request is needed to start anything.
 * For streams whose shards Tributary places (Kinesis), the leader (the first member up) lists the
 * shards every refresh and wakes a {@link ShardPoller} per shard that may be read.
 */
public final class MappingPollers {

  public sealed interface Command {}

  /** The node shuts down: every poller stops (Kafka hands its partitions to the other nodes). */
  public enum Stop implements Command { INSTANCE }

  /** Every node's instance is registered under this key, for the operations view. */
  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "mapping-pollers");

  /** What this node's pollers of mapping {@code uuid} did, per shard. */
  public record GetShards(String uuid, ActorRef<NodeShards> replyTo) implements Command, ClusterMessage {}

  /** {@code node}: the node's address; {@code shards}: empty when it reads nothing of the mapping. */
  public record NodeShards(String node, List<PollerStats.Shard> shards) implements ClusterMessage {}

  private enum Refresh implements Command { INSTANCE }

  private record Refreshed(List<EventSourceMapping> mappings, Throwable failure) implements Command {}

  private record Running(EventSourceMapping mapping, int loops, ActorRef<QueuePoller.Command> poller) {}

  /** The leader listed a stream's shards and read their checkpoints (or failed to). */
  private record Listed(EventSourceMapping mapping, List<EventSource.Shard> shards,
                        Map<String, StreamCheckpoints.Checkpoint> checkpoints, Throwable failure) implements Command {}

  /**
   * Most loops one node runs for a queue: each holds a long poll open on the queue endpoint's
   * shared client (64 connections).
   */
  static final int MAX_QUEUE_LOOPS = 32;

  private final ActorContext<Command> context;
  private final EventSourceMappingEntity.Registry registry;
  private final QueuePoller.Deps deps;
  private final StreamCheckpoints checkpoints;
  private final Map<String, Running> running = new HashMap<>();
  /** On the leader: the shards of each stream mapping it last placed, and the listings under way. */
  private final Map<String, List<String>> placed = new HashMap<>();
  private final Set<String> listing = new HashSet<>();
  private final Map<String, Integer> listFailures = new HashMap<>();
  private int generation;

  private MappingPollers(ActorContext<Command> context, EventSourceMappingEntity.Registry registry, QueuePoller.Deps deps,
                         StreamCheckpoints checkpoints) {
    this.context = context;
    this.registry = registry;
    this.deps = deps;
    this.checkpoints = checkpoints;
  }

  public static Behavior<Command> create(EventSourceMappingEntity.Registry registry, QueuePoller.Deps deps,
                                         StreamCheckpoints checkpoints, Duration refresh) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      timers.startTimerWithFixedDelay(Refresh.INSTANCE, Duration.ZERO, refresh);
      return new MappingPollers(ctx, registry, deps, checkpoints).behavior();
    }));
  }

  private Behavior<Command> behavior() {
    return Behaviors.receive(Command.class)
        .onMessageEquals(Refresh.INSTANCE, () -> {
          context.pipeToSelf(registry.all(), Refreshed::new);
          return Behaviors.same();
        })
        .onMessage(Refreshed.class, this::onRefreshed)
        .onMessage(Listed.class, this::onListed)
        .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
        .onMessage(GetShards.class, get -> {
          get.replyTo().tell(new NodeShards(context.getSystem().address().toString(),
              deps.stats().of(get.uuid())));
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Command> onRefreshed(Refreshed refreshed) {
    if (refreshed.failure() != null) {
      context.getLog().debug("Could not read the event source mappings: {}", refreshed.failure().toString());
      return Behaviors.same();
    }
    Set<String> wanted = new HashSet<>();
    boolean leader = leader();
    for (EventSourceMapping m : refreshed.mappings()) {
      if (m.placesShards()) {
        if (leader) {
          placeShards(m);
        }
        if (m.enabled()) {
          continue;
        }
      }
      if (!m.enabled()) {
        if (m.state().equals(EventSourceMapping.DISABLING) && !running.containsKey(m.uuid())) {
          deps.sharding().entityRefFor(EventSourceMappingEntity.TYPE_KEY, m.uuid())
              .tell(new EventSourceMappingEntity.Report(EventSourceMapping.DISABLED, null));
        }
        continue;
      }
      if (m.state().equals(EventSourceMapping.DELETING)) {
        continue;
      }
      int loops = loops(m);
      if (loops == 0) {
        continue;
      }
      wanted.add(m.uuid());
      Running current = running.get(m.uuid());
      if (current != null && current.loops() == loops && sameSettings(current.mapping(), m)) {
        continue;
      }
      if (current != null) {
        context.stop(current.poller());
      }
      running.put(m.uuid(), new Running(m, loops, context.spawn(QueuePoller.create(m, deps, loops),
          "poller-" + m.uuid() + "-" + (++generation))));
    }
    // A deleted mapping's row is gone: the leader halts the shards it had woken at once.
    Set<String> listed = new HashSet<>();
    refreshed.mappings().forEach(m -> listed.add(m.uuid()));
    placed.entrySet().removeIf(e -> {
      if (listed.contains(e.getKey())) {
        return false;
      }
      halt(e.getKey(), e.getValue());
      return true;
    });
    running.entrySet().removeIf(e -> {
      if (!wanted.contains(e.getKey())) {
        context.stop(e.getValue().poller());
        deps.stats().forget(e.getKey());
        return true;
      }
      return false;
    });
    return Behaviors.same();
  }

  /**
   * On the leader, for a mapping whose shards Tributary places: an enabled one has its shards
   * listed and each shard that may be read (not finished, its parents finished or gone) woken
   * where sharding puts it; a disabled or deleted one has the shards it had halted.
   */
  private void placeShards(EventSourceMapping m) {
    if (!m.enabled() || m.state().equals(EventSourceMapping.DELETING)) {
      List<String> shards = placed.remove(m.uuid());
      if (shards != null) {
        halt(m.uuid(), shards);
      }
      return;
    }
    if (!listing.add(m.uuid())) {
      return;
    }
    var blocking = context.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    context.pipeToSelf(CompletableFuture.supplyAsync(() -> deps.sources().shards(m), blocking)
            .thenCombine(checkpoints.all(m.uuid()), (shards, saved) -> new Listed(m, shards, saved, null)),
        (listed, failure) -> listed != null ? listed : new Listed(m, List.of(), Map.of(), failure));
  }

  private void halt(String uuid, List<String> shards) {
    shards.forEach(shard -> deps.sharding().entityRefFor(ShardPoller.TYPE_KEY,
        ShardPoller.entityId(uuid, shard)).tell(new ShardPoller.Halt("disabled or deleted")));
  }

  private Behavior<Command> onListed(Listed listed) {
    EventSourceMapping m = listed.mapping();
    listing.remove(m.uuid());
    if (listed.failure() != null) {
      Throwable cause = listed.failure().getCause() != null ? listed.failure().getCause() : listed.failure();
      int failures = listFailures.merge(m.uuid(), 1, Integer::sum);
      if (failures == 1 || failures % 30 == 0) {
        context.getLog().warn("Event source mapping {} cannot list the shards of {} ({} in a row): {}", m.uuid(),
            m.eventSourceArn(), failures, cause.getMessage());
      }
      deps.sharding().entityRefFor(EventSourceMappingEntity.TYPE_KEY, m.uuid())
          .tell(new EventSourceMappingEntity.Report(null, "PROBLEM: Connection error. " + cause.getMessage()));
      return Behaviors.same();
    }
    listFailures.remove(m.uuid());
    Set<String> listedIds = new HashSet<>();
    listed.shards().forEach(shard -> listedIds.add(shard.id()));
    List<String> woken = new java.util.ArrayList<>();
    for (EventSource.Shard shard : listed.shards()) {
      if (finished(listed, shard.id())) {
        continue;
      }
      boolean parentsDone = shard.parents().stream()
          .allMatch(parent -> !listedIds.contains(parent) || finished(listed, parent));
      if (parentsDone) {
        woken.add(shard.id());
        deps.sharding().entityRefFor(ShardPoller.TYPE_KEY, ShardPoller.entityId(m.uuid(), shard.id()))
            .tell(new ShardPoller.Run(m));
      }
    }
    placed.put(m.uuid(), woken);
    return Behaviors.same();
  }

  private static boolean finished(Listed listed, String shard) {
    StreamCheckpoints.Checkpoint checkpoint = listed.checkpoints().get(shard);
    return checkpoint != null && checkpoint.finished();
  }

  /** The members that are up, in address order. */
  private List<Address> upMembers() {
    List<Address> up = new java.util.ArrayList<>();
    Cluster.get(context.getSystem()).state().getMembers().forEach(member -> {
      if (member.status().equals(MemberStatus.up())) {
        up.add(member.address());
      }
    });
    up.sort(Address.addressOrdering());
    return up;
  }

  /** The node that places stream shards: the first member that is up, in address order. */
  private boolean leader() {
    List<Address> up = upMembers();
    return !up.isEmpty() && up.get(0).equals(Cluster.get(context.getSystem()).selfMember().address());
  }

  /**
   * How many batches of mapping {@code m} this node works on at once. A Kafka mapping: one
   * consumer (its group spreads the partitions). A queue: {@code queuePollers}, or with
   * {@code ScalingConfig.MaximumConcurrency} this node's share of it, the members that are up
   * splitting it evenly (so the cluster never runs more), 0 when there are more nodes than it allows.
   */
  private int loops(EventSourceMapping m) {
    if (m.isKafka()) {
      return 1;
    }
    if (m.maximumConcurrency() == null) {
      return Math.max(1, deps.queuePollers());
    }
    List<Address> up = upMembers();
    int index = up.indexOf(Cluster.get(context.getSystem()).selfMember().address());
    if (index < 0) {
      return 0;
    }
    int max = m.maximumConcurrency();
    return Math.min(MAX_QUEUE_LOOPS, max / up.size() + (index < max % up.size() ? 1 : 0));
  }

  /** What a running poller was started with; state and results change without a restart. */
  private static boolean sameSettings(EventSourceMapping a, EventSourceMapping b) {
    return a.batchSize() == b.batchSize() && a.maximumBatchingWindowInSeconds() == b.maximumBatchingWindowInSeconds()
        && a.functionArn().equals(b.functionArn()) && a.filterPatterns().equals(b.filterPatterns())
        && a.functionResponseTypes().equals(b.functionResponseTypes()) && a.errors().equals(b.errors())
        && Objects.equals(a.maximumConcurrency(), b.maximumConcurrency());
  }
}
