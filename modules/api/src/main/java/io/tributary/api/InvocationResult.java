package io.tributary.api;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;

/**
 * What an invocation produced, as Invoke returns it: the payload (the handler's response, or the
 * error document when {@code functionError} is {@code "Unhandled"}), and the last 4 KB of the
 * invocation's log when the caller asked for {@code Tail}.
 */
public record InvocationResult(byte[] payload, String functionError, String logTail) {

  public static final int MAX_RESPONSE_BYTES = 6_291_556;

  @JsonPropertyOrder({"errorMessage", "errorType"})
  private record ErrorDocument(String errorMessage, String errorType) {}

  private static final ObjectWriter ERROR_DOCUMENT = new ObjectMapper().writerFor(ErrorDocument.class);

  public static InvocationResult unhandled(String errorType, String errorMessage, String logTail) {
    return new InvocationResult(errorDocument(errorType, errorMessage), "Unhandled", logTail);
  }

  /**
   * AWS's error document, {@code {"errorMessage":…,"errorType":…}}: the payload of a function error
   * and the body of the Runtime API's refusals.
   */
  public static byte[] errorDocument(String errorType, String errorMessage) {
    try {
      return ERROR_DOCUMENT.writeValueAsBytes(new ErrorDocument(errorMessage, errorType));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("two strings could not be written as JSON", e);
    }
  }

  public boolean failed() {
    return functionError != null;
  }
}
