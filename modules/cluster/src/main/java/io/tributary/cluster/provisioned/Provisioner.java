package io.tributary.cluster.provisioned;

import io.tributary.api.FunctionConfig;
import io.tributary.api.FunctionRuntime;
import io.tributary.cluster.Asks;
import io.tributary.cluster.ClusterMessage;
import io.tributary.cluster.Reply;
import io.tributary.cluster.function.FunctionEntity;
import io.tributary.cluster.invoke.Dispatcher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * One per node: keeps this node's share of every provisioned concurrency config initialized, through
 * the runtime's {@link FunctionRuntime#provision}. The configs live in the FunctionEntities; this
 * actor learns which functions have some from the registry (at start and every {@code refresh}),
 * and a function's configs from its entity, again whenever the function changes (the Dispatchers'
 * changes topic). Shares follow {@link Placement} over the nodes that are up and reachable, so a
 * lost node's share comes back on the others as soon as it is seen unreachable, and moves back when
 * it returns.
 *
 * <p>It persists nothing: after a restart it learns everything again. How many environments are
 * ready is each node's own knowledge, asked for by {@link #allocations}.
 */
public final class Provisioner extends AbstractBehavior<Provisioner.Command> {

  public sealed interface Command {}

  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "tributary-provisioner");

  /** How many provisioned environments of a version this node has ready, and why a start failed. */
  public record Report(String functionName, String version, ActorRef<Allocation> replyTo)
      implements Command, ClusterMessage {}

  public record Allocation(String node, int ready, String failure) implements ClusterMessage {}

  private enum Refresh implements Command { INSTANCE }

  private enum MembershipChanged implements Command { INSTANCE }

  private record Changed(String functionName) implements Command {}

  private record Listed(Set<String> functions) implements Command {}

  private record Learned(String functionName, List<FunctionEntity.Provisioned> configs) implements Command {}

  /** A version's environments wanted on this node, and the requests' generation (a new one retries failures). */
  private record Wanted(FunctionConfig version, String functionArn, int count, String generation) {}

  private record VersionKey(String functionName, String version, String revisionId) {
    static VersionKey of(FunctionConfig c) {
      return new VersionKey(c.functionName(), c.version(), c.revisionId());
    }
  }

  public record Settings(Duration refresh, Duration askTimeout) {}

  /** The names of the functions that have provisioned concurrency (the registry's view). */
  public interface Functions extends Supplier<CompletionStage<Set<String>>> {}

  private final ClusterSharding sharding;
  private final FunctionRuntime runtime;
  private final Functions functions;
  private final Settings settings;
  private final String self;
  private final Map<String, List<FunctionEntity.Provisioned>> configs = new HashMap<>();
  private Map<VersionKey, Wanted> applied = Map.of();
  private List<String> nodes = List.of();

  /** Starts the node's Provisioner as a system actor named "provisioner". */
  public static ActorRef<Command> spawn(ActorSystem<?> system, ClusterSharding sharding, FunctionRuntime runtime,
      Functions functions, Dispatcher.Invoker changes, Settings settings) {
    return system.systemActorOf(Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Refresh.INSTANCE, Duration.ZERO, settings.refresh());
      return new Provisioner(ctx, sharding, runtime, functions, changes, settings);
    })), "provisioner", Props.empty());
  }

  private Provisioner(ActorContext<Command> ctx, ClusterSharding sharding, FunctionRuntime runtime,
      Functions functions, Dispatcher.Invoker changes, Settings settings) {
    super(ctx);
    this.sharding = sharding;
    this.runtime = runtime;
    this.functions = functions;
    this.settings = settings;
    this.self = ctx.getSystem().address().toString();
    ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
    changes.subscribe(ctx.messageAdapter(Dispatcher.Forget.class, f -> new Changed(f.functionName())));
    Cluster cluster = Cluster.get(ctx.getSystem());
    ActorRef<ClusterEvent.ClusterDomainEvent> events = ctx.messageAdapter(ClusterEvent.ClusterDomainEvent.class,
        e -> MembershipChanged.INSTANCE);
    cluster.subscriptions().tell(Subscribe.create(events.narrow(), ClusterEvent.MemberEvent.class));
    cluster.subscriptions().tell(Subscribe.create(events.narrow(), ClusterEvent.ReachabilityEvent.class));
  }

  /**
   * Asks every node's Provisioner what it has ready of a version; nodes that do not answer within
   * {@code timeout} (lost, or busy) count as having none.
   */
  public static CompletionStage<List<Allocation>> allocations(ActorSystem<?> system, String functionName,
      String version, Duration timeout) {
    Executor executor = system.executionContext();
    return Asks.on(AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
            replyTo -> Receptionist.find(KEY, replyTo), timeout, system.scheduler()), executor)
        .thenCompose(listing -> {
          List<CompletableFuture<Allocation>> asks = listing.getServiceInstances(KEY).stream()
              .map(p -> Asks.on(AskPattern.<Command, Allocation>ask(p, r -> new Report(functionName, version, r),
                  timeout, system.scheduler()), executor).toCompletableFuture().exceptionally(failure -> null))
              .toList();
          return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(v -> asks.stream()
              .map(CompletableFuture::join).filter(a -> a != null).toList());
        });
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Report.class, this::onReport)
        .onMessageEquals(Refresh.INSTANCE, this::onRefresh)
        .onMessageEquals(MembershipChanged.INSTANCE, this::onMembershipChanged)
        .onMessage(Changed.class, changed -> {
          learn(changed.functionName());
          return this;
        })
        .onMessage(Listed.class, this::onListed)
        .onMessage(Learned.class, this::onLearned)
        .build();
  }

  private Behavior<Command> onReport(Report report) {
    FunctionRuntime.Provisioned here = runtime.provisioned(report.functionName(), report.version());
    report.replyTo().tell(new Allocation(self, here.ready(), here.failure()));
    return this;
  }

  private Behavior<Command> onRefresh() {
    getContext().pipeToSelf(functions.get(), (names, failure) -> {
      if (failure != null) {
        getContext().getLog().warn("Could not read which functions have provisioned concurrency: {}", failure.toString());
        return new Listed(null);
      }
      return new Listed(names);
    });
    onMembershipChanged();
    return this;
  }

  private Behavior<Command> onListed(Listed listed) {
    if (listed.functions() == null) {
      return this;
    }
    for (String gone : new ArrayList<>(configs.keySet())) {
      if (!listed.functions().contains(gone)) {
        learn(gone);
      }
    }
    listed.functions().forEach(this::learn);
    return this;
  }

  private void learn(String functionName) {
    CompletionStage<Reply<List<FunctionEntity.Provisioned>>> asked = sharding
        .entityRefFor(FunctionEntity.TYPE_KEY, functionName)
        .ask(FunctionEntity.ListProvisionedConcurrency::new, settings.askTimeout());
    // No answer (the entity is moving): null keeps what was known, until the next refresh.
    getContext().pipeToSelf(Asks.on(asked, getContext().getExecutionContext()), (reply, failure) ->
        new Learned(functionName, failure != null ? null : reply.error() != null ? List.of() : reply.value()));
  }

  private Behavior<Command> onLearned(Learned learned) {
    if (learned.configs() == null) {
      return this;
    }
    if (learned.configs().isEmpty()) {
      configs.remove(learned.functionName());
    } else {
      configs.put(learned.functionName(), learned.configs());
    }
    reconcile();
    return this;
  }

  private Behavior<Command> onMembershipChanged() {
    var state = Cluster.get(getContext().getSystem()).state();
    Set<Member> unreachable = state.getUnreachable();
    List<String> up = new ArrayList<>();
    state.getMembers().forEach(m -> {
      if (m.status().equals(MemberStatus.up()) && !unreachable.contains(m)) {
        up.add(m.address().toString());
      }
    });
    up.sort(String::compareTo);
    if (!up.equals(nodes)) {
      nodes = List.copyOf(up);
      reconcile();
    }
    return this;
  }

  /** Tells the runtime this node's share of every config; versions no longer wanted go to 0. */
  private void reconcile() {
    Map<VersionKey, Wanted> wanted = new HashMap<>();
    configs.values().forEach(list -> list.forEach(p -> {
      int share = Placement.share(p.config().requested(), nodes, self, p.functionArn());
      wanted.merge(VersionKey.of(p.version()), new Wanted(p.version(), p.functionArn(), share,
              p.config().lastModified()),
          (a, b) -> new Wanted(a.version(), a.functionArn(), a.count() + b.count(), a.generation() + b.generation()));
    }));
    applied.forEach((key, before) -> {
      if (!wanted.containsKey(key)) {
        runtime.provision(before.version(), before.functionArn(), 0, before.generation());
      }
    });
    wanted.values().forEach(w -> runtime.provision(w.version(), w.functionArn(), w.count(), w.generation()));
    applied = wanted;
  }
}
