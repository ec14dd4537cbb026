package io.tributary.runtime;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;

/**
 * The output of one invocation: bounded, so a handler that prints gigabytes costs a fixed amount
 * of memory (the first {@code limit} bytes are kept, the rest only counted, as in a truncated log).
 * The last 4 KB are kept apart for {@code X-Amz-Log-Result}.
 *
 * <p>The platform's lines are written in the function's LogFormat and kept or dropped by its
 * SystemLogLevel ({@link LogLines}). What the function prints ({@link #append}) passes the platform's
 * ApplicationLogLevel filter when one applies: then output is cut into lines first, and a line is judged
 * once its newline arrives (or when the invocation ends, or at {@link #MAX_LINE} bytes without one).
 */
final class InvocationLog {

  static final int TAIL_BYTES = 4096;

  /** A longer application line is judged by its first {@code MAX_LINE} bytes. */
  static final int MAX_LINE = 256 * 1024;

  private final int limit;
  private final LogLines lines;
  /** The application line being assembled; only while the application filter applies. */
  private final ByteArrayOutputStream partial;
  private byte[] kept = new byte[256];
  private int keptLength;
  private long dropped;
  /** The last 4 KB by position in the output; only once output is dropped (else they are in kept). */
  private byte[] tail;
  private long total;
  private String footer = "";
  /** Whether the output so far ends mid-line: a platform line then starts on a line of its own. */
  private boolean midLine;

  InvocationLog(int limit) {
    this(limit, LogLines.TEXT);
  }

  InvocationLog(int limit, LogLines lines) {
    this.limit = limit;
    this.lines = lines;
    this.partial = lines.filtersApplication() ? new ByteArrayOutputStream() : null;
  }

  /** What the function printed: through the application filter when one applies. */
  synchronized void append(byte[] bytes, int offset, int length) {
    if (partial == null) {
      keep(bytes, offset, length);
      return;
    }
    int from = offset;
    for (int i = offset; i < offset + length; i++) {
      if (bytes[i] == '\n') {
        partial.write(bytes, from, i + 1 - from);
        judgeLine();
        from = i + 1;
      }
    }
    partial.write(bytes, from, offset + length - from);
    if (partial.size() >= MAX_LINE) {
      judgeLine();
    }
  }

  /** Output already judged (the init phase's, copied into the first invocation's log): kept as it is. */
  synchronized void appendJudged(byte[] bytes, int offset, int length) {
    flushPartial();
    keep(bytes, offset, length);
  }

  private void judgeLine() {
    byte[] line = partial.toByteArray();
    partial.reset();
    int end = line.length > 0 && line[line.length - 1] == '\n' ? line.length - 1 : line.length;
    if (lines.keeps(new String(line, 0, end, StandardCharsets.UTF_8))) {
      keep(line, 0, line.length);
    }
  }

  /** A line cut short by the end of the invocation is judged as it is. */
  private void flushPartial() {
    if (partial != null && partial.size() > 0) {
      judgeLine();
    }
  }

  private void keep(byte[] bytes, int offset, int length) {
    if (length > 0) {
      midLine = bytes[offset + length - 1] != '\n';
    }
    int room = Math.min(length, limit - keptLength);
    if (keptLength + room > kept.length) {
      kept = Arrays.copyOf(kept, Math.min(limit, Math.max(kept.length * 2, keptLength + room)));
    }
    System.arraycopy(bytes, offset, kept, keptLength, room);
    keptLength += room;
    if (room < length) {
      if (tail == null) {
        tail = new byte[TAIL_BYTES];
        int seed = Math.min(TAIL_BYTES, keptLength);
        toTail(kept, keptLength - seed, seed, keptLength - seed);
      }
      toTail(bytes, offset + room, length - room, total + room);
      dropped += length - room;
    }
    total += length;
  }

  /** Copies {@code length} bytes that sit at {@code position} of the output into the ring of the last 4 KB. */
  private void toTail(byte[] bytes, int offset, int length, long position) {
    if (length > TAIL_BYTES) {
      offset += length - TAIL_BYTES;
      position += length - TAIL_BYTES;
      length = TAIL_BYTES;
    }
    int at = (int) (position % TAIL_BYTES);
    int first = Math.min(length, TAIL_BYTES - at);
    System.arraycopy(bytes, offset, tail, at, first);
    System.arraycopy(bytes, offset + first, tail, 0, length - first);
  }

  /** A line of the platform's own (an error, a timeout): never filtered. */
  synchronized void line(String text) {
    flushPartial();
    byte[] bytes = ((midLine ? "\n" : "") + text + "\n").getBytes(StandardCharsets.UTF_8);
    keep(bytes, 0, bytes.length);
  }

  /**
   * The init line: {@code INIT_START Runtime Version: python:3.11.7\tRuntime Version ARN: …} in Text,
   * {@code platform.initStart} in JSON; nothing when SystemLogLevel drops it.
   */
  void initStart(String runtimeVersion, String runtimeVersionArn, String functionName, String functionVersion) {
    String text = lines.initStart(Instant.now(), runtimeVersion, runtimeVersionArn, functionName, functionVersion);
    if (text != null) {
      line(text);
    }
  }

  void initFailed(double durationMs, String errorType) {
    line(lines.initFailed(Instant.now(), durationMs, errorType));
  }

  void start(String requestId, String version) {
    start(requestId, version, null);
  }

  /** START / platform.start ({@code functionArn}: the ARN invoked, shown in JSON only). */
  void start(String requestId, String version, String functionArn) {
    String text = lines.start(Instant.now(), requestId, version, functionArn);
    if (text != null) {
      line(text);
    }
  }

  void end(String requestId, double durationMs, int memorySize, long maxMemoryUsedMb, Double initDurationMs) {
    end(requestId, durationMs, memorySize, maxMemoryUsedMb, initDurationMs, "success");
  }

  /**
   * END and REPORT as Lambda prints them, or platform.report; {@code initDurationMs} only after a cold start
   * (else null); {@code status}: success, error or timeout.
   */
  void end(String requestId, double durationMs, int memorySize, long maxMemoryUsedMb, Double initDurationMs,
      String status) {
    String text = lines.end(Instant.now(), requestId, durationMs, memorySize, maxMemoryUsedMb, initDurationMs, status);
    synchronized (this) {
      flushPartial();
      if (text != null) {
        finish((midLine ? "\n" : "") + text + "\n");
      }
    }
  }

  /** {@code %.2f} without a Formatter: REPORT lines are written on every invocation. */
  static String twoDecimals(double value) {
    long hundredths = Math.round(Math.abs(value) * 100);
    long fraction = hundredths % 100;
    return (value < 0 && hundredths != 0 ? "-" : "") + hundredths / 100 + (fraction < 10 ? ".0" : ".") + fraction;
  }

  /** The platform's closing lines (END, REPORT): kept even when the output was cut. */
  private synchronized void finish(String closing) {
    byte[] bytes = closing.getBytes(StandardCharsets.UTF_8);
    int room = Math.min(bytes.length, limit - keptLength);
    keep(bytes, 0, bytes.length);
    if (room < bytes.length) {
      footer = closing;
    }
  }

  /** The last 4 KB, as Lambda returns them base64-encoded in {@code X-Amz-Log-Result}. */
  synchronized byte[] tail() {
    flushPartial();
    int n = (int) Math.min(total, TAIL_BYTES);
    if (tail == null) {
      return Arrays.copyOfRange(kept, keptLength - n, keptLength);
    }
    byte[] out = new byte[n];
    int at = (int) ((total - n) % TAIL_BYTES);
    int first = Math.min(n, TAIL_BYTES - at);
    System.arraycopy(tail, at, out, 0, first);
    System.arraycopy(tail, 0, out, first, n - first);
    return out;
  }

  String tailText() {
    return new String(tail(), StandardCharsets.UTF_8);
  }

  synchronized String text() {
    flushPartial();
    String text = new String(Arrays.copyOf(kept, keptLength), StandardCharsets.UTF_8);
    return dropped == 0 ? text : text + "\n[" + dropped + " bytes of output dropped]\n" + footer;
  }
}
