package io.tributary.cluster.async;

/**
 * How many events a partition finished in the last {@link #WINDOW_SECONDS} whole seconds, counted
 * in one-second buckets: the queue view's drain rate. The second under way is left out, so a rate
 * read early in a second is not low.
 */
final class DrainRate {

  static final int WINDOW_SECONDS = 10;
  private final long[] seconds = new long[WINDOW_SECONDS + 1];
  private final long[] counts = new long[WINDOW_SECONDS + 1];

  void add(long nowMillis, int events) {
    long second = Math.floorDiv(nowMillis, 1000);
    int i = (int) Math.floorMod(second, (long) seconds.length);
    if (seconds[i] != second) {
      seconds[i] = second;
      counts[i] = 0;
    }
    counts[i] += events;
  }

  /** Events finished in the {@link #WINDOW_SECONDS} whole seconds before the one {@code nowMillis} is in. */
  long inWindow(long nowMillis) {
    long now = Math.floorDiv(nowMillis, 1000);
    long sum = 0;
    for (int i = 0; i < seconds.length; i++) {
      if (seconds[i] < now && seconds[i] >= now - WINDOW_SECONDS) {
        sum += counts[i];
      }
    }
    return sum;
  }
}
