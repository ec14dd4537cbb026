package io.tributary.connectors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.tributary.api.EventSource;
import io.tributary.api.EventSourceMapping;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A self-managed Kafka source: one consumer in the mapping's consumer group (its UUID unless
 * given), so the group spreads the topic's partitions over the pollers of all nodes. Offsets are
 * committed per partition after each processed batch; nothing is committed automatically.
 */
final class KafkaEventSource implements EventSource {
  private static final JsonFactory JSON = new JsonFactory();

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final String bootstrapServers;
  private final RecordFilter filter;

  /** {@code filter} null: every record passes. */
  KafkaEventSource(EventSourceMapping mapping, Map<String, String> extra, RecordFilter filter) {
    this.filter = filter;
    this.bootstrapServers = String.join(",", mapping.bootstrapServers());
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, mapping.consumerGroupId() != null ? mapping.consumerGroupId()
        : mapping.uuid());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
        "LATEST".equals(mapping.startingPosition()) ? "latest" : "earliest");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(Math.max(1, mapping.batchSize())));
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "tributary-" + mapping.uuid());
    // A batch may take a function's whole timeout (15 min) and its retries: stay in the group meanwhile.
    p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, Integer.toString(20 * 60 * 1000));
    p.putAll(extra);
    this.consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    consumer.subscribe(mapping.topics());
  }

  @Override
  public List<Batch> poll(Duration wait, int maxRecords) {
    ConsumerRecords<byte[], byte[]> records = consumer.poll(wait);
    List<Batch> batches = new ArrayList<>();
    for (TopicPartition partition : records.partitions()) {
      List<ConsumerRecord<byte[], byte[]>> all = records.records(partition);
      List<ConsumerRecord<byte[], byte[]>> batch = all.subList(0, Math.min(all.size(), maxRecords));
      if (batch.size() < all.size()) {
        // What did not fit is read again after this batch (its offset is not committed until then).
        consumer.seek(partition, all.get(batch.size()).offset());
      }
      List<ConsumerRecord<byte[], byte[]>> passed = filter == null ? batch
          : batch.stream().filter(r -> filter.matches(asJson(r))).toList();
      batches.add(new Batch(partition.topic() + "-" + partition.partition(),
          passed.isEmpty() ? null : event(partition, passed),
          passed.stream().map(r -> Long.toString(r.offset())).toList(),
          Long.toString(batch.get(0).offset()), Long.toString(batch.get(batch.size() - 1).offset())));
    }
    return batches;
  }

  /** A record as filters see it: its value as the JSON it holds, when it holds JSON. */
  private static com.fasterxml.jackson.databind.JsonNode asJson(ConsumerRecord<byte[], byte[]> r) {
    var o = RecordFilter.object();
    o.put("topic", r.topic());
    o.put("partition", r.partition());
    o.put("offset", r.offset());
    o.put("timestamp", r.timestamp());
    o.put("timestampType", r.timestampType().name());
    if (r.key() != null) {
      o.put("key", Base64.getEncoder().encodeToString(r.key()));
    }
    o.set("value", RecordFilter.payload(r.value()));
    return o;
  }

  /** AWS's self-managed Kafka event: records under "topic-partition", key and value in base64. */
  private byte[] event(TopicPartition partition, List<ConsumerRecord<byte[], byte[]>> batch) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256 + batch.size() * 128);
    Base64.Encoder base64 = Base64.getEncoder();
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("eventSource", "SelfManagedKafka");
      g.writeStringField("bootstrapServers", bootstrapServers);
      g.writeObjectFieldStart("records");
      g.writeArrayFieldStart(partition.topic() + "-" + partition.partition());
      for (ConsumerRecord<byte[], byte[]> r : batch) {
        g.writeStartObject();
        g.writeStringField("topic", r.topic());
        g.writeNumberField("partition", r.partition());
        g.writeNumberField("offset", r.offset());
        g.writeNumberField("timestamp", r.timestamp());
        g.writeStringField("timestampType", r.timestampType().name());
        if (r.key() != null) {
          g.writeStringField("key", base64.encodeToString(r.key()));
        }
        if (r.value() != null) {
          g.writeStringField("value", base64.encodeToString(r.value()));
        }
        g.writeArrayFieldStart("headers");
        for (Header h : r.headers()) {
          g.writeStartObject();
          g.writeArrayFieldStart(h.key());
          if (h.value() != null) {
            for (byte b : h.value()) {
              g.writeNumber(b);
            }
          }
          g.writeEndArray();
          g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Kafka mappings take no partial batch responses (the API refuses them): the whole batch is committed. */
  @Override
  public void checkpoint(Batch batch, java.util.Set<String> failed) {
    consumer.commitSync(Map.of(partitionOf(batch), new OffsetAndMetadata(Long.parseLong(batch.lastPosition()) + 1)));
  }

  /** From the consumer's last fetch: no request to the brokers. */
  @Override
  public Map<String, Long> lag() {
    Map<String, Long> lag = new java.util.TreeMap<>();
    for (TopicPartition partition : consumer.assignment()) {
      consumer.currentLag(partition).ifPresent(behind -> lag.put(partition.topic() + "-" + partition.partition(),
          behind));
    }
    return lag;
  }

  @Override
  public void rewind(Batch batch) {
    consumer.seek(partitionOf(batch), Long.parseLong(batch.firstPosition()));
  }

  private static TopicPartition partitionOf(Batch batch) {
    int dash = batch.shard().lastIndexOf('-');
    return new TopicPartition(batch.shard().substring(0, dash), Integer.parseInt(batch.shard().substring(dash + 1)));
  }

  @Override
  public void close() {
    consumer.close(Duration.ofSeconds(5));
  }
}
