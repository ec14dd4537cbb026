package io.tributary.server;

import com.datastax.oss.driver.api.core.CqlSession;
import com.typesafe.config.Config;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.stream.connectors.cassandra.CqlSessionProvider;
import org.apache.pekko.stream.connectors.cassandra.DefaultSessionProvider;
import org.apache.pekko.stream.connectors.cassandra.DriverConfigLoaderFromConfig;
import scala.concurrent.ExecutionContext;
import scala.concurrent.Future;
import scala.jdk.javaapi.FutureConverters;

/**
 * Builds the node's Cassandra session as the plugin's {@link DefaultSessionProvider} does, from the
 * {@code datastax-java-driver} config, and gives the driver the node's meter registry
 * ({@link NodeMetrics}): the driver's Micrometer factory
 * ({@code advanced.metrics.factory.class = MicrometerMetricsFactory}) reports the session and node
 * metrics listed in {@code advanced.metrics} there. Set as
 * {@code pekko.persistence.cassandra.session-provider}, so the journal, the snapshot store and
 * Tributary's stores share this one session.
 *
 * <p>With Pekko Discovery ({@code service-discovery.name} set) the plugin's provider builds the
 * session, and the driver reports to Micrometer's global registry, which {@code /metrics} does not show.
 */
public final class MeteredSessionProvider implements CqlSessionProvider {

  private final ActorSystem system;
  private final Config config;

  public MeteredSessionProvider(ActorSystem system, Config config) {
    this.system = system;
    this.config = config;
  }

  @Override
  public Future<CqlSession> connect(ExecutionContext ec) {
    if (!config.getString("service-discovery.name").isEmpty()) {
      return new DefaultSessionProvider(system, config).connect(ec);
    }
    return FutureConverters.asScala(CqlSession.builder()
        .withConfigLoader(DriverConfigLoaderFromConfig.fromConfig(CqlSessionProvider.driverConfig(system, config)))
        .withMetricRegistry(NodeMetrics.get(Adapter.toTyped(system)).registry())
        .buildAsync());
  }
}
