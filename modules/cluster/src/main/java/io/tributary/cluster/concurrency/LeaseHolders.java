package io.tributary.cluster.concurrency;

import io.tributary.cluster.ClusterMessage;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Who holds slots of a lease: the first question of an entity that grants leases (a FunctionEntity
 * for reserved concurrency, the AccountEntity for the unreserved pool) and may have been restarted
 * or moved while they were out. The granting entities own this port; every node's Dispatcher
 * answers it ({@code Dispatcher.holdings}), wired in by the server.
 */
@FunctionalInterface
public interface LeaseHolders {

  /** Nobody holds anything: for an entity alone (tests, a single node before its Dispatcher starts). */
  LeaseHolders NONE = (key, timeout) -> CompletableFuture.completedFuture(new Holdings(Map.of(), true));

  /** One holder's answer: how many slots of the lease it holds. */
  record Holding(String holder, int slots) implements ClusterMessage {}

  /** What the holders of the cluster hold of one lease; {@code complete} is false if one did not answer. */
  record Holdings(Map<String, Integer> slots, boolean complete) {}

  /** Asks every holder what it holds of lease {@code key}; never fails (a failure is an incomplete answer). */
  CompletionStage<Holdings> of(String key, Duration timeout);
}
