package io.tributary.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class RuntimeManagementConfigTest {

  private static final String PINNED = "arn:aws:lambda:us-east-1::runtime:python-3.11.7";

  @Test
  void manualPinsARuntimeVersionAndTheOtherModesLeaveItToThePlatform() {
    assertEquals(new RuntimeManagementConfig("Manual", PINNED), RuntimeManagementConfig.of("Manual", PINNED));
    assertEquals(new RuntimeManagementConfig("FunctionUpdate", null), RuntimeManagementConfig.of("FunctionUpdate", null));
    assertEquals("Auto", new RuntimeManagementConfig(null, null).updateRuntimeOn(), "what old bytes without it read as");
  }

  @Test
  void aModeOutsideAwsEnumIsAValidationError() {
    LambdaException e = assertThrows(LambdaException.class, () -> RuntimeManagementConfig.of("Sometimes", null));
    assertEquals("ValidationException", e.errorType());
    assertEquals(400, e.status());
    assertEquals("ValidationException",
        assertThrows(LambdaException.class, () -> RuntimeManagementConfig.of(null, null)).errorType());
  }

  @Test
  void runtimeVersionArnsFollowAwsPattern() {
    RuntimeManagementConfig.of("Manual", "arn:aws-us-gov:lambda:us-gov-west-1::runtime:0a1b2c");
    RuntimeManagementConfig.of("Manual", "arn:aws:lambda:cn-isob-east-1::runtime:python-3.12");
    for (String bad : new String[] {"arn:aws:lambda:us-east-1:000000000000:runtime:python-3.11.7",
        "arn:aws:lambda:us-east-1::function:python-3.11.7", "python-3.11.7", "arn::lambda:us-east-1::runtime:x",
        "arn:aws:lambda:us-east-1::runtime:"}) {
      LambdaException e = assertThrows(LambdaException.class, () -> RuntimeManagementConfig.of("Manual", bad), bad);
      assertEquals("ValidationException", e.errorType(), bad);
    }
  }

  @Test
  void manualNeedsAnArnAndOnlyManualTakesOne() {
    assertEquals("InvalidParameterValueException",
        assertThrows(LambdaException.class, () -> RuntimeManagementConfig.of("Manual", null)).errorType());
    assertEquals("InvalidParameterValueException",
        assertThrows(LambdaException.class, () -> RuntimeManagementConfig.of("Auto", PINNED)).errorType());
  }

  @Test
  void codeSigningConfigArnsFollowAwsPatternAndNameNoConfigHere() {
    String arn = "arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-0123456789abcdef0";
    assertEquals(arn, CodeSigning.arn(arn));
    assertEquals("ValidationException", assertThrows(LambdaException.class,
        () -> CodeSigning.arn("arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-short")).errorType());
    assertEquals("CodeSigningConfigNotFoundException", CodeSigning.attachRefused(arn).errorType());
    assertEquals(404, CodeSigning.attachRefused(arn).status());
    assertEquals("ResourceNotFoundException", CodeSigning.notFound(arn).errorType());
  }

  @Test
  void recursiveLoopIsAllowOrTerminate() {
    assertEquals("Allow", Validation.recursiveLoop("Allow"));
    assertEquals("ValidationException",
        assertThrows(LambdaException.class, () -> Validation.recursiveLoop("Stop")).errorType());
  }
}
