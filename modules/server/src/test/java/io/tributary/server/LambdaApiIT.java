package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.*;

/** Every control-plane operation through the AWS SDK for Java v2, against a real node and Cassandra. */
class LambdaApiIT {

  private static final String KEYSPACE = "it_lambda_api";
  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  private static final byte[] ZIP = Zips.withBootstrap("#!/bin/sh\necho hello\n");
  private static TestNode node;
  private static LambdaClient lambda;

  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension(KEYSPACE);

  @BeforeAll
  static void start() {
    node = NODE.node();
    lambda = NODE.lambda();
  }

  private static CreateFunctionResponse create(String name) {
    return lambda.createFunction(b -> b.functionName(name).runtime("provided.al2023").role(ROLE).handler("bootstrap")
        .code(c -> c.zipFile(SdkBytes.fromByteArray(ZIP))).timeout(10).memorySize(256)
        .environment(e -> e.variables(Map.of("STAGE", "it"))).tags(Map.of("team", "platform")));
  }

  @Test
  void aCreatedFunctionIsStoredListedAndItsCodeDownloadsUnchanged() throws Exception {
    CreateFunctionResponse created = create("orders");
    assertEquals("arn:aws:lambda:us-east-1:000000000000:function:orders", created.functionArn());
    assertEquals(Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(ZIP)), created.codeSha256());
    assertEquals(ZIP.length, created.codeSize());
    assertEquals(State.ACTIVE, created.state());
    assertEquals(LastUpdateStatus.SUCCESSFUL, created.lastUpdateStatus());
    assertEquals("$LATEST", created.version());

    assertTrue(lambda.listFunctions().functions().stream().anyMatch(f -> f.functionName().equals("orders")),
        "listed on the very next request");

    GetFunctionResponse got = lambda.getFunction(b -> b.functionName("orders"));
    assertEquals(Map.of("team", "platform"), got.tags());
    assertEquals("it", got.configuration().environment().variables().get("STAGE"));
    byte[] downloaded = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(got.code().location())).build(),
        HttpResponse.BodyHandlers.ofByteArray()).body();
    assertArrayEquals(ZIP, downloaded);
    assertEquals(0100755, Zips.unixModeOfFirstEntry(downloaded), "bootstrap stays executable");

    ResourceConflictException duplicate = assertThrows(ResourceConflictException.class, () -> create("orders"));
    assertEquals(409, duplicate.statusCode());
  }

  @Test
  void configurationAndCodeUpdatesHonourRevisionIds() {
    String revision = create("billing").revisionId();
    UpdateFunctionConfigurationResponse updated = lambda.updateFunctionConfiguration(b -> b.functionName("billing")
        .timeout(60).description("bills").revisionId(revision));
    assertEquals(60, updated.timeout());
    assertNotEquals(revision, updated.revisionId());

    PreconditionFailedException stale = assertThrows(PreconditionFailedException.class,
        () -> lambda.updateFunctionConfiguration(b -> b.functionName("billing").timeout(5).revisionId(revision)));
    assertEquals(412, stale.statusCode());
    assertEquals(60, lambda.getFunctionConfiguration(b -> b.functionName("billing")).timeout());

    byte[] v2 = Zips.withBootstrap("#!/bin/sh\necho v2\n");
    UpdateFunctionCodeResponse code = lambda.updateFunctionCode(b -> b.functionName("billing")
        .zipFile(SdkBytes.fromByteArray(v2)).publish(true));
    assertEquals("1", code.version());
    assertEquals("arn:aws:lambda:us-east-1:000000000000:function:billing:1", code.functionArn());
    assertEquals(v2.length, code.codeSize());
  }

  @Test
  void versionsAndAliasesWithWeightedRouting() {
    create("catalog");
    assertEquals("1", lambda.publishVersion(b -> b.functionName("catalog").description("first")).version());
    assertEquals("1", lambda.publishVersion(b -> b.functionName("catalog")).version(), "unchanged code publishes nothing new");
    lambda.updateFunctionConfiguration(b -> b.functionName("catalog").memorySize(512));
    assertEquals("2", lambda.publishVersion(b -> b.functionName("catalog")).version());
    List<String> versions = lambda.listVersionsByFunction(b -> b.functionName("catalog")).versions().stream()
        .map(FunctionConfiguration::version).toList();
    assertEquals(List.of("$LATEST", "1", "2"), versions);

    CreateAliasResponse live = lambda.createAlias(b -> b.functionName("catalog").name("live").functionVersion("2")
        .routingConfig(r -> r.additionalVersionWeights(Map.of("1", 0.2))));
    assertEquals("arn:aws:lambda:us-east-1:000000000000:function:catalog:live", live.aliasArn());
    assertEquals(0.2, live.routingConfig().additionalVersionWeights().get("1"));
    assertEquals(512, lambda.getFunctionConfiguration(b -> b.functionName("catalog").qualifier("live")).memorySize());
    assertThrows(ResourceConflictException.class, () -> lambda.deleteFunction(b -> b.functionName("catalog").qualifier("1")));

    UpdateAliasResponse moved = lambda.updateAlias(b -> b.functionName("catalog").name("live").functionVersion("1")
        .routingConfig(r -> r.additionalVersionWeights(Map.of())));
    assertEquals("1", moved.functionVersion());
    assertEquals("live", lambda.getAlias(b -> b.functionName("catalog").name("live")).name());
    assertEquals(1, lambda.listAliases(b -> b.functionName("catalog")).aliases().size());
    lambda.deleteFunction(b -> b.functionName("catalog").qualifier("2"));
    assertEquals(List.of("$LATEST", "1"), lambda.listVersionsByFunction(b -> b.functionName("catalog")).versions().stream()
        .map(FunctionConfiguration::version).toList());
    lambda.deleteAlias(b -> b.functionName("catalog").name("live"));
    assertThrows(ResourceNotFoundException.class, () -> lambda.getAlias(b -> b.functionName("catalog").name("live")));
  }

  @Test
  void concurrencyPermissionsTagsAndAccountSettings() {
    CreateFunctionResponse fn = create("search");
    assertEquals(5, lambda.putFunctionConcurrency(b -> b.functionName("search").reservedConcurrentExecutions(5))
        .reservedConcurrentExecutions());
    assertEquals(5, lambda.getFunctionConcurrency(b -> b.functionName("search")).reservedConcurrentExecutions());
    assertEquals(995, lambda.getAccountSettings().accountLimit().unreservedConcurrentExecutions());
    InvalidParameterValueException tooMuch = assertThrows(InvalidParameterValueException.class,
        () -> lambda.putFunctionConcurrency(b -> b.functionName("search").reservedConcurrentExecutions(950)));
    assertTrue(tooMuch.getMessage().contains("minimum value of [100]"));
    lambda.deleteFunctionConcurrency(b -> b.functionName("search"));
    assertEquals(null, lambda.getFunctionConcurrency(b -> b.functionName("search")).reservedConcurrentExecutions());

    AddPermissionResponse added = lambda.addPermission(b -> b.functionName("search").statementId("s3")
        .action("lambda:InvokeFunction").principal("s3.amazonaws.com").sourceArn("arn:aws:s3:::uploads"));
    assertTrue(added.statement().contains("\"Service\":\"s3.amazonaws.com\""));
    GetPolicyResponse policy = lambda.getPolicy(b -> b.functionName("search"));
    assertTrue(policy.policy().contains("\"Sid\":\"s3\""));
    assertThrows(ResourceConflictException.class, () -> lambda.addPermission(b -> b.functionName("search")
        .statementId("s3").action("lambda:InvokeFunction").principal("s3.amazonaws.com")));
    lambda.removePermission(b -> b.functionName("search").statementId("s3"));
    assertThrows(ResourceNotFoundException.class, () -> lambda.getPolicy(b -> b.functionName("search")));

    // A function URL's conditions, each only for the action it qualifies, as AWS refuses them; nothing stored.
    InvalidParameterValueException authTypeOnInvoke = assertThrows(InvalidParameterValueException.class,
        () -> lambda.addPermission(b -> b.functionName("search").statementId("url").action("lambda:InvokeFunction")
            .principal("*").functionUrlAuthType(FunctionUrlAuthType.NONE)));
    assertEquals("FunctionUrlAuthType is only supported for lambda:InvokeFunctionUrl action",
        authTypeOnInvoke.awsErrorDetails().errorMessage());
    InvalidParameterValueException viaUrlOnUrl = assertThrows(InvalidParameterValueException.class,
        () -> lambda.addPermission(b -> b.functionName("search").statementId("url")
            .action("lambda:InvokeFunctionUrl").principal("*").invokedViaFunctionUrl(true)));
    assertEquals("InvokedViaFunctionUrl is only supported for lambda:InvokeFunction action",
        viaUrlOnUrl.awsErrorDetails().errorMessage());
    LambdaException badAuthType = assertThrows(LambdaException.class,
        () -> lambda.addPermission(b -> b.functionName("search").statementId("url")
            .action("lambda:InvokeFunctionUrl").principal("*").functionUrlAuthType("PUBLIC")));
    assertEquals("ValidationException", badAuthType.awsErrorDetails().errorCode());
    assertThrows(ResourceNotFoundException.class, () -> lambda.getPolicy(b -> b.functionName("search")));
    AddPermissionResponse viaUrl = lambda.addPermission(b -> b.functionName("search").statementId("url-invoke")
        .action("lambda:InvokeFunction").principal("*").invokedViaFunctionUrl(true));
    assertTrue(viaUrl.statement().contains("\"Condition\":{\"Bool\":{\"lambda:InvokedViaFunctionUrl\":\"true\"}}"),
        viaUrl.statement());
    assertTrue(lambda.getPolicy(b -> b.functionName("search")).policy().contains("\"lambda:InvokedViaFunctionUrl\""));
    lambda.removePermission(b -> b.functionName("search").statementId("url-invoke"));

    lambda.tagResource(b -> b.resource(fn.functionArn()).tags(Map.of("cost", "42")));
    lambda.untagResource(b -> b.resource(fn.functionArn()).tagKeys("team"));
    assertEquals(Map.of("cost", "42"), lambda.listTags(b -> b.resource(fn.functionArn())).tags());
    assertTrue(lambda.getAccountSettings().accountUsage().functionCount() >= 1);
  }

  @Test
  void listFunctionsPagesByMarker() {
    for (int i = 0; i < 5; i++) {
      create("page-" + i);
    }
    ListFunctionsResponse first = lambda.listFunctions(b -> b.maxItems(3));
    assertEquals(3, first.functions().size());
    ListFunctionsResponse rest = lambda.listFunctions(b -> b.marker(first.nextMarker()).maxItems(50));
    assertFalse(rest.functions().stream().anyMatch(f -> first.functions().contains(f)));
    long pages = lambda.listFunctionsPaginator().functions().stream().filter(f -> f.functionName().startsWith("page-")).count();
    assertEquals(5, pages);
  }

  @Test
  void deletedFunctionsAreGoneFromGetAndList() {
    create("temporary");
    lambda.deleteFunction(b -> b.functionName("temporary"));
    assertThrows(ResourceNotFoundException.class, () -> lambda.getFunction(b -> b.functionName("temporary")));
    assertFalse(lambda.listFunctions().functions().stream().anyMatch(f -> f.functionName().equals("temporary")));
    assertThrows(ResourceNotFoundException.class, () -> lambda.deleteFunction(b -> b.functionName("temporary")));
  }

  @Test
  void badInputGetsAwsErrorsAndChangesNothing() throws Exception {
    SignedHttp http = new SignedHttp(node.endpoint());
    HttpResponse<String> malformed = http.send("POST", "/2015-03-31/functions", "{\"FunctionName\": ");
    assertEquals(400, malformed.statusCode());
    assertEquals("InvalidRequestContentException", malformed.headers().firstValue("X-Amzn-ErrorType").orElse(""));
    assertTrue(malformed.headers().firstValue("x-amzn-RequestId").isPresent());

    HttpResponse<String> wrongType = http.send("PUT", "/2015-03-31/functions/nope/configuration", "{\"Timeout\": \"ten\"}");
    assertEquals(400, wrongType.statusCode());
    assertTrue(wrongType.body().contains("Timeout must be an integer"), wrongType.body());

    String zip = Base64.getEncoder().encodeToString(ZIP);
    HttpResponse<String> badName = http.send("POST", "/2015-03-31/functions", "{\"FunctionName\":\"bad name!\","
        + "\"Runtime\":\"provided.al2023\",\"Role\":\"" + ROLE + "\",\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"" + zip + "\"}}");
    assertEquals(400, badName.statusCode());
    assertEquals("ValidationException", badName.headers().firstValue("X-Amzn-ErrorType").orElse(""));

    HttpResponse<String> layers = http.send("POST", "/2015-03-31/functions", "{\"FunctionName\":\"layered\","
        + "\"Runtime\":\"provided.al2023\",\"Role\":\"" + ROLE + "\",\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"" + zip + "\"},"
        + "\"Layers\":[\"arn:aws:lambda:us-east-1:000000000000:layer:x:1\"]}");
    assertEquals(400, layers.statusCode());
    assertTrue(layers.body().contains("Layer version arn:aws:lambda:us-east-1:000000000000:layer:x:1 does not exist."),
        layers.body());

    assertThrows(InvalidParameterValueException.class, () -> lambda.createFunction(b -> b.functionName("notzip")
        .runtime("provided.al2023").role(ROLE).handler("h").code(c -> c.zipFile(SdkBytes.fromUtf8String("plain text")))));
    LambdaException cobol = assertThrows(LambdaException.class, () -> lambda.createFunction(b -> b.functionName("cobol")
        .runtime("cobol85").role(ROLE).handler("h").code(c -> c.zipFile(SdkBytes.fromByteArray(ZIP)))));
    assertEquals("ValidationException", cobol.awsErrorDetails().errorCode(), "not one of Lambda's runtime ids");
    LambdaException timeout = assertThrows(LambdaException.class, () -> lambda.createFunction(b -> b.functionName("slow")
        .runtime("provided.al2023").role(ROLE).handler("h").timeout(901).code(c -> c.zipFile(SdkBytes.fromByteArray(ZIP)))));
    assertEquals(400, timeout.statusCode());
    assertThrows(ResourceNotFoundException.class, () -> lambda.getFunction(b -> b.functionName("slow")));
    assertThrows(ResourceNotFoundException.class, () -> lambda.getFunction(b -> b.functionName("notzip")));

    HttpResponse<String> tooLarge = http.send("PUT", "/2015-03-31/functions/x/configuration", new byte[8 * 1024 * 1024], true);
    assertEquals(413, tooLarge.statusCode());
    assertEquals("RequestTooLargeException", tooLarge.headers().firstValue("X-Amzn-ErrorType").orElse(""));

    HttpResponse<String> unsigned = http.send("GET", "/2015-03-31/functions", new byte[0], false);
    assertEquals(403, unsigned.statusCode());
  }

  @Test
  void operatorsSeeHealthAndPerOperationMetrics() throws Exception {
    lambda.createFunction(b -> b.functionName("observed").runtime("provided.al2023").role(ROLE).handler("bootstrap")
        .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.withBootstrap(Zips.bashRuntime(
            "curl -sS -X POST -d \"$EVENT\" \"$API/invocation/$REQUEST_ID/response\" >/dev/null"))))));
    lambda.invoke(b -> b.functionName("observed").payload(SdkBytes.fromUtf8String("{}")));
    lambda.getFunction(b -> b.functionName("observed"));
    assertThrows(ResourceNotFoundException.class, () -> lambda.getFunction(b -> b.functionName("unobserved")));
    HttpClient http = HttpClient.newHttpClient();
    for (String probe : List.of("/health/alive", "/health/ready")) {
      assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(node.endpoint() + probe)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode(), probe);
    }
    String metrics = http.send(HttpRequest.newBuilder(URI.create(node.endpoint() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    assertTrue(metrics.contains("tributary_api_requests_total{operation=\"CreateFunction\",status=\"201\"}"), metrics);
    assertTrue(metrics.contains("tributary_api_requests_total{operation=\"GetFunction\",status=\"404\"}"), metrics);
    assertTrue(metrics.contains("tributary_api_request_duration_seconds_count{operation=\"GetFunction\"}"), metrics);
    Matcher environments = Pattern.compile("\ntributary_environments ([0-9.]+)").matcher(metrics);
    assertTrue(environments.find() && Double.parseDouble(environments.group(1)) >= 1,
        "the warm environment of the function just invoked is counted: " + metrics);
    assertTrue(metrics.contains("\ntributary_environments_idle "), metrics);
    for (String series : List.of("jvm_memory_used_bytes{", "jvm_threads_live_threads ",
        "executor_pool_size_threads{name=\"pekko.actor.default-dispatcher\"}", "cassandra_session_cql_requests_seconds_count{",
        "cassandra_nodes_pool_open_connections{")) {
      assertTrue(metrics.contains("\n" + series), series + " in " + metrics);
    }
  }

  @Test
  void aRestartedNodeKeepsEveryFunction() {
    create("durable");
    lambda.publishVersion(b -> b.functionName("durable"));
    lambda.createAlias(b -> b.functionName("durable").name("prod").functionVersion("1"));
    NODE.restart();
    node = NODE.node();
    lambda = NODE.lambda();
    assertEquals("1", lambda.getAlias(b -> b.functionName("durable").name("prod")).functionVersion());
    assertTrue(lambda.listFunctions().functions().stream().anyMatch(f -> f.functionName().equals("durable")));
    assertEquals(ZIP.length, lambda.getFunction(b -> b.functionName("durable")).configuration().codeSize());
  }
}
