package io.tributary.loadtest;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tributary.server.Node;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * Warm synchronous invokes against a real node, side by side with the ceiling: a bare Pekko HTTP
 * route in the same JVM that echoes the payload on the same path. Runs alternate (ceiling,
 * in-process, in-process-shared, python, java17) for {@code rounds} rounds so that machine noise hits every side
 * alike; prints every run, then medians and the median ratio invoke/ceiling. Then cold starts per
 * runtime. Requests are signed once per run and replayed (a signature stays valid 5 minutes), so
 * the load generator spends nothing on SigV4 and both sides receive identical bytes.
 *
 * <p>Arguments (system properties): bench.cassandra (host:port), bench.rounds (5),
 * bench.seconds (10), bench.warmup (5), bench.connections (8), bench.jit-warmup (30, per side, once before
 * the rounds).
 */
public final class InvokeBenchmark {

  static final String KEY = "AKIATRIBUTARYLOCAL01";
  static final String SECRET = "tributary-local-secret-do-not-use-in-production";
  private static final String ROLE = "arn:aws:iam::000000000000:role/bench";
  private static final byte[] PAYLOAD = "{\"n\":1}".getBytes(StandardCharsets.UTF_8);

  /**
   * {@code cpuMsPerRequest}: CPU time of this JVM and of Cassandra during the run, per request;
   * {@code cassandraCpuMsPerRequest}: Cassandra's part of it.
   */
  record Run(String side, double requestsPerSecond, double p50Ms, double p99Ms, long errors, double cpuMsPerRequest,
             double cassandraCpuMsPerRequest) {}

  public static void main(String[] args) throws Exception {
    int rounds = Integer.getInteger("bench.rounds", 5);
    int seconds = Integer.getInteger("bench.seconds", 10);
    int warmup = Integer.getInteger("bench.warmup", 5);
    int connections = Integer.getInteger("bench.connections", 8);
    ActorSystem<Void> system = nodeSystem();
    Node node = Node.start(system).toCompletableFuture().get(120, TimeUnit.SECONDS);
    new Echo().bind(system, 9501);
    URI tributary = URI.create(node.endpoint());
    URI ceiling = URI.create("http://127.0.0.1:9501");

    try (LambdaClient lambda = LambdaClient.builder().endpointOverride(tributary).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(KEY, SECRET))).build()) {
      byte[] javaZip = javaHandler();
      byte[] pythonZip = zip(Map.of("app.py", "def handler(event, context):\n    return event\n"));
      String suffix = Long.toHexString(System.nanoTime());
      Map<String, String> functions = new LinkedHashMap<>();
      functions.put("in-process", create(lambda, "noop-inproc-" + suffix, "java17", "bench.Noop", javaZip,
          Map.of("TRIBUTARY_JAVA_MODE", "in-process")));
      functions.put("in-process-shared", create(lambda, "noop-shared-" + suffix, "java17", "bench.Noop", javaZip,
          Map.of("TRIBUTARY_JAVA_MODE", "in-process-shared")));
      functions.put("python3.11", create(lambda, "noop-py-" + suffix, "python3.11", "app.handler", pythonZip, Map.of()));
      functions.put("java17", create(lambda, "noop-java-" + suffix, "java17", "bench.Noop", javaZip, Map.of()));

      List<String> only = List.of(System.getProperty("bench.sides", "ceiling,in-process,in-process-shared,python3.11,java17").split(","));
      functions.put("dry-run", functions.get("in-process"));
      functions.keySet().retainAll(only);
      // The node's path is large (HTTP, SigV4, actors, runtime); on 2 cores the JIT compilers share
      // the CPU with the load and take tens of seconds to finish it. Rounds measure the compiled path.
      int jitWarmup = Integer.getInteger("bench.jit-warmup", 30);
      for (var f : functions.entrySet()) {
        System.out.printf(Locale.ROOT, "warming the JIT: %s for %d s%n", f.getKey(), jitWarmup);
        load(f.getKey(), tributary, f.getValue(), jitWarmup, 0, connections);
      }
      List<Run> runs = new ArrayList<>();
      for (int round = 1; round <= rounds; round++) {
        if (only.contains("ceiling")) {
          runs.add(load("ceiling", ceiling, "noop", warmup, seconds, connections));
        }
        for (var f : functions.entrySet()) {
          runs.add(load(f.getKey(), tributary, f.getValue(), warmup, seconds, connections));
        }
        System.out.printf(Locale.ROOT, "round %d of %d done%n", round, rounds);
      }
      System.out.println();
      System.out.println("side               req/s      p50 ms   p99 ms   errors  cpu ms/req");
      runs.forEach(r -> System.out.printf(Locale.ROOT, "%-17s %8.0f %9.2f %8.2f %8d %11.3f%n", r.side(),
          r.requestsPerSecond(), r.p50Ms(), r.p99Ms(), r.errors(), r.cpuMsPerRequest()));
      System.out.println();
      System.out.printf(Locale.ROOT, "medians over %d rounds, %d s each after %d s warm-up, %d connections%n", rounds,
          seconds, warmup, connections);
      double ceilingRps = median(runs, "ceiling", Run::requestsPerSecond);
      double ceilingP50 = median(runs, "ceiling", Run::p50Ms);
      double ceilingCpu = median(runs, "ceiling", Run::cpuMsPerRequest);
      for (String side : only) {
        double rps = median(runs, side, Run::requestsPerSecond);
        double p50 = median(runs, side, Run::p50Ms);
        double cpu = median(runs, side, Run::cpuMsPerRequest);
        System.out.printf(Locale.ROOT, "%-17s %8.0f req/s  p50 %6.2f ms  p99 %7.2f ms  ratio %.2f  p50 +%.2f ms"
            + "  cpu %.3f ms/req (ceiling's ÷ this %.2f)%n", side, rps, p50, median(runs, side, Run::p99Ms),
            rps / ceilingRps, p50 - ceilingP50, cpu, ceilingCpu / cpu);
      }
      System.out.println();
      if (!Boolean.getBoolean("bench.skip-cold")) {
        coldStarts(lambda, javaZip, pythonZip, suffix);
      }
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
    System.exit(0);
  }

  static String create(LambdaClient lambda, String name, String runtime, String handler, byte[] zip,
      Map<String, String> environment) {
    lambda.createFunction(b -> b.functionName(name).runtime(runtime).handler(handler).role(ROLE).memorySize(512)
        .timeout(30).environment(e -> e.variables(environment)).code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
    return name;
  }

  /** {@code connections} closed-loop clients, each with its own HTTP/1.1 connection, replaying one signed request. */
  private static Run load(String side, URI endpoint, String function, int warmup, int seconds, int connections)
      throws Exception {
    byte[] request = signed(endpoint, "/2015-03-31/functions/" + function + "/invocations",
        side.equals("dry-run") ? "DryRun" : null, PAYLOAD);
    return load(side, endpoint, request, warmup, seconds, connections);
  }

  /** Closed-loop load: {@code connections} connections replaying {@code request}; measured after {@code warmup} s. */
  static Run load(String side, URI endpoint, byte[] request, int warmup, int seconds, int connections)
      throws Exception {
    AtomicBoolean measuring = new AtomicBoolean(false);
    AtomicBoolean stop = new AtomicBoolean(false);
    Latencies[] latencies = new Latencies[connections];
    long[] errors = new long[connections];
    CountDownLatch done = new CountDownLatch(connections);
    for (int c = 0; c < connections; c++) {
      int id = c;
      latencies[id] = new Latencies();
      Thread t = new Thread(() -> {
        Connection connection = null;
        while (!stop.get()) {
          long start = System.nanoTime();
          try {
            if (connection == null) {
              connection = new Connection(endpoint);
            }
            if (!connection.exchange(request) && measuring.get()) {
              errors[id]++;
            }
          } catch (IOException e) {
            if (measuring.get()) {
              errors[id]++;
            }
            connection = null;
          }
          if (measuring.get()) {
            latencies[id].add(System.nanoTime() - start);
          }
        }
        done.countDown();
      });
      t.setDaemon(true);
      t.start();
    }
    Thread.sleep(warmup * 1000L);
    Arrays.fill(errors, 0);
    measuring.set(true);
    long begin = System.nanoTime();
    long cpuBegin = cpuNanos();
    long cassandraBegin = cassandraCpuNanos();
    Thread.sleep(seconds * 1000L);
    measuring.set(false);
    double elapsed = (System.nanoTime() - begin) / 1e9;
    long cpu = cpuNanos() - cpuBegin;
    long cassandraCpu = cassandraCpuNanos() - cassandraBegin;
    stop.set(true);
    done.await(60, TimeUnit.SECONDS);
    Latencies all = Latencies.merge(latencies);
    // Throughput and CPU count answered requests only: a side that fails fast must not look fast.
    long failed = Arrays.stream(errors).sum();
    long total = all.total - failed;
    Run run = new Run(side, total / elapsed, all.percentileMs(0.50), all.percentileMs(0.99),
        failed, total <= 0 ? Double.NaN : cpu / 1e6 / total,
        total <= 0 ? Double.NaN : cassandraCpu / 1e6 / total);
    if (seconds > 0) {
      System.out.printf(Locale.ROOT, "  %-17s %8.0f req/s  p50 %.2f ms  p99 %.2f ms  errors %d  cpu %.3f ms/req"
          + " (Cassandra %.3f)%n", side, run.requestsPerSecond(), run.p50Ms(), run.p99Ms(), run.errors(),
          run.cpuMsPerRequest(), run.cassandraCpuMsPerRequest());
    }
    return run;
  }

  /**
   * CPU time so far of this JVM (node, ceiling and load generator) and of the benchmark's Cassandra
   * (its pid file in bench.cassandra-pid-file): on a shared machine whose speed varies from minute
   * to minute, CPU per request is steadier than requests per second.
   */
  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime() + cassandraCpuNanos();
  }

  /** CPU time so far of the benchmark's Cassandra (its pid file in bench.cassandra-pid-file), or 0. */
  static long cassandraCpuNanos() {
    String pidFile = System.getProperty("bench.cassandra-pid-file");
    if (pidFile == null) {
      return 0;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Files.readString(Path.of(pidFile)).trim(), "stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      // utime and stime, fields 14 and 15 of proc(5), in clock ticks of 10 ms.
      return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10_000_000L;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }


  /**
   * One connection's latencies: a count per microsecond up to 100 ms, the slower ones listed. Fixed
   * and small: the arrays of every latency measured (16 MB a connection) were allocated anew each run
   * and kept the JVM's old generation busy in concurrent cycles, a cost both sides paid unequally.
   */
  static final class Latencies {
    private static final int LIMIT_MICROS = 100_000;
    private final int[] counts = new int[LIMIT_MICROS];
    private final List<Long> slower = new ArrayList<>();
    private long total;

    void add(long nanos) {
      long micros = nanos / 1_000;
      if (micros < LIMIT_MICROS) {
        counts[(int) micros]++;
      } else {
        slower.add(micros);
      }
      total++;
    }

    static Latencies merge(Latencies[] parts) {
      Latencies all = new Latencies();
      for (Latencies part : parts) {
        for (int i = 0; i < LIMIT_MICROS; i++) {
          all.counts[i] += part.counts[i];
        }
        all.slower.addAll(part.slower);
        all.total += part.total;
      }
      all.slower.sort(null);
      return all;
    }

    double percentileMs(double q) {
      if (total == 0) {
        return Double.NaN;
      }
      long rank = Math.min(total - 1, (long) (q * total));
      long seen = 0;
      for (int i = 0; i < LIMIT_MICROS; i++) {
        seen += counts[i];
        if (seen > rank) {
          return i / 1e3;
        }
      }
      return slower.get((int) (rank - seen)) / 1e3;
    }
  }

  static double median(List<Double> values) {
    return median(values.stream().mapToDouble(Double::doubleValue).sorted().toArray());
  }

  /** Of an even count, the mean of the middle two. */
  private static double median(double[] sorted) {
    int n = sorted.length;
    return n == 0 ? Double.NaN : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  /**
   * The handler class {@code bench.<name>} compiled from {@code source}, loaded in this JVM: what
   * a ceiling calls directly, beside the same class running in-process behind the node.
   */
  static Class<?> handlerClass(String name, String source) throws Exception {
    byte[] zip = javaHandler(name, source);
    Path dir = Files.createTempDirectory("sink");
    try (var in = new java.util.zip.ZipInputStream(new java.io.ByteArrayInputStream(zip))) {
      for (var entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
        Path file = dir.resolve(entry.getName());
        Files.createDirectories(file.getParent());
        Files.write(file, in.readAllBytes());
      }
    }
    return new java.net.URLClassLoader(new java.net.URL[] {dir.toUri().toURL()},
        InvokeBenchmark.class.getClassLoader()).loadClass("bench." + name);
  }

  static double median(List<Run> runs, String side, java.util.function.ToDoubleFunction<Run> metric) {
    return median(runs.stream().filter(r -> r.side().equals(side)).mapToDouble(metric).sorted().toArray());
  }

  /** The request's bytes, signed once: a signature stays valid for 5 minutes, longer than a run. */
  static byte[] signed(URI endpoint, String path, String invocationType, byte[] payload) {
    StringBuilder head = new StringBuilder("POST " + path + " HTTP/1.1\r\n");
    head.append("Host: ").append(endpoint.getHost()).append(':').append(endpoint.getPort()).append("\r\n");
    signedHeaders(endpoint, path, invocationType, payload)
        .forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
    head.append("Content-Length: ").append(payload.length).append("\r\n\r\n");
    byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = Arrays.copyOf(headBytes, headBytes.length + payload.length);
    System.arraycopy(payload, 0, all, headBytes.length, payload.length);
    return all;
  }

  /** The headers of a signed GET of {@code path} (Tributary's own views), but Host, which clients add. */
  static Map<String, String> signedGetHeaders(URI endpoint, String path) {
    SdkHttpRequest request = SdkHttpRequest.builder().method(SdkHttpMethod.GET).uri(URI.create(endpoint + path))
        .build();
    var signed = AwsV4HttpSigner.create().sign(r -> r
        .identity(AwsCredentialsIdentity.create(KEY, SECRET)).request(request)
        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda")
        .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1"));
    Map<String, String> headers = new LinkedHashMap<>();
    signed.request().headers().forEach((name, values) -> {
      if (!name.equalsIgnoreCase("host")) {
        headers.put(name, String.join(",", values));
      }
    });
    return headers;
  }

  /** The headers of a signed POST of {@code payload} to {@code path}, but Host and Content-Length, which clients add. */
  static Map<String, String> signedHeaders(URI endpoint, String path, String invocationType, byte[] payload) {
    URI uri = URI.create(endpoint + path);
    SdkHttpRequest.Builder builder = SdkHttpRequest.builder().method(SdkHttpMethod.POST).uri(uri)
        .putHeader("Content-Type", "application/json");
    if (invocationType != null) {
      builder.putHeader("X-Amz-Invocation-Type", invocationType);
    }
    SdkHttpRequest request = builder.build();
    var signed = AwsV4HttpSigner.create().sign(r -> r
        .identity(AwsCredentialsIdentity.create(KEY, SECRET)).request(request)
        .payload(ContentStreamProvider.fromByteArray(payload))
        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda")
        .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1"));
    Map<String, String> headers = new LinkedHashMap<>();
    signed.request().headers().forEach((name, values) -> {
      if (!List.of("host", "content-length").contains(name.toLowerCase(Locale.ROOT))) {
        headers.put(name, String.join(",", values));
      }
    });
    return headers;
  }

  /**
   * A keep-alive HTTP/1.1 connection with TCP_NODELAY that writes each request in one write: with
   * the JDK's HttpClient (headers and body in two writes, Nagle on) every request waited for a
   * delayed ACK and the ceiling measured under 1,000 req/s.
   */
  static final class Connection {
    private final java.net.Socket socket;
    private final java.io.InputStream in;
    private final java.io.OutputStream out;
    private final byte[] buffer = new byte[64 * 1024];
    /** The X-Amzn-RequestId of the last response, if it had one. */
    String requestId;

    Connection(URI endpoint) throws IOException {
      socket = new java.net.Socket(endpoint.getHost(), endpoint.getPort());
      socket.setTcpNoDelay(true);
      in = new java.io.BufferedInputStream(socket.getInputStream(), 64 * 1024);
      out = socket.getOutputStream();
    }

    /** True for a 200, 202 or 204 without X-Amz-Function-Error. */
    boolean exchange(byte[] request) throws IOException {
      out.write(request);
      out.flush();
      String status = line();
      boolean ok = status.startsWith("HTTP/1.1 200") || status.startsWith("HTTP/1.1 202")
          || status.startsWith("HTTP/1.1 204");
      long length = 0;
      String header;
      while (!(header = line()).isEmpty()) {
        String lower = header.toLowerCase(Locale.ROOT);
        if (lower.startsWith("content-length:")) {
          length = Long.parseLong(header.substring(15).trim());
        } else if (lower.startsWith("x-amz-function-error:")) {
          ok = false;
        } else if (lower.startsWith("x-amzn-requestid:")) {
          requestId = header.substring(17).trim();
        }
      }
      while (length > 0) {
        int n = in.read(buffer, 0, (int) Math.min(buffer.length, length));
        if (n < 0) {
          throw new IOException("connection closed");
        }
        length -= n;
      }
      return ok;
    }

    private String line() throws IOException {
      StringBuilder line = new StringBuilder();
      int c;
      while ((c = in.read()) >= 0 && c != '\n') {
        if (c != '\r') {
          line.append((char) c);
        }
      }
      if (c < 0) {
        throw new IOException("connection closed");
      }
      return line.toString();
    }
  }

  /** A node's actor system on the benchmark's Cassandra, API on port 9500. */
  static ActorSystem<Void> nodeSystem() throws IOException {
    Path work = Files.createTempDirectory("tributary-bench");
    Config config = ConfigFactory.parseMap(Map.of(
        "tributary.http.port", 9500,
        "tributary.cassandra.keyspace", "bench",
        "tributary.cassandra.autocreate", "on",
        "tributary.runtime.work-dir", work.toString(),
        "pekko.persistence.cassandra.journal.keyspace", "bench_journal",
        "pekko.persistence.cassandra.snapshot.keyspace", "bench_snapshot",
        "pekko.remote.artery.canonical.port", 0,
        "pekko.loglevel", "WARNING"))
        .withFallback(ConfigFactory.parseString("datastax-java-driver.basic.contact-points = [\""
            + System.getProperty("bench.cassandra", "127.0.0.1:9042") + "\"]"))
        .withFallback(ConfigFactory.load());
    return ActorSystem.create(Behaviors.empty(), "tributary", config);
  }

  /** First invoke of a fresh function per runtime, 5 times each: process start to response. */
  private static void coldStarts(LambdaClient lambda, byte[] javaZip, byte[] pythonZip, String suffix) {
    byte[] bashZip = zip(Map.of("bootstrap", """
        #!/bin/bash
        API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
        while true; do
          H="$(mktemp)"; E="$(curl -sS -D "$H" "$API/invocation/next")"
          ID="$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$H" | cut -d' ' -f2 | tr -d '\\r')"
          curl -sS -X POST "$API/invocation/$ID/response" -d "$E" >/dev/null
        done
        """));
    Map<String, Object[]> sides = new LinkedHashMap<>();
    sides.put("provided (bash)", new Object[] {"provided.al2023", "bootstrap", bashZip, Map.<String, String>of()});
    sides.put("python3.11", new Object[] {"python3.11", "app.handler", pythonZip, Map.<String, String>of()});
    sides.put("java17", new Object[] {"java17", "bench.Noop", javaZip, Map.<String, String>of()});
    sides.put("java in-process", new Object[] {"java17", "bench.Noop", javaZip,
        Map.of("TRIBUTARY_JAVA_MODE", "in-process")});
    System.out.println("cold start (first invoke of a new function, median of 5): ");
    int n = 0;
    for (var side : sides.entrySet()) {
      double[] ms = new double[5];
      for (int i = 0; i < ms.length; i++) {
        Object[] s = side.getValue();
        @SuppressWarnings("unchecked")
        String name = create(lambda, "cold-" + suffix + "-" + n++, (String) s[0], (String) s[1], (byte[]) s[2],
            (Map<String, String>) s[3]);
        long start = System.nanoTime();
        lambda.invoke(b -> b.functionName(name).payload(SdkBytes.fromByteArray(PAYLOAD)));
        ms[i] = (System.nanoTime() - start) / 1e6;
      }
      Arrays.sort(ms);
      System.out.printf(Locale.ROOT, "  %-16s %8.0f ms   (runs: %s)%n", side.getKey(), ms[2], Arrays.toString(
          Arrays.stream(ms).mapToLong(Math::round).toArray()));
    }
  }

  /** The no-op Java handler {@code bench.Noop}, as a deployment package. */
  static byte[] noopJava() throws IOException {
    return javaHandler();
  }

  static byte[] zipOf(Map<String, String> files) {
    return zip(files);
  }

  /** A zip of binary files, {@code bootstrap} executable. */
  static byte[] zipOfBytes(Map<String, byte[]> files) {
    return zipBytes(files, true);
  }

  private static byte[] javaHandler() throws IOException {
    return javaHandler("Noop", """
        package bench;
        import com.amazonaws.services.lambda.runtime.Context;
        import com.amazonaws.services.lambda.runtime.RequestHandler;
        import java.util.Map;
        public class Noop implements RequestHandler<Map<String, Object>, Map<String, Object>> {
          public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
            return event;
          }
        }
        """);
  }

  /** A zip holding {@code bench.<className>}, compiled from {@code source} against this classpath. */
  static byte[] javaHandler(String className, String source) throws IOException {
    Path dir = Files.createTempDirectory("handler");
    Path file = dir.resolve(className + ".java");
    Files.writeString(file, source);
    int status = javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", dir.toString(),
        "-cp", System.getProperty("java.class.path"), "--release", "17", file.toString());
    if (status != 0) {
      throw new IllegalStateException("javac failed");
    }
    return zipBytes(Map.of("bench/" + className + ".class",
        Files.readAllBytes(dir.resolve("bench/" + className + ".class"))), false);
  }

  private static byte[] zip(Map<String, String> files) {
    Map<String, byte[]> bytes = new LinkedHashMap<>();
    files.forEach((k, v) -> bytes.put(k, v.getBytes(StandardCharsets.UTF_8)));
    return zipBytes(bytes, true);
  }

  /** A zip; with {@code unixModes}, "made by Unix" entries, a {@code bootstrap} executable (java.util.zip cannot). */
  private static byte[] zipBytes(Map<String, byte[]> files, boolean unixModes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(out)) {
      for (var file : files.entrySet()) {
        zip.putNextEntry(new ZipEntry(file.getKey()));
        zip.write(file.getValue());
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    byte[] z = out.toByteArray();
    if (unixModes) {
      var b = java.nio.ByteBuffer.wrap(z).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i + 46 <= z.length; i++) {
        if (b.getInt(i) == 0x02014b50) {
          int nameLength = b.getShort(i + 28) & 0xffff;
          String name = new String(z, i + 46, nameLength, StandardCharsets.UTF_8);
          b.putShort(i + 4, (short) ((3 << 8) | 20));
          b.putInt(i + 38, (name.equals("bootstrap") ? 0100755 : 0100644) << 16);
          i += 45 + nameLength + (b.getShort(i + 30) & 0xffff) + (b.getShort(i + 32) & 0xffff);
        }
      }
    }
    return z;
  }

  /** The ceiling: Pekko HTTP echoing the body on the invoke path, nothing else. */
  static final class Echo extends AllDirectives {
    void bind(ActorSystem<?> system, int port) throws Exception {
      Route route = path(segment("2015-03-31").slash("functions").slash(segment()).slash("invocations"), fn ->
          post(() -> entity(Unmarshaller.entityToByteString(), body ->
              complete(org.apache.pekko.http.javadsl.model.HttpResponse.create()
                  .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body))))));
      Http.get(system).newServerAt("127.0.0.1", port).bind(route).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private InvokeBenchmark() {}
}
