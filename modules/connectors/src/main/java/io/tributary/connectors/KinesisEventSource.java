package io.tributary.connectors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.tributary.api.EventSource;
import io.tributary.api.EventSourceMapping;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.GetShardIteratorRequest;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

/**
 * One shard of a Kinesis-compatible stream, read with GetRecords from a shard iterator: after a
 * checkpoint (AFTER_SEQUENCE_NUMBER), or from the mapping's starting position. Kinesis keeps no
 * position for its readers: the poller writes the checkpoints. Once GetRecords returns no next
 * iterator the shard was closed (split or merged) and is read to its end: {@link #ended()}.
 */
final class KinesisEventSource implements EventSource {
  private static final JsonFactory JSON = new JsonFactory();
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
  /** Kinesis allows 5 GetRecords a second per shard: an empty answer waits before the next. */
  private static final long IDLE_MILLIS = 250;

  private final KinesisAsyncClient client;
  private final String streamArn;
  private final String shard;
  private final String region;
  private final RecordFilter filter;
  private final Deque<Record> fetched = new ArrayDeque<>();
  private List<Record> handedOut = List.of();
  private String iterator;
  private boolean ended;
  private boolean paused;

  KinesisEventSource(KinesisAsyncClient client, EventSourceMapping mapping, String shard, String afterPosition,
                     String region, RecordFilter filter) {
    this.client = client;
    this.streamArn = mapping.eventSourceArn();
    this.shard = shard;
    this.region = region;
    this.filter = filter;
    GetShardIteratorRequest.Builder request = GetShardIteratorRequest.builder().streamName(streamName(streamArn))
        .shardId(shard);
    if (afterPosition != null) {
      request.shardIteratorType(ShardIteratorType.AFTER_SEQUENCE_NUMBER).startingSequenceNumber(afterPosition);
    } else if ("AT_TIMESTAMP".equals(mapping.startingPosition())) {
      request.shardIteratorType(ShardIteratorType.AT_TIMESTAMP)
          .timestamp(Instant.ofEpochMilli(mapping.startingPositionTimestampMillis()));
    } else {
      request.shardIteratorType("LATEST".equals(mapping.startingPosition()) ? ShardIteratorType.LATEST
          : ShardIteratorType.TRIM_HORIZON);
    }
    this.iterator = call(client.getShardIterator(request.build()), "GetShardIterator").shardIterator();
  }

  /** The stream's name: every Kinesis-compatible server takes it, not all take the ARN. */
  static String streamName(String streamArn) {
    return streamArn.substring(streamArn.indexOf(":stream/") + ":stream/".length());
  }

  private <T> T call(java.util.concurrent.CompletableFuture<T> future, String what) {
    return await(future, what + " on " + streamArn + " " + shard);
  }

  /** The SDK's answer, or an exception that says which call failed and why. */
  static <T> T await(java.util.concurrent.CompletableFuture<T> future, String what) {
    try {
      return future.get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(what + " was interrupted", e);
    } catch (ExecutionException | TimeoutException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new IllegalStateException(what + " failed: " + cause.getMessage(), cause);
    }
  }

  @Override
  public List<Batch> poll(Duration wait, int maxRecords) {
    if (paused) {
      sleep(wait.toMillis());
      return List.of();
    }
    if (fetched.isEmpty() && iterator != null) {
      GetRecordsResponse response = call(client.getRecords(b -> b.shardIterator(iterator)
          .limit(Math.min(10_000, maxRecords))), "GetRecords");
      iterator = response.nextShardIterator();
      fetched.addAll(response.records());
      if (fetched.isEmpty()) {
        sleep(Math.min(wait.toMillis(), IDLE_MILLIS));
      }
    }
    if (fetched.isEmpty()) {
      ended = iterator == null;
      if (ended) {
        sleep(wait.toMillis());
      }
      return List.of();
    }
    List<Record> batch = new ArrayList<>();
    long bytes = 256;
    while (!fetched.isEmpty() && batch.size() < maxRecords) {
      Record r = fetched.peekFirst();
      long size = 512 + r.partitionKey().length() + 4L * (r.data().asByteArrayUnsafe().length + 2) / 3;
      if (!batch.isEmpty() && bytes + size > MAX_BATCH_BYTES) {
        break;
      }
      bytes += size;
      batch.add(fetched.removeFirst());
    }
    handedOut = filter == null ? batch : batch.stream().filter(r -> filter.matches(asJson(r))).toList();
    return List.of(new Batch(shard, handedOut.isEmpty() ? null : event(handedOut), items(handedOut),
        batch.get(0).sequenceNumber(), batch.get(batch.size() - 1).sequenceNumber()));
  }

  private static List<Item> items(List<Record> records) {
    return records.stream().map(r -> new Item(r.sequenceNumber(), r.approximateArrivalTimestamp().toEpochMilli()))
        .toList();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(Math.max(1, millis));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A record as filters see it: its data as the JSON it holds, when it holds JSON, beside its metadata. */
  private com.fasterxml.jackson.databind.JsonNode asJson(Record r) {
    var o = RecordFilter.object();
    o.put("partitionKey", r.partitionKey());
    o.put("sequenceNumber", r.sequenceNumber());
    o.set("data", RecordFilter.payload(r.data().asByteArray()));
    o.put("eventSource", "aws:kinesis");
    o.put("eventSourceARN", streamArn);
    o.put("awsRegion", region);
    return o;
  }

  /** AWS's Kinesis event: {@code Records}, each the record's metadata and its data in base64. */
  private byte[] event(List<Record> records) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256 + records.size() * 512);
    Base64.Encoder base64 = Base64.getEncoder();
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeArrayFieldStart("Records");
      for (Record r : records) {
        g.writeStartObject();
        g.writeObjectFieldStart("kinesis");
        g.writeStringField("kinesisSchemaVersion", "1.0");
        g.writeStringField("partitionKey", r.partitionKey());
        g.writeStringField("sequenceNumber", r.sequenceNumber());
        g.writeStringField("data", base64.encodeToString(r.data().asByteArrayUnsafe()));
        g.writeNumberField("approximateArrivalTimestamp",
            BigDecimal.valueOf(r.approximateArrivalTimestamp().toEpochMilli()).movePointLeft(3));
        g.writeEndObject();
        g.writeStringField("eventSource", "aws:kinesis");
        g.writeStringField("eventVersion", "1.0");
        g.writeStringField("eventID", shard + ":" + r.sequenceNumber());
        g.writeStringField("eventName", "aws:kinesis:record");
        g.writeStringField("awsRegion", region);
        g.writeStringField("eventSourceARN", streamArn);
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Kinesis keeps no readers' positions: the poller writes the checkpoint. */
  @Override
  public void checkpoint(Batch batch, Set<String> failed) {
  }

  /** Reads the batch again from its first record. */
  @Override
  public void rewind(Batch batch) {
    fetched.clear();
    iterator = call(client.getShardIterator(b -> b.streamName(streamName(streamArn)).shardId(shard)
        .shardIteratorType(ShardIteratorType.AT_SEQUENCE_NUMBER).startingSequenceNumber(batch.firstPosition())),
        "GetShardIterator").shardIterator();
  }

  private List<Record> recordsOf(Batch batch) {
    String first = batch.items().get(0).id();
    int from = 0;
    while (from < handedOut.size() && !handedOut.get(from).sequenceNumber().equals(first)) {
      from++;
    }
    if (from + batch.records() > handedOut.size()) {
      throw new IllegalStateException("The batch of " + shard + " at " + first + " is not held");
    }
    return handedOut.subList(from, from + batch.records());
  }

  @Override
  public Batch slice(Batch batch, int from, int to) {
    List<Record> records = recordsOf(batch).subList(from, to);
    return new Batch(shard, event(records), items(records), records.get(0).sequenceNumber(),
        records.get(records.size() - 1).sequenceNumber());
  }

  /** AWS's KinesisBatchInfo: the shard, the batch's sequence range and arrival times, the stream. */
  @Override
  public Map<String, Object> batchInfo(Batch batch) {
    List<Record> records = recordsOf(batch);
    Record first = records.get(0);
    Record last = records.get(records.size() - 1);
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("shardId", shard);
    info.put("startSequenceNumber", first.sequenceNumber());
    info.put("endSequenceNumber", last.sequenceNumber());
    info.put("approximateArrivalOfFirstRecord", first.approximateArrivalTimestamp().toString());
    info.put("approximateArrivalOfLastRecord", last.approximateArrivalTimestamp().toString());
    info.put("batchSize", records.size());
    info.put("streamArn", streamArn);
    return Map.of("KinesisBatchInfo", info);
  }

  @Override
  public void pause(String shard) {
    paused = true;
  }

  @Override
  public void resume(String shard) {
    paused = false;
  }

  @Override
  public boolean ended() {
    return ended;
  }

  @Override
  public void close() {
    fetched.clear();
  }
}
