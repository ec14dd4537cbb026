package io.tributary.cluster.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import io.tributary.api.FunctionConfig;
import io.tributary.cluster.function.FunctionEntity;
import io.tributary.cluster.serialization.PersistedSerializer;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The read model behind ListFunctions and GetAccountSettings: one row per function in one partition
 * per account, written by the FunctionEntity after each persist (see its Javadoc for the write
 * timestamp rule). Rows hold the persisted JSON form of the configurations; the HTTP layer renders
 * them.
 */
public final class FunctionRegistry implements FunctionEntity.RegistryWriter {

  /** One function as listed: its {@code $LATEST}, its published versions, its reserved concurrency. */
  public record Entry(FunctionConfig latest, List<FunctionConfig> versions, Integer reservedConcurrency) {}

  /** A page of entries, and the name to continue after, or null at the end. */
  public record Page(List<Entry> entries, String lastName) {}

  private static final TypeReference<List<FunctionConfig>> VERSIONS = new TypeReference<>() {};

  private final CqlSession session;
  private final String account;
  private final PreparedStatement upsert;
  private final PreparedStatement delete;
  private final PreparedStatement page;
  private final PreparedStatement firstPage;

  public FunctionRegistry(CqlSession session, String keyspace, String account) {
    this.session = session;
    this.account = account;
    this.upsert = session.prepare("INSERT INTO " + keyspace + ".functions (account, function_name, latest, versions, "
        + "reserved_concurrency) VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?");
    this.delete = session.prepare("DELETE FROM " + keyspace + ".functions USING TIMESTAMP ? WHERE account = ? AND function_name = ?");
    this.page = session.prepare("SELECT latest, versions, reserved_concurrency, function_name FROM " + keyspace
        + ".functions WHERE account = ? AND function_name > ? LIMIT ?");
    this.firstPage = session.prepare("SELECT latest, versions, reserved_concurrency, function_name FROM " + keyspace
        + ".functions WHERE account = ? LIMIT ?");
  }

  public static List<String> tableDefinitions(String keyspace) {
    return List.of("CREATE TABLE IF NOT EXISTS " + keyspace + ".functions (account text, function_name text, "
        + "latest text, versions text, reserved_concurrency int, PRIMARY KEY (account, function_name))");
  }

  /** Writes (or, for a deleted function, removes) the row, at write timestamp {@code seqNr}. */
  @Override
  public CompletionStage<Void> save(String functionName, FunctionEntity.State state, long seqNr) {
    if (!state.exists()) {
      return session.executeAsync(delete.bind(seqNr, account, functionName)).thenApply(rs -> null);
    }
    try {
      String latest = PersistedSerializer.JSON.writeValueAsString(state.latest());
      String versions = PersistedSerializer.JSON.writeValueAsString(state.publishedVersions());
      return session.executeAsync(upsert.bind(account, functionName, latest, versions, state.reservedConcurrency(), seqNr))
          .thenApply(rs -> null);
    } catch (JsonProcessingException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** At most {@code limit} functions in name order, after {@code afterName} (null: from the start). */
  public CompletionStage<Page> list(String afterName, int limit) {
    var statement = afterName == null ? firstPage.bind(account, limit) : page.bind(account, afterName, limit);
    return session.executeAsync(statement.setPageSize(limit)).thenApply(rs -> {
      List<Entry> entries = new ArrayList<>();
      String last = null;
      for (Row row : rs.currentPage()) {
        entries.add(entry(row));
        last = row.getString("function_name");
      }
      return new Page(entries, entries.size() == limit ? last : null);
    });
  }

  /** Every function of the account, for account-wide sums. */
  /** The sum of every function's reserved concurrency: the part of the account limit not in its shared pool. */
  public CompletionStage<Integer> reservedTotal() {
    return all().thenApply(entries -> entries.stream()
        .mapToInt(e -> e.reservedConcurrency() == null ? 0 : e.reservedConcurrency()).sum());
  }

  public CompletionStage<List<Entry>> all() {
    return session.executeAsync(firstPage.bind(account, Integer.MAX_VALUE).setPageSize(500))
        .thenCompose(rs -> collect(rs, new ArrayList<>()));
  }

  private CompletionStage<List<Entry>> collect(AsyncResultSet rs, List<Entry> into) {
    rs.currentPage().forEach(row -> into.add(entry(row)));
    return rs.hasMorePages() ? rs.fetchNextPage().thenCompose(next -> collect(next, into))
        : CompletableFuture.completedFuture(into);
  }

  private static Entry entry(Row row) {
    try {
      FunctionConfig latest = PersistedSerializer.JSON.readValue(row.getString("latest"), FunctionConfig.class);
      String v = row.getString("versions");
      List<FunctionConfig> versions = v == null ? List.of() : PersistedSerializer.JSON.readValue(v, VERSIONS);
      Integer reserved = row.isNull("reserved_concurrency") ? null : row.getInt("reserved_concurrency");
      return new Entry(latest, versions, reserved);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
