package io.tributary.cluster.async;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.api.Arns;
import io.tributary.api.Destination;
import io.tributary.api.EventInvokeConfig;
import io.tributary.api.InvocationResult;
import io.tributary.cluster.async.Outbox.Send;
import io.tributary.cluster.delivery.RetrySchedule;
import io.tributary.cluster.invoke.Dispatcher;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** What a finished event owes its destinations and dead-letter queue, and how each send settles. */
class OutboxTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Arns ARNS = new Arns("us-east-1", "000000000000");
  private static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");
  private static final String ON_SUCCESS = "arn:aws:sqs:us-east-1:000000000000:done";
  private static final String ON_FAILURE = "https://hooks.example.com/failed";
  private static final String DLQ = "arn:aws:sqs:us-east-1:000000000000:dlq";
  private static final byte[] PAYLOAD = "{\"order\":7}".getBytes(StandardCharsets.UTF_8);
  private static final RetrySchedule SCHEDULE = new RetrySchedule(List.of(Duration.ofMinutes(1)),
      Duration.ofSeconds(1), Duration.ofSeconds(5));

  private final InMemoryEventQueueStore store = new InMemoryEventQueueStore();
  private final InMemoryDestinations destinations = new InMemoryDestinations();
  /** The Event invokes of function destinations: function, qualifier, request id. */
  private final List<List<String>> invokes = new ArrayList<>();
  /** How many of the next Event invokes fail, as an accept that times out. */
  private int invokeFailures;
  private final Outbox outbox = new Outbox("orders", ARNS, store, destinations, (function, qualifier, id, record) -> {
    invokes.add(List.of(function, String.valueOf(qualifier), id, new String(record, StandardCharsets.UTF_8)));
    return invokeFailures-- > 0 ? CompletableFuture.failedFuture(new IllegalStateException("accept timed out"))
        : CompletableFuture.completedFuture(null);
  }, SCHEDULE, Clock.fixed(NOW, ZoneOffset.UTC));

  private static Dispatcher.AsyncTarget async(String onSuccess, String onFailure, String deadLetter) {
    return new Dispatcher.AsyncTarget(onSuccess == null && onFailure == null ? null
        : new EventInvokeConfig(null, null, onSuccess, onFailure, 0), deadLetter);
  }

  private static Dispatcher.Ran failed() {
    return new Dispatcher.Ran(InvocationResult.unhandled("Boom", "it broke", null), "3", null);
  }

  private static Outbox.Sent sendNow(Outbox outbox, Send send) {
    assertTrue(outbox.owes(send), send + " is owed");
    return outbox.send(send).toCompletableFuture().join();
  }

  @Test
  void whatAnEventOwesDependsOnHowItEndedAndItsConfiguration() {
    Dispatcher.AsyncTarget all = async(ON_SUCCESS, ON_FAILURE, DLQ);
    assertEquals(List.of(new Send("a", ON_SUCCESS, false)), Outbox.owed("a", "Success", all));
    assertEquals(List.of(new Send("a", ON_FAILURE, false), new Send("a", DLQ, true)),
        Outbox.owed("a", "RetriesExhausted", all));
    assertEquals(List.of(new Send("a", ON_FAILURE, false), new Send("a", DLQ, true)),
        Outbox.owed("a", "EventAgeExceeded", all));
    assertEquals(List.of(new Send("a", DLQ, true)), Outbox.owed("a", "RetriesExhausted", async(null, null, DLQ)));
    assertEquals(List.of(), Outbox.owed("a", "Success", async(null, ON_FAILURE, DLQ)), "a success owes no dead letter");
    assertEquals(List.of(), Outbox.owed("a", "RetriesExhausted", async(ON_SUCCESS, null, null)));
    assertEquals(List.of(), Outbox.owed("a", "Success", null), "no configuration reported: the node's defaults");
  }

  @Test
  void anEventThatOwesNothingIsNotHeld() {
    assertEquals(List.of(), outbox.hold("a", "$LATEST", "Success", 1, async(null, ON_FAILURE, DLQ), PAYLOAD, null));
    assertFalse(outbox.owes(new Send("a", ON_FAILURE, false)));
    assertEquals(Set.of(), outbox.clear());
  }

  @Test
  void anAcceptedRecordSettlesTheEvent() throws Exception {
    Dispatcher.Ran ran = new Dispatcher.Ran(new InvocationResult("\"ok\"".getBytes(StandardCharsets.UTF_8), null, null),
        "3", null);
    List<Send> sends = outbox.hold("a", "live", "Success", 2, async(ON_SUCCESS, null, DLQ), PAYLOAD, ran);
    assertEquals(List.of(new Send("a", ON_SUCCESS, false)), sends);

    assertInstanceOf(Outbox.Accepted.class, sendNow(outbox, sends.get(0)));
    Destination.Message message = destinations.to(ON_SUCCESS).get(0);
    assertEquals("a", message.key());
    JsonNode record = JSON.readTree(message.body());
    assertEquals(NOW.toString(), record.get("timestamp").asText());
    assertEquals("Success", record.at("/requestContext/condition").asText());
    assertEquals(2, record.at("/requestContext/approximateInvokeCount").asInt());
    assertEquals("arn:aws:lambda:us-east-1:000000000000:function:orders:live",
        record.at("/requestContext/functionArn").asText());
    assertEquals(7, record.at("/requestPayload/order").asInt());
    assertEquals("ok", record.get("responsePayload").asText());

    assertEquals(new Outbox.Done("Success", 2, false), outbox.settle(sends.get(0), new Outbox.Accepted()));
    assertFalse(outbox.owes(sends.get(0)));
    assertInstanceOf(Outbox.Stale.class, outbox.settle(sends.get(0), new Outbox.Accepted()), "settled once only");
  }

  @Test
  void aFailedEventIsDeadLetteredWithItsPayloadReadWhenNotAtHand() {
    store.payloads.put("a", PAYLOAD);
    List<Send> sends = outbox.hold("a", "$LATEST", "RetriesExhausted", 3, async(null, ON_FAILURE, DLQ), null, failed());
    assertEquals(2, sends.size());

    assertInstanceOf(Outbox.Accepted.class, sendNow(outbox, sends.get(1)));
    Destination.Message dead = destinations.to(DLQ).get(0);
    assertArrayEquals(PAYLOAD, dead.body());
    assertEquals("a", dead.attributes().get("RequestID"));
    assertEquals(200, dead.attributes().get("ErrorCode"));
    assertEquals("it broke", dead.attributes().get("ErrorMessage"));
    assertInstanceOf(Outbox.Owing.class, outbox.settle(sends.get(1), new Outbox.Accepted()), "the record is still owed");

    assertInstanceOf(Outbox.Accepted.class, sendNow(outbox, sends.get(0)));
    assertEquals(new Outbox.Done("RetriesExhausted", 3, true), outbox.settle(sends.get(0), new Outbox.Accepted()),
        "dead-lettered: its dead-letter queue accepted it");
  }

  @Test
  void aDeadLetterWhosePayloadIsGoneCarriesNull() {
    List<Send> sends = outbox.hold("gone", "$LATEST", "EventAgeExceeded", 0, async(null, null, DLQ), null, null);
    assertInstanceOf(Outbox.Accepted.class, sendNow(outbox, sends.get(0)));
    Destination.Message dead = destinations.to(DLQ).get(0);
    assertEquals("null", new String(dead.body(), StandardCharsets.UTF_8));
    assertEquals(500, dead.attributes().get("ErrorCode"), "the function never answered");
  }

  @Test
  void aRefusalSettlesTheSendButTheEventIsNotDeadLettered() {
    destinations.failNext(DLQ, new Destination.Rejected("message too large", null));
    List<Send> sends = outbox.hold("a", "$LATEST", "RetriesExhausted", 3, async(null, null, DLQ), PAYLOAD, failed());
    Outbox.Sent sent = sendNow(outbox, sends.get(0));
    assertEquals(new Outbox.Refused("message too large"), sent);
    assertEquals(new Outbox.Done("RetriesExhausted", 3, false), outbox.settle(sends.get(0), sent));
  }

  @Test
  void aFailedSendIsOwedAgainAfterABackoffThatDoubles() {
    destinations.failNext(ON_FAILURE, new IllegalStateException("connection refused"),
        new IllegalStateException("connection refused"));
    List<Send> sends = outbox.hold("a", "$LATEST", "RetriesExhausted", 3, async(null, ON_FAILURE, null), PAYLOAD,
        failed());
    Send send = sends.get(0);

    Outbox.Sent first = sendNow(outbox, send);
    assertInstanceOf(Outbox.Failed.class, first);
    assertEquals(new Outbox.SendAgain(Duration.ofSeconds(1), 1), outbox.settle(send, first));
    assertTrue(outbox.owes(send));
    Outbox.Sent second = sendNow(outbox, send);
    assertEquals(new Outbox.SendAgain(Duration.ofSeconds(2), 2), outbox.settle(send, second));
    Outbox.Sent third = sendNow(outbox, send);
    assertInstanceOf(Outbox.Accepted.class, third);
    assertEquals(new Outbox.Done("RetriesExhausted", 3, false), outbox.settle(send, third));
    assertEquals(1, destinations.to(ON_FAILURE).size());
  }

  @Test
  void aTargetThisNodeCannotResolveIsAFailureToRetry() {
    Send send = outbox.hold("a", "$LATEST", "RetriesExhausted", 3, async(null, "unreachable:x", null), PAYLOAD,
        failed()).get(0);
    Outbox.Sent sent = sendNow(outbox, send);
    assertInstanceOf(Outbox.Failed.class, sent);
    assertInstanceOf(Outbox.SendAgain.class, outbox.settle(send, sent));
  }

  @Test
  void aFunctionDestinationGetsAnEventInvokeWhoseIdStaysAcrossRetries() throws Exception {
    String audit = "arn:aws:lambda:us-east-1:000000000000:function:audit:live";
    Send send = outbox.hold("a", "$LATEST", "Success", 1, async(audit, null, null), PAYLOAD,
        new Dispatcher.Ran(new InvocationResult("1".getBytes(StandardCharsets.UTF_8), null, null), "1", null)).get(0);
    invokeFailures = 1;
    Outbox.Sent first = sendNow(outbox, send);
    assertInstanceOf(Outbox.SendAgain.class, outbox.settle(send, first));
    assertInstanceOf(Outbox.Accepted.class, sendNow(outbox, send));

    assertEquals(2, invokes.size());
    assertEquals(List.of("audit", "live"), invokes.get(0).subList(0, 2));
    assertEquals(invokes.get(0).get(2), invokes.get(1).get(2), "a repeat is deduped by its partition");
    assertNotEquals("a", invokes.get(0).get(2), "the record is an event of its own");
    JsonNode record = JSON.readTree(invokes.get(0).get(3));
    assertEquals("a", record.at("/requestContext/requestId").asText());
    assertTrue(destinations.received.isEmpty());
  }

  @Test
  void clearingDropsWhatIsOwedSoLateAnswersAreStale() {
    Send send = outbox.hold("a", "$LATEST", "Success", 1, async(ON_SUCCESS, null, null), PAYLOAD, null).get(0);
    outbox.hold("b", "$LATEST", "RetriesExhausted", 3, async(null, null, DLQ), PAYLOAD, failed());
    assertEquals(Set.of("a", "b"), outbox.clear());
    assertFalse(outbox.owes(send));
    assertInstanceOf(Outbox.Stale.class, outbox.settle(send, new Outbox.Accepted()));
  }
}
