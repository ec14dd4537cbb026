package io.tributary.cluster.mapping;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.cluster.ClusterMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * What this node's pollers did, per mapping and shard: records processed, the last checkpoint, how
 * far behind the source's head they are, and the last error. Kept in memory (it restarts with the
 * node); the operations view gathers it from every node, and {@code /metrics} shows this node's.
 *
 * <p>Meters, tagged {@code mapping} and {@code shard}, read from these figures at each scrape: the
 * counters {@code tributary.mapping.records} and {@code tributary.mapping.records.discarded}, and the
 * gauges {@code tributary.mapping.lag} and {@code tributary.mapping.lag.milliseconds} (Prometheus:
 * {@code tributary_mapping_records_total}, {@code tributary_mapping_records_discarded_total},
 * {@code tributary_mapping_lag}, {@code tributary_mapping_lag_milliseconds}). A shard's meter is
 * registered when its figure first exists (the first record discarded, the first lag the source
 * tells), once; {@link #forget} removes the mapping's meters with its figures.
 */
public final class PollerStats {

  /**
   * One shard as this node saw it; {@code lag} null when the source does not tell;
   * {@code recordsDiscarded}: records given up on (out of retries or too old), sent to the mapping's
   * on-failure destination when it has one.
   */
  public record Shard(String shard, long recordsProcessed, long recordsDiscarded, String lastCheckpoint, Long lag,
                      Long lagMillis, String lastError, long lastErrorAtMillis) implements ClusterMessage {}

  private static final String RECORDS = "tributary.mapping.records";
  private static final String DISCARDED = "tributary.mapping.records.discarded";
  private static final String LAG = "tributary.mapping.lag";
  private static final String LAG_MILLIS = "tributary.mapping.lag.milliseconds";

  private final MeterRegistry registry;
  private final Map<String, Map<String, Shard>> byMapping = new ConcurrentHashMap<>();

  public PollerStats(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Meters in a registry of their own, read by no one (tests). */
  public PollerStats() {
    this(new SimpleMeterRegistry());
  }

  private void update(String uuid, String shard, UnaryOperator<Shard> change) {
    Shard[] was = new Shard[1];
    Shard now = byMapping.computeIfAbsent(uuid, u -> new ConcurrentHashMap<>()).compute(shard, (k, s) -> {
      was[0] = s;
      return change.apply(s == null ? new Shard(shard, 0, 0, null, null, null, null, 0) : s);
    });
    register(uuid, was[0], now);
  }

  /**
   * The meters for the figures {@code now} has and {@code was} had not. Each is registered once: of
   * the changes to a shard (one at a time, in {@code compute}), only the first to give a figure
   * finds it missing in {@code was}.
   */
  private void register(String uuid, Shard was, Shard now) {
    boolean first = was == null;
    boolean discarded = now.recordsDiscarded() > 0 && (first || was.recordsDiscarded() == 0);
    boolean lag = now.lag() != null && (first || was.lag() == null);
    boolean lagMillis = now.lagMillis() != null && (first || was.lagMillis() == null);
    if (!(first || discarded || lag || lagMillis)) {
      return;
    }
    String shard = now.shard();
    Tags tags = Tags.of("mapping", uuid, "shard", shard);
    if (first) {
      FunctionCounter.builder(RECORDS, this, stats -> stats.figure(uuid, shard, Shard::recordsProcessed))
          .description("Records this node's pollers handed to functions.").tags(tags).register(registry);
    }
    if (discarded) {
      FunctionCounter.builder(DISCARDED, this, stats -> stats.figure(uuid, shard, Shard::recordsDiscarded))
          .description("Records given up on (out of retries or too old).").tags(tags).register(registry);
    }
    if (lag) {
      Gauge.builder(LAG, this, stats -> stats.figure(uuid, shard, Shard::lag))
          .description("Records behind the head of the source, per shard this node reads.").tags(tags)
          .register(registry);
    }
    if (lagMillis) {
      Gauge.builder(LAG_MILLIS, this, stats -> stats.figure(uuid, shard, Shard::lagMillis))
          .description("How far behind the head of the stream, in time (Kinesis).").tags(tags).register(registry);
    }
  }

  private double figure(String uuid, String shard, Function<Shard, Number> of) {
    Shard s = byMapping.getOrDefault(uuid, Map.of()).get(shard);
    Number n = s == null ? null : of.apply(s);
    return n == null ? Double.NaN : n.doubleValue();
  }

  void processed(String uuid, String shard, int records, String checkpoint) {
    update(uuid, shard, was -> new Shard(shard, was.recordsProcessed() + records, was.recordsDiscarded(),
        checkpoint == null ? was.lastCheckpoint() : checkpoint,
        was.lag(), was.lagMillis(), was.lastError(), was.lastErrorAtMillis()));
  }

  void discarded(String uuid, String shard, int records, String checkpoint) {
    update(uuid, shard, was -> new Shard(shard, was.recordsProcessed(), was.recordsDiscarded() + records,
        checkpoint == null ? was.lastCheckpoint() : checkpoint,
        was.lag(), was.lagMillis(), was.lastError(), was.lastErrorAtMillis()));
  }

  void failed(String uuid, String shard, String error, long now) {
    update(uuid, shard, was -> new Shard(shard, was.recordsProcessed(), was.recordsDiscarded(), was.lastCheckpoint(),
        was.lag(), was.lagMillis(), error, now));
  }

  void lag(String uuid, Map<String, Long> lag, Map<String, Long> lagMillis) {
    lag.forEach((shard, behind) -> update(uuid, shard, was -> new Shard(shard, was.recordsProcessed(),
        was.recordsDiscarded(), was.lastCheckpoint(), behind, was.lagMillis(), was.lastError(),
        was.lastErrorAtMillis())));
    lagMillis.forEach((shard, behind) -> update(uuid, shard, was -> new Shard(shard, was.recordsProcessed(),
        was.recordsDiscarded(), was.lastCheckpoint(), was.lag(), behind, was.lastError(), was.lastErrorAtMillis())));
  }

  /** The mapping no longer runs here (deleted, disabled, or its poller restarted with new settings). */
  void forget(String uuid) {
    byMapping.remove(uuid);
    for (String name : new String[] {RECORDS, DISCARDED, LAG, LAG_MILLIS}) {
      registry.find(name).tag("mapping", uuid).meters().forEach(registry::remove);
    }
  }

  public List<Shard> of(String uuid) {
    return new ArrayList<>(byMapping.getOrDefault(uuid, Map.of()).values());
  }
}
