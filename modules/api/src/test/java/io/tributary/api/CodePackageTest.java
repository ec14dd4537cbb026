package io.tributary.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CodePackageTest {

  private static final byte[] BOOTSTRAP = "#!/bin/sh\necho hello\n".getBytes(StandardCharsets.UTF_8);
  private static final byte[] HANDLER =
      "exports.handler = async () => 'hello';\n".getBytes(StandardCharsets.UTF_8);

  /**
   * The package of {@link #fixedZip()}. Its hash was computed outside Java: Python's
   * {@code zipfile} writes the same 268 bytes for these two entries (stored, 2024-01-01 00:00,
   * modes 0755 and 0644), and {@code sha256sum} / {@code openssl dgst -sha256 -binary | base64}
   * of that file give these values.
   */
  private static final long FIXED_SIZE = 268;
  private static final String FIXED_SHA256_HEX =
      "d281841a25170b147954b14f1fcbd3d13b84cd8e8ea59e304dfa8b8e248762f7";
  private static final String FIXED_SHA256_BASE64 =
      "0oGEGiUXCxR5VLFPH8vT0TuEzY6OpZ4wTfqLjiSHYvc=";

  private static byte[] fixedZip() {
    return Zip.write(
        List.of(
            Zip.file("bootstrap", BOOTSTRAP, 0755, false),
            Zip.file("index.js", HANDLER, 0644, false)));
  }

  @Test
  void validZipHasTheSizeAndSha256AwsWouldReport() {
    CodePackage pkg = CodePackage.fromZip(fixedZip());

    assertEquals(FIXED_SIZE, pkg.size());
    assertEquals(FIXED_SHA256_HEX, pkg.sha256Hex());
    assertEquals(FIXED_SHA256_BASE64, pkg.sha256Base64());
    assertEquals(FIXED_SHA256_BASE64, CodePackage.sha256Base64OfHex(pkg.sha256Hex()));
  }

  @Test
  void bytesAreKeptAsUploadedSoTheBootstrapModeSurvives() {
    byte[] zip =
        Zip.write(
            List.of(
                Zip.file("bootstrap", BOOTSTRAP, 0755, true),
                Zip.file("lib/data.txt", HANDLER, 0644, true)));
    byte[] copy = zip.clone();

    CodePackage pkg = CodePackage.fromZip(zip);

    assertArrayEquals(copy, pkg.bytes());
    assertEquals(0755, Zip.unixMode(pkg.bytes(), "bootstrap"));
    assertEquals(0644, Zip.unixMode(pkg.bytes(), "lib/data.txt"));
  }

  @Test
  void theZipHelperWritesModesThatUnzipApplies(@TempDir Path dir) throws Exception {
    assumeTrue(onPath("unzip"), "unzip is not installed");
    Path file = dir.resolve("code.zip");
    Files.write(file, CodePackage.fromZip(fixedZip()).bytes());

    Process unzip =
        new ProcessBuilder("unzip", "-q", file.toString(), "-d", dir.resolve("out").toString())
            .inheritIO()
            .start();

    assertTrue(unzip.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, unzip.exitValue());
    assertEquals(
        "rwxr-xr-x",
        PosixFilePermissions.toString(
            Files.getPosixFilePermissions(dir.resolve("out").resolve("bootstrap"))));
    assertArrayEquals(BOOTSTRAP, Files.readAllBytes(dir.resolve("out").resolve("bootstrap")));
  }

  @Test
  void acceptsWhatJavaAndZipToolsWrite() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(out)) {
      zip.putNextEntry(new ZipEntry("lib/"));
      zip.putNextEntry(new ZipEntry("index.js"));
      zip.write(HANDLER);
    }
    assertEquals(out.size(), CodePackage.fromZip(out.toByteArray()).size());
  }

  @Test
  void acceptsZip64ArchivesWithMoreThan65535Entries() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(out)) {
      for (int i = 0; i < 70_000; i++) {
        zip.putNextEntry(new ZipEntry("node_modules/f" + i + ".js"));
        zip.write('x');
      }
    }
    assertEquals(out.size(), CodePackage.fromZip(out.toByteArray()).size());
  }

  @Test
  void acceptsBytesPrependedToTheArchive() {
    byte[] zip = fixedZip();
    byte[] stub = "#!/bin/sh\nexit 0\n".getBytes(StandardCharsets.UTF_8);
    byte[] withStub = new byte[stub.length + zip.length];
    System.arraycopy(stub, 0, withStub, 0, stub.length);
    System.arraycopy(zip, 0, withStub, stub.length, zip.length);

    assertEquals(withStub.length, CodePackage.fromZip(withStub).size());
  }

  @Test
  void acceptsExactly250MbUnzipped() throws IOException {
    byte[] zip = zerosZip(CodePackage.MAX_UNZIPPED_BYTES);
    assertEquals(zip.length, CodePackage.fromZip(zip).size());
  }

  @Test
  void rejectsEmptyInput() {
    assertRejected(new byte[0], "The deployment package is empty (0 bytes). Upload a .zip file"
        + " that contains your function code.");
    assertRejected(null, "The deployment package is empty (0 bytes). Upload a .zip file"
        + " that contains your function code.");
  }

  @Test
  void rejectsWhatIsNotAZip() {
    assertRejected(
        "just some text".getBytes(StandardCharsets.UTF_8),
        "Could not unzip uploaded file. Please check your file, then try to upload again.");
    byte[] zip = fixedZip();
    assertRejected(
        Arrays.copyOf(zip, zip.length - 10),
        "Could not unzip uploaded file. Please check your file, then try to upload again.");
  }

  @Test
  void rejectsAZipWithoutEntries() {
    assertRejected(
        Zip.write(List.of()),
        "The deployment package is a zip file with no files in it. Add your function code to the"
            + " zip and upload it again.");
  }

  @Test
  void rejectsADamagedEntry() {
    byte[] zip = Zip.write(List.of(Zip.file("index.js", HANDLER, 0644, true)));
    zip[30 + "index.js".length() + 2] ^= 0x5A;

    LambdaException e = assertThrows(LambdaException.class, () -> CodePackage.fromZip(zip));

    assertEquals(400, e.status());
    assertTrue(
        e.getMessage().startsWith("Could not unzip uploaded file: entry 'index.js' is "),
        e.getMessage());
  }

  @Test
  void rejectsOver50MbZipped() {
    byte[] tooBig = new byte[(int) CodePackage.MAX_ZIPPED_BYTES + 1];
    assertRejected(
        tooBig,
        "Zipped size must be smaller than 52428800 bytes, but the uploaded file is 52428801 bytes."
            + " Remove unneeded files or dependencies from the package.");
  }

  @Test
  void rejectsAZipBombThatDeclaresItsSize() throws IOException {
    byte[] bomb = zerosZip(300L * 1024 * 1024);
    assertTrue(bomb.length < 1024 * 1024, "the bomb is small: " + bomb.length);

    assertRejectedCheaply(bomb);
  }

  @Test
  void rejectsAZipBombThatLiesAboutItsSize() throws IOException {
    byte[] bomb = zerosZip(300L * 1024 * 1024);
    Zip.patchDeclaredSize(bomb, 1000);

    assertRejectedCheaply(bomb);
  }

  @Test
  void decodesBase64ZipFile() {
    byte[] zip = fixedZip();
    String mime = Base64.getMimeEncoder().encodeToString(zip);
    assertTrue(mime.contains("\r\n"));

    assertArrayEquals(zip, CodePackage.decodeBase64(Base64.getEncoder().encodeToString(zip)));
    assertArrayEquals(zip, CodePackage.decodeBase64(mime));
  }

  @Test
  void rejectsBadBase64() {
    LambdaException e =
        assertThrows(LambdaException.class, () -> CodePackage.decodeBase64("UEsDB-not*base64"));

    assertEquals(400, e.status());
    assertEquals("InvalidParameterValueException", e.errorType());
    assertTrue(
        e.getMessage().startsWith("Could not decode ZipFile: it must be the zip file's bytes in"
            + " standard base64 (Illegal base64 character"),
        e.getMessage());
  }

  private static void assertRejected(byte[] zip, String message) {
    LambdaException e = assertThrows(LambdaException.class, () -> CodePackage.fromZip(zip));
    assertEquals(400, e.status());
    assertEquals("InvalidParameterValueException", e.errorType());
    assertEquals(message, e.getMessage());
  }

  private static void assertRejectedCheaply(byte[] bomb) {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
    long start = System.nanoTime();

    assertRejected(bomb, "Unzipped size must be smaller than 262144000 bytes");

    long millis = (System.nanoTime() - start) / 1_000_000;
    long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
    assertTrue(allocated < 8L * 1024 * 1024, "allocated " + allocated + " bytes");
    assertTrue(millis < 10_000, "took " + millis + " ms");
  }

  /** A deflated zip of one entry of {@code size} zeros, streamed so that they never exist. */
  private static byte[] zerosZip(long size) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(out)) {
      zip.setLevel(Deflater.BEST_COMPRESSION);
      zip.putNextEntry(new ZipEntry("zeros.bin"));
      byte[] zeros = new byte[1024 * 1024];
      for (long left = size; left > 0; left -= zeros.length) {
        zip.write(zeros, 0, (int) Math.min(left, zeros.length));
      }
    }
    return out.toByteArray();
  }

  private static boolean onPath(String command) {
    String path = System.getenv("PATH");
    return path != null
        && Arrays.stream(path.split(java.io.File.pathSeparator))
            .anyMatch(d -> Files.isExecutable(Path.of(d, command)));
  }

  /**
   * A zip writer small enough to read in one go, because {@code java.util.zip} cannot set an
   * entry's unix mode: each entry is written with "version made by" = unix and external
   * attributes = {@code (S_IFREG | mode) << 16}, as Info-ZIP and Python's {@code zipfile} do, and
   * with a fixed timestamp (2024-01-01 00:00) so that the output is the same everywhere.
   * Directory entries, ZIP64 and data descriptors are left out.
   */
  static final class Zip {
    record File(String name, byte[] data, int mode, boolean deflate) {}

    private static final int DOS_TIME = 0;
    private static final int DOS_DATE = (2024 - 1980) << 9 | 1 << 5 | 1;

    static File file(String name, byte[] data, int mode, boolean deflate) {
      return new File(name, data, mode, deflate);
    }

    static byte[] write(List<File> files) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream central = new ByteArrayOutputStream();
      for (File f : files) {
        byte[] name = f.name().getBytes(StandardCharsets.UTF_8);
        byte[] data = f.deflate() ? deflate(f.data()) : f.data();
        CRC32 crc = new CRC32();
        crc.update(f.data());
        int offset = out.size();
        int method = f.deflate() ? 8 : 0;
        put(out, le(30)
            .putInt(0x04034b50).putShort((short) 20).putShort((short) 0)
            .putShort((short) method).putShort((short) DOS_TIME).putShort((short) DOS_DATE)
            .putInt((int) crc.getValue()).putInt(data.length).putInt(f.data().length)
            .putShort((short) name.length).putShort((short) 0));
        out.writeBytes(name);
        out.writeBytes(data);
        put(central, le(46)
            .putInt(0x02014b50).putShort((short) (3 << 8 | 20)).putShort((short) 20)
            .putShort((short) 0).putShort((short) method)
            .putShort((short) DOS_TIME).putShort((short) DOS_DATE)
            .putInt((int) crc.getValue()).putInt(data.length).putInt(f.data().length)
            .putShort((short) name.length).putShort((short) 0).putShort((short) 0)
            .putShort((short) 0).putShort((short) 0)
            .putInt((0100000 | f.mode()) << 16).putInt(offset));
        central.writeBytes(name);
      }
      int centralOffset = out.size();
      out.writeBytes(central.toByteArray());
      put(out, le(22)
          .putInt(0x06054b50).putShort((short) 0).putShort((short) 0)
          .putShort((short) files.size()).putShort((short) files.size())
          .putInt(central.size()).putInt(centralOffset).putShort((short) 0));
      return out.toByteArray();
    }

    /** The unix permission bits of entry {@code name}, read from the central directory. */
    static int unixMode(byte[] zip, String name) {
      for (int p : centralHeaders(zip)) {
        ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
        int nameLength = b.getShort(p + 28) & 0xFFFF;
        if (new String(zip, p + 46, nameLength, StandardCharsets.UTF_8).equals(name)) {
          assertEquals(3, zip[p + 5], "version made by: unix");
          return b.getInt(p + 38) >>> 16 & 07777;
        }
      }
      throw new AssertionError("no entry " + name);
    }

    /** Makes every entry claim {@code size} bytes unzipped in the central directory. */
    static void patchDeclaredSize(byte[] zip, int size) {
      for (int p : centralHeaders(zip)) {
        ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN).putInt(p + 24, size);
      }
    }

    private static List<Integer> centralHeaders(byte[] zip) {
      ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
      int eocd = zip.length - 22;
      assertEquals(0x06054b50, b.getInt(eocd), "no end of central directory record");
      int entries = b.getShort(eocd + 10) & 0xFFFF;
      List<Integer> headers = new ArrayList<>();
      int p = b.getInt(eocd + 16);
      for (int i = 0; i < entries; i++) {
        assertEquals(0x02014b50, b.getInt(p));
        headers.add(p);
        p += 46 + (b.getShort(p + 28) & 0xFFFF) + (b.getShort(p + 30) & 0xFFFF)
            + (b.getShort(p + 32) & 0xFFFF);
      }
      return headers;
    }

    private static byte[] deflate(byte[] data) {
      Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
      try {
        deflater.setInput(data);
        deflater.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        while (!deflater.finished()) {
          out.write(buffer, 0, deflater.deflate(buffer));
        }
        return out.toByteArray();
      } finally {
        deflater.end();
      }
    }

    private static ByteBuffer le(int size) {
      return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void put(OutputStream out, ByteBuffer b) {
      try {
        out.write(b.array());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
