package io.tributary.loadtest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionUrlAuthType;
import software.amazon.awssdk.services.lambda.model.InvokeMode;

/**
 * Response streaming through RESPONSE_STREAM function URLs, each side in its own process: the node
 * ({@link ColdStartBenchmark#startNode}), the ceiling ({@link Ceiling}, whose {@code /chunked}
 * answers the same bytes as a plain Pekko HTTP chunked response), and the clients (a raw socket for
 * the first byte, curl for throughput).
 *
 * <ul>
 *   <li>Time to first byte: a Node function writes the moment it writes (its wall clock, in ms with
 *   microseconds) as its first chunk, then waits and ends; the client notes the moment that chunk
 *   arrives. Both clocks are the machine's. {@code bench.ttfb-samples} requests per round, each on a
 *   new connection.
 *   <li>Throughput: a Node function streams {@code bench.mib} MiB in 1 MiB writes (waiting for
 *   {@code drain}, as a well-behaved stream does); curl downloads it to /dev/null, and the same size
 *   from the ceiling, sides alternating, {@code bench.rounds} rounds. Server CPU is the server
 *   process's user+system time over the download, as % of one core.
 * </ul>
 *
 * <p>Arguments (system properties): bench.cassandra (host:port), bench.rounds (5), bench.ttfb-samples
 * (40), bench.mib (100).
 */
public final class ResponseStreamBenchmark {

  private static final String KEY = "AKIATRIBUTARYLOCAL01";
  private static final String SECRET = "tributary-local-secret-do-not-use-in-production";
  private static final String ROLE = "arn:aws:iam::000000000000:role/bench";
  private static final int NODE_PORT = 9530;
  private static final String CODE = """
      const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
      exports.ttfb = awslambda.streamifyResponse(async (event, stream) => {
        stream.write((performance.timeOrigin + performance.now()).toFixed(3) + '\\n');
        await sleep(20);
        stream.end('done');
      });
      exports.big = awslambda.streamifyResponse(async (event, stream) => {
        const mib = Number(new URLSearchParams(event.rawQueryString).get('mib'));
        const block = Buffer.alloc(1024 * 1024, 'x');
        for (let i = 0; i < mib; i++) {
          if (!stream.write(block)) await new Promise((resolve) => stream.once('drain', resolve));
        }
        stream.end();
      });
      """;

  record Download(String side, long bytes, double seconds, double serverCpuPercent) {
    double mibPerSecond() {
      return bytes / seconds / (1024 * 1024);
    }
  }

  public static void main(String[] args) throws Exception {
    int rounds = Integer.getInteger("bench.rounds", 5);
    int samples = Integer.getInteger("bench.ttfb-samples", 40);
    int mib = Integer.getInteger("bench.mib", 100);
    System.out.printf(Locale.ROOT, "load average at start: %s%n", Files.readString(Path.of("/proc/loadavg")).trim());
    Process node = ColdStartBenchmark.startNode(NODE_PORT, "streambench");
    Process ceiling = Ceiling.start(false);
    try (LambdaClient lambda = LambdaClient.builder().endpointOverride(URI.create("http://127.0.0.1:" + NODE_PORT))
        .region(Region.US_EAST_1).overrideConfiguration(o -> o.apiCallTimeout(Duration.ofMinutes(2)))
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(KEY, SECRET))).build()) {
      byte[] zip = InvokeBenchmark.zipOf(Map.of("index.js", CODE));
      Map<String, String> hosts = new java.util.LinkedHashMap<>();
      for (String handler : List.of("ttfb", "big")) {
        String fn = "stream-" + handler;
        lambda.createFunction(b -> b.functionName(fn).runtime("nodejs20.x").handler("index." + handler).role(ROLE)
            .memorySize(512).timeout(120).code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
        String url = lambda.createFunctionUrlConfig(b -> b.functionName(fn).authType(FunctionUrlAuthType.NONE)
            .invokeMode(InvokeMode.RESPONSE_STREAM)).functionUrl();
        lambda.addPermission(b -> b.functionName(fn).statementId("url").principal("*")
            .action("lambda:InvokeFunctionUrl").functionUrlAuthType(FunctionUrlAuthType.NONE));
        lambda.addPermission(b -> b.functionName(fn).statementId("url-invoke").principal("*")
            .action("lambda:InvokeFunction").invokedViaFunctionUrl(true));
        hosts.put(handler, URI.create(url).getHost());
      }

      System.out.println("warming up: 20 first-byte samples, one download of each side");
      firstBytes(hosts.get("ttfb"), 20);
      download("url", node, hosts.get("big"), mib);
      download("ceiling", ceiling, null, mib);

      List<Double> ttfb = new ArrayList<>();
      List<Download> downloads = new ArrayList<>();
      for (int round = 1; round <= rounds; round++) {
        double[] r = firstBytes(hosts.get("ttfb"), samples);
        Arrays.stream(r).forEach(ttfb::add);
        System.out.printf(Locale.ROOT, "round %d: first byte after the function wrote it: median %.2f ms, max %.2f ms"
            + " (%d requests)%n", round, percentile(r, 0.5), r[r.length - 1], r.length);
        for (String side : round % 2 == 1 ? List.of("ceiling", "url") : List.of("url", "ceiling")) {
          Download d = side.equals("url") ? download("url", node, hosts.get("big"), mib)
              : download("ceiling", ceiling, null, mib);
          downloads.add(d);
          System.out.printf(Locale.ROOT, "round %d: %-7s %d MiB in %.2f s: %.0f MiB/s, server cpu %.0f%%%n", round,
              side, d.bytes() >> 20, d.seconds(), d.mibPerSecond(), d.serverCpuPercent());
        }
      }
      double[] all = ttfb.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      double url = median(downloads, "url", Download::mibPerSecond);
      double plain = median(downloads, "ceiling", Download::mibPerSecond);
      System.out.println();
      System.out.printf(Locale.ROOT, "first byte after the function wrote it (%d requests over %d rounds): p50 %.2f ms,"
          + " p90 %.2f ms, p99 %.2f ms%n", all.length, rounds, percentile(all, 0.5), percentile(all, 0.9),
          percentile(all, 0.99));
      System.out.printf(Locale.ROOT, "%d MiB, medians over %d rounds: streamed function URL %.0f MiB/s (server cpu %.0f%%),"
          + " plain Pekko HTTP chunked %.0f MiB/s (%.0f%%): ratio %.2f%n", mib, rounds, url,
          median(downloads, "url", Download::serverCpuPercent), plain,
          median(downloads, "ceiling", Download::serverCpuPercent), url / plain);
    } finally {
      UrlBenchmark.stop(ceiling, node);
    }
    System.exit(0);
  }

  /**
   * {@code n} requests to the URL, each on a new connection: per request, the ms between the
   * moment the function wrote its first chunk (its content) and the moment that chunk arrived; sorted.
   */
  private static double[] firstBytes(String host, int n) throws IOException {
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      try (Socket socket = new Socket("127.0.0.1", NODE_PORT)) {
        socket.setTcpNoDelay(true);
        OutputStream o = socket.getOutputStream();
        o.write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        o.flush();
        InputStream in = socket.getInputStream();
        String line = firstBodyLine(in);
        Instant arrived = Instant.now();
        double arrivedMs = arrived.getEpochSecond() * 1000.0 + arrived.getNano() / 1e6;
        out[i] = arrivedMs - Double.parseDouble(line.trim());
        in.readAllBytes();
      }
    }
    Arrays.sort(out);
    return out;
  }

  /** Reads the head of a chunked response, then the first chunk's first line. */
  private static String firstBodyLine(InputStream in) throws IOException {
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      seen.write(b);
      String text = seen.toString(StandardCharsets.US_ASCII);
      int head = text.indexOf("\r\n\r\n");
      if (head >= 0 && text.endsWith("\n") && !text.endsWith("\r\n")) {
        String body = text.substring(head + 4);
        return body.substring(body.indexOf("\r\n") + 2);
      }
    }
    throw new IOException("the response ended before its first line: " + seen);
  }

  /** curl downloading {@code mib} MiB to /dev/null from the node's URL ({@code host}) or the ceiling. */
  private static Download download(String side, Process server, String host, int mib) throws Exception {
    List<String> command = new ArrayList<>(List.of("curl", "-sS", "-o", "/dev/null", "-w",
        "%{size_download} %{time_total} %{http_code}"));
    if (host != null) {
      command.addAll(List.of("--resolve", host + ":" + NODE_PORT + ":127.0.0.1",
          "http://" + host + ":" + NODE_PORT + "/?mib=" + mib));
    } else {
      command.add("http://127.0.0.1:" + Ceiling.PORT + "/chunked?mib=" + mib);
    }
    long cpu = Wrk.cpuTicks(server.pid());
    long start = System.nanoTime();
    Process curl = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (curl.waitFor() != 0 || !out.endsWith(" 200")) {
      throw new IllegalStateException(side + ": curl failed: " + out);
    }
    double wall = (System.nanoTime() - start) / 1e9;
    double cpuPercent = 100.0 * (Wrk.cpuTicks(server.pid()) - cpu) / 100.0 / wall;
    String[] f = out.split(" ");
    long bytes = Long.parseLong(f[0]);
    if (bytes != (long) mib << 20) {
      throw new IllegalStateException(side + ": " + bytes + " bytes came, not " + ((long) mib << 20));
    }
    return new Download(side, bytes, Double.parseDouble(f[1]), cpuPercent);
  }

  private static double percentile(double[] sorted, double q) {
    return sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
  }

  private static double median(List<Download> downloads, String side,
      java.util.function.ToDoubleFunction<Download> metric) {
    double[] v = downloads.stream().filter(d -> d.side().equals(side)).mapToDouble(metric).sorted().toArray();
    return v[v.length / 2];
  }

  private ResponseStreamBenchmark() {}
}
