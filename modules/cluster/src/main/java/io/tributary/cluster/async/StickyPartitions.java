package io.tributary.cluster.async;

import io.tributary.api.Invocation;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Which queue partition a node's next Event invoke of a function goes to, and a request id that
 * lands there. A node sends {@code run} accepts in a row to one partition, then moves to the next:
 * accepts made at the same moment then share their partition's group commits (one journal row for
 * several events) instead of each taking a partition, and so a write, of its own; over time every
 * partition gets its share. {@code run} is a partition's in-flight limit, so a burst never waits on
 * one partition while others could deliver it.
 *
 * <p>An event's partition is still the hash of its request id (lookups and repeats of a client
 * token find it by the id alone): the id is drawn until it hashes to the partition wanted.
 */
public final class StickyPartitions {

  /** A bound on draws: with n partitions, 64·n draws all missing happens with probability below e^-64. */
  private static final int DRAWS_PER_PARTITION = 64;
  private static final char[] HEX_DIGITS = "0123456789abcdef".toCharArray();
  private final int partitions;
  private final int run;
  private final Map<String, AtomicLong> next = new ConcurrentHashMap<>();

  public StickyPartitions(int partitions, int run) {
    if (partitions < 1 || run < 1) {
      throw new IllegalArgumentException("partitions and run must be positive: " + partitions + ", " + run);
    }
    this.partitions = partitions;
    this.run = run;
  }

  /** The partition of request id {@code requestId}. */
  public int partitionOf(String requestId) {
    return Math.floorMod(requestId.hashCode(), partitions);
  }

  /**
   * The partition this node's next accept of {@code functionName} goes to, passing over those
   * {@code usable} refuses (they did not answer lately) unless it refuses them all.
   */
  int nextPartition(String functionName, java.util.function.IntPredicate usable) {
    int first = nextPartition(functionName);
    for (int k = 0; k < partitions; k++) {
      int p = (first + k) % partitions;
      if (usable.test(p)) {
        return p;
      }
    }
    return first;
  }

  /** The partition this node's next accept of {@code functionName} goes to. */
  int nextPartition(String functionName) {
    // Each node starts at a random place, so that nodes do not all begin on the same partition.
    long n = next.computeIfAbsent(functionName,
        f -> new AtomicLong(ThreadLocalRandom.current().nextLong(partitions) * run)).getAndIncrement();
    return (int) Math.floorMod(n / run, (long) partitions);
  }

  /**
   * A fresh request id (a random version 4 UUID, as AWS's are) on {@code functionName}'s next
   * partition: a random id whose last hex digit is then chosen to land there. That digit counts once
   * in the id's hash, and '0' to '9' are ten consecutive values, so every partition of up to ten is
   * reached; with more partitions, ids are drawn until one of the sixteen digits lands.
   */
  public String requestId(String functionName) {
    return requestIdOn(nextPartition(functionName));
  }

  /** A fresh request id on partition {@code wanted} ({@link #requestId}). */
  String requestIdOn(int wanted) {
    for (int draw = 1; ; draw++) {
      String id = Invocation.newRequestId();
      int hash = id.hashCode();
      char last = id.charAt(id.length() - 1);
      for (char digit : HEX_DIGITS) {
        if (Math.floorMod(hash - last + digit, partitions) == wanted) {
          return id.substring(0, id.length() - 1) + digit;
        }
      }
      if (draw >= DRAWS_PER_PARTITION * partitions) {
        return id;
      }
    }
  }

  /** Forgets {@code functionName} (deleted). */
  public void forget(String functionName) {
    next.remove(functionName);
  }
}
