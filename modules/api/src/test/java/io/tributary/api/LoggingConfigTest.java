package io.tributary.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.api.FunctionConfig.LoggingConfig;
import org.junit.jupiter.api.Test;

class LoggingConfigTest {

  private static final LoggingConfig TEXT = LoggingConfig.defaults("f");

  @Test
  void jsonWithoutLevelsGetsInfoAndKeepsTheDefaultGroup() {
    assertEquals(new LoggingConfig("JSON", "INFO", "INFO", "/aws/lambda/f"),
        new LoggingConfig("JSON", null, null, null).over(TEXT));
  }

  @Test
  void anUpdateChangesOnlyTheMembersItNames() {
    LoggingConfig current = new LoggingConfig("JSON", "DEBUG", "WARN", "/custom/group");
    assertEquals(new LoggingConfig("JSON", "ERROR", "WARN", "/custom/group"),
        new LoggingConfig(null, "ERROR", null, null).over(current));
    assertEquals(new LoggingConfig("JSON", "DEBUG", "WARN", "/other"),
        new LoggingConfig(null, null, null, "/other").over(current));
  }

  @Test
  void switchingToTextDropsTheLevels() {
    assertEquals(new LoggingConfig("Text", null, null, "/custom/group"),
        new LoggingConfig("Text", null, null, null).over(new LoggingConfig("JSON", "DEBUG", "WARN", "/custom/group")));
  }

  @Test
  void levelsWithTextAreRefusedAsAwsRefusesThem() {
    LambdaException e = assertThrows(LambdaException.class,
        () -> new LoggingConfig(null, "DEBUG", null, null).over(TEXT));
    assertEquals(400, e.status());
    assertEquals("InvalidParameterValueException", e.errorType());
    assertTrue(e.getMessage().startsWith("LogLevel is not supported when LogFormat is set to \"Text\"."), e.getMessage());
    assertThrows(LambdaException.class, () -> new LoggingConfig("Text", null, "INFO", null)
        .over(new LoggingConfig("JSON", "INFO", "INFO", "/aws/lambda/f")));
  }
}
