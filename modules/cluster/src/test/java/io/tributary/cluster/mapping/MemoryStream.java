package io.tributary.cluster.mapping;

import io.tributary.api.Destination;
import io.tributary.api.EventSource;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A stream in memory, as a Kafka consumer or a shard iterator would hand it out: partitions (or one
 * shard) of records with an order key and an arrival time, read ahead of what is committed; a
 * rewind or a new reader goes back to the commit. Each record's event is {@code {"id":…,"key":…}}
 * in a batch's {@code {"Records":[…]}}; its lane is its key's first letter ({@code a} → 0,
 * {@code b} → 1, …). Its methods are called by a loop's thread while a test adds records and looks.
 */
final class MemoryStream implements EventSource {

  /** One record: its id is its position. */
  record Rec(String id, String key, long timeMillis) {}

  private final Map<String, List<Rec>> partitions = new LinkedHashMap<>();
  private final Map<String, Integer> read = new HashMap<>();
  private final Map<String, Integer> committed = new HashMap<>();
  private final Set<String> paused = new HashSet<>();
  private final Set<String> losing = new HashSet<>();
  private final List<String> events = new ArrayList<>();
  private boolean closedForWrites;

  synchronized MemoryStream add(String partition, String id, String key, long timeMillis) {
    partitions.computeIfAbsent(partition, p -> new ArrayList<>()).add(new Rec(id, key, timeMillis));
    notifyAll();
    return this;
  }

  /** The stream takes no more records: once all are read, {@link #ended()}. */
  synchronized void closeForWrites() {
    closedForWrites = true;
  }

  /** Another reader takes {@code partition} (a rebalance): the loop hears it at its next {@link #lost()}. */
  synchronized void lose(String partition) {
    losing.add(partition);
  }

  /**
   * What the loop did to the stream, in order: {@code checkpoint p0@3}, {@code rewind p0@1},
   * {@code pause p0}, {@code resume p0}, and {@code lost p0} when it heard of a rebalance.
   */
  synchronized List<String> events() {
    return List.copyOf(events);
  }

  synchronized List<String> checkpoints(String partition) {
    String prefix = "checkpoint " + partition + "@";
    return events.stream().filter(e -> e.startsWith(prefix)).map(e -> e.substring(prefix.length())).toList();
  }

  @Override
  public synchronized List<Batch> poll(Duration wait, int maxRecords) {
    List<Batch> batches = new ArrayList<>();
    for (Map.Entry<String, List<Rec>> partition : partitions.entrySet()) {
      String id = partition.getKey();
      int from = read.getOrDefault(id, committed.getOrDefault(id, 0));
      int to = Math.min(partition.getValue().size(), from + maxRecords);
      if (paused.contains(id) || from >= to) {
        continue;
      }
      read.put(id, to);
      batches.add(batch(id, partition.getValue().subList(from, to)));
    }
    if (batches.isEmpty()) {
      try {
        wait(Math.max(1, Math.min(wait.toMillis(), 5)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return batches;
  }

  private static Batch batch(String partition, List<Rec> recs) {
    String records = recs.stream().map(r -> "{\"id\":\"" + r.id() + "\",\"key\":\"" + r.key() + "\"}")
        .collect(Collectors.joining(",", "{\"Records\":[", "]}"));
    return new Batch(partition, records.getBytes(StandardCharsets.UTF_8),
        recs.stream().map(r -> new Item(r.id(), r.timeMillis())).toList(), recs.get(0).id(),
        recs.get(recs.size() - 1).id());
  }

  private synchronized List<Rec> recs(Batch batch) {
    List<Rec> all = partitions.get(batch.shard());
    Set<String> ids = new HashSet<>(batch.itemIds());
    return all.stream().filter(r -> ids.contains(r.id())).toList();
  }

  private synchronized int indexOf(String partition, String id) {
    List<Rec> all = partitions.get(partition);
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i).id().equals(id)) {
        return i;
      }
    }
    throw new IllegalArgumentException(id + " is not in " + partition);
  }

  @Override
  public synchronized void checkpoint(Batch batch, Set<String> failed) {
    events.add("checkpoint " + batch.shard() + "@" + batch.lastPosition());
    committed.put(batch.shard(), indexOf(batch.shard(), batch.lastPosition()) + 1);
  }

  @Override
  public synchronized void rewind(Batch batch) {
    events.add("rewind " + batch.shard() + "@" + batch.firstPosition());
    read.put(batch.shard(), indexOf(batch.shard(), batch.firstPosition()));
  }

  @Override
  public Batch slice(Batch batch, int from, int to) {
    return batch(batch.shard(), recs(batch).subList(from, to));
  }

  @Override
  public List<Batch> lanes(Batch batch, int count) {
    List<List<Rec>> dealt = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      dealt.add(new ArrayList<>());
    }
    recs(batch).forEach(r -> dealt.get((r.key().charAt(0) - 'a') % count).add(r));
    return dealt.stream().map(recs -> recs.isEmpty() ? null : batch(batch.shard(), recs)).toList();
  }

  @Override
  public List<Destination.Message> originals(Batch batch) {
    return recs(batch).stream().map(r -> new Destination.Message(r.key(), r.id().getBytes(StandardCharsets.UTF_8),
        Map.of("origin", batch.shard()))).toList();
  }

  @Override
  public Map<String, Object> batchInfo(Batch batch) {
    return Map.of("MemoryBatchInfo", Map.of("shard", batch.shard(), "first", batch.firstPosition(),
        "last", batch.lastPosition()));
  }

  @Override
  public synchronized void pause(String shard) {
    events.add("pause " + shard);
    paused.add(shard);
  }

  @Override
  public synchronized void resume(String shard) {
    events.add("resume " + shard);
    paused.remove(shard);
  }

  @Override
  public synchronized Set<String> lost() {
    Set<String> taken = Set.copyOf(losing);
    losing.clear();
    taken.forEach(partition -> events.add("lost " + partition));
    return taken;
  }

  @Override
  public synchronized boolean ended() {
    return closedForWrites && partitions.entrySet().stream()
        .allMatch(p -> read.getOrDefault(p.getKey(), 0) >= p.getValue().size());
  }

  @Override
  public void close() {
  }
}
