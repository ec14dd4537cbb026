package io.tributary.cluster.concurrency;

import io.tributary.cluster.ClusterMessage;
import io.tributary.cluster.Reply;
import io.tributary.cluster.Restarts;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * The account's unreserved concurrency pool: the account limit less every function's reserved
 * concurrency (or, for a function without, its provisioned concurrency, held apart on its nodes), leased to the nodes' Dispatchers like a function's reserved slots (see
 * {@link LeaseLedger}). One sharded entity per account. It persists nothing: the reserved total is
 * read from the function registry (at start and every {@code refresh}), and the leases are
 * learned from the Dispatchers when it starts. It grants nothing until it knows both: requests
 * that come earlier wait, and are answered in order once it does.
 *
 * <p>A failure restarts it with backoff, which is the same as a start on another node: it learns
 * the leases again from the Dispatchers (a question to every node, hence the backoff) and reads the
 * pool's size again; requests it held are not answered and the Dispatchers ask again. Lease terms
 * are read from the injected {@link Clock}.
 */
public final class AccountEntity extends AbstractBehavior<AccountEntity.Command> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "Account");

  /** The Dispatchers' key for this lease; '$' cannot start a function name. */
  public static final String POOL = "$account";

  public sealed interface Command extends ClusterMessage {}

  public record AcquireLease(String holder, int held, int wanted, ActorRef<Reply<Integer>> replyTo)
      implements Command {}

  private record Learned(LeaseHolders.Holdings holdings) implements Command {}

  private record ReservedTotal(int total) implements Command {}

  private enum Refresh implements Command { INSTANCE }

  public record Settings(int accountLimit, Duration leaseTtl, Duration leaseMargin, Duration refresh) {}

  private static final Duration LEARN_TIMEOUT = Duration.ofSeconds(2);

  private final Settings settings;
  private final Supplier<CompletionStage<Integer>> reservedTotal;
  private final Clock clock;
  private final List<AcquireLease> stashed = new ArrayList<>();
  private LeaseLedger ledger;
  private int reserved = -1;
  private LeaseHolders.Holdings learned;

  public static void init(ClusterSharding sharding, Settings settings, Supplier<CompletionStage<Integer>> reservedTotal,
                          LeaseHolders holders, Clock clock) {
    sharding.init(Entity.of(TYPE_KEY, ctx -> create(settings, reservedTotal, holders, clock)));
  }

  static Behavior<Command> create(Settings settings, Supplier<CompletionStage<Integer>> reservedTotal,
                                  LeaseHolders holders, Clock clock) {
    Behavior<Command> account = Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Refresh.INSTANCE, settings.refresh());
      return new AccountEntity(ctx, settings, reservedTotal, holders, clock);
    }));
    return Behaviors.supervise(account).onFailure(Restarts.BACKOFF);
  }

  private AccountEntity(ActorContext<Command> ctx, Settings settings, Supplier<CompletionStage<Integer>> reservedTotal,
                        LeaseHolders holders, Clock clock) {
    super(ctx);
    this.settings = settings;
    this.reservedTotal = reservedTotal;
    this.clock = clock;
    ctx.pipeToSelf(holders.of(POOL, LEARN_TIMEOUT), (h, failure) -> new Learned(h));
    refresh();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(AcquireLease.class, this::onAcquire)
        .onMessage(Learned.class, this::onLearned)
        .onMessage(ReservedTotal.class, this::onReservedTotal)
        .onMessageEquals(Refresh.INSTANCE, () -> {
          refresh();
          return this;
        })
        .build();
  }

  private void refresh() {
    getContext().pipeToSelf(reservedTotal.get(), (total, failure) -> new ReservedTotal(failure == null ? total : -1));
  }

  private Behavior<Command> onAcquire(AcquireLease cmd) {
    if (ledger == null) {
      stashed.add(cmd);
      return this;
    }
    cmd.replyTo().tell(Reply.ok(ledger.acquire(cmd.holder(), cmd.held(), cmd.wanted(), clock.millis())));
    return this;
  }

  private Behavior<Command> onLearned(Learned msg) {
    learned = msg.holdings();
    if (!learned.complete()) {
      getContext().getLog().info("Not every node answered for the account's concurrency leases; no new slots are"
          + " granted for {} s", settings.leaseTtl().plus(settings.leaseMargin()).toSeconds());
    }
    ready();
    return this;
  }

  private Behavior<Command> onReservedTotal(ReservedTotal msg) {
    if (msg.total() < 0) {
      getContext().getLog().warn("Could not read the functions' reserved concurrency; the account pool keeps its size");
      return this;
    }
    reserved = msg.total();
    if (ledger != null) {
      ledger.setLimit(Math.max(0, settings.accountLimit() - reserved));
    }
    ready();
    return this;
  }

  /** Grants start once both the holders and the pool's size are known. */
  private void ready() {
    if (ledger != null || learned == null || reserved < 0) {
      return;
    }
    long now = clock.millis();
    ledger = new LeaseLedger(Math.max(0, settings.accountLimit() - reserved), settings.leaseTtl().toMillis(),
        settings.leaseMargin().toMillis(), !learned.complete(), now);
    learned.slots().forEach((holder, slots) -> ledger.restore(holder, slots, now));
    List<AcquireLease> waiting = new ArrayList<>(stashed);
    stashed.clear();
    waiting.forEach(this::onAcquire);
  }
}
