package io.tributary.cluster.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.tributary.api.CodePackage;
import io.tributary.api.LambdaException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * Function code in Cassandra, stored once per content hash and cut into 1 MiB chunks.
 *
 * <p>Layout, for a package whose zip has SHA-256 {@code h} and is {@code size} bytes long:
 *
 * <pre>
 *   code_chunks   (h, 0) → bytes [0, 1 MiB)        one partition per package,
 *                 (h, 1) → bytes [1 MiB, 2 MiB)    one row per chunk, the last one shorter
 *                 …
 *   code_packages h → size, chunk_size = 1 MiB, chunks = ⌈size / 1 MiB⌉, created_at
 * </pre>
 *
 * A 3.5 MB zip becomes four rows in {@code code_chunks} (three of 1 MiB, one of the rest) and one
 * row in {@code code_packages}. Chunks keep each mutation far below Cassandra's limit of half a
 * commit-log segment (16 MB with the default 32 MB segments) and let a reader stream a package
 * without holding a 50 MB cell.
 *
 * <p>{@link #store} writes the chunks first, at most {@value #MAX_IN_FLIGHT} at a time, and the
 * {@code code_packages} row only once all of them are acknowledged: that row is the commit mark,
 * so a reader that finds it finds every chunk, and a store that died half-way leaves only
 * orphan chunks that the next store of the same zip overwrites with the same bytes. A package
 * whose row exists is never written again; two concurrent stores of the same new zip both write
 * identical rows, which is harmless. This ordering holds across replicas as long as reads and
 * writes use a consistency level whose replica sets overlap (QUORUM, or ONE with RF 1); the
 * session's default execution profile supplies it.
 *
 * <p>Every call is asynchronous ({@code executeAsync}); statements are prepared on first use and
 * kept (a failed prepare, for example before the tables exist, is retried on the next call).
 * {@link #readAll} checks the reassembled bytes against their hash, off the driver's I/O threads.
 */
public final class CodeStore {

  /** Bytes per chunk, except for a package's last chunk. */
  public static final int CHUNK_SIZE = 1024 * 1024;

  /** Chunk reads or writes in flight per call. */
  static final int MAX_IN_FLIGHT = 4;

  /** What {@code code_packages} records about a complete package. */
  public record StoredCode(String sha256Hex, long size, int chunkSize, int chunks) {}

  private record Statements(
      PreparedStatement selectPackage,
      PreparedStatement insertPackage,
      PreparedStatement selectChunk,
      PreparedStatement insertChunk) {}

  private final CqlSession session;
  private final String keyspace;
  private final AtomicReference<CompletableFuture<Statements>> statements =
      new AtomicReference<>();

  public CodeStore(CqlSession session, String keyspace) {
    this.session = session;
    this.keyspace = keyspace;
  }

  /** The CQL of both tables, for {@code deploy/}'s schema file and {@link #createTables}. */
  public static List<String> tableDefinitions(String keyspace) {
    return List.of(
        "CREATE TABLE IF NOT EXISTS " + keyspace + ".code_chunks (\n"
            + "  sha256 text,\n"
            + "  chunk int,\n"
            + "  data blob,\n"
            + "  PRIMARY KEY (sha256, chunk))\n"
            + "  WITH compression = {'enabled': 'false'}",
        "CREATE TABLE IF NOT EXISTS " + keyspace + ".code_packages (\n"
            + "  sha256 text PRIMARY KEY,\n"
            + "  size bigint,\n"
            + "  chunk_size int,\n"
            + "  chunks int,\n"
            + "  created_at timestamp)");
  }

  /** Creates the tables if missing; for development and tests. The keyspace must exist. */
  public static void createTables(CqlSession session, String keyspace) {
    tableDefinitions(keyspace).forEach(session::execute);
  }

  /** Stores {@code pkg} unless a package with its hash is already complete. */
  public CompletionStage<Void> store(CodePackage pkg) {
    return statements().thenCompose(st -> session
        .executeAsync(st.selectPackage().bind(pkg.sha256Hex()))
        .thenCompose(rs -> rs.one() != null
            ? CompletableFuture.<Void>completedFuture(null)
            : writeNew(st, pkg)));
  }

  private CompletionStage<Void> writeNew(Statements st, CodePackage pkg) {
    return writeChunks(st, pkg)
        .thenCompose(v -> session.executeAsync(st.insertPackage()
            .bind(pkg.sha256Hex(), pkg.size(), CHUNK_SIZE, chunkCount(pkg.size()), Instant.now())
            .setIdempotent(true)))
        .thenApply(rs -> null);
  }

  /** The complete package with this hash, or empty if there is none (or it is half-written). */
  public CompletionStage<Optional<StoredCode>> find(String sha256Hex) {
    return statements()
        .thenCompose(st -> session.executeAsync(st.selectPackage().bind(sha256Hex)))
        .thenApply(rs -> Optional.ofNullable(rs.one()).map(row -> new StoredCode(
            sha256Hex,
            row.getLong("size"),
            row.getInt("chunk_size"),
            row.getInt("chunks"))));
  }

  /**
   * Chunk {@code index} (from 0) of a package; fails with a {@code ServiceException} if the chunk
   * does not exist.
   */
  public CompletionStage<ByteBuffer> readChunk(String sha256Hex, int index) {
    return statements()
        .thenCompose(st -> session.executeAsync(st.selectChunk().bind(sha256Hex, index)))
        .thenApply(rs -> {
          Row row = rs.one();
          ByteBuffer data = row == null ? null : row.getByteBuffer("data");
          if (data == null) {
            throw LambdaException.service(
                "Function code " + sha256Hex + " is missing chunk " + index + ".");
          }
          return data;
        });
  }

  /**
   * The whole zip, or empty if no complete package has this hash. Fails with a
   * {@code ServiceException} if a chunk is missing or the bytes do not match the hash.
   */
  public CompletionStage<Optional<byte[]>> readAll(String sha256Hex) {
    return find(sha256Hex).thenCompose(found -> found.isEmpty()
        ? CompletableFuture.completedFuture(Optional.empty())
        : readChunks(found.get()).thenApplyAsync(bytes -> Optional.of(verified(sha256Hex, bytes))));
  }

  private CompletionStage<byte[]> readChunks(StoredCode code) {
    if (code.size() > Integer.MAX_VALUE - 8) {
      return CompletableFuture.failedFuture(LambdaException.service(
          "Function code " + code.sha256Hex() + " is too large to load (" + code.size()
              + " bytes)."));
    }
    byte[] bytes = new byte[(int) code.size()];
    return forEachChunk(code.chunks(), index -> readChunk(code.sha256Hex(), index)
        .thenAccept(data -> {
          long offset = (long) index * code.chunkSize();
          int expected = (int) Math.min(code.chunkSize(), code.size() - offset);
          if (offset >= code.size() || data.remaining() != expected) {
            throw LambdaException.service("Function code " + code.sha256Hex() + " has a damaged"
                + " chunk " + index + " (" + data.remaining() + " bytes).");
          }
          data.duplicate().get(bytes, (int) offset, expected);
        }))
        .thenApply(v -> bytes);
  }

  private CompletionStage<Void> writeChunks(Statements st, CodePackage pkg) {
    byte[] bytes = pkg.bytes();
    return forEachChunk(chunkCount(pkg.size()), index -> {
      int offset = index * CHUNK_SIZE;
      ByteBuffer data =
          ByteBuffer.wrap(bytes, offset, Math.min(CHUNK_SIZE, bytes.length - offset)).slice();
      return session
          .executeAsync(st.insertChunk().bind(pkg.sha256Hex(), index, data).setIdempotent(true))
          .thenApply(rs -> null);
    });
  }

  /**
   * Runs {@code action} for every index in {@code [0, count)}, {@value #MAX_IN_FLIGHT} at a time:
   * each of that many lanes takes the next index when its previous one completes. The first
   * failure stops the lanes from taking more and fails the result once they are idle.
   */
  private static CompletionStage<Void> forEachChunk(
      int count, IntFunction<CompletionStage<Void>> action) {
    AtomicInteger next = new AtomicInteger();
    CompletableFuture<?>[] lanes = new CompletableFuture<?>[Math.min(MAX_IN_FLIGHT, count)];
    for (int i = 0; i < lanes.length; i++) {
      lanes[i] = lane(next, count, action).toCompletableFuture().whenComplete((v, e) -> {
        if (e != null) {
          next.set(count);
        }
      });
    }
    return CompletableFuture.allOf(lanes);
  }

  private static CompletionStage<Void> lane(
      AtomicInteger next, int count, IntFunction<CompletionStage<Void>> action) {
    int index = next.getAndIncrement();
    if (index >= count) {
      return CompletableFuture.completedFuture(null);
    }
    return action.apply(index).thenCompose(v -> lane(next, count, action));
  }

  private static int chunkCount(long size) {
    return (int) ((size + CHUNK_SIZE - 1) / CHUNK_SIZE);
  }

  private static byte[] verified(String sha256Hex, byte[] bytes) {
    try {
      byte[] actual = MessageDigest.getInstance("SHA-256").digest(bytes);
      if (!HexFormat.of().formatHex(actual).equalsIgnoreCase(sha256Hex)) {
        throw LambdaException.service(
            "Function code " + sha256Hex + " is damaged: its bytes do not match its hash.");
      }
      return bytes;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  private CompletionStage<Statements> statements() {
    CompletableFuture<Statements> current = statements.get();
    if (current != null && !current.isCompletedExceptionally()) {
      return current;
    }
    CompletableFuture<Statements> mine = new CompletableFuture<>();
    if (!statements.compareAndSet(current, mine)) {
      return statements();
    }
    CompletableFuture<PreparedStatement> selectPackage = prepare(
        "SELECT size, chunk_size, chunks FROM " + keyspace + ".code_packages WHERE sha256 = ?");
    CompletableFuture<PreparedStatement> insertPackage = prepare(
        "INSERT INTO " + keyspace + ".code_packages (sha256, size, chunk_size, chunks, created_at)"
            + " VALUES (?, ?, ?, ?, ?)");
    CompletableFuture<PreparedStatement> selectChunk = prepare(
        "SELECT data FROM " + keyspace + ".code_chunks WHERE sha256 = ? AND chunk = ?");
    CompletableFuture<PreparedStatement> insertChunk = prepare(
        "INSERT INTO " + keyspace + ".code_chunks (sha256, chunk, data) VALUES (?, ?, ?)");
    CompletableFuture.allOf(selectPackage, insertPackage, selectChunk, insertChunk)
        .whenComplete((v, e) -> {
          if (e != null) {
            mine.completeExceptionally(e);
          } else {
            mine.complete(new Statements(
                selectPackage.join(), insertPackage.join(), selectChunk.join(), insertChunk.join()));
          }
        });
    return mine;
  }

  private CompletableFuture<PreparedStatement> prepare(String cql) {
    return session.prepareAsync(cql).toCompletableFuture();
  }
}
