package io.tributary.cluster.mapping;

import static io.tributary.cluster.mapping.LoopFixture.eventually;
import static io.tributary.cluster.mapping.LoopFixture.functionError;
import static io.tributary.cluster.mapping.LoopFixture.mapping;
import static io.tributary.cluster.mapping.LoopFixture.ok;
import static io.tributary.cluster.mapping.LoopFixture.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tributary.api.EventSource;
import io.tributary.api.EventSourceMapping;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The queue loop's rules, on a queue and a Kafka-like stream in memory: what is checkpointed, what
 * comes back, what is retried and what goes to the on-failure destination, and what the mapping hears.
 */
class QueueLoopTest {

  private final LoopFixture fixture = new LoopFixture();

  @AfterEach
  void stop() throws InterruptedException {
    fixture.close();
  }

  private void run(EventSourceMapping mapping, EventSource source) {
    fixture.start(new QueueLoop(fixture.context(mapping), () -> source)::run);
  }

  private static EventSourceMapping kafka(EventSourceMapping.OnError errors, List<String> responseTypes) {
    return mapping(null, 10, errors, responseTypes, null, null);
  }

  @Test
  void aKafkaBatchThatKeepsFailingHoldsItsPartitionThroughItsRetriesThenGoesToTheOnFailureDestination()
      throws Exception {
    MemoryStream stream = new MemoryStream().add("orders-0", "0", "a", 0).add("orders-0", "1", "a", 0)
        .add("orders-0", "2", "a", 0).add("orders-1", "5", "b", 0).add("orders-1", "6", "b", 0);
    fixture.function.answers(call -> call.ids().contains("1") ? functionError() : ok("{}"));
    run(kafka(new EventSourceMapping.OnError(2, -1, false, LoopFixture.ON_FAILURE), null), stream);

    eventually(() -> stream.events().contains("resume orders-0"), stream::events);
    assertEquals(List.of("pause orders-0", "checkpoint orders-1@6", "checkpoint orders-0@2", "resume orders-0"),
        distinct(stream.events()), "the other partition goes on while this one is held; discarded, it is committed"
            + " past");
    assertEquals(List.of(List.of("0", "1", "2"), List.of("5", "6"), List.of("0", "1", "2"), List.of("0", "1", "2")),
        fixture.function.ids(), "the first try and 2 retries, the other partition's batch in between");
    JsonNode record = fixture.destination.sent().get(0);
    assertEquals("RetryAttemptsExhausted", record.at("/requestContext/condition").asText());
    assertEquals(3, record.at("/requestContext/approximateInvokeCount").asInt());
    assertEquals("Unhandled", record.at("/responseContext/functionError").asText(), "its last answer");
    assertEquals("0", record.at("/MemoryBatchInfo/first").asText());
    assertEquals("2", record.at("/MemoryBatchInfo/last").asText());
    assertEquals(3, fixture.stats.of(LoopFixture.UUID).stream()
        .filter(s -> s.shard().equals("orders-0")).findFirst().orElseThrow().recordsDiscarded());
  }

  @Test
  void aKafkaMappingWithAnOnFailureDestinationButNoRetryLimitRetriesTenTimes() throws Exception {
    MemoryStream stream = new MemoryStream().add("orders-0", "0", "a", 0);
    fixture.function.answers(call -> functionError());
    run(kafka(new EventSourceMapping.OnError(-1, -1, false, LoopFixture.ON_FAILURE), null), stream);

    eventually(() -> !fixture.destination.sent().isEmpty(), fixture.function::ids);
    assertEquals(1 + 10, fixture.function.calls().size(), "AWS's 10 retries");
    eventually(() -> stream.events().contains("resume orders-0"), stream::events);
    assertEquals(List.of("0"), distinct(stream.checkpoints("orders-0")));
  }

  @Test
  void withoutAnOnFailureDestinationAKafkaBatchIsRetriedUntilItSucceeds() throws Exception {
    MemoryStream stream = new MemoryStream().add("orders-0", "0", "a", 0);
    fixture.function.answers(call -> fixture.function.calls().size() <= 14 ? functionError() : ok("{}"));
    run(kafka(EventSourceMapping.OnError.DEFAULT, null), stream);

    eventually(() -> !stream.checkpoints("orders-0").isEmpty(), fixture.function::ids);
    assertEquals(15, fixture.function.calls().size(), "past the 10 retries a destination would have ended");
    assertTrue(fixture.destination.sent().isEmpty());
  }

  @Test
  void aPartialBatchResponseOnKafkaCommitsUpToTheFirstFailedRecordAndRetriesFromIt() throws Exception {
    MemoryStream stream = new MemoryStream().add("orders-0", "0", "a", 0).add("orders-0", "1", "a", 0)
        .add("orders-0", "2", "a", 0).add("orders-0", "3", "a", 0);
    fixture.function.answers(call -> fixture.function.calls().size() == 1
        ? ok("{\"batchItemFailures\":[{\"itemIdentifier\":\"2\"},{\"itemIdentifier\":\"1\"}]}") : ok("{}"));
    run(kafka(EventSourceMapping.OnError.DEFAULT, List.of("ReportBatchItemFailures")), stream);

    eventually(() -> stream.events().contains("resume orders-0"), stream::events);
    assertEquals(List.of(List.of("0", "1", "2", "3"), List.of("1", "2", "3")), fixture.function.ids());
    assertEquals(List.of("checkpoint orders-0@0", "pause orders-0", "checkpoint orders-0@3", "resume orders-0"),
        distinct(stream.events()));
  }

  @Test
  void aQueueBatchsReportedFailuresAloneComeBack() throws Exception {
    MemoryQueue queue = new MemoryQueue().send("m1", "m2", "m3");
    fixture.function.answers(call -> call.ids().size() == 3
        ? ok("{\"batchItemFailures\":[{\"itemIdentifier\":\"m2\"}]}") : ok("{}"));
    run(mapping(LoopFixture.SQS, 10, null, List.of("ReportBatchItemFailures"), null, null), queue);

    eventually(() -> queue.deleted().size() == 3, queue::deleted);
    assertEquals(List.of(List.of("m1", "m2", "m3"), List.of("m2")), fixture.function.ids());
    assertEquals(List.of("m1", "m3", "m2"), queue.deleted());
  }

  @Test
  void aFailedQueueBatchIsLeftToComeBackAndTheMappingHearsOfItThenOfItsRecovery() throws Exception {
    MemoryQueue queue = new MemoryQueue().send("m1", "m2");
    fixture.function.answers(call -> fixture.function.calls().size() == 1 ? functionError() : ok("{}"));
    run(mapping(LoopFixture.SQS, 10, null, null, null, null), queue);

    eventually(() -> fixture.told().size() == 3, fixture::told);
    assertEquals(List.of("m1", "m2"), queue.deleted());
    assertEquals(List.of("m1", "m2"), queue.rewound());
    assertEquals(List.of(List.of("m1", "m2"), List.of("m1", "m2")), fixture.function.ids());
    assertEquals(List.of(new EventSourceMappingEntity.Report(EventSourceMapping.ENABLED, null),
        new EventSourceMappingEntity.Report(null, "PROBLEM: Function call failed (Unhandled)"),
        new EventSourceMappingEntity.Report(null, "OK")), fixture.told());
  }

  @Test
  void aFunctionThatIsGoneDisablesItsMappingOnceAndNothingMoreIsReported() throws Exception {
    MemoryQueue queue = new MemoryQueue().send("m1");
    fixture.function.answers(call -> refused(404, "ResourceNotFoundException"));
    run(mapping(LoopFixture.SQS, 10, null, null, null, null), queue);

    eventually(() -> fixture.function.calls().size() >= 3, fixture.function::ids);
    List<EventSourceMappingEntity.Command> told = fixture.told();
    assertEquals(2, told.size(), told::toString);
    assertEquals(new EventSourceMappingEntity.Report(EventSourceMapping.ENABLED, null), told.get(0));
    assertEquals(new EventSourceMappingEntity.Disable("PROBLEM: Function not found: " + LoopFixture.FUNCTION_ARN
        + ". The mapping was disabled; create the function again, then enable the mapping.",
        "PROBLEM: Function not found"), told.get(1));
    assertTrue(queue.deleted().isEmpty());
  }

  @Test
  void aThrottledKafkaBatchIsRetriedWithoutCountingARetry() throws Exception {
    MemoryStream stream = new MemoryStream().add("orders-0", "0", "a", 0);
    fixture.function.answers(call -> fixture.function.calls().size() <= 5
        ? refused(429, "TooManyRequestsException") : ok("{}"));
    run(kafka(new EventSourceMapping.OnError(0, -1, false, LoopFixture.ON_FAILURE), null), stream);

    eventually(() -> !stream.checkpoints("orders-0").isEmpty(), fixture.function::ids);
    assertEquals(6, fixture.function.calls().size(), "no retry allowed, yet an invoke that never ran is no try");
    assertTrue(fixture.destination.sent().isEmpty());
  }

  @Test
  void aPartitionTheGroupTakesAwayDropsItsHeldBatchUnsettled() throws Exception {
    MemoryStream stream = new MemoryStream().add("orders-0", "0", "a", 0);
    fixture.function.answers(call -> functionError());
    run(kafka(EventSourceMapping.OnError.DEFAULT, null), stream);

    eventually(() -> fixture.function.calls().size() >= 2, fixture.function::ids);
    stream.lose("orders-0");
    eventually(() -> stream.events().contains("lost orders-0"), stream::events);
    int calls = fixture.function.calls().size();
    Thread.sleep(50);
    assertEquals(calls, fixture.function.calls().size(), "its new reader retries it, not this one");
    assertEquals(List.of(), stream.checkpoints("orders-0"));
  }

  /** Events without repeats: a batch settled by its last range is committed twice at the same offset. */
  private static List<String> distinct(List<String> events) {
    return events.stream().distinct().toList();
  }
}
