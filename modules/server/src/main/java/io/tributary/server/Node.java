package io.tributary.server;

import com.typesafe.config.Config;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tributary.cluster.async.AsyncMetrics;
import io.tributary.cluster.async.AsyncQueueEntity;
import io.tributary.cluster.async.EventQueueStore;
import io.tributary.cluster.async.Intake;
import io.tributary.cluster.async.QueueWaker;
import io.tributary.cluster.concurrency.AccountEntity;
import io.tributary.cluster.concurrency.LeaseHolders;
import io.tributary.cluster.delivery.RetrySchedule;
import io.tributary.cluster.function.FunctionEntity;
import io.tributary.cluster.invoke.Dispatcher;
import io.tributary.cluster.layer.LayerEntity;
import io.tributary.cluster.mapping.EventSourceMappingEntity;
import io.tributary.cluster.mapping.MappingPollers;
import io.tributary.cluster.mapping.PollerStats;
import io.tributary.cluster.mapping.QueuePoller;
import io.tributary.cluster.mapping.ShardPoller;
import io.tributary.cluster.mapping.StreamCheckpoints;
import io.tributary.cluster.policy.PolicyEvaluator;
import io.tributary.cluster.provisioned.Provisioner;
import io.tributary.cluster.push.BusCounts;
import io.tributary.cluster.push.BusIntake;
import io.tributary.cluster.push.BusRules;
import io.tributary.cluster.push.EventBusEntity;
import io.tributary.cluster.push.PushMetrics;
import io.tributary.cluster.push.ScheduleEntity;
import io.tributary.cluster.push.ScheduleWaker;
import io.tributary.cluster.store.CassandraEventQueueStore;
import io.tributary.cluster.store.CassandraStreamCheckpoints;
import io.tributary.cluster.store.CodeStore;
import io.tributary.cluster.store.EventBusRegistry;
import io.tributary.cluster.store.FunctionRegistry;
import io.tributary.cluster.store.LayerRegistry;
import io.tributary.cluster.store.LogStore;
import io.tributary.cluster.store.MappingRegistry;
import io.tributary.cluster.store.Schema;
import io.tributary.connectors.Connectors;
import io.tributary.http.ApiSettings;
import io.tributary.http.LambdaApi;
import io.tributary.http.Metrics;
import io.tributary.runtime.LocalRuntime;
import io.tributary.runtime.RuntimeSettings;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.stream.connectors.cassandra.CassandraSessionSettings;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

/**
 * The wiring of one node: Cassandra session (shared with the journal), schema in development,
 * stores, sharded entities, then the HTTP API.
 *
 * <p>Shutdown (SIGTERM or Ctrl-C, through Pekko's coordinated shutdown): readiness turns false
 * first, the HTTP binding stops accepting and lets in-flight requests finish, then sharding hands
 * this node's entities off and the node leaves the cluster.
 */
public final class Node {

  private final ApiSettings settings;
  private final ServerBinding binding;

  private Node(ApiSettings settings, ServerBinding binding) {
    this.settings = settings;
    this.binding = binding;
  }

  public static CompletionStage<Node> start(ActorSystem<?> system) {
    Config config = system.settings().config();
    RuntimeSettings runtimeSettings = RuntimeSettings.fromConfig(config);
    ApiSettings settings = ApiSettings.fromConfig(config).withRuntimes(runtimeSettings.interpreters().offers());
    String keyspace = config.getString("tributary.cassandra.keyspace");
    PrometheusMeterRegistry meters = NodeMetrics.get(system).registry();
    if (config.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      Cluster cluster = Cluster.get(system);
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
    AtomicBoolean draining = new AtomicBoolean(false);
    AtomicReference<ActorRef<Dispatcher.Command>> started = new AtomicReference<>();
    CoordinatedShutdown.get(Adapter.toClassic(system)).addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(),
        "tributary-not-ready", () -> {
          draining.set(true);
          if (started.get() != null) {
            started.get().tell(new Dispatcher.Reachable(null));
          }
          return CompletableFuture.completedFuture(Done.getInstance());
        });
    return CassandraSessionRegistry.get(system)
        .sessionFor(CassandraSessionSettings.create("pekko.persistence.cassandra"))
        .underlying()
        .thenCompose(session -> {
          if (config.getBoolean("tributary.cassandra.autocreate")) {
            Schema.create(system, session, keyspace, config.getString("tributary.cassandra.replication"));
          }
          FunctionRegistry registry = new FunctionRegistry(session, keyspace, settings.arns().accountId());
          CodeStore codeStore = new CodeStore(session, keyspace);
          ClusterSharding sharding = ClusterSharding.get(system);
          LeaseHolders holders = (key, timeout) -> Dispatcher.holdings(system, key, timeout);
          AccountEntity.init(sharding, new AccountEntity.Settings(settings.accountConcurrency(),
              config.getDuration("tributary.concurrency.lease-ttl"), config.getDuration("tributary.concurrency.lease-margin"),
              config.getDuration("tributary.concurrency.pool-refresh")), registry::withheldTotal, holders,
              Clock.systemUTC());
          LogStore logStore = new LogStore(session, keyspace, config.getDuration("tributary.logs.retention"),
              config.getDuration("tributary.logs.flush-interval"), config.getBytes("tributary.logs.max-buffered"));
          LocalRuntime runtime = LocalRuntime.start(system, runtimeSettings,
              hex -> codeStore.readAll(hex), logStore);
          Gauge.builder("tributary.environments", runtime, LocalRuntime::environments)
              .description("Execution environments on this node, idle or busy, provisioned ones included.")
              .register(meters);
          Gauge.builder("tributary.environments.idle", runtime, LocalRuntime::idleEnvironments)
              .description("On-demand execution environments on this node that are idle.").register(meters);
          CoordinatedShutdown.get(Adapter.toClassic(system)).addTask(CoordinatedShutdown.PhaseServiceStop(),
              "tributary-runtime", () -> runtime.shutdown().thenCompose(v -> logStore.flush())
                  .thenApply(v -> Done.getInstance()));
          Dispatcher.Invoker dispatcher = Dispatcher.spawn(system, sharding, runtime,
              new Dispatcher.Settings(config.getDuration("tributary.dispatcher.target-ttl"), settings.askTimeout(),
                  settings.arns().accountId(), config.getDuration("tributary.concurrency.lease-ttl"),
                  config.getBytes("tributary.async.waiting-bytes")));
          started.set(dispatcher.ref());
          AsyncQueueEntity.Settings async = AsyncQueueEntity.Settings.fromConfig(config);
          EventQueueStore queues = new CassandraEventQueueStore(session, keyspace, async.payloadTtl(), async.recentPayloads(),
              async.outcomeRetention());
          Intake intake = new Intake(system, sharding, queues, async, Clock.systemUTC());
          // After every persisted change every node's Dispatcher forgets the function; a deleted one's queue goes.
          FunctionEntity.Changes forget = dispatcher.changes();
          FunctionEntity.init(sharding, settings.arns(), registry, holders, (functionName, deleted) -> {
            forget.changed(functionName, deleted);
            if (deleted) {
              intake.purge(functionName);
            }
          }, Clock.systemUTC());
          Provisioner.spawn(system, sharding, runtime, registry::withProvisionedConcurrency, dispatcher,
              new Provisioner.Settings(config.getDuration("tributary.provisioned.refresh"), settings.askTimeout()));
          AsyncMetrics asyncMetrics = new AsyncMetrics(meters);
          Connectors destinations = new Connectors(ConnectorsConfig.of(config));
          CoordinatedShutdown.get(Adapter.toClassic(system)).addTask(CoordinatedShutdown.PhaseServiceStop(),
              "tributary-destinations", () -> {
                destinations.close();
                return CompletableFuture.completedFuture(Done.getInstance());
              });
          MappingRegistry mappingRegistry = new MappingRegistry(session, keyspace, settings.arns().accountId());
          PollerStats pollerStats = new PollerStats(meters);
          EventSourceMappingEntity.init(sharding, mappingRegistry, Clock.systemUTC());
          LayerRegistry layerRegistry = new LayerRegistry(session, keyspace, settings.arns().accountId());
          LayerEntity.init(sharding, settings.arns(), layerRegistry, Clock.systemUTC());
          QueuePoller.Deps pollerDeps = new QueuePoller.Deps(destinations, dispatcher, sharding, new RetrySchedule(
              java.util.List.of(config.getDuration("tributary.mappings.backoff-min")),
              config.getDuration("tributary.mappings.backoff-min"),
              config.getDuration("tributary.mappings.backoff-max")),
              config.getInt("tributary.mappings.queue-pollers"), pollerStats);
          StreamCheckpoints streamCheckpoints = new CassandraStreamCheckpoints(session, keyspace);
          java.time.Duration refresh = config.getDuration("tributary.mappings.refresh");
          ShardPoller.init(sharding, pollerDeps, streamCheckpoints, refresh.multipliedBy(5));
          ActorRef<MappingPollers.Command> pollers = system.systemActorOf(MappingPollers.create(mappingRegistry,
              pollerDeps, streamCheckpoints, refresh), "mapping-pollers", Props.empty());
          // Before the runtime and the destination clients stop (PhaseServiceStop), so no poller uses them.
          CoordinatedShutdown.get(Adapter.toClassic(system)).addTask(CoordinatedShutdown.PhaseServiceRequestsDone(),
              "tributary-pollers", () -> {
                pollers.tell(MappingPollers.Stop.INSTANCE);
                pollerDeps.stopStreamLoops();
                return CompletableFuture.completedFuture(Done.getInstance());
              });
          EventBusRegistry busRegistry = new EventBusRegistry(session, keyspace, settings.arns().accountId());
          EventBusEntity.init(sharding, busRegistry, Clock.systemUTC());
          BusRules busRules = new BusRules(sharding, settings.askTimeout(), config.getDuration("tributary.bus.rules-ttl"),
              system.executionContext());
          BusCounts busCounts = new BusCounts(system, Duration.ofSeconds(1), settings.askTimeout());
          BusIntake busIntake = new BusIntake(sharding, intake, busRules,
              new PolicyEvaluator(PolicyEvaluator.IdentityPolicies.UNRESTRICTED), destinations, settings.arns(),
              new PushMetrics(meters, busCounts), settings.askTimeout(), config.getDuration("tributary.dispatcher.target-ttl"),
              system.executionContext(), Clock.systemUTC());
          ScheduleEntity.init(sharding, new ScheduleEntity.Deps(sharding, busIntake, settings.askTimeout(),
              config.getDuration("tributary.bus.schedule-grace"), config.getBoolean("tributary.bus.second-schedules"),
              Clock.systemUTC()));
          ScheduleWaker.init(system, sharding, settings.askTimeout(),
              config.getDuration("tributary.bus.schedule-wake-interval"));
          Cluster cluster = Cluster.get(system);
          LambdaApi api = new LambdaApi(system, settings, registry, codeStore, logStore, dispatcher, intake,
              destinations, mappingRegistry, destinations, layerRegistry, new LambdaApi.EventBuses(busRegistry,
                  busRules, busIntake, busCounts, config.getBoolean("tributary.bus.second-schedules")),
              new Metrics(meters),
              () -> !draining.get() && cluster.selfMember().status().equals(MemberStatus.up()));
          AsyncQueueEntity.init(sharding, new AsyncQueueEntity.Deps(async, queues, api.asyncDeliverer(), intake,
              destinations, asyncMetrics, settings.arns(), Clock.systemUTC()));
          QueueWaker.init(system, sharding, queues, async.partitions(), async.wakeInterval());
          return Http.get(system).newServerAt(settings.host(), settings.port()).bind(api.handler());
        })
        .thenApply(binding -> {
          binding.addToCoordinatedShutdown(Duration.ofSeconds(10), system);
          String internal = config.getString("tributary.http.internal-url");
          started.get().tell(new Dispatcher.Reachable(internal.isEmpty()
              ? "http://" + config.getString("pekko.remote.artery.canonical.hostname") + ":"
                  + binding.localAddress().getPort()
              : internal));
          return new Node(settings, binding);
        });
  }

  public String endpoint() {
    return "http://" + settings.host() + ":" + binding.localAddress().getPort();
  }

  String banner() {
    var credentials = settings.credentials().entrySet().iterator().next();
    return String.join("\n",
        "",
        "Tributary is up.",
        "  endpoint:   " + endpoint(),
        "  region:     " + settings.arns().region() + "   account: " + settings.arns().accountId(),
        "  access key: " + credentials.getKey(),
        "  secret key: " + credentials.getValue(),
        "  try:        AWS_ACCESS_KEY_ID=" + credentials.getKey() + " AWS_SECRET_ACCESS_KEY=" + credentials.getValue()
            + " aws lambda list-functions --region " + settings.arns().region() + " --endpoint-url " + endpoint(),
        "");
  }
}
