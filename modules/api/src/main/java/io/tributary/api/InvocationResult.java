package io.tributary.api;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * What an invocation produced, as Invoke returns it: the payload (the handler's response, or the
 * error document when {@code functionError} is {@code "Unhandled"}), and the last 4 KB of the
 * invocation's log when the caller asked for {@code Tail}. Or, when the caller asked for a stream
 * ({@link Invocation#streamResponse}) and the function sent one, only {@code stream}: its payload,
 * error and log come through it.
 */
public record InvocationResult(byte[] payload, String functionError, String logTail, ResponseStream stream) {

  public static final int MAX_RESPONSE_BYTES = 6_291_556;

  public InvocationResult(byte[] payload, String functionError, String logTail) {
    this(payload, functionError, logTail, null);
  }

  public static InvocationResult streamed(ResponseStream stream) {
    return new InvocationResult(null, null, null, stream);
  }

  /**
   * Completes once the function is done with this result: at once for a payload, at the stream's
   * end for a stream. What holds an environment or a concurrency slot gives it back then.
   */
  public CompletionStage<Void> done() {
    return stream == null ? CompletableFuture.completedFuture(null) : stream.end().thenApply(end -> null);
  }

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
