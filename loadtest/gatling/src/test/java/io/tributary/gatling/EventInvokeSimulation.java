package io.tributary.gatling;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.header;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * Event invokes of {@code -Dfunction} (gatling-echo, created if missing), SigV4-signed: each must
 * be answered 202 with its request id, which means it is durable in Cassandra. The response time
 * is the accept's, not the function's run.
 */
public class EventInvokeSimulation extends Simulation {

  private static final String FUNCTION = Target.function("gatling-echo");

  private final ScenarioBuilder event = scenario("Event invoke").exec(http("Event invoke " + FUNCTION)
      .post("/2015-03-31/functions/" + FUNCTION + "/invocations")
      .header("X-Amz-Invocation-Type", "Event")
      .body(StringBody("{\"from\":\"gatling\",\"at\":#{currentTimeMillis()}}"))
      .check(status().is(202), header("x-amzn-RequestId").exists()));

  {
    setUp(event.injectOpen(Target.arrivals())).protocols(Target.lambdaApi()).assertions(Target.assertions());
  }

  @Override
  public void before() {
    try (LambdaClient lambda = Target.lambda()) {
      Target.echoFunction(lambda, FUNCTION);
    }
  }
}
