package io.tributary.cluster.mapping;

import io.tributary.cluster.ClusterMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * What this node's pollers did, per mapping and shard: records processed, the last checkpoint, how
 * far behind the source's head they are, and the last error. Kept in memory (it restarts with the
 * node); the operations view gathers it from every node, and {@code /metrics} shows this node's.
 */
public final class PollerStats {

  /**
   * One shard as this node saw it; {@code lag} null when the source does not tell;
   * {@code recordsDiscarded}: records given up on (out of retries or too old), sent to the mapping's
   * on-failure destination when it has one.
   */
  public record Shard(String shard, long recordsProcessed, long recordsDiscarded, String lastCheckpoint, Long lag,
                      Long lagMillis, String lastError, long lastErrorAtMillis) implements ClusterMessage {}

  private final Map<String, Map<String, Shard>> byMapping = new ConcurrentHashMap<>();

  private void update(String uuid, String shard, UnaryOperator<Shard> change) {
    byMapping.computeIfAbsent(uuid, u -> new ConcurrentHashMap<>())
        .compute(shard, (k, s) -> change.apply(s == null ? new Shard(shard, 0, 0, null, null, null, null, 0) : s));
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
  }

  public List<Shard> of(String uuid) {
    return new ArrayList<>(byMapping.getOrDefault(uuid, Map.of()).values());
  }

  /** Prometheus text: records processed and discarded (counters) and lag (gauge) per mapping and shard. */
  public String render() {
    StringBuilder out = new StringBuilder();
    out.append("# HELP tributary_mapping_records_total Records this node's pollers handed to functions.\n");
    out.append("# TYPE tributary_mapping_records_total counter\n");
    byMapping.forEach((uuid, shards) -> shards.values().forEach(s -> out.append("tributary_mapping_records_total{mapping=\"")
        .append(uuid).append("\",shard=\"").append(s.shard()).append("\"} ").append(s.recordsProcessed()).append('\n')));
    out.append("# HELP tributary_mapping_records_discarded_total Records given up on (out of retries or too old).\n");
    out.append("# TYPE tributary_mapping_records_discarded_total counter\n");
    byMapping.forEach((uuid, shards) -> shards.values().stream().filter(s -> s.recordsDiscarded() > 0)
        .forEach(s -> out.append("tributary_mapping_records_discarded_total{mapping=\"").append(uuid)
            .append("\",shard=\"").append(s.shard()).append("\"} ").append(s.recordsDiscarded()).append('\n')));
    out.append("# HELP tributary_mapping_lag Records behind the head of the source, per shard this node reads.\n");
    out.append("# TYPE tributary_mapping_lag gauge\n");
    byMapping.forEach((uuid, shards) -> shards.values().stream().filter(s -> s.lag() != null)
        .forEach(s -> out.append("tributary_mapping_lag{mapping=\"").append(uuid).append("\",shard=\"")
            .append(s.shard()).append("\"} ").append(s.lag()).append('\n')));
    out.append("# HELP tributary_mapping_lag_milliseconds How far behind the head of the stream, in time (Kinesis).\n");
    out.append("# TYPE tributary_mapping_lag_milliseconds gauge\n");
    byMapping.forEach((uuid, shards) -> shards.values().stream().filter(s -> s.lagMillis() != null)
        .forEach(s -> out.append("tributary_mapping_lag_milliseconds{mapping=\"").append(uuid).append("\",shard=\"")
            .append(s.shard()).append("\"} ").append(s.lagMillis()).append('\n')));
    return out.toString();
  }
}
