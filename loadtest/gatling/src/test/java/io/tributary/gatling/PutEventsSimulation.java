package io.tributary.gatling;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.eventbridge.model.ResourceAlreadyExistsException;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.ResourceConflictException;

/**
 * PutEvents on bus {@code -Dbus} (gatling, created if missing) whose rule {@code gatling-all} sends
 * every event of source {@code gatling} to {@code -Dfunction} (gatling-echo), SigV4-signed for
 * {@code events}, {@code -Dentries} entries per request (1 to 10, default 1). Each request must be
 * answered 200 with {@code FailedEntryCount} 0: every entry durable in the function's queue. The
 * response time is the hand-off's, not the function's run.
 */
public class PutEventsSimulation extends Simulation {

  private static final String FUNCTION = Target.function("gatling-echo");
  private static final String BUS = System.getProperty("bus", "gatling");
  private static final int ENTRIES = Integer.getInteger("entries", 1);

  private static String body() {
    StringBuilder entries = new StringBuilder();
    for (int i = 0; i < ENTRIES; i++) {
      entries.append(i == 0 ? "" : ",").append("{\"EventBusName\":\"").append(BUS)
          .append("\",\"Source\":\"gatling\",\"DetailType\":\"load\",\"Detail\":\"{\\\"n\\\":").append(i)
          .append(",\\\"at\\\":#{currentTimeMillis()}}\"}");
    }
    return "{\"Entries\":[" + entries + "]}";
  }

  private final ScenarioBuilder put = scenario("PutEvents").exec(http("PutEvents " + ENTRIES + " to " + BUS)
      .post("/")
      .header("X-Amz-Target", "AWSEvents.PutEvents")
      .header("Content-Type", "application/x-amz-json-1.1")
      .body(StringBody(body()))
      .check(status().is(200), jsonPath("$.FailedEntryCount").ofInt().is(0)));

  {
    setUp(put.injectOpen(Target.arrivals())).protocols(Target.eventsApi()).assertions(Target.assertions());
  }

  @Override
  public void before() {
    String functionArn;
    try (LambdaClient lambda = Target.lambda()) {
      Target.echoFunction(lambda, FUNCTION);
      functionArn = lambda.getFunction(b -> b.functionName(FUNCTION)).configuration().functionArn();
      String ruleArn = functionArn.replace(":lambda:", ":events:").replaceFirst(":function:.*",
          ":rule/" + BUS + "/gatling-all");
      try {
        lambda.addPermission(b -> b.functionName(FUNCTION).statementId("gatling-" + BUS).principal(
            "events.amazonaws.com").action("lambda:InvokeFunction").sourceArn(ruleArn));
      } catch (ResourceConflictException present) {
        // Allowed by an earlier run.
      }
    }
    try (EventBridgeClient events = Target.events()) {
      try {
        events.createEventBus(b -> b.name(BUS));
      } catch (ResourceAlreadyExistsException present) {
        // Made by an earlier run.
      }
      events.putRule(b -> b.name("gatling-all").eventBusName(BUS).eventPattern("{\"source\":[\"gatling\"]}"));
      events.putTargets(b -> b.rule("gatling-all").eventBusName(BUS).targets(t -> t.id("echo").arn(functionArn)));
    }
  }
}
