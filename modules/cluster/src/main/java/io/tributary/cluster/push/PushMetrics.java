package io.tributary.cluster.push;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What this node's push sources did, per rule and target, as Micrometer counters: events put,
 * matched, handed off into their function's queue, refused (by the function's resource policy, or
 * because the function does not exist) and failed (not handed off, so the PutEvents entry failed).
 *
 * <p>Prometheus names: {@code tributary_bus_events_put_total{bus}}, and
 * {@code tributary_bus_deliveries_total{bus,rule,target,outcome}} with outcome {@code matched},
 * {@code delivered}, {@code refused}, {@code dead_lettered} or {@code failed}.
 */
public final class PushMetrics {

  /** What became of one matched event at one target. */
  public enum Outcome {
    MATCHED, DELIVERED, REFUSED, DEAD_LETTERED, FAILED;

    String tag() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private record Key(String bus, String rule, String target, Outcome outcome) {}

  private final MeterRegistry registry;
  private final BusCounts cluster;
  private final Map<String, Counter> put = new ConcurrentHashMap<>();
  private final Map<Key, Counter> deliveries = new ConcurrentHashMap<>();

  /** {@code cluster}: where the counts are also added up across the cluster, for the rule's view. */
  public PushMetrics(MeterRegistry registry, BusCounts cluster) {
    this.registry = registry;
    this.cluster = cluster;
  }

  public void put(String bus, int events) {
    put.computeIfAbsent(bus, b -> Counter.builder("tributary.bus.events.put").tag("bus", b)
        .description("Events accepted by PutEvents on this node.").register(registry)).increment(events);
  }

  public void count(String bus, String rule, String target, Outcome outcome) {
    deliveries.computeIfAbsent(new Key(bus, rule, target, outcome), k -> Counter.builder("tributary.bus.deliveries")
        .tag("bus", k.bus()).tag("rule", k.rule()).tag("target", k.target()).tag("outcome", k.outcome().tag())
        .description("Matched events per rule and target, and what became of them on this node.")
        .register(registry)).increment();
    cluster.add(bus, rule, target, outcome);
  }
}
