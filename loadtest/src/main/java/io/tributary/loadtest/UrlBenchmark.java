package io.tributary.loadtest;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionUrlAuthType;

/**
 * Warm function URL invokes against the ceiling, each in its own process: the node
 * (io.tributary.server.Main, {@link ColdStartBenchmark#startNode}), the ceiling ({@link Ceiling}, a
 * bare Pekko HTTP server answering the same body), and the load generator, wrk.
 *
 * <p>The function is a {@code java17} no-op returning {@link #BODY}, in mode
 * {@code in-process-shared}, with a URL of AuthType NONE and AWS's two permission statements, set up
 * through the AWS SDK. wrk sends {@code GET /} with the URL's Host header to the node's port (as a
 * client of any node does), and the same request to the ceiling's port. After a JIT warm-up of each
 * server ({@code bench.jit-warmup} s at the first connection count), the sides alternate (ceiling,
 * url) for {@code bench.rounds} rounds at each connection count; each run is {@code bench.warmup} s
 * of unmeasured load, then {@code bench.seconds} s measured with {@code wrk -t 2 --latency}. A run
 * counts non-2xx answers and socket errors as errors (a wrong Host would make every answer a 404).
 * Prints every run, then per connection count the medians and the ratios url ÷ ceiling of req/s
 * and p99. Server CPU is the server process's user+system time over the run, as % of one core;
 * Cassandra's likewise (the node writes the invocations' logs there); machine busy is /proc/stat's
 * over the same time (the load generator's share is in it).
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
  static final int CEILING_PORT = 9521;

  record Run(String side, int connections, double requestsPerSecond, double p50Ms, double p99Ms, long errors,
             double serverCpuPercent, double cassandraCpuPercent, double machineBusyPercent) {}

  public static void main(String[] args) throws Exception {
    int rounds = Integer.getInteger("bench.rounds", 5);
    int seconds = Integer.getInteger("bench.seconds", 10);
    int warmup = Integer.getInteger("bench.warmup", 5);
    int jitWarmup = Integer.getInteger("bench.jit-warmup", 25);
    int threads = Integer.getInteger("bench.threads", 2);
    int[] connections = Arrays.stream(System.getProperty("bench.connections", "8,32").split(","))
        .mapToInt(c -> Integer.parseInt(c.trim())).toArray();
    System.out.printf(Locale.ROOT, "load average at start: %s%n", Files.readString(Path.of("/proc/loadavg")).trim());

    Process node = ColdStartBenchmark.startNode(NODE_PORT, "urlbench");
    Process ceiling = startCeiling();
    try (LambdaClient lambda = LambdaClient.builder().endpointOverride(URI.create("http://127.0.0.1:" + NODE_PORT))
        .region(Region.US_EAST_1).overrideConfiguration(o -> o.apiCallTimeout(Duration.ofMinutes(2)))
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(KEY, SECRET))).build()) {
      String function = "url-noop";
      byte[] zip = InvokeBenchmark.javaHandler("UrlNoop", """
          package bench;
          import com.amazonaws.services.lambda.runtime.Context;
          import com.amazonaws.services.lambda.runtime.RequestHandler;
          import java.util.Map;
          public class UrlNoop implements RequestHandler<Map<String, Object>, Map<String, Object>> {
            private static final Map<String, Object> OK = Map.of("ok", true);
            public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
              return OK;
            }
          }
          """);
      lambda.createFunction(b -> b.functionName(function).runtime("java17").handler("bench.UrlNoop").role(ROLE)
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
      check("url", NODE_PORT, host);
      check("ceiling", CEILING_PORT, host);

      System.out.printf(Locale.ROOT, "warming the JIT: ceiling for %d s%n", jitWarmup);
      load("ceiling", CEILING_PORT, host, node, ceiling, threads, connections[0], jitWarmup);
      System.out.printf(Locale.ROOT, "warming the JIT: url for %d s%n", jitWarmup);
      load("url", NODE_PORT, host, node, ceiling, threads, connections[0], jitWarmup);

      List<Run> runs = new ArrayList<>();
      for (int c : connections) {
        for (int round = 1; round <= rounds; round++) {
          for (String side : List.of("ceiling", "url")) {
            int port = side.equals("url") ? NODE_PORT : CEILING_PORT;
            load(side, port, host, node, ceiling, threads, c, warmup);
            Run r = load(side, port, host, node, ceiling, threads, c, seconds);
            runs.add(r);
            System.out.printf(Locale.ROOT, "%d connections, round %d of %d: %s%n", c, round, rounds, format(r));
          }
        }
      }

      System.out.println();
      System.out.println("side     conns    req/s    p50 ms   p99 ms   errors  server cpu %  cassandra cpu %"
          + "  machine busy %");
      runs.forEach(r -> System.out.println(format(r)));
      System.out.println();
      System.out.printf(Locale.ROOT, "medians over %d rounds, %d s each after %d s warm-up, wrk -t %d%n", rounds,
          seconds, warmup, threads);
      for (int c : connections) {
        for (String side : List.of("ceiling", "url")) {
          System.out.printf(Locale.ROOT, "%-8s %5d %8.0f %9.2f %8.2f %8.0f %13.0f %16.0f %15.0f%n", side, c,
              median(runs, side, c, Run::requestsPerSecond), median(runs, side, c, Run::p50Ms),
              median(runs, side, c, Run::p99Ms), median(runs, side, c, r -> r.errors()),
              median(runs, side, c, Run::serverCpuPercent), median(runs, side, c, Run::cassandraCpuPercent),
              median(runs, side, c, Run::machineBusyPercent));
        }
        double rps = median(runs, "url", c, Run::requestsPerSecond) / median(runs, "ceiling", c,
            Run::requestsPerSecond);
        double p99 = median(runs, "url", c, Run::p99Ms) / median(runs, "ceiling", c, Run::p99Ms);
        System.out.printf(Locale.ROOT, "%d connections: url ÷ ceiling req/s %.2f (target ≥ 0.80: %s), p99 %.2f× "
            + "(target ≤ 1.5×: %s)%n", c, rps, rps >= 0.8 ? "met" : "missed", p99, p99 <= 1.5 ? "met" : "missed");
      }
    } finally {
      UrlBenchmark.stop(ceiling, node);
    }
    System.exit(0);
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

  /** The ceiling in its own JVM, with the node's heap and this classpath. */
  static Process startCeiling() throws IOException {
    Path log = Files.createTempFile("tributary-ceiling", ".log");
    Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-Dpekko.loglevel=WARNING",
        "-Dlogback.configurationFile=" + System.getProperty("logback.configurationFile", ""),
        "-cp", System.getProperty("java.class.path"), Ceiling.class.getName(), Integer.toString(CEILING_PORT))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    System.out.println("ceiling starting (log: " + log + ")");
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!Files.readString(log).contains("ceiling ready")) {
      if (System.nanoTime() > deadline || !process.isAlive()) {
        process.destroy();
        throw new IllegalStateException("the ceiling did not start; see " + log);
      }
      ColdStartBenchmark.sleep(200);
    }
    return process;
  }

  /** One request as wrk sends it, to show both answers and refuse to measure a side that fails. */
  private static void check(String side, int port, String host) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      OutputStream out = socket.getOutputStream();
      out.write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      System.out.printf(Locale.ROOT, "%s answers:%n  %s%n", side, response.strip().replace("\r\n", "\n  "));
      if (!response.startsWith("HTTP/1.1 200") || !response.endsWith(BODY)) {
        throw new IllegalStateException(side + " did not answer 200 " + BODY);
      }
    }
  }

  /** wrk for {@code seconds} against {@code port}, parsed; the CPU of the side's server and of the machine meanwhile. */
  private static Run load(String side, int port, String host, Process node, Process ceiling, int threads,
      int connections, int seconds) throws Exception {
    Process server = side.equals("url") ? node : ceiling;
    long serverCpu = cpuTicks(server.pid());
    long cassandraCpu = InvokeBenchmark.cassandraCpuNanos();
    long[] machine = machineTicks();
    Process wrk = new ProcessBuilder(System.getProperty("bench.wrk", "wrk"), "-t", Integer.toString(threads),
        "-c", Integer.toString(connections), "-d", seconds + "s", "--latency", "-H", "Host: " + host,
        "http://127.0.0.1:" + port + "/").redirectErrorStream(true).start();
    String out = new String(wrk.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (wrk.waitFor() != 0) {
      throw new IllegalStateException("wrk failed:\n" + out);
    }
    long[] machineAfter = machineTicks();
    double elapsedTicks = (machineAfter[0] - machine[0]) / (double) Runtime.getRuntime().availableProcessors();
    double serverPercent = 100.0 * (cpuTicks(server.pid()) - serverCpu) / elapsedTicks;
    double cassandraPercent = 100.0 * (InvokeBenchmark.cassandraCpuNanos() - cassandraCpu) / 10_000_000L
        / elapsedTicks;
    double busyPercent = 100.0 * (1 - (machineAfter[1] - machine[1]) / (double) (machineAfter[0] - machine[0]));
    long errors = longOf(out, "Non-2xx or 3xx responses:\\s+(\\d+)") + socketErrors(out);
    return new Run(side, connections, doubleOf(out, "Requests/sec:\\s+([\\d.]+)"),
        latencyMs(out, "50%"), latencyMs(out, "99%"), errors, serverPercent, cassandraPercent, busyPercent);
  }

  private static String format(Run r) {
    return String.format(Locale.ROOT, "%-8s %5d %8.0f %9.2f %8.2f %8d %13.0f %16.0f %15.0f", r.side(),
        r.connections(), r.requestsPerSecond(), r.p50Ms(), r.p99Ms(), r.errors(), r.serverCpuPercent(),
        r.cassandraCpuPercent(), r.machineBusyPercent());
  }

  /** A percentile of wrk's "Latency Distribution", e.g. "99%  12.34ms", in ms. */
  static double latencyMs(String wrkOutput, String percentile) {
    Matcher m = Pattern.compile("^\\s*" + Pattern.quote(percentile) + "\\s+([\\d.]+)(us|ms|s|m)\\s*$",
        Pattern.MULTILINE).matcher(wrkOutput);
    if (!m.find()) {
      throw new IllegalStateException("no " + percentile + " latency in wrk's output:\n" + wrkOutput);
    }
    double value = Double.parseDouble(m.group(1));
    return switch (m.group(2)) {
      case "us" -> value / 1000;
      case "ms" -> value;
      case "s" -> value * 1000;
      default -> value * 60_000;
    };
  }

  /** "Socket errors: connect 0, read 0, write 0, timeout 0", summed; absent when there were none. */
  static long socketErrors(String wrkOutput) {
    Matcher m = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)")
        .matcher(wrkOutput);
    long sum = 0;
    if (m.find()) {
      for (int i = 1; i <= 4; i++) {
        sum += Long.parseLong(m.group(i));
      }
    }
    return sum;
  }

  private static double doubleOf(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    if (!m.find()) {
      throw new IllegalStateException("no match for " + regex + " in wrk's output:\n" + text);
    }
    return Double.parseDouble(m.group(1));
  }

  private static long longOf(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  /** utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
  static long cpuTicks(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }

  /** The machine's total and idle (idle + iowait) clock ticks, from /proc/stat's "cpu" line. */
  private static long[] machineTicks() throws IOException {
    String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
    long total = 0;
    for (int i = 1; i < Math.min(f.length, 9); i++) {
      total += Long.parseLong(f[i]);
    }
    return new long[] {total, Long.parseLong(f[4]) + Long.parseLong(f[5])};
  }

  private static double median(List<Run> runs, String side, int connections,
      java.util.function.ToDoubleFunction<Run> metric) {
    double[] v = runs.stream().filter(r -> r.side().equals(side) && r.connections() == connections)
        .mapToDouble(metric).sorted().toArray();
    return v.length == 0 ? Double.NaN : v[v.length / 2];
  }


  private UrlBenchmark() {}
}
