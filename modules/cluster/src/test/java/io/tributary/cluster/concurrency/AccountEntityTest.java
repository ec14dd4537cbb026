package io.tributary.cluster.concurrency;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tributary.cluster.ManualClock;
import io.tributary.cluster.Reply;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The account's unreserved pool as the Dispatchers lease it: its size, its start, and its time. */
class AccountEntityTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Duration TTL = Duration.ofSeconds(6);
  private static final Duration MARGIN = Duration.ofSeconds(2);
  private static final Duration NO_REFRESH = Duration.ofHours(1);

  private final ManualClock clock = new ManualClock(Instant.parse("2024-05-01T12:00:00Z"));
  private final TestProbe<Reply<Integer>> probe = testKit.createTestProbe();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private ActorRef<AccountEntity.Command> start(int accountLimit, Duration refresh,
      Supplier<CompletionStage<Integer>> reservedTotal, LeaseHolders holders) {
    return testKit.spawn(AccountEntity.create(new AccountEntity.Settings(accountLimit, TTL, MARGIN, refresh),
        reservedTotal, holders, clock));
  }

  private static LeaseHolders holding(Map<String, Integer> slots, boolean complete) {
    return (key, timeout) -> CompletableFuture.completedFuture(new LeaseHolders.Holdings(slots, complete));
  }

  private int acquire(ActorRef<AccountEntity.Command> account, String holder, int held, int wanted) {
    account.tell(new AccountEntity.AcquireLease(holder, held, wanted, probe.getRef()));
    return probe.receiveMessage().getOrThrow();
  }

  @Test
  void requestsWaitUntilTheHoldersAndThePoolSizeAreKnownAndAreThenAnsweredInOrder() {
    CompletableFuture<Integer> reserved = new CompletableFuture<>();
    CompletableFuture<LeaseHolders.Holdings> holdings = new CompletableFuture<>();
    ActorRef<AccountEntity.Command> account = start(10, NO_REFRESH, () -> reserved, (key, timeout) -> holdings);
    account.tell(new AccountEntity.AcquireLease("node-a", 0, 4, probe.getRef()));
    account.tell(new AccountEntity.AcquireLease("node-b", 0, 10, probe.getRef()));
    reserved.complete(4);
    probe.expectNoMessage(Duration.ofMillis(200));
    holdings.complete(new LeaseHolders.Holdings(Map.of(), true));
    assertEquals(4, probe.receiveMessage().getOrThrow());
    assertEquals(2, probe.receiveMessage().getOrThrow(), "the account limit less 4 reserved, less node-a's 4");
  }

  @Test
  void leasesLearnedFromTheDispatchersCountAgainstThePool() {
    ActorRef<AccountEntity.Command> account = start(10, NO_REFRESH, () -> CompletableFuture.completedFuture(0),
        holding(Map.of("node-a", 5), true));
    assertEquals(5, acquire(account, "node-b", 0, 10));
  }

  @Test
  void whenADispatcherDidNotAnswerNothingNewIsGrantedUntilEveryLeaseItMayHoldHasExpired() {
    ActorRef<AccountEntity.Command> account = start(10, NO_REFRESH, () -> CompletableFuture.completedFuture(0),
        holding(Map.of("node-a", 2), false));
    assertEquals(2, acquire(account, "node-a", 2, 5), "what a holder holds is confirmed, no more");
    assertEquals(0, acquire(account, "node-b", 0, 3));
    clock.advance(TTL.plus(MARGIN).minusMillis(1));
    assertEquals(0, acquire(account, "node-b", 0, 3));
    clock.advance(Duration.ofMillis(1));
    assertEquals(3, acquire(account, "node-b", 0, 3));
  }

  @Test
  void aLeaseNotRenewedIsFreedAfterItsTtlAndMargin() {
    ActorRef<AccountEntity.Command> account = start(4, NO_REFRESH, () -> CompletableFuture.completedFuture(0),
        holding(Map.of(), true));
    assertEquals(4, acquire(account, "node-a", 0, 4));
    assertEquals(0, acquire(account, "node-b", 0, 2));
    clock.advance(TTL.plus(MARGIN));
    assertEquals(0, acquire(account, "node-b", 0, 2));
    clock.advance(Duration.ofMillis(1));
    assertEquals(2, acquire(account, "node-b", 0, 2));
  }

  @Test
  void thePoolShrinksWhenFunctionsReserveConcurrency() {
    AtomicInteger reserved = new AtomicInteger(0);
    ActorRef<AccountEntity.Command> account = start(10, Duration.ofMillis(50),
        () -> CompletableFuture.completedFuture(reserved.get()), holding(Map.of(), true));
    assertEquals(10, acquire(account, "node-a", 0, 10));
    reserved.set(8);
    probe.awaitAssert(() -> {
      assertEquals(2, acquire(account, "node-a", 10, 10));
      return null;
    });
  }

  @Test
  void afterAFailureItRestartsAndLearnsTheLeasesAgainBeforeItGrants() {
    AtomicInteger reads = new AtomicInteger();
    AtomicInteger asked = new AtomicInteger();
    Supplier<CompletionStage<Integer>> reservedTotal = () -> {
      if (reads.incrementAndGet() == 2) {
        throw new IllegalStateException("registry read failed in the caller's thread");
      }
      return CompletableFuture.completedFuture(0);
    };
    LeaseHolders holders = (key, timeout) -> CompletableFuture.completedFuture(asked.incrementAndGet() == 1
        ? new LeaseHolders.Holdings(Map.of(), true)
        : new LeaseHolders.Holdings(Map.of("node-a", 3), true));
    ActorRef<AccountEntity.Command> account = start(10, Duration.ofMillis(50), reservedTotal, holders);
    probe.awaitAssert(() -> {
      assertEquals(2, asked.get());
      return null;
    });
    assertEquals(7, acquire(account, "node-b", 0, 10), "node-a's 3 slots, learned again after the restart");
  }
}
