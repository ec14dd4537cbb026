package io.tributary.cluster.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.api.InvocationResult;
import io.tributary.cluster.invoke.Dispatcher;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The record an asynchronous invocation's destination receives, in Lambda's shape. */
class InvocationRecordTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ARN = "arn:aws:lambda:us-east-1:000000000000:function:orders:$LATEST";

  private static JsonNode record(String condition, int count, String request, Dispatcher.Ran response)
      throws Exception {
    return JSON.readTree(InvocationRecord.of("req-1", ARN, condition, count,
        request == null ? null : request.getBytes(StandardCharsets.UTF_8), response, 1_795_000_000_123L));
  }

  @Test
  void aFailedEventCarriesItsRequestTheFunctionErrorAndTheCount() throws Exception {
    InvocationResult failed = new InvocationResult(
        "{\"errorMessage\":\"boom\",\"errorType\":\"Error\"}".getBytes(StandardCharsets.UTF_8), "Unhandled", null);
    JsonNode r = record("RetriesExhausted", 3, "{\"order\":42}", answered(failed, "7"));
    assertEquals("1.0", r.get("version").asText());
    assertEquals("2026-11-18T11:06:40.123Z", r.get("timestamp").asText());
    assertEquals("req-1", r.at("/requestContext/requestId").asText());
    assertEquals(ARN, r.at("/requestContext/functionArn").asText());
    assertEquals("RetriesExhausted", r.at("/requestContext/condition").asText());
    assertEquals(3, r.at("/requestContext/approximateInvokeCount").asInt());
    assertEquals(42, r.at("/requestPayload/order").asInt());
    assertEquals(200, r.at("/responseContext/statusCode").asInt());
    assertEquals("7", r.at("/responseContext/executedVersion").asText());
    assertEquals("Unhandled", r.at("/responseContext/functionError").asText());
    assertEquals("boom", r.at("/responsePayload/errorMessage").asText());
  }

  @Test
  void aSuccessHasNoFunctionErrorAndAResponseThatIsNotJsonStaysAString() throws Exception {
    InvocationResult ok = new InvocationResult("done, not json".getBytes(StandardCharsets.UTF_8), null, null);
    JsonNode r = record("Success", 1, "[1,2]", answered(ok, "$LATEST"));
    assertFalse(r.at("/responseContext").has("functionError"));
    assertEquals("done, not json", r.get("responsePayload").asText());
    assertEquals(2, r.at("/requestPayload/1").asInt());
  }

  private static Dispatcher.Ran answered(InvocationResult result, String version) {
    return new Dispatcher.Ran(result, version, null);
  }

  @Test
  void aDeadLetteredEventCarriesItsRequestIdAndTheFirstKilobyteOfItsError() {
    String longMessage = "x".repeat(3000);
    InvocationResult failed = InvocationResult.unhandled("Error", longMessage, null);
    Map<String, Object> attributes = InvocationRecord.deadLetterAttributes("req-1", "RetriesExhausted",
        answered(failed, "1"));
    assertEquals("req-1", attributes.get("RequestID"));
    assertEquals(200, attributes.get("ErrorCode"));
    assertEquals("x".repeat(1024), attributes.get("ErrorMessage"));
  }

  @Test
  void aDeadLetteredEventThatNeverRanSaysWhy() {
    Map<String, Object> attributes = InvocationRecord.deadLetterAttributes("req-2", "EventAgeExceeded", null);
    assertEquals(500, attributes.get("ErrorCode"));
    assertTrue(((String) attributes.get("ErrorMessage")).startsWith("EventAgeExceeded: "));
  }

  @Test
  void anEventThatNeverRanHasNoResponse() throws Exception {
    JsonNode r = record("EventAgeExceeded", 0, "{}", null);
    assertEquals("EventAgeExceeded", r.at("/requestContext/condition").asText());
    assertFalse(r.has("responseContext"));
    assertFalse(r.has("responsePayload"));
  }

  @Test
  void aDiscardedStreamBatchIsDescribedNotCarried() throws Exception {
    InvocationResult failed = new InvocationResult("{\"errorMessage\":\"boom\"}".getBytes(StandardCharsets.UTF_8),
        "Unhandled", null);
    JsonNode r = JSON.readTree(InvocationRecord.batchFailure("req-2", ARN, "RetryAttemptsExhausted", 4,
        answered(failed, "$LATEST"), Map.of("KafkaBatchInfo", Map.of("batchSize", 3, "recordsInfo",
            Map.of("orders-0", Map.of("firstRecordOffset", "7", "lastRecordOffset", "9")))), 1_795_000_000_123L));
    assertEquals("RetryAttemptsExhausted", r.at("/requestContext/condition").asText());
    assertEquals(4, r.at("/requestContext/approximateInvokeCount").asInt());
    assertEquals("Unhandled", r.at("/responseContext/functionError").asText());
    assertEquals("$LATEST", r.at("/responseContext/executedVersion").asText());
    assertEquals("7", r.at("/KafkaBatchInfo/recordsInfo/orders-0/firstRecordOffset").asText());
    assertEquals(3, r.at("/KafkaBatchInfo/batchSize").asInt());
    assertFalse(r.has("requestPayload") || r.has("responsePayload"), r.toString());
    JsonNode aged = JSON.readTree(InvocationRecord.batchFailure("req-3", ARN, "RecordAgeExceeded", 0, null,
        Map.of(), 1_795_000_000_123L));
    assertFalse(aged.has("responseContext"), "never invoked: " + aged);
  }
}
