package io.tributary.loadtest;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
 * in its own process replays one signed {@code POST /2015-03-31/functions/noop/invocations}, the
 * node and the ceiling each in their own JVM ({@link Wrk} alternates the sides, medians of the
 * rounds).
 *
 * <p>Three sides: {@code ceiling}, the bare Pekko HTTP server ({@link Ceiling}) sent the same POST
 * unsigned; {@code ceiling+sigv4}, the same server sent the signed POST, which it first checks
 * with the node's own SigV4 verifier; and {@code invoke}, the node running the {@code java17}
 * {@code in-process-shared} no-op ({@link UrlBenchmark#noop}). Every run signs the request anew
 * (the node refuses a signature more than 5 minutes old). Prints every run, the medians, and the
 * ratios invoke ÷ ceiling (target ≥ 0.8, p99 within 1.5×) and invoke ÷ ceiling+sigv4.
 *
 * <p>Arguments (system properties): as {@link Wrk.Settings#fromProperties}, and bench.cassandra.
 */
public final class WarmInvokeBenchmark {

  private static final int NODE_PORT = 9522;
  private static final String PATH = "/2015-03-31/functions/noop/invocations";
  private static final String PAYLOAD = "{\"n\":1}";

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
      Supplier<Wrk.Request> unsigned = () -> post(Ceiling.PORT, Map.of("Content-Type", "application/json"));
      Supplier<Wrk.Request> signedToCeiling = () -> signed(Ceiling.PORT);
      Supplier<Wrk.Request> signedToNode = () -> signed(NODE_PORT);
      UrlBenchmark.check("ceiling", Ceiling.PORT, unsigned.get());
      UrlBenchmark.check("ceiling+sigv4", Ceiling.PORT, signedToCeiling.get());
      UrlBenchmark.check("invoke", NODE_PORT, signedToNode.get());
      List<Wrk.Run> runs = Wrk.compare(settings, List.of(
          Wrk.Side.of("ceiling", ceiling, Ceiling.PORT, unsigned),
          Wrk.Side.of("ceiling+sigv4", ceiling, Ceiling.PORT, signedToCeiling),
          Wrk.Side.of("invoke", node, NODE_PORT, signedToNode)));
      Wrk.ratio(runs, settings, "invoke", "ceiling", 0.8, 1.5);
      Wrk.ratio(runs, settings, "invoke", "ceiling+sigv4", 0.8, 1.5);
    } finally {
      UrlBenchmark.stop(ceiling, node);
    }
    System.exit(0);
  }

  /** The Invoke, signed for 127.0.0.1:{@code port} now. */
  private static Wrk.Request signed(int port) {
    return post(port, InvokeBenchmark.signedHeaders(URI.create("http://127.0.0.1:" + port), PATH, null,
        PAYLOAD.getBytes(StandardCharsets.UTF_8)));
  }

  private static Wrk.Request post(int port, Map<String, String> headers) {
    Map<String, String> all = new LinkedHashMap<>();
    all.put("Host", "127.0.0.1:" + port);
    all.putAll(headers);
    return new Wrk.Request("POST", PATH, all, PAYLOAD);
  }

  private WarmInvokeBenchmark() {}
}
