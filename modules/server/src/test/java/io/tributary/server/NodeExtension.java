package io.tributary.server;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * One Tributary node for a test class, against the Cassandra of {@code deploy/test.sh}:
 *
 * <pre>
 * &#64;RegisterExtension
 * static final NodeExtension NODE = new NodeExtension("it_orders", Map.of("tributary.mappings.refresh", "500ms"));
 * </pre>
 *
 * Before the class's own {@code @BeforeAll} methods it drops the class's keyspaces (a run starts from
 * nothing, even on a reused Cassandra) and starts the node on a free port; after its {@code @AfterAll}
 * methods it closes, newest first, what the class handed to {@link #closeAfter}, then the node's
 * Lambda client, then the node, and drops the keyspaces again. A failure to close one does not keep
 * the others open. A test that
 * restarts the node ({@link #restart}) finds the new one in {@link #node()}.
 */
final class NodeExtension implements BeforeAllCallback, AfterAllCallback {

  private final String keyspace;
  private final Map<String, Object> settings;
  private final Deque<AutoCloseable> resources = new ArrayDeque<>();
  private TestNode node;
  private LambdaClient lambda;

  NodeExtension(String keyspace) {
    this(keyspace, Map.of());
  }

  NodeExtension(String keyspace, Map<String, Object> settings) {
    this.keyspace = keyspace;
    this.settings = settings;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    TestNode.dropKeyspaces(keyspace);
    node = TestNode.start(keyspace, TestNode.freePort(), settings);
    lambda = node.client();
  }

  /** Stops the node and starts it again on the same port and keyspaces, with a new Lambda client. */
  void restart() {
    lambda.close();
    node.close();
    node = TestNode.start(keyspace, node.port, settings);
    lambda = node.client();
  }

  TestNode node() {
    return node;
  }

  /** The AWS SDK's Lambda client, signed with the node's credentials. */
  LambdaClient lambda() {
    return lambda;
  }

  /** {@code resource}, closed after the class's tests (before the node). */
  <T extends AutoCloseable> T closeAfter(T resource) {
    resources.push(resource);
    return resource;
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    Exception first = null;
    resources.addLast(lambda);
    resources.addLast(node);
    while (!resources.isEmpty()) {
      AutoCloseable resource = resources.pop();
      try {
        if (resource != null) {
          resource.close();
        }
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    dropKeyspaces(keyspace);
    if (first != null) {
      throw first;
    }
  }

  /**
   * Every class's keyspaces go when it ends: the test Cassandra is shared by the whole run, and each
   * table costs it heap (512 MB ran out at about 110 test classes' worth of tables).
   */
  static void dropKeyspaces(String keyspace) {
    try {
      TestNode.dropKeyspaces(keyspace);
    } catch (RuntimeException e) {
      System.err.println("Could not drop the keyspaces of " + keyspace + " after the class: " + e);
    }
  }
}
