package io.tributary.api;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * An EventBridge rule of an event bus, in EventBridge's names: an {@code EventPattern} that events
 * are matched against, or a {@code ScheduleExpression} that makes events of its own (only on the
 * {@code default} bus), its {@code State}, and its targets (at most {@link #MAX_TARGETS}). It is the
 * persisted form too: a field added later must get a default in the compact constructor.
 */
public record EventRule(
    String name,
    String eventBusName,
    String eventPattern,
    String scheduleExpression,
    String state,
    String description,
    String roleArn,
    List<Target> targets) {

  public static final String ENABLED = "ENABLED";
  public static final String DISABLED = "DISABLED";
  /** AWS's third state; for Tributary, which has no CloudTrail, the same as ENABLED. */
  public static final String ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS =
      "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS";
  public static final int MAX_TARGETS = 5;
  private static final Pattern NAME = Pattern.compile("[\\.\\-_A-Za-z0-9]{1,64}");

  public EventRule {
    state = state == null ? ENABLED : state;
    description = description == null ? "" : description;
    targets = targets == null ? List.of() : List.copyOf(targets);
  }

  public boolean enabled() {
    return !state.equals(DISABLED);
  }

  public EventRule withTargets(List<Target> targets) {
    return new EventRule(name, eventBusName, eventPattern, scheduleExpression, state, description, roleArn, targets);
  }

  public EventRule withState(String state) {
    return new EventRule(name, eventBusName, eventPattern, scheduleExpression, state, description, roleArn, targets);
  }

  /**
   * A target: a Lambda function by ARN (unqualified, or with a version or alias), what it is given
   * ({@code Input}, {@code InputPath}, {@code InputTransformer}: at most one; none is the whole event),
   * how its hand-off is retried, and the SQS-compatible queue that gets what cannot be handed off.
   */
  public record Target(String id, String arn, String input, String inputPath, InputTransformer inputTransformer,
                       RetryPolicy retryPolicy, String deadLetterArn) {

    public Target {
      retryPolicy = retryPolicy == null ? RetryPolicy.DEFAULT : retryPolicy;
    }
  }

  /** {@code InputPathsMap} (variable → JSONPath into the event) and the {@code InputTemplate} they fill. */
  public record InputTransformer(Map<String, String> inputPathsMap, String inputTemplate) {

    public InputTransformer {
      inputPathsMap = inputPathsMap == null ? Map.of() : Map.copyOf(inputPathsMap);
    }
  }

  /** How often and for how long a target's hand-off is tried; AWS's defaults are 185 attempts over 24 hours. */
  public record RetryPolicy(int maximumRetryAttempts, int maximumEventAgeInSeconds) {
    public static final RetryPolicy DEFAULT = new RetryPolicy(185, 86_400);
  }

  /** A rule or target name: 1 to 64 of letters, digits, '.', '-' and '_'. */
  public static boolean validName(String name) {
    return name != null && NAME.matcher(name).matches();
  }
}
