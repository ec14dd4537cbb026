package io.tributary.api;

import java.util.function.Supplier;

/**
 * Marks a caller whose thread may run the function itself: a warm invoke of an in-process handler
 * that has proven quick then runs to its end inside {@link #call}, and the answer comes back
 * complete, with no hand-off to another thread and back (two thread wake-ups, a fifth of a warm
 * no-op invoke's CPU). Only the HTTP server's request handler opts in: its thread is one of the
 * dispatcher's, which the same handler would otherwise have run on, and nothing it chains to the
 * answer expects to run later. Actors and other callers never do: a handler run inside an actor's
 * message would hold that actor.
 */
public final class CallerRuns {

  private static final ThreadLocal<Boolean> HERE = new ThreadLocal<>();

  /** {@code call}, during which this thread may run quick handlers itself. */
  public static <T> T call(Supplier<T> call) {
    if (HERE.get() != null) {
      return call.get();
    }
    HERE.set(Boolean.TRUE);
    try {
      return call.get();
    } finally {
      HERE.remove();
    }
  }

  /** True inside {@link #call}, on the caller's thread. */
  public static boolean here() {
    return HERE.get() != null;
  }

  private CallerRuns() {}
}
