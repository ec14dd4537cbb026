package io.tributary.cluster.mapping;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** Shard checkpoints in memory, under epochs as Cassandra keeps them; each accepted write is kept, in order. */
final class MemoryCheckpoints implements StreamCheckpoints {

  /** An accepted write. */
  record Saved(String shard, String position, boolean finished, Window window) {}

  private final Map<String, Checkpoint> shards = new HashMap<>();
  private final List<Saved> saved = new ArrayList<>();

  synchronized List<Saved> saved() {
    return List.copyOf(saved);
  }

  synchronized List<String> positions() {
    return saved.stream().map(Saved::position).toList();
  }

  @Override
  public synchronized CompletionStage<Map<String, Checkpoint>> all(String mapping) {
    return CompletableFuture.completedFuture(Map.copyOf(shards));
  }

  @Override
  public synchronized CompletionStage<Checkpoint> claim(String mapping, String shard) {
    Checkpoint was = shards.getOrDefault(shard, new Checkpoint(null, false, 0, null));
    Checkpoint claimed = new Checkpoint(was.position(), was.finished(), was.epoch() + 1, was.window());
    shards.put(shard, claimed);
    return CompletableFuture.completedFuture(claimed);
  }

  @Override
  public synchronized CompletionStage<Boolean> save(String mapping, String shard, long epoch, String position,
                                                    boolean finished, Window window) {
    Checkpoint was = shards.get(shard);
    if (was == null || was.epoch() != epoch) {
      return CompletableFuture.completedFuture(false);
    }
    shards.put(shard, new Checkpoint(position, finished, epoch, window));
    saved.add(new Saved(shard, position, finished, window));
    return CompletableFuture.completedFuture(true);
  }
}
