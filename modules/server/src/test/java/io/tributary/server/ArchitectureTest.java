package io.tributary.server;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Enforces the module table of docs/architecture.md on the compiled classes (ArchUnit): each
 * module's main classes depend only on its own packages, the Tributary modules and the libraries of
 * its "depends on" column, and its {@code pom.xml} on exactly those modules. Checked on bytecode, a
 * fully qualified name in the code counts as much as an import. No two packages of Tributary depend
 * on each other, directly or through others.
 */
class ArchitectureTest {

  private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();
  /** A library of the table → the packages it brings (ArchUnit's {@code ..} notation). */
  private static final Map<String, List<String>> LIBRARIES = Map.ofEntries(
      Map.entry("JDK", List.of("java..", "javax..")),
      Map.entry("Jackson", List.of("com.fasterxml.jackson..")),
      // Pekko's Java API is Scala underneath: its durations, options and functions reach callers.
      Map.entry("Pekko", List.of("org.apache.pekko..", "com.typesafe.config..", "scala..")),
      Map.entry("Pekko HTTP", List.of("org.apache.pekko.http..")),
      Map.entry("Cassandra driver", List.of("com.datastax.oss.driver..")),
      Map.entry("Kryo", List.of("com.esotericsoftware..")),
      Map.entry("Kafka clients", List.of("org.apache.kafka.clients..", "org.apache.kafka.common..")),
      Map.entry("AWS SDK", List.of("software.amazon.awssdk..")),
      Map.entry("Event Ruler", List.of("software.amazon.event.ruler..")),
      Map.entry("Micrometer", List.of("io.micrometer..")),
      Map.entry("Caffeine", List.of("com.github.benmanes.caffeine..")),
      Map.entry("Quartz", List.of("org.quartz..")),
      Map.entry("Scala", List.of("scala..")),
      Map.entry("SLF4J", List.of("org.slf4j..")));
  private static final Set<String> MODULES = Set.of("api", "runtime", "connectors", "cluster", "http", "server");

  private static JavaClasses main;

  @BeforeAll
  static void importMainClasses() {
    main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("io.tributary");
  }

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
      if (inModules && m.matches()) {
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
  void mainClassesDependOnlyOnWhatTheTableAllows() throws IOException {
    for (Map.Entry<String, List<String>> e : table().entrySet()) {
      List<String> allowed = new ArrayList<>(List.of("io.tributary." + e.getKey() + ".."));
      for (String d : e.getValue()) {
        allowed.addAll(MODULES.contains(d) ? List.of("io.tributary." + d + "..") : LIBRARIES.get(d));
      }
      // Pekko HTTP lives inside Pekko's packages: a module that may use Pekko but not Pekko HTTP.
      var rule = classes().that().resideInAPackage("io.tributary." + e.getKey() + "..")
          .should().onlyDependOnClassesThat().resideInAnyPackage(allowed.toArray(String[]::new));
      if (!e.getValue().contains("Pekko HTTP")) {
        rule = rule.andShould().onlyDependOnClassesThat().resideOutsideOfPackage("org.apache.pekko.http..");
      }
      rule.because("docs/architecture.md's module table says " + e.getKey() + " depends on " + e.getValue())
          .check(main);
    }
  }

  @Test
  void packagesAreFreeOfCycles() {
    slices().matching("io.tributary.(**)").should().beFreeOfCycles()
        .because("a package that needs another's classes must not be needed by it (docs/architecture.md)")
        .check(main);
  }
}
