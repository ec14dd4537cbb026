package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.CreateEventSourceMappingRequest;
import software.amazon.awssdk.services.lambda.model.EventSourceMappingConfiguration;
import software.amazon.awssdk.services.lambda.model.EventSourcePosition;
import software.amazon.awssdk.services.lambda.model.Filter;
import software.amazon.awssdk.services.lambda.model.GetEventSourceMappingResponse;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;

/**
 * Event source mappings from self-managed Kafka, end to end through a node and the real broker
 * that deploy/test.sh starts ({@code tributary.it.kafka}): the mapping API, records reaching the
 * function in AWS's event shape and in offset order per partition, disable and enable, a node
 * restart that resumes from the committed offsets, and delete.
 */
class EventSourceMappingIT {

  private static final String KEYSPACE = "it_mappings";
  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  private static final String KAFKA = System.getProperty("tributary.it.kafka", "127.0.0.1:9192");
  /** Names of this run's queues and topic: the test servers may outlive a run (FIFO dedupes for 5 min). */
  private static final String RUN = Long.toHexString(System.nanoTime());
  private static final String TOPIC = "it-orders-" + RUN;
  /** Appends each event (one line of JSON) to $OUT. */
  private static final String RECORDER = Zips.bashRuntime("""
      # Under a lock: a batch over 4 KB takes several writes, which concurrent environments would interleave.
      { flock 9; printf '%s\\n' "$EVENT" >> "$OUT"; } 9>>"$OUT.lock"
      curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d '{}' >/dev/null
      """);
  /** Like RECORDER, but the first event that holds "fail-once" fails (a marker file remembers it). */
  private static final String FAILS_ONCE = Zips.bashRuntime("""
      if echo "$EVENT" | grep -q fail-once && [ ! -e "$OUT.failed" ]; then
        touch "$OUT.failed"
        curl -sS -X POST "$API/invocation/$REQUEST_ID/error" -H "Lambda-Runtime-Function-Error-Type: Unhandled" \\
          -d '{"errorMessage":"failed once","errorType":"Failure"}' >/dev/null
      else
        # Under a lock: a batch over 4 KB takes several writes, which concurrent environments would interleave.
        { flock 9; printf '%s\\n' "$EVENT" >> "$OUT"; } 9>>"$OUT.lock"
        curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d '{}' >/dev/null
      fi
      """);
  private static final String SQS_ENDPOINT = System.getProperty("tributary.it.sqs", "http://127.0.0.1:9424");
  private static final Map<String, Object> SETTINGS = Map.of("tributary.mappings.refresh", "500ms",
      "tributary.destinations.sqs.endpoints.us-east-1", SQS_ENDPOINT);
  private static final Path OUT = Path.of("target", "mapping-it", "events.log").toAbsolutePath();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static TestNode node;
  private static LambdaClient lambda;
  private static KafkaProducer<String, String> producer;
  private static int produced;

  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension(KEYSPACE, SETTINGS);

  @BeforeAll
  static void start() throws Exception {
    Files.createDirectories(OUT.getParent());
    Files.deleteIfExists(OUT);
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA);
    try (Admin admin = Admin.create(p)) {
      admin.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 1))).all().get();
    }
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    producer = NODE.closeAfter(new KafkaProducer<>(p, new StringSerializer(), new StringSerializer()));
    node = NODE.node();
    lambda = NODE.lambda();
    lambda.createFunction(b -> b.functionName("consumer").runtime("provided.al2023").role(ROLE).handler("unused")
        .environment(e -> e.variables(Map.of("OUT", OUT.toString())))
        .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.withBootstrap(RECORDER)))));
  }

  private static void produce(int count) throws Exception {
    for (int i = 0; i < count; i++) {
      int n = produced++;
      producer.send(new ProducerRecord<>(TOPIC, n % 3, "key-" + n, "value-" + n)).get();
    }
  }

  /** Every record the function received, in the order received: partition, offset, key, value. */
  private record Received(int partition, long offset, String key, String value) {}

  private static List<Received> received() {
    List<Received> all = new ArrayList<>();
    try {
      if (!Files.exists(OUT)) {
        return all;
      }
      for (String line : Files.readAllLines(OUT)) {
        JsonNode event = JSON.readTree(line);
        assertEquals("aws:kafka", event.get("eventSource").asText());
        assertEquals(KAFKA, event.get("bootstrapServers").asText());
        event.get("records").properties().forEach(shard -> shard.getValue().forEach(r -> {
          assertEquals(TOPIC + "-" + r.get("partition").asInt(), shard.getKey());
          assertEquals(TOPIC, r.get("topic").asText());
          assertEquals("CREATE_TIME", r.get("timestampType").asText());
          all.add(new Received(r.get("partition").asInt(), r.get("offset").asLong(), decode(r.get("key")),
              decode(r.get("value"))));
        }));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return all;
  }

  private static String decode(JsonNode base64) {
    return new String(Base64.getDecoder().decode(base64.asText()), StandardCharsets.UTF_8);
  }

  private static List<Received> await(Predicate<List<Received>> done) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    List<Received> all = received();
    while (!done.test(all) && System.nanoTime() < deadline) {
      NodeProcess.sleep(200);
      all = received();
    }
    return all;
  }

  private static long distinctValues(List<Received> all) {
    return all.stream().map(Received::value).distinct().count();
  }

  private static GetEventSourceMappingResponse awaitState(String uuid, String state) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    GetEventSourceMappingResponse m = lambda.getEventSourceMapping(b -> b.uuid(uuid));
    while (!m.state().equals(state) && System.nanoTime() < deadline) {
      NodeProcess.sleep(200);
      m = lambda.getEventSourceMapping(b -> b.uuid(uuid));
    }
    assertEquals(state, m.state(), m.toString());
    return m;
  }

  private static CreateEventSourceMappingRequest.Builder kafka(CreateEventSourceMappingRequest.Builder b) {
    return b.functionName("consumer").topics(TOPIC).startingPosition(EventSourcePosition.TRIM_HORIZON)
        .selfManagedEventSource(s -> s.endpointsWithStrings(Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of(KAFKA))));
  }

  @Test
  void recordsReachTheFunctionInOrderPerPartitionAcrossDisableEnableRestartAndDelete() throws Exception {
    produce(60);
    var created = lambda.createEventSourceMapping(b -> kafka(b).batchSize(7));
    assertEquals(202, created.sdkHttpResponse().statusCode());
    assertEquals("Creating", created.state());
    assertEquals(7, created.batchSize());
    assertEquals(List.of(TOPIC), created.topics());
    assertEquals(created.uuid(), created.selfManagedKafkaEventSourceConfig().consumerGroupId());
    assertEquals("arn:aws:lambda:us-east-1:000000000000:function:consumer", created.functionArn());
    String uuid = created.uuid();

    List<Received> all = await(r -> distinctValues(r) >= 60);
    assertEquals(60, distinctValues(all), "every record reached the function");
    Map<Integer, Long> last = new TreeMap<>();
    for (Received r : all) {
      assertTrue(r.offset() > last.getOrDefault(r.partition(), -1L),
          "offsets arrive in increasing order within partition " + r.partition() + ": " + r);
      last.put(r.partition(), r.offset());
      assertEquals("key-" + r.value().substring("value-".length()), r.key());
    }
    assertTrue(all.stream().allMatch(r -> Integer.parseInt(r.value().substring(6)) % 3 == r.partition()));
    GetEventSourceMappingResponse enabled = awaitState(uuid, "Enabled");
    assertEquals("OK", enabled.lastProcessingResult());
    JsonNode view = JSON.readTree(node.signedGet("/tributary/event-source-mappings/" + uuid + "/shards"));
    assertEquals("Enabled", view.get("State").asText(), view.toString());
    long processed = 0;
    for (JsonNode shard : view.get("Shards")) {
      assertTrue(shard.get("Shard").asText().startsWith(TOPIC + "-"), shard.toString());
      assertTrue(shard.has("LastCheckpoint") && shard.has("Node"), shard.toString());
      processed += shard.get("RecordsProcessed").asLong();
    }
    assertEquals(60, processed, "the view counts every record: " + view);
    String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create(node.endpoint() + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    assertTrue(metrics.contains("tributary_mapping_records_total{mapping=\"" + uuid + "\""), metrics);
    assertEquals(List.of(uuid), lambda.listEventSourceMappings(b -> b.functionName("consumer"))
        .eventSourceMappings().stream().map(EventSourceMappingConfiguration::uuid).toList());

    var disabling = lambda.updateEventSourceMapping(b -> b.uuid(uuid).enabled(false));
    assertEquals("Disabling", disabling.state());
    awaitState(uuid, "Disabled");
    NodeProcess.sleep(1_500);
    int before = all.size();
    produce(6);
    NodeProcess.sleep(3_000);
    assertEquals(before, received().size(), "a disabled mapping reads nothing");
    lambda.updateEventSourceMapping(b -> b.uuid(uuid).enabled(true));
    all = await(r -> distinctValues(r) >= 66);
    assertEquals(66, distinctValues(all), "enabled again, it resumes where it stopped");
    awaitState(uuid, "Enabled");

    // A restart of the node: the mapping runs again with no request, from the committed offsets.
    NODE.restart();
    node = NODE.node();
    lambda = NODE.lambda();
    int delivered = all.size();
    produce(6);
    all = await(r -> distinctValues(r) >= 72);
    assertEquals(72, distinctValues(all));
    assertEquals(delivered + 6, all.size(), "nothing committed was delivered again");

    var deleting = lambda.deleteEventSourceMapping(b -> b.uuid(uuid));
    assertEquals(202, deleting.sdkHttpResponse().statusCode());
    assertEquals("Deleting", deleting.state());
    assertThrows(ResourceNotFoundException.class, () -> lambda.getEventSourceMapping(b -> b.uuid(uuid)));
    NodeProcess.sleep(1_500);
    produce(3);
    NodeProcess.sleep(3_000);
    assertEquals(72, distinctValues(received()), "a deleted mapping reads nothing");
  }

  private static List<JsonNode> sqsRecords(Path out) {
    List<JsonNode> records = new ArrayList<>();
    try {
      if (Files.exists(out)) {
        for (String line : Files.readAllLines(out)) {
          JSON.readTree(line).get("Records").forEach(records::add);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return records;
  }

  private static List<JsonNode> awaitSqs(Path out, int distinctBodies) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    List<JsonNode> records = sqsRecords(out);
    while (records.stream().map(r -> r.get("body").asText()).distinct().count() < distinctBodies
        && System.nanoTime() < deadline) {
      NodeProcess.sleep(200);
      records = sqsRecords(out);
    }
    return records;
  }

  private static void queueFunction(String name, Path out) throws IOException {
    Files.deleteIfExists(out);
    Files.deleteIfExists(Path.of(out + ".failed"));
    lambda.createFunction(b -> b.functionName(name).runtime("provided.al2023").role(ROLE).handler("unused")
        .environment(e -> e.variables(Map.of("OUT", out.toString())))
        .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.withBootstrap(FAILS_ONCE)))));
  }

  @Test
  void queueMessagesAreDeletedOnceProcessedAndAFailedBatchComesBackAfterItsVisibilityTimeout() throws Exception {
    Path out = OUT.resolveSibling("queue.log");
    queueFunction("queue-consumer", out);
    try (var sqs = sqsClient()) {
      String url = sqs.createQueue(b -> b.queueName("it-mapped-" + RUN).attributes(Map.of(
          software.amazon.awssdk.services.sqs.model.QueueAttributeName.VISIBILITY_TIMEOUT, "2"))).queueUrl();
      for (int i = 0; i < 25; i++) {
        int n = i;
        sqs.sendMessage(b -> b.queueUrl(url).messageBody(n == 7 ? "message-7 fail-once" : "message-" + n)
            .messageAttributes(Map.of("order", software.amazon.awssdk.services.sqs.model.MessageAttributeValue
                .builder().dataType("Number").stringValue(Integer.toString(n)).build())));
      }
      var created = lambda.createEventSourceMapping(b -> b.functionName("queue-consumer").batchSize(10)
          .eventSourceArn("arn:aws:sqs:us-east-1:000000000000:it-mapped-" + RUN));
      assertEquals(202, created.sdkHttpResponse().statusCode());
      assertEquals(10, created.batchSize());
      assertEquals("arn:aws:sqs:us-east-1:000000000000:it-mapped-" + RUN, created.eventSourceArn());

      List<JsonNode> records = awaitSqs(out, 25);
      assertEquals(25, records.stream().map(r -> r.get("body").asText()).distinct().count());
      JsonNode first = records.get(0);
      assertEquals("aws:sqs", first.get("eventSource").asText());
      assertEquals("arn:aws:sqs:us-east-1:000000000000:it-mapped-" + RUN, first.get("eventSourceARN").asText());
      assertEquals("us-east-1", first.get("awsRegion").asText());
      assertEquals("Number", first.at("/messageAttributes/order/dataType").asText());
      assertTrue(first.at("/attributes/SentTimestamp").isTextual(), first.toString());
      JsonNode retried = records.stream().filter(r -> r.get("body").asText().contains("fail-once")).findFirst()
          .orElseThrow();
      JsonNode shard = JSON.readTree(node.signedGet("/tributary/event-source-mappings/" + created.uuid() + "/shards"))
          .get("Shards").get(0);
      assertTrue(shard.get("LastError").asText().contains("Function call failed"), shard.toString());
      assertTrue(shard.has("Lag"), "the queue's backlog: " + shard);
      assertEquals("2", retried.at("/attributes/ApproximateReceiveCount").asText(),
          "the failed batch's messages came back after the visibility timeout");

      Map<String, String> left = awaitDrained(sqs, url);
      assertEquals(Map.of("ApproximateNumberOfMessages", "0", "ApproximateNumberOfMessagesNotVisible", "0"), left,
          "nothing left in the queue or in flight");
      awaitState(created.uuid(), "Enabled");
      lambda.deleteEventSourceMapping(b -> b.uuid(created.uuid()));
    }
  }

  /** Records each message it keeps; reports the first "partial-once" message as failed, once. */
  private static final String PARTIAL = """
      import json, os
      def handler(event, context):
          out = os.environ["OUT"]
          failures = []
          with open(out, "a") as f:
              for record in event["Records"]:
                  if "partial-once" in record["body"] and not os.path.exists(out + ".partial"):
                      open(out + ".partial", "w").close()
                      failures.append({"itemIdentifier": record["messageId"]})
                  else:
                      f.write(json.dumps({"Records": [record]}) + "\\n")
          return {"batchItemFailures": failures}
      """;

  @Test
  void filteredOutMessagesAreDeletedUnseenAndAReportedFailureIsAllThatComesBack() throws Exception {
    Path out = OUT.resolveSibling("partial.log");
    Files.deleteIfExists(out);
    Files.deleteIfExists(Path.of(out + ".partial"));
    lambda.createFunction(b -> b.functionName("partial-consumer").runtime("python3.11").role(ROLE)
        .handler("app.handler").environment(e -> e.variables(Map.of("OUT", out.toString())))
        .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of(Map.of("app.py", PARTIAL))))));
    try (var sqs = sqsClient()) {
      String url = sqs.createQueue(b -> b.queueName("it-filtered-" + RUN).attributesWithStrings(Map.of(
          "VisibilityTimeout", "2"))).queueUrl();
      for (int i = 0; i < 12; i++) {
        int n = i;
        String kind = n % 3 == 0 ? "audit" : "order";
        sqs.sendMessage(b -> b.queueUrl(url).messageBody("{\"kind\":\"" + kind + "\",\"n\":" + n
            + (n == 4 ? ",\"note\":\"partial-once\"" : "") + "}"));
      }
      var created = lambda.createEventSourceMapping(b -> b.functionName("partial-consumer").batchSize(10)
          .maximumBatchingWindowInSeconds(1).eventSourceArn("arn:aws:sqs:us-east-1:000000000000:it-filtered-" + RUN)
          .functionResponseTypesWithStrings("ReportBatchItemFailures")
          .filterCriteria(f -> f.filters(Filter.builder().pattern("{\"body\":{\"kind\":[\"order\"]}}").build())));
      assertEquals(List.of("ReportBatchItemFailures"), created.functionResponseTypesAsStrings());
      assertEquals("{\"body\":{\"kind\":[\"order\"]}}", created.filterCriteria().filters().get(0).pattern());

      List<JsonNode> records = awaitSqs(out, 8);
      List<String> bodies = records.stream().map(r -> r.get("body").asText()).toList();
      assertEquals(8, bodies.size(), "each order message once, the audit ones never: " + bodies);
      assertTrue(bodies.stream().allMatch(body -> body.contains("\"order\"")), bodies.toString());
      JsonNode retried = records.stream().filter(r -> r.get("body").asText().contains("partial-once")).findFirst()
          .orElseThrow();
      assertEquals("2", retried.at("/attributes/ApproximateReceiveCount").asText(), "only it came back");
      assertTrue(records.stream().filter(r -> !r.get("body").asText().contains("partial-once"))
          .allMatch(r -> r.at("/attributes/ApproximateReceiveCount").asText().equals("1")),
          "the others of its batch were deleted at once");

      Map<String, String> left = awaitDrained(sqs, url);
      assertTrue(left.values().stream().allMatch("0"::equals), "the filtered-out messages were deleted: " + left);
      lambda.deleteEventSourceMapping(b -> b.uuid(created.uuid()));
    }
  }

  @Test
  void aFifoQueueKeepsEachMessageGroupInOrder() throws Exception {
    Path out = OUT.resolveSibling("fifo.log");
    queueFunction("fifo-consumer", out);
    try (var sqs = sqsClient()) {
      String url = sqs.createQueue(b -> b.queueName("it-mapped-" + RUN + ".fifo").attributesWithStrings(Map.of(
          "FifoQueue", "true", "ContentBasedDeduplication", "true", "VisibilityTimeout", "2"))).queueUrl();
      for (int i = 0; i < 20; i++) {
        int n = i;
        sqs.sendMessage(b -> b.queueUrl(url).messageGroupId("group-" + (n % 2))
            .messageBody((n == 4 ? "fail-once " : "") + "group-" + (n % 2) + " #" + n));
      }
      var created = lambda.createEventSourceMapping(b -> b.functionName("fifo-consumer").batchSize(3)
          .eventSourceArn("arn:aws:sqs:us-east-1:000000000000:it-mapped-" + RUN + ".fifo"));
      List<JsonNode> records = awaitSqs(out, 20);
      Map<String, Integer> last = new TreeMap<>();
      for (JsonNode r : records) {
        String body = r.get("body").asText().replace("fail-once ", "");
        String group = body.substring(0, body.indexOf(' '));
        int n = Integer.parseInt(body.substring(body.indexOf('#') + 1));
        assertTrue(n > last.getOrDefault(group, -1), "in order within " + group + ": " + n + " after "
            + last.get(group));
        last.put(group, n);
        assertEquals(group, r.at("/attributes/MessageGroupId").asText());
      }
      assertEquals(20, records.size(), "each message once: a failed batch is retried before its group moves on");
      lambda.deleteEventSourceMapping(b -> b.uuid(created.uuid()));
    }
  }

  /** The queue's visible and in-flight counts, once both are 0 or after 30 s. */
  private static Map<String, String> awaitDrained(software.amazon.awssdk.services.sqs.SqsClient sqs, String url) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    Map<String, String> left = Map.of();
    while (System.nanoTime() < deadline) {
      left = sqs.getQueueAttributes(b -> b.queueUrl(url).attributeNamesWithStrings(
          "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")).attributesAsStrings();
      if (left.values().stream().allMatch("0"::equals)) {
        break;
      }
      NodeProcess.sleep(200);
    }
    return left;
  }

  private static software.amazon.awssdk.services.sqs.SqsClient sqsClient() {
    return software.amazon.awssdk.services.sqs.SqsClient.builder().endpointOverride(java.net.URI.create(SQS_ENDPOINT))
        .region(software.amazon.awssdk.regions.Region.US_EAST_1)
        .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
            software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create("x", "x"))).build();
  }

  @Test
  void badMappingsAreRefusedWithWhatToFix() {
    int mappings = lambda.listEventSourceMappings(b -> b.functionName("consumer")).eventSourceMappings().size();
    String noPosition = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(
        b -> kafka(b).startingPosition((String) null))).getMessage();
    assertTrue(noPosition.contains("StartingPosition is required"), noPosition);
    assertThrows(ResourceNotFoundException.class, () -> lambda.createEventSourceMapping(
        b -> kafka(b).functionName("no-such-function")));
    assertEquals(400, assertThrows(software.amazon.awssdk.services.lambda.model.LambdaException.class,
        () -> lambda.createEventSourceMapping(b -> kafka(b).batchSize(0))).statusCode());
    String filters = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(
        b -> kafka(b).filterCriteria(f -> f.filters(Filter.builder().pattern("{\"value\": \"a\"}").build()))))
        .getMessage();
    assertTrue(filters.contains("Invalid filter pattern definition"), filters);
    String partial = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(
        b -> kafka(b).functionResponseTypesWithStrings("ReportBatchItemFailures"))).getMessage();
    assertTrue(partial.contains("not valid for a Kafka event source"), partial);
    assertThrows(ResourceNotFoundException.class,
        () -> lambda.getEventSourceMapping(b -> b.uuid("00000000-0000-4000-8000-000000000000")));
    assertTrue(lambda.listEventSourceMappings(b -> b.functionName("no-such-function")).eventSourceMappings()
        .isEmpty());
    String position = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(b -> b
        .functionName("consumer").eventSourceArn("arn:aws:sqs:us-east-1:000000000000:q")
        .startingPosition(EventSourcePosition.LATEST))).getMessage();
    assertTrue(position.contains("StartingPosition is not valid for an SQS event source"), position);
    String window = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(b -> b
        .functionName("consumer").eventSourceArn("arn:aws:sqs:us-east-1:000000000000:q").batchSize(100)))
        .getMessage();
    assertTrue(window.contains("greater than 0 if maximum batch size is greater than 10"), window);
    String region = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(b -> b
        .functionName("consumer").eventSourceArn("arn:aws:sqs:eu-west-1:000000000000:q"))).getMessage();
    assertTrue(region.contains("no SQS endpoint is configured for region eu-west-1"), region);
    assertEquals(400, assertThrows(software.amazon.awssdk.services.lambda.model.LambdaException.class,
        () -> lambda.createEventSourceMapping(b -> kafka(b).maximumRetryAttempts(10_001))).statusCode());
    assertEquals(400, assertThrows(software.amazon.awssdk.services.lambda.model.LambdaException.class,
        () -> lambda.createEventSourceMapping(b -> kafka(b).maximumRecordAgeInSeconds(30))).statusCode());
    String scaling = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(
        b -> kafka(b).scalingConfig(c -> c.maximumConcurrency(5)))).getMessage();
    assertTrue(scaling.contains("Unsupported ScalingConfig parameter"), scaling);
    String bisect = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(b -> b
        .functionName("consumer").eventSourceArn("arn:aws:sqs:us-east-1:000000000000:q")
        .bisectBatchOnFunctionError(true))).getMessage();
    assertTrue(bisect.contains("Unsupported BisectBatchOnFunctionError parameter"), bisect);
    String loop = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(
        b -> kafka(b).destinationConfig(d -> d.onFailure(f -> f.destination("kafka://" + TOPIC))))).getMessage();
    assertTrue(loop.contains("is the topic the mapping reads"), loop);
    String sns = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(
        b -> kafka(b).destinationConfig(d -> d.onFailure(f -> f.destination("arn:aws:sns:us-east-1:000000000000:t")))))
        .getMessage();
    assertTrue(sns.contains("SNS topics and S3 buckets are not available"), sns);
    String timestamp = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(
        b -> kafka(b).startingPosition(EventSourcePosition.AT_TIMESTAMP))).getMessage();
    assertTrue(timestamp.contains("StartingPositionTimestamp (seconds since the epoch) is required"), timestamp);
    String parallel = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(
        b -> kafka(b).parallelizationFactor(2))).getMessage();
    assertTrue(parallel.contains("Unsupported ParallelizationFactor parameter"), parallel);
    assertEquals(mappings, lambda.listEventSourceMappings(b -> b.functionName("consumer")).eventSourceMappings()
        .size(), "nothing refused was stored");
  }
}
