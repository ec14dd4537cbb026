package io.tributary.cluster.async;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class StickyPartitionsTest {

  @Test
  void runsOfAcceptsShareAPartitionThenMoveToTheNext() {
    StickyPartitions sticky = new StickyPartitions(8, 4);
    List<Integer> partitions = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      partitions.add(sticky.partitionOf(sticky.requestId("orders")));
    }
    for (int run = 0; run < 16; run++) {
      List<Integer> one = partitions.subList(run * 4, run * 4 + 4);
      assertEquals(1, new HashSet<>(one).size(), "run " + run + ": " + one);
      if (run > 0) {
        assertEquals((partitions.get(run * 4 - 1) + 1) % 8, one.get(0), "run " + run + " follows the previous");
      }
    }
    for (int p = 0; p < 8; p++) {
      int partition = p;
      assertEquals(8, partitions.stream().filter(x -> x == partition).count(), "partition " + p + "'s share");
    }
  }

  @Test
  void idsAreFreshVersion4UuidsWhosePartitionIsTheirHash() {
    StickyPartitions sticky = new StickyPartitions(6, 3);
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < 600; i++) {
      String id = sticky.requestId("orders");
      UUID uuid = UUID.fromString(id);
      assertEquals(4, uuid.version());
      assertEquals(2, uuid.variant());
      assertEquals(id, uuid.toString());
      assertEquals(Math.floorMod(id.hashCode(), 6), sticky.partitionOf(id));
      ids.add(id);
    }
    assertEquals(600, ids.size());
  }

  @Test
  void everyPartitionIsReachedHoweverManyThereAre() {
    for (int count : new int[] {1, 7, 10, 16, 64}) {
      StickyPartitions sticky = new StickyPartitions(count, 1);
      int previous = sticky.partitionOf(sticky.requestId("orders"));
      for (int i = 0; i < 3 * count; i++) {
        String id = sticky.requestId("orders");
        assertEquals(4, UUID.fromString(id).version());
        int partition = sticky.partitionOf(id);
        assertEquals((previous + 1) % count, partition, count + " partitions, id " + id);
        previous = partition;
      }
    }
  }

  @Test
  void functionsMoveIndependently() {
    StickyPartitions sticky = new StickyPartitions(4, 2);
    int first = sticky.nextPartition("a");
    for (int i = 0; i < 10; i++) {
      sticky.nextPartition("b");
    }
    assertEquals(first, sticky.nextPartition("a"));
    assertNotEquals(first, sticky.nextPartition("a"));
  }

  @Test
  void aForgottenFunctionStartsAFreshRun() {
    StickyPartitions sticky = new StickyPartitions(8, 8);
    for (int i = 0; i < 3; i++) {
      sticky.requestId("gone");
    }
    sticky.forget("gone");
    Set<Integer> next = new HashSet<>();
    for (int i = 0; i < 8; i++) {
      next.add(sticky.partitionOf(sticky.requestId("gone")));
    }
    assertEquals(1, next.size(), "a whole run on one partition, not the rest of the forgotten one: " + next);
  }

  @Test
  void partitionsAndRunMustBePositive() {
    assertThrows(IllegalArgumentException.class, () -> new StickyPartitions(0, 8));
    assertThrows(IllegalArgumentException.class, () -> new StickyPartitions(8, 0));
  }
}
