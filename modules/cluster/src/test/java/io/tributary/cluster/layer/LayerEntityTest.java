package io.tributary.cluster.layer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.tributary.api.Arns;
import io.tributary.api.LayerVersion;
import io.tributary.api.PolicyStatement;
import io.tributary.cluster.ManualClock;
import io.tributary.cluster.Reply;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The layer entity as users of the layer operations see it: version numbers, deletes, policies and
 * their revision ids, and that every refused command leaves the journal untouched.
 */
class LayerEntityTest {

  private static final ActorTestKit testKit = ActorTestKit.create(
      EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load()));
  private static final Arns ARNS = new Arns("us-east-1", "000000000000");
  private static final String V1_ARN = "arn:aws:lambda:us-east-1:000000000000:layer:libs:1";

  /** What the registry was told, write by write: the versions' numbers, and the write timestamp. */
  private record RegistryWrite(List<Long> versions, long seqNr) {}

  private final List<RegistryWrite> registry = new CopyOnWriteArrayList<>();
  private final ManualClock clock = new ManualClock(Instant.parse("2026-12-07T12:00:00Z"));
  private EventSourcedBehaviorTestKit<LayerEntity.Command, LayerEntity.Event, LayerEntity.State> kit;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void setUp() {
    kit = EventSourcedBehaviorTestKit.create(testKit.system(), LayerEntity.create("libs", ARNS, (name, versions, seqNr) -> {
      registry.add(new RegistryWrite(versions.stream().map(LayerVersion::version).toList(), seqNr));
      return CompletableFuture.completedFuture(null);
    }, clock));
  }

  /** A command's reply and the events it persisted. */
  private record Ran<T>(Reply<T> reply, List<LayerEntity.Event> events) {}

  private <T> Ran<T> run(Function<ActorRef<Reply<T>>, LayerEntity.Command> command) {
    TestProbe<Reply<T>> probe = testKit.createTestProbe();
    var result = kit.runCommand(command.apply(probe.getRef()));
    return new Ran<>(probe.receiveMessage(), result.events());
  }

  private LayerVersion publish(String description) {
    LayerVersion draft = new LayerVersion(null, 0, description, List.of("python3.12"), List.of("arm64"), "MIT",
        "sha-b64", 120, "5ha", 4000, null);
    return this.<LayerVersion>run(r -> new LayerEntity.Publish(draft, r)).reply().getOrThrow();
  }

  private static PolicyStatement statement(String sid) {
    return new PolicyStatement(sid, "", "lambda:GetLayerVersion", "*", V1_ARN, null, null, null, null, null, false);
  }

  @Test
  void versionsAreNumberedFromOneAndANumberIsNeverGivenTwiceEvenAfterDeletes() {
    LayerVersion first = publish("first");
    assertEquals(1, first.version());
    assertEquals("libs", first.layerName());
    assertEquals("2026-12-07T12:00:00.000+0000", first.createdDate());
    clock.advance(Duration.ofSeconds(90));
    assertEquals("2026-12-07T12:01:30.000+0000", publish("second").createdDate());

    assertEquals(Boolean.TRUE, this.<Boolean>run(r -> new LayerEntity.DeleteVersion(2, r)).reply().getOrThrow());
    assertEquals(3, publish("third").version(), "2 was deleted, and is not given again");
    this.<Boolean>run(r -> new LayerEntity.DeleteVersion(1, r)).reply().getOrThrow();
    this.<Boolean>run(r -> new LayerEntity.DeleteVersion(3, r)).reply().getOrThrow();
    assertEquals(List.of(), this.<List<LayerVersion>>run(LayerEntity.ListVersions::new).reply().getOrThrow());
    assertEquals(new RegistryWrite(List.of(), 6), registry.get(registry.size() - 1),
        "a layer without versions leaves ListLayers");

    assertEquals(4, publish("fourth").version(), "even once every version is gone");
    kit.restart();
    assertEquals(5, publish("fifth").version(), "and after a recovery");
  }

  @Test
  void everyPersistedChangeWritesTheRegistryRowAtItsSequenceNumberBeforeTheReply() {
    publish("first");
    publish("second");
    assertEquals(List.of(new RegistryWrite(List.of(1L), 1), new RegistryWrite(List.of(1L, 2L), 2)), registry);
    kit.restart();
    assertEquals(new RegistryWrite(List.of(1L, 2L), 2), registry.get(registry.size() - 1),
        "recovery writes the row again, repairing one lost to a crash");
  }

  @Test
  void versionsAreListedNewestFirstAndAMissingOneIsNotFound() {
    publish("first");
    publish("second");
    assertEquals(List.of(2L, 1L), this.<List<LayerVersion>>run(LayerEntity.ListVersions::new).reply().getOrThrow()
        .stream().map(LayerVersion::version).toList());
    assertEquals("first", this.<LayerVersion>run(r -> new LayerEntity.GetVersion(1, r)).reply().getOrThrow()
        .description());
    Ran<LayerVersion> missing = run(r -> new LayerEntity.GetVersion(3, r));
    assertEquals(404, missing.reply().error().status());
    assertEquals("ResourceNotFoundException", missing.reply().error().errorType());
    assertEquals("The resource you requested does not exist.", missing.reply().error().message());
  }

  @Test
  void deletingAVersionThatDoesNotExistIsNoErrorAndPersistsNothing() {
    Ran<Boolean> none = run(r -> new LayerEntity.DeleteVersion(1, r));
    assertEquals(Boolean.FALSE, none.reply().getOrThrow());
    assertTrue(none.events().isEmpty());
    publish("first");
    this.<Boolean>run(r -> new LayerEntity.DeleteVersion(1, r)).reply().getOrThrow();
    Ran<Boolean> again = run(r -> new LayerEntity.DeleteVersion(1, r));
    assertEquals(Boolean.FALSE, again.reply().getOrThrow());
    assertTrue(again.events().isEmpty());
  }

  @Test
  void eachPolicyChangeGivesANewRevisionAndAStaleRevisionIsRefusedWithoutChange() {
    publish("first");
    Ran<LayerEntity.Policy> none = run(r -> new LayerEntity.GetPolicy(1, r));
    assertEquals("No policy is associated with the given resource.", none.reply().error().message());

    LayerEntity.Permission s1 = this.<LayerEntity.Permission>run(
        r -> new LayerEntity.AddPermission(1, statement("s1"), null, r)).reply().getOrThrow();
    assertEquals(statement("s1"), s1.statement());
    LayerEntity.Policy policy = this.<LayerEntity.Policy>run(r -> new LayerEntity.GetPolicy(1, r)).reply().getOrThrow();
    assertEquals(new LayerEntity.Policy(List.of(statement("s1")), s1.revisionId()), policy);

    Ran<LayerEntity.Permission> duplicate = run(r -> new LayerEntity.AddPermission(1, statement("s1"), null, r));
    assertEquals(409, duplicate.reply().error().status());
    assertEquals("The statement id (s1) provided already exists. Please provide a new statement id, or remove the "
        + "existing statement.", duplicate.reply().error().message());
    assertTrue(duplicate.events().isEmpty());

    Ran<LayerEntity.Permission> stale = run(r -> new LayerEntity.AddPermission(1, statement("s2"), "not-it", r));
    assertEquals(412, stale.reply().error().status());
    assertEquals("PreconditionFailedException", stale.reply().error().errorType());
    assertTrue(stale.events().isEmpty());

    LayerEntity.Permission s2 = this.<LayerEntity.Permission>run(
        r -> new LayerEntity.AddPermission(1, statement("s2"), s1.revisionId(), r)).reply().getOrThrow();
    assertNotEquals(s1.revisionId(), s2.revisionId());

    Ran<Boolean> staleRemove = run(r -> new LayerEntity.RemovePermission(1, "s2", s1.revisionId(), r));
    assertEquals(412, staleRemove.reply().error().status());
    assertTrue(staleRemove.events().isEmpty());
    Ran<Boolean> unknown = run(r -> new LayerEntity.RemovePermission(1, "s9", null, r));
    assertEquals(404, unknown.reply().error().status());
    assertEquals("Statement s9 is not found in resource policy.", unknown.reply().error().message());
    assertTrue(unknown.events().isEmpty());

    this.<Boolean>run(r -> new LayerEntity.RemovePermission(1, "s2", s2.revisionId(), r)).reply().getOrThrow();
    LayerEntity.Policy after = this.<LayerEntity.Policy>run(r -> new LayerEntity.GetPolicy(1, r)).reply().getOrThrow();
    assertEquals(List.of(statement("s1")), after.statements());
    assertNotEquals(s2.revisionId(), after.revisionId());
    kit.restart();
    assertEquals(after, this.<LayerEntity.Policy>run(r -> new LayerEntity.GetPolicy(1, r)).reply().getOrThrow(),
        "the policy and its revision survive a recovery");
  }

  @Test
  void aVersionsPolicyGoesWithItAndPolicyOperationsOnAMissingVersionNameItsArn() {
    publish("first");
    this.<LayerEntity.Permission>run(r -> new LayerEntity.AddPermission(1, statement("s1"), null, r)).reply()
        .getOrThrow();
    this.<Boolean>run(r -> new LayerEntity.DeleteVersion(1, r)).reply().getOrThrow();
    assertTrue(kit.getState().policies().isEmpty());
    String missing = "Layer version " + V1_ARN + " does not exist.";
    Ran<LayerEntity.Policy> get = run(r -> new LayerEntity.GetPolicy(1, r));
    assertEquals(404, get.reply().error().status());
    assertEquals(missing, get.reply().error().message());
    Ran<LayerEntity.Permission> add = run(r -> new LayerEntity.AddPermission(1, statement("s1"), null, r));
    assertEquals(missing, add.reply().error().message());
    assertTrue(add.events().isEmpty());
    Ran<Boolean> remove = run(r -> new LayerEntity.RemovePermission(1, "s1", null, r));
    assertEquals(missing, remove.reply().error().message());
    assertNull(remove.reply().value());
  }
}
