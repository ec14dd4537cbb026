package io.tributary.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.api.Arns;
import io.tributary.api.EventSource;
import io.tributary.api.EventSourceMapping;
import io.tributary.api.LambdaException;
import io.tributary.cluster.Reply;
import io.tributary.cluster.function.FunctionEntity;
import io.tributary.cluster.mapping.EventSourceMappingEntity;
import io.tributary.cluster.mapping.MappingPollers;
import io.tributary.cluster.mapping.PollerStats;
import io.tributary.cluster.store.MappingRegistry;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * Create/Get/Update/Delete/ListEventSourceMappings on {@code /2015-03-31/event-source-mappings},
 * AWS's paths, shapes and status codes (202 for create, update and delete). Sources: self-managed
 * Kafka, SQS queues, Kinesis and DynamoDB streams. A member AWS does not take for the mapping's
 * source gets AWS's "Unsupported … parameter" 400; members for features not built yet are refused
 * with a 400 that says so, never accepted and ignored.
 */
final class EventSourceMappingRoutes extends AllDirectives {

  private static final Set<String> CREATE_FIELDS = Set.of("FunctionName", "Enabled", "BatchSize",
      "MaximumBatchingWindowInSeconds", "StartingPosition", "Topics", "SelfManagedEventSource",
      "SelfManagedKafkaEventSourceConfig", "EventSourceArn", "StartingPositionTimestamp", "FilterCriteria",
      "FunctionResponseTypes", "DestinationConfig", "ScalingConfig", "MaximumRetryAttempts",
      "BisectBatchOnFunctionError", "MaximumRecordAgeInSeconds", "ParallelizationFactor", "TumblingWindowInSeconds",
      "Queues", "SourceAccessConfigurations", "Tags", "KMSKeyArn", "MetricsConfig", "ProvisionedPollerConfig",
      "AmazonManagedKafkaEventSourceConfig", "DocumentDBEventSourceConfig");
  private static final Set<String> UPDATE_FIELDS = Set.of("FunctionName", "Enabled", "BatchSize",
      "MaximumBatchingWindowInSeconds", "FilterCriteria", "FunctionResponseTypes", "DestinationConfig",
      "ScalingConfig", "MaximumRetryAttempts", "BisectBatchOnFunctionError", "MaximumRecordAgeInSeconds",
      "ParallelizationFactor", "TumblingWindowInSeconds", "SourceAccessConfigurations", "KMSKeyArn", "MetricsConfig",
      "ProvisionedPollerConfig", "DocumentDBEventSourceConfig");
  /** Accepted by AWS, not built here yet: refused rather than silently ignored. */
  private static final List<String> NOT_YET = List.of("Queues", "SourceAccessConfigurations", "KMSKeyArn",
      "MetricsConfig", "ProvisionedPollerConfig", "AmazonManagedKafkaEventSourceConfig", "DocumentDBEventSourceConfig");
  /** What AWS takes from stream sources only (Kafka, Kinesis, DynamoDB Streams). */
  private static final List<String> STREAM_ONLY = List.of("MaximumRetryAttempts", "MaximumRecordAgeInSeconds",
      "BisectBatchOnFunctionError", "DestinationConfig");
  /** Stream members AWS takes from Kinesis and DynamoDB Streams, not from Kafka or SQS. */
  private static final List<String> KINESIS_ONLY = List.of("ParallelizationFactor", "TumblingWindowInSeconds");
  private static final Pattern BROKER = Pattern.compile(
      "(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\\-]*[a-zA-Z0-9])\\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\\-]*[A-Za-z0-9]):[0-9]{1,5}");
  private static final Pattern TOPIC = Pattern.compile("[^.]([a-zA-Z0-9\\-_.]+)");
  private static final Pattern CONSUMER_GROUP = Pattern.compile("[a-zA-Z0-9-\\/*:_+=.@-]{1,200}");
  private static final Pattern UUID_SHAPE = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

  private final FunctionAsk functions;
  private final MappingRegistry registry;
  private final EventSource.Factory sources;
  private final Arns arns;
  private final Clock clock;
  private final ActorSystem<?> system;

  EventSourceMappingRoutes(ActorSystem<?> system, FunctionAsk functions, MappingRegistry registry,
                           EventSource.Factory sources, Arns arns, Clock clock) {
    this.system = system;
    this.sources = sources;
    this.functions = functions;
    this.registry = registry;
    this.arns = arns;
    this.clock = clock;
  }

  Route route() {
    return concat(path(segment("tributary").slash("event-source-mappings").slash(segment()).slash("shards"),
        uuid -> get(() -> completeWithFuture(shards(uuid)))), awsRoute());
  }

  private Route awsRoute() {
    return pathPrefix(segment("2015-03-31").slash("event-source-mappings"), () -> concat(
        pathEndOrSingleSlash(() -> concat(
            post(() -> withBody(this::create)),
            get(() -> parameterOptional("FunctionName", fn -> parameterOptional("EventSourceArn", source ->
                parameterOptional("Marker", marker -> parameterOptional("MaxItems", max -> completeWithFuture(
                    list(fn.orElse(null), source.orElse(null), marker.orElse(null), max.orElse(null)))))))))),
        path(segment(), uuid -> concat(
            get(() -> completeWithFuture(ask(uuid, EventSourceMappingEntity.Get::new)
                .thenApply(m -> Responses.json(200, shape(m))))),
            put(() -> withBody(body -> update(uuid, body))),
            delete(() -> completeWithFuture(ask(uuid, EventSourceMappingEntity.Delete::new)
                .thenApply(m -> Responses.json(202, shape(m)))))))));
  }

  private Route withBody(Function<byte[], CompletionStage<HttpResponse>> handler) {
    return entity(Unmarshaller.entityToByteString(), body -> completeWithFuture(
        CompletableFuture.completedFuture(body.toArray()).thenCompose(handler)));
  }

  private CompletionStage<HttpResponse> create(byte[] body) {
    JsonBody b = JsonBody.parse(body, CREATE_FIELDS);
    refuseNotYet(b);
    String function = b.requiredString("FunctionName");
    if (b.has("EventSourceArn")) {
      String arn = b.string("EventSourceArn");
      if (arn != null && arn.matches("arn:aws[a-zA-Z-]*:kinesis:.*")) {
        return createShardedStreamMapping(b, function, arn, "Kinesis");
      }
      if (arn != null && arn.matches("arn:aws[a-zA-Z-]*:dynamodb:.*")) {
        return createShardedStreamMapping(b, function, arn, "DynamoDB Streams");
      }
      return createQueueMapping(b, function);
    }
    JsonBody source = b.object("SelfManagedEventSource", Set.of("Endpoints"));
    if (source == null) {
      throw LambdaException.invalidParameter("Give the source: SelfManagedEventSource with"
          + " Endpoints.KAFKA_BOOTSTRAP_SERVERS, and Topics.");
    }
    List<String> brokers = source.object("Endpoints", Set.of("KAFKA_BOOTSTRAP_SERVERS"))
        .stringList("KAFKA_BOOTSTRAP_SERVERS");
    if (brokers == null || brokers.isEmpty() || brokers.size() > 10) {
      throw LambdaException.validation(brokers, "selfManagedEventSource.endpoints.KAFKA_BOOTSTRAP_SERVERS",
          "Member must have between 1 and 10 items");
    }
    for (String broker : brokers) {
      if (broker.length() > 300 || !BROKER.matcher(broker).matches()) {
        throw LambdaException.invalidParameter("The bootstrap server " + broker + " is not host:port.");
      }
    }
    List<String> topics = b.stringList("Topics");
    if (topics == null || topics.size() != 1) {
      throw LambdaException.invalidParameter("Topics must name exactly one topic.");
    }
    if (topics.get(0).length() > 249 || !TOPIC.matcher(topics.get(0)).matches()) {
      throw LambdaException.validation(topics.get(0), "topics", "Member must satisfy regular expression pattern:"
          + " ^[^.]([a-zA-Z0-9\\-_.]+)");
    }
    Start start = start(b, "Kafka");
    String group = null;
    JsonBody kafka = b.object("SelfManagedKafkaEventSourceConfig", Set.of("ConsumerGroupId"));
    if (kafka != null && kafka.string("ConsumerGroupId") != null) {
      group = kafka.string("ConsumerGroupId");
      if (!CONSUMER_GROUP.matcher(group).matches()) {
        throw LambdaException.validation(group, "selfManagedKafkaEventSourceConfig.consumerGroupId",
            "Member must satisfy regular expression pattern: [a-zA-Z0-9-\\/*:_+=.@-]*");
      }
    }
    int batchSize = b.has("BatchSize") ? batchSize(b.integer("BatchSize")) : 100;
    int window = b.has("MaximumBatchingWindowInSeconds") ? window(b.integer("MaximumBatchingWindowInSeconds")) : 0;
    boolean enabled = !Boolean.FALSE.equals(b.bool("Enabled"));
    if (b.has("FunctionResponseTypes") && !b.stringList("FunctionResponseTypes").isEmpty()) {
      throw kafkaResponseTypes();
    }
    refuse(b, KINESIS_ONLY, "ScalingConfig");
    return store(b, function, new EventSourceMapping(null, null, null, brokers, topics, group, batchSize, window,
        start.position(), enabled, null, null, null, 0, filters(b), null,
        onError(b, EventSourceMapping.OnError.DEFAULT), null, start.atMillis(), null, null));
  }

  /** Where a stream mapping starts: {@code atMillis} for AT_TIMESTAMP. */
  private record Start(String position, Long atMillis) {}

  private Start start(JsonBody b, String source) {
    String position = b.string("StartingPosition");
    boolean timestamps = !source.startsWith("DynamoDB");
    if (position == null) {
      throw LambdaException.invalidParameter("StartingPosition is required for a " + source + " source: TRIM_HORIZON"
          + (timestamps ? ", LATEST or AT_TIMESTAMP." : " or LATEST."));
    }
    if (!Set.of("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP").contains(position)) {
      throw LambdaException.validation(position, "startingPosition",
          "Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_TIMESTAMP]");
    }
    if (!timestamps && position.equals("AT_TIMESTAMP")) {
      throw LambdaException.invalidParameter("StartingPosition AT_TIMESTAMP is not valid for a " + source + " source:"
          + " use TRIM_HORIZON or LATEST.");
    }
    Double timestamp = b.number("StartingPositionTimestamp");
    if (position.equals("AT_TIMESTAMP") != (timestamp != null)) {
      throw LambdaException.invalidParameter(timestamp == null
          ? "StartingPositionTimestamp (seconds since the epoch) is required with StartingPosition AT_TIMESTAMP."
          : "StartingPositionTimestamp is only valid with StartingPosition AT_TIMESTAMP.");
    }
    Long startAt = timestamp == null ? null : Math.round(timestamp * 1000);
    if (startAt != null && (startAt < 0 || startAt > clock.millis())) {
      throw LambdaException.invalidParameter("StartingPositionTimestamp " + timestamp + " is not a time in the past"
          + " (seconds since the epoch).");
    }
    return new Start(position, startAt);
  }

  /**
   * A Kinesis or DynamoDB stream: a starting position, batches of 100 by default, the stream error
   * handling, partial batch responses (by sequence number).
   */
  private CompletionStage<HttpResponse> createShardedStreamMapping(JsonBody b, String function, String arn,
                                                                   String source) {
    for (String kafkaOnly : List.of("Topics", "SelfManagedEventSource", "SelfManagedKafkaEventSourceConfig")) {
      if (b.has(kafkaOnly)) {
        throw LambdaException.invalidParameter(kafkaOnly + " is not valid for a " + source + " event source; leave"
            + " it out.");
      }
    }
    refuse(b, List.of(), "ScalingConfig");
    sources.check(arn);
    Start start = start(b, source);
    int batchSize = b.has("BatchSize") ? batchSize(b.integer("BatchSize")) : 100;
    int window = b.has("MaximumBatchingWindowInSeconds") ? window(b.integer("MaximumBatchingWindowInSeconds")) : 0;
    int parallelization = b.has("ParallelizationFactor") ? parallelization(b.integer("ParallelizationFactor")) : 1;
    int tumbling = b.has("TumblingWindowInSeconds") ? tumbling(b.integer("TumblingWindowInSeconds")) : 0;
    oneBatchPerWindow(parallelization, tumbling);
    return store(b, function, new EventSourceMapping(null, null, arn, null, null, null, batchSize, window,
        start.position(), !Boolean.FALSE.equals(b.bool("Enabled")), null, null, null, 0, filters(b),
        responseTypes(b), onError(b, EventSourceMapping.OnError.DEFAULT), null, start.atMillis(), parallelization,
        tumbling));
  }

  private static int parallelization(Integer factor) {
    return inRange(factor, "parallelizationFactor", 1, 10);
  }

  private static int tumbling(Integer seconds) {
    return inRange(seconds, "tumblingWindowInSeconds", 0, 900);
  }

  /** A window's state is carried from one batch of the shard to the next, so its batches run one at a time. */
  private static void oneBatchPerWindow(int parallelization, int tumbling) {
    if (parallelization > 1 && tumbling > 0) {
      throw LambdaException.invalidParameter("TumblingWindowInSeconds cannot be combined with a ParallelizationFactor"
          + " above 1 in Tributary: a window's state is carried from one batch of a shard to the next, one batch at"
          + " a time. Set ParallelizationFactor to 1, or TumblingWindowInSeconds to 0.");
    }
  }

  /** An SQS queue: no starting position, batches of 10 by default, up to 10,000 with a batching window. */
  private CompletionStage<HttpResponse> createQueueMapping(JsonBody b, String function) {
    String arn = b.string("EventSourceArn");
    if (!arn.matches("arn:aws[a-zA-Z-]*:sqs:.*")) {
      throw LambdaException.invalidParameter("EventSourceArn " + arn + " is not supported: this version of"
          + " Tributary reads SQS queues (arn:aws:sqs:<region>:<account>:<queue>), Kinesis streams"
          + " (arn:aws:kinesis:<region>:<account>:stream/<name>), DynamoDB streams"
          + " (arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>) and self-managed Kafka"
          + " (SelfManagedEventSource and Topics).");
    }
    for (String kafkaOnly : List.of("StartingPosition", "Topics", "SelfManagedEventSource",
        "SelfManagedKafkaEventSourceConfig")) {
      if (b.has(kafkaOnly)) {
        throw LambdaException.invalidParameter(kafkaOnly + " is not valid for an SQS event source; leave it out.");
      }
    }
    sources.check(arn);
    refuse(b, STREAM_ONLY, KINESIS_ONLY, "StartingPositionTimestamp");
    int batchSize = b.has("BatchSize") ? batchSize(b.integer("BatchSize")) : 10;
    int window = b.has("MaximumBatchingWindowInSeconds") ? window(b.integer("MaximumBatchingWindowInSeconds")) : 0;
    queueBatching(batchSize, window);
    return store(b, function, new EventSourceMapping(null, null, arn, null, null, null, batchSize, window, null,
        !Boolean.FALSE.equals(b.bool("Enabled")), null, null, null, 0, filters(b), responseTypes(b), null,
        maximumConcurrency(b), null, null, null));
  }

  private static void queueBatching(int batchSize, int window) {
    if (batchSize > 10 && window < 1) {
      throw LambdaException.invalidParameter("Maximum batch window in seconds must be greater than 0 if maximum"
          + " batch size is greater than 10");
    }
  }

  /**
   * Checks that the function exists and that this node can send to the on-failure destination,
   * then creates the mapping from {@code given} (its source and settings).
   */
  private CompletionStage<HttpResponse> store(JsonBody b, String function, EventSourceMapping given) {
    Arns.FunctionRef ref = arns.parseFunction(function);
    String uuid = UUID.randomUUID().toString();
    boolean enabled = given.enabled();
    EventSourceMapping mapping = new EventSourceMapping(uuid, arns.functionArn(ref.name(), ref.qualifier()),
        given.eventSourceArn(), given.bootstrapServers(), given.topics(), given.consumerGroupId(), given.batchSize(),
        given.maximumBatchingWindowInSeconds(), given.startingPosition(), enabled,
        enabled ? EventSourceMapping.CREATING : EventSourceMapping.DISABLED, "USER_INITIATED",
        EventSourceMapping.NO_RECORDS, clock.millis(), given.filterPatterns(), given.functionResponseTypes(),
        given.onError(), given.maximumConcurrency(), given.startingPositionTimestampMillis(),
        given.parallelizationFactor(), given.tumblingWindowInSeconds());
    checkOnFailure(mapping);
    return functionExists(ref)
        .thenCompose(exists -> ask(uuid, r -> new EventSourceMappingEntity.Create(mapping, r)))
        .thenApply(m -> Responses.json(202, shape(m)));
  }

  private CompletionStage<FunctionEntity.FunctionView> functionExists(Arns.FunctionRef ref) {
    return functions.ask(ref.name(), r -> new FunctionEntity.Get(ref.qualifier(), r));
  }

  private void checkOnFailure(EventSourceMapping mapping) {
    if (mapping.errors().onFailure() != null) {
      sources.failureDestination(mapping);
    }
  }

  /** Members are checked against the mapping's source, so the mapping is read first. */
  private CompletionStage<HttpResponse> update(String uuid, byte[] body) {
    JsonBody b = JsonBody.parse(body, UPDATE_FIELDS);
    refuseNotYet(b);
    Integer batchSize = b.has("BatchSize") ? batchSize(b.integer("BatchSize")) : null;
    Integer window = b.has("MaximumBatchingWindowInSeconds") ? window(b.integer("MaximumBatchingWindowInSeconds"))
        : null;
    Boolean enabled = b.bool("Enabled");
    List<String> filters = filters(b);
    List<String> types = responseTypes(b);
    Arns.FunctionRef function = b.has("FunctionName") ? arns.parseFunction(b.requiredString("FunctionName")) : null;
    return ask(uuid, EventSourceMappingEntity.Get::new).thenCompose(current -> {
      if (current.isStream()) {
        refuse(b, current.isKafka() ? KINESIS_ONLY : List.of(), "ScalingConfig");
        if (current.isKafka() && types != null && !types.isEmpty()) {
          throw kafkaResponseTypes();
        }
      } else {
        refuse(b, STREAM_ONLY, KINESIS_ONLY);
        queueBatching(batchSize == null ? current.batchSize() : batchSize,
            window == null ? current.maximumBatchingWindowInSeconds() : window);
      }
      String functionArn = function == null ? null : arns.functionArn(function.name(), function.qualifier());
      EventSourceMapping.Changes changes;
      if (current.isStream()) {
        EventSourceMapping.OnError errors = onError(b, current.errors());
        String onFailure = Objects.equals(errors.onFailure(), current.errors().onFailure()) ? null
            : errors.onFailure() == null ? EventSourceMapping.Changes.REMOVE : errors.onFailure();
        Integer parallelization = b.has("ParallelizationFactor")
            ? parallelization(b.integer("ParallelizationFactor")) : null;
        Integer tumbling = b.has("TumblingWindowInSeconds") ? tumbling(b.integer("TumblingWindowInSeconds")) : null;
        oneBatchPerWindow(parallelization == null ? current.parallelization() : parallelization,
            tumbling == null ? current.tumblingWindow() : tumbling);
        changes = new EventSourceMapping.Changes(functionArn, batchSize, window, enabled, filters, types,
            errors.maximumRetryAttempts(), errors.maximumRecordAgeInSeconds(), errors.bisectBatchOnFunctionError(),
            onFailure, null, parallelization, tumbling);
      } else {
        Integer concurrency = b.has("ScalingConfig") ? Objects.requireNonNullElse(maximumConcurrency(b), 0) : null;
        changes = new EventSourceMapping.Changes(functionArn, batchSize, window, enabled, filters, types, null, null,
            null, null, concurrency, null, null);
      }
      checkOnFailure(current.updated(changes, current.state(), current.stateTransitionReason(), clock.millis()));
      return (function == null ? CompletableFuture.<FunctionEntity.FunctionView>completedFuture(null)
          : functionExists(function))
          .thenCompose(exists -> ask(uuid, r -> new EventSourceMappingEntity.Update(changes, r)));
    }).thenApply(m -> Responses.json(202, shape(m)));
  }

  /**
   * A stream's error handling: the members given, over {@code current}. AWS's ranges:
   * MaximumRetryAttempts −1 to 10,000, MaximumRecordAgeInSeconds −1 or 60 to 604,800.
   */
  private static EventSourceMapping.OnError onError(JsonBody b, EventSourceMapping.OnError current) {
    Integer retries = b.integer("MaximumRetryAttempts");
    if (retries != null && (retries < -1 || retries > 10_000)) {
      throw LambdaException.validation(retries, "maximumRetryAttempts", "Member must have value between -1 and"
          + " 10000");
    }
    Integer age = b.integer("MaximumRecordAgeInSeconds");
    if (age != null && (age < -1 || age > 604_800 || (age >= 0 && age < 60))) {
      throw LambdaException.validation(age, "maximumRecordAgeInSeconds", "Member must be -1 (no limit) or have value"
          + " between 60 and 604800");
    }
    Boolean bisect = b.bool("BisectBatchOnFunctionError");
    String onFailure = current.onFailure();
    JsonBody destinations = b.object("DestinationConfig", Set.of("OnFailure", "OnSuccess"));
    if (destinations != null) {
      if (destinations.has("OnSuccess")) {
        throw LambdaException.invalidParameter("DestinationConfig.OnSuccess is not valid for an event source mapping:"
            + " AWS sends only the records of discarded batches, to OnFailure.");
      }
      JsonBody failure = destinations.object("OnFailure", Set.of("Destination"));
      onFailure = failure == null ? null : failure.string("Destination");
      if (onFailure != null && onFailure.isEmpty()) {
        onFailure = null;
      }
    }
    return new EventSourceMapping.OnError(retries == null ? current.maximumRetryAttempts() : retries,
        age == null ? current.maximumRecordAgeInSeconds() : age,
        bisect == null ? current.bisectBatchOnFunctionError() : bisect, onFailure);
  }

  /** {@code ScalingConfig.MaximumConcurrency} (2 to 1,000), or null when not given. */
  private static Integer maximumConcurrency(JsonBody b) {
    JsonBody scaling = b.object("ScalingConfig", Set.of("MaximumConcurrency"));
    Integer max = scaling == null ? null : scaling.integer("MaximumConcurrency");
    if (max != null && (max < 2 || max > 1000)) {
      throw LambdaException.validation(max, "scalingConfig.maximumConcurrency", "Member must have value between 2"
          + " and 1000");
    }
    return max;
  }

  /** AWS's answer to a member its source does not take. */
  private static void refuse(JsonBody b, List<String> members, List<String> more, String... others) {
    for (List<String> group : List.of(members, more, List.of(others))) {
      for (String member : group) {
        if (b.has(member)) {
          throw LambdaException.invalidParameter("Unsupported " + member + " parameter for given event source mapping"
              + " type.");
        }
      }
    }
  }

  private static void refuse(JsonBody b, List<String> members, String... others) {
    refuse(b, members, List.of(), others);
  }

  private static LambdaException kafkaResponseTypes() {
    return LambdaException.invalidParameter("FunctionResponseTypes is not valid for a Kafka event source in this"
        + " version of Tributary (it takes partial batch responses from SQS mappings); leave it out.");
  }

  private CompletionStage<HttpResponse> list(String function, String source, String marker, String maxItems) {
    int max = FunctionRoutes.maxItems(maxItems == null ? Map.of() : Map.of("MaxItems", maxItems));
    String functionArn = function == null ? null : arns.functionArn(arns.parseFunction(function).name(),
        arns.parseFunction(function).qualifier());
    return registry.all().thenApply(all -> {
      List<EventSourceMapping> matching = all.stream()
          .filter(m -> functionArn == null || m.functionArn().equals(functionArn))
          .filter(m -> source == null || source.equals(m.eventSourceArn()))
          .filter(m -> marker == null || m.uuid().compareTo(marker) > 0)
          .toList();
      ObjectNode o = JsonBody.MAPPER.createObjectNode();
      ArrayNode page = o.putArray("EventSourceMappings");
      matching.stream().limit(max).forEach(m -> page.add(shape(m)));
      if (matching.size() > max) {
        o.put("NextMarker", matching.get(max - 1).uuid());
      }
      return Responses.json(200, o);
    });
  }

  /** {@code FilterCriteria.Filters[].Pattern}, checked by the same engine that applies them; null when absent. */
  private List<String> filters(JsonBody b) {
    JsonBody criteria = b.object("FilterCriteria", Set.of("Filters"));
    if (criteria == null) {
      return null;
    }
    List<String> patterns = new java.util.ArrayList<>();
    for (JsonBody filter : criteria.objectList("Filters", Set.of("Pattern"))) {
      patterns.add(filter.string("Pattern"));
    }
    sources.checkFilters(patterns);
    return patterns;
  }

  /** {@code FunctionResponseTypes}: empty, or ReportBatchItemFailures; null when absent. */
  private static List<String> responseTypes(JsonBody b) {
    List<String> types = b.stringList("FunctionResponseTypes");
    if (types == null) {
      return null;
    }
    for (String type : types) {
      if (!type.equals("ReportBatchItemFailures")) {
        throw LambdaException.validation(types, "functionResponseTypes",
            "Member must satisfy enum value set: [ReportBatchItemFailures]");
      }
    }
    return types;
  }

  private static void refuseNotYet(JsonBody b) {
    for (String member : NOT_YET) {
      if (b.has(member)) {
        throw LambdaException.invalidParameter(member + " is not supported yet by this version of Tributary's event"
            + " source mappings; leave it out.");
      }
    }
  }

  private static int batchSize(Integer size) {
    return inRange(size, "batchSize", 1, 10_000);
  }

  private static int window(Integer seconds) {
    return inRange(seconds, "maximumBatchingWindowInSeconds", 0, 300);
  }

  /** AWS's ValidationException for a number out of its member's range. */
  private static int inRange(Integer value, String member, int min, int max) {
    if (value == null || value < min || value > max) {
      throw LambdaException.validation(value, member, "Member must have value between " + min + " and " + max);
    }
    return value;
  }

  private CompletionStage<EventSourceMapping> ask(String uuid,
      Function<ActorRef<Reply<EventSourceMapping>>, EventSourceMappingEntity.Command> command) {
    if (!UUID_SHAPE.matcher(uuid).matches()) {
      return CompletableFuture.failedFuture(LambdaException.notFound("The resource you requested does not exist."
          + " (Event source mapping " + uuid + ")"));
    }
    return functions.ask(EventSourceMappingEntity.TYPE_KEY, uuid, "Event source mapping " + uuid, command);
  }

  /**
   * Tributary's operations view of a mapping: its state, and per shard, from every node that reads
   * it, the records processed and discarded, the last checkpoint, the lag and the last error.
   */
  private CompletionStage<HttpResponse> shards(String uuid) {
    Duration wait = Duration.ofSeconds(3);
    return ask(uuid, EventSourceMappingEntity.Get::new).thenCompose(mapping -> AskPattern
        .<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
            r -> Receptionist.find(MappingPollers.KEY, r), wait, system.scheduler())
        .thenCompose(listing -> {
          List<CompletableFuture<MappingPollers.NodeShards>> asks = listing.getServiceInstances(MappingPollers.KEY)
              .stream().map(node -> AskPattern.<MappingPollers.Command, MappingPollers.NodeShards>ask(node,
                      r -> new MappingPollers.GetShards(uuid, r), wait, system.scheduler())
                  .toCompletableFuture().exceptionally(failure -> null))
              .toList();
          return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(v -> {
            ObjectNode o = JsonBody.MAPPER.createObjectNode();
            o.put("UUID", uuid);
            o.put("State", mapping.state());
            o.put("LastProcessingResult", mapping.lastProcessingResult());
            o.put("NodesAsked", asks.size());
            ArrayNode shards = o.putArray("Shards");
            asks.stream().map(CompletableFuture::join).filter(java.util.Objects::nonNull)
                .forEach(node -> node.shards().stream()
                    .sorted(java.util.Comparator.comparing(PollerStats.Shard::shard))
                    .forEach(s -> {
                      ObjectNode shard = shards.addObject();
                      shard.put("Shard", s.shard());
                      shard.put("Node", node.node());
                      shard.put("RecordsProcessed", s.recordsProcessed());
                      shard.put("RecordsDiscarded", s.recordsDiscarded());
                      shard.put("LastCheckpoint", s.lastCheckpoint());
                      if (s.lag() != null) {
                        shard.put("Lag", s.lag());
                      }
                      if (s.lagMillis() != null) {
                        shard.put("LagMillis", s.lagMillis());
                      }
                      if (s.lastError() != null) {
                        shard.put("LastError", s.lastError());
                        shard.put("LastErrorAt", java.time.Instant.ofEpochMilli(s.lastErrorAtMillis()).toString());
                      }
                    }));
            return Responses.json(200, o);
          });
        }));
  }

  /** AWS's EventSourceMappingConfiguration. */
  ObjectNode shape(EventSourceMapping m) {
    ObjectNode o = JsonBody.MAPPER.createObjectNode();
    o.put("UUID", m.uuid());
    o.put("EventSourceMappingArn", "arn:aws:lambda:" + arns.region() + ":" + arns.accountId()
        + ":event-source-mapping:" + m.uuid());
    if (m.startingPosition() != null) {
      o.put("StartingPosition", m.startingPosition());
    }
    if (m.startingPositionTimestampMillis() != null) {
      o.put("StartingPositionTimestamp", BigDecimal.valueOf(m.startingPositionTimestampMillis()).movePointLeft(3));
    }
    o.put("BatchSize", m.batchSize());
    o.put("MaximumBatchingWindowInSeconds", m.maximumBatchingWindowInSeconds());
    if (m.eventSourceArn() != null) {
      o.put("EventSourceArn", m.eventSourceArn());
    }
    o.put("FunctionArn", m.functionArn());
    o.put("LastModified", BigDecimal.valueOf(m.lastModifiedMillis()).movePointLeft(3));
    o.put("LastProcessingResult", m.lastProcessingResult());
    o.put("State", m.state());
    o.put("StateTransitionReason", m.stateTransitionReason());
    if (!m.filterPatterns().isEmpty()) {
      ArrayNode filters = o.putObject("FilterCriteria").putArray("Filters");
      m.filterPatterns().forEach(pattern -> filters.addObject().put("Pattern", pattern));
    }
    if (!m.isKafka()) {
      ArrayNode types = o.putArray("FunctionResponseTypes");
      m.functionResponseTypes().forEach(types::add);
      if (m.maximumConcurrency() != null) {
        o.putObject("ScalingConfig").put("MaximumConcurrency", m.maximumConcurrency());
      }
    }
    if (m.isStream()) {
      EventSourceMapping.OnError errors = m.errors();
      o.put("MaximumRetryAttempts", errors.maximumRetryAttempts());
      o.put("MaximumRecordAgeInSeconds", errors.maximumRecordAgeInSeconds());
      o.put("BisectBatchOnFunctionError", errors.bisectBatchOnFunctionError());
      ObjectNode onFailure = o.putObject("DestinationConfig").putObject("OnFailure");
      if (errors.onFailure() != null) {
        onFailure.put("Destination", errors.onFailure());
      }
    }
    if (m.placesShards()) {
      o.put("ParallelizationFactor", m.parallelization());
      o.put("TumblingWindowInSeconds", m.tumblingWindow());
    }
    if (m.isKafka()) {
      ArrayNode topics = o.putArray("Topics");
      m.topics().forEach(topics::add);
      ArrayNode servers = o.putObject("SelfManagedEventSource").putObject("Endpoints")
          .putArray("KAFKA_BOOTSTRAP_SERVERS");
      m.bootstrapServers().forEach(servers::add);
      o.putObject("SelfManagedKafkaEventSourceConfig").put("ConsumerGroupId",
          m.consumerGroupId() == null ? m.uuid() : m.consumerGroupId());
    }
    return o;
  }
}
