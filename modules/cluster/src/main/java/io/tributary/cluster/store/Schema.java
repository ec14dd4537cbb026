package io.tributary.cluster.store;

import com.datastax.oss.driver.api.core.CqlSession;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

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
    return all;
  }

  public static void create(CqlSession session, String keyspace, String replication) {
    for (String statement : statements(keyspace, replication)) {
      session.execute(com.datastax.oss.driver.api.core.cql.SimpleStatement.newInstance(statement)
          .setTimeout(Duration.ofSeconds(30)));
    }
  }
}
