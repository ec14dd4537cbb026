package io.tributary.cluster.mapping;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.api.EventSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A shard's tumbling window, AWS's way: windows of {@code TumblingWindowInSeconds} aligned to the
 * epoch, a record belonging to the window of its arrival time in the stream. Each batch of the
 * window is invoked with the {@code state} the function returned for the one before ({@code {}}
 * at first), and must return one. Once the window is over, a last invoke with no records and
 * {@code isFinalInvokeForWindow} hands the function the final state. A state above 1 MB ends the
 * window early: that last invoke also says {@code isWindowTerminatedEarly}, and the window goes
 * on with a fresh state.
 */
record TumblingWindow(long startMillis, long endMillis, String state) {

  static final int MAX_STATE_BYTES = 1024 * 1024;
  private static final String FRESH = "{}";
  private static final JsonFactory JSON = new JsonFactory();
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** The window of {@code seconds} that a record arriving at {@code arrivalMillis} belongs to, with a fresh state. */
  static TumblingWindow of(long arrivalMillis, int seconds) {
    long size = seconds * 1000L;
    long start = Math.floorDiv(arrivalMillis, size) * size;
    return new TumblingWindow(start, start + size, FRESH);
  }

  TumblingWindow withState(String newState) {
    return new TumblingWindow(startMillis, endMillis, newState);
  }

  /** The same window, its state dropped (after an early end). */
  TumblingWindow fresh() {
    return withState(FRESH);
  }

  boolean tooLarge() {
    return state.getBytes(StandardCharsets.UTF_8).length > MAX_STATE_BYTES;
  }

  /**
   * Where {@code items} (in the shard's order) change windows: the end index of each run of one
   * window, the last being {@code items.size()}.
   */
  static List<Integer> runs(List<EventSource.Item> items, int seconds) {
    List<Integer> ends = new ArrayList<>();
    long size = seconds * 1000L;
    for (int i = 1; i < items.size(); i++) {
      if (Math.floorDiv(items.get(i).timeMillis(), size) > Math.floorDiv(items.get(i - 1).timeMillis(), size)) {
        ends.add(i);
      }
    }
    ends.add(items.size());
    return ends;
  }

  /**
   * The event of a batch in this window: the source's {@code {"Records":[…]}} (null for the final
   * invoke, which has none) with AWS's window members after them.
   */
  byte[] event(byte[] records, String shardId, String eventSourceArn, boolean last, boolean early) {
    ByteArrayOutputStream out =
        new ByteArrayOutputStream((records == null ? 0 : records.length) + state.length() + 256);
    if (records == null) {
      out.writeBytes("{\"Records\":[]".getBytes(StandardCharsets.UTF_8));
    } else {
      int close = records.length - 1;
      while (records[close] != '}') {
        close--;
      }
      out.write(records, 0, close);
    }
    try (JsonGenerator g = JSON.createGenerator(out).setRootValueSeparator(null)) {
      g.writeRaw(",\"window\":");
      g.writeStartObject();
      g.writeStringField("start", Instant.ofEpochMilli(startMillis).toString());
      g.writeStringField("end", Instant.ofEpochMilli(endMillis).toString());
      g.writeEndObject();
      g.writeRaw(",\"state\":");
      g.writeRaw(state);
      g.writeRaw(",\"shardId\":");
      g.writeString(shardId);
      g.writeRaw(",\"eventSourceARN\":");
      g.writeString(eventSourceArn);
      g.writeRaw(",\"isFinalInvokeForWindow\":" + last + ",\"isWindowTerminatedEarly\":" + early + "}");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * The {@code state} object of a function's response, as compact JSON; null when the response has
   * none (AWS counts that a failed invoke).
   */
  static String stateOf(byte[] payload) {
    try {
      JsonNode response = MAPPER.readTree(payload);
      JsonNode state = response == null ? null : response.get("state");
      return state != null && state.isObject() ? MAPPER.writeValueAsString(state) : null;
    } catch (IOException e) {
      return null;
    }
  }
}
