package io.tributary.cluster.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import java.net.InetSocketAddress;
import java.time.Duration;

/** The test Cassandra of {@code deploy/test.sh}: {@code -Dtributary.it.cassandra=host:port} (default 127.0.0.1:9142). */
final class TestCassandra {

  private TestCassandra() {}

  /** A session, with {@code keyspace} created (replication 1) if missing. */
  static CqlSession connect(String keyspace) {
    String[] hostPort = System.getProperty("tributary.it.cassandra", "127.0.0.1:9142").split(":");
    // Schema changes on a loaded CI machine take longer than the driver's 2 s default.
    CqlSession session = CqlSession.builder()
        .withConfigLoader(DriverConfigLoader.programmaticBuilder()
            .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(60)).build())
        .addContactPoint(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])))
        .withLocalDatacenter("datacenter1")
        .build();
    session.execute("CREATE KEYSPACE IF NOT EXISTS " + keyspace
        + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    return session;
  }
}
