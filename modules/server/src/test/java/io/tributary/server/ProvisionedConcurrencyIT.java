package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.GetProvisionedConcurrencyConfigResponse;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.ProvisionedConcurrencyConfigListItem;
import software.amazon.awssdk.services.lambda.model.ProvisionedConcurrencyConfigNotFoundException;
import software.amazon.awssdk.services.lambda.model.ProvisionedConcurrencyStatusEnum;
import software.amazon.awssdk.services.lambda.model.PutProvisionedConcurrencyConfigResponse;
import software.amazon.awssdk.services.lambda.model.ResourceConflictException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;

/**
 * Provisioned concurrency on one node, through the AWS SDK for Java 2.51: environments initialized
 * ahead of demand (status IN_PROGRESS then READY, or FAILED with the init error), serving invokes
 * first with on-demand ones taking the overflow, held apart from the function's reserved concurrency,
 * and AWS's errors for what AWS refuses. The 3-node behaviour (a node lost) is in ClusterIT.
 */
class ProvisionedConcurrencyIT {

  private static final String KEYSPACE = "it_provisioned";
  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  /** Answers how its environment was initialized and by which process; sleeps as long as the event says. */
  private static final byte[] WARM = Zips.of(Map.of("app.py", """
      import os, time
      def handler(event, context):
          time.sleep(event.get("sleep", 0))
          return {"init": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"], "pid": os.getpid()}
      """));
  private static final String ARN = "arn:aws:lambda:us-east-1:000000000000:function:";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static LambdaClient lambda;

  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension(KEYSPACE);

  @BeforeAll
  static void start() {
    lambda = NODE.lambda();
  }

  private static void createPublished(String name, byte[] zip) {
    lambda.createFunction(b -> b.functionName(name).runtime("python3.11").role(ROLE).handler("app.handler").timeout(30)
        .publish(true).code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
    lambda.createAlias(b -> b.functionName(name).name("live").functionVersion("1"));
  }

  private static GetProvisionedConcurrencyConfigResponse awaitStatus(String name, String qualifier,
      ProvisionedConcurrencyStatusEnum wanted) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      GetProvisionedConcurrencyConfigResponse now = lambda.getProvisionedConcurrencyConfig(b -> b.functionName(name)
          .qualifier(qualifier));
      if (now.status() == wanted) {
        return now;
      }
      assertTrue(System.nanoTime() < deadline, "still " + now.status() + " " + now.statusReason() + " after 60 s");
      NodeProcess.sleep(200);
    }
  }

  private static Map<String, Object> invoke(String qualifier, String name, int sleep) {
    String payload = lambda.invoke(b -> b.functionName(name).qualifier(qualifier)
        .payload(SdkBytes.fromUtf8String("{\"sleep\": " + sleep + "}"))).payload().asUtf8String();
    return json(payload);
  }

  private static Map<String, Object> json(String text) {
    try {
      return JSON.readValue(text, new TypeReference<Map<String, Object>>() {});
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void anAliasesEnvironmentsAreReadyAheadOfDemandAndServeFirstWithOnDemandTakingTheOverflow() throws Exception {
    createPublished("warm", WARM);
    PutProvisionedConcurrencyConfigResponse put = lambda.putProvisionedConcurrencyConfig(b -> b.functionName("warm")
        .qualifier("live").provisionedConcurrentExecutions(2));
    assertEquals(ProvisionedConcurrencyStatusEnum.IN_PROGRESS, put.status());
    assertEquals(2, put.requestedProvisionedConcurrentExecutions());

    GetProvisionedConcurrencyConfigResponse ready = awaitStatus("warm", "live", ProvisionedConcurrencyStatusEnum.READY);
    assertEquals(2, ready.allocatedProvisionedConcurrentExecutions());
    assertEquals(2, ready.availableProvisionedConcurrentExecutions());
    assertEquals(put.lastModified(), ready.lastModified());

    // The first invoke runs on an environment initialized ahead of it: no Init Duration in its REPORT.
    InvokeResponse first = lambda.invoke(b -> b.functionName("warm").qualifier("live").logType(LogType.TAIL)
        .payload(SdkBytes.fromUtf8String("{}")));
    assertEquals("provisioned-concurrency", json(first.payload().asUtf8String()).get("init"));
    String tail = new String(Base64.getDecoder().decode(first.logResult()), StandardCharsets.UTF_8);
    assertTrue(tail.contains("REPORT") && !tail.contains("Init Duration"), tail);

    // Four at once, each busy for 2 s: two on the provisioned environments, two cold-started on demand.
    List<CompletableFuture<Map<String, Object>>> burst = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      burst.add(CompletableFuture.supplyAsync(() -> invoke("live", "warm", 2)));
    }
    Map<Object, Integer> kinds = new ConcurrentHashMap<>();
    burst.forEach(f -> kinds.merge(f.join().get("init"), 1, Integer::sum));
    assertEquals(Map.of("provisioned-concurrency", 2, "on-demand", 2), kinds);

    // The version the alias points to is served by the same environments.
    assertEquals("provisioned-concurrency", invoke("1", "warm", 0).get("init"));
    assertEquals("on-demand", invoke("$LATEST", "warm", 0).get("init"));

    List<ProvisionedConcurrencyConfigListItem> listed = lambda.listProvisionedConcurrencyConfigs(
        b -> b.functionName("warm")).provisionedConcurrencyConfigs();
    assertEquals(1, listed.size());
    assertEquals(ARN + "warm" + ":live", listed.get(0).functionArn());
    assertEquals(ProvisionedConcurrencyStatusEnum.READY, listed.get(0).status());

    lambda.deleteProvisionedConcurrencyConfig(b -> b.functionName("warm").qualifier("live"));
    assertThrows(ProvisionedConcurrencyConfigNotFoundException.class,
        () -> lambda.getProvisionedConcurrencyConfig(b -> b.functionName("warm").qualifier("live")));
    assertEquals("on-demand", invoke("live", "warm", 0).get("init"));
    // Deleting again is not an error, as on AWS.
    lambda.deleteProvisionedConcurrencyConfig(b -> b.functionName("warm").qualifier("live"));
  }

  @Test
  void afterARestartTheNodeInitializesItsShareAgain() {
    createPublished("lasting", WARM);
    lambda.putProvisionedConcurrencyConfig(b -> b.functionName("lasting").qualifier("live")
        .provisionedConcurrentExecutions(1));
    awaitStatus("lasting", "live", ProvisionedConcurrencyStatusEnum.READY);
    NODE.restart();
    lambda = NODE.lambda();
    GetProvisionedConcurrencyConfigResponse again = awaitStatus("lasting", "live",
        ProvisionedConcurrencyStatusEnum.READY);
    assertEquals(1, again.requestedProvisionedConcurrentExecutions());
    assertEquals("provisioned-concurrency", invoke("live", "lasting", 0).get("init"));
  }

  @Test
  void aFunctionWhoseInitFailsIsFailedWithItsInitErrorAsTheReason() {
    createPublished("broken", Zips.of(Map.of("app.py", """
        raise RuntimeError("the database is not configured")
        def handler(event, context):
            return "never"
        """)));
    lambda.putProvisionedConcurrencyConfig(b -> b.functionName("broken").qualifier("1")
        .provisionedConcurrentExecutions(1));
    GetProvisionedConcurrencyConfigResponse failed = awaitStatus("broken", "1", ProvisionedConcurrencyStatusEnum.FAILED);
    assertEquals(0, failed.allocatedProvisionedConcurrentExecutions());
    assertTrue(failed.statusReason().contains("the database is not configured"), failed.statusReason());
  }

  @Test
  void provisionedConcurrencyIsHeldApartFromTheReservedConcurrencyItFitsIn() {
    createPublished("bounded", WARM);
    lambda.putFunctionConcurrency(b -> b.functionName("bounded").reservedConcurrentExecutions(2));
    InvalidParameterValueException over = assertThrows(InvalidParameterValueException.class,
        () -> lambda.putProvisionedConcurrencyConfig(b -> b.functionName("bounded").qualifier("live")
            .provisionedConcurrentExecutions(3)));
    assertEquals("Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for "
        + "function", over.awsErrorDetails().errorMessage());
    lambda.putProvisionedConcurrencyConfig(b -> b.functionName("bounded").qualifier("live")
        .provisionedConcurrentExecutions(1));
    awaitStatus("bounded", "live", ProvisionedConcurrencyStatusEnum.READY);
    assertThrows(InvalidParameterValueException.class,
        () -> lambda.putFunctionConcurrency(b -> b.functionName("bounded").reservedConcurrentExecutions(0)));

    // Of the 2 reserved, 1 is provisioned: with it busy, one on-demand invoke runs and a third is throttled.
    CompletableFuture<Map<String, Object>> busy = CompletableFuture.supplyAsync(() -> invoke("live", "bounded", 3));
    NodeProcess.sleep(500);
    CompletableFuture<Map<String, Object>> overflow = CompletableFuture.supplyAsync(() -> invoke("live", "bounded", 3));
    NodeProcess.sleep(1000);
    LambdaClient noRetries = NODE.node().clientWithoutRetries();
    TooManyRequestsException throttled = assertThrows(TooManyRequestsException.class, () -> noRetries
        .invoke(b -> b.functionName("bounded").qualifier("live").payload(SdkBytes.fromUtf8String("{}"))));
    assertEquals("ReservedFunctionConcurrentInvocationLimitExceeded", throttled.reasonAsString());
    assertEquals("provisioned-concurrency", busy.join().get("init"));
    assertEquals("on-demand", overflow.join().get("init"));
  }

  @Test
  void whatAwsRefusesIsRefusedWithItsErrorAndChangesNothing() {
    createPublished("rules", WARM);
    lambda.updateFunctionConfiguration(b -> b.functionName("rules").timeout(20));
    assertEquals("2", lambda.publishVersion(b -> b.functionName("rules")).version());
    InvalidParameterValueException latest = assertThrows(InvalidParameterValueException.class,
        () -> lambda.putProvisionedConcurrencyConfig(b -> b.functionName("rules").qualifier("$LATEST")
            .provisionedConcurrentExecutions(1)));
    assertEquals("Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
        latest.awsErrorDetails().errorMessage());
    LambdaException zero = assertThrows(LambdaException.class, () -> lambda.putProvisionedConcurrencyConfig(
        b -> b.functionName("rules").qualifier("live").provisionedConcurrentExecutions(0)));
    assertEquals("ValidationException", zero.awsErrorDetails().errorCode());
    ResourceNotFoundException noAlias = assertThrows(ResourceNotFoundException.class,
        () -> lambda.putProvisionedConcurrencyConfig(b -> b.functionName("rules").qualifier("blue")
            .provisionedConcurrentExecutions(1)));
    assertEquals("Cannot find alias arn: " + ARN + "rules" + ":blue", noAlias.awsErrorDetails().errorMessage());
    assertThrows(ResourceNotFoundException.class, () -> lambda.putProvisionedConcurrencyConfig(
        b -> b.functionName("rules").qualifier("7").provisionedConcurrentExecutions(1)));
    assertThrows(ProvisionedConcurrencyConfigNotFoundException.class,
        () -> lambda.getProvisionedConcurrencyConfig(b -> b.functionName("rules").qualifier("1")));
    assertEquals("The function resource provided must be an alias or a published version.",
        assertThrows(InvalidParameterValueException.class, () -> lambda.getProvisionedConcurrencyConfig(
            b -> b.functionName("rules").qualifier("$LATEST"))).awsErrorDetails().errorMessage());

    lambda.putProvisionedConcurrencyConfig(b -> b.functionName("rules").qualifier("live")
        .provisionedConcurrentExecutions(1));
    assertEquals("Version is pointed by a Provisioned Concurrency alias",
        assertThrows(ResourceConflictException.class, () -> lambda.putProvisionedConcurrencyConfig(
            b -> b.functionName("rules").qualifier("1").provisionedConcurrentExecutions(1)))
            .awsErrorDetails().errorMessage());
    lambda.putProvisionedConcurrencyConfig(b -> b.functionName("rules").qualifier("2")
        .provisionedConcurrentExecutions(1));
    lambda.createAlias(b -> b.functionName("rules").name("next").functionVersion("2"));
    assertEquals("Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version",
        assertThrows(ResourceConflictException.class, () -> lambda.putProvisionedConcurrencyConfig(
            b -> b.functionName("rules").qualifier("next").provisionedConcurrentExecutions(1)))
            .awsErrorDetails().errorMessage());
    // More than the account keeps unreserved (1,000 less its minimum of 100).
    assertEquals("Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below"
        + " its minimum value of [100].", assertThrows(InvalidParameterValueException.class,
            () -> lambda.putProvisionedConcurrencyConfig(b -> b.functionName("rules").qualifier("live")
                .provisionedConcurrentExecutions(950))).awsErrorDetails().errorMessage());

    List<ProvisionedConcurrencyConfigListItem> listed = lambda.listProvisionedConcurrencyConfigs(
        b -> b.functionName("rules")).provisionedConcurrencyConfigs();
    assertEquals(List.of(ARN + "rules" + ":2", ARN + "rules" + ":live"),
        listed.stream().map(ProvisionedConcurrencyConfigListItem::functionArn).sorted().toList());
    assertEquals(List.of(1, 1), listed.stream().map(ProvisionedConcurrencyConfigListItem::
        requestedProvisionedConcurrentExecutions).toList());
  }
}
