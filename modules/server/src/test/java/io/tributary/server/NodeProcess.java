package io.tributary.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.retry.RetryPolicy;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.LambdaClientBuilder;

/**
 * A Tributary node as its own OS process ({@link Main} on the test classpath), so a test can kill
 * it with SIGKILL or stop it with SIGTERM as an operator would. Its output goes to {@code log}.
 */
final class NodeProcess implements AutoCloseable {

  final int httpPort;
  final int arteryPort;
  final Path log;
  private final List<String> command;
  private Process process;

  NodeProcess(int httpPort, int arteryPort, List<Integer> seedArteryPorts, String keyspacePrefix, Path log,
      Map<String, String> extraConfig) {
    this.httpPort = httpPort;
    this.arteryPort = arteryPort;
    this.log = log;
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-XX:+UseSerialGC",
        "-Dlogback.configurationFile=" + projectRoot().resolve("config/logback.xml"),
        "-Dtributary.http.port=" + httpPort,
        "-Dpekko.remote.artery.canonical.port=" + arteryPort,
        "-Dtributary.cassandra.keyspace=" + keyspacePrefix,
        "-Dtributary.cassandra.autocreate=on",
        "-Dtributary.runtime.work-dir=" + log.getParent().resolve("runtime-" + httpPort).toAbsolutePath(),
        "-Dpekko.persistence.cassandra.journal.keyspace=" + keyspacePrefix + "_journal",
        "-Dpekko.persistence.cassandra.snapshot.keyspace=" + keyspacePrefix + "_snapshot",
        "-Ddatastax-java-driver.basic.contact-points.0=" + TestNode.cassandra()));
    for (int i = 0; i < seedArteryPorts.size(); i++) {
      cmd.add("-Dpekko.cluster.seed-nodes." + i + "=pekko://tributary@127.0.0.1:" + seedArteryPorts.get(i));
    }
    extraConfig.forEach((key, value) -> cmd.add("-D" + key + "=" + value));
    cmd.addAll(List.of("-cp", testClasspath(), Main.class.getName()));
    this.command = List.copyOf(cmd);
  }

  static Path projectRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isRegularFile(dir.resolve("config/logback.xml"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("no config/logback.xml above " + Path.of("").toAbsolutePath());
    }
    return dir;
  }

  /** The classpath failsafe gives the tests, which holds the server and all its dependencies. */
  private static String testClasspath() {
    String surefire = System.getProperty("surefire.test.class.path");
    return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
  }

  NodeProcess start() {
    try {
      Files.createDirectories(log.getParent());
      process = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void awaitReady(Duration timeout) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("node on port " + httpPort + " exited with " + process.exitValue() + "; see " + log);
      }
      if (health("ready", http) == 200) {
        return;
      }
      sleep(250);
    }
    throw new IllegalStateException("node on port " + httpPort + " not ready after " + timeout + "; see " + log);
  }

  /** Status of {@code /health/<which>}, or -1 when nothing answers. */
  int health(String which, HttpClient http) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create(endpoint() + "/health/" + which)).timeout(Duration.ofSeconds(2))
          .build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  URI endpoint() {
    return URI.create("http://127.0.0.1:" + httpPort);
  }

  LambdaClient client() {
    return clientBuilder().build();
  }

  /** Every failure reaches the test, as it reached the client. */
  LambdaClient clientWithoutRetries() {
    return clientBuilder().overrideConfiguration(o -> o.retryPolicy(RetryPolicy.none())).build();
  }

  private LambdaClientBuilder clientBuilder() {
    return LambdaClient.builder().endpointOverride(endpoint()).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create(TestNode.ACCESS_KEY, TestNode.SECRET_KEY)));
  }

  software.amazon.awssdk.services.eventbridge.EventBridgeClient events() {
    return software.amazon.awssdk.services.eventbridge.EventBridgeClient.builder().endpointOverride(endpoint())
        .region(Region.US_EAST_1).credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create(TestNode.ACCESS_KEY, TestNode.SECRET_KEY))).build();
  }

  /** Every failure reaches the test, as it reached the client. */
  software.amazon.awssdk.services.eventbridge.EventBridgeClient eventsWithoutRetries() {
    return software.amazon.awssdk.services.eventbridge.EventBridgeClient.builder().endpointOverride(endpoint())
        .region(Region.US_EAST_1).credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create(TestNode.ACCESS_KEY, TestNode.SECRET_KEY)))
        .overrideConfiguration(o -> o.retryPolicy(RetryPolicy.none())).build();
  }

  /** SIGKILL: no shutdown hook, no hand-off, no leaving the cluster. */
  void kill() {
    process.destroyForcibly();
    awaitExit(Duration.ofSeconds(30));
  }

  /** SIGTERM, as systemd or Ctrl-C would: returns the exit status. */
  int terminate(Duration timeout) {
    process.destroy();
    return awaitExit(timeout);
  }

  private int awaitExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("node on port " + httpPort + " still running after " + timeout + "; see " + log);
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  boolean isAlive() {
    return process != null && process.isAlive();
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    if (isAlive()) {
      process.destroyForcibly();
    }
  }
}
