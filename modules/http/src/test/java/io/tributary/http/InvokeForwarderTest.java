package io.tributary.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.api.LambdaException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A forwarded invoke is accepted exactly as its origin sent it, from a node sharing the credentials. */
class InvokeForwarderTest {

  private static final Instant NOW = Instant.parse("2026-11-22T10:00:00Z");
  private static final byte[] PAYLOAD = "{\"order\": 42}".getBytes(StandardCharsets.UTF_8);
  private static final InvokeForwarder.Hop HOP = new InvokeForwarder.Hop("req-1", "orders", "live", "Tail", null, false);
  private static ActorSystem<Void> system;

  @BeforeAll
  static void start() {
    system = ActorSystem.create(Behaviors.empty(), "forwarder-test");
  }

  @AfterAll
  static void stop() {
    system.terminate();
  }

  private static InvokeForwarder forwarder(String secret, Instant at) {
    return new InvokeForwarder(system, secret, Clock.fixed(at, ZoneOffset.UTC));
  }

  @Test
  void aHopFromANodeWithTheSameCredentialsIsAcceptedAsSent() {
    HttpRequest request = forwarder("secret", NOW).request("http://10.0.0.2:9000", HOP, PAYLOAD);
    assertEquals(HOP, forwarder("secret", NOW.plusSeconds(1)).verify(request, PAYLOAD));
    assertEquals("req-1", InvokeForwarder.requestId(request).orElseThrow());
  }

  @Test
  void aChangedPayloadOrParameterIsRefused() {
    HttpRequest request = forwarder("secret", NOW).request("http://10.0.0.2:9000", HOP, PAYLOAD);
    InvokeForwarder receiver = forwarder("secret", NOW);
    LambdaException changedPayload = assertThrows(LambdaException.class,
        () -> receiver.verify(request, "{\"order\": 43}".getBytes(StandardCharsets.UTF_8)));
    assertEquals(403, changedPayload.status());
    assertThrows(LambdaException.class, () -> receiver.verify(
        request.removeHeader("X-Tributary-Qualifier").addHeader(RawHeader.create("X-Tributary-Qualifier", "1")),
        PAYLOAD));
  }

  @Test
  void aHopSignedWithOtherCredentialsOrTooOldIsRefusedWithTheReason() {
    HttpRequest request = forwarder("secret", NOW).request("http://10.0.0.2:9000", HOP, PAYLOAD);
    LambdaException otherKey = assertThrows(LambdaException.class,
        () -> forwarder("other", NOW).verify(request, PAYLOAD));
    assertTrue(otherKey.getMessage().contains("tributary.auth.credentials"), otherKey.getMessage());
    LambdaException stale = assertThrows(LambdaException.class, () -> forwarder("secret",
        NOW.plus(InvokeForwarder.VALIDITY).plus(Duration.ofSeconds(1))).verify(request, PAYLOAD));
    assertTrue(stale.getMessage().contains("clocks"), stale.getMessage());
  }
}
