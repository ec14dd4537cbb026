package io.tributary.cluster.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.tributary.api.AliasConfig;
import io.tributary.api.Arns;
import io.tributary.api.ConfigurationPatch;
import io.tributary.api.EventInvokeConfig;
import io.tributary.api.FunctionConfig;
import io.tributary.api.PolicyStatement;
import io.tributary.api.RuntimeManagementConfig;
import io.tributary.cluster.ManualClock;
import io.tributary.cluster.Reply;
import io.tributary.cluster.concurrency.LeaseHolders;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FunctionEntityTest {

  private static final ActorTestKit testKit = ActorTestKit.create(
      EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load()));
  private static final Arns ARNS = new Arns("us-east-1", "000000000000");

  private final List<Long> registryWrites = new CopyOnWriteArrayList<>();
  private final List<Boolean> registryExists = new CopyOnWriteArrayList<>();
  private final ManualClock clock = new ManualClock(Instant.parse("2024-05-01T12:00:00Z"));
  private EventSourcedBehaviorTestKit<FunctionEntity.Command, FunctionEntity.Event, FunctionEntity.State> kit;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void setUp() {
    kit = EventSourcedBehaviorTestKit.create(testKit.system(), FunctionEntity.create("orders", ARNS, (name, state, seqNr) -> {
      registryWrites.add(seqNr);
      registryExists.add(state.exists());
      return CompletableFuture.completedFuture(null);
    }, LeaseHolders.NONE, FunctionEntity.Changes.NONE, clock));
  }

  private static FunctionConfig config(String sha) {
    return new FunctionConfig("orders", null, "python3.11", "arn:aws:iam::000000000000:role/r", "app.handler", null,
        30, 256, Map.of("STAGE", "test"), sha, 100, "ab", 1000, null, 0, null, null, null, null, null, null, null, null,
        null);
  }

  private <T> Reply<T> run(java.util.function.Function<org.apache.pekko.actor.typed.ActorRef<Reply<T>>, FunctionEntity.Command> cmd) {
    TestProbe<Reply<T>> probe = testKit.createTestProbe();
    kit.runCommand(cmd.apply(probe.getRef()));
    return probe.receiveMessage();
  }

  private FunctionEntity.FunctionView create(boolean publish) {
    return this.<FunctionEntity.FunctionView>run(r -> new FunctionEntity.Create(config("sha-1"), Map.of("team", "a"), publish, r))
        .getOrThrow();
  }

  @Test
  void createIsAnsweredAfterTheRegistryRowIsWrittenAndADuplicateIsAConflict() {
    FunctionEntity.FunctionView view = create(false);
    assertEquals("$LATEST", view.configuration().version());
    assertEquals(List.of(1L), registryWrites);
    Reply<FunctionEntity.FunctionView> again = run(r -> new FunctionEntity.Create(config("sha-2"), Map.of(), false, r));
    assertEquals(409, again.error().status());
    assertEquals("ResourceConflictException", again.error().errorType());
    assertEquals("sha-1", kit.getState().latest().codeSha256());
  }

  @Test
  void aStaleRevisionIdIsRefusedAndChangesNothing() {
    String revision = create(false).configuration().revisionId();
    ConfigurationPatch patch = new ConfigurationPatch(null, null, null, "new", 60, null, null, null, null, null, null, null,
        null);
    Reply<FunctionEntity.FunctionView> stale = run(r -> new FunctionEntity.UpdateConfiguration(patch, "not-" + revision, r));
    assertEquals(412, stale.error().status());
    assertEquals(30, kit.getState().latest().timeout());
    FunctionConfig updated = this.<FunctionEntity.FunctionView>run(
        r -> new FunctionEntity.UpdateConfiguration(patch, revision, r)).getOrThrow().configuration();
    assertEquals(60, updated.timeout());
    assertEquals("new", updated.description());
    assertEquals(Map.of("STAGE", "test"), updated.environment());
    assertFalse(updated.revisionId().equals(revision));
  }

  @Test
  void publishingUnchangedCodeReturnsTheExistingVersion() {
    create(true);
    FunctionConfig again = this.<FunctionConfig>run(r -> new FunctionEntity.PublishVersion(null, null, null, r)).getOrThrow();
    assertEquals("1", again.version());
    this.<FunctionEntity.FunctionView>run(r -> new FunctionEntity.UpdateCode("sha-2", 5, "cd", 50, null, false, null, r)).getOrThrow();
    FunctionConfig second = this.<FunctionConfig>run(r -> new FunctionEntity.PublishVersion("sha-2", "v2", null, r)).getOrThrow();
    assertEquals("2", second.version());
    assertEquals("sha-2", second.codeSha256());
    assertEquals("sha-1", kit.getState().versions().get("1").codeSha256());
    Reply<FunctionConfig> wrongSha = run(r -> new FunctionEntity.PublishVersion("sha-9", null, null, r));
    assertEquals("InvalidParameterValueException", wrongSha.error().errorType());
  }

  @Test
  void aVersionAnAliasRoutesToCannotBeDeletedAndDeletionStartsVersionsAgain() {
    create(true);
    this.<FunctionEntity.FunctionView>run(r -> new FunctionEntity.UpdateCode("sha-2", 5, "cd", 50, null, true, null, r)).getOrThrow();
    AliasConfig live = this.<AliasConfig>run(r -> new FunctionEntity.CreateAlias(
        new AliasConfig("live", "2", null, Map.of("1", 0.1), null), r)).getOrThrow();
    assertEquals(Map.of("1", 0.1), live.additionalVersionWeights());
    Reply<Boolean> refused = run(r -> new FunctionEntity.Delete("1", r));
    assertEquals(409, refused.error().status());
    assertTrue(refused.error().message().contains("[live]"));

    Reply<AliasConfig> toLatest = run(r -> new FunctionEntity.CreateAlias(
        new AliasConfig("canary", "$LATEST", null, Map.of("1", 0.5), null), r));
    assertEquals("InvalidParameterValueException", toLatest.error().errorType());

    this.<Boolean>run(r -> new FunctionEntity.Delete(null, r)).getOrThrow();
    assertFalse(kit.getState().exists());
    assertFalse(registryExists.get(registryExists.size() - 1));
    FunctionEntity.FunctionView recreated = create(true);
    assertEquals("1", recreated.configuration().version());
    assertTrue(kit.getState().aliases().isEmpty());
  }

  @Test
  void anAliasResolvesToItsVersionsConfiguration() {
    create(true);
    this.<FunctionEntity.FunctionView>run(r -> new FunctionEntity.UpdateCode("sha-2", 5, "cd", 50, null, false, null, r)).getOrThrow();
    this.<AliasConfig>run(r -> new FunctionEntity.CreateAlias(new AliasConfig("prod", "1", "p", null, null), r)).getOrThrow();
    FunctionConfig viaAlias = this.<FunctionEntity.FunctionView>run(r -> new FunctionEntity.Get("prod", r)).getOrThrow().configuration();
    assertEquals("1", viaAlias.version());
    assertEquals("sha-1", viaAlias.codeSha256());
    Reply<FunctionEntity.FunctionView> missing = run(r -> new FunctionEntity.Get("7", r));
    assertEquals(404, missing.error().status());
  }

  @Test
  void permissionsTagsAndConcurrencyRoundTrip() {
    String revision = create(false).configuration().revisionId();
    PolicyStatement s = new PolicyStatement("s3", null, "lambda:InvokeFunction", "s3.amazonaws.com",
        ARNS.functionArn("orders"), "arn:aws:s3:::bucket", null, null, null, null, false);
    this.<PolicyStatement>run(r -> new FunctionEntity.AddPermission(s, revision, r)).getOrThrow();
    assertFalse(kit.getState().latest().revisionId().equals(revision), "a policy change gives a new revision");
    assertEquals(409, this.<PolicyStatement>run(r -> new FunctionEntity.AddPermission(s, null, r)).error().status());
    assertEquals(1, this.<FunctionEntity.Policy>run(r -> new FunctionEntity.GetPolicy(null, r)).getOrThrow().statements().size());
    this.<Boolean>run(r -> new FunctionEntity.RemovePermission(null, "s3", null, r)).getOrThrow();
    assertEquals(404, this.<FunctionEntity.Policy>run(r -> new FunctionEntity.GetPolicy(null, r)).error().status());

    this.<Map<String, String>>run(r -> new FunctionEntity.TagResource(Map.of("cost", "x"), r)).getOrThrow();
    Map<String, String> tags = this.<Map<String, String>>run(r -> new FunctionEntity.UntagResource(List.of("team"), r)).getOrThrow();
    assertEquals(Map.of("cost", "x"), tags);

    assertEquals(5, this.<Integer>run(r -> new FunctionEntity.PutConcurrency(5, r)).getOrThrow());
    assertEquals(5, this.<Integer>run(FunctionEntity.GetConcurrency::new).getOrThrow());
    this.<Boolean>run(FunctionEntity.DeleteConcurrency::new).getOrThrow();
    assertNull(this.<Integer>run(FunctionEntity.GetConcurrency::new).getOrThrow());
  }

  @Test
  void eventInvokeConfigsArePutPatchedResolvedForInvokesAndGoWithTheirVersion() {
    create(true);
    EventInvokeConfig put = new EventInvokeConfig(1, null, null, ARNS.functionArn("failures"), 1L);
    assertEquals(404, this.<EventInvokeConfig>run(r -> new FunctionEntity.GetEventInvokeConfig("1", r)).error()
        .status(), "none yet");
    assertEquals(404, this.<EventInvokeConfig>run(r -> new FunctionEntity.PutEventInvokeConfig("1",
        put, false, r)).error().status(), "an update needs a configuration to change");
    assertEquals(404, this.<EventInvokeConfig>run(r -> new FunctionEntity.PutEventInvokeConfig("9",
        put, true, r)).error().status(), "no version 9");
    this.<EventInvokeConfig>run(r -> new FunctionEntity.PutEventInvokeConfig("1", put, true, r)).getOrThrow();
    EventInvokeConfig patched = this.<EventInvokeConfig>run(r -> new FunctionEntity.PutEventInvokeConfig("1",
        new EventInvokeConfig(null, 3600, null, "", 2L), false, r)).getOrThrow();
    assertEquals(new EventInvokeConfig(1, 3600, null, null, 2L), patched, "kept the retries, removed OnFailure");

    FunctionEntity.InvokeTarget target = this.<FunctionEntity.InvokeTarget>run(
        r -> new FunctionEntity.ResolveInvokeTarget("1", r)).getOrThrow();
    assertEquals(patched, target.eventInvokeConfig());
    assertNull(this.<FunctionEntity.InvokeTarget>run(r -> new FunctionEntity.ResolveInvokeTarget(null, r))
        .getOrThrow().eventInvokeConfig(), "$LATEST has none");
    assertEquals(Map.of("1", patched), this.<Map<String, EventInvokeConfig>>run(
        FunctionEntity.ListEventInvokeConfigs::new).getOrThrow());

    this.<Boolean>run(r -> new FunctionEntity.Delete("1", r)).getOrThrow();
    assertEquals(Map.of(), this.<Map<String, EventInvokeConfig>>run(FunctionEntity.ListEventInvokeConfigs::new)
        .getOrThrow(), "deleting a version deletes its configuration");
  }

  @Test
  void runtimeManagementConfigsArePerVersionGoWithTheirVersionAndRecursionDefaultsToTerminate() {
    create(true);
    String pinned = "arn:aws:lambda:us-east-1::runtime:python-3.11.7";
    assertEquals(RuntimeManagementConfig.DEFAULT, this.<RuntimeManagementConfig>run(
        r -> new FunctionEntity.GetRuntimeManagementConfig(null, r)).getOrThrow());
    this.<RuntimeManagementConfig>run(r -> new FunctionEntity.PutRuntimeManagementConfig("1",
        new RuntimeManagementConfig("Manual", pinned), r)).getOrThrow();
    this.<RuntimeManagementConfig>run(r -> new FunctionEntity.PutRuntimeManagementConfig("$LATEST",
        new RuntimeManagementConfig("FunctionUpdate", null), r)).getOrThrow();
    assertEquals(pinned, this.<RuntimeManagementConfig>run(
        r -> new FunctionEntity.GetRuntimeManagementConfig("1", r)).getOrThrow().runtimeVersionArn());
    assertEquals("FunctionUpdate", this.<RuntimeManagementConfig>run(
        r -> new FunctionEntity.GetRuntimeManagementConfig(null, r)).getOrThrow().updateRuntimeOn());

    this.<AliasConfig>run(r -> new FunctionEntity.CreateAlias(new AliasConfig("live", "1", null, Map.of(), null), r))
        .getOrThrow();
    Reply<RuntimeManagementConfig> alias = run(r -> new FunctionEntity.PutRuntimeManagementConfig("live",
        RuntimeManagementConfig.DEFAULT, r));
    assertEquals("InvalidParameterValueException", alias.error().errorType());
    Reply<RuntimeManagementConfig> missing = run(r -> new FunctionEntity.GetRuntimeManagementConfig("7", r));
    assertEquals(404, missing.error().status());
    assertEquals(2, kit.getState().runtimeManagementConfigs().size(), "refused puts store nothing");

    this.<Boolean>run(r -> new FunctionEntity.DeleteAlias("live", r)).getOrThrow();
    this.<Boolean>run(r -> new FunctionEntity.Delete("1", r)).getOrThrow();
    assertEquals(List.of("$LATEST"), List.copyOf(kit.getState().runtimeManagementConfigs().keySet()));

    assertEquals("Terminate", this.<String>run(FunctionEntity.GetRecursionConfig::new).getOrThrow());
    assertEquals("Allow", this.<String>run(r -> new FunctionEntity.PutRecursionConfig("Allow", r)).getOrThrow());
    kit.restart();
    assertEquals("Allow", this.<String>run(FunctionEntity.GetRecursionConfig::new).getOrThrow());
    assertEquals("FunctionUpdate", kit.getState().runtimeManagementConfigs().get("$LATEST").updateRuntimeOn());

    this.<Boolean>run(r -> new FunctionEntity.Delete(null, r)).getOrThrow();
    create(false);
    assertEquals("Terminate", this.<String>run(FunctionEntity.GetRecursionConfig::new).getOrThrow(),
        "a function created again under the same name starts from AWS's defaults");
    assertTrue(kit.getState().runtimeManagementConfigs().isEmpty());
  }

  @Test
  void everyRegistryWriteCarriesAHigherSequenceNumberThanTheLast() {
    create(true);
    this.<Map<String, String>>run(r -> new FunctionEntity.TagResource(Map.of("a", "b"), r)).getOrThrow();
    this.<Boolean>run(r -> new FunctionEntity.Delete(null, r)).getOrThrow();
    for (int i = 1; i < registryWrites.size(); i++) {
      assertTrue(registryWrites.get(i) > registryWrites.get(i - 1), registryWrites.toString());
    }
    kit.restart();
    assertFalse(kit.getState().exists());
  }

  @Test
  void commandsOnAMissingFunctionAreNotFound() {
    Reply<FunctionEntity.FunctionView> r = run(ref -> new FunctionEntity.Get(null, ref));
    assertEquals(404, r.error().status());
    assertEquals("Function not found: arn:aws:lambda:us-east-1:000000000000:function:orders", r.error().message());
    for (Reply<?> other : List.<Reply<?>>of(
        this.<Boolean>run(ref -> new FunctionEntity.Delete("1", ref)),
        this.<List<AliasConfig>>run(ref -> new FunctionEntity.ListAliases(null, ref)),
        this.<Integer>run(ref -> new FunctionEntity.PutConcurrency(5, ref)),
        this.<Map<String, String>>run(ref -> new FunctionEntity.TagResource(Map.of("a", "b"), ref)),
        this.<FunctionEntity.InvokeTarget>run(ref -> new FunctionEntity.ResolveInvokeTarget("live", ref)))) {
      assertEquals(r.error(), other.error());
    }
    assertTrue(registryWrites.isEmpty());
    assertEquals(-1, this.<Integer>run(ref -> new FunctionEntity.AcquireLease("node-a", 0, 1, ref)).getOrThrow(),
        "no reserved concurrency: the account's pool applies");
  }

  @Test
  void lastModifiedIsTheTimeOfTheChange() {
    assertEquals("2024-05-01T12:00:00.000+0000", create(false).configuration().lastModified());
    clock.advance(Duration.ofSeconds(90));
    ConfigurationPatch patch = new ConfigurationPatch(null, null, null, "new", null, null, null, null, null, null, null,
        null, null);
    assertEquals("2024-05-01T12:01:30.000+0000", this.<FunctionEntity.FunctionView>run(
        r -> new FunctionEntity.UpdateConfiguration(patch, null, r)).getOrThrow().configuration().lastModified());
  }

  @Test
  void reservedConcurrencyIsLeasedUpToItsLimitAndALeaseNotRenewedIsFreedAfterItsTtlAndMargin() {
    create(false);
    this.<Integer>run(r -> new FunctionEntity.PutConcurrency(3, r)).getOrThrow();
    assertEquals(2, this.<Integer>run(r -> new FunctionEntity.AcquireLease("node-a", 0, 2, r)).getOrThrow());
    assertEquals(1, this.<Integer>run(r -> new FunctionEntity.AcquireLease("node-b", 0, 3, r)).getOrThrow());
    var config = testKit.system().settings().config();
    Duration ttl = config.getDuration("tributary.concurrency.lease-ttl");
    Duration margin = config.getDuration("tributary.concurrency.lease-margin");
    clock.advance(ttl.plus(margin));
    assertEquals(1, this.<Integer>run(r -> new FunctionEntity.AcquireLease("node-b", 1, 3, r)).getOrThrow(),
        "node-a's slots are kept until its lease and the margin have passed");
    clock.advance(Duration.ofMillis(1));
    assertEquals(3, this.<Integer>run(r -> new FunctionEntity.AcquireLease("node-b", 1, 3, r)).getOrThrow());
  }

  @Test
  void provisionedConcurrencyIsHeldApartFromTheReservedSlotsLeasedOnDemandAndGoesWithItsVersion() {
    create(true);
    this.<Integer>run(r -> new FunctionEntity.PutConcurrency(3, r)).getOrThrow();
    FunctionEntity.Provisioned provisioned = this.<FunctionEntity.Provisioned>run(
        r -> new FunctionEntity.PutProvisionedConcurrency("1", 2, r)).getOrThrow();
    assertEquals("1", provisioned.version().version());
    assertEquals("arn:aws:lambda:us-east-1:000000000000:function:orders:1", provisioned.functionArn());
    assertEquals(1, this.<Integer>run(r -> new FunctionEntity.AcquireLease("node-a", 0, 3, r)).getOrThrow(),
        "of 3 reserved, 2 are provisioned: 1 is left on demand");
    assertEquals("InvalidParameterValueException", this.<Integer>run(
        r -> new FunctionEntity.PutConcurrency(1, r)).error().errorType());
    assertEquals(3, this.<Integer>run(r -> new FunctionEntity.GetConcurrency(r)).getOrThrow(),
        "a refused put changes nothing");

    this.<Boolean>run(r -> new FunctionEntity.Delete("1", r)).getOrThrow();
    assertEquals(List.of(), this.<List<FunctionEntity.Provisioned>>run(FunctionEntity.ListProvisionedConcurrency::new)
        .getOrThrow(), "a deleted version's provisioned concurrency goes with it");
    assertEquals(0, kit.getState().provisionedTotal());
  }

  @Test
  void aFailedJournalWriteRestartsTheEntityWhichRecoversAndAnswersAgain() {
    create(false);
    kit.persistenceTestKit().failNextPersisted();
    TestProbe<Reply<Map<String, String>>> lost = testKit.createTestProbe();
    kit.runCommand(new FunctionEntity.TagResource(Map.of("cost", "x"), lost.getRef()));
    lost.expectNoMessage(Duration.ofMillis(300));
    assertEquals(Map.of("team", "a"), kit.getState().tags(), "recovered without the tags that were not stored");
    assertEquals(Map.of("cost", "x", "team", "a"), this.<Map<String, String>>run(
        r -> new FunctionEntity.TagResource(Map.of("cost", "x"), r)).getOrThrow());
  }
}
