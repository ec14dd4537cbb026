package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tributary.cluster.store.Schema;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.persistence.cassandra.KeyspaceAndTableStatements;
import org.apache.pekko.persistence.cassandra.PluginSettings;
import org.junit.jupiter.api.Test;

/**
 * The production CQL in deploy/cql must be exactly what development autocreates, for the
 * configuration in config/production.conf: Tributary's tables from {@link Schema}, the journal's
 * from pekko-persistence-cassandra itself. ({@code -Dschema.write=true} writes a missing file.)
 */
class SchemaFilesTest {

  private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();

  @Test
  void productionSchemaFilesMatchWhatTheCodeCreates() throws IOException {
    Config config = ConfigFactory.parseFile(ROOT.resolve("config/production.conf").toFile())
        .withFallback(ConfigFactory.load()).resolve();
    List<String> journal = new ArrayList<>();
    // exit-jvm off: application.conf's System.exit on termination would race the test runner's goodbye.
    ActorSystem system = ActorSystem.create("schema", config
        .withValue("pekko.actor.provider", com.typesafe.config.ConfigValueFactory.fromAnyRef("local"))
        .withValue("pekko.coordinated-shutdown.exit-jvm", com.typesafe.config.ConfigValueFactory.fromAnyRef("off")));
    try {
      KeyspaceAndTableStatements statements = new KeyspaceAndTableStatements(system, "pekko.persistence.cassandra",
          PluginSettings.apply(system));
      journal.add(statements.createJournalKeyspaceStatement());
      journal.addAll(statements.getCreateJournalTablesStatements());
      journal.add(statements.createSnapshotKeyspaceStatement());
      journal.addAll(statements.getCreateSnapshotTablesStatements());
    } finally {
      system.terminate();
    }
    check("deploy/cql/pekko-persistence.cql", journal);
    check("deploy/cql/tributary.cql", Schema.statements(config.getString("tributary.cassandra.keyspace"),
        config.getString("tributary.cassandra.replication")));
  }

  private static void check(String file, List<String> expected) throws IOException {
    Path path = ROOT.resolve(file);
    if (!Files.exists(path) && Boolean.getBoolean("schema.write")) {
      Files.createDirectories(path.getParent());
      Files.writeString(path, "-- Generated from the code for config/production.conf; SchemaFilesTest keeps it true.\n"
          + "-- Run once against the production cluster: cqlsh -f " + file + "\n\n"
          + String.join(";\n\n", expected.stream().map(String::strip).toList()) + ";\n");
    }
    String text = Files.readString(path).replaceAll("(?m)^--.*$", "");
    List<String> actual = Arrays.stream(text.split(";")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    assertEquals(expected.stream().map(s -> s.strip().replaceAll("\\s+", " ")).toList(),
        actual.stream().map(s -> s.replaceAll("\\s+", " ")).toList(), file + " differs from what the code creates");
  }
}
