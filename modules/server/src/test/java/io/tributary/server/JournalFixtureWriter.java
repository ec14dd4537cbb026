package io.tributary.server;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Filter;
import software.amazon.awssdk.services.lambda.model.FunctionResponseType;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * Writes the journal fixture that {@link JournalReplayIT} replays: drives a node of this release
 * through the public API, then exports the rows its journal and snapshot store hold, and records
 * what the API answered for each entity at the end. Not a test: it runs only when asked.
 *
 * <p>To write the fixture of a release, start a Cassandra and an ElasticMQ on ports of your own
 * and run it from the project root (about two minutes), naming a directory that holds no fixture:
 *
 * <pre>
 * bash deploy/cassandra.sh start --dir /tmp/jf-cass --cql-port 9442 --storage-port 7400
 * bash deploy/elasticmq.sh start --dir /tmp/jf-sqs --port 9624
 * mvn -B -o -pl modules/server -am verify -Dit.test=JournalFixtureWriter \
 *     -Dtributary.fixture.write=src/test/resources/journal/release-0.1 \
 *     -Dfailsafe.failIfNoSpecifiedTests=false -Dtest=NoSuchTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dtributary.it.cassandra=127.0.0.1:9442 -Dtributary.it.sqs=http://127.0.0.1:9624
 * bash deploy/elasticmq.sh stop --dir /tmp/jf-sqs
 * bash deploy/cassandra.sh stop --dir /tmp/jf-cass
 * </pre>
 *
 * The directory is relative to modules/server. It gets {@code messages.jsonl} and
 * {@code snapshots.jsonl}, the rows as {@link JournalRows} writes them, and {@code expected.json},
 * the answers (status and body) of the read operations below, and ListFunctions's. A fixture is
 * what one release wrote, like PersistedSerializerTest's golden files: it refuses to write over
 * one, and a later release writes a directory of its own.
 *
 * <p>What it does, so that every event type this release persists is in a journal row:
 *
 * <ul>
 *   <li>{@code fixture-fn}: created, code and configuration updated, versions 1 to 3 published and
 *       1 deleted, alias {@code live} created and updated (routing to version 2), {@code gone}
 *       created and deleted, reserved concurrency put, deleted, put again, event invoke configs put,
 *       updated and deleted, permissions added (one on version 1, removed with it) and removed,
 *       tags added and removed. An SQS mapping on it is created, reads one message, is updated
 *       (batch size and window, a filter, partial batch responses), disabled, then updated until its
 *       entity has taken a snapshot ({@code MappingState.v1}); a second mapping is created and
 *       deleted.</li>
 *   <li>{@code fixture-async}: python3.11, with a dead-letter queue and one retry; three Event
 *       invokes succeed, one fails twice (a {@code RetryScheduled}, then {@code RetriesExhausted},
 *       dead-lettered), in the group commits ({@code EventsCommitted}) of its queue's partitions.</li>
 *   <li>{@code fixture-reborn}: created with version 1, deleted, created again.</li>
 *   <li>{@code fixture-snapshot}: tagged and untagged until its entity has taken a snapshot
 *       ({@code FunctionState.v1}), then tagged and untagged once more, so that a replay reads the
 *       snapshot and the events after it.</li>
 * </ul>
 *
 * <p>Not in the fixture: the queue's own snapshot ({@code AsyncQueueSnapshot.v1}, every 5,000
 * journal rows), and {@code EventAccepted}, {@code EventFinished} as rows of their own, which only
 * releases before group commits wrote (here they are inside {@code EventsCommitted}); the golden
 * files of PersistedSerializerTest keep those bytes.
 */
@EnabledIfSystemProperty(named = "tributary.fixture.write", matches = ".+")
class JournalFixtureWriter {

  private static final String KEYSPACE = "fixture_writer";
  private static final String SQS = System.getProperty("tributary.it.sqs", "http://127.0.0.1:9424");
  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  private static final String ARN = "arn:aws:lambda:us-east-1:000000000000:function:";
  private static final String QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:";
  private static final Map<String, Object> SETTINGS = Map.of(
      "tributary.async.function-error-delays", List.of("1s", "1s"),
      "tributary.async.wake-interval", "1s",
      "tributary.mappings.refresh", "500ms",
      "tributary.destinations.sqs.endpoints.us-east-1", SQS);
  private static final String HANDLER = """
      def handler(event, context):
          return {"records": len(event.get("Records", []))}
      """;
  private static final String ASYNC_HANDLER = """
      def handler(event, context):
          if event.get("fail"):
              raise Exception("asked to fail")
          return event
      """;

  private final ObjectNode expected = JournalRows.JSON.createObjectNode();
  private final ArrayNode answers = expected.putArray("answers");
  private TestNode node;
  private LambdaClient lambda;
  private SignedHttp http;

  @Test
  void write() throws Exception {
    Path out = Path.of(System.getProperty("tributary.fixture.write"));
    if (Files.exists(out.resolve("messages.jsonl"))) {
      throw new IllegalStateException(out.toAbsolutePath() + " holds a fixture already: name a new directory");
    }
    TestNode.dropKeyspaces(KEYSPACE);
    node = TestNode.start(KEYSPACE, TestNode.freePort(), SETTINGS);
    lambda = node.client();
    http = new SignedHttp(node.endpoint());
    try (CqlSession cql = JournalRows.session(); SqsClient sqs = sqs()) {
      try {
        drive(cql, sqs);
      } finally {
        lambda.close();
        node.close();
      }
      Files.createDirectories(out);
      writeLines(out.resolve("messages.jsonl"), JournalRows.export(cql, KEYSPACE + "_journal", "messages"));
      writeLines(out.resolve("snapshots.jsonl"), JournalRows.export(cql, KEYSPACE + "_snapshot", "snapshots"));
      Files.writeString(out.resolve("expected.json"),
          JournalRows.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(expected) + "\n");
    }
  }

  /** Makes the entities' events, then records the answers while the node still runs. */
  private void drive(CqlSession cql, SqsClient sqs) throws Exception {
    String ordersUrl = sqs.createQueue(b -> b.queueName("fixture-orders")).queueUrl();
    sqs.createQueue(b -> b.queueName("fixture-dead-letters"));
    sqs.createQueue(b -> b.queueName("fixture-unused"));

    function();
    asyncQueue();
    reborn();
    snapshottedFunction(cql);
    String mapping = mapping(cql, sqs, ordersUrl);
    String deletedMapping = deletedMapping();

    for (String fn : List.of("fixture-fn", "fixture-async", "fixture-reborn", "fixture-snapshot")) {
      recordFunction(fn);
    }
    for (String qualifier : List.of("1", "2", "3", "live")) {
      record("GetFunction", "/2015-03-31/functions/fixture-fn?Qualifier=" + qualifier);
    }
    record("GetAlias", "/2015-03-31/functions/fixture-fn/aliases/live");
    record("GetAlias", "/2015-03-31/functions/fixture-fn/aliases/gone");
    record("GetPolicy", "/2015-03-31/functions/fixture-fn/policy?Qualifier=live");
    record("GetPolicy", "/2015-03-31/functions/fixture-fn/policy?Qualifier=1");
    record("GetFunctionEventInvokeConfig", "/2019-09-25/functions/fixture-fn/event-invoke-config?Qualifier=live");
    record("GetAsyncQueue", "/tributary/functions/fixture-async/async-queue");
    record("GetEventSourceMapping", "/2015-03-31/event-source-mappings/" + mapping);
    record("GetEventSourceMapping", "/2015-03-31/event-source-mappings/" + deletedMapping);
    expected.set("ListFunctions", JournalReplayIT.comparable(answer(JournalReplayIT.LIST_FUNCTIONS).body()));
  }

  private void function() {
    lambda.createFunction(b -> b.functionName("fixture-fn").runtime("python3.11").role(ROLE).handler("app.handler")
        .description("first").timeout(10).memorySize(256).environment(e -> e.variables(Map.of("STAGE", "fixture")))
        .tags(Map.of("team", "platform", "stage", "fixture"))
        .code(c -> c.zipFile(zip(HANDLER))));
    lambda.updateFunctionCode(b -> b.functionName("fixture-fn").zipFile(zip(HANDLER + "# version 2\n")));
    lambda.updateFunctionConfiguration(b -> b.functionName("fixture-fn").description("second").timeout(20));
    lambda.publishVersion(b -> b.functionName("fixture-fn").description("version one"));
    lambda.addPermission(b -> b.functionName("fixture-fn").qualifier("1").statementId("old-version")
        .action("lambda:InvokeFunction").principal("events.amazonaws.com"));
    lambda.updateFunctionConfiguration(b -> b.functionName("fixture-fn").memorySize(512));
    lambda.publishVersion(b -> b.functionName("fixture-fn"));
    lambda.updateFunctionConfiguration(b -> b.functionName("fixture-fn").description("third")
        .environment(e -> e.variables(Map.of("STAGE", "fixture", "LEVEL", "3"))));
    lambda.publishVersion(b -> b.functionName("fixture-fn").description("version three"));
    lambda.deleteFunction(b -> b.functionName("fixture-fn").qualifier("1"));

    lambda.createAlias(b -> b.functionName("fixture-fn").name("live").functionVersion("2").description("live"));
    lambda.updateAlias(b -> b.functionName("fixture-fn").name("live").functionVersion("3")
        .routingConfig(r -> r.additionalVersionWeights(Map.of("2", 0.25))));
    lambda.createAlias(b -> b.functionName("fixture-fn").name("gone").functionVersion("3"));
    lambda.deleteAlias(b -> b.functionName("fixture-fn").name("gone"));

    lambda.putFunctionConcurrency(b -> b.functionName("fixture-fn").reservedConcurrentExecutions(5));
    lambda.deleteFunctionConcurrency(b -> b.functionName("fixture-fn"));
    lambda.putFunctionConcurrency(b -> b.functionName("fixture-fn").reservedConcurrentExecutions(7));

    lambda.putFunctionEventInvokeConfig(b -> b.functionName("fixture-fn").maximumRetryAttempts(1)
        .destinationConfig(d -> d.onFailure(f -> f.destination(ARN + "fixture-async"))));
    lambda.updateFunctionEventInvokeConfig(b -> b.functionName("fixture-fn").maximumEventAgeInSeconds(3600));
    lambda.putFunctionEventInvokeConfig(b -> b.functionName("fixture-fn").qualifier("live").maximumRetryAttempts(0));
    lambda.deleteFunctionEventInvokeConfig(b -> b.functionName("fixture-fn").qualifier("live"));

    lambda.addPermission(b -> b.functionName("fixture-fn").statementId("s3").action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com").sourceArn("arn:aws:s3:::fixture-bucket").sourceAccount("000000000000"));
    lambda.addPermission(b -> b.functionName("fixture-fn").qualifier("live").statementId("live-sns")
        .action("lambda:InvokeFunction").principal("sns.amazonaws.com"));
    lambda.addPermission(b -> b.functionName("fixture-fn").statementId("temporary").action("lambda:GetFunction")
        .principal("000000000000"));
    lambda.removePermission(b -> b.functionName("fixture-fn").statementId("temporary"));

    lambda.tagResource(b -> b.resource(ARN + "fixture-fn").tags(Map.of("owner", "fixtures", "cost", "7")));
    lambda.untagResource(b -> b.resource(ARN + "fixture-fn").tagKeys("stage"));
  }

  /** Three events succeed; one fails, is retried once and dead-lettered. */
  private void asyncQueue() throws Exception {
    lambda.createFunction(b -> b.functionName("fixture-async").runtime("python3.11").role(ROLE).handler("app.handler")
        .deadLetterConfig(d -> d.targetArn(QUEUE_ARN + "fixture-dead-letters"))
        .code(c -> c.zipFile(zip(ASYNC_HANDLER))));
    lambda.putFunctionEventInvokeConfig(b -> b.functionName("fixture-async").maximumRetryAttempts(1));
    for (String payload : List.of("{\"n\":1}", "{\"n\":2}", "{\"fail\":true}", "{\"n\":3}")) {
      lambda.invoke(b -> b.functionName("fixture-async").invocationType(InvocationType.EVENT)
          .payload(SdkBytes.fromUtf8String(payload)));
    }
    await("the async queue to finish its 4 events", () -> {
      JsonNode queue = answer("/tributary/functions/fixture-async/async-queue").body();
      return queue.get("ApproximateDepth").asInt() == 0 && queue.get("InFlight").asInt() == 0
          && queue.path("Outcomes").path("Success").asInt() == 3
          && queue.path("Outcomes").path("RetriesExhausted").asInt() == 1
          && queue.get("DeadLettered").asInt() == 1;
    });
  }

  private void reborn() {
    lambda.createFunction(b -> b.functionName("fixture-reborn").runtime("python3.11").role(ROLE).handler("app.handler")
        .description("before").publish(true).code(c -> c.zipFile(zip(HANDLER))));
    lambda.deleteFunction(b -> b.functionName("fixture-reborn"));
    lambda.createFunction(b -> b.functionName("fixture-reborn").runtime("python3.11").role(ROLE).handler("app.handler")
        .description("after").code(c -> c.zipFile(zip(HANDLER))));
  }

  private void snapshottedFunction(CqlSession cql) {
    lambda.createFunction(b -> b.functionName("fixture-snapshot").runtime("python3.11").role(ROLE)
        .handler("app.handler").tags(Map.of("kept", "yes")).code(c -> c.zipFile(zip(HANDLER))));
    for (int round = 1; !hasSnapshot(cql, "Function|fixture-snapshot"); round++) {
      String n = Integer.toString(round);
      lambda.tagResource(b -> b.resource(ARN + "fixture-snapshot").tags(Map.of("round", n)));
      lambda.untagResource(b -> b.resource(ARN + "fixture-snapshot").tagKeys("round"));
    }
    lambda.tagResource(b -> b.resource(ARN + "fixture-snapshot").tags(Map.of("round", "last")));
    lambda.untagResource(b -> b.resource(ARN + "fixture-snapshot").tagKeys("kept"));
  }

  private String mapping(CqlSession cql, SqsClient sqs, String ordersUrl) throws Exception {
    String uuid = lambda.createEventSourceMapping(b -> b.functionName("fixture-fn")
        .eventSourceArn(QUEUE_ARN + "fixture-orders").batchSize(5)).uuid();
    String path = "/2015-03-31/event-source-mappings/" + uuid;
    await("the mapping to be Enabled", () -> answer(path).body().get("State").asText().equals("Enabled"));
    sqs.sendMessage(b -> b.queueUrl(ordersUrl).messageBody("{\"kind\":\"order\",\"n\":1}"));
    await("the mapping to report OK", () -> "OK".equals(answer(path).body().path("LastProcessingResult").asText()));
    lambda.updateEventSourceMapping(b -> b.uuid(uuid).batchSize(7).maximumBatchingWindowInSeconds(1)
        .functionResponseTypes(FunctionResponseType.REPORT_BATCH_ITEM_FAILURES)
        .filterCriteria(f -> f.filters(Filter.builder().pattern("{\"body\":{\"kind\":[\"order\"]}}").build())));
    await("the updated mapping to be Enabled", () -> answer(path).body().get("State").asText().equals("Enabled"));
    lambda.updateEventSourceMapping(b -> b.uuid(uuid).enabled(false));
    await("the mapping to be Disabled", () -> answer(path).body().get("State").asText().equals("Disabled"));
    for (int round = 0; !hasSnapshot(cql, "EventSourceMapping|" + uuid); round++) {
      int size = 8 + round % 2;
      lambda.updateEventSourceMapping(b -> b.uuid(uuid).batchSize(size));
    }
    lambda.updateEventSourceMapping(b -> b.uuid(uuid).batchSize(10).maximumBatchingWindowInSeconds(2));
    return uuid;
  }

  private String deletedMapping() {
    String uuid = lambda.createEventSourceMapping(b -> b.functionName("fixture-fn")
        .eventSourceArn(QUEUE_ARN + "fixture-unused").enabled(false)).uuid();
    lambda.deleteEventSourceMapping(b -> b.uuid(uuid));
    return uuid;
  }

  private void recordFunction(String fn) throws Exception {
    String tags = URLEncoder.encode(ARN + fn, StandardCharsets.UTF_8);
    record("GetFunction", "/2015-03-31/functions/" + fn);
    record("ListVersionsByFunction", "/2015-03-31/functions/" + fn + "/versions");
    record("ListAliases", "/2015-03-31/functions/" + fn + "/aliases");
    record("GetFunctionConcurrency", "/2019-09-30/functions/" + fn + "/concurrency");
    record("GetPolicy", "/2015-03-31/functions/" + fn + "/policy");
    record("ListTags", "/2017-03-31/tags/" + tags);
    record("GetFunctionEventInvokeConfig", "/2019-09-25/functions/" + fn + "/event-invoke-config");
    record("ListFunctionEventInvokeConfigs", "/2019-09-25/functions/" + fn + "/event-invoke-config/list");
  }

  private void record(String operation, String path) throws Exception {
    Answer answer = answer(path);
    ObjectNode entry = answers.addObject();
    entry.put("operation", operation);
    entry.put("path", path);
    entry.put("status", answer.status());
    entry.set("body", JournalReplayIT.comparable(answer.body()));
  }

  private record Answer(int status, JsonNode body) {}

  private Answer answer(String path) throws Exception {
    HttpResponse<String> response = http.send("GET", path, (String) null);
    return new Answer(response.statusCode(), JournalRows.JSON.readTree(response.body()));
  }

  private static boolean hasSnapshot(CqlSession cql, String persistenceId) {
    return cql.execute(SimpleStatement.newInstance("SELECT sequence_nr FROM " + KEYSPACE
        + "_snapshot.snapshots WHERE persistence_id = ?", persistenceId)).one() != null;
  }

  private interface Condition {
    boolean holds() throws Exception;
  }

  private static void await(String what, Condition condition) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!condition.holds()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("Waited 60 s for " + what);
      }
      Thread.sleep(200);
    }
  }

  private static SdkBytes zip(String handler) {
    return SdkBytes.fromByteArray(Zips.of(Map.of("app.py", handler)));
  }

  private static SqsClient sqs() {
    return SqsClient.builder().endpointOverride(URI.create(SQS)).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("fixture", "fixture")))
        .build();
  }

  private static void writeLines(Path file, List<ObjectNode> rows) throws Exception {
    StringBuilder lines = new StringBuilder();
    for (ObjectNode row : rows) {
      lines.append(JournalRows.JSON.writeValueAsString(row)).append('\n');
    }
    Files.writeString(file, lines);
  }
}
