package io.tributary.cluster.push;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.api.Arns;
import io.tributary.api.Destination;
import io.tributary.api.EventBus;
import io.tributary.api.EventRule;
import io.tributary.api.LambdaException;
import io.tributary.cluster.Asks;
import io.tributary.cluster.Reply;
import io.tributary.cluster.async.Intake;
import io.tributary.cluster.function.FunctionEntity;
import io.tributary.cluster.policy.PolicyEvaluator;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PutEvents on this node: each entry is checked, made into EventBridge's event, matched against its
 * bus's rules ({@link BusRules}) and handed to every target of every rule it matches, before the
 * entry is answered. A hand-off to a Lambda target is an Event invoke into the function's durable
 * queue ({@link Intake#acceptNew}), from where the function's own EventInvokeConfig applies
 * (retries, event age, destinations); so an entry answered with an EventId is durable in Cassandra
 * for every target it matched.
 *
 * <p>Before a hand-off the target's function must exist and its resource-based policy must let
 * {@code events.amazonaws.com} invoke it with {@code aws:SourceArn} = the rule's ARN
 * ({@link PolicyEvaluator#serviceInvoke}). A refusal is final, as on AWS: it is logged, counted
 * ({@link PushMetrics}) and, when the target has one, sent to its dead-letter queue with AWS's
 * {@code ERROR_CODE}, {@code ERROR_MESSAGE}, {@code RULE_ARN} and {@code TARGET_ARN} attributes.
 *
 * <p>An entry whose hand-offs could not all be made (a queue partition or Cassandra did not answer,
 * a dead-letter queue refused) is answered with {@code InternalFailure}, and the caller puts it
 * again: nothing answered with an EventId is lost, and a target that did get it may get it twice,
 * which at-least-once delivery allows.
 */
public final class BusIntake {

  public static final String SERVICE = "events.amazonaws.com";
  /** AWS's limit on PutEvents entries' total size ({@link #size}), since 2026; it was 256 KB. */
  public static final int MAX_TOTAL_SIZE = 1024 * 1024;
  public static final int MAX_ENTRIES = 10;

  private static final Logger log = LoggerFactory.getLogger(BusIntake.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_INSTANT;
  /** A refusal of the same rule and target is logged at most this often; the metric counts each. */
  private static final Duration REFUSAL_LOG_INTERVAL = Duration.ofMinutes(1);

  /** One PutEvents entry as the caller gave it; {@code time} null is now. */
  public record Entry(String source, String detailType, String detail, List<String> resources, Instant time,
                      String eventBusName) {
    public Entry {
      resources = resources == null ? List.of() : List.copyOf(resources);
    }
  }

  /** What an entry came to: its event's id, or EventBridge's per-entry error. */
  public sealed interface Result {
    record Accepted(String eventId) implements Result {}

    record Failed(String errorCode, String errorMessage) implements Result {}
  }

  /**
   * A function a target names, as last resolved: its invoke target, or absent when it does not
   * exist; and the policy's decisions for the rules that pushed to it since.
   */
  private record Resolved(Optional<FunctionEntity.InvokeTarget> target, long expiresAt,
                          Map<String, PolicyEvaluator.Decision> decisions) {}

  private final ClusterSharding sharding;
  private final Intake intake;
  private final BusRules rules;
  private final PolicyEvaluator policies;
  private final Destination.Resolver destinations;
  private final Arns arns;
  private final PushMetrics metrics;
  private final Duration askTimeout;
  private final Duration targetTtl;
  private final Executor executor;
  private final Clock clock;
  private final Map<String, Resolved> functions = new ConcurrentHashMap<>();
  private final Map<String, Instant> refusalsLogged = new ConcurrentHashMap<>();

  public BusIntake(ClusterSharding sharding, Intake intake, BusRules rules, PolicyEvaluator policies,
                   Destination.Resolver destinations, Arns arns, PushMetrics metrics, Duration askTimeout,
                   Duration targetTtl, Executor executor, Clock clock) {
    this.sharding = sharding;
    this.intake = intake;
    this.rules = rules;
    this.policies = policies;
    this.destinations = destinations;
    this.arns = arns;
    this.metrics = metrics;
    this.askTimeout = askTimeout;
    this.targetTtl = targetTtl;
    this.executor = executor;
    this.clock = clock;
  }

  /**
   * An entry's size as AWS's "Calculating PutEvents event entry size" counts it: 14 bytes for a
   * Time, and the UTF-8 bytes of Source, DetailType, Detail and each of Resources.
   */
  public static long size(Entry entry) {
    long size = entry.time() == null ? 0 : 14;
    size += utf8(entry.source()) + utf8(entry.detailType()) + utf8(entry.detail());
    for (String resource : entry.resources()) {
      size += utf8(resource);
    }
    return size;
  }

  private static long utf8(String s) {
    return s == null ? 0 : s.getBytes(StandardCharsets.UTF_8).length;
  }

  /** The bus an entry names: its name, or the name in its ARN; the default bus when none. */
  public static String busName(String nameOrArn) {
    if (nameOrArn == null || nameOrArn.isEmpty()) {
      return EventBus.DEFAULT;
    }
    int slash = nameOrArn.indexOf(":event-bus/");
    return slash >= 0 ? nameOrArn.substring(slash + ":event-bus/".length()) : nameOrArn;
  }

  /** The entries' results, in their order (see the class doc). */
  public CompletionStage<List<Result>> put(List<Entry> entries) {
    List<CompletableFuture<Result>> results = new ArrayList<>(entries.size());
    Instant now = clock.instant();
    for (Entry entry : entries) {
      results.add(put(entry, now).toCompletableFuture());
    }
    return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new))
        .thenApply(v -> results.stream().map(CompletableFuture::join).toList());
  }

  private CompletionStage<Result> put(Entry entry, Instant now) {
    Result.Failed invalid = check(entry);
    if (invalid != null) {
      return CompletableFuture.completedFuture(invalid);
    }
    JsonNode detail;
    try {
      detail = JSON.readTree(entry.detail());
    } catch (java.io.IOException e) {
      detail = null;
    }
    if (detail == null || !detail.isObject()) {
      return CompletableFuture.completedFuture(new Result.Failed("MalformedDetail", "Detail is malformed."));
    }
    String bus = busName(entry.eventBusName());
    String id = UUID.randomUUID().toString();
    ObjectNode event = event(id, entry, detail, now);
    String json = event.toString();
    return rules.matching(bus, json).thenCompose(matched -> {
      metrics.put(bus, 1);
      List<CompletableFuture<Void>> handOffs = new ArrayList<>();
      for (EventRule rule : matched) {
        for (EventRule.Target target : rule.targets()) {
          handOffs.add(handOff(bus, rule, target, event, json, now,
              (ref, payload) -> intake.acceptNew(ref.name(), ref.qualifier(), payload)).toCompletableFuture());
        }
      }
      return CompletableFuture.allOf(handOffs.toArray(CompletableFuture[]::new));
    }).<Result>thenApply(v -> new Result.Accepted(id)).exceptionally(failure -> {
      Throwable cause = cause(failure);
      if (cause instanceof LambdaException e && e.errorType().equals("ResourceNotFoundException")) {
        return new Result.Failed("ResourceNotFoundException", e.getMessage());
      }
      log.warn("PutEvents entry of bus {} not accepted (the caller is told to put it again): {}", bus,
          cause.toString());
      return new Result.Failed("InternalFailure", "The event was not handed to every target it matched ("
          + cause.getMessage() + "); put it again.");
    });
  }

  /** EventBridge's per-entry refusals of what an entry lacks. */
  private static Result.Failed check(Entry entry) {
    if (entry.source() == null || entry.source().isEmpty()) {
      return new Result.Failed("InvalidArgument", "Parameter Source is not valid. Reason: Source is a required"
          + " argument.");
    }
    if (entry.detailType() == null || entry.detailType().isEmpty()) {
      return new Result.Failed("InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a"
          + " required argument.");
    }
    if (entry.detail() == null || entry.detail().isEmpty()) {
      return new Result.Failed("InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required"
          + " argument.");
    }
    if (entry.source().startsWith("aws.")) {
      return new Result.Failed("NotAuthorizedForSourceException", "Not authorized for the source.");
    }
    return null;
  }

  /** EventBridge's event: {@code version}, {@code id}, {@code detail-type}, ..., {@code detail}. */
  ObjectNode event(String id, Entry entry, JsonNode detail, Instant now) {
    ObjectNode event = JSON.createObjectNode();
    event.put("version", "0");
    event.put("id", id);
    event.put("detail-type", entry.detailType());
    event.put("source", entry.source());
    event.put("account", arns.accountId());
    event.put("time", TIME.format((entry.time() == null ? now : entry.time()).truncatedTo(ChronoUnit.SECONDS)));
    event.put("region", arns.region());
    ArrayNode resources = event.putArray("resources");
    entry.resources().forEach(resources::add);
    event.set("detail", detail);
    return event;
  }

  /** How a hand-off puts an event into its function's queue: completes with the event's request id. */
  @FunctionalInterface
  interface Enqueue {
    CompletionStage<String> into(Arns.FunctionRef function, byte[] payload);
  }

  /**
   * A schedule's tick into one target's function queue, or refused, as a PutEvents hand-off is; the
   * event is enqueued once per {@code token} (an Event invoke's client token: a tick's id and the
   * target's), so handing the same tick off again after a crash queues nothing twice.
   */
  CompletionStage<Void> handOffTick(EventRule rule, EventRule.Target target, ObjectNode event, Instant ingested,
                                    String token) {
    String requestId = UUID.nameUUIDFromBytes(token.getBytes(StandardCharsets.UTF_8)).toString();
    return handOff(EventBus.DEFAULT, rule, target, event, event.toString(), ingested,
        (ref, payload) -> intake.acceptOnce(ref.name(), ref.qualifier(), requestId, payload, token));
  }

  /**
   * A tick's event that could not be handed to {@code target} within its RetryPolicy, sent to the
   * target's dead-letter queue (or dropped, and logged, without one), as AWS does.
   */
  CompletionStage<Void> exhausted(EventRule rule, EventRule.Target target, ObjectNode event, String condition,
                                  int attempts, String lastError) {
    String ruleArn = arns.ruleArn(EventBus.DEFAULT, rule.name());
    return refuse(EventBus.DEFAULT, rule, target, ruleArn, event.toString(), "RETRY_ATTEMPTS_EXHAUSTED",
        "Not handed to " + target.arn() + " after " + attempts + " attempt(s) (" + condition + "): " + lastError,
        Map.of("EXHAUSTED_RETRY_CONDITION", condition, "RETRY_ATTEMPTS", attempts));
  }

  /**
   * AWS's Scheduled Event of a tick at {@code tick} of {@code rule} (on the default bus): source
   * {@code aws.events}, the rule's ARN as its one resource, an empty detail.
   */
  ObjectNode scheduledEvent(String id, String ruleName, Instant tick) {
    ObjectNode event = JSON.createObjectNode();
    event.put("version", "0");
    event.put("id", id);
    event.put("detail-type", "Scheduled Event");
    event.put("source", "aws.events");
    event.put("account", arns.accountId());
    event.put("time", TIME.format(tick.truncatedTo(ChronoUnit.SECONDS)));
    event.put("region", arns.region());
    event.putArray("resources").add(arns.ruleArn(EventBus.DEFAULT, ruleName));
    event.putObject("detail");
    return event;
  }

  String ruleArn(String ruleName) {
    return arns.ruleArn(EventBus.DEFAULT, ruleName);
  }

  /**
   * One matched event into one target's function queue, or refused (see the class doc); completes
   * once the event is durable in the queue or the refusal is dealt with, fails otherwise.
   */
  CompletionStage<Void> handOff(String bus, EventRule rule, EventRule.Target target, ObjectNode event, String json,
                                Instant ingested, Enqueue enqueue) {
    String ruleArn = arns.ruleArn(bus, rule.name());
    metrics.count(bus, rule.name(), target.id(), PushMetrics.Outcome.MATCHED);
    Arns.FunctionRef ref;
    byte[] payload;
    try {
      ref = arns.parseFunction(target.arn());
      payload = target.input() == null && target.inputPath() == null && target.inputTransformer() == null
          ? json.getBytes(StandardCharsets.UTF_8)
          : TargetInput.apply(inputOf(target), event, new TargetInput.Context(ruleArn, rule.name(), ingested));
    } catch (RuntimeException e) {
      return refuse(bus, rule, target, ruleArn, json, "INVALID_PARAMETER", e.getMessage());
    }
    if (payload == null) {
      return refuse(bus, rule, target, ruleArn, json, "INVALID_PARAMETER", "The target's "
          + (target.inputPath() != null ? "InputPath selects nothing of this event" : "InputTransformer made no"
          + " JSON of this event") + ", and a function's event must be JSON.");
    }
    String functionArn = arns.functionArn(ref.name(), ref.qualifier());
    return resolve(ref).thenCompose(resolved -> {
      if (resolved.target().isEmpty()) {
        return refuse(bus, rule, target, ruleArn, json, "RESOURCE_NOT_FOUND", "Function not found: " + functionArn);
      }
      PolicyEvaluator.Decision decision = decide(resolved, functionArn, ruleArn);
      if (!decision.allowed()) {
        return refuse(bus, rule, target, ruleArn, json, "NO_PERMISSIONS", SERVICE + " is not authorized to perform"
            + " lambda:InvokeFunction on " + functionArn + " for rule " + ruleArn + ": " + decision.reason());
      }
      return enqueue.into(ref, payload)
          .thenAccept(requestId -> metrics.count(bus, rule.name(), target.id(), PushMetrics.Outcome.DELIVERED))
          .whenComplete((done, failure) -> {
            if (failure != null) {
              metrics.count(bus, rule.name(), target.id(), PushMetrics.Outcome.FAILED);
            }
          });
    });
  }

  private static TargetInput.Settings inputOf(EventRule.Target target) {
    EventRule.InputTransformer transformer = target.inputTransformer();
    return new TargetInput.Settings(target.input(), target.inputPath(),
        transformer == null ? null : transformer.inputPathsMap(), transformer == null ? null
            : transformer.inputTemplate());
  }

  /**
   * A refusal: counted, logged (each rule and target at most once a minute), and sent to the
   * target's dead-letter queue when it has one; the send must succeed for the entry to be answered.
   */
  private CompletionStage<Void> refuse(String bus, EventRule rule, EventRule.Target target, String ruleArn,
                                       String json, String code, String message) {
    return refuse(bus, rule, target, ruleArn, json, code, message, Map.of("RETRY_ATTEMPTS", 0));
  }

  private CompletionStage<Void> refuse(String bus, EventRule rule, EventRule.Target target, String ruleArn,
                                       String json, String code, String message, Map<String, Object> more) {
    metrics.count(bus, rule.name(), target.id(), PushMetrics.Outcome.REFUSED);
    Instant now = clock.instant();
    String key = bus + "/" + rule.name() + "/" + target.id() + "/" + code;
    Instant last = refusalsLogged.get(key);
    if (last == null || last.plus(REFUSAL_LOG_INTERVAL).isBefore(now)) {
      refusalsLogged.put(key, now);
      log.warn("Rule {} of bus {} did not hand an event to target {} ({}): {} {}{}", rule.name(), bus, target.id(),
          target.arn(), code, message, target.deadLetterArn() == null ? "; it has no dead-letter queue, so the event"
              + " is dropped" : "; sent to its dead-letter queue " + target.deadLetterArn());
    }
    if (target.deadLetterArn() == null) {
      return CompletableFuture.completedFuture(null);
    }
    Map<String, Object> attributes = new LinkedHashMap<>();
    attributes.put("ERROR_CODE", code);
    attributes.put("ERROR_MESSAGE", message);
    attributes.put("RULE_ARN", ruleArn);
    attributes.put("TARGET_ARN", target.arn());
    attributes.putAll(more);
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    try {
      return destinations.resolve(target.deadLetterArn())
          .send(new Destination.Message(ruleArn + "/" + target.id(), body, attributes))
          .thenRun(() -> metrics.count(bus, rule.name(), target.id(), PushMetrics.Outcome.DEAD_LETTERED));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** The policy's decision for a push by rule {@code ruleArn}, kept with the copy of the function it was made from. */
  private PolicyEvaluator.Decision decide(Resolved resolved, String functionArn, String ruleArn) {
    return resolved.decisions().computeIfAbsent(ruleArn + " " + functionArn,
        k -> policies.serviceInvoke(resolved.target().orElseThrow().policy(), SERVICE, functionArn, ruleArn,
            arns.accountId()));
  }

  /**
   * The function a target names: this node's copy while it is younger than the ttl; after that, a
   * fresh one is asked for (one ask at a time per function), and until it comes the older copy
   * serves, for up to {@link #STALE_LIMIT}. So while the node holding the function's entity is lost
   * and its shard not yet elsewhere, pushes go on being handed to the function's queue (whose
   * partitions are spread over the nodes) rather than failing with the entity's ask.
   */
  private CompletionStage<Resolved> resolve(Arns.FunctionRef ref) {
    String key = ref.qualifier() == null ? ref.name() : ref.name() + ":" + ref.qualifier();
    Resolved cached = functions.get(key);
    long now = System.nanoTime();
    if (cached != null && cached.expiresAt() - now > 0) {
      return CompletableFuture.completedFuture(cached);
    }
    CompletableFuture<Resolved> fresh = refreshing.get(key);
    if (fresh == null) {
      CompletableFuture<Resolved> mine = new CompletableFuture<>();
      fresh = refreshing.putIfAbsent(key, mine);
      if (fresh == null) {
        fresh = mine;
        ask(ref, key, now).whenComplete((resolved, failure) -> {
          refreshing.remove(key, mine);
          if (failure != null) {
            mine.completeExceptionally(failure);
          } else {
            mine.complete(resolved);
          }
        });
      }
    }
    if (cached != null && now - cached.expiresAt() < STALE_LIMIT.toNanos()) {
      return CompletableFuture.completedFuture(cached);
    }
    return fresh;
  }

  /** How long a function's copy may serve past its ttl while no fresh one can be had. */
  static final Duration STALE_LIMIT = Duration.ofMinutes(1);
  private final Map<String, CompletableFuture<Resolved>> refreshing = new ConcurrentHashMap<>();

  private CompletionStage<Resolved> ask(Arns.FunctionRef ref, String key, long now) {
    return Asks.on(sharding.entityRefFor(FunctionEntity.TYPE_KEY, ref.name())
            .<Reply<FunctionEntity.InvokeTarget>>ask(replyTo -> new FunctionEntity.ResolveInvokeTarget(ref.qualifier(),
                replyTo), askTimeout), executor)
        .thenApply(reply -> {
          Optional<FunctionEntity.InvokeTarget> target;
          if (reply.error() == null) {
            target = Optional.of(reply.value());
          } else if (reply.error().status() == 404) {
            target = Optional.empty();
          } else {
            throw reply.error().toException();
          }
          Resolved resolved = new Resolved(target, now + targetTtl.toNanos(), new ConcurrentHashMap<>());
          functions.put(key, resolved);
          return resolved;
        });
  }

  private static Throwable cause(Throwable failure) {
    Throwable t = failure;
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
