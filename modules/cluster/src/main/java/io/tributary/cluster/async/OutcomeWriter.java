package io.tributary.cluster.async;

import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes how a queue partition's events ended to {@link EventQueueStore#recordOutcomes}, for
 * lookups by request id. Outcomes are held from their journal write ({@link #record}) until
 * {@link #BATCH} of them are held or the partition's timer fires ({@link #OUTCOME_DELAY} after the
 * first), then written together: one single-partition batch for many outcomes, off the accept
 * path. The partition also {@link #write}s what it holds when it idles or stops, and answers for
 * held outcomes from memory ({@link #unwritten}), so a lookup finds an event between its journal
 * write and its outcome's.
 *
 * <p>Example: outcomes of a, b (journaled at t=0) and c (t=50 ms) are held; the timer armed at t=0
 * fires at t=200 ms and a, b, c go in one write. Writing is best effort: a failure only costs the
 * lookup of those events, so it is logged, not retried. Used on its partition's thread only.
 */
final class OutcomeWriter {

  /** Outcomes per write: one group commit's worth at most, a small single-partition batch. */
  static final int BATCH = 32;
  static final Duration OUTCOME_DELAY = Duration.ofMillis(200);
  /** For write failures, reported off the partition's thread. */
  private static final Logger LOG = LoggerFactory.getLogger(OutcomeWriter.class);

  /** The partition's timer that makes it call {@link #write} when it fires. */
  interface Timer {
    boolean isActive();

    void start(Duration delay);

    void cancel();
  }

  private final String functionName;
  private final int partition;
  private final EventQueueStore store;
  private final Clock clock;
  private final Timer timer;
  private final Map<String, EventQueueStore.Finished> held = new LinkedHashMap<>();

  OutcomeWriter(String functionName, int partition, EventQueueStore store, Clock clock, Timer timer) {
    this.functionName = functionName;
    this.partition = partition;
    this.store = store;
    this.clock = clock;
    this.timer = timer;
  }

  /** Holds the outcomes of events just journaled as finished; writes them once {@link #BATCH} are held. */
  void record(List<AsyncQueueEntity.EventFinished> finished) {
    long now = clock.millis();
    finished.forEach(e -> held.put(e.requestId(),
        new EventQueueStore.Finished(e.requestId(), e.condition(), e.attempts(), now)));
    if (held.size() >= BATCH) {
      write();
    } else if (!held.isEmpty() && !timer.isActive()) {
      timer.start(OUTCOME_DELAY);
    }
  }

  /** Writes every outcome held, in one write. */
  void write() {
    timer.cancel();
    if (held.isEmpty()) {
      return;
    }
    List<EventQueueStore.Finished> batch = List.copyOf(held.values());
    held.clear();
    String function = functionName;
    store.recordOutcomes(function, partition, batch).whenComplete((v, failure) -> {
      if (failure != null) {
        LOG.debug("Could not record the outcomes of {} events of {} for lookups: {}", batch.size(), function,
            failure.toString());
      }
    });
  }

  /** How event {@code requestId} ended, while its outcome is held here; null otherwise. */
  EventQueueStore.Finished unwritten(String requestId) {
    return held.get(requestId);
  }
}
