package io.tributary.cluster.mapping;

import io.tributary.api.EventSource;
import io.tributary.api.EventSourceMapping;
import io.tributary.cluster.invoke.Dispatcher;
import java.util.Set;

/**
 * A stream batch being worked through (a Kafka partition's in the {@link QueueLoop}, a lane's in
 * the {@link ShardLoop}): its records, the ranges of them still to process ({@link BatchProgress},
 * with the mapping's retry limit and bisection), the last answer the function gave (a failure
 * record quotes it), and when its head range is tried again after a failure.
 */
final class StreamBatch {

  /** AWS: a Kafka mapping with no retry limit but an on-failure destination retries a batch 10 times. */
  static final int KAFKA_RETRIES_WITH_DESTINATION = 10;

  final EventSource.Batch batch;
  final BatchProgress progress;
  /** When its first record entered the stream: the tumbling window it belongs to. */
  final long arrivalMillis;
  /** The last answer of an invoke that ran, or null. */
  Dispatcher.Ran last;
  /** Failed tries of the head range in a row, and when it is due again ({@link System#nanoTime}; 0: now). */
  int waits;
  long dueNanos;

  StreamBatch(EventSource.Batch batch, EventSourceMapping mapping) {
    this.batch = batch;
    this.progress = new BatchProgress(batch.records(), retryLimit(mapping),
        mapping.errors().bisectBatchOnFunctionError());
    this.arrivalMillis = batch.items().isEmpty() ? 0 : batch.items().get(0).timeMillis();
  }

  /** {@code MaximumRetryAttempts}, or AWS's limit for a Kafka mapping that has none but an on-failure destination. */
  static int retryLimit(EventSourceMapping mapping) {
    EventSourceMapping.OnError errors = mapping.errors();
    return errors.maximumRetryAttempts() < 0 && errors.onFailure() != null && mapping.isKafka()
        ? KAFKA_RETRIES_WITH_DESTINATION : errors.maximumRetryAttempts();
  }

  /**
   * How many records at the head of range {@code r} are older than {@code maximumAgeSeconds} at
   * {@code nowMillis} (−1: no limit).
   */
  int expired(BatchProgress.Range r, long nowMillis, int maximumAgeSeconds) {
    if (maximumAgeSeconds < 0) {
      return 0;
    }
    long oldest = nowMillis - maximumAgeSeconds * 1000L;
    int count = 0;
    while (r.from() + count < r.to() && batch.items().get(r.from() + count).timeMillis() < oldest) {
      count++;
    }
    return count;
  }

  /** The first item of range {@code r} a partial batch response named as failed ({@code r.to()} when none). */
  int firstFailed(BatchProgress.Range r, Set<String> failedItems) {
    for (int i = r.from(); i < r.to(); i++) {
      if (failedItems.contains(batch.items().get(i).id())) {
        return i;
      }
    }
    return r.to();
  }

  /** Range {@code r} as a batch of its own, with its own event (the whole batch when it is all of it). */
  EventSource.Batch part(EventSource source, BatchProgress.Range r) {
    return r.size() == batch.records() ? batch : source.slice(batch, r.from(), r.to());
  }
}
