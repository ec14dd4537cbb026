package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.CodeSigningConfigNotFoundException;
import software.amazon.awssdk.services.lambda.model.GetFunctionCodeSigningConfigResponse;
import software.amazon.awssdk.services.lambda.model.GetRuntimeManagementConfigResponse;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.PutRuntimeManagementConfigResponse;
import software.amazon.awssdk.services.lambda.model.RecursiveLoop;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;
import software.amazon.awssdk.services.lambda.model.UpdateRuntimeOn;

/**
 * The function-level operations deploy tools call, through the AWS SDK for Java 2.51 (and signed raw
 * HTTP for InvokeAsync, which that SDK no longer has): code signing as an unsigned function answers
 * it, runtime management and recursion configs stored across a restart, and the legacy InvokeAsync
 * delivered through the async queue. Each bad input gets AWS's error type and status and stores nothing.
 */
class FunctionSettingsIT {

  private static final String KEYSPACE = "it_function_settings";
  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  private static final String CSC = "arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-0123456789abcdef0";
  private static final String PINNED = "arn:aws:lambda:us-east-1::runtime:python-3.11.7";
  /** Appends "<request id> <event>" to $OUT for every invocation. */
  private static final String RECORDER = Zips.bashRuntime("""
      echo "$REQUEST_ID $EVENT" >> "$OUT"
      curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d "$EVENT" >/dev/null
      """);
  private static final Path OUT = Path.of("target", "function-settings-it").toAbsolutePath();
  private static LambdaClient lambda;

  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension(KEYSPACE);

  @BeforeAll
  static void start() throws IOException {
    Files.createDirectories(OUT);
    lambda = NODE.lambda();
  }

  private static void create(String name, boolean publish) {
    lambda.createFunction(b -> b.functionName(name).runtime("provided.al2023").role(ROLE).handler("bootstrap")
        .publish(publish).code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.withBootstrap("#!/bin/sh\necho hi\n")))));
  }

  private static void assertError(int status, String type, LambdaException e) {
    assertEquals(status, e.statusCode(), e.getMessage());
    assertEquals(type, e.awsErrorDetails().errorCode(), e.getMessage());
  }

  @Test
  void anUnsignedFunctionAnswersAsOnAwsAndNoCodeSigningConfigCanBeAttachedOrMade() {
    create("signing", false);
    GetFunctionCodeSigningConfigResponse got = lambda.getFunctionCodeSigningConfig(b -> b.functionName("signing"));
    assertEquals("", got.codeSigningConfigArn(), "what Terraform's read of aws_lambda_function expects");
    assertEquals("signing", got.functionName());
    assertEquals("signing", lambda.getFunctionCodeSigningConfig(
        b -> b.functionName("arn:aws:lambda:us-east-1:000000000000:function:signing")).functionName());
    assertEquals(204, lambda.deleteFunctionCodeSigningConfig(b -> b.functionName("signing")).sdkHttpResponse()
        .statusCode());
    assertError(404, "ResourceNotFoundException", assertThrows(ResourceNotFoundException.class,
        () -> lambda.getFunctionCodeSigningConfig(b -> b.functionName("no-such-function"))));
    assertError(404, "ResourceNotFoundException", assertThrows(ResourceNotFoundException.class,
        () -> lambda.deleteFunctionCodeSigningConfig(b -> b.functionName("no-such-function"))));

    CodeSigningConfigNotFoundException put = assertThrows(CodeSigningConfigNotFoundException.class,
        () -> lambda.putFunctionCodeSigningConfig(b -> b.functionName("signing").codeSigningConfigArn(CSC)));
    assertError(404, "CodeSigningConfigNotFoundException", put);
    assertTrue(put.getMessage().contains("does not verify code signatures"), put.getMessage());
    assertError(400, "ValidationException", assertThrows(LambdaException.class,
        () -> lambda.putFunctionCodeSigningConfig(b -> b.functionName("signing").codeSigningConfigArn("csc-1"))));
    assertError(404, "ResourceNotFoundException", assertThrows(ResourceNotFoundException.class,
        () -> lambda.putFunctionCodeSigningConfig(b -> b.functionName("no-such-function").codeSigningConfigArn(CSC))));
    assertEquals("", lambda.getFunctionCodeSigningConfig(b -> b.functionName("signing")).codeSigningConfigArn());

    assertError(404, "CodeSigningConfigNotFoundException", assertThrows(CodeSigningConfigNotFoundException.class,
        () -> lambda.createFunction(b -> b.functionName("signed").runtime("provided.al2023").role(ROLE)
            .handler("bootstrap").codeSigningConfigArn(CSC)
            .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.withBootstrap("#!/bin/sh\n")))))));
    assertError(404, "ResourceNotFoundException", assertThrows(ResourceNotFoundException.class,
        () -> lambda.getFunction(b -> b.functionName("signed"))));

    InvalidParameterValueException create = assertThrows(InvalidParameterValueException.class,
        () -> lambda.createCodeSigningConfig(b -> b.allowedPublishers(p -> p.signingProfileVersionArns(
            "arn:aws:signer:us-east-1:000000000000:/signing-profiles/p/abcdefghij"))));
    assertError(400, "InvalidParameterValueException", create);
    assertTrue(create.getMessage().contains("does not verify code signatures"), create.getMessage());
    assertEquals(List.of(), lambda.listCodeSigningConfigs(b -> b.maxItems(10)).codeSigningConfigs());
    assertError(404, "ResourceNotFoundException", assertThrows(ResourceNotFoundException.class,
        () -> lambda.getCodeSigningConfig(b -> b.codeSigningConfigArn(CSC))));
    assertError(404, "ResourceNotFoundException", assertThrows(ResourceNotFoundException.class,
        () -> lambda.updateCodeSigningConfig(b -> b.codeSigningConfigArn(CSC).description("d"))));
    assertError(404, "ResourceNotFoundException", assertThrows(ResourceNotFoundException.class,
        () -> lambda.deleteCodeSigningConfig(b -> b.codeSigningConfigArn(CSC))));
    assertError(404, "ResourceNotFoundException", assertThrows(ResourceNotFoundException.class,
        () -> lambda.listFunctionsByCodeSigningConfig(b -> b.codeSigningConfigArn(CSC))));
    assertError(400, "ValidationException", assertThrows(LambdaException.class,
        () -> lambda.getCodeSigningConfig(b -> b.codeSigningConfigArn("not-an-arn"))));
  }

  @Test
  void runtimeManagementIsStoredPerVersionAcrossARestartAndGoesWithItsVersion() {
    create("managed", true);
    GetRuntimeManagementConfigResponse initial = lambda.getRuntimeManagementConfig(b -> b.functionName("managed"));
    assertEquals(UpdateRuntimeOn.AUTO, initial.updateRuntimeOn());
    assertNull(initial.runtimeVersionArn());
    assertEquals("arn:aws:lambda:us-east-1:000000000000:function:managed", initial.functionArn());

    PutRuntimeManagementConfigResponse pinned = lambda.putRuntimeManagementConfig(b -> b.functionName("managed")
        .qualifier("1").updateRuntimeOn(UpdateRuntimeOn.MANUAL).runtimeVersionArn(PINNED));
    assertEquals(UpdateRuntimeOn.MANUAL, pinned.updateRuntimeOn());
    assertEquals(PINNED, pinned.runtimeVersionArn());
    assertEquals("arn:aws:lambda:us-east-1:000000000000:function:managed:1", pinned.functionArn());
    lambda.putRuntimeManagementConfig(b -> b.functionName("managed").updateRuntimeOn(UpdateRuntimeOn.FUNCTION_UPDATE));

    assertError(400, "ValidationException", assertThrows(LambdaException.class,
        () -> lambda.putRuntimeManagementConfig(b -> b.functionName("managed").updateRuntimeOn("Sometimes"))));
    assertError(400, "InvalidParameterValueException", assertThrows(InvalidParameterValueException.class,
        () -> lambda.putRuntimeManagementConfig(b -> b.functionName("managed").updateRuntimeOn(UpdateRuntimeOn.MANUAL))));
    assertError(400, "ValidationException", assertThrows(LambdaException.class,
        () -> lambda.putRuntimeManagementConfig(b -> b.functionName("managed").updateRuntimeOn(UpdateRuntimeOn.MANUAL)
            .runtimeVersionArn("arn:aws:lambda:us-east-1:000000000000:function:python"))));
    assertError(400, "InvalidParameterValueException", assertThrows(InvalidParameterValueException.class,
        () -> lambda.putRuntimeManagementConfig(b -> b.functionName("managed").updateRuntimeOn(UpdateRuntimeOn.AUTO)
            .runtimeVersionArn(PINNED))));
    assertError(404, "ResourceNotFoundException", assertThrows(ResourceNotFoundException.class,
        () -> lambda.putRuntimeManagementConfig(b -> b.functionName("managed").qualifier("9")
            .updateRuntimeOn(UpdateRuntimeOn.AUTO))));
    assertError(404, "ResourceNotFoundException", assertThrows(ResourceNotFoundException.class,
        () -> lambda.getRuntimeManagementConfig(b -> b.functionName("no-such-function"))));

    NODE.restart();
    lambda = NODE.lambda();
    assertEquals(UpdateRuntimeOn.FUNCTION_UPDATE,
        lambda.getRuntimeManagementConfig(b -> b.functionName("managed")).updateRuntimeOn(),
        "the refused puts stored nothing, and the last accepted one outlived the restart");
    GetRuntimeManagementConfigResponse v1 = lambda.getRuntimeManagementConfig(b -> b.functionName("managed")
        .qualifier("1"));
    assertEquals(UpdateRuntimeOn.MANUAL, v1.updateRuntimeOn());
    assertEquals(PINNED, v1.runtimeVersionArn());

    lambda.deleteFunction(b -> b.functionName("managed").qualifier("1"));
    assertError(404, "ResourceNotFoundException", assertThrows(ResourceNotFoundException.class,
        () -> lambda.getRuntimeManagementConfig(b -> b.functionName("managed").qualifier("1"))));
    lambda.updateFunctionCode(b -> b.functionName("managed").publish(true)
        .zipFile(SdkBytes.fromByteArray(Zips.withBootstrap("#!/bin/sh\necho v2\n"))));
    assertEquals(UpdateRuntimeOn.AUTO, lambda.getRuntimeManagementConfig(b -> b.functionName("managed")
        .qualifier("2")).updateRuntimeOn(), "a new version starts from AWS's default");
  }

  @Test
  void recursionConfigIsTerminateUntilPutAndOutlivesARestart() {
    create("looping", false);
    assertEquals(RecursiveLoop.TERMINATE, lambda.getFunctionRecursionConfig(b -> b.functionName("looping"))
        .recursiveLoop());
    assertEquals(RecursiveLoop.ALLOW, lambda.putFunctionRecursionConfig(b -> b.functionName("looping")
        .recursiveLoop(RecursiveLoop.ALLOW)).recursiveLoop());
    assertError(400, "ValidationException", assertThrows(LambdaException.class,
        () -> lambda.putFunctionRecursionConfig(b -> b.functionName("looping").recursiveLoop("Stop"))));
    assertError(400, "ValidationException", assertThrows(LambdaException.class,
        () -> lambda.putFunctionRecursionConfig(b -> b.functionName("looping:1").recursiveLoop(RecursiveLoop.TERMINATE))));
    assertError(404, "ResourceNotFoundException", assertThrows(ResourceNotFoundException.class,
        () -> lambda.getFunctionRecursionConfig(b -> b.functionName("no-such-function"))));

    NODE.restart();
    lambda = NODE.lambda();
    assertEquals(RecursiveLoop.ALLOW, lambda.getFunctionRecursionConfig(b -> b.functionName("looping"))
        .recursiveLoop());
    lambda.deleteFunction(b -> b.functionName("looping"));
    create("looping", false);
    assertEquals(RecursiveLoop.TERMINATE, lambda.getFunctionRecursionConfig(b -> b.functionName("looping"))
        .recursiveLoop(), "a function created again under the name starts from AWS's default");
  }

  @Test
  void invokeAsyncQueuesTheBodyAsTheEventAndAnswersAsAws() throws Exception {
    Path out = OUT.resolve("legacy.log");
    Files.deleteIfExists(out);
    lambda.createFunction(b -> b.functionName("legacy").runtime("provided.al2023").role(ROLE).handler("unused")
        .environment(e -> e.variables(Map.of("OUT", out.toString())))
        .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.withBootstrap(RECORDER)))));
    SignedHttp http = new SignedHttp(NODE.node().endpoint());

    HttpResponse<String> accepted = http.send("POST", "/2014-11-13/functions/legacy/invoke-async/", "{\"n\":1}");
    assertEquals(202, accepted.statusCode());
    assertEquals("{\"Status\":202}", accepted.body());
    String requestId = accepted.headers().firstValue("x-amzn-RequestId").orElseThrow();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!(Files.exists(out) && Files.readString(out).contains(requestId)) && System.nanoTime() < deadline) {
      NodeProcess.sleep(200);
    }
    assertEquals(List.of(requestId + " {\"n\":1}"), Files.readAllLines(out), "run once, with the 202's request id");

    HttpResponse<String> tooLarge = http.send("POST", "/2014-11-13/functions/legacy/invoke-async",
        "\"" + "x".repeat(256 * 1024) + "\"");
    assertEquals(413, tooLarge.statusCode());
    assertEquals("RequestTooLargeException", tooLarge.headers().firstValue("X-Amzn-ErrorType").orElseThrow());
    assertTrue(tooLarge.body().contains("262144 bytes for the InvokeAsync operation"), tooLarge.body());
    HttpResponse<String> notJson = http.send("POST", "/2014-11-13/functions/legacy/invoke-async/", "not json");
    assertEquals(400, notJson.statusCode());
    assertEquals("InvalidRequestContentException", notJson.headers().firstValue("X-Amzn-ErrorType").orElseThrow());
    HttpResponse<String> missing = http.send("POST", "/2014-11-13/functions/no-such-function/invoke-async/", "{}");
    assertEquals(404, missing.statusCode());
    assertEquals("ResourceNotFoundException", missing.headers().firstValue("X-Amzn-ErrorType").orElseThrow());
    NodeProcess.sleep(1_000);
    assertEquals(1, Files.readAllLines(out).size(), "refused requests queue nothing");
  }
}
