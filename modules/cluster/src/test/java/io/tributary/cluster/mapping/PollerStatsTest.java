package io.tributary.cluster.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The pollers' series in {@code /metrics}, per mapping and shard, under the names they had before Micrometer. */
class PollerStatsTest {

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final PollerStats stats = new PollerStats(registry);

  @Test
  void aShardShowsItsRecordsAndOnlyTheFiguresItHas() {
    stats.processed("m1", "s0", 10, "c1");
    stats.processed("m1", "s0", 5, "c2");
    stats.discarded("m1", "s0", 2, "c3");
    stats.lag("m1", Map.of("s0", 7L), Map.of("s0", 1500L));
    stats.lag("m1", Map.of("s0", 4L), Map.of());
    stats.failed("m1", "s1", "boom", 1_000L);
    Map<String, Double> series = series(registry.scrape());
    assertEquals(Map.of(
        "tributary_mapping_records_total{mapping=\"m1\",shard=\"s0\"}", 15.0,
        "tributary_mapping_records_total{mapping=\"m1\",shard=\"s1\"}", 0.0,
        "tributary_mapping_records_discarded_total{mapping=\"m1\",shard=\"s0\"}", 2.0,
        "tributary_mapping_lag{mapping=\"m1\",shard=\"s0\"}", 4.0,
        "tributary_mapping_lag_milliseconds{mapping=\"m1\",shard=\"s0\"}", 1500.0), series);
    assertEquals("c3", stats.of("m1").stream().filter(s -> s.shard().equals("s0")).findFirst().orElseThrow()
        .lastCheckpoint());
  }

  @Test
  void aForgottenMappingLeavesNoSeriesAndStartsAgainFromZero() {
    stats.processed("m1", "s0", 10, "c1");
    stats.discarded("m1", "s0", 1, "c1");
    stats.lag("m1", Map.of("s0", 3L), Map.of("s0", 10L));
    stats.processed("m2", "s0", 1, "c1");
    stats.forget("m1");
    String text = registry.scrape();
    assertTrue(!text.contains("mapping=\"m1\""), text);
    assertEquals(1.0, series(text).get("tributary_mapping_records_total{mapping=\"m2\",shard=\"s0\"}"));
    stats.processed("m1", "s0", 4, "c2");
    assertEquals(4.0, series(registry.scrape()).get("tributary_mapping_records_total{mapping=\"m1\",shard=\"s0\"}"));
  }

  /** Each sample line of the text format: series (name and labels) → value. */
  static Map<String, Double> series(String text) {
    return text.lines().filter(l -> !l.startsWith("#") && !l.isBlank())
        .collect(Collectors.toMap(l -> l.substring(0, l.lastIndexOf(' ')),
            l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))));
  }
}
