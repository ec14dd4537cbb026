package io.tributary.cluster.mapping;

import io.tributary.api.EventSourceMapping;
import io.tributary.cluster.ClusterMessage;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * Reads one shard of a stream mapping whose shards Tributary places itself (Kinesis, DynamoDB
 * Streams): a sharded entity per (mapping, shard), so the shard has one reader in the cluster and
 * moves to another node when its node leaves. The leader's {@link MappingPollers} sends {@link Run}
 * every refresh to each shard that may be read (its parents finished); a poller that hears nothing
 * for a while (the mapping was disabled or deleted, the shard finished) stops. Its thread claims
 * the shard in {@link StreamCheckpoints} (a higher epoch), opens it at the checkpoint as a
 * {@link CheckpointedShard}, which writes each checkpoint under the epoch while the next batch is
 * read, and runs the {@link ShardLoop} on it: a poller whose epoch was taken over stops at its next
 * checkpoint, without writing. The entity type key keeps its first name, {@code StreamShardPoller}
 * (the nodes' shard regions meet under it).
 */
public final class ShardPoller {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "StreamShardPoller");

  public sealed interface Command extends ClusterMessage {}

  /** Read the shard with these settings (restarting if they changed); sent again every refresh. */
  public record Run(EventSourceMapping mapping) implements Command {}

  /** Stop reading now (the mapping was disabled). */
  public record Halt(String reason) implements Command {}

  private enum Check implements Command { INSTANCE }

  public static String entityId(String uuid, String shard) {
    return uuid + "/" + shard;
  }

  public static void init(ClusterSharding sharding, QueuePoller.Deps deps, StreamCheckpoints checkpoints,
                          Duration idleAfter) {
    sharding.init(Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), deps, checkpoints, idleAfter)));
  }

  static Behavior<Command> create(String entityId, QueuePoller.Deps deps, StreamCheckpoints checkpoints,
                                  Duration idleAfter) {
    String shard = entityId.substring(entityId.indexOf('/') + 1);
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Check.INSTANCE, idleAfter.dividedBy(2));
      return new ShardPoller(ctx, shard, deps, checkpoints, idleAfter).idle();
    }));
  }

  private final ActorContext<Command> context;
  private final String shard;
  private final QueuePoller.Deps deps;
  private final StreamCheckpoints checkpoints;
  private final Duration idleAfter;
  private EventSourceMapping mapping;
  private AtomicBoolean running;
  private long lastRunNanos;

  private ShardPoller(ActorContext<Command> context, String shard, QueuePoller.Deps deps,
                            StreamCheckpoints checkpoints, Duration idleAfter) {
    this.context = context;
    this.shard = shard;
    this.deps = deps;
    this.checkpoints = checkpoints;
    this.idleAfter = idleAfter;
  }

  private Behavior<Command> idle() {
    return Behaviors.receive(Command.class)
        .onMessage(Run.class, this::onRun)
        .onMessage(Halt.class, halt -> stop())
        .onMessageEquals(Check.INSTANCE, () -> {
          boolean quiet = System.nanoTime() - lastRunNanos > idleAfter.toNanos();
          boolean done = running != null && !running.get();
          return quiet || done ? stop() : Behaviors.same();
        })
        .onSignal(PostStop.class, stop -> {
          if (running != null) {
            running.set(false);
          }
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Command> stop() {
    if (running != null) {
      running.set(false);
      deps.streamLoops().remove(running);
    }
    return Behaviors.stopped();
  }

  private Behavior<Command> onRun(Run run) {
    lastRunNanos = System.nanoTime();
    if (running != null && running.get() && mapping.equals(run.mapping().withState(mapping.state(),
        mapping.stateTransitionReason(), mapping.lastProcessingResult()))) {
      return Behaviors.same();
    }
    if (running != null) {
      running.set(false);
    }
    mapping = run.mapping();
    AtomicBoolean flag = new AtomicBoolean(true);
    running = flag;
    deps.streamLoops().removeIf(f -> !f.get());
    deps.streamLoops().add(flag);
    EventSourceMapping reading = mapping;
    Thread thread = new Thread(() -> new ShardLoop(LoopContext.of(reading, deps, flag),
        () -> open(reading, flag)).run(), "shard-" + reading.uuid() + "-" + shard);
    thread.setDaemon(true);
    thread.start();
    return Behaviors.same();
  }

  /** Claims the shard and opens it at its checkpoint; a finished shard stops the poller. */
  private ShardSource open(EventSourceMapping m, AtomicBoolean flag) {
    StreamCheckpoints.Checkpoint claimed;
    try {
      claimed = checkpoints.claim(m.uuid(), shard).toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while claiming " + shard, e);
    } catch (Exception e) {
      throw new IllegalStateException("Could not claim shard " + shard + " in Cassandra: " + e.getMessage(), e);
    }
    if (claimed.finished()) {
      flag.set(false);
      throw new IllegalStateException("shard " + shard + " is finished");
    }
    return new CheckpointedShard(deps.sources().openShard(m, shard, claimed.position()), m.uuid(), shard,
        claimed.epoch(), claimed.position(), claimed.window(), checkpoints, flag);
  }
}
