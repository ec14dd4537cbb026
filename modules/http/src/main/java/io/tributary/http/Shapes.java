package io.tributary.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.api.AliasConfig;
import io.tributary.api.Arns;
import io.tributary.api.FunctionConfig;
import io.tributary.api.PolicyStatement;
import java.util.List;
import java.util.Map;

/** Tributary's model rendered in AWS Lambda's JSON shapes (the 2015-03-31 API's member names). */
final class Shapes {

  private final Arns arns;

  Shapes(Arns arns) {
    this.arns = arns;
  }

  /** {@code FunctionConfiguration}; {@code arnQualifier} is the qualifier the FunctionArn shows, or null. */
  ObjectNode functionConfiguration(FunctionConfig c, String arnQualifier) {
    ObjectNode o = JsonBody.MAPPER.createObjectNode();
    o.put("FunctionName", c.functionName());
    o.put("FunctionArn", arns.functionArn(c.functionName(), arnQualifier));
    o.put("Runtime", c.runtime());
    o.put("Role", c.role());
    o.put("Handler", c.handler());
    o.put("CodeSize", c.codeSize());
    o.put("Description", c.description());
    o.put("Timeout", c.timeout());
    o.put("MemorySize", c.memorySize());
    o.put("LastModified", c.lastModified());
    o.put("CodeSha256", c.codeSha256());
    o.put("Version", c.version());
    if (!c.environment().isEmpty()) {
      ObjectNode variables = o.putObject("Environment").putObject("Variables");
      c.environment().forEach(variables::put);
    }
    o.putObject("TracingConfig").put("Mode", c.tracingMode());
    o.put("RevisionId", c.revisionId());
    o.put("State", c.state());
    o.put("LastUpdateStatus", c.lastUpdateStatus());
    o.put("PackageType", "Zip");
    ArrayNode archs = o.putArray("Architectures");
    c.architectures().forEach(archs::add);
    o.putObject("EphemeralStorage").put("Size", c.ephemeralStorageSize());
    o.putObject("SnapStart").put("ApplyOn", "None").put("OptimizationStatus", "Off");
    ObjectNode logging = o.putObject("LoggingConfig");
    logging.put("LogFormat", c.loggingConfig().logFormat());
    putIfSet(logging, "ApplicationLogLevel", c.loggingConfig().applicationLogLevel());
    putIfSet(logging, "SystemLogLevel", c.loggingConfig().systemLogLevel());
    logging.put("LogGroup", c.loggingConfig().logGroup());
    putIfSet(o, "KMSKeyArn", c.kmsKeyArn());
    if (c.deadLetterTargetArn() != null && !c.deadLetterTargetArn().isEmpty()) {
      o.putObject("DeadLetterConfig").put("TargetArn", c.deadLetterTargetArn());
    }
    return o;
  }

  ObjectNode alias(String functionName, AliasConfig a) {
    ObjectNode o = JsonBody.MAPPER.createObjectNode();
    o.put("AliasArn", arns.functionArn(functionName, a.name()));
    o.put("Name", a.name());
    o.put("FunctionVersion", a.functionVersion());
    o.put("Description", a.description());
    if (!a.additionalVersionWeights().isEmpty()) {
      ObjectNode weights = o.putObject("RoutingConfig").putObject("AdditionalVersionWeights");
      a.additionalVersionWeights().forEach(weights::put);
    }
    o.put("RevisionId", a.revisionId());
    return o;
  }

  /** A policy statement as IAM JSON, the way AWS renders AddPermission's result. */
  ObjectNode statement(PolicyStatement s) {
    ObjectNode o = JsonBody.MAPPER.createObjectNode();
    o.put("Sid", s.sid());
    o.put("Effect", "Allow");
    ObjectNode principal = o.putObject("Principal");
    if (s.principal().equals("*")) {
      o.put("Principal", "*");
    } else if (s.principal().matches("\\d{12}")) {
      principal.put("AWS", "arn:aws:iam::" + s.principal() + ":root");
    } else if (s.principal().startsWith("arn:")) {
      principal.put("AWS", s.principal());
    } else {
      principal.put("Service", s.principal());
    }
    o.put("Action", s.action());
    o.put("Resource", s.resource());
    ObjectNode condition = JsonBody.MAPPER.createObjectNode();
    if (s.sourceArn() != null) {
      condition.putObject("ArnLike").put("AWS:SourceArn", s.sourceArn());
    }
    if (s.sourceAccount() != null) {
      condition.putObject("StringEquals").put("AWS:SourceAccount", s.sourceAccount());
    }
    if (s.principalOrgId() != null) {
      ((ObjectNode) condition.with("StringEquals")).put("aws:PrincipalOrgID", s.principalOrgId());
    }
    if (s.eventSourceToken() != null) {
      ((ObjectNode) condition.with("StringEquals")).put("lambda:EventSourceToken", s.eventSourceToken());
    }
    if (s.functionUrlAuthType() != null) {
      ((ObjectNode) condition.with("StringEquals")).put("lambda:FunctionUrlAuthType", s.functionUrlAuthType());
    }
    if (!condition.isEmpty()) {
      o.set("Condition", condition);
    }
    return o;
  }

  ObjectNode policyDocument(List<PolicyStatement> statements) {
    ObjectNode o = JsonBody.MAPPER.createObjectNode();
    o.put("Version", "2012-10-17");
    o.put("Id", "default");
    ArrayNode list = o.putArray("Statement");
    statements.forEach(s -> list.add(statement(s)));
    return o;
  }

  static ObjectNode tags(Map<String, String> tags) {
    ObjectNode o = JsonBody.MAPPER.createObjectNode();
    tags.forEach(o::put);
    return o;
  }

  private static void putIfSet(ObjectNode o, String name, String value) {
    if (value != null) {
      o.put(name, value);
    }
  }
}
