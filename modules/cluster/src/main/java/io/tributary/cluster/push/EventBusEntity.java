package io.tributary.cluster.push;

import io.tributary.api.EventBus;
import io.tributary.api.EventRule;
import io.tributary.api.LambdaError;
import io.tributary.api.LambdaException;
import io.tributary.cluster.ClusterMessage;
import io.tributary.cluster.PersistedMessage;
import io.tributary.cluster.Reply;
import io.tributary.cluster.Restarts;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
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
 * One EventBridge event bus, by name, with its rules and their targets. Sharded by bus name and
 * event-sourced in Cassandra, it is the single writer of the bus's configuration. Events are not
 * routed through it: every node matches PutEvents against a copy of the rules ({@link BusRules}),
 * which it asks for with {@link GetRules} and keeps briefly, as AWS's rule changes also take a
 * moment to apply.
 *
 * <p>The {@code default} bus exists from the start and cannot be deleted; a custom bus exists from
 * CreateEventBus to DeleteEventBus, which refuses while the bus has rules (AWS: "All rules associated
 * with this event bus need to be deleted"). Commands to a bus that does not exist answer AWS's
 * ResourceNotFoundException. PutRule replaces everything of an existing rule but its targets, as
 * AWS's does ("If you omit arguments in PutRule, the old values for those arguments are not kept");
 * a rule with targets cannot be deleted. A rule has at most {@link EventRule#MAX_TARGETS} targets.
 * Every command answers with a {@link Reply}; a refused command persists nothing.
 *
 * <p>Creating and deleting the bus writes its row in the registry that ListEventBuses reads
 * ({@link RegistryWriter}) before the reply, at write timestamp = the event's sequence number;
 * recovery writes it again.
 */
public final class EventBusEntity
    extends EventSourcedBehaviorWithEnforcedReplies<EventBusEntity.Command, EventBusEntity.Event,
        EventBusEntity.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "EventBus");

  /** Where the entity writes the row ListEventBuses reads: the bus, or null when it is gone. */
  @FunctionalInterface
  public interface RegistryWriter {
    CompletionStage<Void> save(String busName, EventBus bus, long seqNr);
  }

  // ---- protocol ----

  /** A message to an EventBusEntity, each answered with a {@link Reply}; serialized with Kryo between nodes. */
  public sealed interface Command extends ClusterMessage {
    ActorRef<? extends Reply<?>> replyTo();
  }

  public record CreateBus(String description, ActorRef<Reply<EventBus>> replyTo) implements Command {}

  public record DeleteBus(ActorRef<Reply<Boolean>> replyTo) implements Command {}

  public record DescribeBus(ActorRef<Reply<EventBus>> replyTo) implements Command {}

  /** {@code rule}: checked by the caller; its targets are ignored (the rule's own are kept). */
  public record PutRule(EventRule rule, ActorRef<Reply<EventRule>> replyTo) implements Command {}

  public record DescribeRule(String ruleName, ActorRef<Reply<EventRule>> replyTo) implements Command {}

  /** Every rule of the bus, by name. */
  public record ListRules(ActorRef<Reply<List<EventRule>>> replyTo) implements Command {}

  /** Answers whether there was such a rule; either way a success, as on AWS. */
  public record DeleteRule(String ruleName, ActorRef<Reply<Boolean>> replyTo) implements Command {}

  public record SetRuleState(String ruleName, String state, ActorRef<Reply<EventRule>> replyTo) implements Command {}

  /** Adds {@code targets}, replacing those of the same Id. */
  public record PutTargets(String ruleName, List<EventRule.Target> targets, ActorRef<Reply<EventRule>> replyTo)
      implements Command {}

  /** Removes the targets of these Ids; Ids the rule does not have are no error. */
  public record RemoveTargets(String ruleName, List<String> ids, ActorRef<Reply<EventRule>> replyTo)
      implements Command {}

  /** What every node matches events against: the rules, and a version that changes with them. */
  public record GetRules(ActorRef<Reply<RuleSet>> replyTo) implements Command {}

  public record RuleSet(long version, List<EventRule> rules) implements ClusterMessage {
    public RuleSet {
      rules = rules == null ? List.of() : List.copyOf(rules);
    }
  }

  // ---- events (persisted; see PersistedSerializer for their manifests) ----

  public sealed interface Event extends PersistedMessage {}

  public record BusCreated(String description, String creationTime) implements Event {}

  public record BusDeleted() implements Event {}

  public record RulePut(EventRule rule) implements Event {}

  public record RuleDeleted(String ruleName) implements Event {}

  public record RuleStateSet(String ruleName, String state) implements Event {}

  public record TargetsPut(String ruleName, List<EventRule.Target> targets) implements Event {}

  public record TargetsRemoved(String ruleName, List<String> ids) implements Event {}

  // ---- state ----

  /** The bus named {@code name} (null: a custom bus not created, or deleted) and its rules by name. */
  public record State(String name, EventBus bus, Map<String, EventRule> rules) implements PersistedMessage {

    public State {
      rules = rules == null ? Map.of() : rules;
    }

    boolean exists() {
      return bus != null;
    }

    State with(EventRule rule) {
      Map<String, EventRule> r = new TreeMap<>(rules);
      r.put(rule.name(), rule);
      return new State(name, bus, r);
    }

    State without(String ruleName) {
      Map<String, EventRule> r = new TreeMap<>(rules);
      r.remove(ruleName);
      return new State(name, bus, r);
    }

    State apply(Event event) {
      if (event instanceof BusCreated e) {
        return new State(name, new EventBus(name, e.description(), e.creationTime()), Map.of());
      } else if (event instanceof BusDeleted) {
        return new State(name, null, Map.of());
      } else if (event instanceof RulePut e) {
        EventRule current = rules.get(e.rule().name());
        return with(e.rule().withTargets(current == null ? List.of() : current.targets()));
      } else if (event instanceof RuleDeleted e) {
        return without(e.ruleName());
      } else if (event instanceof RuleStateSet e) {
        return with(rules.get(e.ruleName()).withState(e.state()));
      } else if (event instanceof TargetsPut e) {
        EventRule rule = rules.get(e.ruleName());
        return with(rule.withTargets(merged(rule.targets(), e.targets())));
      } else if (event instanceof TargetsRemoved e) {
        EventRule rule = rules.get(e.ruleName());
        return with(rule.withTargets(rule.targets().stream().filter(t -> !e.ids().contains(t.id())).toList()));
      }
      throw new IllegalStateException("Unexpected event " + event.getClass().getName() + " for event bus " + name);
    }

    private static List<EventRule.Target> merged(List<EventRule.Target> current, List<EventRule.Target> put) {
      Map<String, EventRule.Target> byId = new LinkedHashMap<>();
      current.forEach(t -> byId.put(t.id(), t));
      put.forEach(t -> byId.put(t.id(), t));
      return new ArrayList<>(byId.values());
    }
  }

  // ---- behaviour ----

  public static void init(ClusterSharding sharding, RegistryWriter registry, Clock clock) {
    sharding.init(Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), registry, clock)));
  }

  public static Behavior<Command> create(String busName, RegistryWriter registry, Clock clock) {
    return Behaviors.setup(ctx -> new EventBusEntity(busName, registry, clock, ctx));
  }

  private final String busName;
  private final RegistryWriter registry;
  private final Clock clock;
  private final ActorContext<Command> context;

  private EventBusEntity(String busName, RegistryWriter registry, Clock clock, ActorContext<Command> context) {
    super(PersistenceId.of(TYPE_KEY.name(), busName), Restarts.BACKOFF);
    this.busName = busName;
    this.registry = registry;
    this.clock = clock;
    this.context = context;
  }

  @Override
  public State emptyState() {
    return new State(busName, busName.equals(EventBus.DEFAULT) ? new EventBus(busName, "", null) : null, Map.of());
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
      if (seqNr > 0 && !busName.equals(EventBus.DEFAULT)) {
        save(state, seqNr, null);
      }
    }).build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(State::apply);
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    var builder = newCommandHandlerWithReplyBuilder();
    builder.forState(s -> !s.exists())
        .onCommand(CreateBus.class, this::onCreateBus)
        .onCommand(DeleteBus.class, cmd -> Effect().reply(cmd.replyTo(), Reply.ok(Boolean.FALSE)))
        .onAnyCommand(this::onMissingBus);
    builder.forState(State::exists)
        .onCommand(CreateBus.class, cmd -> reject(cmd.replyTo(), EventBus.alreadyExists("Event bus " + busName
            + " already exists.")))
        .onCommand(DeleteBus.class, this::onDeleteBus)
        .onCommand(DescribeBus.class, (state, cmd) -> Effect().reply(cmd.replyTo(), Reply.ok(state.bus())))
        .onCommand(PutRule.class, this::onPutRule)
        .onCommand(DescribeRule.class, this::onDescribeRule)
        .onCommand(ListRules.class, (state, cmd) -> Effect().reply(cmd.replyTo(),
            Reply.ok(List.copyOf(state.rules().values()))))
        .onCommand(DeleteRule.class, this::onDeleteRule)
        .onCommand(SetRuleState.class, this::onSetRuleState)
        .onCommand(PutTargets.class, this::onPutTargets)
        .onCommand(RemoveTargets.class, this::onRemoveTargets)
        .onCommand(GetRules.class, (state, cmd) -> Effect().reply(cmd.replyTo(),
            Reply.ok(new RuleSet(lastSequenceNumber(context), List.copyOf(state.rules().values())))));
    return builder.build();
  }

  @SuppressWarnings("unchecked")
  private ReplyEffect<Event, State> onMissingBus(State state, Command cmd) {
    return reject((ActorRef<Reply<Object>>) cmd.replyTo(), EventBus.notFound("Event bus " + busName
        + " does not exist."));
  }

  private ReplyEffect<Event, State> onCreateBus(State state, CreateBus cmd) {
    String created = java.time.format.DateTimeFormatter.ISO_INSTANT.format(clock.instant().truncatedTo(
        java.time.temporal.ChronoUnit.SECONDS));
    return persistThenReply(new BusCreated(cmd.description(), created), cmd.replyTo(), State::bus);
  }

  private ReplyEffect<Event, State> onDeleteBus(State state, DeleteBus cmd) {
    if (busName.equals(EventBus.DEFAULT)) {
      return reject(cmd.replyTo(), EventBus.validation("Cannot delete event bus default."));
    }
    if (!state.rules().isEmpty()) {
      return reject(cmd.replyTo(), EventBus.validation("Event bus " + busName + " has " + state.rules().size()
          + " rule(s): delete them first (" + String.join(", ", state.rules().keySet()) + ")."));
    }
    return persistThenReply(new BusDeleted(), cmd.replyTo(), s -> Boolean.TRUE);
  }

  private ReplyEffect<Event, State> onPutRule(State state, PutRule cmd) {
    if (cmd.rule().scheduleExpression() != null && !busName.equals(EventBus.DEFAULT)) {
      return reject(cmd.replyTo(), EventBus.validation("ScheduleExpression is supported only on the default event"
          + " bus."));
    }
    EventRule rule = new EventRule(cmd.rule().name(), busName, cmd.rule().eventPattern(),
        cmd.rule().scheduleExpression(), cmd.rule().state(), cmd.rule().description(), cmd.rule().roleArn(), null);
    return Effect().persist(new RulePut(rule))
        .thenReply(cmd.replyTo(), s -> Reply.ok(s.rules().get(rule.name())));
  }

  private ReplyEffect<Event, State> onDescribeRule(State state, DescribeRule cmd) {
    EventRule rule = state.rules().get(cmd.ruleName());
    return rule == null ? reject(cmd.replyTo(), missingRule(cmd.ruleName()))
        : Effect().reply(cmd.replyTo(), Reply.ok(rule));
  }

  private ReplyEffect<Event, State> onDeleteRule(State state, DeleteRule cmd) {
    EventRule rule = state.rules().get(cmd.ruleName());
    if (rule == null) {
      return Effect().reply(cmd.replyTo(), Reply.ok(Boolean.FALSE));
    }
    if (!rule.targets().isEmpty()) {
      return reject(cmd.replyTo(), EventBus.validation("Rule can't be deleted since it has targets."));
    }
    return Effect().persist(new RuleDeleted(cmd.ruleName())).thenReply(cmd.replyTo(), s -> Reply.ok(Boolean.TRUE));
  }

  private ReplyEffect<Event, State> onSetRuleState(State state, SetRuleState cmd) {
    if (!state.rules().containsKey(cmd.ruleName())) {
      return reject(cmd.replyTo(), missingRule(cmd.ruleName()));
    }
    return Effect().persist(new RuleStateSet(cmd.ruleName(), cmd.state()))
        .thenReply(cmd.replyTo(), s -> Reply.ok(s.rules().get(cmd.ruleName())));
  }

  private ReplyEffect<Event, State> onPutTargets(State state, PutTargets cmd) {
    EventRule rule = state.rules().get(cmd.ruleName());
    if (rule == null) {
      return reject(cmd.replyTo(), missingRule(cmd.ruleName()));
    }
    Set<String> ids = new java.util.HashSet<>();
    rule.targets().forEach(t -> ids.add(t.id()));
    cmd.targets().forEach(t -> ids.add(t.id()));
    if (ids.size() > EventRule.MAX_TARGETS) {
      return reject(cmd.replyTo(), EventBus.limitExceeded("The requested resource exceeds the maximum number"
          + " allowed: a rule has at most " + EventRule.MAX_TARGETS + " targets, and rule " + cmd.ruleName()
          + " would have " + ids.size() + "."));
    }
    return Effect().persist(new TargetsPut(cmd.ruleName(), cmd.targets()))
        .thenReply(cmd.replyTo(), s -> Reply.ok(s.rules().get(cmd.ruleName())));
  }

  private ReplyEffect<Event, State> onRemoveTargets(State state, RemoveTargets cmd) {
    if (!state.rules().containsKey(cmd.ruleName())) {
      return reject(cmd.replyTo(), missingRule(cmd.ruleName()));
    }
    return Effect().persist(new TargetsRemoved(cmd.ruleName(), cmd.ids()))
        .thenReply(cmd.replyTo(), s -> Reply.ok(s.rules().get(cmd.ruleName())));
  }

  private LambdaException missingRule(String ruleName) {
    return EventBus.notFound("Rule " + ruleName + " does not exist on EventBus " + busName + ".");
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
    registry.save(busName, state.bus(), seqNr).whenComplete((done, failure) -> {
      if (failure != null) {
        context.getSystem().log().warn("Registry row of event bus {} not written (repaired later): {}", busName,
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
