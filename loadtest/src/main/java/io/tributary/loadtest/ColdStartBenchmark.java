package io.tributary.loadtest;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.ProvisionedConcurrencyStatusEnum;

/**
 * What provisioned concurrency removes: the latency of the invokes that reach a newly deployed
 * version, with and without it. The node runs in its own process (io.tributary.server.Main) and this
 * JVM is the client, through the AWS SDK, as users call it.
 *
 * <p>Per runtime and round, each side deploys a fresh version twice (a changed environment
 * variable, PublishVersion, the alias moved to it) and measures, from the client: the first invoke
 * of the first version, and {@code bench.burst} invokes sent at once to the second. The
 * {@code provisioned} side first puts {@code bench.burst} provisioned concurrency on the alias and
 * waits for READY (the time to READY is printed too); the {@code on-demand} side invokes at once.
 * The sides alternate which goes first from round to round. Medians over {@code bench.rounds} (5).
 */
public final class ColdStartBenchmark {

  private static final String KEY = "AKIATRIBUTARYLOCAL01";
  private static final String SECRET = "tributary-local-secret-do-not-use-in-production";
  private static final String ROLE = "arn:aws:iam::000000000000:role/bench";
  private static final int PORT = 9510;

  record Sample(String runtime, String side, double firstMs, double burstMedianMs, double burstMaxMs, double readyMs) {}

  public static void main(String[] args) throws Exception {
    int rounds = Integer.getInteger("bench.rounds", 5);
    int burst = Integer.getInteger("bench.burst", 4);
    Process node = startNode(PORT, "cold");
    try (LambdaClient lambda = LambdaClient.builder().endpointOverride(URI.create("http://127.0.0.1:" + PORT))
        .region(Region.US_EAST_1).overrideConfiguration(o -> o.apiCallTimeout(Duration.ofMinutes(2)))
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(KEY, SECRET))).build()) {
      Map<String, Object[]> runtimes = new LinkedHashMap<>();
      runtimes.put("python3.11", new Object[] {"app.handler", InvokeBenchmark.zipOf(Map.of("app.py",
          "import json\ndef handler(event, context):\n    return event\n"))});
      runtimes.put("nodejs20.x", new Object[] {"index.handler", InvokeBenchmark.zipOf(Map.of("index.js",
          "exports.handler = async (event) => event;\n"))});
      runtimes.put("java17", new Object[] {"bench.Noop", InvokeBenchmark.noopJava()});
      List<Sample> samples = new ArrayList<>();
      for (var runtime : runtimes.entrySet()) {
        String fn = "cold-" + runtime.getKey().replace(".", "-");
        lambda.createFunction(b -> b.functionName(fn).runtime(runtime.getKey()).handler((String) runtime.getValue()[0])
            .role(ROLE).memorySize(512).timeout(30).publish(true)
            .code(c -> c.zipFile(SdkBytes.fromByteArray((byte[]) runtime.getValue()[1]))));
        lambda.createAlias(b -> b.functionName(fn).name("live").functionVersion("1"));
      }
      int deploy = 0;
      for (int round = 1; round <= rounds; round++) {
        for (String runtime : runtimes.keySet()) {
          String fn = "cold-" + runtime.replace(".", "-");
          List<String> sides = round % 2 == 1 ? List.of("on-demand", "provisioned") : List.of("provisioned", "on-demand");
          for (String side : sides) {
            samples.add(measure(lambda, runtime, fn, side.equals("provisioned"), burst, deploy));
            deploy += 2;
            Sample s = samples.get(samples.size() - 1);
            System.out.printf(Locale.ROOT, "round %d  %-11s %-12s first %7.0f ms  burst of %d: median %7.0f ms, "
                + "max %7.0f ms%s%n", round, runtime, side, s.firstMs(), burst, s.burstMedianMs(), s.burstMaxMs(),
                s.readyMs() > 0 ? String.format(Locale.ROOT, "  (READY after %.1f s)", s.readyMs() / 1000) : "");
          }
        }
      }
      System.out.println();
      System.out.printf(Locale.ROOT, "medians over %d rounds (client-side, node in its own process)%n", rounds);
      System.out.println("runtime      first invoke: on-demand  provisioned   burst of " + burst
          + " (median/max): on-demand    provisioned    time to READY");
      for (String runtime : runtimes.keySet()) {
        double od = median(samples, runtime, "on-demand", Sample::firstMs);
        double pc = median(samples, runtime, "provisioned", Sample::firstMs);
        System.out.printf(Locale.ROOT, "%-11s %19.0f ms %9.0f ms %17.0f/%.0f ms %10.0f/%.0f ms %12.1f s%n", runtime,
            od, pc, median(samples, runtime, "on-demand", Sample::burstMedianMs),
            median(samples, runtime, "on-demand", Sample::burstMaxMs),
            median(samples, runtime, "provisioned", Sample::burstMedianMs),
            median(samples, runtime, "provisioned", Sample::burstMaxMs),
            median(samples, runtime, "provisioned", Sample::readyMs) / 1000);
      }
    } finally {
      node.destroy();
      node.waitFor();
    }
    System.exit(0);
  }

  private static Sample measure(LambdaClient lambda, String runtime, String fn, boolean provisioned, int burst,
      int deploy) {
    long ready = 0;
    String version = deploy(lambda, fn, deploy);
    if (provisioned) {
      ready -= System.nanoTime();
      lambda.putProvisionedConcurrencyConfig(b -> b.functionName(fn).qualifier("live")
          .provisionedConcurrentExecutions(burst));
      awaitReady(lambda, fn);
      ready += System.nanoTime();
    }
    long start = System.nanoTime();
    invoke(lambda, fn);
    double first = (System.nanoTime() - start) / 1e6;

    deploy(lambda, fn, deploy + 1);
    if (provisioned) {
      awaitReady(lambda, fn);
    }
    List<CompletableFuture<Double>> calls = new ArrayList<>();
    for (int i = 0; i < burst; i++) {
      calls.add(CompletableFuture.supplyAsync(() -> {
        long t = System.nanoTime();
        invoke(lambda, fn);
        return (System.nanoTime() - t) / 1e6;
      }));
    }
    double[] ms = calls.stream().mapToDouble(CompletableFuture::join).sorted().toArray();
    if (provisioned) {
      lambda.deleteProvisionedConcurrencyConfig(b -> b.functionName(fn).qualifier("live"));
    }
    return new Sample(runtime, provisioned ? "provisioned" : "on-demand", first, ms[ms.length / 2],
        ms[ms.length - 1], ready / 1e6);
  }

  /** A new version (its own environments) with the alias on it. */
  private static String deploy(LambdaClient lambda, String fn, int deploy) {
    lambda.updateFunctionConfiguration(b -> b.functionName(fn).environment(e -> e.variables(Map.of("DEPLOY",
        Integer.toString(deploy)))));
    String version = lambda.publishVersion(b -> b.functionName(fn)).version();
    lambda.updateAlias(b -> b.functionName(fn).name("live").functionVersion(version));
    return version;
  }

  private static void invoke(LambdaClient lambda, String fn) {
    var response = lambda.invoke(b -> b.functionName(fn).qualifier("live").payload(SdkBytes.fromUtf8String("{}")));
    if (response.functionError() != null) {
      throw new IllegalStateException(fn + ": " + response.payload().asUtf8String());
    }
  }

  private static void awaitReady(LambdaClient lambda, String fn) {
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (lambda.getProvisionedConcurrencyConfig(b -> b.functionName(fn).qualifier("live")).status()
        != ProvisionedConcurrencyStatusEnum.READY) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(fn + " not READY after 120 s");
      }
      sleep(20);
    }
  }

  private static double median(List<Sample> samples, String runtime, String side,
      java.util.function.ToDoubleFunction<Sample> value) {
    double[] v = samples.stream().filter(s -> s.runtime().equals(runtime) && s.side().equals(side))
        .mapToDouble(value).sorted().toArray();
    return v.length == 0 ? Double.NaN : v[v.length / 2];
  }

  /**
   * The node as an operator runs it: its own JVM, on the benchmark's Cassandra, API on {@code port},
   * its keyspaces named after {@code keyspace}; returns once /health/ready answers 200.
   */
  static Process startNode(int port, String keyspace) throws IOException, InterruptedException {
    return startNode(port, keyspace, List.of());
  }

  /** With {@code options} (-D...) after the defaults, so they win: a cluster's artery port and seed nodes. */
  static Process startNode(int port, String keyspace, List<String> options) throws IOException, InterruptedException {
    Path work = Files.createTempDirectory("tributary-" + keyspace);
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-Dtributary.http.port=" + port, "-Dtributary.cassandra.keyspace=" + keyspace,
        "-Dtributary.cassandra.autocreate=on", "-Dtributary.runtime.work-dir=" + work,
        "-Dtributary.runtime.idle-timeout=20s",
        "-Dpekko.persistence.cassandra.journal.keyspace=" + keyspace + "_journal",
        "-Dpekko.persistence.cassandra.snapshot.keyspace=" + keyspace + "_snapshot",
        "-Dpekko.remote.artery.canonical.port=0", "-Dpekko.loglevel=WARNING",
        "-Ddatastax-java-driver.basic.contact-points.0=" + System.getProperty("bench.cassandra", "127.0.0.1:9042"),
        "-Dlogback.configurationFile=" + System.getProperty("logback.configurationFile", "")));
    command.addAll(options);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.tributary.server.Main"));
    Process node = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(work.resolve("node.log").toFile()).start();
    System.out.println("node starting (log: " + work.resolve("node.log") + ")");
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (true) {
      try {
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
            + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString());
        if (ready.statusCode() == 200) {
          return node;
        }
      } catch (IOException e) {
        // Not listening yet.
      }
      if (System.nanoTime() > deadline || !node.isAlive()) {
        node.destroy();
        throw new IllegalStateException("the node did not become ready; see " + work.resolve("node.log"));
      }
      sleep(500);
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
