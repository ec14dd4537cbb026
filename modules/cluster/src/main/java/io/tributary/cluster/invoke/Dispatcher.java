package io.tributary.cluster.invoke;

import io.tributary.api.EventInvokeConfig;
import io.tributary.api.FunctionConfig;
import io.tributary.api.FunctionRuntime;
import io.tributary.api.Invocation;
import io.tributary.api.InvocationResult;
import io.tributary.api.LambdaError;
import io.tributary.api.LambdaException;
import io.tributary.cluster.Asks;
import io.tributary.cluster.ClusterMessage;
import io.tributary.cluster.Reply;
import io.tributary.cluster.concurrency.AccountEntity;
import io.tributary.cluster.concurrency.LeaseHolders.Holding;
import io.tributary.cluster.concurrency.LeaseHolders.Holdings;
import io.tributary.cluster.function.FunctionEntity;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One per node: the entry of every synchronous invoke. It resolves the qualifier to a version
 * (from a short-lived cache of the FunctionEntity's answer, so warm invokes do not cross the
 * cluster), applies concurrency limits, and runs the invocation on this node's runtime. A warm
 * invoke (target cached, a slot free) starts on the caller's thread through {@link Invoker},
 * without a message to this actor; the actor does the rest.
 *
 * <p>Concurrency is exact across the cluster: each invocation takes a slot of a lease this node
 * holds, of the function's reserved concurrency (from its FunctionEntity) or of the account's
 * unreserved pool (from the AccountEntity); see {@link LeaseLedger} for the rules.
 *
 * <p>Every node's Dispatcher hears of every persisted change of a function through the topic
 * {@value #CHANGES_TOPIC}: the FunctionEntity tells its {@link FunctionEntity.Changes} port, which
 * {@link Invoker#changes()} publishes as a {@link Forget}, so the next invoke on any node resolves
 * the function again instead of running a cached target until it expires.
 *
 * <p>An invoke this node cannot take a slot for goes to a node that has one free: the other
 * Dispatchers are asked what they have spare, and the answer names the node's address for
 * the HTTP layer to forward the request to (payloads never ride actor messages). A forwarded
 * invoke is never forwarded again.
 */
public final class Dispatcher extends AbstractBehavior<Dispatcher.Command> {

  public sealed interface Command {}

  /** Every node's Dispatcher, for FunctionEntities that must learn who holds their leases. */
  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "tributary-dispatcher");

  /** From a FunctionEntity that (re)starts: how many of the function's reserved slots this node holds. */
  public record ReportLease(String functionName, ActorRef<Holding> replyTo) implements Command, ClusterMessage {}

  /**
   * Asks every Dispatcher what it holds of lease {@code key}: the first step of an entity that
   * grants leases and may have been restarted or moved while they were out.
   */
  public static CompletionStage<Holdings> holdings(ActorSystem<?> system, String key, Duration timeout) {
    Executor executor = system.executionContext();
    CompletionStage<Receptionist.Listing> listing = Asks.on(AskPattern.ask(system.receptionist(),
        replyTo -> Receptionist.find(KEY, replyTo), timeout, system.scheduler()), executor);
    return listing.thenCompose(l -> {
      Map<String, Integer> slots = new ConcurrentHashMap<>();
      AtomicBoolean complete = new AtomicBoolean(true);
      CompletableFuture<?>[] asks = l.getServiceInstances(KEY).stream()
          .map(dispatcher -> Asks.on(AskPattern.<Command, Holding>ask(dispatcher,
                  replyTo -> new ReportLease(key, replyTo), timeout, system.scheduler()), executor)
              .handle((holding, failure) -> {
                if (failure != null) {
                  complete.set(false);
                } else {
                  slots.put(holding.holder(), holding.slots());
                }
                return null;
              }).toCompletableFuture())
          .toArray(CompletableFuture[]::new);
      return CompletableFuture.allOf(asks).thenApply(v -> new Holdings(Map.copyOf(slots), complete.get()));
    }).exceptionally(failure -> new Holdings(Map.of(), false));
  }

  /**
   * Local only (see {@link Invoker}). {@code forwarded}: sent here by another node's Dispatcher;
   * {@code queued}: a delivery of an asynchronous queue, which waits for a slot (null: an invoke
   * someone waits for, refused at once when no slot is free).
   */
  public record Invoke(String functionName, String qualifier, Invocation invocation, boolean dryRun,
                       boolean forwarded, Queued queued, CompletableFuture<Result> reply) implements Command {}

  /**
   * How a delivery of an asynchronous queue waits: for a free slot of its function's concurrency, in
   * the order the deliveries came, until its event reaches its maximum age, and only then is it
   * refused as throttled. A queue thus runs as many events as the function has free slots instead
   * of having the rest refused and backed off one by one. The age is the qualifier's
   * {@code MaximumEventAgeInSeconds} as resolved here, else {@code maximumAgeMillis}; or, when
   * {@code fixed}, the deadline is {@code acceptedAtMillis + maximumAgeMillis} whatever the
   * configuration says. Wall-clock millis. {@code started} completes once it took a slot (or went to
   * a node that has one): until then it waits for concurrency, and its function's timeout has not
   * begun.
   */
  public record Queued(long acceptedAtMillis, long maximumAgeMillis, boolean fixed, CompletableFuture<Void> started) {

    /** An event accepted at {@code acceptedAtMillis}; {@code maximumAgeMillis} unless its configuration says otherwise. */
    public static Queued event(long acceptedAtMillis, long maximumAgeMillis) {
      return new Queued(acceptedAtMillis, maximumAgeMillis, false, new CompletableFuture<>());
    }

    /** Waits until {@code untilMillis} at the latest. */
    public static Queued until(long untilMillis) {
      return new Queued(untilMillis, 0, true, new CompletableFuture<>());
    }

    public long untilMillis(EventInvokeConfig config) {
      return acceptedAtMillis + (!fixed && config != null && config.maximumEventAgeInSeconds() != null
          ? config.maximumEventAgeInSeconds() * 1000L : maximumAgeMillis);
    }
  }

  /**
   * This node's entry for invokes, on the caller's thread. A warm invoke (its target cached, a free
   * slot in this node's lease) starts at once; anything else (a target to resolve, a lease to grow, a
   * throttle, a forward) goes to the actor. On 2 cores a hop between threads costs more than a no-op
   * function, and going through the actor would add one to every invoke.
   */
  public static final class Invoker {
    private final ActorRef<Command> ref;
    private final Shared shared;
    private final ActorRef<Topic.Command<Forget>> changes;

    private Invoker(ActorRef<Command> ref, Shared shared, ActorRef<Topic.Command<Forget>> changes) {
      this.ref = ref;
      this.shared = shared;
      this.changes = changes;
    }

    public ActorRef<Command> ref() {
      return ref;
    }

    /** Subscribes {@code subscriber} to every function change this Dispatcher hears of. */
    public void subscribe(ActorRef<Forget> subscriber) {
      changes.tell(Topic.subscribe(subscriber));
    }

    /** What a FunctionEntity tells after a change: every node's Dispatcher forgets the function. */
    public FunctionEntity.Changes changes() {
      return (functionName, deleted) -> changes.tell(Topic.publish(new Forget(functionName, deleted)));
    }

    /**
     * The answer completes on the thread that settles the invoke (the caller's, the actor's, or the
     * one the function ran on), so what a caller chains to it must be short. The Dispatcher answers
     * every invoke: the runtime bounds each by the function's timeout.
     */
    public CompletableFuture<Result> invoke(String functionName, String qualifier, Invocation invocation,
        boolean dryRun, boolean forwarded) {
      return submit(new Invoke(functionName, qualifier, invocation, dryRun, forwarded, null,
          new CompletableFuture<>()));
    }

    /** A delivery of an asynchronous queue: it waits for a slot as {@code queued} says. */
    public CompletableFuture<Result> deliver(String functionName, String qualifier, Invocation invocation,
        boolean forwarded, Queued queued) {
      return submit(new Invoke(functionName, qualifier, invocation, false, forwarded, queued,
          new CompletableFuture<>()));
    }

    /**
     * A queued delivery this node sent to another ({@link Forward}) has ended there; {@code ran}: it
     * ran rather than being refused, so that node's slot is free again for the next one waiting here.
     */
    public void forwardEnded(Forward forward, boolean ran) {
      ref.tell(new ForwardEnded(forward.leaseKey(), forward.url(), ran));
    }

    private CompletableFuture<Result> submit(Invoke invoke) {
      if (!shared.startWarm(invoke)) {
        ref.tell(invoke);
      }
      return invoke.reply();
    }
  }

  /** The topic every node's Dispatcher subscribes to, and FunctionEntities publish their changes on. */
  public static final String CHANGES_TOPIC = "tributary-function-changes";

  /**
   * Starts the node's Dispatcher as a system actor named "dispatcher", and this node's instance of
   * the {@link #CHANGES_TOPIC} topic ("function-changes"), which it subscribes to.
   */
  public static Invoker spawn(ActorSystem<?> system, ClusterSharding sharding, FunctionRuntime runtime,
      Settings settings) {
    Shared shared = new Shared(runtime, settings.targetTtl().toNanos());
    ActorRef<Topic.Command<Forget>> changes = system.systemActorOf(Topic.create(Forget.class, CHANGES_TOPIC),
        "function-changes", Props.empty());
    ActorRef<Command> ref = system.systemActorOf(create(sharding, shared, settings), "dispatcher",
        Props.empty());
    changes.tell(Topic.subscribe(ref.narrow()));
    return new Invoker(ref, shared, changes);
  }

  /** From a node that cannot take an invoke under lease {@code key}: how many slots this node has free. */
  public record Spare(String key, ActorRef<SpareSlots> replyTo) implements Command, ClusterMessage {}

  public record SpareSlots(String url, int free) implements ClusterMessage {}

  /**
   * Where other nodes reach this node's HTTP API once it is bound; null while it is not (before
   * binding, and while draining), when this node offers no slots to others.
   */
  public record Reachable(String url) implements Command {}

  /**
   * From the {@link #CHANGES_TOPIC} topic: a function changed, so its cached targets go and its next
   * invoke sees the change; a deleted function's environments on this node stop too.
   */
  public record Forget(String functionName, boolean deleted) implements Command, ClusterMessage {}

  /** What became of an invoke: it ran, it was refused, or it must go to another node. */
  public sealed interface Result {}

  /**
   * It ran here ({@code result} null for a dry run) as {@code executedVersion}; {@code async} is what
   * the asynchronous queues apply to the invoked qualifier.
   */
  public record Ran(InvocationResult result, String executedVersion, AsyncTarget async) implements Result {

    static Ran of(InvocationResult result, FunctionConfig version, FunctionEntity.InvokeTarget target) {
      return new Ran(result, version.version(), AsyncTarget.of(target, version));
    }
  }

  /**
   * It did not run: an unknown function or qualifier, a throttle, a failure to run; {@code async} is
   * known when the function was resolved before the refusal (null otherwise).
   */
  public record Refused(LambdaError error, AsyncTarget async) implements Result {

    static Refused of(LambdaError error) {
      return new Refused(error, null);
    }

    /** Throttled after the function was resolved: the queue still learns its configuration. */
    static Refused throttled(LambdaError error, Ready ready) {
      return new Refused(error, AsyncTarget.of(ready.target(), ready.version()));
    }
  }

  /**
   * Another node (base URL {@code url}) has a free slot of lease {@code leaseKey}: the HTTP layer
   * sends the invoke there. {@code async} as for {@link Ran}, from the function as resolved here.
   */
  public record Forward(String url, String leaseKey, AsyncTarget async) implements Result {}

  /**
   * The invoked qualifier's asynchronous configuration ({@code config}, null when it has none) and
   * the dead-letter target of the version chosen to run (null when it has none).
   */
  public record AsyncTarget(EventInvokeConfig config, String deadLetterTarget) {
    static AsyncTarget of(FunctionEntity.InvokeTarget target, FunctionConfig version) {
      String deadLetter = version.deadLetterTargetArn();
      return new AsyncTarget(target.eventInvokeConfig(), deadLetter == null || deadLetter.isEmpty() ? null : deadLetter);
    }
  }

  private record Resolved(Invoke invoke, Reply<FunctionEntity.InvokeTarget> reply, Throwable failure)
      implements Command {}

  private record LeaseReply(String function, long sentNanos, int requested, Reply<Integer> reply, Throwable failure)
      implements Command {}

  private enum RenewLeases implements Command { INSTANCE }

  private record PeersChanged(Set<ActorRef<Command>> dispatchers) implements Command {}

  private record PeersAnswered(String key, List<SpareSlots> answers) implements Command {}

  /** A slot of lease {@code key} was released while deliveries waited for one. */
  private record SlotFreed(String key) implements Command {}

  private record ForwardEnded(String key, String url, boolean ran) implements Command {}

  /** Queued deliveries still wait here for lease {@code key}: ask the other nodes again. */
  private record SeekAgain(String key) implements Command {}

  /**
   * How soon queued deliveries with no slot here ask the other nodes again: a node whose backlog
   * ran out has its slots free, and they should not stay idle until the next lease renewal.
   */
  private static final Duration SEEK_AGAIN = Duration.ofMillis(200);

  private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);

  /** Short: a peer that does not answer at once is busy or gone, and the caller is waiting. */
  private static final Duration SPARE_TIMEOUT = Duration.ofSeconds(1);

  /** An invoke that has a version and waits for a slot of its function's reserved concurrency. */
  record Ready(Invoke invoke, FunctionEntity.InvokeTarget target, FunctionConfig version) {}

  /**
   * This node's lease of one function's reserved concurrency (or of the account's pool): slots held
   * until {@code validUntil} (measured from when the request left, so it ends before the entity's own
   * expiry). Slots are taken and released on any thread ({@link #tryTake}); the lease's size and
   * expiry are set by the actor alone, and the fields below them are the actor's alone.
   */
  static final class Lease {
    private volatile int held;
    private volatile long validUntilNanos;
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger peak = new AtomicInteger();
    boolean requesting;
    int requested;
    final List<Ready> waiting = new ArrayList<>();
    /** Queued deliveries waiting for a slot, oldest first ({@link Queued}); the actor's alone. */
    final ArrayDeque<Ready> queued = new ArrayDeque<>();
    /** How many wait in {@link #queued}, for the threads that release slots. */
    private final AtomicInteger queuedCount = new AtomicInteger();
    /** Whether a {@link SlotFreed} is on its way, so a burst of releases sends one. */
    private final AtomicBoolean signalled = new AtomicBoolean();
    private final Runnable freed;
    /** The payload bytes queued in every lease of the node (see {@link Settings#waitingBytes}). */
    private final AtomicLong waitingBytes;

    Lease(Runnable freed, AtomicLong waitingBytes) {
      this.freed = freed;
      this.waitingBytes = waitingBytes;
    }

    Lease(Runnable freed) {
      this(freed, new AtomicLong());
    }

    /** Takes a slot if one is free and the lease has not expired; never more than {@code held} at once. */
    boolean tryTake(long now) {
      if (now - validUntilNanos >= 0) {
        return false;
      }
      while (true) {
        int inUse = running.get();
        if (inUse >= held) {
          return false;
        }
        if (running.compareAndSet(inUse, inUse + 1)) {
          peak.accumulateAndGet(inUse + 1, Math::max);
          return true;
        }
      }
    }

    /**
     * Gives a slot back and, if deliveries wait for one, tells the actor. The actor counts a waiter
     * before it tries for a slot, so a release either sees it or frees the slot it then takes.
     */
    void release() {
      running.decrementAndGet();
      if (queuedCount.get() > 0 && signalled.compareAndSet(false, true)) {
        freed.run();
      }
    }

    /** The actor handles the {@link SlotFreed} sent: the next release with deliveries queued sends another. */
    void signalHandled() {
      signalled.set(false);
    }

    /** Queues {@code ready} unless the node's queued payloads would pass {@code limit} bytes. */
    boolean enqueue(Ready ready, long limit) {
      long bytes = bytes(ready);
      if (waitingBytes.addAndGet(bytes) > limit && !queued.isEmpty()) {
        waitingBytes.addAndGet(-bytes);
        return false;
      }
      queued.add(ready);
      queuedCount.set(queued.size());
      return true;
    }

    void enqueue(Ready ready) {
      enqueue(ready, Long.MAX_VALUE);
    }

    /** The oldest queued delivery, taken out of the queue. */
    Ready poll() {
      Ready ready = queued.poll();
      if (ready != null) {
        waitingBytes.addAndGet(-bytes(ready));
      }
      queuedCount.set(queued.size());
      return ready;
    }

    /** Every queued delivery, taken out of the queue. */
    List<Ready> drain() {
      List<Ready> all = new ArrayList<>();
      for (Ready ready = poll(); ready != null; ready = poll()) {
        all.add(ready);
      }
      return all;
    }

    private static long bytes(Ready ready) {
      Invocation invocation = ready.invoke() == null ? null : ready.invoke().invocation();
      return invocation == null ? 0 : invocation.payload().length;
    }

    /** The deliveries waiting here that may still go to another node (a forwarded one may not). */
    List<Ready> forwardable(int most) {
      return take(ready -> !ready.invoke().forwarded(), most);
    }

    /** Up to {@code most} of the queued deliveries that {@code which} selects, oldest first, taken out of the queue. */
    List<Ready> take(Predicate<Ready> which, int most) {
      List<Ready> out = new ArrayList<>();
      for (var it = queued.iterator(); it.hasNext() && out.size() < most; ) {
        Ready ready = it.next();
        if (which.test(ready)) {
          out.add(ready);
          it.remove();
          waitingBytes.addAndGet(-bytes(ready));
        }
      }
      queuedCount.set(queued.size());
      return out;
    }

    boolean hasForwardable() {
      return queued.stream().anyMatch(r -> !r.invoke().forwarded());
    }

    /** What this node would use now: running, waiting for the lease to grow, and queued. */
    int demand() {
      return inUse() + waiting.size() + queued.size();
    }

    boolean idle() {
      return held == 0 && inUse() == 0 && waiting.isEmpty() && queued.isEmpty() && !requesting;
    }

    void grant(int slots, long validUntil) {
      validUntilNanos = validUntil;
      held = slots;
    }

    int held() {
      return held;
    }

    boolean valid(long now) {
      return now - validUntilNanos < 0;
    }

    int inUse() {
      return running.get();
    }

    /** The most in use at once since the last call, which starts the next period at what is in use now. */
    int takePeak() {
      return Math.max(inUse(), peak.getAndSet(inUse()));
    }
  }

  private record CacheKey(String function, String qualifier) {}

  private record Cached(FunctionEntity.InvokeTarget target, long fetchedNanos) {}

  /**
   * {@code waitingBytes}: how many payload bytes the node's queued deliveries may hold while they
   * wait for slots; past it, a delivery that finds no slot is refused as a throttle (its queue backs
   * it off) rather than held.
   */
  public record Settings(Duration targetTtl, Duration askTimeout, String accountId, Duration leaseTtl,
                         long waitingBytes) {}

  /**
   * What callers' threads read to start warm invokes without the actor: the targets it resolved
   * and its leases, both written by the actor only; and the start of an invocation, shared by both.
   */
  private static final class Shared {
    final FunctionRuntime runtime;
    final long targetTtlNanos;
    final Map<CacheKey, Cached> targets = new ConcurrentHashMap<>();
    final Map<String, Lease> leases = new ConcurrentHashMap<>();

    Shared(FunctionRuntime runtime, long targetTtlNanos) {
      this.runtime = runtime;
      this.targetTtlNanos = targetTtlNanos;
    }

    FunctionEntity.InvokeTarget fresh(String functionName, String qualifier) {
      Cached cached = targets.get(new CacheKey(functionName, qualifier));
      return cached != null && System.nanoTime() - cached.fetchedNanos() < targetTtlNanos ? cached.target() : null;
    }

    /** True if {@code invoke} was answered or started here; false leaves it to the actor. */
    boolean startWarm(Invoke invoke) {
      FunctionEntity.InvokeTarget target = fresh(invoke.functionName(), invoke.qualifier());
      if (target == null) {
        return false;
      }
      FunctionConfig version = chooseVersion(target);
      if (invoke.dryRun()) {
        invoke.reply().complete(Ran.of(null, version, target));
        return true;
      }
      Ready ready = new Ready(invoke, target, version);
      if (startProvisioned(ready)) {
        return true;
      }
      Integer reserved = target.reservedConcurrency();
      if (reserved != null && reserved == 0) {
        return false;
      }
      Lease lease = leases.get(reserved == null ? AccountEntity.POOL : version.functionName());
      // A queued delivery does not pass the ones already waiting.
      if (lease == null || invoke.queued() != null && lease.queuedCount.get() > 0
          || !lease.tryTake(System.nanoTime())) {
        return false;
      }
      start(lease, ready);
      return true;
    }

    /** Runs {@code ready} on a slot already taken of {@code lease}, which it gives back when done. */
    void start(Lease lease, Ready ready) {
      started(ready);
      runtime.invoke(ready.version(), withArn(ready)).whenComplete((result, failure) -> {
        if (result != null && result.stream() != null) {
          // The slot is held while the function streams its answer, as the environment is.
          settle(ready, result, null);
          result.done().whenComplete((end, error) -> lease.release());
        } else {
          lease.release();
          settle(ready, result, failure);
        }
      });
    }

    /**
     * Runs {@code ready} on an idle provisioned environment of its version, if this node has one. It
     * takes no lease slot: provisioned concurrency is held apart from the on-demand limits.
     */
    boolean startProvisioned(Ready ready) {
      CompletionStage<InvocationResult> running = runtime.invokeProvisioned(ready.version(), withArn(ready));
      if (running == null) {
        return false;
      }
      started(ready);
      running.whenComplete((result, failure) -> settle(ready, result, failure));
      return true;
    }

    private static void started(Ready ready) {
      if (ready.invoke().queued() != null) {
        ready.invoke().queued().started().complete(null);
      }
    }

    private static Invocation withArn(Ready ready) {
      Invocation invocation = ready.invoke().invocation();
      return invocation.withArn(ready.target().functionArn());
    }

    private static void settle(Ready ready, InvocationResult result, Throwable failure) {
      Invoke invoke = ready.invoke();
      invoke.reply().complete(failure == null ? Ran.of(result, ready.version(), ready.target())
          : platformFailure(invoke, ready.version(), failure));
    }
  }

  private final ClusterSharding sharding;
  private final Shared shared;
  private final FunctionRuntime runtime;
  private final Settings settings;
  private final Map<CacheKey, Cached> targets;
  private final Map<CacheKey, List<Invoke>> resolving = new HashMap<>();
  private final Map<String, Lease> leases;
  /** Invokes waiting for the other Dispatchers to say what they have spare, per lease key. */
  private final Map<String, List<Ready>> seeking = new HashMap<>();
  private Set<ActorRef<Command>> peers = Set.of();
  private String url;
  private final String holder;
  private final TimerScheduler<Command> timers;
  private final AtomicLong waitingBytes = new AtomicLong();
  /** Whether the last queued delivery was refused for {@link Settings#waitingBytes}: warned once per episode. */
  private boolean waitingFull;

  private static Behavior<Command> create(ClusterSharding sharding, Shared shared, Settings settings) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      Duration every = settings.leaseTtl().dividedBy(3);
      timers.startTimerWithFixedDelay(RenewLeases.INSTANCE, every);
      return new Dispatcher(ctx, timers, sharding, shared, settings);
    }));
  }

  private Dispatcher(ActorContext<Command> ctx, TimerScheduler<Command> timers, ClusterSharding sharding,
                     Shared shared, Settings settings) {
    super(ctx);
    this.timers = timers;
    this.sharding = sharding;
    this.shared = shared;
    this.runtime = shared.runtime;
    this.targets = shared.targets;
    this.leases = shared.leases;
    this.settings = settings;
    this.holder = ctx.getSystem().address().toString();
    ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
    ActorRef<Receptionist.Listing> listings = ctx.messageAdapter(Receptionist.Listing.class,
        listing -> new PeersChanged(listing.getServiceInstances(KEY)));
    ctx.getSystem().receptionist().tell(Receptionist.subscribe(KEY, listings));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Invoke.class, this::onInvoke)
        .onMessage(Resolved.class, this::onResolved)
        .onMessage(Forget.class, this::onForget)
        .onMessage(LeaseReply.class, this::onLeaseReply)
        .onMessage(ReportLease.class, this::onReportLease)
        .onMessage(Spare.class, this::onSpare)
        .onMessage(PeersChanged.class, this::onPeersChanged)
        .onMessage(Reachable.class, reachable -> {
          url = reachable.url();
          return this;
        })
        .onMessage(PeersAnswered.class, this::onPeersAnswered)
        .onMessage(SlotFreed.class, this::onSlotFreed)
        .onMessage(ForwardEnded.class, this::onForwardEnded)
        .onMessage(SeekAgain.class, again -> {
          Lease lease = leases.get(again.key());
          if (lease != null && lease.hasForwardable()) {
            seekElsewhere(again.key(), List.of(), true);
          }
          return this;
        })
        .onMessageEquals(RenewLeases.INSTANCE, this::onRenewLeases)
        .build();
  }

  private Behavior<Command> onInvoke(Invoke invoke) {
    CacheKey key = new CacheKey(invoke.functionName(), invoke.qualifier());
    FunctionEntity.InvokeTarget cached = shared.fresh(invoke.functionName(), invoke.qualifier());
    if (cached != null) {
      run(invoke, cached);
      return this;
    }
    List<Invoke> waiting = resolving.get(key);
    if (waiting != null) {
      waiting.add(invoke);
      return this;
    }
    resolving.put(key, new ArrayList<>(List.of(invoke)));
    getContext().pipeToSelf(Asks.on(
        sharding.entityRefFor(FunctionEntity.TYPE_KEY, invoke.functionName())
            .<Reply<FunctionEntity.InvokeTarget>>ask(
                replyTo -> new FunctionEntity.ResolveInvokeTarget(invoke.qualifier(), replyTo), settings.askTimeout()),
        getContext().getExecutionContext()),
        (reply, failure) -> new Resolved(invoke, reply, failure));
    return this;
  }

  private Behavior<Command> onResolved(Resolved resolved) {
    CacheKey key = new CacheKey(resolved.invoke().functionName(), resolved.invoke().qualifier());
    List<Invoke> waiting = resolving.remove(key);
    if (waiting == null) {
      waiting = List.of(resolved.invoke());
    }
    if (resolved.failure() != null) {
      LambdaError error = LambdaError.of(LambdaException.service("Function " + key.function()
          + " did not answer within " + settings.askTimeout().toSeconds()
          + " s (the cluster may be rebalancing after a node left); retry."));
      waiting.forEach(i -> i.reply().complete(Refused.of(error)));
    } else if (resolved.reply().error() != null) {
      waiting.forEach(i -> i.reply().complete(Refused.of(resolved.reply().error())));
    } else {
      FunctionEntity.InvokeTarget target = resolved.reply().value();
      targets.put(key, new Cached(target, System.nanoTime()));
      waiting.forEach(i -> run(i, target));
    }
    return this;
  }

  /** An alias with weighted routing runs its additional version on that share of invokes. */
  private static FunctionConfig chooseVersion(FunctionEntity.InvokeTarget target) {
    return target.additional() != null && ThreadLocalRandom.current().nextDouble() < target.additionalWeight()
        ? target.additional() : target.primary();
  }

  private void run(Invoke invoke, FunctionEntity.InvokeTarget target) {
    FunctionConfig version = chooseVersion(target);
    if (invoke.dryRun()) {
      invoke.reply().complete(Ran.of(null, version, target));
      return;
    }
    Integer reserved = target.reservedConcurrency();
    Ready ready = new Ready(invoke, target, version);
    if (shared.startProvisioned(ready)) {
      return;
    }
    if (reserved != null && reserved == 0) {
      invoke.reply().complete(Refused.throttled(exceeded(version.functionName()), ready));
      return;
    }
    acquireAndStart(reserved == null ? AccountEntity.POOL : version.functionName(), ready);
  }

  /**
   * Starts {@code ready} on a free slot of lease {@code key}, or waits for the lease to grow; a
   * queued delivery waits its turn for a slot, however long the lease stays full.
   */
  private void acquireAndStart(String key, Ready ready) {
    ActorRef<Command> self = getContext().getSelf();
    Lease lease = leases.computeIfAbsent(key, k -> new Lease(() -> self.tell(new SlotFreed(k)), waitingBytes));
    if (ready.invoke().queued() != null) {
      if (!lease.enqueue(ready, settings.waitingBytes())) {
        if (!waitingFull) {
          getContext().getLog().warn("Deliveries waiting for concurrency hold {} bytes of payloads, the node's"
              + " limit (tributary.async.waiting-bytes): more are throttled and backed off until they drain",
              settings.waitingBytes());
        }
        waitingFull = true;
        ready.invoke().reply().complete(Refused.throttled(exceeded(key), ready));
        return;
      }
      waitingFull = false;
      startQueued(key, lease);
      if (!lease.queued.isEmpty()) {
        requestLease(key, lease, lease.demand());
      }
      return;
    }
    if (lease.tryTake(System.nanoTime())) {
      shared.start(lease, ready);
      return;
    }
    lease.waiting.add(ready);
    requestLease(key, lease, lease.demand());
  }

  /**
   * Starts queued deliveries, oldest first, on the lease's free slots; one that waited past its
   * deadline is refused as throttled, and its queue deals with it as AWS does with a throttle.
   */
  private void startQueued(String key, Lease lease) {
    long now = System.nanoTime();
    long wallNow = System.currentTimeMillis();
    while (!lease.queued.isEmpty()) {
      Ready head = lease.queued.peek();
      if (head.invoke().queued().untilMillis(head.target().eventInvokeConfig()) <= wallNow) {
        lease.poll();
        head.invoke().reply().complete(Refused.throttled(exceeded(key), head));
      } else if (lease.tryTake(now)) {
        lease.poll();
        shared.start(lease, head);
      } else {
        break;
      }
    }
  }

  private Behavior<Command> onSlotFreed(SlotFreed freed) {
    Lease lease = leases.get(freed.key());
    if (lease != null) {
      lease.signalHandled();
      startQueued(freed.key(), lease);
    }
    return this;
  }

  /**
   * The slot another node lent to a queued delivery from here is free again: the next delivery
   * waiting here goes to it, without asking first, so a backlog keeps that slot busy.
   */
  private Behavior<Command> onForwardEnded(ForwardEnded ended) {
    Lease lease = leases.get(ended.key());
    if (ended.ran() && lease != null) {
      lease.forwardable(1).forEach(ready -> forward(ready, ended.url(), ended.key()));
    }
    return this;
  }

  private static void forward(Ready ready, String url, String key) {
    if (ready.invoke().queued() != null) {
      ready.invoke().queued().started().complete(null);
    }
    ready.invoke().reply().complete(new Forward(url, key, AsyncTarget.of(ready.target(), ready.version())));
  }

  /** Leases of reserved concurrency come from the function's entity, the account's pool from its AccountEntity. */
  private void requestLease(String key, Lease lease, int wanted) {
    if (lease.requesting) {
      return;
    }
    lease.requesting = true;
    lease.requested = wanted;
    long sent = System.nanoTime();
    int held = lease.held();
    CompletionStage<Reply<Integer>> reply = key.equals(AccountEntity.POOL)
        ? sharding.entityRefFor(AccountEntity.TYPE_KEY, settings.accountId())
            .ask(r -> new AccountEntity.AcquireLease(holder, held, wanted, r), settings.askTimeout())
        : sharding.entityRefFor(FunctionEntity.TYPE_KEY, key)
            .ask(r -> new FunctionEntity.AcquireLease(holder, held, wanted, r), settings.askTimeout());
    getContext().pipeToSelf(Asks.on(reply, getContext().getExecutionContext()),
        (r, failure) -> new LeaseReply(key, sent, wanted, r, failure));
  }

  private Behavior<Command> onLeaseReply(LeaseReply reply) {
    String key = reply.function();
    Lease lease = leases.get(key);
    if (lease == null) {
      return this;
    }
    lease.requesting = false;
    List<Ready> waiting = new ArrayList<>(lease.waiting);
    lease.waiting.clear();
    // Queued deliveries outlast a failed request: the next renewal asks again.
    if (reply.failure() != null || reply.reply().error() != null) {
      LambdaError error = reply.failure() != null
          ? LambdaError.of(LambdaException.service("Concurrency for " + key + " was not granted within "
              + settings.askTimeout().toSeconds() + " s (the cluster may be rebalancing); retry."))
          : reply.reply().error();
      waiting.forEach(r -> r.invoke().reply().complete(Refused.of(error)));
      return this;
    }
    int granted = reply.reply().value();
    if (granted < 0) {
      // The function has no reserved concurrency any more: the account's pool applies.
      lease.grant(0, reply.sentNanos());
      leases.remove(key);
      waiting.forEach(r -> acquireAndStart(AccountEntity.POOL, r));
      lease.drain().forEach(r -> acquireAndStart(AccountEntity.POOL, r));
      return this;
    }
    lease.grant(granted, reply.sentNanos() + settings.leaseTtl().toNanos());
    List<Ready> later = new ArrayList<>();
    List<Ready> refused = new ArrayList<>();
    for (Ready ready : waiting) {
      if (lease.tryTake(System.nanoTime())) {
        shared.start(lease, ready);
      } else if (granted >= lease.requested) {
        // Arrived after the request left: the entity may still have room for it.
        later.add(ready);
      } else {
        refused.add(ready);
      }
    }
    if (!later.isEmpty()) {
      lease.waiting.addAll(later);
      requestLease(key, lease, lease.demand());
    }
    startQueued(key, lease);
    forgetIdle(key, lease);
    seekElsewhere(key, refused, granted < reply.requested() && lease.hasForwardable());
    return this;
  }

  /**
   * Invokes this node has no slot for ({@code refused}, and the queued deliveries when {@code
   * queued}): asks the other Dispatchers what they have free of the same lease, one round per key at
   * a time however many invokes wait for it.
   */
  private void seekElsewhere(String key, List<Ready> refused, boolean queued) {
    List<Ready> forwardable = new ArrayList<>();
    for (Ready ready : refused) {
      if (ready.invoke().forwarded() || peers.isEmpty()) {
        ready.invoke().reply().complete(Refused.throttled(exceeded(key), ready));
      } else {
        forwardable.add(ready);
      }
    }
    if (forwardable.isEmpty() && (!queued || peers.isEmpty())) {
      return;
    }
    List<Ready> already = seeking.get(key);
    if (already != null) {
      already.addAll(forwardable);
      return;
    }
    seeking.put(key, forwardable);
    Executor executor = getContext().getExecutionContext();
    List<CompletableFuture<SpareSlots>> asks = peers.stream()
        .map(peer -> Asks.on(AskPattern.<Command, SpareSlots>ask(peer, r -> new Spare(key, r), SPARE_TIMEOUT,
            getContext().getSystem().scheduler()), executor).toCompletableFuture().exceptionally(failure -> null))
        .toList();
    getContext().pipeToSelf(CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
            .thenApply(v -> asks.stream().map(CompletableFuture::join).filter(Objects::nonNull).toList()),
        (answers, failure) -> new PeersAnswered(key, answers == null ? List.of() : answers));
  }

  private Behavior<Command> onPeersAnswered(PeersAnswered answered) {
    List<Ready> waiting = seeking.remove(answered.key());
    if (waiting == null) {
      return this;
    }
    Lease lease = leases.get(answered.key());
    int queued = lease == null ? 0 : lease.queued.size();
    List<String> targets = spread(answered.answers(), waiting.size() + queued);
    for (int i = 0; i < waiting.size(); i++) {
      if (i < targets.size()) {
        forward(waiting.get(i), targets.get(i), answered.key());
      } else {
        waiting.get(i).invoke().reply().complete(Refused.throttled(exceeded(answered.key()), waiting.get(i)));
      }
    }
    if (lease != null && targets.size() > waiting.size()) {
      List<String> lent = targets.subList(waiting.size(), targets.size());
      List<Ready> sent = lease.forwardable(lent.size());
      for (int i = 0; i < sent.size(); i++) {
        forward(sent.get(i), lent.get(i), answered.key());
      }
    }
    if (lease != null && lease.hasForwardable()) {
      timers.startSingleTimer(new SeekAgain(answered.key()), SEEK_AGAIN);
    }
    return this;
  }

  /** Up to {@code wanted} nodes to forward to, one per free slot, taking the nodes in turn. */
  static List<String> spread(List<SpareSlots> answers, int wanted) {
    int[] free = answers.stream().mapToInt(SpareSlots::free).toArray();
    List<String> targets = new ArrayList<>();
    boolean more = true;
    while (more && targets.size() < wanted) {
      more = false;
      for (int i = 0; i < free.length && targets.size() < wanted; i++) {
        if (free[i] > 0) {
          free[i]--;
          targets.add(answers.get(i).url());
          more = true;
        }
      }
    }
    return targets;
  }

  /** Free slots only: a forwarded invoke must find room here, since it is never forwarded again. */
  private Behavior<Command> onSpare(Spare spare) {
    Lease lease = leases.get(spare.key());
    int free = url == null || lease == null || !lease.valid(System.nanoTime()) ? 0
        : lease.held() - lease.demand();
    spare.replyTo().tell(new SpareSlots(url, Math.max(0, free)));
    return this;
  }

  private Behavior<Command> onPeersChanged(PeersChanged changed) {
    Set<ActorRef<Command>> others = new HashSet<>(changed.dispatchers());
    others.remove(getContext().getSelf());
    peers = Set.copyOf(others);
    return this;
  }

  private Behavior<Command> onReportLease(ReportLease report) {
    Lease lease = leases.get(report.functionName());
    int slots = lease == null ? 0 : Math.max(lease.inUse(), lease.valid(System.nanoTime()) ? lease.held() : 0);
    report.replyTo().tell(new Holding(holder, slots));
    return this;
  }

  /**
   * Renews every lease at what was in use since the last renewal, so idle slots go back to the pool,
   * or at what its queued deliveries want; and refuses the queued ones whose deadline passed.
   */
  private Behavior<Command> onRenewLeases() {
    for (var entry : new ArrayList<>(leases.entrySet())) {
      Lease lease = entry.getValue();
      startQueued(entry.getKey(), lease);
      if (lease.idle()) {
        leases.remove(entry.getKey());
        continue;
      }
      int wanted = Math.max(lease.takePeak(), lease.queued.isEmpty() ? 0 : lease.demand());
      requestLease(entry.getKey(), lease, wanted);
    }
    return this;
  }

  private void forgetIdle(String key, Lease lease) {
    if (lease.idle()) {
      leases.remove(key);
    }
  }

  /** AWS's throttle: the account's pool, or the function's reserved concurrency. */
  private static LambdaError exceeded(String key) {
    return LambdaError.of(new LambdaException(429, "TooManyRequestsException", "Rate Exceeded.",
        key.equals(AccountEntity.POOL) ? "ConcurrentInvocationLimitExceeded"
            : "ReservedFunctionConcurrentInvocationLimitExceeded"));
  }

  private static Result platformFailure(Invoke invoke, FunctionConfig version, Throwable failure) {
    Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause()
        : failure;
    if (cause instanceof LambdaException e) {
      return Refused.of(LambdaError.of(e));
    }
    LOG.warn("Invocation {} of {} failed in the platform", invoke.invocation().requestId(), version.functionName(),
        cause);
    return Refused.of(LambdaError.of(LambdaException.service("The invocation could not run on this node: "
        + cause.getMessage())));
  }

  /** A deleted function's queued deliveries are refused as not found: its queue drops them, as AWS does. */
  private Behavior<Command> onForget(Forget forget) {
    targets.keySet().removeIf(k -> k.function().equals(forget.functionName()));
    if (forget.deleted()) {
      runtime.retire(forget.functionName());
      LambdaError gone = LambdaError.of(LambdaException.notFound("Function not found: "
          + forget.functionName() + " was deleted while the event waited for concurrency"));
      for (Lease lease : leases.values()) {
        lease.take(r -> r.version().functionName().equals(forget.functionName()), Integer.MAX_VALUE)
            .forEach(r -> r.invoke().reply().complete(Refused.of(gone)));
      }
    }
    return this;
  }
}
