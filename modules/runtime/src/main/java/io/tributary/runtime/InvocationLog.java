package io.tributary.runtime;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The output of one invocation: bounded, so a handler that prints gigabytes costs a fixed amount
 * of memory (the first {@code limit} bytes are kept, the rest only counted, as in a truncated log).
 * The last 4 KB are kept apart for {@code X-Amz-Log-Result}.
 */
final class InvocationLog {

  static final int TAIL_BYTES = 4096;

  private final int limit;
  private byte[] kept = new byte[256];
  private int keptLength;
  private long dropped;
  /** The last 4 KB by position in the output; only once output is dropped (else they are in kept). */
  private byte[] tail;
  private long total;
  private String footer = "";

  InvocationLog(int limit) {
    this.limit = limit;
  }

  synchronized void append(byte[] bytes, int offset, int length) {
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

  void line(String text) {
    byte[] bytes = (text + "\n").getBytes(StandardCharsets.UTF_8);
    append(bytes, 0, bytes.length);
  }

  void start(String requestId, String version) {
    line("START RequestId: " + requestId + " Version: " + version);
  }

  /** END and REPORT as Lambda prints them; {@code initDurationMs} only after a cold start (else null). */
  void end(String requestId, double durationMs, int memorySize, long maxMemoryUsedMb, Double initDurationMs) {
    StringBuilder report = new StringBuilder()
        .append("END RequestId: ").append(requestId).append('\n')
        .append("REPORT RequestId: ").append(requestId)
        .append("\tDuration: ").append(twoDecimals(durationMs)).append(" ms")
        .append("\tBilled Duration: ").append((long) Math.ceil(durationMs)).append(" ms")
        .append("\tMemory Size: ").append(memorySize).append(" MB")
        .append("\tMax Memory Used: ").append(maxMemoryUsedMb).append(" MB");
    if (initDurationMs != null) {
      report.append("\tInit Duration: ").append(twoDecimals(initDurationMs)).append(" ms");
    }
    finish(report.append('\n').toString());
  }

  /** {@code %.2f} without a Formatter: REPORT lines are written on every invocation. */
  static String twoDecimals(double value) {
    long hundredths = Math.round(Math.abs(value) * 100);
    long fraction = hundredths % 100;
    return (value < 0 && hundredths != 0 ? "-" : "") + hundredths / 100 + (fraction < 10 ? ".0" : ".") + fraction;
  }

  /** The platform's closing lines (END, REPORT): kept even when the output was cut. */
  private synchronized void finish(String lines) {
    byte[] bytes = lines.getBytes(StandardCharsets.UTF_8);
    int room = Math.min(bytes.length, limit - keptLength);
    append(bytes, 0, bytes.length);
    if (room < bytes.length) {
      footer = lines;
    }
  }

  /** The last 4 KB, as Lambda returns them base64-encoded in {@code X-Amz-Log-Result}. */
  synchronized byte[] tail() {
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
    String text = new String(Arrays.copyOf(kept, keptLength), StandardCharsets.UTF_8);
    return dropped == 0 ? text : text + "\n[" + dropped + " bytes of output dropped]\n" + footer;
  }
}
