package io.tributary.connectors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import io.tributary.api.EventSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One shard of a stream read with shard iterators and GetRecords (Kinesis, DynamoDB Streams):
 * records are fetched into a buffer and handed out in batches of the shard's order, within the
 * batch size and 6 MB. These streams keep no position for their readers: the poller writes the
 * checkpoints. Once GetRecords returns no next iterator, the shard was closed (split, merged,
 * or rolled over) and is read to its end: {@link #ended()}.
 *
 * @param <R> the stream's record
 */
abstract class ShardIteratorSource<R> implements EventSource {
  private static final JsonFactory JSON = new JsonFactory();
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
  /** These streams allow 5 GetRecords a second per shard: an empty answer waits before the next. */
  private static final long IDLE_MILLIS = 250;

  /**
   * One GetRecords answer: its records, the iterator that follows them (null: the shard ended),
   * and how far behind the head they are (null when the stream does not say).
   */
  record Page<R>(List<R> records, String next, Long millisBehind) {}

  protected final String streamArn;
  protected final String shard;
  protected final String region;
  private final RecordFilter filter;
  private final Deque<R> fetched = new ArrayDeque<>();
  /** Records handed out and not checkpointed yet, by sequence number: several batches may be in flight. */
  private final Map<String, R> handedOut = new HashMap<>();
  private String iterator;
  private boolean ended;
  private boolean paused;
  private Long millisBehind;

  ShardIteratorSource(String streamArn, String shard, String region, RecordFilter filter) {
    this.streamArn = streamArn;
    this.shard = shard;
    this.region = region;
    this.filter = filter;
  }

  /** Called once by the constructor of a subclass, with the iterator it starts from. */
  protected final void startAt(String firstIterator) {
    this.iterator = firstIterator;
  }

  abstract Page<R> fetch(String iterator, int limit);

  /** An iterator at (not after) {@code sequenceNumber}. */
  abstract String iteratorAt(String sequenceNumber);

  abstract String sequenceNumber(R record);

  abstract Instant arrival(R record);

  /** About what the record adds to the event, for the 6 MB cap. */
  abstract long eventBytes(R record);

  /** The record as one element of the event's {@code Records}, in AWS's shape. */
  abstract void write(JsonGenerator g, R record) throws IOException;

  /** The record as the mapping's filters see it. */
  abstract JsonNode asJson(R record);

  /** What keeps records in order under a ParallelizationFactor above 1: a partition key, an item's keys. */
  abstract String orderKey(R record);

  /** The member a failure record holds the batch's range under ({@code KinesisBatchInfo}, …). */
  abstract String batchInfoName();

  /** The SDK's answer, or an exception that says which call failed and why. */
  static <T> T await(CompletableFuture<T> future, String what) {
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

  protected <T> T call(CompletableFuture<T> future, String what) {
    return await(future, what + " on " + streamArn + " " + shard);
  }

  @Override
  public List<Batch> poll(Duration wait, int maxRecords) {
    if (paused) {
      sleep(wait.toMillis());
      return List.of();
    }
    if (fetched.isEmpty() && iterator != null) {
      Page<R> page = fetch(iterator, maxRecords);
      iterator = page.next();
      millisBehind = page.millisBehind();
      fetched.addAll(page.records());
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
    List<R> batch = new ArrayList<>();
    long bytes = 256;
    while (!fetched.isEmpty() && batch.size() < maxRecords) {
      long size = eventBytes(fetched.peekFirst());
      if (!batch.isEmpty() && bytes + size > MAX_BATCH_BYTES) {
        break;
      }
      bytes += size;
      batch.add(fetched.removeFirst());
    }
    List<R> passed = filter == null ? batch : batch.stream().filter(r -> filter.matches(asJson(r))).toList();
    passed.forEach(r -> handedOut.put(sequenceNumber(r), r));
    return List.of(new Batch(shard, passed.isEmpty() ? null : event(passed), items(passed),
        sequenceNumber(batch.get(0)), sequenceNumber(batch.get(batch.size() - 1))));
  }

  /** Records with one order key always land in the same lane, so their order is kept. */
  @Override
  public List<Batch> lanes(Batch batch, int count) {
    if (count == 1 || batch.records() == 0) {
      return List.of(batch);
    }
    List<List<R>> lanes = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      lanes.add(new ArrayList<>());
    }
    for (R r : recordsOf(batch)) {
      lanes.get(Math.floorMod(orderKey(r).hashCode(), count)).add(r);
    }
    return lanes.stream().map(lane -> lane.isEmpty() ? null : batchOf(lane)).toList();
  }

  private Batch batchOf(List<R> records) {
    return new Batch(shard, event(records), items(records), sequenceNumber(records.get(0)),
        sequenceNumber(records.get(records.size() - 1)));
  }

  private List<Item> items(List<R> records) {
    return records.stream().map(r -> new Item(sequenceNumber(r), arrival(r).toEpochMilli())).toList();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(Math.max(1, millis));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** AWS's stream event: {@code Records}. */
  private byte[] event(List<R> records) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256 + records.size() * 512);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeArrayFieldStart("Records");
      for (R r : records) {
        write(g, r);
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** The stream keeps no readers' positions: the poller writes the checkpoint. */
  @Override
  public void checkpoint(Batch batch, Set<String> failed) {
    batch.items().forEach(item -> handedOut.remove(item.id()));
  }

  /** Reads the batch again from its first record. */
  @Override
  public void rewind(Batch batch) {
    fetched.clear();
    iterator = iteratorAt(batch.firstPosition());
  }

  private List<R> recordsOf(Batch batch) {
    List<R> records = new ArrayList<>(batch.records());
    for (Item item : batch.items()) {
      R r = handedOut.get(item.id());
      if (r == null) {
        throw new IllegalStateException("Record " + item.id() + " of " + shard + " is not held");
      }
      records.add(r);
    }
    return records;
  }

  @Override
  public Batch slice(Batch batch, int from, int to) {
    return batchOf(recordsOf(batch).subList(from, to));
  }

  /** AWS's batch info: the shard, the batch's sequence range and arrival times, the stream. */
  @Override
  public Map<String, Object> batchInfo(Batch batch) {
    List<R> records = recordsOf(batch);
    R first = records.get(0);
    R last = records.get(records.size() - 1);
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("shardId", shard);
    info.put("startSequenceNumber", sequenceNumber(first));
    info.put("endSequenceNumber", sequenceNumber(last));
    info.put("approximateArrivalOfFirstRecord", arrival(first).toString());
    info.put("approximateArrivalOfLastRecord", arrival(last).toString());
    info.put("batchSize", records.size());
    info.put("streamArn", streamArn);
    return Map.of(batchInfoName(), info);
  }

  @Override
  public Map<String, Long> lagMillis() {
    return millisBehind == null ? Map.of() : Map.of(shard, millisBehind);
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
    handedOut.clear();
  }
}
