package io.tributary.cluster.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.uuid.Uuids;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.api.FunctionLog;
import io.tributary.api.LogSink;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Invocation logs in Cassandra, the store behind Tributary's CloudWatch Logs API. Runtimes hand
 * each invocation's output to {@link #accept} (non-blocking); a flush every {@code flushInterval}
 * writes one row per log stream and flush (never a row per invocation), partitioned by log group
 * and UTC day, with a TTL. The buffer is bounded: past {@code maxBufferedBytes} logs are dropped and
 * counted, never the invocations.
 */
public final class LogStore implements LogSink, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LogStore.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One log line as CloudWatch Logs returns it. */
  public record Event(String logStream, long timestamp, String message, long ingestionTime, String eventId) {}

  private final CqlSession session;
  private final PreparedStatement insert;
  private final PreparedStatement selectDay;
  private final long maxBufferedBytes;
  private final ConcurrentLinkedQueue<FunctionLog> buffer = new ConcurrentLinkedQueue<>();
  private final AtomicLong bufferedBytes = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final ScheduledExecutorService flusher;

  public LogStore(CqlSession session, String keyspace, Duration ttl, Duration flushInterval, long maxBufferedBytes) {
    this.session = session;
    this.maxBufferedBytes = maxBufferedBytes;
    this.insert = session.prepare("INSERT INTO " + keyspace + ".function_logs (log_group, day, written, log_stream, "
        + "events) VALUES (?, ?, ?, ?, ?) USING TTL " + ttl.toSeconds());
    this.selectDay = session.prepare("SELECT written, log_stream, events FROM " + keyspace
        + ".function_logs WHERE log_group = ? AND day = ?");
    this.flusher = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "log-store-flush");
      t.setDaemon(true);
      return t;
    });
    flusher.scheduleWithFixedDelay(this::flush, flushInterval.toMillis(), flushInterval.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  public static List<String> tableDefinitions(String keyspace) {
    return List.of("CREATE TABLE IF NOT EXISTS " + keyspace + ".function_logs (log_group text, day text, "
        + "written timeuuid, log_stream text, events text, PRIMARY KEY ((log_group, day), written, log_stream))");
  }

  @Override
  public void accept(FunctionLog entry) {
    long size = entry.text().length();
    if (bufferedBytes.addAndGet(size) > maxBufferedBytes) {
      bufferedBytes.addAndGet(-size);
      dropped.incrementAndGet();
      return;
    }
    buffer.add(entry);
  }

  /**
   * One row being built: its events as a JSON array of {@code [timestamp, message]}, in UTF-8. Rows
   * are written as these bytes, bound as the text column's serialized value: a flush carries every
   * line of every invocation, and building a String to have the driver encode it again cost more
   * than the escaping.
   */
  private static final class PendingRow {
    private byte[] json = new byte[4096];
    private int length;
    int events;

    /** One event per non-empty line of {@code text}. */
    void addLines(long timestamp, String text) {
      byte[] time = Long.toString(timestamp).getBytes(StandardCharsets.US_ASCII);
      int from = 0;
      while (from < text.length()) {
        int newline = text.indexOf('\n', from);
        int end = newline < 0 ? text.length() : newline;
        if (end > from) {
          add(time, text, from, end);
        }
        from = end + 1;
      }
    }

    /**
     * Printable ASCII is copied, tabs, quotes and backslashes escaped in place (REPORT lines hold
     * tabs); a line with anything else is escaped by Jackson from there on.
     */
    private void add(byte[] time, String text, int from, int end) {
      room(time.length + 2 * (end - from) + 8);
      json[length++] = (byte) (events++ > 0 ? ',' : '[');
      json[length++] = '[';
      System.arraycopy(time, 0, json, length, time.length);
      length += time.length;
      json[length++] = ',';
      json[length++] = '"';
      for (int i = from; i < end; i++) {
        char c = text.charAt(i);
        if (c == '\t' || c == '"' || c == '\\') {
          json[length++] = '\\';
          json[length++] = (byte) (c == '\t' ? 't' : c);
          continue;
        }
        if (c < 0x20 || c >= 0x7f) {
          byte[] escaped = ESCAPE.quoteAsUTF8(text.substring(i, end));
          room(escaped.length + 2);
          System.arraycopy(escaped, 0, json, length, escaped.length);
          length += escaped.length;
          break;
        }
        json[length++] = (byte) c;
      }
      json[length++] = '"';
      json[length++] = ']';
    }

    private void room(int more) {
      if (length + more > json.length) {
        json = Arrays.copyOf(json, Math.max(json.length * 2, length + more));
      }
    }

    ByteBuffer text() {
      room(1);
      json[length++] = ']';
      return ByteBuffer.wrap(json, 0, length);
    }
  }

  private static final JsonStringEncoder ESCAPE = JsonStringEncoder.getInstance();

  /** Writes what is buffered: one row per (group, day, stream). */
  public CompletionStage<Void> flush() {
    Map<List<String>, PendingRow> rows = new LinkedHashMap<>();
    Map<Long, String> days = new HashMap<>();
    FunctionLog entry;
    while ((entry = buffer.poll()) != null) {
      bufferedBytes.addAndGet(-entry.text().length());
      String day = days.computeIfAbsent(Math.floorDiv(entry.timestamp(), 86_400_000L),
          d -> LocalDate.ofEpochDay(d).toString());
      PendingRow row = rows.computeIfAbsent(List.of(entry.logGroup(), day, entry.logStream()), k -> new PendingRow());
      row.addLines(entry.timestamp(), entry.text());
    }
    long lost = dropped.getAndSet(0);
    if (lost > 0) {
      log.warn("{} invocation logs were dropped: more than {} bytes waited to be written", lost, maxBufferedBytes);
    }
    List<CompletableFuture<AsyncResultSet>> writes = new ArrayList<>();
    rows.forEach((key, row) -> writes.add(session.executeAsync(insert.bind(key.get(0), key.get(1), Uuids.timeBased(),
        key.get(2)).setBytesUnsafe(4, row.text()).setIdempotent(true)).toCompletableFuture()
        .whenComplete((rs, failure) -> {
          if (failure != null) {
            log.warn("Could not store {} log events of {}: {}", row.events, key.get(0), failure.toString());
          }
        })));
    return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).exceptionally(f -> null);
  }

  /**
   * Events of {@code logGroup} between {@code start} and {@code end} (epoch ms, inclusive), in time
   * order, whose stream starts with {@code streamPrefix} and whose message contains every term of
   * {@code filter} (CloudWatch's plain-term filter patterns).
   */
  public CompletionStage<List<Event>> events(String logGroup, long start, long end, String streamPrefix,
      List<String> streams, String filter) {
    LocalDate first = LocalDate.ofInstant(Instant.ofEpochMilli(Math.max(0, start)), ZoneOffset.UTC);
    LocalDate last = LocalDate.ofInstant(Instant.ofEpochMilli(Math.min(end, System.currentTimeMillis() + 60_000)),
        ZoneOffset.UTC);
    if (first.isBefore(last.minusDays(31))) {
      first = last.minusDays(31);
    }
    List<String> terms = filter == null || filter.isBlank() ? List.of()
        : List.of(filter.replace("\"", " ").trim().split("\\s+"));
    List<CompletableFuture<List<Event>>> days = new ArrayList<>();
    for (LocalDate day = first; !day.isAfter(last); day = day.plusDays(1)) {
      days.add(readDay(logGroup, day.toString()).toCompletableFuture());
    }
    return CompletableFuture.allOf(days.toArray(CompletableFuture[]::new)).thenApply(v -> days.stream()
        .flatMap(d -> d.join().stream())
        .filter(e -> e.timestamp() >= start && e.timestamp() <= end)
        .filter(e -> streamPrefix == null || e.logStream().startsWith(streamPrefix))
        .filter(e -> streams == null || streams.isEmpty() || streams.contains(e.logStream()))
        .filter(e -> terms.stream().allMatch(t -> e.message().contains(t)))
        .sorted(Comparator.comparingLong(Event::timestamp).thenComparing(Event::eventId))
        .toList());
  }

  private CompletionStage<List<Event>> readDay(String logGroup, String day) {
    List<Event> events = new ArrayList<>();
    return session.executeAsync(selectDay.bind(logGroup, day)).thenCompose(rs -> collect(rs, events));
  }

  private CompletionStage<List<Event>> collect(AsyncResultSet rs, List<Event> into) {
    for (Row row : rs.currentPage()) {
      long ingested = Uuids.unixTimestamp(row.getUuid("written"));
      String stream = row.getString("log_stream");
      try {
        var array = JSON.readTree(row.getString("events"));
        for (int i = 0; i < array.size(); i++) {
          var event = array.get(i);
          into.add(new Event(stream, event.get(0).asLong(), event.get(1).asText(), ingested,
              String.format("%020d%s%05d", event.get(0).asLong(), row.getUuid("written").toString().substring(0, 8), i)));
        }
      } catch (JsonProcessingException e) {
        log.warn("Unreadable log row in {}: {}", stream, e.getMessage());
      }
    }
    return rs.hasMorePages() ? rs.fetchNextPage().thenCompose(next -> collect(next, into))
        : CompletableFuture.completedFuture(into);
  }

  @Override
  public void close() {
    flush().toCompletableFuture().join();
    flusher.shutdownNow();
  }
}
