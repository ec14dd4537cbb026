package io.tributary.loadtest;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * Warm synchronous Invoke of an in-process function, as users measure it (issue 26, item 1): wrk
 * in its own process sends signed {@code POST /2015-03-31/functions/noop/invocations}, the
 * node and the ceiling each in their own JVM ({@link Wrk} alternates the sides, medians of the
 * rounds).
 *
 * <p>wrk sends 1,000 Invokes in turn, each with its own payload and so its own signature, as an
 * SDK's requests each have one (a single request replayed would let Pekko's header cache hold its
 * {@code Authorization}). Three sides: {@code ceiling}, the bare Pekko HTTP server ({@link
 * Ceiling}) sent the same POSTs unsigned; {@code ceiling+sigv4}, the same server sent the signed
 * POSTs, which it first checks with the node's own SigV4 verifier; and {@code invoke}, the node
 * running the {@code java17} {@code in-process-shared} no-op ({@link UrlBenchmark#noop}). Every
 * run signs the requests anew (the node refuses a signature more than 5 minutes old). Prints every run, the medians, and the
 * ratios invoke ÷ ceiling (target ≥ 0.8, p99 within 1.5×) and invoke ÷ ceiling+sigv4.
 *
 * <p>Arguments (system properties): as {@link Wrk.Settings#fromProperties}, and bench.cassandra.
 */
public final class WarmInvokeBenchmark {

  private static final int NODE_PORT = 9522;
  private static final String PATH = "/2015-03-31/functions/noop/invocations";
  private static final int REQUESTS = 1_000;

  public static void main(String[] args) throws Exception {
    Wrk.Settings settings = Wrk.Settings.fromProperties();
    System.out.printf(Locale.ROOT, "load average at start: %s%n", Files.readString(Path.of("/proc/loadavg")).trim());
    Process node = ColdStartBenchmark.startNode(NODE_PORT, "warmbench");
    Process ceiling = Ceiling.start(true);
    URI endpoint = URI.create("http://127.0.0.1:" + NODE_PORT);
    try (LambdaClient lambda = LambdaClient.builder().endpointOverride(endpoint)
        .region(Region.US_EAST_1).overrideConfiguration(o -> o.apiCallTimeout(Duration.ofMinutes(2)))
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(InvokeBenchmark.KEY,
            InvokeBenchmark.SECRET))).build()) {
      byte[] zip = UrlBenchmark.noop();
      lambda.createFunction(b -> b.functionName("noop").runtime("java17").handler("bench.Noop")
          .role("arn:aws:iam::000000000000:role/bench").memorySize(512).timeout(30)
          .environment(e -> e.variables(Map.of("TRIBUTARY_JAVA_MODE", "in-process-shared")))
          .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
      Supplier<List<Wrk.Request>> unsigned = () -> requests(Ceiling.PORT, false);
      Supplier<List<Wrk.Request>> signedToCeiling = () -> requests(Ceiling.PORT, true);
      Supplier<List<Wrk.Request>> signedToNode = () -> requests(NODE_PORT, true);
      UrlBenchmark.check("ceiling", Ceiling.PORT, unsigned.get().get(0));
      UrlBenchmark.check("ceiling+sigv4", Ceiling.PORT, signedToCeiling.get().get(0));
      UrlBenchmark.check("invoke", NODE_PORT, signedToNode.get().get(0));
      List<Wrk.Run> runs = Wrk.compare(settings, List.of(
          new Wrk.Side("ceiling", ceiling, Ceiling.PORT, unsigned),
          new Wrk.Side("ceiling+sigv4", ceiling, Ceiling.PORT, signedToCeiling),
          new Wrk.Side("invoke", node, NODE_PORT, signedToNode)));
      Wrk.ratio(runs, settings, "invoke", "ceiling", 0.8, 1.5);
      Wrk.ratio(runs, settings, "invoke", "ceiling+sigv4", 0.8, 1.5);
    } finally {
      UrlBenchmark.stop(ceiling, node);
    }
    System.exit(0);
  }

  /**
   * {@link #REQUESTS} Invokes for 127.0.0.1:{@code port}, each with its own payload {@code {"n":i}},
   * so that, signed now, each carries a signature of its own, as every request of an SDK does.
   */
  private static List<Wrk.Request> requests(int port, boolean signed) {
    List<Wrk.Request> requests = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      String payload = "{\"n\":" + (1000 + i) + "}";
      Map<String, String> headers = new LinkedHashMap<>();
      headers.put("Host", "127.0.0.1:" + port);
      if (signed) {
        headers.putAll(InvokeBenchmark.signedHeaders(URI.create("http://127.0.0.1:" + port), PATH, null,
            payload.getBytes(StandardCharsets.UTF_8)));
      } else {
        headers.put("Content-Type", "application/json");
      }
      requests.add(new Wrk.Request("POST", PATH, headers, payload));
    }
    return requests;
  }

  private WarmInvokeBenchmark() {}
}
