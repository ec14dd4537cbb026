package io.tributary.gatling;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.net.URI;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionUrlAuthType;
import software.amazon.awssdk.services.lambda.model.ResourceConflictException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;

/**
 * Plain HTTP to the function URL (AuthType NONE, unsigned, as a browser or a webhook calls it) of
 * {@code -Dfunction} (gatling-echo; the URL and its public permissions are created if missing).
 * The request goes to {@code tributary.endpoint} with the URL's host in {@code Host}, so it works
 * without DNS for {@code *.lambda-url.<region>.<domain>}.
 */
public class FunctionUrlSimulation extends Simulation {

  private static final String FUNCTION = Target.function("gatling-echo");
  private static volatile String urlHost;

  private final ScenarioBuilder url = scenario("Function URL").exec(http("POST function URL")
      .post("/gatling")
      .header("Host", session -> urlHost)
      .body(StringBody("{\"from\":\"gatling\",\"at\":#{currentTimeMillis()}}"))
      .check(status().is(200)));

  {
    setUp(url.injectOpen(Target.arrivals())).protocols(Target.plain()).assertions(Target.assertions());
  }

  @Override
  public void before() {
    try (LambdaClient lambda = Target.lambda()) {
      Target.echoFunction(lambda, FUNCTION);
      String functionUrl;
      try {
        functionUrl = lambda.getFunctionUrlConfig(b -> b.functionName(FUNCTION)).functionUrl();
      } catch (ResourceNotFoundException absent) {
        functionUrl = lambda.createFunctionUrlConfig(b -> b.functionName(FUNCTION)
            .authType(FunctionUrlAuthType.NONE)).functionUrl();
      }
      urlHost = URI.create(functionUrl).getHost();
      allow(lambda, "gatling-url", "lambda:InvokeFunctionUrl", false);
      allow(lambda, "gatling-url-invoke", "lambda:InvokeFunction", true);
    }
  }

  private static void allow(LambdaClient lambda, String statement, String action, boolean viaUrl) {
    try {
      lambda.addPermission(b -> {
        b.functionName(FUNCTION).statementId(statement).principal("*").action(action);
        if (viaUrl) {
          b.invokedViaFunctionUrl(true);
        } else {
          b.functionUrlAuthType(FunctionUrlAuthType.NONE);
        }
      });
    } catch (ResourceConflictException present) {
      // Granted by an earlier run.
    }
  }
}
