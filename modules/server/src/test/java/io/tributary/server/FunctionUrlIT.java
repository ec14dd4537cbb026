package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.CreateFunctionUrlConfigResponse;
import software.amazon.awssdk.services.lambda.model.FunctionUrlAuthType;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.ResourceConflictException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;

/**
 * Function URLs end to end: the configuration API through the AWS SDK, and requests to the URL
 * with curl (as the README shows), answered by the node the name resolves to: AWS's payload 2.0
 * event in, the function's answer out, its policy and AuthType enforced, CORS from the config.
 */
class FunctionUrlIT {

  private static final String KEYSPACE = "it_function_urls";
  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Answers with the event it received, as JSON in the body, or as the event asks. */
  private static final byte[] ECHO = Zips.of(Map.of("app.py", """
      import json
      def handler(event, context):
          if event.get("rawPath") == "/shaped":
              return {"statusCode": 201, "headers": {"Content-Type": "text/plain", "X-Made-By": "echo",
                      "Access-Control-Allow-Origin": "https://evil.example"},
                      "cookies": ["session=abc; Secure", "theme=dark"], "body": "created"}
          if event.get("rawPath") == "/fail":
              raise RuntimeError("boom")
          event["functionVersion"] = context.function_version
          return event
      """));
  private static LambdaClient lambda;

  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension(KEYSPACE);

  @RegisterExtension
  static final HeadlessBrowser.PerClass BROWSER = new HeadlessBrowser.PerClass();

  @BeforeAll
  static void start() {
    lambda = NODE.lambda();
  }

  record Reply(int status, Map<String, List<String>> headers, String body) {
    String header(String name) {
      List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null ? null : String.join(",", values);
    }

    JsonNode json() throws Exception {
      return JSON.readTree(body);
    }
  }

  /** curl, resolving the URL's host to this node as DNS (or libnss-myhostname) would. */
  static Reply curl(String url, String method, Map<String, String> headers, byte[] body) throws Exception {
    URI uri = URI.create(url);
    List<String> command = new ArrayList<>(List.of("curl", "-sS", "-i", "-X", method, "--resolve",
        uri.getHost() + ":" + uri.getPort() + ":127.0.0.1"));
    headers.forEach((k, v) -> command.addAll(List.of("-H", k + ": " + v)));
    if (body != null) {
      Path file = Files.createTempFile("url-body", ".bin");
      Files.write(file, body);
      command.addAll(List.of("--data-binary", "@" + file));
    }
    command.add(url);
    Process process = new ProcessBuilder(command).redirectErrorStream(false).start();
    byte[] out = process.getInputStream().readAllBytes();
    assertTrue(process.waitFor(60, TimeUnit.SECONDS));
    String text = new String(out, StandardCharsets.UTF_8);
    int split = text.indexOf("\r\n\r\n");
    String[] head = text.substring(0, split).split("\r\n");
    Map<String, List<String>> parsed = new LinkedHashMap<>();
    for (int i = 1; i < head.length; i++) {
      int colon = head[i].indexOf(':');
      parsed.computeIfAbsent(head[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
          .add(head[i].substring(colon + 1).trim());
    }
    return new Reply(Integer.parseInt(head[0].split(" ")[1]), parsed, text.substring(split + 4));
  }

  private static String createPublicUrl(String function) {
    lambda.createFunction(b -> b.functionName(function).runtime("python3.11").role(ROLE).handler("app.handler")
        .code(c -> c.zipFile(SdkBytes.fromByteArray(ECHO))));
    String url = lambda.createFunctionUrlConfig(b -> b.functionName(function).authType(FunctionUrlAuthType.NONE))
        .functionUrl();
    allowPublic(function, null);
    return url;
  }

  /** The two statements AWS requires of a public URL since October 2025. */
  private static void allowPublic(String function, String qualifier) {
    lambda.addPermission(b -> b.functionName(function).qualifier(qualifier).statementId("url").principal("*")
        .action("lambda:InvokeFunctionUrl").functionUrlAuthType(FunctionUrlAuthType.NONE));
    lambda.addPermission(b -> b.functionName(function).qualifier(qualifier).statementId("url-invoke").principal("*")
        .action("lambda:InvokeFunction").invokedViaFunctionUrl(true));
  }

  @Test
  void aRequestReachesTheFunctionAsAwsPayloadFormat20AndItsAnswerIsTheResponse() throws Exception {
    String url = createPublicUrl("echo");
    assertTrue(url.matches("http://[a-z0-9]{32}\\.lambda-url\\.us-east-1\\.localhost:" + NODE.node().port + "/"), url);
    Reply reply = curl(url + "orders/7?a=1&a=2&q=J%C3%BCrgen", "POST", Map.of("Content-Type", "application/json",
        "X-Multi", "one", "Cookie", "s=1; theme=dark"), "{\"n\":1}".getBytes(StandardCharsets.UTF_8));
    assertEquals(200, reply.status(), reply.body());
    assertEquals("application/json", reply.header("content-type"));
    JsonNode event = reply.json();
    assertEquals("2.0", event.get("version").asText());
    assertEquals("/orders/7", event.get("rawPath").asText());
    assertEquals("a=1&a=2&q=J%C3%BCrgen", event.get("rawQueryString").asText());
    assertEquals("1,2", event.get("queryStringParameters").get("a").asText());
    assertEquals("Jürgen", event.get("queryStringParameters").get("q").asText());
    assertEquals("one", event.get("headers").get("x-multi").asText());
    assertEquals("[\"s=1\",\"theme=dark\"]", event.get("cookies").toString());
    assertEquals("{\"n\":1}", event.get("body").asText());
    assertEquals("$LATEST", event.get("functionVersion").asText());
    assertEquals(false, event.get("isBase64Encoded").asBoolean());
    JsonNode context = event.get("requestContext");
    assertEquals("anonymous", context.get("accountId").asText());
    assertEquals("POST", context.get("http").get("method").asText());
    assertEquals("127.0.0.1", context.get("http").get("sourceIp").asText());
    assertEquals(reply.header("x-amzn-RequestId"), context.get("requestId").asText());
    assertEquals(URI.create(url).getHost() + ":" + NODE.node().port, context.get("domainName").asText());

    Reply binary = curl(url, "PUT", Map.of("Content-Type", "application/octet-stream"), new byte[] {(byte) 0xff, 0, 1});
    assertEquals("/wAB", binary.json().get("body").asText());
    assertTrue(binary.json().get("isBase64Encoded").asBoolean());

    Reply shaped = curl(url + "shaped", "GET", Map.of(), null);
    assertEquals(201, shaped.status());
    assertEquals("created", shaped.body());
    assertEquals("text/plain", shaped.header("content-type"));
    assertEquals("echo", shaped.header("x-made-by"));
    assertEquals(List.of("session=abc; Secure", "theme=dark"), shaped.headers().get("set-cookie"));

    Reply failed = curl(url + "fail", "GET", Map.of(), null);
    assertEquals(502, failed.status());
    assertEquals("Internal Server Error", failed.body());

    lambda.putFunctionConcurrency(b -> b.functionName("echo").reservedConcurrentExecutions(0));
    NodeProcess.sleep(1100);
    Reply throttled = curl(url, "GET", Map.of(), null);
    assertEquals(429, throttled.status());
    assertEquals("{\"Message\":\"Rate Exceeded.\"}", throttled.body());
    lambda.deleteFunctionConcurrency(b -> b.functionName("echo"));
  }

  @Test
  void withoutThePolicyAwsRequiresAPublicUrlIsForbiddenAndAnIamUrlNeedsASignature() throws Exception {
    lambda.createFunction(b -> b.functionName("guarded").runtime("python3.11").role(ROLE).handler("app.handler")
        .code(c -> c.zipFile(SdkBytes.fromByteArray(ECHO))));
    String url = lambda.createFunctionUrlConfig(b -> b.functionName("guarded").authType(FunctionUrlAuthType.NONE))
        .functionUrl();
    Reply refused = curl(url, "GET", Map.of(), null);
    assertEquals(403, refused.status());
    assertEquals("{\"Message\":\"Forbidden\"}", refused.body());
    // The statement URLs needed before October 2025 is not enough: AWS now wants lambda:InvokeFunction too.
    lambda.addPermission(b -> b.functionName("guarded").statementId("url").principal("*")
        .action("lambda:InvokeFunctionUrl").functionUrlAuthType(FunctionUrlAuthType.NONE));
    NodeProcess.sleep(1100);
    assertEquals(403, curl(url, "GET", Map.of(), null).status());
    lambda.addPermission(b -> b.functionName("guarded").statementId("url-invoke").principal("*")
        .action("lambda:InvokeFunction").invokedViaFunctionUrl(true));
    NodeProcess.sleep(1100);
    assertEquals(200, curl(url, "GET", Map.of(), null).status());

    lambda.updateFunctionUrlConfig(b -> b.functionName("guarded").authType(FunctionUrlAuthType.AWS_IAM));
    NodeProcess.sleep(1100);
    assertEquals(403, curl(url, "GET", Map.of(), null).status(), "unsigned");
    Reply signed = curl(url + "signed", "GET", signedHeaders(url + "signed"), null);
    assertEquals(200, signed.status(), signed.body());
    assertEquals("000000000000", signed.json().get("requestContext").get("accountId").asText());
    JsonNode iam = signed.json().get("requestContext").get("authorizer").get("iam");
    assertEquals(TestNode.ACCESS_KEY, iam.get("accessKey").asText());
    assertEquals("arn:aws:iam::000000000000:root", iam.get("userArn").asText());

    Reply unknown = curl(url.replaceFirst("//[a-z0-9]{32}", "//" + "z".repeat(32)), "GET", Map.of(), null);
    assertEquals(403, unknown.status());
  }

  /** The headers of a SigV4 signature (service lambda) of a GET of {@code url}, as an SDK signs it. */
  private static Map<String, String> signedHeaders(String url) {
    var request = software.amazon.awssdk.http.SdkHttpRequest.builder()
        .method(software.amazon.awssdk.http.SdkHttpMethod.GET).uri(URI.create(url)).build();
    var signed = software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner.create().sign(r -> r
        .identity(software.amazon.awssdk.identity.spi.AwsCredentialsIdentity.create(TestNode.ACCESS_KEY,
            TestNode.SECRET_KEY))
        .request(request)
        .putProperty(software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda")
        .putProperty(software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner.REGION_NAME, "us-east-1"));
    Map<String, String> headers = new LinkedHashMap<>();
    signed.request().headers().forEach((name, values) -> {
      if (!name.equalsIgnoreCase("host")) {
        headers.put(name, String.join(",", values));
      }
    });
    return headers;
  }

  @Test
  void corsPreflightsAreAnsweredFromTheConfigAndTheFunctionsOwnCorsHeadersReplaced() throws Exception {
    String url = createPublicUrl("cors");
    lambda.updateFunctionUrlConfig(b -> b.functionName("cors").cors(c -> c.allowOrigins("https://app.example")
        .allowMethods("PUT", "GET").allowHeaders("x-custom").exposeHeaders("x-made-by").maxAge(600)
        .allowCredentials(true)));
    NodeProcess.sleep(1100);
    Reply preflight = curl(url, "OPTIONS", Map.of("Origin", "https://app.example",
        "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "x-custom"), null);
    assertEquals(200, preflight.status());
    assertEquals("https://app.example", preflight.header("access-control-allow-origin"));
    assertEquals("PUT,GET", preflight.header("access-control-allow-methods"));
    assertEquals("x-custom", preflight.header("access-control-allow-headers"));
    assertEquals("600", preflight.header("access-control-max-age"));
    assertEquals("true", preflight.header("access-control-allow-credentials"));

    Reply actual = curl(url + "shaped", "GET", Map.of("Origin", "https://app.example"), null);
    assertEquals("https://app.example", actual.header("access-control-allow-origin"),
        "the configuration's, not the function's own");
    assertEquals("x-made-by", actual.header("access-control-expose-headers"));
    Reply other = curl(url + "shaped", "GET", Map.of("Origin", "https://other.example"), null);
    assertEquals(null, other.header("access-control-allow-origin"));
  }

  @Test
  void aBrowserOnAnotherOriginCallsTheUrlAsItsCorsConfigurationAllows() throws Exception {
    String url = createPublicUrl("browser");
    try (OriginServer page = OriginServer.start()) {
      lambda.updateFunctionUrlConfig(b -> b.functionName("browser").cors(c -> c.allowOrigins(page.origin())
          .allowMethods("PUT").allowHeaders("x-trace", "content-type").exposeHeaders("x-made-by")));
      NodeProcess.sleep(1100);
      HeadlessBrowser browser = BROWSER.get();
      browser.open(page.url("/"));
      // A PUT with a custom header: the browser's preflight is answered from the configuration.
      HeadlessBrowser.Answered put = browser.fetch(url + "orders", Map.of("method", "PUT",
          "headers", Map.of("X-Trace", "t-1", "Content-Type", "application/json"), "body", "{\"n\":2}")).answered();
      assertEquals(200, put.status());
      assertEquals("t-1", JSON.readTree(put.body()).get("headers").get("x-trace").asText());
      HeadlessBrowser.Answered shaped = browser.fetch(url + "shaped", Map.of()).answered();
      assertEquals("echo", shaped.headers().get("x-made-by"), "exposed by the configuration");
      // A header the configuration does not allow: the browser refuses before the function runs.
      browser.fetch(url + "orders", Map.of("method", "PUT", "headers", Map.of("X-Other", "1"))).refused();
    }

    // Another origin than the configuration's: no CORS headers, and the browser refuses.
    try (OriginServer elsewhere = OriginServer.start()) {
      HeadlessBrowser browser = BROWSER.get();
      browser.open(elsewhere.url("/"));
      browser.fetch(url + "shaped", Map.of()).refused();
      assertEquals(201, curl(url + "shaped", "GET", Map.of("Origin", elsewhere.origin()), null).status(),
          "the URL answers; only the browser refuses the script its answer");
    }
  }

  @Test
  void theConfigurationApiAnswersAsAwsAndAUrlOnAnAliasRunsTheAliasesVersion() throws Exception {
    lambda.createFunction(b -> b.functionName("configured").runtime("python3.11").role(ROLE).handler("app.handler")
        .publish(true).code(c -> c.zipFile(SdkBytes.fromByteArray(ECHO))));
    lambda.createAlias(b -> b.functionName("configured").name("live").functionVersion("1"));
    CreateFunctionUrlConfigResponse created = lambda.createFunctionUrlConfig(b -> b.functionName("configured")
        .qualifier("live").authType(FunctionUrlAuthType.NONE));
    assertEquals("arn:aws:lambda:us-east-1:000000000000:function:configured:live", created.functionArn());
    assertEquals("BUFFERED", created.invokeModeAsString());
    ResourceConflictException again = assertThrows(ResourceConflictException.class,
        () -> lambda.createFunctionUrlConfig(b -> b.functionName("configured").qualifier("live")
            .authType(FunctionUrlAuthType.NONE)));
    assertEquals("Failed to create function url config for [functionArn = arn:aws:lambda:us-east-1:000000000000:"
        + "function:configured:live]. Error message:  FunctionUrlConfig exists for this Lambda function",
        again.awsErrorDetails().errorMessage());
    assertEquals("ValidationException", assertThrows(LambdaException.class, () -> lambda.createFunctionUrlConfig(
        b -> b.functionName("configured").qualifier("1").authType(FunctionUrlAuthType.NONE)))
        .awsErrorDetails().errorCode());
    assertThrows(ResourceNotFoundException.class, () -> lambda.getFunctionUrlConfig(b -> b.functionName("configured")));
    assertEquals(created.functionUrl(), lambda.getFunctionUrlConfig(b -> b.functionName("configured")
        .qualifier("live")).functionUrl());
    assertEquals(1, lambda.listFunctionUrlConfigs(b -> b.functionName("configured")).functionUrlConfigs().size());

    allowPublic("configured", "live");
    Reply reply = curl(created.functionUrl(), "GET", Map.of(), null);
    assertEquals(200, reply.status(), reply.body());
    assertEquals("1", reply.json().get("functionVersion").asText(), "the alias's version ran");

    NODE.restart();
    lambda = NODE.lambda();
    assertEquals(created.functionUrl(), lambda.getFunctionUrlConfig(b -> b.functionName("configured")
        .qualifier("live")).functionUrl(), "the url-id is kept across a restart");
    String restartedUrl = created.functionUrl().replaceFirst(":\\d+/", ":" + NODE.node().port + "/");
    assertEquals(200, curl(restartedUrl, "GET", Map.of(), null).status());

    lambda.deleteFunctionUrlConfig(b -> b.functionName("configured").qualifier("live"));
    NodeProcess.sleep(1100);
    assertNotEquals(200, curl(restartedUrl, "GET", Map.of(), null).status());
    assertThrows(ResourceNotFoundException.class, () -> lambda.deleteFunctionUrlConfig(
        b -> b.functionName("configured").qualifier("live")));
  }
}
