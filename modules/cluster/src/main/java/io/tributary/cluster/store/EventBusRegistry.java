package io.tributary.cluster.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.tributary.api.EventBus;
import io.tributary.cluster.push.EventBusEntity;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The read model behind ListEventBuses: one row per custom event bus, in one partition per account.
 * Written by the {@link EventBusEntity} after its bus is created or deleted, at write timestamp =
 * the event's sequence number (see {@link FunctionRegistry}). The {@code default} bus has no row: it
 * always exists.
 */
public final class EventBusRegistry implements EventBusEntity.RegistryWriter {

  private static final int FETCH = 100;

  private final CqlSession session;
  private final String account;
  private final PreparedStatement upsert;
  private final PreparedStatement delete;
  private final PreparedStatement all;

  public EventBusRegistry(CqlSession session, String keyspace, String account) {
    this.session = session;
    this.account = account;
    this.upsert = session.prepare("INSERT INTO " + keyspace + ".event_buses (account, name, description,"
        + " creation_time) VALUES (?, ?, ?, ?) USING TIMESTAMP ?");
    this.delete = session.prepare("DELETE FROM " + keyspace + ".event_buses USING TIMESTAMP ? WHERE account = ?"
        + " AND name = ?");
    this.all = session.prepare("SELECT name, description, creation_time FROM " + keyspace + ".event_buses"
        + " WHERE account = ?");
  }

  public static List<String> tableDefinitions(String keyspace) {
    return List.of("CREATE TABLE IF NOT EXISTS " + keyspace + ".event_buses (account text, name text, "
        + "description text, creation_time text, PRIMARY KEY (account, name))");
  }

  @Override
  public CompletionStage<Void> save(String busName, EventBus bus, long seqNr) {
    var statement = bus == null ? delete.bind(seqNr, account, busName)
        : upsert.bind(account, busName, bus.description(), bus.creationTime(), seqNr);
    return session.executeAsync(statement.setIdempotent(true)).thenApply(rs -> null);
  }

  /** Every custom bus, in name order. */
  public CompletionStage<List<EventBus>> list() {
    return session.executeAsync(all.bind(account).setPageSize(FETCH).setIdempotent(true))
        .thenCompose(rs -> collect(rs, new ArrayList<>()));
  }

  private CompletionStage<List<EventBus>> collect(AsyncResultSet rs, List<EventBus> into) {
    for (Row row : rs.currentPage()) {
      into.add(new EventBus(row.getString("name"), row.getString("description"), row.getString("creation_time")));
    }
    return rs.hasMorePages() ? rs.fetchNextPage().thenCompose(next -> collect(next, into))
        : CompletableFuture.completedFuture(into);
  }
}
