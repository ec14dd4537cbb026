package io.tributary.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.api.FunctionConfig;
import io.tributary.api.FunctionLog;
import io.tributary.api.Invocation;
import io.tributary.api.InvocationResult;
import io.tributary.api.LogSink;
import io.tributary.api.ResponseStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.stream.javadsl.AsPublisher;
import org.apache.pekko.stream.javadsl.JavaFlowSupport;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One execution environment: an OS process group (started with {@code setsid}) speaking the
 * Runtime API at an address of its own, running one invocation at a time.
 *
 * <p>Its life: init (until the runtime's first {@code /next}, at most the init timeout), then
 * invocations. A timeout or a crash kills the whole group and ends the environment; the pool
 * replaces it on the next cold start. Function errors leave it warm, as on AWS.
 */
final class ProcessEnvironment implements RuntimeApiServer.Channel, ExecutionEnvironment {

  private static final Logger log = LoggerFactory.getLogger(ProcessEnvironment.class);

  /** An init that did not reach {@code /next}: its error document is the invoke's response. */
  static final class InitFailure extends RuntimeException {
    final String errorType;
    final byte[] body;

    InitFailure(String errorType, byte[] body) {
      super(errorType, null, false, false);
      this.errorType = errorType;
      this.body = body;
    }

    /** {@code "<errorType>: <errorMessage>"} of the error document, or its type alone. */
    String reason() {
      try {
        String message = JSON.readTree(body).path("errorMessage").asText("");
        return message.isEmpty() ? errorType : errorType + ": " + message;
      } catch (IOException e) {
        return errorType;
      }
    }
  }

  /**
   * The invocation in progress. {@code streamEnd}: set when its caller takes a stream
   * ({@link Invocation#streamResponse}); completed by {@link #finish} at the stream's end, the
   * result having completed at its start.
   */
  private record Current(String requestId, long startNanos, long startMillis, InvocationLog log, boolean tail,
                         CompletableFuture<InvocationResult> result, ScheduledFuture<?> timeout,
                         ScheduledFuture<?> watchdog, CompletableFuture<ResponseStream.End> streamEnd,
                         java.util.concurrent.atomic.AtomicLong streamed) {}

  private static final long MEMORY_CHECK_MS = 100;
  private static final ObjectMapper JSON = new ObjectMapper();

  final String id = HexFormat.of().formatHex(randomBytes());
  private final FunctionConfig function;
  private final RuntimeSettings settings;
  private final ScheduledExecutorService timer;
  private final long createdNanos = System.nanoTime();
  private final CompletableFuture<Void> ready = new CompletableFuture<>();
  private final LogSink logs;
  private String logStream = "";
  private final InvocationLog initOutput;
  private final LogLines lines;
  private Process process;
  private ServerBinding binding;
  private CompletableFuture<RuntimeApiServer.NextEvent> waitingNext;
  private RuntimeApiServer.NextEvent queued;
  private Current current;
  private Double initDurationMs;
  private boolean firstInvocation = true;
  private volatile boolean dead;
  private volatile long peakResidentBytes;
  private volatile long lastOutputNanos = System.nanoTime() - 1_000_000_000L;
  /** True while the reader holds output it has read but not yet appended. */
  private volatile boolean pumping;
  private volatile FileInputStream pipe;
  /** Initialized ahead of demand (provisioned concurrency): init is logged on its own, not with an invocation. */
  private final boolean provisioned;

  private ProcessEnvironment(FunctionConfig function, RuntimeSettings settings, ScheduledExecutorService timer,
      LogSink logs, boolean provisioned) {
    this.function = function;
    this.provisioned = provisioned;
    this.logs = logs;
    this.settings = settings;
    this.timer = timer;
    this.lines = LogLines.of(function.loggingConfig());
    this.initOutput = new InvocationLog(settings.logBytesPerInvocation(), lines);
  }

  /** {@code layers}: the function's merged layer tree ({@link LayerTree}), null when it has none. */
  static CompletionStage<ProcessEnvironment> start(FunctionConfig function, String region, Path taskRoot,
      Path layers, Path bootstraps, JvmSupport jvm, RuntimeSettings settings, RuntimeApiServer server,
      ScheduledExecutorService timer, LogSink logs, boolean provisioned) {
    ProcessEnvironment env = new ProcessEnvironment(function, settings, timer, logs, provisioned);
    List<String> command = new ArrayList<>(List.of("setsid"));
    command.addAll(settings.command(function, taskRoot, layers, bootstraps, jvm));
    return server.open(env).thenApply(binding -> {
      env.binding = binding;
      try {
        env.launch(command, region, taskRoot, layers, bootstraps, binding.localAddress().getPort());
      } catch (IOException e) {
        binding.unbind();
        throw new IllegalStateException("could not start " + command + ": " + e.getMessage(), e);
      }
      return env;
    });
  }

  private void launch(List<String> command, String region, Path taskRoot, Path layers, Path bootstraps, int port)
      throws IOException {
    logStream = logStreamName();
    Optional<Interpreters.Interpreter> interpreter = settings.interpreters().of(function.runtime());
    interpreter.ifPresent(i -> initOutput.initStart(i.offer().runtimeVersion(),
        i.offer().runtimeVersionArn(region), function.functionName(), function.version()));
    ProcessBuilder builder = new ProcessBuilder(command).directory(taskRoot.toFile()).redirectErrorStream(true);
    Map<String, String> env = builder.environment();
    env.clear();
    // AWS's unreserved variables: the function's own value wins (its PATH replaces the one with /opt/bin).
    env.put("LANG", "en_US.UTF-8");
    env.putAll(LayerTree.searchPaths(function.runtime(), interpreter.map(i -> i.offer().runtimeVersion()).orElse(null),
        taskRoot, layers));
    env.putAll(function.environment());
    env.putAll(Map.ofEntries(
        Map.entry("TZ", ":UTC"),
        Map.entry("_HANDLER", function.handler() == null ? "" : function.handler()),
        Map.entry("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:" + port),
        Map.entry("LAMBDA_TASK_ROOT", taskRoot.toString()),
        Map.entry("LAMBDA_RUNTIME_DIR", bootstraps.toString()),
        Map.entry("AWS_REGION", region),
        Map.entry("AWS_DEFAULT_REGION", region),
        Map.entry("AWS_EXECUTION_ENV", "AWS_Lambda_" + function.runtime()),
        Map.entry("AWS_LAMBDA_FUNCTION_NAME", function.functionName()),
        Map.entry("AWS_LAMBDA_FUNCTION_VERSION", function.version()),
        Map.entry("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Integer.toString(function.memorySize())),
        Map.entry("AWS_LAMBDA_INITIALIZATION_TYPE", provisioned ? "provisioned-concurrency" : "on-demand"),
        Map.entry("AWS_LAMBDA_LOG_GROUP_NAME", function.loggingConfig().logGroup()),
        Map.entry("AWS_LAMBDA_LOG_STREAM_NAME", logStream),
        Map.entry("AWS_LAMBDA_LOG_FORMAT", lines.formatVariable())));
    if (lines.levelVariable() != null) {
      env.put("AWS_LAMBDA_LOG_LEVEL", lines.levelVariable());
    }
    if (function.runtime().startsWith("provided") && RuntimeSettings.bootstrap(taskRoot, layers).isEmpty()) {
      initError("Runtime.InvalidEntrypoint", error("Runtime.InvalidEntrypoint",
          "Couldn't find valid bootstrap(s): [" + taskRoot.resolve("bootstrap")
              + (layers == null ? "" : " " + layers.resolve("bootstrap")) + "]"));
      return;
    }
    if (provisioned) {
      ready.thenRun(this::logProvisionedInit);
    }
    process = builder.start();
    Process started = process;
    Thread pump = new Thread(() -> pumpOutput(started.getInputStream(), started.pid()), "env-output-" + id);
    pump.setDaemon(true);
    pump.start();
    process.onExit().thenAccept(p -> exited(p.exitValue()));
    timer.schedule(() -> {
      if (!ready.isDone()) {
        failInit(new InitFailure("Sandbox.Timeout", error("Sandbox.Timeout",
            "INIT timed out after " + String.format(Locale.ROOT, "%.2f", settings.initTimeout().toMillis() / 1000.0)
                + " seconds")));
      }
    }, settings.initTimeout().toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Logs as AWS names the stream: date, version, environment. */
  private String logStreamName() {
    return LocalDate.now(ZoneOffset.UTC).toString().replace('-', '/') + "/[" + function.version() + "]" + id;
  }

  private void pumpOutput(InputStream in, long pid) {
    pipe = openPipe(pid);
    byte[] buffer = new byte[8192];
    try (in) {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        pumping = true;
        InvocationLog sink;
        synchronized (this) {
          sink = current != null ? current.log() : initOutput;
        }
        sink.append(buffer, 0, n);
        lastOutputNanos = System.nanoTime();
        pumping = false;
      }
    } catch (IOException e) {
      // The group was killed: its pipe closes under the reader.
    } finally {
      pumping = false;
      closePipe();
    }
  }

  /**
   * A second handle on the output pipe, through the runtime's own stdout in /proc, only to ask how
   * many bytes wait in it (FIONREAD): the reader's stream cannot be asked while it blocks. Opened
   * while the runtime holds the pipe's write end, so the open cannot wait for a writer.
   */
  private static FileInputStream openPipe(long pid) {
    try {
      return new FileInputStream("/proc/" + pid + "/fd/1");
    } catch (IOException e) {
      return null;
    }
  }

  private synchronized void closePipe() {
    FileInputStream p = pipe;
    pipe = null;
    if (p != null) {
      try {
        p.close();
      } catch (IOException e) {
        // Nothing was written through it.
      }
    }
  }

  /** Bytes written to the output pipe that the reader has not taken yet; 0 if that cannot be told. */
  private int pendingOutput() {
    FileInputStream p = pipe;
    try {
      return p == null ? 0 : p.available();
    } catch (IOException e) {
      return 0;
    }
  }

  @Override
  public CompletionStage<String> initialized() {
    return ready.handle((ok, failure) -> {
      if (failure == null) {
        return null;
      }
      Throwable cause = failure instanceof java.util.concurrent.CompletionException ? failure.getCause() : failure;
      return cause instanceof InitFailure init ? init.reason() : String.valueOf(cause);
    });
  }

  /**
   * A provisioned environment's init output goes to its log stream once init is over, as AWS logs
   * the init phase of provisioned concurrency; its first invocation then starts as a warm one.
   */
  private void logProvisionedInit() {
    String text;
    synchronized (this) {
      firstInvocation = false;
      text = initOutput.text();
    }
    if (!text.isEmpty()) {
      logs.accept(new FunctionLog(function.loggingConfig().logGroup(), logStream, System.currentTimeMillis(), text));
    }
  }

  @Override
  public CompletionStage<InvocationResult> invoke(Invocation invocation) {
    return ready.handle((ok, failure) -> failure).thenCompose(failure -> {
      if (failure == null) {
        return dispatch(invocation);
      }
      Throwable cause = failure instanceof java.util.concurrent.CompletionException ? failure.getCause() : failure;
      InvocationLog invocationLog = new InvocationLog(settings.logBytesPerInvocation(), lines);
      byte[] output = initOutput.text().getBytes(StandardCharsets.UTF_8);
      invocationLog.appendJudged(output, 0, output.length);
      if (cause instanceof InitFailure init) {
        invocationLog.initFailed((System.nanoTime() - createdNanos) / 1e6, init.errorType);
        return CompletableFuture.completedFuture(new InvocationResult(init.body, "Unhandled",
            invocation.tailLog() ? invocationLog.tailText() : null));
      }
      return CompletableFuture.failedFuture(cause);
    });
  }

  private CompletionStage<InvocationResult> dispatch(Invocation invocation) {
    String requestId = invocation.requestId();
    long start = System.nanoTime();
    long deadline = System.currentTimeMillis() + function.timeout() * 1000L;
    InvocationLog invocationLog = new InvocationLog(settings.logBytesPerInvocation(), lines);
    CompletableFuture<InvocationResult> result = new CompletableFuture<>();
    CompletableFuture<RuntimeApiServer.NextEvent> waiting;
    RuntimeApiServer.NextEvent event = new RuntimeApiServer.NextEvent(requestId, deadline,
        invocation.invokedFunctionArn(), traceId(), invocation.clientContext(), invocation.cognitoIdentity(),
        invocation.payload());
    synchronized (this) {
      if (dead) {
        return CompletableFuture.failedFuture(new IllegalStateException("environment " + id + " is gone"));
      }
      if (firstInvocation) {
        byte[] output = initOutput.text().getBytes(StandardCharsets.UTF_8);
        invocationLog.appendJudged(output, 0, output.length);
        firstInvocation = false;
      }
      invocationLog.start(requestId, function.version(), invocation.invokedFunctionArn());
      ScheduledFuture<?> timeout = timer.schedule(() -> timedOut(requestId), function.timeout(), TimeUnit.SECONDS);
      // JVMs are bounded by their heap flags; everything else by the group's resident memory.
      ScheduledFuture<?> watchdog = function.runtime().startsWith("java") ? null
          : timer.scheduleWithFixedDelay(() -> checkMemory(requestId), MEMORY_CHECK_MS, MEMORY_CHECK_MS,
              TimeUnit.MILLISECONDS);
      current = new Current(requestId, start, System.currentTimeMillis(), invocationLog, invocation.tailLog(), result,
          timeout, watchdog, invocation.streamResponse() ? new CompletableFuture<>() : null,
          new java.util.concurrent.atomic.AtomicLong());
      waiting = waitingNext;
      waitingNext = null;
      if (waiting == null) {
        queued = event;
      }
    }
    if (waiting != null) {
      waiting.complete(event);
    }
    return result;
  }

  @Override
  public CompletionStage<RuntimeApiServer.NextEvent> next() {
    CompletableFuture<RuntimeApiServer.NextEvent> waiting;
    synchronized (this) {
      if (!ready.isDone() && !provisioned) {
        initDurationMs = (System.nanoTime() - createdNanos) / 1e6;
      }
      if (dead) {
        return CompletableFuture.failedFuture(new IllegalStateException("environment " + id + " is gone"));
      }
      if (queued != null) {
        RuntimeApiServer.NextEvent event = queued;
        queued = null;
        ready.complete(null);
        return CompletableFuture.completedFuture(event);
      }
      waiting = new CompletableFuture<>();
      waitingNext = waiting;
    }
    // Completing init may dispatch the first invocation at once, which takes waitingNext.
    ready.complete(null);
    return waiting;
  }

  @Override
  public boolean respond(String requestId, byte[] body) {
    return finish(requestId, new InvocationResult(body, null, null));
  }

  @Override
  public boolean fail(String requestId, String errorType, byte[] body) {
    return finish(requestId, new InvocationResult(body, "Unhandled", null));
  }

  @Override
  public boolean responseTooLarge(String requestId, long bytes) {
    return finish(requestId, InvocationResult.unhandled("Function.ResponseSizeTooLarge",
        "Response payload size exceeded maximum allowed payload size (" + InvocationResult.MAX_RESPONSE_BYTES
            + " bytes).", null));
  }

  /**
   * A streamed response: handed to a caller that takes streams as it starts; collected for one that
   * does not, within Invoke's limit, as AWS does for a streaming function invoked with Invoke.
   */
  @Override
  public boolean stream(String requestId, RuntimeApiServer.Streamed response) {
    Current c = currentIf(requestId);
    if (c == null) {
      return false;
    }
    if (c.streamEnd() == null) {
      collect(requestId, response);
      return true;
    }
    Flow.Publisher<byte[]> body = response.body().map(data -> {
      c.streamed().addAndGet(data.size());
      return data.toArray();
    }).runWith(JavaFlowSupport.Sink.asPublisher(AsPublisher.WITHOUT_FANOUT), response.materializer());
    CompletableFuture<ResponseStream.End> end = c.streamEnd();
    c.result().complete(InvocationResult.streamed(new Stream(response.contentType(), body, end)));
    response.ended().whenComplete((trailer, failure) -> {
      finish(requestId, streamOutcome(trailer, failure));
      cutOff(failure);
    });
    return true;
  }

  /**
   * A stream that was cut (over its limit, or its reader gone) leaves the runtime mid-write, with its
   * connection reset under it: the environment is not trusted with another invocation.
   */
  private void cutOff(Throwable failure) {
    if (failure != null) {
      log.info("Stopping environment {} of {}:{}: its response stream was cut ({})", id, function.functionName(),
          function.version(), failure.getMessage());
      dead = true;
      destroy();
    }
  }

  private record Stream(String contentType, Flow.Publisher<byte[]> body, CompletionStage<ResponseStream.End> end)
      implements ResponseStream {}

  private void collect(String requestId, RuntimeApiServer.Streamed response) {
    long limit = InvocationResult.MAX_RESPONSE_BYTES;
    response.body().runWith(Sink.fold(ByteString.emptyByteString(), (all, data) -> {
      if (all.size() + data.size() > limit) {
        throw new RuntimeApiServer.TooLarge(limit);
      }
      return all.concat(data);
    }), response.materializer()).whenComplete((all, failure) -> {
      Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
          ? failure.getCause() : failure;
      if (cause != null) {
        finish(requestId, streamOutcome(null, cause));
        cutOff(cause);
      } else {
        response.ended().whenComplete((trailer, broken) -> {
          InvocationResult outcome = streamOutcome(trailer, broken);
          finish(requestId, outcome.failed() ? outcome : new InvocationResult(all.toArray(), null, null));
        });
      }
    });
  }

  /** How a stream ended, as an invocation's outcome: the trailers' error, or why the bytes stopped short. */
  private static InvocationResult streamOutcome(RuntimeApiServer.Trailer trailer, Throwable failure) {
    if (failure instanceof RuntimeApiServer.TooLarge tooLarge) {
      return InvocationResult.unhandled("Function.ResponseSizeTooLarge", tooLarge.getMessage(), null);
    }
    if (failure != null) {
      return InvocationResult.unhandled("Runtime.TruncatedResponse",
          "The runtime's response stream broke off: " + failure.getMessage(), null);
    }
    if (trailer.errorType() != null) {
      byte[] details = trailer.errorBody().isEmpty()
          ? InvocationResult.errorDocument(trailer.errorType(), "") : trailer.errorBody().getBytes(StandardCharsets.UTF_8);
      return new InvocationResult(details, "Unhandled", null, null);
    }
    return new InvocationResult(new byte[0], null, null);
  }

  @Override
  public void initError(String errorType, byte[] body) {
    failInit(new InitFailure(errorType, body));
  }

  private void failInit(InitFailure failure) {
    if (ready.completeExceptionally(failure)) {
      destroy();
    }
  }

  private void timedOut(String requestId) {
    String message = "Task timed out after " + String.format(Locale.ROOT, "%.2f", (double) function.timeout()) + " seconds";
    Current c = currentIf(requestId);
    if (c == null) {
      return;
    }
    c.log().line(java.time.Instant.now() + " " + requestId + " " + message);
    // Dead before the caller hears of it, so the pool never hands this environment out again;
    // finished before the kill, so that the exit the kill causes is not reported as a crash.
    dead = true;
    finish(requestId, InvocationResult.unhandled("Sandbox.Timeout", "RequestId: " + requestId + " Error: " + message,
        null));
    destroy();
  }

  private void exited(int status) {
    dead = true;
    String reason = status > 128 ? "signal: " + signalName(status - 128) : "exit status " + status;
    failInit(new InitFailure("Runtime.ExitError", error("Runtime.ExitError",
        "Error: Runtime exited with error: " + reason)));
    Current c;
    synchronized (this) {
      c = current;
    }
    if (c != null) {
      c.log().line("RequestId: " + c.requestId() + " Error: Runtime exited with error: " + reason);
      finish(c.requestId(), InvocationResult.unhandled("Runtime.ExitError",
          "RequestId: " + c.requestId() + " Error: Runtime exited with error: " + reason, null));
    }
    destroy();
  }

  private static String signalName(int signal) {
    return switch (signal) {
      case 9 -> "killed";
      case 15 -> "terminated";
      case 11 -> "segmentation fault";
      case 6 -> "aborted";
      default -> Integer.toString(signal);
    };
  }

  private synchronized Current currentIf(String requestId) {
    return current != null && current.requestId().equals(requestId) ? current : null;
  }

  private boolean finish(String requestId, InvocationResult outcome) {
    if (currentIf(requestId) == null) {
      return false;
    }
    // While the invocation is still current, so that what the reader takes meanwhile goes to its log.
    settleOutput();
    Current c;
    boolean cold;
    synchronized (this) {
      c = currentIf(requestId);
      if (c == null) {
        return false;
      }
      current = null;
      cold = initDurationMs != null;
    }
    c.timeout().cancel(false);
    if (c.watchdog() != null) {
      c.watchdog().cancel(false);
    }
    Double init;
    synchronized (this) {
      init = cold ? initDurationMs : null;
      initDurationMs = null;
    }
    c.log().end(requestId, (System.nanoTime() - c.startNanos()) / 1e6, function.memorySize(), maxMemoryUsedMb(), init,
        LogLines.status(outcome));
    logs.accept(new FunctionLog(function.loggingConfig().logGroup(), logStream, c.startMillis(), c.log().text()));
    String tail = c.tail() ? c.log().tailText() : null;
    if (c.streamEnd() != null && c.result().isDone()) {
      c.streamEnd().complete(outcome.failed()
          ? new ResponseStream.End(errorType(outcome.payload()), new String(outcome.payload(), StandardCharsets.UTF_8),
              tail, c.streamed().get())
          : new ResponseStream.End(null, null, tail, c.streamed().get()));
    } else {
      c.result().complete(new InvocationResult(outcome.payload(), outcome.functionError(), tail));
      if (c.streamEnd() != null) {
        c.streamEnd().complete(new ResponseStream.End(null, null, tail, 0));
      }
    }
    return true;
  }

  /** The {@code errorType} of an error document, or {@code Unhandled} when it names none. */
  private static String errorType(byte[] document) {
    try {
      String type = JSON.readTree(document).path("errorType").asText("");
      return type.isEmpty() ? "Unhandled" : type;
    } catch (IOException e) {
      return "Unhandled";
    }
  }

  /**
   * Output the runtime wrote before it answered is in the pipe by the time the answer arrives, but
   * the reader may not have taken it yet (on a busy machine it waits for a core): wait until the
   * pipe is empty and the reader has appended what it took (at most 50 ms). Then, for output still
   * flowing from other processes of the group, until the reader has been quiet for a millisecond
   * (at most 20 ms more).
   */
  private void settleOutput() {
    long drained = System.nanoTime() + 50_000_000L;
    while ((pendingOutput() > 0 || pumping) && System.nanoTime() < drained) {
      try {
        Thread.sleep(0, 100_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    long deadline = System.nanoTime() + 20_000_000L;
    while (System.nanoTime() - lastOutputNanos < 1_000_000L && System.nanoTime() < deadline) {
      Thread.onSpinWait();
      try {
        Thread.sleep(0, 200_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * Resident memory of the whole process group over MemorySize: the group is killed, as Lambda's
   * sandbox is, and the invocation ends with Runtime.ExitError ("signal: killed").
   */
  private void checkMemory(String requestId) {
    Current c = currentIf(requestId);
    Process p = process;
    if (c == null || p == null) {
      return;
    }
    long rss = ResidentMemory.ofTree(p.toHandle());
    peakResidentBytes = Math.max(peakResidentBytes, rss);
    long limit = function.memorySize() * 1024L * 1024L;
    if (rss > limit) {
      c.log().line("RequestId: " + requestId + " Error: memory used (" + rss / (1024 * 1024) + " MB) exceeds "
          + function.memorySize() + " MB: the environment was stopped");
      c.watchdog().cancel(false);
      killGroup(p.pid());
      p.destroyForcibly();
    }
  }

  private long maxMemoryUsedMb() {
    Process p = process;
    if (p == null) {
      return 0;
    }
    long sampled = Math.min(peakResidentBytes, function.memorySize() * 1024L * 1024L) / (1024 * 1024);
    // Nothing sampled (an invocation shorter than one check, or a JVM): the process's own peak, 0 if it has exited.
    return sampled > 0 ? sampled : ResidentMemory.peakOf(p.pid()) / (1024 * 1024);
  }

  @Override
  public boolean isDead() {
    return dead;
  }

  /** Kills the process group and closes the environment's address. Idempotent. */
  @Override
  public void destroy() {
    CompletableFuture<RuntimeApiServer.NextEvent> waiting;
    synchronized (this) {
      dead = true;
      waiting = waitingNext;
      waitingNext = null;
    }
    if (waiting != null) {
      waiting.completeExceptionally(new IllegalStateException("environment stopped"));
    }
    Process p = process;
    if (p != null && p.isAlive()) {
      killGroup(p.pid());
      p.destroyForcibly();
    }
    ServerBinding b = binding;
    if (b != null) {
      b.unbind();
    }
  }

  private static void killGroup(long pgid) {
    try {
      Process kill = new ProcessBuilder("kill", "-KILL", "--", "-" + pgid).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      kill.waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      log.warn("could not kill process group {}: {}", pgid, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static byte[] error(String type, String message) {
    return InvocationResult.unhandled(type, message, null).payload();
  }

  private static String traceId() {
    long seconds = System.currentTimeMillis() / 1000;
    return "Root=1-" + Long.toHexString(seconds) + "-" + HexFormat.of().formatHex(randomBytes()).substring(0, 24)
        + ";Sampled=0";
  }

  private static byte[] randomBytes() {
    byte[] bytes = new byte[16];
    ThreadLocalRandom.current().nextBytes(bytes);
    return bytes;
  }
}
