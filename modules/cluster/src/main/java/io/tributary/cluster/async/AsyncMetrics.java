package io.tributary.cluster.async;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This node's asynchronous queues as Micrometer meters: events accepted, retried, backed off,
 * throttled per reason and finished per condition (counters; the drain rate is the rate of
 * {@code tributary_async_finished_total}), and what the partitions hosted here hold, run, and wait
 * for now (gauges, read at each scrape, counted by each partition at most once a second). Per-function figures are in the queue view
 * ({@code /tributary/functions/{fn}/async-queue}).
 *
 * <p>Prometheus names: a counter {@code tributary.async.accepted} is {@code tributary_async_accepted_total},
 * a gauge {@code tributary.async.pending.events} is {@code tributary_async_pending_events}. Every counter
 * is built once, here or on a condition's first event, so counting costs one add.
 */
public final class AsyncMetrics {

  private record Held(int pending, int inFlight, int waitingForConcurrency, int waitingForRetry) {}

  private final MeterRegistry registry;
  private final Counter accepted;
  private final Counter retries;
  private final Counter backoffs;
  private final Map<String, Counter> finished = new ConcurrentHashMap<>();
  private final Counter records;
  private final Counter deadLetters;
  private final Counter sendFailures;
  private final Counter sendsRejected;
  private final Map<String, Held> partitions = new ConcurrentHashMap<>();
  private final Map<String, Counter> throttles = new ConcurrentHashMap<>();

  public AsyncMetrics(MeterRegistry registry) {
    this.registry = registry;
    accepted = counter("tributary.async.accepted", "Event invokes accepted by the queues on this node.");
    retries = counter("tributary.async.retries", "Retries scheduled after function errors.");
    backoffs = counter("tributary.async.backoffs", "Deliveries put back after a throttle or platform error.");
    records = counter("tributary.async.records.sent", "Invocation records accepted by destinations.");
    deadLetters = counter("tributary.async.dead.lettered", "Failed events accepted by dead-letter queues.");
    sendFailures = counter("tributary.async.send.failures",
        "Sends to destinations and dead-letter queues that failed and will be retried.");
    sendsRejected = counter("tributary.async.sends.rejected",
        "Sends that a destination or dead-letter queue refused for good (logged as errors).");
    Gauge.builder("tributary.async.pending.events", partitions,
            held -> held.values().stream().mapToLong(Held::pending).sum())
        .description("Events queued in the partitions hosted on this node.").register(registry);
    Gauge.builder("tributary.async.in.flight.events", partitions,
            held -> held.values().stream().mapToLong(Held::inFlight).sum())
        .description("Deliveries running from the partitions hosted on this node.").register(registry);
    Gauge.builder("tributary.async.waiting.concurrency.events", partitions,
            held -> held.values().stream().mapToLong(Held::waitingForConcurrency).sum())
        .description("Events due that wait for a free slot of their function's concurrency.").register(registry);
    Gauge.builder("tributary.async.waiting.retry.events", partitions,
            held -> held.values().stream().mapToLong(Held::waitingForRetry).sum())
        .description("Events that wait for their retry time (after a function error, throttle or platform error).")
        .register(registry);
    Gauge.builder("tributary.async.partitions", partitions, Map::size)
        .description("Queue partitions running on this node.").register(registry);
  }

  /** Meters in a registry of their own, read by no one (tests). */
  public AsyncMetrics() {
    this(new SimpleMeterRegistry());
  }

  void accepted() {
    accepted.increment();
  }

  void retryScheduled() {
    retries.increment();
  }

  void backedOff() {
    backoffs.increment();
  }

  void finished(String condition, int events) {
    Counter counter = finished.get(condition);
    if (counter == null) {
      counter = finished.computeIfAbsent(condition, c -> Counter.builder("tributary.async.finished")
          .description("Events finished, by condition.").tag("condition", c).register(registry));
    }
    counter.increment(events);
  }

  /**
   * A delivery refused as throttled, by {@code reason}: ReservedFunctionConcurrentInvocationLimitExceeded
   * (the function's own limit) or ConcurrentInvocationLimitExceeded (the account's pool).
   */
  void throttled(String reason) {
    Counter counter = throttles.get(reason);
    if (counter == null) {
      counter = throttles.computeIfAbsent(reason, r -> Counter.builder("tributary.async.throttles")
          .description("Deliveries refused as throttled, by reason.").tag("reason", r).register(registry));
    }
    counter.increment();
  }

  void sent(boolean deadLetter) {
    (deadLetter ? deadLetters : records).increment();
  }

  void sendFailed() {
    sendFailures.increment();
  }

  void sendRejected() {
    sendsRejected.increment();
  }

  void holds(String partition, int pending, int inFlight, int waitingForConcurrency, int waitingForRetry) {
    partitions.put(partition, new Held(pending, inFlight, waitingForConcurrency, waitingForRetry));
  }

  void stopped(String partition) {
    partitions.remove(partition);
  }

  private Counter counter(String name, String help) {
    return Counter.builder(name).description(help).register(registry);
  }
}
