package io.tributary.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.api.Arns;
import io.tributary.api.EventSource;
import io.tributary.api.EventSourceMapping;
import io.tributary.api.LambdaException;
import io.tributary.cluster.EventSourceMappingEntity;
import io.tributary.cluster.FunctionEntity;
import io.tributary.cluster.MappingPollers;
import io.tributary.cluster.PollerStats;
import io.tributary.cluster.store.MappingRegistry;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
 * AWS's paths, shapes and status codes (202 for create, update and delete). Sources so far:
 * self-managed Kafka and SQS queues; members for other sources or for features not built yet are
 * refused with a 400 that says so, never accepted and ignored.
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
  private static final List<String> NOT_YET = List.of("StartingPositionTimestamp", "DestinationConfig", "ScalingConfig", "MaximumRetryAttempts",
      "BisectBatchOnFunctionError", "MaximumRecordAgeInSeconds", "ParallelizationFactor", "TumblingWindowInSeconds",
      "Queues", "SourceAccessConfigurations", "KMSKeyArn", "MetricsConfig", "ProvisionedPollerConfig",
      "AmazonManagedKafkaEventSourceConfig", "DocumentDBEventSourceConfig");
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
    String position = b.string("StartingPosition");
    if (position == null) {
      throw LambdaException.invalidParameter("StartingPosition is required for a Kafka source: TRIM_HORIZON or"
          + " LATEST.");
    }
    if (!Set.of("TRIM_HORIZON", "LATEST").contains(position)) {
      throw LambdaException.invalidParameter("StartingPosition " + position + " is not supported for a Kafka source:"
          + " use TRIM_HORIZON or LATEST.");
    }
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
      throw LambdaException.invalidParameter("FunctionResponseTypes is not valid for a Kafka event source (AWS takes"
          + " partial batch responses from SQS, Kinesis and DynamoDB Streams mappings).");
    }
    return store(function, null, brokers, topics, group, batchSize, window, position, enabled, filters(b), null);
  }

  /** An SQS queue: no starting position, batches of 10 by default, up to 10,000 with a batching window. */
  private CompletionStage<HttpResponse> createQueueMapping(JsonBody b, String function) {
    String arn = b.string("EventSourceArn");
    if (!arn.matches("arn:aws[a-zA-Z-]*:sqs:.*")) {
      throw LambdaException.invalidParameter("EventSourceArn " + arn + " is not supported: this version of"
          + " Tributary reads SQS queues (arn:aws:sqs:<region>:<account>:<queue>) and self-managed Kafka"
          + " (SelfManagedEventSource and Topics).");
    }
    for (String kafkaOnly : List.of("StartingPosition", "Topics", "SelfManagedEventSource",
        "SelfManagedKafkaEventSourceConfig")) {
      if (b.has(kafkaOnly)) {
        throw LambdaException.invalidParameter(kafkaOnly + " is not valid for an SQS event source; leave it out.");
      }
    }
    sources.check(arn);
    int batchSize = b.has("BatchSize") ? batchSize(b.integer("BatchSize")) : 10;
    int window = b.has("MaximumBatchingWindowInSeconds") ? window(b.integer("MaximumBatchingWindowInSeconds")) : 0;
    if (batchSize > 10 && window < 1) {
      throw LambdaException.invalidParameter("Maximum batch window in seconds must be greater than 0 if maximum"
          + " batch size is greater than 10");
    }
    return store(function, arn, null, null, null, batchSize, window, null, !Boolean.FALSE.equals(b.bool("Enabled")),
        filters(b), responseTypes(b));
  }

  /** Checks that the function exists, then creates the mapping. */
  private CompletionStage<HttpResponse> store(String function, String eventSourceArn, List<String> brokers,
                                              List<String> topics, String consumerGroup, int batchSize, int window,
                                              String position, boolean enabled, List<String> filters,
                                              List<String> responseTypes) {
    Arns.FunctionRef ref = arns.parseFunction(function);
    String uuid = UUID.randomUUID().toString();
    return functions.<FunctionEntity.FunctionView>ask(ref.name(),
            r -> new FunctionEntity.Get(ref.qualifier(), r))
        .thenCompose(view -> ask(uuid, r -> new EventSourceMappingEntity.Create(new EventSourceMapping(uuid,
            arns.functionArn(ref.name(), ref.qualifier()), eventSourceArn, brokers, topics, consumerGroup, batchSize,
            window, position, enabled, enabled ? EventSourceMapping.CREATING : EventSourceMapping.DISABLED,
            "USER_INITIATED", EventSourceMapping.NO_RECORDS, clock.millis(), filters, responseTypes), r)))
        .thenApply(m -> Responses.json(202, shape(m)));
  }

  private CompletionStage<HttpResponse> update(String uuid, byte[] body) {
    JsonBody b = JsonBody.parse(body, UPDATE_FIELDS);
    refuseNotYet(b);
    if (b.has("FunctionName")) {
      throw LambdaException.invalidParameter("Changing FunctionName of a mapping is not supported yet: delete the"
          + " mapping and create one for the other function.");
    }
    Integer batchSize = b.has("BatchSize") ? batchSize(b.integer("BatchSize")) : null;
    Integer window = b.has("MaximumBatchingWindowInSeconds") ? window(b.integer("MaximumBatchingWindowInSeconds"))
        : null;
    Boolean enabled = b.bool("Enabled");
    List<String> filters = filters(b);
    List<String> types = responseTypes(b);
    return ask(uuid, r -> new EventSourceMappingEntity.Update(batchSize, window, enabled, filters, types, r))
        .thenApply(m -> Responses.json(202, shape(m)));
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
    if (size == null || size < 1 || size > 10_000) {
      throw LambdaException.validation(size, "batchSize", "Member must have value between 1 and 10000");
    }
    return size;
  }

  private static int window(Integer seconds) {
    if (seconds == null || seconds < 0 || seconds > 300) {
      throw LambdaException.validation(seconds, "maximumBatchingWindowInSeconds",
          "Member must have value between 0 and 300");
    }
    return seconds;
  }

  private CompletionStage<EventSourceMapping> ask(String uuid,
      Function<ActorRef<FunctionEntity.Reply<EventSourceMapping>>, EventSourceMappingEntity.Command> command) {
    if (!UUID_SHAPE.matcher(uuid).matches()) {
      return CompletableFuture.failedFuture(LambdaException.notFound("The resource you requested does not exist."
          + " (Event source mapping " + uuid + ")"));
    }
    return functions.ask(EventSourceMappingEntity.TYPE_KEY, uuid, "Event source mapping " + uuid, command);
  }

  /**
   * Tributary's operations view of a mapping: its state, and per shard, from every node that reads
   * it, the records processed, the last checkpoint, the lag and the last error.
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
                      shard.put("LastCheckpoint", s.lastCheckpoint());
                      if (s.lag() != null) {
                        shard.put("Lag", s.lag());
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
