package io.tributary.http;

import com.fasterxml.jackson.annotation.JsonInclude.Include;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import io.tributary.api.Arns;
import io.tributary.api.EventSource;
import io.tributary.api.EventSourceMapping;
import io.tributary.api.LambdaException;
import io.tributary.api.Validation;
import io.tributary.cluster.Reply;
import io.tributary.cluster.function.FunctionEntity;
import io.tributary.cluster.mapping.EventSourceMappingEntity;
import io.tributary.cluster.mapping.MappingPollers;
import io.tributary.cluster.mapping.PollerStats;
import io.tributary.cluster.store.MappingRegistry;
import io.tributary.http.Operation.Call;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
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

/**
 * Create/Get/Update/Delete/ListEventSourceMappings on {@code /2015-03-31/event-source-mappings},
 * AWS's paths, shapes and status codes (202 for create, update and delete). Sources: self-managed
 * Kafka, SQS queues, Kinesis and DynamoDB streams. A member AWS does not take for the mapping's
 * source gets AWS's "Unsupported … parameter" 400; members for features not built yet are refused
 * with a 400 that says so, never accepted and ignored. {@code Tags} on create go to the mapping's
 * entity; the tag operations on its {@code EventSourceMappingArn} are FunctionRoutes' (one set for
 * every taggable ARN).
 */
final class EventSourceMappingRoutes {

  // ---- request shapes ----

  record CreateEventSourceMapping(String functionName, Boolean enabled, Integer batchSize,
      Integer maximumBatchingWindowInSeconds, String startingPosition, List<String> topics,
      SelfManagedEventSource selfManagedEventSource, SelfManagedKafkaEventSourceConfig selfManagedKafkaEventSourceConfig,
      String eventSourceArn, Double startingPositionTimestamp, FilterCriteria filterCriteria,
      List<String> functionResponseTypes, DestinationConfig destinationConfig, ScalingConfig scalingConfig,
      Integer maximumRetryAttempts, Boolean bisectBatchOnFunctionError, Integer maximumRecordAgeInSeconds,
      Integer parallelizationFactor, Integer tumblingWindowInSeconds, JsonNode queues,
      JsonNode sourceAccessConfigurations, Map<String, String> tags,
      @JsonProperty("KMSKeyArn") JsonNode kmsKeyArn, JsonNode metricsConfig, JsonNode provisionedPollerConfig, JsonNode amazonManagedKafkaEventSourceConfig,
      @JsonProperty("DocumentDBEventSourceConfig") JsonNode documentDbEventSourceConfig) {}

  record UpdateEventSourceMapping(String functionName, Boolean enabled, Integer batchSize,
      Integer maximumBatchingWindowInSeconds, FilterCriteria filterCriteria, List<String> functionResponseTypes,
      DestinationConfig destinationConfig, ScalingConfig scalingConfig, Integer maximumRetryAttempts,
      Boolean bisectBatchOnFunctionError, Integer maximumRecordAgeInSeconds, Integer parallelizationFactor,
      Integer tumblingWindowInSeconds, JsonNode sourceAccessConfigurations, @JsonProperty("KMSKeyArn") JsonNode kmsKeyArn,
      JsonNode metricsConfig, JsonNode provisionedPollerConfig,
      @JsonProperty("DocumentDBEventSourceConfig") JsonNode documentDbEventSourceConfig) {}

  record SelfManagedEventSource(Endpoints endpoints) {}

  record Endpoints(@JsonProperty("KAFKA_BOOTSTRAP_SERVERS") List<String> kafkaBootstrapServers) {}

  record SelfManagedKafkaEventSourceConfig(String consumerGroupId) {}

  record FilterCriteria(List<Filter> filters) {}

  record Filter(String pattern) {}

  /** A stream's on-failure destination; {@code OnSuccess} is refused whatever it holds. */
  record DestinationConfig(@JsonInclude(Include.NON_NULL) JsonNode onSuccess, OnFailure onFailure) {}

  record OnFailure(@JsonInclude(Include.NON_NULL) String destination) {}

  record ScalingConfig(Integer maximumConcurrency) {}

  // ---- response shapes ----

  /** AWS's EventSourceMappingConfiguration: what a mapping's source takes, and only that. */
  record EventSourceMappingConfiguration(@JsonProperty("UUID") String uuid, String eventSourceMappingArn,
      @JsonInclude(Include.NON_NULL) String startingPosition,
      @JsonInclude(Include.NON_NULL) BigDecimal startingPositionTimestamp, int batchSize,
      int maximumBatchingWindowInSeconds, @JsonInclude(Include.NON_NULL) String eventSourceArn, String functionArn,
      BigDecimal lastModified, String lastProcessingResult, String state, String stateTransitionReason,
      @JsonInclude(Include.NON_NULL) FilterCriteria filterCriteria,
      @JsonInclude(Include.NON_NULL) List<String> functionResponseTypes,
      @JsonInclude(Include.NON_NULL) ScalingConfig scalingConfig,
      @JsonInclude(Include.NON_NULL) Integer maximumRetryAttempts,
      @JsonInclude(Include.NON_NULL) Integer maximumRecordAgeInSeconds,
      @JsonInclude(Include.NON_NULL) Boolean bisectBatchOnFunctionError,
      @JsonInclude(Include.NON_NULL) DestinationConfig destinationConfig,
      @JsonInclude(Include.NON_NULL) Integer parallelizationFactor,
      @JsonInclude(Include.NON_NULL) Integer tumblingWindowInSeconds,
      @JsonInclude(Include.NON_NULL) List<String> topics,
      @JsonInclude(Include.NON_NULL) SelfManagedEventSource selfManagedEventSource,
      @JsonInclude(Include.NON_NULL) SelfManagedKafkaEventSourceConfig selfManagedKafkaEventSourceConfig) {}

  record MappingList(List<EventSourceMappingConfiguration> eventSourceMappings,
                     @JsonInclude(Include.NON_NULL) String nextMarker) {}

  /** Tributary's operations view of a mapping's shards. */
  record MappingShards(@JsonProperty("UUID") String uuid, String state, String lastProcessingResult, int nodesAsked,
                       List<Shard> shards) {}

  record Shard(String shard, String node, long recordsProcessed, long recordsDiscarded, String lastCheckpoint,
               @JsonInclude(Include.NON_NULL) Long lag, @JsonInclude(Include.NON_NULL) Long lagMillis,
               @JsonInclude(Include.NON_NULL) String lastError, @JsonInclude(Include.NON_NULL) String lastErrorAt) {}

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

  List<Operation> operations() {
    String mappings = "/2015-03-31/event-source-mappings/";
    String mapping = "/2015-03-31/event-source-mappings/{UUID}";
    return List.of(
        Operation.post("CreateEventSourceMapping", mappings, this::create),
        Operation.get("ListEventSourceMappings", mappings, call -> list(call.parameter("FunctionName"),
            call.parameter("EventSourceArn"), call.query())),
        Operation.get("GetEventSourceMapping", mapping, call -> ask(call.variable(0), EventSourceMappingEntity.Get::new)
            .thenApply(m -> Responses.json(200, shape(m)))),
        Operation.put("UpdateEventSourceMapping", mapping, this::update),
        Operation.delete("DeleteEventSourceMapping", mapping, call -> ask(call.variable(0),
            EventSourceMappingEntity.Delete::new).thenApply(m -> Responses.json(202, shape(m)))),
        Operation.get("GetEventSourceMappingShards", "/tributary/event-source-mappings/{UUID}/shards",
            call -> shards(call.variable(0))));
  }

  private CompletionStage<HttpResponse> create(Call call) {
    CreateEventSourceMapping b = call.read(CreateEventSourceMapping.class);
    Set<String> given = JsonBody.givenMembers(b);
    refuseNotYet(given);
    String function = required(b.functionName(), "FunctionName");
    if (b.eventSourceArn() != null) {
      String arn = b.eventSourceArn();
      if (arn.matches("arn:aws[a-zA-Z-]*:kinesis:.*")) {
        return createShardedStreamMapping(b, given, function, arn, "Kinesis");
      }
      if (arn.matches("arn:aws[a-zA-Z-]*:dynamodb:.*")) {
        return createShardedStreamMapping(b, given, function, arn, "DynamoDB Streams");
      }
      return createQueueMapping(b, given, function);
    }
    SelfManagedEventSource source = b.selfManagedEventSource();
    if (source == null) {
      throw LambdaException.invalidParameter("Give the source: SelfManagedEventSource with"
          + " Endpoints.KAFKA_BOOTSTRAP_SERVERS, and Topics.");
    }
    List<String> brokers = source.endpoints() == null ? null : source.endpoints().kafkaBootstrapServers();
    if (brokers == null || brokers.isEmpty() || brokers.size() > 10) {
      throw LambdaException.validation(brokers, "selfManagedEventSource.endpoints.KAFKA_BOOTSTRAP_SERVERS",
          "Member must have between 1 and 10 items");
    }
    for (String broker : brokers) {
      if (broker.length() > 300 || !BROKER.matcher(broker).matches()) {
        throw LambdaException.invalidParameter("The bootstrap server " + broker + " is not host:port.");
      }
    }
    List<String> topics = b.topics();
    if (topics == null || topics.size() != 1) {
      throw LambdaException.invalidParameter("Topics must name exactly one topic.");
    }
    if (topics.get(0).length() > 249 || !TOPIC.matcher(topics.get(0)).matches()) {
      throw LambdaException.validation(topics.get(0), "topics", "Member must satisfy regular expression pattern:"
          + " ^[^.]([a-zA-Z0-9\\-_.]+)");
    }
    Start start = start(b, "Kafka");
    String group = b.selfManagedKafkaEventSourceConfig() == null ? null
        : b.selfManagedKafkaEventSourceConfig().consumerGroupId();
    if (group != null && !CONSUMER_GROUP.matcher(group).matches()) {
      throw LambdaException.validation(group, "selfManagedKafkaEventSourceConfig.consumerGroupId",
          "Member must satisfy regular expression pattern: [a-zA-Z0-9-\\/*:_+=.@-]*");
    }
    int batchSize = b.batchSize() != null ? batchSize(b.batchSize()) : 100;
    int window = b.maximumBatchingWindowInSeconds() != null ? window(b.maximumBatchingWindowInSeconds()) : 0;
    boolean enabled = !Boolean.FALSE.equals(b.enabled());
    if (b.functionResponseTypes() != null && !b.functionResponseTypes().isEmpty()) {
      throw kafkaResponseTypes();
    }
    refuse(given, KINESIS_ONLY, "ScalingConfig");
    return store(function, mappingTags(b), new EventSourceMapping(null, null, null, brokers, topics, group, batchSize,
        window, start.position(), enabled, null, null, null, 0, filters(b.filterCriteria()), null,
        onError(b.maximumRetryAttempts(), b.maximumRecordAgeInSeconds(), b.bisectBatchOnFunctionError(),
            b.destinationConfig(), EventSourceMapping.OnError.DEFAULT), null, start.atMillis(), null, null));
  }

  /** Where a stream mapping starts: {@code atMillis} for AT_TIMESTAMP. */
  private record Start(String position, Long atMillis) {}

  private Start start(CreateEventSourceMapping b, String source) {
    String position = b.startingPosition();
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
    Double timestamp = b.startingPositionTimestamp();
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
  private CompletionStage<HttpResponse> createShardedStreamMapping(CreateEventSourceMapping b, Set<String> given,
                                                                   String function, String arn, String source) {
    for (String kafkaOnly : List.of("Topics", "SelfManagedEventSource", "SelfManagedKafkaEventSourceConfig")) {
      if (given.contains(kafkaOnly)) {
        throw LambdaException.invalidParameter(kafkaOnly + " is not valid for a " + source + " event source; leave"
            + " it out.");
      }
    }
    refuse(given, List.of(), "ScalingConfig");
    sources.check(arn);
    Start start = start(b, source);
    int batchSize = b.batchSize() != null ? batchSize(b.batchSize()) : 100;
    int window = b.maximumBatchingWindowInSeconds() != null ? window(b.maximumBatchingWindowInSeconds()) : 0;
    int parallelization = b.parallelizationFactor() != null ? parallelization(b.parallelizationFactor()) : 1;
    int tumbling = b.tumblingWindowInSeconds() != null ? tumbling(b.tumblingWindowInSeconds()) : 0;
    oneBatchPerWindow(parallelization, tumbling);
    return store(function, mappingTags(b), new EventSourceMapping(null, null, arn, null, null, null, batchSize,
        window, start.position(), !Boolean.FALSE.equals(b.enabled()), null, null, null, 0, filters(b.filterCriteria()),
        responseTypes(b.functionResponseTypes()), onError(b.maximumRetryAttempts(), b.maximumRecordAgeInSeconds(),
            b.bisectBatchOnFunctionError(), b.destinationConfig(), EventSourceMapping.OnError.DEFAULT), null,
        start.atMillis(), parallelization, tumbling));
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
  private CompletionStage<HttpResponse> createQueueMapping(CreateEventSourceMapping b, Set<String> given,
                                                           String function) {
    String arn = b.eventSourceArn();
    if (!arn.matches("arn:aws[a-zA-Z-]*:sqs:.*")) {
      throw LambdaException.invalidParameter("EventSourceArn " + arn + " is not supported: this version of"
          + " Tributary reads SQS queues (arn:aws:sqs:<region>:<account>:<queue>), Kinesis streams"
          + " (arn:aws:kinesis:<region>:<account>:stream/<name>), DynamoDB streams"
          + " (arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>) and self-managed Kafka"
          + " (SelfManagedEventSource and Topics).");
    }
    for (String kafkaOnly : List.of("StartingPosition", "Topics", "SelfManagedEventSource",
        "SelfManagedKafkaEventSourceConfig")) {
      if (given.contains(kafkaOnly)) {
        throw LambdaException.invalidParameter(kafkaOnly + " is not valid for an SQS event source; leave it out.");
      }
    }
    sources.check(arn);
    refuse(given, STREAM_ONLY, KINESIS_ONLY, "StartingPositionTimestamp");
    int batchSize = b.batchSize() != null ? batchSize(b.batchSize()) : 10;
    int window = b.maximumBatchingWindowInSeconds() != null ? window(b.maximumBatchingWindowInSeconds()) : 0;
    queueBatching(batchSize, window);
    return store(function, mappingTags(b), new EventSourceMapping(null, null, arn, null, null, null, batchSize,
        window, null, !Boolean.FALSE.equals(b.enabled()), null, null, null, 0, filters(b.filterCriteria()),
        responseTypes(b.functionResponseTypes()), null, maximumConcurrency(b.scalingConfig()), null, null, null));
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
  private CompletionStage<HttpResponse> store(String function, Map<String, String> tags, EventSourceMapping given) {
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
        .thenCompose(exists -> ask(uuid, r -> new EventSourceMappingEntity.Create(mapping, tags, r)))
        .thenApply(m -> Responses.json(202, shape(m)));
  }

  /** {@code Tags} on create, under AWS's limits; kept by the mapping's entity, listed by ListTags on its ARN. */
  private static Map<String, String> mappingTags(CreateEventSourceMapping b) {
    return Validation.tags(b.tags(), "An event source mapping");
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
  private CompletionStage<HttpResponse> update(Call call) {
    String uuid = call.variable(0);
    UpdateEventSourceMapping b = call.read(UpdateEventSourceMapping.class);
    Set<String> given = JsonBody.givenMembers(b);
    refuseNotYet(given);
    Integer batchSize = b.batchSize() != null ? batchSize(b.batchSize()) : null;
    Integer window = b.maximumBatchingWindowInSeconds() != null ? window(b.maximumBatchingWindowInSeconds()) : null;
    Boolean enabled = b.enabled();
    List<String> filters = filters(b.filterCriteria());
    List<String> types = responseTypes(b.functionResponseTypes());
    Arns.FunctionRef function = b.functionName() != null ? arns.parseFunction(b.functionName()) : null;
    return ask(uuid, EventSourceMappingEntity.Get::new).thenCompose(current -> {
      if (current.isStream()) {
        refuse(given, current.isKafka() ? KINESIS_ONLY : List.of(), "ScalingConfig");
        if (current.isKafka() && types != null && !types.isEmpty()) {
          throw kafkaResponseTypes();
        }
      } else {
        refuse(given, STREAM_ONLY, KINESIS_ONLY);
        queueBatching(batchSize == null ? current.batchSize() : batchSize,
            window == null ? current.maximumBatchingWindowInSeconds() : window);
      }
      String functionArn = function == null ? null : arns.functionArn(function.name(), function.qualifier());
      EventSourceMapping.Changes changes;
      if (current.isStream()) {
        EventSourceMapping.OnError errors = onError(b.maximumRetryAttempts(), b.maximumRecordAgeInSeconds(),
            b.bisectBatchOnFunctionError(), b.destinationConfig(), current.errors());
        String onFailure = Objects.equals(errors.onFailure(), current.errors().onFailure()) ? null
            : errors.onFailure() == null ? EventSourceMapping.Changes.REMOVE : errors.onFailure();
        Integer parallelization = b.parallelizationFactor() != null ? parallelization(b.parallelizationFactor()) : null;
        Integer tumbling = b.tumblingWindowInSeconds() != null ? tumbling(b.tumblingWindowInSeconds()) : null;
        oneBatchPerWindow(parallelization == null ? current.parallelization() : parallelization,
            tumbling == null ? current.tumblingWindow() : tumbling);
        changes = new EventSourceMapping.Changes(functionArn, batchSize, window, enabled, filters, types,
            errors.maximumRetryAttempts(), errors.maximumRecordAgeInSeconds(), errors.bisectBatchOnFunctionError(),
            onFailure, null, parallelization, tumbling);
      } else {
        Integer concurrency = b.scalingConfig() != null
            ? Objects.requireNonNullElse(maximumConcurrency(b.scalingConfig()), 0) : null;
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
  private static EventSourceMapping.OnError onError(Integer retries, Integer age, Boolean bisect,
      DestinationConfig destinations, EventSourceMapping.OnError current) {
    if (retries != null && (retries < -1 || retries > 10_000)) {
      throw LambdaException.validation(retries, "maximumRetryAttempts", "Member must have value between -1 and"
          + " 10000");
    }
    if (age != null && (age < -1 || age > 604_800 || (age >= 0 && age < 60))) {
      throw LambdaException.validation(age, "maximumRecordAgeInSeconds", "Member must be -1 (no limit) or have value"
          + " between 60 and 604800");
    }
    String onFailure = current.onFailure();
    if (destinations != null) {
      if (JsonBody.given(destinations.onSuccess())) {
        throw LambdaException.invalidParameter("DestinationConfig.OnSuccess is not valid for an event source mapping:"
            + " AWS sends only the records of discarded batches, to OnFailure.");
      }
      onFailure = destinations.onFailure() == null ? null : destinations.onFailure().destination();
      if (onFailure != null && onFailure.isEmpty()) {
        onFailure = null;
      }
    }
    return new EventSourceMapping.OnError(retries == null ? current.maximumRetryAttempts() : retries,
        age == null ? current.maximumRecordAgeInSeconds() : age,
        bisect == null ? current.bisectBatchOnFunctionError() : bisect, onFailure);
  }

  /** {@code ScalingConfig.MaximumConcurrency} (2 to 1,000), or null when not given. */
  private static Integer maximumConcurrency(ScalingConfig scaling) {
    Integer max = scaling == null ? null : scaling.maximumConcurrency();
    if (max != null && (max < 2 || max > 1000)) {
      throw LambdaException.validation(max, "scalingConfig.maximumConcurrency", "Member must have value between 2"
          + " and 1000");
    }
    return max;
  }

  /** AWS's answer to a member its source does not take. */
  private static void refuse(Set<String> given, List<String> members, List<String> more, String... others) {
    for (List<String> group : List.of(members, more, List.of(others))) {
      for (String member : group) {
        if (given.contains(member)) {
          throw LambdaException.invalidParameter("Unsupported " + member + " parameter for given event source mapping"
              + " type.");
        }
      }
    }
  }

  private static void refuse(Set<String> given, List<String> members, String... others) {
    refuse(given, members, List.of(), others);
  }

  private static LambdaException kafkaResponseTypes() {
    return LambdaException.invalidParameter("FunctionResponseTypes is not valid for a Kafka event source in this"
        + " version of Tributary (it takes partial batch responses from SQS mappings); leave it out.");
  }

  private CompletionStage<HttpResponse> list(String function, String source, Map<String, String> query) {
    Paging.Request request = Paging.request(query, 10_000);
    String functionArn = function == null ? null : arns.functionArn(arns.parseFunction(function).name(),
        arns.parseFunction(function).qualifier());
    return registry.all().thenApply(all -> {
      List<EventSourceMapping> matching = all.stream()
          .filter(m -> functionArn == null || m.functionArn().equals(functionArn))
          .filter(m -> source == null || source.equals(m.eventSourceArn()))
          .toList();
      Paging.Page<EventSourceMapping> page = Paging.page(matching, EventSourceMapping::uuid, request);
      return Responses.json(200, new MappingList(page.items().stream().map(this::shape).toList(),
          page.nextMarker()));
    });
  }

  /** {@code FilterCriteria.Filters[].Pattern}, checked by the same engine that applies them; null when absent. */
  private List<String> filters(FilterCriteria criteria) {
    if (criteria == null) {
      return null;
    }
    List<String> patterns = new ArrayList<>();
    for (Filter filter : criteria.filters() == null ? List.<Filter>of() : criteria.filters()) {
      patterns.add(filter.pattern());
    }
    sources.checkFilters(patterns);
    return patterns;
  }

  /** {@code FunctionResponseTypes}: empty, or ReportBatchItemFailures; null when absent. */
  private static List<String> responseTypes(List<String> types) {
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

  private static void refuseNotYet(Set<String> given) {
    for (String member : NOT_YET) {
      if (given.contains(member)) {
        throw LambdaException.invalidParameter(member + " is not supported yet by this version of Tributary's event"
            + " source mappings; leave it out.");
      }
    }
  }

  private static String required(String value, String member) {
    if (value == null) {
      throw LambdaException.invalidParameter(member + " is required.");
    }
    return value;
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

  /** Whether {@code uuid} has the shape of the UUIDs this node gives mappings (lower-case hex). */
  static boolean isUuid(String uuid) {
    return UUID_SHAPE.matcher(uuid).matches();
  }

  private CompletionStage<EventSourceMapping> ask(String uuid,
      Function<ActorRef<Reply<EventSourceMapping>>, EventSourceMappingEntity.Command> command) {
    if (!isUuid(uuid)) {
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
            List<Shard> shards = new ArrayList<>();
            asks.stream().map(CompletableFuture::join).filter(Objects::nonNull)
                .forEach(node -> node.shards().stream()
                    .sorted(Comparator.comparing(PollerStats.Shard::shard))
                    .forEach(s -> shards.add(new Shard(s.shard(), node.node(), s.recordsProcessed(),
                        s.recordsDiscarded(), s.lastCheckpoint(), s.lag(), s.lagMillis(), s.lastError(),
                        s.lastError() == null ? null
                            : Instant.ofEpochMilli(s.lastErrorAtMillis()).toString()))));
            return Responses.json(200, new MappingShards(uuid, mapping.state(), mapping.lastProcessingResult(),
                asks.size(), shards));
          });
        }));
  }

  /** AWS's EventSourceMappingConfiguration. */
  EventSourceMappingConfiguration shape(EventSourceMapping m) {
    EventSourceMapping.OnError errors = m.errors();
    return new EventSourceMappingConfiguration(m.uuid(),
        arns.eventSourceMappingArn(m.uuid()),
        m.startingPosition(),
        m.startingPositionTimestampMillis() == null ? null
            : BigDecimal.valueOf(m.startingPositionTimestampMillis()).movePointLeft(3),
        m.batchSize(), m.maximumBatchingWindowInSeconds(), m.eventSourceArn(), m.functionArn(),
        BigDecimal.valueOf(m.lastModifiedMillis()).movePointLeft(3), m.lastProcessingResult(), m.state(),
        m.stateTransitionReason(),
        m.filterPatterns().isEmpty() ? null
            : new FilterCriteria(m.filterPatterns().stream().map(Filter::new).toList()),
        m.isKafka() ? null : m.functionResponseTypes(),
        m.isKafka() || m.maximumConcurrency() == null ? null : new ScalingConfig(m.maximumConcurrency()),
        m.isStream() ? errors.maximumRetryAttempts() : null,
        m.isStream() ? errors.maximumRecordAgeInSeconds() : null,
        m.isStream() ? errors.bisectBatchOnFunctionError() : null,
        m.isStream() ? new DestinationConfig(null, new OnFailure(errors.onFailure())) : null,
        m.placesShards() ? m.parallelization() : null,
        m.placesShards() ? m.tumblingWindow() : null,
        m.isKafka() ? m.topics() : null,
        m.isKafka() ? new SelfManagedEventSource(new Endpoints(m.bootstrapServers())) : null,
        m.isKafka() ? new SelfManagedKafkaEventSourceConfig(m.consumerGroupId() == null ? m.uuid()
            : m.consumerGroupId()) : null);
  }
}
