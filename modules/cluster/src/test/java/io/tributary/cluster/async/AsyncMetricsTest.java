package io.tributary.cluster.async;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The queues' series in {@code /metrics}, under the names they had before Micrometer. */
class AsyncMetricsTest {

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AsyncMetrics metrics = new AsyncMetrics(registry);

  @Test
  void everySeriesIsThereBeforeTheFirstEvent() {
    Map<String, Double> series = series(registry.scrape());
    for (String name : new String[] {"tributary_async_accepted_total", "tributary_async_retries_total",
        "tributary_async_backoffs_total", "tributary_async_records_sent_total", "tributary_async_dead_lettered_total",
        "tributary_async_send_failures_total", "tributary_async_sends_rejected_total",
        "tributary_async_pending_events", "tributary_async_in_flight_events", "tributary_async_partitions"}) {
      assertEquals(0.0, series.get(name), name + " in " + series);
    }
  }

  @Test
  void countersCountAndGaugesSumThePartitionsHostedHere() {
    metrics.accepted();
    metrics.accepted();
    metrics.retryScheduled();
    metrics.backedOff();
    metrics.finished("Success", 3);
    metrics.finished("RetriesExhausted", 1);
    metrics.finished("Success", 2);
    metrics.sent(false);
    metrics.sent(true);
    metrics.sendFailed();
    metrics.sendRejected();
    metrics.holds("p0", 2, 1, 1, 0);
    metrics.holds("p1", 3, 0, 1, 2);
    metrics.holds("p0", 4, 1, 2, 1);
    metrics.holds("p2", 1, 1, 0, 0);
    metrics.stopped("p2");
    metrics.throttled("ReservedFunctionConcurrentInvocationLimitExceeded");
    metrics.throttled("ReservedFunctionConcurrentInvocationLimitExceeded");
    metrics.throttled("ConcurrentInvocationLimitExceeded");
    Map<String, Double> series = series(registry.scrape());
    assertEquals(Map.ofEntries(
        Map.entry("tributary_async_accepted_total", 2.0),
        Map.entry("tributary_async_retries_total", 1.0),
        Map.entry("tributary_async_backoffs_total", 1.0),
        Map.entry("tributary_async_finished_total{condition=\"Success\"}", 5.0),
        Map.entry("tributary_async_finished_total{condition=\"RetriesExhausted\"}", 1.0),
        Map.entry("tributary_async_records_sent_total", 1.0),
        Map.entry("tributary_async_dead_lettered_total", 1.0),
        Map.entry("tributary_async_send_failures_total", 1.0),
        Map.entry("tributary_async_sends_rejected_total", 1.0),
        Map.entry("tributary_async_pending_events", 7.0),
        Map.entry("tributary_async_in_flight_events", 1.0),
        Map.entry("tributary_async_waiting_concurrency_events", 3.0),
        Map.entry("tributary_async_waiting_retry_events", 3.0),
        Map.entry("tributary_async_throttles_total{reason=\"ReservedFunctionConcurrentInvocationLimitExceeded\"}", 2.0),
        Map.entry("tributary_async_throttles_total{reason=\"ConcurrentInvocationLimitExceeded\"}", 1.0),
        Map.entry("tributary_async_partitions", 2.0)), series);
  }

  /** Each sample line of the text format: series (name and labels) → value. */
  static Map<String, Double> series(String text) {
    return text.lines().filter(l -> !l.startsWith("#") && !l.isBlank())
        .collect(Collectors.toMap(l -> l.substring(0, l.lastIndexOf(' ')),
            l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))));
  }
}
