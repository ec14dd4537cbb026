package io.tributary.cluster.invoke;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A node's lease of concurrency slots, taken and given back on callers' threads. */
class DispatcherLeaseTest {

  private static final long NOW = 1_000_000_000L;

  private static Dispatcher.Lease granted(int slots) {
    Dispatcher.Lease lease = new Dispatcher.Lease(() -> { });
    lease.grant(slots, NOW + 10_000_000_000L);
    return lease;
  }

  @Test
  void takesUpToTheSlotsHeldAndAgainOnceOneIsGivenBack() {
    Dispatcher.Lease lease = granted(2);
    assertTrue(lease.tryTake(NOW));
    assertTrue(lease.tryTake(NOW));
    assertFalse(lease.tryTake(NOW), "a third invoke on two slots");
    lease.release();
    assertTrue(lease.tryTake(NOW));
    assertEquals(2, lease.inUse());
  }

  @Test
  void aReleaseWakesTheActorOnlyWhileDeliveriesAreQueuedAndOnceUntilItIsHandled() {
    AtomicInteger signals = new AtomicInteger();
    Dispatcher.Lease lease = new Dispatcher.Lease(signals::incrementAndGet);
    lease.grant(2, NOW + 10_000_000_000L);
    assertTrue(lease.tryTake(NOW));
    assertTrue(lease.tryTake(NOW));
    lease.release();
    assertEquals(0, signals.get(), "nothing queued: a sync invoke's release costs no message");
    assertTrue(lease.tryTake(NOW));
    lease.enqueue(new Dispatcher.Ready(null, null, null));
    lease.release();
    lease.release();
    assertEquals(1, signals.get(), "a burst of releases sends one message");
    lease.signalHandled();
    assertTrue(lease.tryTake(NOW));
    lease.release();
    assertEquals(2, signals.get(), "once handled, the next release signals again");
  }

  @Test
  void deliveriesWaitUntilTheNodesWaitingPayloadsReachTheLimitButALeaseAlwaysKeepsOne() {
    java.util.concurrent.atomic.AtomicLong waiting = new java.util.concurrent.atomic.AtomicLong();
    Dispatcher.Lease one = new Dispatcher.Lease(() -> { }, waiting);
    Dispatcher.Lease other = new Dispatcher.Lease(() -> { }, waiting);
    assertTrue(one.enqueue(delivery(600), 1000));
    assertFalse(one.enqueue(delivery(600), 1000), "past the node's limit");
    assertTrue(other.enqueue(delivery(600), 1000), "the first of a lease waits whatever the others hold");
    assertEquals(1200, waiting.get());
    one.poll();
    assertTrue(one.enqueue(delivery(300), 1000), "room again once one started");
    assertEquals(2, one.drain().size() + other.forwardable(5).size());
    assertEquals(0, waiting.get(), "every way out of the queue gives its bytes back");
  }

  private static Dispatcher.Ready delivery(int bytes) {
    return new Dispatcher.Ready(new Dispatcher.Invoke("f", null, new io.tributary.api.Invocation("id",
        "arn", new byte[bytes], null, null, false), false, false, Dispatcher.Queued.event(0, 1000), null), null, null);
  }

  @Test
  void noSlotOfAnExpiredOrEmptyLease() {
    assertFalse(granted(5).tryTake(NOW + 10_000_000_000L), "expired");
    assertFalse(new Dispatcher.Lease(() -> { }).tryTake(NOW), "never granted");
    Dispatcher.Lease shrunk = granted(3);
    assertTrue(shrunk.tryTake(NOW));
    shrunk.grant(1, NOW + 10_000_000_000L);
    assertFalse(shrunk.tryTake(NOW), "shrunk to what is in use");
  }

  @Test
  void thePeakIsTheMostInUseSinceItWasLastTaken() {
    Dispatcher.Lease lease = granted(4);
    lease.tryTake(NOW);
    lease.tryTake(NOW);
    lease.tryTake(NOW);
    lease.release();
    lease.release();
    assertEquals(3, lease.takePeak());
    assertEquals(1, lease.takePeak(), "the next period starts at what is in use");
  }

  @Test
  void threadsRacingForSlotsNeverHoldMoreThanTheLease() throws InterruptedException {
    Dispatcher.Lease lease = granted(3);
    AtomicInteger running = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(8);
    for (int t = 0; t < 8; t++) {
      new Thread(() -> {
        for (int i = 0; i < 20_000; i++) {
          if (lease.tryTake(NOW)) {
            most.accumulateAndGet(running.incrementAndGet(), Math::max);
            running.decrementAndGet();
            lease.release();
          }
        }
        done.countDown();
      }).start();
    }
    done.await();
    assertTrue(most.get() <= 3, "at most 3 at once, saw " + most.get());
    assertEquals(0, lease.inUse());
  }
}
