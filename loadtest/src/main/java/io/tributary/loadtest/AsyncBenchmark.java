package io.tributary.loadtest;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.uuid.Uuids;
import io.tributary.server.Node;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
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
 * in the same JVM that writes, with the same driver and one after the other before its 202, the
 * two rows Tributary writes per event (the payload row with its TTL, then a journal row of an
 * accepted event's size). Rounds alternate; prints every run, the medians and their ratio. During
 * Tributary's runs, probe events (one every 100 ms, through the SDK) measure the delay from 202 to
 * the start of execution, read by the in-process handler on the JVM's clock.
 *
 * <p>Arguments (system properties): bench.cassandra (host:port), bench.rounds (5), bench.seconds
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
    int rounds = Integer.getInteger("bench.rounds", 5);
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
      new Ceiling(session).bind(system, 9501);
      URI tributary = URI.create(node.endpoint());
      URI ceiling = URI.create("http://127.0.0.1:9501");
      String function = InvokeBenchmark.create(lambda, "sink-" + Long.toHexString(System.nanoTime()), "java17",
          "bench.Sink", InvokeBenchmark.javaHandler("Sink", SINK), Map.of("TRIBUTARY_JAVA_MODE", "in-process-shared"));
      String path = "/2015-03-31/functions/" + function + "/invocations";
      byte[] event = InvokeBenchmark.signed(tributary, path, "Event", PAYLOAD);
      byte[] ceilingEvent = InvokeBenchmark.signed(ceiling, path, "Event", PAYLOAD);

      System.out.printf(Locale.ROOT, "warming the JIT: %d s a side%n", jitWarmup);
      InvokeBenchmark.load("ceiling", ceiling, ceilingEvent, jitWarmup, 0, connections);
      InvokeBenchmark.load("event", tributary, event, jitWarmup, 0, connections);
      List<InvokeBenchmark.Run> runs = new ArrayList<>();
      List<long[]> delays = new ArrayList<>();
      for (int round = 1; round <= rounds; round++) {
        runs.add(InvokeBenchmark.load("ceiling", ceiling, ceilingEvent, warmup, seconds, connections));
        Probe probe = new Probe(tributary, function);
        probe.start();
        runs.add(InvokeBenchmark.load("event", tributary, event, warmup, seconds, connections));
        delays.addAll(probe.stopAndCollect());
        System.out.printf(Locale.ROOT, "round %d of %d done%n", round, rounds);
      }
      double ceilingRps = InvokeBenchmark.median(runs, "ceiling", InvokeBenchmark.Run::requestsPerSecond);
      double eventRps = InvokeBenchmark.median(runs, "event", InvokeBenchmark.Run::requestsPerSecond);
      System.out.printf(Locale.ROOT, "%nmedians over %d rounds, %d s each after %d s warm-up, %d connections%n",
          rounds, seconds, warmup, connections);
      double ceilingCpu = InvokeBenchmark.median(runs, "ceiling", InvokeBenchmark.Run::cpuMsPerRequest);
      for (String side : List.of("ceiling", "event")) {
        double rps = InvokeBenchmark.median(runs, side, InvokeBenchmark.Run::requestsPerSecond);
        double cpu = InvokeBenchmark.median(runs, side, InvokeBenchmark.Run::cpuMsPerRequest);
        System.out.printf(Locale.ROOT, "%-8s %8.0f accepted/s  p50 %6.2f ms  p99 %7.2f ms  ratio %.2f"
            + "  cpu %.3f ms/event (ceiling's ÷ this %.2f)%n", side, rps,
            InvokeBenchmark.median(runs, side, InvokeBenchmark.Run::p50Ms),
            InvokeBenchmark.median(runs, side, InvokeBenchmark.Run::p99Ms), rps / ceilingRps, cpu, ceilingCpu / cpu);
      }
      long[] after202 = delays.stream().mapToLong(d -> d[0]).sorted().toArray();
      long[] afterSend = delays.stream().mapToLong(d -> d[1]).sorted().toArray();
      System.out.printf(Locale.ROOT, "202 to execution under that load (%d probes): p50 %.1f ms, p99 %.1f ms"
          + " (from sending the invoke: p50 %.1f ms, p99 %.1f ms)%n", after202.length, percentileMs(after202, 0.5),
          percentileMs(after202, 0.99), percentileMs(afterSend, 0.5), percentileMs(afterSend, 0.99));
      System.out.printf(Locale.ROOT, "ratio event/ceiling: %.2f%n", eventRps / ceilingRps);
    } finally {
      system.terminate();
    }
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

  /** The ceiling: the two rows Tributary writes per accepted event, written by the driver directly. */
  static final class Ceiling extends AllDirectives {
    private final CqlSession session;
    private final PreparedStatement payloadRow;
    private final PreparedStatement journalRow;
    private final AtomicLong sequence = new AtomicLong();
    private final String writer = UUID.randomUUID().toString();
    private final ByteBuffer event = ByteBuffer.wrap(new byte[72]);

    Ceiling(CqlSession session) {
      this.session = session;
      this.payloadRow = session.prepare("INSERT INTO bench.event_payloads (request_id, payload) VALUES (?, ?)"
          + " USING TTL 25200");
      this.journalRow = session.prepare("INSERT INTO bench_journal.messages (persistence_id, partition_nr,"
          + " sequence_nr, timestamp, timebucket, writer_uuid, ser_id, ser_manifest, event_manifest, event, tags)"
          + " VALUES (?, 0, ?, ?, ?, ?, 7302, 'EventAccepted.v1', '', ?, {})");
    }

    void bind(ActorSystem<?> system, int port) throws Exception {
      Route route = path(segment("2015-03-31").slash("functions").slash(segment()).slash("invocations"), fn ->
          post(() -> entity(Unmarshaller.entityToByteString(), body -> completeWithFuture(accept(body.toArray())))));
      Http.get(system).newServerAt("127.0.0.1", port).bind(route).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private java.util.concurrent.CompletionStage<HttpResponse> accept(byte[] payload) {
      String id = UUID.randomUUID().toString();
      String persistenceId = "AsyncQueue|ceiling#" + ThreadLocalRandom.current().nextInt(8);
      return session.executeAsync(payloadRow.bind(id, ByteBuffer.wrap(payload)))
          .thenCompose(rs -> session.executeAsync(journalRow.bind(persistenceId, sequence.incrementAndGet(),
              Uuids.timeBased(), "20261122T10", writer, event.duplicate())))
          .thenApply(rs -> HttpResponse.create().withStatus(202));
    }
  }

  private AsyncBenchmark() {}
}
