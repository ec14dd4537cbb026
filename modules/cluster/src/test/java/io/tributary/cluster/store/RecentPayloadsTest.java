package io.tributary.cluster.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The in-memory copies of fresh payloads: bounded by bytes, oldest out first, each taken once. */
class RecentPayloadsTest {

  private static final int ENTRY = 100 + RecentPayloads.ENTRY_OVERHEAD;

  @Test
  void aPayloadIsTakenOnceThenReadFromCassandra() {
    RecentPayloads recent = new RecentPayloads(100 * ENTRY);
    recent.put("a", new byte[100]);
    assertArrayEquals(new byte[100], recent.take("a"));
    assertNull(recent.take("a"));
    assertEquals(0, recent.bytes());
  }

  @Test
  void whenFullTheOldestGoFirst() {
    RecentPayloads recent = new RecentPayloads(10 * ENTRY);
    for (int i = 0; i < 12; i++) {
      recent.put("e" + i, new byte[100]);
    }
    assertNull(recent.take("e0"));
    assertNull(recent.take("e1"));
    assertEquals(100, recent.take("e2").length);
    assertEquals(100, recent.take("e11").length);
    assertEquals(8 * ENTRY, recent.bytes());
  }

  @Test
  void aPayloadTooLargeToKeepIsNotKeptAndPushesNothingOut() {
    RecentPayloads recent = new RecentPayloads(10 * ENTRY);
    recent.put("small", new byte[100]);
    recent.put("large", new byte[2 * ENTRY]);
    assertNull(recent.take("large"));
    assertEquals(100, recent.take("small").length);
  }

  @Test
  void writingTheSamePayloadAgainCountsItOnce() {
    RecentPayloads recent = new RecentPayloads(10 * ENTRY);
    recent.put("a", new byte[100]);
    recent.put("a", new byte[100]);
    assertEquals(ENTRY, recent.bytes());
  }
}
