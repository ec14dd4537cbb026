package io.tributary.loadtest;

import com.typesafe.config.ConfigFactory;
import io.tributary.runtime.LocalRuntime;
import io.tributary.runtime.RuntimeSettings;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * How close Tributary's warm invokes come to what each runtime can do by itself on this machine
 * (issue 26, item 2), for the echo function of each runtime: python3.11 and nodejs20.x on Tributary's
 * own bootstraps, java17 on AWS's runtime interface client, and provided.al2023 on a small C bootstrap
 * (the resource {@code io/tributary/loadtest/bootstrap.c}, compiled here with {@code cc -O2}).
 *
 * <p><b>The runtime's limit.</b> The function's package unpacked, and the command a node runs for it
 * ({@link LocalRuntime#command}: the same interpreter, bootstrap, JVM flags and class path), in its own
 * process against a bare Runtime API stub in this JVM: Pekko HTTP, the node's server library, answering
 * {@code /next} at once with a small event and counting responses. Events per second of one
 * environment, after {@code bench.warmup} (3) seconds, over {@code bench.seconds} (10).
 *
 * <p><b>Tributary.</b> The node in its own process; the same package as a function with reserved
 * concurrency 1 (one environment); one client connection replaying a signed Invoke in a closed loop
 * from this JVM, over the same time.
 *
 * <p>Before the rounds of each runtime, Tributary's side runs {@code bench.jit-warmup} (15) seconds
 * unmeasured. Sides alternate from round to round ({@code bench.rounds}, 5); prints every round, the medians and
 * their ratio (target ≥ 0.7), then a summary line per runtime. {@code bench.runtimes} (a comma-separated
 * list of the ids above) runs some of them only.
 */
public final class RuntimeLimitBenchmark {

  private static final String KEY = "AKIATRIBUTARYLOCAL01";
  private static final String SECRET = "tributary-local-secret-do-not-use-in-production";
  private static final String ROLE = "arn:aws:iam::000000000000:role/bench";
  private static final int PORT = 9540;
  /** InvokeBenchmark.create's MemorySize: the alone side's heap and limits are those of the function. */
  private static final int MEMORY = 512;
  private static final byte[] EVENT = "{\"n\":1}".getBytes(StandardCharsets.UTF_8);

  /** A runtime: its id, the function's handler and deployment package. */
  record Subject(String runtime, String handler, byte[] zip) {}

  public static void main(String[] args) throws Exception {
    int rounds = Integer.getInteger("bench.rounds", 5);
    int warmup = Integer.getInteger("bench.warmup", 3);
    int seconds = Integer.getInteger("bench.seconds", 10);
    int jitWarmup = Integer.getInteger("bench.jit-warmup", 15);
    List<String> only = List.of(System.getProperty("bench.runtimes",
        "python3.11,nodejs20.x,java17,provided.al2023").split(","));
    Path work = Files.createTempDirectory("tributary-runtime-limit");
    List<Subject> subjects = new ArrayList<>(List.of(
        new Subject("python3.11", "app.handler", InvokeBenchmark.zipOf(Map.of("app.py",
            "def handler(event, context):\n    return event\n"))),
        new Subject("nodejs20.x", "index.handler", InvokeBenchmark.zipOf(Map.of("index.js",
            "exports.handler = async (event) => event;\n"))),
        new Subject("java17", "bench.Echo", InvokeBenchmark.javaHandler("Echo", """
            package bench;
            import com.amazonaws.services.lambda.runtime.Context;
            import com.amazonaws.services.lambda.runtime.RequestHandler;
            import java.util.Map;
            public class Echo implements RequestHandler<Map<String, Object>, Map<String, Object>> {
              public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
                return event;
              }
            }
            """)),
        new Subject("provided.al2023", "bootstrap", InvokeBenchmark.zipOfBytes(Map.of("bootstrap",
            compiledBootstrap(work.resolve("cc")))))));
    subjects.removeIf(s -> !only.contains(s.runtime()));
    RuntimeSettings settings = RuntimeSettings.fromConfig(ConfigFactory.parseMap(Map.of("tributary.runtime.work-dir",
        work.resolve("runtime").toString())).withFallback(ConfigFactory.load()));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "stub",
        ConfigFactory.parseString("pekko.actor.provider = local\npekko.loglevel = WARNING")
            .withFallback(ConfigFactory.load()));
    Process node = ColdStartBenchmark.startNode(PORT, "rtlimit");
    URI endpoint = URI.create("http://127.0.0.1:" + PORT);
    Map<String, double[]> results = new LinkedHashMap<>();
    try (LambdaClient lambda = LambdaClient.builder().endpointOverride(endpoint).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(KEY, SECRET))).build()) {
      for (Subject subject : subjects) {
        String fn = "limit-" + subject.runtime().replace(".", "-");
        InvokeBenchmark.create(lambda, fn, subject.runtime(), subject.handler(), subject.zip(), Map.of());
        lambda.putFunctionConcurrency(b -> b.functionName(fn).reservedConcurrentExecutions(1));
        lambda.invoke(b -> b.functionName(fn).payload(SdkBytes.fromByteArray(EVENT)));
        byte[] request = InvokeBenchmark.signed(endpoint, "/2015-03-31/functions/" + fn + "/invocations", null, EVENT);
        Path code = work.resolve(subject.runtime());
        unzip(subject.zip(), code);
        List<String> command = LocalRuntime.command(settings, subject.runtime(), subject.handler(), MEMORY, code);
        List<Double> alone = new ArrayList<>();
        List<Double> tributary = new ArrayList<>();
        System.out.printf(Locale.ROOT, "%s (one environment, warm-up %d s, %d s measured): %s%n", subject.runtime(),
            warmup, seconds, String.join(" ", command));
        // The node's JIT, unmeasured: otherwise the first runtime's first rounds measure a cold node.
        InvokeBenchmark.load("tributary", endpoint, request, 0, jitWarmup, 1);
        for (int round = 1; round <= rounds; round++) {
          for (int side = 0; side < 2; side++) {
            if ((side == 0) == (round % 2 == 1)) {
              double rate = alone(system, subject, command, code, warmup, seconds);
              alone.add(rate);
              System.out.printf(Locale.ROOT, "  round %d  runtime alone  %8.0f events/s%n", round, rate);
            } else {
              double rate = InvokeBenchmark.load("tributary", endpoint, request, warmup, seconds, 1)
                  .requestsPerSecond();
              tributary.add(rate);
            }
          }
        }
        double a = InvokeBenchmark.median(alone);
        double t = InvokeBenchmark.median(tributary);
        results.put(subject.runtime(), new double[] {a, t});
        System.out.printf(Locale.ROOT, "  medians: runtime alone %.0f events/s, Tributary %.0f invokes/s: %.2f"
            + " (target 0.7)%n", a, t, t / a);
      }
    } finally {
      node.destroy();
      node.waitFor();
      system.terminate();
    }
    System.out.println("summary (medians of " + rounds + " rounds, one environment):");
    results.forEach((runtime, r) -> System.out.printf(Locale.ROOT, "  %-15s runtime alone %6.0f/s  Tributary %6.0f/s"
        + "  ratio %.2f%s%n", runtime, r[0], r[1], r[1] / r[0], r[1] / r[0] >= 0.7 ? "" : "  (under 0.7)"));
    System.exit(0);
  }

  /** {@code bootstrap.c} compiled with {@code cc -O2} in {@code dir}: the {@code provided} runtime's bootstrap. */
  private static byte[] compiledBootstrap(Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Path source = dir.resolve("bootstrap.c");
    try (InputStream in = RuntimeLimitBenchmark.class.getResourceAsStream("bootstrap.c")) {
      Files.copy(in, source);
    }
    Path binary = dir.resolve("bootstrap");
    Process cc = new ProcessBuilder("cc", "-O2", "-o", binary.toString(), source.toString()).inheritIO().start();
    if (cc.waitFor() != 0) {
      throw new IllegalStateException("cc could not compile " + source);
    }
    return Files.readAllBytes(binary);
  }

  /** The package's files under {@code dir}, {@code bootstrap} executable, as a node unpacks them. */
  private static void unzip(byte[] zip, Path dir) throws IOException {
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      for (ZipEntry entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
        Path file = dir.resolve(entry.getName());
        Files.createDirectories(file.getParent());
        Files.write(file, in.readAllBytes());
        if (entry.getName().equals("bootstrap") && !file.toFile().setExecutable(true)) {
          throw new IOException("cannot make " + file + " executable");
        }
      }
    }
  }

  /** The runtime's {@code command} against the stub: responses per second after the warm-up. */
  private static double alone(ActorSystem<Void> system, Subject subject, List<String> command, Path code, int warmup,
      int seconds) throws Exception {
    AtomicLong next = new AtomicLong();
    AtomicLong answered = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    Materializer materializer = Materializer.matFromSystem(system);
    // Answered once the body is read (an earlier answer closes the connection): at once when it came with the
    // headers, else on the dispatcher, since a plain thenApply on the discard's Scala stage runs on the common
    // pool, a new thread per request on 2 cores: two per event, and a third to a half of the runtime's rate.
    ServerBinding binding = Http.get(system).newServerAt("127.0.0.1", 0)
        .bind((org.apache.pekko.japi.function.Function<HttpRequest, java.util.concurrent.CompletionStage<HttpResponse>>)
            request -> request.entity().isStrict()
                ? CompletableFuture.completedFuture(stub(request, next, answered, failed))
                : request.discardEntityBytes(materializer).completionStage().toCompletableFuture()
                    .thenApplyAsync(done -> stub(request, next, answered, failed), system.executionContext()))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    ProcessBuilder builder = new ProcessBuilder(command).directory(code.toFile()).redirectErrorStream(true)
        .redirectOutput(code.resolve("bootstrap.log").toFile());
    Map<String, String> env = builder.environment();
    env.put("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:" + binding.localAddress().getPort());
    env.put("_HANDLER", subject.handler());
    env.put("LAMBDA_TASK_ROOT", code.toString());
    env.put("AWS_LAMBDA_FUNCTION_NAME", "limit");
    env.put("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    env.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Integer.toString(MEMORY));
    env.put("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/limit");
    env.put("AWS_LAMBDA_LOG_STREAM_NAME", "stub");
    env.put("AWS_LAMBDA_LOG_FORMAT", "Text");
    Process runtime = builder.start();
    try {
      Thread.sleep(warmup * 1000L);
      long from = answered.get();
      long begin = System.nanoTime();
      Thread.sleep(seconds * 1000L);
      double rate = (answered.get() - from) / ((System.nanoTime() - begin) / 1e9);
      if (failed.get() > 0 || !runtime.isAlive()) {
        throw new IllegalStateException(subject.runtime() + " failed against the stub (" + failed.get()
            + " errors; alive " + runtime.isAlive() + "): see " + code.resolve("bootstrap.log"));
      }
      return rate;
    } finally {
      runtime.destroyForcibly();
      runtime.waitFor();
      binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** The Runtime API a runtime needs in a loop: an event at once on /next; its response or error counted. */
  private static HttpResponse stub(HttpRequest request, AtomicLong next, AtomicLong answered, AtomicLong failed) {
    String path = request.getUri().getPathString();
    if (request.method().equals(HttpMethods.GET) && path.endsWith("/invocation/next")) {
      String id = "req-" + next.incrementAndGet();
      return HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, EVENT)).addHeaders(
          List.of(RawHeader.create("Lambda-Runtime-Aws-Request-Id", id),
              RawHeader.create("Lambda-Runtime-Deadline-Ms", Long.toString(System.currentTimeMillis() + 60_000)),
              RawHeader.create("Lambda-Runtime-Invoked-Function-Arn",
                  "arn:aws:lambda:us-east-1:000000000000:function:limit"),
              RawHeader.create("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")));
    }
    if (path.endsWith("/response")) {
      answered.incrementAndGet();
    } else {
      failed.incrementAndGet();
    }
    return HttpResponse.create().withStatus(202);
  }

  private RuntimeLimitBenchmark() {
  }
}
