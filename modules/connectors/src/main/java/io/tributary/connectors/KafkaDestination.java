package io.tributary.connectors;

import io.tributary.api.Destination;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TopicAuthorizationException;

/**
 * A Kafka topic: each message one record, keyed by the message's key, attributes as headers.
 * Completes when the broker acknowledged it ({@code acks=all}).
 */
final class KafkaDestination implements Destination {
  private final Producer<byte[], byte[]> producer;
  private final String topic;
  /** {@code Producer.send} blocks while it waits for the topic's metadata: never on the caller's thread. */
  private final Executor sending;

  KafkaDestination(Producer<byte[], byte[]> producer, String topic, Executor sending) {
    this.producer = producer;
    this.topic = topic;
    this.sending = sending;
  }

  @Override
  public CompletionStage<Void> send(Message message) {
    CompletableFuture<Void> sent = new CompletableFuture<>();
    sending.execute(() -> {
      try {
        byte[] key = message.keyBytes() != null ? message.keyBytes()
            : message.key() == null ? null : message.key().getBytes(StandardCharsets.UTF_8);
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, key, message.body());
        message.attributes().forEach((name, value) -> record.headers().add(name, value instanceof byte[] bytes ? bytes
            : String.valueOf(value).getBytes(StandardCharsets.UTF_8)));
        producer.send(record, (metadata, failure) -> complete(sent, failure));
      } catch (RuntimeException e) {
        complete(sent, e);
      }
    });
    return sent;
  }

  private void complete(CompletableFuture<Void> sent, Exception failure) {
    if (failure == null) {
      sent.complete(null);
    } else if (failure instanceof RecordTooLargeException || failure instanceof InvalidTopicException
        || failure instanceof TopicAuthorizationException) {
      sent.completeExceptionally(new Rejected("Kafka topic " + topic + " refused the record: " + failure.getMessage(),
          failure));
    } else {
      sent.completeExceptionally(failure);
    }
  }

  @Override
  public String toString() {
    return "kafka topic " + topic;
  }
}
