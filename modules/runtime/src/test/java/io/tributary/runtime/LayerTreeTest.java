package io.tributary.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tributary.api.CodeSource;
import io.tributary.api.FunctionConfig.Layer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The merge of layer directories, the tree's life on a node, and where each runtime looks in it. */
class LayerTreeTest {

  @TempDir
  Path dir;

  private static Path write(Path file, String text, String permissions) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, text);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(permissions));
    return file;
  }

  private static Object inode(Path file) throws IOException {
    return Files.getAttribute(file, "unix:ino", LinkOption.NOFOLLOW_LINKS);
  }

  @Test
  void laterLayersWinAndEarlierLayersAreNeverWrittenTo() throws IOException {
    Path one = dir.resolve("one");
    Path two = dir.resolve("two");
    write(one.resolve("python/util.py"), "v1", "rw-r--r--");
    write(one.resolve("bin/tool"), "#!/bin/sh\necho tool\n", "rwxr-xr-x");
    write(two.resolve("python/util.py"), "v2", "rw-r--r--");
    write(two.resolve("python/extra.py"), "extra", "rw-r--r--");
    Path tree = Files.createDirectory(dir.resolve("tree"));

    LayerTree.Merged merged = LayerTree.merge(List.of(one, two), tree);

    assertEquals("v2", Files.readString(tree.resolve("python/util.py")), "the later layer's file");
    assertEquals("v1", Files.readString(one.resolve("python/util.py")), "layer 1's own copy is untouched");
    assertEquals("extra", Files.readString(tree.resolve("python/extra.py")));
    assertEquals(new LayerTree.Merged(3, 0), merged, "3 files in the tree, none copied");
    assertEquals(inode(one.resolve("bin/tool")), inode(tree.resolve("bin/tool")), "a hard link, not a copy");
  }

  @Test
  void permissionsAndSymlinksAreKept() throws IOException {
    Path layer = dir.resolve("layer");
    write(layer.resolve("bin/tool"), "#!/bin/sh\n", "rwxr-x---");
    write(layer.resolve("etc/secret.conf"), "s", "rw-r-----");
    write(layer.resolve("lib/libz.so.1"), "elf", "rwxr-xr-x");
    Files.setPosixFilePermissions(layer.resolve("etc"), PosixFilePermissions.fromString("rwxr-x---"));
    Files.createSymbolicLink(layer.resolve("lib/libz.so"), Path.of("libz.so.1"));
    Path tree = Files.createDirectory(dir.resolve("tree"));

    LayerTree.merge(List.of(layer), tree);

    assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(tree.resolve("bin/tool"))));
    assertTrue(Files.isExecutable(tree.resolve("bin/tool")));
    assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(tree.resolve("etc/secret.conf"))));
    assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(tree.resolve("etc"))));
    assertTrue(Files.isSymbolicLink(tree.resolve("lib/libz.so")), "a symlink stays a symlink");
    assertEquals(Path.of("libz.so.1"), Files.readSymbolicLink(tree.resolve("lib/libz.so")));
    assertEquals("elf", Files.readString(tree.resolve("lib/libz.so")));
  }

  @Test
  void aLaterDirectoryReplacesAnEarlierSymlinkAndNothingIsWrittenThroughIt() throws IOException {
    Path outside = Files.createDirectory(dir.resolve("outside"));
    Path one = dir.resolve("one");
    Path two = dir.resolve("two");
    Files.createDirectories(one);
    Files.createSymbolicLink(one.resolve("lib"), outside);
    write(one.resolve("share/doc/readme"), "docs", "rw-r--r--");
    write(two.resolve("lib/libx.so"), "x", "rw-r--r--");
    Files.createDirectories(two);
    Files.createSymbolicLink(two.resolve("share"), Path.of("share-v2"));
    Path tree = Files.createDirectory(dir.resolve("tree"));

    LayerTree.Merged merged = LayerTree.merge(List.of(one, two), tree);

    assertFalse(Files.isSymbolicLink(tree.resolve("lib")), "layer 2's directory replaced layer 1's symlink");
    assertEquals("x", Files.readString(tree.resolve("lib/libx.so")));
    try (Stream<Path> entries = Files.list(outside)) {
      assertEquals(0, entries.count(), "nothing was written where layer 1's symlink points");
    }
    assertTrue(Files.isSymbolicLink(tree.resolve("share")), "layer 2's symlink replaced layer 1's directory");
    assertEquals("docs", Files.readString(one.resolve("share/doc/readme")), "layer 1 itself is untouched");
    assertEquals(2, merged.files(), "libx.so and the share symlink: layer 1's files were replaced");
  }

  @Test
  void filesAreCopiedWhereTheyCannotBeLinked() throws IOException {
    Path shm = Path.of("/dev/shm");
    assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm)
        && !Files.getFileStore(shm).equals(Files.getFileStore(dir)), "needs another filesystem at /dev/shm");
    Path layer = Files.createTempDirectory(shm, "tributary-layer-");
    try {
      write(layer.resolve("bin/tool"), "#!/bin/sh\n", "rwxr-x---");
      Path tree = Files.createDirectory(dir.resolve("tree"));

      LayerTree.Merged merged = LayerTree.merge(List.of(layer), tree);

      assertEquals(new LayerTree.Merged(1, 1), merged);
      assertEquals("#!/bin/sh\n", Files.readString(tree.resolve("bin/tool")));
      assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(tree.resolve("bin/tool"))));
    } finally {
      CodeCache.deleteTree(layer);
    }
  }

  /** Layer zips served once asked for, so a test can start two builds before either has its content. */
  private static final class GatedCode implements CodeSource {
    final TestCode code = new TestCode();
    final CompletableFuture<Void> open = new CompletableFuture<>();

    @Override
    public CompletionStage<Optional<byte[]>> read(String sha256Hex) {
      return open.thenCompose(v -> code.read(sha256Hex));
    }
  }

  @Test
  void aNodeBuildsATreeOncePerLayerListAndSharesIt() throws Exception {
    GatedCode source = new GatedCode();
    var blocking = Executors.newFixedThreadPool(2);
    try {
      LayerTree layers = new LayerTree(dir.resolve("layers"), new CodeCache(dir.resolve("code"), source, blocking),
          blocking);
      Layer one = source.code.textLayer("one", Map.of("python/shared.py", "WHO = 'one'\n"));
      Layer two = source.code.textLayer("two", Map.of("python/shared.py", "WHO = 'two'\n", "bin/tool", "#!/bin/sh\n"));
      assertNull(layers.of(List.of()).toCompletableFuture().get(), "no layers, no tree");

      CompletionStage<Path> first = layers.of(List.of(one, two));
      CompletionStage<Path> concurrent = layers.of(List.of(one, two));
      assertSame(first, concurrent, "a cold start while the tree is being built waits for that build");
      source.open.complete(null);
      Path tree = first.toCompletableFuture().get(10, TimeUnit.SECONDS);

      assertEquals(dir.resolve("layers").resolve(LayerTree.key(List.of(one, two))), tree);
      assertEquals("WHO = 'two'\n", Files.readString(tree.resolve("python/shared.py")));
      assertTrue(Files.isExecutable(tree.resolve("bin/tool")), "a zip's 0755 survives unpacking and merging");
      Files.writeString(tree.resolve("marker"), "built once");
      assertEquals(tree, layers.of(List.of(one, two)).toCompletableFuture().get());
      assertTrue(Files.exists(tree.resolve("marker")), "a tree that exists is reused, not rebuilt");

      Path reversed = layers.of(List.of(two, one)).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertNotEquals(tree, reversed, "the order is part of the tree");
      assertEquals("WHO = 'one'\n", Files.readString(reversed.resolve("python/shared.py")));
      try (Stream<Path> entries = Files.list(dir.resolve("layers"))) {
        assertEquals(2, entries.count(), "two trees, no scratch directory left");
      }
      try (Stream<Path> entries = Files.list(dir.resolve("code"))) {
        assertEquals(2, entries.count(), "each layer unpacked once, shared by both trees");
      }
    } finally {
      blocking.shutdownNow();
    }
  }

  @Test
  void aLayerMissingFromTheCodeStoreFailsTheColdStartNamingTheLayer() {
    var blocking = Executors.newFixedThreadPool(1);
    try {
      TestCode code = new TestCode();
      LayerTree layers = new LayerTree(dir.resolve("layers"), new CodeCache(dir.resolve("code"), code, blocking),
          blocking);
      Layer gone = new Layer("arn:aws:lambda:eu-west-1:000000000000:layer:gone:3", 10, "ab".repeat(32), 10);
      ExecutionException failure = assertThrows(ExecutionException.class,
          () -> layers.of(List.of(gone)).toCompletableFuture().get(10, TimeUnit.SECONDS));
      assertTrue(failure.getCause().getMessage().contains("layer arn:aws:lambda:eu-west-1:000000000000:layer:gone:3"),
          failure.getCause().getMessage());
      assertFalse(Files.exists(dir.resolve("layers")), "nothing merged");
    } finally {
      blocking.shutdownNow();
    }
  }

  @Test
  void searchPathsAreAwssWithTheTreeInOptsPlace() {
    Path root = Path.of("/work/code/abc");
    Path tree = Path.of("/work/layers/def");

    Map<String, String> python = LayerTree.searchPaths("python3.12", "python:3.12.1", root, tree);
    assertEquals("/work/layers/def/python/lib/python3.12/site-packages:/work/layers/def/python",
        python.get("PYTHONPATH"));
    assertEquals("/usr/local/bin:/usr/bin:/bin:/work/layers/def/bin", python.get("PATH"));
    assertEquals("/work/code/abc:/work/code/abc/lib:/work/layers/def/lib", python.get("LD_LIBRARY_PATH"));
    assertEquals("/work/layers/def/python/lib/python3.13/site-packages:"
        + "/work/layers/def/python/lib/python3.14/site-packages:/work/layers/def/python",
        LayerTree.searchPaths("python3.14", "python:3.13.0", root, tree).get("PYTHONPATH"),
        "python3.14 on a 3.13 interpreter: the interpreter's own site-packages first, then the id's");

    assertEquals("/work/layers/def/nodejs/node20/node_modules:/work/layers/def/nodejs/node18/node_modules:"
        + "/work/layers/def/nodejs/node_modules:/work/code/abc",
        LayerTree.searchPaths("nodejs18.x", "nodejs:20.20.2", root, tree).get("NODE_PATH"));
    assertEquals("/work/code/abc", LayerTree.searchPaths("nodejs20.x", "nodejs:20.20.2", root, null).get("NODE_PATH"),
        "without layers Node still finds the task root's modules by NODE_PATH, as on AWS");

    Map<String, String> bare = LayerTree.searchPaths("python3.11", "python:3.11.2", root, null);
    assertEquals(Map.of("PATH", "/usr/local/bin:/usr/bin:/bin", "LD_LIBRARY_PATH", "/work/code/abc:/work/code/abc/lib"),
        bare, "no layers: no PYTHONPATH, nothing of a tree");
    assertEquals(List.of("PATH", "LD_LIBRARY_PATH"),
        List.copyOf(LayerTree.searchPaths("java21", "java:25.0.1", root, tree).keySet()),
        "Java's layers are on its class path, not in a variable");
  }

  @Test
  void aCustomRuntimesBootstrapIsTheFunctionsElseALayers() throws IOException {
    Path root = Files.createDirectories(dir.resolve("root"));
    Path tree = Files.createDirectories(dir.resolve("tree"));
    assertTrue(RuntimeSettings.bootstrap(root, tree).isEmpty());
    write(tree.resolve("bootstrap"), "#!/bin/sh\n", "rwxr-xr-x");
    assertEquals(Optional.of(tree.resolve("bootstrap")), RuntimeSettings.bootstrap(root, tree));
    write(root.resolve("bootstrap"), "#!/bin/sh\n", "rwxr-xr-x");
    assertEquals(Optional.of(root.resolve("bootstrap")), RuntimeSettings.bootstrap(root, tree), "the function's own first");
    assertEquals(Optional.of(root.resolve("bootstrap")), RuntimeSettings.bootstrap(root, null));
  }

  @Test
  void theTreesNameIsTheHashOfItsLayersInOrder() {
    Layer a = new Layer("arn:a", 1, "a".repeat(64), 1);
    Layer b = new Layer("arn:b", 1, "b".repeat(64), 1);
    assertEquals(LayerTree.key(List.of(a, b)), LayerTree.key(List.of(new Layer("arn:other", 9, "a".repeat(64), 9), b)),
        "only the content counts");
    assertNotEquals(LayerTree.key(List.of(a, b)), LayerTree.key(List.of(b, a)));
    assertEquals(64, LayerTree.key(List.of(a)).length());
    assertTrue(LayerTree.key(List.of(a)).chars().allMatch(c -> Character.digit(c, 16) >= 0));
  }
}
