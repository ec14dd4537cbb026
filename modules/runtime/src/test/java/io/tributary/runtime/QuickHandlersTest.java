package io.tributary.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rules that decide which in-process-shared invocations run on the node's dispatcher. */
class QuickHandlersTest {

  private final List<Runnable> ran = new ArrayList<>();
  private final QuickHandlers quick = new QuickHandlers(ran::add, 2);

  @Test
  void anEnvironmentProvesQuickAfterItsLastInvocationsAllWere() {
    int streak = 0;
    for (int i = 0; i < QuickHandlers.PROVEN - 1; i++) {
      streak = QuickHandlers.streak(streak, QuickHandlers.QUICK_NANOS - 1);
    }
    assertFalse(quick.tryTake(streak), "one short of proven");
    streak = QuickHandlers.streak(streak, 10_000);
    assertEquals(QuickHandlers.PROVEN, streak);
    assertEquals(QuickHandlers.PROVEN, QuickHandlers.streak(streak, 10_000), "the streak stops counting once proven");
    assertTrue(quick.tryTake(streak));
  }

  @Test
  void oneSlowInvocationStartsTheProofOver() {
    assertEquals(0, QuickHandlers.streak(QuickHandlers.PROVEN, QuickHandlers.QUICK_NANOS));
    assertEquals(0, QuickHandlers.streak(QuickHandlers.PROVEN, 5_000_000_000L));
  }

  @Test
  void atMostSlotsInvocationsHoldTheDispatcherAtOnce() {
    assertTrue(quick.tryTake(QuickHandlers.PROVEN));
    assertTrue(quick.tryTake(QuickHandlers.PROVEN));
    assertFalse(quick.tryTake(QuickHandlers.PROVEN), "both slots held");
    quick.release();
    assertEquals(1, quick.free());
    assertTrue(quick.tryTake(QuickHandlers.PROVEN));
    assertEquals(0, quick.free());
  }

  @Test
  void noSlotsKeepsEveryHandlerOnItsOwnThread() {
    assertFalse(new QuickHandlers(ran::add, 0).tryTake(QuickHandlers.PROVEN));
  }

  @Test
  void handlersNeverHoldTheDispatchersLastThread() {
    assertEquals(1, slots(2, 2), "a 2-core node's dispatcher: two threads, one left to HTTP and the actors");
    assertEquals(0, slots(1, 2), "a single thread is never given to a handler");
    assertEquals(2, slots(8, 2), "Pekko's default of 8 threads leaves both slots");
    assertEquals(0, slots(8, 0));
  }

  /** The slots in effect with {@code in-process-dispatcher-slots = slots} on a dispatcher of {@code threads}. */
  private static int slots(int threads, int slots) {
    Config root = ConfigFactory.parseString("pekko.actor.default-dispatcher.fork-join-executor {"
        + " parallelism-min = " + threads + ", parallelism-max = " + threads + " }\n"
        + "tributary.runtime.in-process-dispatcher-slots = " + slots).withFallback(ConfigFactory.load());
    return RuntimeSettings.fromConfig(root).inProcessDispatcherSlots();
  }

  @Test
  void runsOnTheDispatcherItWasGiven() {
    Runnable task = () -> { };
    quick.execute(task);
    assertEquals(List.of(task), ran);
  }
}
