package io.tributary.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.api.Arns;
import io.tributary.api.LambdaException;
import io.tributary.api.LayerVersion;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The checks of the layer operations and of a function's {@code Layers} that need no layer's state,
 * with AWS's error types and wording (recorded against AWS in LocalStack's snapshot tests and AWS's
 * API model).
 */
class LayerRoutesTest {

  private static final Arns ARNS = new Arns("us-east-1", "000000000000");
  private static final LayerRoutes ROUTES = new LayerRoutes(null, null, null, null, ARNS);
  private static final String LAYER = "arn:aws:lambda:us-east-1:000000000000:layer:";

  private static LambdaException refused(Executable call) {
    return assertThrows(LambdaException.class, call);
  }

  private static void assertRefused(String type, String message, Executable call) {
    LambdaException e = refused(call);
    assertEquals(type, e.errorType(), e.getMessage());
    assertEquals(message, e.getMessage());
  }

  @Test
  void aLayerIsNamedByItsNameOrItsArnInThisAccountAndRegion() {
    assertEquals("shared-libs_2", ROUTES.layerName("shared-libs_2"));
    assertEquals("shared-libs", ROUTES.layerName(LAYER + "shared-libs"));
    assertEquals(404, refused(() -> ROUTES.layerName("arn:aws:lambda:us-east-1:111111111111:layer:x")).status());
    assertEquals(404, refused(() -> ROUTES.layerName("arn:aws:lambda:eu-west-1:000000000000:layer:x")).status());
    assertRefused("ValidationException", "1 validation error detected: Value 'bad name' at 'layerName' failed to "
        + "satisfy constraint: Member must satisfy regular expression pattern: "
        + "(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+",
        () -> ROUTES.layerName("bad name"));
    assertEquals("ValidationException", refused(() -> ROUTES.layerName("a".repeat(141))).errorType());
    assertEquals("a".repeat(140), ROUTES.layerName("a".repeat(140)));
  }

  @Test
  void versionNumbersBelowOneAreRefusedAsAwsRefusesThem() {
    assertEquals(7, LayerRoutes.versionNumber("7"));
    assertRefused("InvalidParameterValueException", "Layer Version Cannot be less than 1",
        () -> LayerRoutes.versionNumber("0"));
    assertRefused("InvalidParameterValueException", "Layer Version Cannot be less than 1",
        () -> LayerRoutes.versionNumber("-3"));
    assertEquals(400, refused(() -> LayerRoutes.versionNumber("latest")).status());
  }

  @Test
  void aLayerStatementIdTakesNoDotUnlikeAFunctionsOne() {
    assertEquals("org-readers_1", LayerRoutes.statementId("org-readers_1"));
    assertEquals("ValidationException", refused(() -> LayerRoutes.statementId("a.b")).errorType());
    assertEquals("ValidationException", refused(() -> LayerRoutes.statementId("s".repeat(101))).errorType());
    assertEquals("ValidationException", refused(() -> LayerRoutes.statementId(null)).errorType());
  }

  @Test
  void compatibleRuntimesAndArchitecturesAreLambdasAndBothErrorsAreReportedTogether() {
    LayerRoutes.checkCompatibility(List.of("python3.12", "nodejs22.x", "python3.7"), List.of("x86_64", "arm64"));
    LayerRoutes.checkCompatibility(List.of(), List.of());
    assertRefused("ValidationException", "2 validation errors detected: Value '[invalidruntime]' at "
        + "'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: "
        + io.tributary.api.Runtimes.LAMBDA + "; Value '[invalidarch]' at 'compatibleArchitectures' failed to satisfy "
        + "constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member "
        + "must not be null]",
        () -> LayerRoutes.checkCompatibility(List.of("invalidruntime"), List.of("invalidarch")));
    List<String> sixteen = Collections.nCopies(16, "python3.12");
    LambdaException tooMany = refused(() -> LayerRoutes.checkCompatibility(sixteen, List.of()));
    assertTrue(tooMany.getMessage().startsWith("1 validation error detected: "), tooMany.getMessage());
    assertTrue(tooMany.getMessage().endsWith("Member must have length less than or equal to 15"));
    LambdaException threeArchitectures = refused(
        () -> LayerRoutes.checkCompatibility(List.of(), List.of("x86_64", "arm64", "x86_64")));
    assertTrue(threeArchitectures.getMessage().endsWith("Member must have length less than or equal to 2"));
  }

  @Test
  void listFiltersMatchOnlyVersionsThatNameTheRuntimeAndArchitecture() {
    LayerVersion python = version(List.of("python3.12"), List.of("arm64"));
    LayerVersion unstated = version(List.of(), List.of());
    Predicate<LayerVersion> arm = LayerRoutes.filter(Map.of("CompatibleArchitecture", "arm64"));
    assertTrue(arm.test(python));
    assertFalse(arm.test(unstated), "a version that names no architecture is not listed under one");
    Predicate<LayerVersion> both = LayerRoutes.filter(Map.of("CompatibleRuntime", "python3.12",
        "CompatibleArchitecture", "x86_64"));
    assertFalse(both.test(python));
    assertTrue(LayerRoutes.filter(Map.of()).test(unstated));
    assertRefused("ValidationException", "1 validation error detected: Value 'archdoesnotexist' at "
        + "'compatibleArchitecture' failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]",
        () -> LayerRoutes.filter(Map.of("CompatibleArchitecture", "archdoesnotexist")));
    assertEquals("ValidationException",
        refused(() -> LayerRoutes.filter(Map.of("CompatibleRuntime", "cobol85"))).errorType());
  }

  @Test
  void contentFromTheCodeStoreIsNamedByBucketTributaryCodeAndTheHexSha256() {
    String hex = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
    assertEquals(hex.toLowerCase(), LayerRoutes.codeStoreKey("tributary-code", hex));
    LambdaException otherBucket = refused(() -> LayerRoutes.codeStoreKey("my-bucket", "layer.zip"));
    assertEquals("InvalidParameterValueException", otherBucket.errorType());
    assertTrue(otherBucket.getMessage().contains("ZipFile") && otherBucket.getMessage().contains("\"tributary-code\""),
        otherBucket.getMessage());
    LambdaException notHex = refused(() -> LayerRoutes.codeStoreKey("tributary-code", "layer.zip"));
    assertTrue(notHex.getMessage().contains("64 hex digits"), notHex.getMessage());
    assertEquals("InvalidParameterValueException", refused(() -> LayerRoutes.codeStoreKey(null, null)).errorType());
    assertEquals("InvalidParameterValueException",
        refused(() -> LayerRoutes.codeStoreKey("tributary-code", null)).errorType());
  }

  @Test
  void aFunctionsLayersAreCheckedAsAwsChecksThemBeforeAnyLayerIsAsked() {
    assertNull(LayerRoutes.functionLayers(null, ARNS, null).toCompletableFuture().join(), "absent: unchanged");
    List<String> six = IntStream.rangeClosed(1, 6).mapToObj(i -> LAYER + "l" + i + ":1").toList();
    assertRefused("InvalidParameterValueException", "Cannot reference more than 5 layers.",
        () -> LayerRoutes.functionLayers(null, ARNS, six));
    assertRefused("ValidationException", "1 validation error detected: Value '[" + LAYER + "libs]' at 'layers' failed "
        + "to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 2048, "
        + "Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: "
        + "(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:"
        + "[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+), Member must not be null]",
        () -> LayerRoutes.functionLayers(null, ARNS, List.of(LAYER + "libs")));
    assertRefused("InvalidParameterValueException",
        "Layers are not in the same region as the function. Layers are expected to be in region us-east-1.",
        () -> LayerRoutes.functionLayers(null, ARNS, List.of("arn:aws:lambda:eu-west-1:000000000000:layer:libs:1")));
    LambdaException otherAccount = refused(() -> LayerRoutes.functionLayers(null, ARNS,
        List.of("arn:aws:lambda:us-east-1:111111111111:layer:libs:1")));
    assertEquals(403, otherAccount.status());
    assertEquals("AccessDeniedException", otherAccount.errorType());
    assertRefused("InvalidParameterValueException", "Two different versions of the same layer are not allowed to be "
        + "referenced in the same function. " + LAYER + "libs:1 and " + LAYER + "libs:2 are versions of the same layer.",
        () -> LayerRoutes.functionLayers(null, ARNS, List.of(LAYER + "libs:1", LAYER + "other:4", LAYER + "libs:2")));
    assertEquals("InvalidParameterValueException", refused(() -> LayerRoutes.functionLayers(null, ARNS,
        List.of(LAYER + "libs:1", LAYER + "libs:1"))).errorType());
  }

  private static LayerVersion version(List<String> runtimes, List<String> architectures) {
    return new LayerVersion("libs", 1, "", runtimes, architectures, null, "b64", 10, "hex", 20,
        "2026-12-07T12:00:00.000+0000");
  }
}
