package io.tributary.cluster.provisioned;

import java.util.List;

/**
 * Where a qualifier's provisioned environments run, decided by every node alike from what each
 * sees of the cluster: the nodes that are up and reachable, in address order, each get
 * {@code requested / nodes} environments, and {@code requested % nodes} of them one more,
 * starting at a node chosen by the ARN's hash so small counts of different functions do not all
 * land on the first node. When a node is lost, the others' shares grow to cover it; while two
 * nodes see the cluster differently, a share may briefly run on both or neither.
 */
public final class Placement {

  private Placement() {}

  /** This node's share of {@code requested}; 0 when {@code self} is not among {@code nodes}. */
  public static int share(int requested, List<String> nodes, String self, String functionArn) {
    int index = nodes.indexOf(self);
    if (index < 0 || requested <= 0) {
      return 0;
    }
    int n = nodes.size();
    int first = Math.floorMod(functionArn.hashCode(), n);
    return requested / n + (Math.floorMod(index - first, n) < requested % n ? 1 : 0);
  }

  /** What the nodes report, against what was asked: AWS's Allocated count, Status and StatusReason. */
  public record Status(int allocated, String status, String reason) {

    /**
     * {@code READY} once the reachable nodes hold as many ready environments as asked; otherwise
     * {@code FAILED} if a start failed (its init error as the reason), else {@code IN_PROGRESS}.
     */
    public static Status of(int requested, List<Provisioner.Allocation> allocations) {
      int ready = allocations.stream().mapToInt(Provisioner.Allocation::ready).sum();
      String failure = allocations.stream().map(Provisioner.Allocation::failure)
          .filter(f -> f != null).findFirst().orElse(null);
      int allocated = Math.min(ready, requested);
      if (allocated >= requested) {
        return new Status(allocated, "READY", null);
      }
      return failure != null ? new Status(allocated, "FAILED", failure) : new Status(allocated, "IN_PROGRESS", null);
    }
  }
}
