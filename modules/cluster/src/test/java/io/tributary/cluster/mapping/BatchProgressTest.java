package io.tributary.cluster.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.cluster.mapping.BatchProgress.Next;
import io.tributary.cluster.mapping.BatchProgress.Range;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bookkeeping of a failed stream batch: bisection, retries, partial failures and expiry. */
class BatchProgressTest {

  @Test
  void bisectionIsolatesAPoisonRecordAndEverythingElseIsProcessedInOrder() {
    BatchProgress progress = new BatchProgress(8, 2, true);
    int poison = 5;
    List<Integer> processed = new ArrayList<>();
    List<Range> discarded = new ArrayList<>();
    int invokes = 0;
    while (!progress.done()) {
      Range r = progress.head();
      invokes++;
      if (r.from() <= poison && poison < r.to()) {
        if (progress.functionError() == Next.DISCARD) {
          discarded.add(progress.discard());
        }
      } else {
        for (int i = r.from(); i < r.to(); i++) {
          processed.add(i);
        }
        progress.succeeded();
      }
    }
    assertEquals(List.of(0, 1, 2, 3, 4, 6, 7), processed, "in order, the poison record left out");
    assertEquals(List.of(new Range(5, 6, 3)), discarded, "alone, after its 2 retries");
    // 8 → 4+4 → (0-4 ok) 4-6 → 4-5 ok, 5-6 fails 3 times → 6-8 ok.
    assertEquals(1 + 1 + 1 + 1 + 1 + 3 + 1, invokes);
  }

  @Test
  void splittingUsesNoRetryButEachFailureOfASingleRecordDoes() {
    BatchProgress progress = new BatchProgress(2, 1, true);
    assertEquals(Next.INVOKE, progress.functionError());
    assertEquals(new Range(0, 1, 0), progress.head());
    assertEquals(Next.RETRY_LATER, progress.functionError());
    assertEquals(new Range(0, 1, 1), progress.head());
    assertEquals(Next.DISCARD, progress.functionError());
    assertEquals(new Range(0, 1, 2), progress.discard());
    assertEquals(new Range(1, 2, 0), progress.head(), "the other half keeps its own count");
  }

  @Test
  void withoutBisectionTheWholeBatchIsRetriedThenDiscarded() {
    BatchProgress progress = new BatchProgress(100, 2, false);
    assertEquals(Next.RETRY_LATER, progress.functionError());
    assertEquals(Next.RETRY_LATER, progress.functionError());
    assertEquals(Next.DISCARD, progress.functionError());
    assertEquals(new Range(0, 100, 3), progress.discard());
    assertTrue(progress.done());
  }

  @Test
  void zeroRetriesDiscardsAtTheFirstFailureAndMinusOneNeverDoes() {
    BatchProgress none = new BatchProgress(3, 0, false);
    assertEquals(Next.DISCARD, none.functionError());
    BatchProgress forever = new BatchProgress(3, -1, false);
    for (int i = 0; i < 10_000; i++) {
      assertEquals(Next.RETRY_LATER, forever.functionError());
    }
    assertEquals(10_000, forever.head().retries());
  }

  @Test
  void aPartialFailureResumesAtTheLowestFailedRecordAndCountsARetry() {
    BatchProgress progress = new BatchProgress(10, 1, false);
    assertEquals(Next.RETRY_LATER, progress.partlyFailed(4));
    assertEquals(new Range(4, 10, 1), progress.head());
    assertEquals(Next.DISCARD, progress.partlyFailed(7));
    assertEquals(new Range(7, 10, 2), progress.discard(), "records 4 to 6 were processed on the retry");
    assertTrue(progress.done());
  }

  @Test
  void expiredRecordsLeaveTheHeadAndTheRestStays() {
    BatchProgress progress = new BatchProgress(10, -1, true);
    progress.functionError();
    assertEquals(new Range(0, 2, 0), progress.expire(2));
    assertEquals(new Range(2, 5, 0), progress.head());
    assertEquals(new Range(2, 5, 0), progress.expire(3));
    assertEquals(new Range(5, 10, 0), progress.head());
  }
}
