package io.tributary.runtime;

import io.tributary.api.CodeSource;
import io.tributary.api.LambdaException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Function code unpacked once per node per SHA-256, under {@code <dir>/<hex>/}, with the unix
 * permissions and symlinks the zip records (a {@code bootstrap} stays executable). A package is
 * unpacked into a scratch directory and renamed into place, so a crash never leaves a half-unpacked
 * tree that looks complete; concurrent cold starts of one hash share a single unpack.
 */
final class CodeCache {

  private static final int CENTRAL_SIGNATURE = 0x02014b50;
  private static final int EOCD_SIGNATURE = 0x06054b50;
  private static final int S_IFMT = 0170000;
  private static final int S_IFLNK = 0120000;

  private final Path dir;
  private final CodeSource source;
  private final Executor blocking;
  private final Map<String, CompletableFuture<Path>> unpacking = new ConcurrentHashMap<>();

  CodeCache(Path dir, CodeSource source, Executor blocking) {
    this.dir = dir;
    this.source = source;
    this.blocking = blocking;
  }

  /** The directory holding the unpacked code of {@code sha256Hex}; fetched and unpacked on first use. */
  CompletionStage<Path> taskRoot(String sha256Hex) {
    Path root = dir.resolve(sha256Hex);
    if (Files.isDirectory(root)) {
      return CompletableFuture.completedFuture(root);
    }
    CompletableFuture<Path> unpacked = unpacking.computeIfAbsent(sha256Hex, hex -> source.read(hex)
        .toCompletableFuture()
        .thenApplyAsync(zip -> unpack(hex, zip.orElseThrow(() -> LambdaException.service(
            "The code of this function (SHA-256 " + hex + ") is missing from the code store."))), blocking));
    // Outside computeIfAbsent: an already completed future would run this at once, inside it.
    unpacked.whenComplete((path, failure) -> unpacking.remove(sha256Hex, unpacked));
    return unpacked;
  }

  private Path unpack(String hex, byte[] zip) {
    Path root = dir.resolve(hex);
    try {
      Files.createDirectories(dir);
      Path scratch = Files.createTempDirectory(dir, hex + ".unpacking-");
      Path zipFile = scratch.resolve(".package.zip");
      Files.write(zipFile, zip);
      Path tree = Files.createDirectory(scratch.resolve("tree"));
      extract(zipFile, tree, unixModes(zip));
      try {
        Files.move(tree, root, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
        if (!Files.isDirectory(root)) {
          throw e;
        }
      } finally {
        deleteTree(scratch);
      }
      return root;
    } catch (IOException e) {
      throw new UncheckedIOException("could not unpack code " + hex + " into " + dir, e);
    }
  }

  private static void extract(Path zipFile, Path tree, Map<String, Integer> modes) throws IOException {
    Path realTree = tree.toRealPath();
    try (ZipFile zip = new ZipFile(zipFile.toFile())) {
      for (ZipEntry entry : java.util.Collections.list(zip.entries())) {
        Path target = tree.resolve(entry.getName()).normalize();
        if (!target.startsWith(tree) || !existingAncestor(target.getParent()).toRealPath().startsWith(realTree)) {
          throw new IOException("zip entry outside the package: " + entry.getName());
        }
        int mode = modes.getOrDefault(entry.getName(), 0);
        if (entry.isDirectory()) {
          Files.createDirectories(target);
          continue;
        }
        Files.createDirectories(target.getParent());
        try (InputStream in = zip.getInputStream(entry)) {
          if ((mode & S_IFMT) == S_IFLNK) {
            Files.createSymbolicLink(target, Path.of(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
            continue;
          }
          Files.copy(in, target);
        }
        if ((mode & 0777) != 0) {
          Files.setPosixFilePermissions(target, permissions(mode));
        }
      }
    }
  }

  /**
   * The deepest of {@code dir} and its parents that exists: where an entry's path leaves the package
   * if an earlier entry made it a symlink to elsewhere, which the entry would otherwise be written through.
   */
  private static Path existingAncestor(Path dir) {
    Path existing = dir;
    while (!Files.exists(existing, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      existing = existing.getParent();
    }
    return existing;
  }

  /** Entry name → unix mode from the central directory (java.util.zip does not expose it). */
  static Map<String, Integer> unixModes(byte[] zip) {
    ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
    int eocd = -1;
    for (int p = zip.length - 22; p >= Math.max(0, zip.length - 22 - 65_535); p--) {
      if (b.getInt(p) == EOCD_SIGNATURE) {
        eocd = p;
        break;
      }
    }
    Map<String, Integer> modes = new HashMap<>();
    if (eocd < 0) {
      return modes;
    }
    int entries = b.getShort(eocd + 10) & 0xffff;
    long size = b.getInt(eocd + 12) & 0xffffffffL;
    long offset = b.getInt(eocd + 16) & 0xffffffffL;
    // Bytes prepended to the archive shift every offset by the same amount.
    int p = (int) (eocd - size);
    if (p < 0 || offset == 0xffffffffL) {
      return modes;
    }
    for (int i = 0; i < entries && p + 46 <= zip.length && b.getInt(p) == CENTRAL_SIGNATURE; i++) {
      int madeBy = (b.getShort(p + 4) & 0xffff) >>> 8;
      int external = b.getInt(p + 38);
      int nameLength = b.getShort(p + 28) & 0xffff;
      String name = new String(zip, p + 46, nameLength, StandardCharsets.UTF_8);
      if (madeBy == 3) {
        modes.put(name, external >>> 16);
      }
      p += 46 + nameLength + (b.getShort(p + 30) & 0xffff) + (b.getShort(p + 32) & 0xffff);
    }
    return modes;
  }

  private static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] bits = {
        PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
        PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
        PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
    for (int i = 0; i < bits.length; i++) {
      if ((mode & (1 << i)) != 0) {
        set.add(bits[i]);
      }
    }
    // The node must be able to read and later delete what it unpacked.
    set.add(PosixFilePermission.OWNER_READ);
    set.add(PosixFilePermission.OWNER_WRITE);
    return set;
  }

  static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
