package io.tributary.loadtest;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * What warm invokes cost as the number of functions grows (issue 26, item 3). For each kind of
 * function (an {@code in-process-shared} Java no-op, a python3.11 echo), a node of its own process
 * gets {@code max(bench.functions)} distinct functions of that kind; wrk, in its own process,
 * replays signed Invokes spread evenly over the first 1, 100 or 1,000 of them ({@link Wrk}: each
 * request names the next function in turn; sides alternate, medians of the rounds).
 *
 * <p>Before the rounds, the functions are warmed in steps (the first 1, then up to 100, then up to
 * 1,000, one invoke each) and after each step the node's memory is read: the proportional set size
 * ({@code Pss}: shared pages count once) of the node and of its environments' processes, less what
 * it held before the first invoke, divided by its execution environments ({@code tributary_environments}). Environments stay warm for the whole run
 * ({@code tributary.runtime.idle-timeout} 30 min), as they would under steady traffic. Prints every
 * run, the medians and each count's ratio to the one-function figure (target ≥ 0.8 at 100).
 *
 * <p>Arguments (system properties): as {@link Wrk.Settings#fromProperties} (bench.rounds defaults to
 * 3 here), bench.functions (1,100,1000), bench.kinds (java,python), bench.cassandra.
 */
public final class FunctionCountBenchmark {

  private static final int NODE_PORT = 9523;
  private static final String PAYLOAD = "{\"n\":1}";

  record Kind(String name, String runtime, String handler, byte[] zip, Map<String, String> environment) {}

  public static void main(String[] args) throws Exception {
    if (System.getProperty("bench.rounds") == null) {
      System.setProperty("bench.rounds", "3");
    }
    Wrk.Settings settings = Wrk.Settings.fromProperties();
    int[] counts = Arrays.stream(System.getProperty("bench.functions", "1,100,1000").split(","))
        .mapToInt(c -> Integer.parseInt(c.trim())).sorted().toArray();
    List<String> kinds = List.of(System.getProperty("bench.kinds", "java,python").split(","));
    System.out.printf(Locale.ROOT, "load average at start: %s%n", Files.readString(Path.of("/proc/loadavg")).trim());
    Map<String, List<Wrk.Run>> all = new LinkedHashMap<>();
    for (String kindName : kinds) {
      Kind kind = kindName.equals("java")
          ? new Kind("in-process-shared", "java17", "bench.Noop", UrlBenchmark.noop(),
              Map.of("TRIBUTARY_JAVA_MODE", "in-process-shared"))
          : new Kind("python3.11", "python3.11", "app.handler", InvokeBenchmark.zipOf(Map.of("app.py",
              "def handler(event, context):\n    return event\n")), Map.of());
      all.put(kind.name(), measure(kind, counts, settings));
    }
    System.out.println();
    System.out.println("summary: medians of req/s, and the ratio to one function");
    all.forEach((kind, runs) -> {
      double one = Wrk.median(runs, side(counts[0]), settings.connections()[0], Wrk.Run::requestsPerSecond);
      for (int n : counts) {
        double rps = Wrk.median(runs, side(n), settings.connections()[0], Wrk.Run::requestsPerSecond);
        System.out.printf(Locale.ROOT, "  %-18s %5d functions %8.0f req/s  %.2f of %d%s%n", kind, n, rps, rps / one,
            counts[0], n == 100 ? (rps / one >= 0.8 ? " (target ≥ 0.8: met)" : " (target ≥ 0.8: missed)") : "");
      }
    });
    System.exit(0);
  }

  private static String side(int functions) {
    return functions + " fn";
  }

  private static List<Wrk.Run> measure(Kind kind, int[] counts, Wrk.Settings settings) throws Exception {
    System.out.printf(Locale.ROOT, "%n== %s: %s functions%n", kind.name(), Arrays.toString(counts));
    String keyspace = "fncount_" + kind.runtime().replaceAll("[^a-z0-9]", "");
    Process node = ColdStartBenchmark.startNode(NODE_PORT, keyspace, List.of("-Dtributary.runtime.idle-timeout=30m"));
    URI endpoint = URI.create("http://127.0.0.1:" + NODE_PORT);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try (LambdaClient lambda = LambdaClient.builder().endpointOverride(endpoint).region(Region.US_EAST_1)
        .overrideConfiguration(o -> o.apiCallTimeout(Duration.ofMinutes(2)))
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(InvokeBenchmark.KEY,
            InvokeBenchmark.SECRET))).build()) {
      int most = counts[counts.length - 1];
      long began = System.nanoTime();
      inParallel(pool, most, i -> InvokeBenchmark.create(lambda, name(kind, i), kind.runtime(), kind.handler(),
          kind.zip(), kind.environment()), "created");
      System.out.printf(Locale.ROOT, "%d functions created in %.0f s%n", most, (System.nanoTime() - began) / 1e9);
      long baseline = memoryBytes(node);
      System.out.printf(Locale.ROOT, "node before any invoke: %.0f MB (Pss)%n", baseline / 1e6);
      int warm = 0;
      for (int n : counts) {
        began = System.nanoTime();
        int from = warm;
        inParallel(pool, n - from, i -> lambda.invoke(b -> b.functionName(name(kind, from + i))
            .payload(SdkBytes.fromUtf8String(PAYLOAD))).statusCode(), "warmed");
        warm = n;
        long memory = memoryBytes(node);
        int environments = environments();
        System.out.printf(Locale.ROOT, "%d functions warm (%.0f s): %d environments, node %.0f MB (Pss), %.2f MB"
            + " per environment above the %.0f MB before%n", n, (System.nanoTime() - began) / 1e9, environments,
            memory / 1e6, (memory - baseline) / 1e6 / Math.max(1, environments), baseline / 1e6);
      }
      List<Wrk.Side> sides = new ArrayList<>();
      for (int n : counts) {
        sides.add(new Wrk.Side(side(n), node, NODE_PORT, () -> requests(n == 1 ? 2 : n, n, kind)));
        UrlBenchmark.check(side(n), NODE_PORT, requests(1, 1, kind).get(0), null);
      }
      List<Wrk.Run> runs = Wrk.compare(settings, sides);
      System.out.printf(Locale.ROOT, "after the rounds: %d environments, node %.0f MB (Pss)%n", environments(),
          memoryBytes(node) / 1e6);
      for (int n : counts) {
        for (int c : settings.connections()) {
          System.out.printf(Locale.ROOT, "%s, %d functions, %d connections: %.2f of one function's req/s%n",
              kind.name(), n, c, Wrk.median(runs, side(n), c, Wrk.Run::requestsPerSecond)
                  / Wrk.median(runs, side(counts[0]), c, Wrk.Run::requestsPerSecond));
        }
      }
      return runs;
    } finally {
      pool.shutdownNow();
      UrlBenchmark.stop(node);
    }
  }

  private static String name(Kind kind, int i) {
    return kind.runtime().replace(".", "-") + "-" + i;
  }

  /**
   * {@code size} signed Invokes, signed now, naming the first {@code functions} in turn (the one
   * function twice, so that wrk runs its per-request Lua function at every count alike).
   */
  private static List<Wrk.Request> requests(int size, int functions, Kind kind) {
    URI endpoint = URI.create("http://127.0.0.1:" + NODE_PORT);
    List<Wrk.Request> requests = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      String path = "/2015-03-31/functions/" + name(kind, i % functions) + "/invocations";
      Map<String, String> headers = new LinkedHashMap<>();
      headers.put("Host", "127.0.0.1:" + NODE_PORT);
      headers.putAll(InvokeBenchmark.signedHeaders(endpoint, path, null, PAYLOAD.getBytes(StandardCharsets.UTF_8)));
      requests.add(new Wrk.Request("POST", path, headers, PAYLOAD));
    }
    return requests;
  }

  /** {@code task(0 … n-1)} on the pool, with a line of progress every 100. */
  private static void inParallel(ExecutorService pool, int n, java.util.function.IntFunction<?> task, String done)
      throws Exception {
    AtomicInteger finished = new AtomicInteger();
    List<Future<?>> futures = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int index = i;
      futures.add(pool.submit(() -> {
        task.apply(index);
        int f = finished.incrementAndGet();
        if (f % 100 == 0 && f < n) {
          System.out.printf(Locale.ROOT, "  %d of %d %s%n", f, n, done);
        }
        return null;
      }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
  }

  /**
   * The proportional set size of the node and of every process under it (its environments), in
   * bytes: pages shared by several processes (the interpreter's own) count once over all of them,
   * as they take memory once.
   */
  static long memoryBytes(Process node) {
    long[] sum = {pss(node.pid())};
    node.descendants().forEach(p -> sum[0] += pss(p.pid()));
    return sum[0];
  }

  private static long pss(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup"))) {
        if (line.startsWith("Pss:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException gone) {
      // The process ended meanwhile.
    }
    return 0;
  }

  /** The node's tributary_environments gauge. */
  private static int environments() throws Exception {
    String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + NODE_PORT
        + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    Matcher m = Pattern.compile("\ntributary_environments ([0-9.]+)").matcher(metrics);
    return m.find() ? (int) Double.parseDouble(m.group(1)) : -1;
  }

  private FunctionCountBenchmark() {}
}
