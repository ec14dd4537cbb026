package io.tributary.loadtest;

import com.typesafe.config.ConfigFactory;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
 * (issue 26, item 2).
 *
 * <p><b>The runtime's limit.</b> The runtime's bootstrap, exactly as a node launches it (Tributary's
 * own python and Node.js bootstraps, from the runtime module), runs in its own process against a
 * bare Runtime API stub in this JVM: Pekko HTTP, the node's server library, answering
 * {@code /next} at once with a small event and counting responses. Events per second of one
 * environment, after {@code bench.warmup} (3) seconds, over {@code bench.seconds} (10).
 *
 * <p><b>Tributary.</b> The node in its own process; the same handler as a function with reserved
 * concurrency 1 (one environment); one client connection replaying a signed Invoke in a closed loop
 * from this JVM, over the same time.
 *
 * <p>Sides alternate from round to round ({@code bench.rounds}, 5); prints every round, the
 * medians and their ratio (target ≥ 0.7). Java through AWS's runtime client and a {@code provided}
 * binary are not in it yet.
 */
public final class RuntimeLimitBenchmark {

  private static final String KEY = "AKIATRIBUTARYLOCAL01";
  private static final String SECRET = "tributary-local-secret-do-not-use-in-production";
  private static final String ROLE = "arn:aws:iam::000000000000:role/bench";
  private static final int PORT = 9540;
  private static final byte[] EVENT = "{\"n\":1}".getBytes(StandardCharsets.UTF_8);

  /** A runtime: its id, handler, the function's files, and the bootstrap command (before its script). */
  record Subject(String runtime, String handler, Map<String, String> files, List<String> command, String bootstrap) {}

  public static void main(String[] args) throws Exception {
    int rounds = Integer.getInteger("bench.rounds", 5);
    int warmup = Integer.getInteger("bench.warmup", 3);
    int seconds = Integer.getInteger("bench.seconds", 10);
    List<Subject> subjects = List.of(
        new Subject("python3.11", "app.handler", Map.of("app.py", "def handler(event, context):\n    return event\n"),
            List.of("python3", "-u"), "python/bootstrap.py"),
        new Subject("nodejs20.x", "index.handler", Map.of("index.js", "exports.handler = async (event) => event;\n"),
            List.of("node"), "node/bootstrap.mjs"));
    Path work = Files.createTempDirectory("tributary-runtime-limit");
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
        InvokeBenchmark.create(lambda, fn, subject.runtime(), subject.handler(), InvokeBenchmark.zipOf(subject.files()),
            Map.of());
        lambda.putFunctionConcurrency(b -> b.functionName(fn).reservedConcurrentExecutions(1));
        lambda.invoke(b -> b.functionName(fn).payload(SdkBytes.fromByteArray(EVENT)));
        byte[] request = InvokeBenchmark.signed(endpoint, "/2015-03-31/functions/" + fn + "/invocations", null, EVENT);
        Path code = work.resolve(subject.runtime());
        Files.createDirectories(code);
        for (var file : subject.files().entrySet()) {
          Files.writeString(code.resolve(file.getKey()), file.getValue());
        }
        Path bootstrap = work.resolve("bootstraps").resolve(subject.bootstrap());
        Files.createDirectories(bootstrap.getParent());
        try (InputStream in = RuntimeLimitBenchmark.class.getResourceAsStream("/io/tributary/runtime/"
            + subject.bootstrap())) {
          Files.copy(in, bootstrap, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        List<Double> alone = new ArrayList<>();
        List<Double> tributary = new ArrayList<>();
        System.out.printf(Locale.ROOT, "%s (one environment, warm-up %d s, %d s measured)%n", subject.runtime(),
            warmup, seconds);
        for (int round = 1; round <= rounds; round++) {
          for (int side = 0; side < 2; side++) {
            if ((side == 0) == (round % 2 == 1)) {
              double rate = alone(system, subject, code, bootstrap, warmup, seconds);
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
    results.forEach((runtime, r) -> System.out.printf(Locale.ROOT, "  %-11s runtime alone %6.0f/s  Tributary %6.0f/s"
        + "  ratio %.2f%n", runtime, r[0], r[1], r[1] / r[0]));
    System.exit(0);
  }

  /** The bootstrap against the stub: responses per second after the warm-up. */
  private static double alone(ActorSystem<Void> system, Subject subject, Path code, Path bootstrap, int warmup,
      int seconds) throws Exception {
    AtomicLong next = new AtomicLong();
    AtomicLong answered = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    Materializer materializer = Materializer.matFromSystem(system);
    ServerBinding binding = Http.get(system).newServerAt("127.0.0.1", 0)
        .bind((org.apache.pekko.japi.function.Function<HttpRequest, java.util.concurrent.CompletionStage<HttpResponse>>)
            request -> request.discardEntityBytes(materializer).completionStage()
                .thenApply(done -> stub(request, next, answered, failed))).toCompletableFuture().get(10, TimeUnit.SECONDS);
    List<String> command = new ArrayList<>(subject.command());
    command.add(bootstrap.toString());
    ProcessBuilder builder = new ProcessBuilder(command).directory(code.toFile()).redirectErrorStream(true)
        .redirectOutput(code.resolve("bootstrap.log").toFile());
    Map<String, String> env = builder.environment();
    env.put("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:" + binding.localAddress().getPort());
    env.put("_HANDLER", subject.handler());
    env.put("LAMBDA_TASK_ROOT", code.toString());
    env.put("AWS_LAMBDA_FUNCTION_NAME", "limit");
    env.put("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    env.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512");
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
  /** Answered once the request's body is read: an earlier answer would close the runtime's connection. */
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
