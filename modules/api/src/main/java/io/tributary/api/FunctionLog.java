package io.tributary.api;

/**
 * What one invocation printed, with the START, END and REPORT lines, under Lambda's log group
 * ({@code /aws/lambda/<name>} unless LoggingConfig names another) and the environment's log stream.
 */
public record FunctionLog(String logGroup, String logStream, long timestamp, String text) {}
