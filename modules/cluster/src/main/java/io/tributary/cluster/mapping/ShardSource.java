package io.tributary.cluster.mapping;

import io.tributary.api.EventSource;

/**
 * One shard of a stream Tributary places (Kinesis, DynamoDB Streams), as the {@link ShardLoop}
 * reads it: an {@link EventSource} whose checkpoints are the shard's own, stored with the tumbling
 * window open at them, and which can be marked finished. {@link CheckpointedShard} is the one the
 * {@link ShardPoller} opens.
 */
interface ShardSource extends EventSource {

  String shardId();

  /** The tumbling window open at the checkpoint the loop started from, or null. */
  StreamCheckpoints.Window startWindow();

  /**
   * The tumbling window to store with the next checkpoint (null: none); {@code now}: store it at
   * the current checkpoint at once (a window was closed).
   */
  void window(StreamCheckpoints.Window open, boolean now);

  /** The shard was read to its end and everything in it processed: it is finished, and the loop stops. */
  void finish();
}
