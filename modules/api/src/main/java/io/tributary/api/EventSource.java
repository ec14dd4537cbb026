package io.tributary.api;

import java.time.Duration;
import java.util.List;
import java.util.Set;

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

  /**
   * The batch was processed, but for the records whose item ids are in {@code failed} (a partial
   * batch response): the source moves past the rest (commits, deletes or checkpoints), and the
   * failed ones are read again.
   */
  void checkpoint(Batch batch, Set<String> failed);

  /**
   * How many records each shard this source reads is behind the head, as far as the source tells
   * (may be empty); called every few seconds.
   */
  default java.util.Map<String, Long> lag() {
    return java.util.Map.of();
  }

  /** The batch failed: the source reads its records again from its first. */
  void rewind(Batch batch);

  @Override
  void close();

  /**
   * {@code shard}: a Kafka topic-partition, an SQS queue, a stream shard; positions are the
   * source's own. {@code event} holds the records that passed the mapping's filters, whose item
   * ids (SQS message ids, stream sequence numbers) are {@code itemIds}; it is null when none passed
   * (the batch is then checkpointed without an invoke).
   */
  record Batch(String shard, byte[] event, List<String> itemIds, String firstPosition, String lastPosition) {
    public int records() {
      return itemIds.size();
    }
  }

  /** Opens the source of a mapping. */
  interface Factory {
    EventSource open(EventSourceMapping mapping);

    /**
     * Checks that this node can read the queue or stream {@code eventSourceArn}; throws
     * {@link LambdaException} (400) saying what to change when it cannot.
     */
    void check(String eventSourceArn);

    /** Checks a mapping's filter patterns; throws {@link LambdaException} (400) naming the bad one. */
    void checkFilters(List<String> patterns);
  }
}
