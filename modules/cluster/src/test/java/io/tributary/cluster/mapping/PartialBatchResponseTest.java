package io.tributary.cluster.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which records of a batch a function reported failed, by AWS's rules. */
class PartialBatchResponseTest {

  private static final List<String> BATCH = List.of("m-1", "m-2", "m-3");

  private static Optional<Set<String>> read(String response) {
    return PartialBatchResponse.failedItems(response == null ? null : response.getBytes(StandardCharsets.UTF_8),
        BATCH);
  }

  @Test
  void theNamedRecordsFailedAndTheOthersSucceeded() {
    assertEquals(Optional.of(Set.of("m-2")), read("{\"batchItemFailures\":[{\"itemIdentifier\":\"m-2\"}]}"));
    assertEquals(Optional.of(Set.of("m-1", "m-3")),
        read("{\"batchItemFailures\":[{\"itemIdentifier\":\"m-1\"},{\"itemIdentifier\":\"m-3\"}]}"));
  }

  @Test
  void noAnswerAnEmptyAnswerOrAnEmptyListIsACompleteSuccess() {
    for (String success : new String[] {null, "", "null", "{}", "{\"batchItemFailures\":[]}",
        "{\"batchItemFailures\":null}"}) {
      assertEquals(Optional.of(Set.of()), read(success), String.valueOf(success));
    }
  }

  @Test
  void aMalformedAnswerFailsTheWholeBatch() {
    for (String malformed : new String[] {"not json", "[1]", "\"text\"", "{\"batchItemFailures\":{}}",
        "{\"batchItemFailures\":[{}]}", "{\"batchItemFailures\":[{\"itemIdentifier\":\"\"}]}",
        "{\"batchItemFailures\":[{\"itemIdentifier\":null}]}",
        "{\"batchItemFailures\":[{\"itemIdentifier\":\"m-9\"}]}",
        "{\"batchItemFailures\":[{\"ItemIdentifier\":\"m-1\"}]}"}) {
      assertEquals(Optional.empty(), read(malformed), malformed);
    }
  }
}
