package io.tributary.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.api.Runtimes.Language;
import io.tributary.api.Runtimes.Offer;
import io.tributary.api.Runtimes;
import io.tributary.runtime.Interpreters.Installed;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InterpretersTest {

  private static final Installed PYTHON_311 = new Installed(Language.PYTHON, "python3", List.of(3, 11, 7));
  private static final Installed PYTHON_313 = new Installed(Language.PYTHON, "python3.13", List.of(3, 13, 1));
  private static final Installed NODE_20 = new Installed(Language.NODEJS, "node", List.of(20, 20, 2));
  private static final Installed NODE_22 = new Installed(Language.NODEJS, "/opt/node22/bin/node", List.of(22, 23, 5));
  private static final Installed JAVA_17 = new Installed(Language.JAVA, "/jdk17/bin/java", List.of(17, 0, 15));
  private static final Installed JAVA_25 = new Installed(Language.JAVA, "/jdk25/bin/java", List.of(25, 0, 3));
  private static final List<Installed> MACHINE = List.of(PYTHON_311, NODE_20, NODE_22, JAVA_17, JAVA_25);

  private static Optional<Installed> choose(String runtime, List<Installed> installed, boolean exactOnly) {
    return Interpreters.choose(Runtimes.target(runtime).orElseThrow(), installed, exactOnly);
  }

  @Test
  void anIdRunsOnTheInterpreterOfItsOwnRelease() {
    assertEquals(Optional.of(PYTHON_311), choose("python3.11", MACHINE, true));
    assertEquals(Optional.of(NODE_22), choose("nodejs22.x", MACHINE, true));
    assertEquals(Optional.of(JAVA_25), choose("java25", MACHINE, true));
  }

  @Test
  void javaAndNodeFallBackToTheNearestNewerReleaseOnly() {
    assertEquals(Optional.of(JAVA_25), choose("java21", MACHINE, false));
    assertEquals(Optional.of(JAVA_17), choose("java11", MACHINE, false));
    assertEquals(Optional.of(JAVA_17), choose("java8.al2", MACHINE, false));
    assertEquals(Optional.of(NODE_20), choose("nodejs18.x", MACHINE, false));
    assertEquals(Optional.empty(), choose("nodejs24.x", MACHINE, false), "no Node at or above 24");
  }

  @Test
  void pythonFallsBackToTheNearestNewerElseTheNewestEvenIfOlder() {
    assertEquals(Optional.of(PYTHON_311), choose("python3.10", MACHINE, false));
    assertEquals(Optional.of(PYTHON_311), choose("python3.14", MACHINE, false));
    List<Installed> two = List.of(PYTHON_311, PYTHON_313);
    assertEquals(Optional.of(PYTHON_313), choose("python3.12", two, false));
    assertEquals(Optional.of(PYTHON_311), choose("python3.10", two, false));
    assertEquals(Optional.of(PYTHON_313), choose("python3.14", two, false));
  }

  @Test
  void exactInterpretersRefuseEveryFallback() {
    assertEquals(Optional.empty(), choose("python3.12", MACHINE, true));
    assertEquals(Optional.empty(), choose("java21", MACHINE, true));
  }

  @Test
  void offersSayWhetherTheVersionIsTheIdsOwn() {
    Interpreters interpreters = Interpreters.resolve(MACHINE, Set.of("provided.al2023"), false);
    assertEquals(new Offer("python3.12", "python:3.11.7", false), interpreters.offers().get("python3.12"));
    assertEquals(new Offer("python3.11", "python:3.11.7", true), interpreters.offers().get("python3.11"));
    assertEquals(new Offer("java21", "java:25.0.3", false), interpreters.offers().get("java21"));
    assertEquals(new Offer("provided.al2023", "provided:al2023", true), interpreters.offers().get("provided.al2023"));
    assertFalse(interpreters.offers().containsKey("provided.al2"), "not enabled");
    assertFalse(interpreters.offers().containsKey("nodejs24.x"));
    assertEquals("/jdk25/bin/java", interpreters.of("java21").orElseThrow().command());
    Interpreters exact = Interpreters.resolve(MACHINE, Set.of(), true);
    assertTrue(exact.offers().values().stream().allMatch(Offer::exact), exact.offers().toString());
  }

  @Test
  void versionsAreReadAsEachInterpreterPrintsThem() {
    assertEquals(Optional.of(List.of(3, 11, 7)), Interpreters.version("Python 3.11.7\n"));
    assertEquals(Optional.of(List.of(22, 23, 5)), Interpreters.version("v22.23.5\n"));
    assertEquals(Optional.of(List.of(17, 0, 15)), Interpreters.version("openjdk version \"17.0.15\" 2025-04-15"));
    assertEquals(Optional.of(List.of(8, 0)), Interpreters.version("1.8.0_392"));
    assertEquals(Optional.of(List.of(25)), Interpreters.version("25"));
    assertEquals(Optional.empty(), Interpreters.version("command not found"));
  }

  @Test
  void aWrapperIsReplacedByTheInterpreterItSays(@TempDir Path dir) throws IOException {
    Path python = Files.createFile(dir.resolve("python3.12"), PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwxr-xr-x")));
    assertEquals(Optional.of(python.toString()), Interpreters.executable("3.12.1\n" + python + "\n"));
    assertEquals(Optional.empty(), Interpreters.executable("openjdk version \"17.0.15\" 2025-04-15"));
    assertEquals(Optional.empty(), Interpreters.executable("3.12.1\n" + dir.resolve("gone")));
  }

  @Test
  void aStarInACandidateMatchesDirectoryEntries(@TempDir Path dir) throws IOException {
    for (String jdk : List.of("jdk-21", "jdk-17", "docs")) {
      Files.createDirectories(dir.resolve(jdk).resolve("bin"));
    }
    for (String jdk : List.of("jdk-21", "jdk-17")) {
      Files.createFile(dir.resolve(jdk).resolve("bin/java"), PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString("rwxr-xr-x")));
    }
    assertEquals(List.of(dir + "/jdk-17/bin/java", dir + "/jdk-21/bin/java"),
        Interpreters.expand(dir + "/*/bin/java"));
    assertEquals(List.of("python3"), Interpreters.expand("python3"));
  }
}
