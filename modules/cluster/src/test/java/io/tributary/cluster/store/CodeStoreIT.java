package io.tributary.cluster.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import io.tributary.api.CodePackage;
import io.tributary.cluster.store.CodeStore.StoredCode;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link CodeStore} against a real Cassandra: {@code -Dtributary.it.cassandra=host:port}
 * (default 127.0.0.1:9142, datacenter {@code datacenter1}). Uses its own keyspace
 * {@code it_codestore}; every run stores fresh random packages, so runs do not see each other.
 */
class CodeStoreIT {

  private static final String KEYSPACE = "it_codestore";
  private static final int MIB = 1024 * 1024;

  private static CqlSession session;
  private static CodeStore store;
  private static final Random random = new Random();

  @BeforeAll
  static void connect() {
    session = TestCassandra.connect(KEYSPACE);
    CodeStore.createTables(session, KEYSPACE);
    store = new CodeStore(session, KEYSPACE);
  }

  @AfterAll
  static void close() {
    if (session != null) {
      session.close();
    }
  }

  @Test
  void storesA35MbZipInFourChunksAndReadsItBack() {
    CodePackage pkg = randomPackage(3 * MIB + MIB / 2);

    timed("store 3.5 MB", () -> store.store(pkg));
    Optional<byte[]> read = timed("readAll 3.5 MB", () -> store.readAll(pkg.sha256Hex()));

    assertEquals(
        Optional.of(new StoredCode(pkg.sha256Hex(), pkg.size(), MIB, 4)),
        await(store.find(pkg.sha256Hex())));
    assertEquals(4, chunkRows(pkg.sha256Hex()).size());
    assertArrayEquals(pkg.bytes(), read.orElseThrow());
    assertEquals(pkg.size() - 3 * MIB, await(store.readChunk(pkg.sha256Hex(), 3)).remaining());
  }

  @Test
  void storingTheSameZipAgainWritesNothing() {
    CodePackage pkg = randomPackage(2 * MIB + 10);
    await(store.store(pkg));
    List<Long> chunkWriteTimes = chunkRows(pkg.sha256Hex()).stream()
        .map(row -> row.getLong("wt")).toList();
    long packageWriteTime = packageWriteTime(pkg.sha256Hex());

    await(store.store(CodePackage.fromZip(pkg.bytes().clone())));

    assertEquals(3, chunkWriteTimes.size());
    assertEquals(chunkWriteTimes, chunkRows(pkg.sha256Hex()).stream()
        .map(row -> row.getLong("wt")).toList());
    assertEquals(packageWriteTime, packageWriteTime(pkg.sha256Hex()));
    assertEquals(1L, session.execute(
        "SELECT count(*) FROM " + KEYSPACE + ".code_packages WHERE sha256 = ?", pkg.sha256Hex())
        .one().getLong(0));
  }

  @Test
  void aBootstrapReadsBackWithItsMode() {
    byte[] bootstrap = ("#!/bin/sh\nset -e\nwhile true; do\n  curl -s \"http://$AWS_LAMBDA_RUNTIME_API"
        + "/2018-06-01/runtime/invocation/next\"\ndone\n").getBytes(StandardCharsets.UTF_8);
    byte[] zip = unixZip("bootstrap", bootstrap, 0755);
    CodePackage pkg = CodePackage.fromZip(zip);

    await(store.store(pkg));
    byte[] read = await(store.readAll(pkg.sha256Hex())).orElseThrow();

    assertArrayEquals(zip, read);
    assertEquals(0755, unixMode(read));
  }

  @Test
  void aHalfWrittenPackageIsNotFoundAndTheNextStoreCompletesIt() {
    CodePackage pkg = randomPackage(MIB + 1);
    session.execute(
        "INSERT INTO " + KEYSPACE + ".code_chunks (sha256, chunk, data) VALUES (?, 0, ?)",
        pkg.sha256Hex(), ByteBuffer.wrap(new byte[] {1, 2, 3}));

    assertEquals(Optional.empty(), await(store.find(pkg.sha256Hex())));
    assertEquals(Optional.empty(), await(store.readAll(pkg.sha256Hex())).map(b -> b.length));

    await(store.store(pkg));

    assertArrayEquals(pkg.bytes(), await(store.readAll(pkg.sha256Hex())).orElseThrow());
  }

  @Test
  void anUnknownHashIsNotFound() {
    String unknown = "0".repeat(64);

    assertEquals(Optional.empty(), await(store.find(unknown)));
    assertEquals(Optional.empty(), await(store.readAll(unknown)).map(b -> b.length));
  }

  @Test
  void storesAndReadsBackTheLargestAllowedZip() {
    CodePackage pkg = randomPackage((int) CodePackage.MAX_ZIPPED_BYTES - 200);

    timed("store 50 MB", () -> store.store(pkg));
    Optional<byte[]> read = timed("readAll 50 MB", () -> store.readAll(pkg.sha256Hex()));

    assertEquals(50, await(store.find(pkg.sha256Hex())).orElseThrow().chunks());
    assertArrayEquals(pkg.bytes(), read.orElseThrow());
  }

  private static List<Row> chunkRows(String sha256Hex) {
    return session.execute("SELECT chunk, writetime(data) AS wt FROM " + KEYSPACE
        + ".code_chunks WHERE sha256 = ?", sha256Hex).all();
  }

  private static long packageWriteTime(String sha256Hex) {
    return session.execute("SELECT writetime(size) FROM " + KEYSPACE
        + ".code_packages WHERE sha256 = ?", sha256Hex).one().getLong(0);
  }

  /** A valid package of exactly {@code size} bytes: one stored entry of random bytes. */
  private static CodePackage randomPackage(int size) {
    int overhead = 30 + 46 + 2 * "random.bin".length() + 22;
    byte[] data = new byte[size - overhead];
    random.nextBytes(data);
    byte[] zip = zip("random.bin", data, 0644, false);
    assertEquals(size, zip.length);
    return CodePackage.fromZip(zip);
  }

  private static byte[] unixZip(String name, byte[] data, int mode) {
    return zip(name, data, mode, true);
  }

  /**
   * A one-entry zip whose external attributes carry a unix mode, which {@code java.util.zip}
   * cannot write: "version made by" = unix, attributes = {@code (S_IFREG | mode) << 16}.
   */
  private static byte[] zip(String entry, byte[] data, int mode, boolean deflate) {
    byte[] name = entry.getBytes(StandardCharsets.UTF_8);
    byte[] body = deflate ? deflate(data) : data;
    CRC32 crc = new CRC32();
    crc.update(data);
    short method = (short) (deflate ? 8 : 0);
    ByteBuffer b = ByteBuffer.allocate(30 + 46 + 2 * name.length + body.length + 22)
        .order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0x04034b50).putShort((short) 20).putShort((short) 0).putShort(method)
        .putInt(0).putInt((int) crc.getValue()).putInt(body.length).putInt(data.length)
        .putShort((short) name.length).putShort((short) 0).put(name).put(body);
    int central = b.position();
    b.putInt(0x02014b50).putShort((short) (3 << 8 | 20)).putShort((short) 20)
        .putShort((short) 0).putShort(method).putInt(0).putInt((int) crc.getValue())
        .putInt(body.length).putInt(data.length).putShort((short) name.length)
        .putShort((short) 0).putShort((short) 0).putShort((short) 0).putShort((short) 0)
        .putInt((0100000 | mode) << 16).putInt(0).put(name);
    int centralSize = b.position() - central;
    b.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) 1)
        .putShort((short) 1).putInt(centralSize).putInt(central).putShort((short) 0);
    return b.array();
  }

  /** The unix mode of a one-entry zip's entry, read from its central directory. */
  private static int unixMode(byte[] zip) {
    ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
    int central = b.getInt(zip.length - 22 + 16);
    assertEquals(0x02014b50, b.getInt(central));
    assertEquals(3, zip[central + 5], "version made by: unix");
    return b.getInt(central + 38) >>> 16 & 07777;
  }

  private static byte[] deflate(byte[] data) {
    Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
    deflater.setInput(data);
    deflater.finish();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    while (!deflater.finished()) {
      out.write(buffer, 0, deflater.deflate(buffer));
    }
    deflater.end();
    return out.toByteArray();
  }

  private static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static <T> T timed(String what, Supplier<CompletionStage<T>> call) {
    long start = System.nanoTime();
    T result = await(call.get());
    System.out.println(
        "CodeStoreIT: " + what + ": " + (System.nanoTime() - start) / 1_000_000 + " ms");
    return result;
  }
}
