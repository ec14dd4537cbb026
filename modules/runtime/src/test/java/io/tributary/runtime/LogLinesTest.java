package io.tributary.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.api.FunctionConfig.LoggingConfig;
import io.tributary.api.InvocationResult;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class LogLinesTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant AT = Instant.parse("2026-12-07T09:45:50Z");

  private static LogLines json(String application, String system) {
    return LogLines.of(new LoggingConfig("JSON", application, system, "/aws/lambda/f"));
  }

  @Test
  void textIsLambdasClassicLinesAndFiltersNothing() {
    LogLines text = LogLines.of(LoggingConfig.defaults("f"));
    assertEquals("START RequestId: r1 Version: $LATEST", text.start(AT, "r1", "$LATEST", "arn:f"));
    assertEquals("END RequestId: r1\nREPORT RequestId: r1\tDuration: 16.40 ms\tBilled Duration: 17 ms"
        + "\tMemory Size: 128 MB\tMax Memory Used: 38 MB\tInit Duration: 120.50 ms",
        text.end(AT, "r1", 16.402, 128, 38, 120.5, "success"));
    assertEquals("INIT_START Runtime Version: python:3.11.7\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:abc",
        text.initStart(AT, "python:3.11.7", "arn:aws:lambda:us-east-1::runtime:abc", "f", "$LATEST"));
    assertTrue(text.keeps("{\"level\":\"DEBUG\",\"message\":\"x\"}"));
    assertEquals("Text", text.formatVariable());
    assertNull(text.levelVariable(), "AWS sets AWS_LAMBDA_LOG_LEVEL only with JSON");
  }

  @Test
  void jsonPlatformLinesHaveCloudWatchsShapes() throws Exception {
    LogLines lines = json(null, null);
    assertEquals("{\"time\":\"2026-12-07T09:45:50.000Z\",\"type\":\"platform.start\",\"record\":{\"requestId\":\"r1\","
        + "\"functionArn\":\"arn:aws:lambda:us-east-1:000000000000:function:f\",\"version\":\"$LATEST\"}}",
        lines.start(AT, "r1", "$LATEST", "arn:aws:lambda:us-east-1:000000000000:function:f"));
    assertEquals("{\"time\":\"2026-12-07T09:45:50.000Z\",\"type\":\"platform.report\",\"record\":{\"requestId\":\"r1\","
        + "\"metrics\":{\"durationMs\":16.402,\"billedDurationMs\":17,\"memorySizeMB\":128,\"maxMemoryUsedMB\":38,"
        + "\"initDurationMs\":120.5},\"status\":\"success\"}}",
        lines.end(AT, "r1", 16.4024, 128, 38, 120.5, "success"));
    JsonNode warm = JSON.readTree(lines.end(AT, "r2", 1.0, 128, 38, null, "error"));
    assertFalse(warm.path("record").path("metrics").has("initDurationMs"), "initDurationMs only after a cold start");
    assertEquals("error", warm.path("record").path("status").asText());
    JsonNode init = JSON.readTree(lines.initStart(AT, "python:3.11.7", "arn:aws:lambda:us-east-1::runtime:abc", "f",
        "$LATEST"));
    assertEquals("platform.initStart", init.path("type").asText());
    assertEquals("on-demand", init.path("record").path("initializationType").asText());
    assertEquals("init", init.path("record").path("phase").asText());
    assertEquals("python:3.11.7", init.path("record").path("runtimeVersion").asText());
    assertEquals("arn:aws:lambda:us-east-1::runtime:abc", init.path("record").path("runtimeVersionArn").asText());
    assertEquals("f", init.path("record").path("functionName").asText());
    assertEquals("$LATEST", init.path("record").path("functionVersion").asText());
  }

  @Test
  void systemLevelWarnDropsTheRoutineLinesButNotAFailedReport() {
    LogLines warn = json("INFO", "WARN");
    assertNull(warn.start(AT, "r1", "$LATEST", null));
    assertNull(warn.initStart(AT, "python:3.11.7", "arn", "f", "$LATEST"));
    assertNull(warn.end(AT, "r1", 1, 128, 1, null, "success"));
    assertTrue(warn.end(AT, "r1", 3000, 128, 1, null, "timeout").contains("\"status\":\"timeout\""));
    LogLines debug = json("INFO", "DEBUG");
    assertTrue(debug.start(AT, "r1", "$LATEST", null).contains("platform.start"));
  }

  @Test
  void aFailedInitIsReportedInEitherFormatAtEveryLevel() {
    assertEquals("INIT_REPORT Init Duration: 12.35 ms\tPhase: init\tStatus: error\tError Type: Runtime.ExitError",
        LogLines.TEXT.initFailed(AT, 12.345, "Runtime.ExitError"));
    assertEquals("{\"time\":\"2026-12-07T09:45:50.000Z\",\"type\":\"platform.initReport\",\"record\":{"
        + "\"initializationType\":\"on-demand\",\"phase\":\"init\",\"status\":\"error\","
        + "\"errorType\":\"Runtime.ExitError\",\"metrics\":{\"durationMs\":12.345}}}",
        json("INFO", "WARN").initFailed(AT, 12.345, "Runtime.ExitError"));
  }

  @Test
  void applicationLinesAreJudgedByTheirJsonLevelElseInfo() {
    LogLines warn = json("WARN", "INFO");
    assertTrue(warn.filtersApplication());
    assertFalse(warn.keeps("plain text from print()"), "a plain line is INFO");
    assertFalse(warn.keeps("{\"level\":\"INFO\",\"message\":\"hi\"}"));
    assertFalse(warn.keeps("{\"message\":\"no level\"}"));
    assertFalse(warn.keeps("{\"level\":\"loud\",\"message\":\"an invalid level is INFO\"}"));
    assertTrue(warn.keeps("{\"timestamp\":\"2026-12-07T09:45:50.000Z\",\"level\":\"WARNING\",\"message\":\"python\"}"));
    assertTrue(warn.keeps("{\"level\":\"error\",\"msg\":\"lower case counts\"}"));
    assertTrue(warn.keeps("{\"level\":\"CRITICAL\"}"));
    assertFalse(warn.keeps("{\"level\":\"ERROR\""), "not JSON: INFO");
    LogLines debug = json("DEBUG", "INFO");
    assertTrue(debug.keeps("plain"));
    assertFalse(debug.keeps("{\"level\":\"TRACE\"}"));
    assertFalse(json("TRACE", "INFO").filtersApplication(), "TRACE keeps every line: no need to cut lines");
    assertEquals("WARN", warn.levelVariable());
    assertEquals("JSON", warn.formatVariable());
  }

  @Test
  void aJsonConfigWithoutLevelsIsInfoAsAwsDefaultsIt() {
    LogLines lines = LogLines.of(new LoggingConfig("JSON", null, null, "/aws/lambda/f"));
    assertEquals("INFO", lines.levelVariable());
    assertFalse(lines.keeps("{\"level\":\"DEBUG\"}"));
    assertTrue(lines.keeps("plain"));
  }

  @Test
  void javaLoggerLinesAreWhatAwsJavaRuntimeWrites() throws Exception {
    LogLines lines = json("WARN", "INFO");
    JsonNode undefined = JSON.readTree(lines.javaLoggerLine(AT, "hello", null, "r1"));
    assertEquals("{\"timestamp\":\"2026-12-07T09:45:50.000Z\",\"message\":\"hello\",\"level\":\"UNDEFINED\","
        + "\"AWSRequestId\":\"r1\"}", undefined.toString());
    assertNull(lines.javaLoggerLine(AT, "quiet", "INFO", "r1"), "below ApplicationLogLevel");
    assertTrue(lines.javaLoggerLine(AT, "loud", "ERROR", "r1").endsWith("\"level\":\"ERROR\",\"AWSRequestId\":\"r1\"}\n"));
    LogLines text = LogLines.TEXT;
    assertEquals("hello", text.javaLoggerLine(AT, "hello", null, "r1"));
    assertEquals("[WARN] careful", text.javaLoggerLine(AT, "careful", "WARN", "r1"));
  }

  @Test
  void aReportsStatusComesFromTheOutcome() {
    assertEquals("success", LogLines.status(new InvocationResult(new byte[0], null, null)));
    assertEquals("timeout", LogLines.status(InvocationResult.unhandled("Sandbox.Timeout", "Task timed out", null)));
    assertEquals("error", LogLines.status(InvocationResult.unhandled("ValueError", "boom", null)));
  }
}
