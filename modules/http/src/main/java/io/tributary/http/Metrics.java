package io.tributary.http;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Request counts and latencies per API operation, in Prometheus's text exposition format:
 * {@code tributary_api_requests_total{operation,status}} and the histogram
 * {@code tributary_api_request_duration_seconds{operation}}.
 */
public final class Metrics {

  private static final double[] BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  private record Key(String operation, int status) {}

  /** Counts per bucket alone (the first bucket a duration fits), summed into Prometheus's cumulative ones when rendered. */
  private static final class Histogram {
    final LongAdder[] buckets = new LongAdder[BUCKETS.length];
    final LongAdder count = new LongAdder();
    final LongAdder sumNanos = new LongAdder();

    Histogram() {
      for (int i = 0; i < buckets.length; i++) {
        buckets[i] = new LongAdder();
      }
    }

    void observe(long nanos) {
      double seconds = nanos / 1e9;
      for (int i = 0; i < BUCKETS.length; i++) {
        if (seconds <= BUCKETS[i]) {
          buckets[i].increment();
          break;
        }
      }
      count.increment();
      sumNanos.add(nanos);
    }
  }

  private final Map<Key, LongAdder> requests = new ConcurrentHashMap<>();
  private final Map<String, Histogram> durations = new ConcurrentHashMap<>();
  private final List<Supplier<String>> sources;

  /** {@code sources}: more metrics, already in the text format, appended to these. */
  @SafeVarargs
  public Metrics(Supplier<String>... sources) {
    this.sources = List.of(sources);
  }

  public void record(String operation, int status, long nanos) {
    requests.computeIfAbsent(new Key(operation, status), k -> new LongAdder()).increment();
    durations.computeIfAbsent(operation, k -> new Histogram()).observe(nanos);
  }

  public String render() {
    StringBuilder out = new StringBuilder();
    out.append("# HELP tributary_api_requests_total Lambda API requests by operation and HTTP status.\n");
    out.append("# TYPE tributary_api_requests_total counter\n");
    requests.forEach((k, v) -> out.append("tributary_api_requests_total{operation=\"").append(k.operation())
        .append("\",status=\"").append(k.status()).append("\"} ").append(v.sum()).append('\n'));
    out.append("# HELP tributary_api_request_duration_seconds Lambda API request latency by operation.\n");
    out.append("# TYPE tributary_api_request_duration_seconds histogram\n");
    durations.forEach((op, h) -> {
      long cumulative = 0;
      for (int i = 0; i < BUCKETS.length; i++) {
        cumulative += h.buckets[i].sum();
        out.append("tributary_api_request_duration_seconds_bucket{operation=\"").append(op).append("\",le=\"")
            .append(BUCKETS[i]).append("\"} ").append(cumulative).append('\n');
      }
      long count = h.count.sum();
      out.append("tributary_api_request_duration_seconds_bucket{operation=\"").append(op).append("\",le=\"+Inf\"} ")
          .append(count).append('\n');
      out.append("tributary_api_request_duration_seconds_sum{operation=\"").append(op).append("\"} ")
          .append(h.sumNanos.sum() / 1e9).append('\n');
      out.append("tributary_api_request_duration_seconds_count{operation=\"").append(op).append("\"} ")
          .append(count).append('\n');
    });
    sources.forEach(source -> out.append(source.get()));
    return out.toString();
  }
}
