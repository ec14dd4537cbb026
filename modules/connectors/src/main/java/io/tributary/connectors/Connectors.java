package io.tributary.connectors;

import io.tributary.api.Destination;
import io.tributary.api.EventSource;
import io.tributary.api.EventSourceMapping;
import io.tributary.api.LambdaException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkSystemSetting;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsAsyncClient;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;

/**
 * The node's {@link Destination.Resolver}: SQS-compatible queues by ARN, Kafka topics as
 * {@code kafka://[cluster/]topic}, webhooks as {@code http(s)://} URLs. One client per queue
 * endpoint and one producer per Kafka cluster, made on first use and shared. Also the node's
 * {@link EventSource.Factory}: a Kafka consumer per poller.
 */
public final class Connectors implements Destination.Resolver, EventSource.Factory {
  private static final Logger log = LoggerFactory.getLogger(Connectors.class);
  private static final Pattern SQS_ARN =
      Pattern.compile("arn:aws[a-zA-Z-]*:sqs:([a-z0-9-]+):(\\d{12}):([A-Za-z0-9_-]{1,80}(\\.fifo)?)");
  private static final Pattern KAFKA = Pattern.compile("kafka://(?:([A-Za-z0-9_-]+)/)?([A-Za-z0-9._-]{1,249})");
  private static final Pattern DYNAMODB_STREAM_ARN = Pattern.compile(
      "arn:aws[a-zA-Z-]*:dynamodb:([a-z0-9-]+):(\\d{12}):table/([a-zA-Z0-9_.-]{3,255})/stream/(.+)");
  private static final Pattern KINESIS_ARN =
      Pattern.compile("arn:aws[a-zA-Z-]*:kinesis:([a-z0-9-]+):(\\d{12}):stream/([a-zA-Z0-9_.-]{1,128})");
  public static final String DEFAULT_KAFKA_CLUSTER = "default";

  /**
   * {@code sqsEndpoints}: queue endpoint by {@code region} or {@code region/account} (the more
   * specific wins); {@code kafkaClusters}: producer properties by cluster name, each with
   * {@code bootstrap.servers}; {@code sendTimeout}: how long one send may take before it counts as
   * failed (and is retried by the caller).
   */
  public record Settings(Map<String, String> sqsEndpoints, String sqsAccessKeyId, String sqsSecretAccessKey,
                         Map<String, Map<String, String>> kafkaClusters, Duration sendTimeout,
                         Map<String, String> kinesisEndpoints, Map<String, String> dynamodbEndpoints) {
    public Settings {
      sqsEndpoints = Map.copyOf(sqsEndpoints);
      kafkaClusters = Map.copyOf(kafkaClusters);
      kinesisEndpoints = Map.copyOf(kinesisEndpoints);
      dynamodbEndpoints = Map.copyOf(dynamodbEndpoints);
    }
  }

  private final Settings settings;
  private final Map<String, Destination> destinations = new ConcurrentHashMap<>();
  private final Map<String, SqsAsyncClient> sqsClients = new ConcurrentHashMap<>();
  private final Map<String, KinesisAsyncClient> kinesisClients = new ConcurrentHashMap<>();
  private final Map<String, DynamoDbStreamsAsyncClient> dynamodbClients = new ConcurrentHashMap<>();
  private final Map<String, Producer<byte[], byte[]>> producers = new ConcurrentHashMap<>();
  private final ExecutorService kafkaSends = Executors.newFixedThreadPool(2, r -> {
    Thread t = new Thread(r, "tributary-kafka-destination");
    t.setDaemon(true);
    return t;
  });
  private final HttpClient http;

  public Connectors(Settings settings) {
    this.settings = settings;
    this.http = HttpClient.newBuilder().connectTimeout(settings.sendTimeout())
        .followRedirects(HttpClient.Redirect.NEVER).build();
  }

  @Override
  public Destination resolve(String target) {
    Destination known = destinations.get(target);
    if (known != null) {
      return known;
    }
    Destination made;
    if (target.startsWith("arn:")) {
      made = sqs(target);
    } else if (target.startsWith("kafka:")) {
      made = kafka(target);
    } else if (target.startsWith("http://") || target.startsWith("https://")) {
      made = webhook(target);
    } else {
      throw LambdaException.invalidParameter("The destination " + target + " is not supported: use a function or SQS"
          + " queue ARN, kafka://<topic> or an http(s):// URL.");
    }
    Destination raced = destinations.putIfAbsent(target, made);
    return raced != null ? raced : made;
  }

  private Destination sqs(String arn) {
    Queue queue = queue(arn, "The destination " + arn);
    if (queue.fifo()) {
      throw LambdaException.invalidParameter("The destination " + arn + " is a FIFO queue; as in AWS Lambda,"
          + " destinations and dead-letter queues must be standard queues.");
    }
    return new SqsDestination(queue.client(), queue.url());
  }

  /** An SQS queue as this node reaches it. */
  record Queue(SqsAsyncClient client, String url, String region, boolean fifo) {}

  /** The queue {@code arn} names; {@code what} starts the message of a refusal. */
  Queue queue(String arn, String what) {
    Matcher m = SQS_ARN.matcher(arn);
    if (!m.matches()) {
      throw LambdaException.invalidParameter(what + " is not supported: of ARNs, only those of functions"
          + " (arn:aws:lambda:…) and SQS queues (arn:aws:sqs:<region>:<account>:<queue>) are.");
    }
    String region = m.group(1);
    String account = m.group(2);
    String endpoint = settings.sqsEndpoints().getOrDefault(region + "/" + account, settings.sqsEndpoints().get(region));
    if (endpoint == null) {
      throw LambdaException.invalidParameter(what + " cannot be reached: no SQS endpoint is configured for region "
          + region + " (tributary.destinations.sqs.endpoints).");
    }
    String base = endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint;
    SqsAsyncClient client = sqsClients.computeIfAbsent(base + "|" + region, k -> SqsAsyncClient.builder()
        .endpointOverride(URI.create(base)).region(Region.of(region))
        .credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create(settings.sqsAccessKeyId(), settings.sqsSecretAccessKey())))
        .httpClientBuilder(NettyNioAsyncHttpClient.builder().maxConcurrency(64))
        .overrideConfiguration(ClientOverrideConfiguration.builder().apiCallTimeout(settings.sendTimeout()).build())
        .build());
    return new Queue(client, base + "/" + account + "/" + m.group(3), region, m.group(4) != null);
  }

  private Destination kafka(String target) {
    Matcher m = KAFKA.matcher(target);
    if (!m.matches()) {
      throw LambdaException.invalidParameter("The destination " + target + " is not a Kafka topic: write"
          + " kafka://<topic> or kafka://<cluster>/<topic> (topic: letters, digits, '.', '_', '-').");
    }
    String cluster = m.group(1) == null ? DEFAULT_KAFKA_CLUSTER : m.group(1);
    Map<String, String> properties = settings.kafkaClusters().get(cluster);
    if (properties == null || properties.getOrDefault(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "").isBlank()) {
      throw LambdaException.invalidParameter("The destination " + target + " cannot be reached: no Kafka cluster "
          + cluster + " is configured (tributary.destinations.kafka.clusters." + cluster + ".bootstrap.servers).");
    }
    return new KafkaDestination(producers.computeIfAbsent(cluster, c -> producer(properties)), m.group(2), kafkaSends);
  }

  private Producer<byte[], byte[]> producer(Map<String, String> properties) {
    Properties p = new Properties();
    long timeout = settings.sendTimeout().toMillis();
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "2");
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, String.valueOf(timeout));
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, String.valueOf(timeout));
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, String.valueOf(2 * timeout));
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(8 << 20));
    p.putAll(properties);
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  private Destination webhook(String target) {
    URI uri;
    try {
      uri = new URI(target);
    } catch (URISyntaxException e) {
      throw LambdaException.invalidParameter("The destination " + target + " is not a valid URL: " + e.getReason());
    }
    if (uri.getHost() == null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
      throw LambdaException.invalidParameter("The destination " + target + " is not a usable webhook URL: it needs a"
          + " host, and no fragment or user:password part.");
    }
    return new WebhookDestination(http, uri, settings.sendTimeout());
  }

  /** A Kinesis stream as this node reaches it: the client of its region's endpoint. */
  private record Stream(KinesisAsyncClient client, String region) {}

  private Stream stream(String arn, String what) {
    Matcher m = KINESIS_ARN.matcher(arn);
    if (!m.matches()) {
      throw LambdaException.invalidParameter(what + " is not a Kinesis stream ARN"
          + " (arn:aws:kinesis:<region>:<account>:stream/<name>).");
    }
    String region = m.group(1);
    String endpoint = settings.kinesisEndpoints().getOrDefault(region + "/" + m.group(2),
        settings.kinesisEndpoints().get(region));
    if (endpoint == null) {
      throw LambdaException.invalidParameter(what + " cannot be reached: no Kinesis endpoint is configured for"
          + " region " + region + " (tributary.sources.kinesis.endpoints).");
    }
    // Kinesis-compatible servers speak HTTP/1.1 (the SDK's async Kinesis client would ask for HTTP/2)
    // and JSON (kinesalite answers CBOR requests in a shape the SDK cannot read; AWS takes both).
    System.setProperty(SdkSystemSetting.CBOR_ENABLED.property(), "false");
    KinesisAsyncClient client = kinesisClients.computeIfAbsent(endpoint + "|" + region, k -> KinesisAsyncClient.builder()
        .endpointOverride(URI.create(endpoint)).region(Region.of(region))
        .credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create(settings.sqsAccessKeyId(), settings.sqsSecretAccessKey())))
        .httpClientBuilder(NettyNioAsyncHttpClient.builder().protocol(Protocol.HTTP1_1).maxConcurrency(64))
        .build());
    return new Stream(client, region);
  }

  /** A DynamoDB stream as this node reaches it: the Streams client of its region's endpoint. */
  private record TableStream(DynamoDbStreamsAsyncClient client, String region) {}

  private TableStream tableStream(String arn, String what) {
    Matcher m = DYNAMODB_STREAM_ARN.matcher(arn);
    if (!m.matches()) {
      throw LambdaException.invalidParameter(what + " is not a DynamoDB stream ARN"
          + " (arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>).");
    }
    String region = m.group(1);
    String endpoint = settings.dynamodbEndpoints().getOrDefault(region + "/" + m.group(2),
        settings.dynamodbEndpoints().get(region));
    if (endpoint == null) {
      throw LambdaException.invalidParameter(what + " cannot be reached: no DynamoDB endpoint is configured for"
          + " region " + region + " (tributary.sources.dynamodb.endpoints).");
    }
    DynamoDbStreamsAsyncClient client = dynamodbClients.computeIfAbsent(endpoint + "|" + region,
        k -> DynamoDbStreamsAsyncClient.builder().endpointOverride(URI.create(endpoint))
            .region(Region.of(region.equals("ddblocal") ? "us-east-1" : region))
            .credentialsProvider(StaticCredentialsProvider.create(
                AwsBasicCredentials.create(settings.sqsAccessKeyId(), settings.sqsSecretAccessKey())))
            .httpClientBuilder(NettyNioAsyncHttpClient.builder().maxConcurrency(64)).build());
    return new TableStream(client, region);
  }

  /** The stream's shards: ListShards (Kinesis) or DescribeStream (DynamoDB), every page. */
  @Override
  public List<EventSource.Shard> shards(EventSourceMapping mapping) {
    if (mapping.isDynamoDbStream()) {
      return tableShards(mapping);
    }
    Stream stream = stream(mapping.eventSourceArn(), "The event source " + mapping.eventSourceArn());
    List<EventSource.Shard> shards = new java.util.ArrayList<>();
    String next = null;
    do {
      String token = next;
      var page = ShardIteratorSource.await(token == null
          ? stream.client().listShards(b -> b.streamName(KinesisEventSource.streamName(mapping.eventSourceArn())))
          : stream.client().listShards(b -> b.nextToken(token)), "ListShards " + mapping.eventSourceArn());
      for (var shard : page.shards()) {
        List<String> parents = new java.util.ArrayList<>();
        if (shard.parentShardId() != null) {
          parents.add(shard.parentShardId());
        }
        if (shard.adjacentParentShardId() != null) {
          parents.add(shard.adjacentParentShardId());
        }
        shards.add(new EventSource.Shard(shard.shardId(), parents,
            shard.sequenceNumberRange().endingSequenceNumber() != null));
      }
      next = page.nextToken();
    } while (next != null);
    return shards;
  }

  private List<EventSource.Shard> tableShards(EventSourceMapping mapping) {
    TableStream stream = tableStream(mapping.eventSourceArn(), "The event source " + mapping.eventSourceArn());
    List<EventSource.Shard> shards = new java.util.ArrayList<>();
    String after = null;
    do {
      String start = after;
      var description = ShardIteratorSource.await(stream.client().describeStream(b -> b
          .streamArn(mapping.eventSourceArn()).exclusiveStartShardId(start)), "DescribeStream "
          + mapping.eventSourceArn()).streamDescription();
      for (var shard : description.shards()) {
        shards.add(new EventSource.Shard(shard.shardId(),
            shard.parentShardId() == null ? List.of() : List.of(shard.parentShardId()),
            shard.sequenceNumberRange().endingSequenceNumber() != null));
      }
      after = description.lastEvaluatedShardId();
    } while (after != null);
    return shards;
  }

  @Override
  public EventSource openShard(EventSourceMapping mapping, String shard, String afterPosition) {
    if (mapping.isDynamoDbStream()) {
      TableStream stream = tableStream(mapping.eventSourceArn(), "The event source " + mapping.eventSourceArn());
      return new DynamoDbStreamEventSource(stream.client(), mapping, shard, afterPosition, stream.region(),
          RecordFilter.of(mapping.filterPatterns()));
    }
    Stream stream = stream(mapping.eventSourceArn(), "The event source " + mapping.eventSourceArn());
    return new KinesisEventSource(stream.client(), mapping, shard, afterPosition, stream.region(),
        RecordFilter.of(mapping.filterPatterns()));
  }

  @Override
  public EventSource open(EventSourceMapping mapping) {
    if (mapping.isKafka()) {
      return new KafkaEventSource(mapping, Map.of(), RecordFilter.of(mapping.filterPatterns()));
    }
    Queue queue = queue(mapping.eventSourceArn(), "The event source " + mapping.eventSourceArn());
    return new SqsEventSource(queue.client(), queue.url(), mapping.eventSourceArn(), queue.region(),
        mapping.maximumBatchingWindowInSeconds(), RecordFilter.of(mapping.filterPatterns()));
  }

  /**
   * AWS's choices for a mapping: an SQS queue, or for a Kafka mapping {@code kafka://<topic>} on
   * the cluster it reads (one producer per set of bootstrap servers), never the topic it reads.
   */
  @Override
  public Destination failureDestination(EventSourceMapping mapping) {
    String target = mapping.errors().onFailure();
    if (target.startsWith("kafka:")) {
      Matcher m = KAFKA.matcher(target);
      if (!mapping.isKafka() || !m.matches() || m.group(1) != null) {
        throw LambdaException.invalidParameter("The OnFailure destination " + target + " is not valid: a Kafka"
            + " mapping may name kafka://<topic>, a topic of the cluster it reads (as in AWS).");
      }
      if (mapping.topics().contains(m.group(2))) {
        throw LambdaException.invalidParameter("The OnFailure destination " + target + " is the topic the mapping"
            + " reads: failed records would come back to the function. Name another topic.");
      }
      String servers = String.join(",", mapping.bootstrapServers());
      return destinations.computeIfAbsent("kafka-source://" + servers + "/" + m.group(2), k -> new KafkaDestination(
          producers.computeIfAbsent("servers:" + servers,
              c -> producer(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers))), m.group(2), kafkaSends));
    }
    if (!target.matches("arn:aws[a-zA-Z-]*:sqs:.*")) {
      throw LambdaException.invalidParameter("The OnFailure destination " + target + " is not supported: an event"
          + " source mapping sends the records of discarded batches to an SQS queue (arn:aws:sqs:<region>:<account>:"
          + "<queue>)" + (mapping.isKafka() ? " or to kafka://<topic>" : "") + "; SNS topics and S3 buckets are not"
          + " available in Tributary.");
    }
    return resolve(target);
  }

  @Override
  public void checkFilters(List<String> patterns) {
    RecordFilter.check(patterns);
  }

  @Override
  public void check(String eventSourceArn) {
    if (KINESIS_ARN.matcher(eventSourceArn).matches()) {
      stream(eventSourceArn, "The event source " + eventSourceArn);
    } else if (eventSourceArn.matches("arn:aws[a-zA-Z-]*:dynamodb:.*")) {
      tableStream(eventSourceArn, "The event source " + eventSourceArn);
    } else {
      queue(eventSourceArn, "The event source " + eventSourceArn);
    }
  }

  @Override
  public void close() {
    Map<String, Producer<byte[], byte[]>> open = new HashMap<>(producers);
    producers.clear();
    open.values().forEach(p -> p.close(Duration.ofSeconds(5)));
    sqsClients.values().forEach(SqsAsyncClient::close);
    sqsClients.clear();
    kinesisClients.values().forEach(KinesisAsyncClient::close);
    kinesisClients.clear();
    dynamodbClients.values().forEach(DynamoDbStreamsAsyncClient::close);
    dynamodbClients.clear();
    kafkaSends.shutdownNow();
    log.debug("Destination clients closed ({} Kafka producers)", open.size());
  }
}
