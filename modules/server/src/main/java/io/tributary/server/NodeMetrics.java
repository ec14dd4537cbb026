package io.tributary.server;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.ExecutorServiceMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.dispatch.Dispatcher;

/**
 * The node's one meter registry, served whole by {@code /metrics}. A Pekko extension, so that what
 * the actor system starts on its own finds the same registry: {@link Node} hands it to the API, the
 * queues and the pollers, and {@link MeteredSessionProvider} to the Cassandra driver, whichever of
 * Node and the journal opens the session first.
 *
 * <p>Created with the JVM's meters (memory, GC, threads, classes, CPU, uptime) and the pool of
 * Pekko's default dispatcher, on which actors, HTTP routes and the journal run. The GC listener and
 * the registry close when the actor system terminates.
 */
public final class NodeMetrics implements Extension {

  /** The id of the dispatcher whose pool is measured, and the {@code name} tag of its meters. */
  static final String DISPATCHER = "pekko.actor.default-dispatcher";

  private static final class Id extends ExtensionId<NodeMetrics> {
    private static final Id INSTANCE = new Id();

    private Id() {}

    @Override
    public NodeMetrics createExtension(ActorSystem<?> system) {
      return new NodeMetrics(system);
    }
  }

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  private NodeMetrics(ActorSystem<?> system) {
    new JvmMemoryMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    // Pekko exposes a dispatcher's pool only as an internal accessor (Scala's protected[pekko]);
    // without it, the thread counts of JvmThreadMetrics remain.
    if (system.dispatchers().lookup(DispatcherSelector.defaultDispatcher()) instanceof Dispatcher dispatcher) {
      new ExecutorServiceMetrics(dispatcher.executorService().executor(), DISPATCHER, Tags.empty()).bindTo(registry);
    }
    system.getWhenTerminated().thenRun(() -> {
      gc.close();
      registry.close();
    });
  }

  public static NodeMetrics get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }
}
