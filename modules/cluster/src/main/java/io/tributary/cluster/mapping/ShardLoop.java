package io.tributary.cluster.mapping;

import io.tributary.api.EventSource;
import io.tributary.cluster.mapping.BatchInvoker.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One shard of a stream Tributary places (Kinesis, DynamoDB Streams), as its {@link ShardPoller}'s
 * thread reads it: reads ahead, deals each read into ParallelizationFactor lanes, invokes each
 * lane's batches in order, and checkpoints the shard up to a low watermark.
 *
 * <p><b>Reads and lanes.</b> The loop reads the next batches while others are invoked, up to 3
 * reads unsettled, each of up to BatchSize × ParallelizationFactor records. Each read is dealt into
 * the lanes by order key ({@link EventSource#lanes}: records with the same partition key, or the
 * same DynamoDB item keys, always go to the same lane, in the shard's order). A lane runs one batch
 * at a time and starts its next when its last is done, so up to ParallelizationFactor batches of
 * the shard are in flight and each key's records reach the function in order. Invokes do not
 * block the loop: their outcomes come back through a queue and are taken up on the loop's thread,
 * so all its state stays on that one thread. A failed batch holds only its lane (retried after a
 * backoff, bisected, discarded, as the {@link StreamSettler} says); the other lanes go on until the
 * reads ahead run out.
 *
 * <p><b>The watermark.</b> A read is checkpointed once every batch dealt from it is settled, and
 * reads only in the order they were read, so the checkpoint never passes a record still to be
 * processed; a crash replays from the last checkpoint (at least once). With ParallelizationFactor
 * 1 the lane is the shard's only one, and each range it settles is checkpointed at once. Example,
 * ParallelizationFactor 2 and BatchSize 2 (reads of up to 4 records), key a dealt to lane 0 and
 * key b to lane 1, records {@code a1 b1 a2 b2 b3 b4}:
 * <pre>
 *   read 1 = a1 b1 a2 b2   lane 0 runs [a1 a2], lane 1 runs [b1 b2]    read 1 waits for 2 batches
 *   read 2 = b3 b4         lane 1 queues [b3 b4]                       read 2 waits for 1
 *   [b1 b2] done           read 1 waits for 1; lane 1 runs [b3 b4]
 *   [b3 b4] done           read 2 is settled, read 1 is not: no checkpoint (it would pass a1 a2)
 *   [a1 a2] done           read 1 is settled: checkpoint at b2, then at b4 (read 2)
 * </pre>
 * Had the poller stopped before the last step, the next one would start before a1 and hand b1 to
 * b4 to the function again (at least once), but could never skip a1 or a2.
 *
 * <p><b>Tumbling windows.</b> With {@code TumblingWindowInSeconds}, each lane's batches are also
 * cut where the records' arrival times change windows ({@link TumblingWindow#runs}). A batch
 * carries its lane's window and state, and the state the function returns replaces it (it is
 * stored with the next checkpoint, so the next poller resumes it). Before a batch of a later
 * window, once the window is over and the shard is read to its head, or when the state grew past
 * 1 MB (an early end, the window going on fresh), the lane makes the window's final invoke,
 * retried until it succeeds. A shard read to its end and fully processed closes its last window,
 * then is marked finished, which lets its children start.
 */
final class ShardLoop {

  private static final Logger log = LoggerFactory.getLogger(ShardLoop.class);
  private static final Duration POLL_WAIT = Duration.ofMillis(500);
  /** How often the loop asks its source how far behind it is. */
  private static final long LAG_EVERY_NANOS = Duration.ofSeconds(5).toNanos();
  /** A shard read to its head is read again after this (these streams allow 5 reads a second per shard). */
  private static final long IDLE_READ_NANOS = Duration.ofMillis(200).toNanos();
  /** How many reads of a shard may be unsettled at once: the one being invoked and those read ahead. */
  static final int READS_AHEAD = 3;
  /** A window is closed this long after its end, once the shard is read to its head (the stream's clock may lag). */
  static final long WINDOW_GRACE_MILLIS = 1000;

  /**
   * One of the shard's ParallelizationFactor lanes: its batches run one at a time, in order.
   * {@code closing}: the final invoke of {@code window} is under way ({@code early}: its state grew too large).
   */
  private static final class Lane {
    final Deque<Dealt> waiting = new ArrayDeque<>();
    Dealt current;
    TumblingWindow window;
    boolean closing;
    boolean early;
    int closeWaits;
    long closeDueNanos;

    boolean idle() {
      return current == null && !closing && waiting.isEmpty();
    }
  }

  /** A batch as read from the shard: checkpointed once every batch dealt from it is done, reads in order. */
  private static final class Read {
    final EventSource.Batch whole;
    int pending;

    Read(EventSource.Batch whole) {
      this.whole = whole;
    }
  }

  /** A batch dealt to a lane, and the read it came from. */
  private record Dealt(StreamBatch batch, Read read) {}

  private final LoopContext loop;
  private final Supplier<ShardSource> opener;
  private final BatchInvoker invoker;
  private final StreamSettler settler;
  /** What finished invokes leave for the loop's thread to do. */
  private final BlockingQueue<Runnable> completions = new LinkedBlockingQueue<>();
  private final Deque<Read> reads = new ArrayDeque<>();
  /** Raised each time the shard is opened: outcomes of invokes made before are dropped. */
  private long generation;

  /** {@code opener}: claims and opens the shard at its checkpoint (again after a failure). */
  ShardLoop(LoopContext loop, Supplier<ShardSource> opener) {
    this.loop = loop;
    this.opener = opener;
    this.invoker = new BatchInvoker(loop.mapping, loop.invoke);
    this.settler = new StreamSettler(loop, loop.mapping.parallelization() == 1);
  }

  void run() {
    loop.run(opener, this::read);
  }

  private void read(ShardSource source) {
    generation++;
    completions.clear();
    reads.clear();
    int parallelization = loop.mapping.parallelization();
    int windowSeconds = loop.mapping.tumblingWindow();
    Lane[] lanes = new Lane[parallelization];
    for (int i = 0; i < lanes.length; i++) {
      lanes[i] = new Lane();
    }
    StreamCheckpoints.Window stored = source.startWindow();
    if (windowSeconds > 0 && stored != null) {
      lanes[0].window = TumblingWindow.of(stored.startMillis(), windowSeconds).withState(stored.state());
    }
    int readSize = Math.min(10_000, loop.mapping.batchSize() * parallelization);
    long lagAt = 0;
    long readAt = 0;
    boolean atHead = false;
    while (loop.running()) {
      long now = System.nanoTime();
      if (now - lagAt > LAG_EVERY_NANOS) {
        loop.stats.lag(loop.mapping.uuid(), source.lag(), source.lagMillis());
        lagAt = now;
      }
      boolean busy = Arrays.stream(lanes).anyMatch(l -> !l.idle());
      if (reads.size() < READS_AHEAD && now >= readAt && !source.ended()) {
        // While batches run, an empty read returns at once; the next waits a little (the source waits when idle).
        List<EventSource.Batch> batches = source.poll(busy ? Duration.ofMillis(1) : POLL_WAIT, readSize);
        atHead = batches.isEmpty();
        readAt = atHead && busy ? System.nanoTime() + IDLE_READ_NANOS : 0;
        batches.forEach(batch -> deal(source, lanes, batch));
      }
      long waitNanos = reads.size() < READS_AHEAD && !source.ended() ? Math.max(0, readAt - System.nanoTime())
          : POLL_WAIT.toNanos();
      drain(Math.min(waitNanos, nextDue(lanes) - System.nanoTime()));
      checkpointReads(source);
      for (Lane lane : lanes) {
        step(source, lane, atHead);
      }
      if (source.ended() && reads.isEmpty() && Arrays.stream(lanes).allMatch(Lane::idle)) {
        if (lanes[0].window == null) {
          source.finish();
          return;
        }
        close(source, lanes[0], false);
      }
    }
  }

  /** Runs what finished invokes left, waiting up to {@code nanos} for the first. */
  private void drain(long nanos) {
    try {
      Runnable next = nanos > 0 ? completions.poll(nanos, TimeUnit.NANOSECONDS) : completions.poll();
      while (next != null && loop.running()) {
        next.run();
        next = completions.poll();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      loop.stop();
    }
  }

  private static long nextDue(Lane[] lanes) {
    long due = System.nanoTime() + POLL_WAIT.toNanos();
    for (Lane lane : lanes) {
      if (lane.current != null && lane.current.batch().dueNanos > 0) {
        due = Math.min(due, lane.current.batch().dueNanos);
      }
      if (lane.closing && lane.closeDueNanos > 0) {
        due = Math.min(due, lane.closeDueNanos);
      }
    }
    return due;
  }

  /** Deals a read into the lanes, a tumbling window's read also into runs of one window each. */
  private void deal(ShardSource source, Lane[] lanes, EventSource.Batch batch) {
    Read read = new Read(batch);
    reads.add(read);
    if (batch.event() == null) {
      return;
    }
    int windowSeconds = loop.mapping.tumblingWindow();
    List<EventSource.Batch> dealt = lanes.length == 1 ? List.of(batch) : source.lanes(batch, lanes.length);
    for (int i = 0; i < lanes.length; i++) {
      EventSource.Batch part = dealt.get(i);
      if (part == null) {
        continue;
      }
      int from = 0;
      for (int to : windowSeconds > 0 ? TumblingWindow.runs(part.items(), windowSeconds) : List.of(part.records())) {
        EventSource.Batch run = from == 0 && to == part.records() ? part : source.slice(part, from, to);
        lanes[i].waiting.add(new Dealt(new StreamBatch(run, loop.mapping), read));
        read.pending++;
        from = to;
      }
    }
  }

  /** Checkpoints the reads whose records are all settled, oldest first: the watermark. */
  private void checkpointReads(ShardSource source) {
    while (!reads.isEmpty() && reads.peekFirst().pending == 0) {
      EventSource.Batch done = reads.removeFirst().whole;
      source.checkpoint(done, Set.of());
      loop.stats.processed(loop.mapping.uuid(), done.shard(), 0, done.lastPosition());
    }
  }

  /**
   * Moves a lane on: retries its held batch when due, or starts its next one, a tumbling window's
   * final invoke first when the next batch is in a later window, the state grew too large, or the
   * window is over and the shard is read to its head.
   */
  private void step(ShardSource source, Lane lane, boolean atHead) {
    if (!loop.running()) {
      return;
    }
    if (lane.closing) {
      if (lane.closeDueNanos > 0 && System.nanoTime() >= lane.closeDueNanos) {
        lane.closeDueNanos = 0;
        close(source, lane, lane.early);
      }
      return;
    }
    if (lane.current != null) {
      StreamBatch held = lane.current.batch();
      if (held.dueNanos > 0 && System.nanoTime() >= held.dueNanos) {
        held.dueNanos = 0;
        advance(source, lane, lane.current);
      }
      return;
    }
    int windowSeconds = loop.mapping.tumblingWindow();
    TumblingWindow window = lane.window;
    Dealt next = lane.waiting.peekFirst();
    if (windowSeconds > 0 && window != null) {
      boolean later = next != null && next.batch().arrivalMillis >= window.endMillis();
      boolean over = next == null && atHead && loop.clock.millis() >= window.endMillis() + WINDOW_GRACE_MILLIS;
      if (later || over || window.tooLarge()) {
        close(source, lane, !later && !over);
        return;
      }
    }
    if (next == null) {
      return;
    }
    lane.waiting.removeFirst();
    if (windowSeconds > 0 && lane.window == null) {
      lane.window = TumblingWindow.of(next.batch().arrivalMillis, windowSeconds);
    }
    lane.current = next;
    advance(source, lane, next);
  }

  /**
   * Works the lane's current batch on: discards its records too old to invoke, and invokes its
   * head range; the outcome is taken up from {@link #completions}. Done, the lane is free and its
   * read has one batch less to wait for.
   */
  private void advance(ShardSource source, Lane lane, Dealt dealt) {
    StreamBatch h = dealt.batch();
    while (loop.running() && !h.progress.done()) {
      BatchProgress.Range r = h.progress.head();
      StreamSettler.Expiry expiry = settler.discardExpired(source, h, r);
      if (expiry == StreamSettler.Expiry.STOPPED) {
        return;
      }
      if (expiry == StreamSettler.Expiry.DISCARDED) {
        continue;
      }
      long gen = generation;
      invoker.invoke(h.part(source, r), lane.window).thenAccept(outcome -> completions.add(() -> {
        if (gen == generation && loop.running()
            && settle(source, lane, h, r, outcome) == StreamSettler.Settled.GO_ON) {
          advance(source, lane, dealt);
        }
      }));
      return;
    }
    if (!h.progress.done()) {
      return;
    }
    lane.current = null;
    dealt.read().pending--;
  }

  /** A batch's outcome: the window takes the state the function returned, then the settler the rest. */
  private StreamSettler.Settled settle(ShardSource source, Lane lane, StreamBatch h, BatchProgress.Range r,
                                       Outcome outcome) {
    if (outcome instanceof Outcome.Processed processed && lane.window != null) {
      lane.window = lane.window.withState(processed.state());
      source.window(stored(lane.window), false);
    }
    return settler.settle(source, h, r, outcome);
  }

  /**
   * The final invoke of the lane's window: no records, its state, {@code isFinalInvokeForWindow}.
   * Retried until it succeeds (AWS suspends the shard meanwhile); then the window is dropped, or
   * after an early end goes on with a fresh state.
   */
  private void close(ShardSource source, Lane lane, boolean early) {
    lane.closing = true;
    lane.early = early;
    TumblingWindow window = lane.window;
    long gen = generation;
    invoker.finalInvoke(window, source.shardId(), early).thenAccept(outcome -> completions.add(() -> {
      if (gen != generation) {
        return;
      }
      loop.received(outcome);
      if (outcome instanceof Outcome.Processed) {
        lane.closing = false;
        lane.closeWaits = 0;
        lane.window = early ? window.fresh() : null;
        source.window(stored(lane.window), true);
        loop.report(null, "OK");
        return;
      }
      String problem = outcome instanceof Outcome.FunctionFailed failed ? failed.problem()
          : ((Outcome.NotRun) outcome).problem();
      lane.closeWaits++;
      Duration delay = loop.schedule.backoff(lane.closeWaits);
      lane.closeDueNanos = System.nanoTime() + delay.toNanos();
      loop.stats.failed(loop.mapping.uuid(), source.shardId(), problem, loop.clock.millis());
      loop.problem(problem);
      if (lane.closeWaits == 1 || lane.closeWaits % 10 == 0) {
        log.warn("Event source mapping {}: the final invoke of the window from {} of {} failed ({} in a row; again"
            + " in {}): {}", loop.mapping.uuid(), Instant.ofEpochMilli(window.startMillis()), source.shardId(),
            lane.closeWaits, delay, problem);
      }
    }));
  }

  private static StreamCheckpoints.Window stored(TumblingWindow window) {
    return window == null ? null : new StreamCheckpoints.Window(window.startMillis(), window.state());
  }
}
