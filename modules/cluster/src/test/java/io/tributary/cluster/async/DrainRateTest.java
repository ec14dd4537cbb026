package io.tributary.cluster.async;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class DrainRateTest {

  @Test
  void countsTheLastTenWholeSecondsAndNotTheOneUnderWay() {
    DrainRate rate = new DrainRate();
    long t0 = 1_000_000_000L;
    for (int s = 0; s < 12; s++) {
      rate.add(t0 + s * 1000L + 500, 3);
    }
    // At second 12: seconds 2..11 are the window, 10 of them at 3 each.
    assertEquals(30, rate.inWindow(t0 + 12_000 + 10));
    // Within second 11, that second is not counted yet: seconds 1..10.
    assertEquals(30, rate.inWindow(t0 + 11_000 + 999));
  }

  @Test
  void forgetsWhatIsOlderThanTheWindowEvenIfNothingCameSince() {
    DrainRate rate = new DrainRate();
    long t0 = 5_000L;
    rate.add(t0, 7);
    assertEquals(7, rate.inWindow(t0 + 1_000));
    assertEquals(7, rate.inWindow(t0 + 10_999));
    assertEquals(0, rate.inWindow(t0 + 11_000));
    // A bucket reused for a later second starts from zero.
    rate.add(t0 + 11_000, 2);
    assertEquals(2, rate.inWindow(t0 + 12_000));
  }
}
