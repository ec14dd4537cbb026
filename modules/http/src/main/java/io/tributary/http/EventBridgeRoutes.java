package io.tributary.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import io.tributary.api.Arns;
import io.tributary.api.EventBus;
import io.tributary.api.EventRule;
import io.tributary.api.LambdaException;
import io.tributary.cluster.push.BusCounts;
import io.tributary.cluster.push.BusIntake;
import io.tributary.cluster.push.BusRules;
import io.tributary.cluster.push.EventBusEntity;
import io.tributary.cluster.push.ScheduleEntity;
import io.tributary.cluster.push.ScheduleExpression;
import io.tributary.cluster.push.TargetInput;
import io.tributary.cluster.store.EventBusRegistry;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * EventBridge's API on the node's endpoint (JSON 1.1: {@code POST /} with
 * {@code X-Amz-Target: AWSEvents.<Operation>}, signed for service {@code events}), so the SDKs'
 * EventBridge clients, the AWS CLI's {@code aws events}, Terraform and SAM work unchanged: event
 * buses, rules with event patterns or schedules, Lambda function targets, PutEvents and
 * TestEventPattern. Buses and rules are kept by {@link EventBusEntity}; PutEvents is
 * {@link BusIntake}'s. Requests are checked as EventBridge checks them and refused with its error
 * types before anything is stored.
 */
final class EventBridgeRoutes {

  static final String TARGET_PREFIX = "AWSEvents.";
  private static final Pattern FUNCTION_ARN = Pattern.compile("arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\\d{12}:function:.+");
  private static final int LIST_LIMIT = 100;

  // ---- request shapes (EventBridge's members) ----

  record Tag(String key, String value) {}

  record DeadLetterConfig(String arn) {}

  record CreateEventBusRequest(String name, String description, String eventSourceName, String kmsKeyIdentifier,
                               DeadLetterConfig deadLetterConfig, JsonNode logConfig, List<Tag> tags) {}

  record NameRequest(String name) {}

  record ListEventBusesRequest(String namePrefix, String nextToken, Integer limit) {}

  record PutRuleRequest(String name, String scheduleExpression, String eventPattern, String state, String description,
                        String roleArn, List<Tag> tags, String eventBusName) {}

  record RuleRequest(String name, String eventBusName) {}

  record DeleteRuleRequest(String name, String eventBusName, Boolean force) {}

  record ListRulesRequest(String namePrefix, String eventBusName, String nextToken, Integer limit) {}

  record InputTransformer(Map<String, String> inputPathsMap, String inputTemplate) {}

  record RetryPolicy(Integer maximumRetryAttempts, Integer maximumEventAgeInSeconds) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Target(String id, String arn, String roleArn, String input, String inputPath, InputTransformer inputTransformer,
                JsonNode kinesisParameters, JsonNode runCommandParameters, JsonNode ecsParameters,
                JsonNode batchParameters, JsonNode sqsParameters, JsonNode httpParameters,
                JsonNode redshiftDataParameters, JsonNode sageMakerPipelineParameters,
                DeadLetterConfig deadLetterConfig, RetryPolicy retryPolicy, JsonNode appSyncParameters) {}

  record PutTargetsRequest(String rule, String eventBusName, List<Target> targets) {}

  record RemoveTargetsRequest(String rule, String eventBusName, List<String> ids, Boolean force) {}

  record ListTargetsByRuleRequest(String rule, String eventBusName, String nextToken, Integer limit) {}

  record ListRuleNamesByTargetRequest(String targetArn, String eventBusName, String nextToken, Integer limit) {}

  record TestEventPatternRequest(String eventPattern, String event) {}

  record PutEventsRequestEntry(BigDecimal time, String source, List<String> resources, String detailType,
                               String detail, String eventBusName, String traceHeader) {}

  record PutEventsRequest(List<PutEventsRequestEntry> entries, String endpointId) {}

  // ---- response shapes ----

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record EventBusView(String name, String arn, String description, BigDecimal creationTime,
                      BigDecimal lastModifiedTime) {}

  record CreateEventBusResponse(String eventBusArn, String description) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record ListEventBusesResponse(List<EventBusView> eventBuses, String nextToken) {}

  record PutRuleResponse(String ruleArn) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record RuleView(String name, String arn, String eventPattern, String scheduleExpression, String state,
                  String description, String roleArn, String eventBusName, String createdBy) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record ListRulesResponse(List<RuleView> rules, String nextToken) {}

  record FailedEntry(String targetId, String errorCode, String errorMessage) {}

  record TargetsResponse(int failedEntryCount, List<FailedEntry> failedEntries) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record ListTargetsResponse(List<Target> targets, String nextToken) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record ListRuleNamesResponse(List<String> ruleNames, String nextToken) {}

  record TestEventPatternResponse(boolean result) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record ResultEntry(String eventId, String errorCode, String errorMessage) {}

  record PutEventsResponse(int failedEntryCount, List<ResultEntry> entries) {}

  record Empty() {}

  private final FunctionAsk asker;
  private final ClusterSharding sharding;
  private final EventBusRegistry registry;
  private final BusRules rules;
  private final BusIntake intake;
  private final BusCounts counts;
  private final Arns arns;
  private final boolean secondsSchedules;

  EventBridgeRoutes(FunctionAsk asker, ClusterSharding sharding, EventBusRegistry registry, BusRules rules,
                    BusIntake intake, BusCounts counts, Arns arns, boolean secondsSchedules) {
    this.counts = counts;
    this.asker = asker;
    this.sharding = sharding;
    this.registry = registry;
    this.rules = rules;
    this.intake = intake;
    this.arns = arns;
    this.secondsSchedules = secondsSchedules;
  }

  /** A rule's operations view: the rule, its targets' counts across the cluster, and its schedule. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record RuleStatus(RuleView rule, Map<String, Map<String, Long>> targets, ScheduleStatus schedule) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record ScheduleStatus(String expression, String lastTick, String nextTick, Map<String, List<String>> owed,
                        String node) {}

  List<Operation> operations() {
    return List.of(
        Operation.get("GetRuleStatus", "/tributary/event-buses/{EventBusName}/rules/{Name}", this::ruleStatus),
        op("CreateEventBus", this::createEventBus),
        op("DeleteEventBus", this::deleteEventBus),
        op("DescribeEventBus", this::describeEventBus),
        op("ListEventBuses", this::listEventBuses),
        op("PutRule", this::putRule),
        op("DescribeRule", this::describeRule),
        op("ListRules", this::listRules),
        op("DeleteRule", this::deleteRule),
        op("EnableRule", call -> setState(call, EventRule.ENABLED)),
        op("DisableRule", call -> setState(call, EventRule.DISABLED)),
        op("PutTargets", this::putTargets),
        op("RemoveTargets", this::removeTargets),
        op("ListTargetsByRule", this::listTargetsByRule),
        op("ListRuleNamesByTarget", this::listRuleNamesByTarget),
        op("TestEventPattern", this::testEventPattern),
        op("PutEvents", this::putEvents));
  }

  private static Operation op(String name, Operation.Handler handler) {
    return Operation.target(TARGET_PREFIX + name, handler);
  }

  /** A request body in its shape; what JsonBody refuses is EventBridge's ValidationException. */
  private static <T> T read(Operation.Call call, Class<T> shape) {
    try {
      return call.read(shape);
    } catch (LambdaException e) {
      throw EventBus.validation(e.getMessage());
    }
  }

  private <T> CompletionStage<T> ask(String bus, Function<ActorRef<io.tributary.cluster.Reply<T>>,
      EventBusEntity.Command> command) {
    return asker.ask(EventBusEntity.TYPE_KEY, bus, "Event bus " + bus, command);
  }

  /**
   * A rule of {@code bus} changed through this node: the node's copy of the bus's rules goes, and a
   * rule of the default bus tells its schedule to read it again (it starts, changes or stops at once).
   */
  private void changed(String bus, String rule) {
    rules.forget(bus);
    if (bus.equals(EventBus.DEFAULT)) {
      sharding.entityRefFor(ScheduleEntity.TYPE_KEY, rule).tell(ScheduleEntity.Refresh.INSTANCE);
    }
  }

  private static CompletionStage<HttpResponse> ok(Object body) {
    return CompletableFuture.completedFuture(Responses.json11(body));
  }

  // ---- Tributary's own view ----

  private CompletionStage<HttpResponse> ruleStatus(Operation.Call call) {
    String bus = busOrDefault(call.variable(0));
    String name = call.variable(1);
    checkRuleName(name);
    return this.<EventRule>ask(bus, r -> new EventBusEntity.DescribeRule(name, r)).thenCompose(rule ->
        counts.counts(bus, name).thenCompose(counts -> {
          if (rule.scheduleExpression() == null || !bus.equals(EventBus.DEFAULT)) {
            return CompletableFuture.completedFuture(new RuleStatus(view(rule), counts.targets(), null));
          }
          return asker.<ScheduleEntity.Command, ScheduleEntity.ScheduleView>ask(ScheduleEntity.TYPE_KEY, name,
              "Schedule " + name, ScheduleEntity.GetSchedule::new).thenApply(s -> {
                Map<String, List<String>> owed = new java.util.TreeMap<>();
                s.owed().forEach((tick, targets) -> owed.put(Instant.ofEpochMilli(tick).toString(), targets));
                return new RuleStatus(view(rule), counts.targets(), new ScheduleStatus(s.expression(),
                    s.lastTick() == null ? null : s.lastTick().toString(),
                    s.nextTick() == null ? null : s.nextTick().toString(), owed, s.node()));
              });
        })).thenApply(status -> Responses.json(200, status));
  }

  // ---- buses ----

  private CompletionStage<HttpResponse> createEventBus(Operation.Call call) {
    CreateEventBusRequest request = read(call, CreateEventBusRequest.class);
    String problem = EventBus.problem(request.name());
    if (problem != null) {
      throw EventBus.validation(problem);
    }
    if (request.eventSourceName() != null) {
      throw EventBus.validation("EventSourceName names a partner event source; Tributary has no partner event"
          + " sources. Leave it out to create a custom event bus.");
    }
    if (request.description() != null && request.description().length() > 512) {
      throw EventBus.validation("Description must be at most 512 characters.");
    }
    if (request.name().equals(EventBus.DEFAULT)) {
      throw EventBus.alreadyExists("Event bus default already exists.");
    }
    return this.<EventBus>ask(request.name(), r -> new EventBusEntity.CreateBus(request.description(), r))
        .thenApply(bus -> Responses.json11(new CreateEventBusResponse(arns.eventBusArn(bus.name()),
            bus.description().isEmpty() ? null : bus.description())));
  }

  private CompletionStage<HttpResponse> deleteEventBus(Operation.Call call) {
    String name = busName(read(call, NameRequest.class).name());
    if (name == null) {
      throw EventBus.validation("Name is required: the event bus to delete.");
    }
    return this.<Boolean>ask(name, EventBusEntity.DeleteBus::new).thenApply(deleted -> {
      rules.forget(name);
      return Responses.json11(new Empty());
    });
  }

  private CompletionStage<HttpResponse> describeEventBus(Operation.Call call) {
    String name = busName(read(call, NameRequest.class).name());
    return this.<EventBus>ask(name == null ? EventBus.DEFAULT : name, EventBusEntity.DescribeBus::new)
        .thenApply(bus -> Responses.json11(view(bus)));
  }

  private EventBusView view(EventBus bus) {
    BigDecimal created = bus.creationTime() == null ? null : epochSeconds(Instant.parse(bus.creationTime()));
    return new EventBusView(bus.name(), arns.eventBusArn(bus.name()),
        bus.description().isEmpty() ? null : bus.description(), created, created);
  }

  private static BigDecimal epochSeconds(Instant instant) {
    return BigDecimal.valueOf(instant.getEpochSecond());
  }

  private CompletionStage<HttpResponse> listEventBuses(Operation.Call call) {
    ListEventBusesRequest request = read(call, ListEventBusesRequest.class);
    int limit = limit(request.limit());
    String prefix = request.namePrefix() == null ? "" : request.namePrefix();
    return registry.list().thenApply(custom -> {
      List<EventBus> all = new ArrayList<>();
      all.add(new EventBus(EventBus.DEFAULT, "", null));
      all.addAll(custom);
      List<EventBus> matching = all.stream().filter(b -> b.name().startsWith(prefix))
          .sorted(java.util.Comparator.comparing(EventBus::name)).toList();
      Page<EventBus> page = page(matching, EventBus::name, request.nextToken(), limit);
      return Responses.json11(new ListEventBusesResponse(page.items().stream().map(this::view).toList(),
          page.next()));
    });
  }

  // ---- rules ----

  private CompletionStage<HttpResponse> putRule(Operation.Call call) {
    PutRuleRequest request = read(call, PutRuleRequest.class);
    checkRuleName(request.name());
    if (request.eventPattern() == null && request.scheduleExpression() == null) {
      throw EventBus.validation("Parameter(s) EventPattern or ScheduleExpression must be specified.");
    }
    if (request.eventPattern() != null) {
      checkPattern(request.eventPattern());
    }
    if (request.scheduleExpression() != null) {
      try {
        ScheduleExpression.parse(request.scheduleExpression(), secondsSchedules);
      } catch (IllegalArgumentException e) {
        throw EventBus.validation(e.getMessage());
      }
    }
    String state = request.state() == null ? EventRule.ENABLED : request.state();
    if (!Set.of(EventRule.ENABLED, EventRule.DISABLED, EventRule.ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS)
        .contains(state)) {
      throw EventBus.validation("1 validation error detected: Value '" + state + "' at 'state' failed to satisfy"
          + " constraint: Member must satisfy enum value set: [ENABLED, DISABLED,"
          + " ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]");
    }
    if (request.description() != null && request.description().length() > 512) {
      throw EventBus.validation("Description must be at most 512 characters.");
    }
    String bus = busOrDefault(request.eventBusName());
    EventRule rule = new EventRule(request.name(), bus, request.eventPattern(), request.scheduleExpression(), state,
        request.description(), request.roleArn(), null);
    return this.<EventRule>ask(bus, r -> new EventBusEntity.PutRule(rule, r)).thenApply(put -> {
      changed(bus, put.name());
      return Responses.json11(new PutRuleResponse(arns.ruleArn(bus, put.name())));
    });
  }

  private static void checkRuleName(String name) {
    if (!EventRule.validName(name)) {
      throw EventBus.validation("1 validation error detected: Value '" + name + "' at 'name' failed to satisfy"
          + " constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+ and have length"
          + " between 1 and 64");
    }
  }

  private static void checkPattern(String pattern) {
    if (pattern.length() > 4096) {
      throw EventBus.invalidPattern("Event pattern is not valid. Reason: it is longer than 4096 characters.");
    }
    String problem;
    try {
      problem = BusRules.problem(pattern);
    } catch (RuntimeException e) {
      problem = e.getMessage();
    }
    if (problem != null) {
      throw EventBus.invalidPattern("Event pattern is not valid. Reason: " + problem);
    }
  }

  private CompletionStage<HttpResponse> describeRule(Operation.Call call) {
    RuleRequest request = read(call, RuleRequest.class);
    checkRuleName(request.name());
    String bus = busOrDefault(request.eventBusName());
    return this.<EventRule>ask(bus, r -> new EventBusEntity.DescribeRule(request.name(), r))
        .thenApply(rule -> Responses.json11(view(rule)));
  }

  private RuleView view(EventRule rule) {
    return new RuleView(rule.name(), arns.ruleArn(rule.eventBusName(), rule.name()), rule.eventPattern(),
        rule.scheduleExpression(), rule.state(), rule.description().isEmpty() ? null : rule.description(),
        rule.roleArn(), rule.eventBusName(), arns.accountId());
  }

  private CompletionStage<HttpResponse> listRules(Operation.Call call) {
    ListRulesRequest request = read(call, ListRulesRequest.class);
    String bus = busOrDefault(request.eventBusName());
    String prefix = request.namePrefix() == null ? "" : request.namePrefix();
    int limit = limit(request.limit());
    return this.<List<EventRule>>ask(bus, EventBusEntity.ListRules::new).thenApply(all -> {
      Page<EventRule> page = page(all.stream().filter(r -> r.name().startsWith(prefix)).toList(), EventRule::name,
          request.nextToken(), limit);
      return Responses.json11(new ListRulesResponse(page.items().stream().map(this::view).toList(), page.next()));
    });
  }

  private CompletionStage<HttpResponse> deleteRule(Operation.Call call) {
    DeleteRuleRequest request = read(call, DeleteRuleRequest.class);
    checkRuleName(request.name());
    String bus = busOrDefault(request.eventBusName());
    return this.<Boolean>ask(bus, r -> new EventBusEntity.DeleteRule(request.name(), r)).thenApply(deleted -> {
      changed(bus, request.name());
      return Responses.json11(new Empty());
    });
  }

  private CompletionStage<HttpResponse> setState(Operation.Call call, String state) {
    RuleRequest request = read(call, RuleRequest.class);
    checkRuleName(request.name());
    String bus = busOrDefault(request.eventBusName());
    return this.<EventRule>ask(bus, r -> new EventBusEntity.SetRuleState(request.name(), state, r))
        .thenApply(rule -> {
          changed(bus, request.name());
          return Responses.json11(new Empty());
        });
  }

  // ---- targets ----

  private CompletionStage<HttpResponse> putTargets(Operation.Call call) {
    PutTargetsRequest request = read(call, PutTargetsRequest.class);
    checkRuleName(request.rule());
    if (request.targets() == null || request.targets().isEmpty() || request.targets().size() > 10) {
      throw EventBus.validation("1 validation error detected: Value at 'targets' failed to satisfy constraint:"
          + " Member must have length less than or equal to 10 and greater than or equal to 1");
    }
    List<EventRule.Target> accepted = new ArrayList<>();
    List<FailedEntry> failed = new ArrayList<>();
    for (Target t : request.targets()) {
      if (!EventRule.validName(t.id())) {
        throw EventBus.validation("1 validation error detected: Value '" + t.id() + "' at 'targets.member.id'"
            + " failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"
            + " and have length between 1 and 64");
      }
      if (t.arn() == null || t.arn().isEmpty() || t.arn().length() > 1600) {
        throw EventBus.validation("Target " + t.id() + " needs an Arn of at most 1600 characters.");
      }
      TargetInput.Settings input = new TargetInput.Settings(t.input(), t.inputPath(),
          t.inputTransformer() == null ? null : t.inputTransformer().inputPathsMap(),
          t.inputTransformer() == null ? null : t.inputTransformer().inputTemplate());
      String problem = TargetInput.problem(input);
      if (problem != null) {
        throw EventBus.validation(problem);
      }
      EventRule.RetryPolicy retry = retryPolicy(t.retryPolicy());
      if (!FUNCTION_ARN.matcher(t.arn()).matches()) {
        failed.add(new FailedEntry(t.id(), "ValidationException", "Tributary's event buses deliver to Lambda"
            + " functions (arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]); " + t.arn()
            + " is not one."));
        continue;
      }
      try {
        arns.parseFunction(t.arn());
      } catch (LambdaException e) {
        failed.add(new FailedEntry(t.id(), "ValidationException", e.getMessage()));
        continue;
      }
      accepted.add(new EventRule.Target(t.id(), t.arn(), t.input(), t.inputPath(),
          t.inputTransformer() == null ? null : new EventRule.InputTransformer(t.inputTransformer().inputPathsMap(),
              t.inputTransformer().inputTemplate()),
          retry, t.deadLetterConfig() == null ? null : t.deadLetterConfig().arn()));
    }
    String bus = busOrDefault(request.eventBusName());
    if (accepted.isEmpty()) {
      return ok(new TargetsResponse(failed.size(), failed));
    }
    return this.<EventRule>ask(bus, r -> new EventBusEntity.PutTargets(request.rule(), accepted, r))
        .thenApply(rule -> {
          changed(bus, request.rule());
          return Responses.json11(new TargetsResponse(failed.size(), failed));
        });
  }

  private static EventRule.RetryPolicy retryPolicy(RetryPolicy given) {
    if (given == null) {
      return EventRule.RetryPolicy.DEFAULT;
    }
    int attempts = given.maximumRetryAttempts() == null ? EventRule.RetryPolicy.DEFAULT.maximumRetryAttempts()
        : given.maximumRetryAttempts();
    int age = given.maximumEventAgeInSeconds() == null ? EventRule.RetryPolicy.DEFAULT.maximumEventAgeInSeconds()
        : given.maximumEventAgeInSeconds();
    if (attempts < 0 || attempts > 185) {
      throw EventBus.validation("1 validation error detected: Value '" + attempts + "' at"
          + " 'targets.member.retryPolicy.maximumRetryAttempts' failed to satisfy constraint: Member must have"
          + " value less than or equal to 185 and greater than or equal to 0");
    }
    if (age < 60 || age > 86_400) {
      throw EventBus.validation("1 validation error detected: Value '" + age + "' at"
          + " 'targets.member.retryPolicy.maximumEventAgeInSeconds' failed to satisfy constraint: Member must have"
          + " value less than or equal to 86400 and greater than or equal to 60");
    }
    return new EventRule.RetryPolicy(attempts, age);
  }

  private CompletionStage<HttpResponse> removeTargets(Operation.Call call) {
    RemoveTargetsRequest request = read(call, RemoveTargetsRequest.class);
    checkRuleName(request.rule());
    if (request.ids() == null || request.ids().isEmpty() || request.ids().size() > 100) {
      throw EventBus.validation("1 validation error detected: Value at 'ids' failed to satisfy constraint: Member"
          + " must have length less than or equal to 100 and greater than or equal to 1");
    }
    String bus = busOrDefault(request.eventBusName());
    return this.<EventRule>ask(bus, r -> new EventBusEntity.RemoveTargets(request.rule(), request.ids(), r))
        .thenApply(rule -> {
          changed(bus, request.rule());
          return Responses.json11(new TargetsResponse(0, List.of()));
        });
  }

  private CompletionStage<HttpResponse> listTargetsByRule(Operation.Call call) {
    ListTargetsByRuleRequest request = read(call, ListTargetsByRuleRequest.class);
    checkRuleName(request.rule());
    String bus = busOrDefault(request.eventBusName());
    int limit = limit(request.limit());
    return this.<EventRule>ask(bus, r -> new EventBusEntity.DescribeRule(request.rule(), r)).thenApply(rule -> {
      Page<EventRule.Target> page = page(rule.targets(), EventRule.Target::id, request.nextToken(), limit);
      return Responses.json11(new ListTargetsResponse(page.items().stream().map(EventBridgeRoutes::view).toList(),
          page.next()));
    });
  }

  private static Target view(EventRule.Target t) {
    return new Target(t.id(), t.arn(), null, t.input(), t.inputPath(), t.inputTransformer() == null ? null
        : new InputTransformer(t.inputTransformer().inputPathsMap().isEmpty() ? null
            : t.inputTransformer().inputPathsMap(), t.inputTransformer().inputTemplate()),
        null, null, null, null, null, null, null, null,
        t.deadLetterArn() == null ? null : new DeadLetterConfig(t.deadLetterArn()),
        new RetryPolicy(t.retryPolicy().maximumRetryAttempts(), t.retryPolicy().maximumEventAgeInSeconds()), null);
  }

  private CompletionStage<HttpResponse> listRuleNamesByTarget(Operation.Call call) {
    ListRuleNamesByTargetRequest request = read(call, ListRuleNamesByTargetRequest.class);
    if (request.targetArn() == null || request.targetArn().isEmpty()) {
      throw EventBus.validation("TargetArn is required: the ARN of the target whose rules to list.");
    }
    String bus = busOrDefault(request.eventBusName());
    int limit = limit(request.limit());
    return this.<List<EventRule>>ask(bus, EventBusEntity.ListRules::new).thenApply(all -> {
      List<String> names = all.stream()
          .filter(r -> r.targets().stream().anyMatch(t -> t.arn().equals(request.targetArn())))
          .map(EventRule::name).toList();
      Page<String> page = page(names, n -> n, request.nextToken(), limit);
      return Responses.json11(new ListRuleNamesResponse(page.items(), page.next()));
    });
  }

  // ---- events ----

  private CompletionStage<HttpResponse> testEventPattern(Operation.Call call) {
    TestEventPatternRequest request = read(call, TestEventPatternRequest.class);
    if (request.eventPattern() == null || request.event() == null) {
      throw EventBus.validation("EventPattern and Event are both required.");
    }
    checkPattern(request.eventPattern());
    JsonNode event;
    try {
      event = JsonBody.MAPPER.readTree(request.event());
    } catch (java.io.IOException e) {
      throw EventBus.validation("Parameter Event is not valid: it is not JSON.");
    }
    for (String field : List.of("id", "account", "source", "time", "region", "detail-type")) {
      if (event == null || !event.hasNonNull(field)) {
        throw EventBus.validation("Parameter Event is not valid: the event must have the field '" + field
            + "' (an event has id, account, source, time, region, resources, detail-type and detail).");
      }
    }
    return ok(new TestEventPatternResponse(BusRules.matches(request.eventPattern(), request.event())));
  }

  private CompletionStage<HttpResponse> putEvents(Operation.Call call) {
    PutEventsRequest request = read(call, PutEventsRequest.class);
    if (request.entries() == null || request.entries().isEmpty() || request.entries().size() > BusIntake.MAX_ENTRIES) {
      throw EventBus.validation("1 validation error detected: Value at 'entries' failed to satisfy constraint:"
          + " Member must have length less than or equal to 10 and greater than or equal to 1");
    }
    if (request.endpointId() != null) {
      throw EventBus.validation("EndpointId names a global endpoint; Tributary has none. Leave it out.");
    }
    List<BusIntake.Entry> entries = request.entries().stream().map(e -> new BusIntake.Entry(e.source(),
        e.detailType(), e.detail(), e.resources(), e.time() == null ? null : Instant.ofEpochMilli(
            e.time().movePointRight(3).longValue()), e.eventBusName())).toList();
    long total = entries.stream().mapToLong(BusIntake::size).sum();
    if (total > BusIntake.MAX_TOTAL_SIZE) {
      throw EventBus.validation("Total size of the entries in the request is over the limit: " + total
          + " bytes, as EventBridge counts them, where the limit is " + BusIntake.MAX_TOTAL_SIZE + ".");
    }
    return intake.put(entries).thenApply(results -> {
      List<ResultEntry> out = results.stream().map(r -> r instanceof BusIntake.Result.Failed f
          ? new ResultEntry(null, f.errorCode(), f.errorMessage())
          : new ResultEntry(((BusIntake.Result.Accepted) r).eventId(), null, null)).toList();
      int failed = (int) out.stream().filter(r -> r.errorCode() != null).count();
      return Responses.json11(new PutEventsResponse(failed, out));
    });
  }

  // ---- helpers ----

  /** A bus named by name or ARN; null when not named. */
  private static String busName(String nameOrArn) {
    return nameOrArn == null || nameOrArn.isEmpty() ? null : BusIntake.busName(nameOrArn);
  }

  private static String busOrDefault(String nameOrArn) {
    return BusIntake.busName(nameOrArn);
  }

  private static int limit(Integer given) {
    if (given == null) {
      return LIST_LIMIT;
    }
    if (given < 1 || given > LIST_LIMIT) {
      throw EventBus.validation("1 validation error detected: Value '" + given + "' at 'limit' failed to satisfy"
          + " constraint: Member must have value less than or equal to 100 and greater than or equal to 1");
    }
    return given;
  }

  private record Page<T>(List<T> items, String next) {}

  /** The items after the one {@code token} names, at most {@code limit}; the token is the last item's key. */
  private static <T> Page<T> page(List<T> all, Function<T, String> key, String token, int limit) {
    int start = 0;
    if (token != null) {
      start = all.size();
      for (int i = 0; i < all.size(); i++) {
        if (key.apply(all.get(i)).compareTo(token) > 0) {
          start = i;
          break;
        }
      }
    }
    int end = Math.min(all.size(), start + limit);
    return new Page<>(all.subList(start, end), end < all.size() ? key.apply(all.get(end - 1)) : null);
  }
}
