package io.tributary.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Framing;
import org.apache.pekko.util.ByteString;

/**
 * AWS's event-stream encoding ({@code application/vnd.amazon.eventstream}), which
 * InvokeWithResponseStream answers in: each message is its total and headers lengths, a CRC32 of
 * those, headers (here only strings), the payload, and a CRC32 of all before it.
 */
final class EventStream {

  static final String CONTENT_TYPE = "application/vnd.amazon.eventstream";
  /** AWS's CRT decoders take messages of at most 16 MiB; payloads are cut well below. */
  static final int MAX_PAYLOAD = 1024 * 1024;
  private static final int MAX_MESSAGE = 16 * 1024 * 1024;
  private static final byte STRING = 7;

  private EventStream() {}

  /** One decoded message: its string headers, in order, and its payload. */
  record Message(Map<String, String> headers, ByteString payload) {

    String eventType() {
      return headers.getOrDefault(":event-type", "");
    }
  }

  /** An event ({@code :message-type} event) of {@code eventType}, as the SDKs' event-stream parsers read it. */
  static ByteString event(String eventType, String contentType, ByteString payload) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put(":event-type", eventType);
    headers.put(":content-type", contentType);
    headers.put(":message-type", "event");
    return encode(headers, payload);
  }

  static ByteString encode(Map<String, String> headers, ByteString payload) {
    int headersLength = 0;
    for (Map.Entry<String, String> h : headers.entrySet()) {
      headersLength += 1 + utf8(h.getKey()).length + 1 + 2 + utf8(h.getValue()).length;
    }
    int total = 12 + headersLength + payload.size() + 4;
    ByteBuffer buffer = ByteBuffer.allocate(total);
    buffer.putInt(total).putInt(headersLength);
    buffer.putInt((int) crc(buffer.array(), 0, 8));
    for (Map.Entry<String, String> h : headers.entrySet()) {
      byte[] name = utf8(h.getKey());
      byte[] value = utf8(h.getValue());
      buffer.put((byte) name.length).put(name).put(STRING).putShort((short) value.length).put(value);
    }
    payload.copyToBuffer(buffer);
    buffer.putInt((int) crc(buffer.array(), 0, total - 4));
    return ByteString.fromArrayUnsafe(buffer.array());
  }

  /** Bytes of an event stream, in any cuts, into its messages; a bad CRC or a header type other than string fails it. */
  static Flow<ByteString, Message, NotUsed> decoder() {
    // The total length counts itself: the frame is that long, not the field plus that.
    return Framing.lengthField(4, 0, MAX_MESSAGE, java.nio.ByteOrder.BIG_ENDIAN, (offset, total) -> total)
        .map(EventStream::decode);
  }

  static Message decode(ByteString frame) {
    byte[] bytes = frame.toArray();
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    int total = buffer.getInt();
    int headersLength = buffer.getInt();
    int preludeCrc = buffer.getInt();
    if (total != bytes.length || preludeCrc != (int) crc(bytes, 0, 8)
        || buffer.getInt(total - 4) != (int) crc(bytes, 0, total - 4)) {
      throw new IllegalArgumentException("an event-stream message failed its length or CRC check");
    }
    Map<String, String> headers = new LinkedHashMap<>();
    int end = 12 + headersLength;
    while (buffer.position() < end) {
      byte[] name = new byte[buffer.get() & 0xff];
      buffer.get(name);
      if (buffer.get() != STRING) {
        throw new IllegalArgumentException("an event-stream header other than a string");
      }
      byte[] value = new byte[buffer.getShort() & 0xffff];
      buffer.get(value);
      headers.put(new String(name, StandardCharsets.UTF_8), new String(value, StandardCharsets.UTF_8));
    }
    return new Message(headers, ByteString.fromArray(bytes, end, total - 4 - end));
  }

  private static long crc(byte[] bytes, int offset, int length) {
    CRC32 crc = new CRC32();
    crc.update(bytes, offset, length);
    return crc.getValue();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
