package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvocationType;

/**
 * A backlog of Event invokes drains at the function's concurrency: the queue hands each event to
 * the Dispatcher, which starts it as soon as a slot is free, instead of having it refused and
 * backed off on its own. The node keeps AWS's throttle backoff (1 s growing to 5 min), which a
 * backlog must never meet, and is killed with SIGKILL and restarted in the second test.
 */
class AsyncDrainIT {

  private static final String KEYSPACE = "it_drain";
  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  /** Events per backlog (the -Pchaos profile sends more). */
  private static final int EVENTS = Integer.getInteger("tributary.chaos.backlog-events", 60);
  private static final int RESERVED = 2;
  private static final String SLEEP = "0.5";
  private static final Duration READY = Duration.ofSeconds(120);
  private static final Path LOGS = Path.of("target", "async-drain-it").toAbsolutePath();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static NodeProcess node;

  @BeforeAll
  static void start() throws Exception {
    Files.createDirectories(LOGS);
    TestNode.dropKeyspaces(KEYSPACE);
    int artery = TestNode.freePort();
    node = new NodeProcess(TestNode.freePort(), artery, List.of(artery), KEYSPACE, LOGS.resolve("node.log"), Map.of());
    node.start().awaitReady(READY);
  }

  @AfterAll
  static void stop() {
    node.close();
    NodeExtension.dropKeyspaces(KEYSPACE);
  }

  /** A function that runs {@value #SLEEP} s per event, with reserved concurrency {@value #RESERVED}. */
  private static Path paced(String name) throws Exception {
    return paced(name, SLEEP, RESERVED);
  }

  private static Path paced(String name, String sleep, int reserved) throws Exception {
    Path out = LOGS.resolve(name + ".log");
    Files.deleteIfExists(out);
    try (LambdaClient lambda = node.client()) {
      lambda.createFunction(b -> b.functionName(name).runtime("python3.11").role(ROLE).handler("app.handler")
          .timeout(60).environment(e -> e.variables(Map.of("OUT", out.toString(), "SLEEP", sleep)))
          .code(c -> c.zipFile(SdkBytes.fromByteArray(RunLog.PACED))));
      lambda.putFunctionConcurrency(b -> b.functionName(name).reservedConcurrentExecutions(reserved));
    }
    return out;
  }

  /** Twice what the backlog needs at capacity, and a minute. */
  private static Duration drainTime() {
    return Duration.ofMillis((long) (2 * EVENTS * Double.parseDouble(SLEEP) * 1000 / RESERVED)).plusSeconds(60);
  }

  private static List<String> send(String name, int events) {
    List<String> ids = new ArrayList<>();
    try (LambdaClient lambda = node.client()) {
      for (int i = 0; i < events; i++) {
        String payload = "{\"i\":" + i + "}";
        ids.add(lambda.invoke(b -> b.functionName(name).invocationType(InvocationType.EVENT)
            .payload(SdkBytes.fromUtf8String(payload))).responseMetadata().requestId());
      }
    }
    return ids;
  }

  private static JsonNode queue(String name) throws Exception {
    return get("/tributary/functions/" + name + "/async-queue");
  }

  private static JsonNode get(String path) throws Exception {
    return JSON.readTree(new SignedHttp(node.endpoint()).send("GET", path, (String) null).body());
  }

  @Test
  void anEventThatWaitsForConcurrencyPastItsMaximumAgeEndsWithoutRunning() throws Exception {
    Path out = paced("aging", "35", 1);
    try (LambdaClient lambda = node.client()) {
      lambda.putFunctionEventInvokeConfig(b -> b.functionName("aging").maximumEventAgeInSeconds(60));
    }
    // One slot, 35 s a run: the first runs at once, the second after 35 s, the third would start after 70 s.
    List<String> ids = send("aging", 3);
    long deadline = System.nanoTime() + Duration.ofSeconds(100).toNanos();
    String expired = null;
    Map<String, String> seen = new java.util.TreeMap<>();
    while (expired == null && System.nanoTime() < deadline) {
      NodeProcess.sleep(500);
      for (String id : ids) {
        JsonNode event = get("/tributary/functions/aging/async-events/" + id);
        seen.put(id, event.get("Status").asText() + (event.has("Condition") ? " " + event.get("Condition").asText() : ""));
        if ("EventAgeExceeded".equals(event.path("Condition").asText())) {
          expired = id;
          assertEquals(0, event.get("Attempts").asInt(), event.toString());
        }
      }
    }
    assertTrue(expired != null, "one event reached its maximum age waiting for the slot: " + seen);
    String gone = expired;
    assertTrue(RunLog.read(out).runs().stream().noneMatch(r -> r.requestId().equals(gone)), "it never ran");
    assertEquals(1, seen.values().stream().filter(s -> s.equals("Running")).count(),
        "another holds the slot meanwhile: " + seen);
  }

  @Test
  void aBacklogDrainsAtTheFunctionsConcurrencyAndIsNeverThrottled() throws Exception {
    Path out = paced("backlog");
    List<String> ids = send("backlog", EVENTS);
    int mostWaiting = 0;
    double fastestDrain = 0;
    JsonNode view = queue("backlog");
    long deadline = System.nanoTime() + drainTime().toNanos();
    while (view.at("/Outcomes/Success").asInt() < EVENTS && System.nanoTime() < deadline) {
      mostWaiting = Math.max(mostWaiting, view.get("WaitingForConcurrency").asInt());
      fastestDrain = Math.max(fastestDrain, view.get("DrainRate").asDouble());
      NodeProcess.sleep(250);
      view = queue("backlog");
    }
    RunLog runs = RunLog.read(out);
    double capacity = RESERVED / Double.parseDouble(SLEEP);
    System.out.printf("backlog of %d, reserved %d, %s s handler: drained in %.1f s, %.2f of capacity"
            + " (%.1f events/s of %.1f), peak %d at once, most waiting for concurrency %d, fastest drain rate %.1f/s%n",
        EVENTS, RESERVED, SLEEP, runs.spanMillis() / 1000.0, runs.utilization(RESERVED),
        EVENTS * 1000.0 / runs.spanMillis(), capacity, runs.peakConcurrency(), mostWaiting, fastestDrain);
    assertEquals(EVENTS, view.at("/Outcomes/Success").asInt(), view.toString());
    assertEquals(ids.size(), runs.perRequest().size(), "every event ran");
    assertTrue(runs.peakConcurrency() <= RESERVED, "never more at once than reserved: " + runs.peakConcurrency());
    assertTrue(runs.utilization(RESERVED) >= 0.9,
        "the reserved slots were busy " + runs.utilization(RESERVED) + " of the time (target 0.9)");
    assertEquals(0, view.get("Throttles").size(), "no other traffic competed: nothing throttled " + view);
    assertTrue(mostWaiting > 0, "the queue view showed events waiting for concurrency");
    assertTrue(fastestDrain > 0, "the queue view showed a drain rate");
    assertEquals(0, view.get("WaitingForConcurrency").asInt());
    assertEquals(0, view.get("WaitingForRetry").asInt());
  }

  @Test
  void afterAKillAndARestartWhatWasLeftRunsWithinSecondsAtFullSpeed() throws Exception {
    Path out = paced("restarted");
    List<String> ids = send("restarted", EVENTS);
    long started = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (RunLog.read(out).runs().size() < 4) {
      assertTrue(System.nanoTime() < started, "the first runs came within 60 s");
      NodeProcess.sleep(50);
    }
    node.kill();
    node.start().awaitReady(READY);
    long ready = System.currentTimeMillis();
    long deadline = System.nanoTime() + drainTime().plusSeconds(60).toNanos();
    RunLog runs = RunLog.read(out);
    while (!runs.perRequest().keySet().containsAll(ids) && System.nanoTime() < deadline) {
      NodeProcess.sleep(250);
      runs = RunLog.read(out);
    }
    RunLog after = runs.since(ready);
    long firstAfter = after.runs().isEmpty() ? -1 : after.runs().get(0).start() - ready;
    System.out.printf("restart with a backlog of %d: first run %.1f s after the node was ready, the rest (%d runs)"
            + " drained at %.2f of capacity, %d duplicate runs%n", EVENTS, firstAfter / 1000.0, after.runs().size(),
        after.utilization(RESERVED), runs.runs().size() - runs.perRequest().size());
    assertTrue(runs.perRequest().keySet().containsAll(ids), "every accepted event ran");
    assertTrue(firstAfter >= 0 && firstAfter < 30_000, "the first run came " + firstAfter + " ms after ready");
    assertTrue(after.utilization(RESERVED) >= 0.9,
        "after the restart the slots were busy " + after.utilization(RESERVED) + " of the time (target 0.9)");
  }
}
