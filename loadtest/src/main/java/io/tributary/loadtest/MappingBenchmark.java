package io.tributary.loadtest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.server.Node;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.pekko.actor.typed.ActorSystem;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.EventSourcePosition;

/**
 * Records per second from a 6-partition Kafka topic into an in-process no-op Java function through
 * an event source mapping, side by side with the ceiling (both timed from the first batch handled to
 * the last, so that joining the consumer group does not count): a plain Kafka consumer loop in the same
 * JVM that builds the same event JSON per partition batch, hands it to the same handler the way
 * the in-process runtime does (JSON into a Map), and commits after each batch. Both sides read the
 * same preloaded topic from the start with a fresh consumer group; rounds alternate. Then the
 * produce-to-invoke delay at half the mapping's measured rate.
 *
 * <p>Arguments (system properties): bench.cassandra, bench.kafka (host:port), bench.rounds (5),
 * bench.records (500000), bench.batch-sizes (100,1000).
 */
public final class MappingBenchmark {

  private static final String SINK = """
      package bench;
      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;
      import java.util.List;
      import java.util.Map;
      import java.util.concurrent.ConcurrentLinkedQueue;
      import java.util.concurrent.atomic.AtomicLong;
      public class KafkaSink implements RequestHandler<Map<String, Object>, String> {
        @SuppressWarnings("unchecked")
        public String handleRequest(Map<String, Object> event, Context context) {
          long now = System.currentTimeMillis();
          long n = 0;
          ConcurrentLinkedQueue<Long> delays = (ConcurrentLinkedQueue<Long>) System.getProperties().get("bench.delays");
          for (Object records : ((Map<String, Object>) event.get("records")).values()) {
            for (Object r : (List<Object>) records) {
              n++;
              if (delays != null) {
                delays.add(now - ((Number) ((Map<String, Object>) r).get("timestamp")).longValue());
              }
            }
          }
          ((AtomicLong) System.getProperties().get("bench.count")).addAndGet(n);
          return "ok";
        }
      }
      """;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonFactory FACTORY = new JsonFactory();
  private static final AtomicLong COUNT = new AtomicLong();

  public static void main(String[] args) throws Exception {
    int rounds = Integer.getInteger("bench.rounds", 5);
    int records = Integer.getInteger("bench.records", 500_000);
    String kafka = System.getProperty("bench.kafka", "127.0.0.1:9392");
    List<Integer> batchSizes = List.of(System.getProperty("bench.batch-sizes", "100,1000").split(",")).stream()
        .map(String::trim).map(Integer::parseInt).toList();
    System.getProperties().put("bench.count", COUNT);
    ActorSystem<Void> system = InvokeBenchmark.nodeSystem();
    Node node = Node.start(system).toCompletableFuture().get(120, TimeUnit.SECONDS);
    try (LambdaClient lambda = LambdaClient.builder().endpointOverride(URI.create(node.endpoint()))
        .region(Region.US_EAST_1).credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create("AKIATRIBUTARYLOCAL01", "tributary-local-secret-do-not-use-in-production")))
        .build()) {
      String function = InvokeBenchmark.create(lambda, "kafka-sink-" + Long.toHexString(System.nanoTime()), "java17",
          "bench.KafkaSink", InvokeBenchmark.javaHandler("KafkaSink", SINK), Map.of("TRIBUTARY_JAVA_MODE",
              "in-process"));
      Class<?> sinkClass = InvokeBenchmark.handlerClass("KafkaSink", SINK);
      String topic = "bench-" + Long.toHexString(System.nanoTime());
      preload(kafka, topic, records);
      System.out.printf(Locale.ROOT, "%d records of ~60 bytes in a 6-partition topic; %d rounds a side%n", records,
          rounds);
      for (int batchSize : batchSizes) {
        List<Double> ceiling = new ArrayList<>();
        List<Double> mapping = new ArrayList<>();
        for (int round = 0; round <= rounds; round++) {
          double c = ceiling(kafka, topic, records, batchSize, sinkClass);
          double m = mapping(lambda, function, kafka, topic, records, batchSize);
          if (round == 0) {
            System.out.printf(Locale.ROOT, "  batch %d, warm-up: ceiling %.0f, mapping %.0f records/s%n", batchSize,
                c, m);
            continue;
          }
          ceiling.add(c);
          mapping.add(m);
          System.out.printf(Locale.ROOT, "  batch %d, round %d: ceiling %.0f, mapping %.0f records/s (%.2f)%n",
              batchSize, round, c, m, m / c);
        }
        double cm = InvokeBenchmark.median(ceiling);
        double mm = InvokeBenchmark.median(mapping);
        List<Double> ratios = new ArrayList<>();
        for (int i = 0; i < ceiling.size(); i++) {
          ratios.add(mapping.get(i) / ceiling.get(i));
        }
        System.out.printf(Locale.ROOT, "batch %d: medians ceiling %.0f records/s, mapping %.0f records/s, ratio of"
            + " medians %.2f, median of the rounds' ratios %.2f%n", batchSize, cm, mm, mm / cm,
            InvokeBenchmark.median(ratios));
        if (batchSize == batchSizes.get(0)) {
          latency(lambda, function, kafka, batchSize, mm / 2);
        }
      }
    } finally {
      system.terminate();
    }
  }

  private static Properties props(String kafka) {
    Properties p = new Properties();
    p.put("bootstrap.servers", kafka);
    return p;
  }

  private static void preload(String kafka, String topic, int records) throws Exception {
    try (Admin admin = Admin.create(props(kafka))) {
      admin.createTopics(List.of(new NewTopic(topic, 6, (short) 1))).all().get();
    }
    Properties p = props(kafka);
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
        new StringSerializer())) {
      for (int i = 0; i < records; i++) {
        producer.send(new ProducerRecord<>(topic, "key-" + (i % 600), "{\"order\":" + i + ",\"status\":\"new\"}"));
      }
      producer.flush();
    }
  }

  /** The mapping side: records/s from creating the mapping to the last record handled. */
  private static double mapping(LambdaClient lambda, String function, String kafka, String topic, int records,
                                int batchSize) throws Exception {
    COUNT.set(0);
    String uuid = lambda.createEventSourceMapping(b -> b.functionName(function).topics(topic).batchSize(batchSize)
        .startingPosition(EventSourcePosition.TRIM_HORIZON)
        .selfManagedEventSource(s -> s.endpointsWithStrings(Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of(kafka)))))
        .uuid();
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    while (COUNT.get() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    // From the first batch handled: the poller's start and the group join are not throughput.
    long start = System.nanoTime();
    long first = COUNT.get();
    while (COUNT.get() < records && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long done = COUNT.get() - first;
    lambda.deleteEventSourceMapping(b -> b.uuid(uuid));
    Thread.sleep(3_000);
    return done / seconds;
  }

  /** The ceiling: a plain consumer loop doing the same work, in the same JVM. */
  @SuppressWarnings("unchecked")
  private static double ceiling(String kafka, String topic, int records, int batchSize, Class<?> sinkClass)
      throws Exception {
    Object sink = sinkClass.getDeclaredConstructor().newInstance();
    var handle = java.util.Arrays.stream(sinkClass.getMethods())
        .filter(m -> m.getName().equals("handleRequest") && m.getParameterTypes()[0] == Map.class).findFirst()
        .orElseThrow();
    COUNT.set(0);
    Properties p = props(kafka);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "ceiling-" + UUID.randomUUID());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(batchSize));
    long start = 0;
    long first = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
      while (COUNT.get() < records && System.nanoTime() < deadline) {
        ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(500));
        for (TopicPartition partition : polled.partitions()) {
          List<ConsumerRecord<byte[], byte[]>> batch = polled.records(partition);
          Map<String, Object> event = JSON.readValue(event(kafka, partition, batch), Map.class);
          handle.invoke(sink, event, null);
          if (start == 0) {
            start = System.nanoTime();
            first = COUNT.get();
          }
          consumer.commitSync(Map.of(partition, new org.apache.kafka.clients.consumer.OffsetAndMetadata(
              batch.get(batch.size() - 1).offset() + 1)));
        }
      }
    }
    return (COUNT.get() - first) / ((System.nanoTime() - start) / 1e9);
  }

  /** The event the mapping sends (the same fields, as KafkaEventSource writes them). */
  private static byte[] event(String servers, TopicPartition partition, List<ConsumerRecord<byte[], byte[]>> batch)
      throws java.io.IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Base64.Encoder base64 = Base64.getEncoder();
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("eventSource", "aws:kafka");
      g.writeStringField("bootstrapServers", servers);
      g.writeObjectFieldStart("records");
      g.writeArrayFieldStart(partition.topic() + "-" + partition.partition());
      for (ConsumerRecord<byte[], byte[]> r : batch) {
        g.writeStartObject();
        g.writeStringField("topic", r.topic());
        g.writeNumberField("partition", r.partition());
        g.writeNumberField("offset", r.offset());
        g.writeNumberField("timestamp", r.timestamp());
        g.writeStringField("timestampType", r.timestampType().name());
        g.writeStringField("key", base64.encodeToString(r.key()));
        g.writeStringField("value", base64.encodeToString(r.value()));
        g.writeArrayFieldStart("headers");
        g.writeEndArray();
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
      g.writeEndObject();
    }
    return out.toByteArray();
  }

  /** Produce-to-invoke delay while producing steadily at {@code rate} records/s for 20 s. */
  private static void latency(LambdaClient lambda, String function, String kafka, int batchSize, double rate)
      throws Exception {
    String topic = "bench-latency-" + Long.toHexString(System.nanoTime());
    try (Admin admin = Admin.create(props(kafka))) {
      admin.createTopics(List.of(new NewTopic(topic, 6, (short) 1))).all().get();
    }
    String uuid = lambda.createEventSourceMapping(b -> b.functionName(function).topics(topic).batchSize(batchSize)
        .startingPosition(EventSourcePosition.LATEST)
        .selfManagedEventSource(s -> s.endpointsWithStrings(Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of(kafka)))))
        .uuid();
    Thread.sleep(5_000);
    ConcurrentLinkedQueue<Long> delays = new ConcurrentLinkedQueue<>();
    System.getProperties().put("bench.delays", delays);
    Properties p = props(kafka);
    p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
        new StringSerializer())) {
      long start = System.nanoTime();
      long sent = 0;
      while (System.nanoTime() - start < Duration.ofSeconds(20).toNanos()) {
        long due = (long) ((System.nanoTime() - start) / 1e9 * rate);
        while (sent < due) {
          producer.send(new ProducerRecord<>(topic, "key-" + (sent % 600), "{\"order\":" + sent + "}"));
          sent++;
        }
        Thread.sleep(1);
      }
    }
    Thread.sleep(5_000);
    System.getProperties().remove("bench.delays");
    lambda.deleteEventSourceMapping(b -> b.uuid(uuid));
    long[] sorted = delays.stream().mapToLong(Long::longValue).sorted().toArray();
    System.out.printf(Locale.ROOT, "produce to invoke at %.0f records/s (batch %d, %d records): p50 %d ms, p99 %d ms%n",
        rate, batchSize, sorted.length, sorted.length == 0 ? -1 : sorted[sorted.length / 2],
        sorted.length == 0 ? -1 : sorted[(int) Math.min(sorted.length - 1, sorted.length * 0.99)]);
  }

  private MappingBenchmark() {}
}
