package io.tributary.cluster.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.datastax.oss.driver.api.core.CqlSession;
import io.tributary.api.FunctionLog;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link LogStore} against a real Cassandra: what a function prints is what the Logs API reads back. */
class LogStoreIT {

  private static final String KEYSPACE = "it_logstore";
  private static CqlSession session;
  private static LogStore store;

  @BeforeAll
  static void connect() {
    session = TestCassandra.connect(KEYSPACE);
    LogStore.tableDefinitions(KEYSPACE).forEach(session::execute);
    store = new LogStore(session, KEYSPACE, Duration.ofDays(1), Duration.ofHours(1), 1 << 20);
  }

  @AfterAll
  static void close() {
    store.close();
    session.close();
  }

  @Test
  void linesComeBackExactlyAsPrintedWhateverCharactersTheyHold() throws Exception {
    String group = "/aws/lambda/printer-" + System.nanoTime();
    long now = System.currentTimeMillis();
    store.accept(new FunctionLog(group, "2026/11/22/[$LATEST]a1", now, "START RequestId: r1 Version: $LATEST\n"
        + "says \"hi\"\tand \\ back, é and ☃ and \u0001\n\n"
        + "END RequestId: r1\nREPORT RequestId: r1\tDuration: 1.25 ms\tBilled Duration: 2 ms\n"));
    store.flush().toCompletableFuture().get(30, TimeUnit.SECONDS);

    List<String> all = store.events(group, now - 1, now + 1, "", List.of(), "").toCompletableFuture()
        .get(30, TimeUnit.SECONDS).stream().map(LogStore.Event::message).toList();
    assertEquals(List.of("START RequestId: r1 Version: $LATEST", "says \"hi\"\tand \\ back, é and ☃ and \u0001",
        "END RequestId: r1", "REPORT RequestId: r1\tDuration: 1.25 ms\tBilled Duration: 2 ms"), all);
    assertEquals(List.of("says \"hi\"\tand \\ back, é and ☃ and \u0001"),
        store.events(group, now - 1, now + 1, "", List.of(), "\"hi\"").toCompletableFuture()
            .get(30, TimeUnit.SECONDS).stream().map(LogStore.Event::message).toList());
  }
}
