package io.tributary.cluster;

import io.tributary.api.EventSource;
import io.tributary.api.EventSourceMapping;
import io.tributary.api.Invocation;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one mapping's source on this node and feeds its function, batch by batch: each batch is
 * invoked synchronously through the node's {@link Dispatcher} (so concurrency limits apply), and
 * only a batch the function processed is checkpointed; a failed one is read again after a backoff,
 * so a shard's records reach the function in order. For Kafka, the consumer group decides which
 * partitions this poller reads. The source's calls block: they run on the poller's own thread,
 * which the actor starts and stops.
 */
public final class ShardPoller {

  private static final Logger log = LoggerFactory.getLogger(ShardPoller.class);
  /** AWS's longest function timeout and a margin: an invoke always ends within it. */
  private static final Duration INVOKE_TIMEOUT = Duration.ofSeconds(910);
  private static final Duration POLL_WAIT = Duration.ofMillis(500);
  /** How often a poller asks its source how far behind it is. */
  private static final long LAG_EVERY_NANOS = Duration.ofSeconds(5).toNanos();

  /** A poller takes no messages: it is started, and stopped. */
  public interface Command {}

  private ShardPoller() {}

  /** Everything a poller needs from its node. */
  /** {@code queuePollers}: loops per node for a queue (SQS); a Kafka mapping has one, its group spreads the rest. */
  public record Deps(EventSource.Factory sources, ActorRef<Dispatcher.Command> dispatcher, ClusterSharding sharding,
                     RetrySchedule schedule, int queuePollers, PollerStats stats) {}

  public static Behavior<Command> create(EventSourceMapping mapping, Deps deps) {
    return Behaviors.setup(ctx -> {
      AtomicBoolean running = new AtomicBoolean(true);
      int loops = mapping.isKafka() ? 1 : Math.max(1, deps.queuePollers());
      for (int i = 0; i < loops; i++) {
        Thread thread = new Thread(() -> new Loop(mapping, deps, ctx.getSystem(), running).run(),
            "poller-" + mapping.uuid() + "-" + i);
        thread.setDaemon(true);
        thread.start();
      }
      return Behaviors.receive(Command.class)
          .onSignal(PostStop.class, stop -> {
            running.set(false);
            return Behaviors.same();
          })
          .build();
    });
  }

  /** The poller's thread: open the source, then poll, invoke, checkpoint until stopped. */
  private static final class Loop {
    private final EventSourceMapping mapping;
    private final Deps deps;
    private final org.apache.pekko.actor.typed.ActorSystem<?> system;
    private final AtomicBoolean running;
    private String reported;
    private int failures;

    Loop(EventSourceMapping mapping, Deps deps, org.apache.pekko.actor.typed.ActorSystem<?> system,
         AtomicBoolean running) {
      this.mapping = mapping;
      this.deps = deps;
      this.system = system;
      this.running = running;
    }

    void run() {
      while (running.get()) {
        try (EventSource source = deps.sources().open(mapping)) {
          report(EventSourceMapping.ENABLED, null);
          long lagAt = 0;
          while (running.get()) {
            if (System.nanoTime() - lagAt > LAG_EVERY_NANOS) {
              deps.stats().lag(mapping.uuid(), source.lag());
              lagAt = System.nanoTime();
            }
            for (EventSource.Batch batch : source.poll(POLL_WAIT, mapping.batchSize())) {
              if (!running.get()) {
                break;
              }
              process(source, batch);
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

    private void process(EventSource source, EventSource.Batch batch) {
      if (batch.event() == null) {
        source.checkpoint(batch, Set.of());
        deps.stats().processed(mapping.uuid(), batch.shard(), 0, batch.lastPosition());
        return;
      }
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

    /** {@code problem} null: the function processed the batch, but for {@code failedItems}. */
    private record Outcome(String problem, Set<String> failedItems) {
      static Outcome failed(String problem) {
        return new Outcome(problem, Set.of());
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
          return Outcome.failed(result.error().toException().errorType() + ": "
              + result.error().toException().getMessage());
        }
        if (result.result().functionError() != null) {
          return Outcome.failed("Function call failed (" + result.result().functionError() + ")");
        }
        if (!mapping.reportsItemFailures()) {
          return new Outcome(null, Set.of());
        }
        return PartialBatchResponse.failedItems(result.result().payload(), batch.itemIds())
            .map(failed -> new Outcome(null, failed))
            .orElseGet(() -> Outcome.failed("Function call failed (its batchItemFailures response is malformed)"));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        running.set(false);
        return Outcome.failed("interrupted");
      } catch (Exception e) {
        return Outcome.failed("Function call failed: " + e);
      }
    }

    /** Tells the mapping what this poller reached; a result only when it changed. */
    private void report(String state, String result) {
      if (state == null && Objects.equals(result, reported)) {
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
}
