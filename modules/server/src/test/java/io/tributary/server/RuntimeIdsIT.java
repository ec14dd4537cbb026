package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;

/**
 * Today's runtime ids through the AWS SDK: each runs on an interpreter of its own release where the
 * machine has one (Node 22 and 24 from deploy/runtimes.sh), else on the closest (python3.12 on the
 * machine's Python 3.11, java21 on JDK 25), and the version that runs it is what GetFunction shows
 * and what the function itself sees.
 */
class RuntimeIdsIT {

  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  private static final String RUNTIME_ARN = "arn:aws:lambda:us-east-1::runtime:";

  /** Debian's Python 3.11 alone, so that python3.12 takes the closest-interpreter path wherever this runs. */
  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension("it_runtime_ids",
      Map.of("tributary.runtime.interpreters.python", List.of("/usr/bin/python3")));
  private static LambdaClient lambda;

  @BeforeAll
  static void start() {
    lambda = NODE.lambda();
  }

  private static void create(String name, String runtime, String handler, byte[] zip) {
    lambda.createFunction(b -> b.functionName(name).runtime(runtime).role(ROLE).handler(handler).timeout(20)
        .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
  }

  private static InvokeResponse invoke(String name) {
    return lambda.invoke(b -> b.functionName(name).logType(LogType.TAIL).payload(SdkBytes.fromUtf8String("{}")));
  }

  private static String log(InvokeResponse response) {
    return new String(Base64.getDecoder().decode(response.logResult()), StandardCharsets.UTF_8);
  }

  /** The version in the runtime version ARN GetFunction shows, e.g. {@code 3.11.7} of {@code ...runtime:python-3.11.7}. */
  private static String runtimeVersion(String name, String language) {
    String arn = lambda.getFunction(b -> b.functionName(name)).configuration().runtimeVersionConfig()
        .runtimeVersionArn();
    assertTrue(arn.startsWith(RUNTIME_ARN + language + "-"), arn);
    return arn.substring((RUNTIME_ARN + language + "-").length());
  }

  @Test
  void python312RunsOnTheClosestInstalledPythonAndSaysWhich() {
    create("py312", "python3.12", "app.handler", Zips.of(Map.of("app.py", """
        import platform
        def handler(event, context):
            return platform.python_version()
        """)));
    InvokeResponse response = invoke("py312");
    String running = response.payload().asUtf8String().replace("\"", "");
    assertEquals(running, runtimeVersion("py312", "python"), "GetFunction names the Python that runs it");
    assertTrue(running.startsWith("3.11."), "Debian 12's Python runs it: " + running);
    assertTrue(log(response).contains("INIT_START Runtime Version: python:" + running + "\t"), log(response));
    assertEquals("python3.12", lambda.getFunction(b -> b.functionName("py312")).configuration().runtimeAsString());
  }

  @Test
  void java21RunsOnTheNearestNewerJdk() {
    byte[] zip = Zips.javaHandler("example.Feature", """
        package example;
        import com.amazonaws.services.lambda.runtime.Context;
        import com.amazonaws.services.lambda.runtime.RequestHandler;
        import java.util.List;
import java.util.Map;
        public class Feature implements RequestHandler<Map<String, String>, String> {
          public String handleRequest(Map<String, String> event, Context context) {
            return System.getProperty("java.version");
          }
        }
        """);
    create("java21", "java21", "example.Feature::handleRequest", zip);
    InvokeResponse response = invoke("java21");
    String running = response.payload().asUtf8String().replace("\"", "");
    assertTrue(Runtime.Version.parse(running).feature() >= 21, running);
    assertEquals(running, runtimeVersion("java21", "java"));
    assertTrue(log(response).contains("INIT_START Runtime Version: java:" + running + "\t"), log(response));
  }

  @Test
  void node22And24RunOnTheirOwnNode() {
    byte[] zip = Zips.of(Map.of("index.mjs", "export const handler = async () => process.version;\n"));
    for (String major : new String[] {"22", "24"}) {
      create("node" + major, "nodejs" + major + ".x", "index.handler", zip);
      InvokeResponse response = invoke("node" + major);
      String running = response.payload().asUtf8String().replace("\"", "");
      assertTrue(running.startsWith("v" + major + "."), "nodejs" + major + ".x ran on " + running
          + ": run deploy/runtimes.sh to install Node " + major);
      assertEquals(running.substring(1), runtimeVersion("node" + major, "nodejs"));
    }
  }

  @Test
  void idsThatAreNotLambdasOrThatThisNodeCannotRunAreRefusedAndNothingIsStored() {
    LambdaException notLambda = assertThrows(LambdaException.class,
        () -> create("bad-id", "python3", "app.handler", Zips.of(Map.of("app.py", ""))));
    assertEquals(400, notLambda.statusCode());
    assertEquals("ValidationException", notLambda.awsErrorDetails().errorCode());
    assertTrue(notLambda.getMessage().contains("Value 'python3' at 'runtime' failed to satisfy constraint"),
        notLambda.getMessage());

    InvalidParameterValueException ruby = assertThrows(InvalidParameterValueException.class,
        () -> create("bad-id", "ruby3.3", "app.handler", Zips.of(Map.of("app.rb", ""))));
    assertTrue(ruby.getMessage().contains("it has no ruby runtime"), ruby.getMessage());
    assertTrue(ruby.getMessage().contains("nodejs22.x"), "names the runtimes it runs: " + ruby.getMessage());

    InvalidParameterValueException deprecated = assertThrows(InvalidParameterValueException.class,
        () -> create("bad-id", "python3.8", "app.handler", Zips.of(Map.of("app.py", ""))));
    assertTrue(deprecated.getMessage().contains("is no longer supported for creating or updating"),
        deprecated.getMessage());
    assertThrows(ResourceNotFoundException.class, () -> lambda.getFunction(b -> b.functionName("bad-id")));

    create("keeps-runtime", "python3.11", "app.handler", Zips.of(Map.of("app.py", "")));
    assertThrows(InvalidParameterValueException.class, () -> lambda.updateFunctionConfiguration(b -> b
        .functionName("keeps-runtime").runtime("dotnet8")));
    assertEquals("python3.11", lambda.getFunction(b -> b.functionName("keeps-runtime")).configuration()
        .runtimeAsString());
    lambda.updateFunctionConfiguration(b -> b.functionName("keeps-runtime").runtime("java21").handler("a.B"));
    assertEquals("java21", lambda.getFunction(b -> b.functionName("keeps-runtime")).configuration()
        .runtimeAsString());
  }
}
