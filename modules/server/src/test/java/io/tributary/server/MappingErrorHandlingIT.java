package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.CreateEventSourceMappingRequest;
import software.amazon.awssdk.services.lambda.model.EventSourcePosition;
import software.amazon.awssdk.services.lambda.model.GetEventSourceMappingResponse;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * What a mapping does when its function fails or goes away, against the real Kafka broker and
 * ElasticMQ that deploy/test.sh starts: a poison record bisected out and sent to an SQS queue, then
 * to a Kafka topic, as AWS shapes them; records past their maximum age discarded unseen;
 * AT_TIMESTAMP; a queue that does not exist yet; a mapping moved to another function, then
 * disabled when that one is deleted; and ScalingConfig's cap on concurrent batches.
 */
class MappingErrorHandlingIT {

  private static final String KEYSPACE = "it_mapping_errors";
  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  private static final String KAFKA = System.getProperty("tributary.it.kafka", "127.0.0.1:9192");
  private static final String SQS_ENDPOINT = System.getProperty("tributary.it.sqs", "http://127.0.0.1:9424");
  private static final String RUN = Long.toHexString(System.nanoTime());
  private static final String QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:";
  private static final Map<String, Object> SETTINGS = Map.of("tributary.mappings.refresh", "500ms",
      "tributary.mappings.backoff-max", "2s", "tributary.destinations.sqs.endpoints.us-east-1", SQS_ENDPOINT);
  private static final Path DIR = Path.of("target", "mapping-errors-it").toAbsolutePath();
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Writes each record's value on a line of $OUT, unless the batch holds a value starting "poison". */
  private static final String KAFKA_HANDLER = """
      import base64, os
      def handler(event, context):
          assert event["eventSource"] == "aws:kafka"
          values = [base64.b64decode(r["value"]).decode() for rs in event["records"].values() for r in rs]
          if any(v.startswith("poison") for v in values):
              raise Exception("poison in a batch of %d" % len(values))
          with open(os.environ["OUT"], "a") as f:
              f.write("".join(v + "\\n" for v in values))
      """;
  /** Writes each message body on a line of $OUT, with the time it started and ended, after $SLEEP seconds. */
  private static final String QUEUE_HANDLER = """
      import os, time
      def handler(event, context):
          start = time.time()
          time.sleep(float(os.environ.get("SLEEP", "0")))
          with open(os.environ["OUT"], "a") as f:
              for r in event["Records"]:
                  f.write("%s %f %f\\n" % (r["body"], start, time.time()))
      """;
  private static TestNode node;
  private static LambdaClient lambda;
  private static SqsClient sqs;
  private static KafkaProducer<String, String> producer;
  private static Admin admin;

  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension(KEYSPACE, SETTINGS);

  @BeforeAll
  static void start() throws Exception {
    Files.createDirectories(DIR);
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA);
    admin = NODE.closeAfter(Admin.create(p));
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    producer = NODE.closeAfter(new KafkaProducer<>(p, new StringSerializer(), new StringSerializer()));
    sqs = NODE.closeAfter(SqsClient.builder().endpointOverride(URI.create(SQS_ENDPOINT)).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x"))).build());
    node = NODE.node();
    lambda = NODE.lambda();
  }

  private static Path function(String name, String code, Map<String, String> env) throws IOException {
    Path out = DIR.resolve(name + ".log");
    Files.deleteIfExists(out);
    Map<String, String> variables = new java.util.HashMap<>(env);
    variables.put("OUT", out.toString());
    lambda.createFunction(b -> b.functionName(name).runtime("python3.11").role(ROLE).handler("app.handler")
        .timeout(30).environment(e -> e.variables(variables))
        .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of(Map.of("app.py", code))))));
    return out;
  }

  private static String topic(String name) throws Exception {
    String topic = name + "-" + RUN;
    admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
    return topic;
  }

  private static void produce(String topic, String key, String value, long timestamp) throws Exception {
    ProducerRecord<String, String> record = new ProducerRecord<>(topic, 0, timestamp, key, value);
    record.headers().add("origin", "it".getBytes(StandardCharsets.UTF_8));
    producer.send(record).get();
  }

  private static CreateEventSourceMappingRequest.Builder kafka(CreateEventSourceMappingRequest.Builder b,
                                                               String function, String topic) {
    return b.functionName(function).topics(topic).startingPosition(EventSourcePosition.TRIM_HORIZON)
        .selfManagedEventSource(s -> s.endpointsWithStrings(Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of(KAFKA))));
  }

  private static List<String> lines(Path out) {
    try {
      return Files.exists(out) ? Files.readAllLines(out) : List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static <T> T await(Supplier<T> read, java.util.function.Predicate<T> done) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    T value = read.get();
    while (!done.test(value) && System.nanoTime() < deadline) {
      NodeProcess.sleep(200);
      value = read.get();
    }
    return value;
  }

  private static String queue(String name) {
    return sqs.createQueue(b -> b.queueName(name + "-" + RUN).attributesWithStrings(Map.of("VisibilityTimeout", "2")))
        .queueUrl();
  }

  /** What arrives in the queue within 60 s, up to {@code count} messages, each deleted once read. */
  private static List<JsonNode> received(String url, int count) throws IOException {
    List<JsonNode> bodies = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (bodies.size() < count && System.nanoTime() < deadline) {
      for (Message m : sqs.receiveMessage(b -> b.queueUrl(url).waitTimeSeconds(1).maxNumberOfMessages(10))
          .messages()) {
        bodies.add(JSON.readTree(m.body()));
        sqs.deleteMessage(b -> b.queueUrl(url).receiptHandle(m.receiptHandle()));
      }
    }
    return bodies;
  }

  private static JsonNode shards(String uuid) throws Exception {
    return JSON.readTree(node.signedGet("/tributary/event-source-mappings/" + uuid + "/shards")).get("Shards");
  }

  @Test
  void aPoisonRecordIsBisectedOutAndItsRecordGoesToTheOnFailureQueueThenToATopic() throws Exception {
    String topic = topic("it-poison");
    Path out = function("kafka-checker", KAFKA_HANDLER, Map.of());
    String failures = queue("it-failures");
    for (int i = 0; i < 10; i++) {
      produce(topic, "k-" + i, (i == 5 ? "poison-" : "good-") + i, System.currentTimeMillis());
    }
    var created = lambda.createEventSourceMapping(b -> kafka(b, "kafka-checker", topic).batchSize(10)
        .bisectBatchOnFunctionError(true).maximumRetryAttempts(1)
        .destinationConfig(d -> d.onFailure(f -> f.destination(QUEUE_ARN + "it-failures-" + RUN))));
    assertEquals(1, created.maximumRetryAttempts());
    assertTrue(created.bisectBatchOnFunctionError());
    assertEquals(-1, created.maximumRecordAgeInSeconds());
    assertEquals(QUEUE_ARN + "it-failures-" + RUN, created.destinationConfig().onFailure().destination());

    List<String> good = List.of("good-0", "good-1", "good-2", "good-3", "good-4", "good-6", "good-7", "good-8",
        "good-9");
    assertEquals(good, await(() -> lines(out), l -> l.size() >= 9),
        "every good record once, in offset order, around the poison one");
    List<JsonNode> records = received(failures, 1);
    assertEquals(1, records.size(), "one failure record: " + records);
    JsonNode record = records.get(0);
    assertEquals("RetryAttemptsExhausted", record.at("/requestContext/condition").asText(), record.toString());
    assertEquals("arn:aws:lambda:us-east-1:000000000000:function:kafka-checker",
        record.at("/requestContext/functionArn").asText());
    assertEquals(2, record.at("/requestContext/approximateInvokeCount").asInt(), "the first invoke and 1 retry");
    assertEquals("Unhandled", record.at("/responseContext/functionError").asText());
    assertEquals("$LATEST", record.at("/responseContext/executedVersion").asText());
    assertEquals("1.0", record.get("version").asText());
    JsonNode info = record.get("KafkaBatchInfo");
    assertEquals(1, info.get("batchSize").asInt(), "bisected down to the poison record alone");
    assertEquals(KAFKA, info.get("bootstrapServers").asText());
    assertEquals("5", info.at("/recordsInfo/" + topic + "-0/firstRecordOffset").asText(), info.toString());
    assertEquals("5", info.at("/recordsInfo/" + topic + "-0/lastRecordOffset").asText());
    assertFalse(record.has("requestPayload"), "metadata only, as AWS sends to a queue");
    JsonNode shard = await(() -> {
      try {
        return shards(created.uuid()).get(0);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, s -> s != null && s.get("RecordsProcessed").asLong() == 9);
    assertEquals(1, shard.get("RecordsDiscarded").asLong(), shard.toString());
    assertEquals("9", shard.get("LastCheckpoint").asText(), shard.toString());

    // Now to a topic of the same cluster, no retry, no bisection: the whole failing batch goes as it was.
    var updated = lambda.updateEventSourceMapping(b -> b.uuid(created.uuid()).maximumRetryAttempts(0)
        .bisectBatchOnFunctionError(false).destinationConfig(d -> d.onFailure(f -> f.destination(
            "kafka://" + topic + "-failed"))));
    assertEquals("kafka://" + topic + "-failed", updated.destinationConfig().onFailure().destination());
    assertEquals(0, updated.maximumRetryAttempts());
    produce(topic, "k-10", "poison-10", System.currentTimeMillis());
    List<ConsumerRecord<String, String>> dead = readTopic(topic + "-failed", 1);
    assertEquals(1, dead.size());
    ConsumerRecord<String, String> failed = dead.get(0);
    assertEquals("k-10", failed.key());
    assertEquals("poison-10", failed.value());
    assertEquals("it", header(failed, "origin"), "the record's own headers are kept");
    assertEquals("RetryAttemptsExhausted", header(failed, "x-tributary-condition"));
    assertEquals(topic + "-0", header(failed, "x-tributary-source"));
    produce(topic, "k-11", "good-11", System.currentTimeMillis());
    assertEquals("good-11", await(() -> lines(out), l -> l.size() >= 10).get(9), "the shard moved on");
    lambda.deleteEventSourceMapping(b -> b.uuid(created.uuid()));
  }

  private static String header(ConsumerRecord<String, String> record, String name) {
    var header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  private static List<ConsumerRecord<String, String>> readTopic(String topic, int count) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "it-reader-" + RUN);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<ConsumerRecord<String, String>> records = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
        new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (records.size() < count && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(500)).forEach(records::add);
      }
    }
    return records;
  }

  @Test
  void recordsPastTheirMaximumAgeAreDiscardedUnseenAndAtTimestampSkipsThem() throws Exception {
    String topic = topic("it-aged");
    Path aged = function("age-checker", KAFKA_HANDLER, Map.of());
    Path late = function("timestamp-checker", KAFKA_HANDLER, Map.of());
    String failures = queue("it-aged-failures");
    long now = System.currentTimeMillis();
    for (int i = 0; i < 6; i++) {
      produce(topic, "k-" + i, (i < 3 ? "old-" : "new-") + i, i < 3 ? now - Duration.ofHours(2).toMillis() : now);
    }
    var byAge = lambda.createEventSourceMapping(b -> kafka(b, "age-checker", topic).maximumRecordAgeInSeconds(3600)
        .destinationConfig(d -> d.onFailure(f -> f.destination(QUEUE_ARN + "it-aged-failures-" + RUN))));
    double hourAgo = (now - Duration.ofHours(1).toMillis()) / 1000.0;
    var byTime = lambda.createEventSourceMapping(b -> kafka(b, "timestamp-checker", topic)
        .startingPosition(EventSourcePosition.AT_TIMESTAMP).startingPositionTimestamp(
            java.time.Instant.ofEpochMilli(now - Duration.ofHours(1).toMillis())));
    assertEquals(EventSourcePosition.AT_TIMESTAMP, byTime.startingPosition());
    assertEquals(hourAgo, byTime.startingPositionTimestamp().toEpochMilli() / 1000.0, 0.001);

    List<String> fresh = List.of("new-3", "new-4", "new-5");
    assertEquals(fresh, await(() -> lines(aged), l -> l.size() >= 3), "the old records never reach the function");
    assertEquals(fresh, await(() -> lines(late), l -> l.size() >= 3), "AT_TIMESTAMP starts at the first new one");
    JsonNode record = received(failures, 1).get(0);
    assertEquals("RecordAgeExceeded", record.at("/requestContext/condition").asText(), record.toString());
    assertEquals(0, record.at("/requestContext/approximateInvokeCount").asInt(), "never invoked");
    assertFalse(record.has("responseContext"), record.toString());
    JsonNode range = record.at("/KafkaBatchInfo/recordsInfo/" + topic + "-0");
    assertEquals("0", range.get("firstRecordOffset").asText(), record.toString());
    assertEquals("2", range.get("lastRecordOffset").asText());
    assertEquals(3, record.at("/KafkaBatchInfo/batchSize").asInt());
    lambda.deleteEventSourceMapping(b -> b.uuid(byAge.uuid()));
    lambda.deleteEventSourceMapping(b -> b.uuid(byTime.uuid()));
  }

  private static GetEventSourceMappingResponse awaitMapping(String uuid,
      java.util.function.Predicate<GetEventSourceMappingResponse> done) {
    GetEventSourceMappingResponse m = await(() -> lambda.getEventSourceMapping(b -> b.uuid(uuid)), done);
    assertTrue(done.test(m), m.toString());
    return m;
  }

  @Test
  void aQueueThatAppearsLaterIsReadAndAMappingFollowsItsFunctionUntilItIsDeleted() throws Exception {
    Path first = function("queue-first", QUEUE_HANDLER, Map.of());
    Path second = function("queue-second", QUEUE_HANDLER, Map.of());
    String name = "it-late-" + RUN;
    var created = lambda.createEventSourceMapping(b -> b.functionName("queue-first").eventSourceArn(QUEUE_ARN + name));
    assertEquals(202, created.sdkHttpResponse().statusCode());
    String problem = awaitMapping(created.uuid(), m -> m.lastProcessingResult().startsWith("PROBLEM"))
        .lastProcessingResult();
    assertTrue(problem.contains("Connection error"), problem);

    String url = queue("it-late");
    sqs.sendMessage(b -> b.queueUrl(url).messageBody("m-1"));
    assertTrue(await(() -> lines(first), l -> !l.isEmpty()).get(0).startsWith("m-1 "));
    assertEquals("OK", awaitMapping(created.uuid(), m -> m.lastProcessingResult().equals("OK"))
        .lastProcessingResult(), "recovered once the queue exists");

    var moved = lambda.updateEventSourceMapping(b -> b.uuid(created.uuid()).functionName("queue-second"));
    assertEquals("arn:aws:lambda:us-east-1:000000000000:function:queue-second", moved.functionArn());
    NodeProcess.sleep(1_500);
    sqs.sendMessage(b -> b.queueUrl(url).messageBody("m-2"));
    assertTrue(await(() -> lines(second), l -> !l.isEmpty()).get(0).startsWith("m-2 "));
    assertEquals(1, lines(first).size(), "the first function gets nothing more");

    lambda.deleteFunction(b -> b.functionName("queue-second"));
    sqs.sendMessage(b -> b.queueUrl(url).messageBody("m-3"));
    GetEventSourceMappingResponse disabled = awaitMapping(created.uuid(), m -> m.state().equals("Disabled"));
    assertTrue(disabled.stateTransitionReason().contains("Function not found"), disabled.stateTransitionReason());
    assertEquals("PROBLEM: Function not found", disabled.lastProcessingResult());
    Map<String, String> left = sqs.getQueueAttributes(b -> b.queueUrl(url).attributeNamesWithStrings(
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")).attributesAsStrings();
    assertEquals(1, left.values().stream().mapToInt(Integer::parseInt).sum(), "m-3 stays in the queue: " + left);
    lambda.deleteEventSourceMapping(b -> b.uuid(created.uuid()));
  }

  @Test
  void maximumConcurrencyCapsTheBatchesInFlight() throws Exception {
    Path out = function("queue-slow", QUEUE_HANDLER, Map.of("SLEEP", "1.5"));
    String url = queue("it-scaled");
    for (int i = 0; i < 10; i++) {
      int n = i;
      sqs.sendMessage(b -> b.queueUrl(url).messageBody("s-" + n));
    }
    var created = lambda.createEventSourceMapping(b -> b.functionName("queue-slow").batchSize(1)
        .eventSourceArn(QUEUE_ARN + "it-scaled-" + RUN).scalingConfig(s -> s.maximumConcurrency(3)));
    assertEquals(3, created.scalingConfig().maximumConcurrency());
    List<String> done = await(() -> lines(out), l -> l.size() >= 10);
    assertEquals(10, done.size());
    List<double[]> spans = done.stream().map(line -> line.split(" "))
        .map(f -> new double[] {Double.parseDouble(f[1]), Double.parseDouble(f[2])}).toList();
    int most = 0;
    for (double[] span : spans) {
      double at = span[0] + 0.01;
      most = Math.max(most, (int) spans.stream().filter(s -> s[0] <= at && at < s[1]).count());
    }
    assertEquals(3, most, "up to 3 batches at once, never more");
    lambda.deleteEventSourceMapping(b -> b.uuid(created.uuid()));
  }
}
