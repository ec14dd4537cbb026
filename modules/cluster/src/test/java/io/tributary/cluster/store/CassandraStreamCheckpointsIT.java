package io.tributary.cluster.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import io.tributary.cluster.mapping.StreamCheckpoints;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link StreamCheckpoints} against a real Cassandra: claims raise the epoch, and a stale poller writes nothing. */
class CassandraStreamCheckpointsIT {

  private static final String KEYSPACE = "it_checkpoints";
  private static CqlSession session;
  private static CassandraStreamCheckpoints checkpoints;

  @BeforeAll
  static void connect() {
    session = TestCassandra.connect(KEYSPACE);
    CassandraStreamCheckpoints.tableDefinitions(KEYSPACE).forEach(session::execute);
    checkpoints = new CassandraStreamCheckpoints(session, KEYSPACE);
  }

  @AfterAll
  static void close() {
    if (session != null) {
      session.close();
    }
  }

  private static <T> T get(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void aPollerWhoseShardWasTakenOverCannotOverwriteTheNewCheckpoint() throws Exception {
    String mapping = UUID.randomUUID().toString();
    StreamCheckpoints.Checkpoint first = get(checkpoints.claim(mapping, "shardId-0"));
    assertNull(first.position(), "a new shard starts at the mapping's starting position");
    assertTrue(get(checkpoints.save(mapping, "shardId-0", first.epoch(), "100", false, null)));

    StreamCheckpoints.Checkpoint second = get(checkpoints.claim(mapping, "shardId-0"));
    assertEquals(first.epoch() + 1, second.epoch());
    assertEquals("100", second.position(), "the new poller resumes from the last checkpoint");
    assertTrue(get(checkpoints.save(mapping, "shardId-0", second.epoch(), "200", false, null)));

    assertFalse(get(checkpoints.save(mapping, "shardId-0", first.epoch(), "150", false, null)),
        "the stale poller is refused");
    StreamCheckpoints.Checkpoint now = get(checkpoints.all(mapping)).get("shardId-0");
    assertEquals("200", now.position());
    assertFalse(now.finished());

    assertTrue(get(checkpoints.save(mapping, "shardId-0", second.epoch(), "300", true, null)));
    assertTrue(get(checkpoints.all(mapping)).get("shardId-0").finished());
  }

  @Test
  void aTumblingWindowIsResumedWithTheStateStoredAtTheCheckpoint() throws Exception {
    String mapping = UUID.randomUUID().toString();
    StreamCheckpoints.Checkpoint first = get(checkpoints.claim(mapping, "shardId-0"));
    StreamCheckpoints.Window window = new StreamCheckpoints.Window(1_800_000_000_000L, "{\"count\":7}");
    assertTrue(get(checkpoints.save(mapping, "shardId-0", first.epoch(), "100", false, window)));

    StreamCheckpoints.Checkpoint next = get(checkpoints.claim(mapping, "shardId-0"));
    assertEquals(window, next.window(), "the next poller goes on with the window's state");
    assertTrue(get(checkpoints.save(mapping, "shardId-0", next.epoch(), "200", false, null)));
    assertNull(get(checkpoints.claim(mapping, "shardId-0")).window(), "a closed window is not carried");
  }
}
