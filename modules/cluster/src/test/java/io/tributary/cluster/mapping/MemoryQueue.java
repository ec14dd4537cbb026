package io.tributary.cluster.mapping;

import io.tributary.api.EventSource;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A queue in memory, as SQS hands it out: visible messages are received (then in flight), a
 * checkpoint deletes a batch but for the failed ones, which become visible again at once, as does
 * a rewound batch (a visibility timeout of 0).
 */
final class MemoryQueue implements EventSource {

  static final String QUEUE = "queue";

  /** Message id → in flight. */
  private final Map<String, Boolean> messages = new LinkedHashMap<>();
  private final List<String> deleted = new ArrayList<>();
  private final List<String> rewound = new ArrayList<>();

  synchronized MemoryQueue send(String... ids) {
    for (String id : ids) {
      messages.put(id, false);
    }
    notifyAll();
    return this;
  }

  synchronized List<String> deleted() {
    return List.copyOf(deleted);
  }

  synchronized List<String> rewound() {
    return List.copyOf(rewound);
  }

  @Override
  public synchronized List<Batch> poll(Duration wait, int maxRecords) {
    List<String> received = messages.entrySet().stream().filter(m -> !m.getValue()).limit(maxRecords)
        .map(Map.Entry::getKey).toList();
    if (received.isEmpty()) {
      try {
        wait(Math.max(1, Math.min(wait.toMillis(), 5)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return List.of();
    }
    received.forEach(id -> messages.put(id, true));
    String event = received.stream().map(id -> "{\"id\":\"" + id + "\"}")
        .collect(Collectors.joining(",", "{\"Records\":[", "]}"));
    return List.of(new Batch(QUEUE, event.getBytes(StandardCharsets.UTF_8),
        received.stream().map(id -> new Item(id, 0)).toList(), received.get(0), received.get(received.size() - 1)));
  }

  @Override
  public synchronized void checkpoint(Batch batch, Set<String> failed) {
    for (String id : batch.itemIds()) {
      if (failed.contains(id)) {
        messages.put(id, false);
      } else {
        messages.remove(id);
        deleted.add(id);
      }
    }
  }

  @Override
  public synchronized void rewind(Batch batch) {
    batch.itemIds().forEach(id -> messages.put(id, false));
    rewound.addAll(batch.itemIds());
  }

  @Override
  public void close() {
  }
}
