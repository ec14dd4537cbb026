package io.tributary.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.api.FunctionConfig;
import io.tributary.api.InvocationResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real runtime processes (a bash {@code bootstrap} with curl, as in AWS's custom runtime tutorial). */
class ProcessRuntimeIT {

  private static final String ARN = TestRuntime.ARN;
  private static final String LOOP = """
      #!/bin/bash
      set -euo pipefail
      API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
      COUNT=0
      while true; do
        HEADERS="$(mktemp)"
        EVENT="$(curl -sS -D "$HEADERS" "$API/invocation/next")"
        REQUEST_ID="$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | cut -d' ' -f2 | tr -d '\\r')"
        COUNT=$((COUNT + 1))
        %s
      done
      """;

  /** Temurin's JDK 25, which machines of this project's kind carry beside Debian's JDK 17. */
  static final Path JAVA25 = Path.of(System.getProperty("tributary.it.java25",
      "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java"));

  @TempDir
  static Path work;
  private static TestRuntime runtime;
  private static TestCode code;

  @BeforeAll
  static void start() {
    runtime = new TestRuntime("runtime-it", work, "tributary.runtime.init-timeout = 10s\n"
        + (Files.isExecutable(JAVA25) ? "tributary.runtime.interpreters.java25 = \"" + JAVA25 + "\"" : ""));
    code = runtime.code;
  }

  @AfterAll
  static void stop() {
    if (runtime != null) {
      runtime.close();
    }
  }

  private static FunctionConfig bash(String name, int timeout, String step) {
    return code.function(name, "provided.al2023", "handler", timeout, Map.of("bootstrap", LOOP.formatted(step)));
  }

  private static InvocationResult invoke(FunctionConfig fn, String payload) throws Exception {
    return runtime.invoke(fn, payload);
  }

  private static String text(InvocationResult result) {
    return new String(result.payload(), StandardCharsets.UTF_8);
  }

  @Test
  void aWarmEnvironmentIsReusedAndSeesTheLambdaEnvironment() throws Exception {
    FunctionConfig fn = bash("echo", 3, """
        echo "invocation $COUNT of $AWS_LAMBDA_FUNCTION_NAME in $AWS_REGION, greeting $GREETING"
        curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d "{\\"count\\":$COUNT,\\"event\\":$EVENT}" >/dev/null
        """);
    InvocationResult first = invoke(fn, "{\"n\":1}");
    assertEquals("{\"count\":1,\"event\":{\"n\":1}}", text(first), first.logTail());
    assertNull(first.functionError());
    assertTrue(first.logTail().contains("invocation 1 of echo in eu-west-1, greeting hello"), first.logTail());
    assertTrue(first.logTail().contains("START RequestId: "), first.logTail());
    assertTrue(first.logTail().contains("Init Duration: "), "a cold start reports its init: " + first.logTail());

    InvocationResult second = invoke(fn, "{\"n\":2}");
    assertEquals("{\"count\":2,\"event\":{\"n\":2}}", text(second), "the same process served the second call");
    assertTrue(second.logTail().contains("REPORT RequestId: "), second.logTail());
    assertTrue(runtime.logs.stream().anyMatch(l -> l.logGroup().equals("/aws/lambda/echo")
        && l.logStream().contains("/[$LATEST]") && l.text().contains("invocation 2 of echo")
        && l.text().contains("END RequestId: ")), "every invocation's whole log goes to the node's log store");
    assertTrue(!second.logTail().contains("Init Duration"), second.logTail());
  }

  @Test
  void aTimeoutKillsTheWholeProcessGroupAndTheNextInvokeStartsAfresh() throws Exception {
    String marker = "tributary-orphan-" + UUID.randomUUID();
    FunctionConfig fn = bash("sleepy", 1, """
        if echo "$EVENT" | grep -q sleep; then
          (exec -a %s sleep 300) &
          sleep 30
        fi
        curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d "{\\"count\\":$COUNT}" >/dev/null
        """.formatted(marker));
    InvocationResult timedOut = invoke(fn, "{\"sleep\":true}");
    assertEquals("Unhandled", timedOut.functionError());
    assertTrue(text(timedOut).contains("Task timed out after 1.00 seconds"), text(timedOut));
    assertTrue(text(timedOut).contains("\"errorType\":\"Sandbox.Timeout\""), text(timedOut));
    assertEquals("{\"count\":1}", text(invoke(fn, "{}")), "a fresh environment");
    assertTrue(processesNamed(marker) == 0, "the forked child died with its group");
  }

  @Test
  void aCrashIsAnExitErrorAndAFreshEnvironmentServesTheNextInvoke() throws Exception {
    FunctionConfig fn = bash("crashy", 3, """
        if echo "$EVENT" | grep -q crash; then exit 3; fi
        curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d '"fine"' >/dev/null
        """);
    InvocationResult crashed = invoke(fn, "{\"crash\":true}");
    assertEquals("Unhandled", crashed.functionError());
    assertTrue(text(crashed).contains("Runtime exited with error: exit status 3"), text(crashed));
    assertTrue(text(crashed).contains("Runtime.ExitError"), text(crashed));
    assertEquals("\"fine\"", text(invoke(fn, "{}")));
  }

  @Test
  void functionErrorsKeepTheEnvironmentWarm() throws Exception {
    FunctionConfig fn = bash("failing", 3, """
        curl -sS -X POST "$API/invocation/$REQUEST_ID/error" -H 'Lambda-Runtime-Function-Error-Type: Oops' \\
          -d "{\\"errorMessage\\":\\"call $COUNT failed\\",\\"errorType\\":\\"Oops\\"}" >/dev/null
        """);
    InvocationResult first = invoke(fn, "{}");
    assertEquals("Unhandled", first.functionError());
    assertEquals("{\"errorMessage\":\"call 1 failed\",\"errorType\":\"Oops\"}", text(first));
    assertTrue(text(invoke(fn, "{}")).contains("call 2 failed"));
  }

  @Test
  void aResponseOver6MbIsRefused() throws Exception {
    FunctionConfig fn = bash("huge", 10, """
        head -c 7000000 /dev/zero | tr '\\0' 'a' > "$HEADERS.body"
        curl -sS -X POST "$API/invocation/$REQUEST_ID/response" --data-binary "@$HEADERS.body" >/dev/null || true
        """);
    InvocationResult huge = invoke(fn, "{}");
    assertEquals("Unhandled", huge.functionError());
    assertTrue(text(huge).contains("Function.ResponseSizeTooLarge"), text(huge));
  }

  @Test
  void aPackageWithoutBootstrapFailsWithAnInitError() throws Exception {
    FunctionConfig fn = code.function("empty", "provided.al2023", "handler", 3, Map.of("README", "no bootstrap"));
    InvocationResult result = invoke(fn, "{}");
    assertEquals("Unhandled", result.functionError());
    assertTrue(text(result).contains("Runtime.InvalidEntrypoint"), text(result));
  }

  @Test
  void pythonHandlersGetTheEventAndAContextAndTheirErrorsHaveAwsShape() throws Exception {
    FunctionConfig fn = code.function("py", "python3.11", "app.handler", 3, Map.of("app.py", """
        import os
        def handler(event, context):
            if event.get("fail"):
                raise ValueError("bad input " + str(event["fail"]))
            print("python sees", context.function_name)
            return {"name": context.function_name, "arn": context.invoked_function_arn,
                    "memory": context.memory_limit_in_mb, "remaining": context.get_remaining_time_in_millis() > 0,
                    "greeting": os.environ["GREETING"], "event": event}
        """));
    InvocationResult ok = invoke(fn, "{\"x\":1}");
    assertEquals("{\"name\": \"py\", \"arn\": \"" + ARN + "py\", \"memory\": 128, \"remaining\": true, "
        + "\"greeting\": \"hello\", \"event\": {\"x\": 1}}", text(ok));
    assertTrue(ok.logTail().contains("python sees py"), ok.logTail());
    InvocationResult failed = invoke(fn, "{\"fail\":7}");
    assertEquals("Unhandled", failed.functionError());
    assertTrue(text(failed).startsWith("{\"errorMessage\": \"bad input 7\", \"errorType\": \"ValueError\""), text(failed));
  }

  @Test
  void nodeHandlersAsyncAndTheirErrorsHaveAwsShape() throws Exception {
    FunctionConfig fn = code.function("js", "nodejs20.x", "index.handler", 3, Map.of("index.mjs", """
        export const handler = async (event, context) => {
          if (event.fail) { throw new TypeError('bad input ' + event.fail); }
          console.log('node sees', context.functionName);
          return { name: context.functionName, requestId: context.awsRequestId.length, event };
        };
        """));
    InvocationResult ok = invoke(fn, "{\"x\":1}");
    assertEquals("{\"name\":\"js\",\"requestId\":36,\"event\":{\"x\":1}}", text(ok));
    assertTrue(ok.logTail().contains("INFO\tnode sees js"), ok.logTail());
    InvocationResult failed = invoke(fn, "{\"fail\":7}");
    assertEquals("Unhandled", failed.functionError());
    assertTrue(text(failed).startsWith("{\"errorType\":\"TypeError\",\"errorMessage\":\"bad input 7\""), text(failed));
  }

  @Test
  void anEnvironmentOverItsMemorySizeIsKilledAndReplaced() throws Exception {
    FunctionConfig fn = code.function("hungry", "python3.11", "app.handler", 10, Map.of("app.py", """
        import time
        def handler(event, context):
            if event.get("eat"):
                hoard = b"x" * (300 * 1024 * 1024)
                time.sleep(5)
                return len(hoard)
            return "fine"
        """));
    InvocationResult killed = invoke(fn, "{\"eat\":true}");
    assertEquals("Unhandled", killed.functionError());
    assertTrue(text(killed).contains("Runtime exited with error: signal: killed"), text(killed));
    assertTrue(killed.logTail().contains("exceeds 128 MB"), killed.logTail());
    assertTrue(killed.logTail().contains("Max Memory Used: 128 MB"), killed.logTail());
    assertEquals("\"fine\"", text(invoke(fn, "{}")));
  }

  @Test
  void aHandlerModuleThatDoesNotExistIsAnInitError() throws Exception {
    FunctionConfig fn = code.function("nohandler", "python3.11", "missing.handler", 3, Map.of("app.py", "x = 1\n"));
    InvocationResult result = invoke(fn, "{}");
    assertEquals("Unhandled", result.functionError());
    assertTrue(text(result).contains("Runtime.ImportModuleError"), text(result));
    assertTrue(text(result).contains("Unable to import module 'missing'"), text(result));
  }

  @Test
  void javaHandlersRunThroughAwsRuntimeClientOnJdk17() throws Exception {
    javaHandlers("java17", 17);
  }

  @Test
  void javaHandlersRunThroughAwsRuntimeClientOnJdk25() throws Exception {
    assertTrue(Files.isExecutable(JAVA25), "JDK 25 expected at " + JAVA25 + " (-Dtributary.it.java25=…)");
    javaHandlers("java25", 25);
  }

  private void javaHandlers(String runtimeId, int feature) throws Exception {
    FunctionConfig greeter = code.javaFunction("greeter-" + runtimeId, runtimeId,
        "io.tributary.runtime.handlers.Greeter::handleRequest", io.tributary.runtime.handlers.Greeter.class);
    InvocationResult first = invoke(greeter, "{\"name\":\"Ada\"}");
    assertNull(first.functionError(), text(first));
    assertTrue(text(first).contains("\"greeting\":\"Hello, Ada\""), text(first));
    assertTrue(text(first).contains("\"java\":" + feature), text(first));
    assertTrue(text(first).contains("\"memory\":256"), text(first));
    assertTrue(first.logTail().contains("greeting Ada"), first.logTail());
    assertTrue(text(invoke(greeter, "{\"name\":\"Bob\"}")).contains("\"calls\":2"), "warm: statics kept");
    InvocationResult failed = invoke(greeter, "{\"fail\":\"Eve\"}");
    assertEquals("Unhandled", failed.functionError());
    assertTrue(text(failed).contains("\"errorType\":\"java.lang.IllegalArgumentException\""), text(failed));
    assertTrue(text(failed).contains("cannot greet Eve"), text(failed));

    FunctionConfig shouter = code.javaFunction("shouter-" + runtimeId, runtimeId,
        "io.tributary.runtime.handlers.Shouter", io.tributary.runtime.handlers.Shouter.class);
    assertEquals("\"QUIET\"", text(invoke(shouter, "\"quiet\"")));
    FunctionConfig whisper = code.javaFunction("whisper-" + runtimeId, runtimeId,
        "io.tributary.runtime.handlers.Shouter::whisper", io.tributary.runtime.handlers.Shouter.class);
    assertEquals("\"loud\"", text(invoke(whisper, "\"LOUD\"")));
  }

  private static long processesNamed(String marker) throws IOException {
    try (var dirs = Files.list(Path.of("/proc"))) {
      return dirs.filter(p -> p.getFileName().toString().matches("\\d+")).filter(p -> {
        try {
          return new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8).contains(marker);
        } catch (IOException e) {
          return false;
        }
      }).count();
    }
  }
}
