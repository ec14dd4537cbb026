package io.tributary.cluster.store;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.tributary.cluster.mapping.StreamCheckpoints.Checkpoint;
import io.tributary.cluster.mapping.StreamCheckpoints.Window;
import io.tributary.cluster.mapping.StreamCheckpoints;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where each shard of a stream mapping (Kinesis, DynamoDB Streams) stands: a row per (mapping,
 * shard) with the last processed sequence number, whether the shard is finished (closed and read
 * to its end), and an epoch. A poller claims a shard by raising its epoch, and writes its
 * checkpoints only {@code IF epoch} is still its own (lightweight transactions), so a stale poller
 * (one whose node was thought dead, or whose shard moved) can never overwrite a newer checkpoint.
 */
public final class CassandraStreamCheckpoints implements StreamCheckpoints {

  private final CqlSession session;
  private final PreparedStatement read;
  private final PreparedStatement readAll;
  private final PreparedStatement first;
  private final PreparedStatement raise;
  private final PreparedStatement save;

  public CassandraStreamCheckpoints(CqlSession session, String keyspace) {
    this.session = session;
    String table = keyspace + ".stream_checkpoints";
    this.read = session.prepare("SELECT position, finished, epoch, window_start, window_state FROM " + table
        + " WHERE mapping = ? AND shard = ?");
    this.readAll = session.prepare("SELECT shard, position, finished, epoch, window_start, window_state FROM " + table
        + " WHERE mapping = ?");
    this.first = session.prepare("INSERT INTO " + table + " (mapping, shard, epoch, finished) VALUES (?, ?, 1, false)"
        + " IF NOT EXISTS");
    this.raise = session.prepare("UPDATE " + table + " SET epoch = ? WHERE mapping = ? AND shard = ? IF epoch = ?");
    this.save = session.prepare("UPDATE " + table + " SET position = ?, finished = ?, window_start = ?,"
        + " window_state = ? WHERE mapping = ? AND shard = ? IF epoch = ?");
  }

  public static List<String> tableDefinitions(String keyspace) {
    return List.of("CREATE TABLE IF NOT EXISTS " + keyspace + ".stream_checkpoints (mapping text, shard text,"
        + " position text, finished boolean, epoch bigint, window_start bigint, window_state text,"
        + " PRIMARY KEY (mapping, shard))");
  }

  /** Every shard of {@code mapping} that has a row. */
  @Override
  public CompletionStage<Map<String, Checkpoint>> all(String mapping) {
    return session.executeAsync(readAll.bind(mapping).setConsistencyLevel(ConsistencyLevel.SERIAL))
        .thenCompose(rs -> collect(rs, new HashMap<>()));
  }

  private CompletionStage<Map<String, Checkpoint>> collect(AsyncResultSet rs, Map<String, Checkpoint> into) {
    for (Row row : rs.currentPage()) {
      into.put(row.getString("shard"), checkpoint(row));
    }
    return rs.hasMorePages() ? rs.fetchNextPage().thenCompose(next -> collect(next, into))
        : CompletableFuture.completedFuture(into);
  }

  private static Checkpoint checkpoint(Row row) {
    String state = row.getString("window_state");
    return new Checkpoint(row.getString("position"), row.getBoolean("finished"), row.getLong("epoch"),
        state == null ? null : new Window(row.getLong("window_start"), state));
  }

  /**
   * Takes the shard over: its checkpoint, under an epoch higher than any before. A claim that
   * races another is tried again on what the other wrote.
   */
  @Override
  public CompletionStage<Checkpoint> claim(String mapping, String shard) {
    return session.executeAsync(read.bind(mapping, shard).setConsistencyLevel(ConsistencyLevel.SERIAL))
        .thenCompose(rs -> {
          Row row = rs.one();
          if (row == null) {
            return session.executeAsync(first.bind(mapping, shard)).thenCompose(inserted -> inserted.wasApplied()
                ? CompletableFuture.completedFuture(new Checkpoint(null, false, 1, null)) : claim(mapping, shard));
          }
          Checkpoint was = checkpoint(row);
          return session.executeAsync(raise.bind(was.epoch() + 1, mapping, shard, was.epoch()))
              .thenCompose(raised -> raised.wasApplied()
                  ? CompletableFuture.completedFuture(new Checkpoint(was.position(), was.finished(), was.epoch() + 1,
                      was.window()))
                  : claim(mapping, shard));
        });
  }

  /**
   * Writes the shard's checkpoint, with the tumbling window open at it ({@code window} null: none),
   * if {@code epoch} is still the shard's; false when another poller took it.
   */
  @Override
  public CompletionStage<Boolean> save(String mapping, String shard, long epoch, String position, boolean finished,
                                       Window window) {
    return session.executeAsync(save.bind(position, finished, window == null ? null : window.startMillis(),
            window == null ? null : window.state(), mapping, shard, epoch))
        .thenApply(AsyncResultSet::wasApplied);
  }
}
