package io.tributary.cluster.mapping;

import io.tributary.api.Destination;
import io.tributary.api.EventSource;
import io.tributary.api.EventSourceMapping;
import io.tributary.api.Invocation;
import io.tributary.api.LambdaException;
import io.tributary.cluster.delivery.InvocationRecord;
import io.tributary.cluster.invoke.Dispatcher;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A poller's thread: opens its source, then polls, invokes and checkpoints until stopped. Each
 * batch is invoked synchronously through the node's {@link Dispatcher} (so concurrency limits
 * apply), and only what the function processed is checkpointed, so a shard's records reach the
 * function in order. A queue's failed batch is simply not deleted: its messages come back after
 * their visibility timeout. A stream's failed batch stays in the loop's hands, its shard paused
 * while the others go on, and is worked through as {@link BatchProgress} says: retried after a
 * backoff, bisected, and past its retries or its records' maximum age discarded to the mapping's
 * on-failure destination. Run by {@link QueuePoller} (a mapping's whole source on a node) and by
 * {@link ShardPoller} (one shard of a stream Tributary places itself, with ParallelizationFactor
 * lanes and tumbling windows: {@link #runShard}).
 */
final class PollLoop {

  private static final Logger log = LoggerFactory.getLogger(PollLoop.class);
  /** AWS's longest function timeout and a margin: an invoke always ends within it. */
  private static final Duration INVOKE_TIMEOUT = Duration.ofSeconds(910);
  private static final Duration POLL_WAIT = Duration.ofMillis(500);
  private static final Duration SEND_TIMEOUT = Duration.ofSeconds(60);
  /** How often a poller asks its source how far behind it is. */
  private static final long LAG_EVERY_NANOS = Duration.ofSeconds(5).toNanos();
  /** A shard read to its head is read again after this (these streams allow 5 reads a second per shard). */
  private static final long IDLE_READ_NANOS = Duration.ofMillis(200).toNanos();
  /** How many reads of a shard may be unsettled at once: the one being invoked and those read ahead. */
  private static final int READS_AHEAD = 3;
  /** A window is closed this long after its end, once the shard is read to its head (the stream's clock may lag). */
  private static final long WINDOW_GRACE_MILLIS = 1000;
  /** AWS: a Kafka mapping with no retry limit but an on-failure destination retries a batch 10 times. */
  static final int KAFKA_RETRIES_WITH_DESTINATION = 10;
  static final String RETRIES_EXHAUSTED = "RetryAttemptsExhausted";
  static final String RECORD_AGE_EXCEEDED = "RecordAgeExceeded";

  /**
   * A stream batch being worked through; {@code last}: the answer of its last invoke that ran;
   * {@code lane} and {@code read}: where it belongs on a shard Tributary places (null on Kafka).
   */
  private static final class Held {
    final EventSource.Batch batch;
    final BatchProgress progress;
    final Lane lane;
    final Read read;
    final long arrivalMillis;
    Dispatcher.Ran last;
    int waits;
    long dueNanos;

    Held(EventSource.Batch batch, BatchProgress progress, Lane lane, Read read) {
      this.batch = batch;
      this.progress = progress;
      this.lane = lane;
      this.read = read;
      this.arrivalMillis = batch.items().isEmpty() ? 0 : batch.items().get(0).timeMillis();
    }
  }

  /**
   * One of a shard's ParallelizationFactor lanes: its batches run one at a time, in order.
   * {@code closing}: the final invoke of {@code window} is under way ({@code early}: its state grew too large).
   */
  private static final class Lane {
    final Deque<Held> waiting = new ArrayDeque<>();
    Held current;
    TumblingWindow window;
    boolean closing;
    boolean early;
    int closeWaits;
    long closeDueNanos;

    boolean idle() {
      return current == null && !closing && waiting.isEmpty();
    }
  }

  /** A batch as read from a shard: checkpointed once every batch dealt from it is done, reads in order. */
  private static final class Read {
    final EventSource.Batch whole;
    int pending;

    Read(EventSource.Batch whole) {
      this.whole = whole;
    }
  }

  private final EventSourceMapping mapping;
  private final QueuePoller.Deps deps;
  private final AtomicBoolean running;
  private final Supplier<EventSource> opener;
  private final Map<String, Held> held = new LinkedHashMap<>();
  /** What finished invokes leave for the poller's thread to do; on a shard Tributary places. */
  private final BlockingQueue<Runnable> completions = new LinkedBlockingQueue<>();
  private final Deque<Read> reads = new ArrayDeque<>();
  private long generation;
  private String reported;
  private int failures;
  private boolean disabling;

  /**
   * {@code opener}: opens the source (again after a failure); {@code running}: cleared to stop
   * the loop, by its actor or by the source itself.
   */
  PollLoop(EventSourceMapping mapping, QueuePoller.Deps deps, AtomicBoolean running,
           Supplier<EventSource> opener) {
    this.mapping = mapping;
    this.deps = deps;
    this.running = running;
    this.opener = opener;
  }

  void run() {
    while (running.get()) {
      try (EventSource source = opener.get()) {
        held.clear();
        report(EventSourceMapping.ENABLED, null);
        if (source instanceof ShardPoller.Checkpointed shard) {
          runShard(shard);
        } else {
          runSource(source);
        }
      } catch (RuntimeException e) {
        if (!running.get()) {
          break;
        }
        failures++;
        Duration delay = deps.schedule().backoff(failures);
        if (failures == 1 || failures % 10 == 0) {
          log.warn("Event source mapping {} cannot read its source ({} in a row; again in {}): {}", mapping.uuid(),
              failures, delay, e.toString());
        }
        report(null, "PROBLEM: Connection error. " + e.getMessage());
        sleep(delay);
      }
    }
  }

  /** A queue, or a stream whose reader spreads its shards itself (Kafka): one batch at a time. */
  private void runSource(EventSource source) {
    long lagAt = 0;
    while (running.get()) {
      if (System.nanoTime() - lagAt > LAG_EVERY_NANOS) {
        deps.stats().lag(mapping.uuid(), source.lag(), source.lagMillis());
        lagAt = System.nanoTime();
      }
      List<EventSource.Batch> batches = source.poll(pollWait(), mapping.batchSize());
      source.lost().forEach(held::remove);
      for (EventSource.Batch batch : batches) {
        if (!running.get()) {
          break;
        }
        if (batch.event() == null) {
          source.checkpoint(batch, Set.of());
          deps.stats().processed(mapping.uuid(), batch.shard(), 0, batch.lastPosition());
        } else if (mapping.isStream()) {
          advance(source, newHeld(batch, null, null));
        } else {
          processQueueBatch(source, batch);
        }
      }
      for (Held h : List.copyOf(held.values())) {
        if (running.get() && System.nanoTime() >= h.dueNanos) {
          advance(source, h);
        }
      }
    }
  }

  private Held newHeld(EventSource.Batch batch, Lane lane, Read read) {
    return new Held(batch,
        new BatchProgress(batch.records(), retryLimit(), mapping.errors().bisectBatchOnFunctionError()),
        lane, read);
  }

  /**
   * One shard Tributary places (Kinesis, DynamoDB Streams). The next batches are read while one
   * is invoked; each read is dealt into ParallelizationFactor lanes by order key (partition key),
   * each lane running one batch at a time, so up to that many batches of the shard are in flight
   * and each key's records stay in order. A read is checkpointed once all its records are settled,
   * reads in the shard's order, so the checkpoint never passes a record still to be processed.
   * A failed batch holds only its lane (and, once the reads ahead run out, the shard).
   */
  private void runShard(ShardPoller.Checkpointed source) {
    generation++;
    completions.clear();
    reads.clear();
    int parallelization = mapping.parallelization();
    Lane[] lanes = new Lane[parallelization];
    for (int i = 0; i < lanes.length; i++) {
      lanes[i] = new Lane();
    }
    StreamCheckpoints.Window stored = source.window();
    if (mapping.tumblingWindow() > 0 && stored != null) {
      lanes[0].window = TumblingWindow.of(stored.startMillis(), mapping.tumblingWindow()).withState(stored.state());
    }
    int readSize = Math.min(10_000, mapping.batchSize() * parallelization);
    long lagAt = 0;
    long readAt = 0;
    boolean atHead = false;
    while (running.get()) {
      long now = System.nanoTime();
      if (now - lagAt > LAG_EVERY_NANOS) {
        deps.stats().lag(mapping.uuid(), source.lag(), source.lagMillis());
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
      while (next != null && running.get()) {
        next.run();
        next = completions.poll();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running.set(false);
    }
  }

  private static long nextDue(Lane[] lanes) {
    long due = System.nanoTime() + POLL_WAIT.toNanos();
    for (Lane lane : lanes) {
      if (lane.current != null && lane.current.dueNanos > 0) {
        due = Math.min(due, lane.current.dueNanos);
      }
      if (lane.closing && lane.closeDueNanos > 0) {
        due = Math.min(due, lane.closeDueNanos);
      }
    }
    return due;
  }

  /** Deals a read into the lanes, a tumbling window's read also into runs of one window each. */
  private void deal(ShardPoller.Checkpointed source, Lane[] lanes, EventSource.Batch batch) {
    Read read = new Read(batch);
    reads.add(read);
    if (batch.event() == null) {
      return;
    }
    List<EventSource.Batch> dealt = lanes.length == 1 ? List.of(batch) : source.lanes(batch, lanes.length);
    for (int i = 0; i < lanes.length; i++) {
      EventSource.Batch part = dealt.get(i);
      if (part == null) {
        continue;
      }
      int from = 0;
      for (int to : mapping.tumblingWindow() > 0 ? TumblingWindow.runs(part.items(), mapping.tumblingWindow())
          : List.of(part.records())) {
        EventSource.Batch run = from == 0 && to == part.records() ? part : source.slice(part, from, to);
        lanes[i].waiting.add(newHeld(run, lanes[i], read));
        read.pending++;
        from = to;
      }
    }
  }

  /** Checkpoints the reads whose records are all settled, oldest first. */
  private void checkpointReads(EventSource source) {
    while (!reads.isEmpty() && reads.peekFirst().pending == 0) {
      EventSource.Batch done = reads.removeFirst().whole;
      source.checkpoint(done, Set.of());
      deps.stats().processed(mapping.uuid(), done.shard(), 0, done.lastPosition());
    }
  }

  /**
   * Moves a lane on: retries its held batch when due, or starts its next one, a tumbling window's
   * final invoke first when the next batch is in a later window, the state grew too large, or the
   * window is over and the shard is read to its head.
   */
  private void step(ShardPoller.Checkpointed source, Lane lane, boolean atHead) {
    if (!running.get()) {
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
      if (lane.current.dueNanos > 0 && System.nanoTime() >= lane.current.dueNanos) {
        lane.current.dueNanos = 0;
        advance(source, lane.current);
      }
      return;
    }
    TumblingWindow window = lane.window;
    Held next = lane.waiting.peekFirst();
    if (mapping.tumblingWindow() > 0 && window != null) {
      boolean later = next != null && next.arrivalMillis >= window.endMillis();
      boolean over = next == null && atHead && System.currentTimeMillis() >= window.endMillis() + WINDOW_GRACE_MILLIS;
      if (later || over || window.tooLarge()) {
        close(source, lane, !later && !over);
        return;
      }
    }
    if (next == null) {
      return;
    }
    lane.waiting.removeFirst();
    if (mapping.tumblingWindow() > 0 && lane.window == null) {
      lane.window = TumblingWindow.of(next.arrivalMillis, mapping.tumblingWindow());
    }
    lane.current = next;
    advance(source, next);
  }

  /**
   * The final invoke of the lane's window: no records, its state, {@code isFinalInvokeForWindow}.
   * Retried until it succeeds (AWS suspends the shard meanwhile); then the window is dropped, or
   * after an early end goes on with a fresh state.
   */
  private void close(ShardPoller.Checkpointed source, Lane lane, boolean early) {
    lane.closing = true;
    lane.early = early;
    TumblingWindow window = lane.window;
    long gen = generation;
    call(null, window.event(null, source.shardId(), mapping.eventSourceArn(), true, early)).thenAccept(outcome ->
        completions.add(() -> {
          if (gen != generation) {
            return;
          }
          received(outcome);
          if (outcome.problem() == null) {
            lane.closing = false;
            lane.closeWaits = 0;
            lane.window = early ? window.fresh() : null;
            source.window(stored(lane.window), true);
            report(null, "OK");
            return;
          }
          lane.closeWaits++;
          Duration delay = deps.schedule().backoff(lane.closeWaits);
          lane.closeDueNanos = System.nanoTime() + delay.toNanos();
          deps.stats().failed(mapping.uuid(), source.shardId(), outcome.problem(), System.currentTimeMillis());
          report(null, "PROBLEM: " + outcome.problem());
          if (lane.closeWaits == 1 || lane.closeWaits % 10 == 0) {
            log.warn("Event source mapping {}: the final invoke of the window from {} of {} failed ({} in a row; again"
                + " in {}): {}", mapping.uuid(), Instant.ofEpochMilli(window.startMillis()), source.shardId(),
                lane.closeWaits, delay, outcome.problem());
          }
        }));
  }

  private static StreamCheckpoints.Window stored(TumblingWindow window) {
    return window == null ? null : new StreamCheckpoints.Window(window.startMillis(), window.state());
  }

  /** Short enough to come back when a held batch is due. */
  private Duration pollWait() {
    long now = System.nanoTime();
    long due = held.values().stream().mapToLong(h -> h.dueNanos).min().orElse(Long.MAX_VALUE);
    return due == Long.MAX_VALUE ? POLL_WAIT
        : Duration.ofNanos(Math.max(Duration.ofMillis(10).toNanos(), Math.min(POLL_WAIT.toNanos(), due - now)));
  }

  private int retryLimit() {
    EventSourceMapping.OnError errors = mapping.errors();
    return errors.maximumRetryAttempts() < 0 && errors.onFailure() != null && mapping.isKafka()
        ? KAFKA_RETRIES_WITH_DESTINATION : errors.maximumRetryAttempts();
  }

  /**
   * Works a stream batch on until it is done (settled, its shard or lane moving on) or has to wait
   * for a retry (held). On Kafka each invoke is waited for here; in a lane it runs while the poller
   * goes on, and its outcome is taken up from {@link #completions}.
   */
  private void advance(EventSource source, Held h) {
    while (running.get() && !h.progress.done()) {
      BatchProgress.Range r = h.progress.head();
      int old = expired(h.batch, r);
      if (old > 0) {
        if (!discard(source, h, h.progress.expire(old), RECORD_AGE_EXCEEDED)) {
          return;
        }
        continue;
      }
      boolean whole = r.size() == h.batch.records();
      EventSource.Batch part = whole ? h.batch : source.slice(h.batch, r.from(), r.to());
      byte[] event = h.lane != null && h.lane.window != null
          ? h.lane.window.event(part.event(), part.shard(), mapping.eventSourceArn(), false, false) : part.event();
      CompletableFuture<Outcome> call = call(part, event);
      if (h.lane == null) {
        if (!settle(source, h, r, await(call))) {
          return;
        }
        continue;
      }
      long gen = generation;
      call.thenAccept(outcome -> completions.add(() -> {
        if (gen == generation && running.get() && settle(source, h, r, outcome)) {
          advance(source, h);
        }
      }));
      return;
    }
    if (!h.progress.done()) {
      return;
    }
    if (h.lane == null) {
      source.checkpoint(h.batch, Set.of());
      if (held.remove(h.batch.shard()) != null) {
        source.resume(h.batch.shard());
      }
    } else {
      h.lane.current = null;
      h.read.pending--;
    }
  }

  /**
   * Takes up the outcome of invoking range {@code r} of a held batch: true when the batch goes on
   * at once (its next range), false when it waits for a retry or the poller stopped.
   */
  private boolean settle(EventSource source, Held h, BatchProgress.Range r, Outcome outcome) {
    received(outcome);
    String shard = h.batch.shard();
    if (outcome.result() instanceof Dispatcher.Ran ran && ran.result() != null) {
      h.last = ran;
    }
    if (outcome.problem() == null && h.lane != null && h.lane.window != null) {
      h.lane.window = h.lane.window.withState(outcome.state());
      ((ShardPoller.Checkpointed) source).window(stored(h.lane.window), false);
    }
    boolean whole = r.size() == h.batch.records();
    BatchProgress.Next next;
    if (outcome.problem() == null && outcome.failedItems().isEmpty()) {
      h.progress.succeeded();
      settled(source, h, r.from(), r.to(), !whole);
      failures = 0;
      report(null, "OK");
      return true;
    } else if (outcome.problem() == null) {
      int firstFailed = r.to();
      for (int i = r.from(); i < r.to(); i++) {
        if (outcome.failedItems().contains(h.batch.items().get(i).id())) {
          firstFailed = i;
          break;
        }
      }
      if (firstFailed > r.from()) {
        settled(source, h, r.from(), firstFailed, true);
      }
      next = h.progress.partlyFailed(firstFailed);
    } else if (outcome.functionRan()) {
      next = h.progress.functionError();
    } else {
      next = BatchProgress.Next.RETRY_LATER;
    }
    String problem = outcome.problem() != null ? outcome.problem()
        : outcome.failedItems().size() + " records reported failed";
    deps.stats().failed(mapping.uuid(), shard, problem, System.currentTimeMillis());
    report(null, "PROBLEM: " + problem);
    if (next == BatchProgress.Next.DISCARD) {
      return discard(source, h, h.progress.discard(), RETRIES_EXHAUSTED);
    }
    if (next == BatchProgress.Next.RETRY_LATER) {
      h.waits++;
      Duration delay = deps.schedule().backoff(h.waits);
      h.dueNanos = System.nanoTime() + delay.toNanos();
      if (h.waits == 1 || h.waits % 10 == 0) {
        log.warn("Event source mapping {}: records {} to {} of {} failed ({} in a row; again in {}): {}",
            mapping.uuid(), h.batch.items().get(h.progress.head().from()).id(),
            h.batch.items().get(h.progress.head().to() - 1).id(), shard, h.waits, delay, problem);
      }
      if (h.lane == null && held.put(shard, h) == null) {
        source.pause(shard);
      }
      return false;
    }
    return true;
  }

  /** How many records at the head of range {@code r} are older than the mapping's maximum record age. */
  private int expired(EventSource.Batch batch, BatchProgress.Range r) {
    int maxAge = mapping.errors().maximumRecordAgeInSeconds();
    if (maxAge < 0) {
      return 0;
    }
    long oldest = System.currentTimeMillis() - maxAge * 1000L;
    int count = 0;
    while (r.from() + count < r.to() && batch.items().get(r.from() + count).timeMillis() < oldest) {
      count++;
    }
    return count;
  }

  /**
   * Items {@code from} to {@code to} were processed: counted, and checkpointed when {@code partial}
   * and the batch's lane is its shard's only one (else its read is checkpointed once all of it is settled).
   */
  private void settled(EventSource source, Held h, int from, int to, boolean partial) {
    EventSource.Batch span = h.batch.span(from, to);
    boolean alone = alone(h);
    if (partial && alone) {
      source.checkpoint(span, Set.of());
    }
    deps.stats().processed(mapping.uuid(), span.shard(), span.records(), alone ? span.lastPosition() : null);
  }

  private boolean alone(Held h) {
    return h.lane == null || mapping.parallelization() == 1;
  }

  /**
   * Gives range {@code r} up: sends it to the on-failure destination (retried while that is down)
   * and checkpoints past it. False when the poller stopped first (nothing checkpointed).
   */
  private boolean discard(EventSource source, Held h, BatchProgress.Range r, String condition) {
    EventSource.Batch gone = source.slice(h.batch, r.from(), r.to());
    String target = mapping.errors().onFailure();
    if (target == null) {
      log.warn("Event source mapping {} discarded records {} to {} of {} ({}); it has no on-failure destination",
          mapping.uuid(), gone.firstPosition(), gone.lastPosition(), gone.shard(), condition);
    } else if (!sendFailure(source, h, gone, r.retries(), condition, target)) {
      return false;
    } else {
      log.warn("Event source mapping {} discarded records {} to {} of {} ({}); sent to {}", mapping.uuid(),
          gone.firstPosition(), gone.lastPosition(), gone.shard(), condition, target);
    }
    boolean alone = alone(h);
    if (alone) {
      source.checkpoint(gone, Set.of());
    }
    deps.stats().discarded(mapping.uuid(), gone.shard(), gone.records(), alone ? gone.lastPosition() : null);
    return true;
  }

  private boolean sendFailure(EventSource source, Held h, EventSource.Batch gone, int invokes, String condition,
                              String target) {
    String requestId = UUID.randomUUID().toString();
    List<Destination.Message> messages;
    if (target.startsWith("kafka:")) {
      Map<String, Object> failure = new LinkedHashMap<>();
      failure.put("x-tributary-condition", condition);
      failure.put("x-tributary-request-id", requestId);
      failure.put("x-tributary-function-arn", mapping.functionArn());
      failure.put("x-tributary-approximate-invoke-count", invokes);
      failure.put("x-tributary-source", gone.shard());
      messages = source.originals(gone).stream().map(m -> {
        Map<String, Object> headers = new LinkedHashMap<>(m.attributes());
        headers.putAll(failure);
        return new Destination.Message(m.key(), m.body(), headers, m.keyBytes());
      }).toList();
    } else {
      messages = List.of(new Destination.Message(requestId, InvocationRecord.batchFailure(requestId,
          mapping.functionArn(), condition, invokes, h.last, source.batchInfo(gone), System.currentTimeMillis()),
          Map.of()));
    }
    int attempt = 0;
    while (running.get()) {
      try {
        Destination destination = deps.sources().failureDestination(mapping);
        CompletableFuture.allOf(messages.stream().map(m -> destination.send(m).toCompletableFuture())
            .toArray(CompletableFuture[]::new)).get(SEND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        return true;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      } catch (Exception e) {
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof Destination.Rejected) {
          log.error("Event source mapping {}: {} refused the failure record of records {} to {} of {}, which are"
              + " dropped: {}", mapping.uuid(), target, gone.firstPosition(), gone.lastPosition(), gone.shard(),
              cause.getMessage());
          return true;
        }
        attempt++;
        Duration delay = deps.schedule().backoff(attempt);
        if (attempt == 1 || attempt % 10 == 0) {
          log.warn("Event source mapping {}: cannot send to its on-failure destination {} ({} in a row; again in"
              + " {}): {}", mapping.uuid(), target, attempt, delay, cause.toString());
        }
        report(null, "PROBLEM: On-failure destination unreachable. " + cause.getMessage());
        sleep(delay);
      }
    }
    return false;
  }

  /** A queue's batch: its failed messages are left to come back after their visibility timeout. */
  private void processQueueBatch(EventSource source, EventSource.Batch batch) {
    Outcome outcome = await(call(batch, batch.event()));
    received(outcome);
    if (outcome.problem() == null) {
      source.checkpoint(batch, outcome.failedItems());
      deps.stats().processed(mapping.uuid(), batch.shard(), batch.records() - outcome.failedItems().size(),
          batch.lastPosition());
      failures = 0;
      report(null, "OK");
      return;
    }
    String problem = outcome.problem();
    deps.stats().failed(mapping.uuid(), batch.shard(), problem, System.currentTimeMillis());
    source.rewind(batch);
    failures++;
    Duration delay = deps.schedule().backoff(failures);
    if (failures == 1 || failures % 10 == 0) {
      log.warn("Event source mapping {}: the batch of {} records from {} at {} failed ({} in a row; again in {}): {}",
          mapping.uuid(), batch.records(), batch.shard(), batch.firstPosition(), failures, delay, problem);
    }
    report(null, "PROBLEM: " + problem);
    sleep(delay);
  }

  /**
   * {@code problem} null: the function processed the batch, but for {@code failedItems};
   * {@code functionRan}: the problem is the function's (an error, a malformed response), not a
   * throttle or a node's; {@code state}: a tumbling window's new state; {@code gone}: the function
   * (or the qualifier the mapping names) does not exist.
   */
  private record Outcome(String problem, Set<String> failedItems, boolean functionRan, Dispatcher.Result result,
                         String state, boolean gone) {
    static Outcome notRun(String problem, Dispatcher.Result result) {
      return new Outcome(problem, Set.of(), false, result, null, false);
    }

    static Outcome ran(String problem, Set<String> failedItems, Dispatcher.Result result, String state) {
      return new Outcome(problem, failedItems, true, result, state, false);
    }
  }

  /** Called on the poller's thread with each outcome. */
  private void received(Outcome outcome) {
    if (outcome.gone()) {
      disable(outcome.problem());
    }
  }

  private Outcome await(CompletableFuture<Outcome> call) {
    try {
      return call.get(INVOKE_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running.set(false);
      return Outcome.notRun("interrupted", null);
    } catch (Exception e) {
      return Outcome.notRun("Function call failed: " + e, null);
    }
  }

  /**
   * Invokes the function with {@code event} (of {@code batch}; null for a window's final invoke),
   * through the node's Dispatcher; never completes exceptionally.
   */
  private CompletableFuture<Outcome> call(EventSource.Batch batch, byte[] event) {
    Invocation invocation = new Invocation(UUID.randomUUID().toString(), mapping.functionArn(), event, null, null,
        false);
    return deps.dispatcher().invoke(mapping.functionName(), mapping.qualifier(), invocation, false, true)
        .orTimeout(INVOKE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .handle((result, failure) -> failure != null ? Outcome.notRun("Function call failed: " + failure, null)
            : outcome(batch, result));
  }

  private Outcome outcome(EventSource.Batch batch, Dispatcher.Result result) {
    if (result instanceof Dispatcher.Refused refused) {
      LambdaException error = refused.error().toException();
      return new Outcome(error.errorType() + ": " + error.getMessage(), Set.of(), false, result, null,
          error.status() == 404);
    }
    if (!(result instanceof Dispatcher.Ran ran)) {
      return Outcome.notRun("Function call failed: the invoke was not run on this node", result);
    }
    if (ran.result().functionError() != null) {
      return Outcome.ran("Function call failed (" + ran.result().functionError() + ")", Set.of(), result, null);
    }
    String state = null;
    if (batch != null && mapping.tumblingWindow() > 0) {
      state = TumblingWindow.stateOf(ran.result().payload());
      if (state == null) {
        return Outcome.ran("Function call failed (with a tumbling window its response must hold a state object:"
            + " {\"state\": {...}})", Set.of(), result, null);
      }
    }
    if (batch == null || !mapping.reportsItemFailures()) {
      return Outcome.ran(null, Set.of(), result, state);
    }
    String windowState = state;
    return PartialBatchResponse.failedItems(ran.result().payload(), batch.itemIds())
        .map(failed -> Outcome.ran(null, failed, result, windowState))
        .orElseGet(() -> Outcome.ran("Function call failed (its batchItemFailures response is malformed)", Set.of(),
            result, null));
  }

  /** The function (or the qualifier the mapping names) is gone: the mapping is disabled, once. */
  private void disable(String why) {
    if (disabling) {
      return;
    }
    disabling = true;
    log.warn("Event source mapping {} is disabled: its function {} is gone ({})", mapping.uuid(),
        mapping.functionArn(), why);
    deps.sharding().entityRefFor(EventSourceMappingEntity.TYPE_KEY, mapping.uuid())
        .tell(new EventSourceMappingEntity.Disable("PROBLEM: Function not found: " + mapping.functionArn()
            + ". The mapping was disabled; create the function again, then enable the mapping.",
            "PROBLEM: Function not found"));
  }

  /**
   * Tells the mapping what this poller reached; a result only when it changed, and none once it
   * asked for the mapping to be disabled (its reason stands).
   */
  private void report(String state, String result) {
    if (state == null && (disabling || Objects.equals(result, reported))) {
      return;
    }
    if (result != null) {
      reported = result;
    }
    deps.sharding().entityRefFor(EventSourceMappingEntity.TYPE_KEY, mapping.uuid())
        .tell(new EventSourceMappingEntity.Report(state, result));
  }

  private void sleep(Duration delay) {
    long until = System.nanoTime() + delay.toNanos();
    while (running.get() && System.nanoTime() < until) {
      try {
        Thread.sleep(Math.min(200, Math.max(1, (until - System.nanoTime()) / 1_000_000)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
