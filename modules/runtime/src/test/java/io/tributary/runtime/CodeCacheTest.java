package io.tributary.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.api.CodePackage;
import io.tributary.api.CodeSource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unpacking a zip from the code store: function code and layers alike, from whoever published them. */
class CodeCacheTest {

  @TempDir
  Path dir;

  @Test
  void aZipCannotWriteThroughASymlinkItMadeToOutsideThePackage() throws Exception {
    Path outside = Files.createDirectory(dir.resolve("outside"));
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("escape", outside.toString().getBytes(StandardCharsets.UTF_8));
    files.put("escape/planted.sh", "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8));
    CodePackage pkg = CodePackage.fromZip(TestCode.unixZip(files, name -> name.equals("escape") ? 0120777 : 0100755));
    CodeSource code = hex -> CompletableFuture.completedFuture(Optional.of(pkg.bytes()));
    var blocking = Executors.newSingleThreadExecutor();
    try {
      CodeCache cache = new CodeCache(dir.resolve("code"), code, blocking);
      ExecutionException failure = assertThrows(ExecutionException.class,
          () -> cache.taskRoot(pkg.sha256Hex()).toCompletableFuture().get(10, TimeUnit.SECONDS));
      assertTrue(String.valueOf(failure.getCause().getMessage()).contains("could not unpack"), failure.toString());
      try (Stream<Path> planted = Files.list(outside)) {
        assertEquals(0, planted.count(), "nothing written where the symlink points");
      }
      assertFalse(Files.exists(dir.resolve("code").resolve(pkg.sha256Hex())), "no tree that looks complete");
    } finally {
      blocking.shutdownNow();
    }
  }
}
