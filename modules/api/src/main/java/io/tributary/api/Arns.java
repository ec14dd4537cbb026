package io.tributary.api;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Lambda ARNs of one Tributary installation, whose region and account id are configuration, and
 * the parsing of the {@code FunctionName} path parameter, which AWS accepts as a name
 * ({@code my-function}), a partial ARN ({@code 123456789012:function:my-function}) or a full ARN
 * ({@code arn:aws:lambda:us-east-1:123456789012:function:my-function}), each optionally ending in
 * {@code :qualifier}; and of the ARNs the tag operations take ({@link #parseTaggable}).
 */
public record Arns(String region, String accountId) {

  /**
   * AWS's {@code TaggableResource}: a function, a code signing config, an event source mapping or a
   * capacity provider, by full ARN. Groups: 2 region, 3 account, 4 function name, 5 its qualifier,
   * 6 code signing config id, 7 mapping UUID, 8 capacity provider name.
   */
  private static final String TAGGABLE_PATTERN = "arn:(aws[a-zA-Z-]*):lambda:"
      + "([a-z]{2}(?:(?:-gov)|(?:-iso(?:[a-z]?)))?-[a-z]+-\\d{1}):(\\d{12}):"
      + "(?:function:([a-zA-Z0-9-_]+)(?::(\\$LATEST|[a-zA-Z0-9-_]+))?|code-signing-config:(csc-[a-z0-9]{17})"
      + "|event-source-mapping:([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
      + "|capacity-provider:([a-zA-Z0-9-_]+))";
  private static final Pattern TAGGABLE = Pattern.compile(TAGGABLE_PATTERN);
  /** The pattern as AWS's model writes it, for the ValidationException. */
  private static final String TAGGABLE_AS_AWS_WRITES_IT = "arn:(aws[a-zA-Z-]*):lambda:"
      + "[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
      + "|code-signing-config:csc-[a-z0-9]{17}"
      + "|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
      + "|capacity-provider:[a-zA-Z0-9-_]+)";

  /** What a tagging ARN names. */
  public sealed interface Taggable {
    /** An unqualified function, by name. */
    record Function(String name) implements Taggable {}

    /** An event source mapping, by UUID. */
    record Mapping(String uuid) implements Taggable {}

    /** A code signing config or a capacity provider: kinds AWS tags that this installation holds none of. */
    record Unheld(String arn) implements Taggable {}
  }

  private static final Pattern FULL = Pattern.compile(
      "arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\\d{12}):function:([a-zA-Z0-9-_]+)(?::([a-zA-Z0-9$_-]+))?");
  private static final Pattern PARTIAL = Pattern.compile("(\\d{12}):function:([a-zA-Z0-9-_]+)(?::([a-zA-Z0-9$_-]+))?");
  private static final Pattern BARE = Pattern.compile("([a-zA-Z0-9-_]+)(?::([a-zA-Z0-9$_-]+))?");

  /** A function named in a request, with the qualifier its ARN carried (or null). */
  public record FunctionRef(String name, String qualifier) {}

  /** The region field of any ARN ({@code arn:partition:service:region:...}). */
  public static String regionOf(String arn) {
    String[] parts = arn.split(":", 5);
    if (parts.length < 5 || !parts[0].equals("arn")) {
      throw new IllegalArgumentException("not an ARN: " + arn);
    }
    return parts[3];
  }

  public String functionArn(String functionName) {
    return "arn:aws:lambda:" + region + ":" + accountId + ":function:" + functionName;
  }

  public String functionArn(String functionName, String qualifier) {
    return qualifier == null ? functionArn(functionName) : functionArn(functionName) + ":" + qualifier;
  }

  /** AWS's ARN of an event source mapping. */
  public String eventSourceMappingArn(String uuid) {
    return "arn:aws:lambda:" + region + ":" + accountId + ":event-source-mapping:" + uuid;
  }

  /** AWS's ARN of a layer, {@code arn:aws:lambda:<region>:<account>:layer:<name>}. */
  public String layerArn(String layerName) {
    return "arn:aws:lambda:" + region + ":" + accountId + ":layer:" + layerName;
  }

  /** EventBridge's ARN of an event bus, {@code arn:aws:events:<region>:<account>:event-bus/<name>}. */
  public String eventBusArn(String busName) {
    return "arn:aws:events:" + region + ":" + accountId + ":event-bus/" + busName;
  }

  /** EventBridge's ARN of a rule: {@code rule/<name>} on the default bus, {@code rule/<bus>/<name>} on others. */
  public String ruleArn(String busName, String ruleName) {
    return "arn:aws:events:" + region + ":" + accountId + ":rule/"
        + (busName.equals(EventBus.DEFAULT) ? "" : busName + "/") + ruleName;
  }

  /** AWS's ARN of one version of a layer: the layer's ARN and {@code :<version>}. */
  public String layerVersionArn(String layerName, long version) {
    return layerArn(layerName) + ":" + version;
  }

  public FunctionRef parseFunction(String reference) {
    if (reference == null || reference.isEmpty() || reference.length() > 170) {
      throw LambdaException.validation(reference, "functionName",
          "Member must have length less than or equal to 170 and greater than or equal to 1");
    }
    if (isName(reference)) {
      return ref(reference, null, reference);
    }
    // A name (the common case) has no ':function:', so only the last pattern can match it.
    if (reference.contains(":function:")) {
      Matcher m = FULL.matcher(reference);
      if (m.matches()) {
        checkOwner(reference, m.group(1), m.group(2));
        return ref(m.group(3), m.group(4), reference);
      }
      m = PARTIAL.matcher(reference);
      if (m.matches()) {
        checkOwner(reference, region, m.group(1));
        return ref(m.group(2), m.group(3), reference);
      }
    }
    Matcher m = BARE.matcher(reference);
    if (m.matches()) {
      return ref(m.group(1), m.group(2), reference);
    }
    throw LambdaException.validation(reference, "functionName", "Member must satisfy regular expression pattern: "
        + "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
  }

  /**
   * The resource a tag operation's {@code Resource} names. An ARN outside AWS's pattern is AWS's
   * ValidationException; one of another region or account is not found here (404), as for
   * functions; a qualified function ARN is refused as AWS refuses it: tags belong to the function.
   */
  public Taggable parseTaggable(String arn) {
    Matcher m = TAGGABLE.matcher(arn == null ? "" : arn);
    if (arn == null || arn.length() > 256 || !m.matches()) {
      throw LambdaException.validation(arn, "resource", "Member must satisfy regular expression pattern: "
          + TAGGABLE_AS_AWS_WRITES_IT);
    }
    checkOwner(arn, m.group(2), m.group(3));
    if (m.group(4) != null) {
      if (m.group(5) != null) {
        throw LambdaException.invalidParameter("Resource " + arn + " is a qualified function ARN. Tag the unqualified "
            + "function ARN, for example " + functionArn(m.group(4)) + ": tags belong to the function.");
      }
      return new Taggable.Function(ref(m.group(4), null, arn).name());
    }
    if (m.group(7) != null) {
      return new Taggable.Mapping(m.group(7));
    }
    return new Taggable.Unheld(arn);
  }

  /** A bare function name, {@code [a-zA-Z0-9-_]+}: what nearly every invoke names, checked without a regex. */
  private static boolean isName(String reference) {
    for (int i = 0; i < reference.length(); i++) {
      char c = reference.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
        return false;
      }
    }
    return true;
  }

  private FunctionRef ref(String name, String qualifier, String reference) {
    if (name.length() > 64) {
      throw LambdaException.validation(reference, "functionName",
          "Member must have length less than or equal to 64 for a function name");
    }
    return new FunctionRef(name, qualifier);
  }

  private void checkOwner(String reference, String arnRegion, String arnAccount) {
    if (!arnAccount.equals(accountId) || !arnRegion.equals(region)) {
      throw LambdaException.notFound("Function not found: " + reference + " (this Tributary serves account "
          + accountId + " in region " + region + ")");
    }
  }
}
