package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;

/** Synchronous Invoke through the AWS SDK against a node running real runtime processes. */
class InvokeIT {

  private static final String KEYSPACE = "it_invoke";
  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  private static final String ECHO = Zips.bashRuntime("""
      echo "echoing for $AWS_LAMBDA_FUNCTION_NAME version $AWS_LAMBDA_FUNCTION_VERSION"
      if echo "$EVENT" | grep -q '"sleep"'; then sleep "$(echo "$EVENT" | sed -E 's/.*"sleep": *([0-9]+).*/\\1/')"; fi
      curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d "$EVENT" >/dev/null
      """);
  private static TestNode node;
  private static LambdaClient lambda;

  // Shorter than the defaults, so that an invoke outlives the request timeout of other operations,
  // even on a server configured with that one.
  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension(KEYSPACE, Map.of("pekko.http.server.request-timeout", "4s",
      "tributary.http.request-timeout", "4s"));

  @BeforeAll
  static void start() {
    node = NODE.node();
    lambda = NODE.lambda();
  }

  private static void create(String name, String runtime, String handler, byte[] zip, int timeout) {
    lambda.createFunction(b -> b.functionName(name).runtime(runtime).role(ROLE).handler(handler).timeout(timeout)
        .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
  }

  private static InvokeResponse invoke(String name, String qualifier, String payload) {
    return lambda.invoke(b -> b.functionName(name).qualifier(qualifier).logType(LogType.TAIL)
        .payload(SdkBytes.fromUtf8String(payload)));
  }

  @Test
  void aCustomRuntimeAnswersWithItsLogTailAndTheVersionThatRan() {
    create("echo", "provided.al2023", "unused", Zips.withBootstrap(ECHO), 3);
    InvokeResponse first = invoke("echo", null, "{\"hello\":\"world\"}");
    assertEquals(200, first.statusCode());
    assertEquals("{\"hello\":\"world\"}", first.payload().asUtf8String());
    assertEquals("$LATEST", first.executedVersion());
    assertNull(first.functionError());
    String log = new String(Base64.getDecoder().decode(first.logResult()), StandardCharsets.UTF_8);
    assertTrue(log.contains("echoing for echo version $LATEST"), log);
    assertTrue(log.contains("START RequestId: " + first.responseMetadata().requestId()), "the log names the request: " + log);
    assertTrue(log.contains("REPORT RequestId: "), log);

    lambda.publishVersion(b -> b.functionName("echo"));
    lambda.createAlias(b -> b.functionName("echo").name("live").functionVersion("1"));
    InvokeResponse viaAlias = invoke("echo", "live", "[1,2,3]");
    assertEquals("1", viaAlias.executedVersion());
    assertEquals("[1,2,3]", viaAlias.payload().asUtf8String());

    InvokeResponse dryRun = lambda.invoke(b -> b.functionName("echo").invocationType(InvocationType.DRY_RUN));
    assertEquals(204, dryRun.statusCode());
  }

  @Test
  void pythonAndNodeHandlersRunAndTheirErrorsAreUnhandledFunctionErrors() {
    create("py", "python3.11", "app.handler", Zips.of(Map.of("app.py", """
        def handler(event, context):
            if "boom" in event:
                raise RuntimeError("boom: " + event["boom"])
            return {"sum": sum(event["numbers"]), "function": context.function_name}
        """)), 3);
    assertEquals("{\"sum\": 6, \"function\": \"py\"}", invoke("py", null, "{\"numbers\":[1,2,3]}").payload().asUtf8String());
    InvokeResponse failed = invoke("py", null, "{\"boom\":\"now\"}");
    assertEquals(200, failed.statusCode());
    assertEquals("Unhandled", failed.functionError());
    assertTrue(failed.payload().asUtf8String().contains("\"errorType\": \"RuntimeError\""), failed.payload().asUtf8String());

    create("js", "nodejs20.x", "index.handler", Zips.of(Map.of("index.js", """
        exports.handler = async (event) => ({ doubled: event.n * 2 });
        """)), 3);
    assertEquals("{\"doubled\":42}", invoke("js", null, "{\"n\":21}").payload().asUtf8String());
  }

  @Test
  void javaHandlersRunOnJdk17AndJdk25AndInProcess() {
    byte[] zip = Zips.javaHandler("example.Hello", """
        package example;
        import com.amazonaws.services.lambda.runtime.Context;
        import com.amazonaws.services.lambda.runtime.RequestHandler;
        import java.util.Map;
        public class Hello implements RequestHandler<Map<String, String>, String> {
          public String handleRequest(Map<String, String> event, Context context) {
            return "Hello " + event.get("name") + " from Java " + Runtime.version().feature();
          }
        }
        """);
    create("java-hello", "java17", "example.Hello::handleRequest", zip, 10);
    assertEquals("\"Hello Ada from Java 17\"", invoke("java-hello", null, "{\"name\":\"Ada\"}").payload().asUtf8String());
    create("java25-hello", "java25", "example.Hello", zip, 10);
    assertEquals("\"Hello Ada from Java 25\"", invoke("java25-hello", null, "{\"name\":\"Ada\"}").payload().asUtf8String());
    lambda.createFunction(b -> b.functionName("java-in-process").runtime("java17").role(ROLE)
        .handler("example.Hello::handleRequest").environment(e -> e.variables(Map.of("TRIBUTARY_JAVA_MODE", "in-process")))
        .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
    InvokeResponse inProcess = invoke("java-in-process", null, "{\"name\":\"Bo\"}");
    assertEquals("\"Hello Bo from Java 17\"", inProcess.payload().asUtf8String());
    String inProcessLog = new String(Base64.getDecoder().decode(inProcess.logResult()), StandardCharsets.UTF_8);
    assertTrue(inProcessLog.contains("REPORT RequestId: " + inProcess.responseMetadata().requestId()), inProcessLog);
    assertTrue(inProcessLog.contains("INIT_START Runtime Version: java:" + System.getProperty("java.version") + "\t"),
        "in-process handlers run on the node's JVM: " + inProcessLog);
  }

  @Test
  void aTimeoutIsAnUnhandledErrorAndTheFunctionKeepsWorking() {
    create("slow", "provided.al2023", "unused", Zips.withBootstrap(ECHO), 1);
    InvokeResponse timedOut = invoke("slow", null, "{\"sleep\":30}");
    assertEquals("Unhandled", timedOut.functionError());
    assertTrue(timedOut.payload().asUtf8String().contains("Task timed out after 1.00 seconds"),
        timedOut.payload().asUtf8String());
    assertEquals("{\"ok\":1}", invoke("slow", null, "{\"ok\":1}").payload().asUtf8String());
  }

  @Test
  void anInvokeRunsAsLongAsItsFunctionsTimeoutNotTheApisRequestTimeout() {
    create("patient", "provided.al2023", "unused", Zips.withBootstrap(ECHO), 10);
    assertEquals("{\"sleep\":6}", invoke("patient", null, "{\"sleep\":6}").payload().asUtf8String());
  }

  @Test
  void reservedConcurrencyZeroThrottlesEveryInvoke() {
    create("closed", "provided.al2023", "unused", Zips.withBootstrap(ECHO), 3);
    lambda.putFunctionConcurrency(b -> b.functionName("closed").reservedConcurrentExecutions(0));
    TooManyRequestsException throttled = assertThrows(TooManyRequestsException.class,
        () -> lambda.invoke(b -> b.functionName("closed")));
    assertEquals(429, throttled.statusCode());
    assertEquals("ReservedFunctionConcurrentInvocationLimitExceeded", throttled.reasonAsString());
    lambda.deleteFunctionConcurrency(b -> b.functionName("closed"));
    assertEquals("{}", lambda.invoke(b -> b.functionName("closed")).payload().asUtf8String());
  }

  @Test
  void badInvokesGetAwsErrors() throws Exception {
    create("strict", "provided.al2023", "unused", Zips.withBootstrap(ECHO), 3);
    assertThrows(ResourceNotFoundException.class, () -> invoke("nobody", null, "{}"));
    assertThrows(ResourceNotFoundException.class, () -> invoke("strict", "nope", "{}"));
    SignedHttp http = new SignedHttp(node.endpoint());
    HttpResponse<String> notJson = http.send("POST", "/2015-03-31/functions/strict/invocations", "not json");
    assertEquals(400, notJson.statusCode());
    assertEquals("InvalidRequestContentException", notJson.headers().firstValue("X-Amzn-ErrorType").orElse(""));
    HttpResponse<String> tooLarge = http.send("POST", "/2015-03-31/functions/strict/invocations",
        ("\"" + "a".repeat(7 * 1024 * 1024) + "\"").getBytes(StandardCharsets.UTF_8), true);
    assertEquals(413, tooLarge.statusCode());
    assertEquals("RequestTooLargeException", tooLarge.headers().firstValue("X-Amzn-ErrorType").orElse(""));
  }
}
