package io.tributary.cluster.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RetryScheduleTest {

  private static final RetrySchedule AWS = new RetrySchedule(List.of(Duration.ofMinutes(1), Duration.ofMinutes(2)),
      Duration.ofSeconds(1), Duration.ofMinutes(5));

  @Test
  void functionErrorsWaitOneMinuteThenTwo() {
    assertEquals(Duration.ofMinutes(1), AWS.afterFunctionError(1));
    assertEquals(Duration.ofMinutes(2), AWS.afterFunctionError(2));
    assertEquals(Duration.ofMinutes(2), AWS.afterFunctionError(3), "the last delay repeats");
  }

  @Test
  void throttlesBackOffFromOneSecondDoublingToFiveMinutes() {
    assertEquals(Duration.ofSeconds(1), AWS.backoff(1));
    assertEquals(Duration.ofSeconds(2), AWS.backoff(2));
    assertEquals(Duration.ofSeconds(4), AWS.backoff(3));
    assertEquals(Duration.ofSeconds(256), AWS.backoff(9));
    assertEquals(Duration.ofMinutes(5), AWS.backoff(10));
    assertEquals(Duration.ofMinutes(5), AWS.backoff(1_000), "no overflow after many failures");
  }

  @Test
  void aScheduleWithoutDelaysOrWithAnInvertedBackoffIsRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> new RetrySchedule(List.of(), Duration.ofSeconds(1), Duration.ofMinutes(5)));
    assertThrows(IllegalArgumentException.class,
        () -> new RetrySchedule(List.of(Duration.ofMinutes(1)), Duration.ofSeconds(10), Duration.ofSeconds(1)));
  }
}
