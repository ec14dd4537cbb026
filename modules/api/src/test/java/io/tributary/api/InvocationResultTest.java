package io.tributary.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The error document an Invoke caller receives for a function error. */
class InvocationResultTest {

  @Test
  void theErrorDocumentHasAwsShape() {
    InvocationResult result = InvocationResult.unhandled("Sandbox.Timeout", "Task timed out after 3.00 seconds", null);
    assertEquals("{\"errorMessage\":\"Task timed out after 3.00 seconds\",\"errorType\":\"Sandbox.Timeout\"}",
        new String(result.payload(), StandardCharsets.UTF_8));
    assertEquals("Unhandled", result.functionError());
  }

  @Test
  void aMessageWithQuotesBackslashesAndControlCharactersStaysValidJsonAndExact() throws Exception {
    String message = "file \"a\\b.txt\"\nline 2\ttab \u0001 bell \u0007 é ✓";
    JsonNode body = new ObjectMapper().readTree(InvocationResult.unhandled("Weird\"Type", message, null).payload());
    assertEquals(List.of("errorMessage", "errorType"), names(body));
    assertEquals(message, body.get("errorMessage").textValue());
    assertEquals("Weird\"Type", body.get("errorType").textValue());
  }

  private static List<String> names(JsonNode body) {
    List<String> names = new ArrayList<>();
    body.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
