package io.tributary.api;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.nio.charset.StandardCharsets;

/**
 * What an invocation produced, as Invoke returns it: the payload (the handler's response, or the
 * error document when {@code functionError} is {@code "Unhandled"}), and the last 4 KB of the
 * invocation's log when the caller asked for {@code Tail}.
 */
public record InvocationResult(byte[] payload, String functionError, String logTail) {

  public static final int MAX_RESPONSE_BYTES = 6_291_556;

  public static InvocationResult unhandled(String errorType, String errorMessage, String logTail) {
    String body = "{\"errorMessage\":\"" + quote(errorMessage) + "\",\"errorType\":\"" + quote(errorType) + "\"}";
    return new InvocationResult(body.getBytes(StandardCharsets.UTF_8), "Unhandled", logTail);
  }

  private static String quote(String s) {
    return new String(JsonStringEncoder.getInstance().quoteAsString(s));
  }

  public boolean failed() {
    return functionError != null;
  }
}
