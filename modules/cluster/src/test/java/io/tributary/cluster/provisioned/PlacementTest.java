package io.tributary.cluster.provisioned;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class PlacementTest {

  private static final List<String> THREE = List.of("pekko://t@10.0.0.1:25520", "pekko://t@10.0.0.2:25520",
      "pekko://t@10.0.0.3:25520");
  private static final String ARN = "arn:aws:lambda:us-east-1:000000000000:function:orders:live";

  private static int[] shares(int requested, List<String> nodes, String arn) {
    return nodes.stream().mapToInt(n -> Placement.share(requested, nodes, n, arn)).toArray();
  }

  @Test
  void everyRequestedEnvironmentHasExactlyOneNodeAndNoNodeHasTwoMoreThanAnother() {
    for (int requested = 1; requested <= 20; requested++) {
      for (String arn : List.of(ARN, "arn:aws:lambda:us-east-1:000000000000:function:b:3", "x")) {
        int[] shares = shares(requested, THREE, arn);
        assertEquals(requested, shares[0] + shares[1] + shares[2]);
        int min = Math.min(shares[0], Math.min(shares[1], shares[2]));
        int max = Math.max(shares[0], Math.max(shares[1], shares[2]));
        assertTrue(max - min <= 1, requested + " " + arn);
      }
    }
  }

  @Test
  void whenANodeIsLostTheOthersCoverItsShare() {
    List<String> two = THREE.subList(0, 2);
    int[] shares = shares(3, two, ARN);
    assertEquals(3, shares[0] + shares[1]);
    assertEquals(0, Placement.share(3, two, THREE.get(2), ARN), "a node that is not up and reachable runs none");
  }

  @Test
  void singleEnvironmentsOfDifferentFunctionsDoNotAllLandOnTheFirstNode() {
    long onFirst = java.util.stream.IntStream.range(0, 30)
        .filter(i -> Placement.share(1, THREE, THREE.get(0), "arn:function:f" + i + ":live") == 1).count();
    assertTrue(onFirst < 30, "every one of 30 functions on the first node");
  }

  @Test
  void statusIsReadyOnceAllAreReadyFailedWithTheInitErrorOtherwiseInProgress() {
    var ready = List.of(new Provisioner.Allocation("a", 2, null), new Provisioner.Allocation("b", 1, null));
    assertEquals(new Placement.Status(3, "READY", null), Placement.Status.of(3, ready));
    assertEquals(new Placement.Status(2, "IN_PROGRESS", null),
        Placement.Status.of(3, List.of(new Provisioner.Allocation("a", 2, null))));
    assertEquals(new Placement.Status(0, "FAILED", "Runtime.ExitError: boom"),
        Placement.Status.of(1, List.of(new Provisioner.Allocation("a", 0, "Runtime.ExitError: boom"))));
    assertEquals(new Placement.Status(2, "READY", null), Placement.Status.of(2, ready),
        "more ready than asked (a share moving between nodes) is still what was asked");
  }
}
