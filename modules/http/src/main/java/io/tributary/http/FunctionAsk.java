package io.tributary.http;

import io.tributary.api.LambdaException;
import io.tributary.cluster.Asks;
import io.tributary.cluster.Reply;
import io.tributary.cluster.function.FunctionEntity.Command;
import io.tributary.cluster.function.FunctionEntity;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/** Asks a FunctionEntity (or another entity); the answer is its value, or fails with the AWS error it carries. */
final class FunctionAsk {

  private final ClusterSharding sharding;
  private final Duration timeout;
  private final Executor executor;

  FunctionAsk(ClusterSharding sharding, Duration timeout, Executor executor) {
    this.sharding = sharding;
    this.timeout = timeout;
    this.executor = executor;
  }

  <T> CompletionStage<T> ask(String functionName, Function<ActorRef<Reply<T>>, Command> command) {
    return ask(FunctionEntity.TYPE_KEY, functionName, "Function " + functionName, command);
  }

  /** The same for any sharded entity that answers with a {@link Reply}; {@code what} names it in errors. */
  <C, T> CompletionStage<T> ask(EntityTypeKey<C> type, String id, String what,
                                Function<ActorRef<Reply<T>>, C> command) {
    return Asks.on(sharding.entityRefFor(type, id).<Reply<T>>ask(command::apply, timeout), executor)
        .handle((reply, failure) -> {
          if (failure != null) {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
            if (cause instanceof TimeoutException) {
              throw LambdaException.service(what + " did not answer within " + timeout.toSeconds()
                  + " s (the cluster may be rebalancing after a node left); retry.");
            }
            throw new CompletionException(cause);
          }
          return reply.getOrThrow();
        });
  }
}
