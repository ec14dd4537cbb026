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

  /**
   * A bash custom runtime: the Runtime API loop, with {@code body} run for each invocation
   * ($EVENT, $REQUEST_ID and $API set; the body posts the response or error).
   */
  static String bashRuntime(String body) {
    return """
        #!/bin/bash
        set -euo pipefail
        API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
        while true; do
          HEADERS="$(mktemp)"
          EVENT="$(curl -sS -D "$HEADERS" "$API/invocation/next")"
          REQUEST_ID="$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | cut -d' ' -f2 | tr -d '\\r')"
        """ + body.indent(2) + "done\n";
  }

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
    java.util.Map<String, byte[]> bytes = new java.util.LinkedHashMap<>();
    files.forEach((name, text) -> bytes.put(name, text.getBytes(StandardCharsets.UTF_8)));
    return withUnixMode(ofBytes(bytes), 0100644);
  }

  /** A zip of {@code files} as given (class files, jars), without unix modes. */
  static byte[] ofBytes(java.util.Map<String, byte[]> files) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (var file : files.entrySet()) {
        zip.putNextEntry(new ZipEntry(file.getKey()));
        zip.write(file.getValue());
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * A Java function package: {@code source} (one public class) compiled against the node's
   * aws-lambda-java-core, its class files at the root of the zip as AWS expects.
   */
  static byte[] javaHandler(String className, String source) {
    try {
      java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("handler");
      java.nio.file.Path file = dir.resolve(className.substring(className.lastIndexOf('.') + 1) + ".java");
      java.nio.file.Files.writeString(file, source);
      javax.tools.JavaCompiler javac = javax.tools.ToolProvider.getSystemJavaCompiler();
      String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
      int status = javac.run(null, null, null, "-d", dir.toString(), "-cp", classpath, "--release", "17", file.toString());
      if (status != 0) {
        throw new IllegalStateException("javac failed for " + className);
      }
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (ZipOutputStream zip = new ZipOutputStream(bytes);
           var classes = java.nio.file.Files.walk(dir)) {
        for (java.nio.file.Path c : classes.filter(p -> p.toString().endsWith(".class")).toList()) {
          zip.putNextEntry(new ZipEntry(dir.relativize(c).toString()));
          zip.write(java.nio.file.Files.readAllBytes(c));
          zip.closeEntry();
        }
      }
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
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
