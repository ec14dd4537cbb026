package io.tributary.runtime;

import io.tributary.api.CodePackage;
import io.tributary.api.CodeSource;
import io.tributary.api.FunctionConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Deployment packages built in memory, served by hash as the node's code store would. */
final class TestCode implements CodeSource {

  private final Map<String, byte[]> zips = new ConcurrentHashMap<>();

  @Override
  public CompletionStage<Optional<byte[]>> read(String sha256Hex) {
    return CompletableFuture.completedFuture(Optional.ofNullable(zips.get(sha256Hex)));
  }

  /** A function version whose code is {@code files} (name → content; names ending in "bootstrap" get 0755). */
  FunctionConfig function(String name, String runtime, String handler, int timeout, Map<String, String> files) {
    CodePackage pkg = CodePackage.fromZip(zip(files));
    zips.put(pkg.sha256Hex(), pkg.bytes());
    return new FunctionConfig(name, null, runtime, "arn:aws:iam::000000000000:role/r", handler, null, timeout, 128,
        Map.of("GREETING", "hello"), pkg.sha256Base64(), pkg.size(), pkg.sha256Hex(), pkg.unzippedSize(), null, 0, null, null,
        null, null, null, "2026-11-22T00:00:00.000+0000", "rev-" + pkg.sha256Hex().substring(0, 8), null, null);
  }

  /** A Java function whose zip holds the compiled test classes of {@code classes} at its root, as AWS expects. */
  FunctionConfig javaFunction(String name, String runtime, String handler, Class<?>... classes) {
    return javaFunction(name, runtime, handler, Map.of(), 10, classes);
  }

  FunctionConfig javaFunction(String name, String runtime, String handler, Map<String, String> environment,
      int timeout, Class<?>... classes) {
    Map<String, byte[]> files = new java.util.LinkedHashMap<>();
    for (Class<?> c : classes) {
      String path = c.getName().replace('.', '/') + ".class";
      try (var in = c.getClassLoader().getResourceAsStream(path)) {
        files.put(path, in.readAllBytes());
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    CodePackage pkg = CodePackage.fromZip(zipBytes(files));
    zips.put(pkg.sha256Hex(), pkg.bytes());
    return new FunctionConfig(name, null, runtime, "arn:aws:iam::000000000000:role/r", handler, null, timeout, 256,
        environment, pkg.sha256Base64(), pkg.size(), pkg.sha256Hex(), pkg.unzippedSize(), null, 0, null, null,
        null, null, null, "2026-11-22T00:00:00.000+0000", "rev-" + pkg.sha256Hex().substring(0, 8), null, null);
  }

  static byte[] zipBytes(Map<String, byte[]> files) {
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

  static byte[] zip(Map<String, String> files) {
    Map<String, byte[]> bytes = new java.util.LinkedHashMap<>();
    files.forEach((name, text) -> bytes.put(name, text.getBytes(StandardCharsets.UTF_8)));
    return unixZip(bytes);
  }

  /**
   * A zip made on unix ({@code zip -r}): files get 0644, executables 0755 (a {@code bootstrap}, or a
   * file starting with {@code #!}).
   */
  static byte[] unixZip(Map<String, byte[]> files) {
    return unixZip(files, name -> {
      byte[] content = files.get(name);
      boolean executable = name.endsWith("bootstrap")
          || content != null && content.length > 1 && content[0] == '#' && content[1] == '!';
      return executable ? 0100755 : 0100644;
    });
  }

  /** A zip made on unix with each entry's mode (type and permissions, {@code 0120777} for a symlink). */
  static byte[] unixZip(Map<String, byte[]> files, java.util.function.ToIntFunction<String> mode) {
    byte[] out = zipBytes(files);
    ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i + 46 <= out.length; i++) {
      if (b.getInt(i) == 0x02014b50) {
        int nameLength = b.getShort(i + 28) & 0xffff;
        String name = new String(out, i + 46, nameLength, StandardCharsets.UTF_8);
        b.putShort(i + 4, (short) ((3 << 8) | 20));
        b.putInt(i + 38, mode.applyAsInt(name) << 16);
        i += 45 + nameLength + (b.getShort(i + 30) & 0xffff) + (b.getShort(i + 32) & 0xffff);
      }
    }
    return out;
  }

  /** A layer version whose content is {@code files}, stored as PublishLayerVersion stores it. */
  FunctionConfig.Layer layer(String name, Map<String, byte[]> files) {
    CodePackage pkg = CodePackage.fromZip(unixZip(files));
    zips.put(pkg.sha256Hex(), pkg.bytes());
    return new FunctionConfig.Layer("arn:aws:lambda:eu-west-1:000000000000:layer:" + name + ":1", pkg.size(),
        pkg.sha256Hex(), pkg.unzippedSize());
  }

  /** A layer of text files ({@link #unixZip}'s permissions). */
  FunctionConfig.Layer textLayer(String name, Map<String, String> files) {
    Map<String, byte[]> bytes = new java.util.LinkedHashMap<>();
    files.forEach((file, text) -> bytes.put(file, text.getBytes(StandardCharsets.UTF_8)));
    return layer(name, bytes);
  }

  /** {@code fn} with {@code layers} (in order) and its environment variables plus {@code environment}. */
  static FunctionConfig withLayers(FunctionConfig fn, Map<String, String> environment, FunctionConfig.Layer... layers) {
    Map<String, String> variables = new java.util.HashMap<>(fn.environment());
    variables.putAll(environment);
    return new FunctionConfig(fn.functionName(), fn.version(), fn.runtime(), fn.role(), fn.handler(), fn.description(),
        fn.timeout(), fn.memorySize(), variables, fn.codeSha256(), fn.codeSize(), fn.codeSha256Hex(),
        fn.codeUnzippedSize(), fn.architectures(), fn.ephemeralStorageSize(), fn.tracingMode(), fn.kmsKeyArn(),
        fn.deadLetterTargetArn(), fn.loggingConfig(), List.of(layers), fn.lastModified(),
        fn.revisionId() + "-" + LayerTree.key(List.of(layers)).substring(0, 8), fn.state(), fn.lastUpdateStatus());
  }
}
