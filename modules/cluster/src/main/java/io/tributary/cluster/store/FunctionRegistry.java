package io.tributary.cluster.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import io.tributary.api.FunctionConfig;
import io.tributary.api.ProvisionedConcurrencyConfig;
import io.tributary.cluster.function.FunctionEntity;
import io.tributary.cluster.serialization.PersistedSerializer;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;

/**
 * The read model behind ListFunctions and GetAccountSettings: one row per function in one partition
 * per account, written by the FunctionEntity after each persist (see its Javadoc for the write
 * timestamp rule). Rows hold the persisted JSON form of the configurations; the HTTP layer renders
 * them.
 */
public final class FunctionRegistry implements FunctionEntity.RegistryWriter {

  /**
   * One function as listed: its {@code $LATEST}, its published versions, its reserved concurrency, and
   * its provisioned concurrency per qualifier.
   */
  public record Entry(FunctionConfig latest, List<FunctionConfig> versions, Integer reservedConcurrency,
                      Map<String, ProvisionedConcurrencyConfig> provisioned) {

    /** What the function holds apart from the account's shared pool: its reservation, or else what it provisions. */
    public int withheld() {
      return reservedConcurrency != null ? reservedConcurrency
          : provisioned.values().stream().mapToInt(ProvisionedConcurrencyConfig::requested).sum();
    }
  }

  /** A page of entries, and the name to continue after, or null at the end. */
  public record Page(List<Entry> entries, String lastName) {}

  private static final TypeReference<List<FunctionConfig>> VERSIONS = new TypeReference<>() {};
  private static final TypeReference<Map<String, ProvisionedConcurrencyConfig>> PROVISIONED = new TypeReference<>() {};

  private final CqlSession session;
  private final String account;
  private final PreparedStatement upsert;
  private final PreparedStatement delete;
  private final PreparedStatement page;
  private final PreparedStatement firstPage;
  private final PreparedStatement upsertUrl;
  private final PreparedStatement selectUrl;

  public FunctionRegistry(CqlSession session, String keyspace, String account) {
    this.session = session;
    this.account = account;
    this.upsert = session.prepare("INSERT INTO " + keyspace + ".functions (account, function_name, latest, versions, "
        + "reserved_concurrency, provisioned) VALUES (?, ?, ?, ?, ?, ?) USING TIMESTAMP ?");
    this.delete = session.prepare("DELETE FROM " + keyspace + ".functions USING TIMESTAMP ? WHERE account = ? AND function_name = ?");
    this.page = session.prepare("SELECT latest, versions, reserved_concurrency, provisioned, function_name FROM " + keyspace
        + ".functions WHERE account = ? AND function_name > ? LIMIT ?");
    this.upsertUrl = session.prepare("INSERT INTO " + keyspace + ".function_urls (url_id, function_name, qualifier) "
        + "VALUES (?, ?, ?) USING TIMESTAMP ?");
    this.selectUrl = session.prepare("SELECT function_name, qualifier FROM " + keyspace + ".function_urls WHERE url_id = ?");
    this.firstPage = session.prepare("SELECT latest, versions, reserved_concurrency, provisioned, function_name FROM " + keyspace
        + ".functions WHERE account = ? LIMIT ?");
  }

  public static List<String> tableDefinitions(String keyspace) {
    return List.of(
        "CREATE TABLE IF NOT EXISTS " + keyspace + ".function_urls (url_id text PRIMARY KEY, function_name text, "
        + "qualifier text)","CREATE TABLE IF NOT EXISTS " + keyspace + ".functions (account text, function_name text, "
        + "latest text, versions text, reserved_concurrency int, provisioned text, PRIMARY KEY (account, function_name))",
        // Tables created before provisioned concurrency lack the column.
        "ALTER TABLE " + keyspace + ".functions ADD IF NOT EXISTS provisioned text");
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
      String provisioned = state.provisionedConcurrency().isEmpty() ? null
          : PersistedSerializer.JSON.writeValueAsString(state.provisionedConcurrency());
      CompletableFuture<?>[] writes = new CompletableFuture<?>[state.urls().size() + 1];
      writes[0] = session.executeAsync(upsert.bind(account, functionName, latest, versions,
          state.reservedConcurrency(), provisioned, seqNr)).toCompletableFuture();
      int i = 1;
      for (var url : state.urls().entrySet()) {
        writes[i++] = session.executeAsync(upsertUrl.bind(url.getValue().urlId(), functionName, url.getKey(), seqNr))
            .toCompletableFuture();
      }
      return CompletableFuture.allOf(writes).thenApply(v -> null);
    } catch (JsonProcessingException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** The function and qualifier a URL's id names. */
  public record UrlOwner(String functionName, String qualifier) {}

  /**
   * Who owns URL {@code urlId}, if any: rows are written with the function's, and a deleted URL's row
   * stays, so the owner's entity has the last word (FunctionEntity.ResolveUrl).
   */
  public CompletionStage<java.util.Optional<UrlOwner>> urlOwner(String urlId) {
    return session.executeAsync(selectUrl.bind(urlId)).thenApply(rs -> {
      Row row = rs.one();
      return row == null ? java.util.Optional.empty()
          : java.util.Optional.of(new UrlOwner(row.getString("function_name"), row.getString("qualifier")));
    });
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

  /**
   * The part of the account limit not in its shared pool: every function's reserved concurrency, or
   * for a function without, its provisioned concurrency (held apart on the nodes that run it).
   */
  public CompletionStage<Integer> withheldTotal() {
    return all().thenApply(entries -> entries.stream().mapToInt(Entry::withheld).sum());
  }

  /** The functions that have provisioned concurrency, for the nodes that keep it initialized. */
  public CompletionStage<Set<String>> withProvisionedConcurrency() {
    return all().thenApply(entries -> entries.stream().filter(e -> !e.provisioned().isEmpty())
        .map(e -> e.latest().functionName()).collect(Collectors.toSet()));
  }

  /** Every function of the account, for account-wide sums. */

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
      String p = row.getString("provisioned");
      Map<String, ProvisionedConcurrencyConfig> provisioned = p == null ? Map.of()
          : PersistedSerializer.JSON.readValue(p, PROVISIONED);
      return new Entry(latest, versions, reserved, provisioned);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
