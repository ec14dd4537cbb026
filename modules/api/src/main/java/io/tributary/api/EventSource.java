package io.tributary.api;

import java.time.Duration;
import java.util.List;

/**
 * A queue or stream that an event source mapping reads, as one poller sees it. Its methods block
 * and are called from the poller's own thread, one at a time.
 */
public interface EventSource extends AutoCloseable {

  /**
   * The batches that arrived within {@code wait}, at most one per shard, each at most
   * {@code maxRecords} records in the shard's order, as the function's event (AWS's shape).
   */
  List<Batch> poll(Duration wait, int maxRecords);

  /** The batch was processed: the source moves past it (commits, deletes or checkpoints). */
  void checkpoint(Batch batch);

  /** The batch failed: the source reads its records again from its first. */
  void rewind(Batch batch);

  @Override
  void close();

  /** {@code shard}: a Kafka topic-partition, an SQS queue, a stream shard; positions are the source's own. */
  record Batch(String shard, byte[] event, int records, String firstPosition, String lastPosition) {}

  /** Opens the source of a mapping. */
  interface Factory {
    EventSource open(EventSourceMapping mapping);

    /**
     * Checks that this node can read the queue or stream {@code eventSourceArn}; throws
     * {@link LambdaException} (400) saying what to change when it cannot.
     */
    void check(String eventSourceArn);
  }
}
