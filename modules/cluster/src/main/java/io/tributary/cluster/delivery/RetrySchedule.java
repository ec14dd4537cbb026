package io.tributary.cluster.delivery;

import java.time.Duration;
import java.util.List;

/**
 * When an asynchronous event is tried again, as Lambda does it: after a function error, the
 * configured delays in turn (AWS: 1 minute, then 2); after a throttle or a platform error,
 * a backoff that doubles from {@code backoffMin} to {@code backoffMax} (AWS: 1 second to 5
 * minutes) for as long as the event is younger than its maximum age.
 */
public record RetrySchedule(List<Duration> functionErrorDelays, Duration backoffMin, Duration backoffMax) {

  public RetrySchedule {
    functionErrorDelays = List.copyOf(functionErrorDelays);
    if (functionErrorDelays.isEmpty()) {
      throw new IllegalArgumentException("at least one function-error delay is needed");
    }
    if (backoffMin.isNegative() || backoffMin.isZero() || backoffMax.compareTo(backoffMin) < 0) {
      throw new IllegalArgumentException("the backoff needs 0 < min <= max, got " + backoffMin + " and " + backoffMax);
    }
  }

  /** The wait before retry {@code retry} (1 for the first) after a function error. */
  public Duration afterFunctionError(int retry) {
    return functionErrorDelays.get(Math.min(Math.max(retry, 1), functionErrorDelays.size()) - 1);
  }

  /** The wait after the {@code failures}-th throttle or platform error in a row (1 for the first). */
  public Duration backoff(int failures) {
    int doublings = Math.min(Math.max(failures, 1) - 1, 30);
    Duration delay = backoffMin.multipliedBy(1L << doublings);
    return delay.compareTo(backoffMax) > 0 ? backoffMax : delay;
  }
}
