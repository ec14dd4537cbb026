package io.tributary.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Deployment packages for tests: a {@code bootstrap} with mode 0755, as `zip` on Linux writes it. */
final class Zips {

  private Zips() {}

  static byte[] withBootstrap(String script) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      ZipEntry entry = new ZipEntry("bootstrap");
      zip.putNextEntry(entry);
      zip.write(script.getBytes(StandardCharsets.UTF_8));
      zip.closeEntry();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return withUnixMode(bytes.toByteArray(), 0100755);
  }

  /** A package of plain files (mode 0644), such as a Python or Node.js handler. */
  static byte[] of(java.util.Map<String, String> files) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (var file : files.entrySet()) {
        zip.putNextEntry(new ZipEntry(file.getKey()));
        zip.write(file.getValue().getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return withUnixMode(bytes.toByteArray(), 0100644);
  }

  /** Sets "made by Unix" and the mode in every central directory entry (java.util.zip cannot). */
  static byte[] withUnixMode(byte[] zip, int mode) {
    ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i + 46 <= zip.length; i++) {
      if (b.getInt(i) == 0x02014b50) {
        b.putShort(i + 4, (short) ((3 << 8) | 20));
        b.putInt(i + 38, mode << 16);
        i += 45 + (b.getShort(i + 28) & 0xffff) + (b.getShort(i + 30) & 0xffff) + (b.getShort(i + 32) & 0xffff);
      }
    }
    return zip;
  }

  /** The unix mode of the first central directory entry of a zip. */
  static int unixModeOfFirstEntry(byte[] zip) {
    ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i + 46 <= zip.length; i++) {
      if (b.getInt(i) == 0x02014b50) {
        return b.getInt(i + 38) >>> 16;
      }
    }
    throw new IllegalArgumentException("no central directory");
  }

  static long crc(byte[] data) {
    CRC32 crc = new CRC32();
    crc.update(data);
    return crc.getValue();
  }
}
