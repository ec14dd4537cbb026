package io.tributary.cluster.async;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * This node's asynchronous queues in Prometheus's text format: events accepted, retried, backed off
 * and finished per condition (counters), and what the partitions hosted here hold and run now
 * (gauges). Per-function figures are in the queue view ({@code /tributary/functions/{fn}/async-queue}).
 */
public final class AsyncMetrics {

  private record Held(int pending, int inFlight) {}

  private final LongAdder accepted = new LongAdder();
  private final LongAdder retries = new LongAdder();
  private final LongAdder backoffs = new LongAdder();
  private final Map<String, LongAdder> finished = new ConcurrentHashMap<>();
  private final LongAdder records = new LongAdder();
  private final LongAdder deadLetters = new LongAdder();
  private final LongAdder sendFailures = new LongAdder();
  private final LongAdder sendsRejected = new LongAdder();
  private final Map<String, Held> partitions = new ConcurrentHashMap<>();

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
    finished.computeIfAbsent(condition, c -> new LongAdder()).add(events);
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

  void holds(String partition, int pending, int inFlight) {
    partitions.put(partition, new Held(pending, inFlight));
  }

  void stopped(String partition) {
    partitions.remove(partition);
  }

  public String render() {
    StringBuilder out = new StringBuilder();
    counter(out, "tributary_async_accepted_total", "Event invokes accepted by the queues on this node.",
        accepted.sum());
    counter(out, "tributary_async_retries_total", "Retries scheduled after function errors.", retries.sum());
    counter(out, "tributary_async_backoffs_total", "Deliveries put back after a throttle or platform error.",
        backoffs.sum());
    out.append("# HELP tributary_async_finished_total Events finished, by condition.\n");
    out.append("# TYPE tributary_async_finished_total counter\n");
    finished.forEach((condition, n) -> out.append("tributary_async_finished_total{condition=\"").append(condition)
        .append("\"} ").append(n.sum()).append('\n'));
    counter(out, "tributary_async_records_sent_total", "Invocation records accepted by destinations.",
        records.sum());
    counter(out, "tributary_async_dead_lettered_total", "Failed events accepted by dead-letter queues.",
        deadLetters.sum());
    counter(out, "tributary_async_send_failures_total",
        "Sends to destinations and dead-letter queues that failed and will be retried.", sendFailures.sum());
    counter(out, "tributary_async_sends_rejected_total",
        "Sends that a destination or dead-letter queue refused for good (logged as errors).", sendsRejected.sum());
    gauge(out, "tributary_async_pending_events", "Events queued in the partitions hosted on this node.",
        partitions.values().stream().mapToLong(Held::pending).sum());
    gauge(out, "tributary_async_in_flight_events", "Deliveries running from the partitions hosted on this node.",
        partitions.values().stream().mapToLong(Held::inFlight).sum());
    gauge(out, "tributary_async_partitions", "Queue partitions running on this node.", partitions.size());
    return out.toString();
  }

  private static void counter(StringBuilder out, String name, String help, long value) {
    metric(out, name, help, "counter", value);
  }

  private static void gauge(StringBuilder out, String name, String help, long value) {
    metric(out, name, help, "gauge", value);
  }

  private static void metric(StringBuilder out, String name, String help, String type, long value) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    out.append(name).append(' ').append(value).append('\n');
  }
}
