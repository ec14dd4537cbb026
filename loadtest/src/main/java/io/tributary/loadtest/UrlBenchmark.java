package io.tributary.loadtest;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionUrlAuthType;

/**
 * Warm function URL invokes against the ceiling, each in its own process: the node
 * (io.tributary.server.Main, {@link ColdStartBenchmark#startNode}), the ceiling ({@link Ceiling}, a
 * bare Pekko HTTP server answering the same body), and the load generator, wrk ({@link Wrk}: sides
 * alternated, medians of the rounds).
 *
 * <p>The function is a {@code java17} no-op returning {@link #BODY}, in mode
 * {@code in-process-shared}, with a URL of AuthType NONE and AWS's two permission statements, set up
 * through the AWS SDK. wrk sends {@code GET /} with the URL's Host header to the node's port (as a
 * client of any node does), and the same request to the ceiling's port; a wrong Host would make
 * every answer a 404, counted as an error. Prints every run, the medians and the ratios url ÷
 * ceiling of req/s and p99. The node writes the invocations' logs to Cassandra, whose CPU is shown.
 *
 * <p>Arguments (system properties): bench.cassandra (host:port), bench.rounds (5), bench.seconds
 * (10), bench.warmup (5), bench.jit-warmup (25), bench.connections (8,32), bench.threads (2),
 * bench.wrk (wrk).
 */
public final class UrlBenchmark {

  /** What the function returns and the ceiling answers. */
  static final String BODY = "{\"ok\":true}";
  private static final String KEY = "AKIATRIBUTARYLOCAL01";
  private static final String SECRET = "tributary-local-secret-do-not-use-in-production";
  private static final String ROLE = "arn:aws:iam::000000000000:role/bench";
  private static final int NODE_PORT = 9520;

  public static void main(String[] args) throws Exception {
    Wrk.Settings settings = Wrk.Settings.fromProperties();
    System.out.printf(Locale.ROOT, "load average at start: %s%n", Files.readString(Path.of("/proc/loadavg")).trim());

    Process node = ColdStartBenchmark.startNode(NODE_PORT, "urlbench");
    Process ceiling = Ceiling.start(false);
    try (LambdaClient lambda = LambdaClient.builder().endpointOverride(URI.create("http://127.0.0.1:" + NODE_PORT))
        .region(Region.US_EAST_1).overrideConfiguration(o -> o.apiCallTimeout(Duration.ofMinutes(2)))
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(KEY, SECRET))).build()) {
      String function = "url-noop";
      byte[] zip = noop();
      lambda.createFunction(b -> b.functionName(function).runtime("java17").handler("bench.Noop").role(ROLE)
          .memorySize(512).timeout(30).environment(e -> e.variables(Map.of("TRIBUTARY_JAVA_MODE", "in-process-shared")))
          .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
      String url = lambda.createFunctionUrlConfig(b -> b.functionName(function).authType(FunctionUrlAuthType.NONE))
          .functionUrl();
      lambda.addPermission(b -> b.functionName(function).statementId("url").principal("*")
          .action("lambda:InvokeFunctionUrl").functionUrlAuthType(FunctionUrlAuthType.NONE));
      lambda.addPermission(b -> b.functionName(function).statementId("url-invoke").principal("*")
          .action("lambda:InvokeFunction").invokedViaFunctionUrl(true));
      String host = URI.create(url).getHost();
      System.out.printf(Locale.ROOT, "function URL %s; requests go to 127.0.0.1:%d with Host: %s%n", url, NODE_PORT,
          host);
      Wrk.Request get = new Wrk.Request("GET", "/", Map.of("Host", host), null);
      check("url", NODE_PORT, get);
      check("ceiling", Ceiling.PORT, get);
      List<Wrk.Run> runs = Wrk.compare(settings, List.of(Wrk.Side.of("ceiling", ceiling, Ceiling.PORT, () -> get),
          Wrk.Side.of("url", node, NODE_PORT, () -> get)));
      Wrk.ratio(runs, settings, "url", "ceiling", 0.8, 1.5);
    } finally {
      stop(ceiling, node);
    }
    System.exit(0);
  }

  /** The in-process-shared no-op both warm benchmarks call: {@code bench.Noop} returns {@link #BODY}. */
  static byte[] noop() throws IOException {
    return InvokeBenchmark.javaHandler("Noop", """
        package bench;
        import com.amazonaws.services.lambda.runtime.Context;
        import com.amazonaws.services.lambda.runtime.RequestHandler;
        import java.util.Map;
        public class Noop implements RequestHandler<Map<String, Object>, Map<String, Object>> {
          private static final Map<String, Object> OK = Map.of("ok", true);
          public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
            return OK;
          }
        }
        """);
  }

  /** Stops the benchmark's server processes and waits for them. */
  static void stop(Process... servers) throws InterruptedException {
    for (Process p : servers) {
      p.destroy();
    }
    for (Process p : servers) {
      p.waitFor();
    }
  }

  /** One request as wrk sends it, to show the answer and refuse to measure a side that fails. */
  static void check(String side, int port, Wrk.Request request) throws IOException {
    check(side, port, request, BODY);
  }

  /** The same; {@code body}, when not null, is the answer's body expected. */
  static void check(String side, int port, Wrk.Request request, String body) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      StringBuilder head = new StringBuilder(request.method()).append(' ').append(request.path())
          .append(" HTTP/1.1\r\n");
      request.headers().forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
      byte[] sent = request.body() == null ? new byte[0] : request.body().getBytes(StandardCharsets.UTF_8);
      head.append("Content-Length: ").append(sent.length).append("\r\nConnection: close\r\n\r\n");
      OutputStream out = socket.getOutputStream();
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.write(sent);
      out.flush();
      String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      System.out.printf(Locale.ROOT, "%s answers:%n  %s%n", side, response.strip().replace("\r\n", "\n  "));
      if (!response.startsWith("HTTP/1.1 200") || body != null && !response.endsWith(body)) {
        throw new IllegalStateException(side + " did not answer 200 " + (body == null ? "" : body));
      }
    }
  }

  private UrlBenchmark() {}
}
