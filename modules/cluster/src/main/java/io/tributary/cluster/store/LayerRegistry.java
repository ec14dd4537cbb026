package io.tributary.cluster.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import io.tributary.api.LayerVersion;
import io.tributary.cluster.layer.LayerEntity;
import io.tributary.cluster.serialization.PersistedSerializer;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * The read model behind ListLayers: one row per layer that has versions, in one partition per
 * account, holding its versions (ascending, in their persisted JSON form). Written by the
 * {@link LayerEntity} after each persist, at write timestamp = the event's sequence number (see
 * {@link FunctionRegistry}); a layer whose last version is deleted loses its row.
 *
 * <p>{@link #list} reads the partition in name order from the marker, a driver page at a time, and
 * keeps the layers for which {@code pick} chooses a version (ListLayers' LatestMatchingVersion under
 * its filters), until it has one more than asked: so a page is full whenever more layers match, and
 * the marker is given only when they do.
 */
public final class LayerRegistry implements LayerEntity.RegistryWriter {

  /** A layer as listed, with the version the caller picked. */
  public record Entry(String layerName, LayerVersion version) {}

  /** A page of entries, and the layer name to continue after, or null at the end. */
  public record Page(List<Entry> entries, String lastName) {}

  private static final TypeReference<List<LayerVersion>> VERSIONS = new TypeReference<>() {};
  private static final int FETCH = 100;

  private final CqlSession session;
  private final String account;
  private final PreparedStatement upsert;
  private final PreparedStatement delete;
  private final PreparedStatement after;
  private final PreparedStatement first;

  public LayerRegistry(CqlSession session, String keyspace, String account) {
    this.session = session;
    this.account = account;
    this.upsert = session.prepare("INSERT INTO " + keyspace + ".layers (account, layer_name, versions) VALUES (?, ?, ?)"
        + " USING TIMESTAMP ?");
    this.delete = session.prepare("DELETE FROM " + keyspace + ".layers USING TIMESTAMP ? WHERE account = ?"
        + " AND layer_name = ?");
    this.after = session.prepare("SELECT layer_name, versions FROM " + keyspace + ".layers WHERE account = ?"
        + " AND layer_name > ?");
    this.first = session.prepare("SELECT layer_name, versions FROM " + keyspace + ".layers WHERE account = ?");
  }

  public static List<String> tableDefinitions(String keyspace) {
    return List.of("CREATE TABLE IF NOT EXISTS " + keyspace + ".layers (account text, layer_name text, "
        + "versions text, PRIMARY KEY (account, layer_name))");
  }

  @Override
  public CompletionStage<Void> save(String layerName, List<LayerVersion> versions, long seqNr) {
    if (versions.isEmpty()) {
      return session.executeAsync(delete.bind(seqNr, account, layerName).setIdempotent(true)).thenApply(rs -> null);
    }
    try {
      return session.executeAsync(upsert.bind(account, layerName, PersistedSerializer.JSON.writeValueAsString(versions),
          seqNr).setIdempotent(true)).thenApply(rs -> null);
    } catch (JsonProcessingException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * At most {@code limit} layers in name order after {@code afterName} (null: from the start), each
   * with the version {@code pick} chooses from its versions (ascending); layers it chooses none of are
   * left out.
   */
  public CompletionStage<Page> list(String afterName, int limit,
                                    Function<List<LayerVersion>, Optional<LayerVersion>> pick) {
    var statement = afterName == null ? first.bind(account) : after.bind(account, afterName);
    return session.executeAsync(statement.setPageSize(FETCH).setIdempotent(true))
        .thenCompose(rs -> collect(rs, limit, pick, new ArrayList<>()));
  }

  private CompletionStage<Page> collect(AsyncResultSet rs, int limit,
                                        Function<List<LayerVersion>, Optional<LayerVersion>> pick, List<Entry> into) {
    for (Row row : rs.currentPage()) {
      String name = row.getString("layer_name");
      Optional<LayerVersion> picked = pick.apply(versions(row));
      if (picked.isPresent()) {
        if (into.size() == limit) {
          return CompletableFuture.completedFuture(new Page(into, into.get(limit - 1).layerName()));
        }
        into.add(new Entry(name, picked.get()));
      }
    }
    return rs.hasMorePages() ? rs.fetchNextPage().thenCompose(next -> collect(next, limit, pick, into))
        : CompletableFuture.completedFuture(new Page(into, null));
  }

  /** The bytes of every layer version's zip: GetAccountSettings counts them with the functions' code. */
  public CompletionStage<Long> codeSize() {
    return session.executeAsync(first.bind(account).setPageSize(FETCH).setIdempotent(true))
        .thenCompose(rs -> sum(rs, 0));
  }

  private CompletionStage<Long> sum(AsyncResultSet rs, long sum) {
    long total = sum;
    for (Row row : rs.currentPage()) {
      total += versions(row).stream().mapToLong(LayerVersion::codeSize).sum();
    }
    long soFar = total;
    return rs.hasMorePages() ? rs.fetchNextPage().thenCompose(next -> sum(next, soFar))
        : CompletableFuture.completedFuture(soFar);
  }

  private static List<LayerVersion> versions(Row row) {
    try {
      return PersistedSerializer.JSON.readValue(row.getString("versions"), VERSIONS);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
