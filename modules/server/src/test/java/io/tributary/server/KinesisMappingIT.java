package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.EventSourcePosition;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;

/**
 * Kinesis event source mappings end to end, against the kinesalite that deploy/test.sh starts
 * ({@code tributary.it.kinesis}): AWS's event shape, order per partition key through a shard split
 * (parents finished before their children), a node restart that resumes from the checkpoints in
 * Cassandra, and bad input.
 */
class KinesisMappingIT {

  private static final String KEYSPACE = "it_kinesis";
  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  private static final String KINESIS = System.getProperty("tributary.it.kinesis", "http://127.0.0.1:9567");
  private static final String STREAM = "it-stream-" + Long.toHexString(System.nanoTime());
  private static final String STREAM_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/" + STREAM;
  private static final Map<String, Object> SETTINGS = Map.of("tributary.mappings.refresh", "500ms",
      "tributary.sources.kinesis.endpoints.us-east-1", KINESIS);
  private static final Path OUT = Path.of("target", "kinesis-it", "events.log").toAbsolutePath();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String RECORDER = Zips.bashRuntime("""
      printf '%s\\n' "$EVENT" >> "$OUT"
      curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d '{}' >/dev/null
      """);
  private static TestNode node;
  private static LambdaClient lambda;
  private static KinesisAsyncClient kinesis;
  private static final Map<String, Integer> sent = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    TestNode.dropKeyspaces(KEYSPACE);
    Files.createDirectories(OUT.getParent());
    Files.deleteIfExists(OUT);
    System.setProperty("aws.cborEnabled", "false");
    kinesis = KinesisAsyncClient.builder().endpointOverride(URI.create(KINESIS)).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x")))
        .httpClientBuilder(NettyNioAsyncHttpClient.builder().protocol(Protocol.HTTP1_1)).build();
    kinesis.createStream(b -> b.streamName(STREAM).shardCount(2)).get(30, TimeUnit.SECONDS);
    awaitActive();
    node = TestNode.start(KEYSPACE, TestNode.freePort(), SETTINGS);
    lambda = node.client();
    lambda.createFunction(b -> b.functionName("stream-consumer").runtime("provided.al2023").role(ROLE)
        .handler("unused").environment(e -> e.variables(Map.of("OUT", OUT.toString())))
        .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.withBootstrap(RECORDER)))));
  }

  @AfterAll
  static void stop() {
    if (lambda != null) {
      lambda.close();
    }
    if (node != null) {
      node.close();
    }
    if (kinesis != null) {
      kinesis.deleteStream(b -> b.streamName(STREAM)).exceptionally(failure -> null).join();
      kinesis.close();
    }
  }

  private static void awaitActive() throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!"ACTIVE".equals(kinesis.describeStreamSummary(b -> b.streamName(STREAM)).get(10, TimeUnit.SECONDS)
        .streamDescriptionSummary().streamStatusAsString()) && System.nanoTime() < deadline) {
      NodeProcess.sleep(50);
    }
  }

  /** Puts {@code count} records spread over 6 partition keys, each value "key:n" numbered per key. */
  private static void put(int count) throws Exception {
    for (int i = 0; i < count; i++) {
      String key = "key-" + (i % 6);
      int n = sent.merge(key, 1, Integer::sum);
      kinesis.putRecord(b -> b.streamName(STREAM).partitionKey(key)
          .data(SdkBytes.fromUtf8String(key + ":" + n))).get(10, TimeUnit.SECONDS);
    }
  }

  /** Every record the function received, in the order received: "key:n". */
  private static List<String> received() {
    List<String> all = new ArrayList<>();
    try {
      if (!Files.exists(OUT)) {
        return all;
      }
      for (String line : Files.readAllLines(OUT)) {
        for (JsonNode r : JSON.readTree(line).get("Records")) {
          assertEquals("aws:kinesis", r.get("eventSource").asText());
          assertEquals("aws:kinesis:record", r.get("eventName").asText());
          assertEquals(STREAM_ARN, r.get("eventSourceARN").asText());
          assertEquals("us-east-1", r.get("awsRegion").asText());
          JsonNode k = r.get("kinesis");
          assertTrue(r.get("eventID").asText().endsWith(":" + k.get("sequenceNumber").asText()), r.toString());
          assertTrue(k.get("approximateArrivalTimestamp").isNumber(), r.toString());
          String data = new String(Base64.getDecoder().decode(k.get("data").asText()), StandardCharsets.UTF_8);
          assertEquals(k.get("partitionKey").asText(), data.substring(0, data.indexOf(':')));
          all.add(data);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return all;
  }

  private static List<String> await(Predicate<List<String>> done) {
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    List<String> all = received();
    while (!done.test(all) && System.nanoTime() < deadline) {
      NodeProcess.sleep(200);
      all = received();
    }
    return all;
  }

  private static long distinct(List<String> all) {
    return all.stream().distinct().count();
  }

  /** Within each partition key, numbers arrive in increasing order (a replay may repeat, never go back past it). */
  private static void assertOrderPerKey(List<String> all) {
    Map<String, Integer> last = new HashMap<>();
    for (String record : all) {
      String key = record.substring(0, record.indexOf(':'));
      int n = Integer.parseInt(record.substring(record.indexOf(':') + 1));
      assertTrue(n > last.getOrDefault(key, 0), "in order within " + key + ": " + n + " after " + last.get(key));
      last.put(key, n);
    }
  }

  private static JsonNode awaitShards(String uuid, Predicate<JsonNode> done) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    JsonNode shards = JSON.readTree(node.signedGet("/tributary/event-source-mappings/" + uuid + "/shards"))
        .get("Shards");
    while (!done.test(shards) && System.nanoTime() < deadline) {
      NodeProcess.sleep(500);
      shards = JSON.readTree(node.signedGet("/tributary/event-source-mappings/" + uuid + "/shards")).get("Shards");
    }
    return shards;
  }

  @Test
  void recordsReachTheFunctionInOrderPerKeyThroughASplitAndARestart() throws Exception {
    put(60);
    var created = lambda.createEventSourceMapping(b -> b.functionName("stream-consumer").eventSourceArn(STREAM_ARN)
        .startingPosition(EventSourcePosition.TRIM_HORIZON).batchSize(10));
    assertEquals(202, created.sdkHttpResponse().statusCode());
    assertEquals(STREAM_ARN, created.eventSourceArn());
    assertEquals(-1, created.maximumRetryAttempts());
    List<String> all = await(r -> distinct(r) >= 60);
    assertEquals(60, distinct(all), () -> "every record reached the function: "
        + lambda.getEventSourceMapping(b -> b.uuid(created.uuid())));
    assertEquals(60, all.size(), "each once");
    assertOrderPerKey(all);

    // Split the first shard: its children are read only once it is finished.
    Shard first = kinesis.listShards(b -> b.streamName(STREAM)).get(10, TimeUnit.SECONDS).shards().get(0);
    BigInteger low = new BigInteger(first.hashKeyRange().startingHashKey());
    BigInteger high = new BigInteger(first.hashKeyRange().endingHashKey());
    kinesis.splitShard(b -> b.streamName(STREAM).shardToSplit(first.shardId())
        .newStartingHashKey(low.add(high).shiftRight(1).toString())).get(10, TimeUnit.SECONDS);
    awaitActive();
    put(60);
    all = await(r -> distinct(r) >= 120);
    assertEquals(120, distinct(all), "the records of the split shard's children too");
    assertOrderPerKey(all);
    JsonNode shards = awaitShards(created.uuid(), s -> s.size() >= 3 && s.findValue("LagMillis") != null);
    assertTrue(shards.size() >= 3, "the parents and the children: " + shards);
    assertTrue(shards.findValue("LagMillis") != null, "how far behind, in time: " + shards);

    node.close();
    node = TestNode.start(KEYSPACE, TestNode.freePort(), SETTINGS);
    lambda.close();
    lambda = node.client();
    int delivered = all.size();
    put(18);
    all = await(r -> distinct(r) >= 138);
    assertEquals(138, distinct(all));
    assertEquals(delivered + 18, all.size(), "resumed from the checkpoints: nothing delivered twice");
    assertOrderPerKey(all);
    assertEquals("Enabled", lambda.getEventSourceMapping(b -> b.uuid(created.uuid())).state());
    lambda.deleteEventSourceMapping(b -> b.uuid(created.uuid()));
    NodeProcess.sleep(1_500);
    put(6);
    NodeProcess.sleep(3_000);
    assertEquals(138, received().size(), "a deleted mapping reads nothing");
  }

  @Test
  void badKinesisMappingsAreRefusedWithWhatToFix() {
    String position = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(
        b -> b.functionName("stream-consumer").eventSourceArn(STREAM_ARN))).getMessage();
    assertTrue(position.contains("StartingPosition is required for a Kinesis source"), position);
    String parallel = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(
        b -> b.functionName("stream-consumer").eventSourceArn(STREAM_ARN)
            .startingPosition(EventSourcePosition.LATEST).parallelizationFactor(2))).getMessage();
    assertTrue(parallel.contains("ParallelizationFactor is not supported yet"), parallel);
    String region = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(
        b -> b.functionName("stream-consumer").eventSourceArn("arn:aws:kinesis:eu-west-1:000000000000:stream/s")
            .startingPosition(EventSourcePosition.LATEST))).getMessage();
    assertTrue(region.contains("no Kinesis endpoint is configured for region eu-west-1"), region);
    String scaling = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(
        b -> b.functionName("stream-consumer").eventSourceArn(STREAM_ARN)
            .startingPosition(EventSourcePosition.LATEST).scalingConfig(s -> s.maximumConcurrency(2)))).getMessage();
    assertTrue(scaling.contains("Unsupported ScalingConfig parameter"), scaling);
  }
}
