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
 * Synchronous Invoke ({@code RequestResponse}) of {@code -Dfunction} (gatling-echo, created if
 * missing), SigV4-signed, at the arrival rate {@link Target} describes: 200 with no function error.
 */
public class InvokeSimulation extends Simulation {

  private static final String FUNCTION = Target.function("gatling-echo");

  private final ScenarioBuilder invoke = scenario("Invoke").exec(http("Invoke " + FUNCTION)
      .post("/2015-03-31/functions/" + FUNCTION + "/invocations")
      .body(StringBody("{\"from\":\"gatling\",\"at\":#{currentTimeMillis()}}"))
      .check(status().is(200), header("X-Amz-Function-Error").notExists()));

  {
    setUp(invoke.injectOpen(Target.arrivals())).protocols(Target.lambdaApi()).assertions(Target.assertions());
  }

  @Override
  public void before() {
    try (LambdaClient lambda = Target.lambda()) {
      Target.echoFunction(lambda, FUNCTION);
    }
  }
}
