package io.tributary.cluster.mapping;

import io.tributary.api.EventSource;
import io.tributary.api.EventSourceMapping;
import io.tributary.cluster.delivery.RetrySchedule;
import io.tributary.cluster.invoke.Dispatcher;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Reads one mapping's whole source on this node (a Kafka consumer in the mapping's group, or
 * readers of an SQS queue) with {@code loops} threads, each running a {@link QueueLoop}. The actor
 * starts the threads and stops them: it takes no messages.
 */
public final class QueuePoller {

  /** A poller takes no messages: it is started, and stopped. */
  public interface Command {}

  private QueuePoller() {}

  /**
   * Everything a poller needs from its node. {@code queuePollers}: loops per node for a queue
   * (SQS) with no {@code MaximumConcurrency}; a Kafka mapping has one, its group spreads the rest.
   * {@code streamLoops}: the running flags of this node's {@link ShardPoller} threads, which
   * the node clears when it shuts down, before the source clients close (the entities themselves
   * stop later, with sharding).
   */
  public record Deps(EventSource.Factory sources, Dispatcher.Invoker dispatcher, ClusterSharding sharding,
                     RetrySchedule schedule, int queuePollers, PollerStats stats, Set<AtomicBoolean> streamLoops) {
    public Deps(EventSource.Factory sources, Dispatcher.Invoker dispatcher, ClusterSharding sharding,
                RetrySchedule schedule, int queuePollers, PollerStats stats) {
      this(sources, dispatcher, sharding, schedule, queuePollers, stats, ConcurrentHashMap.newKeySet());
    }

    /** The node shuts down: its stream shard pollers stop reading. */
    public void stopStreamLoops() {
      streamLoops.forEach(flag -> flag.set(false));
    }
  }

  /** {@code loops}: how many threads read the source on this node (each one batch at a time). */
  public static Behavior<Command> create(EventSourceMapping mapping, Deps deps, int loops) {
    return Behaviors.setup(ctx -> {
      AtomicBoolean running = new AtomicBoolean(true);
      for (int i = 0; i < loops; i++) {
        Thread thread = new Thread(() -> new QueueLoop(LoopContext.of(mapping, deps, running),
            () -> deps.sources().open(mapping)).run(), "poller-" + mapping.uuid() + "-" + i);
        thread.setDaemon(true);
        thread.start();
      }
      return Behaviors.receive(Command.class)
          .onSignal(PostStop.class, stop -> {
            running.set(false);
            return Behaviors.same();
          })
          .build();
    });
  }
}
