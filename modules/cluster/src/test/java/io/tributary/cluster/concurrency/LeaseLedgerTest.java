package io.tributary.cluster.concurrency;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LeaseLedgerTest {

  private static final long TTL = 6_000;
  private static final long MARGIN = 2_000;
  private static final long T0 = 1_000;

  private static LeaseLedger ledger(int limit) {
    return new LeaseLedger(limit, TTL, MARGIN, false, T0);
  }

  @Test
  void slotsAreGrantedUpToTheLimitAcrossHolders() {
    LeaseLedger ledger = ledger(5);
    assertEquals(2, ledger.acquire("node-1", 0, 2, T0));
    assertEquals(2, ledger.acquire("node-2", 0, 2, T0));
    assertEquals(1, ledger.acquire("node-3", 0, 2, T0), "only one slot is left");
    assertEquals(0, ledger.acquire("node-4", 0, 1, T0));
    assertEquals(5, ledger.granted(T0));
  }

  @Test
  void aHolderThatShrinksFreesSlotsForOthers() {
    LeaseLedger ledger = ledger(3);
    assertEquals(3, ledger.acquire("node-1", 0, 3, T0));
    assertEquals(0, ledger.acquire("node-2", 0, 1, T0));
    assertEquals(1, ledger.acquire("node-1", 3, 1, T0 + 10));
    assertEquals(2, ledger.acquire("node-2", 0, 2, T0 + 20));
  }

  @Test
  void aHolderThatStopsRenewingKeepsItsSlotsUntilExpiryPlusMargin() {
    LeaseLedger ledger = ledger(2);
    assertEquals(2, ledger.acquire("partitioned", 0, 2, T0));
    assertEquals(0, ledger.acquire("node-2", 0, 1, T0 + TTL), "expired, but within the margin");
    assertEquals(0, ledger.acquire("node-2", 0, 1, T0 + TTL + MARGIN), "exactly at the margin");
    assertEquals(1, ledger.acquire("node-2", 0, 1, T0 + TTL + MARGIN + 1));
  }

  @Test
  void renewalStartsANewTerm() {
    LeaseLedger ledger = ledger(1);
    assertEquals(1, ledger.acquire("node-1", 0, 1, T0));
    assertEquals(1, ledger.acquire("node-1", 1, 1, T0 + TTL - 1));
    assertEquals(0, ledger.acquire("node-2", 0, 1, T0 + TTL + MARGIN + 1), "still held: renewed in time");
  }

  @Test
  void aLoweredLimitGrantsFewerAtTheNextRenewal() {
    LeaseLedger ledger = ledger(4);
    assertEquals(4, ledger.acquire("node-1", 0, 4, T0));
    ledger.setLimit(2);
    assertEquals(2, ledger.acquire("node-1", 4, 4, T0 + 100));
    ledger.setLimit(0);
    assertEquals(0, ledger.acquire("node-1", 2, 2, T0 + 200), "reserved concurrency 0 grants nothing");
    assertEquals(0, ledger.granted(T0 + 200));
  }

  @Test
  void aRestartedLedgerThatLearnedEveryHolderGrantsAtOnceAroundWhatTheyHold() {
    LeaseLedger restarted = new LeaseLedger(5, TTL, MARGIN, false, 1_000);
    restarted.restore("node-1", 3, 1_000);
    restarted.restore("node-2", 0, 1_000);
    assertEquals(2, restarted.acquire("node-2", 0, 4, 1_001), "3 of 5 are held by node-1");
    assertEquals(3, restarted.acquire("node-1", 3, 3, 1_002));
  }

  @Test
  void anUncertainLedgerConfirmsWhatHoldersHoldAndGrantsNothingNewUntilOldLeasesAreKnownOrGone() {
    LeaseLedger restarted = new LeaseLedger(5, TTL, MARGIN, true, 1_000);
    assertEquals(3, restarted.acquire("node-1", 3, 4, 1_100), "renewal of 3 held: confirmed, not grown");
    assertEquals(0, restarted.acquire("node-2", 0, 2, 1_200), "a new holder waits for the quiet period");
    assertEquals(2, restarted.acquire("node-2", 0, 2, 1_000 + TTL + MARGIN + 1));
    assertEquals(0, restarted.acquire("node-3", 0, 1, 1_000 + TTL + MARGIN + 2));
  }

  @Test
  void releaseFreesAtOnce() {
    LeaseLedger ledger = ledger(1);
    assertEquals(1, ledger.acquire("node-1", 0, 1, T0));
    ledger.release("node-1");
    assertEquals(1, ledger.acquire("node-2", 0, 1, T0 + 1));
  }
}
