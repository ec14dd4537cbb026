package io.tributary.cluster.layer;

import io.tributary.api.Arns;
import io.tributary.api.LambdaError;
import io.tributary.api.LambdaException;
import io.tributary.api.LayerVersion;
import io.tributary.api.PolicyStatement;
import io.tributary.cluster.ClusterMessage;
import io.tributary.cluster.PersistedMessage;
import io.tributary.cluster.Reply;
import io.tributary.cluster.Restarts;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
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
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One Lambda layer, by name: its published versions and each version's resource-based policy.
 * Sharded by layer name and event-sourced in Cassandra, it is the single writer of the layer.
 *
 * <p>Versions are numbered in publishing order from 1, and a number is never given twice: the
 * state keeps the last number given even when every version has been deleted, so after publishing
 * 1 and 2 and deleting both, the next version is 3 (as on AWS). A version never changes once
 * published. Deleting one removes it and its policy; deleting one that does not exist changes
 * nothing and is no error (AWS answers 204). Functions keep what they need of a version (its hash
 * and sizes) in their own configuration, and the code store keeps the content, so deleting a
 * version breaks no function that uses it.
 *
 * <p>Each version has its own policy (AddLayerVersionPermission and its siblings) with its own
 * RevisionId, a new one at every change; a RevisionId given with a change must be the current one
 * (412 otherwise). A version without a policy has no RevisionId yet.
 *
 * <p>A layer with no versions behaves as AWS's missing layer: ListLayerVersions is empty, the other
 * reads are 404. Commands are therefore routed by the version they name, not by the layer's state.
 * Every command answers with a {@link Reply}; a rejected command persists nothing.
 *
 * <p>After each persist the entity writes the layer's row in the registry that ListLayers reads
 * ({@link RegistryWriter}) and only then replies, so a published version is listed on the next
 * request; recovery writes the row again. The row's write timestamp is the event's sequence number,
 * as for functions, so writes landing out of order never leave the older one visible. A journal
 * write that fails restarts the entity with backoff; the command whose event was not stored gets no
 * answer. CreatedDate is read from the injected {@link Clock}.
 */
public final class LayerEntity
    extends EventSourcedBehaviorWithEnforcedReplies<LayerEntity.Command, LayerEntity.Event, LayerEntity.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "Layer");

  private static final DateTimeFormatter CREATED_DATE =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ").withZone(ZoneOffset.UTC);

  /**
   * Where the entity writes the row ListLayers reads: the layer's versions in ascending order (none:
   * the row goes), at write timestamp {@code seqNr}.
   */
  @FunctionalInterface
  public interface RegistryWriter {
    CompletionStage<Void> save(String layerName, List<LayerVersion> versions, long seqNr);
  }

  // ---- protocol ----

  /** A message to a LayerEntity; serialized with Kryo between nodes. */
  public sealed interface Command extends ClusterMessage {}

  /** A version's resource-based policy and its RevisionId (null until its first statement). */
  public record Policy(List<PolicyStatement> statements, String revisionId) implements ClusterMessage {
    static final Policy NONE = new Policy(List.of(), null);

    public Policy {
      statements = statements == null ? List.of() : List.copyOf(statements);
    }
  }

  /** A statement just added, and the policy's new RevisionId. */
  public record Permission(PolicyStatement statement, String revisionId) implements ClusterMessage {}

  /** {@code version}: everything but its number and CreatedDate, which the entity gives it. */
  public record Publish(LayerVersion version, ActorRef<Reply<LayerVersion>> replyTo) implements Command {}

  public record GetVersion(long version, ActorRef<Reply<LayerVersion>> replyTo) implements Command {}

  /** The layer's versions, newest first (none for a layer that has none). */
  public record ListVersions(ActorRef<Reply<List<LayerVersion>>> replyTo) implements Command {}

  /** Answers whether there was such a version; either way the answer is a success, as on AWS. */
  public record DeleteVersion(long version, ActorRef<Reply<Boolean>> replyTo) implements Command {}

  /** {@code statement}: checked by the caller; its Resource is the version's ARN. */
  public record AddPermission(long version, PolicyStatement statement, String revisionId,
                              ActorRef<Reply<Permission>> replyTo) implements Command {}

  public record RemovePermission(long version, String statementId, String revisionId,
                                 ActorRef<Reply<Boolean>> replyTo) implements Command {}

  public record GetPolicy(long version, ActorRef<Reply<Policy>> replyTo) implements Command {}

  // ---- events (persisted; see PersistedSerializer for their manifests) ----

  public sealed interface Event extends PersistedMessage {}

  public record LayerVersionPublished(LayerVersion version) implements Event {}

  public record LayerVersionDeleted(long version) implements Event {}

  public record LayerPermissionAdded(long version, PolicyStatement statement, String revisionId) implements Event {}

  public record LayerPermissionRemoved(long version, String statementId, String revisionId) implements Event {}

  // ---- state ----

  /**
   * The layer: its versions by number, the last number given (kept after deletes, so numbers are
   * never reused), and the policies of the versions that have one.
   */
  public record State(Map<Long, LayerVersion> versions, long lastVersion, Map<Long, Policy> policies)
      implements PersistedMessage {

    public static final State EMPTY = new State(Map.of(), 0, Map.of());

    public State {
      versions = versions == null ? Map.of() : versions;
      policies = policies == null ? Map.of() : policies;
    }

    /** The versions in ascending order. */
    public List<LayerVersion> ascending() {
      List<LayerVersion> list = new ArrayList<>(versions.values());
      list.sort(Comparator.comparingLong(LayerVersion::version));
      return list;
    }

    Policy policy(long version) {
      return policies.getOrDefault(version, Policy.NONE);
    }

    State withVersion(LayerVersion published) {
      Map<Long, LayerVersion> v = new TreeMap<>(versions);
      v.put(published.version(), published);
      return new State(v, Math.max(lastVersion, published.version()), policies);
    }

    /** A version goes with its policy. */
    State withoutVersion(long version) {
      Map<Long, LayerVersion> v = new TreeMap<>(versions);
      v.remove(version);
      Map<Long, Policy> p = new TreeMap<>(policies);
      p.remove(version);
      return new State(v, lastVersion, p);
    }

    State withStatement(long version, PolicyStatement statement, String revisionId) {
      List<PolicyStatement> statements = new ArrayList<>(policy(version).statements());
      statements.add(statement);
      return withPolicy(version, new Policy(statements, revisionId));
    }

    State withoutStatement(long version, String statementId, String revisionId) {
      List<PolicyStatement> statements = policy(version).statements().stream()
          .filter(s -> !s.sid().equals(statementId)).toList();
      return withPolicy(version, new Policy(statements, revisionId));
    }

    private State withPolicy(long version, Policy policy) {
      Map<Long, Policy> p = new TreeMap<>(policies);
      p.put(version, policy);
      return new State(versions, lastVersion, p);
    }
  }

  // ---- behaviour ----

  public static void init(ClusterSharding sharding, Arns arns, RegistryWriter registry, Clock clock) {
    sharding.init(Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), arns, registry, clock)));
  }

  public static Behavior<Command> create(String layerName, Arns arns, RegistryWriter registry, Clock clock) {
    return Behaviors.setup(ctx -> new LayerEntity(layerName, arns, registry, clock, ctx));
  }

  private final String layerName;
  private final Arns arns;
  private final RegistryWriter registry;
  private final Clock clock;
  private final ActorContext<Command> context;

  private LayerEntity(String layerName, Arns arns, RegistryWriter registry, Clock clock, ActorContext<Command> context) {
    super(PersistenceId.of(TYPE_KEY.name(), layerName), Restarts.BACKOFF);
    this.layerName = layerName;
    this.arns = arns;
    this.registry = registry;
    this.clock = clock;
    this.context = context;
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
    // A crash between persist and row leaves the row behind: rewrite it on recovery.
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), state -> {
      long seqNr = lastSequenceNumber(context);
      if (seqNr > 0) {
        save(state, seqNr, null);
      }
    }).build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(LayerVersionPublished.class, (state, e) -> state.withVersion(e.version()))
        .onEvent(LayerVersionDeleted.class, (state, e) -> state.withoutVersion(e.version()))
        .onEvent(LayerPermissionAdded.class,
            (state, e) -> state.withStatement(e.version(), e.statement(), e.revisionId()))
        .onEvent(LayerPermissionRemoved.class,
            (state, e) -> state.withoutStatement(e.version(), e.statementId(), e.revisionId()))
        .onAnyEvent((state, e) -> {
          throw new IllegalStateException("Unexpected event " + e.getClass().getName() + " for layer " + layerName);
        });
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Publish.class, this::onPublish)
        .onCommand(GetVersion.class, this::onGetVersion)
        .onCommand(ListVersions.class, this::onListVersions)
        .onCommand(DeleteVersion.class, this::onDeleteVersion)
        .onCommand(AddPermission.class, this::onAddPermission)
        .onCommand(RemovePermission.class, this::onRemovePermission)
        .onCommand(GetPolicy.class, this::onGetPolicy)
        .build();
  }

  // ---- versions ----

  private ReplyEffect<Event, State> onPublish(State state, Publish cmd) {
    LayerVersion v = cmd.version();
    LayerVersion published = new LayerVersion(layerName, state.lastVersion() + 1, v.description(),
        v.compatibleRuntimes(), v.compatibleArchitectures(), v.licenseInfo(), v.codeSha256(), v.codeSize(),
        v.codeSha256Hex(), v.unzippedSize(), CREATED_DATE.format(clock.instant()));
    return persistThenReply(new LayerVersionPublished(published), cmd.replyTo(), s -> published);
  }

  private ReplyEffect<Event, State> onGetVersion(State state, GetVersion cmd) {
    LayerVersion version = state.versions().get(cmd.version());
    if (version == null) {
      return reject(cmd.replyTo(), LambdaException.notFound("The resource you requested does not exist."));
    }
    return Effect().reply(cmd.replyTo(), Reply.ok(version));
  }

  private ReplyEffect<Event, State> onListVersions(State state, ListVersions cmd) {
    List<LayerVersion> newestFirst = state.ascending();
    Collections.reverse(newestFirst);
    return Effect().reply(cmd.replyTo(), Reply.ok(newestFirst));
  }

  private ReplyEffect<Event, State> onDeleteVersion(State state, DeleteVersion cmd) {
    if (!state.versions().containsKey(cmd.version())) {
      return Effect().reply(cmd.replyTo(), Reply.ok(Boolean.FALSE));
    }
    return persistThenReply(new LayerVersionDeleted(cmd.version()), cmd.replyTo(), s -> Boolean.TRUE);
  }

  // ---- policies ----

  private ReplyEffect<Event, State> onAddPermission(State state, AddPermission cmd) {
    try {
      Policy policy = existingPolicy(state, cmd.version());
      String sid = cmd.statement().sid();
      if (policy.statements().stream().anyMatch(s -> s.sid().equals(sid))) {
        throw LambdaException.conflict("The statement id (" + sid + ") provided already exists. Please provide a new "
            + "statement id, or remove the existing statement.");
      }
      revisionMatches(cmd.revisionId(), policy);
      String revisionId = UUID.randomUUID().toString();
      return persistThenReply(new LayerPermissionAdded(cmd.version(), cmd.statement(), revisionId), cmd.replyTo(),
          s -> new Permission(cmd.statement(), revisionId));
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onRemovePermission(State state, RemovePermission cmd) {
    try {
      Policy policy = existingPolicy(state, cmd.version());
      revisionMatches(cmd.revisionId(), policy);
      if (policy.statements().stream().noneMatch(s -> s.sid().equals(cmd.statementId()))) {
        throw LambdaException.notFound("Statement " + cmd.statementId() + " is not found in resource policy.");
      }
      return persistThenReply(new LayerPermissionRemoved(cmd.version(), cmd.statementId(),
          UUID.randomUUID().toString()), cmd.replyTo(), s -> Boolean.TRUE);
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onGetPolicy(State state, GetPolicy cmd) {
    try {
      Policy policy = existingPolicy(state, cmd.version());
      if (policy.statements().isEmpty()) {
        throw LambdaException.notFound("No policy is associated with the given resource.");
      }
      return Effect().reply(cmd.replyTo(), Reply.ok(policy));
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  /** The policy of an existing version; AWS's 404 names the version's ARN. */
  private Policy existingPolicy(State state, long version) {
    if (!state.versions().containsKey(version)) {
      throw LambdaException.notFound("Layer version " + arns.layerVersionArn(layerName, version) + " does not exist.");
    }
    return state.policy(version);
  }

  private static void revisionMatches(String given, Policy policy) {
    if (given != null && !given.equals(policy.revisionId())) {
      throw LambdaException.preconditionFailed("The Revision Id provided does not match the latest Revision Id. "
          + "Call the GetLayerPolicy API to retrieve the latest Revision Id");
    }
  }

  // ---- helpers ----

  /** Persists, writes the registry row, and replies once it is written (see the class doc). */
  private <T> ReplyEffect<Event, State> persistThenReply(Event event, ActorRef<Reply<T>> replyTo,
                                                         Function<State, T> value) {
    return Effect().persist(event).thenRun((State s) -> {
      Reply<T> reply = Reply.ok(value.apply(s));
      save(s, lastSequenceNumber(context), () -> replyTo.tell(reply));
    }).thenNoReply();
  }

  /** A row that fails to be written is logged and repaired by the next persist or recovery. */
  private void save(State state, long seqNr, Runnable then) {
    registry.save(layerName, state.ascending(), seqNr).whenComplete((done, failure) -> {
      if (failure != null) {
        context.getSystem().log().warn("Registry row of layer {} not written (repaired later): {}", layerName,
            failure.toString());
      }
      if (then != null) {
        then.run();
      }
    });
  }

  private <T> ReplyEffect<Event, State> reject(ActorRef<Reply<T>> replyTo, LambdaException e) {
    return Effect().reply(replyTo, new Reply<>(null, LambdaError.of(e)));
  }
}
