package io.tributary.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.api.Runtimes.Language;
import io.tributary.api.Runtimes.Offer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RuntimesTest {

  private static final Map<String, Offer> OFFERED = Map.of(
      "python3.11", new Offer("python3.11", "python:3.11.7", true),
      "python3.12", new Offer("python3.12", "python:3.11.7", false),
      "java21", new Offer("java21", "java:25.0.3", false));

  @Test
  void targetsNameTheLanguageAndTheReleaseAnIdAsksFor() {
    assertEquals(new Runtimes.Target("python3.12", Language.PYTHON, List.of(3, 12)),
        Runtimes.target("python3.12").orElseThrow());
    assertEquals(List.of(22), Runtimes.target("nodejs22.x").orElseThrow().release());
    assertEquals(List.of(8), Runtimes.target("java8.al2").orElseThrow().release());
    assertEquals(List.of(17), Runtimes.target("java17.al2023").orElseThrow().release());
    assertEquals(Language.PROVIDED, Runtimes.target("provided.al2023").orElseThrow().language());
    assertTrue(Runtimes.target("ruby3.3").isEmpty(), "no ruby runtime in Tributary");
    assertTrue(Runtimes.target("python3.9").isEmpty(), "AWS no longer accepts python3.9");
    assertTrue(Runtimes.target("python4.0").isEmpty(), "not a Lambda id");
  }

  @Test
  void runnableIdsCoverTodaysRuntimes() {
    assertTrue(Runtimes.runnable().containsAll(List.of("python3.10", "python3.11", "python3.12", "python3.13",
        "python3.14", "nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x", "java8.al2", "java11", "java17",
        "java21", "java25", "provided.al2", "provided.al2023")), Runtimes.runnable().toString());
  }

  @Test
  void anOfferedIdIsAcceptedWithTheVersionThatRunsIt() {
    assertEquals("python:3.11.7", Runtimes.check("python3.12", OFFERED).runtimeVersion());
    assertEquals("arn:aws:lambda:eu-west-1::runtime:java-25.0.3",
        Runtimes.check("java21", OFFERED).runtimeVersionArn("eu-west-1"));
  }

  @Test
  void anIdThatIsNotLambdasIsAValidationException() {
    LambdaException e = assertThrows(LambdaException.class, () -> Runtimes.check("python3", OFFERED));
    assertEquals("ValidationException", e.errorType());
    assertTrue(e.getMessage().startsWith("1 validation error detected: Value 'python3' at 'runtime' failed to "
        + "satisfy constraint: Member must satisfy enum value set: [nodejs, "), e.getMessage());
  }

  @Test
  void aLambdaIdWithNoInterpreterHereNamesTheInstalledOnes() {
    LambdaException e = assertThrows(LambdaException.class, () -> Runtimes.check("ruby3.3", OFFERED));
    assertEquals("InvalidParameterValueException", e.errorType());
    assertEquals(400, e.status());
    assertTrue(e.getMessage().contains("it has no ruby runtime"), e.getMessage());
    assertTrue(e.getMessage().endsWith("Runtimes it runs: [java21 (on java:25.0.3), python3.11, "
        + "python3.12 (on python:3.11.7)]."), e.getMessage());
    LambdaException node = assertThrows(LambdaException.class, () -> Runtimes.check("nodejs24.x", OFFERED));
    assertTrue(node.getMessage().contains("no interpreter for it is installed"), node.getMessage());
  }

  @Test
  void aDeprecatedIdIsRefusedAsAwsRefusesIt() {
    LambdaException e = assertThrows(LambdaException.class, () -> Runtimes.check("python3.7", OFFERED));
    assertEquals("InvalidParameterValueException", e.errorType());
    assertTrue(e.getMessage().startsWith("The runtime parameter of python3.7 is no longer supported for creating "
        + "or updating AWS Lambda functions."), e.getMessage());
  }
}
