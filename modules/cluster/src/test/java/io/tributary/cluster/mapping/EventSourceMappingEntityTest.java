package io.tributary.cluster.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.typesafe.config.ConfigFactory;
import io.tributary.api.EventSourceMapping;
import io.tributary.cluster.ManualClock;
import io.tributary.cluster.Reply;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The mapping's state machine, as the API and the pollers drive it, and its registry rows. */
class EventSourceMappingEntityTest {

  private static final ActorTestKit testKit = ActorTestKit.create(
      EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load()));
  private static final String UUID = "1f0b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

  /** The registry's rows as written: null for a removal. */
  private final List<EventSourceMapping> rows = new ArrayList<>();
  private final ManualClock clock = new ManualClock(Instant.parse("2024-05-01T12:00:00Z"));
  private EventSourcedBehaviorTestKit<EventSourceMappingEntity.Command, EventSourceMappingEntity.Event,
      EventSourceMappingEntity.State> kit;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void setUp() {
    EventSourceMappingEntity.Registry registry = new EventSourceMappingEntity.Registry() {
      @Override
      public CompletionStage<Void> save(String uuid, EventSourceMapping mapping, long seqNr) {
        rows.add(mapping);
        return CompletableFuture.completedFuture(null);
      }

      @Override
      public CompletionStage<List<EventSourceMapping>> all() {
        return CompletableFuture.completedFuture(new ArrayList<>(rows));
      }
    };
    kit = EventSourcedBehaviorTestKit.create(testKit.system(), EventSourceMappingEntity.create(UUID, registry,
        clock));
  }

  private Reply<EventSourceMapping> run(
      Function<ActorRef<Reply<EventSourceMapping>>, EventSourceMappingEntity.Command> command) {
    TestProbe<Reply<EventSourceMapping>> probe = testKit.createTestProbe();
    kit.runCommand(command.apply(probe.getRef()));
    return probe.receiveMessage();
  }

  private Reply<Map<String, String>> tags(
      Function<ActorRef<Reply<Map<String, String>>>, EventSourceMappingEntity.Command> command) {
    TestProbe<Reply<Map<String, String>>> probe = testKit.createTestProbe();
    kit.runCommand(command.apply(probe.getRef()));
    return probe.receiveMessage();
  }

  private EventSourceMapping create(boolean enabled) {
    return create(enabled, Map.of());
  }

  private EventSourceMapping create(boolean enabled, Map<String, String> tags) {
    return run(r -> new EventSourceMappingEntity.Create(new EventSourceMapping(UUID,
        "arn:aws:lambda:us-east-1:000000000000:function:orders", null, List.of("b:9092"), List.of("orders"), null,
        100, 0, "TRIM_HORIZON", enabled, enabled ? EventSourceMapping.CREATING : EventSourceMapping.DISABLED,
        "USER_INITIATED", EventSourceMapping.NO_RECORDS, 0, null, null, null, null, null, null, null), tags, r))
        .getOrThrow();
  }

  private static EventSourceMapping.Changes enabled(Integer batchSize, boolean enabled) {
    return new EventSourceMapping.Changes(null, batchSize, null, enabled, null, null, null, null, null, null, null, null, null);
  }

  private String state() {
    return kit.getState().mapping().state();
  }

  @Test
  void aCreatedMappingIsEnabledOnceAPollerReads() {
    assertEquals(EventSourceMapping.CREATING, create(true).state());
    assertEquals(EventSourceMapping.CREATING, rows.get(0).state(), "listed before the reply");
    kit.runCommand(new EventSourceMappingEntity.Report(EventSourceMapping.DISABLED, null));
    assertEquals(EventSourceMapping.CREATING, state(), "a report that does not fit the wish changes nothing");
    kit.runCommand(new EventSourceMappingEntity.Report(EventSourceMapping.ENABLED, "OK"));
    assertEquals(EventSourceMapping.ENABLED, state());
    assertEquals("OK", kit.getState().mapping().lastProcessingResult());
    assertEquals(EventSourceMapping.ENABLED, rows.get(rows.size() - 1).state());
  }

  @Test
  void disablingAndEnablingPassThroughTheirTransitionalStates() {
    create(true);
    kit.runCommand(new EventSourceMappingEntity.Report(EventSourceMapping.ENABLED, null));
    assertEquals(EventSourceMapping.DISABLING,
        run(r -> new EventSourceMappingEntity.Update(enabled(null, false), r)).getOrThrow().state());
    kit.runCommand(new EventSourceMappingEntity.Report(EventSourceMapping.ENABLED, null));
    assertEquals(EventSourceMapping.DISABLING, state(), "a poller still reading does not enable it again");
    kit.runCommand(new EventSourceMappingEntity.Report(EventSourceMapping.DISABLED, null));
    assertEquals(EventSourceMapping.DISABLED, state());
    EventSourceMapping enabling =
        run(r -> new EventSourceMappingEntity.Update(enabled(500, true), r)).getOrThrow();
    assertEquals(EventSourceMapping.ENABLING, enabling.state());
    assertEquals(500, enabling.batchSize());
    kit.runCommand(new EventSourceMappingEntity.Report(EventSourceMapping.ENABLED, null));
    assertEquals(EventSourceMapping.ENABLED, state());
  }

  @Test
  void onlyChangedResultsArePersisted() {
    create(true);
    kit.runCommand(new EventSourceMappingEntity.Report(EventSourceMapping.ENABLED, "OK"));
    int events = rows.size();
    assertEquals(0, kit.runCommand(new EventSourceMappingEntity.Report(null, "OK")).events().size());
    assertEquals(1, kit.runCommand(new EventSourceMappingEntity.Report(null, "PROBLEM: Function call failed"))
        .events().size());
    assertEquals(events + 1, rows.size());
  }

  @Test
  void aDeletedMappingAnswersDeletingThenIsGoneAndItsRowRemoved() {
    create(true);
    assertEquals(EventSourceMapping.DELETING, run(EventSourceMappingEntity.Delete::new).getOrThrow().state());
    assertNull(rows.get(rows.size() - 1));
    assertEquals(404, run(EventSourceMappingEntity.Get::new).error().status());
    assertEquals(404, run(r -> new EventSourceMappingEntity.Update(enabled(null, true), r)).error().status());
  }

  @Test
  void newSettingsOfARunningMappingAreUpdatingUntilItsPollersRestart() {
    create(true);
    kit.runCommand(new EventSourceMappingEntity.Report(EventSourceMapping.ENABLED, null));
    assertEquals(EventSourceMapping.ENABLED,
        run(r -> new EventSourceMappingEntity.Update(enabled(100, true), r)).getOrThrow().state(),
        "nothing changed: it stays Enabled");
    assertEquals(EventSourceMapping.UPDATING,
        run(r -> new EventSourceMappingEntity.Update(enabled(50, true), r)).getOrThrow().state());
    kit.runCommand(new EventSourceMappingEntity.Report(EventSourceMapping.ENABLED, null));
    assertEquals(EventSourceMapping.ENABLED, state());
  }

  @Test
  void anUpdateChangesOnlyWhatItNames() {
    create(true);
    EventSourceMapping updated = run(r -> new EventSourceMappingEntity.Update(new EventSourceMapping.Changes(
        "arn:aws:lambda:us-east-1:000000000000:function:other", null, null, null, null, null, 3, null, true,
        "kafka://orders-failed", null, null, null), r)).getOrThrow();
    assertEquals("arn:aws:lambda:us-east-1:000000000000:function:other", updated.functionArn());
    assertEquals(100, updated.batchSize());
    assertEquals(new EventSourceMapping.OnError(3, -1, true, "kafka://orders-failed"), updated.errors());
    EventSourceMapping cleared = run(r -> new EventSourceMappingEntity.Update(new EventSourceMapping.Changes(null,
        null, null, null, null, null, null, 120, null, EventSourceMapping.Changes.REMOVE, null, null, null), r)).getOrThrow();
    assertEquals(new EventSourceMapping.OnError(3, 120, true, null), cleared.errors());
  }

  @Test
  void aMappingWhoseFunctionIsGoneIsDisabledWithTheReason() {
    create(true);
    kit.runCommand(new EventSourceMappingEntity.Report(EventSourceMapping.ENABLED, "OK"));
    kit.runCommand(new EventSourceMappingEntity.Disable("PROBLEM: Function not found: orders", "PROBLEM: gone"));
    EventSourceMapping m = kit.getState().mapping();
    assertEquals(EventSourceMapping.DISABLED, m.state());
    assertEquals(false, m.enabled());
    assertEquals("PROBLEM: Function not found: orders", m.stateTransitionReason());
    assertEquals("PROBLEM: gone", m.lastProcessingResult());
    assertEquals(EventSourceMapping.DISABLED, rows.get(rows.size() - 1).state(), "listed as disabled");
    assertEquals(0, kit.runCommand(new EventSourceMappingEntity.Disable("again", "again")).events().size());
    assertEquals(EventSourceMapping.ENABLING, run(r -> new EventSourceMappingEntity.Update(enabled(null, true), r))
        .getOrThrow().state(), "a user enables it again");
  }

  @Test
  void anUpdateIsStampedWithTheTimeOfTheChange() {
    create(true);
    clock.advance(Duration.ofMinutes(5));
    assertEquals(clock.millis(), run(r -> new EventSourceMappingEntity.Update(enabled(10, true), r)).getOrThrow()
        .lastModifiedMillis());
  }

  @Test
  void aFailedJournalWriteRestartsTheEntityWhichRecoversAndAnswersAgain() {
    create(true);
    kit.persistenceTestKit().failNextPersisted();
    TestProbe<Reply<EventSourceMapping>> lost = testKit.createTestProbe();
    kit.runCommand(new EventSourceMappingEntity.Update(enabled(10, true), lost.getRef()));
    lost.expectNoMessage(Duration.ofMillis(300));
    assertEquals(100, kit.getState().mapping().batchSize(), "recovered without the update that was not stored");
    assertEquals(10, run(r -> new EventSourceMappingEntity.Update(enabled(10, true), r)).getOrThrow().batchSize());
  }

  @Test
  void aSecondCreateWithTheSameUuidIsAConflict() {
    create(true);
    assertEquals(409, run(r -> new EventSourceMappingEntity.Create(kit.getState().mapping(), Map.of(), r)).error().status());
  }

  @Test
  void tagsGivenAtCreateAreListedAddedToAndRemovedWithoutTouchingTheRow() {
    create(true, Map.of("team", "orders"));
    int rowsBefore = rows.size();
    assertEquals(Map.of("team", "orders"), tags(EventSourceMappingEntity.ListTags::new).getOrThrow());
    assertEquals(Map.of("team", "orders", "stage", "prod"),
        tags(r -> new EventSourceMappingEntity.TagResource(Map.of("stage", "prod"), r)).getOrThrow());
    assertEquals(Map.of("team", "payments", "stage", "prod"),
        tags(r -> new EventSourceMappingEntity.TagResource(Map.of("team", "payments"), r)).getOrThrow(),
        "a key given again takes the new value");
    assertEquals(Map.of("stage", "prod"),
        tags(r -> new EventSourceMappingEntity.UntagResource(List.of("team", "absent"), r)).getOrThrow());
    assertEquals(rowsBefore, rows.size(), "tags are not in the row the pollers watch");
  }

  @Test
  void tagsSurviveRecoveryAndGoWithADeletedMapping() {
    create(true, Map.of("team", "orders"));
    tags(r -> new EventSourceMappingEntity.TagResource(Map.of("stage", "prod"), r));
    kit.restart();
    assertEquals(Map.of("team", "orders", "stage", "prod"), kit.getState().tags());
    run(EventSourceMappingEntity.Delete::new);
    Reply<Map<String, String>> gone = tags(EventSourceMappingEntity.ListTags::new);
    assertEquals(404, gone.error().status());
    assertEquals("ResourceNotFoundException", gone.error().errorType());
    assertEquals(404, tags(r -> new EventSourceMappingEntity.TagResource(Map.of("a", "b"), r)).error().status());
    create(true);
    assertEquals(Map.of(), tags(EventSourceMappingEntity.ListTags::new).getOrThrow(), "a new mapping starts untagged");
  }

  @Test
  void moreThanFiftyTagsInAllAreRefusedAndNothingIsStored() {
    Map<String, String> fortyNine = new java.util.TreeMap<>();
    for (int i = 0; i < 49; i++) {
      fortyNine.put("k" + i, "v");
    }
    create(true, fortyNine);
    TestProbe<Reply<Map<String, String>>> probe = testKit.createTestProbe();
    var result = kit.runCommand(new EventSourceMappingEntity.TagResource(Map.of("x", "1", "y", "2"), probe.getRef()));
    Reply<Map<String, String>> refused = probe.receiveMessage();
    assertEquals(400, refused.error().status());
    assertEquals("InvalidParameterValueException", refused.error().errorType());
    assertEquals(0, result.events().size());
    assertEquals(49, kit.getState().tags().size());
    assertEquals(50, tags(r -> new EventSourceMappingEntity.TagResource(Map.of("x", "1"), r)).getOrThrow().size());
  }
}
