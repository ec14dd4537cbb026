package io.tributary.cluster.async;

import com.typesafe.config.Config;
import io.tributary.api.Arns;
import io.tributary.api.Destination;
import io.tributary.api.EventInvokeConfig;
import io.tributary.api.Invocation;
import io.tributary.api.LambdaError;
import io.tributary.api.LambdaException;
import io.tributary.cluster.ClusterMessage;
import io.tributary.cluster.PersistedMessage;
import io.tributary.cluster.Reply;
import io.tributary.cluster.Restarts;
import io.tributary.cluster.delivery.RetrySchedule;
import io.tributary.cluster.invoke.Dispatcher;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandlerBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One partition of a function's asynchronous queue: the events accepted for it and not yet
 * finished. An accepted event is in the journal before the caller gets 202 (its payload in
 * {@link EventQueueStore}, so the journal's writes stay small; the {@link Intake} stores it and
 * picks the partition); the entity delivers it through its node's {@link Dispatcher} like a
 * synchronous invoke ({@link Deliverer}), at most {@code inFlight} at a time, and records each
 * outcome:
 *
 * <ul>
 *   <li>success, or a failure with no retry left → finished;</li>
 *   <li>a function error → retried after the {@link RetrySchedule}'s delay, the time persisted, so
 *       a restart keeps it;</li>
 *   <li>a throttle or platform error → retried with the schedule's backoff, held in memory only
 *       (after a restart it is simply tried at once);</li>
 *   <li>older than the maximum event age → finished, {@code EventAgeExceeded};</li>
 *   <li>its function, qualifier or payload gone → finished, {@code Dropped}.</li>
 * </ul>
 *
 * <p>An event that ends owing an invocation record to a destination or itself to a dead-letter
 * queue waits in the {@link Outbox} until every send is settled; only then is it finished.
 * Finished and accepted events are journaled together by group commit ({@link #flush}); the
 * outcomes journaled are then written for lookups by the {@link OutcomeWriter}.
 *
 * <p>A queue that holds events is listed in {@code event_queues} (written before the first event's
 * 202); its partition's {@link QueueWaker} wakes every listed queue every few seconds, so after a
 * restart or a node's death the queues resume delivering without waiting for a request. A queue
 * that stays empty for {@link #IDLE} unlists itself and passivates. The queue has one shape of
 * state (the events it holds), so every command is handled for any state. Time is read from
 * {@link Deps#clock} only; a persistence failure restarts the partition with backoff, which
 * replays its journal and delivers again what was running.
 */
public final class AsyncQueueEntity
    extends EventSourcedBehavior<AsyncQueueEntity.Command, AsyncQueueEntity.Event, AsyncQueueEntity.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "AsyncQueue");
  /** For callbacks off the actor's thread, where its context's logger must not be used. */
  private static final Logger LOG = LoggerFactory.getLogger(AsyncQueueEntity.class);
  static final Duration IDLE = Duration.ofSeconds(30);
  /** Events per journal write (one row, {@link EventsCommitted}): at most about 5 KB. */
  static final int BATCH = 32;
  static final Duration FINISH_DELAY = Duration.ofMillis(10);
  private static final String FINISH_TIMER = "finish";
  /** AWS's longest function timeout and a margin: a delivery always ends within it. */
  private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(910);

  public sealed interface Command extends ClusterMessage {}

  /** Queues an accepted event whose payload is stored; an ok reply means it is in the journal. */
  public record Enqueue(String requestId, String qualifier, long acceptedAtMillis,
                        ActorRef<Reply<Boolean>> replyTo) implements Command {}

  /** From the partition's {@link QueueWaker}: starts the queue if it is not running. */
  public enum Wake implements Command { INSTANCE }

  /** The function was deleted: its queued events are dropped, as AWS drops them. */
  public enum Purge implements Command { INSTANCE }

  private record Listed(List<ActorRef<Reply<Boolean>>> replyTo, Throwable failure)
      implements Command {}

  /** Persists the outcomes decided and the events accepted since the last write, in one journal write. */
  private enum Flush implements Command { INSTANCE }

  /** The {@link OutcomeWriter}'s timer fired. */
  private enum RecordOutcomes implements Command { INSTANCE }

  private record Unlisted(Throwable failure) implements Command {}

  private enum Tick implements Command { INSTANCE }

  private enum Idle implements Command { INSTANCE }

  /** What came of delivering event {@code requestId}. */
  private record Delivered(String requestId, Delivery delivery) implements Command {}

  private sealed interface Delivery permits Answered, PayloadGone, NotDelivered {}

  /** The Dispatcher answered: it ran the event, refused it, or would have sent it to another node. */
  private record Answered(byte[] payload, Dispatcher.Result result) implements Delivery {}

  /** The payload expired or was never stored: the event cannot be delivered. */
  private record PayloadGone() implements Delivery {}

  /** Reading the payload or invoking failed (or timed out): tried again after a backoff. */
  private record NotDelivered(Throwable failure) implements Delivery {}

  /** A send the outbox owes is due: when its event finished, then after each failure's backoff. */
  private record SendDue(Outbox.Send send) implements Command {}

  /** What came of a send of the outbox. */
  private record RecordSent(Outbox.Send send, Outbox.Sent sent) implements Command {}

  public sealed interface Event extends PersistedMessage {}

  public record EventAccepted(String requestId, String qualifier, long acceptedAtMillis) implements Event {}

  /** A function error: attempt {@code attempts} failed, the next is not before {@code retryAtMillis}. */
  public record RetryScheduled(String requestId, int attempts, long retryAtMillis) implements Event {}

  /**
   * {@code condition}: Success, RetriesExhausted, EventAgeExceeded, or Dropped (function or payload
   * gone); {@code deadLettered}: its dead-letter queue accepted it (null in events written before
   * dead-letter queues existed).
   */
  public record EventFinished(String requestId, String condition, int attempts, Boolean deadLettered)
      implements Event {}

  /**
   * One group commit ({@link #flush}): the outcomes decided and the events accepted since the last,
   * in one journal row rather than a row each, which is most of what a row costs Cassandra and the
   * journal plugin. Journals written before it hold the events one per row; both replay.
   */
  public record EventsCommitted(List<EventFinished> finished, List<EventAccepted> accepted) implements Event {
    public EventsCommitted {
      finished = finished == null ? List.of() : List.copyOf(finished);
      accepted = accepted == null ? List.of() : List.copyOf(accepted);
    }
  }

  public record Pending(String requestId, String qualifier, long acceptedAtMillis, int attempts, long retryAtMillis) {}

  /**
   * What a snapshot holds: the pending events in order, how many ended in each condition, and how
   * many of those a dead-letter queue accepted.
   */
  public record Snapshot(List<Pending> pending, Map<String, Long> finished, Long deadLettered)
      implements PersistedMessage {
    public Snapshot {
      pending = pending == null ? List.of() : List.copyOf(pending);
      finished = finished == null ? Map.of() : Map.copyOf(finished);
      deadLettered = deadLettered == null ? 0L : deadLettered;
    }
  }

  /** What this partition holds and has done; {@code finished}: events per final condition, since it was created. */
  public record GetStats(ActorRef<QueueStats> replyTo) implements Command {}

  /**
   * {@code waitingForConcurrency}: due, but no slot of the function's concurrency free for them yet;
   * {@code waitingForRetry}: not before a retry time; {@code throttles}: by reason, since the
   * partition started; {@code drained}: events finished in the last {@value DrainRate#WINDOW_SECONDS}
   * whole seconds.
   */
  public record QueueStats(int depth, long oldestAcceptedAtMillis, int inFlight, int retrying,
                           Map<String, Long> finished, long deadLettered, int waitingForConcurrency,
                           int waitingForRetry, Map<String, Long> throttles, long drained)
      implements ClusterMessage {

    /** Events finished per second, over the window {@code drained} counts. */
    public double drainRate() {
      return drained / (double) DrainRate.WINDOW_SECONDS;
    }
  }

  /** Where event {@code requestId} is, if this partition still holds it. */
  public record GetEvent(String requestId, ActorRef<EventStatus> replyTo) implements Command {}

  /** {@code queued} false: the partition does not hold the event (finished, or never accepted here). */
  public record EventStatus(boolean queued, boolean running, int attempts, long acceptedAtMillis,
                            long nextAttemptAtMillis, EventQueueStore.Finished ended) implements ClusterMessage {}

  /**
   * Mutable, changed only by {@link #EVENTS}; snapshots take a copy ({@link #snapshotAdapter}), so
   * the snapshot store never sees it change.
   */
  public static final class State {
    private final Map<String, Pending> pending = new LinkedHashMap<>();
    private final Map<String, Long> byCondition = new HashMap<>();
    private long deadLettered;

    State accepted(EventAccepted e) {
      pending.putIfAbsent(e.requestId(), new Pending(e.requestId(), e.qualifier(), e.acceptedAtMillis(), 0, 0));
      return this;
    }

    State retryScheduled(RetryScheduled e) {
      pending.computeIfPresent(e.requestId(),
          (id, p) -> new Pending(id, p.qualifier(), p.acceptedAtMillis(), e.attempts(), e.retryAtMillis()));
      return this;
    }

    State finished(EventFinished e) {
      if (pending.remove(e.requestId()) != null) {
        byCondition.merge(e.condition(), 1L, Long::sum);
        if (Boolean.TRUE.equals(e.deadLettered())) {
          deadLettered++;
        }
      }
      return this;
    }

    /** The outcomes first, as they were decided before the accepts they share a write with. */
    State committed(EventsCommitted e) {
      e.finished().forEach(this::finished);
      e.accepted().forEach(this::accepted);
      return this;
    }

    public int size() {
      return pending.size();
    }

    Snapshot snapshot() {
      return new Snapshot(new ArrayList<>(pending.values()), byCondition, deadLettered);
    }

    static State of(Snapshot snapshot) {
      State state = new State();
      snapshot.pending().forEach(p -> state.pending.put(p.requestId(), p));
      state.byCondition.putAll(snapshot.finished());
      state.deadLettered = snapshot.deadLettered();
      return state;
    }

    boolean contains(String requestId) {
      return pending.containsKey(requestId);
    }
  }

  /** How each journal event changes a partition's state; any other fails the replay. Holds nothing, so shared. */
  static final EventHandler<State, Event> EVENTS = EventHandlerBuilder.<State, Event>builder().forAnyState()
      .onEvent(EventsCommitted.class, State::committed)
      .onEvent(EventAccepted.class, State::accepted)
      .onEvent(RetryScheduled.class, State::retryScheduled)
      .onEvent(EventFinished.class, State::finished)
      .onAnyEvent((state, e) -> {
        throw new IllegalStateException("Unexpected event " + e.getClass().getName() + " in an asynchronous queue");
      });

  public record Settings(int partitions, int inFlight, int maximumRetryAttempts, Duration maximumEventAge,
                         RetrySchedule schedule, Duration payloadTtl, long recentPayloads, Duration wakeInterval,
                         Duration acceptTimeout, Duration idempotencyWindow, Duration outcomeRetention) {

    public Settings {
      if (payloadTtl.compareTo(maximumEventAge) <= 0) {
        throw new IllegalArgumentException("tributary.async.payload-ttl (" + payloadTtl + ") must exceed"
            + " maximum-event-age (" + maximumEventAge + "), or payloads would expire before their events");
      }
    }

    /** From {@code tributary.async} (reference.conf has the defaults and their meaning). */
    public static Settings fromConfig(Config root) {
      Config c = root.getConfig("tributary.async");
      return new Settings(c.getInt("partitions"), c.getInt("in-flight"), c.getInt("maximum-retry-attempts"),
          c.getDuration("maximum-event-age"), new RetrySchedule(c.getDurationList("function-error-delays"),
          c.getDuration("backoff-min"), c.getDuration("backoff-max")), c.getDuration("payload-ttl"),
          c.getBytes("recent-payloads"), c.getDuration("wake-interval"), c.getDuration("accept-timeout"), c.getDuration("idempotency-window"),
          c.getDuration("outcome-retention"));
    }
  }

  /** Everything a queue needs from its node. */
  public record Deps(Settings settings, EventQueueStore store, Deliverer deliverer, Intake intake,
                     Destination.Resolver destinations, AsyncMetrics metrics, Arns arns, Clock clock) {}

  /**
   * How a partition runs an event: through its node's Dispatcher, waiting for a slot as {@code
   * queued} says, and to another node when the slots are there (the HTTP layer's, which can make the
   * hop); a fake in tests.
   */
  @FunctionalInterface
  public interface Deliverer {
    CompletionStage<Dispatcher.Result> deliver(String functionName, String qualifier, Invocation invocation,
                                               Dispatcher.Queued queued);
  }

  private final String entityId;
  private final String functionName;
  private final int partition;
  /** Whether this queue's row in {@code event_queues} is known to be written. */
  private boolean listed;
  private final Deps deps;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  /** Being delivered, waiting in the outbox, or finished and waiting for the group commit. */
  private final Set<String> inFlight = new HashSet<>();
  /** The deliveries handed to the Dispatcher and not yet answered: waiting for a slot until started. */
  private final Map<String, Dispatcher.Queued> delivering = new HashMap<>();
  /** Throttles met since the partition started, by their reason: the function's own limit, or the account's. */
  private final Map<String, Long> throttles = new HashMap<>();
  private final DrainRate drained = new DrainRate();
  private long countedAt;
  /** Throttles and platform errors in a row, and when the event may be tried again: memory only. */
  private final Map<String, Integer> backoffs = new HashMap<>();
  private final Map<String, Long> notBefore = new HashMap<>();
  /** The last asynchronous configuration the Dispatcher reported per qualifier; absent: the node's defaults. */
  private final Map<String, Dispatcher.AsyncTarget> configs = new HashMap<>();
  private final Outbox outbox;
  private final OutcomeWriter outcomes;
  /** Accepted, waiting for the group commit ({@link Flush}). */
  private final List<Enqueue> accepting = new ArrayList<>();
  private boolean flushScheduled;
  /** Finished, waiting for the group commit ({@link Flush}). */
  private final Map<String, EventFinished> finishing = new LinkedHashMap<>();

  public static void init(ClusterSharding sharding, Deps deps) {
    sharding.init(Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), deps, ctx.getShard())));
  }

  static Behavior<Command> create(String entityId, Deps deps,
                                  ActorRef<ClusterSharding.ShardCommand> shard) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new AsyncQueueEntity(entityId, deps, ctx, timers,
        shard)));
  }

  /** The entity id of partition {@code partition} of {@code functionName}'s queue; '#' is not in a function name. */
  static String entityId(String functionName, int partition) {
    return functionName + "#" + partition;
  }

  private AsyncQueueEntity(String entityId, Deps deps, ActorContext<Command> context, TimerScheduler<Command> timers,
                           ActorRef<ClusterSharding.ShardCommand> shard) {
    super(PersistenceId.of(TYPE_KEY.name(), entityId), Restarts.BACKOFF);
    this.entityId = entityId;
    this.functionName = entityId.substring(0, entityId.lastIndexOf('#'));
    this.partition = Integer.parseInt(entityId.substring(entityId.lastIndexOf('#') + 1));
    this.deps = deps;
    this.context = context;
    this.timers = timers;
    this.shard = shard;
    this.outbox = new Outbox(functionName, deps.arns(), deps.store(), deps.destinations(), deps.intake()::accept,
        deps.settings().schedule(), deps.clock());
    this.outcomes = new OutcomeWriter(functionName, partition, deps.store(), deps.clock(), new OutcomeWriter.Timer() {
      @Override
      public boolean isActive() {
        return timers.isTimerActive(RecordOutcomes.INSTANCE);
      }

      @Override
      public void start(Duration delay) {
        timers.startSingleTimer(RecordOutcomes.INSTANCE, delay);
      }

      @Override
      public void cancel() {
        timers.cancel(RecordOutcomes.INSTANCE);
      }
    });
  }

  @Override
  public State emptyState() {
    return new State();
  }

  /**
   * Each snapshot also deletes the events before the previous one, and that deletion reads the
   * journal partition back through the tombstones of the earlier ones: at every 500 events, those
   * reads were a quarter of Cassandra's CPU under a steady Event load. A recovery replays at most
   * 5,000 journal rows, each of at most {@link #BATCH} small events.
   */
  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(5_000, 2).withDeleteEventsOnSnapshot();
  }

  @Override
  public SnapshotAdapter<State> snapshotAdapter() {
    return new SnapshotAdapter<>() {
      @Override
      public Object toJournal(State state) {
        return state.snapshot();
      }

      @Override
      public State fromJournal(Object from) {
        return State.of((Snapshot) from);
      }
    };
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), this::onRecovered)
        .onSignal(PostStop.instance(), this::onStopped)
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return EVENTS;
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Enqueue.class, this::onEnqueue)
        .onCommand(Flush.class, this::onFlush)
        .onCommand(Listed.class, this::onListed)
        .onCommand(Delivered.class, this::onDelivered)
        .onCommand(SendDue.class, this::onSendDue)
        .onCommand(RecordSent.class, this::onRecordSent)
        .onCommand(RecordOutcomes.class, this::onRecordOutcomes)
        .onCommand(Tick.class, this::onTick)
        .onCommand(Wake.class, this::onWake)
        .onCommand(Idle.class, this::onIdle)
        .onCommand(Unlisted.class, this::onUnlisted)
        .onCommand(Purge.class, this::onPurge)
        .onCommand(GetStats.class, this::onGetStats)
        .onCommand(GetEvent.class, this::onGetEvent)
        .build();
  }

  private void onRecovered(State state) {
    if (state.size() > 0) {
      listed = true;
      deps.store().markQueued(partition, functionName).whenComplete((v, failure) -> {
        if (failure != null) {
          LOG.warn("Could not list the queue of {} (partition {}): {}", functionName, partition, failure.toString());
        }
      });
    }
    deliverDue(state);
  }

  private void onStopped(State state) {
    outcomes.write();
    deps.metrics().stopped(entityId);
  }

  /**
   * Group commit: accepted events wait for the commands already in the mailbox (or stashed behind
   * the previous write) and are journaled together, up to {@link #BATCH} at a time, so that a busy
   * partition makes one journal write per batch rather than one per event.
   */
  private Effect<Event, State> onEnqueue(State state, Enqueue cmd) {
    if (state.contains(cmd.requestId())) {
      return Effect().reply(cmd.replyTo(), Reply.ok(Boolean.TRUE));
    }
    accepting.add(cmd);
    if (accepting.size() >= BATCH) {
      return flush(state);
    }
    scheduleFlush();
    return Effect().none();
  }

  private Effect<Event, State> onFlush(State state, Flush flush) {
    return flush(state);
  }

  private void scheduleFlush() {
    if (!flushScheduled) {
      flushScheduled = true;
      context.getSelf().tell(Flush.INSTANCE);
    }
  }

  /**
   * Finished events wait up to {@link #FINISH_DELAY} for accepted ones to share their journal write:
   * under load the next accept comes sooner, so an outcome rarely costs a write of its own. Nothing
   * waits on them meanwhile; a crash in between delivers those events again (at least once).
   */
  private void scheduleFinish() {
    if (finishing.size() >= BATCH) {
      scheduleFlush();
    } else if (!timers.isTimerActive(FINISH_TIMER)) {
      timers.startSingleTimer(FINISH_TIMER, Flush.INSTANCE, FINISH_DELAY);
    }
  }

  /**
   * One journal write of at most {@link #BATCH} events: the outcomes decided since the last write
   * first, then the events accepted meanwhile; what does not fit goes in the next write. Accepted
   * and finished events of a busy partition thus share writes instead of queueing behind each
   * other. The first events of an unlisted queue list it before their 202, so that a waker finds
   * it after a crash.
   */
  private Effect<Event, State> flush(State state) {
    flushScheduled = false;
    List<EventFinished> done = new ArrayList<>(Math.min(BATCH, finishing.size()));
    for (var it = finishing.values().iterator(); it.hasNext() && done.size() < BATCH; ) {
      done.add(it.next());
      it.remove();
    }
    List<Enqueue> batch = new ArrayList<>(accepting.subList(0, Math.min(BATCH - done.size(), accepting.size())));
    accepting.subList(0, batch.size()).clear();
    if (!accepting.isEmpty()) {
      scheduleFlush();
    } else if (!finishing.isEmpty()) {
      scheduleFinish();
    }
    Map<String, EventAccepted> accepted = new LinkedHashMap<>();
    for (Enqueue cmd : batch) {
      if (!state.contains(cmd.requestId())) {
        accepted.putIfAbsent(cmd.requestId(), new EventAccepted(cmd.requestId(), cmd.qualifier(),
            cmd.acceptedAtMillis()));
      }
    }
    List<ActorRef<Reply<Boolean>>> replyTo = batch.stream().map(Enqueue::replyTo).toList();
    if (accepted.isEmpty()) {
      replyTo.forEach(r -> r.tell(Reply.ok(Boolean.TRUE)));
      if (done.isEmpty()) {
        return Effect().none();
      }
    }
    boolean list = !accepted.isEmpty() && !listed;
    listed = listed || !accepted.isEmpty();
    return Effect().persist(new EventsCommitted(done, List.copyOf(accepted.values()))).thenRun(s -> {
      for (EventFinished e : done) {
        inFlight.remove(e.requestId());
        deps.metrics().finished(e.condition(), 1);
      }
      drained.add(deps.clock().millis(), done.size());
      outcomes.record(done);
      if (!accepted.isEmpty()) {
        for (int i = 0; i < accepted.size(); i++) {
          deps.metrics().accepted();
        }
        if (list) {
          context.pipeToSelf(deps.store().markQueued(partition, functionName),
              (v, failure) -> new Listed(replyTo, failure));
        } else {
          replyTo.forEach(r -> r.tell(Reply.ok(Boolean.TRUE)));
        }
      }
      deliverDue(s);
    });
  }

  private Effect<Event, State> onListed(State state, Listed done) {
    if (done.failure() != null) {
      listed = false;
      Reply<Boolean> failed = new Reply<>(null, LambdaError.of(LambdaException.service(
          "The event was queued but its queue could not be listed: " + done.failure().getMessage())));
      done.replyTo().forEach(r -> r.tell(failed));
    } else {
      done.replyTo().forEach(r -> r.tell(Reply.ok(Boolean.TRUE)));
    }
    return Effect().none();
  }

  private Effect<Event, State> onDelivered(State state, Delivered delivered) {
    String id = delivered.requestId();
    if (finishing.containsKey(id)) {
      // Finished meanwhile (its function was deleted): it stays in flight until that is journaled.
      return Effect().none();
    }
    inFlight.remove(id);
    delivering.remove(id);
    Pending pending = state.pending.get(id);
    if (pending == null) {
      return deliverDueAfter();
    }
    if (delivered.delivery() instanceof NotDelivered failed) {
      backOff(id, "the delivery failed: " + failed.failure());
      return deliverDueAfter();
    }
    if (!(delivered.delivery() instanceof Answered answered)) {
      context.getLog().error("Event {} of {} is dropped: its payload is gone (expired or never stored)", id,
          functionName);
      finished(id, "Dropped", pending.attempts());
      return deliverDueAfter();
    }
    Dispatcher.Result result = answered.result();
    String qualifier = qualifierOf(pending);
    Dispatcher.AsyncTarget async = result instanceof Dispatcher.Ran ran ? ran.async()
        : result instanceof Dispatcher.Refused refused ? refused.async() : null;
    if (async != null) {
      configs.put(qualifier, async);
    }
    if (!(result instanceof Dispatcher.Ran ran)) {
      LambdaException error = result instanceof Dispatcher.Refused refused ? refused.error().toException()
          : LambdaException.service("The event was not run on this node");
      if (error.status() == 429) {
        throttles.merge(error.reason() == null ? error.errorType() : error.reason(), 1L, Long::sum);
        deps.metrics().throttled(error.reason() == null ? error.errorType() : error.reason());
      }
      if (error.status() == 429 || error.status() >= 500) {
        backOff(id, error.errorType() + ": " + error.getMessage());
      } else {
        context.getLog().info("Event {} of {} is dropped: {} {}", id, functionName, error.errorType(),
            error.getMessage());
        finished(id, "Dropped", pending.attempts());
      }
      return deliverDueAfter();
    }
    backoffs.remove(id);
    notBefore.remove(id);
    int attempt = pending.attempts() + 1;
    if (ran.result().functionError() == null) {
      finish(pending, "Success", attempt, answered.payload(), ran);
      return deliverDueAfter();
    }
    if (attempt > retryAttempts(qualifier)) {
      context.getLog().debug("Event {} of {} failed {} times: RetriesExhausted", id, functionName, attempt);
      finish(pending, "RetriesExhausted", attempt, answered.payload(), ran);
      return deliverDueAfter();
    }
    long retryAt = deps.clock().millis() + deps.settings().schedule().afterFunctionError(attempt).toMillis();
    deps.metrics().retryScheduled();
    return Effect().persist(new RetryScheduled(id, attempt, retryAt)).thenRun(this::deliverDue);
  }

  private static String qualifierOf(Pending p) {
    return p.qualifier() == null ? "$LATEST" : p.qualifier();
  }

  private EventInvokeConfig config(String qualifier) {
    Dispatcher.AsyncTarget async = configs.get(qualifier);
    return async == null ? null : async.config();
  }

  private int retryAttempts(String qualifier) {
    EventInvokeConfig config = config(qualifier);
    return config != null && config.maximumRetryAttempts() != null ? config.maximumRetryAttempts()
        : deps.settings().maximumRetryAttempts();
  }

  private long maximumAgeMillis(Pending p) {
    EventInvokeConfig config = config(qualifierOf(p));
    return config != null && config.maximumEventAgeInSeconds() != null
        ? config.maximumEventAgeInSeconds() * 1000L : deps.settings().maximumEventAge().toMillis();
  }

  /** Nothing to persist; what is due starts once the command is handled. */
  private Effect<Event, State> deliverDueAfter() {
    return Effect().none().thenRun(this::deliverDue);
  }

  private void backOff(String id, String why) {
    deps.metrics().backedOff();
    int failures = backoffs.merge(id, 1, Integer::sum);
    Duration delay = deps.settings().schedule().backoff(failures);
    notBefore.put(id, deps.clock().millis() + delay.toMillis());
    if (failures == 1 || failures % 10 == 0) {
      context.getLog().debug("Event {} of {} waits {} ({} in a row): {}", id, functionName, delay, failures, why);
    }
  }

  /**
   * Finishes an event: at once when its configuration names no destination for {@code condition}
   * and (for a failure) no dead-letter queue; otherwise once each of them has accepted what it is
   * owed (until then the event stays queued and in flight, so a crash sends again rather than
   * losing it).
   */
  private void finish(Pending p, String condition, int attempts, byte[] payload, Dispatcher.Ran response) {
    List<Outbox.Send> sends = outbox.hold(p.requestId(), qualifierOf(p), condition, attempts,
        configs.get(qualifierOf(p)), payload, response);
    if (sends.isEmpty()) {
      finished(p.requestId(), condition, attempts, false);
      return;
    }
    inFlight.add(p.requestId());
    sends.forEach(this::send);
  }

  private void finished(String id, String condition, int attempts) {
    finished(id, condition, attempts, false);
  }

  /**
   * Group commit of outcomes, as of accepted events: the event stays in flight (never delivered
   * again) until its {@code EventFinished} is journaled with the others finished meanwhile.
   */
  private void finished(String id, String condition, int attempts, boolean deadLettered) {
    backoffs.remove(id);
    notBefore.remove(id);
    inFlight.add(id);
    finishing.putIfAbsent(id, new EventFinished(id, condition, attempts, deadLettered ? Boolean.TRUE : null));
    scheduleFinish();
  }

  private void send(Outbox.Send send) {
    context.pipeToSelf(outbox.send(send),
        (sent, failure) -> new RecordSent(send, failure == null ? sent : new Outbox.Failed(failure)));
  }

  private Effect<Event, State> onSendDue(State state, SendDue due) {
    if (outbox.owes(due.send())) {
      send(due.send());
    }
    return Effect().none();
  }

  private Effect<Event, State> onRecordSent(State state, RecordSent sent) {
    Outbox.Send send = sent.send();
    Outbox.Next next = outbox.settle(send, sent.sent());
    if (next instanceof Outbox.Stale) {
      return Effect().none();
    }
    String what = send.deadLetter() ? "Dead-lettered event " + send.requestId()
        : "The invocation record of event " + send.requestId();
    if (sent.sent() instanceof Outbox.Accepted) {
      deps.metrics().sent(send.deadLetter());
    } else if (sent.sent() instanceof Outbox.Refused refused) {
      context.getLog().error("{} of {} is dropped: {} refused it for good: {}", what, functionName, send.target(),
          refused.reason());
      deps.metrics().sendRejected();
    } else if (sent.sent() instanceof Outbox.Failed failed && next instanceof Outbox.SendAgain again) {
      deps.metrics().sendFailed();
      if (again.failures() == 1 || again.failures() % 10 == 0) {
        context.getLog().warn("{} of {} could not reach {} ({} in a row; next try in {}): {}", what, functionName,
            send.target(), again.failures(), again.delay(), failed.cause().toString());
      }
      context.scheduleOnce(again.delay(), context.getSelf(), new SendDue(send));
    }
    if (next instanceof Outbox.Done done) {
      finished(send.requestId(), done.condition(), done.attempts(), done.deadLettered());
      return deliverDueAfter();
    }
    return Effect().none();
  }

  private Effect<Event, State> onRecordOutcomes(State state, RecordOutcomes record) {
    outcomes.write();
    return Effect().none();
  }

  private Effect<Event, State> onWake(State state, Wake wake) {
    return deliverDueAfter();
  }

  /** Finishes the events past their maximum age that are not being delivered, then delivers what is due. */
  private Effect<Event, State> onTick(State state, Tick tick) {
    long now = deps.clock().millis();
    List<Pending> expired = new ArrayList<>();
    for (Pending p : state.pending.values()) {
      if (p.acceptedAtMillis() < now - maximumAgeMillis(p) && !inFlight.contains(p.requestId())) {
        expired.add(p);
      }
    }
    if (!expired.isEmpty()) {
      context.getLog().info("{} events of {} reached their maximum age undelivered", expired.size(), functionName);
    }
    for (Pending p : expired) {
      backoffs.remove(p.requestId());
      notBefore.remove(p.requestId());
      finish(p, "EventAgeExceeded", p.attempts(), null, null);
    }
    return deliverDueAfter();
  }

  /**
   * Unlisted before it passivates; {@code listed} turns false first, so an event that arrives
   * meanwhile lists the queue again, with a later write that wins.
   */
  private Effect<Event, State> onIdle(State state, Idle idle) {
    outcomes.write();
    if (state.size() == 0 && inFlight.isEmpty() && accepting.isEmpty()) {
      listed = false;
      context.pipeToSelf(deps.store().markEmpty(partition, functionName), (v, failure) -> new Unlisted(failure));
    }
    return Effect().none();
  }

  private Effect<Event, State> onUnlisted(State state, Unlisted unlisted) {
    if (unlisted.failure() == null && state.size() == 0 && inFlight.isEmpty() && accepting.isEmpty() && !listed) {
      shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
    }
    return Effect().none();
  }

  /** Every queued event is finished as Dropped, through the same group commit as any outcome. */
  private Effect<Event, State> onPurge(State state, Purge purge) {
    outbox.clear().forEach(inFlight::remove);
    List<Pending> dropped = state.pending.values().stream()
        .filter(p -> !finishing.containsKey(p.requestId())).toList();
    if (!dropped.isEmpty()) {
      context.getLog().info("{} queued events of {} dropped: the function was deleted", dropped.size(), functionName);
    }
    dropped.forEach(p -> finished(p.requestId(), "Dropped", p.attempts()));
    return deliverDueAfter();
  }

  /**
   * What the partition's pending events wait for: concurrency (handed to the Dispatcher and not yet
   * started there, or due and not handed over) or a retry time; {@code handedOver}: the first kind
   * counted in flight by the partition.
   */
  private record Waiting(int forConcurrency, int forRetry, int handedOver, int retrying, long oldest) {}

  private Waiting waiting(State state, long now) {
    long oldest = 0;
    int retrying = 0;
    int handedOver = 0;
    int forConcurrency = 0;
    int forRetry = 0;
    for (Pending p : state.pending.values()) {
      oldest = oldest == 0 ? p.acceptedAtMillis() : Math.min(oldest, p.acceptedAtMillis());
      Dispatcher.Queued queued = delivering.get(p.requestId());
      if (queued != null && !queued.started().isDone()) {
        handedOver++;
      } else if (!inFlight.contains(p.requestId())) {
        retrying += p.attempts() > 0 || notBefore.containsKey(p.requestId()) ? 1 : 0;
        if (due(p) > now) {
          forRetry++;
        } else {
          forConcurrency++;
        }
      }
    }
    return new Waiting(forConcurrency + handedOver, forRetry, handedOver, retrying, oldest);
  }

  /** In flight counts only what runs, or waits for its outcome's sends or journal write. */
  private Effect<Event, State> onGetStats(State state, GetStats get) {
    long now = deps.clock().millis();
    Waiting w = waiting(state, now);
    return Effect().reply(get.replyTo(), new QueueStats(state.size(), w.oldest(), inFlight.size() - w.handedOver(),
        w.retrying(), Map.copyOf(state.byCondition), state.deadLettered, w.forConcurrency(), w.forRetry(),
        Map.copyOf(throttles), drained.inWindow(now)));
  }

  /** In flight, and not waiting in a Dispatcher for a slot. */
  private boolean running(String requestId) {
    Dispatcher.Queued queued = delivering.get(requestId);
    return inFlight.contains(requestId) && (queued == null || queued.started().isDone());
  }

  private long due(Pending p) {
    return Math.max(p.retryAtMillis(), notBefore.getOrDefault(p.requestId(), 0L));
  }

  private Effect<Event, State> onGetEvent(State state, GetEvent get) {
    Pending p = state.pending.get(get.requestId());
    return Effect().reply(get.replyTo(), p == null
        ? new EventStatus(false, false, 0, 0, 0, outcomes.unwritten(get.requestId()))
        : new EventStatus(true, running(p.requestId()), p.attempts(), p.acceptedAtMillis(),
            Math.max(p.retryAtMillis(), notBefore.getOrDefault(p.requestId(), 0L)), null));
  }

  /** Starts what is due, up to the in-flight limit, and sets the timer for what comes due next. */
  private void deliverDue(State state) {
    long now = deps.clock().millis();
    long wake = Long.MAX_VALUE;
    for (Pending p : state.pending.values()) {
      if (inFlight.contains(p.requestId())) {
        continue;
      }
      long expires = p.acceptedAtMillis() + maximumAgeMillis(p);
      if (expires < now) {
        wake = now;
        continue;
      }
      long due = due(p);
      if (due > now) {
        wake = Math.min(wake, Math.min(due, expires));
        continue;
      }
      // Finished events stay in flight until journaled, but no longer run.
      if (inFlight.size() - finishing.size() >= deps.settings().inFlight()) {
        break;
      }
      start(p);
    }
    if (wake != Long.MAX_VALUE) {
      timers.startSingleTimer(Tick.INSTANCE, Duration.ofMillis(Math.max(1, wake - now)));
    } else {
      timers.cancel(Tick.INSTANCE);
    }
    if (state.size() == 0 && inFlight.isEmpty() && accepting.isEmpty()) {
      timers.startSingleTimer(Idle.INSTANCE, IDLE);
    } else {
      timers.cancel(Idle.INSTANCE);
    }
    if (now - countedAt >= 1000 || state.size() == 0) {
      // A full count, at most once a second: a backlog may hold many thousands of events.
      countedAt = now;
      Waiting w = waiting(state, now);
      deps.metrics().holds(entityId, state.size(), inFlight.size() - w.handedOver(), w.forConcurrency(),
          w.forRetry());
    }
  }

  /**
   * Hands the event to the Dispatcher, which runs it once a slot of the function's concurrency is
   * free and it is its turn; it may wait for that until the event's maximum age. The delivery's
   * timeout starts with the run.
   */
  private void start(Pending p) {
    String id = p.requestId();
    inFlight.add(id);
    Dispatcher.Queued queued = Dispatcher.Queued.event(p.acceptedAtMillis(), maximumAgeMillis(p));
    delivering.put(id, queued);
    CompletionStage<Delivery> delivery = deps.store().payload(id)
        .thenCompose(payload -> {
          if (payload.isEmpty()) {
            return CompletableFuture.completedFuture(new PayloadGone());
          }
          CompletableFuture<Dispatcher.Result> result = deps.deliverer().deliver(functionName, p.qualifier(),
              new Invocation(id, deps.arns().functionArn(functionName, p.qualifier()), payload.get(), null, null,
                  false), queued).toCompletableFuture();
          queued.started().thenRun(() -> result.orTimeout(DELIVERY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
          return result.thenApply(r -> (Delivery) new Answered(payload.get(), r));
        });
    context.pipeToSelf(delivery, (done, failure) -> new Delivered(id, failure == null ? done : new NotDelivered(failure)));
  }
}
