package io.tributary.api;

import java.util.concurrent.CompletionStage;

/**
 * The port through which the cluster runs code on this node. An adapter keeps warm execution
 * environments per function version and runs one invocation at a time in each. Function errors,
 * timeouts and crashes complete normally with an {@link InvocationResult} whose
 * {@code functionError} is set; the stage fails only with a {@link LambdaException} when the
 * platform could not run the invocation at all.
 */
public interface FunctionRuntime {

  CompletionStage<InvocationResult> invoke(FunctionConfig version, Invocation invocation);

  /**
   * Keeps {@code count} environments of {@code version} initialized on this node ahead of demand
   * (provisioned concurrency; 0 stops them). {@code generation} names the request: a new one retries
   * starts that failed under an earlier one. Returns at once; environments start in the background.
   */
  void provision(FunctionConfig version, String functionArn, int count, String generation);

  /** This node's provisioned environments of a version: how many are ready, and why a start failed. */
  Provisioned provisioned(String functionName, String version);

  /** {@code failure}: the init error of the last start that failed under the current generation, or null. */
  record Provisioned(int ready, String failure) {}

  /**
   * Runs {@code invocation} on an idle provisioned environment of {@code version}; null at once when
   * this node has none idle, and the caller runs it on demand.
   */
  CompletionStage<InvocationResult> invokeProvisioned(FunctionConfig version, Invocation invocation);

  /** Stops the environments of a function once they are idle: it was deleted. */
  void retire(String functionName);

  /** Stops every environment (node shutdown); invocations in flight are allowed to finish first. */
  CompletionStage<Void> shutdown();
}
