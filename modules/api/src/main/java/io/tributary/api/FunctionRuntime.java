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

  /** Stops the environments of a function once they are idle: it was deleted. */
  void retire(String functionName);

  /** Stops every environment (node shutdown); invocations in flight are allowed to finish first. */
  CompletionStage<Void> shutdown();
}
