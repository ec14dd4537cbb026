package io.tributary.runtime;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import io.tributary.api.Arns;
import io.tributary.api.FunctionConfig;
import io.tributary.api.FunctionLog;
import io.tributary.api.Invocation;
import io.tributary.api.InvocationResult;
import io.tributary.api.LogSink;
import io.tributary.api.ResponseStream;
import io.tributary.api.Runtimes;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Proxy;
import java.lang.reflect.Type;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.AsPublisher;
import org.apache.pekko.stream.javadsl.JavaFlowSupport;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.StreamConverters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A trusted Java handler run inside the node's JVM: the fast path for internal services. Each
 * environment has its own classloader (the function's classes, its {@code lib/*.jar}, its layers'
 * {@code java/lib/*.jar} and its own copy of aws-lambda-java-core over the JDK's platform classes, so
 * statics are per environment as on AWS and nothing of the node leaks in) and its own thread, one
 * invocation at a time.
 *
 * <p>In mode {@code in-process-shared}, a handler that has proven quick runs on the node's dispatcher
 * instead of this thread ({@link QuickHandlers}).
 *
 * <p>Limits, documented for users: no process to kill, so a timed-out invocation is interrupted
 * and abandoned (its thread may run on) and the environment with its classloader is discarded; no
 * memory bound of its own (the node's heap is shared); {@code System.out} is the node's, so
 * handlers log through {@code context.getLogger()}, which is captured per invocation.
 */
final class InProcessEnvironment implements ExecutionEnvironment {

  /** Environment variable of a java* function that selects this mode. */
  static final String MODE_VARIABLE = "TRIBUTARY_JAVA_MODE";
  static final String MODE = "in-process";
  /** The same, but invocations of a handler that proved quick run on the node's dispatcher ({@link QuickHandlers}). */
  static final String SHARED_MODE = "in-process-shared";
  /**
   * The Content-Type of a streamed response of an in-process RequestStreamHandler (AWS's Java runtime
   * does not stream; Node's HttpResponseStream sets it in code): set it to
   * {@link ResponseStream#HTTP_INTEGRATION} when the output starts with an HTTP prelude.
   */
  static final String STREAM_CONTENT_TYPE_VARIABLE = "TRIBUTARY_STREAM_CONTENT_TYPE";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectWriter OUTPUT = JSON.writer();
  private static final Logger LOG = LoggerFactory.getLogger(InProcessEnvironment.class);

  private final FunctionConfig function;
  private final RuntimeSettings settings;
  private final ScheduledExecutorService timer;
  private final LogSink logs;
  private final URLClassLoader loader;
  private final ExecutorService thread;
  private final Handler handler;
  private final String logStream;
  private final LogLines lines;
  private final Class<?> contextType;
  /** The Context proxy's constructor, found once: a proxy per invoke otherwise looks its class up each time. */
  private final java.lang.reflect.Constructor<?> contextProxy;
  private final Class<?> loggerType;
  private final Materializer materializer;
  /** Null unless this function's mode is {@link #SHARED_MODE}. */
  private final QuickHandlers quick;
  /** Set for the function version once one of its invocations timed out on the dispatcher: it never runs there again. */
  private final AtomicBoolean hungOnDispatcher;
  private volatile int streak;
  private volatile boolean ranOnDispatcher;
  private Double initDurationMs;
  private Throwable initFailure;
  private volatile boolean dead;

  /** How the handler is called: a RequestStreamHandler, or a method with an input type and maybe a Context. */
  private record Handler(Object instance, Method method, ObjectReader input, boolean stream, boolean takesContext) {}

  static boolean selected(FunctionConfig function) {
    String mode = function.environment().get(MODE_VARIABLE);
    return function.runtime().startsWith("java") && (MODE.equals(mode) || SHARED_MODE.equals(mode));
  }

  static boolean sharesThreads(FunctionConfig function) {
    return SHARED_MODE.equals(function.environment().get(MODE_VARIABLE));
  }

  /**
   * {@code layers}: the function's merged layer tree ({@link LayerTree}), null when it has none;
   * {@code quick}: null for an environment that always runs on its own thread.
   */
  static InProcessEnvironment start(FunctionConfig function, Path taskRoot, Path layers, Path lambdaCore,
      RuntimeSettings settings, ScheduledExecutorService timer, LogSink logs, QuickHandlers quick,
      AtomicBoolean hungOnDispatcher, Materializer materializer) {
    return new InProcessEnvironment(function, taskRoot, layers, lambdaCore, settings, timer, logs, quick,
        hungOnDispatcher, materializer);
  }

  private InProcessEnvironment(FunctionConfig function, Path taskRoot, Path layers, Path lambdaCore,
      RuntimeSettings settings, ScheduledExecutorService timer, LogSink logs, QuickHandlers quick,
      AtomicBoolean hungOnDispatcher, Materializer materializer) {
    long start = System.nanoTime();
    this.function = function;
    this.materializer = materializer;
    this.quick = quick;
    this.hungOnDispatcher = hungOnDispatcher;
    this.logs = logs;
    this.settings = settings;
    this.timer = timer;
    this.lines = LogLines.of(function.loggingConfig());
    this.logStream = java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString().replace('-', '/') + "/["
        + function.version() + "]" + Long.toHexString(System.nanoTime());
    this.loader = new URLClassLoader("function-" + function.functionName(), urls(taskRoot, layers, lambdaCore),
        ClassLoader.getPlatformClassLoader());
    this.thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "in-process-" + function.functionName());
      t.setDaemon(true);
      t.setContextClassLoader(loader);
      return t;
    });
    Handler resolved;
    Class<?> context;
    Class<?> logger;
    java.lang.reflect.Constructor<?> proxyConstructor = null;
    try {
      context = loader.loadClass("com.amazonaws.services.lambda.runtime.Context");
      proxyConstructor = Proxy.newProxyInstance(loader, new Class<?>[] {context}, (proxy, method, args) -> null)
          .getClass().getConstructor(InvocationHandler.class);
      logger = loader.loadClass("com.amazonaws.services.lambda.runtime.LambdaLogger");
      resolved = thread.submit(() -> resolve(function.handler())).get(settings.initTimeout().toMillis(),
          TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
      resolved = null;
      context = null;
      logger = null;
      initFailure = cause;
    }
    this.handler = resolved;
    this.contextType = context;
    this.loggerType = logger;
    this.contextProxy = proxyConstructor;
    this.initDurationMs = (System.nanoTime() - start) / 1e6;
  }

  /** The class path of a process environment ({@link JvmSupport#command}), with this node's aws-lambda-java-core. */
  private static URL[] urls(Path taskRoot, Path layers, Path lambdaCore) {
    List<URL> urls = new ArrayList<>();
    try {
      urls.add(taskRoot.toUri().toURL());
      Path lib = taskRoot.resolve("lib");
      if (Files.isDirectory(lib)) {
        try (Stream<Path> jars = Files.list(lib)) {
          for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) {
            urls.add(jar.toUri().toURL());
          }
        }
      }
      for (Path jar : LayerTree.javaLibraries(layers)) {
        urls.add(jar.toUri().toURL());
      }
      urls.add(lambdaCore.toUri().toURL());
    } catch (IOException e) {
      throw new IllegalStateException("cannot build the classpath of " + taskRoot, e);
    }
    return urls.toArray(URL[]::new);
  }

  private Handler resolve(String spec) throws ReflectiveOperationException {
    String className = spec.contains("::") ? spec.substring(0, spec.indexOf("::")) : spec;
    String methodName = spec.contains("::") ? spec.substring(spec.indexOf("::") + 2) : "handleRequest";
    Class<?> type = loader.loadClass(className);
    Object instance = type.getDeclaredConstructor().newInstance();
    Class<?> streamHandler = loader.loadClass("com.amazonaws.services.lambda.runtime.RequestStreamHandler");
    if (streamHandler.isAssignableFrom(type) && methodName.equals("handleRequest")) {
      Method m = type.getMethod("handleRequest", InputStream.class, OutputStream.class,
          loader.loadClass("com.amazonaws.services.lambda.runtime.Context"));
      return new Handler(instance, m, null, true, true);
    }
    Method best = null;
    for (Method m : type.getMethods()) {
      if (m.getName().equals(methodName) && !m.isBridge() && m.getParameterCount() >= 1 && m.getParameterCount() <= 2
          && (best == null || m.getParameterCount() > best.getParameterCount())) {
        best = m;
      }
    }
    if (best == null) {
      throw new NoSuchMethodException("No public method named " + methodName + " with 1 or 2 parameters in "
          + className);
    }
    Type input = inputType(type, best);
    return new Handler(instance, best, JSON.readerFor(JSON.getTypeFactory().constructType(input)), false,
        best.getParameterCount() == 2);
  }

  /** The input type of a {@code RequestHandler<I, O>}'s I, else the method's first parameter. */
  private static Type inputType(Class<?> type, Method method) {
    for (Class<?> c = type; c != null; c = c.getSuperclass()) {
      for (Type t : c.getGenericInterfaces()) {
        if (t instanceof ParameterizedType p && p.getRawType().getTypeName()
            .equals("com.amazonaws.services.lambda.runtime.RequestHandler")) {
          return p.getActualTypeArguments()[0];
        }
      }
    }
    return method.getGenericParameterTypes()[0];
  }

  @Override
  public CompletionStage<InvocationResult> invoke(Invocation invocation) {
    InvocationLog log = new InvocationLog(settings.logBytesPerInvocation(), lines);
    Double init = initDurationMs;
    initDurationMs = null;
    if (init != null) {
      // In-process handlers run on the node's own JVM, whatever java* id the function names.
      String version = "java:" + System.getProperty("java.version");
      log.initStart(version, Runtimes.runtimeVersionArn(Arns.regionOf(invocation.invokedFunctionArn()), version),
          function.functionName(), function.version());
    }
    log.start(invocation.requestId(), function.version(), invocation.invokedFunctionArn());
    long start = System.nanoTime();
    if (handler == null) {
      dead = true;
      String type = initFailure instanceof ClassNotFoundException ? "java.lang.ClassNotFoundException"
          : initFailure.getClass().getName();
      log.line("Error loading handler " + function.handler() + ": " + initFailure);
      InvocationResult result = withTail(errorResult(type, String.valueOf(initFailure.getMessage()), initFailure),
          log, invocation, start, init);
      return CompletableFuture.completedFuture(result);
    }
    if (handler.stream() && invocation.streamResponse()) {
      return CompletableFuture.completedFuture(stream(invocation, log, start, init));
    }
    CompletableFuture<InvocationResult> result = new CompletableFuture<>();
    long deadline = System.currentTimeMillis() + function.timeout() * 1000L;
    Runnable attempt = () -> {
      long began = System.nanoTime();
      InvocationResult outcome;
      try {
        byte[] payload = call(invocation, deadline, log, null);
        outcome = payload.length > InvocationResult.MAX_RESPONSE_BYTES
            ? InvocationResult.unhandled("Function.ResponseSizeTooLarge", "Response payload size exceeded maximum"
                + " allowed payload size (" + InvocationResult.MAX_RESPONSE_BYTES + " bytes).", null)
            : new InvocationResult(payload, null, null);
      } catch (Throwable e) {
        outcome = handlerFailure(e, log);
      }
      // Before the result: completing it hands the environment to its next invocation.
      streak = QuickHandlers.streak(streak, System.nanoTime() - began);
      result.complete(outcome);
    };
    // Armed first: a quick handler may run to its end inside onDispatcher, on the caller's thread.
    Running running = new Running();
    ScheduledFuture<?> timeout = timer.schedule(() -> {
      String message = "Task timed out after " + String.format(Locale.ROOT, "%.2f", (double) function.timeout())
          + " seconds";
      if (result.isDone()) {
        return;
      }
      // Dead before the caller hears of it, so the pool never hands this environment out again.
      dead = true;
      log.line(java.time.Instant.now() + " " + invocation.requestId() + " " + message);
      if (result.complete(InvocationResult.unhandled("Sandbox.Timeout", "RequestId: " + invocation.requestId()
          + " Error: " + message, null))) {
        running.abandon();
        destroy();
      }
    }, function.timeout(), TimeUnit.SECONDS);
    running.start(attempt);
    return result.thenApply(r -> {
      timeout.cancel(false);
      return withTail(r, log, invocation, start, init);
    });
  }

  /** Where an invocation's handler runs, so that its timeout can stop it there. */
  private final class Running {
    private OnDispatcher shared;
    private Future<?> own;

    /** Not under this lock while a quick handler runs on the caller's thread: the timeout must reach it. */
    void start(Runnable attempt) {
      OnDispatcher slot = quick == null || hungOnDispatcher.get() || !quick.tryTake(streak) ? null
          : new OnDispatcher(attempt);
      synchronized (this) {
        shared = slot;
      }
      if (slot != null) {
        try {
          quick.execute(slot);
          return;
        } catch (RuntimeException stopping) {
          quick.release();
          synchronized (this) {
            shared = null;
          }
        }
      }
      synchronized (this) {
        own = thread.submit(attempt);
      }
    }

    synchronized void abandon() {
      if (own != null) {
        own.cancel(true);
      } else if (shared != null && shared.abandon() && !hungOnDispatcher.getAndSet(true)) {
        LOG.warn("In-process function {} (version {}) timed out on the node's dispatcher: it runs on its"
            + " environments' own threads from now on. A handler that ignores interruption keeps a dispatcher"
            + " thread busy.", function.functionName(), function.version());
      }
    }
  }

  /**
   * An invocation on the dispatcher, with the environment's classloader as the thread's context. Its
   * thread is interrupted on a timeout only while it runs the handler, and the interrupt is cleared
   * before the thread goes back to the dispatcher's own work.
   */
  private final class OnDispatcher implements Runnable {
    private final Runnable call;
    private Thread thread;
    private boolean finished;
    private boolean abandoned;

    OnDispatcher(Runnable call) {
      this.call = call;
    }

    @Override
    public void run() {
      Thread me = Thread.currentThread();
      synchronized (this) {
        if (abandoned) {
          return;
        }
        thread = me;
      }
      ranOnDispatcher = true;
      ClassLoader was = me.getContextClassLoader();
      me.setContextClassLoader(loader);
      try {
        call.run();
      } finally {
        me.setContextClassLoader(was);
        synchronized (this) {
          finished = true;
          if (!abandoned) {
            quick.release();
          }
          Thread.interrupted();
        }
      }
    }

    /** Gives up on the handler: its slot is free again. False if it had already finished. */
    synchronized boolean abandon() {
      if (finished || abandoned) {
        return false;
      }
      abandoned = true;
      quick.release();
      if (thread != null) {
        thread.interrupt();
      }
      return true;
    }
  }

  private InvocationResult withTail(InvocationResult result, InvocationLog log, Invocation invocation, long start,
      Double init) {
    log.end(invocation.requestId(), (System.nanoTime() - start) / 1e6, function.memorySize(), 0, init,
        LogLines.status(result));
    logs.accept(new FunctionLog(function.loggingConfig().logGroup(), logStream,
        System.currentTimeMillis() - (System.nanoTime() - start) / 1_000_000, log.text()));
    return new InvocationResult(result.payload(), result.functionError(), invocation.tailLog() ? log.tailText() : null);
  }

  /**
   * A RequestStreamHandler whose caller takes a stream: its output goes to the caller as it writes
   * (a write waits while the caller is behind), on the environment's own thread, never the
   * dispatcher's. The stream ends when the handler returns; a throw or a timeout ends it with the error.
   */
  private InvocationResult stream(Invocation invocation, InvocationLog log, long start, Double init) {
    long deadline = System.currentTimeMillis() + function.timeout() * 1000L;
    AtomicLong written = new AtomicLong();
    AtomicLong sent = new AtomicLong();
    Pair<OutputStream, Flow.Publisher<byte[]>> pipe = StreamConverters.asOutputStream(
            Duration.ofSeconds(function.timeout()))
        .map(bytes -> {
          written.addAndGet(bytes.size());
          return bytes;
        })
        .via(RuntimeApiServer.limits(settings.streaming()))
        .map(bytes -> {
          sent.addAndGet(bytes.size());
          return bytes.toArray();
        })
        .toMat(JavaFlowSupport.Sink.asPublisher(AsPublisher.WITHOUT_FANOUT), Keep.both()).run(materializer);
    CompletableFuture<ResponseStream.End> end = new CompletableFuture<>();
    Consumer<InvocationResult> finish = outcome -> {
      if (end.isDone()) {
        return;
      }
      InvocationResult logged = withTail(outcome, log, invocation, start, init);
      end.complete(outcome.failed()
          ? new ResponseStream.End(errorTypeOf(outcome.payload()), new String(outcome.payload(), StandardCharsets.UTF_8),
              logged.logTail(), sent.get())
          : new ResponseStream.End(null, null, logged.logTail(), sent.get()));
    };
    Future<?> running = thread.submit(() -> {
      InvocationResult outcome = new InvocationResult(new byte[0], null, null);
      try (OutputStream out = pipe.first()) {
        call(invocation, deadline, log, out);
      } catch (Throwable e) {
        outcome = handlerFailure(e, log);
      }
      if (written.get() > settings.streaming().maxResponseBytes()) {
        outcome = InvocationResult.unhandled("Function.ResponseSizeTooLarge", new RuntimeApiServer.TooLarge(
            settings.streaming().maxResponseBytes()).getMessage(), null);
      }
      synchronized (end) {
        finish.accept(outcome);
      }
    });
    timer.schedule(() -> {
      synchronized (end) {
        if (end.isDone()) {
          return;
        }
        dead = true;
        String message = "Task timed out after " + String.format(Locale.ROOT, "%.2f", (double) function.timeout())
            + " seconds";
        log.line(java.time.Instant.now() + " " + invocation.requestId() + " " + message);
        finish.accept(InvocationResult.unhandled("Sandbox.Timeout", "RequestId: " + invocation.requestId()
            + " Error: " + message, null));
      }
      running.cancel(true);
      destroy();
    }, function.timeout(), TimeUnit.SECONDS);
    String type = function.environment().getOrDefault(STREAM_CONTENT_TYPE_VARIABLE, ResponseStream.DEFAULT_CONTENT_TYPE);
    return InvocationResult.streamed(new Streamed(type, pipe.second(), end));
  }

  private record Streamed(String contentType, Flow.Publisher<byte[]> body, CompletionStage<ResponseStream.End> end)
      implements ResponseStream {}

  private static String errorTypeOf(byte[] document) {
    try {
      return JSON.readTree(document).path("errorType").asText("Unhandled");
    } catch (IOException e) {
      return "Unhandled";
    }
  }

  private byte[] call(Invocation invocation, long deadline, InvocationLog log, OutputStream streamTo) throws Exception {
    Object context = contextProxy.newInstance(contextHandler(invocation, deadline, log));
    if (handler.stream()) {
      OutputStream out = streamTo != null ? streamTo : new ByteArrayOutputStream();
      handler.method().invoke(handler.instance(), new ByteArrayInputStream(invocation.payload()), out, context);
      return streamTo != null ? new byte[0] : ((ByteArrayOutputStream) out).toByteArray();
    }
    Object input = handler.input().readValue(invocation.payload());
    Object output = handler.takesContext()
        ? handler.method().invoke(handler.instance(), input, context)
        : handler.method().invoke(handler.instance(), input);
    return OUTPUT.writeValueAsBytes(output);
  }

  private InvocationHandler contextHandler(Invocation invocation, long deadline, InvocationLog log) {
    // Made when first asked for: most handlers never log through the context.
    Object[] logger = new Object[1];
    return (proxy, method, args) -> switch (method.getName()) {
      case "getAwsRequestId" -> invocation.requestId();
      case "getLogGroupName" -> function.loggingConfig().logGroup();
      case "getLogStreamName" -> logStream;
      case "getFunctionName" -> function.functionName();
      case "getFunctionVersion" -> function.version();
      case "getInvokedFunctionArn" -> invocation.invokedFunctionArn();
      case "getRemainingTimeInMillis" -> (int) Math.max(0, deadline - System.currentTimeMillis());
      case "getMemoryLimitInMB" -> function.memorySize();
      case "getLogger" -> logger[0] != null ? logger[0] : (logger[0] = logger(log, invocation.requestId()));
      case "toString" -> "Context(" + invocation.requestId() + ")";
      case "hashCode" -> System.identityHashCode(proxy);
      case "equals" -> proxy == args[0];
      default -> null;
    };
  }

  /**
   * The context's LambdaLogger: what the handler logs goes into its invocation's log, formatted and
   * filtered as AWS's Java runtime does for the function's LoggingConfig ({@link LogLines#javaLoggerLine});
   * byte[] messages are written as they are.
   */
  private Object logger(InvocationLog log, String requestId) {
    return Proxy.newProxyInstance(loader, new Class<?>[] {loggerType}, (proxy, method, args) -> {
      if (method.getName().equals("log") && args != null && args.length >= 1) {
        String level = args.length >= 2 && args[1] != null ? args[1].toString() : null;
        byte[] bytes;
        if (!lines.javaLevelKept(level)) {
          return null;
        } else if (args[0] instanceof byte[] b) {
          bytes = b;
        } else {
          String line = lines.javaLoggerLine(java.time.Instant.now(), String.valueOf(args[0]), level, requestId);
          if (line == null) {
            return null;
          }
          bytes = line.getBytes(StandardCharsets.UTF_8);
        }
        log.append(bytes, 0, bytes.length);
      }
      return null;
    });
  }

  /** The error document AWS's Java runtime returns. */
  @JsonPropertyOrder({"errorMessage", "errorType", "stackTrace"})
  private record JavaError(String errorMessage, String errorType, List<String> stackTrace) {}

  /** What a handler threw (logged as the runtime logs it), or what failed in calling it, as the error document. */
  private static InvocationResult handlerFailure(Throwable e, InvocationLog log) {
    if (e instanceof InvocationTargetException thrown && thrown.getCause() != null) {
      Throwable cause = thrown.getCause();
      log.line(cause.toString());
      return errorResult(cause.getClass().getName(), String.valueOf(cause.getMessage()), cause);
    }
    return errorResult(e.getClass().getName(), String.valueOf(e.getMessage()), e);
  }

  private static InvocationResult errorResult(String type, String message, Throwable error) {
    List<String> trace = Arrays.stream(error.getStackTrace()).limit(50).map(StackTraceElement::toString).toList();
    try {
      return new InvocationResult(OUTPUT.writeValueAsBytes(new JavaError(message, type, trace)), "Unhandled", null);
    } catch (IOException e) {
      StringWriter w = new StringWriter();
      error.printStackTrace(new PrintWriter(w));
      return InvocationResult.unhandled(type, message + "\n" + w, null);
    }
  }

  @Override
  public boolean expires() {
    return !ranOnDispatcher;
  }

  @Override
  public CompletionStage<String> initialized() {
    return CompletableFuture.completedFuture(initFailure == null ? null
        : initFailure.getClass().getName() + ": " + initFailure.getMessage());
  }

  @Override
  public void provisioned() {
    initDurationMs = null;
  }

  @Override
  public boolean isDead() {
    return dead;
  }

  @Override
  public void destroy() {
    dead = true;
    thread.shutdownNow();
    try {
      loader.close();
    } catch (IOException e) {
      // Closing only releases jar handles; nothing else depends on it.
    }
  }

  static Path lambdaCoreJar(JvmSupport jvm) {
    if (jvm == null) {
      return null;
    }
    return Arrays.stream(jvm.classpath().split(":")).map(Path::of)
        .filter(p -> p.getFileName().toString().startsWith("aws-lambda-java-core")).findFirst().orElse(null);
  }
}
