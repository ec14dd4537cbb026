package io.tributary.cluster.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A function's answer under {@code FunctionResponseTypes: ReportBatchItemFailures}, read as AWS
 * reads it: {@code {"batchItemFailures":[{"itemIdentifier":"<id>"}]}} names the records that
 * failed. No answer, an empty one, or an empty or null list means the whole batch succeeded; invalid
 * JSON, a missing, empty or unknown identifier means the whole batch failed.
 */
final class PartialBatchResponse {
  private static final ObjectMapper JSON = new ObjectMapper();

  private PartialBatchResponse() {}

  /** The failed item ids, or empty when the whole batch failed. */
  static Optional<Set<String>> failedItems(byte[] response, List<String> itemIds) {
    if (response == null || response.length == 0) {
      return Optional.of(Set.of());
    }
    JsonNode answer;
    try {
      answer = JSON.readTree(response);
    } catch (IOException e) {
      return Optional.empty();
    }
    if (answer == null || answer.isNull() || (answer.isObject() && answer.isEmpty())) {
      return Optional.of(Set.of());
    }
    if (!answer.isObject()) {
      return Optional.empty();
    }
    JsonNode failures = answer.get("batchItemFailures");
    if (failures == null || failures.isNull()) {
      return Optional.of(Set.of());
    }
    if (!failures.isArray()) {
      return Optional.empty();
    }
    Set<String> failed = new LinkedHashSet<>();
    for (JsonNode failure : failures) {
      JsonNode id = failure.get("itemIdentifier");
      if (id == null || !id.isTextual() || id.asText().isEmpty() || !itemIds.contains(id.asText())) {
        return Optional.empty();
      }
      failed.add(id.asText());
    }
    return Optional.of(failed);
  }
}
