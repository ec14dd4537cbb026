package io.tributary.http;

import com.fasterxml.jackson.annotation.JsonInclude.Include;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.tributary.api.AliasConfig;
import io.tributary.api.Arns;
import io.tributary.api.FunctionConfig;
import io.tributary.api.PolicyStatement;
import io.tributary.api.Runtimes;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Tributary's model in AWS Lambda's JSON shapes (the 2015-03-31 API's member names), as records in
 * AWS's member order; a member AWS leaves out when it has no value is {@link Include#NON_NULL}.
 */
final class Shapes {

  private final Arns arns;
  private final Map<String, Runtimes.Offer> runtimes;

  Shapes(Arns arns) {
    this(arns, Map.of());
  }

  /** {@code runtimes}: the node's offers, whose versions {@code RuntimeVersionConfig} names. */
  Shapes(Arns arns, Map<String, Runtimes.Offer> runtimes) {
    this.arns = arns;
    this.runtimes = runtimes;
  }

  /** AWS's {@code FunctionConfiguration}. */
  record FunctionConfiguration(String functionName, String functionArn, String runtime, String role, String handler,
      long codeSize, String description, int timeout, int memorySize, String lastModified, String codeSha256,
      String version, @JsonInclude(Include.NON_NULL) Environment environment, TracingConfig tracingConfig,
      String revisionId, @JsonInclude(Include.NON_NULL) List<Layer> layers, String state, String lastUpdateStatus,
      String packageType, List<String> architectures,
      EphemeralStorage ephemeralStorage, SnapStart snapStart,
      @JsonInclude(Include.NON_NULL) RuntimeVersionConfig runtimeVersionConfig, LoggingConfig loggingConfig,
      @JsonProperty("KMSKeyArn") @JsonInclude(Include.NON_NULL) String kmsKeyArn,
      @JsonInclude(Include.NON_NULL) DeadLetterConfig deadLetterConfig) {}

  record Environment(Map<String, String> variables) {}

  /** A layer version the function uses, as FunctionConfiguration lists it (absent when it uses none). */
  record Layer(String arn, long codeSize) {}

  record TracingConfig(String mode) {}

  record EphemeralStorage(Integer size) {}

  record SnapStart(String applyOn, String optimizationStatus) {}

  /** The interpreter version that runs the function on this node (absent when the node runs none). */
  record RuntimeVersionConfig(String runtimeVersionArn) {}

  record LoggingConfig(String logFormat, @JsonInclude(Include.NON_NULL) String applicationLogLevel,
                       @JsonInclude(Include.NON_NULL) String systemLogLevel, String logGroup) {}

  record DeadLetterConfig(String targetArn) {}

  /** AWS's {@code AliasConfiguration}. */
  record Alias(String aliasArn, String name, String functionVersion, String description,
               @JsonInclude(Include.NON_NULL) RoutingConfig routingConfig, String revisionId) {}

  record RoutingConfig(Map<String, Double> additionalVersionWeights) {}

  /** A statement of a resource-based policy in IAM's JSON: {@code Principal} is {@code "*"} or an object. */
  record Statement(String sid, String effect, Object principal, String action, String resource,
                   @JsonInclude(Include.NON_NULL) Condition condition) {}

  /**
   * IAM's condition operators, each a map of condition keys (in IAM's spelling) to values. AWS writes
   * StringEquals before ArnLike; Tributary has written ArnLike first since release 0.1, whose answers
   * JournalReplayIT compares as strings. Clients read the operators by name, so the order is kept.
   */
  record Condition(@JsonInclude(Include.NON_NULL) Map<String, String> arnLike,
                   @JsonInclude(Include.NON_NULL) Map<String, String> stringEquals,
                   @JsonInclude(Include.NON_NULL) Map<String, String> bool) {}

  record PolicyDocument(String version, String id, List<Statement> statement) {}

  /** {@code FunctionConfiguration}; {@code arnQualifier} is the qualifier the FunctionArn shows, or null. */
  FunctionConfiguration functionConfiguration(FunctionConfig c, String arnQualifier) {
    FunctionConfig.LoggingConfig logging = c.loggingConfig();
    return new FunctionConfiguration(c.functionName(), arns.functionArn(c.functionName(), arnQualifier), c.runtime(),
        c.role(), c.handler(), c.codeSize(), c.description(), c.timeout(), c.memorySize(), c.lastModified(),
        c.codeSha256(), c.version(), c.environment().isEmpty() ? null : new Environment(c.environment()),
        new TracingConfig(c.tracingMode()), c.revisionId(),
        c.layers().isEmpty() ? null : c.layers().stream().map(l -> new Layer(l.arn(), l.codeSize())).toList(),
        c.state(), c.lastUpdateStatus(), "Zip",
        c.architectures(), new EphemeralStorage(c.ephemeralStorageSize()), new SnapStart("None", "Off"),
        runtimeVersion(c.runtime()),
        new LoggingConfig(logging.logFormat(), logging.applicationLogLevel(), logging.systemLogLevel(),
            logging.logGroup()), c.kmsKeyArn(),
        c.deadLetterTargetArn() == null || c.deadLetterTargetArn().isEmpty() ? null
            : new DeadLetterConfig(c.deadLetterTargetArn()));
  }

  private RuntimeVersionConfig runtimeVersion(String runtime) {
    Runtimes.Offer offer = runtimes.get(runtime);
    return offer == null ? null : new RuntimeVersionConfig(offer.runtimeVersionArn(arns.region()));
  }

  /** The configuration of a version as its own operations show it: $LATEST's ARN unqualified. */
  FunctionConfiguration configuration(FunctionConfig c) {
    return functionConfiguration(c, c.version().equals(FunctionConfig.LATEST) ? null : c.version());
  }

  Alias alias(String functionName, AliasConfig a) {
    return new Alias(arns.functionArn(functionName, a.name()), a.name(), a.functionVersion(), a.description(),
        a.additionalVersionWeights().isEmpty() ? null : new RoutingConfig(a.additionalVersionWeights()),
        a.revisionId());
  }

  /** A policy statement as IAM JSON, the way AWS renders AddPermission's result. */
  Statement statement(PolicyStatement s) {
    Object principal;
    if (s.principal().equals("*")) {
      principal = "*";
    } else if (s.principal().matches("\\d{12}")) {
      principal = Map.of("AWS", "arn:aws:iam::" + s.principal() + ":root");
    } else if (s.principal().startsWith("arn:")) {
      principal = Map.of("AWS", s.principal());
    } else {
      principal = Map.of("Service", s.principal());
    }
    Map<String, String> arnLike = s.sourceArn() == null ? null : Map.of("AWS:SourceArn", s.sourceArn());
    // The order of AWS's answer to AddPermission with every member (LocalStack's snapshot of AWS).
    Map<String, String> stringEquals = new LinkedHashMap<>();
    putIfSet(stringEquals, "AWS:SourceAccount", s.sourceAccount());
    putIfSet(stringEquals, "lambda:FunctionUrlAuthType", s.functionUrlAuthType());
    putIfSet(stringEquals, "aws:PrincipalOrgID", s.principalOrgId());
    putIfSet(stringEquals, "lambda:EventSourceToken", s.eventSourceToken());
    Map<String, String> bool = s.invokedViaFunctionUrl() ? Map.of("lambda:InvokedViaFunctionUrl", "true") : null;
    Condition condition = arnLike == null && stringEquals.isEmpty() && bool == null ? null
        : new Condition(arnLike, stringEquals.isEmpty() ? null : stringEquals, bool);
    return new Statement(s.sid(), "Allow", principal, s.action(), s.resource(), condition);
  }

  PolicyDocument policyDocument(List<PolicyStatement> statements) {
    return new PolicyDocument("2012-10-17", "default", statements.stream().map(this::statement).toList());
  }

  private static void putIfSet(Map<String, String> map, String key, String value) {
    if (value != null) {
      map.put(key, value);
    }
  }
}
