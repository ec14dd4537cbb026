package io.tributary.loadtest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.server.Node;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorSystem;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.EventSourcePosition;

/**
 * Records per second from a 4-shard Kinesis stream into an in-process no-op Java function through
 * an event source mapping at ParallelizationFactor 1 and 10 (batch size 100), side by side with the ceiling:
 * a plain SDK GetRecords loop per shard on the same server, in the same JVM, that builds the same
 * event JSON per batch and hands it to the same handler the way the in-process runtime does. Both
 * sides read the same preloaded stream from TRIM_HORIZON, timed from the first batch handled to the
 * last; rounds alternate. The mapping also writes its checkpoints to Cassandra (a lightweight
 * transaction per batch); the ceiling keeps its position in memory.
 *
 * <p>Arguments (system properties): bench.cassandra, bench.kinesis (URL), bench.rounds (5),
 * bench.records (20000), bench.batch-size (100).
 */
public final class StreamBenchmark {

  private static final String SINK = """
      package bench;
      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;
      import java.util.List;
      import java.util.Map;
      import java.util.concurrent.atomic.AtomicLong;
      public class StreamSink implements RequestHandler<Map<String, Object>, String> {
        public String handleRequest(Map<String, Object> event, Context context) {
          ((AtomicLong) System.getProperties().get("bench.count")).addAndGet(((List<?>) event.get("Records")).size());
          return "ok";
        }
      }
      """;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonFactory FACTORY = new JsonFactory();
  private static final AtomicLong COUNT = new AtomicLong();

  public static void main(String[] args) throws Exception {
    int rounds = Integer.getInteger("bench.rounds", 5);
    int records = Integer.getInteger("bench.records", 20_000);
    int batchSize = Integer.getInteger("bench.batch-size", 100);
    String endpoint = System.getProperty("bench.kinesis", "http://127.0.0.1:9667");
    System.getProperties().put("bench.count", COUNT);
    ActorSystem<Void> system = InvokeBenchmark.nodeSystem();
    Node node = Node.start(system).toCompletableFuture().get(120, TimeUnit.SECONDS);
    try (LambdaClient lambda = LambdaClient.builder().endpointOverride(URI.create(node.endpoint()))
        .region(Region.US_EAST_1).credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create("AKIATRIBUTARYLOCAL01", "tributary-local-secret-do-not-use-in-production")))
        .build();
         KinesisAsyncClient kinesis = KinesisAsyncClient.builder().endpointOverride(URI.create(endpoint))
             .region(Region.US_EAST_1).credentialsProvider(StaticCredentialsProvider.create(
                 AwsBasicCredentials.create("x", "x")))
             .httpClientBuilder(NettyNioAsyncHttpClient.builder().protocol(Protocol.HTTP1_1)).build()) {
      String function = InvokeBenchmark.create(lambda, "stream-sink-" + Long.toHexString(System.nanoTime()),
          "java17", "bench.StreamSink", InvokeBenchmark.javaHandler("StreamSink", SINK),
          Map.of("TRIBUTARY_JAVA_MODE", "in-process"));
      Object sink = InvokeBenchmark.handlerClass("StreamSink", SINK).getDeclaredConstructor().newInstance();
      String stream = "bench-" + Long.toHexString(System.nanoTime());
      preload(kinesis, stream, records);
      System.out.printf(Locale.ROOT, "%d records of ~40 bytes in a 4-shard stream; batch %d; %d rounds a side%n",
          records, batchSize, rounds);
      List<Double> ceiling = new ArrayList<>();
      List<Double> single = new ArrayList<>();
      List<Double> parallel = new ArrayList<>();
      for (int round = 0; round <= rounds; round++) {
        double c = ceiling(kinesis, stream, records, batchSize, sink);
        double m1 = mapping(lambda, function, stream, records, batchSize, 1);
        double m10 = mapping(lambda, function, stream, records, batchSize, 10);
        if (round == 0) {
          System.out.printf(Locale.ROOT, "  warm-up: ceiling %.0f, PF 1 %.0f, PF 10 %.0f records/s%n", c, m1, m10);
          continue;
        }
        ceiling.add(c);
        single.add(m1);
        parallel.add(m10);
        System.out.printf(Locale.ROOT, "  round %d: ceiling %.0f, PF 1 %.0f (%.2f), PF 10 %.0f (%.2f) records/s%n",
            round, c, m1, m1 / c, m10, m10 / c);
      }
      for (var side : List.of(Map.entry("ParallelizationFactor 1", single),
          Map.entry("ParallelizationFactor 10", parallel))) {
        List<Double> ratios = new ArrayList<>();
        for (int i = 0; i < ceiling.size(); i++) {
          ratios.add(side.getValue().get(i) / ceiling.get(i));
        }
        System.out.printf(Locale.ROOT, "medians, %s: ceiling %.0f records/s, mapping %.0f records/s, ratio of"
            + " medians %.2f, median of the rounds' ratios %.2f%n", side.getKey(), InvokeBenchmark.median(ceiling),
            InvokeBenchmark.median(side.getValue()),
            InvokeBenchmark.median(side.getValue()) / InvokeBenchmark.median(ceiling),
            InvokeBenchmark.median(ratios));
      }
    } finally {
      system.terminate();
    }
  }

  private static void preload(KinesisAsyncClient kinesis, String stream, int records) throws Exception {
    kinesis.createStream(b -> b.streamName(stream).shardCount(4)).get(30, TimeUnit.SECONDS);
    while (!"ACTIVE".equals(kinesis.describeStreamSummary(b -> b.streamName(stream)).get(10, TimeUnit.SECONDS)
        .streamDescriptionSummary().streamStatusAsString())) {
      Thread.sleep(50);
    }
    for (int from = 0; from < records; from += 500) {
      List<PutRecordsRequestEntry> entries = new ArrayList<>();
      for (int i = from; i < Math.min(records, from + 500); i++) {
        entries.add(PutRecordsRequestEntry.builder().partitionKey("key-" + (i % 600))
            .data(SdkBytes.fromUtf8String("{\"order\":" + i + ",\"status\":\"new\"}")).build());
      }
      kinesis.putRecords(b -> b.streamName(stream).records(entries)).get(60, TimeUnit.SECONDS);
    }
  }

  /** The mapping side: records/s from the first batch handled to the last. */
  private static double mapping(LambdaClient lambda, String function, String stream, int records, int batchSize,
                                int parallelization) throws Exception {
    COUNT.set(0);
    String uuid = lambda.createEventSourceMapping(b -> b.functionName(function).batchSize(batchSize)
        .parallelizationFactor(parallelization)
        .eventSourceArn("arn:aws:kinesis:us-east-1:000000000000:stream/" + stream)
        .startingPosition(EventSourcePosition.TRIM_HORIZON)).uuid();
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    while (COUNT.get() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    long start = System.nanoTime();
    long first = COUNT.get();
    while (COUNT.get() < records && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long done = COUNT.get() - first;
    lambda.deleteEventSourceMapping(b -> b.uuid(uuid));
    Thread.sleep(4_000);
    return done / seconds;
  }

  /** The ceiling: a plain GetRecords loop per shard, doing the same work in the same JVM. */
  @SuppressWarnings("unchecked")
  private static double ceiling(KinesisAsyncClient kinesis, String stream, int records, int batchSize, Object sink)
      throws Exception {
    var handle = java.util.Arrays.stream(sink.getClass().getMethods())
        .filter(m -> m.getName().equals("handleRequest") && m.getParameterTypes()[0] == Map.class).findFirst()
        .orElseThrow();
    COUNT.set(0);
    List<Shard> shards = kinesis.listShards(b -> b.streamName(stream)).get(30, TimeUnit.SECONDS).shards();
    AtomicLong start = new AtomicLong();
    AtomicLong first = new AtomicLong();
    List<Thread> readers = new ArrayList<>();
    for (Shard shard : shards) {
      Thread reader = new Thread(() -> {
        try {
          String iterator = kinesis.getShardIterator(b -> b.streamName(stream).shardId(shard.shardId())
              .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).get(30, TimeUnit.SECONDS).shardIterator();
          long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
          while (COUNT.get() < records && iterator != null && System.nanoTime() < deadline) {
            String at = iterator;
            var page = kinesis.getRecords(b -> b.shardIterator(at).limit(batchSize)).get(30, TimeUnit.SECONDS);
            iterator = page.nextShardIterator();
            if (page.records().isEmpty()) {
              Thread.sleep(250);
              continue;
            }
            Map<String, Object> event = JSON.readValue(event(stream, shard.shardId(), page.records()), Map.class);
            handle.invoke(sink, event, null);
            if (start.get() == 0 && start.compareAndSet(0, System.nanoTime())) {
              first.set(COUNT.get());
            }
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      reader.start();
      readers.add(reader);
    }
    for (Thread reader : readers) {
      reader.join();
    }
    return (COUNT.get() - first.get()) / ((System.nanoTime() - start.get()) / 1e9);
  }

  /** The same event JSON as Tributary's Kinesis source builds. */
  private static byte[] event(String stream, String shard, List<Record> records) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256 + records.size() * 256);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.writeStartObject();
      g.writeArrayFieldStart("Records");
      for (Record r : records) {
        g.writeStartObject();
        g.writeObjectFieldStart("kinesis");
        g.writeStringField("kinesisSchemaVersion", "1.0");
        g.writeStringField("partitionKey", r.partitionKey());
        g.writeStringField("sequenceNumber", r.sequenceNumber());
        g.writeStringField("data", Base64.getEncoder().encodeToString(r.data().asByteArrayUnsafe()));
        g.writeNumberField("approximateArrivalTimestamp",
            BigDecimal.valueOf(r.approximateArrivalTimestamp().toEpochMilli()).movePointLeft(3));
        g.writeEndObject();
        g.writeStringField("eventSource", "aws:kinesis");
        g.writeStringField("eventVersion", "1.0");
        g.writeStringField("eventID", shard + ":" + r.sequenceNumber());
        g.writeStringField("eventName", "aws:kinesis:record");
        g.writeStringField("awsRegion", "us-east-1");
        g.writeStringField("eventSourceARN", "arn:aws:kinesis:us-east-1:000000000000:stream/" + stream);
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    }
    return out.toByteArray();
  }

  private StreamBenchmark() {}
}
