package io.tributary.api;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/** AWS's limits on function parameters, with AWS's error types and wording. */
public final class Validation {

  public static final int MAX_ENVIRONMENT_BYTES = 4096;
  private static final Pattern FUNCTION_NAME = Pattern.compile("[a-zA-Z0-9-_]{1,64}");
  private static final Pattern QUALIFIER = Pattern.compile("(|[a-zA-Z0-9$_-]+)");
  private static final Pattern VERSION = Pattern.compile("[0-9]+|\\$LATEST");
  private static final Pattern ALIAS_NAME = Pattern.compile("(?!^[0-9]+$)([a-zA-Z0-9-_]+)");
  private static final Pattern ROLE = Pattern.compile("arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
  private static final Pattern HANDLER = Pattern.compile("[^\\s]+");
  private static final Pattern ENV_KEY = Pattern.compile("[a-zA-Z]([a-zA-Z0-9_])+");
  private static final Pattern STATEMENT_ID = Pattern.compile("([a-zA-Z0-9-_.]+)");

  /** AWS's limit of tags on one resource (a function, an event source mapping). */
  public static final int MAX_TAGS = 50;

  private Validation() {}

  /**
   * Tags as AWS takes them on any resource: at most {@value #MAX_TAGS}, keys of 1 to 128 characters
   * not starting with {@code aws:} (AWS's own), values of at most 256; {@code resource} names the
   * kind in the message ("A function"). Null is none.
   */
  public static Map<String, String> tags(Map<String, String> tags, String resource) {
    if (tags == null) {
      return Map.of();
    }
    if (tags.size() > MAX_TAGS) {
      throw LambdaException.invalidParameter(resource + " can have at most " + MAX_TAGS + " tags; the request has "
          + tags.size() + ".");
    }
    tags.forEach((k, v) -> {
      if (k.isEmpty() || k.length() > 128 || k.startsWith("aws:")) {
        throw LambdaException.invalidParameter("Tag key '" + k + "' is invalid: keys are 1-128 characters and may not "
            + "start with aws:.");
      }
      if (v.length() > 256) {
        throw LambdaException.invalidParameter("The value of tag '" + k + "' is longer than 256 characters.");
      }
    });
    return new TreeMap<>(tags);
  }

  public static String functionName(String name) {
    if (name == null || !FUNCTION_NAME.matcher(name).matches()) {
      throw LambdaException.validation(name, "functionName",
          "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ and have length between 1 and 64");
    }
    return name;
  }

  public static String qualifier(String qualifier) {
    if (qualifier != null && (qualifier.length() > 128 || !QUALIFIER.matcher(qualifier).matches())) {
      throw LambdaException.validation(qualifier, "qualifier", "Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)");
    }
    return qualifier;
  }

  public static String version(String version, String field) {
    if (version == null || version.length() > 1024 || !VERSION.matcher(version).matches()) {
      throw LambdaException.validation(version, field, "Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)");
    }
    return version;
  }

  public static String aliasName(String name) {
    if (name == null || name.isEmpty() || name.length() > 128 || !ALIAS_NAME.matcher(name).matches()) {
      throw LambdaException.validation(name, "name",
          "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+) and have length between 1 and 128");
    }
    return name;
  }

  public static String role(String role) {
    if (role == null || !ROLE.matcher(role).matches()) {
      throw LambdaException.validation(role, "role",
          "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
    }
    return role;
  }

  public static String handler(String handler) {
    if (handler == null || handler.length() > 128 || !HANDLER.matcher(handler).matches()) {
      throw LambdaException.validation(handler, "handler",
          "Member must satisfy regular expression pattern: [^\\s]+ and have length less than or equal to 128");
    }
    return handler;
  }

  public static String description(String description) {
    if (description != null && description.length() > 256) {
      throw LambdaException.validation("...", "description", "Member must have length less than or equal to 256");
    }
    return description;
  }

  public static int timeout(int seconds) {
    if (seconds < 1) {
      throw LambdaException.validation(seconds, "timeout", "Member must have value greater than or equal to 1");
    }
    if (seconds > 900) {
      throw LambdaException.validation(seconds, "timeout", "Member must have value less than or equal to 900");
    }
    return seconds;
  }

  public static int memorySize(int megabytes) {
    if (megabytes < 128) {
      throw LambdaException.validation(megabytes, "memorySize", "Member must have value greater than or equal to 128");
    }
    if (megabytes > 10240) {
      throw LambdaException.validation(megabytes, "memorySize", "Member must have value less than or equal to 10240");
    }
    return megabytes;
  }

  public static int maximumRetryAttempts(int attempts) {
    return range(attempts, 0, 2, "maximumRetryAttempts");
  }

  public static int maximumEventAgeInSeconds(int seconds) {
    return range(seconds, 60, 21_600, "maximumEventAgeInSeconds");
  }

  private static int range(int value, int min, int max, String field) {
    if (value < min) {
      throw LambdaException.validation(value, field, "Member must have value greater than or equal to " + min);
    }
    if (value > max) {
      throw LambdaException.validation(value, field, "Member must have value less than or equal to " + max);
    }
    return value;
  }

  /**
   * An {@code OnSuccess} or {@code OnFailure} destination: a function of this account and region
   * (its ARN, with or without a qualifier), or a queue, Kafka topic or webhook that this node's
   * {@code destinations} can reach.
   */
  public static String destination(String destination, Arns arns, Destination.Resolver destinations) {
    if (destination == null || destination.isEmpty()) {
      return destination;
    }
    String functionArns = arns.functionArn("");
    if (destination.startsWith(functionArns)) {
      String rest = destination.substring(functionArns.length());
      String name = rest.contains(":") ? rest.substring(0, rest.indexOf(':')) : rest;
      functionName(name);
      return destination;
    }
    if (destination.matches("arn:aws[a-zA-Z-]*:lambda:.*")) {
      throw LambdaException.invalidParameter("The destination " + destination + " is not supported: a function"
          + " destination must be a function of this account and region (" + functionArns + "<name>).");
    }
    destinations.resolve(destination);
    return destination;
  }

  /**
   * {@code DeadLetterConfig.TargetArn}: an SQS queue ARN or a {@code kafka://} topic this node's
   * {@code destinations} can reach; an empty string removes the dead-letter queue.
   */
  public static String deadLetterTarget(String target, Destination.Resolver destinations) {
    if (target == null || target.isEmpty()) {
      return target;
    }
    if (!target.matches("arn:aws[a-zA-Z-]*:sqs:.*") && !target.startsWith("kafka://")) {
      throw LambdaException.invalidParameter("The dead-letter target " + target + " is not supported: give an SQS"
          + " queue ARN (arn:aws:sqs:<region>:<account>:<queue>) or a Kafka topic (kafka://<topic>).");
    }
    destinations.resolve(target);
    return target;
  }

  public static int ephemeralStorage(int megabytes) {
    if (megabytes < 512 || megabytes > 10240) {
      throw LambdaException.validation(megabytes, "ephemeralStorage.size",
          "Member must have value between 512 and 10240");
    }
    return megabytes;
  }

  /** AWS counts the variables' keys and values, as JSON, against the 4 KB limit. */
  public static Map<String, String> environment(Map<String, String> variables) {
    int bytes = 0;
    for (Map.Entry<String, String> e : variables.entrySet()) {
      if (!ENV_KEY.matcher(e.getKey()).matches()) {
        throw LambdaException.validation(e.getKey(), "environment.variables",
            "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]");
      }
      bytes += e.getKey().getBytes(StandardCharsets.UTF_8).length + e.getValue().getBytes(StandardCharsets.UTF_8).length;
    }
    if (bytes > MAX_ENVIRONMENT_BYTES) {
      throw LambdaException.invalidParameter("Lambda was unable to configure your environment variables because the "
          + "environment variables you have provided exceeded the 4KB limit. String measured: " + bytes + " bytes");
    }
    return variables;
  }

  public static String statementId(String sid) {
    if (sid == null || sid.isEmpty() || sid.length() > 100 || !STATEMENT_ID.matcher(sid).matches()) {
      throw LambdaException.validation(sid, "statementId",
          "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+) and have length between 1 and 100");
    }
    return sid;
  }

  /** PutFunctionRecursionConfig's {@code RecursiveLoop}. */
  public static String recursiveLoop(String recursiveLoop) {
    if (recursiveLoop == null) {
      throw LambdaException.validation(null, "recursiveLoop", "Member must not be null");
    }
    if (!recursiveLoop.equals("Allow") && !recursiveLoop.equals("Terminate")) {
      throw LambdaException.validation(recursiveLoop, "recursiveLoop", "Member must satisfy enum value set: [Allow, Terminate]");
    }
    return recursiveLoop;
  }

  public static void revisionMatches(String expected, String actual) {
    if (expected != null && !expected.equals(actual)) {
      throw LambdaException.preconditionFailed("The Revision Id provided does not match the latest Revision Id. "
          + "Call the GetFunction/GetAlias API to retrieve the latest Revision Id");
    }
  }
}
