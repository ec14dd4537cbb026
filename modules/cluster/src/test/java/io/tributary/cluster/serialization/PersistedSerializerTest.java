package io.tributary.cluster.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.api.AliasConfig;
import io.tributary.api.EventBus;
import io.tributary.api.EventInvokeConfig;
import io.tributary.api.EventRule;
import io.tributary.api.EventSourceMapping;
import io.tributary.api.FunctionConfig;
import io.tributary.api.FunctionUrlConfig;
import io.tributary.api.LayerVersion;
import io.tributary.api.PolicyStatement;
import io.tributary.api.ProvisionedConcurrencyConfig;
import io.tributary.api.RuntimeManagementConfig;
import io.tributary.cluster.async.AsyncQueueEntity;
import io.tributary.cluster.function.FunctionEntity;
import io.tributary.cluster.layer.LayerEntity;
import io.tributary.cluster.mapping.EventSourceMappingEntity;
import io.tributary.cluster.push.EventBusEntity;
import io.tributary.cluster.push.ScheduleEntity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Reads the committed golden bytes of every persisted type and release. A golden file is written
 * once, when its type or version is new ({@code -Dgolden.write=true} creates missing files and never
 * touches existing ones); after that it is the contract that old journals stay readable.
 */
class PersistedSerializerTest {

  private static final Path GOLDEN = Path.of("src/test/resources/golden");
  private final PersistedSerializer serializer = new PersistedSerializer();

  static final FunctionConfig CONFIG = new FunctionConfig("orders", "$LATEST", "java17",
      "arn:aws:iam::000000000000:role/lambda", "com.example.Handler::handleRequest", "Orders", 30, 512,
      Map.of("STAGE", "prod"), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", 1234,
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0, List.of("x86_64"), 512, "PassThrough",
      null, null, new FunctionConfig.LoggingConfig("Text", null, null, "/aws/lambda/orders"),
      // Written before layers and unzipped sizes were recorded: they read as none and 0.
      null, "2026-11-22T10:00:00.000+0000",
      "8f0e6d3c-6c55-4b43-a43e-7f4b0d2a9b11", "Active", "Successful");
  static final AliasConfig ALIAS = new AliasConfig("live", "2", "live traffic", Map.of("1", 0.25), "rev-alias");
  static final PolicyStatement STATEMENT = new PolicyStatement("s3-invoke", "", "lambda:InvokeFunction",
      "s3.amazonaws.com", "arn:aws:lambda:us-east-1:000000000000:function:orders", "arn:aws:s3:::uploads", "000000000000",
      // Written before InvokedViaFunctionUrl was stored: it reads as false.
      null, null, null, false);

  static final LayerVersion LAYER_VERSION = new LayerVersion("shared-libs", 2, "requests and its deps",
      List.of("python3.12", "python3.13"), List.of("x86_64"), "MIT", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
      4321, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 98765, "2026-12-07T12:00:00.000+0000");
  static final PolicyStatement LAYER_STATEMENT = new PolicyStatement("org-readers", "", "lambda:GetLayerVersion", "*",
      "arn:aws:lambda:us-east-1:000000000000:layer:shared-libs:2", null, null, null, "o-a1b2c3d4e5", null, false);

  /** One example of each persisted type at version 1, as the golden files hold them. */
  static Map<String, Object> v1Samples() {
    FunctionConfig v1 = CONFIG.withVersion("1", "first", "rev-v1", "2026-11-22T10:01:00.000+0000");
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("FunctionCreated.v1", new FunctionEntity.FunctionCreated(CONFIG, Map.of("team", "payments")));
    m.put("FunctionCodeUpdated.v1", new FunctionEntity.FunctionCodeUpdated(CONFIG));
    m.put("FunctionConfigurationUpdated.v1", new FunctionEntity.FunctionConfigurationUpdated(CONFIG));
    m.put("VersionPublished.v1", new FunctionEntity.VersionPublished(v1));
    m.put("VersionDeleted.v1", new FunctionEntity.VersionDeleted("1"));
    m.put("FunctionDeleted.v1", new FunctionEntity.FunctionDeleted("2026-11-22T10:02:00.000+0000"));
    m.put("AliasCreated.v1", new FunctionEntity.AliasCreated(ALIAS));
    m.put("AliasUpdated.v1", new FunctionEntity.AliasUpdated(ALIAS));
    m.put("AliasDeleted.v1", new FunctionEntity.AliasDeleted("live"));
    m.put("ConcurrencyPut.v1", new FunctionEntity.ConcurrencyPut(5));
    m.put("ConcurrencyDeleted.v1", new FunctionEntity.ConcurrencyDeleted("2026-11-22T10:03:00.000+0000"));
    m.put("PermissionAdded.v1", new FunctionEntity.PermissionAdded(STATEMENT, "rev-2"));
    m.put("PermissionRemoved.v1", new FunctionEntity.PermissionRemoved("", "s3-invoke", "rev-3"));
    m.put("TagsAdded.v1", new FunctionEntity.TagsAdded(Map.of("cost-center", "42")));
    m.put("TagsRemoved.v1", new FunctionEntity.TagsRemoved(List.of("team")));
    m.put("FunctionState.v1", new FunctionEntity.State(CONFIG, Map.of("1", v1), 1, Map.of("live", ALIAS), 5,
        List.of(STATEMENT), Map.of("team", "payments"), Map.of(), Map.of(), null, null, null));
    m.put("EventInvokeConfigPut.v1", new FunctionEntity.EventInvokeConfigPut("live",
        new EventInvokeConfig(1, 3600, null, "arn:aws:lambda:us-east-1:000000000000:function:failures",
            1_795_000_000_000L)));
    m.put("EventInvokeConfigDeleted.v1", new FunctionEntity.EventInvokeConfigDeleted("live"));
    m.put("RuntimeManagementConfigPut.v1", new FunctionEntity.RuntimeManagementConfigPut("1",
        new RuntimeManagementConfig("Manual", "arn:aws:lambda:us-east-1::runtime:python-3.11.7")));
    m.put("RecursionConfigPut.v1", new FunctionEntity.RecursionConfigPut("Allow"));
    m.put("ProvisionedConcurrencyPut.v1", new FunctionEntity.ProvisionedConcurrencyPut("live",
        new ProvisionedConcurrencyConfig(4, "2026-12-07T12:00:00.000+0000")));
    m.put("ProvisionedConcurrencyDeleted.v1", new FunctionEntity.ProvisionedConcurrencyDeleted("live"));
    m.put("FunctionUrlConfigPut.v1", new FunctionEntity.FunctionUrlConfigPut("live", new FunctionUrlConfig(
        "k3x9q2m7w4z8r1t6y5u0p3a2s7d9f1g4", "NONE", new FunctionUrlConfig.Cors(true, List.of("x-custom"),
            List.of("GET", "POST"), List.of("https://app.example.com"), List.of("x-request-id"), 300),
        "BUFFERED", "2026-12-07T13:00:00.000+0000", "2026-12-07T13:05:00.000+0000")));
    m.put("FunctionUrlConfigDeleted.v1", new FunctionEntity.FunctionUrlConfigDeleted("live"));
    m.put("EventAccepted.v1", new AsyncQueueEntity.EventAccepted("5e4f1c7a-3b2d-4c1e-9f8a-7d6c5b4a3f21", "live",
        1_795_000_000_000L));
    m.put("RetryScheduled.v1", new AsyncQueueEntity.RetryScheduled("5e4f1c7a-3b2d-4c1e-9f8a-7d6c5b4a3f21", 1,
        1_795_000_060_000L));
    m.put("EventFinished.v1", new AsyncQueueEntity.EventFinished("5e4f1c7a-3b2d-4c1e-9f8a-7d6c5b4a3f21",
        "RetriesExhausted", 3, null));
    m.put("EventsCommitted.v1", new AsyncQueueEntity.EventsCommitted(
        List.of(new AsyncQueueEntity.EventFinished("0b9d3a52-8c41-4f7e-a1d2-6e5f4c3b2a19", "Success", 1, null)),
        List.of(new AsyncQueueEntity.EventAccepted("5e4f1c7a-3b2d-4c1e-9f8a-7d6c5b4a3f21", "live", 1_795_000_000_000L),
            new AsyncQueueEntity.EventAccepted("7c2e9f14-1a3b-4d5c-8e6f-0a1b2c3d4e5f", null, 1_795_000_000_001L))));
    m.put("AsyncQueueSnapshot.v1", new AsyncQueueEntity.Snapshot(List.of(
        new AsyncQueueEntity.Pending("5e4f1c7a-3b2d-4c1e-9f8a-7d6c5b4a3f21", "live", 1_795_000_000_000L, 1,
            1_795_000_060_000L),
        new AsyncQueueEntity.Pending("0b9d3a52-8c41-4f7e-a1d2-6e5f4c3b2a19", null, 1_795_000_001_000L, 0, 0)),
        Map.of(), null));
    EventSourceMapping mapping = new EventSourceMapping("1f0b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "arn:aws:lambda:us-east-1:000000000000:function:orders", null, List.of("broker-1:9092", "broker-2:9092"),
        List.of("orders"), null, 100, 0, "TRIM_HORIZON", true, "Enabled", "USER_INITIATED", "OK", 1_795_000_000_000L, null, null,
        null, null, null, null, null);
    // Written before mappings had tags: they read as untagged.
    m.put("MappingCreated.v1", new EventSourceMappingEntity.MappingCreated(mapping, Map.of()));
    m.put("MappingUpdated.v1", new EventSourceMappingEntity.MappingUpdated(mapping));
    m.put("MappingDeleted.v1", new EventSourceMappingEntity.MappingDeleted(mapping.uuid()));
    m.put("MappingState.v1", new EventSourceMappingEntity.State(mapping, Map.of()));
    m.put("MappingTagsAdded.v1", new EventSourceMappingEntity.MappingTagsAdded(Map.of("team", "orders")));
    m.put("MappingTagsRemoved.v1", new EventSourceMappingEntity.MappingTagsRemoved(List.of("stage")));
    m.put("LayerVersionPublished.v1", new LayerEntity.LayerVersionPublished(LAYER_VERSION));
    m.put("LayerVersionDeleted.v1", new LayerEntity.LayerVersionDeleted(1));
    m.put("LayerPermissionAdded.v1", new LayerEntity.LayerPermissionAdded(2, LAYER_STATEMENT, "rev-layer-1"));
    m.put("LayerPermissionRemoved.v1", new LayerEntity.LayerPermissionRemoved(2, "org-readers", "rev-layer-2"));
    m.put("LayerState.v1", new LayerEntity.State(Map.of(2L, LAYER_VERSION), 2,
        Map.of(2L, new LayerEntity.Policy(List.of(LAYER_STATEMENT), "rev-layer-1"))));
    EventRule.Target target = new EventRule.Target("totals", "arn:aws:lambda:us-east-1:000000000000:function:totals",
        null, null, new EventRule.InputTransformer(Map.of("total", "$.detail.total"), "{\"total\": <total>}"),
        new EventRule.RetryPolicy(3, 3600), "arn:aws:sqs:us-east-1:000000000000:orders-dlq");
    EventRule rule = new EventRule("big-orders", "orders", "{\"source\":[\"shop\"]}", null, EventRule.ENABLED,
        "orders over 100", null, List.of(target));
    m.put("BusCreated.v1", new EventBusEntity.BusCreated("shop orders", "2026-12-08T12:00:00Z"));
    m.put("BusDeleted.v1", new EventBusEntity.BusDeleted());
    m.put("RulePut.v1", new EventBusEntity.RulePut(rule.withTargets(List.of())));
    m.put("RuleDeleted.v1", new EventBusEntity.RuleDeleted("big-orders"));
    m.put("RuleStateSet.v1", new EventBusEntity.RuleStateSet("big-orders", EventRule.DISABLED));
    m.put("TargetsPut.v1", new EventBusEntity.TargetsPut("big-orders", List.of(target)));
    m.put("TargetsRemoved.v1", new EventBusEntity.TargetsRemoved("big-orders", List.of("totals")));
    m.put("EventBusState.v1", new EventBusEntity.State("orders", new EventBus("orders", "shop orders",
        "2026-12-08T12:00:00Z"), Map.of("big-orders", rule)));
    m.put("ScheduleStarted.v1", new ScheduleEntity.ScheduleStarted("rate(5 minutes)", 1_796_000_000_000L));
    m.put("ScheduleStopped.v1", new ScheduleEntity.ScheduleStopped());
    m.put("TickRecorded.v1", new ScheduleEntity.TickRecorded(1_796_000_300_000L, List.of("nightly", "audit"), 0));
    m.put("TickHandedOff.v1", new ScheduleEntity.TickHandedOff(1_796_000_300_000L, "audit"));
    m.put("ScheduleState.v1", new ScheduleEntity.State("rate(5 minutes)", 1_796_000_000_000L, 1_796_000_300_000L,
        Map.of(1_796_000_300_000L, List.of("nightly"))));
    return m;
  }

  @Test
  void everyPersistedTypeHasAGoldenFileOfItsCurrentVersion() throws IOException {
    writeMissingGoldenFilesIfAsked();
    List<String> missing = new ArrayList<>();
    for (String manifest : PersistedSerializer.MANIFESTS.keySet()) {
      if (!Files.exists(GOLDEN.resolve(manifest + ".cbor"))) {
        missing.add(manifest);
      }
    }
    assertTrue(missing.isEmpty(), "No golden file for " + missing
        + ": add a sample to v1Samples() and run once with -Dgolden.write=true");
  }

  @Test
  void goldenFilesOfEveryReleaseStillReadAsTheirValues() throws IOException {
    Map<String, Object> expected = v1Samples();
    try (var files = Files.list(GOLDEN)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".cbor")).sorted().toList()) {
        String manifest = file.getFileName().toString().replace(".cbor", "");
        Object decoded = serializer.fromBinary(Files.readAllBytes(file), manifest);
        assertEquals(expected.get(manifest), decoded, manifest);
      }
    }
  }

  @Test
  void addedFieldsAreToleratedBothWays() throws IOException {
    byte[] withExtra = PersistedSerializer.CBOR.writeValueAsBytes(Map.of("version", "3", "addedInAFutureRelease", true));
    assertEquals(new FunctionEntity.VersionDeleted("3"), serializer.fromBinary(withExtra, "VersionDeleted.v1"));
    byte[] withoutFields = PersistedSerializer.CBOR.writeValueAsBytes(Map.of("functionName", "f"));
    FunctionConfig sparse = PersistedSerializer.CBOR.readValue(withoutFields, FunctionConfig.class);
    assertEquals(3, sparse.timeout());
    assertEquals(List.of("x86_64"), sparse.architectures());
    assertEquals("/aws/lambda/f", sparse.loggingConfig().logGroup());
  }

  @Test
  void aPermissionForFunctionUrlsKeepsInvokedViaFunctionUrl() {
    FunctionEntity.PermissionAdded added = new FunctionEntity.PermissionAdded(new PolicyStatement("url-invoke", "",
        "lambda:InvokeFunction", "*", "arn:aws:lambda:us-east-1:000000000000:function:orders", null, null, null,
        null, null, true), "rev-4");
    assertEquals(added, serializer.fromBinary(serializer.toBinary(added), serializer.manifest(added)));
  }

  private void writeMissingGoldenFilesIfAsked() throws IOException {
    if (!Boolean.getBoolean("golden.write")) {
      return;
    }
    Files.createDirectories(GOLDEN);
    for (Map.Entry<String, Object> sample : v1Samples().entrySet()) {
      Path file = GOLDEN.resolve(sample.getKey() + ".cbor");
      if (!Files.exists(file)) {
        assertEquals(sample.getKey(), serializer.manifest(sample.getValue()));
        Files.write(file, serializer.toBinary(sample.getValue()));
      }
    }
  }
}
