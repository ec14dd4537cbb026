package io.tributary.cluster.async;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The queue's store in memory, answering at once, with the Cassandra adapter's rules: a client
 * token is given to the first request that claims it, payloads and outcomes are found by request id.
 * {@link #failWrites} makes every write fail, as a Cassandra that does not answer would.
 */
final class InMemoryEventQueueStore implements EventQueueStore {

  record Written(String functionName, int partition, List<Finished> finished) {}

  final Map<String, byte[]> payloads = new ConcurrentHashMap<>();
  final Map<String, Claim> tokens = new ConcurrentHashMap<>();
  final Map<Integer, Set<String>> queues = new ConcurrentHashMap<>();
  /** Every {@link #recordOutcomes} call, in order. */
  final List<Written> outcomeWrites = new CopyOnWriteArrayList<>();
  volatile boolean failWrites;

  private <T> CompletionStage<T> write(T value) {
    return failWrites ? CompletableFuture.failedFuture(new IllegalStateException("the store does not answer"))
        : CompletableFuture.completedFuture(value);
  }

  @Override
  public CompletionStage<Void> recordOutcomes(String functionName, int partition, List<Finished> finished) {
    if (!failWrites) {
      outcomeWrites.add(new Written(functionName, partition, List.copyOf(finished)));
    }
    return write(null);
  }

  @Override
  public CompletionStage<Optional<Outcome>> outcome(String functionName, int partition, String requestId,
                                                    Instant now) {
    return CompletableFuture.completedFuture(outcomeWrites.stream()
        .filter(w -> w.functionName().equals(functionName) && w.partition() == partition)
        .flatMap(w -> w.finished().stream())
        .filter(f -> f.requestId().equals(requestId))
        .map(f -> f.outcome(functionName))
        .findFirst());
  }

  @Override
  public CompletionStage<Optional<Claim>> claim(String functionName, String token, String requestId, Duration window,
                                                Duration timeout) {
    if (failWrites) {
      return write(null);
    }
    Claim held = tokens.putIfAbsent(functionName + "/" + token, new Claim(requestId, false));
    return CompletableFuture.completedFuture(Optional.ofNullable(held));
  }

  @Override
  public CompletionStage<Void> confirm(String functionName, String token, String requestId, Duration window,
                                       Duration timeout) {
    if (!failWrites) {
      tokens.computeIfPresent(functionName + "/" + token, (k, claim) -> new Claim(requestId, true));
    }
    return write(null);
  }

  @Override
  public CompletionStage<Void> putPayload(String requestId, byte[] payload, Duration timeout) {
    if (!failWrites) {
      payloads.put(requestId, payload);
    }
    return write(null);
  }

  @Override
  public CompletionStage<Optional<byte[]>> payload(String requestId) {
    return CompletableFuture.completedFuture(Optional.ofNullable(payloads.get(requestId)));
  }

  @Override
  public CompletionStage<Void> markQueued(int partition, String functionName) {
    if (!failWrites) {
      queues.computeIfAbsent(partition, p -> ConcurrentHashMap.newKeySet()).add(functionName);
    }
    return write(null);
  }

  @Override
  public CompletionStage<Void> markEmpty(int partition, String functionName) {
    if (!failWrites) {
      Set<String> listed = queues.get(partition);
      if (listed != null) {
        listed.remove(functionName);
      }
    }
    return write(null);
  }

  @Override
  public CompletionStage<List<String>> queued(int partition) {
    return CompletableFuture.completedFuture(List.copyOf(queues.getOrDefault(partition, Set.of())));
  }
}
