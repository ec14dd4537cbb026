package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.GetAliasResponse;
import software.amazon.awssdk.services.lambda.model.GetEventSourceMappingResponse;
import software.amazon.awssdk.services.lambda.model.GetFunctionCodeSigningConfigResponse;
import software.amazon.awssdk.services.lambda.model.GetFunctionEventInvokeConfigResponse;
import software.amazon.awssdk.services.lambda.model.GetFunctionResponse;
import software.amazon.awssdk.services.lambda.model.ListVersionsByFunctionResponse;
import software.amazon.awssdk.services.lambda.model.PackageType;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;
import software.amazon.awssdk.services.lambda.model.TracingMode;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * The calls Terraform's AWS provider makes when it reads (refresh, plan, and after every apply)
 * the Lambda resources a deployment most often holds, replayed through the AWS SDK for Java as
 * the provider sends them, with what the provider reads from each answer asserted: the members it
 * dereferences, the values it turns into state, and the error type it takes to mean "gone" once the
 * resource is deleted (a read that gets another error fails the whole plan). Terraform itself cannot
 * be installed here; the calls are taken from hashicorp/terraform-provider-aws,
 * internal/service/lambda, each test citing the file and function.
 */
class TerraformReadsIT {

  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  private static final String ARN = "arn:aws:lambda:us-east-1:000000000000:function:";
  private static final String SQS_ENDPOINT = System.getProperty("tributary.it.sqs", "http://127.0.0.1:9424");
  /** This run's names: the queue server may outlive a run. */
  private static final String RUN = Long.toHexString(System.nanoTime());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CODE = Zips.bashRuntime("""
      curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d '{}' >/dev/null
      """);

  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension("it_terraform_reads", Map.of(
      "tributary.mappings.refresh", "500ms",
      "tributary.destinations.sqs.endpoints.us-east-1", SQS_ENDPOINT));

  private static LambdaClient lambda;
  private static SqsClient sqs;

  @BeforeAll
  static void start() {
    lambda = NODE.lambda();
    sqs = NODE.closeAfter(SqsClient.builder().endpointOverride(URI.create(SQS_ENDPOINT)).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x"))).build());
  }

  /** As {@code aws_lambda_function} creates it: a zip, published, with tags and reserved concurrency. */
  private static String createFunction(String name) {
    lambda.createFunction(b -> b.functionName(name).runtime("provided.al2023").role(ROLE).handler("unused")
        .description("managed by terraform").timeout(10).memorySize(256).publish(true)
        .environment(e -> e.variables(Map.of("STAGE", "test"))).tags(Map.of("team", "orders"))
        .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.withBootstrap(CODE)))));
    return name;
  }

  private static String queueArn(String name) {
    sqs.createQueue(b -> b.queueName(name));
    return "arn:aws:sqs:us-east-1:000000000000:" + name;
  }

  /**
   * function.go, resourceFunctionRead: GetFunction (findFunction: ResourceNotFoundException is
   * "gone"; an answer without Code or Configuration is an error), then, unqualified,
   * ListVersionsByFunction with MaxItems 10,000 through every page (findLatestFunctionVersionByName:
   * the last version of the last page, NextMarker absent), tags from GetFunction's Tags. Delete:
   * DeleteFunction, ResourceNotFoundException taken as done.
   */
  @Test
  void awsLambdaFunction() {
    String name = createFunction("tf-function-" + RUN);
    lambda.putFunctionConcurrency(b -> b.functionName(name).reservedConcurrentExecutions(5));

    GetFunctionResponse got = lambda.getFunction(b -> b.functionName(name));
    assertNotNull(got.code(), "findFunction takes a missing Code for an empty result");
    FunctionConfiguration f = got.configuration();
    assertNotNull(f);
    assertEquals(ARN + name, f.functionArn());
    assertEquals(List.of("x86_64"), f.architecturesAsStrings());
    assertNotNull(f.codeSha256());
    assertEquals("managed by terraform", f.description());
    assertEquals(Map.of("STAGE", "test"), f.environment().variables());
    assertEquals(512, f.ephemeralStorage().size());
    assertEquals("unused", f.handler());
    assertNotNull(f.lastModified());
    assertEquals(256, f.memorySize());
    assertEquals(PackageType.ZIP, f.packageType(), "the code signing read is made for Zip functions");
    assertEquals(ROLE, f.role());
    assertEquals("provided.al2023", f.runtimeAsString());
    assertTrue(f.codeSize() > 0);
    assertEquals(10, f.timeout());
    assertEquals(TracingMode.PASS_THROUGH, f.tracingConfig().mode());
    assertNotNull(f.loggingConfig().logGroup());
    assertEquals(5, got.concurrency().reservedConcurrentExecutions());
    assertEquals(Map.of("team", "orders"), got.tags());

    String marker = null;
    FunctionConfiguration latest = null;
    do {
      String page = marker;
      ListVersionsByFunctionResponse versions = lambda.listVersionsByFunction(b -> b.functionName(name)
          .maxItems(10_000).marker(page));
      marker = versions.nextMarker();
      if (marker == null && !versions.versions().isEmpty()) {
        latest = versions.versions().get(versions.versions().size() - 1);
      }
    } while (marker != null);
    assertNotNull(latest, "qualified_arn and version come from the last version listed");
    assertEquals("1", latest.version());
    assertEquals(ARN + name + ":1", latest.functionArn());
    // The tagging interceptor lists tags by the function's ARN when a read set none.
    assertEquals(Map.of("team", "orders"), lambda.listTags(b -> b.resource(ARN + name)).tags());

    lambda.deleteFunction(b -> b.functionName(name));
    assertThrows(ResourceNotFoundException.class, () -> lambda.getFunction(b -> b.functionName(name)));
    assertThrows(ResourceNotFoundException.class, () -> lambda.deleteFunction(b -> b.functionName(name)));
  }

  /**
   * function.go, resourceFunctionRead: for a Zip function in a region with AWS Signer (us-east-1 is
   * one), GetFunctionCodeSigningConfig on every read; any error fails the read. An unsigned
   * function answers 200 with no CodeSigningConfigArn (an empty one on AWS). Served by the
   * code-signing operations of issue 21; this test fails until they are merged.
   */
  @Test
  void awsLambdaFunctionCodeSigningConfig() {
    String name = createFunction("tf-unsigned-" + RUN);
    GetFunctionCodeSigningConfigResponse signing = lambda.getFunctionCodeSigningConfig(b -> b.functionName(name));
    assertEquals(200, signing.sdkHttpResponse().statusCode());
    assertTrue(signing.codeSigningConfigArn() == null || signing.codeSigningConfigArn().isEmpty(),
        signing.codeSigningConfigArn());
  }

  /**
   * permission.go, resourcePermissionRead: GetPolicy (with Qualifier when the permission has one),
   * the Policy string parsed as JSON into statements whose Condition is a map of maps of strings,
   * the statement found by Sid (findPolicyStatementByTwoPartKey); resourcePermissionFlatten reads
   * Resource (qualifier and function name from the ARN), Action, Principal ({"Service": …} or
   * {"AWS": …}), Condition.StringEquals AWS:SourceAccount, aws:PrincipalOrgID,
   * lambda:EventSourceToken, lambda:FunctionUrlAuthType, Condition.Bool lambda:InvokedViaFunctionUrl
   * (compared to "true" without regard to case), and Condition.ArnLike AWS:SourceArn. Gone:
   * ResourceNotFoundException from GetPolicy, or no statement with the Sid. Delete: RemovePermission,
   * ResourceNotFoundException taken as done, then GetPolicy until the statement is not found.
   */
  @Test
  void awsLambdaPermission() throws Exception {
    String name = createFunction("tf-permission-" + RUN);
    lambda.createAlias(b -> b.functionName(name).name("live").functionVersion("1"));
    lambda.addPermission(b -> b.functionName(name).statementId("AllowS3").action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com").sourceArn("arn:aws:s3:::uploads").sourceAccount("000000000000"));
    lambda.addPermission(b -> b.functionName(name).statementId("AllowAccount").action("lambda:InvokeFunction")
        .principal("111122223333"));
    lambda.addPermission(b -> b.functionName(name).qualifier("live").statementId("AllowEvents")
        .action("lambda:InvokeFunction").principal("events.amazonaws.com")
        .sourceArn("arn:aws:events:us-east-1:000000000000:rule/nightly"));

    JsonNode s3 = statement(lambda.getPolicy(b -> b.functionName(name)).policy(), "AllowS3");
    assertEquals(ARN + name, s3.get("Resource").asText());
    assertEquals("lambda:InvokeFunction", s3.get("Action").asText());
    assertEquals("s3.amazonaws.com", s3.at("/Principal/Service").asText());
    assertEquals("000000000000", s3.at("/Condition/StringEquals/AWS:SourceAccount").asText());
    assertEquals("arn:aws:s3:::uploads", s3.at("/Condition/ArnLike/AWS:SourceArn").asText());
    conditionIsAMapOfMapsOfStrings(s3);
    JsonNode account = statement(lambda.getPolicy(b -> b.functionName(name)).policy(), "AllowAccount");
    assertEquals("arn:aws:iam::111122223333:root", account.at("/Principal/AWS").asText());
    JsonNode events = statement(lambda.getPolicy(b -> b.functionName(name).qualifier("live")).policy(),
        "AllowEvents");
    assertEquals(ARN + name + ":live", events.get("Resource").asText(), "the qualifier is read from Resource");
    assertEquals("events.amazonaws.com", events.at("/Principal/Service").asText());
    conditionIsAMapOfMapsOfStrings(events);

    // The pair a public function URL needs since October 2025 (invoked_via_function_url, provider 6.28+).
    lambda.addPermission(b -> b.functionName(name).statementId("AllowUrl").action("lambda:InvokeFunctionUrl")
        .principal("*").functionUrlAuthType("NONE"));
    lambda.addPermission(b -> b.functionName(name).statementId("AllowUrlInvoke").action("lambda:InvokeFunction")
        .principal("*").invokedViaFunctionUrl(true));
    String policy = lambda.getPolicy(b -> b.functionName(name)).policy();
    JsonNode url = statement(policy, "AllowUrl");
    assertEquals("*", url.get("Principal").asText());
    assertEquals("NONE", url.at("/Condition/StringEquals/lambda:FunctionUrlAuthType").asText());
    assertTrue(url.at("/Condition/Bool").isMissingNode(), "invoked_via_function_url reads false");
    JsonNode urlInvoke = statement(policy, "AllowUrlInvoke");
    assertEquals("lambda:InvokeFunction", urlInvoke.get("Action").asText());
    assertEquals("true", urlInvoke.at("/Condition/Bool/lambda:InvokedViaFunctionUrl").textValue());
    conditionIsAMapOfMapsOfStrings(url);
    conditionIsAMapOfMapsOfStrings(urlInvoke);

    lambda.removePermission(b -> b.functionName(name).qualifier("live").statementId("AllowEvents"));
    assertThrows(ResourceNotFoundException.class,
        () -> lambda.getPolicy(b -> b.functionName(name).qualifier("live")), "the alias's last statement is gone");
    assertThrows(ResourceNotFoundException.class,
        () -> lambda.removePermission(b -> b.functionName(name).qualifier("live").statementId("AllowEvents")));
    lambda.removePermission(b -> b.functionName(name).statementId("AllowS3"));
    assertTrue(statements(lambda.getPolicy(b -> b.functionName(name)).policy()).stream()
        .noneMatch(s -> s.get("Sid").asText().equals("AllowS3")));
  }

  /**
   * alias.go, resourceAliasRead: GetAlias (findAliasByTwoPartKey: ResourceNotFoundException is
   * "gone"); reads AliasArn (also the resource's id), Description, FunctionVersion, Name,
   * RoutingConfig.AdditionalVersionWeights. Delete: DeleteAlias, ResourceNotFoundException taken as
   * done.
   */
  @Test
  void awsLambdaAlias() {
    String name = createFunction("tf-alias-" + RUN);
    lambda.updateFunctionConfiguration(b -> b.functionName(name).timeout(20));
    assertEquals("2", lambda.publishVersion(b -> b.functionName(name)).version());
    lambda.createAlias(b -> b.functionName(name).name("live").functionVersion("1").description("canary")
        .routingConfig(r -> r.additionalVersionWeights(Map.of("2", 0.25))));

    GetAliasResponse alias = lambda.getAlias(b -> b.functionName(name).name("live"));
    assertEquals(ARN + name + ":live", alias.aliasArn());
    assertEquals("canary", alias.description());
    assertEquals("1", alias.functionVersion());
    assertEquals("live", alias.name());
    assertEquals(Map.of("2", 0.25), alias.routingConfig().additionalVersionWeights());
    assertEquals(alias.aliasArn(), lambda.getAlias(b -> b.functionName(ARN + name).name("live")).aliasArn(),
        "function_name may be the function's ARN");

    lambda.deleteAlias(b -> b.functionName(name).name("live"));
    assertThrows(ResourceNotFoundException.class, () -> lambda.getAlias(b -> b.functionName(name).name("live")));
    assertThrows(ResourceNotFoundException.class, () -> lambda.deleteAlias(b -> b.functionName(name).name("live")));
  }

  /**
   * event_source_mapping.go: after CreateEventSourceMapping, waitEventSourceMappingCreated polls
   * GetEventSourceMapping while State is Creating, Enabling or Disabling, until Enabled or Disabled.
   * resourceEventSourceMappingRead: GetEventSourceMapping (findEventSourceMappingByID:
   * ResourceNotFoundException is "gone"), then ListTags on its EventSourceMappingArn; it reads
   * BatchSize, DestinationConfig, EventSourceArn, FilterCriteria, FunctionArn, FunctionResponseTypes,
   * LastModified, LastProcessingResult, MaximumBatchingWindowInSeconds, ScalingConfig, State (Enabled
   * or Enabling sets enabled = true), StateTransitionReason, UUID. Delete: DeleteEventSourceMapping,
   * then waitEventSourceMappingDeleted polls while State is Deleting until ResourceNotFoundException.
   */
  @Test
  void awsLambdaEventSourceMapping() throws Exception {
    String name = createFunction("tf-mapping-" + RUN);
    String queue = queueArn("tf-mapping-" + RUN);
    String uuid = lambda.createEventSourceMapping(b -> b.functionName(name).eventSourceArn(queue).batchSize(5)
        .enabled(true).functionResponseTypesWithStrings("ReportBatchItemFailures")
        .filterCriteria(c -> c.filters(x -> x.pattern("{\"body\":{\"kind\":[\"order\"]}}")))
        .scalingConfig(s -> s.maximumConcurrency(2)).tags(Map.of("team", "orders"))).uuid();

    GetEventSourceMappingResponse m = lambda.getEventSourceMapping(b -> b.uuid(uuid));
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (Set.of("Creating", "Enabling", "Disabling").contains(m.state()) && System.nanoTime() < deadline) {
      NodeProcess.sleep(250);
      m = lambda.getEventSourceMapping(b -> b.uuid(uuid));
    }
    assertEquals("Enabled", m.state(), "the create waiter's target");
    assertEquals(uuid, m.uuid());
    assertEquals("arn:aws:lambda:us-east-1:000000000000:event-source-mapping:" + uuid, m.eventSourceMappingArn());
    assertEquals(5, m.batchSize());
    assertEquals(queue, m.eventSourceArn());
    assertEquals(ARN + name, m.functionArn());
    assertEquals(List.of("ReportBatchItemFailures"), m.functionResponseTypesAsStrings());
    assertEquals("{\"body\":{\"kind\":[\"order\"]}}", m.filterCriteria().filters().get(0).pattern());
    assertNotNull(m.lastModified());
    assertNotNull(m.lastProcessingResult());
    assertEquals(0, m.maximumBatchingWindowInSeconds());
    assertEquals(2, m.scalingConfig().maximumConcurrency());
    assertNotNull(m.stateTransitionReason());
    String arn = m.eventSourceMappingArn();
    assertEquals(Map.of("team", "orders"), lambda.listTags(b -> b.resource(arn)).tags(),
        "the read lists the mapping's tags by its ARN");

    String deleting = lambda.deleteEventSourceMapping(b -> b.uuid(uuid)).state();
    assertEquals("Deleting", deleting);
    deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    ResourceNotFoundException gone = null;
    while (gone == null && System.nanoTime() < deadline) {
      try {
        assertEquals("Deleting", lambda.getEventSourceMapping(b -> b.uuid(uuid)).state(),
            "the delete waiter's pending state");
        NodeProcess.sleep(250);
      } catch (ResourceNotFoundException e) {
        gone = e;
      }
    }
    assertNotNull(gone, "the delete waiter ends on ResourceNotFoundException");
    assertEquals(404, gone.statusCode());
    assertThrows(ResourceNotFoundException.class, () -> lambda.listTags(b -> b.resource(arn)));
    assertThrows(ResourceNotFoundException.class, () -> lambda.deleteEventSourceMapping(b -> b.uuid(uuid)));
  }

  /**
   * function_event_invoke_config.go, resourceFunctionEventInvokeConfigRead:
   * GetFunctionEventInvokeConfig with Qualifier when the id has one
   * (findFunctionEventInvokeConfigByTwoPartKey: ResourceNotFoundException is "gone"); reads
   * DestinationConfig.OnFailure.Destination and OnSuccess.Destination (absent or null: no
   * destination), MaximumEventAgeInSeconds, MaximumRetryAttempts. Delete:
   * DeleteFunctionEventInvokeConfig, ResourceNotFoundException taken as done.
   */
  @Test
  void awsLambdaFunctionEventInvokeConfig() {
    String name = createFunction("tf-invoke-config-" + RUN);
    lambda.createAlias(b -> b.functionName(name).name("live").functionVersion("1"));
    String failures = queueArn("tf-failures-" + RUN);
    lambda.putFunctionEventInvokeConfig(b -> b.functionName(name).maximumRetryAttempts(1)
        .maximumEventAgeInSeconds(3600).destinationConfig(d -> d.onFailure(o -> o.destination(failures))));
    lambda.putFunctionEventInvokeConfig(b -> b.functionName(name).qualifier("live").maximumRetryAttempts(0));

    GetFunctionEventInvokeConfigResponse unqualified = lambda.getFunctionEventInvokeConfig(b -> b.functionName(name));
    assertEquals(1, unqualified.maximumRetryAttempts());
    assertEquals(3600, unqualified.maximumEventAgeInSeconds());
    assertEquals(failures, unqualified.destinationConfig().onFailure().destination());
    assertTrue(unqualified.destinationConfig().onSuccess() == null
        || unqualified.destinationConfig().onSuccess().destination() == null, "no OnSuccess destination");
    GetFunctionEventInvokeConfigResponse live = lambda.getFunctionEventInvokeConfig(b -> b.functionName(name)
        .qualifier("live"));
    assertEquals(0, live.maximumRetryAttempts());
    assertEquals(ARN + name + ":live", live.functionArn());
    assertTrue(live.destinationConfig() == null || live.destinationConfig().onFailure() == null
        || live.destinationConfig().onFailure().destination() == null, "no OnFailure destination");

    lambda.deleteFunctionEventInvokeConfig(b -> b.functionName(name).qualifier("live"));
    assertThrows(ResourceNotFoundException.class,
        () -> lambda.getFunctionEventInvokeConfig(b -> b.functionName(name).qualifier("live")));
    assertThrows(ResourceNotFoundException.class,
        () -> lambda.deleteFunctionEventInvokeConfig(b -> b.functionName(name).qualifier("live")));
    assertFalse(lambda.getFunctionEventInvokeConfig(b -> b.functionName(name)).destinationConfig().onFailure()
        .destination().isEmpty(), "the unqualified config is untouched");
  }

  private static List<JsonNode> statements(String policy) throws Exception {
    List<JsonNode> all = new ArrayList<>();
    JSON.readTree(policy).get("Statement").forEach(all::add);
    return all;
  }

  /** As findPolicyStatementByTwoPartKey finds it; absent fails the test. */
  private static JsonNode statement(String policy, String sid) throws Exception {
    return statements(policy).stream().filter(s -> s.get("Sid").asText().equals(sid)).findFirst()
        .orElseThrow(() -> new AssertionError("no statement " + sid + " in " + policy));
  }

  /** The provider decodes Condition as map[string]map[string]string: an array or a number would fail the read. */
  private static void conditionIsAMapOfMapsOfStrings(JsonNode statement) {
    JsonNode condition = statement.get("Condition");
    if (condition == null) {
      return;
    }
    condition.properties().forEach(operator -> operator.getValue().properties()
        .forEach(key -> assertTrue(key.getValue().isTextual(), operator.getKey() + "." + key.getKey())));
  }
}
