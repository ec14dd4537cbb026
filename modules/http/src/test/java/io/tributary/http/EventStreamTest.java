package io.tributary.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HexFormat;
import java.util.Map;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

class EventStreamTest {

  /** Frames decoded by botocore's EventStreamBuffer and Lambda's event-stream parser as these events. */
  private static final String HELLO = "0000006f0000005af5fe871f0b3a6576656e742d7479706507000c5061796c6f61644368756e6b"
      + "0d3a636f6e74656e742d747970650700186170706c69636174696f6e2f6f637465742d73747265616d0d3a6d6573736167652d"
      + "747970650700056576656e7448656c6c6fe8263d64";
  private static final String COMPLETE = "00000066000000541f56c8690b3a6576656e742d7479706507000e496e766f6b65436f6d70"
      + "6c6574650d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e0d3a6d6573736167652d7479706507"
      + "00056576656e747b7d7006d467";

  @Test
  void eventsAreEncodedByteForByteAsBotocoreReadsThem() {
    assertEquals(HELLO, hex(EventStream.event("PayloadChunk", "application/octet-stream", ByteString.fromString("Hello"))));
    assertEquals(COMPLETE, hex(EventStream.event("InvokeComplete", "application/json", ByteString.fromString("{}"))));
  }

  @Test
  void framesDecodeBackToTheirHeadersAndPayload() {
    EventStream.Message m = EventStream.decode(ByteString.fromArray(HexFormat.of().parseHex(HELLO)));
    assertEquals("PayloadChunk", m.eventType());
    assertEquals(Map.of(":event-type", "PayloadChunk", ":content-type", "application/octet-stream",
        ":message-type", "event"), m.headers());
    assertEquals("Hello", m.payload().utf8String());
  }

  @Test
  void aDamagedFrameIsRefused() {
    byte[] bytes = HexFormat.of().parseHex(HELLO);
    bytes[bytes.length - 6] ^= 1;
    assertThrows(IllegalArgumentException.class, () -> EventStream.decode(ByteString.fromArray(bytes)));
  }

  @Test
  void anEmptyPayloadIsAValidFrame() {
    ByteString frame = EventStream.event("PayloadChunk", "application/octet-stream", ByteString.emptyByteString());
    assertEquals(0, EventStream.decode(frame).payload().size());
  }

  private static String hex(ByteString bytes) {
    return HexFormat.of().formatHex(bytes.toArray());
  }
}
