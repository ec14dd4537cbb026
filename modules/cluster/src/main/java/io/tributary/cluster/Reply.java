package io.tributary.cluster;

import io.tributary.api.LambdaError;

/**
 * The answer of an entity to a command that asks for one: a value, or the AWS-shaped error that left
 * the entity unchanged.
 */
public record Reply<T>(T value, LambdaError error) implements ClusterMessage {

  public static <T> Reply<T> ok(T value) {
    return new Reply<>(value, null);
  }

  public T getOrThrow() {
    if (error != null) {
      throw error.toException();
    }
    return value;
  }
}
