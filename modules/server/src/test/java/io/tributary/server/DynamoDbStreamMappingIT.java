package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbAsyncClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.EventSourcePosition;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;

/**
 * DynamoDB Streams mappings end to end, against the DynamoDB Local that deploy/test.sh starts
 * ({@code tributary.it.dynamodb}): INSERT, MODIFY and REMOVE records in AWS's shape, with the keys
 * and both images, in order per item; a node restart that resumes from the checkpoints; bad input.
 */
class DynamoDbStreamMappingIT {

  private static final String KEYSPACE = "it_dynamodb";
  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  private static final String DYNAMODB = System.getProperty("tributary.it.dynamodb", "http://127.0.0.1:9800");
  private static final String TABLE = "it-orders-" + Long.toHexString(System.nanoTime());
  private static final Map<String, Object> SETTINGS = Map.of("tributary.mappings.refresh", "500ms",
      "tributary.sources.dynamodb.endpoints.ddblocal", DYNAMODB);
  private static final Path OUT = Path.of("target", "dynamodb-it", "events.log").toAbsolutePath();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String RECORDER = Zips.bashRuntime("""
      # Under a lock: a batch over 4 KB takes several writes, which concurrent environments would interleave.
      { flock 9; printf '%s\\n' "$EVENT" >> "$OUT"; } 9>>"$OUT.lock"
      curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d '{}' >/dev/null
      """);
  private static TestNode node;
  private static LambdaClient lambda;
  private static DynamoDbAsyncClient dynamodb;
  private static String streamArn;

  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension(KEYSPACE, SETTINGS);

  @BeforeAll
  static void start() throws Exception {
    Files.createDirectories(OUT.getParent());
    Files.deleteIfExists(OUT);
    dynamodb = DynamoDbAsyncClient.builder().endpointOverride(URI.create(DYNAMODB)).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x"))).build();
    streamArn = dynamodb.createTable(b -> b.tableName(TABLE)
            .attributeDefinitions(a -> a.attributeName("id").attributeType(ScalarAttributeType.S))
            .keySchema(k -> k.attributeName("id").keyType(KeyType.HASH))
            .provisionedThroughput(p -> p.readCapacityUnits(5L).writeCapacityUnits(5L))
            .streamSpecification(s -> s.streamEnabled(true).streamViewType(StreamViewType.NEW_AND_OLD_IMAGES)))
        .get(30, TimeUnit.SECONDS).tableDescription().latestStreamArn();
    NODE.closeAfter(() -> {
      dynamodb.deleteTable(b -> b.tableName(TABLE)).exceptionally(failure -> null).join();
      dynamodb.close();
    });
    node = NODE.node();
    lambda = NODE.lambda();
    lambda.createFunction(b -> b.functionName("table-consumer").runtime("provided.al2023").role(ROLE)
        .handler("unused").environment(e -> e.variables(Map.of("OUT", OUT.toString())))
        .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.withBootstrap(RECORDER)))));
  }

  private static void put(String id, int total) throws Exception {
    dynamodb.putItem(b -> b.tableName(TABLE).item(Map.of("id", AttributeValue.fromS(id),
        "total", AttributeValue.fromN(Integer.toString(total)),
        "lines", AttributeValue.fromL(List.of(AttributeValue.fromM(Map.of("sku", AttributeValue.fromS("a")))))))
    ).get(10, TimeUnit.SECONDS);
  }

  private static List<JsonNode> received() {
    List<JsonNode> all = new ArrayList<>();
    try {
      if (Files.exists(OUT)) {
        for (String line : Files.readAllLines(OUT)) {
          JSON.readTree(line).get("Records").forEach(all::add);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return all;
  }

  private static List<JsonNode> await(Predicate<List<JsonNode>> done) {
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    List<JsonNode> all = received();
    while (!done.test(all) && System.nanoTime() < deadline) {
      NodeProcess.sleep(200);
      all = received();
    }
    return all;
  }

  private static String summary(JsonNode r) {
    return r.get("eventName").asText() + " " + r.at("/dynamodb/Keys/id/S").asText();
  }

  @Test
  void itemChangesReachTheFunctionInOrderInAwsShapeAndResumeAfterARestart() throws Exception {
    for (int i = 1; i <= 6; i++) {
      put("order-" + i, i * 10);
    }
    dynamodb.updateItem(b -> b.tableName(TABLE).key(Map.of("id", AttributeValue.fromS("order-3")))
        .updateExpression("SET #t = :t").expressionAttributeNames(Map.of("#t", "total"))
        .expressionAttributeValues(Map.of(":t", AttributeValue.fromN("99")))).get(10, TimeUnit.SECONDS);
    dynamodb.deleteItem(b -> b.tableName(TABLE).key(Map.of("id", AttributeValue.fromS("order-5"))))
        .get(10, TimeUnit.SECONDS);
    var created = lambda.createEventSourceMapping(b -> b.functionName("table-consumer").eventSourceArn(streamArn)
        .startingPosition(EventSourcePosition.TRIM_HORIZON).batchSize(3));
    assertEquals(202, created.sdkHttpResponse().statusCode());
    assertEquals(streamArn, created.eventSourceArn());

    List<JsonNode> all = await(r -> r.size() >= 8);
    assertEquals(List.of("INSERT order-1", "INSERT order-2", "INSERT order-3", "INSERT order-4", "INSERT order-5",
        "INSERT order-6", "MODIFY order-3", "REMOVE order-5"), all.stream().map(DynamoDbStreamMappingIT::summary)
        .toList(), () -> "in the table's order, once each: " + lambda.getEventSourceMapping(b -> b.uuid(created.uuid())));
    JsonNode insert = all.get(0);
    assertEquals("aws:dynamodb", insert.get("eventSource").asText());
    assertEquals(streamArn, insert.get("eventSourceARN").asText());
    assertEquals("NEW_AND_OLD_IMAGES", insert.at("/dynamodb/StreamViewType").asText());
    assertEquals("10", insert.at("/dynamodb/NewImage/total/N").asText());
    assertEquals("a", insert.at("/dynamodb/NewImage/lines/L/0/M/sku/S").asText(), insert.toString());
    assertFalse(insert.get("dynamodb").has("OldImage"), "an insert has no old image");
    assertTrue(insert.at("/dynamodb/SequenceNumber").isTextual() && insert.has("eventID"), insert.toString());
    JsonNode modify = all.get(6);
    assertEquals("30", modify.at("/dynamodb/OldImage/total/N").asText());
    assertEquals("99", modify.at("/dynamodb/NewImage/total/N").asText());
    JsonNode remove = all.get(7);
    assertEquals("50", remove.at("/dynamodb/OldImage/total/N").asText());
    assertFalse(remove.get("dynamodb").has("NewImage"), remove.toString());

    // The function has answered for the last record, but the poller checkpoints just after: a
    // restart before that would replay the batch, as at-least-once allows.
    String last = remove.at("/dynamodb/SequenceNumber").asText();
    JsonNode shards = node.awaitShards(created.uuid(), s -> s.findValuesAsText("LastCheckpoint").contains(last));
    assertTrue(shards.findValuesAsText("LastCheckpoint").contains(last), "checkpointed at " + last + ": " + shards);
    NODE.restart();
    node = NODE.node();
    lambda = NODE.lambda();
    put("order-7", 70);
    all = await(r -> r.size() >= 9);
    NodeProcess.sleep(1_000);
    all = received();
    assertEquals(9, all.size(), "resumed from the checkpoint: nothing delivered twice");
    assertEquals("INSERT order-7", summary(all.get(8)));
    lambda.deleteEventSourceMapping(b -> b.uuid(created.uuid()));
  }

  @Test
  void badDynamoDbMappingsAreRefusedWithWhatToFix() {
    String timestamp = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(
        b -> b.functionName("table-consumer").eventSourceArn(streamArn).startingPosition(
            EventSourcePosition.AT_TIMESTAMP).startingPositionTimestamp(java.time.Instant.now()))).getMessage();
    assertTrue(timestamp.contains("AT_TIMESTAMP is not valid for a DynamoDB Streams source"), timestamp);
    String region = assertThrows(InvalidParameterValueException.class, () -> lambda.createEventSourceMapping(
        b -> b.functionName("table-consumer").startingPosition(EventSourcePosition.LATEST)
            .eventSourceArn("arn:aws:dynamodb:eu-west-1:000000000000:table/orders/stream/2026-01-01T00:00:00.000")))
        .getMessage();
    assertTrue(region.contains("no DynamoDB endpoint is configured for region eu-west-1"), region);
  }
}
