package io.tributary.cluster.push;

import io.tributary.api.EventBus;
import io.tributary.api.EventRule;
import io.tributary.cluster.Asks;
import io.tributary.cluster.Reply;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;

/**
 * One in the cluster, kept running somewhere by a sharded daemon process: every {@code interval} it
 * reads the default bus's rules and tells the {@link ScheduleEntity} of each rule with a schedule
 * to {@link ScheduleEntity.Refresh}, and of each that had one at the last look and has none now.
 * So a schedule runs again within the interval after its node was lost or the cluster restarted,
 * and a schedule whose rule went while its node was away stops.
 */
public final class ScheduleWaker {

  public sealed interface Command {}

  private enum WakeAll implements Command { INSTANCE }

  private record Found(Reply<EventBusEntity.RuleSet> rules, Throwable failure) implements Command {}

  private ScheduleWaker() {}

  public static void init(ActorSystem<?> system, ClusterSharding sharding, Duration askTimeout, Duration interval) {
    ShardedDaemonProcess.get(system).init(Command.class, "schedule-waker", 1,
        instance -> create(sharding, askTimeout, interval));
  }

  static Behavior<Command> create(ClusterSharding sharding, Duration askTimeout, Duration interval) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.setLoggerName(ScheduleWaker.class);
      timers.startTimerWithFixedDelay(WakeAll.INSTANCE, Duration.ZERO, interval);
      boolean[] reading = {false};
      int[] failures = {0};
      Set<String> scheduled = new HashSet<>();
      return Behaviors.receive(Command.class)
          .onMessageEquals(WakeAll.INSTANCE, () -> {
            if (!reading[0]) {
              reading[0] = true;
              ctx.pipeToSelf(Asks.on(sharding.entityRefFor(EventBusEntity.TYPE_KEY, EventBus.DEFAULT)
                      .<Reply<EventBusEntity.RuleSet>>ask(EventBusEntity.GetRules::new, askTimeout),
                  ctx.getExecutionContext()), Found::new);
            }
            return Behaviors.same();
          })
          .onMessage(Found.class, found -> {
            reading[0] = false;
            Throwable failure = found.failure() != null ? found.failure()
                : found.rules().error() != null ? found.rules().error().toException() : null;
            if (failure != null) {
              if (failures[0]++ % 12 == 0) {
                ctx.getLog().warn("Cannot read the default bus's rules ({} times in a row), so schedules are not"
                    + " woken: {}", failures[0], failure.toString());
              }
              return Behaviors.same();
            }
            failures[0] = 0;
            Set<String> now = new HashSet<>();
            for (EventRule rule : found.rules().value().rules()) {
              if (rule.scheduleExpression() != null) {
                now.add(rule.name());
              }
            }
            Set<String> wake = new HashSet<>(now);
            wake.addAll(scheduled);
            for (String rule : wake) {
              sharding.entityRefFor(ScheduleEntity.TYPE_KEY, rule).tell(ScheduleEntity.Refresh.INSTANCE);
            }
            scheduled.clear();
            scheduled.addAll(now);
            return Behaviors.same();
          })
          .build();
    }));
  }
}
