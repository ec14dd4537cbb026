package io.tributary.cluster.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.cluster.invoke.Dispatcher;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The invocation record Lambda sends to an asynchronous invocation's destination: {@code version},
 * {@code timestamp}, {@code requestContext} (request id, function ARN, condition, approximate invoke
 * count), the request payload, and, when the function answered, {@code responseContext} and its
 * response payload.
 */
public final class InvocationRecord {

  private static final ObjectMapper JSON = new ObjectMapper();

  private InvocationRecord() {}

  /**
   * {@code requestPayload} null when it is gone; {@code response} null when the function never
   * answered (the event expired while throttled).
   */
  public static byte[] of(String requestId, String functionArn, String condition, int approximateInvokeCount,
                   byte[] requestPayload, Dispatcher.Ran response, long timestampMillis) {
    ObjectNode record = JSON.createObjectNode();
    record.put("version", "1.0");
    record.put("timestamp", Instant.ofEpochMilli(timestampMillis).toString());
    requestContext(record, requestId, functionArn, condition, approximateInvokeCount);
    record.set("requestPayload", json(requestPayload));
    if (responseContext(record, response)) {
      record.set("responsePayload", json(response.result().payload()));
    }
    return bytes(record);
  }

  private static void requestContext(ObjectNode record, String requestId, String functionArn, String condition,
                                     int approximateInvokeCount) {
    ObjectNode context = record.putObject("requestContext");
    context.put("requestId", requestId);
    context.put("functionArn", functionArn);
    context.put("condition", condition);
    context.put("approximateInvokeCount", approximateInvokeCount);
  }

  /** Adds {@code responseContext} when the function answered; says whether it did. */
  private static boolean responseContext(ObjectNode record, Dispatcher.Ran response) {
    if (response == null || response.result() == null) {
      return false;
    }
    ObjectNode responseContext = record.putObject("responseContext");
    responseContext.put("statusCode", 200);
    responseContext.put("executedVersion", response.executedVersion());
    if (response.result().functionError() != null) {
      responseContext.put("functionError", response.result().functionError());
    }
    return true;
  }

  private static byte[] bytes(ObjectNode record) {
    try {
      return JSON.writeValueAsBytes(record);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The record a stream mapping sends for a batch it discarded: the request context ({@code
   * condition} RetryAttemptsExhausted or RecordAgeExceeded), the response context of its last
   * invoke when there was one, and the batch's range as the source describes it ({@code
   * KafkaBatchInfo}, …). As in AWS, the records themselves are not in it.
   */
  public static byte[] batchFailure(String requestId, String functionArn, String condition, int approximateInvokeCount,
                             Dispatcher.Ran lastResponse, Map<String, Object> batchInfo, long timestampMillis) {
    ObjectNode record = JSON.createObjectNode();
    requestContext(record, requestId, functionArn, condition, approximateInvokeCount);
    responseContext(record, lastResponse);
    record.put("version", "1.0");
    record.put("timestamp", Instant.ofEpochMilli(timestampMillis).toString());
    batchInfo.forEach((name, value) -> record.set(name, JSON.valueToTree(value)));
    return bytes(record);
  }

  /** Lambda sends the first 1 KB of the error message with a dead-lettered event. */
  static final int ERROR_MESSAGE_LIMIT = 1024;

  /**
   * The attributes Lambda sets on a dead-lettered event: {@code RequestID}, {@code ErrorCode} (the
   * invoke's status: 200 for a function error; 500 when the function never answered) and the first
   * 1 KB of {@code ErrorMessage}.
   */
  public static Map<String, Object> deadLetterAttributes(String requestId, String condition, Dispatcher.Ran response) {
    String message;
    int code;
    if (response != null && response.result() != null) {
      code = 200;
      JsonNode error = json(response.result().payload());
      message = error.path("errorMessage").isTextual() ? error.get("errorMessage").asText()
          : error.isTextual() ? error.asText() : error.toString();
    } else {
      code = 500;
      message = condition + ": the event was not delivered to the function within its maximum event age";
    }
    if (message.isBlank()) {
      message = "(no error message)";
    } else if (message.length() > ERROR_MESSAGE_LIMIT) {
      message = message.substring(0, ERROR_MESSAGE_LIMIT);
    }
    Map<String, Object> attributes = new LinkedHashMap<>();
    attributes.put("RequestID", requestId);
    attributes.put("ErrorCode", code);
    attributes.put("ErrorMessage", message);
    return attributes;
  }

  /** A payload as the JSON it holds; a response that is not JSON as a string, as Lambda does. */
  private static JsonNode json(byte[] payload) {
    if (payload == null || payload.length == 0) {
      return JSON.nullNode();
    }
    try {
      return JSON.readTree(payload);
    } catch (IOException e) {
      return JSON.getNodeFactory().textNode(new String(payload, StandardCharsets.UTF_8));
    }
  }
}
