package io.tributary.cluster.store;

import com.datastax.oss.driver.api.core.CqlSession;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.cassandra.KeyspaceAndTableStatements;
import org.apache.pekko.persistence.cassandra.PluginSettings;

/**
 * Tributary's own CQL schema (the journal's tables belong to pekko-persistence-cassandra). Used by
 * autocreate in development and tests; production runs {@code deploy/cql/tributary.cql}, which a
 * test keeps identical to {@link #statements}.
 */
public final class Schema {

  private Schema() {}

  public static List<String> statements(String keyspace, String replication) {
    List<String> all = new ArrayList<>();
    all.add("CREATE KEYSPACE IF NOT EXISTS " + keyspace + " WITH replication = " + replication);
    all.addAll(FunctionRegistry.tableDefinitions(keyspace));
    all.addAll(CodeStore.tableDefinitions(keyspace));
    all.addAll(LogStore.tableDefinitions(keyspace));
    all.addAll(CassandraEventQueueStore.tableDefinitions(keyspace));
    all.addAll(MappingRegistry.tableDefinitions(keyspace));
    all.addAll(CassandraStreamCheckpoints.tableDefinitions(keyspace));
    all.addAll(LayerRegistry.tableDefinitions(keyspace));
    all.addAll(EventBusRegistry.tableDefinitions(keyspace));
    return all;
  }

  /**
   * Creates the journal's and snapshot store's keyspaces and tables as pekko-persistence-cassandra
   * defines them for this configuration (the plugin creates the snapshot keyspace only on its
   * first write, so a recovery before that fails), then Tributary's own.
   */
  public static void create(ActorSystem<?> system, CqlSession session, String keyspace, String replication) {
    KeyspaceAndTableStatements persistence = new KeyspaceAndTableStatements(system, "pekko.persistence.cassandra",
        PluginSettings.apply(Adapter.toClassic(system)));
    List<String> all = new ArrayList<>();
    all.add(persistence.createJournalKeyspaceStatement());
    all.addAll(persistence.getCreateJournalTablesStatements());
    all.add(persistence.createSnapshotKeyspaceStatement());
    all.addAll(persistence.getCreateSnapshotTablesStatements());
    all.addAll(statements(keyspace, replication));
    for (String statement : all) {
      session.execute(com.datastax.oss.driver.api.core.cql.SimpleStatement.newInstance(statement)
          .setTimeout(Duration.ofSeconds(30)));
    }
  }
}
