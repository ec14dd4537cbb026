package io.tributary.connectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import io.tributary.api.EventSource;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * How a shard's read is dealt into ParallelizationFactor lanes: by order key, in the shard's
 * order, each lane's batch sliceable on its own while other reads are out, and records let go
 * once checkpointed.
 */
class ShardLanesTest {

  /** A record: its sequence number and partition key. */
  private record Rec(String seq, String key) {}

  /** A shard over a fixed list of records, read in one page. */
  private static final class ListShard extends ShardIteratorSource<Rec> {
    private final List<Rec> records;

    ListShard(List<Rec> records) {
      super("arn:aws:kinesis:us-east-1:000000000000:stream/s", "shardId-0", "us-east-1", null);
      this.records = records;
      startAt("0");
    }

    @Override
    Page<Rec> fetch(String iterator, int limit) {
      int from = Integer.parseInt(iterator);
      int to = Math.min(records.size(), from + limit);
      return new Page<>(records.subList(from, to), Integer.toString(to), 0L);
    }

    @Override
    String iteratorAt(String sequenceNumber) {
      return sequenceNumber;
    }

    @Override
    String sequenceNumber(Rec r) {
      return r.seq();
    }

    @Override
    Instant arrival(Rec r) {
      return Instant.EPOCH;
    }

    @Override
    long eventBytes(Rec r) {
      return 100;
    }

    @Override
    void write(JsonGenerator g, Rec r) throws IOException {
      g.writeStartObject();
      g.writeStringField("seq", r.seq());
      g.writeEndObject();
    }

    @Override
    JsonNode asJson(Rec r) {
      return RecordFilter.object();
    }

    @Override
    String orderKey(Rec r) {
      return r.key();
    }

    @Override
    String batchInfoName() {
      return "TestBatchInfo";
    }
  }

  private static List<Rec> records(int count, int keys) {
    List<Rec> records = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      records.add(new Rec(String.format("%05d", i), "key-" + (i % keys)));
    }
    return records;
  }

  @Test
  void eachKeyStaysInOneLaneInTheShardsOrder() {
    ListShard shard = new ListShard(records(100, 7));
    EventSource.Batch read = shard.poll(Duration.ZERO, 100).get(0);
    List<EventSource.Batch> lanes = shard.lanes(read, 4);
    assertEquals(4, lanes.size());
    Map<String, Integer> laneOfKey = new HashMap<>();
    int total = 0;
    for (int lane = 0; lane < lanes.size(); lane++) {
      EventSource.Batch batch = lanes.get(lane);
      if (batch == null) {
        continue;
      }
      String previous = "";
      for (EventSource.Item item : batch.items()) {
        String key = "key-" + (Integer.parseInt(item.id()) % 7);
        assertEquals(lane, laneOfKey.computeIfAbsent(key, k -> laneOf(lanes, item.id())), "one key, one lane: " + key);
        assertEquals(true, item.id().compareTo(previous) > 0, "in the shard's order");
        previous = item.id();
        total++;
      }
    }
    assertEquals(100, total, "every record dealt once");
    assertEquals(List.of(read), shard.lanes(read, 1), "a factor of 1 keeps the read whole");
  }

  private static int laneOf(List<EventSource.Batch> lanes, String id) {
    for (int i = 0; i < lanes.size(); i++) {
      if (lanes.get(i) != null && lanes.get(i).itemIds().contains(id)) {
        return i;
      }
    }
    return -1;
  }

  @Test
  void aLaneWithNoRecordIsNull() {
    ListShard shard = new ListShard(records(10, 1));
    List<EventSource.Batch> lanes = shard.lanes(shard.poll(Duration.ZERO, 10).get(0), 3);
    assertEquals(1, lanes.stream().filter(b -> b != null).count(), "one key fills one lane");
    assertEquals(10, lanes.stream().filter(b -> b != null).findFirst().orElseThrow().records());
    assertNull(lanes.get((laneOf(lanes, "00000") + 1) % 3));
  }

  @Test
  void aLanesBatchIsSlicedWhileTheNextReadIsOutAndLetGoOnceCheckpointed() {
    ListShard shard = new ListShard(records(40, 5));
    EventSource.Batch first = shard.poll(Duration.ZERO, 20).get(0);
    EventSource.Batch lane = shard.lanes(first, 2).stream().filter(b -> b != null).findFirst().orElseThrow();
    EventSource.Batch second = shard.poll(Duration.ZERO, 20).get(0);
    EventSource.Batch half = shard.slice(lane, 1, lane.records());
    assertEquals(lane.itemIds().subList(1, lane.records()), half.itemIds(), "a retry of the lane's tail");
    assertEquals("00020", second.firstPosition(), "the next read goes on after the first");
    shard.checkpoint(first, Set.of());
    assertThrows(IllegalStateException.class, () -> shard.slice(lane, 0, 1), "a checkpointed read is let go");
    assertEquals(20, shard.slice(second, 0, 20).records(), "the read still out is held");
  }
}
