package io.tributary.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** Starts one Tributary node with the configuration given by {@code -Dconfig.file} (or the defaults). */
public final class Main {

  private Main() {}

  private static final String COMMON_POOL_PARALLELISM = "java.util.concurrent.ForkJoinPool.common.parallelism";

  public static void main(String[] args) {
    // Pekko's Java API hands out Scala futures as CompletionStages whose non-async methods run on
    // the common pool; with 1 or 2 cores its parallelism is 1, and CompletableFuture then starts a
    // new thread per task instead: a thread per request wherever such a stage is chained. Set before
    // anything touches the pool.
    if (System.getProperty(COMMON_POOL_PARALLELISM) == null && Runtime.getRuntime().availableProcessors() <= 2) {
      System.setProperty(COMMON_POOL_PARALLELISM, "2");
    }
    Config config = ConfigFactory.load();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "tributary", config);
    Node.start(system).whenComplete((node, failure) -> {
      if (failure != null) {
        system.log().error("Tributary could not start: {}", failure.toString(), failure);
        system.terminate();
        system.getWhenTerminated().thenRun(() -> System.exit(1));
      } else {
        System.out.println(node.banner());
      }
    });
  }
}
