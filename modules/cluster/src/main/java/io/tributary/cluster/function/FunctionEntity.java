package io.tributary.cluster.function;

import io.tributary.api.AliasConfig;
import io.tributary.api.Arns;
import io.tributary.api.ConfigurationPatch;
import io.tributary.api.EventInvokeConfig;
import io.tributary.api.FunctionConfig;
import io.tributary.api.FunctionUrlConfig;
import io.tributary.api.LambdaError;
import io.tributary.api.LambdaException;
import io.tributary.api.PolicyStatement;
import io.tributary.api.ProvisionedConcurrencyConfig;
import io.tributary.api.RuntimeManagementConfig;
import io.tributary.api.Validation;
import io.tributary.cluster.ClusterMessage;
import io.tributary.cluster.PersistedMessage;
import io.tributary.cluster.Reply;
import io.tributary.cluster.Restarts;
import io.tributary.cluster.concurrency.LeaseHolders;
import io.tributary.cluster.concurrency.LeaseLedger;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One function: its {@code $LATEST} configuration, published versions, aliases, reserved
 * concurrency, resource policy, tags, and the settings stored for AWS's API that change nothing at
 * invoke yet (runtime management per version, recursive loop detection). Sharded by function name
 * and event-sourced in Cassandra.
 *
 * <p>Lifecycle: the entity is empty until {@link Create}; {@link Delete} without a qualifier returns
 * it to empty (a later create starts again at version 1, as on AWS). Commands are routed by that
 * state: while there is no function, Create is the only one that applies and every other command
 * is answered with AWS's 404 (Function not found); once it exists, Create is a 409 and the others
 * do their work. Leases of reserved concurrency ({@link AcquireLease}) are answered in both states.
 * Every command answers, with a {@link Reply} holding either a value or an AWS-shaped error; a
 * rejected command persists nothing.
 *
 * <p>After each persist the entity tells {@link Changes}, writes the function's row in the registry
 * that ListFunctions reads ({@link RegistryWriter}), and only then replies, so a create is listed on
 * the very next request; recovery writes the row again. Rows are written with the event's sequence
 * number as their Cassandra write timestamp, so two writes that land out of order can never leave
 * the older one visible.
 *
 * <p>A journal write that fails restarts the entity with backoff; it recovers from the journal, and
 * the command whose events were not stored is not answered (its ask times out). LastModified and
 * the lease terms are read from the injected {@link Clock}.
 */
public final class FunctionEntity
    extends EventSourcedBehaviorWithEnforcedReplies<FunctionEntity.Command, FunctionEntity.Event, FunctionEntity.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "Function");

  private static final DateTimeFormatter LAST_MODIFIED =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ").withZone(ZoneOffset.UTC);

  /** Where the entity writes the row ListFunctions reads; seqNr orders the writes. */
  @FunctionalInterface
  public interface RegistryWriter {
    CompletionStage<Void> save(String functionName, State state, long seqNr);
  }

  /**
   * Told after every persisted change, before the reply: the server wires it to every node's
   * Dispatcher, which forgets the invoke targets it cached ({@code deleted}: the whole function is gone).
   */
  @FunctionalInterface
  public interface Changes {
    Changes NONE = (functionName, deleted) -> { };

    void changed(String functionName, boolean deleted);
  }

  // ---- protocol ----

  /** A message to or from a FunctionEntity; serialized with Kryo between nodes. */
  public sealed interface Command extends ClusterMessage {}

  /** A command answered with a {@code Reply<T>}: all but the entity's own, so one handler can refuse them all. */
  private interface Answered<T> {
    ActorRef<Reply<T>> replyTo();
  }

  /** A function as GetFunction shows it: the configuration of one qualifier, tags and concurrency. */
  public record FunctionView(FunctionConfig configuration, Integer reservedConcurrency, Map<String, String> tags)
      implements ClusterMessage {}

  /** A resource-based policy for one qualifier; the revision is the function's. */
  public record Policy(List<PolicyStatement> statements, String revisionId) implements ClusterMessage {}

  public record Create(FunctionConfig config, Map<String, String> tags, boolean publish,
                       ActorRef<Reply<FunctionView>> replyTo) implements Command, Answered<FunctionView> {}

  public record Get(String qualifier, ActorRef<Reply<FunctionView>> replyTo)
      implements Command, Answered<FunctionView> {}

  public record UpdateCode(String codeSha256, long codeSize, String codeSha256Hex, long unzippedSize,
                           List<String> architectures, boolean publish, String revisionId, ActorRef<Reply<FunctionView>> replyTo)
      implements Command, Answered<FunctionView> {}

  public record UpdateConfiguration(ConfigurationPatch patch, String revisionId, ActorRef<Reply<FunctionView>> replyTo)
      implements Command, Answered<FunctionView> {}

  public record Delete(String qualifier, ActorRef<Reply<Boolean>> replyTo) implements Command, Answered<Boolean> {}

  public record PublishVersion(String codeSha256, String description, String revisionId,
                               ActorRef<Reply<FunctionConfig>> replyTo) implements Command, Answered<FunctionConfig> {}

  public record ListVersions(ActorRef<Reply<List<FunctionConfig>>> replyTo)
      implements Command, Answered<List<FunctionConfig>> {}

  public record CreateAlias(AliasConfig alias, ActorRef<Reply<AliasConfig>> replyTo)
      implements Command, Answered<AliasConfig> {}

  public record GetAlias(String name, ActorRef<Reply<AliasConfig>> replyTo) implements Command, Answered<AliasConfig> {}

  /** Null fields are left unchanged, as in AWS's UpdateAlias. */
  public record UpdateAlias(String name, String functionVersion, String description,
                            Map<String, Double> additionalVersionWeights, String revisionId,
                            ActorRef<Reply<AliasConfig>> replyTo) implements Command, Answered<AliasConfig> {}

  public record DeleteAlias(String name, ActorRef<Reply<Boolean>> replyTo) implements Command, Answered<Boolean> {}

  public record ListAliases(String functionVersion, ActorRef<Reply<List<AliasConfig>>> replyTo)
      implements Command, Answered<List<AliasConfig>> {}

  public record PutConcurrency(int reservedConcurrentExecutions, ActorRef<Reply<Integer>> replyTo)
      implements Command, Answered<Integer> {}

  public record GetConcurrency(ActorRef<Reply<Integer>> replyTo) implements Command, Answered<Integer> {}

  public record DeleteConcurrency(ActorRef<Reply<Boolean>> replyTo) implements Command, Answered<Boolean> {}

  public record AddPermission(PolicyStatement statement, String revisionId, ActorRef<Reply<PolicyStatement>> replyTo)
      implements Command, Answered<PolicyStatement> {}

  public record RemovePermission(String qualifier, String statementId, String revisionId,
                                 ActorRef<Reply<Boolean>> replyTo) implements Command, Answered<Boolean> {}

  public record GetPolicy(String qualifier, ActorRef<Reply<Policy>> replyTo) implements Command, Answered<Policy> {}

  public record TagResource(Map<String, String> tags, ActorRef<Reply<Map<String, String>>> replyTo)
      implements Command, Answered<Map<String, String>> {}

  public record UntagResource(List<String> tagKeys, ActorRef<Reply<Map<String, String>>> replyTo)
      implements Command, Answered<Map<String, String>> {}

  public record ListTags(ActorRef<Reply<Map<String, String>>> replyTo)
      implements Command, Answered<Map<String, String>> {}

  /** {@code replace}: Put (the config replaces what was there); otherwise Update (it patches it). */
  public record PutEventInvokeConfig(String qualifier, EventInvokeConfig config, boolean replace,
                                     ActorRef<Reply<EventInvokeConfig>> replyTo)
      implements Command, Answered<EventInvokeConfig> {}

  public record GetEventInvokeConfig(String qualifier, ActorRef<Reply<EventInvokeConfig>> replyTo)
      implements Command, Answered<EventInvokeConfig> {}

  public record DeleteEventInvokeConfig(String qualifier, ActorRef<Reply<Boolean>> replyTo)
      implements Command, Answered<Boolean> {}

  /** Every qualifier's configuration, by qualifier. */
  public record ListEventInvokeConfigs(ActorRef<Reply<Map<String, EventInvokeConfig>>> replyTo)
      implements Command, Answered<Map<String, EventInvokeConfig>> {}

  /** {@code qualifier}: null or {@code $LATEST}, or a published version. */
  public record PutRuntimeManagementConfig(String qualifier, RuntimeManagementConfig config,
                                           ActorRef<Reply<RuntimeManagementConfig>> replyTo)
      implements Command, Answered<RuntimeManagementConfig> {}

  /** The stored configuration, or {@link RuntimeManagementConfig#DEFAULT} when none was put. */
  public record GetRuntimeManagementConfig(String qualifier, ActorRef<Reply<RuntimeManagementConfig>> replyTo)
      implements Command, Answered<RuntimeManagementConfig> {}

  public record PutRecursionConfig(String recursiveLoop, ActorRef<Reply<String>> replyTo)
      implements Command, Answered<String> {}

  public record GetRecursionConfig(ActorRef<Reply<String>> replyTo) implements Command, Answered<String> {}

  /** Sets the provisioned concurrency of a published version or an alias (AWS's rules: see the handler). */
  public record PutProvisionedConcurrency(String qualifier, int requested, ActorRef<Reply<Provisioned>> replyTo)
      implements Command, Answered<Provisioned> {}

  public record GetProvisionedConcurrency(String qualifier, ActorRef<Reply<Provisioned>> replyTo)
      implements Command, Answered<Provisioned> {}

  /** Idempotent, as on AWS: a qualifier without provisioned concurrency is not an error. */
  public record DeleteProvisionedConcurrency(String qualifier, ActorRef<Reply<Boolean>> replyTo)
      implements Command, Answered<Boolean> {}

  public record ListProvisionedConcurrency(ActorRef<Reply<List<Provisioned>>> replyTo)
      implements Command, Answered<List<Provisioned>> {}

  /**
   * A qualifier's provisioned concurrency, with the ARN it was set on and the version whose
   * environments it keeps initialized (an alias's version as of now).
   */
  public record Provisioned(String qualifier, String functionArn, FunctionConfig version,
                            ProvisionedConcurrencyConfig config) implements ClusterMessage {}

  /** {@code qualifier}: an alias, or null for the unqualified function ({@code $LATEST}). */
  public record CreateFunctionUrlConfig(String qualifier, String authType, FunctionUrlConfig.Cors cors,
                                        String invokeMode, ActorRef<Reply<Url>> replyTo)
      implements Command, Answered<Url> {}

  public record GetFunctionUrlConfig(String qualifier, ActorRef<Reply<Url>> replyTo)
      implements Command, Answered<Url> {}

  /** Null members keep their value. */
  public record UpdateFunctionUrlConfig(String qualifier, String authType, FunctionUrlConfig.Cors cors,
                                        String invokeMode, ActorRef<Reply<Url>> replyTo)
      implements Command, Answered<Url> {}

  public record DeleteFunctionUrlConfig(String qualifier, ActorRef<Reply<Boolean>> replyTo)
      implements Command, Answered<Boolean> {}

  public record ListFunctionUrlConfigs(ActorRef<Reply<List<Url>>> replyTo)
      implements Command, Answered<List<Url>> {}

  /**
   * What a request to a URL needs, read by the nodes' URL endpoints (which cache it briefly): the
   * configuration of the URL {@code urlId} names, and the function's resource policy. Not found
   * when the function has no URL of that id (any more).
   */
  public record ResolveUrl(String qualifier, String urlId, ActorRef<Reply<UrlTarget>> replyTo)
      implements Command, Answered<UrlTarget> {}

  /** A URL: the qualifier it is on ({@code $LATEST} or an alias), the function ARN it invokes, its configuration. */
  public record Url(String qualifier, String functionArn, FunctionUrlConfig config) implements ClusterMessage {}

  public record UrlTarget(Url url, List<PolicyStatement> policy) implements ClusterMessage {}

  /**
   * A Dispatcher's lease of reserved-concurrency slots: {@code held} is what it believes it holds,
   * {@code wanted} what it needs now. The reply is the slots granted, or -1 when the function has
   * no reserved concurrency (the account's pool applies).
   */
  public record AcquireLease(String holder, int held, int wanted, ActorRef<Reply<Integer>> replyTo)
      implements Command, Answered<Integer> {}

  /** Local: what the Dispatchers of the cluster said they hold of this function's reserved concurrency. */
  private record LeasesLearned(Map<String, Integer> holdings, boolean complete) implements Command {}

  /** What an invoke of {@code qualifier} runs: read by Dispatchers, which cache it briefly. */
  public record ResolveInvokeTarget(String qualifier, ActorRef<Reply<InvokeTarget>> replyTo)
      implements Command, Answered<InvokeTarget> {}

  /**
   * The version an invoke runs, and for a weighted alias the additional version with its weight;
   * the function's reserved concurrency (null when unreserved) is enforced by the Dispatcher. The
   * function's resource-based policy (every qualifier's statements) decides pushes made on a
   * service's behalf.
   */
  public record InvokeTarget(String functionArn, FunctionConfig primary, FunctionConfig additional,
                             double additionalWeight, Integer reservedConcurrency,
                             EventInvokeConfig eventInvokeConfig, List<PolicyStatement> policy)
      implements ClusterMessage {}

  // ---- events (persisted; see PersistedSerializer for their manifests) ----

  public sealed interface Event extends PersistedMessage {}

  public record FunctionCreated(FunctionConfig config, Map<String, String> tags) implements Event {}

  public record FunctionCodeUpdated(FunctionConfig config) implements Event {}

  public record FunctionConfigurationUpdated(FunctionConfig config) implements Event {}

  public record VersionPublished(FunctionConfig version) implements Event {}

  public record VersionDeleted(String version) implements Event {}

  public record FunctionDeleted(String at) implements Event {}

  public record AliasCreated(AliasConfig alias) implements Event {}

  public record AliasUpdated(AliasConfig alias) implements Event {}

  public record AliasDeleted(String name) implements Event {}

  public record ConcurrencyPut(int reservedConcurrentExecutions) implements Event {}

  public record ConcurrencyDeleted(String at) implements Event {}

  /** A policy change also gives {@code $LATEST} a new revision, as on AWS. */
  public record PermissionAdded(PolicyStatement statement, String revisionId) implements Event {}

  public record PermissionRemoved(String qualifier, String statementId, String revisionId) implements Event {}

  public record TagsAdded(Map<String, String> tags) implements Event {}

  public record TagsRemoved(List<String> tagKeys) implements Event {}

  /** The whole configuration of {@code qualifier} after a Put or an Update. */
  public record EventInvokeConfigPut(String qualifier, EventInvokeConfig config) implements Event {}

  public record EventInvokeConfigDeleted(String qualifier) implements Event {}

  /** The runtime management configuration of {@code qualifier} ({@code $LATEST} or a version). */
  public record RuntimeManagementConfigPut(String qualifier, RuntimeManagementConfig config) implements Event {}

  public record RecursionConfigPut(String recursiveLoop) implements Event {}

  public record ProvisionedConcurrencyPut(String qualifier, ProvisionedConcurrencyConfig config) implements Event {}

  public record ProvisionedConcurrencyDeleted(String qualifier) implements Event {}

  public record FunctionUrlConfigPut(String qualifier, FunctionUrlConfig config) implements Event {}

  public record FunctionUrlConfigDeleted(String qualifier) implements Event {}

  // ---- state ----

  /** The whole function; {@code latest == null} means there is no function of this name. */
  public record State(
      FunctionConfig latest,
      Map<String, FunctionConfig> versions,
      long lastVersion,
      Map<String, AliasConfig> aliases,
      Integer reservedConcurrency,
      List<PolicyStatement> policy,
      Map<String, String> tags,
      Map<String, EventInvokeConfig> eventInvokeConfigs,
      Map<String, RuntimeManagementConfig> runtimeManagementConfigs,
      String recursiveLoop,
      Map<String, ProvisionedConcurrencyConfig> provisionedConcurrency,
      Map<String, FunctionUrlConfig> urls) implements PersistedMessage {

    /** AWS's default for {@code RecursiveLoop}. */
    public static final String TERMINATE = "Terminate";

    public static final State EMPTY = new State(null, Map.of(), 0, Map.of(), null, List.of(), Map.of(), Map.of(),
        Map.of(), null, Map.of(), Map.of());

    public State {
      versions = versions == null ? Map.of() : versions;
      aliases = aliases == null ? Map.of() : aliases;
      policy = policy == null ? List.of() : policy;
      tags = tags == null ? Map.of() : tags;
      eventInvokeConfigs = eventInvokeConfigs == null ? Map.of() : eventInvokeConfigs;
      runtimeManagementConfigs = runtimeManagementConfigs == null ? Map.of() : runtimeManagementConfigs;
      recursiveLoop = recursiveLoop == null ? TERMINATE : recursiveLoop;
      provisionedConcurrency = provisionedConcurrency == null ? Map.of() : provisionedConcurrency;
      urls = urls == null ? Map.of() : urls;
    }

    public boolean exists() {
      return latest != null;
    }

    /** Published versions in ascending number order. */
    public List<FunctionConfig> publishedVersions() {
      List<FunctionConfig> list = new ArrayList<>(versions.values());
      list.sort(Comparator.comparingLong(c -> Long.parseLong(c.version())));
      return list;
    }

    static State created(FunctionConfig latest, Map<String, String> tags) {
      return new State(latest, Map.of(), 0, Map.of(), null, List.of(), tags, Map.of(), Map.of(), null, Map.of(), Map.of());
    }

    State withLatest(FunctionConfig config) {
      return new State(config, versions, lastVersion, aliases, reservedConcurrency, policy, tags, eventInvokeConfigs,
          runtimeManagementConfigs, recursiveLoop, provisionedConcurrency, urls);
    }

    State withVersion(FunctionConfig version) {
      Map<String, FunctionConfig> v = new HashMap<>(versions);
      v.put(version.version(), version);
      return new State(latest, v, Long.parseLong(version.version()), aliases, reservedConcurrency, policy, tags,
          eventInvokeConfigs, runtimeManagementConfigs, recursiveLoop, provisionedConcurrency, urls);
    }

    /**
     * A version goes with its policy statements, its asynchronous invocation configuration, its
     * runtime management configuration and its provisioned concurrency.
     */
    State withoutVersion(String version) {
      Map<String, FunctionConfig> v = new HashMap<>(versions);
      v.remove(version);
      return new State(latest, v, lastVersion, aliases, reservedConcurrency, withoutStatementsOf(version), tags,
          without(eventInvokeConfigs, version), without(runtimeManagementConfigs, version), recursiveLoop,
          without(provisionedConcurrency, version), urls);
    }

    State withAlias(AliasConfig alias) {
      Map<String, AliasConfig> a = new HashMap<>(aliases);
      a.put(alias.name(), alias);
      return new State(latest, versions, lastVersion, a, reservedConcurrency, policy, tags, eventInvokeConfigs,
          runtimeManagementConfigs, recursiveLoop, provisionedConcurrency, urls);
    }

    /** An alias goes with its policy statements, its asynchronous invocation and provisioned concurrency configurations, and its URL. */
    State withoutAlias(String name) {
      Map<String, AliasConfig> a = new HashMap<>(aliases);
      a.remove(name);
      return new State(latest, versions, lastVersion, a, reservedConcurrency, withoutStatementsOf(name), tags,
          without(eventInvokeConfigs, name), runtimeManagementConfigs, recursiveLoop,
          without(provisionedConcurrency, name), without(urls, name));
    }

    State withReservedConcurrency(Integer reserved) {
      return new State(latest, versions, lastVersion, aliases, reserved, policy, tags, eventInvokeConfigs,
          runtimeManagementConfigs, recursiveLoop, provisionedConcurrency, urls);
    }

    State withStatement(PolicyStatement statement, String revisionId) {
      List<PolicyStatement> p = new ArrayList<>(policy);
      p.add(statement);
      return new State(latest.withRevision(revisionId, latest.lastModified()), versions, lastVersion, aliases,
          reservedConcurrency, p, tags, eventInvokeConfigs, runtimeManagementConfigs, recursiveLoop, provisionedConcurrency, urls);
    }

    State withoutStatement(String qualifier, String statementId, String revisionId) {
      List<PolicyStatement> p = policy.stream()
          .filter(s -> !(s.qualifier().equals(qualifier) && s.sid().equals(statementId))).toList();
      return new State(latest.withRevision(revisionId, latest.lastModified()), versions, lastVersion, aliases,
          reservedConcurrency, p, tags, eventInvokeConfigs, runtimeManagementConfigs, recursiveLoop, provisionedConcurrency, urls);
    }

    State withTags(Map<String, String> added) {
      Map<String, String> t = new TreeMap<>(tags);
      t.putAll(added);
      return new State(latest, versions, lastVersion, aliases, reservedConcurrency, policy, t, eventInvokeConfigs,
          runtimeManagementConfigs, recursiveLoop, provisionedConcurrency, urls);
    }

    State withoutTags(List<String> tagKeys) {
      Map<String, String> t = new TreeMap<>(tags);
      tagKeys.forEach(t::remove);
      return new State(latest, versions, lastVersion, aliases, reservedConcurrency, policy, t, eventInvokeConfigs,
          runtimeManagementConfigs, recursiveLoop, provisionedConcurrency, urls);
    }

    State withEventInvokeConfig(String qualifier, EventInvokeConfig config) {
      Map<String, EventInvokeConfig> c = new TreeMap<>(eventInvokeConfigs);
      c.put(qualifier, config);
      return new State(latest, versions, lastVersion, aliases, reservedConcurrency, policy, tags, c,
          runtimeManagementConfigs, recursiveLoop, provisionedConcurrency, urls);
    }

    State withoutEventInvokeConfig(String qualifier) {
      return new State(latest, versions, lastVersion, aliases, reservedConcurrency, policy, tags,
          without(eventInvokeConfigs, qualifier), runtimeManagementConfigs, recursiveLoop, provisionedConcurrency, urls);
    }

    State withRuntimeManagementConfig(String qualifier, RuntimeManagementConfig config) {
      Map<String, RuntimeManagementConfig> c = new TreeMap<>(runtimeManagementConfigs);
      c.put(qualifier, config);
      return new State(latest, versions, lastVersion, aliases, reservedConcurrency, policy, tags, eventInvokeConfigs, c,
          recursiveLoop, provisionedConcurrency, urls);
    }

    State withRecursiveLoop(String loop) {
      return new State(latest, versions, lastVersion, aliases, reservedConcurrency, policy, tags, eventInvokeConfigs,
          runtimeManagementConfigs, loop, provisionedConcurrency, urls);
    }

    State withProvisionedConcurrency(String qualifier, ProvisionedConcurrencyConfig config) {
      Map<String, ProvisionedConcurrencyConfig> c = new TreeMap<>(provisionedConcurrency);
      if (config == null) {
        c.remove(qualifier);
      } else {
        c.put(qualifier, config);
      }
      return new State(latest, versions, lastVersion, aliases, reservedConcurrency, policy, tags, eventInvokeConfigs,
          runtimeManagementConfigs, recursiveLoop, c, urls);
    }

    State withUrl(String qualifier, FunctionUrlConfig config) {
      Map<String, FunctionUrlConfig> u = new TreeMap<>(urls);
      if (config == null) {
        u.remove(qualifier);
      } else {
        u.put(qualifier, config);
      }
      return new State(latest, versions, lastVersion, aliases, reservedConcurrency, policy, tags, eventInvokeConfigs,
          runtimeManagementConfigs, recursiveLoop, provisionedConcurrency, u);
    }

    /** Environments the function keeps initialized in all: they count against its reserved concurrency. */
    public int provisionedTotal() {
      return provisionedConcurrency.values().stream().mapToInt(ProvisionedConcurrencyConfig::requested).sum();
    }

    private List<PolicyStatement> withoutStatementsOf(String qualifier) {
      return policy.stream().filter(s -> !s.qualifier().equals(qualifier)).toList();
    }

    private static <T> Map<String, T> without(Map<String, T> configs, String qualifier) {
      Map<String, T> c = new TreeMap<>(configs);
      c.remove(qualifier);
      return c;
    }
  }

  // ---- behaviour ----

  public static void init(ClusterSharding sharding, Arns arns, RegistryWriter registry, LeaseHolders holders,
                          Changes changes, Clock clock) {
    sharding.init(Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), arns, registry, holders, changes, clock)));
  }

  public static Behavior<Command> create(String functionName, Arns arns, RegistryWriter registry,
                                         LeaseHolders holders, Changes changes, Clock clock) {
    return Behaviors.setup(ctx -> new FunctionEntity(functionName, arns, registry, holders, changes, clock, ctx));
  }

  private static final Duration LEARN_TIMEOUT = Duration.ofSeconds(2);

  private final String functionName;
  private final Arns arns;
  private final RegistryWriter registry;
  private final LeaseHolders holders;
  private final Changes changes;
  private final Clock clock;
  private final ActorContext<Command> context;
  private final Duration leaseTtl;
  private final Duration leaseMargin;
  /** In memory only: after a restart or move it is learned again from the Dispatchers (see LeaseLedger). */
  private LeaseLedger leases;
  private boolean learning;

  private FunctionEntity(String functionName, Arns arns, RegistryWriter registry, LeaseHolders holders,
                         Changes changes, Clock clock, ActorContext<Command> context) {
    super(PersistenceId.of(TYPE_KEY.name(), functionName), Restarts.BACKOFF);
    this.functionName = functionName;
    this.arns = arns;
    this.registry = registry;
    this.holders = holders;
    this.changes = changes;
    this.clock = clock;
    this.context = context;
    var config = context.getSystem().settings().config();
    this.leaseTtl = config.getDuration("tributary.concurrency.lease-ttl");
    this.leaseMargin = config.getDuration("tributary.concurrency.lease-margin");
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
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), this::onRecoveryCompleted)
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(FunctionCreated.class, (state, e) -> State.created(e.config(), e.tags()))
        .onEvent(FunctionCodeUpdated.class, (state, e) -> state.withLatest(e.config()))
        .onEvent(FunctionConfigurationUpdated.class, (state, e) -> state.withLatest(e.config()))
        .onEvent(VersionPublished.class, (state, e) -> state.withVersion(e.version()))
        .onEvent(VersionDeleted.class, (state, e) -> state.withoutVersion(e.version()))
        .onEvent(FunctionDeleted.class, (state, e) -> State.EMPTY)
        .onEvent(AliasCreated.class, (state, e) -> state.withAlias(e.alias()))
        .onEvent(AliasUpdated.class, (state, e) -> state.withAlias(e.alias()))
        .onEvent(AliasDeleted.class, (state, e) -> state.withoutAlias(e.name()))
        .onEvent(ConcurrencyPut.class, (state, e) -> state.withReservedConcurrency(e.reservedConcurrentExecutions()))
        .onEvent(ConcurrencyDeleted.class, (state, e) -> state.withReservedConcurrency(null))
        .onEvent(PermissionAdded.class, (state, e) -> state.withStatement(e.statement(), e.revisionId()))
        .onEvent(PermissionRemoved.class,
            (state, e) -> state.withoutStatement(e.qualifier(), e.statementId(), e.revisionId()))
        .onEvent(TagsAdded.class, (state, e) -> state.withTags(e.tags()))
        .onEvent(TagsRemoved.class, (state, e) -> state.withoutTags(e.tagKeys()))
        .onEvent(EventInvokeConfigPut.class, (state, e) -> state.withEventInvokeConfig(e.qualifier(), e.config()))
        .onEvent(EventInvokeConfigDeleted.class, (state, e) -> state.withoutEventInvokeConfig(e.qualifier()))
        .onEvent(RuntimeManagementConfigPut.class,
            (state, e) -> state.withRuntimeManagementConfig(e.qualifier(), e.config()))
        .onEvent(RecursionConfigPut.class, (state, e) -> state.withRecursiveLoop(e.recursiveLoop()))
        .onEvent(ProvisionedConcurrencyPut.class,
            (state, e) -> state.withProvisionedConcurrency(e.qualifier(), e.config()))
        .onEvent(ProvisionedConcurrencyDeleted.class,
            (state, e) -> state.withProvisionedConcurrency(e.qualifier(), null))
        .onEvent(FunctionUrlConfigPut.class, (state, e) -> state.withUrl(e.qualifier(), e.config()))
        .onEvent(FunctionUrlConfigDeleted.class, (state, e) -> state.withUrl(e.qualifier(), null))
        .onAnyEvent((state, e) -> {
          throw new IllegalStateException("Unexpected event " + e.getClass().getName() + " for function "
              + functionName);
        });
  }

  /**
   * Routed by whether the function exists, so no handler checks it again. The leases answer in
   * either state: a function that does not exist has no reserved concurrency.
   */
  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, Event, State> builder = newCommandHandlerWithReplyBuilder();
    builder.forAnyState()
        .onCommand(AcquireLease.class, this::onAcquireLease)
        .onCommand(LeasesLearned.class, this::onLeasesLearned);
    builder.forState(state -> !state.exists())
        .onCommand(Create.class, this::onCreate)
        .onAnyCommand(this::onMissingFunction);
    builder.forState(State::exists)
        .onCommand(Create.class, this::onCreateExisting)
        .onCommand(Get.class, this::onGet)
        .onCommand(ResolveInvokeTarget.class, this::onResolveInvokeTarget)
        .onCommand(UpdateCode.class, this::onUpdateCode)
        .onCommand(UpdateConfiguration.class, this::onUpdateConfiguration)
        .onCommand(Delete.class, this::onDelete)
        .onCommand(PublishVersion.class, this::onPublishVersion)
        .onCommand(ListVersions.class, this::onListVersions)
        .onCommand(CreateAlias.class, this::onCreateAlias)
        .onCommand(GetAlias.class, this::onGetAlias)
        .onCommand(UpdateAlias.class, this::onUpdateAlias)
        .onCommand(DeleteAlias.class, this::onDeleteAlias)
        .onCommand(ListAliases.class, this::onListAliases)
        .onCommand(PutConcurrency.class, this::onPutConcurrency)
        .onCommand(GetConcurrency.class, this::onGetConcurrency)
        .onCommand(DeleteConcurrency.class, this::onDeleteConcurrency)
        .onCommand(AddPermission.class, this::onAddPermission)
        .onCommand(RemovePermission.class, this::onRemovePermission)
        .onCommand(GetPolicy.class, this::onGetPolicy)
        .onCommand(TagResource.class, this::onTagResource)
        .onCommand(UntagResource.class, this::onUntagResource)
        .onCommand(ListTags.class, this::onListTags)
        .onCommand(PutEventInvokeConfig.class, this::onPutEventInvokeConfig)
        .onCommand(GetEventInvokeConfig.class, this::onGetEventInvokeConfig)
        .onCommand(DeleteEventInvokeConfig.class, this::onDeleteEventInvokeConfig)
        .onCommand(ListEventInvokeConfigs.class, this::onListEventInvokeConfigs)
        .onCommand(PutRuntimeManagementConfig.class, this::onPutRuntimeManagementConfig)
        .onCommand(GetRuntimeManagementConfig.class, this::onGetRuntimeManagementConfig)
        .onCommand(PutRecursionConfig.class, this::onPutRecursionConfig)
        .onCommand(GetRecursionConfig.class, this::onGetRecursionConfig)
        .onCommand(PutProvisionedConcurrency.class, this::onPutProvisionedConcurrency)
        .onCommand(GetProvisionedConcurrency.class, this::onGetProvisionedConcurrency)
        .onCommand(DeleteProvisionedConcurrency.class, this::onDeleteProvisionedConcurrency)
        .onCommand(ListProvisionedConcurrency.class, this::onListProvisionedConcurrency)
        .onCommand(CreateFunctionUrlConfig.class, this::onCreateUrl)
        .onCommand(GetFunctionUrlConfig.class, this::onGetUrl)
        .onCommand(UpdateFunctionUrlConfig.class, this::onUpdateUrl)
        .onCommand(DeleteFunctionUrlConfig.class, this::onDeleteUrl)
        .onCommand(ListFunctionUrlConfigs.class, this::onListUrls)
        .onCommand(ResolveUrl.class, this::onResolveUrl);
    return builder.build();
  }

  private void onRecoveryCompleted(State state) {
    long seqNr = lastSequenceNumber(context);
    if (seqNr > 0) {
      registry.save(functionName, state, seqNr).whenComplete((done, failure) -> {
        if (failure != null) {
          context.getLog().warn("Could not repair the registry row of function {}: {}", functionName, failure.toString());
        }
      });
    }
  }

  // ---- while there is no function ----

  private ReplyEffect<Event, State> onCreate(State state, Create cmd) {
    try {
      cmd.config().checkUnzippedSize();
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
    String now = now();
    FunctionConfig config = cmd.config().withRevision(UUID.randomUUID().toString(), now);
    List<Event> events = new ArrayList<>();
    events.add(new FunctionCreated(config, new TreeMap<>(cmd.tags())));
    FunctionConfig shown = config;
    if (cmd.publish()) {
      shown = config.withVersion("1", config.description(), UUID.randomUUID().toString(), now);
      events.add(new VersionPublished(shown));
    }
    FunctionConfig reply = shown;
    return persistThenReply(events, cmd.replyTo(), s -> view(s, reply));
  }

  /** Every command but Create needs the function, and AWS answers each with the same 404. */
  private ReplyEffect<Event, State> onMissingFunction(Command cmd) {
    return reject(((Answered<?>) cmd).replyTo(), notFound(null));
  }

  // ---- leases of reserved concurrency, in either state ----

  private ReplyEffect<Event, State> onAcquireLease(State state, AcquireLease cmd) {
    Integer reserved = state.reservedConcurrency();
    if (reserved == null) {
      leases = null;
      return Effect().reply(cmd.replyTo(), Reply.ok(-1));
    }
    if (leases == null) {
      if (!learning) {
        learning = true;
        learnLeases();
      }
      return Effect().stash();
    }
    leases.setLimit(onDemand(state));
    return Effect().reply(cmd.replyTo(),
        Reply.ok(leases.acquire(cmd.holder(), cmd.held(), cmd.wanted(), clock.millis())));
  }

  /** The reserved slots left for on-demand environments: provisioned ones are held apart, on their nodes. */
  private static int onDemand(State state) {
    return Math.max(0, state.reservedConcurrency() - state.provisionedTotal());
  }

  /**
   * This entity may have been restarted or moved while Dispatchers hold leases it granted before:
   * it asks every Dispatcher in the cluster what it holds, and grants nothing until it knows.
   */
  private void learnLeases() {
    context.pipeToSelf(holders.of(functionName, LEARN_TIMEOUT),
        (holdings, failure) -> new LeasesLearned(holdings.slots(), holdings.complete()));
  }

  private ReplyEffect<Event, State> onLeasesLearned(State state, LeasesLearned learned) {
    learning = false;
    long now = clock.millis();
    Integer reserved = state.reservedConcurrency();
    leases = new LeaseLedger(reserved == null ? 0 : onDemand(state), leaseTtl.toMillis(), leaseMargin.toMillis(),
        !learned.complete(), now);
    learned.holdings().forEach((holder, slots) -> leases.restore(holder, slots, now));
    if (!learned.complete()) {
      context.getLog().info("Function {}: not every node answered for its leases; no new concurrency is granted for"
          + " {} s", functionName, (leaseTtl.plus(leaseMargin)).toSeconds());
    }
    return Effect().none().thenNoReply().thenUnstashAll();
  }

  // ---- once the function exists ----

  private ReplyEffect<Event, State> onCreateExisting(State state, Create cmd) {
    return reject(cmd.replyTo(), LambdaException.conflict("Function already exist: " + functionName));
  }

  private ReplyEffect<Event, State> onGet(State state, Get cmd) {
    try {
      return Effect().reply(cmd.replyTo(), Reply.ok(view(state, resolve(state, cmd.qualifier()))));
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onResolveInvokeTarget(State state, ResolveInvokeTarget cmd) {
    try {
      FunctionConfig primary = resolve(state, cmd.qualifier());
      AliasConfig alias = cmd.qualifier() == null ? null : state.aliases().get(cmd.qualifier());
      FunctionConfig additional = null;
      double weight = 0;
      if (alias != null && !alias.additionalVersionWeights().isEmpty()) {
        var extra = alias.additionalVersionWeights().entrySet().iterator().next();
        additional = state.versions().get(extra.getKey());
        weight = additional == null ? 0 : extra.getValue();
      }
      String arn = arns.functionArn(primary.functionName(), cmd.qualifier());
      return Effect().reply(cmd.replyTo(),
          Reply.ok(new InvokeTarget(arn, primary, additional, weight, state.reservedConcurrency(),
              state.eventInvokeConfigs().get(cmd.qualifier() == null ? FunctionConfig.LATEST : cmd.qualifier()),
              state.policy())));
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onUpdateCode(State state, UpdateCode cmd) {
    try {
      FunctionConfig latest = state.latest();
      Validation.revisionMatches(cmd.revisionId(), latest.revisionId());
      String now = now();
      FunctionConfig updated = latest.withCode(cmd.codeSha256(), cmd.codeSize(), cmd.codeSha256Hex(), cmd.unzippedSize(),
          UUID.randomUUID().toString(), now);
      if (cmd.architectures() != null && !cmd.architectures().isEmpty()) {
        updated = new FunctionConfig(updated.functionName(), updated.version(), updated.runtime(), updated.role(),
            updated.handler(), updated.description(), updated.timeout(), updated.memorySize(), updated.environment(),
            updated.codeSha256(), updated.codeSize(), updated.codeSha256Hex(), updated.codeUnzippedSize(),
            cmd.architectures(), updated.ephemeralStorageSize(), updated.tracingMode(), updated.kmsKeyArn(),
            updated.deadLetterTargetArn(), updated.loggingConfig(), updated.layers(), updated.lastModified(), updated.revisionId(), updated.state(),
            updated.lastUpdateStatus());
      }
      updated.checkUnzippedSize();
      List<Event> events = new ArrayList<>();
      events.add(new FunctionCodeUpdated(updated));
      FunctionConfig shown = updated;
      if (cmd.publish()) {
        FunctionConfig previous = lastPublished(state);
        if (updated.publishesSameAs(previous)) {
          shown = previous;
        } else {
          shown = updated.withVersion(Long.toString(state.lastVersion() + 1), updated.description(),
              UUID.randomUUID().toString(), now);
          events.add(new VersionPublished(shown));
        }
      }
      FunctionConfig reply = shown;
      return persistThenReply(events, cmd.replyTo(), s -> view(s, reply));
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onUpdateConfiguration(State state, UpdateConfiguration cmd) {
    try {
      FunctionConfig latest = state.latest();
      Validation.revisionMatches(cmd.revisionId(), latest.revisionId());
      FunctionConfig updated = cmd.patch().applyTo(latest, UUID.randomUUID().toString(), now());
      updated.checkUnzippedSize();
      return persistThenReply(List.of(new FunctionConfigurationUpdated(updated)), cmd.replyTo(), s -> view(s, updated));
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onDelete(State state, Delete cmd) {
    try {
      String q = cmd.qualifier();
      if (q == null) {
        return persistThenReply(List.of(new FunctionDeleted(now())), cmd.replyTo(), s -> Boolean.TRUE);
      }
      if (q.equals(FunctionConfig.LATEST) || state.aliases().containsKey(q)) {
        throw LambdaException.invalidParameter("Deletion of aliases or $LATEST is not supported by DeleteFunction's "
            + "Qualifier: use DeleteAlias for an alias, or omit the Qualifier to delete the whole function.");
      }
      if (!state.versions().containsKey(q)) {
        throw notFound(q);
      }
      List<String> referencing = state.aliases().values().stream().filter(a -> a.references(q))
          .map(AliasConfig::name).sorted().toList();
      if (!referencing.isEmpty()) {
        throw LambdaException.conflict("Unable to delete version because the following aliases reference it: "
            + referencing);
      }
      return persistThenReply(List.of(new VersionDeleted(q)), cmd.replyTo(), s -> Boolean.TRUE);
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onPublishVersion(State state, PublishVersion cmd) {
    try {
      FunctionConfig latest = state.latest();
      Validation.revisionMatches(cmd.revisionId(), latest.revisionId());
      if (cmd.codeSha256() != null && !cmd.codeSha256().equals(latest.codeSha256())) {
        throw LambdaException.invalidParameter("CodeSHA256 (" + cmd.codeSha256()
            + ") is different from current CodeSHA256 in $LATEST (" + latest.codeSha256() + "). Please try again.");
      }
      FunctionConfig previous = lastPublished(state);
      if (latest.publishesSameAs(previous)) {
        return Effect().reply(cmd.replyTo(), Reply.ok(previous));
      }
      String description = cmd.description() != null ? cmd.description() : latest.description();
      FunctionConfig version = latest.withVersion(Long.toString(state.lastVersion() + 1), description,
          UUID.randomUUID().toString(), now());
      return persistThenReply(List.of(new VersionPublished(version)), cmd.replyTo(), s -> version);
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onListVersions(State state, ListVersions cmd) {
    List<FunctionConfig> all = new ArrayList<>();
    all.add(state.latest());
    all.addAll(state.publishedVersions());
    return Effect().reply(cmd.replyTo(), Reply.ok(all));
  }

  private ReplyEffect<Event, State> onCreateAlias(State state, CreateAlias cmd) {
    try {
      AliasConfig alias = cmd.alias();
      if (state.aliases().containsKey(alias.name())) {
        throw LambdaException.conflict("Alias already exists: " + arns.functionArn(functionName, alias.name()));
      }
      checkAliasTargets(state, alias.functionVersion(), alias.additionalVersionWeights());
      AliasConfig created = new AliasConfig(alias.name(), alias.functionVersion(), alias.description(),
          alias.additionalVersionWeights(), UUID.randomUUID().toString());
      return persistThenReply(List.of(new AliasCreated(created)), cmd.replyTo(), s -> created);
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onGetAlias(State state, GetAlias cmd) {
    try {
      return Effect().reply(cmd.replyTo(), Reply.ok(alias(state, cmd.name())));
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onUpdateAlias(State state, UpdateAlias cmd) {
    try {
      AliasConfig current = alias(state, cmd.name());
      Validation.revisionMatches(cmd.revisionId(), current.revisionId());
      String version = cmd.functionVersion() != null ? cmd.functionVersion() : current.functionVersion();
      Map<String, Double> weights = cmd.additionalVersionWeights() != null
          ? cmd.additionalVersionWeights() : current.additionalVersionWeights();
      checkAliasTargets(state, version, weights);
      AliasConfig updated = new AliasConfig(current.name(), version,
          cmd.description() != null ? cmd.description() : current.description(), weights, UUID.randomUUID().toString());
      return persistThenReply(List.of(new AliasUpdated(updated)), cmd.replyTo(), s -> updated);
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onDeleteAlias(State state, DeleteAlias cmd) {
    try {
      alias(state, cmd.name());
      return persistThenReply(List.of(new AliasDeleted(cmd.name())), cmd.replyTo(), s -> Boolean.TRUE);
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onListAliases(State state, ListAliases cmd) {
    List<AliasConfig> aliases = state.aliases().values().stream()
        .filter(a -> cmd.functionVersion() == null || a.references(cmd.functionVersion()))
        .sorted(Comparator.comparing(AliasConfig::name)).toList();
    return Effect().reply(cmd.replyTo(), Reply.ok(aliases));
  }

  private ReplyEffect<Event, State> onPutConcurrency(State state, PutConcurrency cmd) {
    int n = cmd.reservedConcurrentExecutions();
    if (n < state.provisionedTotal()) {
      return reject(cmd.replyTo(), LambdaException.invalidParameter("Specified ReservedConcurrentExecutions for "
          + "function [" + n + "] is less than its provisioned concurrency [" + state.provisionedTotal() + "]: lower "
          + "the provisioned concurrency of its versions and aliases first."));
    }
    return persistThenReply(List.of(new ConcurrencyPut(n)), cmd.replyTo(), s -> n);
  }

  private ReplyEffect<Event, State> onGetConcurrency(State state, GetConcurrency cmd) {
    return Effect().reply(cmd.replyTo(), Reply.ok(state.reservedConcurrency()));
  }

  private ReplyEffect<Event, State> onDeleteConcurrency(State state, DeleteConcurrency cmd) {
    if (state.reservedConcurrency() == null) {
      return Effect().reply(cmd.replyTo(), Reply.ok(Boolean.TRUE));
    }
    return persistThenReply(List.of(new ConcurrencyDeleted(now())), cmd.replyTo(), s -> Boolean.TRUE);
  }

  // ---- asynchronous invocation configuration ----

  private ReplyEffect<Event, State> onPutEventInvokeConfig(State state, PutEventInvokeConfig cmd) {
    try {
      String qualifier = existingQualifier(state, cmd.qualifier());
      EventInvokeConfig before = state.eventInvokeConfigs().get(qualifier);
      if (!cmd.replace() && before == null) {
        throw noEventInvokeConfig(qualifier);
      }
      EventInvokeConfig config = cmd.replace() ? cmd.config() : before.updatedWith(cmd.config());
      return persistThenReply(List.of(new EventInvokeConfigPut(qualifier, config)), cmd.replyTo(), s -> config);
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onGetEventInvokeConfig(State state, GetEventInvokeConfig cmd) {
    try {
      String qualifier = existingQualifier(state, cmd.qualifier());
      EventInvokeConfig config = state.eventInvokeConfigs().get(qualifier);
      if (config == null) {
        throw noEventInvokeConfig(qualifier);
      }
      return Effect().reply(cmd.replyTo(), Reply.ok(config));
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onDeleteEventInvokeConfig(State state, DeleteEventInvokeConfig cmd) {
    try {
      String qualifier = existingQualifier(state, cmd.qualifier());
      if (!state.eventInvokeConfigs().containsKey(qualifier)) {
        throw noEventInvokeConfig(qualifier);
      }
      return persistThenReply(List.of(new EventInvokeConfigDeleted(qualifier)), cmd.replyTo(), s -> Boolean.TRUE);
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onListEventInvokeConfigs(State state, ListEventInvokeConfigs cmd) {
    return Effect().reply(cmd.replyTo(), Reply.ok(state.eventInvokeConfigs()));
  }

  /** {@code $LATEST} when none is given; a version or alias must exist. */
  private String existingQualifier(State state, String qualifier) {
    String q = qualifier == null ? FunctionConfig.LATEST : qualifier;
    resolve(state, q);
    return q;
  }

  private LambdaException noEventInvokeConfig(String qualifier) {
    return LambdaException.notFound("The function " + arns.functionArn(functionName, qualifier)
        + " doesn't have an EventInvokeConfig");
  }

  // ---- runtime management and recursion ----

  private ReplyEffect<Event, State> onPutRuntimeManagementConfig(State state, PutRuntimeManagementConfig cmd) {
    try {
      String qualifier = versionQualifier(state, cmd.qualifier());
      RuntimeManagementConfig config = cmd.config();
      return persistThenReply(List.of(new RuntimeManagementConfigPut(qualifier, config)), cmd.replyTo(), s -> config);
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onGetRuntimeManagementConfig(State state, GetRuntimeManagementConfig cmd) {
    try {
      String qualifier = versionQualifier(state, cmd.qualifier());
      return Effect().reply(cmd.replyTo(),
          Reply.ok(state.runtimeManagementConfigs().getOrDefault(qualifier, RuntimeManagementConfig.DEFAULT)));
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onPutRecursionConfig(State state, PutRecursionConfig cmd) {
    String loop = cmd.recursiveLoop();
    return persistThenReply(List.of(new RecursionConfigPut(loop)), cmd.replyTo(), s -> loop);
  }

  private ReplyEffect<Event, State> onGetRecursionConfig(State state, GetRecursionConfig cmd) {
    return Effect().reply(cmd.replyTo(), Reply.ok(state.recursiveLoop()));
  }

  // ---- function URLs ----

  private static final String NO_SUCH_RESOURCE = "The resource you requested does not exist.";

  private ReplyEffect<Event, State> onCreateUrl(State state, CreateFunctionUrlConfig cmd) {
    String q = urlQualifier(cmd.qualifier());
    String arn = arns.functionArn(functionName, cmd.qualifier());
    if (state.urls().containsKey(q)) {
      return reject(cmd.replyTo(), LambdaException.conflict("Failed to create function url config for [functionArn = "
          + arn + "]. Error message:  FunctionUrlConfig exists for this Lambda function"));
    }
    if (!q.equals(FunctionConfig.LATEST) && !state.aliases().containsKey(q)) {
      return reject(cmd.replyTo(), LambdaException.notFound("Function does not exist"));
    }
    String now = now();
    FunctionUrlConfig config = new FunctionUrlConfig(newUrlId(), cmd.authType(), cmd.cors(), cmd.invokeMode(), now, now);
    return persistThenReply(List.of(new FunctionUrlConfigPut(q, config)), cmd.replyTo(), s -> new Url(q, arn, config));
  }

  private ReplyEffect<Event, State> onGetUrl(State state, GetFunctionUrlConfig cmd) {
    String q = urlQualifier(cmd.qualifier());
    FunctionUrlConfig config = state.urls().get(q);
    if (config == null) {
      return reject(cmd.replyTo(), LambdaException.notFound(NO_SUCH_RESOURCE));
    }
    return Effect().reply(cmd.replyTo(), Reply.ok(new Url(q, arns.functionArn(functionName, cmd.qualifier()), config)));
  }

  private ReplyEffect<Event, State> onUpdateUrl(State state, UpdateFunctionUrlConfig cmd) {
    String q = urlQualifier(cmd.qualifier());
    if (!q.equals(FunctionConfig.LATEST) && !state.aliases().containsKey(q)) {
      return reject(cmd.replyTo(), LambdaException.notFound("Function does not exist"));
    }
    FunctionUrlConfig before = state.urls().get(q);
    if (before == null) {
      return reject(cmd.replyTo(), LambdaException.notFound(NO_SUCH_RESOURCE));
    }
    FunctionUrlConfig config = before.updated(cmd.authType(), cmd.cors(), cmd.invokeMode(), now());
    String arn = arns.functionArn(functionName, cmd.qualifier());
    return persistThenReply(List.of(new FunctionUrlConfigPut(q, config)), cmd.replyTo(), s -> new Url(q, arn, config));
  }

  private ReplyEffect<Event, State> onDeleteUrl(State state, DeleteFunctionUrlConfig cmd) {
    String q = urlQualifier(cmd.qualifier());
    if (!state.urls().containsKey(q)) {
      return reject(cmd.replyTo(), LambdaException.notFound(NO_SUCH_RESOURCE));
    }
    return persistThenReply(List.of(new FunctionUrlConfigDeleted(q)), cmd.replyTo(), s -> Boolean.TRUE);
  }

  private ReplyEffect<Event, State> onListUrls(State state, ListFunctionUrlConfigs cmd) {
    List<Url> all = state.urls().entrySet().stream().map(e -> new Url(e.getKey(),
        arns.functionArn(functionName, e.getKey().equals(FunctionConfig.LATEST) ? null : e.getKey()), e.getValue()))
        .toList();
    return Effect().reply(cmd.replyTo(), Reply.ok(all));
  }

  private ReplyEffect<Event, State> onResolveUrl(State state, ResolveUrl cmd) {
    String q = urlQualifier(cmd.qualifier());
    FunctionUrlConfig config = state.urls().get(q);
    if (config == null || !config.urlId().equals(cmd.urlId())) {
      return reject(cmd.replyTo(), LambdaException.notFound(NO_SUCH_RESOURCE));
    }
    Url url = new Url(q, arns.functionArn(functionName, q.equals(FunctionConfig.LATEST) ? null : q), config);
    return Effect().reply(cmd.replyTo(), Reply.ok(new UrlTarget(url, state.policy())));
  }

  private static String urlQualifier(String qualifier) {
    return qualifier == null ? FunctionConfig.LATEST : qualifier;
  }

  /** 32 lower-case letters and digits, as AWS's url-ids: a DNS label that names nothing else. */
  private static String newUrlId() {
    String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    java.security.SecureRandom random = new java.security.SecureRandom();
    StringBuilder id = new StringBuilder(32);
    for (int i = 0; i < 32; i++) {
      id.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return id.toString();
  }

  // ---- provisioned concurrency ----

  /**
   * AWS's rules: only a published version or an alias of one; an alias and the version it points to
   * cannot both have it; with reserved concurrency, all of the function's provisioned concurrency
   * fits in it. The account-wide check (unreserved ≥ its minimum) is the HTTP layer's, which reads
   * the registry, as for reserved concurrency.
   */
  private ReplyEffect<Event, State> onPutProvisionedConcurrency(State state, PutProvisionedConcurrency cmd) {
    try {
      String q = cmd.qualifier();
      if (q.equals(FunctionConfig.LATEST)) {
        throw LambdaException.invalidParameter(UNPUBLISHED);
      }
      FunctionConfig version = provisionedVersion(state, q);
      AliasConfig alias = state.aliases().get(q);
      if (alias != null && state.provisionedConcurrency().containsKey(alias.functionVersion())) {
        throw LambdaException.conflict(
            "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version");
      }
      if (alias == null && state.aliases().values().stream()
          .anyMatch(a -> a.functionVersion().equals(q) && state.provisionedConcurrency().containsKey(a.name()))) {
        throw LambdaException.conflict("Version is pointed by a Provisioned Concurrency alias");
      }
      ProvisionedConcurrencyConfig before = state.provisionedConcurrency().get(q);
      int total = state.provisionedTotal() - (before == null ? 0 : before.requested()) + cmd.requested();
      if (state.reservedConcurrency() != null && total > state.reservedConcurrency()) {
        throw LambdaException.invalidParameter(
            "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function");
      }
      ProvisionedConcurrencyConfig config = new ProvisionedConcurrencyConfig(cmd.requested(), now());
      String arn = arns.functionArn(functionName, q);
      return persistThenReply(List.of(new ProvisionedConcurrencyPut(q, config)), cmd.replyTo(),
          s -> new Provisioned(q, arn, version, config));
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onGetProvisionedConcurrency(State state, GetProvisionedConcurrency cmd) {
    try {
      Provisioned provisioned = provisioned(state, provisionedQualifier(state, cmd.qualifier()));
      if (provisioned == null) {
        throw new LambdaException(404, "ProvisionedConcurrencyConfigNotFoundException",
            "No Provisioned Concurrency Config found for this function");
      }
      return Effect().reply(cmd.replyTo(), Reply.ok(provisioned));
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onDeleteProvisionedConcurrency(State state, DeleteProvisionedConcurrency cmd) {
    try {
      String q = provisionedQualifier(state, cmd.qualifier());
      if (!state.provisionedConcurrency().containsKey(q)) {
        return Effect().reply(cmd.replyTo(), Reply.ok(Boolean.TRUE));
      }
      return persistThenReply(List.of(new ProvisionedConcurrencyDeleted(q)), cmd.replyTo(), s -> Boolean.TRUE);
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onListProvisionedConcurrency(State state, ListProvisionedConcurrency cmd) {
    List<Provisioned> all = state.provisionedConcurrency().keySet().stream()
        .map(q -> provisioned(state, q)).filter(java.util.Objects::nonNull).toList();
    return Effect().reply(cmd.replyTo(), Reply.ok(all));
  }

  private static final String UNPUBLISHED =
      "Provisioned Concurrency Configs cannot be applied to unpublished function versions.";

  /** Get and Delete name an existing alias or published version, with AWS's errors. */
  private String provisionedQualifier(State state, String qualifier) {
    if (qualifier.equals(FunctionConfig.LATEST)) {
      throw LambdaException.invalidParameter("The function resource provided must be an alias or a published version.");
    }
    provisionedVersion(state, qualifier);
    return qualifier;
  }

  /** The published version {@code qualifier} names (an alias's current one), with AWS's not-found texts. */
  private FunctionConfig provisionedVersion(State state, String qualifier) {
    AliasConfig alias = state.aliases().get(qualifier);
    if (alias != null) {
      FunctionConfig version = state.versions().get(alias.functionVersion());
      if (version == null) {
        throw LambdaException.invalidParameter(UNPUBLISHED);
      }
      return version;
    }
    FunctionConfig version = state.versions().get(qualifier);
    if (version != null) {
      return version;
    }
    throw LambdaException.notFound(qualifier.matches("[0-9]+")
        ? "Function not found: " + arns.functionArn(functionName, qualifier)
        : "Cannot find alias arn: " + arns.functionArn(functionName, qualifier));
  }

  /** Null when {@code qualifier} has no provisioned concurrency, or no longer names a published version. */
  private Provisioned provisioned(State state, String qualifier) {
    ProvisionedConcurrencyConfig config = state.provisionedConcurrency().get(qualifier);
    if (config == null) {
      return null;
    }
    AliasConfig alias = state.aliases().get(qualifier);
    FunctionConfig version = state.versions().get(alias == null ? qualifier : alias.functionVersion());
    return version == null ? null : new Provisioned(qualifier, arns.functionArn(functionName, qualifier), version, config);
  }

  /**
   * {@code $LATEST} when none is given, or a published version: AWS keeps a runtime management
   * configuration per version, and an alias names none of its own.
   */
  private String versionQualifier(State state, String qualifier) {
    String q = qualifier == null ? FunctionConfig.LATEST : qualifier;
    if (q.equals(FunctionConfig.LATEST) || state.versions().containsKey(q)) {
      return q;
    }
    if (state.aliases().containsKey(q)) {
      throw LambdaException.invalidParameter("The Qualifier " + q + " is an alias: a runtime management "
          + "configuration belongs to $LATEST or a published version. Give the version the alias points to.");
    }
    throw notFound(q);
  }

  // ---- resource policy and tags ----

  private ReplyEffect<Event, State> onAddPermission(State state, AddPermission cmd) {
    try {
      Validation.revisionMatches(cmd.revisionId(), state.latest().revisionId());
      PolicyStatement statement = cmd.statement();
      checkQualifierExists(state, statement.qualifier());
      boolean duplicate = state.policy().stream()
          .anyMatch(s -> s.qualifier().equals(statement.qualifier()) && s.sid().equals(statement.sid()));
      if (duplicate) {
        throw LambdaException.conflict("The statement id (" + statement.sid() + ") provided already exists. "
            + "Please provide a new statement id, or remove the existing statement.");
      }
      return persistThenReply(List.of(new PermissionAdded(statement, UUID.randomUUID().toString())), cmd.replyTo(),
          s -> statement);
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onRemovePermission(State state, RemovePermission cmd) {
    try {
      Validation.revisionMatches(cmd.revisionId(), state.latest().revisionId());
      String qualifier = cmd.qualifier() == null ? "" : cmd.qualifier();
      checkQualifierExists(state, qualifier);
      boolean present = state.policy().stream()
          .anyMatch(s -> s.qualifier().equals(qualifier) && s.sid().equals(cmd.statementId()));
      if (!present) {
        throw LambdaException.notFound("Statement " + cmd.statementId() + " is not found in resource policy.");
      }
      return persistThenReply(
          List.of(new PermissionRemoved(qualifier, cmd.statementId(), UUID.randomUUID().toString())),
          cmd.replyTo(), s -> Boolean.TRUE);
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onGetPolicy(State state, GetPolicy cmd) {
    try {
      String qualifier = cmd.qualifier() == null ? "" : cmd.qualifier();
      checkQualifierExists(state, qualifier);
      List<PolicyStatement> statements = state.policy().stream().filter(s -> s.qualifier().equals(qualifier)).toList();
      if (statements.isEmpty()) {
        throw LambdaException.notFound("The resource you requested does not exist.");
      }
      return Effect().reply(cmd.replyTo(), Reply.ok(new Policy(statements, state.latest().revisionId())));
    } catch (LambdaException e) {
      return reject(cmd.replyTo(), e);
    }
  }

  private ReplyEffect<Event, State> onTagResource(State state, TagResource cmd) {
    Map<String, String> merged = new TreeMap<>(state.tags());
    merged.putAll(cmd.tags());
    if (merged.size() > 50) {
      return reject(cmd.replyTo(), LambdaException.invalidParameter("A function can have at most 50 tags; this "
          + "request would leave " + merged.size() + "."));
    }
    return persistThenReply(List.of(new TagsAdded(new TreeMap<>(cmd.tags()))), cmd.replyTo(), State::tags);
  }

  private ReplyEffect<Event, State> onUntagResource(State state, UntagResource cmd) {
    return persistThenReply(List.of(new TagsRemoved(List.copyOf(cmd.tagKeys()))), cmd.replyTo(), State::tags);
  }

  private ReplyEffect<Event, State> onListTags(State state, ListTags cmd) {
    return Effect().reply(cmd.replyTo(), Reply.ok(state.tags()));
  }

  // ---- helpers ----

  /**
   * Persists, tells {@link Changes}, writes the registry row, and replies once the row is written,
   * so the function is listed (or gone from the list) on the caller's very next request. The reply
   * waits on that write, so it is told when the write completes rather than given as the effect's
   * {@code thenReply}. A row that fails to be written is logged and repaired at the next persist or
   * recovery, since the events (the truth) are already stored.
   */
  private <T> ReplyEffect<Event, State> persistThenReply(List<Event> events, ActorRef<Reply<T>> replyTo,
                                                         Function<State, T> value) {
    return Effect().persist(events).thenRun((State s) -> {
      long seqNr = lastSequenceNumber(context);
      Reply<T> reply = Reply.ok(value.apply(s));
      changes.changed(functionName, !s.exists());
      registry.save(functionName, s, seqNr).whenComplete((done, failure) -> {
        if (failure != null) {
          context.getSystem().log().warn("Registry row of function {} not written (repaired later): {}",
              functionName, failure.toString());
        }
        replyTo.tell(reply);
      });
    }).thenNoReply();
  }

  private <T> ReplyEffect<Event, State> reject(ActorRef<Reply<T>> replyTo, LambdaException e) {
    return Effect().reply(replyTo, new Reply<>(null, LambdaError.of(e)));
  }

  private FunctionConfig lastPublished(State state) {
    return state.versions().get(Long.toString(state.lastVersion()));
  }

  /** The configuration a qualifier names: $LATEST (or none), a version, or an alias's primary version. */
  private FunctionConfig resolve(State state, String qualifier) {
    if (qualifier == null || qualifier.equals(FunctionConfig.LATEST)) {
      return state.latest();
    }
    FunctionConfig version = state.versions().get(qualifier);
    if (version != null) {
      return version;
    }
    AliasConfig alias = state.aliases().get(qualifier);
    if (alias != null) {
      return alias.functionVersion().equals(FunctionConfig.LATEST)
          ? state.latest() : state.versions().get(alias.functionVersion());
    }
    throw notFound(qualifier);
  }

  private void checkQualifierExists(State state, String qualifier) {
    if (!qualifier.isEmpty()) {
      resolve(state, qualifier);
    }
  }

  private AliasConfig alias(State state, String name) {
    AliasConfig alias = state.aliases().get(name);
    if (alias == null) {
      throw LambdaException.notFound("Alias not found: " + arns.functionArn(functionName, name));
    }
    return alias;
  }

  private void checkAliasTargets(State state, String version, Map<String, Double> weights) {
    if (!version.equals(FunctionConfig.LATEST) && !state.versions().containsKey(version)) {
      throw notFound(version);
    }
    if (weights.isEmpty()) {
      return;
    }
    if (weights.size() > 1) {
      throw LambdaException.invalidParameter("RoutingConfig.AdditionalVersionWeights can name only one additional "
          + "version; it named " + weights.size() + ".");
    }
    if (version.equals(FunctionConfig.LATEST)) {
      throw LambdaException.invalidParameter("$LATEST is not supported for an alias pointing to more than 1 version");
    }
    for (Map.Entry<String, Double> w : weights.entrySet()) {
      if (w.getKey().equals(version)) {
        throw LambdaException.invalidParameter("Invalid function version " + w.getKey()
            + ". Function version " + w.getKey() + " is already included in routing configuration.");
      }
      if (!state.versions().containsKey(w.getKey())) {
        throw notFound(w.getKey());
      }
    }
  }

  /** AWS's 404 for the function, or for one of its versions or aliases when {@code qualifier} is not null. */
  private LambdaException notFound(String qualifier) {
    return LambdaException.notFound("Function not found: " + arns.functionArn(functionName, qualifier));
  }

  private static FunctionView view(State state, FunctionConfig config) {
    return new FunctionView(config, state.reservedConcurrency(), new LinkedHashMap<>(state.tags()));
  }

  private String now() {
    return LAST_MODIFIED.format(clock.instant());
  }
}
