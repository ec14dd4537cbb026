package io.tributary.cluster.mapping;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * How far one stream batch has got, AWS's way: the records still to be processed, as ranges in
 * shard order, each with the retries it has used. The head range is invoked next. A function
 * error splits it in two when bisection is on (a split uses no retry), else it is retried; a
 * range past {@code maximumRetryAttempts} is discarded (its records go to the on-failure
 * destination) and the shard moves on. A partial batch response ends a range's success at its
 * lowest failed record, and counts as a retry of the rest. An invoke that never ran (throttled,
 * no capacity) changes nothing here: only the records' age ends it.
 */
final class BatchProgress {

  /** Items {@code from} (inclusive) to {@code to} of the batch, and the retries they have used. */
  record Range(int from, int to, int retries) {
    int size() {
      return to - from;
    }
  }

  /** What the poller does next with the head range. */
  enum Next { INVOKE, RETRY_LATER, DISCARD }

  private final Deque<Range> ranges = new ArrayDeque<>();
  private final int maximumRetryAttempts;
  private final boolean bisect;

  /** {@code maximumRetryAttempts} −1: no limit. */
  BatchProgress(int records, int maximumRetryAttempts, boolean bisect) {
    this.maximumRetryAttempts = maximumRetryAttempts;
    this.bisect = bisect;
    ranges.add(new Range(0, records, 0));
  }

  boolean done() {
    return ranges.isEmpty();
  }

  /** The range to invoke (or discard) next; null when done. */
  Range head() {
    return ranges.peekFirst();
  }

  /** The head range was processed. */
  void succeeded() {
    ranges.removeFirst();
  }

  /** The function returned an error for the head range. */
  Next functionError() {
    Range r = ranges.removeFirst();
    if (bisect && r.size() > 1) {
      int middle = r.from() + r.size() / 2;
      ranges.addFirst(new Range(middle, r.to(), r.retries()));
      ranges.addFirst(new Range(r.from(), middle, r.retries()));
      return Next.INVOKE;
    }
    return retried(new Range(r.from(), r.to(), r.retries() + 1));
  }

  /** The function processed the head range up to item {@code firstFailed}, and failed from it on. */
  Next partlyFailed(int firstFailed) {
    Range r = ranges.removeFirst();
    return retried(new Range(firstFailed, r.to(), r.retries() + 1));
  }

  private Next retried(Range r) {
    ranges.addFirst(r);
    return maximumRetryAttempts >= 0 && r.retries() > maximumRetryAttempts ? Next.DISCARD : Next.RETRY_LATER;
  }

  /**
   * Takes the first {@code count} items of the head range out, as a range to discard (they are too
   * old to invoke); the rest of it stays the head.
   */
  Range expire(int count) {
    Range r = ranges.removeFirst();
    if (count < r.size()) {
      ranges.addFirst(new Range(r.from() + count, r.to(), r.retries()));
    }
    return new Range(r.from(), r.from() + count, r.retries());
  }

  /** Takes the head range out: it is out of retries. */
  Range discard() {
    return ranges.removeFirst();
  }
}
