package io.tributary.http;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code /metrics}: Prometheus's text format, with cumulative histogram buckets. */
class MetricsTest {

  @Test
  void bucketsCountEveryRequestAtOrBelowTheirBound() {
    Metrics metrics = new Metrics(() -> "extra_metric 1\n");
    metrics.record("Invoke", 200, 500_000L);
    metrics.record("Invoke", 200, 3_000_000L);
    metrics.record("Invoke", 429, 2_000_000_000L);
    metrics.record("Invoke", 200, 30_000_000_000L);
    String text = metrics.render();
    for (String line : new String[] {
        "tributary_api_requests_total{operation=\"Invoke\",status=\"200\"} 3",
        "tributary_api_requests_total{operation=\"Invoke\",status=\"429\"} 1",
        "tributary_api_request_duration_seconds_bucket{operation=\"Invoke\",le=\"0.001\"} 1",
        "tributary_api_request_duration_seconds_bucket{operation=\"Invoke\",le=\"0.0025\"} 1",
        "tributary_api_request_duration_seconds_bucket{operation=\"Invoke\",le=\"0.005\"} 2",
        "tributary_api_request_duration_seconds_bucket{operation=\"Invoke\",le=\"1.0\"} 2",
        "tributary_api_request_duration_seconds_bucket{operation=\"Invoke\",le=\"2.5\"} 3",
        "tributary_api_request_duration_seconds_bucket{operation=\"Invoke\",le=\"10.0\"} 3",
        "tributary_api_request_duration_seconds_bucket{operation=\"Invoke\",le=\"+Inf\"} 4",
        "tributary_api_request_duration_seconds_count{operation=\"Invoke\"} 4",
        "extra_metric 1"}) {
      assertTrue(text.contains(line + "\n"), line + " in:\n" + text);
    }
  }
}
