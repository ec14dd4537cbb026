package io.tributary.cluster;

import io.tributary.api.Destination;
import io.tributary.api.EventSource;
import io.tributary.api.EventSourceMapping;
import io.tributary.api.Invocation;
import io.tributary.api.LambdaException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
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
 * on-failure destination. Run by {@link ShardPoller} (a mapping's whole source on a node) and by
 * {@link StreamShardPoller} (one shard of a stream Tributary places itself).
 */
final class PollLoop {

  private static final Logger log = LoggerFactory.getLogger(PollLoop.class);
  /** AWS's longest function timeout and a margin: an invoke always ends within it. */
  private static final Duration INVOKE_TIMEOUT = Duration.ofSeconds(910);
  private static final Duration POLL_WAIT = Duration.ofMillis(500);
  private static final Duration SEND_TIMEOUT = Duration.ofSeconds(60);
  /** How often a poller asks its source how far behind it is. */
  private static final long LAG_EVERY_NANOS = Duration.ofSeconds(5).toNanos();
  /** AWS: a Kafka mapping with no retry limit but an on-failure destination retries a batch 10 times. */
  static final int KAFKA_RETRIES_WITH_DESTINATION = 10;
  static final String RETRIES_EXHAUSTED = "RetryAttemptsExhausted";
  static final String RECORD_AGE_EXCEEDED = "RecordAgeExceeded";

  /** A stream batch being worked through; {@code last}: the answer of its last invoke that ran. */
  private static final class Held {
    final EventSource.Batch batch;
    final BatchProgress progress;
    Dispatcher.Result last;
    int waits;
    long dueNanos;

    Held(EventSource.Batch batch, BatchProgress progress) {
      this.batch = batch;
      this.progress = progress;
    }
  }

  private final EventSourceMapping mapping;
  private final ShardPoller.Deps deps;
  private final ActorSystem<?> system;
  private final AtomicBoolean running;
  private final Supplier<EventSource> opener;
  private final Map<String, Held> held = new LinkedHashMap<>();
  private String reported;
  private int failures;
  private boolean disabling;

  /**
   * {@code opener}: opens the source (again after a failure); {@code running}: cleared to stop
   * the loop, by its actor or by the source itself.
   */
  PollLoop(EventSourceMapping mapping, ShardPoller.Deps deps, ActorSystem<?> system, AtomicBoolean running,
           Supplier<EventSource> opener) {
    this.mapping = mapping;
    this.deps = deps;
    this.system = system;
    this.running = running;
    this.opener = opener;
  }

  void run() {
    while (running.get()) {
      try (EventSource source = opener.get()) {
        held.clear();
        report(EventSourceMapping.ENABLED, null);
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
              Held h = new Held(batch, new BatchProgress(batch.records(), retryLimit(),
                  mapping.errors().bisectBatchOnFunctionError()));
              advance(source, h);
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
   * Works a stream batch on until it is done (checkpointed, the shard resumed) or has to wait
   * for a retry (held, the shard paused).
   */
  private void advance(EventSource source, Held h) {
    String shard = h.batch.shard();
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
      Outcome outcome = invoke(whole ? h.batch : source.slice(h.batch, r.from(), r.to()));
      if (outcome.result() != null && outcome.result().result() != null) {
        h.last = outcome.result();
      }
      BatchProgress.Next next;
      if (outcome.problem() == null && outcome.failedItems().isEmpty()) {
        h.progress.succeeded();
        settled(source, h, r.from(), r.to(), !whole);
        failures = 0;
        report(null, "OK");
        continue;
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
        if (!discard(source, h, h.progress.discard(), RETRIES_EXHAUSTED)) {
          return;
        }
      } else if (next == BatchProgress.Next.RETRY_LATER) {
        h.waits++;
        Duration delay = deps.schedule().backoff(h.waits);
        h.dueNanos = System.nanoTime() + delay.toNanos();
        if (h.waits == 1 || h.waits % 10 == 0) {
          log.warn("Event source mapping {}: records {} to {} of {} failed ({} in a row; again in {}): {}",
              mapping.uuid(), h.batch.items().get(h.progress.head().from()).id(),
              h.batch.items().get(h.progress.head().to() - 1).id(), shard, h.waits, delay, problem);
        }
        if (held.put(shard, h) == null) {
          source.pause(shard);
        }
        return;
      }
    }
    if (h.progress.done()) {
      source.checkpoint(h.batch, Set.of());
      if (held.remove(shard) != null) {
        source.resume(shard);
      }
    }
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

  /** Items {@code from} to {@code to} were processed: counted, and checkpointed when {@code partial}. */
  private void settled(EventSource source, Held h, int from, int to, boolean partial) {
    EventSource.Batch span = h.batch.span(from, to);
    if (partial) {
      source.checkpoint(span, Set.of());
    }
    deps.stats().processed(mapping.uuid(), span.shard(), span.records(), span.lastPosition());
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
    source.checkpoint(gone, Set.of());
    deps.stats().discarded(mapping.uuid(), gone.shard(), gone.records(), gone.lastPosition());
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
    Outcome outcome = invoke(batch);
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
   * throttle or a node's.
   */
  private record Outcome(String problem, Set<String> failedItems, boolean functionRan, Dispatcher.Result result) {
    static Outcome notRun(String problem, Dispatcher.Result result) {
      return new Outcome(problem, Set.of(), false, result);
    }
  }

  private Outcome invoke(EventSource.Batch batch) {
    Invocation invocation = new Invocation(UUID.randomUUID().toString(), mapping.functionArn(), batch.event(), null,
        null, false);
    try {
      Dispatcher.Result result = AskPattern.<Dispatcher.Command, Dispatcher.Result>ask(deps.dispatcher(),
              replyTo -> new Dispatcher.Invoke(mapping.functionName(), mapping.qualifier(), invocation, false, true,
                  replyTo), INVOKE_TIMEOUT, system.scheduler())
          .toCompletableFuture().get(INVOKE_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
      if (result.error() != null) {
        LambdaException error = result.error().toException();
        if (error.status() == 404) {
          disable(error.getMessage());
        }
        return Outcome.notRun(error.errorType() + ": " + error.getMessage(), result);
      }
      if (result.result().functionError() != null) {
        return new Outcome("Function call failed (" + result.result().functionError() + ")", Set.of(), true, result);
      }
      if (!mapping.reportsItemFailures()) {
        return new Outcome(null, Set.of(), true, result);
      }
      return PartialBatchResponse.failedItems(result.result().payload(), batch.itemIds())
          .map(failed -> new Outcome(null, failed, true, result))
          .orElseGet(() -> new Outcome("Function call failed (its batchItemFailures response is malformed)",
              Set.of(), true, result));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running.set(false);
      return Outcome.notRun("interrupted", null);
    } catch (Exception e) {
      return Outcome.notRun("Function call failed: " + e, null);
    }
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
