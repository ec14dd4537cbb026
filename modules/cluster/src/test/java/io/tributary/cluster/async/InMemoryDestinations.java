package io.tributary.cluster.async;

import io.tributary.api.Destination;
import io.tributary.api.LambdaException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Destinations in memory: every target is reachable except those starting with {@code unreachable:}
 * (which the resolver refuses, as a node without that connector does); a target takes each message
 * it is sent unless {@link #failNext} lined up a failure for it.
 */
final class InMemoryDestinations implements Destination.Resolver {

  record Received(String target, Destination.Message message) {}

  final List<Received> received = new CopyOnWriteArrayList<>();
  /** The target of every send, accepted or not. */
  final List<String> tried = new CopyOnWriteArrayList<>();
  private final Map<String, Deque<RuntimeException>> failures = new ConcurrentHashMap<>();

  /** The next sends to {@code target} fail with {@code failures}, in order. */
  void failNext(String target, RuntimeException... failures) {
    Deque<RuntimeException> queue = this.failures.computeIfAbsent(target, t -> new ArrayDeque<>());
    synchronized (queue) {
      queue.addAll(List.of(failures));
    }
  }

  List<Destination.Message> to(String target) {
    return received.stream().filter(r -> r.target().equals(target)).map(Received::message).toList();
  }

  @Override
  public Destination resolve(String target) {
    if (target.startsWith("unreachable:")) {
      throw LambdaException.invalidParameter("The destination " + target + " is not supported");
    }
    return message -> {
      tried.add(target);
      Deque<RuntimeException> queue = failures.get(target);
      RuntimeException failure = null;
      if (queue != null) {
        synchronized (queue) {
          failure = queue.poll();
        }
      }
      if (failure != null) {
        return CompletableFuture.failedFuture(failure);
      }
      received.add(new Received(target, message));
      return CompletableFuture.completedFuture(null);
    };
  }
}
