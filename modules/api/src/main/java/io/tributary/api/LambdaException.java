package io.tributary.api;

/**
 * An error with AWS Lambda's shape: an HTTP status, an error type such as
 * {@code InvalidParameterValueException} (sent as {@code X-Amzn-ErrorType}) and a message that says
 * what to fix. Every layer throws or completes with this; the HTTP layer renders it unchanged.
 */
public final class LambdaException extends RuntimeException {

  private final int status;
  private final String errorType;
  private final String reason;

  public LambdaException(int status, String errorType, String message) {
    this(status, errorType, message, null);
  }

  public LambdaException(int status, String errorType, String message, String reason) {
    super(message, null, false, false);
    this.status = status;
    this.errorType = errorType;
    this.reason = reason;
  }

  public int status() {
    return status;
  }

  public String errorType() {
    return errorType;
  }

  /** {@code Reason} field of throttling errors, or null. */
  public String reason() {
    return reason;
  }

  /** {@code "User"} for 4xx, {@code "Service"} for 5xx, as in AWS's error body. */
  public String faultType() {
    return status >= 500 ? "Service" : "User";
  }

  public static LambdaException invalidParameter(String message) {
    return new LambdaException(400, "InvalidParameterValueException", message);
  }

  /**
   * AWS's model-level validation error, worded as AWS words it:
   * {@code 1 validation error detected: Value 'x' at 'timeout' failed to satisfy constraint: ...}.
   */
  public static LambdaException validation(Object value, String field, String constraint) {
    return new LambdaException(400, "ValidationException", "1 validation error detected: Value '" + value
        + "' at '" + field + "' failed to satisfy constraint: " + constraint);
  }

  public static LambdaException invalidRequestContent(String message) {
    return new LambdaException(400, "InvalidRequestContentException", message);
  }

  public static LambdaException notFound(String message) {
    return new LambdaException(404, "ResourceNotFoundException", message);
  }

  public static LambdaException conflict(String message) {
    return new LambdaException(409, "ResourceConflictException", message);
  }

  public static LambdaException preconditionFailed(String message) {
    return new LambdaException(412, "PreconditionFailedException", message);
  }

  public static LambdaException requestTooLarge(String message) {
    return new LambdaException(413, "RequestTooLargeException", message);
  }

  public static LambdaException service(String message) {
    return new LambdaException(500, "ServiceException", message);
  }
}
