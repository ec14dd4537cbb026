package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * A journal written by release 0.1 replays on this code to exactly the state it had: persisted
 * names (entity type keys in persistence ids, serializer id and manifests) and the persisted
 * shapes cannot change without this test failing, whatever the classes are called or where they
 * live.
 *
 * <p>The fixture under {@code src/test/resources/journal/release-0.1/} holds real rows of that
 * release's journal ({@code messages.jsonl}) and snapshot store ({@code snapshots.jsonl}), and what
 * its API answered at the end ({@code expected.json}); {@link JournalFixtureWriter} wrote them and
 * says what they cover. The test:
 *
 * <ol>
 *   <li>starts a node on empty keyspaces and asks for a function that does not exist: its entity
 *       recovers, which makes the journal and the snapshot store create their tables;</li>
 *   <li>stops it, and inserts the fixture's rows with the Cassandra driver;</li>
 *   <li>starts a node again, asks every read of {@code expected.json} through the signed Lambda
 *       API, each entity recovering from the rows on its first, and compares status and body
 *       (all but what the node adds from itself: GetFunction's {@code Code.Location}, a URL signed
 *       for this node, and {@code RuntimeVersionConfig}, its interpreter's version);</li>
 *   <li>checks that ListFunctions lists the functions again: its rows are not journal rows but a
 *       read model, which each function's entity rewrites once it has recovered.</li>
 * </ol>
 */
class JournalReplayIT {

  static final String LIST_FUNCTIONS = "/2015-03-31/functions/?FunctionVersion=ALL";
  private static final String KEYSPACE = "it_journal_replay";
  private static final String FIXTURE = "/journal/release-0.1/";
  /** The reads the fixture must answer, so that a fixture written anew cannot leave one out. */
  private static final Set<String> OPERATIONS = Set.of("GetFunction", "ListVersionsByFunction", "ListAliases",
      "GetFunctionConcurrency", "GetPolicy", "ListTags", "GetFunctionEventInvokeConfig", "GetAsyncQueue",
      "GetEventSourceMapping");
  private static JsonNode expected;
  private static TestNode node;
  private static SignedHttp http;

  @BeforeAll
  static void replay() throws Exception {
    expected = resource("expected.json");
    TestNode.dropKeyspaces(KEYSPACE);
    int port = TestNode.freePort();
    try (TestNode empty = TestNode.start(KEYSPACE, port)) {
      assertEquals(404, new SignedHttp(empty.endpoint()).send("GET", "/2015-03-31/functions/no-such-function",
          (String) null).statusCode());
    }
    try (CqlSession cql = JournalRows.session()) {
      JournalRows.insert(cql, KEYSPACE + "_journal", "messages", JournalRows.read(FIXTURE + "messages.jsonl"));
      JournalRows.insert(cql, KEYSPACE + "_snapshot", "snapshots", JournalRows.read(FIXTURE + "snapshots.jsonl"));
    }
    node = TestNode.start(KEYSPACE, port);
    http = new SignedHttp(node.endpoint());
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void everyEntityAnswersAsItDidWhenTheJournalWasWritten() {
    Set<String> recorded = new TreeSet<>();
    expected.get("answers").forEach(a -> recorded.add(a.get("operation").asText()));
    assertTrue(recorded.containsAll(OPERATIONS), "expected.json answers " + recorded + ", not all of " + OPERATIONS);

    List<Executable> checks = new ArrayList<>();
    for (JsonNode answer : expected.get("answers")) {
      String path = answer.get("path").asText();
      HttpResponse<String> response = get(path);
      String what = answer.get("operation").asText() + " " + path;
      checks.add(() -> assertEquals(answer.get("status").asInt(), response.statusCode(), what + ": " + response.body()));
      checks.add(() -> assertEquals(answer.get("body"), comparable(JournalRows.JSON.readTree(response.body())), what));
    }
    assertAll(checks);
  }

  @Test
  void recoveredFunctionsAreListedAgain() throws Exception {
    JsonNode listed = expected.get("ListFunctions");
    Set<String> names = new LinkedHashSet<>();
    listed.get("Functions").forEach(f -> names.add(f.get("FunctionName").asText()));
    assertEquals(Set.of("fixture-fn", "fixture-async", "fixture-reborn", "fixture-snapshot"), names);
    for (String name : names) {
      assertEquals(200, get("/2015-03-31/functions/" + name).statusCode(), name);
    }
    // The entity writes its row after recovery, not before it answers: it may be a moment behind.
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    JsonNode list = comparable(JournalRows.JSON.readTree(get(LIST_FUNCTIONS).body()));
    while (!list.equals(listed) && System.nanoTime() < deadline) {
      Thread.sleep(100);
      list = comparable(JournalRows.JSON.readTree(get(LIST_FUNCTIONS).body()));
    }
    assertEquals(listed, list);
  }

  /**
   * The body as the fixture keeps it: without what the answering node adds from itself rather than
   * from the journal, GetFunction's Code.Location (signed for one node's address), every
   * configuration's RuntimeVersionConfig (the interpreter version installed on that node), and the
   * async queue view's live figures (what waits for concurrency or a retry now, the drain rate of
   * the last 10 s, the throttles since the partitions started: memory, never journaled).
   */
  static JsonNode comparable(JsonNode body) {
    JsonNode copy = body.deepCopy();
    if (copy.path("Code") instanceof ObjectNode code) {
      code.remove("Location");
    }
    if (copy instanceof ObjectNode view && view.has("ApproximateDepth")) {
      view.remove(List.of("WaitingForConcurrency", "WaitingForRetry", "DrainRate", "Throttles"));
    }
    for (JsonNode configuration : copy.findParents("RuntimeVersionConfig")) {
      ((ObjectNode) configuration).remove("RuntimeVersionConfig");
    }
    return copy;
  }

  private static HttpResponse<String> get(String path) {
    try {
      return http.send("GET", path, (String) null);
    } catch (Exception e) {
      throw new IllegalStateException("GET " + path, e);
    }
  }

  private static JsonNode resource(String name) {
    try (InputStream in = JournalReplayIT.class.getResourceAsStream(FIXTURE + name)) {
      if (in == null) {
        throw new IllegalStateException("No fixture " + FIXTURE + name);
      }
      return JournalRows.JSON.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
