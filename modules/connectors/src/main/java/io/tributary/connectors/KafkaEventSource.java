package io.tributary.connectors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.tributary.api.Destination;
import io.tributary.api.EventSource;
import io.tributary.api.EventSourceMapping;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
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
 * committed per partition after each processed batch; nothing is committed automatically. A
 * partition the group assigns with no committed offset starts at the mapping's starting position
 * (for AT_TIMESTAMP, the first offset at or after the timestamp).
 */
final class KafkaEventSource implements EventSource {
  private static final JsonFactory JSON = new JsonFactory();
  private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(10);

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final String bootstrapServers;
  private final RecordFilter filter;
  /** The records of the last batch handed out per partition (those that passed the filters), until settled. */
  private final Map<String, List<ConsumerRecord<byte[], byte[]>>> handedOut = new HashMap<>();
  private final Set<String> lost = new HashSet<>();

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
    try {
      // A cluster that cannot be reached fails here, where the poller reports it, not in silent empty polls.
      for (String topic : mapping.topics()) {
        consumer.partitionsFor(topic, METADATA_TIMEOUT);
      }
    } catch (RuntimeException e) {
      consumer.close(Duration.ZERO);
      throw new IllegalStateException("Kafka at " + bootstrapServers + " cannot be reached: " + e.getMessage(), e);
    }
    consumer.subscribe(mapping.topics(), new Rebalance(mapping.startingPositionTimestampMillis()));
  }

  /** Remembers lost partitions for the poller; starts new ones at AT_TIMESTAMP when so asked. */
  private final class Rebalance implements ConsumerRebalanceListener {
    private final Long startAtMillis;

    Rebalance(Long startAtMillis) {
      this.startAtMillis = startAtMillis;
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      partitions.forEach(p -> forget(shardOf(p)));
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      onPartitionsRevoked(partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      if (startAtMillis == null || partitions.isEmpty()) {
        return;
      }
      Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(new HashSet<>(partitions));
      Map<TopicPartition, Long> fresh = new HashMap<>();
      partitions.stream().filter(p -> committed.get(p) == null).forEach(p -> fresh.put(p, startAtMillis));
      if (fresh.isEmpty()) {
        return;
      }
      consumer.offsetsForTimes(fresh).forEach((partition, found) -> {
        if (found != null) {
          consumer.seek(partition, found.offset());
        } else {
          consumer.seekToEnd(List.of(partition));
        }
      });
    }
  }

  private void forget(String shard) {
    lost.add(shard);
    handedOut.remove(shard);
  }

  private static String shardOf(TopicPartition p) {
    return p.topic() + "-" + p.partition();
  }

  @Override
  public Set<String> lost() {
    if (lost.isEmpty()) {
      return Set.of();
    }
    Set<String> taken = Set.copyOf(lost);
    lost.clear();
    return taken;
  }

  @Override
  public List<Batch> poll(Duration wait, int maxRecords) {
    ConsumerRecords<byte[], byte[]> records = consumer.poll(wait);
    List<Batch> batches = new ArrayList<>();
    for (TopicPartition partition : records.partitions()) {
      List<ConsumerRecord<byte[], byte[]>> all = records.records(partition);
      List<ConsumerRecord<byte[], byte[]>> batch = all.subList(0, fitting(all, maxRecords));
      if (batch.size() < all.size()) {
        // What did not fit is read again after this batch (its offset is not committed until then).
        consumer.seek(partition, all.get(batch.size()).offset());
      }
      List<ConsumerRecord<byte[], byte[]>> passed = filter == null ? batch
          : batch.stream().filter(r -> filter.matches(asJson(r))).toList();
      String shard = shardOf(partition);
      handedOut.put(shard, passed);
      batches.add(new Batch(shard, passed.isEmpty() ? null : event(partition, passed), items(passed),
          Long.toString(batch.get(0).offset()), Long.toString(batch.get(batch.size() - 1).offset())));
    }
    return batches;
  }

  /**
   * How many of {@code records} make a batch: at most {@code maxRecords}, and an event within
   * AWS's 6 MB batch cap (at least one record, however large).
   */
  static int fitting(List<ConsumerRecord<byte[], byte[]>> records, int maxRecords) {
    long bytes = 256;
    int count = 0;
    for (ConsumerRecord<byte[], byte[]> r : records) {
      long size = 200 + r.topic().length() + base64Length(r.key()) + base64Length(r.value());
      for (Header h : r.headers()) {
        size += 16 + h.key().length() + (h.value() == null ? 0 : 4L * h.value().length);
      }
      if (count == maxRecords || (count > 0 && bytes + size > MAX_BATCH_BYTES)) {
        break;
      }
      bytes += size;
      count++;
    }
    return count;
  }

  private static long base64Length(byte[] bytes) {
    return bytes == null ? 0 : 4L * ((bytes.length + 2) / 3);
  }

  private static List<Item> items(List<ConsumerRecord<byte[], byte[]>> records) {
    return records.stream().map(r -> new Item(Long.toString(r.offset()), r.timestamp())).toList();
  }

  /** The records handed out in {@code batch}: a run of the partition's last batch, found by offsets. */
  private List<ConsumerRecord<byte[], byte[]>> recordsOf(Batch batch) {
    List<ConsumerRecord<byte[], byte[]>> all = handedOut.get(batch.shard());
    if (all == null || batch.items().isEmpty()) {
      throw new IllegalStateException("No batch of " + batch.shard() + " is held (its partition moved on)");
    }
    long first = Long.parseLong(batch.items().get(0).id());
    int from = 0;
    while (from < all.size() && all.get(from).offset() != first) {
      from++;
    }
    if (from + batch.records() > all.size()) {
      throw new IllegalStateException("The batch of " + batch.shard() + " at " + first + " is not held");
    }
    return all.subList(from, from + batch.records());
  }

  @Override
  public Batch slice(Batch batch, int from, int to) {
    List<ConsumerRecord<byte[], byte[]>> records = recordsOf(batch).subList(from, to);
    TopicPartition partition = partitionOf(batch);
    return new Batch(batch.shard(), event(partition, records), items(records),
        Long.toString(records.get(0).offset()), Long.toString(records.get(records.size() - 1).offset()));
  }

  /** Each record as it came: its key, value and headers, to be written to a failure topic. */
  @Override
  public List<Destination.Message> originals(Batch batch) {
    List<Destination.Message> messages = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : recordsOf(batch)) {
      Map<String, Object> headers = new LinkedHashMap<>();
      for (Header h : r.headers()) {
        headers.put(h.key(), h.value() == null ? new byte[0] : h.value());
      }
      messages.add(new Destination.Message(null, r.value(), headers, r.key()));
    }
    return messages;
  }

  /** AWS's KafkaBatchInfo: the batch's size, cluster, and first and last record per partition. */
  @Override
  public Map<String, Object> batchInfo(Batch batch) {
    List<ConsumerRecord<byte[], byte[]>> records = recordsOf(batch);
    ConsumerRecord<byte[], byte[]> first = records.get(0);
    ConsumerRecord<byte[], byte[]> last = records.get(records.size() - 1);
    Map<String, Object> range = new LinkedHashMap<>();
    range.put("firstRecordOffset", Long.toString(first.offset()));
    range.put("firstRecordTimestamp", Instant.ofEpochMilli(first.timestamp()).toString());
    range.put("lastRecordOffset", Long.toString(last.offset()));
    range.put("lastRecordTimestamp", Instant.ofEpochMilli(last.timestamp()).toString());
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("batchSize", records.size());
    info.put("bootstrapServers", bootstrapServers);
    info.put("payloadSize", batch.event() == null ? 0 : batch.event().length);
    info.put("recordsInfo", Map.of(batch.shard(), range));
    return Map.of("KafkaBatchInfo", info);
  }

  @Override
  public void pause(String shard) {
    consumer.pause(List.of(partitionOf(shard)));
  }

  @Override
  public void resume(String shard) {
    TopicPartition partition = partitionOf(shard);
    if (consumer.assignment().contains(partition)) {
      consumer.resume(List.of(partition));
    }
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

  /**
   * AWS's Kafka event: records under "topic-partition", key and value in base64. The event source
   * is {@code aws:kafka} as the issue and LAMBDA.md state it (AWS's self-managed Kafka mappings
   * send {@code SelfManagedKafka}; its MSK mappings {@code aws:kafka}).
   */
  private byte[] event(TopicPartition partition, List<ConsumerRecord<byte[], byte[]>> batch) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256 + batch.size() * 128);
    Base64.Encoder base64 = Base64.getEncoder();
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("eventSource", "aws:kafka");
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

  /**
   * Commits the partition up to the batch's last record. The poller settles failures itself (it
   * retries a stream's batch in place), so {@code failed} is always empty here.
   */
  @Override
  public void checkpoint(Batch batch, Set<String> failed) {
    consumer.commitSync(Map.of(partitionOf(batch), new OffsetAndMetadata(Long.parseLong(batch.lastPosition()) + 1)));
    List<ConsumerRecord<byte[], byte[]>> held = handedOut.get(batch.shard());
    if (held != null && (held.isEmpty()
        || held.get(held.size() - 1).offset() <= Long.parseLong(batch.lastPosition()))) {
      handedOut.remove(batch.shard());
    }
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
    return partitionOf(batch.shard());
  }

  private static TopicPartition partitionOf(String shard) {
    int dash = shard.lastIndexOf('-');
    return new TopicPartition(shard.substring(0, dash), Integer.parseInt(shard.substring(dash + 1)));
  }

  @Override
  public void close() {
    consumer.close(Duration.ofSeconds(5));
  }
}
