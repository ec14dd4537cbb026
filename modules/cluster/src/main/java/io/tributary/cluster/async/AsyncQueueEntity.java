package io.tributary.cluster.async;

import com.typesafe.config.Config;
import io.tributary.api.Arns;
import io.tributary.api.Destination;
import io.tributary.api.EventInvokeConfig;
import io.tributary.api.Invocation;
import io.tributary.api.LambdaError;
import io.tributary.api.LambdaException;
import io.tributary.cluster.Asks;
import io.tributary.cluster.ClusterMessage;
import io.tributary.cluster.PersistedMessage;
import io.tributary.cluster.Reply;
import io.tributary.cluster.delivery.InvocationRecord;
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
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One partition of a function's asynchronous queue: the events accepted for it and not yet
 * finished. An accepted event is in the journal before the caller gets 202 (its payload in
 * {@link EventQueueStore}, so the journal's writes stay small); the entity delivers it through
 * its node's {@link Dispatcher} like a synchronous invoke, at most {@code inFlight} at a time,
 * and records each outcome:
 *
 * <ul>
 *   <li>success, or a failure with no retry left → finished;</li>
 *   <li>a function error → retried after the {@link RetrySchedule}'s delay, the time persisted, so
 *       a restart keeps it;</li>
 *   <li>a throttle or platform error → retried with the schedule's backoff, held in memory only
 *       (after a restart it is simply tried at once);</li>
 *   <li>older than the maximum event age → finished, {@code EventAgeExceeded}.</li>
 * </ul>
 *
 * <p>A queue that holds events is listed in {@code event_queues} (written before the first event's
 * 202); its partition's {@link QueueWaker} wakes every listed queue every few seconds, so after a
 * restart or a node's death the queues resume delivering without waiting for a request. A queue
 * that stays empty for {@link #IDLE} unlists itself and passivates.
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
  static final Duration OUTCOME_DELAY = Duration.ofMillis(200);
  private static final String FINISH_TIMER = "finish";
  /** AWS's longest function timeout and a margin: a delivery always ends within it. */
  private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(910);
  /** What a dead-letter queue gets for an event whose payload is gone: a message body cannot be empty. */
  private static final byte[] NULL = "null".getBytes(java.nio.charset.StandardCharsets.UTF_8);

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

  private enum RecordOutcomes implements Command { INSTANCE }

  private record Unlisted(Throwable failure) implements Command {}

  private enum Tick implements Command { INSTANCE }

  private enum Idle implements Command { INSTANCE }

  /** {@code payload} and {@code result} are both null when the payload is gone. */
  private record Delivered(String requestId, byte[] payload, Dispatcher.Result result, Throwable failure)
      implements Command {}

  /** What a finished event owed to {@code send} was accepted, or not. */
  private record RecordSent(String requestId, Send send, Throwable failure) implements Command {}

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

  public record QueueStats(int depth, long oldestAcceptedAtMillis, int inFlight, int retrying,
                           Map<String, Long> finished, long deadLettered) implements ClusterMessage {}

  /** Where event {@code requestId} is, if this partition still holds it. */
  public record GetEvent(String requestId, ActorRef<EventStatus> replyTo) implements Command {}

  /** {@code queued} false: the partition does not hold the event (finished, or never accepted here). */
  public record EventStatus(boolean queued, boolean running, int attempts, long acceptedAtMillis,
                            long nextAttemptAtMillis, EventQueueStore.Finished ended) implements ClusterMessage {}

  /**
   * Mutable, changed only by {@link #apply}; snapshots take a copy ({@link #snapshotAdapter}), so
   * the snapshot store never sees it change.
   */
  public static final class State {
    private final Map<String, Pending> pending = new LinkedHashMap<>();
    private final Map<String, Long> finished = new HashMap<>();
    private long deadLettered;

    State apply(Event event) {
      if (event instanceof EventsCommitted e) {
        e.finished().forEach(this::apply);
        e.accepted().forEach(this::apply);
      } else if (event instanceof EventAccepted e) {
        pending.putIfAbsent(e.requestId(), new Pending(e.requestId(), e.qualifier(), e.acceptedAtMillis(), 0, 0));
      } else if (event instanceof RetryScheduled e) {
        pending.computeIfPresent(e.requestId(),
            (id, p) -> new Pending(id, p.qualifier(), p.acceptedAtMillis(), e.attempts(), e.retryAtMillis()));
      } else if (event instanceof EventFinished e) {
        if (pending.remove(e.requestId()) != null) {
          finished.merge(e.condition(), 1L, Long::sum);
          if (Boolean.TRUE.equals(e.deadLettered())) {
            deadLettered++;
          }
        }
      }
      return this;
    }

    public int size() {
      return pending.size();
    }

    Snapshot snapshot() {
      return new Snapshot(new ArrayList<>(pending.values()), finished, deadLettered);
    }

    static State of(Snapshot snapshot) {
      State state = new State();
      snapshot.pending().forEach(p -> state.pending.put(p.requestId(), p));
      state.finished.putAll(snapshot.finished());
      state.deadLettered = snapshot.deadLettered();
      return state;
    }

    boolean contains(String requestId) {
      return pending.containsKey(requestId);
    }
  }

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
  public record Deps(Settings settings, EventQueueStore store, Dispatcher.Invoker dispatcher,
                     Intake intake, Destination.Resolver destinations, AsyncMetrics metrics, Arns arns, Clock clock) {}

  /** Something a finished event owes: its invocation record to a destination, or itself to its dead-letter queue. */
  private record Send(String requestId, String target, boolean deadLetter) {}

  /**
   * A finished event whose {@code sends} wait to be accepted; {@code payload} is null until read,
   * {@code response} when the function never answered.
   */
  private record Outgoing(String condition, int attempts, List<Send> sends, String recordId, String functionArn,
                          byte[] payload, Dispatcher.Ran response, boolean deadLettered) {
    /** {@code accepted}: whether the destination took it (false: it refused it for good). */
    Outgoing without(Send sent, boolean accepted) {
      List<Send> left = new ArrayList<>(sends);
      left.remove(sent);
      return new Outgoing(condition, attempts, List.copyOf(left), recordId, functionArn, payload, response,
          deadLettered || (accepted && sent.deadLetter()));
    }
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
  private final Set<String> inFlight = new HashSet<>();
  /** Throttles and platform errors in a row, and when the event may be tried again: memory only. */
  private final Map<String, Integer> backoffs = new HashMap<>();
  private final Map<String, Long> notBefore = new HashMap<>();
  /** The last asynchronous configuration the Dispatcher reported per qualifier; absent: the node's defaults. */
  private final Map<String, Dispatcher.AsyncTarget> configs = new HashMap<>();
  private final Map<String, Outgoing> outbox = new HashMap<>();
  /** Failed sends in a row, per event and target. */
  private final Map<Send, Integer> sendFailures = new HashMap<>();
  /** Accepted, waiting for the group commit ({@link Flush}). */
  private final List<Enqueue> accepting = new ArrayList<>();
  private boolean flushScheduled;
  /** Finished, waiting for the group commit ({@link Flush}). */
  private final Map<String, EventFinished> finishing = new LinkedHashMap<>();
  /** Journaled as finished, waiting to be written for lookups ({@link RecordOutcomes}). */
  private final Map<String, EventQueueStore.Finished> unrecorded = new LinkedHashMap<>();

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
    super(PersistenceId.of(TYPE_KEY.name(), entityId));
    this.entityId = entityId;
    this.functionName = entityId.substring(0, entityId.lastIndexOf('#'));
    this.partition = Integer.parseInt(entityId.substring(entityId.lastIndexOf('#') + 1));
    this.deps = deps;
    this.context = context;
    this.timers = timers;
    this.shard = shard;
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
        .onSignal(PostStop.instance(), state -> {
          writeOutcomes();
          deps.metrics().stopped(entityId);
        })
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(State::apply);
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Enqueue.class, this::onEnqueue)
        .onCommand(Listed.class, this::onListed)
        .onCommand(Flush.class, (state, flush) -> flush(state))
        .onCommand(RecordOutcomes.class, (state, record) -> Effect().none().thenRun(s -> writeOutcomes()))
        .onCommand(Delivered.class, this::onDelivered)
        .onCommand(RecordSent.class, this::onRecordSent)
        .onCommand(Tick.class, (state, tick) -> expireOrDeliver(state))
        .onCommand(Wake.class, (state, wake) -> Effect().none().thenRun(this::deliverDue))
        .onCommand(Idle.class, this::onIdle)
        .onCommand(Purge.class, this::onPurge)
        .onCommand(GetStats.class, this::onGetStats)
        .onCommand(GetEvent.class, this::onGetEvent)
        .onCommand(Unlisted.class, this::onUnlisted)
        .build();
  }

  private void onRecovered(State state) {
    if (state.size() > 0) {
      listed = true;
      deps.store().markQueued(partition, functionName).whenComplete((v, failure) -> {
        if (failure != null) {
          context.getLog().warn("Could not list the queue of {} (partition {}): {}", functionName, partition,
              failure.toString());
        }
      });
    }
    deliverDue(state);
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
      recordOutcomes(done);
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
    Pending pending = state.pending.get(id);
    if (pending == null) {
      return Effect().none().thenRun(this::deliverDue);
    }
    int attempt = pending.attempts() + 1;
    if (delivered.failure() != null) {
      return backOff(state, id, "the delivery failed: " + delivered.failure());
    }
    if (delivered.result() == null) {
      context.getLog().error("Event {} of {} is dropped: its payload is gone (expired or never stored)", id,
          functionName);
      return finished(id, "Dropped", pending.attempts());
    }
    Dispatcher.Result result = delivered.result();
    String qualifier = qualifierOf(pending);
    Dispatcher.AsyncTarget async = result instanceof Dispatcher.Ran ran ? ran.async()
        : result instanceof Dispatcher.Refused refused ? refused.async() : null;
    if (async != null) {
      configs.put(qualifier, async);
    }
    if (!(result instanceof Dispatcher.Ran ran)) {
      LambdaException error = result instanceof Dispatcher.Refused refused ? refused.error().toException()
          : LambdaException.service("The event was not run on this node");
      if (error.status() == 429 || error.status() >= 500) {
        return backOff(state, id, error.errorType() + ": " + error.getMessage());
      }
      context.getLog().info("Event {} of {} is dropped: {} {}", id, functionName, error.errorType(),
          error.getMessage());
      return finished(id, "Dropped", pending.attempts());
    }
    backoffs.remove(id);
    notBefore.remove(id);
    if (ran.result().functionError() == null) {
      return finish(pending, "Success", attempt, delivered.payload(), ran);
    }
    if (attempt > retryAttempts(qualifier)) {
      context.getLog().debug("Event {} of {} failed {} times: RetriesExhausted", id, functionName, attempt);
      return finish(pending, "RetriesExhausted", attempt, delivered.payload(), ran);
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

  /**
   * Finishes an event: at once when its configuration names no destination for {@code condition}
   * and (for a failure) no dead-letter queue; otherwise once each of them has accepted what it is
   * owed (until then the event stays queued, so a crash sends again rather than losing it).
   */
  private Effect<Event, State> finish(Pending p, String condition, int attempts, byte[] payload,
                                      Dispatcher.Ran response) {
    Dispatcher.AsyncTarget async = configs.get(qualifierOf(p));
    List<Send> sends = new ArrayList<>();
    boolean success = condition.equals("Success");
    if (async != null && async.config() != null) {
      String destination = success ? async.config().onSuccess() : async.config().onFailure();
      if (destination != null) {
        sends.add(new Send(p.requestId(), destination, false));
      }
    }
    if (!success && async != null && async.deadLetterTarget() != null) {
      sends.add(new Send(p.requestId(), async.deadLetterTarget(), true));
    }
    if (sends.isEmpty()) {
      return finished(p.requestId(), condition, attempts);
    }
    inFlight.add(p.requestId());
    outbox.put(p.requestId(), new Outgoing(condition, attempts, List.copyOf(sends), UUID.randomUUID().toString(),
        deps.arns().functionArn(functionName, qualifierOf(p)), payload, response, false));
    sends.forEach(send -> context.getSelf().tell(new RecordSent(p.requestId(), send, new RetryRecord())));
    return Effect().none();
  }

  /** Not a failure: the record is due to be sent (again). */
  private static final class RetryRecord extends Exception {
    RetryRecord() {
      super(null, null, false, false);
    }
  }

  private Effect<Event, State> onGetStats(State state, GetStats get) {
    long oldest = state.pending.values().stream().mapToLong(Pending::acceptedAtMillis).min().orElse(0);
    int retrying = (int) state.pending.values().stream()
        .filter(p -> !inFlight.contains(p.requestId()) && (p.attempts() > 0 || notBefore.containsKey(p.requestId())))
        .count();
    get.replyTo().tell(new QueueStats(state.size(), oldest, inFlight.size(), retrying, Map.copyOf(state.finished),
        state.deadLettered));
    return Effect().none();
  }

  private Effect<Event, State> onGetEvent(State state, GetEvent get) {
    Pending p = state.pending.get(get.requestId());
    get.replyTo().tell(p == null ? new EventStatus(false, false, 0, 0, 0, unrecorded.get(get.requestId()))
        : new EventStatus(true, inFlight.contains(p.requestId()), p.attempts(), p.acceptedAtMillis(),
            Math.max(p.retryAtMillis(), notBefore.getOrDefault(p.requestId(), 0L)), null));
    return Effect().none();
  }

  /**
   * Outcomes are kept for lookups by request id: those of up to {@link #OUTCOME_DELAY} of journal
   * writes are written together, one single-partition batch, and answered from memory meanwhile. A
   * failure only costs the lookup, so it is logged, not retried.
   */
  private void recordOutcomes(List<EventFinished> finished) {
    long now = deps.clock().millis();
    finished.forEach(e -> unrecorded.put(e.requestId(),
        new EventQueueStore.Finished(e.requestId(), e.condition(), e.attempts(), now)));
    if (unrecorded.size() >= BATCH) {
      writeOutcomes();
    } else if (!unrecorded.isEmpty() && !timers.isTimerActive(RecordOutcomes.INSTANCE)) {
      timers.startSingleTimer(RecordOutcomes.INSTANCE, OUTCOME_DELAY);
    }
  }

  private void writeOutcomes() {
    timers.cancel(RecordOutcomes.INSTANCE);
    if (unrecorded.isEmpty()) {
      return;
    }
    List<EventQueueStore.Finished> batch = List.copyOf(unrecorded.values());
    unrecorded.clear();
    String function = functionName;
    deps.store().recordOutcomes(function, partition, batch).whenComplete((v, failure) -> {
      if (failure != null) {
        LOG.debug("Could not record the outcomes of {} events of {} for lookups: {}", batch.size(), function,
            failure.toString());
      }
    });
  }

  /** Every queued event is finished as Dropped, through the same group commit as any outcome. */
  private Effect<Event, State> onPurge(State state, Purge purge) {
    outbox.keySet().forEach(inFlight::remove);
    outbox.clear();
    sendFailures.clear();
    List<Pending> dropped = state.pending.values().stream()
        .filter(p -> !finishing.containsKey(p.requestId())).toList();
    if (!dropped.isEmpty()) {
      context.getLog().info("{} queued events of {} dropped: the function was deleted", dropped.size(), functionName);
    }
    dropped.forEach(p -> finished(p.requestId(), "Dropped", p.attempts()));
    return Effect().none().thenRun(this::deliverDue);
  }

  private Effect<Event, State> onRecordSent(State state, RecordSent sent) {
    String id = sent.requestId();
    Outgoing outgoing = outbox.get(id);
    if (outgoing == null || !outgoing.sends().contains(sent.send())) {
      return Effect().none();
    }
    Throwable failure = sent.failure() instanceof CompletionException && sent.failure().getCause() != null
        ? sent.failure().getCause() : sent.failure();
    String what = sent.send().deadLetter() ? "Dead-lettered event " + id : "The invocation record of event " + id;
    if (failure == null || failure instanceof Destination.Rejected) {
      if (failure != null) {
        context.getLog().error("{} of {} is dropped: {} refused it for good: {}", what, functionName,
            sent.send().target(), failure.getMessage());
        deps.metrics().sendRejected();
      }
      sendFailures.remove(sent.send());
      if (failure == null) {
        deps.metrics().sent(sent.send().deadLetter());
      }
      Outgoing left = outgoing.without(sent.send(), failure == null);
      if (!left.sends().isEmpty()) {
        outbox.put(id, left);
        return Effect().none();
      }
      outbox.remove(id);
      inFlight.remove(id);
      return finished(id, left.condition(), left.attempts(), left.deadLettered());
    }
    if (!(failure instanceof RetryRecord)) {
      deps.metrics().sendFailed();
      int failures = sendFailures.merge(sent.send(), 1, Integer::sum);
      Duration delay = deps.settings().schedule().backoff(failures);
      if (failures == 1 || failures % 10 == 0) {
        context.getLog().warn("{} of {} could not reach {} ({} in a row; next try in {}): {}", what, functionName,
            sent.send().target(), failures, delay, failure.toString());
      }
      context.scheduleOnce(delay, context.getSelf(), new RecordSent(id, sent.send(), new RetryRecord()));
      return Effect().none();
    }
    CompletionStage<byte[]> payload = outgoing.payload() != null
        ? CompletableFuture.completedFuture(outgoing.payload())
        : deps.store().payload(id).thenApply(found -> found.orElse(null));
    long now = deps.clock().millis();
    context.pipeToSelf(payload.thenCompose(bytes -> send(id, outgoing, sent.send(), bytes, now)),
        (done, failed) -> new RecordSent(id, sent.send(), failed));
    return Effect().none();
  }

  /** A function destination gets the record as an Event invoke; any other goes through the node's connectors. */
  private CompletionStage<?> send(String id, Outgoing outgoing, Send send, byte[] payload, long now) {
    if (send.target().startsWith(deps.arns().functionArn(""))) {
      Arns.FunctionRef target = deps.arns().parseFunction(send.target());
      return deps.intake().accept(target.name(), target.qualifier(), outgoing.recordId(), InvocationRecord.of(id,
          outgoing.functionArn(), outgoing.condition(), outgoing.attempts(), payload, outgoing.response(), now));
    }
    Destination.Message message = send.deadLetter()
        ? new Destination.Message(id, payload == null ? NULL : payload,
            InvocationRecord.deadLetterAttributes(id, outgoing.condition(), outgoing.response()))
        : new Destination.Message(id, InvocationRecord.of(id, outgoing.functionArn(), outgoing.condition(),
            outgoing.attempts(), payload, outgoing.response(), now), Map.of());
    return deps.destinations().resolve(send.target()).send(message);
  }

  private Effect<Event, State> backOff(State state, String id, String why) {
    deps.metrics().backedOff();
    int failures = backoffs.merge(id, 1, Integer::sum);
    Duration delay = deps.settings().schedule().backoff(failures);
    notBefore.put(id, deps.clock().millis() + delay.toMillis());
    if (failures == 1 || failures % 10 == 0) {
      context.getLog().debug("Event {} of {} waits {} ({} in a row): {}", id, functionName, delay, failures, why);
    }
    return Effect().none().thenRun(this::deliverDue);
  }

  /**
   * Group commit of outcomes, as of accepted events: the event stays in flight (never delivered
   * again) until its {@code EventFinished} is journaled with the others finished meanwhile.
   */
  private Effect<Event, State> finished(String id, String condition, int attempts) {
    return finished(id, condition, attempts, false);
  }

  private Effect<Event, State> finished(String id, String condition, int attempts, boolean deadLettered) {
    backoffs.remove(id);
    notBefore.remove(id);
    inFlight.add(id);
    finishing.putIfAbsent(id, new EventFinished(id, condition, attempts, deadLettered ? Boolean.TRUE : null));
    scheduleFinish();
    return Effect().none().thenRun(this::deliverDue);
  }

  /** Finishes the events past their maximum age that are not being delivered, then delivers what is due. */
  private Effect<Event, State> expireOrDeliver(State state) {
    long now = deps.clock().millis();
    List<Pending> expired = new ArrayList<>();
    for (Pending p : state.pending.values()) {
      if (p.acceptedAtMillis() < now - maximumAgeMillis(p) && !inFlight.contains(p.requestId())) {
        expired.add(p);
      }
    }
    if (expired.isEmpty()) {
      return Effect().none().thenRun(this::deliverDue);
    }
    context.getLog().info("{} events of {} reached their maximum age undelivered", expired.size(), functionName);
    for (Pending p : expired) {
      backoffs.remove(p.requestId());
      notBefore.remove(p.requestId());
      finish(p, "EventAgeExceeded", p.attempts(), null, null);
    }
    return Effect().none().thenRun(this::deliverDue);
  }

  /**
   * Unlisted before it passivates; {@code listed} turns false first, so an event that arrives
   * meanwhile lists the queue again, with a later write that wins.
   */
  private Effect<Event, State> onIdle(State state, Idle idle) {
    writeOutcomes();
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
      long due = Math.max(p.retryAtMillis(), notBefore.getOrDefault(p.requestId(), 0L));
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
    deps.metrics().holds(entityId, state.size(), inFlight.size());
  }

  private void start(Pending p) {
    inFlight.add(p.requestId());
    CompletionStage<Delivered> delivery = deps.store().payload(p.requestId())
        .thenCompose(payload -> payload.isEmpty()
            ? CompletableFuture.completedFuture(new Delivered(p.requestId(), null, null, null))
            : deps.dispatcher().invoke(functionName, p.qualifier(),
                    new Invocation(p.requestId(), deps.arns().functionArn(functionName, p.qualifier()), payload.get(),
                        null, null, false), false, true)
                .orTimeout(DELIVERY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .thenApply(result -> new Delivered(p.requestId(), payload.get(), result, null)));
    context.pipeToSelf(delivery, (delivered, failure) -> failure == null ? delivered
        : new Delivered(p.requestId(), null, null, failure));
  }

  /**
   * The accepting side, on every node: stores the payload, then queues the event on one of the
   * function's partitions, chosen by its request id; completes once both are durable.
   */
  public static final class Intake {
    private final ActorSystem<?> system;
    private final ClusterSharding sharding;
    private final EventQueueStore store;
    private final int partitions;
    private final Duration acceptTimeout;
    private final Duration idempotencyWindow;
    private final Clock clock;
    private final StickyPartitions sticky;
    /** Sharding makes a new reference on every call; the queue of a function's partition keeps one. */
    private final Map<String, EntityRef<Command>> refs = new ConcurrentHashMap<>();

    public Intake(ActorSystem<?> system, ClusterSharding sharding, EventQueueStore store, Settings settings,
                  Clock clock) {
      this.system = system;
      this.sharding = sharding;
      this.store = store;
      this.partitions = settings.partitions();
      this.acceptTimeout = settings.acceptTimeout();
      this.idempotencyWindow = settings.idempotencyWindow();
      this.clock = clock;
      this.sticky = new StickyPartitions(partitions, settings.inFlight());
    }

    private EntityRef<Command> ref(String functionName, int partition) {
      return refs.computeIfAbsent(entityId(functionName, partition), id -> sharding.entityRefFor(TYPE_KEY, id));
    }

    /** The request id of this node's next Event invoke of {@code functionName} ({@link StickyPartitions}). */
    public String newRequestId(String functionName) {
      return sticky.requestId(functionName);
    }

    /** The partitions' stats of {@code functionName}'s queue, added up. */
    public CompletionStage<QueueStats> stats(String functionName) {
      List<CompletableFuture<QueueStats>> asks = new ArrayList<>();
      for (int partition = 0; partition < partitions; partition++) {
        asks.add(Asks.on(ref(functionName, partition)
            .<QueueStats>ask(GetStats::new, acceptTimeout.multipliedBy(3)), system.executionContext())
            .toCompletableFuture());
      }
      return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(v -> {
        int depth = 0;
        int inFlight = 0;
        int retrying = 0;
        long oldest = 0;
        long deadLettered = 0;
        Map<String, Long> finished = new java.util.TreeMap<>();
        for (CompletableFuture<QueueStats> ask : asks) {
          QueueStats s = ask.join();
          depth += s.depth();
          inFlight += s.inFlight();
          retrying += s.retrying();
          deadLettered += s.deadLettered();
          if (s.oldestAcceptedAtMillis() > 0 && (oldest == 0 || s.oldestAcceptedAtMillis() < oldest)) {
            oldest = s.oldestAcceptedAtMillis();
          }
          s.finished().forEach((condition, n) -> finished.merge(condition, n, Long::sum));
        }
        return new QueueStats(depth, oldest, inFlight, retrying, finished, deadLettered);
      });
    }

    /** Where an event is: {@code queued} while a partition holds it, else how it {@code ended}, else neither. */
    public record Whereabouts(EventStatus queued, EventQueueStore.Outcome ended) {}

    /** Where event {@code requestId} of {@code functionName} is: still queued, or how it ended. */
    public CompletionStage<Whereabouts> lookup(String functionName, String requestId) {
      int partition = sticky.partitionOf(requestId);
      return Asks.on(ref(functionName, partition)
              .<EventStatus>ask(replyTo -> new GetEvent(requestId, replyTo), acceptTimeout.multipliedBy(3)),
          system.executionContext())
          .thenCompose(status -> status.queued() ? CompletableFuture.completedFuture(new Whereabouts(status, null))
              : status.ended() != null
                  ? CompletableFuture.completedFuture(new Whereabouts(null, status.ended().outcome(functionName)))
              : store.outcome(functionName, partition, requestId, clock.instant())
                  .thenApply(outcome -> new Whereabouts(null, outcome.orElse(null))));
    }

    /** Drops what every partition of {@code functionName}'s queue holds. */
    public void purge(String functionName) {
      sticky.forget(functionName);
      for (int partition = 0; partition < partitions; partition++) {
        ref(functionName, partition).tell(Purge.INSTANCE);
        refs.remove(entityId(functionName, partition));
      }
    }

    public CompletionStage<Done> accept(String functionName, String qualifier, String requestId, byte[] payload) {
      long acceptedAt = clock.millis();
      // By the request id, so that accepting the same request again finds the same partition, which dedupes it.
      var queue = ref(functionName, sticky.partitionOf(requestId));
      return store.putPayload(requestId, payload, acceptTimeout).thenCompose(v -> Asks.on(queue
              .<Reply<Boolean>>ask(replyTo -> new Enqueue(requestId, qualifier, acceptedAt, replyTo),
                  acceptTimeout), system.executionContext()))
          .thenApply(reply -> {
            if (reply.error() != null) {
              throw reply.error().toException();
            }
            return Done.getInstance();
          });
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
  }
}
