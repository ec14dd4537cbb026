package io.tributary.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** {@code /metrics}: Prometheus's text format, with cumulative histogram buckets, names as before Micrometer. */
class MetricsTest {

  @Test
  void bucketsCountEveryRequestAtOrBelowTheirBound() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Gauge.builder("extra.metric", () -> 1).register(registry);
    Metrics metrics = new Metrics(registry);
    metrics.record("Invoke", 200, 500_000L);
    metrics.record("Invoke", 200, 3_000_000L);
    metrics.record("Invoke", 429, 2_000_000_000L);
    metrics.record("Invoke", 200, 30_000_000_000L);
    String text = metrics.render();
    Map<String, Double> series = series(text);
    Map<String, Double> expected = Map.ofEntries(
        Map.entry("tributary_api_requests_total{operation=\"Invoke\",status=\"200\"}", 3.0),
        Map.entry("tributary_api_requests_total{operation=\"Invoke\",status=\"429\"}", 1.0),
        Map.entry("tributary_api_request_duration_seconds_bucket{operation=\"Invoke\",le=\"0.001\"}", 1.0),
        Map.entry("tributary_api_request_duration_seconds_bucket{operation=\"Invoke\",le=\"0.0025\"}", 1.0),
        Map.entry("tributary_api_request_duration_seconds_bucket{operation=\"Invoke\",le=\"0.005\"}", 2.0),
        Map.entry("tributary_api_request_duration_seconds_bucket{operation=\"Invoke\",le=\"1.0\"}", 2.0),
        Map.entry("tributary_api_request_duration_seconds_bucket{operation=\"Invoke\",le=\"2.5\"}", 3.0),
        Map.entry("tributary_api_request_duration_seconds_bucket{operation=\"Invoke\",le=\"10.0\"}", 3.0),
        Map.entry("tributary_api_request_duration_seconds_bucket{operation=\"Invoke\",le=\"+Inf\"}", 4.0),
        Map.entry("tributary_api_request_duration_seconds_count{operation=\"Invoke\"}", 4.0),
        Map.entry("tributary_api_request_duration_seconds_sum{operation=\"Invoke\"}", 32.0035),
        Map.entry("extra_metric", 1.0));
    expected.forEach((name, value) -> assertEquals(value, series.get(name), 1e-9, name + " in:\n" + text));
    assertEquals(13, series.keySet().stream()
        .filter(s -> s.startsWith("tributary_api_request_duration_seconds_bucket{") && !s.contains("+Inf")).count(),
        "the 13 buckets from 1 ms to 10 s, no others:\n" + text);
  }

  @Test
  void eachOperationAndStatusIsItsOwnSeries() {
    Metrics metrics = new Metrics();
    metrics.record("GetFunction", 404, 1_000_000L);
    metrics.record("CreateFunction", 201, 1_000_000L);
    metrics.record("GetFunction", 404, 1_000_000L);
    metrics.record("GetFunction", 200, 1_000_000L);
    Map<String, Double> series = series(metrics.render());
    assertEquals(2.0, series.get("tributary_api_requests_total{operation=\"GetFunction\",status=\"404\"}"));
    assertEquals(1.0, series.get("tributary_api_requests_total{operation=\"GetFunction\",status=\"200\"}"));
    assertEquals(1.0, series.get("tributary_api_requests_total{operation=\"CreateFunction\",status=\"201\"}"));
    assertEquals(3.0, series.get("tributary_api_request_duration_seconds_count{operation=\"GetFunction\"}"));
    assertTrue(metrics.render().contains("# TYPE tributary_api_request_duration_seconds histogram\n"));
  }

  /** Each sample line of the text format: series (name and labels) → value. */
  static Map<String, Double> series(String text) {
    return text.lines().filter(l -> !l.startsWith("#") && !l.isBlank())
        .collect(Collectors.toMap(l -> l.substring(0, l.lastIndexOf(' ')),
            l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))));
  }
}
