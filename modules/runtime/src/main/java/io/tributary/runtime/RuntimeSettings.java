package io.tributary.runtime;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueType;
import io.tributary.api.FunctionConfig;
import io.tributary.api.LambdaException;
import io.tributary.api.Runtimes.Language;
import io.tributary.api.Runtimes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * {@code tributary.runtime}: where code is unpacked, how long environments live, and which
 * interpreter runs each runtime id on this node ({@link Interpreters}). A runtime id without an
 * interpreter here is not offered by this node (CreateFunction rejects it).
 */
public record RuntimeSettings(
    Path workDir,
    Duration idleTimeout,
    Duration initTimeout,
    int logBytesPerInvocation,
    int inProcessDispatcherSlots,
    Interpreters interpreters,
    Streaming streaming) {

  /**
   * {@code tributary.runtime.streaming}: the most a streamed response may carry, and the bandwidth
   * after its first {@code burstBytes} ({@code bytesPerSecond} 0: none).
   */
  public record Streaming(long maxResponseBytes, long bytesPerSecond, long burstBytes) {}

  public static RuntimeSettings fromConfig(Config config) {
    Config c = config.getConfig("tributary.runtime");
    Config s = c.getConfig("streaming");
    Streaming streaming = new Streaming(s.getBytes("max-response-size"),
        s.getString("bandwidth").equals("off") ? 0 : s.getBytes("bandwidth"), s.getBytes("burst"));
    if (streaming.maxResponseBytes() <= io.tributary.api.InvocationResult.MAX_RESPONSE_BYTES) {
      throw new IllegalArgumentException("tributary.runtime.streaming.max-response-size must be more than a "
          + "buffered response's " + io.tributary.api.InvocationResult.MAX_RESPONSE_BYTES + " bytes");
    }
    return new RuntimeSettings(Path.of(c.getString("work-dir")).toAbsolutePath(), c.getDuration("idle-timeout"),
        c.getDuration("init-timeout"), (int) c.getBytes("log-bytes-per-invocation").longValue(),
        Math.min(c.getInt("in-process-dispatcher-slots"), dispatcherThreads(config) - 1), interpreters(c),
        streaming);
  }

  /**
   * The candidates of {@code interpreters}: a list of commands per language, {@code provided.*} ids
   * enabled by any value, and (as configured before candidates were lists) a runtime id whose
   * command is one more candidate of its language.
   */
  private static Interpreters interpreters(Config c) {
    Map<Language, List<String>> candidates = new EnumMap<>(Language.class);
    Set<String> provided = new HashSet<>();
    c.getConfig("interpreters").root().forEach((key, value) -> {
      Optional<Language> language = Arrays.stream(Language.values())
          .filter(l -> l.name().toLowerCase(Locale.ROOT).equals(key)).findFirst();
      Optional<Runtimes.Target> target = Runtimes.target(key);
      if (language.isPresent() && value.valueType() == ConfigValueType.LIST) {
        candidates.computeIfAbsent(language.get(), l -> new ArrayList<>())
            .addAll(c.getStringList("interpreters." + key));
      } else if (target.isPresent() && value.valueType() == ConfigValueType.STRING
          && !String.valueOf(value.unwrapped()).isBlank()) {
        if (target.get().language() == Language.PROVIDED) {
          provided.add(key);
        } else {
          candidates.computeIfAbsent(target.get().language(), l -> new ArrayList<>())
              .add(0, String.valueOf(value.unwrapped()).trim());
        }
      } else if (!(value.valueType() == ConfigValueType.STRING && String.valueOf(value.unwrapped()).isBlank())) {
        throw new IllegalArgumentException("tributary.runtime.interpreters." + key + " is neither a language "
            + "(python, nodejs, java: a list of commands) nor a runtime id Tributary runs (a command)");
      }
    });
    return Interpreters.discover(candidates, provided, c.getBoolean("exact-interpreters"));
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

  /**
   * The command that starts an environment of {@code fn}, before {@code setsid}; {@code layers} is its
   * merged layer tree, null when it has none.
   */
  List<String> command(FunctionConfig fn, Path taskRoot, Path layers, Path bootstraps, JvmSupport jvm) {
    String interpreter = interpreters.of(fn.runtime()).map(Interpreters.Interpreter::command).orElseThrow(() ->
        LambdaException.invalidParameter("The runtime " + fn.runtime() + " is not offered by this node"
            + " (tributary.runtime.interpreters). It runs: " + Runtimes.installed(interpreters.offers().values())
            + "."));
    List<String> command = new ArrayList<>();
    if (fn.runtime().startsWith("provided")) {
      command.add(bootstrap(taskRoot, layers).orElse(taskRoot.resolve("bootstrap")).toString());
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
      command.addAll(jvm.command(interpreter, fn.memorySize(), taskRoot, layers, fn.handler()));
    } else {
      throw LambdaException.invalidParameter("The runtime " + fn.runtime() + " cannot run on this node.");
    }
    return command;
  }

  /**
   * The executable a provided* environment runs: the function's own {@code bootstrap}, else a layer's
   * (AWS runs {@code /opt/bootstrap} when the function has none); empty when neither is executable.
   */
  static Optional<Path> bootstrap(Path taskRoot, Path layers) {
    return Stream.of(taskRoot, layers).filter(Objects::nonNull).map(dir -> dir.resolve("bootstrap"))
        .filter(file -> Files.isRegularFile(file) && Files.isExecutable(file)).findFirst();
  }
}
