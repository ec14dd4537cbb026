package io.tributary.runtime;

import io.tributary.api.Invocation;
import io.tributary.api.InvocationResult;
import java.util.concurrent.CompletionStage;

/** One execution environment of a function version: one invocation at a time, reused while warm. */
interface ExecutionEnvironment {

  /** Runs one invocation; function errors, timeouts and crashes complete normally with their error document. */
  CompletionStage<InvocationResult> invoke(Invocation invocation);

  /**
   * Completes once init is over: with null when it succeeded, or with the init error as
   * {@code "<errorType>: <errorMessage>"} (the environment is then dead).
   */
  CompletionStage<String> initialized();

  /**
   * Marks an environment initialized ahead of demand: its init is not part of its first invocation
   * (no Init Duration in that REPORT), as on AWS.
   */
  default void provisioned() {}

  /** True once the environment cannot run another invocation (it timed out, crashed or was stopped). */
  boolean isDead();

  /**
   * False for an environment whose classes stay in memory once stopped (an in-process one that ran on
   * the node's shared threads, which may hold its thread-locals): stopping it when idle frees nothing.
   */
  default boolean expires() {
    return true;
  }

  /** Stops the environment and frees what it holds. Idempotent. */
  void destroy();
}
