package io.tributary.cluster.concurrency;

import java.util.HashMap;
import java.util.Map;

/**
 * Who holds how many of a limited number of concurrency slots, as expiring leases. The owner of a
 * limit (a FunctionEntity for reserved concurrency) keeps one in memory; each node's Dispatcher
 * holds a lease and renews it before it expires.
 *
 * <p>The rules that keep the limit exact without a shared clock:
 * <ul>
 *   <li>a holder treats its lease as valid for {@code ttl} from when it <em>sent</em> the request,
 *       which ends before the ledger's expiry, measured from when it <em>granted</em> it;
 *   <li>the ledger frees a lease's slots only {@code margin} after its own expiry, so a holder that
 *       stopped renewing (partitioned, dead, paused) can never overlap with a new grant;
 *   <li>a ledger that starts after a restart or move first learns the leases out there from the
 *       holders ({@link #restore}); if some holder could not be asked, it is {@code uncertain}: for
 *       {@code ttl + margin} it only confirms what holders say they hold and grants nothing new, so
 *       every old lease has either been renewed into it or has expired.
 * </ul>
 */
public final class LeaseLedger {

  private record Lease(int slots, long expiresAt) {}

  private final long ttlMillis;
  private final long marginMillis;
  private final long quietUntil;
  private final Map<String, Lease> leases = new HashMap<>();
  private int limit;

  public LeaseLedger(int limit, long ttlMillis, long marginMillis, boolean uncertain, long now) {
    this.limit = limit;
    this.ttlMillis = ttlMillis;
    this.marginMillis = marginMillis;
    this.quietUntil = uncertain ? now + ttlMillis + marginMillis : now;
  }

  /** Records a lease a holder reported holding, as of {@code now}. */
  public void restore(String holder, int slots, long now) {
    if (slots > 0) {
      leases.put(holder, new Lease(slots, now + ttlMillis));
    }
  }

  public void setLimit(int limit) {
    this.limit = limit;
  }

  /**
   * Sets {@code holder}'s lease to as many of {@code wanted} slots as the limit allows and starts a
   * new term; {@code held} is what the holder believes it holds (it restores the ledger after a
   * restart). Returns the slots granted: fewer than wanted means the rest would exceed the limit.
   */
  public int acquire(String holder, int held, int wanted, long now) {
    expire(now);
    Lease current = leases.get(holder);
    int mine = current == null ? 0 : current.slots();
    int room = limit - inUseBy(holder);
    int granted = now < quietUntil
        ? Math.min(Math.min(wanted, Math.max(mine, held)), room)
        : Math.min(wanted, room);
    granted = Math.max(0, granted);
    if (granted == 0) {
      leases.remove(holder);
    } else {
      leases.put(holder, new Lease(granted, now + ttlMillis));
    }
    return granted;
  }

  /** Gives a holder's slots back at once (a node leaving cleanly). */
  public void release(String holder) {
    leases.remove(holder);
  }

  /** Slots counted against the limit at {@code now}, expired leases included until their margin passes. */
  public int granted(long now) {
    expire(now);
    return inUseBy(null);
  }

  private int inUseBy(String except) {
    int sum = 0;
    for (Map.Entry<String, Lease> e : leases.entrySet()) {
      if (!e.getKey().equals(except)) {
        sum += e.getValue().slots();
      }
    }
    return sum;
  }

  private void expire(long now) {
    leases.values().removeIf(lease -> lease.expiresAt() + marginMillis < now);
  }
}
