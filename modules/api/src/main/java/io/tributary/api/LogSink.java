package io.tributary.api;

/**
 * Where runtimes hand each invocation's log. Implementations must not block: they buffer and
 * store in batches, off the invocation's path.
 */
public interface LogSink {

  void accept(FunctionLog log);

  LogSink DISCARD = log -> { };
}
