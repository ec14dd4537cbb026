package io.tributary.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.api.EventRule;
import io.tributary.cluster.push.BusRules;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvocationType;

/**
 * Event buses (issue 27), measured as users send events:
 *
 * <ol>
 *   <li><b>From PutEvents to execution.</b> A node of its own process, one {@code in-process-shared}
 *       no-op function, and a bus with 100 rules, all targeting the function, of which one matches
 *       (the others' patterns name other sources). Each round sends {@code bench.events} events from
 *       {@code bench.senders} closed-loop senders (the AWS SDK's clients, in this process) and times
 *       them from the first send until the function's queue is empty, every event run. Three sides,
 *       alternated: plain {@code Event} invokes of the function (the ceiling: the same queue, no
 *       bus), PutEvents with one entry per request, and with ten. Medians of the rounds; the ratio
 *       of each PutEvents side to the Event invokes (target ≥ 0.8).
 *   <li><b>Matching with 1,000 rules</b>, in this process on one thread: the node's matcher
 *       ({@link BusRules#matcher}, event-ruler's {@code rulesForJSONEvent}) over 1,000 rules of
 *       two-field patterns, an event that matches one of them; matches per second, medians of the
 *       rounds. event-ruler's published figure: over 200,000 simple matches/s per core.
 * </ol>
 *
 * <p>Arguments (system properties): bench.rounds (5), bench.events (20000), bench.senders (16),
 * bench.cassandra.
 */
public final class BusBenchmark {

  private static final int NODE_PORT = 9524;
  private static final String FUNCTION = "bus-noop";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> SIDES = List.of(System.getProperty("bench.sides",
      "event-invoke,put-events x1,put-events x10").split(","));

  public static void main(String[] args) throws Exception {
    int rounds = Integer.getInteger("bench.rounds", 5);
    int events = Integer.getInteger("bench.events", 20_000);
    int senders = Integer.getInteger("bench.senders", 16);
    System.out.printf(Locale.ROOT, "load average at start: %s%n", Files.readString(Path.of("/proc/loadavg")).trim());
    matching(rounds);
    List<String> nodeOptions = System.getProperty("bench.node-options", "").isBlank() ? List.of()
        : List.of(System.getProperty("bench.node-options").split(" "));
    Process node = ColdStartBenchmark.startNode(NODE_PORT, "bus_bench", nodeOptions);
    URI endpoint = URI.create("http://127.0.0.1:" + NODE_PORT);
    var credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create(InvokeBenchmark.KEY,
        InvokeBenchmark.SECRET));
    ExecutorService pool = Executors.newFixedThreadPool(senders);
    Map<String, List<Double>> rates = new LinkedHashMap<>();
    Map<String, List<Double>> ratios = new LinkedHashMap<>();
    Map<String, List<double[]>> cpu = new LinkedHashMap<>();
    SIDES.forEach(side -> rates.put(side, new ArrayList<>()));
    try (LambdaClient lambda = LambdaClient.builder().endpointOverride(endpoint).region(Region.US_EAST_1)
        .credentialsProvider(credentials).build();
         EventBridgeClient bus = EventBridgeClient.builder().endpointOverride(endpoint).region(Region.US_EAST_1)
             .credentialsProvider(credentials).build()) {
      byte[] noop = UrlBenchmark.noop();
      InvokeBenchmark.create(lambda, FUNCTION, "java17", "bench.Noop", noop, Map.of("TRIBUTARY_JAVA_MODE",
          "in-process-shared"));
      String arn = lambda.getFunction(b -> b.functionName(FUNCTION)).configuration().functionArn();
      bus.createEventBus(b -> b.name("bench"));
      for (int r = 0; r < 100; r++) {
        String name = r == 0 ? "orders" : String.format(Locale.ROOT, "other-%02d", r);
        String pattern = r == 0 ? "{\"source\":[\"bench\"],\"detail-type\":[\"Order Placed\"]}"
            : "{\"source\":[\"other-" + r + "\"],\"detail-type\":[\"Order Placed\"]}";
        bus.putRule(b -> b.name(name).eventBusName("bench").eventPattern(pattern));
        bus.putTargets(b -> b.rule(name).eventBusName("bench").targets(t -> t.id("noop").arn(arn)));
      }
      lambda.addPermission(b -> b.functionName(FUNCTION).statementId("bench-rules").principal("events.amazonaws.com")
          .action("lambda:InvokeFunction").sourceArn("arn:aws:events:us-east-1:000000000000:rule/bench/*"));
      System.out.println("bus bench: 100 rules, one matching; warming each side (JIT)");
      for (int warm = 0; warm < 3; warm++) {
        for (String side : SIDES) {
          run(side, Math.min(events, 4_000), senders, pool, lambda, bus);
        }
      }
      for (int round = 1; round <= rounds; round++) {
        List<String> order = new ArrayList<>(SIDES);
        if (round % 2 == 0) {
          java.util.Collections.reverse(order);
        }
        for (String side : order) {
          long nodeBefore = Wrk.cpuTicks(node.pid());
          long cassandraBefore = InvokeBenchmark.cassandraCpuNanos();
          long selfBefore = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
              .getOperatingSystemMXBean()).getProcessCpuTime();
          double rate = run(side, events, senders, pool, lambda, bus);
          double nodeUs = (Wrk.cpuTicks(node.pid()) - nodeBefore) * 10_000.0 / events;
          double cassandraUs = (InvokeBenchmark.cassandraCpuNanos() - cassandraBefore) / 1e3 / events;
          double selfUs = (((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
              .getOperatingSystemMXBean()).getProcessCpuTime() - selfBefore) / 1e3 / events;
          rates.get(side).add(rate);
          ratios.computeIfAbsent(side, k -> new ArrayList<>()).add(rate);
          cpu.computeIfAbsent(side, k -> new ArrayList<>()).add(new double[] {nodeUs, cassandraUs, selfUs});
          System.out.printf(Locale.ROOT, "round %d %-15s %8.0f events/s executed; CPU per event: node %.0f µs,"
              + " Cassandra %.0f µs, load generator %.0f µs%n", round, side, rate, nodeUs, cassandraUs, selfUs);
        }
      }
    } finally {
      pool.shutdownNow();
      UrlBenchmark.stop(node);
    }
    System.out.println();
    System.out.printf(Locale.ROOT, "summary: %d events per round, %d senders, medians of %d rounds%n", events,
        senders, rounds);
    List<Double> ceiling = rates.get("event-invoke");
    for (String side : SIDES) {
      List<Double> own = rates.get(side);
      List<Double> perRound = new ArrayList<>();
      for (int i = 0; i < own.size() && ceiling != null; i++) {
        perRound.add(own.get(i) / ceiling.get(i));
      }
      double ratio = perRound.isEmpty() ? Double.NaN : median(perRound);
      double nodeCpu = median(cpu.get(side).stream().map(c -> c[0]).toList());
      double cassandra = median(cpu.get(side).stream().map(c -> c[1]).toList());
      double self = median(cpu.get(side).stream().map(c -> c[2]).toList());
      System.out.printf(Locale.ROOT, "  %-15s %8.0f events/s  %.2f of Event invokes (median of the rounds' own"
          + " ratios)%s; CPU per event: node %.0f µs, Cassandra %.0f µs, load generator %.0f µs%n", side,
          median(own), ratio, side.startsWith("put") ? (ratio >= 0.8 ? " (target ≥ 0.8: met)"
              : " (target ≥ 0.8: missed)") : "", nodeCpu, cassandra, self);
    }
    System.exit(0);
  }

  /** One side's round: events/s from the first send until the queue is empty. */
  private static double run(String side, int events, int senders, ExecutorService pool, LambdaClient lambda,
                            EventBridgeClient bus) throws Exception {
    int perRequest = side.equals("put-events x10") ? 10 : 1;
    int requests = events / perRequest;
    AtomicInteger next = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    byte[] payload = "{\"order\":1}".getBytes(StandardCharsets.UTF_8);
    List<PutEventsRequestEntry> entries = new ArrayList<>();
    for (int i = 0; i < perRequest; i++) {
      entries.add(PutEventsRequestEntry.builder().eventBusName("bench").source("bench").detailType("Order Placed")
          .detail("{\"order\":" + i + "}").build());
    }
    long began = System.nanoTime();
    List<Future<?>> futures = new ArrayList<>();
    for (int s = 0; s < senders; s++) {
      futures.add(pool.submit(() -> {
        while (next.getAndIncrement() < requests) {
          if (side.equals("event-invoke")) {
            lambda.invoke(b -> b.functionName(FUNCTION).invocationType(InvocationType.EVENT)
                .payload(SdkBytes.fromByteArray(payload)));
          } else {
            failed.addAndGet(bus.putEvents(b -> b.entries(entries)).failedEntryCount());
          }
        }
        return null;
      }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    double sent = (System.nanoTime() - began) / 1e9;
    HttpClient http = HttpClient.newHttpClient();
    while (true) {
      JsonNode queue = JSON.readTree(get(http, "/tributary/functions/" + FUNCTION + "/async-queue"));
      if (queue.path("ApproximateDepth").asLong() == 0 && queue.path("InFlight").asLong() == 0) {
        break;
      }
      Thread.sleep(20);
    }
    double done = (System.nanoTime() - began) / 1e9;
    if (failed.get() > 0) {
      System.out.printf(Locale.ROOT, "  %s: %d entries failed%n", side, failed.get());
    }
    System.out.printf(Locale.ROOT, "  %s: %d events sent in %.2f s (%.0f/s accepted), all run after %.2f s%n", side,
        requests * perRequest, sent, requests * perRequest / sent, done);
    return requests * perRequest / done;
  }

  private static String get(HttpClient http, String path) throws Exception {
    URI endpoint = URI.create("http://127.0.0.1:" + NODE_PORT);
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(endpoint + path)).GET();
    InvokeBenchmark.signedGetHeaders(endpoint, path).forEach(request::header);
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  /** Matches per second of the node's matcher over 1,000 rules, one thread. */
  private static void matching(int rounds) {
    List<EventRule> rules = new ArrayList<>();
    EventRule.Target target = new EventRule.Target("t", "arn:aws:lambda:us-east-1:000000000000:function:f", null,
        null, null, null, null);
    for (int i = 0; i < 1_000; i++) {
      rules.add(new EventRule("rule-" + i, "bench", "{\"source\":[\"service-" + (i % 100) + "\"],\"detail\":{\"kind\":"
          + "[\"kind-" + (i / 100) + "\"]}}", null, EventRule.ENABLED, "", null, List.of(target)));
    }
    Function<String, List<EventRule>> matcher = BusRules.matcher(rules);
    String event = "{\"version\":\"0\",\"id\":\"6a7e8feb-b491-4cf7-a9f1-bf3703467718\",\"detail-type\":\"Order Placed\","
        + "\"source\":\"service-42\",\"account\":\"000000000000\",\"time\":\"2026-12-08T12:00:00Z\",\"region\":"
        + "\"us-east-1\",\"resources\":[],\"detail\":{\"kind\":\"kind-7\",\"total\":250,\"items\":[1,2,3]}}";
    if (matcher.apply(event).size() != 1) {
      throw new IllegalStateException("the event should match rule-742 alone: " + matcher.apply(event));
    }
    for (int i = 0; i < 200_000; i++) {
      matcher.apply(event);
    }
    List<Double> rates = new ArrayList<>();
    for (int round = 1; round <= rounds; round++) {
      int n = 500_000;
      long began = System.nanoTime();
      for (int i = 0; i < n; i++) {
        matcher.apply(event);
      }
      double rate = n / ((System.nanoTime() - began) / 1e9);
      rates.add(rate);
      System.out.printf(Locale.ROOT, "round %d matching, 1,000 rules: %,.0f matches/s (%.2f µs each)%n", round, rate,
          1e6 / rate);
    }
    System.out.printf(Locale.ROOT, "matching with 1,000 rules, one thread: median %,.0f matches/s%n", median(rates));
  }

  private static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private BusBenchmark() {}
}
