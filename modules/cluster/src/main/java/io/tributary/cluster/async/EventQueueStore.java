package io.tributary.cluster.async;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * What the asynchronous queue keeps beside its journal: payloads (kept out of the journal, whose
 * writes stay small), which queues hold events (so a waker can resume them after a node's loss),
 * how events ended (for lookups by request id), and client tokens of idempotent invokes. The
 * queue owns this port; {@code store.CassandraEventQueueStore} is its adapter.
 */
public interface EventQueueStore {

  /** How an event ended. */
  record Outcome(String functionName, String condition, int attempts, Instant finishedAt) {}

  /** How one event of a queue partition ended, as that partition journaled it. */
  record Finished(String requestId, String condition, int attempts, long finishedAtMillis) {

    public Outcome outcome(String functionName) {
      return new Outcome(functionName, condition, attempts, Instant.ofEpochMilli(finishedAtMillis));
    }
  }

  /** A client token's row: the request id it was first given to, and whether that request was accepted. */
  record Claim(String requestId, boolean accepted) {}

  /** Records how events of {@code functionName}'s queue partition ended, in one write however many. */
  CompletionStage<Void> recordOutcomes(String functionName, int partition, List<Finished> finished);

  /** How event {@code requestId} of a queue partition ended, if within the retention as of {@code now}. */
  CompletionStage<Optional<Outcome>> outcome(String functionName, int partition, String requestId, Instant now);

  /**
   * Gives {@code token} of {@code functionName} to {@code requestId} for {@code window}, unless it is
   * already given: empty when this request has it, else the claim that holds it.
   */
  CompletionStage<Optional<Claim>> claim(String functionName, String token, String requestId, Duration window,
                                         Duration timeout);

  /** The request holding {@code token} was accepted; its claim lives {@code window} from now. */
  CompletionStage<Void> confirm(String functionName, String token, String requestId, Duration window,
                                Duration timeout);

  /** Stores an accepted event's payload; fails after {@code timeout}, so that a refusal comes fast. */
  CompletionStage<Void> putPayload(String requestId, byte[] payload, Duration timeout);

  /** The payload, or empty if it expired (or was never written). */
  CompletionStage<Optional<byte[]>> payload(String requestId);

  /** {@code functionName}'s queue in {@code partition} may hold events. */
  CompletionStage<Void> markQueued(int partition, String functionName);

  /** {@code functionName}'s queue in {@code partition} is empty. */
  CompletionStage<Void> markEmpty(int partition, String functionName);

  /** The functions whose queue in {@code partition} may hold events. */
  CompletionStage<List<String>> queued(int partition);
}
