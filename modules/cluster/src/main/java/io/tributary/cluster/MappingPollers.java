package io.tributary.cluster;

import io.tributary.api.EventSourceMapping;
import io.tributary.cluster.store.MappingRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * One per node: runs a {@link ShardPoller} for every enabled mapping in the {@link MappingRegistry},
 * which it reads every {@code refresh}, and stops those whose mapping was disabled, changed or
 * deleted (a changed one starts again with its new settings). Every node runs pollers for every
 * mapping; the source decides who reads what (a Kafka consumer group spreads the partitions), so a
 * node that dies only hands its share to the others, and no request is needed to start anything.
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

  private record Running(EventSourceMapping mapping, int loops, ActorRef<ShardPoller.Command> poller) {}

  /**
   * Most loops one node runs for a queue: each holds a long poll open on the queue endpoint's
   * shared client (64 connections).
   */
  static final int MAX_QUEUE_LOOPS = 32;

  private final ActorContext<Command> context;
  private final MappingRegistry registry;
  private final ShardPoller.Deps deps;
  private final Map<String, Running> running = new HashMap<>();
  private int generation;

  private MappingPollers(ActorContext<Command> context, MappingRegistry registry, ShardPoller.Deps deps) {
    this.context = context;
    this.registry = registry;
    this.deps = deps;
  }

  public static Behavior<Command> create(MappingRegistry registry, ShardPoller.Deps deps, Duration refresh) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      timers.startTimerWithFixedDelay(Refresh.INSTANCE, Duration.ZERO, refresh);
      return new MappingPollers(ctx, registry, deps).behavior();
    }));
  }

  private Behavior<Command> behavior() {
    return Behaviors.receive(Command.class)
        .onMessageEquals(Refresh.INSTANCE, () -> {
          context.pipeToSelf(registry.all(), Refreshed::new);
          return Behaviors.same();
        })
        .onMessage(Refreshed.class, this::onRefreshed)
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
    for (EventSourceMapping m : refreshed.mappings()) {
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
      running.put(m.uuid(), new Running(m, loops, context.spawn(ShardPoller.create(m, deps, loops),
          "poller-" + m.uuid() + "-" + (++generation))));
    }
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
    Cluster cluster = Cluster.get(context.getSystem());
    List<Address> up = new java.util.ArrayList<>();
    cluster.state().getMembers().forEach(member -> {
      if (member.status().equals(MemberStatus.up())) {
        up.add(member.address());
      }
    });
    up.sort(Address.addressOrdering());
    int index = up.indexOf(cluster.selfMember().address());
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
