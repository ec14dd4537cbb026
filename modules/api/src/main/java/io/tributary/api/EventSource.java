package io.tributary.api;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A queue or stream that an event source mapping reads, as one poller sees it. Its methods block
 * and are called from the poller's own thread, one at a time.
 */
public interface EventSource extends AutoCloseable {

  /** AWS's cap on a batch: the invoke payload limit, 6 MB. */
  long MAX_BATCH_BYTES = 6 * 1024 * 1024;

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
  default Map<String, Long> lag() {
    return Map.of();
  }

  /**
   * How far behind the head each shard's reading is in time, in milliseconds, for streams that
   * tell it rather than a count (Kinesis's MillisBehindLatest); called with {@link #lag()}.
   */
  default Map<String, Long> lagMillis() {
    return Map.of();
  }

  /** The batch failed: the source reads its records again from its first. */
  void rewind(Batch batch);

  /**
   * Items {@code from} (inclusive) to {@code to} of a batch this source handed out and has not
   * settled, as a batch of their own with its own event: how a stream bisects a failed batch.
   */
  default Batch slice(Batch batch, int from, int to) {
    throw new UnsupportedOperationException("this source does not split batches");
  }

  /**
   * A stream batch dealt into {@code count} lanes whose batches may be invoked at once: records
   * with the same order key (a Kinesis partition key, a DynamoDB item's keys) always go to the same
   * lane, in the shard's order. Element {@code i} is lane {@code i}'s batch, null when it got no
   * record. Used for a ParallelizationFactor above 1.
   */
  default List<Batch> lanes(Batch batch, int count) {
    return List.of(batch);
  }

  /**
   * The records of a batch as the source holds them (key, value, headers), for an on-failure
   * destination of the source's own kind (a Kafka topic); empty when the source has none.
   */
  default List<Destination.Message> originals(Batch batch) {
    return List.of();
  }

  /**
   * What an on-failure record says of a batch, under the member name AWS gives it
   * ({@code KafkaBatchInfo}, …), as JSON-ready maps and lists.
   */
  default Map<String, Object> batchInfo(Batch batch) {
    return Map.of();
  }

  /** Hands out no more batches of {@code shard} until {@link #resume}: its held batch is being retried. */
  default void pause(String shard) {
  }

  default void resume(String shard) {
  }

  /**
   * Shards this reader lost since the last call (another reader took them, as after a Kafka
   * rebalance): batches of them it holds must be dropped unsettled, and are read again by the new one.
   */
  default Set<String> lost() {
    return Set.of();
  }

  /** The shard this source reads was closed and is read to its end: it will never hand out more. */
  default boolean ended() {
    return false;
  }

  @Override
  void close();

  /**
   * A shard of a stream whose shards Tributary places itself; {@code parents}: the shards it was
   * split or merged from, whose records come first; {@code closed}: it takes no more records.
   */
  record Shard(String id, List<String> parents, boolean closed) {
    public Shard {
      parents = List.copyOf(parents);
    }
  }

  /**
   * {@code shard}: a Kafka topic-partition, an SQS queue, a stream shard; positions are the
   * source's own (a stream's: its item ids). {@code event} holds the records that passed the
   * mapping's filters, {@code items}; it is null when none passed (the batch is then checkpointed
   * without an invoke).
   */
  record Batch(String shard, byte[] event, List<Item> items, String firstPosition, String lastPosition) {
    public int records() {
      return items.size();
    }

    public List<String> itemIds() {
      return items.stream().map(Item::id).toList();
    }

    /**
     * Items {@code from} to {@code to} without an event: enough to checkpoint a stream up to them
     * (a stream's positions are its item ids).
     */
    public Batch span(int from, int to) {
      return new Batch(shard, null, items.subList(from, to), items.get(from).id(), items.get(to - 1).id());
    }
  }

  /**
   * One record of a batch: {@code id} (an SQS message id, a Kafka offset, a stream sequence
   * number) and {@code timeMillis}, when it entered the source (its age is measured from it).
   */
  record Item(String id, long timeMillis) {}

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

    /**
     * Where the records of a mapping's discarded batches go ({@code onError().onFailure()}):
     * {@code kafka://<topic>} is a topic of the mapping's own Kafka cluster, anything else a
     * destination as {@link Destination.Resolver} names it. Throws {@link LambdaException} (400)
     * saying what to change when this node cannot send there.
     */
    Destination failureDestination(EventSourceMapping mapping);

    /** The shards of a mapping's stream when Tributary places them ({@link EventSourceMapping#placesShards()}). */
    default List<Shard> shards(EventSourceMapping mapping) {
      throw new UnsupportedOperationException("the source of " + mapping.uuid() + " is not read shard by shard");
    }

    /**
     * Reads one shard of such a stream: after {@code afterPosition} (a checkpoint), or from the
     * mapping's starting position when it is null.
     */
    default EventSource openShard(EventSourceMapping mapping, String shard, String afterPosition) {
      throw new UnsupportedOperationException("the source of " + mapping.uuid() + " is not read shard by shard");
    }
  }
}
