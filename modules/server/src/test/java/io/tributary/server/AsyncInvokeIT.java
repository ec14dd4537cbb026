package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvalidRequestContentException;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.RequestTooLargeException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;

/** {@code InvocationType: Event} through the AWS SDK: accepted durably, run later, retried, kept across restarts. */
class AsyncInvokeIT {

  private static final String KEYSPACE = "it_async";
  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  /** Appends "<request id> <event>" to $OUT for every invocation; fails when the event says "fail". */
  private static final String RECORDER = Zips.bashRuntime("""
      if echo "$EVENT" | grep -q slow; then sleep 3; fi
      echo "$REQUEST_ID $EVENT" >> "$OUT"
      if echo "$EVENT" | grep -q fail; then
        curl -sS -X POST "$API/invocation/$REQUEST_ID/error" -H "Lambda-Runtime-Function-Error-Type: Unhandled" \\
          -d '{"errorMessage":"asked to fail","errorType":"Failure"}' >/dev/null
      else
        curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d "$EVENT" >/dev/null
      fi
      """);
  // Short retry delays so that the test does not wait AWS's minutes (the defaults are AWS's).
  private static final Map<String, Object> FAST_RETRIES = Map.of(
      "tributary.async.function-error-delays", List.of("1s", "1s"),
      "tributary.async.backoff-min", "200ms",
      "tributary.async.backoff-max", "1s",
      "tributary.async.wake-interval", "1s");
  private static final Path OUT = Path.of("target", "async-it").toAbsolutePath();
  /** How long the test Cassandra is stopped (SIGSTOP) under load: 10 s in CI, 30 s with -Pchaos. */
  private static final long PAUSE_SECONDS = Long.getLong("tributary.chaos.cassandra-pause", 10);
  private static TestNode node;
  private static LambdaClient lambda;

  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension(KEYSPACE, FAST_RETRIES);

  @BeforeAll
  static void start() throws IOException {
    Files.createDirectories(OUT);
    node = NODE.node();
    lambda = NODE.lambda();
  }

  private static Path recorder(String name) throws IOException {
    Path out = OUT.resolve(name + ".log");
    Files.deleteIfExists(out);
    lambda.createFunction(b -> b.functionName(name).runtime("provided.al2023").role(ROLE).handler("unused").timeout(10)
        .environment(e -> e.variables(Map.of("OUT", out.toString())))
        .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.withBootstrap(RECORDER)))));
    return out;
  }

  private static InvokeResponse event(String name, String payload) {
    return lambda.invoke(b -> b.functionName(name).invocationType(InvocationType.EVENT)
        .payload(SdkBytes.fromUtf8String(payload)));
  }

  private static List<String> lines(Path out, String requestId) {
    try {
      return Files.exists(out)
          ? Files.readAllLines(out).stream().filter(l -> l.startsWith(requestId + " ")).toList() : List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits up to 60 s for the lines of {@code requestId} to satisfy {@code done}. */
  private static List<String> awaitLines(Path out, String requestId, Predicate<List<String>> done) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    List<String> lines = lines(out, requestId);
    while (!done.test(lines) && System.nanoTime() < deadline) {
      NodeProcess.sleep(200);
      lines = lines(out, requestId);
    }
    return lines;
  }

  @Test
  void anAcceptedEventRunsAfterThe202WithItsRequestId() throws IOException {
    Path out = recorder("recorder");
    InvokeResponse accepted = event("recorder", "{\"slow\":1}");
    assertEquals(202, accepted.statusCode());
    String requestId = accepted.responseMetadata().requestId();
    assertEquals(List.of(), lines(out, requestId), "the caller does not wait for the function");
    assertEquals(List.of(requestId + " {\"slow\":1}"), awaitLines(out, requestId, l -> !l.isEmpty()));
  }

  @Test
  void aFunctionErrorIsRetriedTwiceWithTheSameRequestIdThenGivenUp() throws IOException {
    Path out = recorder("failing");
    String requestId = event("failing", "{\"fail\":true}").responseMetadata().requestId();
    assertEquals(3, awaitLines(out, requestId, l -> l.size() >= 3).size());
    // A later event runs: the given-up one blocks nothing, and is not tried a fourth time.
    String next = event("failing", "{\"ok\":true}").responseMetadata().requestId();
    awaitLines(out, next, l -> !l.isEmpty());
    NodeProcess.sleep(2_000);
    assertEquals(3, lines(out, requestId).size());
  }

  @Test
  void eventInvokesAreCheckedBeforeTheyAreAccepted() throws IOException {
    recorder("checked");
    assertEquals(404, assertThrows(ResourceNotFoundException.class, () -> event("no-such-function", "{}"))
        .statusCode());
    String big = "\"" + "x".repeat(1024 * 1024) + "\"";
    RequestTooLargeException tooLarge = assertThrows(RequestTooLargeException.class, () -> event("checked", big));
    assertTrue(tooLarge.getMessage().contains("1048576 bytes for the InvokeAsync operation"), tooLarge.getMessage());
    assertThrows(InvalidRequestContentException.class, () -> event("checked", "not json"));
  }

  @Test
  void acceptedEventsSurviveARestartAndRunWithoutAnotherRequest() throws IOException {
    Path out = recorder("durable");
    lambda.putFunctionConcurrency(b -> b.functionName("durable").reservedConcurrentExecutions(0));
    List<String> ids = List.of(event("durable", "{\"n\":1}"), event("durable", "{\"n\":2}"),
        event("durable", "{\"n\":3}")).stream().map(r -> r.responseMetadata().requestId()).toList();
    NodeProcess.sleep(1_000);
    assertTrue(ids.stream().allMatch(id -> lines(out, id).isEmpty()), "throttled: none has run yet");

    NODE.restart();
    node = NODE.node();
    lambda = NODE.lambda();
    lambda.deleteFunctionConcurrency(b -> b.functionName("durable"));
    for (String id : ids) {
      assertEquals(1, awaitLines(out, id, l -> !l.isEmpty()).size(), "event " + id + " ran once");
    }
  }

  @Test
  void eventInvokeConfigsHaveAwsShapesAndRanges() throws IOException {
    recorder("configured");
    String arn = "arn:aws:lambda:us-east-1:000000000000:function:configured";
    var put = lambda.putFunctionEventInvokeConfig(b -> b.functionName("configured").maximumRetryAttempts(1)
        .destinationConfig(d -> d.onFailure(f -> f.destination(arn.replace("configured", "failures")))));
    assertEquals(arn + ":$LATEST", put.functionArn());
    assertEquals(1, put.maximumRetryAttempts());
    assertEquals(arn.replace("configured", "failures"), put.destinationConfig().onFailure().destination());
    assertTrue(put.lastModified().isAfter(java.time.Instant.now().minusSeconds(60)));

    var updated = lambda.updateFunctionEventInvokeConfig(b -> b.functionName("configured")
        .maximumEventAgeInSeconds(3600));
    assertEquals(1, updated.maximumRetryAttempts(), "an update keeps what it does not name");
    assertEquals(3600, updated.maximumEventAgeInSeconds());
    assertEquals(updated.maximumEventAgeInSeconds(),
        lambda.getFunctionEventInvokeConfig(b -> b.functionName("configured")).maximumEventAgeInSeconds());
    assertEquals(1, lambda.listFunctionEventInvokeConfigs(b -> b.functionName("configured"))
        .functionEventInvokeConfigs().size());

    assertEquals(400, assertThrows(software.amazon.awssdk.services.lambda.model.LambdaException.class,
        () -> lambda.putFunctionEventInvokeConfig(b -> b.functionName("configured").maximumRetryAttempts(3)))
        .statusCode());
    assertEquals(400, assertThrows(software.amazon.awssdk.services.lambda.model.LambdaException.class,
        () -> lambda.putFunctionEventInvokeConfig(b -> b.functionName("configured").maximumEventAgeInSeconds(59)))
        .statusCode());
    var unsupported = assertThrows(software.amazon.awssdk.services.lambda.model.InvalidParameterValueException.class,
        () -> lambda.putFunctionEventInvokeConfig(b -> b.functionName("configured").destinationConfig(
            d -> d.onSuccess(o -> o.destination("arn:aws:sns:us-east-1:000000000000:topic")))));
    assertTrue(unsupported.getMessage().contains("not supported"), unsupported.getMessage());
    assertEquals(1, lambda.getFunctionEventInvokeConfig(b -> b.functionName("configured")).maximumRetryAttempts(),
        "a refused put changes nothing");

    lambda.deleteFunctionEventInvokeConfig(b -> b.functionName("configured"));
    assertThrows(ResourceNotFoundException.class,
        () -> lambda.getFunctionEventInvokeConfig(b -> b.functionName("configured")));
  }

  @Test
  void outcomesReachTheDestinationFunctionsAsInvocationRecords() throws Exception {
    Path records = recorder("destination");
    recorder("reported");
    String destination = "arn:aws:lambda:us-east-1:000000000000:function:destination";
    lambda.putFunctionEventInvokeConfig(b -> b.functionName("reported").maximumRetryAttempts(0)
        .destinationConfig(d -> d.onSuccess(o -> o.destination(destination))
            .onFailure(f -> f.destination(destination))));

    String failed = event("reported", "{\"fail\":\"once\"}").responseMetadata().requestId();
    String succeeded = event("reported", "{\"ok\":1}").responseMetadata().requestId();
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    // The destination records every event it gets (it also "fails" on the failure record, which it
    // therefore gets up to three times: only the first of each is looked at).
    Map<String, com.fasterxml.jackson.databind.JsonNode> byRequest = Map.of();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!byRequest.keySet().containsAll(List.of(failed, succeeded)) && System.nanoTime() < deadline) {
      NodeProcess.sleep(200);
      byRequest = Files.exists(records) ? Files.readAllLines(records).stream()
          .map(line -> line.substring(line.indexOf(' ') + 1))
          .map(body -> {
            try {
              return json.readTree(body);
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          }).collect(java.util.stream.Collectors.toMap(r -> r.at("/requestContext/requestId").asText(), r -> r,
              (first, again) -> first)) : Map.of();
    }
    var failure = byRequest.get(failed);
    assertEquals("RetriesExhausted", failure.at("/requestContext/condition").asText());
    assertEquals(1, failure.at("/requestContext/approximateInvokeCount").asInt(), "MaximumRetryAttempts 0");
    assertEquals("once", failure.at("/requestPayload/fail").asText());
    assertEquals("Unhandled", failure.at("/responseContext/functionError").asText());
    assertEquals("asked to fail", failure.at("/responsePayload/errorMessage").asText());
    var success = byRequest.get(succeeded);
    assertEquals("Success", success.at("/requestContext/condition").asText());
    assertEquals("arn:aws:lambda:us-east-1:000000000000:function:reported:$LATEST",
        success.at("/requestContext/functionArn").asText());
    assertEquals(1, success.at("/responsePayload/ok").asInt());
  }

  @Test
  void theQueuedEventsOfADeletedFunctionAreDroppedEvenIfItsNameComesBack() throws IOException {
    Path out = recorder("short-lived");
    lambda.putFunctionConcurrency(b -> b.functionName("short-lived").reservedConcurrentExecutions(0));
    List<String> queued = List.of(event("short-lived", "{\"n\":1}"), event("short-lived", "{\"n\":2}")).stream()
        .map(r -> r.responseMetadata().requestId()).toList();
    lambda.deleteFunction(b -> b.functionName("short-lived"));
    Path again = recorder("short-lived");
    assertEquals(out, again);
    String fresh = event("short-lived", "{\"n\":3}").responseMetadata().requestId();
    assertEquals(1, awaitLines(again, fresh, l -> !l.isEmpty()).size(), "the new function's own event runs");
    NodeProcess.sleep(3_000);
    assertTrue(queued.stream().allMatch(id -> lines(again, id).isEmpty()), "the deleted function's events never run");
  }

  @Test
  void whileCassandraIsPausedEventsAreRefusedFastAndWarmSyncInvokesKeepWorking() throws Exception {
    Path pidFile = Path.of(System.getProperty("tributary.it.cassandra.pid-file", "target/it-cassandra/cassandra.pid"));
    assertTrue(Files.exists(pidFile), "the test Cassandra's pid file " + pidFile + " (deploy/test.sh writes it)");
    String pid = Files.readString(pidFile).trim();
    Path out = recorder("patient-events");
    assertEquals(200, lambda.invoke(b -> b.functionName("patient-events")).statusCode(), "warm");

    Set<String> accepted = ConcurrentHashMap.newKeySet();
    List<Integer> refusals = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    AtomicBoolean sending = new AtomicBoolean(true);
    java.util.concurrent.atomic.AtomicLong slowestRefusalMs = new java.util.concurrent.atomic.AtomicLong();
    Thread sender = new Thread(() -> {
      try (LambdaClient client = node.clientWithoutRetries()) {
        while (sending.get()) {
          long started = System.nanoTime();
          try {
            accepted.add(client.invoke(b -> b.functionName("patient-events").invocationType(InvocationType.EVENT)
                .payload(SdkBytes.fromUtf8String("{}"))).responseMetadata().requestId());
          } catch (software.amazon.awssdk.services.lambda.model.LambdaException e) {
            refusals.add(e.statusCode());
            slowestRefusalMs.accumulateAndGet((System.nanoTime() - started) / 1_000_000, Math::max);
          }
          NodeProcess.sleep(50);
        }
      }
    });
    sender.start();
    NodeProcess.sleep(1_000);
    signal("STOP", pid);
    int syncOk = 0;
    try {
      long resume = System.nanoTime() + Duration.ofSeconds(PAUSE_SECONDS).toNanos();
      while (System.nanoTime() < resume) {
        if (lambda.invoke(b -> b.functionName("patient-events").payload(SdkBytes.fromUtf8String("{\"sync\":1}")))
            .statusCode() == 200) {
          syncOk++;
        }
        NodeProcess.sleep(500);
      }
    } finally {
      signal("CONT", pid);
    }
    NodeProcess.sleep(5_000);
    sending.set(false);
    sender.join(60_000);

    assertTrue(syncOk >= 10, "warm sync invokes kept working: " + syncOk);
    assertTrue(!refusals.isEmpty() && refusals.stream().allMatch(status -> status >= 500),
        "Event invokes during the pause were refused with 5xx: " + refusals);
    for (String id : accepted) {
      assertEquals(1, awaitLines(out, id, l -> !l.isEmpty()).size(), "accepted event " + id + " ran");
    }
    System.out.printf("Cassandra paused " + PAUSE_SECONDS + " s: %d events accepted, %d refused (%s, slowest refusal %d ms),"
        + " %d sync invokes served%n", accepted.size(), refusals.size(), new java.util.TreeSet<>(refusals),
        slowestRefusalMs.get(), syncOk);
  }

  @Test
  void theQueueViewAndMetricsShowWhatWaitsAndHowEventsEnded() throws Exception {
    recorder("observed");
    lambda.putFunctionConcurrency(b -> b.functionName("observed").reservedConcurrentExecutions(0));
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ids.add(event("observed", "{\"n\":" + i + "}").responseMetadata().requestId());
    }
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    var queued = json.readTree(node.signedGet("/tributary/functions/observed/async-events/" + ids.get(0)));
    assertTrue(List.of("Queued", "Retrying", "Running").contains(queued.get("Status").asText()), queued.toString());
    var waiting = json.readTree(node.signedGet("/tributary/functions/observed/async-queue"));
    assertEquals(3, waiting.get("ApproximateDepth").asInt());
    assertTrue(waiting.get("OldestEventAgeSeconds").asInt() >= 0);

    lambda.deleteFunctionConcurrency(b -> b.functionName("observed"));
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    var done = waiting;
    while (done.at("/Outcomes/Success").asInt() < 3 && System.nanoTime() < deadline) {
      NodeProcess.sleep(200);
      done = json.readTree(node.signedGet("/tributary/functions/observed/async-queue"));
    }
    assertEquals(0, done.get("ApproximateDepth").asInt(), done.toString());
    assertEquals(3, done.at("/Outcomes/Success").asInt(), done.toString());
    assertEquals(0, done.get("OldestEventAgeSeconds").asInt());
    var finished = json.readTree(node.signedGet("/tributary/functions/observed/async-events/" + ids.get(0)));
    assertEquals("Finished", finished.get("Status").asText(), finished.toString());
    assertEquals("Success", finished.get("Condition").asText());
    assertEquals(1, finished.get("Attempts").asInt());
    assertThrows(IllegalStateException.class,
        () -> node.signedGet("/tributary/functions/observed/async-events/no-such-request"), "404");

    String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create(node.endpoint() + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    long succeeded = metrics.lines().filter(l -> l.startsWith("tributary_async_finished_total{condition=\"Success\"}"))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    assertTrue(succeeded >= 3, metrics);
    assertTrue(metrics.contains("tributary_async_pending_events "), metrics);
    assertTrue(metrics.contains("tributary_async_backoffs_total "), "the throttled deliveries were put back");
  }

  @Test
  void aRepeatWithTheSameClientTokenGetsTheFirstRequestIdAndRunsNothing() throws IOException {
    Path out = recorder("once");
    java.util.function.Function<String, InvokeResponse> withToken = token -> lambda.invoke(b -> b.functionName("once")
        .invocationType(InvocationType.EVENT).payload(SdkBytes.fromUtf8String("{\"order\":42}"))
        .overrideConfiguration(o -> o.putHeader("X-Tributary-Client-Token", token)));
    String first = withToken.apply("order-42").responseMetadata().requestId();
    InvokeResponse repeat = withToken.apply("order-42");
    assertEquals(202, repeat.statusCode());
    assertEquals(first, repeat.responseMetadata().requestId());
    String other = withToken.apply("order-43").responseMetadata().requestId();
    assertTrue(!other.equals(first), "another token is another event");
    assertEquals(1, awaitLines(out, other, l -> !l.isEmpty()).size());
    NodeProcess.sleep(1_000);
    assertEquals(1, lines(out, first).size(), "the repeat queued nothing");
    assertEquals(400, assertThrows(software.amazon.awssdk.services.lambda.model.LambdaException.class,
        () -> withToken.apply("has spaces")).statusCode());
  }

  private static void signal(String signal, String pid) throws Exception {
    assertEquals(0, new ProcessBuilder("kill", "-" + signal, pid).inheritIO().start().waitFor());
  }
}
