package io.tributary.api;

import java.util.List;
import java.util.Map;

/**
 * The fields an UpdateFunctionConfiguration request set; null means "leave as it is", as in AWS,
 * where an absent member keeps its value and an empty {@code Environment} clears the variables.
 * {@code loggingConfig} may itself be partial: its members merge onto the current ones.
 */
public record ConfigurationPatch(
    String runtime,
    String role,
    String handler,
    String description,
    Integer timeout,
    Integer memorySize,
    Map<String, String> environment,
    Integer ephemeralStorageSize,
    String tracingMode,
    String kmsKeyArn,
    String deadLetterTargetArn,
    FunctionConfig.LoggingConfig loggingConfig,
    List<FunctionConfig.Layer> layers) {

  public FunctionConfig applyTo(FunctionConfig c, String revisionId, String now) {
    return new FunctionConfig(c.functionName(), c.version(), or(runtime, c.runtime()), or(role, c.role()),
        or(handler, c.handler()), or(description, c.description()), or(timeout, c.timeout()),
        or(memorySize, c.memorySize()), or(environment, c.environment()), c.codeSha256(), c.codeSize(),
        c.codeSha256Hex(), c.codeUnzippedSize(), c.architectures(), or(ephemeralStorageSize, c.ephemeralStorageSize()),
        or(tracingMode, c.tracingMode()), or(kmsKeyArn, c.kmsKeyArn()), or(deadLetterTargetArn, c.deadLetterTargetArn()),
        loggingConfig == null ? c.loggingConfig() : loggingConfig.over(c.loggingConfig()),
        or(layers, c.layers()), now, revisionId, c.state(), c.lastUpdateStatus());
  }

  private static <T> T or(T value, T current) {
    return value != null ? value : current;
  }
}
