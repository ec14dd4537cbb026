package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.eventbridge.model.EventBridgeException;
import software.amazon.awssdk.services.eventbridge.model.InvalidEventPatternException;
import software.amazon.awssdk.services.eventbridge.model.LimitExceededException;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;
import software.amazon.awssdk.services.eventbridge.model.PutEventsResponse;
import software.amazon.awssdk.services.eventbridge.model.ResourceAlreadyExistsException;
import software.amazon.awssdk.services.eventbridge.model.ResourceNotFoundException;
import software.amazon.awssdk.services.eventbridge.model.Target;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * The event bus end to end through a node, with the AWS SDK's EventBridge client: buses, rules and
 * targets kept across a restart, PutEvents matched by pattern and handed to Lambda targets as
 * Event invokes that run, pushes the function's resource policy does not allow refused into the
 * target's dead-letter queue (a real SQS-compatible server, ElasticMQ), and EventBridge's errors
 * for bad input with nothing stored.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EventBridgeIT {

  private static final String KEYSPACE = "it_eventbridge";
  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  private static final String ACCOUNT = "000000000000";
  private static final String SQS_ENDPOINT = System.getProperty("tributary.it.sqs", "http://127.0.0.1:9424");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path OUT = Path.of("target", "eventbridge-it").toAbsolutePath();

  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension(KEYSPACE, Map.of(
      "tributary.destinations.sqs.endpoints.us-east-1", SQS_ENDPOINT,
      "tributary.destinations.send-timeout", "2s",
      "tributary.bus.second-schedules", "on"));

  private static LambdaClient lambda;
  private static EventBridgeClient events;
  private static SqsClient sqs;

  @BeforeAll
  static void start() throws Exception {
    lambda = NODE.lambda();
    events = NODE.closeAfter(NODE.node().events());
    sqs = NODE.closeAfter(SqsClient.builder().endpointOverride(URI.create(SQS_ENDPOINT)).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x"))).build());
    Files.createDirectories(OUT);
  }

  /** A function that appends each event it gets, one JSON line, to {@code OUT/<name>.jsonl}. */
  private static String recorder(String name) throws Exception {
    Path file = OUT.resolve(name + ".jsonl");
    Files.deleteIfExists(file);
    lambda.createFunction(b -> b.functionName(name).runtime("python3.11").role(ROLE).handler("app.handler")
        .timeout(10).environment(e -> e.variables(Map.of("OUT", file.toString())))
        .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of(Map.of("app.py", """
            import json, os
            def handler(event, context):
                with open(os.environ["OUT"], "a") as f:
                    f.write(json.dumps(event) + "\\n")
                return "ok"
            """))))));
    return lambda.getFunction(b -> b.functionName(name)).configuration().functionArn();
  }

  /** The events {@code name} has run with, once there are {@code count}, for up to 60 s. */
  private static List<JsonNode> received(String name, int count) throws Exception {
    Path file = OUT.resolve(name + ".jsonl");
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    List<JsonNode> got = new ArrayList<>();
    while (System.nanoTime() < deadline) {
      got = new ArrayList<>();
      if (Files.exists(file)) {
        for (String line : Files.readAllLines(file)) {
          got.add(JSON.readTree(line));
        }
      }
      if (got.size() >= count) {
        return got;
      }
      NodeProcess.sleep(200);
    }
    return got;
  }

  private static void allowRule(String function, String ruleArn) {
    lambda.addPermission(b -> b.functionName(function).statementId("events-" + ruleArn.hashCode())
        .action("lambda:InvokeFunction").principal("events.amazonaws.com").sourceArn(ruleArn));
  }

  private static PutEventsRequestEntry entry(String bus, String source, String detail) {
    return PutEventsRequestEntry.builder().eventBusName(bus).source(source).detailType("Order Placed")
        .detail(detail).resources("arn:aws:shop:::order/1").build();
  }

  @Test
  @Order(1)
  void anEventMatchingARuleRunsEachTargetWithEventBridgesEventAndWhatItsInputSettingsMake() throws Exception {
    String orders = recorder("orders-recorder");
    String totals = recorder("totals-recorder");
    String busArn = events.createEventBus(b -> b.name("orders").description("shop orders")).eventBusArn();
    assertEquals("arn:aws:events:us-east-1:" + ACCOUNT + ":event-bus/orders", busArn);
    String ruleArn = events.putRule(b -> b.name("big-orders").eventBusName("orders")
        .eventPattern("{\"source\":[\"shop\"],\"detail\":{\"total\":[{\"numeric\":[\">\",100]}]}}")).ruleArn();
    assertEquals("arn:aws:events:us-east-1:" + ACCOUNT + ":rule/orders/big-orders", ruleArn);
    var put = events.putTargets(b -> b.rule("big-orders").eventBusName("orders").targets(
        Target.builder().id("whole").arn(orders).build(),
        Target.builder().id("total").arn(totals).inputTransformer(t -> t
            .inputPathsMap(Map.of("total", "$.detail.total", "source", "$.source"))
            .inputTemplate("{\"total\": <total>, \"from\": \"<source>\"}")).build()));
    assertEquals(0, put.failedEntryCount());
    allowRule("orders-recorder", ruleArn);
    allowRule("totals-recorder", ruleArn);

    PutEventsResponse response = events.putEvents(b -> b.entries(
        entry("orders", "shop", "{\"total\": 250, \"id\": \"o-1\"}"),
        entry("orders", "shop", "{\"total\": 20, \"id\": \"o-2\"}"),
        entry("orders", "shop", "not json"),
        entry("orders", "aws.ec2", "{\"total\": 500}")));

    assertEquals(2, response.failedEntryCount());
    String id = response.entries().get(0).eventId();
    assertNotNull(id);
    assertNotNull(response.entries().get(1).eventId(), "an event no rule matches is accepted all the same");
    assertEquals("MalformedDetail", response.entries().get(2).errorCode());
    assertEquals("NotAuthorizedForSourceException", response.entries().get(3).errorCode());

    JsonNode event = received("orders-recorder", 1).get(0);
    assertEquals("0", event.get("version").asText());
    assertEquals(id, event.get("id").asText());
    assertEquals("Order Placed", event.get("detail-type").asText());
    assertEquals("shop", event.get("source").asText());
    assertEquals(ACCOUNT, event.get("account").asText());
    assertEquals("us-east-1", event.get("region").asText());
    assertTrue(event.get("time").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"), event.toString());
    assertEquals("arn:aws:shop:::order/1", event.get("resources").get(0).asText());
    assertEquals("o-1", event.get("detail").get("id").asText());
    assertEquals(JSON.readTree("{\"total\": 250, \"from\": \"shop\"}"), received("totals-recorder", 1).get(0));
    NodeProcess.sleep(1000);
    assertEquals(1, received("orders-recorder", 1).size(), "the event under the threshold matched nothing");
    JsonNode view = ruleStatus("orders", "big-orders", v -> v.path("Targets").path("total").has("delivered"));
    assertEquals(ruleArn, view.get("Rule").get("Arn").asText());
    for (String target : List.of("whole", "total")) {
      assertEquals(1, view.get("Targets").get(target).get("matched").asLong(), view.toString());
      assertEquals(1, view.get("Targets").get(target).get("delivered").asLong(), view.toString());
    }
  }

  /** The rule's operations view, asked until {@code done} holds or 10 s have passed (counts are gossiped each second). */
  private static JsonNode ruleStatus(String bus, String rule, java.util.function.Predicate<JsonNode> done)
      throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    JsonNode view = JSON.readTree(NODE.node().signedGet("/tributary/event-buses/" + bus + "/rules/" + rule));
    while (!done.test(view) && System.nanoTime() < deadline) {
      NodeProcess.sleep(200);
      view = JSON.readTree(NODE.node().signedGet("/tributary/event-buses/" + bus + "/rules/" + rule));
    }
    return view;
  }

  @Test
  @Order(2)
  void aPushThePolicyDoesNotAllowIsRefusedCountedAndDeadLettered() throws Exception {
    String function = recorder("unpermitted-recorder");
    String queueUrl = sqs.createQueue(b -> b.queueName("eventbridge-it-dlq")).queueUrl();
    sqs.purgeQueue(b -> b.queueUrl(queueUrl));
    String queueArn = "arn:aws:sqs:us-east-1:" + ACCOUNT + ":eventbridge-it-dlq";
    String ruleArn = events.putRule(b -> b.name("all-shop").eventPattern("{\"source\":[\"shop\"]}")).ruleArn();
    assertEquals("arn:aws:events:us-east-1:" + ACCOUNT + ":rule/all-shop", ruleArn);
    events.putTargets(b -> b.rule("all-shop").targets(Target.builder().id("unpermitted").arn(function)
        .deadLetterConfig(d -> d.arn(queueArn)).build()));
    // A permission for another rule's ARN does not count.
    allowRule("unpermitted-recorder", ruleArn + "-other");

    PutEventsResponse response = events.putEvents(b -> b.entries(entry(null, "shop", "{\"id\": \"o-9\"}")));
    assertEquals(0, response.failedEntryCount());

    List<Message> dead = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (dead.isEmpty() && System.nanoTime() < deadline) {
      dead.addAll(sqs.receiveMessage(b -> b.queueUrl(queueUrl).waitTimeSeconds(1).messageAttributeNames("All"))
          .messages());
    }
    assertEquals(1, dead.size());
    var attributes = dead.get(0).messageAttributes();
    assertEquals("NO_PERMISSIONS", attributes.get("ERROR_CODE").stringValue());
    assertTrue(attributes.get("ERROR_MESSAGE").stringValue().contains("events.amazonaws.com"),
        attributes.get("ERROR_MESSAGE").stringValue());
    assertEquals(ruleArn, attributes.get("RULE_ARN").stringValue());
    assertEquals(function, attributes.get("TARGET_ARN").stringValue());
    assertEquals(response.entries().get(0).eventId(), JSON.readTree(dead.get(0).body()).get("id").asText());
    assertTrue(Files.notExists(OUT.resolve("unpermitted-recorder.jsonl")), "the function did not run");
    String metrics = NODE.node().signedGet("/metrics");
    assertTrue(metrics.lines().anyMatch(l -> l.startsWith("tributary_bus_deliveries_total{")
        && l.contains("outcome=\"refused\"") && l.contains("rule=\"all-shop\"") && !l.endsWith(" 0.0")), metrics);
    JsonNode view = ruleStatus("default", "all-shop", v -> v.path("Targets").path("unpermitted").has("dead_lettered"));
    assertEquals(1, view.get("Targets").get("unpermitted").get("refused").asLong(), view.toString());
    assertEquals(1, view.get("Targets").get("unpermitted").get("dead_lettered").asLong(), view.toString());
    assertFalse(view.get("Targets").get("unpermitted").has("delivered"), view.toString());
    events.removeTargets(b -> b.rule("all-shop").ids("unpermitted"));
    events.deleteRule(b -> b.name("all-shop"));
  }

  /** EventBridge's ValidationException, which its SDK models as no class of its own. */
  private static EventBridgeException validation(org.junit.jupiter.api.function.Executable call) {
    EventBridgeException e = assertThrows(EventBridgeException.class, call);
    assertEquals("ValidationException", e.awsErrorDetails().errorCode(), e.getMessage());
    assertEquals(400, e.statusCode());
    return e;
  }

  @Test
  @Order(3)
  void badInputGetsEventBridgesErrorsAndStoresNothing() {
    validation(() -> events.createEventBus(b -> b.name("aws.mine")));
    assertThrows(ResourceAlreadyExistsException.class, () -> events.createEventBus(b -> b.name("orders")));
    assertThrows(ResourceAlreadyExistsException.class, () -> events.createEventBus(b -> b.name("default")));
    validation(() -> events.deleteEventBus(b -> b.name("default")));
    validation(() -> events.putRule(b -> b.name("bad name!")
        .eventPattern("{\"source\":[\"shop\"]}")));
    InvalidEventPatternException pattern = assertThrows(InvalidEventPatternException.class,
        () -> events.putRule(b -> b.name("bad-pattern").eventPattern("{\"source\":\"shop\"}")));
    assertTrue(pattern.getMessage().startsWith("Event pattern is not valid."), pattern.getMessage());
    validation(() -> events.putRule(b -> b.name("neither")));
    validation(() -> events.putRule(b -> b.name("every-minute-on-orders")
        .eventBusName("orders").scheduleExpression("rate(1 minute)")));
    validation(() -> events.putRule(b -> b.name("bad-rate")
        .scheduleExpression("rate(5 minute)")));
    assertThrows(ResourceNotFoundException.class, () -> events.putRule(b -> b.name("lost").eventBusName("nowhere")
        .eventPattern("{\"source\":[\"shop\"]}")));
    assertThrows(ResourceNotFoundException.class, () -> events.describeRule(b -> b.name("missing")));
    assertThrows(ResourceNotFoundException.class, () -> events.putTargets(b -> b.rule("missing")
        .targets(Target.builder().id("t").arn("arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:x").build())));
    LimitExceededException limit = assertThrows(LimitExceededException.class, () -> events.putTargets(b -> b
        .rule("big-orders").eventBusName("orders").targets(List.of("a", "b", "c", "d").stream().map(t -> Target
            .builder().id(t).arn("arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:" + t).build()).toList())));
    assertTrue(limit.getMessage().contains("at most 5 targets"), limit.getMessage());
    validation(() -> events.putTargets(b -> b.rule("big-orders").eventBusName("orders")
        .targets(Target.builder().id("both").arn("arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:x")
            .input("{}").inputPath("$.detail").build())));
    EventBridgeException size = validation(() -> events.putEvents(b -> b.entries(
        entry("orders", "shop", "{\"pad\": \"" + "x".repeat(600_000) + "\"}"),
        entry("orders", "shop", "{\"pad\": \"" + "x".repeat(600_000) + "\"}"))));
    assertTrue(size.getMessage().startsWith("Total size of the entries in the request is over the limit"),
        size.getMessage());
    List<PutEventsRequestEntry> eleven = new ArrayList<>();
    for (int i = 0; i < 11; i++) {
      eleven.add(entry("orders", "shop", "{}"));
    }
    validation(() -> events.putEvents(b -> b.entries(eleven)));

    var rules = events.listRules(b -> b.eventBusName("orders")).rules();
    assertEquals(List.of("big-orders"), rules.stream().map(r -> r.name()).toList(), "nothing refused was stored");
    assertEquals(2, events.listTargetsByRule(b -> b.rule("big-orders").eventBusName("orders")).targets().size());
    var unsupported = events.putTargets(b -> b.rule("big-orders").eventBusName("orders").targets(Target.builder()
        .id("queue").arn("arn:aws:sqs:us-east-1:" + ACCOUNT + ":somewhere").build()));
    assertEquals(1, unsupported.failedEntryCount());
    assertEquals("queue", unsupported.failedEntries().get(0).targetId());
  }

  @Test
  @Order(4)
  void busesRulesAndTargetsAreKeptAcrossARestart() throws Exception {
    NODE.restart();
    lambda = NODE.lambda();
    events.close();
    events = NODE.closeAfter(NODE.node().events());

    var buses = events.listEventBuses(b -> b.build()).eventBuses();
    assertEquals(List.of("default", "orders"), buses.stream().map(b -> b.name()).toList());
    assertEquals("shop orders", events.describeEventBus(b -> b.name("orders")).description());
    var rule = events.describeRule(b -> b.name("big-orders").eventBusName("orders"));
    assertEquals("ENABLED", rule.stateAsString());
    assertEquals("{\"source\":[\"shop\"],\"detail\":{\"total\":[{\"numeric\":[\">\",100]}]}}", rule.eventPattern());
    var targets = events.listTargetsByRule(b -> b.rule("big-orders").eventBusName("orders")).targets();
    assertEquals(List.of("whole", "total"), targets.stream().map(Target::id).toList());
    assertEquals("{\"total\": <total>, \"from\": \"<source>\"}", targets.get(1).inputTransformer().inputTemplate());
    assertEquals(185, targets.get(0).retryPolicy().maximumRetryAttempts());
    assertEquals(List.of("big-orders"), events.listRuleNamesByTarget(b -> b.eventBusName("orders")
        .targetArn(targets.get(0).arn())).ruleNames());

    events.disableRule(b -> b.name("big-orders").eventBusName("orders"));
    events.putEvents(b -> b.entries(entry("orders", "shop", "{\"total\": 300, \"id\": \"o-3\"}")));
    NodeProcess.sleep(1500);
    assertEquals(1, received("orders-recorder", 1).size(), "a disabled rule matches nothing");
    events.enableRule(b -> b.name("big-orders").eventBusName("orders"));
    PutEventsResponse again = events.putEvents(b -> b.entries(entry("orders", "shop", "{\"total\": 400}")));
    List<JsonNode> got = received("orders-recorder", 2);
    assertEquals(again.entries().get(0).eventId(), got.get(got.size() - 1).get("id").asText());

    assertTrue(events.testEventPattern(b -> b.eventPattern("{\"detail\":{\"total\":[{\"numeric\":[\">\",100]}]}}")
        .event(got.get(0).toString())).result());
    assertFalse(events.testEventPattern(b -> b.eventPattern("{\"source\":[\"elsewhere\"]}")
        .event(got.get(0).toString())).result());
    assertNull(events.describeEventBus(b -> b.build()).description());
  }

  @Test
  @Order(5)
  void aScheduleFiresAScheduledEventEachPeriodWithItsOwnIdAndStopsWhenDisabled() throws Exception {
    String function = recorder("tick-recorder");
    String ruleArn = events.putRule(b -> b.name("every-5s").scheduleExpression("rate(5 seconds)")).ruleArn();
    allowRule("tick-recorder", ruleArn);
    events.putTargets(b -> b.rule("every-5s").targets(Target.builder().id("ticks").arn(function).build()));

    List<JsonNode> ticks = received("tick-recorder", 3);
    assertEquals(3, ticks.size(), ticks.toString());
    JsonNode first = ticks.get(0);
    assertEquals("Scheduled Event", first.get("detail-type").asText());
    assertEquals("aws.events", first.get("source").asText());
    assertEquals(ruleArn, first.get("resources").get(0).asText());
    assertEquals(JSON.createObjectNode(), first.get("detail"));
    assertEquals(3, ticks.stream().map(t -> t.get("id").asText()).distinct().count(), "each tick its own id");
    for (int i = 1; i < ticks.size(); i++) {
      assertEquals(5, java.time.Instant.parse(ticks.get(i).get("time").asText()).getEpochSecond()
          - java.time.Instant.parse(ticks.get(i - 1).get("time").asText()).getEpochSecond(), ticks.toString());
    }

    JsonNode view = ruleStatus("default", "every-5s", v -> v.has("Schedule"));
    assertEquals("rate(5 seconds)", view.get("Schedule").get("Expression").asText(), view.toString());
    assertTrue(view.get("Schedule").get("Node").asText().startsWith("pekko://"), view.toString());
    assertTrue(java.time.Instant.parse(view.get("Schedule").get("NextTick").asText())
        .isAfter(java.time.Instant.parse(view.get("Schedule").get("LastTick").asText())), view.toString());
    events.disableRule(b -> b.name("every-5s"));
    NodeProcess.sleep(1000);
    int fired = received("tick-recorder", 0).size();
    NodeProcess.sleep(7000);
    assertEquals(fired, received("tick-recorder", 0).size(), "a disabled schedule fires nothing");
    events.removeTargets(b -> b.rule("every-5s").ids("ticks"));
    events.deleteRule(b -> b.name("every-5s"));
  }
}
