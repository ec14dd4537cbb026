package io.tributary.cluster.push;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.api.EventBus;
import io.tributary.api.EventRule;
import io.tributary.cluster.Asks;
import io.tributary.cluster.ClusterMessage;
import io.tributary.cluster.PersistedMessage;
import io.tributary.cluster.Reply;
import io.tributary.cluster.Restarts;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The schedule of one rule of the default bus with a {@code ScheduleExpression}: sharded by rule
 * name, event-sourced in Cassandra, it fires the rule's ticks exactly once across the cluster and
 * hands each to the rule's targets.
 *
 * <p><b>Lifecycle.</b> The entity learns its rule from the bus ({@link EventBusEntity.DescribeRule})
 * whenever it is told to {@link Refresh}: by the routes after every change of the rule, and by the
 * {@link ScheduleWaker} every few seconds (which also starts it again on another node after its node
 * was lost, or after the cluster restarted). A rule that is enabled, has a schedule and has targets
 * runs: {@code ScheduleStarted} records the expression and when it started (a rate counts its
 * periods from then, as AWS's does); a rule disabled, deleted or without targets stops
 * ({@code ScheduleStopped}), and a later start begins a new period.
 *
 * <p><b>A tick.</b> At each tick's time the entity first persists {@code TickRecorded} (the tick and
 * the targets it owes), then hands the tick to each target ({@link BusIntake#handOffTick}) and
 * persists {@code TickHandedOff} per target. The tick's event is AWS's Scheduled Event, whose id is
 * derived from the rule's ARN and the tick's time, and each hand-off is an Event invoke whose client
 * token is that id and the target's: a tick recorded but not handed off when a node is lost is
 * handed off again by the entity's next incarnation, and the token keeps the function's queue from
 * taking it twice (within {@code tributary.async.idempotency-window}). So no tick is skipped and
 * none is enqueued twice; running is at least once, as for every Event invoke.
 *
 * <p><b>Failures.</b> A hand-off that fails (a queue or Cassandra did not answer) is tried again
 * with backoff from 1 s to 1 min, under the target's {@code RetryPolicy}: after
 * {@code MaximumRetryAttempts} retries, or once the tick is older than
 * {@code MaximumEventAgeInSeconds}, it goes to the target's dead-letter queue with
 * {@code ERROR_CODE} {@code RETRY_ATTEMPTS_EXHAUSTED} and {@code EXHAUSTED_RETRY_CONDITION}.
 * A push the function's policy refuses is refused at once (see {@link BusIntake}).
 *
 * <p><b>Ticks missed while no node ran the schedule</b> (the whole cluster down): when it runs again,
 * the first missed tick fires once, at once, with its own time; the others are skipped, and the log
 * says how many. A tick late by less than {@code grace} is not missed, it just fires late.
 */
public final class ScheduleEntity extends EventSourcedBehavior<ScheduleEntity.Command, ScheduleEntity.Event,
    ScheduleEntity.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "Schedule");
  private static final Duration BACKOFF_MIN = Duration.ofSeconds(1);
  private static final Duration BACKOFF_MAX = Duration.ofMinutes(1);
  private static final int MISSED_COUNT_LIMIT = 100_000;

  /** What every schedule needs from its node. */
  public record Deps(ClusterSharding sharding, BusIntake bus, Duration askTimeout, Duration grace,
                     boolean secondSchedules, Clock clock) {}

  // ---- protocol ----

  public sealed interface Command extends ClusterMessage {}

  /** Read the rule again from the bus, and run or stop accordingly. */
  public enum Refresh implements Command { INSTANCE }

  /** What the schedule is doing: for the operations view and the tests. */
  public record GetSchedule(ActorRef<Reply<ScheduleView>> replyTo) implements Command {}

  /**
   * The expression (null: stopped), the last tick fired, the next one, the ticks still owed to
   * targets, and the node that runs the schedule.
   */
  public record ScheduleView(String expression, Instant lastTick, Instant nextTick, Map<Long, List<String>> owed,
                             String node) implements ClusterMessage {}

  private record RuleRead(EventRule rule, Throwable failure) implements Command {}

  private record Due(long tick) implements Command {}

  private record HandedOff(long tick, String targetId, Throwable failure) implements Command {}

  private record Retry(long tick, String targetId) implements Command {}

  // ---- events (persisted; see PersistedSerializer for their manifests) ----

  public sealed interface Event extends PersistedMessage {}

  public record ScheduleStarted(String expression, long startMillis) implements Event {}

  public record ScheduleStopped() implements Event {}

  /** A tick fired, owing {@code targets}; ticks before {@code skippedUntil} are given up (missed). */
  public record TickRecorded(long tick, List<String> targets, long skippedUntil) implements Event {}

  /** The tick was handed to the target: enqueued, refused, or dead-lettered after its retries. */
  public record TickHandedOff(long tick, String targetId) implements Event {}

  // ---- state ----

  public record State(String expression, long startMillis, long lastTick, Map<Long, List<String>> owed)
      implements PersistedMessage {

    public static final State EMPTY = new State(null, 0, 0, Map.of());

    public State {
      owed = owed == null ? Map.of() : owed;
    }

    State apply(Event event) {
      if (event instanceof ScheduleStarted e) {
        return new State(e.expression(), e.startMillis(), Math.max(lastTick, e.startMillis()), owed);
      } else if (event instanceof ScheduleStopped) {
        return new State(null, startMillis, lastTick, Map.of());
      } else if (event instanceof TickRecorded e) {
        Map<Long, List<String>> o = new TreeMap<>(owed);
        if (!e.targets().isEmpty()) {
          o.put(e.tick(), List.copyOf(e.targets()));
        }
        return new State(expression, startMillis, Math.max(e.tick(), e.skippedUntil()), o);
      } else if (event instanceof TickHandedOff e) {
        Map<Long, List<String>> o = new TreeMap<>(owed);
        List<String> left = new ArrayList<>(o.getOrDefault(e.tick(), List.of()));
        left.remove(e.targetId());
        if (left.isEmpty()) {
          o.remove(e.tick());
        } else {
          o.put(e.tick(), left);
        }
        return new State(expression, startMillis, lastTick, o);
      }
      throw new IllegalStateException("Unexpected event " + event.getClass().getName());
    }
  }

  // ---- behaviour ----

  public static void init(ClusterSharding sharding, Deps deps) {
    sharding.init(Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), deps)));
  }

  public static Behavior<Command> create(String ruleName, Deps deps) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new ScheduleEntity(ruleName, deps, ctx, timers)));
  }

  private final String ruleName;
  private final Deps deps;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  /** The rule as last read while it runs; null while it does not. */
  private EventRule rule;
  private boolean reading;
  private int readFailures;
  private final Set<String> handingOff = new HashSet<>();
  private final Map<String, Integer> attempts = new HashMap<>();

  private ScheduleEntity(String ruleName, Deps deps, ActorContext<Command> context, TimerScheduler<Command> timers) {
    super(PersistenceId.of(TYPE_KEY.name(), ruleName), Restarts.BACKOFF);
    this.ruleName = ruleName;
    this.deps = deps;
    this.context = context;
    this.timers = timers;
  }

  /** The id of the tick at {@code tick} of rule {@code ruleArn}: the same on every node, every time. */
  static String tickId(String ruleArn, long tick) {
    return UUID.nameUUIDFromBytes((ruleArn + "@" + Instant.ofEpochMilli(tick)).getBytes(StandardCharsets.UTF_8))
        .toString();
  }

  @Override
  public State emptyState() {
    return State.EMPTY;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(),
        state -> context.getSelf().tell(Refresh.INSTANCE)).build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(State::apply);
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Refresh.class, this::onRefresh)
        .onCommand(RuleRead.class, this::onRuleRead)
        .onCommand(Due.class, this::onDue)
        .onCommand(HandedOff.class, this::onHandedOff)
        .onCommand(Retry.class, (state, retry) -> {
          handOff(state, retry.tick(), retry.targetId());
          return Effect().none();
        })
        .onCommand(GetSchedule.class, this::onGetSchedule)
        .build();
  }

  private Effect<Event, State> onRefresh(State state, Refresh refresh) {
    if (!reading) {
      reading = true;
      context.pipeToSelf(Asks.on(deps.sharding().entityRefFor(EventBusEntity.TYPE_KEY, EventBus.DEFAULT)
              .<Reply<EventRule>>ask(replyTo -> new EventBusEntity.DescribeRule(ruleName, replyTo), deps.askTimeout()),
          context.getExecutionContext()), (reply, failure) -> {
            if (failure != null) {
              return new RuleRead(null, failure);
            }
            if (reply.error() != null && reply.error().status() >= 500) {
              return new RuleRead(null, reply.error().toException());
            }
            return new RuleRead(reply.error() == null ? reply.value() : null, null);
          });
    }
    return Effect().none();
  }

  private Effect<Event, State> onRuleRead(State state, RuleRead read) {
    reading = false;
    if (read.failure() != null) {
      if (readFailures++ % 12 == 0) {
        context.getLog().warn("Schedule of rule {} cannot read its rule ({} times in a row), so it keeps what it"
            + " had: {}", ruleName, readFailures, read.failure().toString());
      }
      return Effect().none();
    }
    readFailures = 0;
    EventRule r = read.rule();
    boolean runs = r != null && r.enabled() && r.scheduleExpression() != null && !r.targets().isEmpty();
    if (!runs) {
      rule = null;
      timers.cancel("tick");
      return state.expression() == null ? Effect().none() : Effect().persist(new ScheduleStopped());
    }
    rule = r;
    if (!r.scheduleExpression().equals(state.expression())) {
      return Effect().persist(new ScheduleStarted(r.scheduleExpression(), deps.clock().millis()))
          .thenRun(this::arm).thenRun(this::resume);
    }
    arm(state);
    resume(state);
    return Effect().none();
  }

  private Optional<ScheduleExpression> expression(State state) {
    try {
      return Optional.of(ScheduleExpression.parse(state.expression(), deps.secondSchedules()));
    } catch (IllegalArgumentException e) {
      context.getLog().warn("Schedule of rule {} has an expression this node refuses ({}), so it does not run:"
          + " {}", ruleName, state.expression(), e.getMessage());
      return Optional.empty();
    }
  }

  /** The timer of the next tick; a missed one (see the class doc) is due at once. */
  private void arm(State state) {
    if (rule == null || state.expression() == null) {
      return;
    }
    Optional<ScheduleExpression> expression = expression(state);
    if (expression.isEmpty()) {
      return;
    }
    Instant start = Instant.ofEpochMilli(state.startMillis());
    Optional<Instant> next = expression.get().nextTick(start, Instant.ofEpochMilli(state.lastTick()));
    if (next.isEmpty()) {
      timers.cancel("tick");
      return;
    }
    long delay = next.get().toEpochMilli() - deps.clock().millis();
    timers.startSingleTimer("tick", new Due(next.get().toEpochMilli()), Duration.ofMillis(Math.max(0, delay)));
  }

  private Effect<Event, State> onDue(State state, Due due) {
    if (rule == null || due.tick() <= state.lastTick()) {
      return Effect().none();
    }
    long now = deps.clock().millis();
    long skippedUntil = 0;
    if (now - due.tick() > deps.grace().toMillis()) {
      ScheduleExpression expression = expression(state).orElseThrow();
      int missed = expression.ticksBetween(Instant.ofEpochMilli(state.startMillis()), Instant.ofEpochMilli(due.tick()),
          Instant.ofEpochMilli(now), MISSED_COUNT_LIMIT).size();
      skippedUntil = now;
      context.getLog().warn("Schedule of rule {} ({}) did not run from {} to now: the tick of {} fires once now, {}"
          + " later missed tick(s) are skipped", ruleName, state.expression(), Instant.ofEpochMilli(due.tick()),
          Instant.ofEpochMilli(due.tick()), missed >= MISSED_COUNT_LIMIT ? "at least " + missed : missed);
    }
    List<String> targets = rule.targets().stream().map(EventRule.Target::id).toList();
    return Effect().persist(new TickRecorded(due.tick(), targets, skippedUntil)).thenRun(s -> {
      for (String target : targets) {
        handOff(s, due.tick(), target);
      }
      arm(s);
    });
  }

  /** The ticks recorded and not handed off to all their targets, after a restart or a rule read. */
  private void resume(State state) {
    state.owed().forEach((tick, targets) -> targets.forEach(target -> handOff(state, tick, target)));
  }

  private void handOff(State state, long tick, String targetId) {
    String key = tick + "/" + targetId;
    if (rule == null || !state.owed().getOrDefault(tick, List.of()).contains(targetId) || !handingOff.add(key)) {
      return;
    }
    Optional<EventRule.Target> target = rule.targets().stream().filter(t -> t.id().equals(targetId)).findFirst();
    if (target.isEmpty()) {
      context.getSelf().tell(new HandedOff(tick, targetId, null));
      return;
    }
    String id = tickId(deps.bus().ruleArn(ruleName), tick);
    ObjectNode event = deps.bus().scheduledEvent(id, ruleName, Instant.ofEpochMilli(tick));
    int tries = attempts.getOrDefault(key, 0);
    EventRule.RetryPolicy policy = target.get().retryPolicy();
    long ageSeconds = (deps.clock().millis() - tick) / 1000;
    var handed = tries > policy.maximumRetryAttempts() || ageSeconds > policy.maximumEventAgeInSeconds()
        ? deps.bus().exhausted(rule, target.get(), event, tries > policy.maximumRetryAttempts()
            ? "MaximumRetryAttempts" : "MaximumEventAgeInSeconds", tries, "the hand-off kept failing")
        : deps.bus().handOffTick(rule, target.get(), event, Instant.ofEpochMilli(tick), id + "/" + targetId);
    context.pipeToSelf(handed, (done, failure) -> new HandedOff(tick, targetId, failure));
  }

  private Effect<Event, State> onHandedOff(State state, HandedOff handed) {
    String key = handed.tick() + "/" + handed.targetId();
    handingOff.remove(key);
    if (handed.failure() == null) {
      attempts.remove(key);
      return state.owed().getOrDefault(handed.tick(), List.of()).contains(handed.targetId())
          ? Effect().persist(new TickHandedOff(handed.tick(), handed.targetId())) : Effect().none();
    }
    int tries = attempts.merge(key, 1, Integer::sum);
    long backoff = Math.min(BACKOFF_MAX.toMillis(), BACKOFF_MIN.toMillis() << Math.min(tries - 1, 16));
    if (tries == 1 || tries % 10 == 0) {
      context.getLog().warn("Schedule of rule {}: the tick of {} was not handed to target {} ({} failures so far),"
          + " tried again in {} ms: {}", ruleName, Instant.ofEpochMilli(handed.tick()), handed.targetId(), tries,
          backoff, handed.failure().toString());
    }
    timers.startSingleTimer(key, new Retry(handed.tick(), handed.targetId()), Duration.ofMillis(backoff));
    return Effect().none();
  }

  private Effect<Event, State> onGetSchedule(State state, GetSchedule get) {
    Instant next = null;
    if (rule != null && state.expression() != null) {
      next = expression(state).flatMap(e -> e.nextTick(Instant.ofEpochMilli(state.startMillis()),
          Instant.ofEpochMilli(state.lastTick()))).orElse(null);
    }
    get.replyTo().tell(Reply.ok(new ScheduleView(rule == null ? null : state.expression(),
        state.lastTick() == 0 ? null : Instant.ofEpochMilli(state.lastTick()), next, state.owed(),
        context.getSystem().address().toString())));
    return Effect().none();
  }
}
