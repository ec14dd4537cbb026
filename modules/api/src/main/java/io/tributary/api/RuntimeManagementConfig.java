package io.tributary.api;

import java.util.List;
import java.util.regex.Pattern;

/**
 * A function version's runtime management configuration (PutRuntimeManagementConfig): when its
 * runtime would be updated ({@code UpdateRuntimeOn}), and with {@code Manual} the runtime version it
 * is pinned to. Tributary stores it and answers it as AWS does; a node runs the interpreter it has
 * installed for the runtime whatever is pinned (docs/behaviour.md).
 *
 * <p>AWS's rules, checked by {@link #of}: {@code UpdateRuntimeOn} is one of {@link #MODES}
 * (ValidationException otherwise); a {@code RuntimeVersionArn} must match AWS's pattern (also a
 * ValidationException), is required with {@code Manual}, and is refused with the other modes
 * (InvalidParameterValueException), whose runtime version is the platform's to choose.
 */
public record RuntimeManagementConfig(String updateRuntimeOn, String runtimeVersionArn) {

  public static final String AUTO = "Auto";
  public static final String FUNCTION_UPDATE = "FunctionUpdate";
  public static final String MANUAL = "Manual";
  /** In the order AWS's error messages list them. */
  public static final List<String> MODES = List.of(AUTO, MANUAL, FUNCTION_UPDATE);
  /** What a version has until a Put: AWS's default. */
  public static final RuntimeManagementConfig DEFAULT = new RuntimeManagementConfig(AUTO, null);

  private static final String ARN_REGEX =
      "arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}::runtime:.+";
  private static final Pattern RUNTIME_VERSION_ARN = Pattern.compile(ARN_REGEX);

  public RuntimeManagementConfig {
    updateRuntimeOn = updateRuntimeOn == null ? AUTO : updateRuntimeOn;
  }

  /** A configuration as a Put request gives it, checked as AWS checks it. */
  public static RuntimeManagementConfig of(String updateRuntimeOn, String runtimeVersionArn) {
    if (updateRuntimeOn == null) {
      throw LambdaException.validation(null, "updateRuntimeOn", "Member must not be null");
    }
    if (!MODES.contains(updateRuntimeOn)) {
      throw LambdaException.validation(updateRuntimeOn, "updateRuntimeOn",
          "Member must satisfy enum value set: " + MODES);
    }
    if (runtimeVersionArn != null && (runtimeVersionArn.length() < 26 || runtimeVersionArn.length() > 2048
        || !RUNTIME_VERSION_ARN.matcher(runtimeVersionArn).matches())) {
      throw LambdaException.validation(runtimeVersionArn, "runtimeVersionArn",
          "Member must satisfy regular expression pattern: " + ARN_REGEX);
    }
    if (updateRuntimeOn.equals(MANUAL) && runtimeVersionArn == null) {
      throw LambdaException.invalidParameter("RuntimeVersionArn is required when UpdateRuntimeOn is Manual: give "
          + "the runtime version to pin, for example the RuntimeVersionConfig.RuntimeVersionArn of GetFunction.");
    }
    if (!updateRuntimeOn.equals(MANUAL) && runtimeVersionArn != null) {
      throw LambdaException.invalidParameter("RuntimeVersionArn can be given only when UpdateRuntimeOn is Manual; "
          + "remove it, or set UpdateRuntimeOn to Manual to pin that runtime version.");
    }
    return new RuntimeManagementConfig(updateRuntimeOn, runtimeVersionArn);
  }
}
