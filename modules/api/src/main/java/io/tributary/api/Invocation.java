package io.tributary.api;

/**
 * One synchronous invocation as a runtime receives it. {@code clientContext} and
 * {@code cognitoIdentity} are the JSON Lambda passes to the runtime, or null.
 */
public record Invocation(
    String requestId,
    String invokedFunctionArn,
    byte[] payload,
    String clientContext,
    String cognitoIdentity,
    boolean tailLog) {}
