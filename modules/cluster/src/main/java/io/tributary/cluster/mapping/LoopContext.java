package io.tributary.cluster.mapping;

import io.tributary.api.Destination;
import io.tributary.api.EventSource;
import io.tributary.api.EventSourceMapping;
import io.tributary.cluster.delivery.RetrySchedule;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one poller thread's loop ({@link QueueLoop} or {@link ShardLoop}) is given and keeps beside
 * its source: the mapping, the running flag (cleared by the poller's actor, or by the source when
 * its shard is finished or taken over), how to invoke the function, where failure records go, the
 * mapping's entity, the retry schedule, the node's stats and a clock; and what the thread last told
 * its mapping. Both loops run inside {@link #run}: open the source, report the mapping Enabled, read
 * until stopped; when the source fails, back off ({@link RetrySchedule#backoff}) and open it again.
 *
 * <p>The mapping hears only changes: {@code LastProcessingResult} is sent when it differs from the
 * last one sent, and once a loop found the function gone and asked for the mapping to be disabled,
 * its reason stands and nothing more is reported.
 */
final class LoopContext {

  private static final Logger log = LoggerFactory.getLogger(LoopContext.class);

  final EventSourceMapping mapping;
  final BatchInvoker.Invoke invoke;
  /** The mapping's on-failure destination, resolved again at each attempt. */
  final Supplier<Destination> failureDestination;
  final RetrySchedule schedule;
  final PollerStats stats;
  final Clock clock;
  private final AtomicBoolean running;
  private final Consumer<EventSourceMappingEntity.Command> entity;
  private String reported;
  private int failures;
  private boolean disabling;

  /** {@code entity}: tells the mapping's {@link EventSourceMappingEntity}. */
  LoopContext(EventSourceMapping mapping, AtomicBoolean running, BatchInvoker.Invoke invoke,
              Supplier<Destination> failureDestination, Consumer<EventSourceMappingEntity.Command> entity,
              RetrySchedule schedule, PollerStats stats, Clock clock) {
    this.mapping = mapping;
    this.running = running;
    this.invoke = invoke;
    this.failureDestination = failureDestination;
    this.entity = entity;
    this.schedule = schedule;
    this.stats = stats;
    this.clock = clock;
  }

  /** A loop of this node: it invokes through the node's Dispatcher and tells the mapping through sharding. */
  static LoopContext of(EventSourceMapping mapping, QueuePoller.Deps deps, AtomicBoolean running) {
    return new LoopContext(mapping, running,
        (functionName, qualifier, invocation) -> deps.dispatcher().invoke(functionName, qualifier, invocation,
            false, true),
        () -> deps.sources().failureDestination(mapping),
        command -> deps.sharding().entityRefFor(EventSourceMappingEntity.TYPE_KEY, mapping.uuid()).tell(command),
        deps.schedule(), deps.stats(), Clock.systemUTC());
  }

  boolean running() {
    return running.get();
  }

  void stop() {
    running.set(false);
  }

  /** Opens the source and has {@code read} read it until the loop stops, opening it again after a failure. */
  <S extends EventSource> void run(Supplier<S> opener, Consumer<S> read) {
    while (running.get()) {
      try (S source = opener.get()) {
        report(EventSourceMapping.ENABLED, null);
        read.accept(source);
      } catch (RuntimeException e) {
        if (!running.get()) {
          break;
        }
        int failed = failed();
        Duration delay = schedule.backoff(failed);
        if (failed == 1 || failed % 10 == 0) {
          log.warn("Event source mapping {} cannot read its source ({} in a row; again in {}): {}", mapping.uuid(),
              failed, delay, e.toString());
        }
        report(null, "PROBLEM: Connection error. " + e.getMessage());
        sleep(delay);
      }
    }
  }

  /** One more failure in a row (of the source, or of a queue's batch): how many there were. */
  int failed() {
    return ++failures;
  }

  /** A batch was processed: the failures in a row are over, and the mapping hears {@code OK}. */
  void ok() {
    failures = 0;
    report(null, "OK");
  }

  void problem(String problem) {
    report(null, "PROBLEM: " + problem);
  }

  /** Takes note of an outcome: a function that is gone has its mapping disabled. */
  void received(BatchInvoker.Outcome outcome) {
    if (outcome instanceof BatchInvoker.Outcome.NotRun notRun && notRun.gone()) {
      disable(notRun.problem());
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
    entity.accept(new EventSourceMappingEntity.Disable("PROBLEM: Function not found: " + mapping.functionArn()
        + ". The mapping was disabled; create the function again, then enable the mapping.",
        "PROBLEM: Function not found"));
  }

  /**
   * Tells the mapping what this loop reached; a result only when it changed, and none once it
   * asked for the mapping to be disabled (its reason stands).
   */
  void report(String state, String result) {
    if (state == null && (disabling || Objects.equals(result, reported))) {
      return;
    }
    if (result != null) {
      reported = result;
    }
    entity.accept(new EventSourceMappingEntity.Report(state, result));
  }

  /** Waits {@code delay}, or less when the loop stops meanwhile. */
  void sleep(Duration delay) {
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
