package io.tributary.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.api.LambdaException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Request bodies read into records the way AWS reads them, with AWS's errors for what does not fit. */
class JsonBodyTest {

  private static <T> T read(String json, Class<T> shape) {
    return JsonBody.read(json.getBytes(StandardCharsets.UTF_8), shape);
  }

  private static String refusal(String json, Class<?> shape) {
    LambdaException e = assertThrows(LambdaException.class, () -> read(json, shape));
    assertEquals(400, e.status());
    assertEquals("InvalidRequestContentException", e.errorType());
    return e.getMessage();
  }

  /** What a shape accepts, as its refusal of an unknown member lists it. */
  private static List<String> accepted(Class<?> shape) {
    String message = refusal("{\"NoSuchMember\": 1}", shape);
    String list = message.substring(message.indexOf("accepts: ") + "accepts: ".length(), message.length() - 1);
    return Arrays.asList(list.split(", "));
  }

  private static List<String> sorted(String... members) {
    return List.copyOf(new TreeSet<>(List.of(members)));
  }

  @Test
  void membersAreReadByAwsNames() {
    FunctionRoutes.CreateFunction create = read("""
        {"FunctionName": "orders", "Timeout": 30, "Publish": true, "KMSKeyArn": "key",
         "Environment": {"Variables": {"STAGE": "prod"}}, "Architectures": ["arm64"],
         "Code": {"ZipFile": "UEsDBA==", "SourceKMSKeyArn": "k"}}""", FunctionRoutes.CreateFunction.class);
    assertEquals("orders", create.functionName());
    assertEquals(30, create.timeout());
    assertTrue(create.publish());
    assertEquals("key", create.kmsKeyArn());
    assertEquals(Map.of("STAGE", "prod"), create.environment().variables());
    assertEquals(List.of("arm64"), create.architectures());
    assertEquals("UEsDBA==", create.code().zipFile());
    EventSourceMappingRoutes.CreateEventSourceMapping mapping = read("""
        {"SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["b:9092"]}},
         "StartingPositionTimestamp": 1700000000}""", EventSourceMappingRoutes.CreateEventSourceMapping.class);
    assertEquals(List.of("b:9092"), mapping.selfManagedEventSource().endpoints().kafkaBootstrapServers());
    assertEquals(1.7e9, mapping.startingPositionTimestamp(), "an integer is a number");
  }

  @Test
  void anEmptyBodyOrANullMemberIsAbsent() {
    FunctionRoutes.UpdateFunctionConfiguration empty = read("", FunctionRoutes.UpdateFunctionConfiguration.class);
    assertNull(empty.timeout());
    FunctionRoutes.UpdateFunctionConfiguration nulls = read("{\"Timeout\": null, \"Layers\": null}",
        FunctionRoutes.UpdateFunctionConfiguration.class);
    assertNull(nulls.timeout());
    assertNull(nulls.layers());
  }

  @Test
  void aMemberTributaryDoesNotKnowIsRefusedByItsPath() {
    assertEquals("Unknown member Bogus in the request body. Tributary accepts: CodeSha256, Description, RevisionId.",
        refusal("{\"Description\": \"d\", \"Bogus\": 1}", FunctionRoutes.PublishVersion.class));
    assertEquals("Unknown member Code.Extra in the request body. Tributary accepts: ImageUri, S3Bucket, S3Key, "
        + "S3ObjectVersion, SourceKMSKeyArn, ZipFile.",
        refusal("{\"Code\": {\"ZipFile\": \"x\", \"Extra\": 1}}", FunctionRoutes.CreateFunction.class));
    assertEquals("Unknown member FilterCriteria.Filters.0.X in the request body. Tributary accepts: Pattern.",
        refusal("{\"FilterCriteria\": {\"Filters\": [{\"Pattern\": \"{}\", \"X\": 1}]}}",
            EventSourceMappingRoutes.UpdateEventSourceMapping.class));
    assertTrue(refusal("{\"Timeout\": \"ten\", \"Bogus\": 1}", FunctionRoutes.UpdateFunctionConfiguration.class)
        .startsWith("Unknown member Bogus"), "a member unknown at the top is named before any type is checked");
  }

  @Test
  void aMemberOfTheWrongTypeIsNamedWithWhatItGot() {
    String prefix = "Could not parse request body into json: ";
    Class<FunctionRoutes.CreateFunction> create = FunctionRoutes.CreateFunction.class;
    assertEquals(prefix + "Timeout must be an integer, got string \"ten\"", refusal("{\"Timeout\": \"ten\"}", create));
    assertEquals(prefix + "Timeout must be an integer, got string \"10\"", refusal("{\"Timeout\": \"10\"}", create));
    assertEquals(prefix + "Timeout must be an integer, got number 1.5", refusal("{\"Timeout\": 1.5}", create));
    assertEquals(prefix + "Timeout must be an integer, got number 10000000000",
        refusal("{\"Timeout\": 10000000000}", create));
    assertEquals(prefix + "FunctionName must be a string, got number 5", refusal("{\"FunctionName\": 5}", create));
    assertEquals(prefix + "Publish must be a boolean, got string \"true\"", refusal("{\"Publish\": \"true\"}", create));
    assertEquals(prefix + "Code must be an object, got number 5", refusal("{\"Code\": 5}", create));
    assertEquals(prefix + "Environment.Variables.STAGE must be a string, got number 1",
        refusal("{\"Environment\": {\"Variables\": {\"STAGE\": 1}}}", create));
    assertEquals(prefix + "Tags.team must be a string, got null null", refusal("{\"Tags\": {\"team\": null}}", create));
    assertEquals(prefix + "Architectures must be an array of strings, got array [1]",
        refusal("{\"Architectures\": [1]}", create));
    assertEquals(prefix + "Architectures must be an array of strings, got string \"arm64\"",
        refusal("{\"Architectures\": \"arm64\"}", create));
    assertEquals(prefix + "RoutingConfig.AdditionalVersionWeights.2 must be a number, got string \"x\"",
        refusal("{\"RoutingConfig\": {\"AdditionalVersionWeights\": {\"2\": \"x\"}}}", FunctionRoutes.AliasRequest.class));
    assertEquals(prefix + "FilterCriteria.Filters must be an array of objects, got array [5]",
        refusal("{\"FilterCriteria\": {\"Filters\": [5]}}", EventSourceMappingRoutes.CreateEventSourceMapping.class));
    assertEquals(prefix + "FilterCriteria.Filters.0.Pattern must be a string, got number 5",
        refusal("{\"FilterCriteria\": {\"Filters\": [{\"Pattern\": 5}]}}",
            EventSourceMappingRoutes.CreateEventSourceMapping.class));
    assertEquals(prefix + "Description must be a string, got array [\"" + "a".repeat(38) + "...",
        refusal("{\"Description\": [\"" + "a".repeat(60) + "\"]}", create), "what it got, cut at 40 characters");
  }

  @Test
  void aBodyThatIsNotAJsonObjectIsRefused() {
    assertEquals("Could not parse request body into json: expected a JSON object, got array",
        refusal("[1]", FunctionRoutes.CreateFunction.class));
    assertTrue(refusal("{\"FunctionName\": ", FunctionRoutes.CreateFunction.class)
        .startsWith("Could not parse request body into json: "));
  }

  @Test
  void eachOperationAcceptsTheMembersAwsDefinesForIt() {
    assertEquals(sorted("FunctionName", "Runtime", "Role", "Handler", "Code", "Description", "Timeout", "MemorySize",
        "Publish", "Environment", "TracingConfig", "KMSKeyArn", "Tags", "Architectures", "EphemeralStorage",
        "LoggingConfig", "DeadLetterConfig", "PackageType", "Layers", "VpcConfig", "FileSystemConfigs", "ImageConfig",
        "CodeSigningConfigArn", "SnapStart"), accepted(FunctionRoutes.CreateFunction.class));
    assertEquals(sorted("Role", "Handler", "Description", "Timeout", "MemorySize", "VpcConfig", "Environment", "Runtime",
        "DeadLetterConfig", "KMSKeyArn", "TracingConfig", "RevisionId", "Layers", "FileSystemConfigs", "ImageConfig",
        "EphemeralStorage", "SnapStart", "LoggingConfig"), accepted(FunctionRoutes.UpdateFunctionConfiguration.class));
    assertEquals(sorted("ZipFile", "S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri", "Publish", "DryRun",
        "RevisionId", "Architectures", "SourceKMSKeyArn"), accepted(FunctionRoutes.UpdateFunctionCode.class));
    assertEquals(sorted("Name", "FunctionVersion", "Description", "RoutingConfig", "RevisionId"),
        accepted(FunctionRoutes.AliasRequest.class));
    assertEquals(sorted("StatementId", "Action", "Principal", "SourceArn", "SourceAccount", "EventSourceToken",
        "RevisionId", "PrincipalOrgID", "FunctionUrlAuthType", "InvokedViaFunctionUrl"),
        accepted(FunctionRoutes.AddPermission.class));
    assertEquals(sorted("ReservedConcurrentExecutions"), accepted(FunctionRoutes.PutFunctionConcurrency.class));
    assertEquals(sorted("Tags"), accepted(FunctionRoutes.TagResource.class));
    assertEquals(sorted("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig"),
        accepted(EventInvokeConfigRoutes.FunctionEventInvokeConfig.class));
    assertEquals(sorted("FunctionName", "Enabled", "BatchSize", "MaximumBatchingWindowInSeconds", "StartingPosition",
        "Topics", "SelfManagedEventSource", "SelfManagedKafkaEventSourceConfig", "EventSourceArn",
        "StartingPositionTimestamp", "FilterCriteria", "FunctionResponseTypes", "DestinationConfig", "ScalingConfig",
        "MaximumRetryAttempts", "BisectBatchOnFunctionError", "MaximumRecordAgeInSeconds", "ParallelizationFactor",
        "TumblingWindowInSeconds", "Queues", "SourceAccessConfigurations", "Tags", "KMSKeyArn", "MetricsConfig",
        "ProvisionedPollerConfig", "AmazonManagedKafkaEventSourceConfig", "DocumentDBEventSourceConfig"),
        accepted(EventSourceMappingRoutes.CreateEventSourceMapping.class));
    assertEquals(sorted("FunctionName", "Enabled", "BatchSize", "MaximumBatchingWindowInSeconds", "FilterCriteria",
        "FunctionResponseTypes", "DestinationConfig", "ScalingConfig", "MaximumRetryAttempts",
        "BisectBatchOnFunctionError", "MaximumRecordAgeInSeconds", "ParallelizationFactor", "TumblingWindowInSeconds",
        "SourceAccessConfigurations", "KMSKeyArn", "MetricsConfig", "ProvisionedPollerConfig",
        "DocumentDBEventSourceConfig"), accepted(EventSourceMappingRoutes.UpdateEventSourceMapping.class));
  }

  @Test
  void theMembersGivenAreNamedForChecksThatRefuseByName() {
    EventSourceMappingRoutes.UpdateEventSourceMapping update = read(
        "{\"BatchSize\": 5, \"KMSKeyArn\": \"k\", \"ScalingConfig\": {}, \"Enabled\": null}",
        EventSourceMappingRoutes.UpdateEventSourceMapping.class);
    assertEquals(new TreeSet<>(List.of("BatchSize", "KMSKeyArn", "ScalingConfig")), JsonBody.givenMembers(update));
  }
}
