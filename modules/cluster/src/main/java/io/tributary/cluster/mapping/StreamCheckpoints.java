package io.tributary.cluster.mapping;

import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * Where each shard of a stream mapping (Kinesis, DynamoDB Streams) stands, under an epoch: a
 * poller claims a shard by raising its epoch, and its checkpoints are written only while the epoch
 * is still its own, so a stale poller can never overwrite a newer checkpoint. The shard pollers
 * own this port; {@code store.CassandraStreamCheckpoints} is its adapter.
 */
public interface StreamCheckpoints {

  /**
   * A shard as stored: {@code position} null when nothing was processed yet; {@code window} the
   * tumbling window open at the position, if any.
   */
  record Checkpoint(String position, boolean finished, long epoch, Window window) {}

  /** A tumbling window's start and the state the function returned for it, as of the checkpoint. */
  record Window(long startMillis, String state) {}

  /** Every shard of {@code mapping} that has a checkpoint. */
  CompletionStage<Map<String, Checkpoint>> all(String mapping);

  /** Takes the shard over: its checkpoint, under an epoch higher than any before. */
  CompletionStage<Checkpoint> claim(String mapping, String shard);

  /**
   * Writes the shard's checkpoint, with the tumbling window open at it ({@code window} null: none),
   * if {@code epoch} is still the shard's; false when another poller took it.
   */
  CompletionStage<Boolean> save(String mapping, String shard, long epoch, String position, boolean finished,
                                Window window);
}
