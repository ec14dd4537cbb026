package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.LoggingConfig;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;

/**
 * LoggingConfig through the AWS SDK against real Python, Node and Java runtimes: JSON platform lines,
 * application lines wrapped as AWS's runtimes wrap them, both level filters, a custom log group read
 * back through the CloudWatch Logs API, and the bad input AWS refuses.
 */
class LoggingConfigIT {

  private static final String KEYSPACE = "it_logging";
  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final byte[] PYTHON = Zips.of(Map.of("app.py", """
      import json
      import logging

      logger = logging.getLogger("orders")

      def handler(event, context):
          if event.get("fail"):
              raise ValueError("order " + str(event["id"]) + " is invalid")
          print("plain print")
          logger.debug("hidden debug")
          logger.info("processing %s", event["id"])
          print(json.dumps({"level": "DEBUG", "message": "custom debug"}))
          try:
              1 / 0
          except ZeroDivisionError:
              logger.exception("division failed")
          return "ok"
      """));

  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension(KEYSPACE, Map.of());
  private static TestNode node;
  private static LambdaClient lambda;

  @BeforeAll
  static void start() {
    node = NODE.node();
    lambda = NODE.lambda();
  }

  private static void create(String name, String runtime, String handler, byte[] zip,
      Consumer<LoggingConfig.Builder> logging, Map<String, String> variables) {
    lambda.createFunction(b -> b.functionName(name).runtime(runtime).role(ROLE).handler(handler).timeout(20)
        .loggingConfig(logging).environment(e -> e.variables(variables))
        .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
  }

  /** The invocation's log tail, line by line. */
  private static List<String> tail(InvokeResponse response) {
    return List.of(new String(Base64.getDecoder().decode(response.logResult()), StandardCharsets.UTF_8).split("\n"));
  }

  private static InvokeResponse invoke(String name, String payload) {
    return lambda.invoke(b -> b.functionName(name).logType(LogType.TAIL).payload(SdkBytes.fromUtf8String(payload)));
  }

  private static List<JsonNode> json(List<String> lines) {
    List<JsonNode> nodes = new ArrayList<>();
    for (String line : lines) {
      if (line.startsWith("{")) {
        try {
          nodes.add(JSON.readTree(line));
        } catch (Exception e) {
          throw new AssertionError("not JSON: " + line, e);
        }
      }
    }
    return nodes;
  }

  private static JsonNode only(List<JsonNode> lines, String field, String value) {
    List<JsonNode> found = lines.stream().filter(n -> value.equals(n.path(field).asText())).toList();
    assertEquals(1, found.size(), () -> field + "=" + value + " in " + lines);
    return found.get(0);
  }

  @Test
  void pythonInJsonWritesPlatformEventsAndLoggingRecordsAsJsonAndTheLevelsFilter() {
    create("py-json", "python3.11", "app.handler", PYTHON, l -> l.logFormat("JSON"), Map.of());
    var created = lambda.getFunctionConfiguration(b -> b.functionName("py-json"));
    assertEquals("JSON", created.loggingConfig().logFormatAsString());
    assertEquals("INFO", created.loggingConfig().applicationLogLevelAsString(), "AWS's default with JSON");
    assertEquals("INFO", created.loggingConfig().systemLogLevelAsString());
    assertEquals("/aws/lambda/py-json", created.loggingConfig().logGroup());

    InvokeResponse first = invoke("py-json", "{\"id\":7}");
    assertEquals("\"ok\"", first.payload().asUtf8String());
    String requestId = first.responseMetadata().requestId();
    List<String> lines = tail(first);
    List<JsonNode> events = json(lines);

    JsonNode start = only(events, "type", "platform.start");
    assertEquals(requestId, start.path("record").path("requestId").asText());
    assertEquals("$LATEST", start.path("record").path("version").asText());
    assertTrue(start.path("time").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"), start.toString());
    JsonNode report = only(events, "type", "platform.report").path("record");
    assertEquals(requestId, report.path("requestId").asText());
    assertEquals("success", report.path("status").asText());
    assertEquals(128, report.path("metrics").path("memorySizeMB").asInt());
    assertTrue(report.path("metrics").path("durationMs").isNumber(), report.toString());
    assertTrue(report.path("metrics").path("billedDurationMs").asLong() >= report.path("metrics").path("durationMs").asDouble());
    assertTrue(report.path("metrics").has("initDurationMs"), "a cold start reports its init: " + report);
    assertFalse(lines.stream().anyMatch(l -> l.startsWith("START RequestId") || l.startsWith("REPORT")), lines.toString());

    JsonNode info = only(events, "message", "processing 7");
    assertEquals("INFO", info.path("level").asText());
    assertEquals("orders", info.path("logger").asText());
    assertEquals(requestId, info.path("requestId").asText());
    assertTrue(info.path("timestamp").asText().endsWith("Z"), info.toString());
    JsonNode exception = only(events, "message", "division failed");
    assertEquals("ERROR", exception.path("level").asText());
    assertEquals("ZeroDivisionError", exception.path("errorType").asText());
    assertEquals("division by zero", exception.path("errorMessage").asText());
    assertTrue(exception.path("stackTrace").isArray() && exception.path("stackTrace").get(0).asText().contains("app.py"),
        exception.toString());
    assertTrue(exception.path("location").asText().contains("app.py:handler:"), exception.toString());
    assertTrue(lines.contains("plain print"), "a print stays text, INFO to the filter: " + lines);
    assertFalse(lines.toString().contains("hidden debug"), "logging below the level is not written: " + lines);
    assertFalse(lines.toString().contains("custom debug"), "a printed JSON line is filtered by its level: " + lines);

    // A partial update: only the levels change, the format and the group stay.
    var updated = lambda.updateFunctionConfiguration(b -> b.functionName("py-json")
        .loggingConfig(l -> l.applicationLogLevel("WARN").systemLogLevel("WARN")));
    assertEquals("JSON", updated.loggingConfig().logFormatAsString());
    assertEquals("WARN", updated.loggingConfig().applicationLogLevelAsString());
    assertEquals("WARN", updated.loggingConfig().systemLogLevelAsString());
    assertEquals("/aws/lambda/py-json", updated.loggingConfig().logGroup());
    awaitUpdated("py-json");

    List<String> quiet = tail(invoke("py-json", "{\"id\":8}"));
    List<JsonNode> quietEvents = json(quiet);
    assertEquals(List.of("division failed"), quietEvents.stream().map(n -> n.path("message").asText()).toList(),
        "WARN keeps the error only, no platform line of a success: " + quiet);

    List<String> failed = tail(invoke("py-json", "{\"id\":9,\"fail\":true}"));
    List<JsonNode> failedEvents = json(failed);
    JsonNode error = only(failedEvents, "errorType", "ValueError");
    assertEquals("ERROR", error.path("level").asText());
    assertEquals("order 9 is invalid", error.path("errorMessage").asText());
    assertEquals("error", only(failedEvents, "type", "platform.report").path("record").path("status").asText(),
        "a failed invocation's report survives SystemLogLevel WARN: " + failed);
  }

  @Test
  void nodeInJsonWrapsConsoleCallsAndItsLinesGoToTheCustomLogGroup() throws Exception {
    create("js-json", "nodejs20.x", "index.handler", Zips.of(Map.of("index.js", """
        exports.handler = async (event) => {
          console.trace('too fine');
          console.debug('debugging', event.n);
          console.log({ order: event.n });
          console.error(new TypeError('bad thing'));
          process.stdout.write('raw write\\n');
          return 'done';
        };
        """)), l -> l.logFormat("JSON").applicationLogLevel("DEBUG").logGroup("/custom/orders-api"), Map.of());
    var created = lambda.getFunctionConfiguration(b -> b.functionName("js-json"));
    assertEquals("/custom/orders-api", created.loggingConfig().logGroup());
    assertEquals("DEBUG", created.loggingConfig().applicationLogLevelAsString());

    InvokeResponse response = invoke("js-json", "{\"n\":5}");
    assertEquals("\"done\"", response.payload().asUtf8String());
    String requestId = response.responseMetadata().requestId();
    List<String> lines = tail(response);
    List<JsonNode> events = json(lines);
    JsonNode debug = only(events, "message", "debugging 5");
    assertEquals("DEBUG", debug.path("level").asText());
    assertEquals(requestId, debug.path("requestId").asText());
    JsonNode object = events.stream().filter(n -> n.path("message").isObject() && n.path("message").has("order"))
        .findFirst().orElseThrow(() -> new AssertionError(lines.toString()));
    assertEquals("INFO", object.path("level").asText());
    assertEquals(5, object.path("message").path("order").asInt(), "one object argument stays an object");
    JsonNode error = events.stream().filter(n -> "ERROR".equals(n.path("level").asText())).findFirst()
        .orElseThrow(() -> new AssertionError(lines.toString()));
    assertEquals("TypeError", error.path("message").path("errorType").asText());
    assertEquals("bad thing", error.path("message").path("errorMessage").asText());
    assertTrue(error.path("message").path("stackTrace").isArray(), error.toString());
    assertFalse(lines.toString().contains("too fine"), "TRACE is below DEBUG: " + lines);
    assertTrue(lines.contains("raw write"), "a raw write stays text: " + lines);

    // The log group is the custom one: the logs API serves the lines there, and nothing under /aws/lambda/js-json.
    List<String> messages = List.of();
    for (int attempt = 0; attempt < 20 && messages.stream().noneMatch(m -> m.contains("platform.report")); attempt++) {
      Thread.sleep(500);
      messages = filterLogEvents("/custom/orders-api");
    }
    assertTrue(messages.stream().anyMatch(m -> m.contains("\"type\":\"platform.start\"") && m.contains(requestId)),
        messages.toString());
    assertTrue(messages.contains("raw write"), messages.toString());
    assertEquals(List.of(), filterLogEvents("/aws/lambda/js-json"));
  }

  @Test
  void javaLambdaLoggerLinesAreJsonInProcessAndInTheRuntimeInterfaceClient() {
    byte[] zip = Zips.javaHandler("example.Logs", """
        package example;
        import com.amazonaws.services.lambda.runtime.Context;
        import com.amazonaws.services.lambda.runtime.RequestHandler;
        import com.amazonaws.services.lambda.runtime.logging.LogLevel;
        import java.util.Map;
        public class Logs implements RequestHandler<Map<String, String>, String> {
          public String handleRequest(Map<String, String> event, Context context) {
            context.getLogger().log("plain message");
            context.getLogger().log("careful", LogLevel.WARN);
            context.getLogger().log("detail", LogLevel.DEBUG);
            return "logged";
          }
        }
        """);
    for (String mode : List.of("in-process", "process")) {
      String name = "java-logs-" + mode;
      create(name, "java17", "example.Logs::handleRequest", zip, l -> l.logFormat("JSON"),
          mode.equals("in-process") ? Map.of("TRIBUTARY_JAVA_MODE", "in-process") : Map.of());
      InvokeResponse response = invoke(name, "{}");
      assertEquals("\"logged\"", response.payload().asUtf8String(), mode);
      String requestId = response.responseMetadata().requestId();
      List<String> lines = tail(response);
      List<JsonNode> events = json(lines);
      JsonNode plain = only(events, "message", "plain message");
      assertEquals("UNDEFINED", plain.path("level").asText(), mode + ": " + lines);
      assertEquals(requestId, plain.path("AWSRequestId").asText(), mode + ": " + lines);
      assertEquals("WARN", only(events, "message", "careful").path("level").asText(), mode + ": " + lines);
      assertFalse(lines.toString().contains("detail"), mode + ": DEBUG is below INFO: " + lines);
      assertEquals("success", only(events, "type", "platform.report").path("record").path("status").asText());
    }
  }

  @Test
  void aFailedInitIsReportedAsPlatformInitReportEvenWithSystemLevelWarn() {
    create("init-fails", "provided.al2023", "unused", Zips.withBootstrap("#!/bin/sh\necho starting\nexit 3\n"),
        l -> l.logFormat("JSON").systemLogLevel("WARN"), Map.of());
    InvokeResponse failed = invoke("init-fails", "{}");
    assertEquals("Unhandled", failed.functionError());
    JsonNode report = only(json(tail(failed)), "type", "platform.initReport").path("record");
    assertEquals("error", report.path("status").asText());
    assertEquals("Runtime.ExitError", report.path("errorType").asText());
    assertTrue(report.path("metrics").path("durationMs").asDouble() > 0, report.toString());
    assertTrue(json(tail(failed)).stream().noneMatch(n -> n.path("type").asText().equals("platform.initStart")),
        "WARN drops the routine init line: " + tail(failed));
  }

  @Test
  void badLoggingConfigIsRefusedAsAwsRefusesItAndNothingIsStored() {
    assertRefused("ValidationException", "loggingConfig.logFormat", l -> l.logFormat("Json"));
    assertRefused("ValidationException", "loggingConfig.applicationLogLevel",
        l -> l.logFormat("JSON").applicationLogLevel("VERBOSE"));
    assertRefused("ValidationException", "loggingConfig.systemLogLevel", l -> l.logFormat("JSON").systemLogLevel("ERROR"));
    assertRefused("ValidationException", "loggingConfig.logGroup", l -> l.logGroup("my group!"));
    assertRefused("ValidationException", "loggingConfig.logGroup", l -> l.logGroup("g".repeat(513)));
    assertRefused("InvalidParameterValueException", "LogLevel is not supported when LogFormat is set to \"Text\"",
        l -> l.applicationLogLevel("DEBUG"));

    create("py-text", "python3.11", "app.handler", PYTHON, l -> l.logGroup("/custom/text"), Map.of());
    InvalidParameterValueException levelsOnText = assertThrows(InvalidParameterValueException.class,
        () -> lambda.updateFunctionConfiguration(b -> b.functionName("py-text").loggingConfig(l -> l.systemLogLevel("WARN"))));
    assertEquals(400, levelsOnText.statusCode());
    LoggingConfig unchanged = lambda.getFunctionConfiguration(b -> b.functionName("py-text")).loggingConfig();
    assertEquals("Text", unchanged.logFormatAsString());
    assertEquals(null, unchanged.systemLogLevelAsString());
    assertEquals("/custom/text", unchanged.logGroup());
    List<String> text = tail(invoke("py-text", "{\"id\":1}"));
    assertTrue(text.stream().anyMatch(l -> l.startsWith("START RequestId: ")), "Text stays Lambda's classic lines: " + text);
    assertTrue(text.stream().anyMatch(l -> l.startsWith("[ERROR]\t") && l.endsWith("division failed")), text.toString());
    assertTrue(text.contains("{\"level\": \"DEBUG\", \"message\": \"custom debug\"}"), "Text filters nothing: " + text);
  }

  private static void assertRefused(String type, String text, Consumer<LoggingConfig.Builder> logging) {
    LambdaException e = assertThrows(LambdaException.class,
        () -> create("refused", "python3.11", "app.handler", PYTHON, logging, Map.of()));
    assertEquals(400, e.statusCode());
    assertEquals(type, e.awsErrorDetails().errorCode());
    assertTrue(e.awsErrorDetails().errorMessage().contains(text), e.awsErrorDetails().errorMessage());
    assertThrows(ResourceNotFoundException.class, () -> lambda.getFunction(b -> b.functionName("refused")));
  }

  private static void awaitUpdated(String name) {
    for (int i = 0; i < 50; i++) {
      if (!"InProgress".equals(lambda.getFunctionConfiguration(b -> b.functionName(name)).lastUpdateStatusAsString())) {
        return;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** The messages of a log group through the CloudWatch Logs API's FilterLogEvents. */
  private static List<String> filterLogEvents(String group) throws Exception {
    HttpResponse<String> response = new SignedHttp(node.endpoint()).send("POST", "/",
        JSON.writeValueAsBytes(Map.of("logGroupName", group)), true,
        Map.of("X-Amz-Target", "Logs_20140328.FilterLogEvents", "Content-Type", "application/x-amz-json-1.1"));
    assertEquals(200, response.statusCode(), response.body());
    return JSON.readTree(response.body()).path("events").findValuesAsText("message");
  }
}
