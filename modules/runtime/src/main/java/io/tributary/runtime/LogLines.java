package io.tributary.runtime;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.api.FunctionConfig;
import io.tributary.api.InvocationResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * What a function's {@code LoggingConfig} makes of its log: the platform's lines in its
 * {@code LogFormat}, and which lines its {@code SystemLogLevel} and {@code ApplicationLogLevel} keep.
 *
 * <p>Text, the default, is Lambda's classic form ({@code INIT_START}, {@code START}, {@code END},
 * {@code REPORT}) and filters nothing: AWS allows levels only with JSON. JSON writes the platform's
 * events as CloudWatch shows them, one object per line:
 * <pre>
 * {"time":"2026-12-07T09:45:50.123Z","type":"platform.start","record":{"requestId":"r1","functionArn":"arn:…","version":"$LATEST"}}
 * {"time":"2026-12-07T09:45:50.140Z","type":"platform.report","record":{"requestId":"r1","metrics":{"durationMs":16.402,
 *   "billedDurationMs":17,"memorySizeMB":128,"maxMemoryUsedMB":38,"initDurationMs":120.5},"status":"success"}}
 * </pre>
 * ({@code platform.end} is not written: CloudWatch's JSON logs have none.)
 *
 * <p>Levels, in both directions of detail: {@code TRACE < DEBUG < INFO < WARN < ERROR < FATAL}; a line is
 * kept when its level is at or above the configured one.
 * <ul>
 *   <li>System lines: {@code platform.initStart}, {@code platform.start} and {@code platform.report} are INFO,
 *       so {@code SystemLogLevel: WARN} drops them, except a report whose status is not {@code success}
 *       (an error or a timeout stays visible). Tributary emits no DEBUG-level platform events (it has no
 *       extensions), so DEBUG shows what INFO shows.</li>
 *   <li>Application lines, as AWS's platform judges them: a line that is a JSON object with a {@code level}
 *       member has that level ({@code WARNING} and {@code CRITICAL}, Python's names, are WARN and FATAL);
 *       any other line (plain text, JSON without a valid level) is INFO. So with
 *       {@code ApplicationLogLevel: WARN} a plain {@code print} disappears, as on AWS.</li>
 * </ul>
 * The runtimes filter their own logging calls first (they get {@code AWS_LAMBDA_LOG_LEVEL}); this filter
 * is the platform's, for everything else a function prints.
 */
final class LogLines {

  enum Level { TRACE, DEBUG, INFO, WARN, ERROR, FATAL }

  static final LogLines TEXT = new LogLines(false, Level.TRACE, Level.DEBUG);

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT)
      .withZone(ZoneOffset.UTC);

  private final boolean json;
  private final Level application;
  private final Level system;

  private LogLines(boolean json, Level application, Level system) {
    this.json = json;
    this.application = application;
    this.system = system;
  }

  /** Levels absent from a JSON config (journals written before levels were stored) are INFO, AWS's default. */
  static LogLines of(FunctionConfig.LoggingConfig config) {
    if (config == null || !"JSON".equals(config.logFormat())) {
      return TEXT;
    }
    return new LogLines(true, level(config.applicationLogLevel(), Level.INFO), level(config.systemLogLevel(), Level.INFO));
  }

  boolean json() {
    return json;
  }

  /** {@code AWS_LAMBDA_LOG_FORMAT}, as AWS sets it for the runtime. */
  String formatVariable() {
    return json ? "JSON" : "Text";
  }

  /** {@code AWS_LAMBDA_LOG_LEVEL}: the application level, set only with JSON; null otherwise. */
  String levelVariable() {
    return json ? application.name() : null;
  }

  /** Whether application lines need the platform's filter at all: TRACE keeps everything. */
  boolean filtersApplication() {
    return json && application != Level.TRACE;
  }

  /** Whether the platform keeps this application line (without its newline). */
  boolean keeps(String line) {
    return !filtersApplication() || levelOf(line).compareTo(application) >= 0;
  }

  /** An application line's level as AWS's platform reads it. */
  static Level levelOf(String line) {
    String trimmed = line.strip();
    if (!trimmed.startsWith("{") || !trimmed.endsWith("}")) {
      return Level.INFO;
    }
    try {
      JsonNode level = JSON.readTree(trimmed).get("level");
      return level != null && level.isTextual() ? level(level.asText(), Level.INFO) : Level.INFO;
    } catch (IOException notJson) {
      return Level.INFO;
    }
  }

  private static Level level(String name, Level otherwise) {
    if (name == null) {
      return otherwise;
    }
    return switch (name.toUpperCase(Locale.ROOT)) {
      case "TRACE" -> Level.TRACE;
      case "DEBUG" -> Level.DEBUG;
      case "INFO" -> Level.INFO;
      case "WARN", "WARNING" -> Level.WARN;
      case "ERROR" -> Level.ERROR;
      case "FATAL", "CRITICAL" -> Level.FATAL;
      default -> otherwise;
    };
  }

  private boolean systemKeeps(Level level) {
    return !json || level.compareTo(system) >= 0;
  }

  @JsonPropertyOrder({"time", "type", "record"})
  record Event(String time, String type, Object record) {}

  @JsonPropertyOrder({"initializationType", "phase", "runtimeVersion", "runtimeVersionArn", "functionName",
      "functionVersion"})
  record InitStart(String initializationType, String phase, String runtimeVersion, String runtimeVersionArn,
                   String functionName, String functionVersion) {}

  @JsonPropertyOrder({"initializationType", "phase", "status", "errorType", "metrics"})
  record InitReport(String initializationType, String phase, String status, String errorType,
                    InitMetrics metrics) {}

  record InitMetrics(double durationMs) {}

  @JsonPropertyOrder({"requestId", "functionArn", "version"})
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Start(String requestId, String functionArn, String version) {}

  @JsonPropertyOrder({"durationMs", "billedDurationMs", "memorySizeMB", "maxMemoryUsedMB", "initDurationMs"})
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Metrics(double durationMs, long billedDurationMs, int memorySizeMB, long maxMemoryUsedMB,
                 Double initDurationMs) {}

  @JsonPropertyOrder({"requestId", "metrics", "status"})
  record Report(String requestId, Metrics metrics, String status) {}

  /** A report's status: {@code success}, {@code timeout} (Sandbox.Timeout) or {@code error}. */
  static String status(InvocationResult result) {
    if (!result.failed()) {
      return "success";
    }
    return new String(result.payload(), StandardCharsets.UTF_8).contains("\"errorType\":\"Sandbox.Timeout\"")
        ? "timeout" : "error";
  }

  /** The init line ({@code INIT_START} / {@code platform.initStart}); null when the system level drops it. */
  String initStart(Instant at, String runtimeVersion, String runtimeVersionArn, String functionName,
      String functionVersion) {
    if (!systemKeeps(Level.INFO)) {
      return null;
    }
    if (!json) {
      return "INIT_START Runtime Version: " + runtimeVersion + "\tRuntime Version ARN: " + runtimeVersionArn;
    }
    return event(at, "platform.initStart", new InitStart("on-demand", "init", runtimeVersion, runtimeVersionArn,
        functionName, functionVersion));
  }

  /**
   * The report of an init that failed ({@code INIT_REPORT … Status: error} / {@code platform.initReport});
   * a failure, so kept at every system level.
   */
  String initFailed(Instant at, double durationMs, String errorType) {
    if (!json) {
      return "INIT_REPORT Init Duration: " + InvocationLog.twoDecimals(durationMs)
          + " ms\tPhase: init\tStatus: error\tError Type: " + errorType;
    }
    return event(at, "platform.initReport", new InitReport("on-demand", "init", "error", errorType,
        new InitMetrics(threeDecimals(durationMs))));
  }

  /** {@code START} / {@code platform.start}; null when the system level drops it. */
  String start(Instant at, String requestId, String version, String functionArn) {
    if (!systemKeeps(Level.INFO)) {
      return null;
    }
    if (!json) {
      return "START RequestId: " + requestId + " Version: " + version;
    }
    return event(at, "platform.start", new Start(requestId, functionArn, version));
  }

  /**
   * {@code END} and {@code REPORT} (two lines) / {@code platform.report}; null when the system level drops it.
   * {@code status}: {@code success}, {@code error} or {@code timeout}; {@code initDurationMs} only after a cold
   * start (else null).
   */
  String end(Instant at, String requestId, double durationMs, int memorySize, long maxMemoryUsedMb,
      Double initDurationMs, String status) {
    if (!systemKeeps("success".equals(status) ? Level.INFO : Level.WARN)) {
      return null;
    }
    long billed = (long) Math.ceil(durationMs);
    if (!json) {
      StringBuilder report = new StringBuilder()
          .append("END RequestId: ").append(requestId).append('\n')
          .append("REPORT RequestId: ").append(requestId)
          .append("\tDuration: ").append(InvocationLog.twoDecimals(durationMs)).append(" ms")
          .append("\tBilled Duration: ").append(billed).append(" ms")
          .append("\tMemory Size: ").append(memorySize).append(" MB")
          .append("\tMax Memory Used: ").append(maxMemoryUsedMb).append(" MB");
      if (initDurationMs != null) {
        report.append("\tInit Duration: ").append(InvocationLog.twoDecimals(initDurationMs)).append(" ms");
      }
      return report.toString();
    }
    return event(at, "platform.report", new Report(requestId, new Metrics(threeDecimals(durationMs), billed,
        memorySize, maxMemoryUsedMb, initDurationMs == null ? null : threeDecimals(initDurationMs)), status));
  }

  /** CloudWatch's JSON reports carry microseconds to three decimals ({@code "durationMs":1072.145}). */
  private static double threeDecimals(double ms) {
    return Math.round(ms * 1000) / 1000.0;
  }

  private static String event(Instant at, String type, Object record) {
    try {
      return JSON.writeValueAsString(new Event(TIME.format(at), type, record));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a platform record always serializes", e);
    }
  }

  /**
   * A Java handler's {@code LambdaLogger} line as AWS's Java runtime formats it: in JSON
   * {@code {"timestamp":…,"message":…,"level":…,"AWSRequestId":…}} ({@code UNDEFINED} for {@code log(String)});
   * in Text the message, prefixed {@code [LEVEL] } when a level was given. Null when the level is filtered
   * (a level-less message never is, as in AWS's runtime).
   */
  String javaLoggerLine(Instant at, String message, String level, String requestId) {
    if (!javaLevelKept(level)) {
      return null;
    }
    Level parsed = level == null || level.equals("UNDEFINED") ? null : level(level, null);
    if (!json) {
      return parsed == null ? message : "[" + level + "] " + message;
    }
    try {
      return JSON.writeValueAsString(new JavaLogMessage(TIME.format(at), message,
          level == null ? "UNDEFINED" : level, requestId)) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a log message always serializes", e);
    }
  }

  /** Whether AWS's Java runtime writes a LambdaLogger message of this level (null: none given) at all. */
  boolean javaLevelKept(String level) {
    Level parsed = level == null || level.equals("UNDEFINED") ? null : level(level, null);
    return !json || parsed == null || parsed.compareTo(application) >= 0;
  }

  @JsonPropertyOrder({"timestamp", "message", "level", "AWSRequestId"})
  record JavaLogMessage(String timestamp, String message, String level,
                        @JsonProperty("AWSRequestId") String awsRequestId) {}
}
