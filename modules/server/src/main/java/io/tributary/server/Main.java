package io.tributary.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** Starts one Tributary node with the configuration given by {@code -Dconfig.file} (or the defaults). */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
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
