package io.tributary.cluster.async;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.cluster.async.AsyncQueueEntity.EventAccepted;
import io.tributary.cluster.async.AsyncQueueEntity.EventFinished;
import io.tributary.cluster.async.AsyncQueueEntity.EventsCommitted;
import io.tributary.cluster.async.AsyncQueueEntity.State;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A queue's journal replays to the same events whether it holds one event per row (older) or group commits. */
class AsyncQueueStateTest {

  private static final EventAccepted A = new EventAccepted("a", null, 1_000L);
  private static final EventAccepted B = new EventAccepted("b", "live", 1_001L);
  private static final EventAccepted C = new EventAccepted("c", null, 1_002L);

  @Test
  void aGroupCommitReplaysLikeItsEventsOnePerRow() {
    State rows = new State();
    List.of(A, B, new EventFinished("a", "Success", 1, null), C, new EventFinished("b", "RetriesExhausted", 3, true))
        .forEach(e -> replay(rows, e));

    State commits = new State();
    replay(commits, new EventsCommitted(List.of(), List.of(A, B)));
    replay(commits, new EventsCommitted(List.of(new EventFinished("a", "Success", 1, null)), List.of(C)));
    replay(commits, new EventsCommitted(List.of(new EventFinished("b", "RetriesExhausted", 3, true)), List.of()));

    assertEquals(snapshot(rows), snapshot(commits));
    assertEquals(1L, snapshot(commits).deadLettered());
    assertTrue(commits.contains("c"));
    assertFalse(commits.contains("a"));
    assertEquals(1, commits.size());
  }

  @Test
  void aJournalMixingBothFormsReplaysInOrder() {
    State state = new State();
    replay(state, A);
    replay(state, new EventsCommitted(List.of(new EventFinished("a", "Success", 1, null)), List.of(B)));
    replay(state, new EventFinished("b", "EventAgeExceeded", 0, null));
    AsyncQueueEntity.Snapshot snapshot = snapshot(state);
    assertEquals(0, state.size());
    assertEquals(java.util.Map.of("Success", 1L, "EventAgeExceeded", 1L), snapshot.finished());
  }

  /** Through the entity's own event handler, as a recovery applies them. */
  private static void replay(State state, AsyncQueueEntity.Event event) {
    AsyncQueueEntity.EVENTS.apply(state, event);
  }

  private static AsyncQueueEntity.Snapshot snapshot(State state) {
    return state.snapshot();
  }
}
