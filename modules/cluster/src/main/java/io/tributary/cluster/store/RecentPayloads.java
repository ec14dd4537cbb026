package io.tributary.cluster.store;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Payloads written on this node and not read yet, bounded by bytes: when full, the oldest go first
 * (they are read back from Cassandra instead). Taking a payload removes it.
 */
final class RecentPayloads {
  /** What an entry costs besides its payload (key, map node, array header), roughly. */
  static final int ENTRY_OVERHEAD = 160;

  private final long limit;
  private final Map<String, byte[]> payloads = new LinkedHashMap<>();
  private long bytes;

  RecentPayloads(long limit) {
    this.limit = limit;
  }

  /** A payload over an eighth of the limit is not kept: it would push out many small ones. */
  synchronized void put(String requestId, byte[] payload) {
    long cost = cost(payload);
    if (cost > limit / 8) {
      return;
    }
    byte[] replaced = payloads.put(requestId, payload);
    bytes += cost - (replaced == null ? 0 : cost(replaced));
    Iterator<byte[]> oldest = payloads.values().iterator();
    while (bytes > limit && oldest.hasNext()) {
      bytes -= cost(oldest.next());
      oldest.remove();
    }
  }

  /** The payload, removed; null when it is not kept (never put, taken, or pushed out). */
  synchronized byte[] take(String requestId) {
    byte[] payload = payloads.remove(requestId);
    if (payload != null) {
      bytes -= cost(payload);
    }
    return payload;
  }

  synchronized long bytes() {
    return bytes;
  }

  private static long cost(byte[] payload) {
    return payload.length + ENTRY_OVERHEAD;
  }
}
