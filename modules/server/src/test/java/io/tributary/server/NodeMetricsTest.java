package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tributary.cluster.async.AsyncMetrics;
import io.tributary.cluster.mapping.PollerStats;
import io.tributary.http.Metrics;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;

/** One registry per node, and what a scrape of {@code /metrics} holds besides Tributary's own series. */
class NodeMetricsTest {

  @Test
  void aScrapeHoldsTheJvmTheDispatcherAndTheApiSeries() {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "metrics", ConfigFactory.parseString(
        "pekko.actor.provider = local\npekko.coordinated-shutdown.exit-jvm = off").withFallback(ConfigFactory.load()));
    try {
      PrometheusMeterRegistry registry = NodeMetrics.get(system).registry();
      assertSame(registry, NodeMetrics.get(system).registry());
      Metrics metrics = new Metrics(registry);
      new AsyncMetrics(registry);
      new PollerStats(registry);
      metrics.record("Invoke", 200, 1_000_000L);
      String text = metrics.render();
      for (String series : new String[] {
          "jvm_memory_used_bytes{area=\"heap\",id=",
          "jvm_gc_memory_allocated_bytes_total ",
          "jvm_threads_live_threads ",
          "jvm_classes_loaded_classes ",
          "system_cpu_count ",
          "process_uptime_seconds ",
          "executor_pool_size_threads{name=\"" + NodeMetrics.DISPATCHER + "\"} ",
          "executor_queued{name=\"" + NodeMetrics.DISPATCHER + "\"} ",
          "tributary_api_requests_total{operation=\"Invoke\",status=\"200\"} 1",
          "tributary_api_request_duration_seconds_count{operation=\"Invoke\"} 1",
          "tributary_async_accepted_total 0"}) {
        assertTrue(text.contains("\n" + series), series + " in:\n" + text);
      }
    } finally {
      system.terminate();
    }
  }
}
