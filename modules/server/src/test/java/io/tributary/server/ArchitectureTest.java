package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Enforces the module table of docs/architecture.md: Maven dependencies between Tributary modules,
 * and the packages each module's main sources import. A wrong import fails the build.
 */
class ArchitectureTest {

  private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();
  private static final Map<String, List<String>> LIBRARIES = Map.ofEntries(
      Map.entry("JDK", List.of("java.", "javax.")),
      Map.entry("Jackson", List.of("com.fasterxml.jackson.")),
      Map.entry("Pekko", List.of("org.apache.pekko.", "com.typesafe.config.")),
      Map.entry("Pekko HTTP", List.of("org.apache.pekko.http.")),
      Map.entry("Cassandra driver", List.of("com.datastax.oss.driver.")),
      Map.entry("Kryo", List.of("com.esotericsoftware.")),
      Map.entry("Kafka clients", List.of("org.apache.kafka.clients.", "org.apache.kafka.common.")),
      Map.entry("AWS SDK", List.of("software.amazon.awssdk.")),
      Map.entry("Event Ruler", List.of("software.amazon.event.ruler.")),
      Map.entry("SLF4J", List.of("org.slf4j.")),
      Map.entry("Micrometer", List.of("io.micrometer.")),
      Map.entry("Scala", List.of("scala.")));
  private static final Set<String> MODULES = Set.of("api", "runtime", "connectors", "cluster", "http", "server");

  /** module → the entries of its "depends on" column. */
  private static Map<String, List<String>> table() throws IOException {
    Map<String, List<String>> table = new LinkedHashMap<>();
    Pattern row = Pattern.compile("^\\| `([a-z]+)` \\|.*\\| ([^|]+) \\|$");
    boolean inModules = false;
    for (String line : Files.readAllLines(ROOT.resolve("docs/architecture.md"))) {
      if (line.startsWith("## ")) {
        inModules = line.equals("## Modules");
      }
      Matcher m = row.matcher(line.trim());
      if (!inModules) {
        continue;
      }
      if (m.matches()) {
        table.put(m.group(1), Arrays.stream(m.group(2).split(",")).map(String::trim).toList());
      }
    }
    return table;
  }

  @Test
  void everyModuleIsInTheTableAndEveryEntryIsKnown() throws IOException {
    Map<String, List<String>> table = table();
    Set<String> onDisk;
    try (Stream<Path> dirs = Files.list(ROOT.resolve("modules"))) {
      onDisk = dirs.filter(d -> Files.exists(d.resolve("pom.xml"))).map(d -> d.getFileName().toString())
          .collect(Collectors.toCollection(TreeSet::new));
    }
    assertEquals(onDisk, new TreeSet<>(table.keySet()), "modules/ and the table in docs/architecture.md differ");
    table.forEach((module, deps) -> deps.forEach(d -> assertTrue(MODULES.contains(d) || LIBRARIES.containsKey(d),
        module + " depends on '" + d + "', which ArchitectureTest does not know")));
  }

  @Test
  void pomDependenciesBetweenModulesMatchTheTable() throws IOException {
    Pattern dep = Pattern.compile("<artifactId>tributary-([a-z]+)</artifactId>");
    for (Map.Entry<String, List<String>> e : table().entrySet()) {
      String pom = Files.readString(ROOT.resolve("modules/" + e.getKey() + "/pom.xml"));
      String dependencies = pom.substring(pom.indexOf("<dependencies>"));
      Set<String> actual = new TreeSet<>();
      Matcher m = dep.matcher(dependencies);
      while (m.find()) {
        actual.add(m.group(1));
      }
      Set<String> allowed = e.getValue().stream().filter(MODULES::contains).collect(Collectors.toCollection(TreeSet::new));
      assertEquals(allowed, actual, "modules/" + e.getKey() + "/pom.xml depends on other Tributary modules than the table says");
    }
  }

  @Test
  void mainSourcesImportOnlyWhatTheTableAllows() throws IOException {
    List<String> violations = new ArrayList<>();
    Pattern imp = Pattern.compile("^import (static )?([\\w.]+)", Pattern.MULTILINE);
    for (Map.Entry<String, List<String>> e : table().entrySet()) {
      List<String> allowed = new ArrayList<>(List.of("io.tributary." + e.getKey() + "."));
      for (String d : e.getValue()) {
        allowed.addAll(MODULES.contains(d) ? List.of("io.tributary." + d + ".") : LIBRARIES.get(d));
      }
      Path src = ROOT.resolve("modules/" + e.getKey() + "/src/main/java");
      if (!Files.exists(src)) {
        continue;
      }
      try (Stream<Path> files = Files.walk(src)) {
        for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
          Matcher m = imp.matcher(Files.readString(file));
          while (m.find()) {
            String name = m.group(2);
            boolean pekkoHttp = name.startsWith("org.apache.pekko.http.");
            boolean ok = allowed.stream().anyMatch(name::startsWith)
                && (!pekkoHttp || e.getValue().contains("Pekko HTTP"));
            if (!ok) {
              violations.add(ROOT.relativize(file) + " imports " + name);
            }
          }
        }
      }
    }
    assertFalse(!violations.isEmpty(), "Imports outside docs/architecture.md's table:\n" + String.join("\n", violations));
  }
}
