package io.tributary.api;

import java.util.regex.Pattern;

/**
 * An EventBridge event bus: the {@code default} bus, which always exists, or a custom one made by
 * CreateEventBus. EventBridge's error types are made here, each with the HTTP status EventBridge
 * answers it with; they travel as {@link LambdaException}s, as every error of the node does.
 */
public record EventBus(String name, String description, String creationTime) {

  public static final String DEFAULT = "default";
  private static final Pattern NAME = Pattern.compile("[\\.\\-_A-Za-z0-9]{1,256}");

  public EventBus {
    description = description == null ? "" : description;
  }

  /**
   * Why {@code name} cannot be a custom bus's name, or null when it can: EventBridge's characters, no
   * {@code /} (partner buses only), not {@code aws.}-prefixed.
   */
  public static String problem(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      return "1 validation error detected: Value '" + name + "' at 'name' failed to satisfy constraint: Member must"
          + " satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+ and have length between 1 and 256";
    }
    if (name.startsWith("aws.")) {
      return "Event bus name must not start with 'aws.'.";
    }
    return null;
  }

  public static LambdaException validation(String message) {
    return new LambdaException(400, "ValidationException", message);
  }

  public static LambdaException notFound(String message) {
    return new LambdaException(400, "ResourceNotFoundException", message);
  }

  public static LambdaException alreadyExists(String message) {
    return new LambdaException(400, "ResourceAlreadyExistsException", message);
  }

  public static LambdaException invalidPattern(String message) {
    return new LambdaException(400, "InvalidEventPatternException", message);
  }

  public static LambdaException limitExceeded(String message) {
    return new LambdaException(400, "LimitExceededException", message);
  }

  public static LambdaException internal(String message) {
    return new LambdaException(500, "InternalException", message);
  }
}
