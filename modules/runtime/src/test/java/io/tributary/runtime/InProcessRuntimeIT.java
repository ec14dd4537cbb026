package io.tributary.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.api.CallerRuns;
import io.tributary.api.FunctionConfig;
import io.tributary.api.InvocationResult;
import io.tributary.runtime.handlers.Greeter;
import io.tributary.runtime.handlers.Shouter;
import io.tributary.runtime.handlers.Sleeper;
import io.tributary.runtime.handlers.Where;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Java handlers in the node's JVM ({@code TRIBUTARY_JAVA_MODE=in-process}), each environment its own classloader. */
class InProcessRuntimeIT {

  private static final Map<String, String> IN_PROCESS = Map.of("TRIBUTARY_JAVA_MODE", "in-process");
  private static final Map<String, String> SHARED = Map.of("TRIBUTARY_JAVA_MODE", "in-process-shared");

  @TempDir
  static Path work;
  private static TestRuntime runtime;

  @BeforeAll
  static void start() {
    runtime = new TestRuntime("in-process-it", work, "");
  }

  @AfterAll
  static void stop() {
    if (runtime != null) {
      runtime.close();
    }
  }

  private static FunctionConfig function(String name, String handler, int timeout, Class<?>... classes) {
    return runtime.code.javaFunction(name, "java17", handler, IN_PROCESS, timeout, classes);
  }

  private static String invoke(FunctionConfig fn, String payload) throws Exception {
    return new String(result(fn, payload).payload(), StandardCharsets.UTF_8);
  }

  private static InvocationResult result(FunctionConfig fn, String payload) throws Exception {
    return runtime.invoke(fn, payload);
  }

  @Test
  void aRequestHandlerRunsWarmWithStaticsOfItsOwn() throws Exception {
    FunctionConfig first = function("greeter-a", "io.tributary.runtime.handlers.Greeter::handleRequest", 3, Greeter.class);
    FunctionConfig second = function("greeter-b", "io.tributary.runtime.handlers.Greeter", 3, Greeter.class);
    InvocationResult ada = result(first, "{\"name\":\"Ada\"}");
    assertNull(ada.functionError(), new String(ada.payload(), StandardCharsets.UTF_8));
    String body = new String(ada.payload(), StandardCharsets.UTF_8);
    assertTrue(body.contains("\"greeting\":\"Hello, Ada\"") && body.contains("\"calls\":1"), body);
    assertTrue(ada.logTail().contains("greeting Ada"), "context.getLogger() is captured: " + ada.logTail());
    assertTrue(ada.logTail().contains("REPORT RequestId: "), ada.logTail());
    assertTrue(invoke(first, "{\"name\":\"Bob\"}").contains("\"calls\":2"), "warm: the same classloader");
    assertTrue(invoke(second, "{\"name\":\"Cy\"}").contains("\"calls\":1"), "another function: statics of its own");
  }

  @Test
  void errorsHaveTheShapeOfAwsJavaRuntime() throws Exception {
    FunctionConfig fn = function("greeter-err", "io.tributary.runtime.handlers.Greeter", 3, Greeter.class);
    InvocationResult failed = result(fn, "{\"fail\":\"Eve\"}");
    assertEquals("Unhandled", failed.functionError());
    String body = new String(failed.payload(), StandardCharsets.UTF_8);
    assertTrue(body.startsWith("{\"errorMessage\":\"cannot greet Eve\",\"errorType\":\"java.lang.IllegalArgumentException\","
        + "\"stackTrace\":["), body);
    FunctionConfig missing = function("nothing", "example.Missing::handleRequest", 3, Greeter.class);
    InvocationResult init = result(missing, "{}");
    assertEquals("Unhandled", init.functionError());
    assertTrue(new String(init.payload(), StandardCharsets.UTF_8).contains("java.lang.ClassNotFoundException"));
  }

  @Test
  void streamAndPojoHandlers() throws Exception {
    assertEquals("\"QUIET\"", invoke(function("shout", "io.tributary.runtime.handlers.Shouter", 3, Shouter.class),
        "\"quiet\""));
    assertEquals("\"loud\"", invoke(function("whisper", "io.tributary.runtime.handlers.Shouter::whisper", 3,
        Shouter.class), "\"LOUD\""));
  }

  @Test
  void aTimedOutInvocationIsAbandonedAndTheNextRunsInAFreshEnvironment() throws Exception {
    FunctionConfig fn = function("sleeper", "io.tributary.runtime.handlers.Sleeper", 1, Sleeper.class);
    InvocationResult timedOut = result(fn, "5000");
    assertEquals("Unhandled", timedOut.functionError());
    assertTrue(new String(timedOut.payload(), StandardCharsets.UTF_8).contains("Task timed out after 1.00 seconds"));
    assertEquals("\"slept 10 ms, 0 s left\"", invoke(fn, "10"));
  }

  @Test
  void aSharedHandlerRunsOnTheDispatcherOnceProvenQuickAndLeavesItForGoodWhenItHangs() throws Exception {
    FunctionConfig fn = runtime.code.javaFunction("where", "java17", "io.tributary.runtime.handlers.Where", SHARED, 1,
        Where.class);
    assertEquals("\"in-process-where with the function's classloader\"", invoke(fn, "0"), "a new environment: its own thread");
    String last;
    int invocations = 1;
    do {
      last = invoke(fn, "0");
      invocations++;
    } while (!last.contains("default-dispatcher") && invocations < 3 * QuickHandlers.PROVEN);
    assertTrue(invocations > QuickHandlers.PROVEN, "only a proven handler moves; this one did at invocation "
        + invocations);
    assertTrue(last.contains("pekko.actor.default-dispatcher") && last.endsWith("with the function's classloader\""),
        "proven quick: on the node's dispatcher, as the function: " + last);

    InvocationResult hung = result(fn, "5000");
    assertEquals("Unhandled", hung.functionError());
    assertTrue(new String(hung.payload(), StandardCharsets.UTF_8).contains("Task timed out after 1.00 seconds"));
    for (int i = 0; i <= QuickHandlers.PROVEN; i++) {
      last = invoke(fn, "0");
    }
    assertEquals("\"in-process-where with the function's classloader\"", last,
        "after a timeout on the dispatcher, the function version stays on its own threads");
  }

  @Test
  void aProvenHandlerRunsOnTheCallersThreadWhereItAllowsAndItsTimeoutStillReachesItThere() throws Exception {
    FunctionConfig fn = runtime.code.javaFunction("where-caller", "java17", "io.tributary.runtime.handlers.Where",
        SHARED, 1, Where.class);
    String caller = Thread.currentThread().getName();
    for (int i = 0; i <= QuickHandlers.PROVEN; i++) {
      invoke(fn, "0");
    }
    assertEquals("\"" + caller + " with the function's classloader\"", CallerRuns.call(() -> quietly(fn, "0")),
        "proven quick, called where the caller allows: on its thread, as the function");
    assertTrue(invoke(fn, "0").contains("pekko.actor.default-dispatcher"), "elsewhere, still on the dispatcher");

    long began = System.nanoTime();
    String hung = CallerRuns.call(() -> quietly(fn, "5000"));
    assertTrue(hung.contains("Task timed out after 1.00 seconds"), hung);
    assertTrue(System.nanoTime() - began < 4_000_000_000L, "the timeout interrupted the handler on the caller's thread");
    assertTrue(!Thread.currentThread().isInterrupted(), "the caller's thread is not left interrupted");
    assertEquals("\"in-process-where-caller with the function's classloader\"", CallerRuns.call(() -> quietly(fn, "0")),
        "after a timeout, the function version stays on its own threads");
  }

  private static String quietly(FunctionConfig fn, String payload) {
    try {
      return invoke(fn, payload);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
