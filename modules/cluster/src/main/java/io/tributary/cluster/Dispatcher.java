package io.tributary.cluster;

import io.tributary.api.FunctionConfig;
import io.tributary.api.FunctionRuntime;
import io.tributary.api.Invocation;
import io.tributary.api.InvocationResult;
import io.tributary.api.LambdaError;
import io.tributary.api.LambdaException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * One per node: the entry of every synchronous invoke. It resolves the qualifier to a version
 * (from a short-lived cache of the FunctionEntity's answer, so warm invokes do not cross the
 * cluster), applies concurrency limits, and runs the invocation on this node's runtime.
 *
 * <p>Concurrency here is counted per node: reserved concurrency 0 throttles every invoke, and a
 * function or the node over its limit is throttled with AWS's 429. Exact limits across several
 * nodes (leases from the FunctionEntity and an AccountEntity) are not built yet.
 */
public final class Dispatcher extends AbstractBehavior<Dispatcher.Command> {

  public sealed interface Command {}

  /** Local only: the payload stays in this JVM. */
  public record Invoke(String functionName, String qualifier, Invocation invocation, boolean dryRun,
                       ActorRef<Result> replyTo) implements Command {}

  /**
   * Drops cached targets of a function this node changed, so its next invoke sees the change; a
   * deleted function's environments on this node stop too.
   */
  public record Forget(String functionName, boolean deleted) implements Command {}

  public record Result(InvocationResult result, String executedVersion, LambdaError error) {}

  private record Resolved(Invoke invoke, FunctionEntity.Reply<FunctionEntity.InvokeTarget> reply, Throwable failure)
      implements Command {}

  private record Finished(Invoke invoke, String function, String version, InvocationResult result, Throwable failure)
      implements Command {}

  private record CacheKey(String function, String qualifier) {}

  private record Cached(FunctionEntity.InvokeTarget target, long fetchedNanos) {}

  public record Settings(Duration targetTtl, Duration askTimeout, int accountLimit) {}

  private final ClusterSharding sharding;
  private final FunctionRuntime runtime;
  private final Settings settings;
  private final Map<CacheKey, Cached> targets = new HashMap<>();
  private final Map<CacheKey, List<Invoke>> resolving = new HashMap<>();
  private final Map<String, Integer> inFlight = new HashMap<>();
  private int inFlightTotal;

  public static Behavior<Command> create(ClusterSharding sharding, FunctionRuntime runtime, Settings settings) {
    return Behaviors.setup(ctx -> new Dispatcher(ctx, sharding, runtime, settings));
  }

  private Dispatcher(ActorContext<Command> ctx, ClusterSharding sharding, FunctionRuntime runtime, Settings settings) {
    super(ctx);
    this.sharding = sharding;
    this.runtime = runtime;
    this.settings = settings;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Invoke.class, this::onInvoke)
        .onMessage(Resolved.class, this::onResolved)
        .onMessage(Finished.class, this::onFinished)
        .onMessage(Forget.class, this::onForget)
        .build();
  }

  private Behavior<Command> onInvoke(Invoke invoke) {
    CacheKey key = new CacheKey(invoke.functionName(), invoke.qualifier());
    Cached cached = targets.get(key);
    if (cached != null && System.nanoTime() - cached.fetchedNanos() < settings.targetTtl().toNanos()) {
      run(invoke, cached.target());
      return this;
    }
    List<Invoke> waiting = resolving.get(key);
    if (waiting != null) {
      waiting.add(invoke);
      return this;
    }
    resolving.put(key, new ArrayList<>(List.of(invoke)));
    // Continued on this actor's executor: Scala's CompletableFuture would run it on a new thread (2-core common pool).
    getContext().pipeToSelf(
        sharding.entityRefFor(FunctionEntity.TYPE_KEY, invoke.functionName())
            .<FunctionEntity.Reply<FunctionEntity.InvokeTarget>>ask(
                replyTo -> new FunctionEntity.ResolveInvokeTarget(invoke.qualifier(), replyTo), settings.askTimeout())
            .thenApplyAsync(reply -> reply, getContext().getExecutionContext()),
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
      waiting.forEach(i -> i.replyTo().tell(new Result(null, null, error)));
    } else if (resolved.reply().error() != null) {
      waiting.forEach(i -> i.replyTo().tell(new Result(null, null, resolved.reply().error())));
    } else {
      FunctionEntity.InvokeTarget target = resolved.reply().value();
      targets.put(key, new Cached(target, System.nanoTime()));
      waiting.forEach(i -> run(i, target));
    }
    return this;
  }

  private void run(Invoke invoke, FunctionEntity.InvokeTarget target) {
    FunctionConfig version = target.additional() != null
        && ThreadLocalRandom.current().nextDouble() < target.additionalWeight() ? target.additional() : target.primary();
    String function = version.functionName();
    if (invoke.dryRun()) {
      invoke.replyTo().tell(new Result(null, version.version(), null));
      return;
    }
    Integer reserved = target.reservedConcurrency();
    int running = inFlight.getOrDefault(function, 0);
    if (reserved != null && running >= reserved) {
      invoke.replyTo().tell(new Result(null, null, throttled("ReservedFunctionConcurrentInvocationLimitExceeded",
          "Rate Exceeded.")));
      return;
    }
    if (reserved == null && inFlightTotal >= settings.accountLimit()) {
      invoke.replyTo().tell(new Result(null, null, throttled("ConcurrentInvocationLimitExceeded", "Rate Exceeded.")));
      return;
    }
    inFlight.merge(function, 1, Integer::sum);
    inFlightTotal++;
    Invocation invocation = invoke.invocation();
    Invocation withArn = new Invocation(invocation.requestId(), target.functionArn(), invocation.payload(),
        invocation.clientContext(), invocation.cognitoIdentity(), invocation.tailLog());
    getContext().pipeToSelf(runtime.invoke(version, withArn),
        (result, failure) -> new Finished(invoke, function, version.version(), result, failure));
  }

  private static LambdaError throttled(String reason, String message) {
    return LambdaError.of(new LambdaException(429, "TooManyRequestsException", message, reason));
  }

  private Behavior<Command> onFinished(Finished finished) {
    inFlight.computeIfPresent(finished.function(), (k, n) -> n > 1 ? n - 1 : null);
    inFlightTotal--;
    if (finished.failure() != null) {
      Throwable cause = finished.failure() instanceof CompletionException && finished.failure().getCause() != null
          ? finished.failure().getCause() : finished.failure();
      LambdaError error = LambdaError.of(cause instanceof LambdaException e ? e
          : LambdaException.service("The invocation could not run on this node: " + cause.getMessage()));
      if (!(cause instanceof LambdaException)) {
        getContext().getLog().warn("Invocation {} of {} failed in the platform", finished.invoke().invocation().requestId(),
            finished.function(), cause);
      }
      finished.invoke().replyTo().tell(new Result(null, null, error));
    } else {
      finished.invoke().replyTo().tell(new Result(finished.result(), finished.version(), null));
    }
    return this;
  }

  private Behavior<Command> onForget(Forget forget) {
    targets.keySet().removeIf(k -> k.function().equals(forget.functionName()));
    if (forget.deleted()) {
      runtime.retire(forget.functionName());
    }
    return this;
  }
}
