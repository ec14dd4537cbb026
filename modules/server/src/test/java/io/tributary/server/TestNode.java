package io.tributary.server;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.config.OptionsMap;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * A Tributary node inside the test JVM, against the Cassandra that {@code deploy/test.sh} started
 * (system property {@code tributary.it.cassandra}), with keyspaces of its own per test class.
 */
final class TestNode implements AutoCloseable {

  static final String ACCESS_KEY = "AKIATRIBUTARYLOCAL01";
  private static final ObjectMapper SHARDS_JSON = new ObjectMapper();
  static final String SECRET_KEY = "tributary-local-secret-do-not-use-in-production";

  final ActorSystem<Void> system;
  final Node node;
  final int port;

  private TestNode(ActorSystem<Void> system, Node node, int port) {
    this.system = system;
    this.node = node;
    this.port = port;
  }

  static String cassandra() {
    return System.getProperty("tributary.it.cassandra", "127.0.0.1:9142");
  }

  /** Drops the keyspaces of a test class, so a run starts from nothing even on a reused Cassandra. */
  static void dropKeyspaces(String prefix) {
    String[] hostPort = cassandra().split(":");
    // Driver defaults, not application.conf: its contact point (9042) is the development Cassandra.
    try (CqlSession session = CqlSession.builder()
        .withConfigLoader(DriverConfigLoader.fromMap(OptionsMap.driverDefaults()))
        .addContactPoint(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])))
        .withLocalDatacenter("datacenter1").build()) {
      for (String ks : new String[] {prefix, prefix + "_journal", prefix + "_snapshot"}) {
        session.execute(com.datastax.oss.driver.api.core.cql.SimpleStatement.newInstance("DROP KEYSPACE IF EXISTS " + ks)
            .setTimeout(Duration.ofSeconds(60)));
      }
    }
  }

  static TestNode start(String keyspacePrefix, int port) {
    return start(keyspacePrefix, port, Map.of());
  }

  static TestNode start(String keyspacePrefix, int port, Map<String, Object> settings) {
    Config overrides = ConfigFactory.parseMap(settings).withFallback(ConfigFactory.parseMap(Map.of(
        "tributary.http.port", port,
        "tributary.cassandra.keyspace", keyspacePrefix,
        "tributary.cassandra.autocreate", "on",
        "tributary.runtime.work-dir", "target/runtime-" + keyspacePrefix,
        "pekko.persistence.cassandra.journal.keyspace", keyspacePrefix + "_journal",
        "pekko.persistence.cassandra.snapshot.keyspace", keyspacePrefix + "_snapshot",
        "pekko.remote.artery.canonical.port", 0,
        "pekko.coordinated-shutdown.exit-jvm", "off",
        "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook", "off")))
        .withFallback(ConfigFactory.parseString("datastax-java-driver.basic.contact-points = [\"" + cassandra() + "\"]\n"
            // Tests run in their module's directory, not the root where deploy/runtimes.sh installs Node 22 and 24.
            + "tributary.runtime.interpreters.nodejs = [\"node\", \"" + NodeProcess.projectRoot()
            + "/.tributary/runtimes/node-*/node_modules/node-linux-*/bin/node\"]"))
        .withFallback(ConfigFactory.load());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "tributary", overrides);
    try {
      Node node = Node.start(system).toCompletableFuture().get(120, java.util.concurrent.TimeUnit.SECONDS);
      return new TestNode(system, node, port);
    } catch (Exception e) {
      system.terminate();
      throw new IllegalStateException("Node did not start", e);
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  URI endpoint() {
    return URI.create("http://127.0.0.1:" + port);
  }

  LambdaClient client() {
    return clientBuilder().build();
  }

  /** A GET of one of Tributary's own paths, SigV4-signed as the CLI or an SDK would sign it; the body. */
  String signedGet(String path) throws Exception {
    var request = software.amazon.awssdk.http.SdkHttpRequest.builder()
        .method(software.amazon.awssdk.http.SdkHttpMethod.GET).uri(URI.create(endpoint() + path)).build();
    var signed = software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner.create().sign(r -> r
        .identity(software.amazon.awssdk.identity.spi.AwsCredentialsIdentity.create(ACCESS_KEY, SECRET_KEY))
        .request(request)
        .putProperty(software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda")
        .putProperty(software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner.REGION_NAME, "us-east-1"));
    var builder = java.net.http.HttpRequest.newBuilder(URI.create(endpoint() + path)).GET();
    signed.request().headers().forEach((name, values) -> {
      if (!name.equalsIgnoreCase("host")) {
        values.forEach(v -> builder.header(name, v));
      }
    });
    var response = java.net.http.HttpClient.newHttpClient().send(builder.build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("GET " + path + ": " + response.statusCode() + " " + response.body());
    }
    return response.body();
  }

  /**
   * The {@code Shards} of an event source mapping's operations view, asked until {@code done}
   * holds or 30 s have passed; the last answer either way.
   */
  JsonNode awaitShards(String uuid, Predicate<JsonNode> done) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    String path = "/tributary/event-source-mappings/" + uuid + "/shards";
    JsonNode shards = SHARDS_JSON.readTree(signedGet(path)).get("Shards");
    while (!done.test(shards) && System.nanoTime() < deadline) {
      NodeProcess.sleep(200);
      shards = SHARDS_JSON.readTree(signedGet(path)).get("Shards");
    }
    return shards;
  }

  /** The AWS SDK's EventBridge client, signed with the node's credentials. */
  software.amazon.awssdk.services.eventbridge.EventBridgeClient events() {
    return software.amazon.awssdk.services.eventbridge.EventBridgeClient.builder()
        .endpointOverride(endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
        .build();
  }

  LambdaClient clientWithoutRetries() {
    return clientBuilder().overrideConfiguration(o -> o.retryPolicy(
        software.amazon.awssdk.core.retry.RetryPolicy.none())).build();
  }

  private software.amazon.awssdk.services.lambda.LambdaClientBuilder clientBuilder() {
    return LambdaClient.builder()
        .endpointOverride(endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)));
  }

  @Override
  public void close() {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(60, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("Node did not stop", e);
    }
  }
}
