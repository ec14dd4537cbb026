package io.tributary.cluster.invoke;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which nodes a Dispatcher forwards the invokes it has no slot for to. */
class DispatcherSpreadTest {

  private static Dispatcher.SpareSlots node(String url, int free) {
    return new Dispatcher.SpareSlots(url, free);
  }

  @Test
  void invokesTakeTheNodesInTurnUpToTheirFreeSlots() {
    assertEquals(List.of("a", "b", "a", "b", "a"),
        Dispatcher.spread(List.of(node("a", 3), node("b", 2)), 6));
  }

  @Test
  void noMoreTargetsThanInvokes() {
    assertEquals(List.of("a", "b"), Dispatcher.spread(List.of(node("a", 5), node("b", 5)), 2));
  }

  @Test
  void nodesWithoutFreeSlotsAreSkipped() {
    assertEquals(List.of("c", "c"), Dispatcher.spread(List.of(node("a", 0), node("c", 2), node("b", 0)), 3));
    assertEquals(List.of(), Dispatcher.spread(List.of(node("a", 0)), 3));
    assertEquals(List.of(), Dispatcher.spread(List.of(), 1));
  }
}
