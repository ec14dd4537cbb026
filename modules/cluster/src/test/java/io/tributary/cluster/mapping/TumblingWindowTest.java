package io.tributary.cluster.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.api.EventSource;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The window arithmetic and the event and response members of AWS's tumbling windows. */
class TumblingWindowTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static long at(String instant) {
    return Instant.parse(instant).toEpochMilli();
  }

  @Test
  void windowsAreAlignedToTheEpochByTheRecordsArrival() {
    TumblingWindow w = TumblingWindow.of(at("2020-12-09T07:05:59.999Z"), 120);
    assertEquals(at("2020-12-09T07:04:00Z"), w.startMillis());
    assertEquals(at("2020-12-09T07:06:00Z"), w.endMillis());
    assertEquals("{}", w.state(), "a window starts with an empty state");
    assertEquals(at("2020-12-09T07:06:00Z"), TumblingWindow.of(at("2020-12-09T07:06:00Z"), 120).startMillis(),
        "the end is exclusive");
  }

  @Test
  void aBatchIsCutWhereItsRecordsChangeWindows() {
    List<EventSource.Item> items = List.of(item("1", "2020-12-09T07:04:01Z"), item("2", "2020-12-09T07:05:59Z"),
        item("3", "2020-12-09T07:06:00Z"), item("4", "2020-12-09T07:06:30Z"), item("5", "2020-12-09T07:10:00Z"));
    assertEquals(List.of(2, 4, 5), TumblingWindow.runs(items, 120));
    assertEquals(List.of(5), TumblingWindow.runs(items, 900), "all in one window: one run");
  }

  private static EventSource.Item item(String id, String arrival) {
    return new EventSource.Item(id, at(arrival));
  }

  @Test
  void theEventCarriesTheRecordsAndAwsWindowMembers() throws Exception {
    TumblingWindow w = TumblingWindow.of(at("2020-12-09T07:04:10Z"), 120).withState("{\"1\":282,\"2\":715}");
    byte[] records = "{\"Records\":[{\"kinesis\":{\"partitionKey\":\"1\"}}]}".getBytes(StandardCharsets.UTF_8);
    JsonNode event = JSON.readTree(w.event(records, "shardId-000000000006", "arn:aws:kinesis:us-east-1:1:stream/s",
        false, false));
    assertEquals("1", event.at("/Records/0/kinesis/partitionKey").asText());
    assertEquals("2020-12-09T07:04:00Z", event.at("/window/start").asText());
    assertEquals("2020-12-09T07:06:00Z", event.at("/window/end").asText());
    assertEquals(715, event.at("/state/2").asInt());
    assertEquals("shardId-000000000006", event.get("shardId").asText());
    assertEquals("arn:aws:kinesis:us-east-1:1:stream/s", event.get("eventSourceARN").asText());
    assertFalse(event.get("isFinalInvokeForWindow").asBoolean());
    assertFalse(event.get("isWindowTerminatedEarly").asBoolean());

    JsonNode last = JSON.readTree(w.event(null, "shardId-000000000006", "arn", true, true));
    assertEquals(0, last.get("Records").size(), "the final invoke has no records");
    assertTrue(last.get("isFinalInvokeForWindow").asBoolean());
    assertTrue(last.get("isWindowTerminatedEarly").asBoolean());
  }

  @Test
  void theResponseMustHoldAStateObject() {
    assertEquals("{\"count\":3}", TumblingWindow.stateOf(bytes("{\"state\":{\"count\":3},\"batchItemFailures\":[]}")));
    assertNull(TumblingWindow.stateOf(bytes("{\"batchItemFailures\":[]}")), "no state: a failed invoke");
    assertNull(TumblingWindow.stateOf(bytes("{\"state\":5}")));
    assertNull(TumblingWindow.stateOf(bytes("not json")));
    assertNull(TumblingWindow.stateOf(new byte[0]));
  }

  @Test
  void aStateOverOneMegabyteEndsTheWindowEarly() {
    TumblingWindow w = TumblingWindow.of(0, 60);
    assertFalse(w.withState("{\"a\":\"" + "x".repeat(1000) + "\"}").tooLarge());
    TumblingWindow big = w.withState("{\"a\":\"" + "x".repeat(TumblingWindow.MAX_STATE_BYTES) + "\"}");
    assertTrue(big.tooLarge());
    assertEquals("{}", big.fresh().state());
    assertEquals(w.startMillis(), big.fresh().startMillis(), "an early end goes on in the same window");
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
