package io.tributary.api;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Lambda ARNs of one Tributary installation, whose region and account id are configuration, and
 * the parsing of the {@code FunctionName} path parameter, which AWS accepts as a name
 * ({@code my-function}), a partial ARN ({@code 123456789012:function:my-function}) or a full ARN
 * ({@code arn:aws:lambda:us-east-1:123456789012:function:my-function}), each optionally ending in
 * {@code :qualifier}.
 */
public record Arns(String region, String accountId) {

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

  /** The function named by a tagging ARN, which must be a full, unqualified function ARN. */
  public String parseTaggableFunctionArn(String arn) {
    Matcher m = FULL.matcher(arn == null ? "" : arn);
    if (!m.matches() || m.group(4) != null) {
      throw LambdaException.invalidParameter("Resource " + arn + " is not a function ARN. Tag the unqualified function ARN, "
          + "for example " + functionArn("my-function") + ".");
    }
    checkOwner(arn, m.group(1), m.group(2));
    return m.group(3);
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
