package io.tributary.runtime;

import com.typesafe.config.ConfigFactory;
import io.tributary.api.FunctionConfig;
import io.tributary.api.Invocation;
import io.tributary.api.InvocationResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** This node's runtime without the cluster: an actor system for the Runtime API server, code served by {@link TestCode}. */
final class TestRuntime implements AutoCloseable {

  static final String ARN = "arn:aws:lambda:eu-west-1:000000000000:function:";
  final TestCode code = new TestCode();
  /** Every invocation's log, as the node's log store receives it. */
  final java.util.List<io.tributary.api.FunctionLog> logs = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final ActorSystem<Void> system;
  private final LocalRuntime runtime;
  private final RuntimeSettings settings;

  TestRuntime(String name, Path work, String extraConfig) {
    system = ActorSystem.create(Behaviors.empty(), name, ConfigFactory.parseString(
        "tributary.runtime.work-dir = \"" + work + "\"\n" + extraConfig).withFallback(ConfigFactory.load()));
    settings = RuntimeSettings.fromConfig(system.settings().config());
    runtime = LocalRuntime.start(system, settings, code, logs::add);
  }

  /** The runtime ids this node offers, with the interpreter each runs on. */
  java.util.Map<String, io.tributary.api.Runtimes.Offer> offers() {
    return settings.interpreters().offers();
  }

  InvocationResult invoke(FunctionConfig fn, String payload) throws Exception {
    return runtime.invoke(fn, new Invocation(UUID.randomUUID().toString(), ARN + fn.functionName(),
        payload.getBytes(StandardCharsets.UTF_8), null, null, true)).toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    runtime.shutdown();
    system.terminate();
  }
}
