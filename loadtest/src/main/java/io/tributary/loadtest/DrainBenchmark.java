package io.tributary.loadtest;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.retry.RetryPolicy;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvocationType;

/**
 * The asynchronous queue under pressure, measured from outside: the nodes run in their own
 * processes (io.tributary.server.Main), this JVM is the client through the AWS SDK.
 *
 * <p><b>Drain.</b> One node; a python3.11 function that sleeps {@code bench.handler-ms} (100) with
 * reserved concurrency {@code bench.reserved} (4), so its capacity is reserved ÷ duration. Each of
 * {@code bench.rounds} (5) rounds sends a backlog of {@code bench.backlog} (400) Event invokes at
 * once and reads, from the function's own log of each run's start and end, the drain rate: runs ÷
 * (last end − first start). Prints every round and the medians against capacity (target ≥ 0.9).
 *
 * <p><b>Kill.</b> Three nodes with the production downing timing; per round
 * ({@code bench.kill-rounds}, 3), 4 threads send {@code bench.kill-events} (6000) Event invokes
 * through nodes 1 and 2 while node 3 is killed with SIGKILL after a third were accepted. Then every
 * accepted event must run. Prints accepts refused by a live node (target 0), lost and duplicated
 * runs; node 3 is started again for the next round.
 */
public final class DrainBenchmark {

  private static final String KEY = "AKIATRIBUTARYLOCAL01";
  private static final String SECRET = "tributary-local-secret-do-not-use-in-production";
  private static final String ROLE = "arn:aws:iam::000000000000:role/bench";
  private static final int PORT = 9530;
  private static final byte[] PACED = InvokeBenchmark.zipOf(Map.of("app.py", """
      import os, time
      def handler(event, context):
          start = int(time.time() * 1000)
          time.sleep(float(os.environ["SLEEP"]))
          with open(os.environ["OUT"], "a") as f:
              f.write("%s %d %d\\n" % (context.aws_request_id, start, int(time.time() * 1000)))
          return {}
      """));

  record Drain(int round, int runs, double seconds, double perSecond) {}

  public static void main(String[] args) throws Exception {
    Path work = Files.createTempDirectory("tributary-drain");
    if (!Boolean.getBoolean("bench.skip-drain")) {
      drain(work);
    }
    if (!Boolean.getBoolean("bench.skip-kill")) {
      kill(work);
    }
  }

  private static LambdaClient client(int port, boolean retries) {
    return LambdaClient.builder().endpointOverride(URI.create("http://127.0.0.1:" + port)).region(Region.US_EAST_1)
        .overrideConfiguration(o -> {
          o.apiCallTimeout(Duration.ofMinutes(2));
          if (!retries) {
            o.retryPolicy(RetryPolicy.none());
          }
        })
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(KEY, SECRET))).build();
  }

  private static void drain(Path work) throws Exception {
    int rounds = Integer.getInteger("bench.rounds", 5);
    int reserved = Integer.getInteger("bench.reserved", 4);
    int handlerMs = Integer.getInteger("bench.handler-ms", 100);
    int backlog = Integer.getInteger("bench.backlog", 400);
    double capacity = reserved * 1000.0 / handlerMs;
    Process node = ColdStartBenchmark.startNode(PORT, "drain");
    List<Drain> drains = new ArrayList<>();
    try (LambdaClient lambda = client(PORT, true)) {
      Path out = work.resolve("paced.log");
      lambda.createFunction(b -> b.functionName("paced").runtime("python3.11").role(ROLE).handler("app.handler")
          .timeout(30).environment(e -> e.variables(Map.of("OUT", out.toString(),
              "SLEEP", Double.toString(handlerMs / 1000.0))))
          .code(c -> c.zipFile(SdkBytes.fromByteArray(PACED))));
      lambda.putFunctionConcurrency(b -> b.functionName("paced").reservedConcurrentExecutions(reserved));
      System.out.printf(Locale.ROOT, "drain: reserved %d, %d ms handler: capacity %.1f events/s; backlog of %d%n",
          reserved, handlerMs, capacity, backlog);
      for (int round = 1; round <= rounds; round++) {
        Files.deleteIfExists(out);
        List<String> ids = sendAll(lambda, "paced", backlog);
        List<long[]> runs = awaitRuns(out, ids, Duration.ofSeconds(60 + 3L * backlog * handlerMs / reserved / 1000));
        long first = runs.stream().mapToLong(r -> r[0]).min().orElse(0);
        long last = runs.stream().mapToLong(r -> r[1]).max().orElse(0);
        double seconds = (last - first) / 1000.0;
        Drain d = new Drain(round, runs.size(), seconds, runs.size() / seconds);
        drains.add(d);
        System.out.printf(Locale.ROOT, "round %d  %d runs in %.2f s: %.1f events/s, %.2f of capacity%n", round,
            d.runs(), d.seconds(), d.perSecond(), d.perSecond() / capacity);
      }
    } finally {
      node.destroy();
      node.waitFor();
    }
    double median = InvokeBenchmark.median(drains.stream().map(Drain::perSecond).toList());
    System.out.printf(Locale.ROOT, "drain rate, median of %d rounds: %.1f events/s of %.1f capacity = %.2f"
        + " (target 0.9)%n", rounds, median, capacity, median / capacity);
  }

  /** {@code count} Event invokes of {@code function} from 8 threads at once; the accepted request ids. */
  private static List<String> sendAll(LambdaClient lambda, String function, int count) throws InterruptedException {
    List<String> ids = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger next = new AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      Thread thread = new Thread(() -> {
        for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
          String payload = "{\"i\":" + i + "}";
          ids.add(lambda.invoke(b -> b.functionName(function).invocationType(InvocationType.EVENT)
              .payload(SdkBytes.fromUtf8String(payload))).responseMetadata().requestId());
        }
      });
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join();
    }
    return ids;
  }

  /** The runs of the paced function's log ([start, end]) once every one of {@code ids} has run. */
  private static List<long[]> awaitRuns(Path out, List<String> ids, Duration within) throws IOException {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      List<String> lines = Files.exists(out) ? Files.readAllLines(out) : List.of();
      Set<String> ran = lines.stream().map(l -> l.split(" ")[0]).collect(Collectors.toSet());
      if (ran.containsAll(ids)) {
        return lines.stream().map(l -> l.split(" "))
            .map(f -> new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])}).toList();
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException((ids.size() - ran.size()) + " events had not run after " + within);
      }
      ColdStartBenchmark.sleep(200);
    }
  }

  private static void kill(Path work) throws Exception {
    int rounds = Integer.getInteger("bench.kill-rounds", 3);
    int events = Integer.getInteger("bench.kill-events", 6000);
    int[] http = {PORT + 1, PORT + 2, PORT + 3};
    int[] artery = {25631, 25632, 25633};
    List<String> seeds = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      seeds.add("-Dpekko.cluster.seed-nodes." + i + "=pekko://tributary@127.0.0.1:" + artery[i]);
    }
    Process[] nodes = new Process[3];
    try {
      for (int i = 0; i < 3; i++) {
        nodes[i] = startMember(i, http, artery, seeds);
      }
      Path out = work.resolve("recorded.log");
      try (LambdaClient lambda = client(http[0], true)) {
        lambda.createFunction(b -> b.functionName("recorder").runtime("python3.11").role(ROLE)
            .handler("app.handler").timeout(30).environment(e -> e.variables(Map.of("OUT", out.toString())))
            .code(c -> c.zipFile(SdkBytes.fromByteArray(InvokeBenchmark.zipOf(Map.of("app.py", """
                import os
                def handler(event, context):
                    with open(os.environ["OUT"], "a") as f:
                        f.write(context.aws_request_id + "\\n")
                    return "ok"
                """))))));
      }
      System.out.printf(Locale.ROOT, "kill: %d Event invokes through nodes 1 and 2, node 3 killed (SIGKILL)"
          + " after a third were accepted%n", events);
      int refusedTotal = 0;
      for (int round = 1; round <= rounds; round++) {
        Files.deleteIfExists(out);
        Set<String> accepted = ConcurrentHashMap.newKeySet();
        AtomicInteger refused = new AtomicInteger();
        Set<String> reasons = ConcurrentHashMap.newKeySet();
        AtomicInteger next = new AtomicInteger();
        List<Thread> senders = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
          int port = http[t % 2];
          Thread sender = new Thread(() -> {
            try (LambdaClient lambda = client(port, false)) {
              for (int i = next.getAndIncrement(); i < events; i = next.getAndIncrement()) {
                String payload = "{\"i\":" + i + "}";
                try {
                  accepted.add(lambda.invoke(b -> b.functionName("recorder").invocationType(InvocationType.EVENT)
                      .payload(SdkBytes.fromUtf8String(payload))).responseMetadata().requestId());
                } catch (RuntimeException e) {
                  refused.incrementAndGet();
                  reasons.add(String.valueOf(e.getMessage()).split("\n")[0]);
                }
              }
            }
          });
          senders.add(sender);
          sender.start();
        }
        while (accepted.size() + refused.get() < events / 3) {
          ColdStartBenchmark.sleep(5);
        }
        nodes[2].destroyForcibly();
        nodes[2].waitFor();
        for (Thread sender : senders) {
          sender.join();
        }
        Map<String, Long> runs = awaitEvery(out, accepted, Duration.ofMinutes(5));
        Set<String> lost = new HashSet<>(accepted);
        lost.removeAll(runs.keySet());
        long duplicates = runs.values().stream().filter(n -> n > 1).mapToLong(n -> n - 1).sum();
        refusedTotal += refused.get();
        System.out.printf(Locale.ROOT, "round %d  %d accepted, %d refused by a live node%s, %d lost, %d duplicate"
            + " runs%n", round, accepted.size(), refused.get(), reasons.isEmpty() ? "" : " " + reasons, lost.size(),
            duplicates);
        nodes[2] = startMember(2, http, artery, seeds);
      }
      System.out.printf(Locale.ROOT, "accepts refused during a kill, over %d rounds: %d (target 0)%n", rounds,
          refusedTotal);
    } finally {
      for (Process node : nodes) {
        if (node != null) {
          node.destroy();
          node.waitFor();
        }
      }
    }
  }

  private static Process startMember(int i, int[] http, int[] artery, List<String> seeds) throws Exception {
    List<String> options = new ArrayList<>(seeds);
    options.add("-Dpekko.remote.artery.canonical.port=" + artery[i]);
    options.add("-Dtributary.cassandra.autocreate=" + (i == 0 ? "on" : "off"));
    return ColdStartBenchmark.startNode(http[i], "drainkill", options);
  }

  /** Request id → runs, once every one of {@code accepted} has run (or {@code within} passed). */
  private static Map<String, Long> awaitEvery(Path out, Set<String> accepted, Duration within) throws IOException {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      Map<String, Long> runs = Files.exists(out)
          ? Files.readAllLines(out).stream().collect(Collectors.groupingBy(l -> l, Collectors.counting())) : Map.of();
      if (runs.keySet().containsAll(accepted) || System.nanoTime() > deadline) {
        return runs;
      }
      ColdStartBenchmark.sleep(500);
    }
  }
}
