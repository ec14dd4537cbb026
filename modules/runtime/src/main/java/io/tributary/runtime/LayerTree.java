package io.tributary.runtime;

import io.tributary.api.FunctionConfig.Layer;
import io.tributary.api.LambdaException;
import io.tributary.api.Runtimes.Language;
import io.tributary.api.Runtimes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The merged layer tree of a function version: what AWS mounts at {@code /opt}, here a directory of
 * the node's own, {@code <work-dir>/layers/<key>/}, where {@code key} is the SHA-256 of the
 * function's ordered list of layer hashes (one per line). Function versions with the same layers in
 * the same order share one tree; it is never written under the host's {@code /opt}.
 *
 * <p>Building: each layer's zip is unpacked once per node by {@link CodeCache} (content-addressed, the
 * same directories as function code), then the layers are merged in order into a scratch directory
 * that is renamed into place, so a crash never leaves a half tree that looks complete; concurrent
 * cold starts of one list share a single build, and a tree already there is reused. Merging, layer
 * by layer, later over earlier:
 * <ul>
 *   <li>a file is a hard link to the unpacked layer's file (a copy when linking fails, as across
 *       filesystems), so permissions are the layer's and a tree costs no second copy;
 *   <li>a symlink stays a symlink with the same target;
 *   <li>an entry of a later layer replaces whatever an earlier one put at its path (file, symlink or
 *       directory); only directories meet directories and merge. Nothing is ever written through a
 *       symlink: a later layer's {@code lib/} where an earlier layer has a symlink {@code lib} replaces
 *       the symlink, and an earlier layer's file is unlinked from the tree, never overwritten.
 * </ul>
 * Example: layer 1 holds {@code python/util.py} ("v1") and {@code bin/tool}; layer 2 holds
 * {@code python/util.py} ("v2"). The tree holds {@code python/util.py} linked to layer 2's file and
 * {@code bin/tool} linked to layer 1's, still executable; layer 1's own {@code util.py} still says "v1".
 *
 * <p>{@link #searchPaths} says where each runtime looks in the tree, as AWS's runtimes look in /opt.
 */
final class LayerTree {

  private static final Logger log = LoggerFactory.getLogger(LayerTree.class);
  /** AWS's PATH without its own directories ({@code /var/lang/bin}); {@code /opt/bin} comes last. */
  static final String SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin";

  /** What a merge placed: files (and symlinks) in the tree, and how many of them had to be copied. */
  record Merged(int files, int copied) {}

  private final Path dir;
  private final CodeCache code;
  private final Executor blocking;
  private final Map<String, CompletableFuture<Path>> building = new ConcurrentHashMap<>();

  LayerTree(Path dir, CodeCache code, Executor blocking) {
    this.dir = dir;
    this.code = code;
    this.blocking = blocking;
  }

  /** The merged tree of {@code layers}, built on first use; completes with null when there are none. */
  CompletionStage<Path> of(List<Layer> layers) {
    if (layers.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    String key = key(layers);
    Path tree = dir.resolve(key);
    if (Files.isDirectory(tree)) {
      return CompletableFuture.completedFuture(tree);
    }
    CompletableFuture<Path> built = building.computeIfAbsent(key, k -> {
      List<CompletableFuture<Path>> roots = layers.stream().map(this::unpacked).toList();
      return CompletableFuture.allOf(roots.toArray(CompletableFuture[]::new))
          .thenApplyAsync(done -> build(k, roots.stream().map(CompletableFuture::join).toList()), blocking);
    });
    // Outside computeIfAbsent: an already completed future would run this at once, inside it.
    built.whenComplete((path, failure) -> building.remove(key, built));
    return built;
  }

  private CompletableFuture<Path> unpacked(Layer layer) {
    return code.taskRoot(layer.codeSha256Hex()).toCompletableFuture().exceptionally(failure -> {
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause()
          : failure;
      if (cause instanceof LambdaException) {
        throw LambdaException.service("The content of layer " + layer.arn() + " (SHA-256 " + layer.codeSha256Hex()
            + ") is missing from the code store.");
      }
      throw failure instanceof CompletionException c ? c : new CompletionException(failure);
    });
  }

  /** The tree's directory name: the SHA-256 of the layers' hashes in order, one per line. */
  static String key(List<Layer> layers) {
    StringBuilder lines = new StringBuilder();
    layers.forEach(l -> lines.append(l.codeSha256Hex()).append('\n'));
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(lines.toString().getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private Path build(String key, List<Path> roots) {
    Path tree = dir.resolve(key);
    if (Files.isDirectory(tree)) {
      return tree;
    }
    long start = System.nanoTime();
    try {
      Files.createDirectories(dir);
      Path scratch = Files.createTempDirectory(dir, key + ".merging-");
      try {
        Path staged = Files.createDirectory(scratch.resolve("tree"));
        Merged merged = merge(roots, staged);
        try {
          Files.move(staged, tree, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
          if (!Files.isDirectory(tree)) {
            throw e;
          }
          return tree;
        }
        log.info("Merged {} layers into {}: {} files{} in {} ms", roots.size(), tree, merged.files(),
            merged.copied() == 0 ? "" : " (" + merged.copied() + " copied: they could not be hard-linked)",
            (System.nanoTime() - start) / 1_000_000);
        return tree;
      } finally {
        CodeCache.deleteTree(scratch);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not merge layers into " + tree, e);
    }
  }

  /** Merges the directories {@code layers}, in order, into the existing directory {@code target} (see above). */
  static Merged merge(List<Path> layers, Path target) throws IOException {
    int[] files = {0};
    int[] copied = {0};
    for (Path layer : layers) {
      Files.walkFileTree(layer, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
          if (dir.equals(layer)) {
            return FileVisitResult.CONTINUE;
          }
          Path to = target.resolve(layer.relativize(dir).toString());
          if (Files.isDirectory(to, LinkOption.NOFOLLOW_LINKS)) {
            return FileVisitResult.CONTINUE;
          }
          files[0] -= remove(to);
          Files.createDirectory(to);
          Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(dir);
          // The node fills the directory now and may delete the tree later.
          permissions.addAll(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
              PosixFilePermission.OWNER_EXECUTE));
          Files.setPosixFilePermissions(to, permissions);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          if (!attrs.isSymbolicLink() && !attrs.isRegularFile()) {
            return FileVisitResult.CONTINUE;
          }
          Path to = target.resolve(layer.relativize(file).toString());
          files[0] -= remove(to);
          if (attrs.isSymbolicLink()) {
            Files.createSymbolicLink(to, Files.readSymbolicLink(file));
          } else {
            try {
              Files.createLink(to, file);
            } catch (IOException | UnsupportedOperationException e) {
              Files.copy(file, to, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
              copied[0]++;
            }
          }
          files[0]++;
          return FileVisitResult.CONTINUE;
        }
      });
    }
    return new Merged(files[0], copied[0]);
  }

  /** Removes whatever is at {@code path}, never following a symlink; how many files (not directories) it held. */
  private static int remove(Path path) throws IOException {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return 0;
    }
    if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
      Files.delete(path);
      return 1;
    }
    int removed;
    try (Stream<Path> entries = Files.walk(path)) {
      removed = (int) entries.filter(p -> !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).count();
    }
    CodeCache.deleteTree(path);
    return removed;
  }

  /**
   * The search paths of an environment, as AWS sets them with {@code tree} in /opt's place
   * ({@code tree} null when the function has no layers):
   * <ul>
   *   <li>{@code PATH}: {@value #SYSTEM_PATH}, then {@code <tree>/bin};
   *   <li>{@code LD_LIBRARY_PATH}: {@code <task root>:<task root>/lib}, then {@code <tree>/lib};
   *   <li>python*, with layers: {@code PYTHONPATH} of {@code <tree>/python/lib/pythonX.Y/site-packages}
   *       for the interpreter's own X.Y and then the runtime id's (when the node runs the id on another
   *       release; the interpreter's first, as its compiled extensions are the ones that load), then
   *       {@code <tree>/python}; the bootstrap puts the task root before them;
   *   <li>nodejs*: {@code NODE_PATH} of {@code <tree>/nodejs/node<major>/node_modules} (the
   *       interpreter's major, then the id's) and {@code <tree>/nodejs/node_modules}, then the task root.
   * </ul>
   * {@code runtimeVersion} is the interpreter's ({@code python:3.11.2}), null when unknown.
   */
  static Map<String, String> searchPaths(String runtime, String runtimeVersion, Path taskRoot, Path tree) {
    Map<String, String> paths = new LinkedHashMap<>();
    paths.put("PATH", SYSTEM_PATH + (tree == null ? "" : ":" + tree.resolve("bin")));
    paths.put("LD_LIBRARY_PATH", taskRoot + ":" + taskRoot.resolve("lib") + (tree == null ? "" : ":"
        + tree.resolve("lib")));
    Runtimes.Target target = Runtimes.target(runtime).orElse(null);
    if (target == null) {
      return paths;
    }
    if (target.language() == Language.PYTHON && tree != null) {
      List<String> entries = new ArrayList<>();
      for (String release : releases(target, runtimeVersion, 2)) {
        entries.add(tree.resolve("python/lib/python" + release + "/site-packages").toString());
      }
      entries.add(tree.resolve("python").toString());
      paths.put("PYTHONPATH", String.join(":", entries));
    } else if (target.language() == Language.NODEJS) {
      List<String> entries = new ArrayList<>();
      if (tree != null) {
        for (String major : releases(target, runtimeVersion, 1)) {
          entries.add(tree.resolve("nodejs/node" + major + "/node_modules").toString());
        }
        entries.add(tree.resolve("nodejs/node_modules").toString());
      }
      entries.add(taskRoot.toString());
      paths.put("NODE_PATH", String.join(":", entries));
    }
    return paths;
  }

  /** The interpreter's release ({@code parts} numbers of {@code runtimeVersion}) then the id's, without repeats. */
  private static Set<String> releases(Runtimes.Target target, String runtimeVersion, int parts) {
    Set<String> releases = new LinkedHashSet<>();
    if (runtimeVersion != null && runtimeVersion.contains(":")) {
      String[] numbers = runtimeVersion.substring(runtimeVersion.indexOf(':') + 1).split("\\.");
      if (numbers.length >= parts) {
        releases.add(String.join(".", List.of(numbers).subList(0, parts)));
      }
    }
    releases.add(String.join(".", target.release().stream().map(String::valueOf).toList()));
    return releases;
  }

  /** The jars of a tree's {@code java/lib}, by name: AWS's {@code /opt/java/lib/*} on the class path. */
  static List<Path> javaLibraries(Path tree) throws IOException {
    Path lib = tree == null ? null : tree.resolve("java/lib");
    if (lib == null || !Files.isDirectory(lib)) {
      return List.of();
    }
    try (Stream<Path> jars = Files.list(lib)) {
      return jars.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
    }
  }
}
