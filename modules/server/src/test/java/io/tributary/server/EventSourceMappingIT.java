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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.CreateEventSourceMappingRequest;
import software.amazon.awssdk.services.lambda.model.EventSourceMappingConfiguration;
import software.amazon.awssdk.services.lambda.model.Filter;
import software.amazon.awssdk.services.lambda.model.GetEventSourceMappingResponse;
import software.amazon.awssdk.services.lambda.model.EventSourcePosition;
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
  private static final String TOPIC = "it-orders-" + Long.toHexString(System.nanoTime());
  /** Appends each event (one line of JSON) to $OUT. */
  private static final String RECORDER = Zips.bashRuntime("""
      printf '%s\\n' "$EVENT" >> "$OUT"
      curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d '{}' >/dev/null
      """);
  private static final Map<String, Object> SETTINGS = Map.of("tributary.mappings.refresh", "500ms");
  private static final Path OUT = Path.of("target", "mapping-it", "events.log").toAbsolutePath();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static TestNode node;
  private static LambdaClient lambda;
  private static KafkaProducer<String, String> producer;
  private static int produced;

  @BeforeAll
  static void start() throws Exception {
    TestNode.dropKeyspaces(KEYSPACE);
    Files.createDirectories(OUT.getParent());
    Files.deleteIfExists(OUT);
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA);
    try (Admin admin = Admin.create(p)) {
      admin.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 1))).all().get();
    }
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    node = TestNode.start(KEYSPACE, TestNode.freePort(), SETTINGS);
    lambda = node.client();
    lambda.createFunction(b -> b.functionName("consumer").runtime("provided.al2023").role(ROLE).handler("unused")
        .environment(e -> e.variables(Map.of("OUT", OUT.toString())))
        .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.withBootstrap(RECORDER)))));
  }

  @AfterAll
  static void stop() {
    if (producer != null) {
      producer.close();
    }
    if (lambda != null) {
      lambda.close();
    }
    if (node != null) {
      node.close();
    }
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
        assertEquals("SelfManagedKafka", event.get("eventSource").asText());
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
    node.close();
    node = TestNode.start(KEYSPACE, TestNode.freePort(), SETTINGS);
    lambda.close();
    lambda = node.client();
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

  @Test
  void badMappingsAreRefusedWithWhatToFix() {
    String noPosition = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(
        b -> kafka(b).startingPosition((String) null))).getMessage();
    assertTrue(noPosition.contains("StartingPosition is required"), noPosition);
    assertThrows(ResourceNotFoundException.class, () -> lambda.createEventSourceMapping(
        b -> kafka(b).functionName("no-such-function")));
    assertEquals(400, assertThrows(software.amazon.awssdk.services.lambda.model.LambdaException.class,
        () -> lambda.createEventSourceMapping(b -> kafka(b).batchSize(0))).statusCode());
    String filters = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(
        b -> kafka(b).filterCriteria(f -> f.filters(Filter.builder().pattern("{\"value\":[\"a\"]}").build()))))
        .getMessage();
    assertTrue(filters.contains("FilterCriteria is not supported yet"), filters);
    assertThrows(ResourceNotFoundException.class,
        () -> lambda.getEventSourceMapping(b -> b.uuid("00000000-0000-4000-8000-000000000000")));
    assertTrue(lambda.listEventSourceMappings(b -> b.functionName("no-such-function")).eventSourceMappings()
        .isEmpty());
  }
}
