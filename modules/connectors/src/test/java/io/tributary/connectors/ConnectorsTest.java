package io.tributary.connectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.api.Destination;
import io.tributary.api.LambdaException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Which targets a node accepts, and what it says about those it cannot reach. */
class ConnectorsTest {

  private final Connectors connectors = new Connectors(new Connectors.Settings(
      Map.of("us-east-1", "http://127.0.0.1:1", "eu-west-1/111111111111", "http://127.0.0.1:2/"), "k", "s",
      Map.of("default", Map.of("bootstrap.servers", "127.0.0.1:1")), Duration.ofSeconds(1), Map.of(), Map.of()));

  @AfterEach
  void close() {
    connectors.close();
  }

  private String refusal(String target) {
    LambdaException e = assertThrows(LambdaException.class, () -> connectors.resolve(target));
    assertEquals(400, e.status());
    assertEquals("InvalidParameterValueException", e.errorType());
    return e.getMessage();
  }

  @Test
  void queuesAreFoundByRegionOrByRegionAndAccount() {
    assertEquals("http://127.0.0.1:1/000000000000/orders",
        connectors.resolve("arn:aws:sqs:us-east-1:000000000000:orders").toString());
    assertEquals("http://127.0.0.1:2/111111111111/audit",
        connectors.resolve("arn:aws:sqs:eu-west-1:111111111111:audit").toString());
    String missing = refusal("arn:aws:sqs:eu-west-1:222222222222:audit");
    assertTrue(missing.contains("no SQS endpoint is configured for region eu-west-1"), missing);
  }

  @Test
  void theSameTargetIsTheSameDestination() {
    assertSame(connectors.resolve("kafka://failures"), connectors.resolve("kafka://failures"));
  }

  @Test
  void kafkaTopicsNameAConfiguredCluster() {
    assertEquals("kafka topic failures", connectors.resolve("kafka://failures").toString());
    assertEquals("kafka topic failures", connectors.resolve("kafka://default/failures").toString());
    String unknown = refusal("kafka://analytics/failures");
    assertTrue(unknown.contains("no Kafka cluster analytics is configured"), unknown);
    assertTrue(refusal("kafka://has space").contains("kafka://<topic>"));
  }

  @Test
  void whatCannotBeSentToIsRefusedWithWhatToUseInstead() {
    assertTrue(refusal("arn:aws:sns:us-east-1:000000000000:topic").contains("SQS queues"));
    assertTrue(refusal("arn:aws:sqs:us-east-1:000000000000:orders.fifo").contains("standard queues"));
    assertTrue(refusal("s3://bucket").contains("kafka://<topic>"));
    assertTrue(refusal("https://user:pw@hooks.example.com/x").contains("no fragment or user:password"));
  }

  @Test
  void webhooksAreHttpOrHttpsUrls() {
    Destination hook = connectors.resolve("https://hooks.example.com/lambda?team=7");
    assertEquals("https://hooks.example.com/lambda?team=7", hook.toString());
  }
}
