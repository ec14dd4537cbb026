package io.tributary.runtime;

import io.tributary.api.Arns;
import io.tributary.api.CodeSource;
import io.tributary.api.FunctionConfig;
import io.tributary.api.FunctionRuntime;
import io.tributary.api.Invocation;
import io.tributary.api.InvocationResult;
import io.tributary.api.LambdaException;
import io.tributary.api.LogSink;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's execution environments, pooled per function version and revision: a warm idle
 * environment is reused, otherwise one is cold-started; each runs one invocation at a time.
 * Idle environments expire after {@code idle-timeout}. A new revision of a function (changed code
 * or configuration) starts new environments; the old ones stop once idle.
 *
 * <p>A pool may also keep provisioned environments ({@link #provision}): initialized ahead of demand,
 * never expired for idleness, replaced when one dies, and handed out only by {@link #invokeProvisioned},
 * which the caller tries before taking on-demand concurrency.
 */
public final class LocalRuntime implements FunctionRuntime {

  private static final Logger log = LoggerFactory.getLogger(LocalRuntime.class);
  private static final List<String> BOOTSTRAPS = List.of("python/bootstrap.py", "node/bootstrap.mjs");

  private record Key(String function, String version, String revisionId) {}

  private record Idle(ExecutionEnvironment env, long since) {}

  private static final class Pool {
    final Deque<Idle> idle = new ArrayDeque<>();
    final Set<ExecutionEnvironment> all = new HashSet<>();
    final AtomicBoolean hungOnDispatcher = new AtomicBoolean();
    boolean retired;
    /** Read without the lock by invokeProvisioned, to answer at once for pools that have none. */
    volatile int provisionedWanted;
    final Set<ExecutionEnvironment> provisioned = new HashSet<>();
    final Deque<ExecutionEnvironment> provisionedIdle = new ArrayDeque<>();
    int provisionedStarting;
    FunctionConfig provisionedConfig;
    String provisionedArn;
    String generation;
    String failure;
  }

  private final RuntimeSettings settings;
  private final LogSink logs;
  private final RuntimeApiServer server;
  private final CodeCache code;
  private final LayerTree layers;
  private final Path bootstraps;
  private final JvmSupport jvm;
  private final ScheduledExecutorService timer;
  private final ExecutorService blocking;
  private final QuickHandlers quick;
  /** Runs the pipes of in-process streamed responses. */
  private final org.apache.pekko.stream.Materializer materializer;
  private final Map<Key, Pool> pools = new ConcurrentHashMap<>();
  private volatile boolean stopping;

  private LocalRuntime(ActorSystem<?> system, RuntimeSettings settings, CodeSource source, LogSink logs) {
    this.settings = settings;
    this.logs = logs;
    this.server = new RuntimeApiServer(system, settings.streaming());
    ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, daemon("runtime-timer"));
    // Every invocation schedules its timeout and almost always cancels it: drop cancelled ones at once,
    // or the queue holds invocations-per-second × timeout entries.
    timer.setRemoveOnCancelPolicy(true);
    this.timer = timer;
    this.blocking = Executors.newFixedThreadPool(2, daemon("runtime-unpack"));
    this.quick = new QuickHandlers(system.executionContext(), settings.inProcessDispatcherSlots());
    this.materializer = org.apache.pekko.stream.Materializer.matFromSystem(system);
    this.code = new CodeCache(settings.workDir().resolve("code"), source, blocking);
    this.layers = new LayerTree(settings.workDir().resolve("layers"), code, blocking);
    this.bootstraps = settings.workDir().resolve("bootstraps");
    this.jvm = JvmSupport.locate(settings.workDir());
  }

  public static LocalRuntime start(ActorSystem<?> system, RuntimeSettings settings, CodeSource source, LogSink logs) {
    LocalRuntime runtime = new LocalRuntime(system, settings, source, logs);
    installBootstraps(runtime.bootstraps);
    long period = Math.max(1000, Math.min(settings.idleTimeout().toMillis() / 2, 30_000));
    runtime.timer.scheduleWithFixedDelay(runtime::expireIdle, period, period, TimeUnit.MILLISECONDS);
    return runtime;
  }

  /**
   * The command a process environment of a {@code runtime} function runs on a node with {@code settings},
   * for code unpacked in {@code taskRoot} and no layers, once the bootstraps and AWS's runtime client are
   * installed under the work dir as a node installs them: for a benchmark that runs a runtime exactly as a
   * node does, against a Runtime API of its own.
   */
  public static List<String> command(RuntimeSettings settings, String runtime, String handler, int memorySize,
      Path taskRoot) {
    Path bootstraps = settings.workDir().resolve("bootstraps");
    installBootstraps(bootstraps);
    FunctionConfig function = new FunctionConfig("command", null, runtime, null, handler, null, 0, memorySize, null,
        null, 0, null, 0, null, 0, null, null, null, null, null, null, null, null, null);
    return settings.command(function, taskRoot, null, bootstraps, JvmSupport.locate(settings.workDir()));
  }

  private static void installBootstraps(Path bootstraps) {
    try {
      for (String name : BOOTSTRAPS) {
        Path target = bootstraps.resolve(name);
        Files.createDirectories(target.getParent());
        try (InputStream in = LocalRuntime.class.getResourceAsStream(name)) {
          if (in == null) {
            throw new IllegalStateException("runtime bootstrap " + name + " is missing from the build");
          }
          Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not install runtime bootstraps in " + bootstraps, e);
    }
  }

  @Override
  public CompletionStage<InvocationResult> invoke(FunctionConfig function, Invocation invocation) {
    if (stopping) {
      return CompletableFuture.failedFuture(LambdaException.service("This node is shutting down; retry."));
    }
    Pool pool = pool(function);
    ExecutionEnvironment warm = takeIdle(pool);
    CompletionStage<ExecutionEnvironment> env = warm != null
        ? CompletableFuture.completedFuture(warm)
        : coldStart(function, Arns.regionOf(invocation.invokedFunctionArn()), pool, false);
    Pool owner = pool;
    return env.thenCompose(e -> e.invoke(invocation).whenComplete((result, failure) -> whenDone(result,
        () -> release(owner, e))));
  }

  /** Execution environments on this node, idle or busy, provisioned ones included. */
  public int environments() {
    return pools.values().stream().mapToInt(pool -> {
      synchronized (pool) {
        return pool.all.size();
      }
    }).sum();
  }

  /** Of those, the on-demand ones idle now. */
  public int idleEnvironments() {
    return pools.values().stream().mapToInt(pool -> {
      synchronized (pool) {
        return pool.idle.size();
      }
    }).sum();
  }

  private Pool pool(FunctionConfig function) {
    Key key = new Key(function.functionName(), function.version(), function.revisionId());
    Pool pool = pools.get(key);
    if (pool == null) {
      retireOthers(key);
      pool = pools.computeIfAbsent(key, k -> new Pool());
    }
    return pool;
  }

  private CompletionStage<ExecutionEnvironment> coldStart(FunctionConfig function, String region, Pool pool,
      boolean provisioned) {
    CompletableFuture<Path> tree = layers.of(function.layers()).toCompletableFuture();
    return code.taskRoot(function.codeSha256Hex())
        .<ExecutionEnvironment>thenCompose(root -> tree.thenCompose(layerTree -> InProcessEnvironment.selected(function)
            ? CompletableFuture.supplyAsync(() -> inProcess(function, root, layerTree, pool), blocking)
            : ProcessEnvironment.start(function, region, root, layerTree, bootstraps, jvm, settings, server, timer,
                logs, provisioned).thenApply(env -> env)))
        .thenApply(env -> {
          synchronized (pool) {
            pool.all.add(env);
          }
          return env;
        });
  }

  private ExecutionEnvironment inProcess(FunctionConfig function, Path root, Path layerTree, Pool pool) {
    Path core = InProcessEnvironment.lambdaCoreJar(jvm);
    if (core == null) {
      throw LambdaException.service("This node was built without aws-lambda-java-core: in-process Java functions"
          + " cannot run on it.");
    }
    return InProcessEnvironment.start(function, root, layerTree, core, settings, timer, logs,
        InProcessEnvironment.sharesThreads(function) ? quick : null, pool.hungOnDispatcher, materializer);
  }

  private ExecutionEnvironment takeIdle(Pool pool) {
    synchronized (pool) {
      Idle idle;
      while ((idle = pool.idle.pollFirst()) != null) {
        if (!idle.env().isDead()) {
          return idle.env();
        }
        pool.all.remove(idle.env());
      }
      return null;
    }
  }

  private void release(Pool pool, ExecutionEnvironment env) {
    boolean keep;
    synchronized (pool) {
      keep = !env.isDead() && !pool.retired && !stopping;
      if (keep) {
        pool.idle.addFirst(new Idle(env, System.nanoTime()));
      } else {
        pool.all.remove(env);
      }
    }
    if (!keep) {
      env.destroy();
    }
  }

  // ---- provisioned environments ----

  @Override
  public void provision(FunctionConfig version, String functionArn, int count, String generation) {
    if (stopping) {
      return;
    }
    Key key = new Key(version.functionName(), version.version(), version.revisionId());
    Pool pool = count == 0 ? pools.get(key) : pool(version);
    if (pool == null) {
      return;
    }
    List<ExecutionEnvironment> surplus = new ArrayList<>();
    int start;
    synchronized (pool) {
      if (!generation.equals(pool.generation)) {
        pool.generation = generation;
        pool.failure = null;
      }
      pool.provisionedWanted = count;
      pool.provisionedConfig = version;
      pool.provisionedArn = functionArn;
      while (pool.provisioned.size() > count && !pool.provisionedIdle.isEmpty()) {
        ExecutionEnvironment env = pool.provisionedIdle.pollLast();
        pool.provisioned.remove(env);
        pool.all.remove(env);
        surplus.add(env);
      }
      start = startsWanted(pool);
    }
    surplus.forEach(ExecutionEnvironment::destroy);
    for (int i = 0; i < start; i++) {
      startProvisioned(pool);
    }
  }

  /** How many more to start now; counted as starting. None after a failure until a new generation. */
  private static int startsWanted(Pool pool) {
    if (pool.retired || pool.failure != null) {
      return 0;
    }
    int more = Math.max(0, pool.provisionedWanted - pool.provisioned.size() - pool.provisionedStarting);
    pool.provisionedStarting += more;
    return more;
  }

  private void startProvisioned(Pool pool) {
    FunctionConfig version;
    String arn;
    synchronized (pool) {
      version = pool.provisionedConfig;
      arn = pool.provisionedArn;
    }
    coldStart(version, Arns.regionOf(arn), pool, true)
        .thenCompose(env -> env.initialized().thenApply(failure -> {
          if (failure != null) {
            throw new IllegalStateException(failure);
          }
          return env;
        }).whenComplete((ok, failure) -> {
          if (failure != null) {
            env.destroy();
          }
        }))
        .whenComplete((env, failure) -> {
          boolean keep;
          synchronized (pool) {
            pool.provisionedStarting--;
            keep = failure == null && !pool.retired && !stopping
                && pool.provisioned.size() < pool.provisionedWanted;
            if (keep) {
              env.provisioned();
              pool.provisioned.add(env);
              pool.provisionedIdle.addFirst(env);
            } else if (failure != null) {
              pool.failure = reason(failure);
            }
            if (env != null && !keep) {
              pool.all.remove(env);
            }
          }
          if (failure != null) {
            log.warn("A provisioned environment of {}:{} failed to initialize: {}", version.functionName(),
                version.version(), reason(failure));
          } else if (!keep) {
            env.destroy();
          }
        });
  }

  private static String reason(Throwable failure) {
    Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    return cause instanceof IllegalStateException && cause.getCause() == null ? cause.getMessage()
        : cause.toString();
  }

  @Override
  public Provisioned provisioned(String functionName, String version) {
    int ready = 0;
    String failure = null;
    for (var entry : pools.entrySet()) {
      if (entry.getKey().function().equals(functionName) && entry.getKey().version().equals(version)) {
        Pool pool = entry.getValue();
        synchronized (pool) {
          ready += pool.provisioned.size();
          failure = failure != null ? failure : pool.failure;
        }
      }
    }
    return new Provisioned(ready, failure);
  }

  @Override
  public CompletionStage<InvocationResult> invokeProvisioned(FunctionConfig function, Invocation invocation) {
    Pool pool = pools.get(new Key(function.functionName(), function.version(), function.revisionId()));
    if (pool == null || pool.provisionedWanted == 0 || stopping) {
      return null;
    }
    ExecutionEnvironment env;
    synchronized (pool) {
      env = pool.provisionedIdle.pollFirst();
    }
    if (env == null) {
      return null;
    }
    return env.invoke(invocation).whenComplete((result, failure) -> whenDone(result,
        () -> releaseProvisioned(pool, env)));
  }

  /** Runs {@code release} once the environment is done with {@code result}: a stream holds it to its end. */
  private static void whenDone(InvocationResult result, Runnable release) {
    if (result == null || result.stream() == null) {
      release.run();
    } else {
      result.done().whenComplete((end, failure) -> release.run());
    }
  }

  /** Back to idle; one that died is replaced, one over the wanted count stops. */
  private void releaseProvisioned(Pool pool, ExecutionEnvironment env) {
    boolean keep;
    int start = 0;
    synchronized (pool) {
      keep = !env.isDead() && !pool.retired && !stopping && pool.provisioned.size() <= pool.provisionedWanted;
      if (keep) {
        pool.provisionedIdle.addFirst(env);
      } else {
        pool.provisioned.remove(env);
        pool.all.remove(env);
        start = startsWanted(pool);
      }
    }
    if (!keep) {
      env.destroy();
    }
    for (int i = 0; i < start; i++) {
      startProvisioned(pool);
    }
  }

  private void retireOthers(Key current) {
    pools.forEach((key, pool) -> {
      if (key.function().equals(current.function()) && key.version().equals(current.version()) && !key.equals(current)) {
        retire(key, pool);
      }
    });
  }

  @Override
  public void retire(String functionName) {
    pools.forEach((key, pool) -> {
      if (key.function().equals(functionName)) {
        retire(key, pool);
      }
    });
  }

  private void retire(Key key, Pool pool) {
    List<ExecutionEnvironment> idle = new ArrayList<>();
    synchronized (pool) {
      pool.retired = true;
      pool.idle.forEach(i -> idle.add(i.env()));
      idle.addAll(pool.provisionedIdle);
      idle.forEach(pool.all::remove);
      pool.provisioned.removeAll(pool.provisionedIdle);
      pool.idle.clear();
      pool.provisionedIdle.clear();
    }
    pools.remove(key, pool);
    idle.forEach(ExecutionEnvironment::destroy);
  }

  private void expireIdle() {
    long cutoff = System.nanoTime() - settings.idleTimeout().toNanos();
    pools.forEach((key, pool) -> {
      List<ExecutionEnvironment> expired = new ArrayList<>();
      synchronized (pool) {
        for (var oldestFirst = pool.idle.descendingIterator(); oldestFirst.hasNext(); ) {
          Idle idle = oldestFirst.next();
          if (idle.since() >= cutoff) {
            break;
          }
          if (idle.env().expires()) {
            oldestFirst.remove();
            pool.all.remove(idle.env());
            expired.add(idle.env());
          }
        }
      }
      expired.forEach(ExecutionEnvironment::destroy);
      if (!expired.isEmpty()) {
        log.debug("{} idle environment(s) of {}:{} expired", expired.size(), key.function(), key.version());
      }
    });
  }

  @Override
  public CompletionStage<Void> shutdown() {
    stopping = true;
    List<ExecutionEnvironment> all = new ArrayList<>();
    pools.values().forEach(pool -> {
      synchronized (pool) {
        all.addAll(pool.all);
        pool.all.clear();
        pool.idle.clear();
      }
    });
    pools.clear();
    all.forEach(ExecutionEnvironment::destroy);
    timer.shutdownNow();
    blocking.shutdownNow();
    return CompletableFuture.completedFuture(null);
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
