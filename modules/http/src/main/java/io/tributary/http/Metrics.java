package io.tributary.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Request counts and latencies per API operation, kept in the node's Micrometer registry, and
 * {@code /metrics}: everything in that registry in Prometheus's text format.
 *
 * <p>Meters: the counter {@code tributary.api.requests{operation,status}} (Prometheus:
 * {@code tributary_api_requests_total}) and the timer {@code tributary.api.request.duration{operation}}
 * ({@code tributary_api_request_duration_seconds}, a histogram with the fixed buckets below, plus
 * Micrometer's {@code _max}).
 *
 * <p>Each operation's timer and counters are built once, its counters kept in an array indexed by
 * HTTP status: a request costs a map read, an array read and the meters' own updates, with no tags
 * assembled and no registry lookup.
 */
public final class Metrics {

  private static final Duration[] BUCKETS = {millis(1), millis(2.5), millis(5), millis(10), millis(25), millis(50),
      millis(100), millis(250), millis(500), millis(1000), millis(2500), millis(5000), millis(10_000)};

  private static final int STATUSES = 600;

  /** One operation's meters. */
  private final class Operation {
    final String name;
    final Timer duration;
    final AtomicReferenceArray<Counter> byStatus = new AtomicReferenceArray<>(STATUSES);

    Operation(String name) {
      this.name = name;
      this.duration = Timer.builder("tributary.api.request.duration")
          .description("Lambda API request latency by operation.")
          .tag("operation", name)
          .serviceLevelObjectives(BUCKETS)
          .register(registry);
    }

    Counter requests(int status) {
      if (status < 0 || status >= STATUSES) {
        return counter(status);
      }
      Counter counter = byStatus.get(status);
      if (counter == null) {
        counter = counter(status);
        byStatus.compareAndSet(status, null, counter);
      }
      return counter;
    }

    private Counter counter(int status) {
      return Counter.builder("tributary.api.requests")
          .description("Lambda API requests by operation and HTTP status.")
          .tag("operation", name)
          .tag("status", Integer.toString(status))
          .register(registry);
    }
  }

  private final PrometheusMeterRegistry registry;
  private final Map<String, Operation> operations = new ConcurrentHashMap<>();

  /** {@code registry}: the node's, which {@link #render()} serves whole. */
  public Metrics(PrometheusMeterRegistry registry) {
    this.registry = registry;
  }

  /** With a registry of its own (tests, tools). */
  public Metrics() {
    this(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  public void record(String operation, int status, long nanos) {
    Operation meters = operations.get(operation);
    if (meters == null) {
      meters = operations.computeIfAbsent(operation, Operation::new);
    }
    meters.requests(status).increment();
    meters.duration.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Every meter of the registry, in Prometheus's text format. */
  public String render() {
    return registry.scrape();
  }

  private static Duration millis(double ms) {
    return Duration.ofNanos(Math.round(ms * 1_000_000));
  }
}
