package io.tributary.api;

import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * Somewhere a message leaves Tributary for: a queue, a topic or a webhook. Asynchronous
 * invocation sends invocation records and dead-lettered events through it; event source
 * mappings send their failure records.
 */
public interface Destination {

  /**
   * Completes once the destination has accepted the message durably, or fails: with
   * {@link Rejected} when retrying cannot help, else with the cause (the caller retries: a
   * destination that is down delays messages, it never drops them).
   */
  CompletionStage<Void> send(Message message);

  /**
   * {@code key}: stable across retries of the same message (a Kafka record key, an SQS FIFO
   * deduplication id, a webhook's {@code X-Tributary-Message-Id}); {@code attributes}: SQS message
   * attributes, Kafka headers; a {@link Number} value is sent as an SQS {@code Number}, a
   * {@code byte[]} as a Kafka header's bytes. {@code keyBytes}, when set, is the Kafka record key
   * as it was (a failed record sent on as it came).
   */
  record Message(String key, byte[] body, Map<String, Object> attributes, byte[] keyBytes) {
    public Message {
      attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
    }

    public Message(String key, byte[] body, Map<String, Object> attributes) {
      this(key, body, attributes, null);
    }
  }

  /**
   * A destination refused a message for a reason that sending it again will not change (too
   * large, malformed, not allowed): the caller stops retrying it, and says so.
   */
  final class Rejected extends RuntimeException {
    public Rejected(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** The destinations this node can send to, by the target a user configured. */
  interface Resolver {

    /**
     * The destination named by {@code target}: an SQS queue ARN, {@code kafka://[cluster/]topic} or
     * an {@code http(s)://} URL. Throws {@link LambdaException} (400) saying what to change when this
     * node cannot send there.
     */
    Destination resolve(String target);

    /** Releases clients and connections; sends in progress may fail. */
    default void close() {
    }

    Resolver NONE = target -> {
      throw LambdaException.invalidParameter("The destination " + target + " is not supported: this node has no"
          + " queue, topic or webhook destinations configured.");
    };
  }
}
