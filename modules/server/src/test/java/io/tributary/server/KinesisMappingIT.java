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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
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
 * Cassandra, ParallelizationFactor, tumbling windows, and bad input.
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
      # Under a lock: a batch over 4 KB takes several writes, which concurrent environments would interleave.
      { flock 9; printf '%s\\n' "$EVENT" >> "$OUT"; } 9>>"$OUT.lock"
      curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d '{}' >/dev/null
      """);
  private static TestNode node;
  private static LambdaClient lambda;
  private static KinesisAsyncClient kinesis;
  private static final Map<String, Integer> sent = new HashMap<>();

  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension(KEYSPACE, SETTINGS);

  @BeforeAll
  static void start() throws Exception {
    Files.createDirectories(OUT.getParent());
    Files.deleteIfExists(OUT);
    System.setProperty("aws.cborEnabled", "false");
    kinesis = KinesisAsyncClient.builder().endpointOverride(URI.create(KINESIS)).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x")))
        .httpClientBuilder(NettyNioAsyncHttpClient.builder().protocol(Protocol.HTTP1_1)).build();
    kinesis.createStream(b -> b.streamName(STREAM).shardCount(2)).get(30, TimeUnit.SECONDS);
    NODE.closeAfter(() -> {
      kinesis.deleteStream(b -> b.streamName(STREAM)).exceptionally(failure -> null).join();
      kinesis.close();
    });
    awaitActive();
    node = NODE.node();
    lambda = NODE.lambda();
    lambda.createFunction(b -> b.functionName("stream-consumer").runtime("provided.al2023").role(ROLE)
        .handler("unused").environment(e -> e.variables(Map.of("OUT", OUT.toString())))
        .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.withBootstrap(RECORDER)))));
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
    JsonNode shards = node.awaitShards(created.uuid(), s -> s.size() >= 3 && s.findValue("LagMillis") != null);
    assertTrue(shards.size() >= 3, "the parents and the children: " + shards);
    assertTrue(shards.findValue("LagMillis") != null, "how far behind, in time: " + shards);

    NODE.restart();
    node = NODE.node();
    lambda = NODE.lambda();
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
    var parallel = assertThrows(software.amazon.awssdk.services.lambda.model.LambdaException.class,
        () -> lambda.createEventSourceMapping(b -> b.functionName("stream-consumer").eventSourceArn(STREAM_ARN)
            .startingPosition(EventSourcePosition.LATEST).parallelizationFactor(11)));
    assertEquals("ValidationException", parallel.awsErrorDetails().errorCode());
    assertTrue(parallel.getMessage().contains("Member must have value between 1 and 10"), parallel.getMessage());
    var window = assertThrows(software.amazon.awssdk.services.lambda.model.LambdaException.class,
        () -> lambda.createEventSourceMapping(b -> b.functionName("stream-consumer").eventSourceArn(STREAM_ARN)
            .startingPosition(EventSourcePosition.LATEST).tumblingWindowInSeconds(901)));
    assertEquals("ValidationException", window.awsErrorDetails().errorCode());
    assertTrue(window.getMessage().contains("Member must have value between 0 and 900"), window.getMessage());
    String both = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(
        b -> b.functionName("stream-consumer").eventSourceArn(STREAM_ARN)
            .startingPosition(EventSourcePosition.LATEST).parallelizationFactor(2).tumblingWindowInSeconds(60)))
        .getMessage();
    assertTrue(both.contains("Set ParallelizationFactor to 1, or TumblingWindowInSeconds to 0"), both);
    assertTrue(lambda.listEventSourceMappings(b -> b.functionName("stream-consumer")).eventSourceMappings().stream()
        .allMatch(m -> m.parallelizationFactor() == 1), "nothing refused was stored");
    String region = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(
        b -> b.functionName("stream-consumer").eventSourceArn("arn:aws:kinesis:eu-west-1:000000000000:stream/s")
            .startingPosition(EventSourcePosition.LATEST))).getMessage();
    assertTrue(region.contains("no Kinesis endpoint is configured for region eu-west-1"), region);
    String scaling = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(
        b -> b.functionName("stream-consumer").eventSourceArn(STREAM_ARN)
            .startingPosition(EventSourcePosition.LATEST).scalingConfig(s -> s.maximumConcurrency(2)))).getMessage();
    assertTrue(scaling.contains("Unsupported ScalingConfig parameter"), scaling);
  }

  /** A one-shard stream of its own; returns its ARN. */
  private static String stream(String name) throws Exception {
    kinesis.createStream(b -> b.streamName(name).shardCount(1)).get(30, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!"ACTIVE".equals(kinesis.describeStreamSummary(b -> b.streamName(name)).get(10, TimeUnit.SECONDS)
        .streamDescriptionSummary().streamStatusAsString()) && System.nanoTime() < deadline) {
      NodeProcess.sleep(50);
    }
    return "arn:aws:kinesis:us-east-1:000000000000:stream/" + name;
  }

  /** A Python function that appends a JSON line per invoke to its own file, which is returned. */
  private static Path pythonFunction(String name, String code) throws IOException {
    Path out = OUT.resolveSibling(name + ".log");
    Files.deleteIfExists(out);
    lambda.createFunction(b -> b.functionName(name).runtime("python3.11").role(ROLE).handler("app.handler")
        .timeout(30).environment(e -> e.variables(Map.of("OUT", out.toString())))
        .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of(Map.of("app.py", code))))));
    return out;
  }

  private static List<JsonNode> lines(Path out, Predicate<List<JsonNode>> done) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (true) {
      List<JsonNode> all = new ArrayList<>();
      if (Files.exists(out)) {
        for (String line : Files.readAllLines(out)) {
          all.add(JSON.readTree(line));
        }
      }
      if (done.test(all) || System.nanoTime() > deadline) {
        return all;
      }
      NodeProcess.sleep(200);
    }
  }

  @Test
  void aParallelizationFactorRunsSeveralBatchesOfAShardAtOnceInOrderPerKey() throws Exception {
    String name = "it-parallel-" + Long.toHexString(System.nanoTime());
    String arn = stream(name);
    Path out = pythonFunction("parallel-consumer", """
        import base64, json, os, time
        def handler(event, context):
            start = time.time()
            time.sleep(0.2)
            data = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
            with open(os.environ["OUT"], "a") as f:
                f.write(json.dumps({"start": start, "end": time.time(), "records": data}) + "\\n")
            return {}
        """);
    Map<String, Integer> numbers = new HashMap<>();
    for (int i = 0; i < 200; i++) {
      String key = "key-" + (i % 20);
      int n = numbers.merge(key, 1, Integer::sum);
      kinesis.putRecord(b -> b.streamName(name).partitionKey(key).data(SdkBytes.fromUtf8String(key + ":" + n)))
          .get(10, TimeUnit.SECONDS);
    }
    var created = lambda.createEventSourceMapping(b -> b.functionName("parallel-consumer").eventSourceArn(arn)
        .startingPosition(EventSourcePosition.TRIM_HORIZON).batchSize(5).parallelizationFactor(5));
    assertEquals(5, created.parallelizationFactor());
    List<JsonNode> invokes = lines(out, all -> all.stream().mapToInt(l -> l.get("records").size()).sum() >= 200);
    List<String> records = new ArrayList<>();
    invokes.forEach(l -> l.get("records").forEach(r -> records.add(r.asText())));
    assertEquals(200, records.stream().distinct().count(), "every record reached the function");
    assertEquals(200, records.size(), "each once");
    assertOrderPerKey(records);
    int most = 0;
    for (JsonNode a : invokes) {
      double at = a.get("start").asDouble();
      most = Math.max(most, (int) invokes.stream()
          .filter(b -> b.get("start").asDouble() <= at && at < b.get("end").asDouble()).count());
    }
    assertTrue(most > 1 && most <= 5, "batches of the one shard ran side by side, at most 5 at once: " + most);
    assertEquals(5, lambda.getEventSourceMapping(b -> b.uuid(created.uuid())).parallelizationFactor());
    lambda.deleteEventSourceMapping(b -> b.uuid(created.uuid()));
  }

  @Test
  void aTumblingWindowCarriesTheStateFromBatchToBatchAndEndsWithAFinalInvoke() throws Exception {
    String name = "it-window-" + Long.toHexString(System.nanoTime());
    String arn = stream(name);
    Path out = pythonFunction("window-consumer", """
        import json, os
        def handler(event, context):
            count = event["state"].get("count", 0) + len(event["Records"])
            with open(os.environ["OUT"], "a") as f:
                f.write(json.dumps({"window": event["window"], "final": event["isFinalInvokeForWindow"],
                                    "early": event["isWindowTerminatedEarly"], "shard": event["shardId"],
                                    "source": event["eventSourceARN"], "records": len(event["Records"]),
                                    "count": count}) + "\\n")
            return {"state": {"count": count}}
        """);
    var created = lambda.createEventSourceMapping(b -> b.functionName("window-consumer").eventSourceArn(arn)
        .startingPosition(EventSourcePosition.TRIM_HORIZON).batchSize(4).tumblingWindowInSeconds(2));
    assertEquals(2, created.tumblingWindowInSeconds());
    for (int i = 0; i < 30; i++) {
      int n = i;
      kinesis.putRecord(b -> b.streamName(name).partitionKey("k" + n % 3).data(SdkBytes.fromUtf8String("r" + n)))
          .get(10, TimeUnit.SECONDS);
      NodeProcess.sleep(100);
    }
    List<JsonNode> invokes = lines(out, all -> all.stream().filter(l -> l.get("final").asBoolean())
        .mapToInt(l -> l.get("count").asInt()).sum() >= 30);
    Map<String, Integer> counted = new HashMap<>();
    int finals = 0;
    for (JsonNode l : invokes) {
      String window = l.get("window").get("start").asText();
      assertEquals(2_000, Duration.between(java.time.Instant.parse(window),
          java.time.Instant.parse(l.get("window").get("end").asText())).toMillis());
      assertEquals(arn, l.get("source").asText());
      assertTrue(l.get("shard").asText().startsWith("shardId-"), l.toString());
      assertEquals(false, l.get("early").asBoolean());
      if (l.get("final").asBoolean()) {
        finals++;
        assertEquals(0, l.get("records").asInt(), "the final invoke has no records");
        assertEquals(counted.get(window), l.get("count").asInt(), "the final invoke gets the window's whole state");
        counted.remove(window);
      } else {
        assertEquals(counted.getOrDefault(window, 0) + l.get("records").asInt(), l.get("count").asInt(),
            "each batch gets the state the one before it returned: " + invokes);
        counted.put(window, l.get("count").asInt());
      }
    }
    assertTrue(finals >= 2, "30 records over 3 s fill more than one 2 s window: " + invokes);
    assertEquals(30, invokes.stream().filter(l -> l.get("final").asBoolean()).mapToInt(l -> l.get("count").asInt())
        .sum(), "the final states count every record once");
    lambda.deleteEventSourceMapping(b -> b.uuid(created.uuid()));
  }
}
