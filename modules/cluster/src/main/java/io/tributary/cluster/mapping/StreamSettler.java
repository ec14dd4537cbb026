package io.tributary.cluster.mapping;

import io.tributary.api.Destination;
import io.tributary.api.EventSource;
import io.tributary.cluster.delivery.InvocationRecord;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What both loops do with a {@link StreamBatch} as its invokes come back, AWS's way (the
 * {@link QueueLoop} for a Kafka partition's batch, the {@link ShardLoop} for a lane's). The
 * function processed the head range: it is counted, and checkpointed at once when it is only part
 * of the batch and the loop {@code checkpointsRanges} (a shard lane shares its reads with other
 * lanes, so its loop checkpoints whole reads instead). A partial batch response settles the range
 * up to its first failed record. A function error bisects or counts a retry; a range out of
 * retries is discarded; a range that failed or did not run waits for a backoff. A discarded range
 * (out of retries, or too old) goes to the on-failure destination: an
 * {@link InvocationRecord#batchFailure} with the source's {@code batchInfo}, or for
 * {@code kafka://} the source's own records with headers saying why; it is sent until the
 * destination takes it (a refusal that retrying cannot change drops it, logged), then checkpointed
 * past.
 */
final class StreamSettler {

  private static final Logger log = LoggerFactory.getLogger(StreamSettler.class);
  private static final Duration SEND_TIMEOUT = Duration.ofSeconds(60);
  static final String RETRIES_EXHAUSTED = "RetryAttemptsExhausted";
  private static final String RECORD_AGE_EXCEEDED = "RecordAgeExceeded";

  /** What a batch does after an outcome: its next range at once, a retry after {@code dueNanos}, or nothing (the loop stopped). */
  enum Settled { GO_ON, RETRY_LATER, STOPPED }

  private final LoopContext loop;
  private final boolean checkpointsRanges;

  StreamSettler(LoopContext loop, boolean checkpointsRanges) {
    this.loop = loop;
    this.checkpointsRanges = checkpointsRanges;
  }

  /** What {@link #discardExpired} did with the head of a range. */
  enum Expiry { NONE, DISCARDED, STOPPED }

  /**
   * Gives up the records at the head of range {@code r} that are past the mapping's maximum record
   * age, as {@link #discard} does: NONE when none is (invoke the range), DISCARDED when some were
   * (look at the batch's head again), STOPPED when the loop stopped first.
   */
  Expiry discardExpired(EventSource source, StreamBatch h, BatchProgress.Range r) {
    int old = h.expired(r, loop.clock.millis(), loop.mapping.errors().maximumRecordAgeInSeconds());
    if (old == 0) {
      return Expiry.NONE;
    }
    return discard(source, h, h.progress.expire(old), RECORD_AGE_EXCEEDED) ? Expiry.DISCARDED : Expiry.STOPPED;
  }

  /** Takes up the outcome of invoking range {@code r} of {@code h}. */
  Settled settle(EventSource source, StreamBatch h, BatchProgress.Range r, BatchInvoker.Outcome outcome) {
    loop.received(outcome);
    BatchProgress.Next next;
    String problem;
    if (outcome instanceof BatchInvoker.Outcome.Processed processed) {
      h.last = processed.ran();
      if (processed.failedItems().isEmpty()) {
        h.progress.succeeded();
        settled(source, h, r.from(), r.to(), r.size() != h.batch.records());
        loop.ok();
        return Settled.GO_ON;
      }
      int firstFailed = h.firstFailed(r, processed.failedItems());
      if (firstFailed > r.from()) {
        settled(source, h, r.from(), firstFailed, true);
      }
      next = h.progress.partlyFailed(firstFailed);
      problem = processed.failedItems().size() + " records reported failed";
    } else if (outcome instanceof BatchInvoker.Outcome.FunctionFailed failed) {
      h.last = failed.ran();
      next = h.progress.functionError();
      problem = failed.problem();
    } else {
      next = BatchProgress.Next.RETRY_LATER;
      problem = ((BatchInvoker.Outcome.NotRun) outcome).problem();
    }
    String shard = h.batch.shard();
    loop.stats.failed(loop.mapping.uuid(), shard, problem, loop.clock.millis());
    loop.problem(problem);
    if (next == BatchProgress.Next.DISCARD) {
      return discard(source, h, h.progress.discard(), RETRIES_EXHAUSTED) ? Settled.GO_ON : Settled.STOPPED;
    }
    if (next == BatchProgress.Next.RETRY_LATER) {
      h.waits++;
      Duration delay = loop.schedule.backoff(h.waits);
      h.dueNanos = System.nanoTime() + delay.toNanos();
      if (h.waits == 1 || h.waits % 10 == 0) {
        log.warn("Event source mapping {}: records {} to {} of {} failed ({} in a row; again in {}): {}",
            loop.mapping.uuid(), h.batch.items().get(h.progress.head().from()).id(),
            h.batch.items().get(h.progress.head().to() - 1).id(), shard, h.waits, delay, problem);
      }
      return Settled.RETRY_LATER;
    }
    return Settled.GO_ON;
  }

  /** Items {@code from} to {@code to} were processed: counted, and checkpointed when {@code partial} (see the class doc). */
  private void settled(EventSource source, StreamBatch h, int from, int to, boolean partial) {
    EventSource.Batch span = h.batch.span(from, to);
    if (partial && checkpointsRanges) {
      source.checkpoint(span, Set.of());
    }
    loop.stats.processed(loop.mapping.uuid(), span.shard(), span.records(),
        checkpointsRanges ? span.lastPosition() : null);
  }

  /**
   * Gives range {@code r} of {@code h} up: sends it to the on-failure destination (retried while
   * that is down) and checkpoints past it. False when the loop stopped first (nothing checkpointed).
   */
  boolean discard(EventSource source, StreamBatch h, BatchProgress.Range r, String condition) {
    EventSource.Batch gone = source.slice(h.batch, r.from(), r.to());
    String target = loop.mapping.errors().onFailure();
    if (target == null) {
      log.warn("Event source mapping {} discarded records {} to {} of {} ({}); it has no on-failure destination",
          loop.mapping.uuid(), gone.firstPosition(), gone.lastPosition(), gone.shard(), condition);
    } else if (!sendFailure(source, h, gone, r.retries(), condition, target)) {
      return false;
    } else {
      log.warn("Event source mapping {} discarded records {} to {} of {} ({}); sent to {}", loop.mapping.uuid(),
          gone.firstPosition(), gone.lastPosition(), gone.shard(), condition, target);
    }
    if (checkpointsRanges) {
      source.checkpoint(gone, Set.of());
    }
    loop.stats.discarded(loop.mapping.uuid(), gone.shard(), gone.records(),
        checkpointsRanges ? gone.lastPosition() : null);
    return true;
  }

  private boolean sendFailure(EventSource source, StreamBatch h, EventSource.Batch gone, int invokes,
                              String condition, String target) {
    String requestId = UUID.randomUUID().toString();
    List<Destination.Message> messages;
    if (target.startsWith("kafka:")) {
      Map<String, Object> failure = new LinkedHashMap<>();
      failure.put("x-tributary-condition", condition);
      failure.put("x-tributary-request-id", requestId);
      failure.put("x-tributary-function-arn", loop.mapping.functionArn());
      failure.put("x-tributary-approximate-invoke-count", invokes);
      failure.put("x-tributary-source", gone.shard());
      messages = source.originals(gone).stream().map(m -> {
        Map<String, Object> headers = new LinkedHashMap<>(m.attributes());
        headers.putAll(failure);
        return new Destination.Message(m.key(), m.body(), headers, m.keyBytes());
      }).toList();
    } else {
      messages = List.of(new Destination.Message(requestId, InvocationRecord.batchFailure(requestId,
          loop.mapping.functionArn(), condition, invokes, h.last, source.batchInfo(gone), loop.clock.millis()),
          Map.of()));
    }
    int attempt = 0;
    while (loop.running()) {
      try {
        Destination destination = loop.failureDestination.get();
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
              + " dropped: {}", loop.mapping.uuid(), target, gone.firstPosition(), gone.lastPosition(), gone.shard(),
              cause.getMessage());
          return true;
        }
        attempt++;
        Duration delay = loop.schedule.backoff(attempt);
        if (attempt == 1 || attempt % 10 == 0) {
          log.warn("Event source mapping {}: cannot send to its on-failure destination {} ({} in a row; again in"
              + " {}): {}", loop.mapping.uuid(), target, attempt, delay, cause.toString());
        }
        loop.problem("On-failure destination unreachable. " + cause.getMessage());
        loop.sleep(delay);
      }
    }
    return false;
  }
}
