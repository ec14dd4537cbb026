package io.tributary.cluster;

import java.time.Duration;
import org.apache.pekko.actor.typed.BackoffSupervisorStrategy;
import org.apache.pekko.actor.typed.SupervisorStrategy;

/**
 * How every entity restarts after a failure of its journal (or, for the AccountEntity, of
 * itself): after 200 ms, doubling to 5 s, with 20 % jitter, so that a Cassandra that is briefly
 * away is retried soon, a longer outage is not hammered, and entities restarted together do not
 * retry in step. A restarted entity replays its journal, so nothing it had persisted is lost; the
 * command whose write failed gets no answer and its caller's ask times out.
 */
public final class Restarts {

  public static final BackoffSupervisorStrategy BACKOFF =
      SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2);

  private Restarts() {}
}
