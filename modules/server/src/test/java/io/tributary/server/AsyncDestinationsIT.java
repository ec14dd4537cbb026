package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * Destinations and dead-letter queues of asynchronous invocation, end to end through a node: a real
 * SQS-compatible queue server (ElasticMQ, {@code tributary.it.sqs}), a real Kafka broker
 * ({@code tributary.it.kafka}) and a webhook served by the test.
 */
class AsyncDestinationsIT {

  /** Topics of this run only: the test reads them from the start, and a developer's broker outlives runs. */
  private static final String FAILURES_TOPIC = "it-order-failures-" + System.currentTimeMillis();
  private static final String DEAD_LETTERS_TOPIC = "it-order-dead-letters-" + System.currentTimeMillis();
  private static final String KEYSPACE = "it_destinations";
  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  private static final String SQS_ENDPOINT = System.getProperty("tributary.it.sqs", "http://127.0.0.1:9424");
  private static final String KAFKA = System.getProperty("tributary.it.kafka", "127.0.0.1:9192");
  private static final String QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:";
  /** Answers with its event, or fails when the event says "fail". */
  private static final String ECHO = Zips.bashRuntime("""
      if echo "$EVENT" | grep -q fail; then
        curl -sS -X POST "$API/invocation/$REQUEST_ID/error" -H "Lambda-Runtime-Function-Error-Type: Unhandled" \\
          -d '{"errorMessage":"asked to fail","errorType":"Failure"}' >/dev/null
      else
        curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d "$EVENT" >/dev/null
      fi
      """);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static TestNode node;
  private static LambdaClient lambda;
  private static SqsClient sqs;

  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension(KEYSPACE, Map.of(
      "tributary.async.function-error-delays", List.of("1s", "1s"),
      "tributary.async.backoff-min", "200ms",
      "tributary.async.backoff-max", "1s",
      "tributary.destinations.sqs.endpoints.us-east-1", SQS_ENDPOINT,
      "tributary.destinations.kafka.clusters.default.bootstrap.servers", KAFKA,
      "tributary.destinations.send-timeout", "2s"));

  @BeforeAll
  static void start() {
    node = NODE.node();
    lambda = NODE.lambda();
    sqs = NODE.closeAfter(SqsClient.builder().endpointOverride(URI.create(SQS_ENDPOINT)).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x"))).build());
  }

  private static void createEcho(String name, String deadLetterTarget) {
    lambda.createFunction(b -> {
      b.functionName(name).runtime("provided.al2023").role(ROLE).handler("unused").timeout(10)
          .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.withBootstrap(ECHO))));
      if (deadLetterTarget != null) {
        b.deadLetterConfig(d -> d.targetArn(deadLetterTarget));
      }
    });
  }

  private static String event(String function, String payload) {
    var response = lambda.invoke(b -> b.functionName(function).invocationType(InvocationType.EVENT)
        .payload(SdkBytes.fromUtf8String(payload)));
    assertEquals(202, response.statusCode());
    return response.responseMetadata().requestId();
  }

  /** The queue, created if missing and emptied: a developer's queue server outlives runs, failed ones too. */
  private static String queueUrl(String name) {
    String url = sqs.createQueue(b -> b.queueName(name)).queueUrl();
    sqs.purgeQueue(b -> b.queueUrl(url));
    return url;
  }

  /** Receives (and deletes) until {@code count} messages have arrived, for up to 60 s. */
  private static List<Message> receive(String queueUrl, int count) {
    List<Message> messages = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (messages.size() < count && System.nanoTime() < deadline) {
      List<Message> batch = sqs.receiveMessage(b -> b.queueUrl(queueUrl).waitTimeSeconds(1).maxNumberOfMessages(10)
          .messageAttributeNames("All")).messages();
      batch.forEach(m -> sqs.deleteMessage(b -> b.queueUrl(queueUrl).receiptHandle(m.receiptHandle())));
      messages.addAll(batch);
    }
    return messages;
  }

  /** The first {@code count} records of partition 0 of {@code topic}, waiting up to 60 s. */
  private static List<ConsumerRecord<byte[], byte[]>> consume(String topic, int count) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      TopicPartition partition = new TopicPartition(topic, 0);
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (records.size() < count && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(500)).forEach(records::add);
      }
      return records;
    }
  }

  private static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String utf8(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static long metric(String name) throws Exception {
    String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
        URI.create(node.endpoint() + "/metrics")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    return metrics.lines().filter(l -> l.startsWith(name + " "))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  @Test
  void aPoisonEventEndsInItsDestinationAndDeadLetterQueuesWithoutHoldingUpTheEventsBehindIt() throws Exception {
    String successes = queueUrl("it-successes");
    String deadLetters = queueUrl("it-dead-letters");
    createEcho("orders", QUEUE_ARN + "it-dead-letters");
    lambda.putFunctionEventInvokeConfig(b -> b.functionName("orders").maximumRetryAttempts(1)
        .destinationConfig(d -> d.onSuccess(o -> o.destination(QUEUE_ARN + "it-successes"))
            .onFailure(f -> f.destination("kafka://" + FAILURES_TOPIC))));

    String poison = event("orders", "{\"fail\":\"poison\"}");
    List<String> fine = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      fine.add(event("orders", "{\"order\":" + i + "}"));
    }

    List<JsonNode> successRecords = receive(successes, 5).stream().map(m -> json(m.body())).toList();
    assertEquals(5, successRecords.size(), "every fine event's record reached the queue");
    assertEquals(new java.util.TreeSet<>(fine), new java.util.TreeSet<>(successRecords.stream()
        .map(r -> r.at("/requestContext/requestId").asText()).toList()));
    successRecords.forEach(r -> {
      assertEquals("Success", r.at("/requestContext/condition").asText());
      assertEquals(r.at("/requestPayload/order").asInt(), r.at("/responsePayload/order").asInt());
    });

    List<ConsumerRecord<byte[], byte[]>> failures = consume(FAILURES_TOPIC, 1);
    assertEquals(1, failures.size());
    assertEquals(poison, utf8(failures.get(0).key()));
    JsonNode failure = json(utf8(failures.get(0).value()));
    assertEquals("RetriesExhausted", failure.at("/requestContext/condition").asText());
    assertEquals(2, failure.at("/requestContext/approximateInvokeCount").asInt(), "MaximumRetryAttempts 1");
    assertEquals("poison", failure.at("/requestPayload/fail").asText());
    assertEquals("asked to fail", failure.at("/responsePayload/errorMessage").asText());
    Instant failedAt = Instant.parse(failure.get("timestamp").asText());
    successRecords.forEach(r -> assertTrue(Instant.parse(r.get("timestamp").asText()).isBefore(failedAt),
        "the events behind the poison did not wait for its retries"));

    List<Message> dead = receive(deadLetters, 1);
    assertEquals(1, dead.size());
    assertEquals("{\"fail\":\"poison\"}", dead.get(0).body(), "the dead-letter queue gets the event itself");
    assertEquals(poison, dead.get(0).messageAttributes().get("RequestID").stringValue());
    assertEquals("Number", dead.get(0).messageAttributes().get("ErrorCode").dataType());
    assertEquals("200", dead.get(0).messageAttributes().get("ErrorCode").stringValue());
    assertEquals("asked to fail", dead.get(0).messageAttributes().get("ErrorMessage").stringValue());

    JsonNode view = json(node.signedGet("/tributary/functions/orders/async-queue"));
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (view.get("DeadLettered").asInt() < 1 && System.nanoTime() < deadline) {
      NodeProcess.sleep(200);
      view = json(node.signedGet("/tributary/functions/orders/async-queue"));
    }
    assertEquals(1, view.get("DeadLettered").asInt(), view.toString());
    assertEquals(1, view.at("/Outcomes/RetriesExhausted").asInt(), view.toString());
    assertTrue(metric("tributary_async_dead_lettered_total") >= 1);
    assertTrue(metric("tributary_async_records_sent_total") >= 6);

    // The dead-letter queue can be a Kafka topic too, and changes with the function's configuration.
    lambda.updateFunctionConfiguration(b -> b.functionName("orders")
        .deadLetterConfig(d -> d.targetArn("kafka://" + DEAD_LETTERS_TOPIC)));
    lambda.waiter().waitUntilFunctionUpdatedV2(b -> b.functionName("orders"));
    String second = event("orders", "{\"fail\":\"again\"}");
    List<ConsumerRecord<byte[], byte[]>> deadRecords = consume(DEAD_LETTERS_TOPIC, 1);
    assertEquals(1, deadRecords.size());
    assertEquals("{\"fail\":\"again\"}", utf8(deadRecords.get(0).value()));
    assertEquals(second, utf8(deadRecords.get(0).headers().lastHeader("RequestID").value()));
    assertEquals("200", utf8(deadRecords.get(0).headers().lastHeader("ErrorCode").value()));
  }

  @Test
  void aWebhookThatIsDownGetsItsRecordOnceItIsBack() throws Exception {
    int port = TestNode.freePort();
    createEcho("hooked", null);
    lambda.putFunctionEventInvokeConfig(b -> b.functionName("hooked")
        .destinationConfig(d -> d.onSuccess(o -> o.destination("http://127.0.0.1:" + port + "/records"))));
    long failuresBefore = metric("tributary_async_send_failures_total");
    String id = event("hooked", "{\"hook\":1}");

    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (metric("tributary_async_send_failures_total") < failuresBefore + 2 && System.nanoTime() < deadline) {
      NodeProcess.sleep(200);
    }
    assertTrue(metric("tributary_async_send_failures_total") >= failuresBefore + 2, "the record was tried, and failed");
    JsonNode waiting = json(node.signedGet("/tributary/functions/hooked/async-events/" + id));
    assertEquals("Running", waiting.get("Status").asText(), "the event waits for its record to be taken: " + waiting);

    List<String> received = new CopyOnWriteArrayList<>();
    HttpServer webhook = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    webhook.createContext("/records", exchange -> {
      received.add(exchange.getRequestHeaders().getFirst("X-Tributary-Message-Id") + " "
          + utf8(exchange.getRequestBody().readAllBytes()));
      exchange.sendResponseHeaders(200, -1);
      exchange.close();
    });
    webhook.start();
    try {
      deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (received.isEmpty() && System.nanoTime() < deadline) {
        NodeProcess.sleep(100);
      }
      assertEquals(1, received.size(), "sent once it was taken");
      assertTrue(received.get(0).startsWith(id + " "), received.get(0));
      JsonNode record = json(received.get(0).substring(id.length() + 1));
      assertEquals("Success", record.at("/requestContext/condition").asText());
      assertEquals(1, record.at("/responsePayload/hook").asInt());
      deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      JsonNode ended = json(node.signedGet("/tributary/functions/hooked/async-events/" + id));
      while (!"Finished".equals(ended.get("Status").asText()) && System.nanoTime() < deadline) {
        NodeProcess.sleep(100);
        ended = json(node.signedGet("/tributary/functions/hooked/async-events/" + id));
      }
      assertEquals("Success", ended.get("Condition").asText(), ended.toString());
    } finally {
      webhook.stop(0);
    }
  }

  @Test
  void destinationsThisNodeCannotReachAreRefusedWhenConfigured() {
    createEcho("strict", QUEUE_ARN + "it-strict-dlq");
    java.util.function.Function<String, String> onFailure = target -> assertThrows(
        InvalidParameterValueException.class, () -> lambda.putFunctionEventInvokeConfig(b -> b.functionName("strict")
            .destinationConfig(d -> d.onFailure(f -> f.destination(target))))).getMessage();
    assertTrue(onFailure.apply("kafka://analytics/failures").contains("no Kafka cluster analytics is configured"));
    assertTrue(onFailure.apply("arn:aws:sqs:ap-south-1:000000000000:q").contains("no SQS endpoint is configured"));
    assertTrue(onFailure.apply(QUEUE_ARN + "q.fifo").contains("standard queues"));
    assertTrue(onFailure.apply("arn:aws:lambda:eu-west-1:000000000000:function:f").contains("this account and region"));
    assertThrows(ResourceNotFoundException.class,
        () -> lambda.getFunctionEventInvokeConfig(b -> b.functionName("strict")), "nothing was stored");

    String webhookDlq = assertThrows(InvalidParameterValueException.class, () -> createEcho("strict-2",
        "https://hooks.example.com/dlq")).getMessage();
    assertTrue(webhookDlq.contains("SQS queue ARN") && webhookDlq.contains("kafka://"), webhookDlq);
    assertThrows(ResourceNotFoundException.class, () -> lambda.getFunction(b -> b.functionName("strict-2")));

    assertThrows(InvalidParameterValueException.class, () -> lambda.updateFunctionConfiguration(b -> b
        .functionName("strict").deadLetterConfig(d -> d.targetArn("arn:aws:sns:us-east-1:000000000000:t"))));
    assertEquals(QUEUE_ARN + "it-strict-dlq", lambda.getFunctionConfiguration(b -> b.functionName("strict"))
        .deadLetterConfig().targetArn(), "a refused update changes nothing");
    lambda.updateFunctionConfiguration(b -> b.functionName("strict").deadLetterConfig(d -> { }));
    lambda.waiter().waitUntilFunctionUpdatedV2(b -> b.functionName("strict"));
    var removed = lambda.getFunctionConfiguration(b -> b.functionName("strict")).deadLetterConfig();
    assertTrue(removed == null || removed.targetArn() == null, "DeadLetterConfig {} removes it: " + removed);
    assertFalse(lambda.getFunctionConfiguration(b -> b.functionName("strict")).toString().contains("it-strict-dlq"));
  }
}
