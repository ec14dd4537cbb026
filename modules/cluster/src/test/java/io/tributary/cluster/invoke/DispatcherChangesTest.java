package io.tributary.cluster.invoke;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tributary.api.FunctionConfig;
import io.tributary.api.FunctionRuntime;
import io.tributary.api.Invocation;
import io.tributary.api.InvocationResult;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A function's change, told by its FunctionEntity on one node, reaches the Dispatcher of every
 * node: two nodes on 127.0.0.1, the change published on the first, the second's runtime retires the
 * deleted function (the message crosses the wire, so it also proves its Kryo registration).
 */
class DispatcherChangesTest {

  private static final Config CLUSTER = ConfigFactory.parseString("""
      pekko.actor.provider = cluster
      pekko.remote.artery.canonical.hostname = 127.0.0.1
      pekko.remote.artery.canonical.port = 0
      pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
      pekko.cluster.typed.receptionist.distributed-data.gossip-interval = 200ms
      pekko.coordinated-shutdown.phases.cluster-exiting.timeout = 1s
      pekko.coordinated-shutdown.phases.cluster-leave.timeout = 1s
      """).withFallback(ConfigFactory.load());

  private final ActorTestKit first = ActorTestKit.create("changes", CLUSTER);
  private final ActorTestKit second = ActorTestKit.create("changes", CLUSTER);

  @AfterEach
  void stop() {
    second.shutdownTestKit();
    first.shutdownTestKit();
  }

  /** Records which functions were retired; runs nothing. */
  private static final class RecordingRuntime implements FunctionRuntime {
    final BlockingQueue<String> retired = new LinkedBlockingQueue<>();

    @Override
    public CompletionStage<InvocationResult> invoke(FunctionConfig version, Invocation invocation) {
      return CompletableFuture.failedFuture(new UnsupportedOperationException("no invokes in this test"));
    }

    @Override
    public void retire(String functionName) {
      retired.add(functionName);
    }

    @Override
    public void provision(FunctionConfig version, String functionArn, int count, String generation) {
    }

    @Override
    public Provisioned provisioned(String functionName, String version) {
      return new Provisioned(0, null);
    }

    @Override
    public CompletionStage<InvocationResult> invokeProvisioned(FunctionConfig version, Invocation invocation) {
      return null;
    }

    @Override
    public CompletionStage<Void> shutdown() {
      return CompletableFuture.completedFuture(null);
    }
  }

  private static Dispatcher.Invoker dispatcher(ActorSystem<?> system, FunctionRuntime runtime) {
    return Dispatcher.spawn(system, ClusterSharding.get(system), runtime,
        new Dispatcher.Settings(Duration.ofMinutes(1), Duration.ofSeconds(3), "000000000000", Duration.ofSeconds(30),
            64L << 20));
  }

  @Test
  void aDeletedFunctionIsRetiredOnEveryNode() throws InterruptedException {
    Cluster one = Cluster.get(first.system());
    one.manager().tell(Join.create(one.selfMember().address()));
    Cluster.get(second.system()).manager().tell(Join.create(one.selfMember().address()));
    RecordingRuntime here = new RecordingRuntime();
    RecordingRuntime there = new RecordingRuntime();
    Dispatcher.Invoker publisher = dispatcher(first.system(), here);
    dispatcher(second.system(), there);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!(Cluster.get(second.system()).selfMember().status().equals(MemberStatus.up())
        && Cluster.get(first.system()).state().members().size() == 2)) {
      Thread.sleep(50);
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the two nodes did not form a cluster");
      }
    }
    // The topic's instances find each other through the receptionist: publish until the far one has heard.
    String retiredThere = null;
    while (retiredThere == null && System.nanoTime() < deadline) {
      publisher.changes().changed("orders", true);
      retiredThere = there.retired.poll(200, TimeUnit.MILLISECONDS);
    }
    assertEquals("orders", retiredThere);
    assertEquals("orders", here.retired.poll(5, TimeUnit.SECONDS));

    there.retired.clear();
    publisher.changes().changed("orders", false);
    publisher.changes().changed("billing", true);
    assertEquals(List.of("billing"), List.of(there.retired.poll(5, TimeUnit.SECONDS)),
        "a change that deletes nothing retires nothing");
  }
}
