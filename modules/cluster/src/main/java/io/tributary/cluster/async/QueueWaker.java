package io.tributary.cluster.async;

import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;

/**
 * One per partition of the asynchronous queues, kept running somewhere in the cluster by a
 * sharded daemon process: every {@code interval} it wakes the queues of its partition that are
 * listed as holding events. A queue that was on a node that died, or on every node of a cluster
 * that restarted, so resumes without waiting for a request.
 */
public final class QueueWaker {

  public sealed interface Command {}

  private enum WakeAll implements Command { INSTANCE }

  private record Found(List<String> functions, Throwable failure) implements Command {}

  private QueueWaker() {}

  public static void init(ActorSystem<?> system, ClusterSharding sharding, EventQueueStore store, int partitions,
                          Duration interval) {
    ShardedDaemonProcess.get(system).init(Command.class, "async-queue-waker", partitions,
        partition -> create(partition, sharding, store, interval));
  }

  static Behavior<Command> create(int partition, ClusterSharding sharding, EventQueueStore store, Duration interval) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.setLoggerName(QueueWaker.class);
      timers.startTimerWithFixedDelay(WakeAll.INSTANCE, Duration.ZERO, interval);
      boolean[] reading = {false};
      int[] failures = {0};
      return Behaviors.receive(Command.class)
          .onMessageEquals(WakeAll.INSTANCE, () -> {
            if (!reading[0]) {
              reading[0] = true;
              ctx.pipeToSelf(store.queued(partition), Found::new);
            }
            return Behaviors.same();
          })
          .onMessage(Found.class, found -> {
            reading[0] = false;
            if (found.failure() != null) {
              if (failures[0]++ % 12 == 0) {
                ctx.getLog().warn("Cannot read the queues of partition {} ({} times in a row): {}", partition,
                    failures[0], found.failure().toString());
              }
              return Behaviors.same();
            }
            failures[0] = 0;
            for (String function : found.functions()) {
              sharding.entityRefFor(AsyncQueueEntity.TYPE_KEY, AsyncQueueEntity.entityId(function, partition))
                  .tell(AsyncQueueEntity.Wake.INSTANCE);
            }
            return Behaviors.same();
          })
          .build();
    }));
  }
}
