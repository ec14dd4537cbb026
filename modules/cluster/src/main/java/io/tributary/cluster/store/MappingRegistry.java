package io.tributary.cluster.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.tributary.api.EventSourceMapping;
import io.tributary.cluster.mapping.EventSourceMappingEntity;
import io.tributary.cluster.serialization.PersistedSerializer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The read model of event source mappings: one row per mapping in one partition per account,
 * written by its {@link EventSourceMappingEntity} after each persist (write timestamp = sequence
 * number, as {@link FunctionRegistry}). ListEventSourceMappings reads it, and every node's pollers
 * read it to learn which mappings to run; a few thousand mappings per account fit one partition.
 */
public final class MappingRegistry implements EventSourceMappingEntity.Registry {

  private final CqlSession session;
  private final String account;
  private final PreparedStatement upsert;
  private final PreparedStatement delete;
  private final PreparedStatement all;

  public MappingRegistry(CqlSession session, String keyspace, String account) {
    this.session = session;
    this.account = account;
    this.upsert = session.prepare("INSERT INTO " + keyspace + ".event_source_mappings (account, uuid, mapping)"
        + " VALUES (?, ?, ?) USING TIMESTAMP ?");
    this.delete = session.prepare("DELETE FROM " + keyspace + ".event_source_mappings USING TIMESTAMP ?"
        + " WHERE account = ? AND uuid = ?");
    this.all = session.prepare("SELECT mapping FROM " + keyspace + ".event_source_mappings WHERE account = ?");
  }

  public static List<String> tableDefinitions(String keyspace) {
    return List.of("CREATE TABLE IF NOT EXISTS " + keyspace + ".event_source_mappings (account text, uuid text,"
        + " mapping text, PRIMARY KEY (account, uuid))");
  }

  @Override
  public CompletionStage<Void> save(String uuid, EventSourceMapping mapping, long seqNr) {
    if (mapping == null) {
      return session.executeAsync(delete.bind(seqNr, account, uuid).setIdempotent(true)).thenApply(rs -> null);
    }
    try {
      return session.executeAsync(upsert.bind(account, uuid, PersistedSerializer.JSON.writeValueAsString(mapping),
          seqNr).setIdempotent(true)).thenApply(rs -> null);
    } catch (JsonProcessingException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Every mapping of the account, in UUID order. */
  @Override
  public CompletionStage<List<EventSourceMapping>> all() {
    List<EventSourceMapping> mappings = new ArrayList<>();
    return session.executeAsync(all.bind(account).setIdempotent(true)).thenCompose(rs -> collect(rs, mappings));
  }

  private CompletionStage<List<EventSourceMapping>> collect(AsyncResultSet rs, List<EventSourceMapping> into) {
    for (Row row : rs.currentPage()) {
      try {
        into.add(PersistedSerializer.JSON.readValue(row.getString("mapping"), EventSourceMapping.class));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return rs.hasMorePages() ? rs.fetchNextPage().thenCompose(next -> collect(next, into))
        : CompletableFuture.completedFuture(into);
  }
}
