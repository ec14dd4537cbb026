package io.tributary.cluster.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.tributary.cluster.async.EventQueueStore;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The rows beside the asynchronous queues' journals:
 *
 * <ul>
 *   <li>{@code event_payloads}: each accepted event's payload, written before the event is queued
 *       and kept out of the journal, whose writes stay small. Rows expire by themselves after
 *       {@code ttl}, longer than any event's maximum age, so nothing deletes them. The payloads this
 *       node wrote and nobody has read yet are also kept in memory (up to {@code recentBytes}), so a
 *       queue partition on this node delivers a fresh event without reading it back.</li>
 *   <li>{@code event_queues}: which functions have a non-empty queue in each partition, so that a
 *       partition's waker can start those queues after a restart or a node's death.</li>
 *   <li>{@code event_outcomes_by_hour}: how each event ended, for lookups by request id, for a
 *       retention period. Partitioned by function, queue partition and hour, so that the outcomes a
 *       queue partition journals together are one single-partition write rather than a write each;
 *       a lookup reads its partition's hours newest first.</li>
 *   <li>{@code event_tokens}: the client tokens of idempotent Event invokes, each with the request it
 *       was given to, for the idempotency window.</li>
 * </ul>
 */
public final class CassandraEventQueueStore implements EventQueueStore {

  private final CqlSession session;
  private final PreparedStatement insertPayload;
  private final PreparedStatement selectPayload;
  private final PreparedStatement insertQueue;
  private final PreparedStatement deleteQueue;
  private final PreparedStatement selectQueues;
  private final PreparedStatement insertOutcome;
  private final PreparedStatement selectOutcome;
  private final PreparedStatement claimToken;
  private final PreparedStatement confirmToken;
  private final int ttlSeconds;
  private final Duration outcomeRetention;
  private final RecentPayloads recent;

  public CassandraEventQueueStore(CqlSession session, String keyspace, Duration ttl, long recentBytes,
                                  Duration outcomeRetention) {
    this.session = session;
    this.recent = new RecentPayloads(recentBytes);
    this.ttlSeconds = Math.toIntExact(ttl.toSeconds());
    this.outcomeRetention = outcomeRetention;
    this.insertOutcome = session.prepare("INSERT INTO " + keyspace + ".event_outcomes_by_hour (function_name,"
        + " partition, hour, request_id, condition, attempts, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?");
    this.selectOutcome = session.prepare("SELECT condition, attempts, finished_at FROM " + keyspace
        + ".event_outcomes_by_hour WHERE function_name = ? AND partition = ? AND hour = ? AND request_id = ?");
    this.claimToken = session.prepare("INSERT INTO " + keyspace + ".event_tokens (function_name, client_token, request_id,"
        + " accepted) VALUES (?, ?, ?, false) IF NOT EXISTS USING TTL ?");
    this.confirmToken = session.prepare("UPDATE " + keyspace + ".event_tokens USING TTL ? SET request_id = ?,"
        + " accepted = true WHERE function_name = ? AND client_token = ? IF EXISTS");
    this.insertPayload = session.prepare("INSERT INTO " + keyspace + ".event_payloads (request_id, payload)"
        + " VALUES (?, ?) USING TTL ?");
    this.selectPayload = session.prepare("SELECT payload FROM " + keyspace + ".event_payloads WHERE request_id = ?");
    this.insertQueue = session.prepare("INSERT INTO " + keyspace + ".event_queues (partition, function_name)"
        + " VALUES (?, ?)");
    this.deleteQueue = session.prepare("DELETE FROM " + keyspace + ".event_queues WHERE partition = ?"
        + " AND function_name = ?");
    this.selectQueues = session.prepare("SELECT function_name FROM " + keyspace + ".event_queues WHERE partition = ?");
  }

  public static List<String> tableDefinitions(String keyspace) {
    return List.of(
        "CREATE TABLE IF NOT EXISTS " + keyspace + ".event_payloads (\n"
            + "  request_id text PRIMARY KEY,\n"
            + "  payload blob)\n"
            + "  WITH gc_grace_seconds = 3600",
        "CREATE TABLE IF NOT EXISTS " + keyspace + ".event_queues (\n"
            + "  partition int,\n"
            + "  function_name text,\n"
            + "  PRIMARY KEY (partition, function_name))",
        "CREATE TABLE IF NOT EXISTS " + keyspace + ".event_outcomes_by_hour (\n"
            + "  function_name text,\n"
            + "  partition int,\n"
            + "  hour bigint,\n"
            + "  request_id text,\n"
            + "  condition text,\n"
            + "  attempts int,\n"
            + "  finished_at timestamp,\n"
            + "  PRIMARY KEY ((function_name, partition, hour), request_id))",
        "CREATE TABLE IF NOT EXISTS " + keyspace + ".event_tokens (\n"
            + "  function_name text,\n"
            + "  client_token text,\n"
            + "  request_id text,\n"
            + "  accepted boolean,\n"
            + "  PRIMARY KEY ((function_name, client_token)))");
  }

  /**
   * Records how events of {@code functionName}'s queue partition ended, kept for the outcome
   * retention: one single-partition batch (in the hour of the last), so one write however many events.
   */
  @Override
  public CompletionStage<Void> recordOutcomes(String functionName, int partition, List<Finished> finished) {
    long hour = hourOf(finished.stream().mapToLong(Finished::finishedAtMillis).max().orElse(0));
    int ttl = Math.toIntExact(outcomeRetention.toSeconds());
    BatchStatementBuilder batch = BatchStatement.builder(DefaultBatchType.UNLOGGED).setIdempotence(true);
    for (Finished f : finished) {
      batch.addStatement(insertOutcome.bind(functionName, partition, hour, f.requestId(), f.condition(), f.attempts(),
          Instant.ofEpochMilli(f.finishedAtMillis()), ttl));
    }
    return session.executeAsync(batch.build()).thenApply(rs -> null);
  }

  /**
   * How event {@code requestId} of {@code functionName}'s queue partition {@code partition} ended, if
   * within the retention as of {@code now}: its hours read newest first (from the next one, for
   * clocks a little ahead).
   */
  @Override
  public CompletionStage<Optional<Outcome>> outcome(String functionName, int partition, String requestId,
                                                    Instant now) {
    return outcomeFrom(functionName, partition, requestId, hourOf(now.toEpochMilli()) + 1,
        hourOf(now.toEpochMilli() - outcomeRetention.toMillis()));
  }

  private CompletionStage<Optional<Outcome>> outcomeFrom(String functionName, int partition, String requestId,
                                                         long hour, long oldest) {
    if (hour < oldest) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    return session.executeAsync(selectOutcome.bind(functionName, partition, hour, requestId).setIdempotent(true))
        .thenCompose(rs -> {
          Row row = rs.one();
          return row != null
              ? CompletableFuture.completedFuture(Optional.of(new Outcome(functionName, row.getString("condition"),
                  row.getInt("attempts"), row.getInstant("finished_at"))))
              : outcomeFrom(functionName, partition, requestId, hour - 1, oldest);
        });
  }

  private static long hourOf(long epochMillis) {
    return Math.floorDiv(epochMillis, 3_600_000L);
  }

  /**
   * Gives {@code token} of {@code functionName} to {@code requestId} for {@code window}, unless it is
   * already given (a lightweight transaction, so two concurrent requests cannot both have it): empty
   * when this request has it, else the claim that holds it.
   */
  @Override
  public CompletionStage<Optional<Claim>> claim(String functionName, String token, String requestId,
                                                Duration window, Duration timeout) {
    return session.executeAsync(claimToken.bind(functionName, token, requestId, Math.toIntExact(window.toSeconds()))
        .setTimeout(timeout)).thenApply(rs -> {
          if (rs.wasApplied()) {
            return Optional.empty();
          }
          Row row = rs.one();
          return Optional.of(new Claim(row.getString("request_id"), row.getBoolean("accepted")));
        });
  }

  /** The request holding {@code token} was accepted; its row lives {@code window} from now. */
  @Override
  public CompletionStage<Void> confirm(String functionName, String token, String requestId, Duration window,
                                       Duration timeout) {
    return session.executeAsync(confirmToken.bind(Math.toIntExact(window.toSeconds()), requestId, functionName, token)
        .setTimeout(timeout)).thenApply(rs -> null);
  }

  /** Fails after {@code timeout} rather than the driver's default, so that a refusal comes fast. */
  @Override
  public CompletionStage<Void> putPayload(String requestId, byte[] payload, Duration timeout) {
    return session.executeAsync(insertPayload.bind(requestId, ByteBuffer.wrap(payload), ttlSeconds)
        .setIdempotent(true).setTimeout(timeout)).thenApply(rs -> {
          recent.put(requestId, payload);
          return null;
        });
  }

  /**
   * The payload, or empty if it expired (or was never written). A payload this node wrote is taken
   * from memory the first time, then read from Cassandra (retries are rare, and far apart).
   */
  @Override
  public CompletionStage<Optional<byte[]>> payload(String requestId) {
    byte[] fresh = recent.take(requestId);
    if (fresh != null) {
      return CompletableFuture.completedFuture(Optional.of(fresh));
    }
    return session.executeAsync(selectPayload.bind(requestId).setIdempotent(true)).thenApply(rs -> {
      Row row = rs.one();
      ByteBuffer buffer = row == null ? null : row.getByteBuffer("payload");
      if (buffer == null) {
        return Optional.empty();
      }
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return Optional.of(bytes);
    });
  }

  @Override
  public CompletionStage<Void> markQueued(int partition, String functionName) {
    return session.executeAsync(insertQueue.bind(partition, functionName).setIdempotent(true)).thenApply(rs -> null);
  }

  @Override
  public CompletionStage<Void> markEmpty(int partition, String functionName) {
    return session.executeAsync(deleteQueue.bind(partition, functionName).setIdempotent(true)).thenApply(rs -> null);
  }

  /** The functions whose queue in {@code partition} may hold events. */
  @Override
  public CompletionStage<List<String>> queued(int partition) {
    return session.executeAsync(selectQueues.bind(partition).setIdempotent(true))
        .thenCompose(rs -> names(rs, new ArrayList<>()));
  }

  private static CompletionStage<List<String>> names(AsyncResultSet page, List<String> names) {
    for (Row row : page.currentPage()) {
      names.add(row.getString("function_name"));
    }
    return page.hasMorePages() ? page.fetchNextPage().thenCompose(next -> names(next, names))
        : CompletableFuture.completedFuture(names);
  }
}
