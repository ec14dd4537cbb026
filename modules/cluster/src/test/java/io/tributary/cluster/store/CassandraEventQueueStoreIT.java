package io.tributary.cluster.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import io.tributary.cluster.async.EventQueueStore;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * How an event ended, by request id, against a real Cassandra: outcomes are written a journal write
 * at a time per queue partition and hour, and read back whichever hour of the retention they fell in.
 */
class CassandraEventQueueStoreIT {

  private static final String KEYSPACE = "it_eventqueue";
  private static CqlSession session;
  private static CassandraEventQueueStore store;

  @BeforeAll
  static void connect() {
    session = TestCassandra.connect(KEYSPACE);
    CassandraEventQueueStore.tableDefinitions(KEYSPACE).forEach(session::execute);
    store = new CassandraEventQueueStore(session, KEYSPACE, Duration.ofHours(7), 1 << 20, Duration.ofHours(6));
  }

  @AfterAll
  static void close() {
    session.close();
  }

  @Test
  void everyOutcomeOfAJournalWriteCanBeLookedUpWithinTheRetentionWhateverHourItEndedIn() throws Exception {
    String function = "orders-" + System.nanoTime();
    Instant now = Instant.now();
    Instant fourHoursAgo = now.minus(Duration.ofHours(4));
    record(function, 3, new EventQueueStore.Finished("old", "RetriesExhausted", 3, fourHoursAgo.toEpochMilli()));
    record(function, 3, new EventQueueStore.Finished("a", "Success", 1, now.toEpochMilli() - 150),
        new EventQueueStore.Finished("b", "EventAgeExceeded", 0, now.toEpochMilli()));

    assertEquals(new EventQueueStore.Outcome(function, "Success", 1, Instant.ofEpochMilli(now.toEpochMilli() - 150)),
        lookup(function, 3, "a", now).orElseThrow(), "each event keeps its own time in a batch");
    assertEquals("EventAgeExceeded", lookup(function, 3, "b", now).orElseThrow().condition());
    EventQueueStore.Outcome old = lookup(function, 3, "old", now).orElseThrow();
    assertEquals("RetriesExhausted", old.condition());
    assertEquals(3, old.attempts());
    assertEquals(fourHoursAgo.toEpochMilli(), old.finishedAt().toEpochMilli());

    assertTrue(lookup(function, 3, "old", now.plus(Duration.ofHours(3))).isEmpty(),
        "past the 6 h retention it is no longer looked for");
    assertTrue(lookup(function, 2, "a", now).isEmpty(), "another partition's events are not this one's");
    assertTrue(lookup("other-" + function, 3, "a", now).isEmpty(), "nor another function's");
    assertTrue(lookup(function, 3, "never-finished", now).isEmpty());
  }

  private static void record(String function, int partition, EventQueueStore.Finished... finished)
      throws Exception {
    store.recordOutcomes(function, partition, List.of(finished)).toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static Optional<EventQueueStore.Outcome> lookup(String function, int partition, String requestId,
                                                          Instant now) throws Exception {
    return store.outcome(function, partition, requestId, now).toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
