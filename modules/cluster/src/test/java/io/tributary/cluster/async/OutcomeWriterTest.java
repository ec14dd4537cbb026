package io.tributary.cluster.async;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.cluster.async.AsyncQueueEntity.EventFinished;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Outcomes are written in batches, by count or after a delay, and answered from memory until then. */
class OutcomeWriterTest {

  private static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");

  private final InMemoryEventQueueStore store = new InMemoryEventQueueStore();
  /** The partition's timer: when it was started, and whether it is running. */
  private final List<Duration> timerStarts = new ArrayList<>();
  private boolean timerActive;
  private final OutcomeWriter writer = new OutcomeWriter("orders", 3, store, Clock.fixed(NOW, ZoneOffset.UTC),
      new OutcomeWriter.Timer() {
        @Override
        public boolean isActive() {
          return timerActive;
        }

        @Override
        public void start(Duration delay) {
          timerStarts.add(delay);
          timerActive = true;
        }

        @Override
        public void cancel() {
          timerActive = false;
        }
      });

  private static List<EventFinished> finished(int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> new EventFinished("e" + i, "Success", 1, null)).toList();
  }

  private List<String> written(int write) {
    return store.outcomeWrites.get(write).finished().stream().map(EventQueueStore.Finished::requestId).toList();
  }

  @Test
  void outcomesWaitForTheDelayAndGoInOneWrite() {
    writer.record(finished(0, 2));
    writer.record(List.of(new EventFinished("late", "RetriesExhausted", 3, true)));
    assertTrue(store.outcomeWrites.isEmpty(), "nothing written before the delay");
    assertEquals(List.of(OutcomeWriter.OUTCOME_DELAY), timerStarts, "one timer for the batch, not one per write");

    writer.write();
    assertEquals(1, store.outcomeWrites.size());
    assertEquals("orders", store.outcomeWrites.get(0).functionName());
    assertEquals(3, store.outcomeWrites.get(0).partition());
    assertEquals(List.of("e0", "e1", "late"), written(0));
    assertFalse(timerActive);

    writer.write();
    assertEquals(1, store.outcomeWrites.size(), "nothing held, nothing written");
  }

  @Test
  void aFullBatchIsWrittenAtOnce() {
    writer.record(finished(0, 20));
    writer.record(finished(20, OutcomeWriter.BATCH));
    assertEquals(1, store.outcomeWrites.size());
    assertEquals(OutcomeWriter.BATCH, written(0).size());
    assertFalse(timerActive, "the write made the timer moot");

    writer.record(finished(OutcomeWriter.BATCH, OutcomeWriter.BATCH + 1));
    assertEquals(1, store.outcomeWrites.size());
    assertTrue(timerActive, "the next batch waits again");
  }

  @Test
  void heldOutcomesAreAnsweredFromMemoryUntilWritten() {
    writer.record(List.of(new EventFinished("a", "RetriesExhausted", 3, null)));
    assertEquals(new EventQueueStore.Finished("a", "RetriesExhausted", 3, NOW.toEpochMilli()), writer.unwritten("a"));
    assertNull(writer.unwritten("b"));

    writer.write();
    assertNull(writer.unwritten("a"), "the store answers for it now");
    assertEquals("RetriesExhausted", store.outcome("orders", 3, "a", NOW).toCompletableFuture().join()
        .orElseThrow().condition());
  }

  @Test
  void aFailedWriteIsNotRetried() {
    store.failWrites = true;
    writer.record(finished(0, 3));
    writer.write();
    store.failWrites = false;
    writer.write();
    assertTrue(store.outcomeWrites.isEmpty(), "best effort: a lost write only costs those lookups");
    assertNull(writer.unwritten("e0"));
  }
}
