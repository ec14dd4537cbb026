package io.tributary.cluster.mapping;

import io.tributary.api.EventSource;
import io.tributary.api.EventSourceMapping;
import io.tributary.cluster.ClusterMessage;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one shard of a stream mapping whose shards Tributary places itself (Kinesis): a sharded
 * entity per (mapping, shard), so the shard has one reader in the cluster and moves to another
 * node when its node leaves. The leader's {@link MappingPollers} sends {@link Run} every refresh
 * to each shard that may be read (its parents finished); a poller that hears nothing for a while
 * (the mapping was disabled or deleted, the shard finished) stops. Its thread claims the shard in
 * {@link StreamCheckpoints} (a higher epoch), reads from the checkpoint, runs the {@link PollLoop},
 * and writes each checkpoint under its epoch, while it reads the next batch: a poller whose epoch
 * was taken over stops at its next checkpoint, without writing.
 */
public final class ShardPoller {

  private static final Logger log = LoggerFactory.getLogger(ShardPoller.class);

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "ShardPoller");

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
    Thread thread = new Thread(() -> new PollLoop(reading, deps, flag,
        () -> open(reading, flag)).run(), "shard-" + reading.uuid() + "-" + shard);
    thread.setDaemon(true);
    thread.start();
    return Behaviors.same();
  }

  /** Claims the shard and opens it at its checkpoint; a finished shard stops the poller. */
  private EventSource open(EventSourceMapping m, AtomicBoolean flag) {
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
    return new Checkpointed(deps.sources().openShard(m, shard, claimed.position()), m.uuid(), shard,
        claimed.epoch(), claimed.position(), claimed.window(), checkpoints, flag);
  }

  /**
   * The shard's source, whose checkpoints are also written to Cassandra under the poller's epoch,
   * with the tumbling window open at them.
   */
  static final class Checkpointed implements EventSource {
    private final EventSource source;
    private final String uuid;
    private final String shard;
    private final long epoch;
    private final StreamCheckpoints checkpoints;
    private final AtomicBoolean running;
    private String position;
    private StreamCheckpoints.Window window;

    Checkpointed(EventSource source, String uuid, String shard, long epoch, String position,
                 StreamCheckpoints.Window window, StreamCheckpoints checkpoints, AtomicBoolean running) {
      this.source = source;
      this.uuid = uuid;
      this.shard = shard;
      this.epoch = epoch;
      this.position = position;
      this.window = window;
      this.checkpoints = checkpoints;
      this.running = running;
    }

    String shardId() {
      return shard;
    }

    /** The tumbling window open at the checkpoint the poller started from, or null. */
    StreamCheckpoints.Window window() {
      return window;
    }

    /** The tumbling window to store with the next checkpoint; {@code now}: store it at the current one at once. */
    void window(StreamCheckpoints.Window open, boolean now) {
      window = open;
      if (now) {
        settle();
        save(position, false);
      }
    }

    /** The shard was read to its end and everything in it was processed: it is finished, and the poller stops. */
    void finish() {
      settle();
      save(position, true);
      settle();
      running.set(false);
      log.debug("Shard {} of event source mapping {} is finished", shard, uuid);
    }

    /** The checkpoint being written, if any: one at a time, overlapping the shard's next read. */
    private java.util.concurrent.CompletableFuture<Boolean> writing;
    private String writingPosition;

    /** Waits for the checkpoint being written; a poller whose shard was taken over stops here. */
    private void settle() {
      if (writing == null) {
        return;
      }
      boolean ours;
      try {
        ours = writing.get(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while checkpointing " + shard, e);
      } catch (Exception e) {
        throw new IllegalStateException("Could not write the checkpoint of " + shard + ": " + e.getMessage(), e);
      } finally {
        writing = null;
      }
      if (!ours) {
        running.set(false);
        log.info("Shard {} of event source mapping {} was taken over by another poller; this one stops", shard, uuid);
        throw new IllegalStateException("shard " + shard + " was taken over");
      }
      position = writingPosition;
    }

    private void save(String at, boolean finished) {
      settle();
      writingPosition = at;
      writing = checkpoints.save(uuid, shard, epoch, at, finished, window).toCompletableFuture();
    }

    @Override
    public List<Batch> poll(Duration wait, int maxRecords) {
      return source.poll(wait, maxRecords);
    }

    @Override
    public List<Batch> lanes(Batch batch, int count) {
      return source.lanes(batch, count);
    }

    /** Written while the shard's next batch is read and invoked; waited for before the next one. */
    @Override
    public void checkpoint(Batch batch, Set<String> failed) {
      source.checkpoint(batch, failed);
      save(batch.lastPosition(), false);
    }

    @Override
    public void rewind(Batch batch) {
      source.rewind(batch);
    }

    @Override
    public Map<String, Long> lag() {
      return source.lag();
    }

    @Override
    public Map<String, Long> lagMillis() {
      return source.lagMillis();
    }

    @Override
    public Batch slice(Batch batch, int from, int to) {
      return source.slice(batch, from, to);
    }

    @Override
    public List<io.tributary.api.Destination.Message> originals(Batch batch) {
      return source.originals(batch);
    }

    @Override
    public Map<String, Object> batchInfo(Batch batch) {
      return source.batchInfo(batch);
    }

    @Override
    public void pause(String shard) {
      source.pause(shard);
    }

    @Override
    public void resume(String shard) {
      source.resume(shard);
    }

    @Override
    public boolean ended() {
      return source.ended();
    }

    @Override
    public void close() {
      try {
        settle();
      } catch (RuntimeException e) {
        log.debug("The last checkpoint of shard {} was not written: {}", shard, e.getMessage());
      } finally {
        source.close();
      }
    }
  }
}
