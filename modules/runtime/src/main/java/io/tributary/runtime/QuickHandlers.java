package io.tributary.runtime;

import io.tributary.api.CallerRuns;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where an invocation of an {@code in-process-shared} function runs. Its environment's own thread is
 * safe for any handler, but handing each invocation to it and back costs two thread wake-ups, about
 * as much CPU as the rest of a warm no-op invoke. A handler that has proven quick instead runs on the
 * node's dispatcher, the pool whose threads serve HTTP: the hand-off then stays inside that pool, and
 * when the HTTP server's own request handler is the caller ({@link CallerRuns}), there is none.
 *
 * <p>Proven quick: the environment's last {@link #PROVEN} invocations each ran under {@link
 * #QUICK_NANOS}; one slower invocation sends it back to its own thread until it proves quick again.
 * At most {@code slots} invocations run on the dispatcher at once, so handlers that turn slow
 * together (a slow dependency) hold at most that many of its threads.
 */
final class QuickHandlers {

  /**
   * Not much shorter: on a loaded node a quick handler's thread is often preempted for a few
   * milliseconds, and at 1 ms most environments kept losing their proof.
   */
  static final long QUICK_NANOS = 10_000_000L;
  static final int PROVEN = 100;

  private final Executor dispatcher;
  private final AtomicInteger free;

  QuickHandlers(Executor dispatcher, int slots) {
    this.dispatcher = dispatcher;
    this.free = new AtomicInteger(slots);
  }

  /** The streak of quick invocations after one that took {@code nanos}. */
  static int streak(int streak, long nanos) {
    return nanos < QUICK_NANOS ? Math.min(streak + 1, PROVEN) : 0;
  }

  /** True if an invocation of an environment with this streak runs on the dispatcher; it then holds a slot. */
  boolean tryTake(int streak) {
    if (streak < PROVEN) {
      return false;
    }
    int n;
    do {
      n = free.get();
      if (n <= 0) {
        return false;
      }
    } while (!free.compareAndSet(n, n - 1));
    return true;
  }

  void release() {
    free.incrementAndGet();
  }

  /** On the caller's thread where it allows ({@link CallerRuns}), else on the dispatcher. */
  void execute(Runnable task) {
    if (CallerRuns.here()) {
      task.run();
    } else {
      dispatcher.execute(task);
    }
  }

  int free() {
    return free.get();
  }
}
