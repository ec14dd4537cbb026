package io.tributary.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.api.Arns;
import io.tributary.http.Operation.Access;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The node's operations, each declared once: which request names which operation (its metrics
 * label), its body limit and who may call it.
 */
class OperationsTest {

  private static final Arns ARNS = new Arns("us-east-1", "000000000000");
  private static final String ARN = "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aorders";
  private static final String LAYER_ARN = "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Alayer%3Alibs";
  private static final String CSC =
      "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Acode-signing-config%3Acsc-0123456789abcdef0";

  /** The table as LambdaApi builds it; the routes' collaborators are not needed to declare operations. */
  private static final Operations TABLE = Operations.of(
      new NodeRoutes(null, null, null, () -> true).operations(),
      new InvokeRoutes(null, null, ARNS, null).operations(),
      new FunctionRoutes(null, null, null, null, null, ARNS, null,
          new FunctionRoutes.Settings(Map.of(), 1000, 100, Duration.ofSeconds(5)), null).operations(),
      new EventInvokeConfigRoutes(null, ARNS, null, null).operations(),
      new CodeSigningRoutes(null, ARNS).operations(),
      new FunctionSettingsRoutes(null, ARNS).operations(),
      new AsyncQueueRoutes(null, null, ARNS, null).operations(),
      new EventSourceMappingRoutes(null, null, null, null, ARNS, null).operations(),
      new LayerRoutes(null, null, null, null, ARNS).operations(),
      new LogsRoutes(null).operations());

  /** A request (its path, and a query when it names the operation), and the operation its metrics have always named. */
  private record Sample(String method, String target, String operation) {

    String path() {
      return target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
    }

    String query() {
      return target.contains("?") ? target.substring(target.indexOf('?') + 1) : null;
    }
  }

  private static final List<Sample> SAMPLES = List.of(
      new Sample("POST", "/2015-03-31/functions", "CreateFunction"),
      new Sample("POST", "/2015-03-31/functions/", "CreateFunction"),
      new Sample("GET", "/2015-03-31/functions", "ListFunctions"),
      new Sample("GET", "/2015-03-31/functions/", "ListFunctions"),
      new Sample("GET", "/2015-03-31/functions/orders", "GetFunction"),
      new Sample("GET", "/2015-03-31/functions/" + ARN, "GetFunction"),
      new Sample("DELETE", "/2015-03-31/functions/orders", "DeleteFunction"),
      new Sample("GET", "/2015-03-31/functions/orders/configuration", "GetFunctionConfiguration"),
      new Sample("PUT", "/2015-03-31/functions/orders/configuration", "UpdateFunctionConfiguration"),
      new Sample("PUT", "/2015-03-31/functions/orders/code", "UpdateFunctionCode"),
      new Sample("POST", "/2015-03-31/functions/orders/invocations", "Invoke"),
      new Sample("POST", "/2015-03-31/functions/" + ARN + "/invocations", "Invoke"),
      new Sample("POST", "/2015-03-31/functions/orders/versions", "PublishVersion"),
      new Sample("GET", "/2015-03-31/functions/orders/versions", "ListVersionsByFunction"),
      new Sample("POST", "/2015-03-31/functions/orders/aliases", "CreateAlias"),
      new Sample("GET", "/2015-03-31/functions/orders/aliases", "ListAliases"),
      new Sample("GET", "/2015-03-31/functions/orders/aliases/live", "GetAlias"),
      new Sample("PUT", "/2015-03-31/functions/orders/aliases/live", "UpdateAlias"),
      new Sample("DELETE", "/2015-03-31/functions/orders/aliases/live", "DeleteAlias"),
      new Sample("POST", "/2015-03-31/functions/orders/policy", "AddPermission"),
      new Sample("GET", "/2015-03-31/functions/orders/policy", "GetPolicy"),
      new Sample("DELETE", "/2015-03-31/functions/orders/policy/s3", "RemovePermission"),
      new Sample("PUT", "/2017-10-31/functions/orders/concurrency", "PutFunctionConcurrency"),
      new Sample("DELETE", "/2017-10-31/functions/orders/concurrency", "DeleteFunctionConcurrency"),
      new Sample("GET", "/2019-09-30/functions/orders/concurrency", "GetFunctionConcurrency"),
      new Sample("GET", "/2017-03-31/tags/" + ARN, "ListTags"),
      new Sample("POST", "/2017-03-31/tags/" + ARN, "TagResource"),
      new Sample("DELETE", "/2017-03-31/tags/" + ARN, "UntagResource"),
      new Sample("GET", "/2016-08-19/account-settings", "GetAccountSettings"),
      new Sample("GET", "/2016-08-19/account-settings/", "GetAccountSettings"),
      new Sample("PUT", "/2019-09-25/functions/orders/event-invoke-config", "PutFunctionEventInvokeConfig"),
      new Sample("POST", "/2019-09-25/functions/orders/event-invoke-config", "UpdateFunctionEventInvokeConfig"),
      new Sample("GET", "/2019-09-25/functions/orders/event-invoke-config", "GetFunctionEventInvokeConfig"),
      new Sample("DELETE", "/2019-09-25/functions/orders/event-invoke-config", "DeleteFunctionEventInvokeConfig"),
      new Sample("GET", "/2019-09-25/functions/orders/event-invoke-config/list", "ListFunctionEventInvokeConfigs"),
      new Sample("POST", "/2015-03-31/event-source-mappings/", "CreateEventSourceMapping"),
      new Sample("GET", "/2015-03-31/event-source-mappings", "ListEventSourceMappings"),
      new Sample("GET", "/2015-03-31/event-source-mappings/1f2e3d4c-0000-4000-8000-000000000000",
          "GetEventSourceMapping"),
      new Sample("PUT", "/2015-03-31/event-source-mappings/1f2e3d4c-0000-4000-8000-000000000000",
          "UpdateEventSourceMapping"),
      new Sample("DELETE", "/2015-03-31/event-source-mappings/1f2e3d4c-0000-4000-8000-000000000000",
          "DeleteEventSourceMapping"),
      new Sample("GET", "/tributary/event-source-mappings/1f2e3d4c-0000-4000-8000-000000000000/shards",
          "GetEventSourceMappingShards"),
      new Sample("GET", "/tributary/functions/orders/async-queue", "GetAsyncQueue"),
      new Sample("GET", "/tributary/functions/orders/async-events/c0ffee", "GetAsyncEvent"),
      new Sample("GET", "/health/alive", "Health"),
      new Sample("GET", "/health/ready", "Health"),
      new Sample("GET", "/metrics", "Metrics"),
      new Sample("GET", "/tributary/code/abc123", "DownloadCode"),
      new Sample("POST", "/", "Logs"),
      new Sample("POST", "/tributary/internal/invoke", "ForwardedInvoke"),
      new Sample("POST", "/2014-11-13/functions/orders/invoke-async/", "InvokeAsync"),
      new Sample("POST", "/2014-11-13/functions/orders/invoke-async", "InvokeAsync"),
      new Sample("GET", "/2020-06-30/functions/orders/code-signing-config", "GetFunctionCodeSigningConfig"),
      new Sample("PUT", "/2020-06-30/functions/orders/code-signing-config", "PutFunctionCodeSigningConfig"),
      new Sample("DELETE", "/2020-06-30/functions/orders/code-signing-config", "DeleteFunctionCodeSigningConfig"),
      new Sample("POST", "/2020-04-22/code-signing-configs/", "CreateCodeSigningConfig"),
      new Sample("GET", "/2020-04-22/code-signing-configs/", "ListCodeSigningConfigs"),
      new Sample("GET", "/2020-04-22/code-signing-configs/" + CSC, "GetCodeSigningConfig"),
      new Sample("PUT", "/2020-04-22/code-signing-configs/" + CSC, "UpdateCodeSigningConfig"),
      new Sample("DELETE", "/2020-04-22/code-signing-configs/" + CSC, "DeleteCodeSigningConfig"),
      new Sample("GET", "/2020-04-22/code-signing-configs/" + CSC + "/functions", "ListFunctionsByCodeSigningConfig"),
      new Sample("GET", "/2021-07-20/functions/orders/runtime-management-config", "GetRuntimeManagementConfig"),
      new Sample("PUT", "/2021-07-20/functions/orders/runtime-management-config", "PutRuntimeManagementConfig"),
      new Sample("GET", "/2024-08-31/functions/orders/recursion-config", "GetFunctionRecursionConfig"),
      new Sample("PUT", "/2024-08-31/functions/orders/recursion-config", "PutFunctionRecursionConfig"),
      new Sample("POST", "/2021-11-15/functions/orders/response-streaming-invocations", "InvokeWithResponseStream"),
      new Sample("POST", "/2021-11-15/functions/orders/response-streaming-invocations?Qualifier=live",
          "InvokeWithResponseStream"),
      new Sample("POST", "/2018-10-31/layers/libs/versions", "PublishLayerVersion"),
      new Sample("GET", "/2018-10-31/layers/libs/versions", "ListLayerVersions"),
      new Sample("GET", "/2018-10-31/layers/libs/versions?CompatibleRuntime=python3.12&MaxItems=2", "ListLayerVersions"),
      new Sample("GET", "/2018-10-31/layers/libs/versions/3", "GetLayerVersion"),
      new Sample("GET", "/2018-10-31/layers/" + LAYER_ARN + "/versions/3", "GetLayerVersion"),
      new Sample("DELETE", "/2018-10-31/layers/libs/versions/3", "DeleteLayerVersion"),
      new Sample("GET", "/2018-10-31/layers?find=LayerVersion&Arn=" + LAYER_ARN + "%3A3", "GetLayerVersionByArn"),
      new Sample("GET", "/2018-10-31/layers?Arn=" + LAYER_ARN + "%3A3&find=LayerVersion", "GetLayerVersionByArn"),
      new Sample("GET", "/2018-10-31/layers", "ListLayers"),
      new Sample("GET", "/2018-10-31/layers?CompatibleArchitecture=arm64&Marker=bGlicw", "ListLayers"),
      new Sample("GET", "/2018-10-31/layers?find=Layer", "ListLayers"),
      new Sample("POST", "/2018-10-31/layers/libs/versions/3/policy", "AddLayerVersionPermission"),
      new Sample("GET", "/2018-10-31/layers/libs/versions/3/policy", "GetLayerVersionPolicy"),
      new Sample("DELETE", "/2018-10-31/layers/libs/versions/3/policy/s1", "RemoveLayerVersionPermission"),
      // Near misses: a slash too many or too few, another method, a segment left empty.
      new Sample("GET", "/2015-03-31/functions/orders/", "Unknown"),
      new Sample("GET", "/2015-03-31/functions//configuration", "Unknown"),
      new Sample("POST", "/2015-03-31/functions/orders/invocations/", "Unknown"),
      new Sample("POST", "/2015-03-31/functions/a/b/invocations", "Unknown"),
      new Sample("PATCH", "/2015-03-31/functions/orders", "Unknown"),
      new Sample("POST", "/metrics", "Unknown"),
      new Sample("GET", "/health/other", "Unknown"),
      new Sample("GET", "/", "Unknown"),
      new Sample("GET", "/2015-03-31/event-source-mappings//", "Unknown"),
      new Sample("POST", "/2018-10-31/layers?find=LayerVersion", "Unknown"),
      new Sample("GET", "/2018-10-31/layers/libs", "Unknown"));

  @Test
  void everyRequestNamesTheOperationItAlwaysDid() {
    for (Sample sample : SAMPLES) {
      assertEquals(sample.operation(), TABLE.resolve(sample.method(), sample.target()).operation().name(),
          sample.method() + " " + sample.target());
    }
  }

  /** A path that names a query parameter is more specific than the same path without: only the most specific count. */
  @Test
  void eachRequestMatchesOneDeclarationAtMost() {
    for (Sample sample : SAMPLES) {
      String[] segments = Operation.Path.split(sample.path());
      List<Operation> candidates = TABLE.all().stream()
          .filter(o -> o.method().equals(sample.method()) && o.path().match(segments) != null
              && o.path().accepts(sample.query()))
          .toList();
      boolean queried = candidates.stream().anyMatch(o -> o.path().query() != null);
      List<String> matching = candidates.stream().filter(o -> !queried || o.path().query() != null)
          .map(o -> o.name() + " " + o.path().pattern()).toList();
      assertEquals(sample.operation().equals("Unknown") ? 0 : 1, matching.size(),
          sample.method() + " " + sample.target() + " matches " + matching);
    }
  }

  @Test
  void theMetricsNamesAreAwsOperationNames() {
    Set<String> declared = TABLE.all().stream().map(Operation::name).collect(Collectors.toCollection(TreeSet::new));
    Set<String> sampled = SAMPLES.stream().map(Sample::operation).filter(name -> !name.equals("Unknown"))
        .collect(Collectors.toCollection(TreeSet::new));
    assertEquals(sampled, declared, "every declared operation is sampled above, and nothing else is declared");
    assertEquals(declared.size() + 1, TABLE.all().size(), "one name per operation; Health has two paths");
  }

  @Test
  void pathVariablesArePercentDecodedSegments() {
    assertEquals(List.of("arn:aws:lambda:us-east-1:000000000000:function:orders"),
        TABLE.resolve("GET", "/2017-03-31/tags/" + ARN).variables());
    assertEquals(List.of("orders", "a+b c/d"),
        TABLE.resolve("GET", "/2015-03-31/functions/orders/aliases/a+b%20c%2Fd").variables());
    assertEquals(List.of("f\u00e9"), TABLE.resolve("GET", "/2015-03-31/functions/f%C3%A9").variables());
    assertEquals(List.of("arn:aws:lambda:us-east-1:000000000000:layer:libs", "3"),
        TABLE.resolve("GET", "/2018-10-31/layers/" + LAYER_ARN + "/versions/3").variables());
  }

  @Test
  void bodyLimitsFollowTheOperation() {
    ApiSettings settings = new ApiSettings("127.0.0.1", 9000, "http://127.0.0.1:9000", ARNS, Map.of("k", "s"), true,
        Map.of(), 1000, 100, Duration.ofSeconds(5), Duration.ofSeconds(30), 1_000, 70_000_000,
        new ApiSettings.Urls("http", "localhost", 9000));
    for (Operation operation : TABLE.all()) {
      long expected = switch (operation.name()) {
        case "CreateFunction", "UpdateFunctionCode", "PublishLayerVersion" -> 70_000_000;
        case "Invoke", "ForwardedInvoke", "InvokeAsync", "InvokeWithResponseStream" -> 6 * 1024 * 1024;
        default -> 1_000;
      };
      assertEquals(expected, LambdaApi.limit(operation, settings), operation.name());
    }
    assertEquals(1_000, LambdaApi.limit(Operations.UNKNOWN, settings), "an unknown operation is read as a document");
  }

  @Test
  void onlyHealthMetricsAndCodeDownloadsAreUnsignedAndOnlyTheHopIsSignedByANode() {
    Set<String> open = TABLE.all().stream().filter(o -> o.access() == Access.OPEN).map(Operation::name)
        .collect(Collectors.toCollection(TreeSet::new));
    assertEquals(new TreeSet<>(List.of("DownloadCode", "Health", "Metrics")), open);
    assertEquals(List.of("ForwardedInvoke"), TABLE.all().stream().filter(o -> o.access() == Access.HOP)
        .map(Operation::name).toList());
    assertEquals(Access.SIGNED, Operations.UNKNOWN.access());
  }

  @Test
  void theInvokeFastPathTakesExactlyTheRequestsTheTableNamesInvoke() {
    for (Sample sample : SAMPLES) {
      assertEquals(sample.operation().equals("Invoke"), InvokeRoutes.isInvoke(sample.method(), sample.path()),
          sample.method() + " " + sample.path());
    }
    assertTrue(InvokeRoutes.isInvoke("POST", "/2015-03-31/functions/" + ARN + ":live/invocations"));
  }
}
