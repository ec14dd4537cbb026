package io.tributary.connectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.tributary.api.Destination;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * The destination adapters against the real servers deploy/test.sh starts: ElasticMQ
 * ({@code tributary.it.sqs}) and a Kafka broker ({@code tributary.it.kafka}).
 */
class DestinationsIT {

  private static final String SQS = System.getProperty("tributary.it.sqs", "http://127.0.0.1:9424");
  private static final String KAFKA = System.getProperty("tributary.it.kafka", "127.0.0.1:9192");
  private static Connectors connectors;
  private static SqsAsyncClient sqs;
  private static HttpServer webhooks;
  private static final List<String> received = new CopyOnWriteArrayList<>();
  private static final AtomicInteger unavailable = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    connectors = new Connectors(new Connectors.Settings(Map.of("us-east-1", SQS), "x", "x",
        Map.of("default", Map.of("bootstrap.servers", KAFKA), "nowhere", Map.of("bootstrap.servers",
            "127.0.0.1:" + closedPort())), Duration.ofSeconds(3), Map.of(), Map.of()));
    sqs = SqsAsyncClient.builder().endpointOverride(URI.create(SQS)).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x"))).build();
    webhooks = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    webhooks.createContext("/ok", exchange -> {
      received.add(exchange.getRequestHeaders().getFirst("X-Tributary-Message-Id") + " "
          + new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      exchange.sendResponseHeaders(204, -1);
      exchange.close();
    });
    webhooks.createContext("/busy", exchange -> {
      unavailable.incrementAndGet();
      exchange.sendResponseHeaders(503, -1);
      exchange.close();
    });
    webhooks.createContext("/bad", exchange -> {
      byte[] body = "{\"message\":\"field x is required\"}".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(400, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    webhooks.start();
  }

  @AfterAll
  static void stop() {
    if (connectors != null) {
      connectors.close();
    }
    if (sqs != null) {
      sqs.close();
    }
    if (webhooks != null) {
      webhooks.stop(0);
    }
  }

  private static int closedPort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static Throwable failureOf(Destination destination, Destination.Message message) {
    CompletionException e = assertThrows(CompletionException.class,
        () -> destination.send(message).toCompletableFuture().join());
    return e.getCause();
  }

  private static Destination.Message message(String key, String body, Map<String, Object> attributes) {
    return new Destination.Message(key, body.getBytes(StandardCharsets.UTF_8), attributes);
  }

  @Test
  void aQueueGetsTheBodyAndTypedAttributes() throws Exception {
    String queue = "connectors-it-" + UUID.randomUUID().toString().substring(0, 8);
    String url = sqs.createQueue(b -> b.queueName(queue)).get().queueUrl();
    Destination destination = connectors.resolve("arn:aws:sqs:us-east-1:000000000000:" + queue);
    destination.send(message("req-1", "{\"order\":42}", Map.of("RequestID", "req-1", "ErrorCode", 200)))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);

    List<Message> messages = sqs.receiveMessage(b -> b.queueUrl(url).waitTimeSeconds(5).messageAttributeNames("All"))
        .get().messages();
    assertEquals(1, messages.size());
    assertEquals("{\"order\":42}", messages.get(0).body());
    assertEquals("req-1", messages.get(0).messageAttributes().get("RequestID").stringValue());
    assertEquals("Number", messages.get(0).messageAttributes().get("ErrorCode").dataType());
    assertEquals("200", messages.get(0).messageAttributes().get("ErrorCode").stringValue());
  }

  @Test
  void aQueueThatDoesNotExistFailsTheSendButDoesNotRejectIt() {
    Throwable failure = failureOf(connectors.resolve("arn:aws:sqs:us-east-1:000000000000:not-created-yet"),
        message("req-2", "{}", Map.of()));
    assertFalse(failure instanceof Destination.Rejected, "it may be created later: " + failure);
  }

  @Test
  void aTopicGetsRecordsKeyedByTheMessageKeyWithAttributesAsHeaders() throws Exception {
    String topic = "connectors-it-" + UUID.randomUUID().toString().substring(0, 8);
    Destination destination = connectors.resolve("kafka://" + topic);
    destination.send(message("req-3", "{\"condition\":\"Success\"}", Map.of("RequestID", "req-3")))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);

    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      TopicPartition partition = new TopicPartition(topic, 0);
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (records.isEmpty() && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(500)).forEach(records::add);
      }
      assertEquals(1, records.size());
      assertEquals("req-3", new String(records.get(0).key(), StandardCharsets.UTF_8));
      assertEquals("{\"condition\":\"Success\"}", new String(records.get(0).value(), StandardCharsets.UTF_8));
      assertEquals("req-3", new String(records.get(0).headers().lastHeader("RequestID").value(),
          StandardCharsets.UTF_8));
    }
  }

  @Test
  void aBrokerThatCannotBeReachedFailsTheSendWithinItsTimeoutButDoesNotRejectIt() {
    long start = System.nanoTime();
    Throwable failure = failureOf(connectors.resolve("kafka://nowhere/records"), message("req-4", "{}", Map.of()));
    assertFalse(failure instanceof Destination.Rejected, failure.toString());
    assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 30, "it gives up, to be retried later");
  }

  @Test
  void aWebhookGetsAPostWithTheKeyAndItsAnswerDecidesRetryOrRejection() throws Exception {
    String base = "http://127.0.0.1:" + webhooks.getAddress().getPort();
    connectors.resolve(base + "/ok").send(message("req-5", "{\"a\":1}", Map.of()))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(List.of("req-5 {\"a\":1}"), received);

    Throwable busy = failureOf(connectors.resolve(base + "/busy"), message("req-6", "{}", Map.of()));
    assertFalse(busy instanceof Destination.Rejected, "a 503 is retried: " + busy);
    assertEquals(1, unavailable.get());

    Throwable bad = failureOf(connectors.resolve(base + "/bad"), message("req-7", "{}", Map.of()));
    assertInstanceOf(Destination.Rejected.class, bad);
    assertTrue(bad.getMessage().contains("answered 400: {\"message\":\"field x is required\"}"), bad.getMessage());
  }
}
