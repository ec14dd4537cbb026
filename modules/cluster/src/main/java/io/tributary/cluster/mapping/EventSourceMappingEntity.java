package io.tributary.cluster.mapping;

import io.tributary.api.EventSourceMapping;
import io.tributary.api.LambdaError;
import io.tributary.api.LambdaException;
import io.tributary.api.Validation;
import io.tributary.cluster.ClusterMessage;
import io.tributary.cluster.PersistedMessage;
import io.tributary.cluster.Reply;
import io.tributary.cluster.Restarts;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One event source mapping, by its UUID: the single writer of its configuration and state. After
 * each persist, and before it replies, it writes the mapping's row in the {@link Registry}, which
 * ListEventSourceMappings reads and every node's {@link MappingPollers} watch: that is how the
 * pollers learn of a mapping, wherever it was created. The pollers report back what they reached
 * ({@link Report}), which moves the transitional states on (Creating or Enabling → Enabled,
 * Disabling → Disabled) and keeps {@code LastProcessingResult}.
 *
 * <p>Commands are routed by state. A mapping that was never created and one that was deleted are
 * the same state, none: Create applies, Get, Update and Delete answer AWS's 404, and the pollers'
 * late reports are dropped. Deleting is never stored: AWS answers a delete with the mapping in state
 * Deleting, and the entity persists the deletion and removes the row, which stops the pollers.
 *
 * <p>The mapping's tags (TagResource, UntagResource, ListTags on its ARN, and {@code Tags} on create)
 * live in the entity's state beside the mapping, never in its registry row: a tag changes nothing the
 * pollers read, so tagging a running mapping does not restart them. A deleted mapping's tags go with
 * it; a mapping created later under another UUID starts with none.
 *
 * <p>Replies to Create, Update and Delete wait for the registry row, so a mapping is listed (or
 * gone) on the caller's next request: they are told when the write completes. A journal write that
 * fails restarts the entity with backoff; it recovers from the journal, and the command whose event
 * was not stored is not answered. LastModified is read from the injected {@link Clock}.
 */
public final class EventSourceMappingEntity extends EventSourcedBehaviorWithEnforcedReplies<
    EventSourceMappingEntity.Command, EventSourceMappingEntity.Event, EventSourceMappingEntity.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "EventSourceMapping");

  /** Where each mapping's current row is written (or removed), at write timestamp {@code seqNr}, and read by every node's pollers. */
  public interface Registry {
    CompletionStage<Void> save(String uuid, EventSourceMapping mapping, long seqNr);

    /** Every mapping of the account, as last saved. */
    CompletionStage<List<EventSourceMapping>> all();
  }

  public sealed interface Command extends ClusterMessage {}

  /** {@code tags}: the request's {@code Tags}, already checked against AWS's limits; empty for none. */
  public record Create(EventSourceMapping mapping, Map<String, String> tags,
                       ActorRef<Reply<EventSourceMapping>> replyTo) implements Command {}

  public record Get(ActorRef<Reply<EventSourceMapping>> replyTo) implements Command {}

  public record Update(EventSourceMapping.Changes changes, ActorRef<Reply<EventSourceMapping>> replyTo)
      implements Command {}

  /**
   * From a poller: the mapping cannot run as it is ({@code reason}, its StateTransitionReason: its
   * function is gone), so it is disabled until a user enables it again.
   */
  public record Disable(String reason, String lastProcessingResult) implements Command {}

  public record Delete(ActorRef<Reply<EventSourceMapping>> replyTo) implements Command {}

  /**
   * From a poller: the state its node reached ({@code Enabled} once it reads, {@code Disabled} once
   * it stopped), and the last processing result, either possibly null.
   */
  public record Report(String state, String lastProcessingResult) implements Command {}

  /** Adds or replaces {@code tags} (checked by the caller); answers the mapping's tags after it. */
  public record TagResource(Map<String, String> tags, ActorRef<Reply<Map<String, String>>> replyTo)
      implements Command {}

  /** Removes the tags with these keys (absent keys are no error, as on AWS); answers the tags after it. */
  public record UntagResource(List<String> tagKeys, ActorRef<Reply<Map<String, String>>> replyTo)
      implements Command {}

  public record ListTags(ActorRef<Reply<Map<String, String>>> replyTo) implements Command {}

  public sealed interface Event extends PersistedMessage {}

  /** {@code tags} was added after the first release: events stored before it read as untagged. */
  public record MappingCreated(EventSourceMapping mapping, Map<String, String> tags) implements Event {
    public MappingCreated {
      tags = tags == null ? Map.of() : new TreeMap<>(tags);
    }
  }

  public record MappingUpdated(EventSourceMapping mapping) implements Event {}

  public record MappingDeleted(String uuid) implements Event {}

  public record MappingTagsAdded(Map<String, String> tags) implements Event {}

  public record MappingTagsRemoved(List<String> tagKeys) implements Event {}

  /**
   * {@code mapping} null: there is none (never created, or deleted), and no tags. {@code tags} was
   * added after the first release: snapshots taken before it read as untagged.
   */
  public record State(EventSourceMapping mapping, Map<String, String> tags) implements PersistedMessage {
    static final State NONE = new State(null, Map.of());

    public State {
      tags = tags == null ? Map.of() : tags;
    }

    boolean exists() {
      return mapping != null;
    }

    State withMapping(EventSourceMapping updated) {
      return new State(updated, tags);
    }

    State withTags(Map<String, String> added) {
      Map<String, String> t = new TreeMap<>(tags);
      t.putAll(added);
      return new State(mapping, t);
    }

    State withoutTags(List<String> tagKeys) {
      Map<String, String> t = new TreeMap<>(tags);
      tagKeys.forEach(t::remove);
      return new State(mapping, t);
    }
  }

  private final String uuid;
  private final Registry registry;
  private final Clock clock;
  private final ActorContext<Command> context;

  public static void init(ClusterSharding sharding, Registry registry, Clock clock) {
    sharding.init(Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), registry, clock)));
  }

  static Behavior<Command> create(String uuid, Registry registry, Clock clock) {
    return Behaviors.setup(ctx -> new EventSourceMappingEntity(uuid, registry, clock, ctx));
  }

  private EventSourceMappingEntity(String uuid, Registry registry, Clock clock, ActorContext<Command> context) {
    super(PersistenceId.of(TYPE_KEY.name(), uuid), Restarts.BACKOFF);
    this.uuid = uuid;
    this.registry = registry;
    this.clock = clock;
    this.context = context;
  }

  @Override
  public State emptyState() {
    return State.NONE;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(MappingCreated.class, (state, e) -> new State(e.mapping(), e.tags()))
        .onEvent(MappingUpdated.class, (state, e) -> state.withMapping(e.mapping()))
        .onEvent(MappingDeleted.class, (state, e) -> State.NONE)
        .onEvent(MappingTagsAdded.class, (state, e) -> state.withTags(e.tags()))
        .onEvent(MappingTagsRemoved.class, (state, e) -> state.withoutTags(e.tagKeys()))
        .onAnyEvent((state, e) -> {
          throw new IllegalStateException("Unexpected event " + e.getClass().getName() + " for event source mapping "
              + uuid);
        });
  }

  @Override
  public SignalHandler<State> signalHandler() {
    // A crash between persist and row leaves the row behind: rewrite it on recovery.
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), state -> {
      long seqNr = lastSequenceNumber(context);
      if (seqNr > 0) {
        save(state.mapping(), seqNr, null);
      }
    }).build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, Event, State> builder = newCommandHandlerWithReplyBuilder();
    builder.forState(state -> !state.exists())
        .onCommand(Create.class, this::onCreate)
        .onCommand(Get.class, get -> notFound(get.replyTo()))
        .onCommand(Update.class, update -> notFound(update.replyTo()))
        .onCommand(Delete.class, delete -> notFound(delete.replyTo()))
        .onCommand(TagResource.class, tag -> notFound(tag.replyTo()))
        .onCommand(UntagResource.class, untag -> notFound(untag.replyTo()))
        .onCommand(ListTags.class, list -> notFound(list.replyTo()))
        .onCommand(Report.class, report -> Effect().noReply())
        .onCommand(Disable.class, disable -> Effect().noReply());
    builder.forState(State::exists)
        .onCommand(Create.class, this::onCreateExisting)
        .onCommand(Get.class, (state, get) -> Effect().reply(get.replyTo(), Reply.ok(state.mapping())))
        .onCommand(Update.class, this::onUpdate)
        .onCommand(Delete.class, this::onDelete)
        .onCommand(TagResource.class, this::onTagResource)
        .onCommand(UntagResource.class, this::onUntagResource)
        .onCommand(ListTags.class, (state, list) -> Effect().reply(list.replyTo(), Reply.ok(state.tags())))
        .onCommand(Report.class, this::onReport)
        .onCommand(Disable.class, this::onDisable);
    return builder.build();
  }

  // ---- while there is no mapping ----

  private ReplyEffect<Event, State> onCreate(State state, Create create) {
    return persistThenReply(new MappingCreated(create.mapping(), create.tags()), create.replyTo());
  }

  private <T> ReplyEffect<Event, State> notFound(ActorRef<Reply<T>> replyTo) {
    return Effect().reply(replyTo, new Reply<>(null, LambdaError.of(LambdaException.notFound(
        "The resource you requested does not exist. (Service: Lambda, Status Code: 404, Event source mapping "
            + uuid + ")"))));
  }

  // ---- once it exists ----

  private ReplyEffect<Event, State> onCreateExisting(State state, Create create) {
    return Effect().reply(create.replyTo(), new Reply<>(null, LambdaError.of(LambdaException.conflict(
        "An event source mapping with UUID " + uuid + " already exists."))));
  }

  private ReplyEffect<Event, State> onUpdate(State state, Update update) {
    EventSourceMapping m = state.mapping();
    Boolean asked = update.changes().enabled();
    boolean enabled = asked == null ? m.enabled() : asked;
    boolean changed = !m.updated(update.changes(), m.state(), m.stateTransitionReason(), m.lastModifiedMillis())
        .equals(m);
    // A running mapping with new settings is Updating until its pollers restart with them and report.
    String next = enabled != m.enabled() ? (enabled ? EventSourceMapping.ENABLING : EventSourceMapping.DISABLING)
        : enabled && changed ? EventSourceMapping.UPDATING : m.state();
    EventSourceMapping updated = m.updated(update.changes(), next, "USER_INITIATED", clock.millis());
    return persistThenReply(new MappingUpdated(updated), update.replyTo());
  }

  /** Straight to Disabled: the pollers stop on their next refresh, and none of them is reading meanwhile. */
  private ReplyEffect<Event, State> onDisable(State state, Disable disable) {
    EventSourceMapping m = state.mapping();
    if (!m.enabled()) {
      return Effect().noReply();
    }
    EventSourceMapping disabled = m.updated(new EventSourceMapping.Changes(null, null, null, false, null, null, null,
        null, null, null, null, null, null), EventSourceMapping.DISABLED, disable.reason(), clock.millis())
        .withState(EventSourceMapping.DISABLED, disable.reason(), disable.lastProcessingResult());
    return Effect().persist(new MappingUpdated(disabled))
        .thenRun(s -> save(s.mapping(), lastSequenceNumber(context), null))
        .thenNoReply();
  }

  /** AWS answers a delete with the mapping in state Deleting; the pollers stop when its row goes. */
  private ReplyEffect<Event, State> onDelete(State state, Delete delete) {
    EventSourceMapping deleting = state.mapping().withState(EventSourceMapping.DELETING, "USER_INITIATED", null);
    return Effect().persist(new MappingDeleted(uuid))
        .thenRun(s -> save(null, lastSequenceNumber(context), () -> delete.replyTo().tell(Reply.ok(deleting))))
        .thenNoReply();
  }

  /** The limit counts the tags the mapping would have after the request, as AWS counts them. */
  private ReplyEffect<Event, State> onTagResource(State state, TagResource tag) {
    Map<String, String> merged = new TreeMap<>(state.tags());
    merged.putAll(tag.tags());
    if (merged.size() > Validation.MAX_TAGS) {
      return Effect().reply(tag.replyTo(), new Reply<>(null, LambdaError.of(LambdaException.invalidParameter(
          "An event source mapping can have at most " + Validation.MAX_TAGS + " tags; this request would leave "
              + merged.size() + ". Remove some with UntagResource first."))));
    }
    return Effect().persist(new MappingTagsAdded(new TreeMap<>(tag.tags())))
        .thenReply(tag.replyTo(), s -> Reply.ok(s.tags()));
  }

  private ReplyEffect<Event, State> onUntagResource(State state, UntagResource untag) {
    return Effect().persist(new MappingTagsRemoved(List.copyOf(untag.tagKeys())))
        .thenReply(untag.replyTo(), s -> Reply.ok(s.tags()));
  }

  private ReplyEffect<Event, State> onReport(State state, Report report) {
    EventSourceMapping m = state.mapping();
    String next = m.state();
    if (EventSourceMapping.ENABLED.equals(report.state()) && m.enabled()
        && (next.equals(EventSourceMapping.CREATING) || next.equals(EventSourceMapping.ENABLING)
            || next.equals(EventSourceMapping.UPDATING))) {
      next = EventSourceMapping.ENABLED;
    } else if (EventSourceMapping.DISABLED.equals(report.state()) && !m.enabled()
        && next.equals(EventSourceMapping.DISABLING)) {
      next = EventSourceMapping.DISABLED;
    }
    String result = report.lastProcessingResult() == null ? m.lastProcessingResult() : report.lastProcessingResult();
    if (next.equals(m.state()) && Objects.equals(result, m.lastProcessingResult())) {
      return Effect().noReply();
    }
    return Effect().persist(new MappingUpdated(m.withState(next, m.stateTransitionReason(), result)))
        .thenRun(s -> save(s.mapping(), lastSequenceNumber(context), null))
        .thenNoReply();
  }

  /** Persists, writes the registry row, then replies: the reply waits on the write (see the class doc). */
  private ReplyEffect<Event, State> persistThenReply(Event event, ActorRef<Reply<EventSourceMapping>> replyTo) {
    return Effect().persist(event)
        .thenRun((State s) -> save(s.mapping(), lastSequenceNumber(context), () -> replyTo.tell(Reply.ok(s.mapping()))))
        .thenNoReply();
  }

  /** A row that fails to be written is logged and repaired by the next persist or recovery. */
  private void save(EventSourceMapping mapping, long seqNr, Runnable then) {
    registry.save(uuid, mapping, seqNr).whenComplete((done, failure) -> {
      if (failure != null) {
        context.getSystem().log().warn("Registry row of event source mapping {} not written (repaired later): {}",
            uuid, failure.toString());
      }
      if (then != null) {
        then.run();
      }
    });
  }
}
