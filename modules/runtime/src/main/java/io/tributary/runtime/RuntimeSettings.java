package io.tributary.runtime;

import com.typesafe.config.Config;
import io.tributary.api.FunctionConfig;
import io.tributary.api.LambdaException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code tributary.runtime}: where code is unpacked, how long environments live, and which
 * interpreter runs each runtime id on this node. A runtime id without an interpreter here is not
 * offered by this node (CreateFunction rejects it).
 */
public record RuntimeSettings(
    Path workDir,
    Duration idleTimeout,
    Duration initTimeout,
    int logBytesPerInvocation,
    int inProcessDispatcherSlots,
    Map<String, String> interpreters) {

  private static final Logger log = LoggerFactory.getLogger(RuntimeSettings.class);

  public static RuntimeSettings fromConfig(Config config) {
    Config c = config.getConfig("tributary.runtime");
    Map<String, String> interpreters = new TreeMap<>();
    c.getConfig("interpreters").root().forEach((id, value) -> {
      String command = String.valueOf(value.unwrapped()).trim();
      if (command.isEmpty()) {
        return;
      }
      if (id.startsWith("provided") || installed(command)) {
        interpreters.put(id, command);
      } else {
        log.warn("Runtime {} is not offered by this node: its interpreter {} is not installed"
            + " (tributary.runtime.interpreters)", id, command);
      }
    });
    return new RuntimeSettings(Path.of(c.getString("work-dir")).toAbsolutePath(), c.getDuration("idle-timeout"),
        c.getDuration("init-timeout"), (int) c.getBytes("log-bytes-per-invocation").longValue(),
        Math.min(c.getInt("in-process-dispatcher-slots"), dispatcherThreads(config) - 1), Map.copyOf(interpreters));
  }

  /**
   * The threads of the node's default dispatcher, sized as Pekko sizes a fork-join pool. Handlers on
   * the dispatcher never hold its last thread, which serves HTTP and the actors.
   */
  static int dispatcherThreads(Config root) {
    String path = "pekko.actor.default-dispatcher";
    if (!root.hasPath(path + ".fork-join-executor")
        || !List.of("default-executor", "fork-join-executor").contains(root.getString(path + ".executor"))) {
      return Integer.MAX_VALUE;
    }
    Config pool = root.getConfig(path + ".fork-join-executor");
    int scaled = (int) Math.ceil(Runtime.getRuntime().availableProcessors() * pool.getDouble("parallelism-factor"));
    return Math.min(Math.max(scaled, pool.getInt("parallelism-min")), pool.getInt("parallelism-max"));
  }

  private static boolean installed(String command) {
    if (command.contains("/")) {
      return Files.isExecutable(Path.of(command));
    }
    String path = System.getenv().getOrDefault("PATH", "") + ":/usr/local/bin:/usr/bin:/bin";
    return Arrays.stream(path.split(":")).filter(d -> !d.isEmpty())
        .anyMatch(dir -> Files.isExecutable(Path.of(dir, command)));
  }

  /** The command that starts an environment of {@code fn}, before {@code setsid}. */
  List<String> command(FunctionConfig fn, Path taskRoot, Path bootstraps, JvmSupport jvm) {
    String interpreter = interpreters.get(fn.runtime());
    if (interpreter == null) {
      throw LambdaException.invalidParameter("The runtime " + fn.runtime() + " is not configured on this node"
          + " (tributary.runtime.interpreters). Configured: " + interpreters.keySet() + ".");
    }
    List<String> command = new ArrayList<>();
    if (fn.runtime().startsWith("provided")) {
      command.add(taskRoot.resolve("bootstrap").toString());
    } else if (fn.runtime().startsWith("python")) {
      command.addAll(List.of(interpreter, "-u", bootstraps.resolve("python/bootstrap.py").toString()));
    } else if (fn.runtime().startsWith("nodejs")) {
      // AWS gives V8's old generation most of the function's memory; the rest is code and buffers.
      command.addAll(List.of(interpreter, "--max-old-space-size=" + (fn.memorySize() * 9 / 10),
          bootstraps.resolve("node/bootstrap.mjs").toString()));
    } else if (fn.runtime().startsWith("java")) {
      if (jvm == null) {
        throw LambdaException.service("This node was built without AWS's Lambda runtime interface client: "
            + fn.runtime() + " functions cannot run on it.");
      }
      command.addAll(jvm.command(interpreter, fn.memorySize(), taskRoot, fn.handler()));
    } else {
      throw LambdaException.invalidParameter("The runtime " + fn.runtime() + " cannot run on this node.");
    }
    return command;
  }
}
