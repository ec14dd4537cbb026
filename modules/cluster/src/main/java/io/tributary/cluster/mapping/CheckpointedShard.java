package io.tributary.cluster.mapping;

import io.tributary.api.Destination;
import io.tributary.api.EventSource;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A shard's source whose checkpoints are also written to {@link StreamCheckpoints} under the
 * poller's epoch, with the tumbling window open at them. A checkpoint is written while the shard's
 * next batch is read and invoked, one at a time: the next one first waits for it. A write refused
 * because another poller raised the epoch stops the loop (its {@code running} flag cleared) without
 * writing anything more.
 */
final class CheckpointedShard implements ShardSource {

  private static final Logger log = LoggerFactory.getLogger(CheckpointedShard.class);

  private final EventSource source;
  private final String uuid;
  private final String shard;
  private final long epoch;
  private final StreamCheckpoints checkpoints;
  private final AtomicBoolean running;
  private final StreamCheckpoints.Window startWindow;
  private String position;
  private StreamCheckpoints.Window window;
  /** The checkpoint being written, if any, and its position. */
  private CompletableFuture<Boolean> writing;
  private String writingPosition;

  /** {@code position} and {@code window}: the shard's checkpoint as claimed under {@code epoch}. */
  CheckpointedShard(EventSource source, String uuid, String shard, long epoch, String position,
                    StreamCheckpoints.Window window, StreamCheckpoints checkpoints, AtomicBoolean running) {
    this.source = source;
    this.uuid = uuid;
    this.shard = shard;
    this.epoch = epoch;
    this.position = position;
    this.startWindow = window;
    this.window = window;
    this.checkpoints = checkpoints;
    this.running = running;
  }

  @Override
  public String shardId() {
    return shard;
  }

  @Override
  public StreamCheckpoints.Window startWindow() {
    return startWindow;
  }

  @Override
  public void window(StreamCheckpoints.Window open, boolean now) {
    window = open;
    if (now) {
      settle();
      save(position, false);
    }
  }

  @Override
  public void finish() {
    settle();
    save(position, true);
    settle();
    running.set(false);
    log.debug("Shard {} of event source mapping {} is finished", shard, uuid);
  }

  /** Waits for the checkpoint being written; a poller whose shard was taken over stops here. */
  private void settle() {
    if (writing == null) {
      return;
    }
    boolean ours;
    try {
      ours = writing.get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while checkpointing " + shard, e);
    } catch (Exception e) {
      throw new IllegalStateException("Could not write the checkpoint of " + shard + ": " + e.getMessage(), e);
    } finally {
      writing = null;
    }
    if (!ours) {
      running.set(false);
      log.info("Shard {} of event source mapping {} was taken over by another poller; this one stops", shard, uuid);
      throw new IllegalStateException("shard " + shard + " was taken over");
    }
    position = writingPosition;
  }

  private void save(String at, boolean finished) {
    settle();
    writingPosition = at;
    writing = checkpoints.save(uuid, shard, epoch, at, finished, window).toCompletableFuture();
  }

  @Override
  public List<Batch> poll(Duration wait, int maxRecords) {
    return source.poll(wait, maxRecords);
  }

  @Override
  public List<Batch> lanes(Batch batch, int count) {
    return source.lanes(batch, count);
  }

  /** Written while the shard's next batch is read and invoked; waited for before the next one. */
  @Override
  public void checkpoint(Batch batch, Set<String> failed) {
    source.checkpoint(batch, failed);
    save(batch.lastPosition(), false);
  }

  @Override
  public void rewind(Batch batch) {
    source.rewind(batch);
  }

  @Override
  public Map<String, Long> lag() {
    return source.lag();
  }

  @Override
  public Map<String, Long> lagMillis() {
    return source.lagMillis();
  }

  @Override
  public Batch slice(Batch batch, int from, int to) {
    return source.slice(batch, from, to);
  }

  @Override
  public List<Destination.Message> originals(Batch batch) {
    return source.originals(batch);
  }

  @Override
  public Map<String, Object> batchInfo(Batch batch) {
    return source.batchInfo(batch);
  }

  @Override
  public void pause(String shard) {
    source.pause(shard);
  }

  @Override
  public void resume(String shard) {
    source.resume(shard);
  }

  @Override
  public boolean ended() {
    return source.ended();
  }

  @Override
  public void close() {
    try {
      settle();
    } catch (RuntimeException e) {
      log.debug("The last checkpoint of shard {} was not written: {}", shard, e.getMessage());
    } finally {
      source.close();
    }
  }
}
