package io.tributary.connectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.api.LambdaException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import software.amazon.event.ruler.Machine;
import software.amazon.event.ruler.RuleCompiler;

/**
 * A mapping's {@code FilterCriteria}: EventBridge patterns, OR-ed, matched by AWS's own event-ruler
 * against each record as JSON, with its payload ({@code body}, {@code value}) as the JSON it holds
 * when it holds JSON, as AWS matches it.
 */
final class RecordFilter {
  /** AWS's default limit of filters per mapping, and of a pattern's length. */
  static final int MAX_FILTERS = 5;
  static final int MAX_PATTERN_LENGTH = 4096;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Machine machine = new Machine();

  private RecordFilter(List<String> patterns) {
    for (int i = 0; i < patterns.size(); i++) {
      try {
        machine.addRule("filter-" + i, patterns.get(i));
      } catch (IOException | RuntimeException e) {
        throw invalid(patterns.get(i), e.getMessage());
      }
    }
  }

  /** Null when there are no patterns: every record passes. */
  static RecordFilter of(List<String> patterns) {
    return patterns.isEmpty() ? null : new RecordFilter(patterns);
  }

  /** Throws a 400 naming what is wrong with the first bad pattern. */
  static void check(List<String> patterns) {
    if (patterns.size() > MAX_FILTERS) {
      throw LambdaException.invalidParameter("FilterCriteria has " + patterns.size() + " filters; at most "
          + MAX_FILTERS + " are allowed.");
    }
    for (String pattern : patterns) {
      if (pattern == null || pattern.isEmpty() || pattern.length() > MAX_PATTERN_LENGTH) {
        throw invalid(pattern, "a pattern is 1 to " + MAX_PATTERN_LENGTH + " characters");
      }
      String problem = RuleCompiler.check(pattern);
      if (problem != null) {
        throw invalid(pattern, problem);
      }
    }
    new RecordFilter(patterns);
  }

  private static LambdaException invalid(String pattern, String why) {
    return LambdaException.invalidParameter("Invalid filter pattern definition " + pattern + ": " + why);
  }

  boolean matches(JsonNode record) {
    return !machine.rulesForJSONEvent(record).isEmpty();
  }

  /** A payload as JSON when it is a JSON object or array, else as the text it is (or null). */
  static JsonNode payload(byte[] bytes) {
    if (bytes == null) {
      return JSON.nullNode();
    }
    try {
      JsonNode parsed = JSON.readTree(bytes);
      if (parsed != null && (parsed.isObject() || parsed.isArray())) {
        return parsed;
      }
    } catch (IOException e) {
      // Not JSON: matched as text.
    }
    return JSON.getNodeFactory().textNode(new String(bytes, StandardCharsets.UTF_8));
  }

  static com.fasterxml.jackson.databind.node.ObjectNode object() {
    return JSON.createObjectNode();
  }
}
