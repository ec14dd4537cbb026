package io.tributary.loadtest;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.uuid.Uuids;
import io.tributary.cluster.async.StickyPartitions;
import io.tributary.server.Node;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.stream.connectors.cassandra.CassandraSessionSettings;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * Durable Event invokes accepted per second, side by side with the ceiling: a bare Pekko HTTP route
 * in the same JVM that writes, with the same driver, the rows Tributary writes per event with the
 * same batching ({@link Ceiling}); and with the earlier, smaller ceiling ("accept-only": the payload
 * row and a journal row per event, nothing else). Rounds run the sides in turn, in reverse order
 * every other round (an even number of rounds mirrors the ceiling and Tributary exactly); prints
 * every run, the medians and their ratios. During Tributary's runs, probe events (one every 100 ms,
 * signed bytes on a connection of their own) measure the delay from 202 to the start of execution,
 * read by the in-process handler on the JVM's clock.
 *
 * <p>Arguments (system properties): bench.cassandra (host:port), bench.rounds (6), bench.seconds
 * (10), bench.warmup (5), bench.connections (8), bench.jit-warmup (30).
 */
public final class AsyncBenchmark {

  private static final byte[] PAYLOAD = "{\"order\":1}".getBytes(StandardCharsets.UTF_8);
  private static final String SINK = """
      package bench;
      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;
      import java.util.Map;
      public class Sink implements RequestHandler<Map<String, Object>, String> {
        public String handleRequest(Map<String, Object> event, Context context) {
          if (event.containsKey("probe")) {
            System.getProperties().put("bench.exec." + context.getAwsRequestId(), Long.toString(System.nanoTime()));
          }
          return "ok";
        }
      }
      """;

  public static void main(String[] args) throws Exception {
    int rounds = Integer.getInteger("bench.rounds", 6);
    int seconds = Integer.getInteger("bench.seconds", 10);
    int warmup = Integer.getInteger("bench.warmup", 5);
    int connections = Integer.getInteger("bench.connections", 8);
    int jitWarmup = Integer.getInteger("bench.jit-warmup", 30);
    ActorSystem<Void> system = InvokeBenchmark.nodeSystem();
    Node node = Node.start(system).toCompletableFuture().get(120, TimeUnit.SECONDS);
    // The node's own session (connection pool and settings), so both sides write through the same driver.
    CqlSession session = CassandraSessionRegistry.get(system)
        .sessionFor(CassandraSessionSettings.create("pekko.persistence.cassandra")).underlying()
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    try (LambdaClient lambda = LambdaClient.builder().endpointOverride(URI.create(node.endpoint()))
             .region(Region.US_EAST_1).credentialsProvider(StaticCredentialsProvider.create(
                 AwsBasicCredentials.create("AKIATRIBUTARYLOCAL01", "tributary-local-secret-do-not-use-in-production")))
             .build()) {
      new Ceiling(session, false).bind(system, 9501);
      new Ceiling(session, true).bind(system, 9502);
      URI tributary = URI.create(node.endpoint());
      URI ceiling = URI.create("http://127.0.0.1:9501");
      URI acceptOnly = URI.create("http://127.0.0.1:9502");
      String function = InvokeBenchmark.create(lambda, "sink-" + Long.toHexString(System.nanoTime()), "java17",
          "bench.Sink", InvokeBenchmark.javaHandler("Sink", SINK), Map.of("TRIBUTARY_JAVA_MODE", "in-process-shared"));
      String path = "/2015-03-31/functions/" + function + "/invocations";
      // Signed anew for every run: a signature more than 5 minutes old is refused, as AWS refuses it.
      Function<URI, byte[]> sign = uri -> InvokeBenchmark.signed(uri, path, "Event", PAYLOAD);

      System.out.printf(Locale.ROOT, "warming the JIT: %d s a side%n", jitWarmup);
      InvokeBenchmark.load("ceiling", ceiling, sign.apply(ceiling), jitWarmup, 0, connections);
      InvokeBenchmark.load("accept-only", acceptOnly, sign.apply(acceptOnly), jitWarmup / 2, 0, connections);
      InvokeBenchmark.load("event", tributary, sign.apply(tributary), jitWarmup, 0, connections);
      List<InvokeBenchmark.Run> runs = new ArrayList<>();
      List<long[]> delays = new ArrayList<>();
      Map<String, URI> sides = Map.of("ceiling", ceiling, "accept-only", acceptOnly, "event", tributary);
      for (int round = 1; round <= rounds; round++) {
        // Cassandra's flushes and compactions of what one side wrote land in the runs after it. Odd
        // rounds run the sides in one order, even rounds in the other, so the ceiling and Tributary
        // stand in mirrored places: each follows accept-only in one round and itself in the next.
        List<String> order = round % 2 == 1 ? List.of("ceiling", "accept-only", "event")
            : List.of("event", "accept-only", "ceiling");
        System.out.printf(Locale.ROOT, "round %d of %d: %s%n", round, rounds, String.join(", ", order));
        Map<String, Long> before = operations(session);
        for (String side : order) {
          URI endpoint = sides.get(side);
          Probe probe = side.equals("event") ? new Probe(tributary, function) : null;
          if (probe != null) {
            probe.start();
          }
          runs.add(InvokeBenchmark.load(side, endpoint, sign.apply(endpoint), warmup, seconds, connections));
          before = printOperations(session, before, runs.get(runs.size() - 1), warmup + seconds);
          if (probe != null) {
            delays.addAll(probe.stopAndCollect());
          }
        }
      }
      double ceilingRps = InvokeBenchmark.median(runs, "ceiling", InvokeBenchmark.Run::requestsPerSecond);
      double eventRps = InvokeBenchmark.median(runs, "event", InvokeBenchmark.Run::requestsPerSecond);
      System.out.printf(Locale.ROOT, "%nmedians over %d rounds, %d s each after %d s warm-up, %d connections%n",
          rounds, seconds, warmup, connections);
      double ceilingCpu = InvokeBenchmark.median(runs, "ceiling", InvokeBenchmark.Run::cpuMsPerRequest);
      for (String side : List.of("ceiling", "accept-only", "event")) {
        double rps = InvokeBenchmark.median(runs, side, InvokeBenchmark.Run::requestsPerSecond);
        double cpu = InvokeBenchmark.median(runs, side, InvokeBenchmark.Run::cpuMsPerRequest);
        System.out.printf(Locale.ROOT, "%-11s %8.0f accepted/s  p50 %6.2f ms  p99 %7.2f ms  ratio %.2f"
            + "  cpu %.3f ms/event (ceiling's ÷ this %.2f; Cassandra %.3f)%n", side, rps,
            InvokeBenchmark.median(runs, side, InvokeBenchmark.Run::p50Ms),
            InvokeBenchmark.median(runs, side, InvokeBenchmark.Run::p99Ms), rps / ceilingRps, cpu, ceilingCpu / cpu,
            InvokeBenchmark.median(runs, side, InvokeBenchmark.Run::cassandraCpuMsPerRequest));
      }
      long[] after202 = delays.stream().mapToLong(d -> d[0]).sorted().toArray();
      long[] afterSend = delays.stream().mapToLong(d -> d[1]).sorted().toArray();
      System.out.printf(Locale.ROOT, "202 to execution under that load (%d probes): p50 %.1f ms, p99 %.1f ms"
          + " (from sending the invoke: p50 %.1f ms, p99 %.1f ms)%n", after202.length, percentileMs(after202, 0.5),
          percentileMs(after202, 0.99), percentileMs(afterSend, 0.5), percentileMs(afterSend, 0.99));
      System.out.printf(Locale.ROOT, "ratio event/ceiling: %.2f (event/accept-only: %.2f); median of the rounds'"
          + " own ratios: %.2f%n", eventRps / ceilingRps,
          eventRps / InvokeBenchmark.median(runs, "accept-only", InvokeBenchmark.Run::requestsPerSecond),
          InvokeBenchmark.median(roundRatios(runs)));
    } finally {
      system.terminate();
    }
  }

  /** Per round, Tributary's accepted/s ÷ the ceiling's in the same round. */
  private static List<Double> roundRatios(List<InvokeBenchmark.Run> runs) {
    List<Double> ratios = new ArrayList<>();
    Map<String, Double> round = new java.util.HashMap<>();
    for (InvokeBenchmark.Run run : runs) {
      round.put(run.side(), run.requestsPerSecond());
      if (round.size() == 3) {
        ratios.add(round.get("event") / round.get("ceiling"));
        round.clear();
      }
    }
    return ratios;
  }

  /**
   * Cassandra's count of local writes and reads so far, per table (a batch into one partition counts
   * once), from its virtual tables: what each side asks of the database, beside its CPU.
   */
  static Map<String, Long> operations(CqlSession session) {
    Map<String, Long> counts = new TreeMap<>();
    for (String kind : List.of("write", "read")) {
      for (var row : session.execute("SELECT keyspace_name, table_name, count FROM system_views.local_" + kind
          + "_latency")) {
        if (!row.getString("keyspace_name").startsWith("system") && row.getLong("count") > 0) {
          counts.put(kind + " " + row.getString("keyspace_name") + "." + row.getString("table_name"),
              row.getLong("count"));
        }
      }
    }
    return counts;
  }

  /** Prints the operations per event since {@code before} (the run and its warm-up); returns the counts now. */
  private static Map<String, Long> printOperations(CqlSession session, Map<String, Long> before,
                                                   InvokeBenchmark.Run run, int seconds) {
    Map<String, Long> now = operations(session);
    double events = run.requestsPerSecond() * seconds;
    StringBuilder line = new StringBuilder("    per event:");
    now.forEach((table, count) -> {
      double perEvent = (count - before.getOrDefault(table, 0L)) / events;
      if (perEvent >= 0.001) {
        line.append(String.format(Locale.ROOT, " %s %.3f", table, perEvent));
      }
    });
    System.out.println(line);
    return now;
  }

  private static double percentileMs(long[] sortedNanos, double q) {
    return sortedNanos.length == 0 ? Double.NaN
        : sortedNanos[(int) Math.min(sortedNanos.length - 1, q * sortedNanos.length)] / 1e6;
  }

  /**
   * One Event invoke every 100 ms, each remembered with the time its 202 arrived. Sent as signed
   * bytes on a connection of its own, like the load: through the SDK, whose code is never hot at
   * ten calls a second, the probe took a tenth of the CPU of Tributary's runs from Tributary.
   */
  static final class Probe extends Thread {
    private final URI endpoint;
    private final byte[] request;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Map<String, Long> acceptedAt = new ConcurrentHashMap<>();
    private final Map<String, Long> sentAt = new ConcurrentHashMap<>();

    Probe(URI endpoint, String function) {
      this.endpoint = endpoint;
      this.request = InvokeBenchmark.signed(endpoint, "/2015-03-31/functions/" + function + "/invocations", "Event",
          "{\"probe\":true}".getBytes(StandardCharsets.UTF_8));
      setDaemon(true);
    }

    @Override
    public void run() {
      InvokeBenchmark.Connection connection = null;
      while (running.get()) {
        try {
          if (connection == null) {
            connection = new InvokeBenchmark.Connection(endpoint);
          }
          long sent = System.nanoTime();
          if (connection.exchange(request) && connection.requestId != null) {
            acceptedAt.put(connection.requestId, System.nanoTime());
            sentAt.put(connection.requestId, sent);
          }
          Thread.sleep(100);
        } catch (InterruptedException e) {
          return;
        } catch (IOException e) {
          connection = null;
        }
      }
    }

    /**
     * Delays of the probes that ran within 60 s of the end of the run, from their 202 (0 when the
     * function had started before the 202 reached the client) and from when they were sent.
     */
    List<long[]> stopAndCollect() throws InterruptedException {
      running.set(false);
      join(10_000);
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      Set<String> waiting = ConcurrentHashMap.newKeySet();
      waiting.addAll(acceptedAt.keySet());
      List<long[]> delays = new ArrayList<>();
      while (!waiting.isEmpty() && System.nanoTime() < deadline) {
        for (String id : new ArrayList<>(waiting)) {
          String ran = System.getProperty("bench.exec." + id);
          if (ran != null) {
            long started = Long.parseLong(ran);
            delays.add(new long[] {Math.max(0, started - acceptedAt.get(id)), started - sentAt.get(id)});
            waiting.remove(id);
          }
        }
        Thread.sleep(50);
      }
      if (!waiting.isEmpty()) {
        System.out.printf(Locale.ROOT, "  %d probes had not run 60 s after the run%n", waiting.size());
      }
      return delays;
    }
  }

  /**
   * The ceiling: the rows Tributary writes per event, with its batching, written by the driver
   * directly from a bare route. Before the 202: the payload row, then the event in its queue
   * partition's next journal row (the partition chosen as Tributary chooses it, {@link
   * StickyPartitions}; one row per group commit of at most 32 events, the next commit starting when
   * the previous one is written). After it: the event's outcome joins the partition's
   * next journal row (a commit of outcomes alone waits 10 ms for accepts to share it), its lookup row
   * is written in a single-partition batch per 200 ms or 32 outcomes, and its log text in one row per
   * second. {@code acceptOnly} is the earlier ceiling, kept for comparison: the payload row, then a
   * journal row of its own per event, and nothing after the 202.
   */
  static final class Ceiling extends AllDirectives {
    private static final int PARTITIONS = 8;
    private static final int BATCH = 32;
    /** AsyncQueueEntity.FINISH_DELAY. */
    private static final long FINISH_DELAY_MS = 10;
    /** What one event takes in a journal row, accepted or finished (EventsCommitted.v1 as CBOR). */
    private static final int EVENT_BYTES = 88;
    /** What one invocation's START, END and REPORT lines take in a log row. */
    private static final int LOG_BYTES = 250;
    private final CqlSession session;
    private final boolean acceptOnly;
    private final PreparedStatement payloadRow;
    private final PreparedStatement journalRow;
    private final PreparedStatement outcomeRow;
    private final PreparedStatement logRow;
    private final String writer = UUID.randomUUID().toString();
    private final Partition[] partitions = new Partition[PARTITIONS];
    /** Tributary's choice of partition: a run of accepts as long as a partition's in-flight limit on each. */
    private final StickyPartitions sticky = new StickyPartitions(PARTITIONS, 8);
    private final AtomicLong logBytes = new AtomicLong();
    private final ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(r -> {
          Thread t = new Thread(r, "ceiling-timer");
          t.setDaemon(true);
          return t;
        });

    Ceiling(CqlSession session, boolean acceptOnly) {
      this.session = session;
      this.acceptOnly = acceptOnly;
      this.payloadRow = session.prepare("INSERT INTO bench.event_payloads (request_id, payload) VALUES (?, ?)"
          + " USING TTL 25200");
      this.journalRow = session.prepare("INSERT INTO bench_journal.messages (persistence_id, partition_nr,"
          + " sequence_nr, timestamp, timebucket, writer_uuid, ser_id, ser_manifest, event_manifest, event, tags)"
          + " VALUES (?, 0, ?, ?, ?, ?, 7302, 'EventsCommitted.v1', '', ?, {})");
      this.outcomeRow = session.prepare("INSERT INTO bench.event_outcomes_by_hour (function_name, partition, hour,"
          + " request_id, condition, attempts, finished_at) VALUES (?, ?, ?, ?, 'Success', 1, ?) USING TTL 86400");
      this.logRow = session.prepare("INSERT INTO bench.function_logs (log_group, day, written, log_stream, events)"
          + " VALUES ('/aws/lambda/ceiling', '2026-11-23', ?, 'ceiling', ?) USING TTL 1209600");
      String side = acceptOnly ? "accept-only" : "ceiling";
      for (int i = 0; i < PARTITIONS; i++) {
        partitions[i] = new Partition("AsyncQueue|" + side + "#" + i, i);
      }
      if (!acceptOnly) {
        // Every 2 ms, so outcomes wait 10 to 12 ms, close to Tributary's timer of exactly 10 ms.
        timer.scheduleWithFixedDelay(() -> {
          for (Partition p : partitions) {
            p.commit(true);
          }
        }, 2, 2, TimeUnit.MILLISECONDS);
        timer.scheduleWithFixedDelay(() -> {
          for (Partition p : partitions) {
            p.recordOutcomes(true);
          }
        }, 200, 200, TimeUnit.MILLISECONDS);
        timer.scheduleWithFixedDelay(() -> {
          long bytes = logBytes.getAndSet(0);
          if (bytes > 0) {
            session.executeAsync(logRow.bind(Uuids.timeBased(), "x".repeat((int) Math.min(bytes, 4_000_000))));
          }
        }, 1, 1, TimeUnit.SECONDS);
      }
    }

    void bind(ActorSystem<?> system, int port) throws Exception {
      Route route = path(segment("2015-03-31").slash("functions").slash(segment()).slash("invocations"), fn ->
          post(() -> entity(Unmarshaller.entityToByteString(), body -> completeWithFuture(accept(body.toArray())))));
      Http.get(system).newServerAt("127.0.0.1", port).bind(route).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private CompletionStage<HttpResponse> accept(byte[] payload) {
      String id = acceptOnly ? UUID.randomUUID().toString() : sticky.requestId("ceiling");
      Partition partition = partitions[sticky.partitionOf(id)];
      return session.executeAsync(payloadRow.bind(id, ByteBuffer.wrap(payload)))
          .thenCompose(rs -> acceptOnly ? partition.writeAlone() : partition.accept(id))
          .thenApply(v -> HttpResponse.create().withStatus(202));
    }

    /** One queue partition's group commits, as AsyncQueueEntity makes them. */
    final class Partition {
      private final String persistenceId;
      private final int number;
      private final AtomicLong sequence = new AtomicLong();
      private final List<Map.Entry<String, CompletableFuture<Void>>> accepting = new ArrayList<>();
      private final List<String> finishing = new ArrayList<>();
      private final List<String> unrecorded = new ArrayList<>();
      private boolean writing;
      /** When the oldest outcome waiting for a commit was decided. */
      private long finishingSince;

      Partition(String persistenceId, int number) {
        this.persistenceId = persistenceId;
        this.number = number;
      }

      CompletionStage<Void> writeAlone() {
        return session.executeAsync(journalRow.bind(persistenceId, sequence.incrementAndGet(), Uuids.timeBased(),
            "20261123T00", writer, ByteBuffer.wrap(new byte[EVENT_BYTES]))).thenApply(rs -> null);
      }

      CompletionStage<Void> accept(String id) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        synchronized (this) {
          accepting.add(Map.entry(id, done));
        }
        commit(false);
        return done;
      }

      /**
       * Writes the next commit unless one is being written; outcomes alone only when {@code timer}
       * finds the oldest has waited {@code FINISH_DELAY_MS}, or when there are {@code BATCH} of them.
       */
      void commit(boolean timer) {
        List<String> finished;
        List<Map.Entry<String, CompletableFuture<Void>>> accepted;
        synchronized (this) {
          boolean due = timer && System.nanoTime() - finishingSince >= FINISH_DELAY_MS * 1_000_000L;
          if (writing || (accepting.isEmpty() && (finishing.isEmpty() || !due && finishing.size() < BATCH))) {
            return;
          }
          writing = true;
          finished = new ArrayList<>(finishing.subList(0, Math.min(BATCH, finishing.size())));
          finishing.subList(0, finished.size()).clear();
          accepted = new ArrayList<>(accepting.subList(0, Math.min(BATCH - finished.size(), accepting.size())));
          accepting.subList(0, accepted.size()).clear();
        }
        session.executeAsync(journalRow.bind(persistenceId, sequence.incrementAndGet(), Uuids.timeBased(),
                "20261123T00", writer, ByteBuffer.wrap(new byte[EVENT_BYTES * (finished.size() + accepted.size())])))
            .whenComplete((rs, failure) -> {
              synchronized (this) {
                writing = false;
                unrecorded.addAll(finished);
                if (finishing.isEmpty() && !accepted.isEmpty()) {
                  finishingSince = System.nanoTime();
                }
                accepted.forEach(a -> finishing.add(a.getKey()));
              }
              accepted.forEach(a -> {
                if (failure == null) {
                  a.getValue().complete(null);
                } else {
                  a.getValue().completeExceptionally(failure);
                }
              });
              logBytes.addAndGet((long) LOG_BYTES * accepted.size());
              recordOutcomes(false);
              commit(false);
            });
      }

      /** Writes the outcomes not yet written, once there are {@code BATCH} or when {@code timer} fires. */
      void recordOutcomes(boolean timer) {
        List<String> batch;
        synchronized (this) {
          if (unrecorded.isEmpty() || !timer && unrecorded.size() < BATCH) {
            return;
          }
          batch = new ArrayList<>(unrecorded);
          unrecorded.clear();
        }
        long now = System.currentTimeMillis();
        BatchStatementBuilder rows =
            BatchStatement.builder(
                DefaultBatchType.UNLOGGED);
        for (String id : batch) {
          rows.addStatement(outcomeRow.bind("ceiling", number, now / 3_600_000L, id,
              Instant.ofEpochMilli(now)));
        }
        session.executeAsync(rows.build());
      }
    }
  }

  private AsyncBenchmark() {}
}
