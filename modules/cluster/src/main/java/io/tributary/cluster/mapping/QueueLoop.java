package io.tributary.cluster.mapping;

import io.tributary.api.EventSource;
import io.tributary.cluster.mapping.BatchInvoker.Outcome;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A mapping's source as one poller thread of a {@link QueuePoller} reads it: an SQS queue, or the
 * Kafka partitions the consumer group gives this node. It polls, then works through each batch
 * polled, one at a time, waiting for each invoke, and checkpoints only what the function processed,
 * so a partition's records reach the function in offset order.
 *
 * <p><b>A queue's batch</b> (SQS) is invoked once. Processed: the source deletes it, but for the
 * items a partial batch response ({@code ReportBatchItemFailures}) names, which come back. Failed
 * (a function error, a throttle): the batch is left to come back after its visibility timeout, and
 * the loop backs off before it polls again.
 *
 * <p><b>A Kafka partition's batch</b> is a {@link StreamBatch}, its ranges settled by the
 * {@link StreamSettler}: records past {@code MaximumRecordAgeInSeconds} are discarded unseen, a
 * function error bisects ({@code BisectBatchOnFunctionError}) or counts a retry, a range out of
 * {@code MaximumRetryAttempts} (10 when there is none but an on-failure destination) goes to the
 * on-failure destination, and every range settled is committed at once. A range that has to wait
 * for a retry holds its batch: the partition is paused (the consumer hands out nothing more of it)
 * while the loop goes on with the other partitions, and the held batch is taken up again when due.
 * Done, the batch is committed whole and its partition resumed. A partition the group takes away
 * ({@link EventSource#lost}) drops its held batch unsettled; its new reader starts at the last commit.
 *
 * <p>A batch none of whose records passed the mapping's filters is checkpointed without an invoke.
 */
final class QueueLoop {

  private static final Logger log = LoggerFactory.getLogger(QueueLoop.class);
  private static final Duration POLL_WAIT = Duration.ofMillis(500);
  /** How often the loop asks its source how far behind it is. */
  private static final long LAG_EVERY_NANOS = Duration.ofSeconds(5).toNanos();

  private final LoopContext loop;
  private final Supplier<EventSource> opener;
  private final BatchInvoker invoker;
  private final StreamSettler settler;
  /** Kafka batches waiting for a retry, by partition (paused meanwhile). */
  private final Map<String, StreamBatch> held = new LinkedHashMap<>();

  /** {@code opener}: opens the source (again after a failure). */
  QueueLoop(LoopContext loop, Supplier<EventSource> opener) {
    this.loop = loop;
    this.opener = opener;
    this.invoker = new BatchInvoker(loop.mapping, loop.invoke);
    this.settler = new StreamSettler(loop, true);
  }

  void run() {
    loop.run(opener, source -> {
      held.clear();
      read(source);
    });
  }

  private void read(EventSource source) {
    long lagAt = 0;
    while (loop.running()) {
      if (System.nanoTime() - lagAt > LAG_EVERY_NANOS) {
        loop.stats.lag(loop.mapping.uuid(), source.lag(), source.lagMillis());
        lagAt = System.nanoTime();
      }
      List<EventSource.Batch> batches = source.poll(pollWait(), loop.mapping.batchSize());
      source.lost().forEach(held::remove);
      for (EventSource.Batch batch : batches) {
        if (!loop.running()) {
          break;
        }
        if (batch.event() == null) {
          source.checkpoint(batch, Set.of());
          loop.stats.processed(loop.mapping.uuid(), batch.shard(), 0, batch.lastPosition());
        } else if (loop.mapping.isStream()) {
          work(source, new StreamBatch(batch, loop.mapping));
        } else {
          processQueueBatch(source, batch);
        }
      }
      for (StreamBatch h : List.copyOf(held.values())) {
        if (loop.running() && System.nanoTime() >= h.dueNanos) {
          work(source, h);
        }
      }
    }
  }

  /** A queue's batch: its failed messages are left to come back after their visibility timeout. */
  private void processQueueBatch(EventSource source, EventSource.Batch batch) {
    Outcome outcome = await(invoker.invoke(batch, null));
    loop.received(outcome);
    if (outcome instanceof Outcome.Processed processed) {
      source.checkpoint(batch, processed.failedItems());
      loop.stats.processed(loop.mapping.uuid(), batch.shard(), batch.records() - processed.failedItems().size(),
          batch.lastPosition());
      loop.ok();
      return;
    }
    String problem = outcome instanceof Outcome.FunctionFailed failed ? failed.problem()
        : ((Outcome.NotRun) outcome).problem();
    loop.stats.failed(loop.mapping.uuid(), batch.shard(), problem, loop.clock.millis());
    source.rewind(batch);
    int failures = loop.failed();
    Duration delay = loop.schedule.backoff(failures);
    if (failures == 1 || failures % 10 == 0) {
      log.warn("Event source mapping {}: the batch of {} records from {} at {} failed ({} in a row; again in {}): {}",
          loop.mapping.uuid(), batch.records(), batch.shard(), batch.firstPosition(), failures, delay, problem);
    }
    loop.problem(problem);
    loop.sleep(delay);
  }

  /**
   * Works a Kafka batch on, each invoke waited for, until it is done (committed, its partition
   * resumed) or has to wait for a retry (held, its partition paused).
   */
  private void work(EventSource source, StreamBatch h) {
    while (loop.running() && !h.progress.done()) {
      BatchProgress.Range r = h.progress.head();
      StreamSettler.Expiry expiry = settler.discardExpired(source, h, r);
      if (expiry == StreamSettler.Expiry.STOPPED) {
        return;
      }
      if (expiry == StreamSettler.Expiry.DISCARDED) {
        continue;
      }
      StreamSettler.Settled settled = settler.settle(source, h, r, await(invoker.invoke(h.part(source, r), null)));
      if (settled == StreamSettler.Settled.RETRY_LATER && held.put(h.batch.shard(), h) == null) {
        source.pause(h.batch.shard());
      }
      if (settled != StreamSettler.Settled.GO_ON) {
        return;
      }
    }
    if (!h.progress.done()) {
      return;
    }
    source.checkpoint(h.batch, Set.of());
    if (held.remove(h.batch.shard()) != null) {
      source.resume(h.batch.shard());
    }
  }

  private Outcome await(CompletableFuture<Outcome> call) {
    try {
      return call.get(BatchInvoker.INVOKE_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      loop.stop();
      return new Outcome.NotRun("interrupted", false);
    } catch (Exception e) {
      return new Outcome.NotRun("Function call failed: " + e, false);
    }
  }

  /** Short enough to come back when a held batch is due. */
  private Duration pollWait() {
    long now = System.nanoTime();
    long due = held.values().stream().mapToLong(h -> h.dueNanos).min().orElse(Long.MAX_VALUE);
    return due == Long.MAX_VALUE ? POLL_WAIT
        : Duration.ofNanos(Math.max(Duration.ofMillis(10).toNanos(), Math.min(POLL_WAIT.toNanos(), due - now)));
  }
}
